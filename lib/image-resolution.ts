/**
 * Which image tag each service's task definition gets. Runs once, before any
 * resource is registered, so that a failed lookup stops the run cleanly.
 *
 * Resolution order (docs/image-tags.md):
 *   1. a pinned tag in config wins: it is a deliberate rollback or hold;
 *   2. `auto`: the newer (by semver) of the newest release for this environment
 *      (GitHub) and the tag a code deploy last recorded in SSM. So `pulumi up`
 *      never rolls a service back behind a code deploy, and an infrastructure
 *      change to the task definition keeps the image that is running;
 *   3. a recorded tag that is not a release of this environment is kept as it is
 *      (it is running; replacing it would be a guess).
 * Offline (no release source) `auto` stays visibly unresolved, never guessed.
 *
 * Each service is its own request, with its own pin or `auto` and its own
 * deployed-tag parameter, so one service can be held back while another
 * follows releases; services of one repository still share a single release
 * listing (`resolveLatestTags` groups by repository).
 */
import { ReleaseSource, RepoRef, resolveLatestTags } from "./github-releases";
import { ReleaseVersion, TagPattern, compareVersions, parsePinnedTag } from "./image-tags";

export interface ImageRequest {
  /** Service key, e.g. `proxy-router`. */
  readonly key: string;
  /** Image repository without tag. */
  readonly repository: string;
  /** `auto` or a pinned tag (already validated against `pattern`). */
  readonly imageTag: string;
  readonly github: RepoRef;
  readonly pattern: TagPattern;
  /** SSM parameter where code deploys record the tag they rolled out. */
  readonly deployedTagParameter: string;
}

export type TagOrigin = "pinned" | "latest-release" | "deployed" | "unresolved";

export interface ResolvedImage {
  readonly key: string;
  readonly tag: string;
  /** `repository:tag`. */
  readonly image: string;
  readonly origin: TagOrigin;
  readonly latestRelease?: string;
  readonly deployedTag?: string;
}

/** Reads the recorded tags for these SSM parameter names (absent parameters are simply missing). */
export type DeployedTagReader = (parameterNames: readonly string[]) => Promise<ReadonlyMap<string, string>>;

export const UNRESOLVED_TAG = "unresolved-auto";

export interface ResolveImagesOptions {
  readonly environment: string;
  /** Where releases come from; `undefined` means offline: `auto` stays unresolved. */
  readonly releases: ReleaseSource | undefined;
  readonly readDeployedTags: DeployedTagReader;
}

export async function resolveImages(
  requests: readonly ImageRequest[],
  options: ResolveImagesOptions,
): Promise<ReadonlyMap<string, ResolvedImage>> {
  const deployed = await options.readDeployedTags([...new Set(requests.map((r) => r.deployedTagParameter))]);
  const auto = requests.filter((r) => r.imageTag === "auto");
  const latest: ReadonlyMap<string, ReleaseVersion> =
    options.releases && auto.length > 0
      ? await resolveLatestTags(
          auto.map((r) => ({ key: r.key, repo: r.github, pattern: r.pattern, environment: options.environment })),
          options.releases,
        )
      : new Map();

  const resolved = new Map<string, ResolvedImage>();
  for (const request of requests) {
    const deployedTag = deployed.get(request.deployedTagParameter);
    const pick = choose(
      request,
      deployedTag,
      options.releases ? latest.get(request.key) : undefined,
      options.releases !== undefined,
    );
    resolved.set(request.key, {
      key: request.key,
      ...pick,
      image: `${request.repository}:${pick.tag}`,
      ...(deployedTag ? { deployedTag } : {}),
    });
  }
  return resolved;
}

function choose(
  request: ImageRequest,
  deployedTag: string | undefined,
  latest: ReleaseVersion | undefined,
  online: boolean,
): { tag: string; origin: TagOrigin; latestRelease?: string } {
  if (request.imageTag !== "auto") return { tag: request.imageTag, origin: "pinned" };
  if (!online || !latest) return { tag: UNRESOLVED_TAG, origin: "unresolved" };
  const base = { latestRelease: latest.tag };
  if (!deployedTag) return { ...base, tag: latest.tag, origin: "latest-release" };
  const running = parsePinnedTag(deployedTag, request.pattern);
  if (!running) return { ...base, tag: deployedTag, origin: "deployed" };
  return compareVersions(running, latest) > 0
    ? { ...base, tag: deployedTag, origin: "deployed" }
    : { ...base, tag: latest.tag, origin: "latest-release" };
}
