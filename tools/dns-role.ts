/**
 * `npm run dns-role -- --stack lmn --zone-id Z... --account <zone account id> [--role-name <name>] [--out <dir>]`
 *
 * The one-time set-up of the role in the account that hosts a stack's zone (lmn:
 * `lumerin.io` in titanio-prd). It plans the stack offline as it will be once the
 * role exists, takes the records the plan registers in the zone, and prints the
 * role's trust policy, its permission policy (exactly those records and types),
 * the `aws iam` commands that create it (to run once with a profile of that
 * account) and the `pulumi config set` commands that point the stack at it. The
 * two policies are also written to `--out` (default `./dns-role-<stack>`), where
 * the commands read them. Exit 2 on bad input.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import type { DnsRoleArgs } from "./dns-role-policy";

const USAGE =
  "usage: npm run dns-role -- --stack <stack> --zone-id <Z...> --account <12-digit id of the zone's account> [--role-name <name>] [--out <dir>] [--bootstrap-principal <role arn in the stack's account>]...";

export interface DnsRoleSetup {
  readonly args: DnsRoleArgs;
  readonly roleArn: string;
  readonly trust: unknown;
  readonly permissions: unknown;
  /** `aws iam ...`, to run once in the zone's account. */
  readonly awsCommands: readonly string[];
  /** `pulumi config set ...`, to run once the role exists. */
  readonly configCommands: readonly string[];
}

export class DnsRoleInputError extends Error {}

/** Everything the set-up needs, from the stack file and the zone's facts. */
export async function dnsRoleSetup(options: {
  stack: string;
  zoneId: string;
  account: string;
  roleName?: string;
  out: string;
  configFile?: string;
  /** Administrators' roles that may also write, for the first `pulumi up` (before the deployer exists). */
  bootstrapPrincipals?: readonly string[];
}): Promise<DnsRoleSetup> {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { planFiles, planStack } = require("./plan-stack") as typeof import("./plan-stack");
  const { dnsRoleArn, dnsRoleCommands, dnsRolePermissions, dnsRoleTrust, zoneRecordsOf } =
    require("./dns-role-policy") as typeof import("./dns-role-policy");
  const { dnsZoneRoleName } = require("../lib/naming") as typeof import("../lib/naming");
  const { isEnvironmentName, environment } = require("../lib/environments") as typeof import("../lib/environments");
  /* eslint-enable @typescript-eslint/no-require-imports */
  if (!/^Z[A-Z0-9]{4,31}$/.test(options.zoneId))
    throw new DnsRoleInputError(
      `--zone-id: expected a Route53 hosted zone id such as Z0123456789ABC, got "${options.zoneId}"`,
    );
  if (!/^\d{12}$/.test(options.account))
    throw new DnsRoleInputError(`--account: expected the 12-digit id of the zone's account, got "${options.account}"`);
  const files = planFiles(options.stack, options.configFile);
  const allowedAccounts = JSON.parse(files.config["aws:allowedAccountIds"] ?? "[]") as unknown;
  if (Array.isArray(allowedAccounts) && allowedAccounts.includes(options.account)) {
    throw new DnsRoleInputError(
      `--account: ${options.account} is the stack's own account; the role belongs in the account that hosts the zone`,
    );
  }
  const envName = files.config["lumerin-infra:environment"];
  const roleName =
    options.roleName ?? (isEnvironmentName(envName) ? dnsZoneRoleName(envName) : `lumerin-infra-dns-${options.stack}`);
  if (!/^[\w+=,.@-]{1,64}$/.test(roleName))
    throw new DnsRoleInputError(`--role-name: "${roleName}" is not an IAM role name`);
  const partition = "aws";
  const roleArn = dnsRoleArn({ partition, zoneAccountId: options.account, roleName });
  const dns: Record<string, unknown> = {
    ...(JSON.parse(files.config["lumerin-infra:dns"] ?? "{}") as Record<string, unknown>),
    assumeRoleArn: roleArn,
    zoneId: options.zoneId,
  };
  // The stack as it will be: its records go through the role, into the zone the account hosts.
  const plan = await planStack(files, { overrides: { "lumerin-infra:dns": JSON.stringify(dns) } });
  const outputs = plan.outputs as { accountId?: string; deployRoles?: Record<string, string> };
  const roleNameOf = (key: string) => {
    const arn = outputs.deployRoles?.[key];
    if (!arn)
      throw new DnsRoleInputError(
        `the ${options.stack} stack makes no ${key} role (deployIdentity.infra.enabled): nobody could assume the zone role`,
      );
    return arn.slice(arn.lastIndexOf("/") + 1);
  };
  const stackAccountId = String(outputs.accountId);
  const zoneName =
    typeof dns.zoneName === "string" ? dns.zoneName : isEnvironmentName(envName) ? environment(envName).dnsZone : "";
  const args: DnsRoleArgs = {
    partition,
    zoneAccountId: options.account,
    zoneId: options.zoneId,
    zoneName,
    roleName,
    stackAccountId,
    deployerRoleName: roleNameOf("infra-deployer"),
    previewRoleName: roleNameOf("infra-preview"),
    ...(options.bootstrapPrincipals?.length ? { bootstrapPrincipalArns: [...options.bootstrapPrincipals] } : {}),
    records: zoneRecordsOf(plan, zoneName),
  };
  for (const arn of options.bootstrapPrincipals ?? []) {
    if (!new RegExp(`^arn:${partition}:iam::${stackAccountId}:role/[\\w+=,.@/-]+$`).test(arn)) {
      throw new DnsRoleInputError(
        `--bootstrap-principal: expected a role ARN of the stack's account ${stackAccountId}, got "${arn}"`,
      );
    }
  }
  const trustFile = path.join(options.out, "trust.json");
  const permissionsFile = path.join(options.out, "permissions.json");
  return {
    args,
    roleArn,
    trust: dnsRoleTrust(args),
    permissions: dnsRolePermissions(args),
    awsCommands: dnsRoleCommands(args, { trust: trustFile, permissions: permissionsFile }),
    configCommands: [
      `pulumi config set --stack ${options.stack} --path dns.assumeRoleArn ${roleArn}`,
      `pulumi config set --stack ${options.stack} --path dns.zoneId ${options.zoneId}`,
    ],
  };
}

