/**
 * Physical names the program derives from config values (a default name with a
 * configured port, a host label under the configured zone) checked against the
 * limits AWS enforces, so that a value AWS would reject stops the run before any
 * resource is registered, naming the key that produced it. Names given directly
 * in config are checked by their own schemas (config/primitives.ts).
 */
import { z } from "zod";
import { Environment, hostName } from "../lib/environments";
import type { FuturesConfig } from "./futures";
import { ecsName, elbName, iamRoleName, logGroupName, secretName, ssmParameterPath } from "./primitives";
import type { DnsConfig, ProxyRouterConfig } from "./schema";
import { ProxyServiceKind, ProxyServiceNames, defaultProxyHostLabel, proxyServiceNames } from "../lib/naming";

export interface DerivedNameIssue {
  /** Key path under the project namespace, e.g. `proxyRouter.validator.stratumPort`. */
  readonly key: string;
  readonly message: string;
}

/** EC2 security group names: up to 255 characters, and never `sg-…` (the id's form). */
const securityGroupName = z
  .string()
  .max(255, "expected at most 255 characters (a security group name)")
  .refine((v) => !v.toLowerCase().startsWith("sg-"), 'a security group name may not begin with "sg-"');

/** S3 bucket names: 3 to 63 lower-case letters, digits, dots and hyphens, a letter or digit at each end, no `..`. */
const s3BucketName = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
    "expected 3 to 63 lower-case letters, digits, dots and hyphens (an S3 bucket name)",
  )
  .refine((v) => !v.includes(".."), "an S3 bucket name may not contain two dots in a row");

/** DNS names: at most 253 characters. */
const recordName = z.string().max(253, "expected at most 253 characters (a DNS name)");

const PROXY_NAME_SCHEMAS: Readonly<Record<keyof ProxyServiceNames, z.ZodType<string>>> = {
  service: ecsName,
  taskFamily: ecsName,
  container: ecsName,
  logGroup: logGroupName,
  secret: secretName,
  loadBalancer: elbName,
  targetGroup: elbName,
  imageTagParameter: ssmParameterPath,
  executionRole: iamRoleName,
  taskRole: iamRoleName,
  serviceSecurityGroup: securityGroupName,
  loadBalancerSecurityGroup: securityGroupName,
};

/** Where a default name comes from, when a config value other than `names.<field>` is in it. */
const PROXY_DEFAULT_SOURCES: Partial<Record<keyof ProxyServiceNames, string>> = { targetGroup: "stratumPort" };

export function derivedNameIssues(input: {
  readonly env: Environment;
  readonly region: string;
  readonly proxyRouter: ProxyRouterConfig;
  readonly dns: DnsConfig;
  readonly futures?: FuturesConfig;
}): DerivedNameIssue[] {
  const issues: DerivedNameIssue[] = [];
  const zone = input.dns.zoneName ?? input.env.dnsZone;
  const zoneKey = input.dns.zoneName ? "dns.zoneName" : undefined;
  const check = (schema: z.ZodType<string>, value: string, key: string, what: string) => {
    const result = schema.safeParse(value);
    if (!result.success)
      issues.push({ key, message: `${what} "${value}": ${result.error.issues.map((i) => i.message).join("; ")}` });
  };

  for (const kind of ["router", "validator"] as const satisfies readonly ProxyServiceKind[]) {
    const cfg = input.proxyRouter[kind];
    if (!cfg.enabled) continue;
    const defaults = proxyServiceNames(kind, input.env.name, input.region, cfg.stratumPort);
    for (const field of Object.keys(PROXY_NAME_SCHEMAS) as (keyof ProxyServiceNames)[]) {
      const given = (cfg.names as Partial<Record<keyof ProxyServiceNames, string>>)[field];
      // A given name was checked by its own schema; a default is checked here, on behalf of what it is made of.
      if (given !== undefined) continue;
      const source = PROXY_DEFAULT_SOURCES[field];
      check(
        PROXY_NAME_SCHEMAS[field],
        defaults[field],
        `proxyRouter.${kind}.${source ?? `names.${field}`}`,
        `makes the default ${field} name`,
      );
    }
    if (cfg.publicEndpoint.enabled) {
      const label = cfg.publicEndpoint.hostLabel ?? defaultProxyHostLabel(kind);
      check(
        recordName,
        `${label}.${zone}`,
        zoneKey ?? `proxyRouter.${kind}.publicEndpoint.hostLabel`,
        "makes the DNS name",
      );
    }
  }

  const ui = input.futures?.ui;
  if (ui?.enabled) {
    // The bucket is named after its host (`s3futures.<zone>`), the form a CloudFront S3 origin and the live estate use.
    check(
      s3BucketName,
      hostName(input.env, ui.bucketHostLabel, zone),
      zoneKey ?? "futures.ui.bucketHostLabel",
      "makes the UI bucket name",
    );
    check(recordName, hostName(input.env, ui.hostLabel, zone), zoneKey ?? "futures.ui.hostLabel", "makes the DNS name");
  }
  return issues;
}
