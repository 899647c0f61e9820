/**
 * A tiny GitHub REST API stand-in for tests: `GET /repos/:owner/:repo/releases`
 * with real pagination (`per_page`, `page`, and a `Link` header with absolute
 * URLs), configurable error answers, and a log of every request.
 *
 * Listens on 127.0.0.1, port 0 (any free port). Always `close()` it (e.g. in
 * `after`); `close()` also drops kept-alive and deliberately hanging
 * connections. The server is `unref`'d so a forgotten one cannot keep the
 * process alive, and it refuses to answer more than `maxRequests` requests
 * so a pagination loop in the code under test fails fast.
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";

export interface FakeRelease {
  readonly tag_name: string;
  readonly draft?: boolean;
  readonly prerelease?: boolean;
  readonly name?: string | null;
  readonly id?: number;
}

export type FakeRepoResponse =
  /** Serve these releases, in this order, paginated like GitHub. */
  | { readonly releases: readonly FakeRelease[] }
  /** Answer every request for the repository with this error. */
  | {
      readonly error: {
        readonly status: number;
        readonly message: string;
        readonly documentationUrl?: string;
        readonly headers?: Readonly<Record<string, string>>;
      };
    }
  /** Accept the request and never answer (until `close()`). */
  | { readonly hang: true };

/** An issue or pull-request comment as the fake keeps it. */
export interface FakeComment {
  readonly id: number;
  body: string;
  readonly user: { readonly login: string; readonly type: "User" | "Bot" };
}

export interface FakeGitHubOptions {
  /** Keyed by `owner/repo` (case-insensitive). Unknown repositories get GitHub's 404. */
  readonly repos: Readonly<Record<string, FakeRepoResponse>>;
  /**
   * Issue comments, keyed by `owner/repo#number`: served by `GET .../issues/:n/comments`
   * (paginated like the releases), added by `POST` there (as `github-actions[bot]`), edited
   * by `PATCH /repos/:owner/:repo/issues/comments/:id`. The arrays are changed in place.
   */
  readonly comments?: Record<string, FakeComment[]>;
  /** Requests answered before the server gives up with 500s; default 1000. */
  readonly maxRequests?: number;
}

export interface RecordedRequest {
  readonly method: string;
  /** Path without the query string, e.g. `/repos/o/r/releases`. */
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  /** The `authorization` header, or `undefined` when absent. */
  readonly authorization: string | undefined;
  readonly userAgent: string | undefined;
  /** The request body (comments' POST and PATCH), parsed as JSON. */
  readonly body?: unknown;
}

export interface FakeGitHub {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  readonly baseUrl: string;
  /** Every request received, in arrival order. */
  readonly requests: readonly RecordedRequest[];
  close(): Promise<void>;
}

const DOCS = "https://docs.github.com/rest/releases/releases#list-releases";

/** Releases for the given tag names, in the given order, none draft or prerelease. */
export function releasesOf(tags: readonly string[]): FakeRelease[] {
  return tags.map((tag_name) => ({ tag_name }));
}

