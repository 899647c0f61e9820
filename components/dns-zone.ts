/**
 * The public zone a stack's names live in, and the one way a record gets into it:
 * `zoneRecord` registers every Route 53 record of the program, through the zone's
 * provider when the zone lives in another account, and registers none while the
 * role into that account is pending.
 */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";

/** Where public DNS records go. */
export interface DnsTarget {
  /**
   * The hosted zone's id.
   * @default undefined (while the role into the zone's account is pending: then `withheld` is set)
   */
  readonly zoneId?: pulumi.Input<string>;
  /**
   * The zone's name, without the trailing dot.
   * @example "dev.lumerin.io"
   */
  readonly zoneName: string;
  /**
   * Provider for the zone's account when it is not this stack's (lmn: titanio-prd).
   * @default undefined (the stack's default provider)
   */
  readonly provider?: aws.Provider;
  /**
   * Set while the role into the zone's account is pending: records are not
   * registered (they would land in a zone the account does not have), and each
   * one withheld is listed here (`<name> <type>`) for the plan's blocker.
   * @default undefined (the zone is reachable: every record is registered)
   */
  readonly withheld?: string[];
}

/** A record's inputs; the zone comes from the target. */
export type ZoneRecordArgs = Omit<aws.route53.RecordArgs, "zoneId">;

/**
 * Registers `name` in the target's zone with the target's provider, or, while
 * the zone's role is pending, records `label` as withheld and registers nothing.
 */
export function zoneRecord(
  name: string,
  dns: DnsTarget,
  args: ZoneRecordArgs,
  opts: {
    /** The component the record belongs to. */
    readonly parent: pulumi.Resource;
  },
  label: string,
): aws.route53.Record | undefined {
  if (dns.zoneId === undefined) {
    if (!dns.withheld) throw new Error(`${name}: the DNS target has no zone id and is not pending`);
    dns.withheld.push(label);
    return undefined;
  }
  return new aws.route53.Record(
    name,
    { ...args, zoneId: dns.zoneId },
    { parent: opts.parent, ...(dns.provider ? { provider: dns.provider } : {}) },
  );
}
