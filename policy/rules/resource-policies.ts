/** Resource policies and trust policies: who, from outside, may act on this stack's resources. */
import * as aws from "@pulumi/aws";
import { githubTrustStatements } from "./least-privilege";
import { Finding, IamStatement, ResourceView, Rule, parseDocument, propsOf, str } from "./model";

/**
 * Condition keys that pin the caller of an open principal: the calling resource or account
 * (aws:SourceArn / aws:SourceAccount / aws:SourceOwner: a service acting for this account, a CloudFront
 * origin access control's distribution), or the caller's organization, account or ARN.
 */
const CALLER_KEYS = [
  "aws:sourcearn",
  "aws:sourceaccount",
  "aws:sourceowner",
  "aws:sourceorgid",
  "aws:principalorgid",
  "aws:principalaccount",
  "aws:principalarn",
  "kms:calleraccount",
];

const concrete = (values: readonly string[]) => values.length > 0 && values.every((v) => v !== "" && v !== "*");

/** Whether the statement's Condition pins who calls (any operator; the values must not be a bare "*"). */
function pinsCaller(s: IamStatement): boolean {
  for (const block of Object.values(s.condition)) {
    for (const [key, values] of Object.entries(block)) {
      const k = key.toLowerCase();
      if (CALLER_KEYS.includes(k) && concrete(values)) return true;
      // A KMS grant bounded to resources of one account by encryption context (CloudWatch Logs' log group ARNs).
      if (
        k.startsWith("kms:encryptioncontext:") &&
        values.length > 0 &&
        values.every((v) => /^arn:[^:]+:[^:]+:[^:]*:\d{12}:/.test(v))
      )
        return true;
    }
  }
  return false;
}

type Opening = "anyone" | "service";

const listOf = (v: unknown): string[] =>
  Array.isArray(v) ? v.map(String) : v === undefined || v === null ? [] : [String(v)];

/** How a statement's Principal opens the resource: to anyone (`*`, `{"AWS": "*"}`), to an AWS service, or neither. */
function opening(principal: unknown): { kind: Opening; who: string } | undefined {
  if (principal === "*") return { kind: "anyone", who: '"*"' };
  if (!principal || typeof principal !== "object") return undefined;
  const p = principal as Record<string, unknown>;
  if (listOf(p.AWS).includes("*")) return { kind: "anyone", who: 'AWS "*"' };
  const services = listOf(p.Service);
  if (services.length > 0) return { kind: "service", who: services.join(", ") };
  return undefined;
}

/** The resource policy documents of the stack: (owner resource, document, what it governs). */
function resourcePolicies(r: ResourceView): { doc: unknown; what: string } | undefined {
  const checks: [unknown, string][] = [
    [propsOf(r, aws.s3.BucketPolicy)?.policy, "bucket policy"],
    [propsOf(r, aws.sqs.QueuePolicy)?.policy, "queue policy"],
    [propsOf(r, aws.sqs.Queue)?.policy, "queue policy"],
    [propsOf(r, aws.sns.TopicPolicy)?.policy, "topic policy"],
    [propsOf(r, aws.sns.Topic)?.policy, "topic policy"],
    [propsOf(r, aws.kms.Key)?.policy, "key policy"],
    [propsOf(r, aws.kms.KeyPolicy)?.policy, "key policy"],
    [propsOf(r, aws.secretsmanager.SecretPolicy)?.policy, "secret policy"],
    [propsOf(r, aws.secretsmanager.Secret)?.policy, "secret policy"],
  ];
  const hit = checks.find(([doc]) => doc !== undefined);
  return hit ? { doc: hit[0], what: hit[1] } : undefined;
}

