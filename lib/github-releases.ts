/**
 * Resolves `imageTag: "auto"` by listing a repository's GitHub releases (all
 * pages, drafts excluded) and picking the highest matching version.
 *
 * The old Terraform took "the first tag of the unauthenticated first page";
 * this module lists everything and orders by numeric semver instead. It never
 * retries: a failure is reported once, with a cause a human can act on.
 */
import { Octokit } from "@octokit/rest";
import { describePattern, highestRelease, type ReleaseVersion, type TagPattern } from "./image-tags";

export interface RepoRef {
  readonly owner: string;
  readonly repo: string;
}

export interface ReleaseSource {
  /** Tag names of the repository's non-draft releases, from all pages, in GitHub's order (newest first). */
  listReleaseTags(repo: RepoRef): Promise<readonly string[]>;
}

export interface GitHubReleaseSourceOptions {
  /** API root; default `https://api.github.com`. */
  baseUrl?: string;
  /** Sent as `authorization: token …` when non-empty; omitted otherwise. */
  token?: string;
  /** Releases per page (1–100); default 100. */
  perPage?: number;
  /** Limit for each HTTP request (headers and body); default 30 000 ms. */
  timeoutMs?: number;
  /** `user-agent` header; Octokit's default when omitted. */
  userAgent?: string;
}

const DEFAULT_BASE_URL = "https://api.github.com";
const DEFAULT_PER_PAGE = 100;
const DEFAULT_TIMEOUT_MS = 30_000;

function repoName(repo: RepoRef): string {
  return `${repo.owner}/${repo.repo}`;
}

function repoKey(repo: RepoRef): string {
  return repoName(repo).toLowerCase();
}

const noop = (): void => {};

/**
 * {@link ReleaseSource} backed by the GitHub REST API through Octokit.
 *
 * One instance is meant to live for one run: it remembers the (in-flight or
 * settled) listing per repository, compared case-insensitively, so several
 * services built from the same repository cause a single request sequence.
 * A failed listing is remembered too; there are no retries.
 *
 * Failures are rejected as plain `Error`s whose message is the translated,
 * human-readable cause (the Octokit error is kept as `cause`).
 */
export class GitHubReleaseSource implements ReleaseSource {
  private readonly octokit: Octokit;
  private readonly baseUrl: string;
  private readonly perPage: number;
  private readonly listings = new Map<string, Promise<readonly string[]>>();

  constructor(options: GitHubReleaseSourceOptions = {}) {
    this.baseUrl = (options.baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, "");
    this.perPage = options.perPage ?? DEFAULT_PER_PAGE;
    if (!Number.isInteger(this.perPage) || this.perPage < 1 || this.perPage > 100) {
      throw new RangeError(`perPage must be an integer from 1 to 100, got ${String(options.perPage)}`);
    }
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs)) {
      throw new RangeError(`timeoutMs must be a positive number, got ${String(options.timeoutMs)}`);
    }
    const token = options.token !== undefined && options.token !== "" ? options.token : undefined;
    this.octokit = new Octokit({
      baseUrl: this.baseUrl,
      ...(token !== undefined ? { auth: token } : {}),
      ...(options.userAgent !== undefined ? { userAgent: options.userAgent } : {}),
      request: { fetch: fetchWithTimeout(timeoutMs) },
      // Failures are translated and reported by this module; keep Octokit quiet
      // about them, but let its warnings (deprecations) through.
      log: { debug: noop, info: noop, warn: (message: string) => console.warn(message), error: noop },
    });
  }

  listReleaseTags(repo: RepoRef): Promise<readonly string[]> {
    const key = repoKey(repo);
    let listing = this.listings.get(key);
    if (listing === undefined) {
      listing = this.fetchReleaseTags(repo);
      this.listings.set(key, listing);
    }
    return listing;
  }

  private async fetchReleaseTags(repo: RepoRef): Promise<readonly string[]> {
    let releases: ReadonlyArray<{ readonly tag_name: unknown; readonly draft: unknown }>;
    try {
      releases = await this.octokit.paginate(this.octokit.rest.repos.listReleases, {
        owner: repo.owner,
        repo: repo.repo,
        per_page: this.perPage,
      });
    } catch (error) {
      throw new Error(describeRequestFailure(error, this.baseUrl), { cause: error });
    }
    if (!Array.isArray(releases)) {
      throw new Error(`unexpected answer from ${this.baseUrl}: the release list is not an array`);
    }
    const tags: string[] = [];
    for (const release of releases) {
      if (typeof release !== "object" || release === null || typeof release.tag_name !== "string") {
        throw new Error(`unexpected answer from ${this.baseUrl}: a release has no tag_name`);
      }
      if (release.draft !== true) tags.push(release.tag_name);
    }
    return tags;
  }
}

