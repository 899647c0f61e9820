/**
 * Pure helpers for choosing container image tags from git/release tags.
 *
 * A release tag is `${prefix}vMAJOR.MINOR.PATCH${suffix}`, where `prefix` is a
 * per-service prefix such as `"proxy-router-"` (or `""` for the old, plain
 * tags) and `suffix` is the environment suffix: `"-dev"`, `"-stg"`, or `""`
 * for production (`lmn`). Matching is exact: with suffix `""`, `v1.2.3-dev`
 * and `v1.2.3-rc1` do not match; only `v1.2.3` does.
 *
 * Version numbers follow semver's rule: a numeric part is `0` or has no
 * leading zero (`v01.2.3` is rejected, as are `v1.2`, `latest` and
 * `dev-latest`). Ordering is numeric (`v1.10.0` > `v1.9.9`), never lexical
 * and never the order in which GitHub lists releases.
 *
 * No I/O happens in this module.
 */

export interface TagPattern {
  /** Per-service prefix, e.g. `"proxy-router-"`, or `""`. Matched literally. */
  readonly prefix: string;
  /** Environment suffix: `"-dev"`, `"-stg"` or `""` (production). Matched literally. */
  readonly suffix: string;
}

export interface ReleaseVersion {
  /** The whole git tag, prefix and suffix included; this is the image tag. */
  readonly tag: string;
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
}

/** Human-readable form of a pattern, e.g. `proxy-router-vX.Y.Z-dev`. */
export function describePattern(p: TagPattern): string {
  return `${p.prefix}vX.Y.Z${p.suffix}`;
}

/** A numeric version part: `0`, or digits without a leading zero. */
const NUMBER = "(0|[1-9][0-9]*)";
const VERSION_CORE = `v${NUMBER}\\.${NUMBER}\\.${NUMBER}`;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** `numbers`: the version's major, minor and patch as matched. */
function toVersion(tag: string, numbers: readonly string[]): ReleaseVersion | undefined {
  const [major, minor, patch] = numbers.map(Number);
  if (!Number.isSafeInteger(major) || !Number.isSafeInteger(minor) || !Number.isSafeInteger(patch)) {
    return undefined;
  }
  return { tag, major, minor, patch };
}

/**
 * Parses a tag of exactly the form `${prefix}vX.Y.Z${suffix}`; anything else
 * (other prefix, other or extra suffix, malformed numbers) gives `undefined`.
 */
export function parseReleaseTag(tag: string, p: TagPattern): ReleaseVersion | undefined {
  const re = new RegExp(`^${escapeRegExp(p.prefix)}${VERSION_CORE}${escapeRegExp(p.suffix)}$`);
  const match = re.exec(tag);
  return match === null ? undefined : toVersion(tag, match.slice(1, 4));
}

/**
 * Like {@link parseReleaseTag}, but the prefix is optional: images built
 * before per-service prefixes were introduced are tagged plainly
 * (`v1.7.5-dev`), and a pinned `imageTag` may still name one of them. The
 * suffix is still required exactly.
 */
/**
 * The tags a stack accepts as pinned, or as a code deploy's tag: the release tag,
 * its prefix optional. One pattern in a syntax both JavaScript and POSIX extended
 * regular expressions read alike (bash `[[ =~ ]]`), so the image-deploy workflow
 * checks a tag exactly as the program does (GitHub variable `IMAGE_TAG_PATTERN`).
 */
export function pinnedTagPattern(p: TagPattern): string {
  const prefix = p.prefix === "" ? "" : `(${escapeRegExp(p.prefix)})?`;
  return `^${prefix}${VERSION_CORE}${escapeRegExp(p.suffix)}$`;
}

export function parsePinnedTag(tag: string, p: TagPattern): ReleaseVersion | undefined {
  const match = new RegExp(pinnedTagPattern(p)).exec(tag);
  if (match === null) return undefined;
  // The version's three numbers are the last three groups, after the optional prefix's.
  return toVersion(tag, match.slice(match.length - 3));
}

/**
 * Total, deterministic order: major, minor, patch numerically; on a tie the
 * longer tag (the prefixed one, when comparing `proxy-router-v1.2.3` with
 * `v1.2.3`) is greater; then plain code-unit order of the tags. Returns 0
 * only for identical tags with identical numbers.
 */
export function compareVersions(a: ReleaseVersion, b: ReleaseVersion): number {
  if (a.major !== b.major) return a.major < b.major ? -1 : 1;
  if (a.minor !== b.minor) return a.minor < b.minor ? -1 : 1;
  if (a.patch !== b.patch) return a.patch < b.patch ? -1 : 1;
  if (a.tag.length !== b.tag.length) return a.tag.length < b.tag.length ? -1 : 1;
  if (a.tag !== b.tag) return a.tag < b.tag ? -1 : 1;
  return 0;
}

/**
 * The highest tag matching the pattern exactly (see {@link parseReleaseTag}),
 * or `undefined` when none does. Input order is irrelevant.
 */
export function highestRelease(tags: readonly string[], p: TagPattern): ReleaseVersion | undefined {
  let best: ReleaseVersion | undefined;
  for (const tag of tags) {
    const version = parseReleaseTag(tag, p);
    if (version !== undefined && (best === undefined || compareVersions(version, best) > 0)) {
      best = version;
    }
  }
  return best;
}

/**
 * The ECR repository's ARN of an image repository in ECR
 * (`<account>.dkr.ecr.<region>.amazonaws.com/<name>`); `undefined` for any other
 * registry (ghcr.io), where nothing but the tag pattern can be checked before a deploy.
 */
export function ecrRepositoryArnOf(imageRepository: string, partition: string): string | undefined {
  const match = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/([a-z0-9._\/-]+)$/.exec(imageRepository);
  return match ? `arn:${partition}:ecr:${match[2]}:${match[1]}:repository/${match[3]}` : undefined;
}
