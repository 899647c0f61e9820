/**
 * The invoker's decision: may this caller deploy this image of this app, and
 * where does the deploy go. Pure apart from its injected dependencies (the
 * issuer's keys, the replay store, the recorded tags, the registry); it starts
 * nothing. Every check fails closed: a missing claim, a missing allowlist
 * setting or an unorderable version denies.
 */
import { environment, type EnvironmentName } from "../../lib/environments";
import {
  compareVersions,
  describePattern,
  parsePinnedTag,
  type ReleaseVersion,
  type TagPattern,
} from "../../lib/image-tags";
import { AllowlistEntrySchema, type AllowlistEntry, type DeployTarget } from "./allowlist";
import { describeIssues, parseRequest } from "./request";
import { verifyGithubToken, type GithubClaims, type ReplayStore } from "./verify";
import type { JWTVerifyGetKey } from "jose";

/**
 * The events whose runs may deploy: a push to the bound branch and a manual dispatch on it. Any
 * other (a pull request's runs execute unmerged code; `workflow_run`, `issue_comment` and the like
 * run on triggers others control) denies.
 */
const DEPLOYING_EVENTS: readonly string[] = ["push", "workflow_dispatch"];

/**
 * The tags recorded as deployed for a target. Production: the service's SSM
 * tag parameter (the current tag) and its parameter history (every tag once
 * recorded there).
 */
export interface RecordedTags {
  /** The tag the target runs now, or `undefined` before its first deploy. */
  current(target: DeployTarget): Promise<string | undefined>;
  /** Whether `tag` was ever recorded as deployed to the target. */
  wasRecorded(target: DeployTarget, tag: string): Promise<boolean>;
}

/** The image registry. Production: ECR `DescribeImages` on the target's repository. */
export interface ImageRegistry {
  /** The tags an image digest carries in `repository`; empty when the digest is not there. */
  tagsOf(repository: string, digest: string): Promise<readonly string[]>;
}

export interface AuthorizeDeps {
  /** The environment this invoker serves; a request for another is denied. */
  readonly environment: EnvironmentName;
  /** The audience the caller's token must carry (the invoker's own, never `sts.amazonaws.com`). */
  readonly audience: string;
  /** The issuer's keys (production: GitHub's JWKS). */
  readonly keys: JWTVerifyGetKey;
  readonly replay: ReplayStore;
  /**
   * The allowlist as the program wrote it (JSON in the function's
   * environment); each entry is checked against {@link AllowlistEntrySchema}
   * when it is used, and an invalid one denies.
   */
  readonly allowlist: readonly unknown[];
  readonly recordedTags: RecordedTags;
  readonly registry: ImageRegistry;
  readonly now: () => Date;
}

/** What to deploy; where it goes is the decision's `target`, from the allowlist entry only. */
export interface DeployOrder {
  readonly requestId: string;
  readonly app: string;
  readonly environment: EnvironmentName;
  /** The release tag deployed (for a digest request: the digest's release tag). */
  readonly imageTag: string;
  /** The digest asked for, when the request named one. */
  readonly imageDigest?: string;
  readonly rollback: boolean;
  /** The GitHub repository and run that asked, for the deploy's record. */
  readonly caller: { readonly repository: string; readonly workflowRef: string; readonly ref: string };
}

/**
 * `allow`: deploy `order` to `target`, a copy of the allowlist entry's target
 * (no field of the request reaches it). `deny`: `reason` says which check
 * failed, naming the field or claim.
 */
export type Decision =
  | { readonly decision: "allow"; readonly target: DeployTarget; readonly order: DeployOrder }
  | { readonly decision: "deny"; readonly reason: string };

type Step<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

