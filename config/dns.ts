/**
 * How a stack reaches its public zone, decided once from its config and the
 * environment table: in its own account, through a role in the account that
 * hosts the zone, or not yet (that role is pending).
 *
 * lmn's `lumerin.io` is hosted in titanio-prd. Without a role there, the zone
 * lookup would fail, or, were a zone of that name in the stack's account, the
 * records would go into a zone nobody resolves and certificate validation
 * would wait forever. So a zone in another account needs `dns.assumeRoleArn`
 * (and `dns.zoneId`: the role may read only its one zone), or `pending`, which
 * withholds every record and blocks `pulumi up`.
 */
import { dnsZoneRoleName } from "../lib/naming";
import type { Environment } from "../lib/environments";
import { DNS_ROLE_PENDING } from "./schema";

export interface DnsIssue {
  /** Key below the project namespace (`dns.assumeRoleArn`). */
  readonly key: string;
  readonly message: string;
}

export interface DnsInputs {
  readonly zoneName?: string;
  readonly zoneId?: string;
  readonly assumeRoleArn?: string;
}

/** The account that hosts the stack's zone when it is not the stack's own, else undefined. */
export function zoneAccountElsewhere(env: Environment, zoneName: string): string | undefined {
  return env.dnsZoneAccount && zoneName === env.dnsZone ? env.dnsZoneAccount : undefined;
}

const ROLE_STEPS = "create it once (`npm run dns-role`, docs/dns.md) and set its ARN here";

/** Cross-key problems of `dns`: a zone in another account without a way into it, or a way that cannot work. */
export function dnsIssues(env: Environment, dns: DnsInputs): DnsIssue[] {
  const zoneName = dns.zoneName ?? env.dnsZone;
  const elsewhere = zoneAccountElsewhere(env, zoneName);
  const issues: DnsIssue[] = [];
  if (elsewhere && dns.assumeRoleArn === undefined) {
    issues.push({
      key: "dns.assumeRoleArn",
      message:
        `required: the zone ${zoneName} is hosted in the ${elsewhere} account, not in this stack's, so its lookup and records need a role there; ` +
        `${ROLE_STEPS} (pulumi config set --path dns.assumeRoleArn arn:aws:iam::<${elsewhere} account id>:role/${dnsZoneRoleName(env.name)}), ` +
        `or set "${DNS_ROLE_PENDING}" to plan without the zone's records until it exists (pulumi up refuses while it is pending)`,
    });
  }
  if (
    elsewhere &&
    dns.assumeRoleArn !== undefined &&
    dns.assumeRoleArn !== DNS_ROLE_PENDING &&
    dns.zoneId === undefined
  ) {
    issues.push({
      key: "dns.zoneId",
      message:
        `required with dns.assumeRoleArn: the role in ${elsewhere} may read only the zone ${zoneName}, not list the account's zones; ` +
        `find its id with \`aws route53 list-hosted-zones-by-name --dns-name ${zoneName}\` (a ${elsewhere} profile)`,
    });
  }
  if (!elsewhere && dns.assumeRoleArn === DNS_ROLE_PENDING) {
    issues.push({
      key: "dns.assumeRoleArn",
      message: `"${DNS_ROLE_PENDING}" is only for a zone hosted in another account; ${zoneName} is looked up in this stack's account`,
    });
  }
  return issues;
}

/** What stops a stack from being deployed although its config is valid: the offline plan reports it, `pulumi up` refuses. */
export interface DeployBlocker {
  /** The full key whose value must change (`lumerin-infra:dns.assumeRoleArn`). */
  readonly key: string;
  readonly message: string;
  /** What the stack does not register meanwhile (`proxy.lumerin.io A`, ...). */
  readonly withheld: readonly string[];
}

/** The blocker of a pending zone role, once the program knows which records it withheld. */
export function pendingDnsBlocker(
  env: Environment,
  stack: string,
  zoneName: string,
  prefix: string,
  withheld: readonly string[],
): DeployBlocker {
  const account = zoneAccountElsewhere(env, zoneName) ?? "another";
  return {
    key: `${prefix}dns.assumeRoleArn`,
    message:
      `"${DNS_ROLE_PENDING}": the zone ${zoneName} is hosted in the ${account} account and no role there is configured yet, ` +
      `so no record is registered in it and pulumi up refuses to run; create the role once with ` +
      `\`npm run dns-role -- --stack ${stack} --zone-id <id> --account <${account} account id>\` (docs/dns.md), ` +
      `then set this key to its ARN and dns.zoneId to the zone's id`,
    withheld: [...withheld],
  };
}

/** `pulumi up` (and `pulumi preview`) of a stack with a blocker: stopped before any resource is registered. */
export class DeployBlockedError extends Error {
  constructor(readonly blockers: readonly DeployBlocker[]) {
    super(
      `the stack cannot be deployed yet (${blockers.length} blocker${blockers.length === 1 ? "" : "s"}):\n` +
        blockers.map((b) => `  - ${b.key}: ${b.message}`).join("\n"),
    );
    this.name = "DeployBlockedError";
  }
}