/** `fetch` that bounds every request, body included, by `timeoutMs`. */
function fetchWithTimeout(timeoutMs: number): typeof fetch {
  return async (input, init) => {
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    try {
      const response = await fetch(input, { ...init, signal });
      // Read the body under the same deadline, so a stalled body is a timeout
      // rather than a silently empty page.
      const nullBody = [101, 204, 205, 304].includes(response.status);
      const body = nullBody ? null : await response.arrayBuffer();
      const buffered = new Response(body, {
        status: response.status,
        statusText: response.statusText,
        headers: response.headers,
      });
      Object.defineProperty(buffered, "url", { value: response.url });
      return buffered;
    } catch (error) {
      if (timeout.aborted && !(init?.signal?.aborted ?? false)) {
        throw Object.assign(new Error(`no answer within ${timeoutMs} ms`, { cause: error }), {
          name: "RequestTimeoutError",
          code: "ETIMEDOUT",
        });
      }
      throw error;
    }
  };
}

function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === "object" && value !== null;
}

function headerValue(headers: unknown, name: string): string | undefined {
  if (!isRecord(headers)) return undefined;
  const value = headers[name];
  return typeof value === "string" || typeof value === "number" ? String(value) : undefined;
}

/** GitHub's `message` from an error body, without Octokit's documentation suffix. */
function gitHubMessage(response: Readonly<Record<string, unknown>>, fallback: string): string {
  const data = response["data"];
  if (isRecord(data) && typeof data["message"] === "string" && data["message"] !== "") return data["message"];
  if (typeof data === "string" && data.trim() !== "") return data.trim().slice(0, 200);
  return fallback;
}

function resetTime(headers: unknown): string {
  const reset = Number(headerValue(headers, "x-ratelimit-reset"));
  if (!Number.isFinite(reset) || reset <= 0) return "an unknown time";
  const date = new Date(reset * 1000);
  return Number.isNaN(date.getTime()) ? "an unknown time" : date.toISOString();
}

/** The first `code` and the first meaningful message along an error's `cause` chain. */
function networkCause(error: unknown): string {
  let code: string | undefined;
  let message: string | undefined;
  let current: unknown = error;
  for (let depth = 0; depth < 8 && isRecord(current); depth++) {
    if (code === undefined && typeof current["code"] === "string") code = current["code"];
    const text = current["message"];
    if (message === undefined && typeof text === "string" && text !== "" && text !== "fetch failed") message = text;
    if (current instanceof AggregateError && current.errors.length > 0) {
      current = current.errors[0];
    } else {
      current = current["cause"];
    }
  }
  if (code === undefined) return message ?? "unknown error";
  if (message === undefined || message === code) return code;
  return message.includes(code) ? message : `${code}: ${message}`;
}

/** Translates an Octokit failure into a cause a human can act on. */
function describeRequestFailure(error: unknown, baseUrl: string): string {
  if (!isRecord(error)) return `unexpected failure: ${String(error)}`;
  const response = error["response"];
  const status = error["status"];
  if (isRecord(response) && typeof status === "number") {
    const headers = response["headers"];
    const rateLimited = headerValue(headers, "x-ratelimit-remaining") === "0";
    if ((status === 403 || status === 429) && rateLimited) {
      return `GitHub API rate limit exhausted (resets at ${resetTime(headers)}); set GITHUB_TOKEN`;
    }
    switch (status) {
      case 401:
        return "GitHub rejected the token in GITHUB_TOKEN (401 Bad credentials)";
      case 403:
        return `forbidden by GitHub (403): ${gitHubMessage(response, "Forbidden")}`;
      case 404:
        return "repository not found, or not visible to the token (set GITHUB_TOKEN for a private repository)";
      case 429: {
        const retryAfter = headerValue(headers, "retry-after");
        const wait = retryAfter !== undefined ? `; retry after ${retryAfter} s` : "";
        return `GitHub API secondary rate limit (429): ${gitHubMessage(response, "Too Many Requests")}${wait}`;
      }
    }
    if (status >= 500) return `GitHub answered ${status}`;
    return `GitHub answered ${status}: ${gitHubMessage(response, "unexpected status")}`;
  }
  // Octokit turns every fetch failure (refused, reset, DNS, timeout) into an
  // HttpError without a response; an abort arrives as AbortError.
  if (error["name"] === "HttpError" || error["name"] === "AbortError") {
    return `network error reaching ${baseUrl}: ${networkCause(error)}`;
  }
  const message = typeof error["message"] === "string" ? error["message"] : String(error);
  return `unexpected failure: ${message}`;
}

/** Why `imageTag: "auto"` could not be resolved; names repository, environment and cause. */
export class ImageTagLookupError extends Error {
  /** `owner/repo`; for a combined error, every failing repository, comma-separated. */
  readonly repository: string;
  /** The stack (`dev`, `stg`, `lmn`); for a combined error, every one involved, comma-separated. */
  readonly environment: string;
  /** The cause alone; for a combined error, each failure's message, one per line. */
  readonly reason: string;
  /** The individual failures: `[this]` for a single one. */
  readonly failures: readonly ImageTagLookupError[];

