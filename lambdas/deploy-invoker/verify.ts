/**
 * Verifies a GitHub Actions OIDC token: its signature against the issuer's
 * keys, the issuer, the invoker's own audience, its lifetime (with a small
 * clock skew), and that it is used once only.
 */
import { createRemoteJWKSet, errors, jwtVerify, type JWTVerifyGetKey } from "jose";
import { z } from "zod";
import { describeIssues, type Parsed } from "./request";

/** The issuer of every GitHub Actions OIDC token. */
export const GITHUB_ISSUER = "https://token.actions.githubusercontent.com";
/** Where GitHub publishes the keys its OIDC tokens are signed with. */
export const GITHUB_JWKS_URL = `${GITHUB_ISSUER}/.well-known/jwks`;
/** Seconds of clock difference tolerated on `exp`, `nbf` and `iat`. */
export const CLOCK_SKEW_SECONDS = 30;
/** GitHub signs with RS256; any other algorithm is refused. */
const ALGORITHMS = ["RS256"];

/**
 * Remembers the `jti` of every token accepted, until the token expires.
 * Production: a DynamoDB table keyed by `jti`, written with a conditional put
 * (`attribute_not_exists(jti)`) and a TTL attribute at the token's expiry, so
 * that two concurrent invocations with one token cannot both succeed.
 */
export interface ReplayStore {
  /**
   * Records `jti` as used until `expiresAt`. Returns `true` when it was not
   * recorded before (the token's first use), `false` when it was (a replay).
   */
  claimOnce(jti: string, expiresAt: Date): Promise<boolean>;
}

/** The claims of a GitHub Actions token that the invoker binds to its allowlist. */
export const GithubClaimsSchema = z.looseObject({
  jti: z.string().min(1).describe("The token's unique id, used once only."),
  exp: z.number().describe("Expiry, seconds since the epoch."),
  repository: z.string().min(1).describe("`owner/name` of the repository whose workflow asked."),
  repository_id: z
    .string()
    .min(1)
    .describe("The repository's numeric id (survives a rename; a re-created repository gets another)."),
  repository_owner_id: z.string().min(1).describe("The owner's numeric id."),
  ref: z.string().min(1).describe("The git ref the workflow ran on, e.g. `refs/heads/main`."),
  environment: z
    .string()
    .min(1)
    .optional()
    .describe("The GitHub environment of the job; absent when the job has none."),
  job_workflow_ref: z
    .string()
    .min(1)
    .describe("The workflow file the job ran, `owner/repo/path@ref` (a reusable workflow's own)."),
  workflow_ref: z.string().min(1).describe("The caller's workflow file, `owner/repo/path@ref`."),
  event_name: z.string().min(1).describe("The event that started the run."),
});

export type GithubClaims = z.infer<typeof GithubClaimsSchema>;

export interface VerifyOptions {
  /** The issuer's keys. Production: {@link githubKeys}; tests: a local key set. */
  readonly keys: JWTVerifyGetKey;
  /** The audience this invoker accepts; the workflow requests its token with it. */
  readonly audience: string;
  readonly replay: ReplayStore;
  /** The current time. */
  readonly now: () => Date;
}

/** GitHub's published keys, fetched (and cached) on demand. */
export function githubKeys(): JWTVerifyGetKey {
  return createRemoteJWKSet(new URL(GITHUB_JWKS_URL));
}

function joseReason(error: unknown): string {
  if (error instanceof errors.JWTExpired) return "token: expired";
  if (error instanceof errors.JWTClaimValidationFailed)
    return `token: claim ${error.claim} ${error.reason === "check_failed" ? "is not the expected value" : error.reason}`;
  if (error instanceof errors.JWSSignatureVerificationFailed) return "token: signature does not verify";
  if (error instanceof errors.JWKSNoMatchingKey) return "token: signed by no key of the issuer";
  if (error instanceof errors.JOSEAlgNotAllowed) return "token: signing algorithm not allowed";
  if (error instanceof errors.JOSEError) return `token: ${error.code}`;
  throw error;
}

/**
 * Signature, issuer, audience, lifetime, then the claims' shape, then replay:
 * only a token that passed everything else is recorded as used, so a forged
 * or foreign token cannot use up a `jti`.
 */
export async function verifyGithubToken(token: string, options: VerifyOptions): Promise<Parsed<GithubClaims>> {
  let payload: unknown;
  try {
    const verified = await jwtVerify(token, options.keys, {
      issuer: GITHUB_ISSUER,
      audience: options.audience,
      algorithms: ALGORITHMS,
      clockTolerance: CLOCK_SKEW_SECONDS,
      currentDate: options.now(),
      requiredClaims: ["exp", "iat", "jti"],
    });
    payload = verified.payload;
  } catch (error) {
    return { ok: false, reason: joseReason(error) };
  }
  const claims = GithubClaimsSchema.safeParse(payload);
  if (!claims.success) return { ok: false, reason: describeIssues("token", claims.error) };
  const first = await options.replay.claimOnce(claims.data.jti, new Date(claims.data.exp * 1000));
  if (!first) return { ok: false, reason: `token: already used (jti ${claims.data.jti}); request a new token` };
  return { ok: true, value: claims.data };
}
