/**
 * The session tag that tells the zone role's policy a reader from a writer.
 *
 * The role in the zone's account is assumed by two roles of the stack's account:
 * the deployer (`pulumi up`: changes records) and the preview role (pull requests
 * and `preview --refresh`: reads only, and it runs whatever code a pull request
 * brings). The zone role's trust policy admits each only with its own value of
 * this session tag, and its permission policy lets only `write` sessions change
 * records. The program asks for `read` when it runs as the preview role and
 * `write` otherwise; asking for more than that is refused by the trust policy.
 */
export const DNS_ACCESS_TAG = "lumerin-infra-dns-access";

export type DnsAccess = "read" | "write";

/** `read` when the caller (an STS ARN) is a session of the stack's preview role, else `write`. */
export function dnsAccessOf(callerArn: string, previewRoleName: string): DnsAccess {
  const role = /^arn:aws[a-z-]*:sts::\d{12}:assumed-role\/([^/]+)\//.exec(callerArn)?.[1];
  return role === previewRoleName ? "read" : "write";
}