/** The command: `argv` without node and the script; prints with `out`/`err`; returns the exit code. */
export async function runDnsRole(
  argv: readonly string[],
  print: { out: (text: string) => void; err: (text: string) => void } = { out: console.log, err: console.error },
): Promise<number> {
  let values;
  try {
    values = parseArgs({
      args: [...argv],
      options: {
        stack: { type: "string" },
        "zone-id": { type: "string" },
        account: { type: "string" },
        "role-name": { type: "string" },
        out: { type: "string" },
        "config-file": { type: "string" },
        "bootstrap-principal": { type: "string", multiple: true },
        help: { type: "boolean", default: false },
      },
      strict: true,
    }).values;
  } catch (err) {
    print.err(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    print.out(USAGE);
    return 0;
  }
  const missing = (["stack", "zone-id", "account"] as const).filter((k) => !values[k]);
  if (missing.length > 0) {
    print.err(`${missing.map((k) => `--${k}`).join(", ")} required\n${USAGE}`);
    return 2;
  }
  const stack = values.stack as string;
  const out = values.out ?? `dns-role-${stack}`;
  try {
    const setup = await dnsRoleSetup({
      stack,
      zoneId: values["zone-id"] as string,
      account: values.account as string,
      roleName: values["role-name"],
      out,
      configFile: values["config-file"],
      bootstrapPrincipals: values["bootstrap-principal"] ?? [],
    });
    mkdirSync(out, { recursive: true });
    writeFileSync(path.join(out, "trust.json"), JSON.stringify(setup.trust, null, 2) + "\n");
    writeFileSync(path.join(out, "permissions.json"), JSON.stringify(setup.permissions, null, 2) + "\n");
    const { args } = setup;
    print.out(
      [
        `Role ${setup.roleArn}: the ${stack} stack's records in ${args.zoneName} (${args.zoneId}).`,
        `Assumed by ${args.deployerRoleName} (changes records) and ${args.previewRoleName} (reads only), both in ${args.stackAccountId}.`,
        "",
        `Trust policy (${path.join(out, "trust.json")}):`,
        JSON.stringify(setup.trust, null, 2),
        "",
        `Permission policy (${path.join(out, "permissions.json")}):`,
        JSON.stringify(setup.permissions, null, 2),
        "",
        `1. Once, with a profile of the zone's account (${args.zoneAccountId}):`,
        ...setup.awsCommands.map((c) => `   ${c}`),
        "",
        "2. Then point the stack at it (and commit the stack file):",
        ...setup.configCommands.map((c) => `   ${c}`),
        "",
        ...(args.bootstrapPrincipalArns?.length
          ? [
              `3. After the first pulumi up, drop ${args.bootstrapPrincipalArns.join(", ")} from the trust: re-run this command without --bootstrap-principal, then`,
              `   aws iam update-assume-role-policy --role-name ${args.roleName} --policy-document file://${path.join(out, "trust.json")}`,
              "",
            ]
          : []),
      ].join("\n"),
    );
    return 0;
  } catch (err) {
    print.err(`✗ dns-role ${stack}: ${(err as Error).message}`);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { ConfigError } = require("../config/load") as typeof import("../config/load");
    if (
      err instanceof DnsRoleInputError ||
      err instanceof ConfigError ||
      /Pulumi\..*\.yaml/.test((err as Error).message)
    )
      return 2;
    if (process.env.DEBUG) print.err(String((err as Error).stack));
    return 1;
  }
}

if (require.main === module) {
  runDnsRole(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
