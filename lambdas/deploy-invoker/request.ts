/**
 * The request a GitHub workflow sends the deploy invoker, checked strictly:
 * unknown fields are refused, and every error names the field.
 *
 * The request chooses only *what* to deploy (an app of an environment, one
 * image) and carries the caller's proof of identity (a GitHub OIDC token).
 * Where it goes (cluster, service, container, roles) is never in the request:
 * it comes from the allowlist entry the token's claims are bound to.
 */
import { z } from "zod";
import { ENVIRONMENT_NAMES } from "../../lib/environments";

/** An image digest as registries print it. */
const DIGEST = /^sha256:[0-9a-f]{64}$/;
/** The three base64url parts of a compact JWS. */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

export const DeployRequestSchema = z
  .strictObject({
    app: z
      .string()
      .regex(/^[a-z][a-z0-9-]{0,62}$/, "expected an app name such as proxy-router (lower case, digits, -)")
      .describe("The app to deploy, as the allowlist names it (e.g. `proxy-router`)."),
    environment: z.enum(ENVIRONMENT_NAMES).describe("The environment (stack) to deploy to: dev, stg or lmn."),
    imageTag: z
      .string()
      .min(1)
      .max(128)
      .optional()
      .describe(
        "The release tag to deploy (the whole git tag, e.g. `proxy-router-v1.2.3-dev`); exactly one of imageTag and imageDigest.",
      ),
    imageDigest: z
      .string()
      .regex(DIGEST, "expected sha256:<64 hex digits>")
      .optional()
      .describe(
        "The image digest to deploy; one of its tags must be a release of the environment. Exactly one of imageTag and imageDigest.",
      ),
    requestId: z.uuid().describe("The caller's id for this deploy (a UUID); a repeated id names the same deploy."),
    oidcToken: z
      .string()
      .max(16384)
      .regex(COMPACT_JWS, "expected a compact JWT (three base64url parts)")
      .describe("The caller's GitHub Actions OIDC token, requested with the invoker's audience."),
    rollback: z
      .boolean()
      .optional()
      .describe(
        "An explicit rollback: in production, the only way to deploy a lower version; the tag must have been recorded before.",
      ),
  })
  .superRefine((request, ctx) => {
    const given = [request.imageTag, request.imageDigest].filter((v) => v !== undefined).length;
    if (given !== 1) {
      ctx.addIssue({
        code: "custom",
        path: [request.imageTag === undefined ? "imageTag" : "imageDigest"],
        message:
          given === 0
            ? "exactly one of imageTag and imageDigest is required; neither was given"
            : "exactly one of imageTag and imageDigest is allowed; both were given",
      });
    }
  });

export type DeployRequest = z.infer<typeof DeployRequestSchema>;

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

/** One line per problem, each starting with the field's path (`request.imageTag: ...`). */
export function describeIssues(what: string, error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.length > 0 ? `${what}.${issue.path.map(String).join(".")}` : what;
      return `${path}: ${issue.message}`;
    })
    .join("; ");
}

export function parseRequest(input: unknown): Parsed<DeployRequest> {
  const result = DeployRequestSchema.safeParse(input);
  return result.success
    ? { ok: true, value: result.data }
    : { ok: false, reason: describeIssues("request", result.error) };
}
