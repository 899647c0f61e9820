/**
 * The one-time role in the account that hosts a stack's zone (lmn: `lumerin.io`
 * in titanio-prd): its trust policy and its permission policy, derived from the
 * stack's plan, so the role may change exactly the records the stack registers.
 *
 * - Trust: the stack's deployer (session tag `write`) and its preview role
 *   (session tag `read`), each only with its own tag value (lib/dns-access.ts).
 *   The principal is the stack's account, narrowed by `aws:PrincipalArn`, so the
 *   role can be created before those roles exist.
 * - Reads, for any session: the zone, its records and tags, and changes' status.
 * - Changes, for `write` sessions only, on the one zone: one statement per record
 *   type, naming the records of that type (`ForAllValues` over Route 53's
 *   normalized names and types of the change batch, which must be present).
 *   ACM's validation CNAMEs get their names only when a certificate is created,
 *   always `_<token>.<name>`: they are allowed as `_*.<name>` for each certificate
 *   name, CNAME only. An underscore label is no host name, so that pattern lets
 *   nothing serve traffic under another name.
 */
import type { CapturedResource, Plan } from "./harness";
import { DNS_ACCESS_TAG, DnsAccess } from "../lib/dns-access";
import { ConditionBlock, Statement, TrustStatement, policyDocument, trustDocument } from "../lib/iam";

/** Every action a change batch can carry: creating, replacing and destroying a stack's records all happen. */
export const CHANGE_ACTIONS = ["CREATE", "UPSERT", "DELETE"] as const;

export interface ZoneRecords {
  /** Exact records by type: type → normalized names (sorted). */
  readonly exact: Readonly<Record<string, readonly string[]>>;
  /** ACM validation records by type: type → `_*.<name>` patterns (sorted). */
  readonly validation: Readonly<Record<string, readonly string[]>>;
}

/** A record name as Route 53 normalizes it for IAM: lower case, no trailing dot. */
export function normalizedRecordName(name: string): string {
  return name.replace(/\.$/, "").toLowerCase();
}

/**
 * The records a plan registers in `zoneName`: exact names per type, and the
 * certificates' validation records as patterns. Fails on a record outside the
 * zone and on a plan that registers none (a pending role withholds them).
 */
export function zoneRecordsOf(plan: Plan, zoneName: string): ZoneRecords {
  const records = plan.resources.filter((r) => r.type === "aws:route53/record:Record");
  if (records.length === 0)
    throw new Error(`the ${plan.stack} plan registers no Route 53 record: is dns.assumeRoleArn still pending?`);
  const validationNames = new Map<string, string>();
  for (const cert of plan.resources.filter((r) => r.type === "aws:acm/certificate:Certificate")) {
    for (const option of validationOptions(cert))
      validationNames.set(normalizedRecordName(option.resourceRecordName), option.domainName);
  }
  const exact: Record<string, Set<string>> = {};
  const validation: Record<string, Set<string>> = {};
  for (const record of records) {
    const name = normalizedRecordName(String(record.inputs.name));
    const type = String(record.inputs.type);
    if (name !== zoneName && !name.endsWith(`.${zoneName}`))
      throw new Error(`${record.name}: ${name} is not in the zone ${zoneName}`);
    const domain = validationNames.get(name);
    if (domain) (validation[type] ??= new Set()).add(`_*.${normalizedRecordName(domain)}`);
    else (exact[type] ??= new Set()).add(name);
  }
  const sorted = (table: Record<string, Set<string>>) =>
    Object.fromEntries(
      Object.entries(table)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([t, names]) => [t, [...names].sort()]),
    );
  return { exact: sorted(exact), validation: sorted(validation) };
}

function validationOptions(cert: CapturedResource): { domainName: string; resourceRecordName: string }[] {
  const options = cert.outputs.domainValidationOptions;
  return Array.isArray(options) ? (options as { domainName: string; resourceRecordName: string }[]) : [];
}

export interface DnsRoleArgs {
  readonly partition: string;
  /** The account that hosts the zone (titanio-prd). */
  readonly zoneAccountId: string;
  readonly zoneId: string;
  readonly zoneName: string;
  readonly roleName: string;
  /** The stack's account and its CI roles (the deployer writes, the preview reads). */
  readonly stackAccountId: string;
  readonly deployerRoleName: string;
  readonly previewRoleName: string;
  /**
   * Principals of the stack's account that may also write, for the first
   * `pulumi up`, which an administrator runs before the deployer role exists.
   * Remove them once the deployer has run (re-run the command without them).
   */
  readonly bootstrapPrincipalArns?: readonly string[];
  readonly records: ZoneRecords;
}

export function dnsRoleArn(args: Pick<DnsRoleArgs, "partition" | "zoneAccountId" | "roleName">): string {
  return `arn:${args.partition}:iam::${args.zoneAccountId}:role/${args.roleName}`;
}