function deny(reason: string): Decision {
  return { decision: "deny", reason };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The one entry for the app in the environment, checked whole. */
function findEntry(allowlist: readonly unknown[], app: string, env: EnvironmentName): Step<AllowlistEntry> {
  const matches = allowlist.filter((e) => isRecord(e) && e.app === app && e.environment === env);
  if (matches.length === 0) return { ok: false, reason: `app ${app} is not in the allowlist of ${env}` };
  if (matches.length > 1)
    return {
      ok: false,
      reason: `app ${app} has ${matches.length} allowlist entries in ${env}; exactly one is allowed`,
    };
  const entry = AllowlistEntrySchema.safeParse(matches[0]);
  if (!entry.success)
    return {
      ok: false,
      reason: `the allowlist entry of ${app} in ${env} is incomplete: ${describeIssues("allowlist", entry.error)}`,
    };
  return { ok: true, value: entry.data };
}

/** Every claim must equal the entry's setting; `environment` absent from the token never matches. */
function bindClaims(claims: GithubClaims, entry: AllowlistEntry): string | undefined {
  const pairs: ReadonlyArray<readonly [string, string | undefined, string]> = [
    ["repository", claims.repository, entry.repository],
    ["repository_id", claims.repository_id, entry.repositoryId],
    ["repository_owner_id", claims.repository_owner_id, entry.repositoryOwnerId],
    ["ref", claims.ref, entry.ref],
    ["environment", claims.environment, entry.githubEnvironment],
    ["workflow_ref", claims.workflow_ref, entry.workflowRef],
    ["job_workflow_ref", claims.job_workflow_ref, entry.jobWorkflowRef],
  ];
  for (const [claim, actual, expected] of pairs) {
    if (actual !== expected) {
      return `token claim ${claim} is ${actual === undefined ? "absent" : JSON.stringify(actual)}; app ${entry.app} in ${entry.environment} admits only ${JSON.stringify(expected)}`;
    }
  }
  if (!DEPLOYING_EVENTS.includes(claims.event_name)) {
    return `token claim event_name is ${claims.event_name}: only ${DEPLOYING_EVENTS.join(" and ")} runs deploy`;
  }
  return undefined;
}

/** The release the request names: its tag, or the release tag its digest carries. */
async function releaseOf(
  request: { readonly imageTag?: string; readonly imageDigest?: string },
  entry: AllowlistEntry,
  pattern: TagPattern,
  registry: ImageRegistry,
): Promise<Step<ReleaseVersion>> {
  const expected = describePattern(pattern);
  if (request.imageTag !== undefined) {
    const version = parsePinnedTag(request.imageTag, pattern);
    return version === undefined
      ? {
          ok: false,
          reason: `imageTag ${request.imageTag} is not a release of ${entry.environment} (expected ${expected})`,
        }
      : { ok: true, value: version };
  }
  const digest = request.imageDigest ?? "";
  const tags = await registry.tagsOf(entry.target.imageRepository, digest);
  const releases = tags.map((t) => parsePinnedTag(t, pattern)).filter((v): v is ReleaseVersion => v !== undefined);
  if (releases.length === 0) {
    return {
      ok: false,
      reason: `imageDigest ${digest} carries no release tag of ${entry.environment} in ${entry.target.imageRepository} (expected ${expected})`,
    };
  }
  return { ok: true, value: releases.reduce((a, b) => (compareVersions(a, b) >= 0 ? a : b)) };
}

/**
 * Production moves forward only: a lower version than the one running is
 * denied unless the request is an explicit rollback. A rollback (in any
 * environment) must name a tag recorded as deployed before.
 */
async function checkOrder(
  release: ReleaseVersion,
  rollback: boolean,
  entry: AllowlistEntry,
  pattern: TagPattern,
  recorded: RecordedTags,
): Promise<string | undefined> {
  if (rollback) {
    return (await recorded.wasRecorded(entry.target, release.tag))
      ? undefined
      : `rollback to ${release.tag} refused: it was never recorded as deployed to ${entry.app} in ${entry.environment}`;
  }
  if (!environment(entry.environment).production) return undefined;
  const currentTag = await recorded.current(entry.target);
  if (currentTag === undefined) return undefined;
  const current = parsePinnedTag(currentTag, pattern);
  if (current === undefined) {
    return `the recorded tag ${currentTag} of ${entry.app} is not a release (${describePattern(pattern)}); cannot tell forward from backward`;
  }
  if (compareVersions(release, current) < 0) {
    return `${release.tag} is older than the running ${currentTag}; production moves forward only unless the request is a rollback`;
  }
  return undefined;
}

/**
 * The version rule again, for an allowed order, against the tags recorded now: the handler asks once
 * it holds the lease, so a deploy that recorded a newer tag between the first check and the lease
 * (the previous holder's last step) cannot be overtaken by an older one. `undefined`: it still holds.
 */
export async function orderStillHolds(order: DeployOrder, deps: AuthorizeDeps): Promise<string | undefined> {
  const entry = findEntry(deps.allowlist, order.app, order.environment);
  if (!entry.ok) return entry.reason;
  const pattern: TagPattern = { prefix: entry.value.tagPrefix, suffix: environment(order.environment).tagSuffix };
  const release = parsePinnedTag(order.imageTag, pattern);
  if (release === undefined) return `${order.imageTag} is not a release (${describePattern(pattern)})`;
  return checkOrder(release, order.rollback, entry.value, pattern, deps.recordedTags);
}

/** The audience of tokens for AWS STS: a token minted for a deploy role must not pass here. */
const STS_AUDIENCE = "sts.amazonaws.com";

export async function authorize(input: unknown, deps: AuthorizeDeps): Promise<Decision> {
  if (deps.audience === "" || deps.audience === STS_AUDIENCE) {
    return deny(`the invoker's audience must be its own, not ${JSON.stringify(deps.audience)}`);
  }
  const request = parseRequest(input);
  if (!request.ok) return deny(request.reason);
  const req = request.value;
  if (req.environment !== deps.environment) {
    return deny(`request.environment: this invoker deploys to ${deps.environment}, not ${req.environment}`);
  }

  const claims = await verifyGithubToken(req.oidcToken, {
    keys: deps.keys,
    audience: deps.audience,
    replay: deps.replay,
    now: deps.now,
  });
  if (!claims.ok) return deny(claims.reason);

  const entry = findEntry(deps.allowlist, req.app, req.environment);
  if (!entry.ok) return deny(entry.reason);

  const bound = bindClaims(claims.value, entry.value);
  if (bound !== undefined) return deny(bound);

  const pattern: TagPattern = { prefix: entry.value.tagPrefix, suffix: environment(req.environment).tagSuffix };
  const release = await releaseOf(req, entry.value, pattern, deps.registry);
  if (!release.ok) return deny(release.reason);

  const rollback = req.rollback ?? false;
  const order = await checkOrder(release.value, rollback, entry.value, pattern, deps.recordedTags);
  if (order !== undefined) return deny(order);

  return {
    decision: "allow",
    target: { ...entry.value.target },
    order: {
      requestId: req.requestId,
      app: req.app,
      environment: req.environment,
      imageTag: release.value.tag,
      ...(req.imageDigest === undefined ? {} : { imageDigest: req.imageDigest }),
      rollback,
      caller: { repository: claims.value.repository, workflowRef: claims.value.workflow_ref, ref: claims.value.ref },
    },
  };
}
