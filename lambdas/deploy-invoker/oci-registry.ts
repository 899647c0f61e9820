/**
 * A release tag's digest in an OCI registry outside AWS (the services' images
 * are on ghcr.io), asked the way `docker pull` asks: `HEAD /v2/<name>/manifests/<tag>`,
 * and on a 401 the bearer token its `WWW-Authenticate` challenge names, taken
 * anonymously (the images are public; the invoker holds no registry credential).
 * The runner then deploys `repository@<digest>`: what was checked is what runs.
 */
import { Denial, InvokerFailure } from "./failures";

/** The manifest media types a registry may answer a tag with (an index, a manifest list, one manifest). */
const MANIFEST_TYPES = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

const DIGEST = /^sha256:[0-9a-f]{64}$/;

export type Fetch = (url: string, init?: { method?: string; headers?: Record<string, string> }) => Promise<Response>;

export interface OciRegistryOptions {
  /** @default the global fetch */
  readonly fetch?: Fetch;
  /** The registry's base URL for a host. @default `https://<host>` */
  readonly baseUrl?: (host: string) => string;
}

/** `ghcr.io/lumerin-protocol/proxy-router` → host `ghcr.io`, name `lumerin-protocol/proxy-router`. */
export function splitRepository(repository: string): { readonly host: string; readonly name: string } {
  const slash = repository.indexOf("/");
  const host = slash > 0 ? repository.slice(0, slash) : "";
  if (!/[.:]/.test(host) || slash === repository.length - 1) {
    throw new Denial(`image repository ${repository} names no registry host (expected e.g. ghcr.io/<owner>/<name>)`);
  }
  return { host, name: repository.slice(slash + 1) };
}

/** The parts of a `Bearer realm="...",service="...",scope="..."` challenge. */
function bearerChallenge(header: string | null): Record<string, string> | undefined {
  if (!header || !/^Bearer\s/i.test(header)) return undefined;
  const params: Record<string, string> = {};
  for (const m of header.slice(header.indexOf(" ") + 1).matchAll(/([a-zA-Z]+)="([^"]*)"/g)) params[m[1]] = m[2];
  return params.realm ? params : undefined;
}

export class OciRegistry {
  private readonly fetch: Fetch;
  private readonly baseUrl: (host: string) => string;

  constructor(options: OciRegistryOptions = {}) {
    this.fetch = options.fetch ?? ((url, init) => fetch(url, init));
    this.baseUrl = options.baseUrl ?? ((host) => `https://${host}`);
  }

  /** The digest `tag` names in `repository` now; a denial when the registry has no such tag. */
  async digestOf(repository: string, tag: string): Promise<string> {
    const { host, name } = splitRepository(repository);
    const url = `${this.baseUrl(host)}/v2/${name}/manifests/${encodeURIComponent(tag)}`;
    let response = await this.ask(url, {}, repository);
    if (response.status === 401) {
      const token = await this.anonymousToken(response.headers.get("www-authenticate"), repository);
      response = await this.ask(url, { Authorization: `Bearer ${token}` }, repository);
    }
    if (response.status === 404) throw new Denial(`imageTag ${tag} is not in ${repository}`);
    if (response.status === 401 || response.status === 403) {
      throw new Denial(
        `${repository} refused an anonymous pull of ${tag} (HTTP ${response.status}): the invoker can check only public images there`,
      );
    }
    if (response.status !== 200) {
      throw new InvokerFailure(
        `${repository}: HEAD manifests/${tag} answered HTTP ${response.status}; the request was not decided`,
      );
    }
    const digest = response.headers.get("docker-content-digest");
    if (!digest || !DIGEST.test(digest)) {
      throw new InvokerFailure(`${repository}: the manifest of ${tag} came without a sha256 Docker-Content-Digest`);
    }
    return digest;
  }

  private async ask(url: string, headers: Record<string, string>, repository: string): Promise<Response> {
    try {
      return await this.fetch(url, { method: "HEAD", headers: { Accept: MANIFEST_TYPES, ...headers } });
    } catch (error) {
      throw new InvokerFailure(
        `${repository}: the registry did not answer (${(error as Error).message}); the request was not decided`,
      );
    }
  }

  /** A pull token for the challenge's scope, asked without credentials. */
  private async anonymousToken(header: string | null, repository: string): Promise<string> {
    const challenge = bearerChallenge(header);
    if (!challenge) {
      throw new Denial(
        `${repository} asks for credentials the invoker does not hold (no bearer challenge): only public images can be checked`,
      );
    }
    const query = new URLSearchParams();
    if (challenge.service) query.set("service", challenge.service);
    if (challenge.scope) query.set("scope", challenge.scope);
    let response: Response;
    try {
      response = await this.fetch(`${challenge.realm}?${query.toString()}`, { method: "GET" });
    } catch (error) {
      throw new InvokerFailure(
        `${repository}: the registry's token service did not answer (${(error as Error).message})`,
      );
    }
    if (response.status === 401 || response.status === 403) {
      throw new Denial(
        `${repository} gives no anonymous pull token (HTTP ${response.status}): only public images can be checked`,
      );
    }
    const body = (await response.json().catch(() => ({}))) as { token?: unknown; access_token?: unknown };
    const token = typeof body.token === "string" ? body.token : body.access_token;
    if (response.status !== 200 || typeof token !== "string" || token === "") {
      throw new InvokerFailure(
        `${repository}: the registry's token service answered HTTP ${response.status} without a token`,
      );
    }
    return token;
  }
}
