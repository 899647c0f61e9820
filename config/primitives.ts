/**
 * Value types shared by every section of the stack configuration schema
 * (`schema.ts`, `futures.ts`): each one refuses a bad value with a message that
 * says what was expected.
 */
import { z } from "zod";
import { isSecretLookingName, secretLookingValue } from "../lib/secret-patterns";

/** Fargate task sizes: CPU units → the memory (MiB) AWS accepts with them. */
export const FARGATE_SIZES: Readonly<Record<number, readonly number[]>> = Object.freeze({
  256: [512, 1024, 2048],
  512: range(1024, 4096, 1024),
  1024: range(2048, 8192, 1024),
  2048: range(4096, 16384, 1024),
  4096: range(8192, 30720, 1024),
  8192: range(16384, 61440, 4096),
  16384: range(32768, 122880, 8192),
});
export const FARGATE_CPUS: readonly number[] = Object.keys(FARGATE_SIZES).map(Number);

function range(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let v = from; v <= to; v += step) out.push(v);
  return out;
}

/** Retention periods CloudWatch Logs accepts (0 would mean "never expire"). */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

export const cpu = z
  .number()
  .int()
  .refine((v) => FARGATE_CPUS.includes(v), {
    message: `expected one of ${FARGATE_CPUS.join(", ")} (Fargate CPU units)`,
  });
export const retentionDays = z
  .number()
  .int()
  .refine((v) => (LOG_RETENTION_DAYS as readonly number[]).includes(v), {
    message: `expected one of ${LOG_RETENTION_DAYS.join(", ")} (days CloudWatch Logs accepts)`,
  });
export const port = z.number().int().min(1).max(65535);
export const ethAddress = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "expected an address: 0x followed by 40 hex digits");
export const cidr = z
  .string()
  .regex(
    /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d|[12]\d|3[0-2])$/,
    "expected an IPv4 CIDR such as 10.0.0.0/16",
  )
  .refine(
    (v) =>
      v
        .split("/")[0]
        .split(".")
        .every((o) => Number(o) <= 255),
    "expected an IPv4 CIDR with octets 0-255",
  );
export const dnsName = z
  .string()
  .regex(
    /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/,
    "expected a lower-case DNS name such as dev.lumerin.io",
  );
export const dnsLabel = z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, "expected one lower-case DNS label");
export const roleArn = z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/, "expected an IAM role ARN");
export const secretArn = z
  .string()
  .regex(
    /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@-]+$/,
    "expected a Secrets Manager secret ARN",
  );
// Physical names, each with the limits AWS (and terraform-provider-aws's validations) enforce for it.
/** ECS clusters, services, task families and container names: up to 255 letters, digits, hyphens and underscores. */
export const ecsName = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,255}$/, "expected 1 to 255 letters, digits, hyphens and underscores (an ECS name)");
/** IAM role names: up to 64 of letters, digits and + = , . @ _ -. */
export const iamRoleName = z
  .string()
  .regex(/^[\w+=,.@-]{1,64}$/, "expected 1 to 64 letters, digits and + = , . @ _ - (an IAM role name)");
/** CloudWatch Logs log group names: up to 512 of letters, digits and . - _ / #. */
export const logGroupName = z
  .string()
  .regex(/^[.\-_/#A-Za-z0-9]{1,512}$/, "expected 1 to 512 letters, digits and . - _ / # (a log group name)");
/** Secrets Manager secret names: up to 512 of letters, digits and / _ + = . @ -. */
export const secretName = z
  .string()
  .regex(/^[A-Za-z0-9/_+=.@-]{1,512}$/, "expected 1 to 512 letters, digits and / _ + = . @ - (a secret name)");
/** Load balancer and target group names: up to 32 letters, digits and hyphens, not at either end. */
export const elbName = z
  .string()
  .regex(
    /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$/,
    "expected at most 32 letters, digits and hyphens, with no hyphen at either end",
  );
/** SSM parameter names as paths: `/a/b`, at most 1011 characters and 15 levels, not under `aws` or `ssm`. */
export const ssmParameterPath = z
  .string()
  .regex(/^\/[A-Za-z0-9_.\-/]+$/, "expected an SSM parameter path starting with /")
  .max(1011, "expected at most 1011 characters (an SSM parameter name)")
  .refine((v) => v.split("/").length - 1 <= 15, "expected at most 15 levels (an SSM parameter name)")
  .refine((v) => !/^\/?(aws|ssm)/i.test(v), 'SSM refuses parameter names that begin with "aws" or "ssm"');
/**
 * The GitHub organisation as GitHub spells it (`gh api orgs/lumerin-protocol --jq .login`). GitHub's
 * OIDC `sub` claim carries this exact spelling and IAM's StringEquals compares case-sensitively, so
 * every trusted subject must use it. Only image names are lower-case (`ghcr.io/lumerin-protocol/...`):
 * container registries require it.
 */
export const GITHUB_OWNER = "Lumerin-protocol";
export const githubName = z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/, "expected a GitHub owner or repository name");
export const imageRepository = z
  .string()
  .regex(
    /^[a-z0-9.-]+(:\d+)?\/[a-z0-9._/-]+$/,
    "expected an image repository without a tag, such as ghcr.io/lumerin-protocol/proxy-router",
  );
export const imageTag = z
  .string()
  .regex(/^(auto|[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})$/, 'expected "auto" or a Docker tag such as v1.7.5-dev');
export const goDuration = z
  .string()
  .regex(/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/, "expected a Go duration such as 20m or 1h30m");
export const envVarName = z
  .string()
  .regex(/^[A-Z_][A-Z0-9_]*$/, "expected an environment variable name in UPPER_SNAKE_CASE");

/** Plain (non-secret) container environment: refuses names and values that look like secrets. */
export const plainEnvironment = z.record(envVarName, z.string()).superRefine((env, ctx) => {
  for (const [name, value] of Object.entries(env)) {
    if (isSecretLookingName(name)) {
      ctx.addIssue({
        code: "custom",
        path: [name],
        message: "looks like a secret name; secrets go in Secrets Manager, not in plain environment",
      });
    }
    const why = secretLookingValue(value);
    if (why)
      ctx.addIssue({
        code: "custom",
        path: [name],
        message: `value looks like ${why}; secrets go in Secrets Manager, not in plain environment`,
      });
  }
});

/** The Multicall3 contract, at the same address on every EVM chain. */
export const MULTICALL3 = "0xcA11bde05977b3631167028862bE2a173976CA11";