export function hostedZoneArn(partition: string, zoneId: string): string {
  return `arn:${partition}:route53:::hostedzone/${zoneId}`;
}

/** Who may assume the zone role, and with which session tag. */
export function dnsRoleTrust(args: DnsRoleArgs) {
  const role = (name: string) => `arn:${args.partition}:iam::${args.stackAccountId}:role/${name}`;
  const admit = (sid: string, principals: string | readonly string[], access: DnsAccess): TrustStatement => ({
    Sid: sid,
    Principal: { AWS: `arn:${args.partition}:iam::${args.stackAccountId}:root` },
    Action: ["sts:AssumeRole", "sts:TagSession"],
    Condition: {
      ArnEquals: { "aws:PrincipalArn": typeof principals === "string" ? principals : [...principals] },
      StringEquals: { [`aws:RequestTag/${DNS_ACCESS_TAG}`]: access },
      "ForAllValues:StringEquals": { "aws:TagKeys": [DNS_ACCESS_TAG] },
    },
  });
  const bootstrap = args.bootstrapPrincipalArns ?? [];
  for (const arn of bootstrap) {
    if (!arn.startsWith(`arn:${args.partition}:iam::${args.stackAccountId}:`))
      throw new Error(`bootstrap principal ${arn} is not of the stack's account ${args.stackAccountId}`);
  }
  return trustDocument([
    admit("DeployerMayChangeRecords", role(args.deployerRoleName), "write"),
    admit("PreviewMayOnlyRead", role(args.previewRoleName), "read"),
    ...(bootstrap.length > 0 ? [admit("FirstDeployByAnAdministratorRemoveAfterwards", bootstrap, "write")] : []),
  ]);
}

/** What a session of the zone role may do: read the zone; with `write`, change exactly the stack's records. */
export function dnsRolePermissions(args: DnsRoleArgs) {
  const zone = hostedZoneArn(args.partition, args.zoneId);
  const change = (
    sid: string,
    type: string,
    names: readonly string[],
    operator: "StringEquals" | "StringLike",
  ): Statement => {
    const namesKey = "route53:ChangeResourceRecordSetsNormalizedRecordNames";
    const only = {
      "route53:ChangeResourceRecordSetsRecordTypes": [type],
      "route53:ChangeResourceRecordSetsActions": [...CHANGE_ACTIONS],
    };
    const forAll: ConditionBlock =
      operator === "StringEquals"
        ? { "ForAllValues:StringEquals": { [namesKey]: [...names], ...only } }
        : { "ForAllValues:StringLike": { [namesKey]: [...names] }, "ForAllValues:StringEquals": only };
    return {
      Sid: sid,
      Action: ["route53:ChangeResourceRecordSets"],
      Resource: [zone],
      Condition: {
        ...forAll,
        // ForAllValues holds when a key is missing: require all three.
        Null: {
          [namesKey]: "false",
          "route53:ChangeResourceRecordSetsRecordTypes": "false",
          "route53:ChangeResourceRecordSetsActions": "false",
        },
        StringEquals: { [`aws:PrincipalTag/${DNS_ACCESS_TAG}`]: "write" },
      },
    };
  };
  const statements: Statement[] = [
    {
      Sid: "ReadTheZoneItsRecordsAndTags",
      Action: ["route53:GetHostedZone", "route53:ListResourceRecordSets", "route53:ListTagsForResource"],
      Resource: [zone],
    },
    // A change's id is known only once it is made: GetChange is scoped to changes, which reveal only a status.
    {
      Sid: "WatchChangesUntilInsync",
      Action: ["route53:GetChange"],
      Resource: [`arn:${args.partition}:route53:::change/*`],
    },
    ...Object.entries(args.records.exact).map(([type, names]) =>
      change(`ChangeOwn${pascal(type)}Records`, type, names, "StringEquals"),
    ),
    ...Object.entries(args.records.validation).map(([type, patterns]) =>
      change(`ChangeOwnCertificateValidation${pascal(type)}Records`, type, patterns, "StringLike"),
    ),
  ];
  return policyDocument(statements);
}

function pascal(type: string): string {
  return type.charAt(0).toUpperCase() + type.slice(1).toLowerCase();
}

/** The AWS CLI commands that create the role, to run once with a profile of the zone's account. */
export function dnsRoleCommands(
  args: DnsRoleArgs,
  files: { readonly trust: string; readonly permissions: string },
): string[] {
  return [
    `aws iam create-role --role-name ${args.roleName} --max-session-duration 3600 --description "lumerin-infra: records of the stack in ${args.stackAccountId} in ${args.zoneName} (${args.zoneId})" --assume-role-policy-document file://${files.trust}`,
    `aws iam put-role-policy --role-name ${args.roleName} --policy-name zone-records --policy-document file://${files.permissions}`,
  ];
}