export const resourcePoliciesPinCaller: Rule = {
  name: "resource-policies-pin-the-caller",
  description:
    'A bucket, queue, topic, key or secret policy, or a Lambda permission, that admits anyone ("*", AWS "*") or an AWS service pins the caller by condition (aws:SourceArn, aws:SourceAccount, aws:SourceOwner, aws:PrincipalOrgID, aws:PrincipalAccount, aws:PrincipalArn; for a CloudFront origin access control, the distribution ARN).',
  enforcement: "mandatory",
  remediation:
    "Name the principal (an account or role ARN), or add a Condition on aws:SourceArn / aws:SourceAccount (a service acting for this account: EventBridge rules, the CloudFront distribution of an origin access control) or aws:PrincipalOrgID. On aws.lambda.Permission set sourceArn or sourceAccount.",
  equivalents: [
    "CKV_AWS_70",
    "CKV_AWS_168",
    "CKV_AWS_169",
    "CKV_AWS_283",
    "CKV_AWS_301",
    "AwsSolutions-S5 (related)",
    "AVD-AWS-0067",
    "[Lambda.1]",
  ],
  resourceClasses: [
    aws.lambda.Permission,
    aws.s3.BucketPolicy,
    aws.sqs.QueuePolicy,
    aws.sqs.Queue,
    aws.sns.TopicPolicy,
    aws.sns.Topic,
    aws.kms.Key,
    aws.kms.KeyPolicy,
    aws.secretsmanager.SecretPolicy,
    aws.secretsmanager.Secret,
  ],
  checkResource: (r) => {
    const permission = propsOf(r, aws.lambda.Permission);
    if (permission) {
      const principal = str(permission.principal) ?? "";
      const open = principal === "*" ? "anyone" : principal.endsWith(".amazonaws.com") ? "service" : undefined;
      if (!open) return [];
      if (str(permission.sourceArn) || str(permission.sourceAccount) || str(permission.principalOrgId)) return [];
      return [
        {
          message: `permission ${str(permission.statementId) ?? r.name} lets ${principal === "*" ? "anyone" : principal} invoke ${str(permission.function) ?? "the function"} without sourceArn, sourceAccount or principalOrgId`,
        },
      ];
    }
    const found = resourcePolicies(r);
    if (!found) return [];
    const findings: Finding[] = [];
    for (const s of parseDocument(found.doc) ?? []) {
      if (s.effect !== "Allow") continue;
      const open = opening(s.principal);
      if (!open || pinsCaller(s)) continue;
      findings.push({
        message: `${found.what} statement ${s.sid ?? "(no Sid)"} admits ${open.who} without a condition that pins the caller (aws:SourceArn, aws:SourceAccount, aws:PrincipalOrgID...)`,
      });
    }
    return findings;
  },
};

/** Condition keys that name a federated token's audience (`<issuer>:aud`, `SAML:aud`). */
function pinsAudience(s: IamStatement): boolean {
  return Object.entries(s.condition).some(
    ([op, block]) =>
      /^StringEquals/i.test(op) &&
      Object.entries(block).some(
        ([k, values]) => /:aud$/i.test(k) && concrete(values) && values.every((v) => !/[*?]/.test(v)),
      ),
  );
}

export const trustPoliciesPinned: Rule = {
  name: "trust-policies-pinned",
  description:
    'A role trusts no one at large: a trust statement for "*" (or AWS "*") pins the caller by aws:PrincipalOrgID, aws:PrincipalAccount, aws:PrincipalArn, aws:SourceArn or aws:SourceAccount, and one for a federated identity provider (other than GitHub, which github-oidc-trust-pinned checks) requires an exact audience (`<provider>:aud`).',
  enforcement: "mandatory",
  remediation:
    'Trust named principals (an account root, a role ARN, a service), or add the pinning Condition; for an OIDC or SAML provider add StringEquals "<provider>:aud" (SAML:aud) with the expected audience.',
  equivalents: ["CKV_AWS_60", "CKV_AWS_61", "IAM Access Analyzer external access"],
  resourceClasses: [aws.iam.Role],
  checkResource: (r) => {
    const role = propsOf(r, aws.iam.Role);
    if (!role) return [];
    const github = new Set(githubTrustStatements(r).map((s) => JSON.stringify(s)));
    const findings: Finding[] = [];
    for (const s of parseDocument(role.assumeRolePolicy) ?? []) {
      if (s.effect !== "Allow" || github.has(JSON.stringify(s))) continue;
      const label = `trust statement ${s.sid ?? "(no Sid)"}`;
      const open = opening(s.principal);
      if (open?.kind === "anyone" && !pinsCaller(s))
        findings.push({ message: `${label} trusts ${open.who} without a condition that pins the caller` });
      const federated = listOf((s.principal as { Federated?: unknown } | undefined)?.Federated);
      if (federated.length > 0 && !pinsAudience(s))
        findings.push({
          message: `${label} trusts the identity provider ${federated.join(", ")} without an exact audience (StringEquals <provider>:aud)`,
        });
    }
    return findings;
  },
};

export const lambdaUrlsUseIam: Rule = {
  name: "lambda-function-urls-use-iam",
  description: "A Lambda function URL requires IAM authorization (AWS_IAM), never NONE.",
  enforcement: "mandatory",
  remediation:
    "Set authorizationType: AWS_IAM on the function URL, or put the function behind API Gateway or CloudFront with its own authorization.",
  equivalents: ["CKV_AWS_258"],
  resourceClasses: [aws.lambda.FunctionUrl],
  checkResource: (r) => {
    const url = propsOf(r, aws.lambda.FunctionUrl);
    return url && url.authorizationType !== "AWS_IAM"
      ? [
          {
            message: `function URL of ${str(url.functionName) ?? r.name} has authorizationType ${String(url.authorizationType ?? "unset")}: anyone on the internet can invoke it`,
          },
        ]
      : [];
  },
};

export const RESOURCE_POLICY_RULES: readonly Rule[] = [
  resourcePoliciesPinCaller,
  trustPoliciesPinned,
  lambdaUrlsUseIam,
];