function sendJson(
  res: http.ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

function positiveInt(value: string | null, fallback: number): number {
  if (value === null || !/^[0-9]+$/.test(value)) return fallback;
  const n = Number(value);
  return n >= 1 ? n : fallback;
}

export async function startFakeGitHub(options: FakeGitHubOptions): Promise<FakeGitHub> {
  const repos = new Map<string, FakeRepoResponse>(
    Object.entries(options.repos).map(([name, response]) => [name.toLowerCase(), response] as const),
  );
  const maxRequests = options.maxRequests ?? 1000;
  const requests: RecordedRequest[] = [];
  let baseUrl = "";

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", baseUrl);
    requests.push({
      method: req.method ?? "",
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      authorization: req.headers.authorization,
      userAgent: req.headers["user-agent"],
    });
    if (requests.length > maxRequests) {
      sendJson(res, 500, { message: `fake GitHub: more than ${maxRequests} requests` });
      return;
    }

    if (options.comments && /^\/repos\/[^/]+\/[^/]+\/issues\//.test(url.pathname)) {
      const record = requests[requests.length - 1] as { body?: unknown };
      let text = "";
      req.on("data", (chunk: Buffer) => (text += chunk.toString()));
      req.on("end", () => {
        const body = text ? (JSON.parse(text) as { body?: string }) : undefined;
        if (body) record.body = body;
        answerComments(options.comments ?? {}, req.method ?? "", url, baseUrl, body, res);
      });
      return;
    }

    const match = /^\/repos\/([^/]+)\/([^/]+)\/releases$/.exec(url.pathname);
    const configured = match ? repos.get(`${match[1]}/${match[2]}`.toLowerCase()) : undefined;
    if (req.method !== "GET" || match === null || configured === undefined) {
      sendJson(res, 404, { message: "Not Found", documentation_url: DOCS, status: "404" });
      return;
    }
    if ("hang" in configured) return; // answered never; close() destroys the socket
    if ("error" in configured) {
      const { status, message, documentationUrl, headers } = configured.error;
      sendJson(res, status, { message, documentation_url: documentationUrl ?? DOCS, status: String(status) }, headers);
      return;
    }

    // GitHub: per_page defaults to 30, at most 100; page defaults to 1.
    const perPage = Math.min(positiveInt(url.searchParams.get("per_page"), 30), 100);
    const page = positiveInt(url.searchParams.get("page"), 1);
    const all = configured.releases;
    const lastPage = Math.max(1, Math.ceil(all.length / perPage));
    const slice = all.slice((page - 1) * perPage, page * perPage);
    const owner = match[1]!;
    const repo = match[2]!;
    const body = slice.map((release, i) => {
      const id = release.id ?? 1000 + (page - 1) * perPage + i;
      return {
        url: `${baseUrl}/repos/${owner}/${repo}/releases/${id}`,
        html_url: `https://github.com/${owner}/${repo}/releases/tag/${release.tag_name}`,
        id,
        node_id: `RE_${id}`,
        tag_name: release.tag_name,
        target_commitish: "main",
        name: release.name === undefined ? release.tag_name : release.name,
        draft: release.draft ?? false,
        prerelease: release.prerelease ?? false,
        created_at: "2024-01-01T00:00:00Z",
        published_at: release.draft ? null : "2024-01-01T00:00:00Z",
        assets: [],
        body: null,
      };
    });

    const link = (p: number): string => {
      const target = new URL(url.pathname, baseUrl);
      target.searchParams.set("per_page", String(perPage));
      target.searchParams.set("page", String(p));
      return target.toString();
    };
    const links: string[] = [];
    if (page > 1) links.push(`<${link(page - 1)}>; rel="prev"`, `<${link(1)}>; rel="first"`);
    if (page < lastPage) links.push(`<${link(page + 1)}>; rel="next"`, `<${link(lastPage)}>; rel="last"`);
    sendJson(res, 200, body, links.length > 0 ? { link: links.join(", ") } : {});
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  server.unref();
  const { port } = server.address() as AddressInfo;
  baseUrl = `http://127.0.0.1:${port}`;

  let closed: Promise<void> | undefined;
  return {
    baseUrl,
    requests,
    close(): Promise<void> {
      closed ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
      return closed;
    },
  };
}

let nextCommentId = 5000;

function answerComments(
  store: Record<string, FakeComment[]>,
  method: string,
  url: URL,
  baseUrl: string,
  body: { body?: string } | undefined,
  res: http.ServerResponse,
): void {
  const list = /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/comments$/.exec(url.pathname);
  const one = /^\/repos\/([^/]+)\/([^/]+)\/issues\/comments\/(\d+)$/.exec(url.pathname);
  const find = (id: number) =>
    Object.values(store)
      .flat()
      .find((c) => c.id === id);
  if (list && method === "GET") {
    const all = store[`${list[1]}/${list[2]}#${list[3]}`] ?? [];
    const perPage = Math.min(positiveInt(url.searchParams.get("per_page"), 30), 100);
    const page = positiveInt(url.searchParams.get("page"), 1);
    const lastPage = Math.max(1, Math.ceil(all.length / perPage));
    const next = new URL(url.pathname, baseUrl);
    next.searchParams.set("per_page", String(perPage));
    next.searchParams.set("page", String(page + 1));
    sendJson(
      res,
      200,
      all.slice((page - 1) * perPage, page * perPage),
      page < lastPage ? { link: `<${next}>; rel="next"` } : {},
    );
    return;
  }
  if (list && method === "POST" && typeof body?.body === "string") {
    const key = `${list[1]}/${list[2]}#${list[3]}`;
    const comment: FakeComment = {
      id: nextCommentId++,
      body: body.body,
      user: { login: "github-actions[bot]", type: "Bot" },
    };
    (store[key] ??= []).push(comment);
    sendJson(res, 201, comment);
    return;
  }
  if (one && method === "PATCH" && typeof body?.body === "string") {
    const comment = find(Number(one[3]));
    if (!comment) {
      sendJson(res, 404, { message: "Not Found" });
      return;
    }
    comment.body = body.body;
    sendJson(res, 200, comment);
    return;
  }
  sendJson(res, 404, { message: "Not Found" });
}

/** `http://127.0.0.1:<port>` where nothing listens (a port just released). */
export async function closedPortUrl(): Promise<string> {
  const server = http.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
  return `http://127.0.0.1:${port}`;
}