  /**
   * @param message the full message; built by {@link ImageTagLookupError.listing},
   *   {@link ImageTagLookupError.noMatch} and {@link ImageTagLookupError.combine}.
   */
  constructor(
    message: string,
    details: {
      readonly repository: string;
      readonly environment: string;
      readonly reason: string;
      readonly failures?: readonly ImageTagLookupError[];
      readonly cause?: unknown;
    },
  ) {
    super(message, details.cause !== undefined ? { cause: details.cause } : undefined);
    this.name = "ImageTagLookupError";
    this.repository = details.repository;
    this.environment = details.environment;
    this.reason = details.reason;
    this.failures = details.failures ?? [this];
  }

  /** The releases of `repository` could not be listed. */
  static listing(repository: string, environment: string, reason: string, cause?: unknown): ImageTagLookupError {
    return new ImageTagLookupError(
      `imageTag "auto" for stack "${environment}": cannot list releases of ${repository}: ${reason}`,
      { repository, environment, reason, cause },
    );
  }

  /** The releases were listed, but none matches the service's pattern. */
  static noMatch(repository: string, environment: string, key: string, reason: string): ImageTagLookupError {
    return new ImageTagLookupError(
      `imageTag "auto" for stack "${environment}" (${key}): no usable release of ${repository}: ${reason}`,
      { repository, environment, reason },
    );
  }

  /** One error for all failures: the failure itself when there is only one. */
  static combine(failures: readonly ImageTagLookupError[]): ImageTagLookupError {
    const flat = failures.flatMap((failure) => failure.failures);
    if (flat.length === 0) throw new RangeError("ImageTagLookupError.combine needs at least one failure");
    if (flat.length === 1) return flat[0]!;
    const unique = (values: readonly string[]): string => [...new Set(values)].join(", ");
    return new ImageTagLookupError(
      `imageTag "auto" failed in ${flat.length} places:\n${flat.map((f) => `  - ${f.message}`).join("\n")}`,
      {
        repository: unique(flat.map((f) => f.repository)),
        environment: unique(flat.map((f) => f.environment)),
        reason: flat.map((f) => f.message).join("\n"),
        failures: flat,
      },
    );
  }
}

export interface LatestTagRequest {
  /** Caller's identifier (e.g. the service name); the key of the result map. Must be unique. */
  readonly key: string;
  readonly repo: RepoRef;
  readonly pattern: TagPattern;
  /** The stack, for messages. */
  readonly environment: string;
}

/** How many of the most recently listed tags a "no release matches" message shows. */
const SHOWN_TAGS = 5;

function noMatchReason(tags: readonly string[], pattern: TagPattern): string {
  const pat = describePattern(pattern);
  if (tags.length === 0) return `no release matches ${pat}: the repository has no (non-draft) releases`;
  const shown = tags.slice(0, SHOWN_TAGS).join(", ");
  const more = tags.length > SHOWN_TAGS ? `, … (${tags.length - SHOWN_TAGS} more)` : "";
  const count = `${tags.length} release${tags.length === 1 ? "" : "s"}`;
  return `no release matches ${pat} among ${count} seen (most recent: ${shown}${more})`;
}

/**
 * Resolves every request to the highest matching release. Requests are grouped
 * by repository (case-insensitively) and each repository is listed once,
 * concurrently. Every failure is collected; if there is any, one
 * {@link ImageTagLookupError} is thrown that reports all of them.
 */
export async function resolveLatestTags(
  requests: readonly LatestTagRequest[],
  source: ReleaseSource,
): Promise<Map<string, ReleaseVersion>> {
  const seenKeys = new Set<string>();
  const groups = new Map<string, LatestTagRequest[]>();
  for (const request of requests) {
    if (seenKeys.has(request.key)) throw new RangeError(`resolveLatestTags: duplicate key "${request.key}"`);
    seenKeys.add(request.key);
    const key = repoKey(request.repo);
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [request]);
    else group.push(request);
  }

  const listed = await Promise.all(
    [...groups.values()].map(async (group) => {
      const first = group[0]!;
      try {
        return { ok: true, group, tags: await source.listReleaseTags(first.repo) } as const;
      } catch (error) {
        return { ok: false, group, error } as const;
      }
    }),
  );

  const found = new Map<string, ReleaseVersion>();
  const failures: ImageTagLookupError[] = [];
  for (const result of listed) {
    const repository = repoName(result.group[0]!.repo);
    if (!result.ok) {
      const reason = result.error instanceof Error ? result.error.message : String(result.error);
      for (const environment of new Set(result.group.map((request) => request.environment))) {
        failures.push(ImageTagLookupError.listing(repository, environment, reason, result.error));
      }
      continue;
    }
    for (const request of result.group) {
      const best = highestRelease(result.tags, request.pattern);
      if (best === undefined) {
        const reason = noMatchReason(result.tags, request.pattern);
        failures.push(ImageTagLookupError.noMatch(repository, request.environment, request.key, reason));
      } else {
        found.set(request.key, best);
      }
    }
  }
  if (failures.length > 0) throw ImageTagLookupError.combine(failures);

  // Same order as the requests, whatever order the listings settled in.
  return new Map(requests.map((request) => [request.key, found.get(request.key)!] as const));
}
