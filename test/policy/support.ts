/**
 * Shared by the policy-rule specs (one per rules module, test/policy/*.spec.ts): the coverage
 * bookkeeping (every rule needs a firing and a passing case; test/policy/coverage.spec.ts checks)
 * and the fixtures that build real `@pulumi/aws` resources under the capture harness's mocks.
 */
import { strict as assert } from "node:assert";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { Level, PolicyViolation, Rule } from "../../policy/rules/model";
import { ACCOUNT, REGION, TestStack, nameOf, urnOf } from "../support/policy";

// ------------------------------------------------------------------ coverage bookkeeping

export const coverage = new Map<string, { fires: number; passes: number }>();
/** Off while a known-bug case runs: a case that cannot pass yet covers nothing. */
export function record(rule: Rule, kind: "fires" | "passes"): void {
  const entry = coverage.get(rule.name) ?? { fires: 0, passes: 0 };
  entry[kind] += 1;
  coverage.set(rule.name, entry);
}

export interface Expected {
  /** The offender's type and logical name (a top-level resource: its URN is computed, not looked up). */
  readonly type: string;
  readonly name: string;
  readonly level: Level;
  /** A fragment of the message that says why. */
  readonly message: string | RegExp;
  readonly stack?: TestStack;
}

export const matches = (message: string, fragment: string | RegExp) =>
  typeof fragment === "string" ? message.includes(fragment) : fragment.test(message);
export const show = (vs: readonly PolicyViolation[]) => JSON.stringify(vs, null, 2);

/** Asserts `rule` reported `expected` exactly (policy, URN, level, message) and returns that violation. */
export function fires(vs: readonly PolicyViolation[], rule: Rule, expected: Expected): PolicyViolation {
  const urn = urnOf(expected.type, expected.name, expected.stack ?? "dev");
  const mine = vs.filter((v) => v.policy === rule.name);
  const hit = mine.find((v) => v.urn === urn && matches(v.message, expected.message));
  assert.ok(
    hit,
    `expected ${rule.name} to fire on ${urn} saying ${String(expected.message)}; it reported:\n${show(mine)}`,
  );
  assert.equal(hit.level, expected.level, `level of ${rule.name} on ${expected.name}`);
  // A blocking finding tells what to change; an allowed exception says it is one.
  if (hit.level === "mandatory" || !hit.message.startsWith("allowed exception"))
    assert.ok(hit.message.endsWith(rule.remediation), `remediation missing: ${hit.message}`);
  record(rule, "fires");
  return hit;
}

/** Asserts `rule` reported nothing on the named resources (or nothing at all when none are named). */
export function passes(vs: readonly PolicyViolation[], rule: Rule, ...names: string[]): void {
  const mine = vs.filter((v) => v.policy === rule.name && (names.length === 0 || names.includes(nameOf(v.urn))));
  assert.deepEqual(
    mine,
    [],
    `expected ${rule.name} to pass${names.length ? ` on ${names.join(", ")}` : ""}; it reported:\n${show(mine)}`,
  );
  record(rule, "passes");
}

export function ofRule(vs: readonly PolicyViolation[], rule: Rule, name?: string): PolicyViolation[] {
  return vs.filter((v) => v.policy === rule.name && (name === undefined || nameOf(v.urn) === name));
}

// ------------------------------------------------------------------ fixtures

export const T = {
  role: "aws:iam/role:Role",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  policy: "aws:iam/policy:Policy",
  attachment: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
  policyAttachment: "aws:iam/policyAttachment:PolicyAttachment",
  roleAttachmentsExclusive: "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive",
  groupAttachment: "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
  groupAttachmentsExclusive: "aws:iam/groupPolicyAttachmentsExclusive:GroupPolicyAttachmentsExclusive",
  userAttachment: "aws:iam/userPolicyAttachment:UserPolicyAttachment",
  userAttachmentsExclusive: "aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive",
  user: "aws:iam/user:User",
  accessKey: "aws:iam/accessKey:AccessKey",
  taskDefinition: "aws:ecs/taskDefinition:TaskDefinition",
  service: "aws:ecs/service:Service",
  lambda: "aws:lambda/function:Function",
  secretVersion: "aws:secretsmanager/secretVersion:SecretVersion",
  rdsInstance: "aws:rds/instance:Instance",
  kmsKey: "aws:kms/key:Key",
  bucket: "aws:s3/bucket:Bucket",
  logGroup: "aws:cloudwatch/logGroup:LogGroup",
  distribution: "aws:cloudfront/distribution:Distribution",
  listener: "aws:lb/listener:Listener",
  loadBalancer: "aws:lb/loadBalancer:LoadBalancer",
  secret: "aws:secretsmanager/secret:Secret",
  parameter: "aws:ssm/parameter:Parameter",
  stack: "pulumi:pulumi:Stack",
} as const;

export const STACK_URN = (stack: TestStack) =>
  `urn:pulumi:${stack}::lumerin-infra::pulumi:pulumi:Stack::lumerin-infra-${stack}`;

export const GITHUB_PROVIDER_ARN = `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com`;
export const AUD = "token.actions.githubusercontent.com:aud";
export const SUB = "token.actions.githubusercontent.com:sub";
export const KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
export const CERT_ARN = `arn:aws:acm:${REGION}:${ACCOUNT}:certificate/0f0e0d0c-0b0a-4909-a808-070605040302`;
// Fake, obviously so, but shaped like the real thing.
export const HEX_KEY = "0x" + "ab".repeat(32);
export const GRAPH_KEY = "0123456789abcdef".repeat(2);
export const ALCHEMY_URL = "https://eth-mainnet.g.alchemy.com/v2/AbCdEfGhIjKlMnOpQrStUvWxYz012345";
export const ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE";
/** An AWS-managed policy's ARN. */
export const managed = (name: string) => `arn:aws:iam::aws:policy/${name}`;
export const ARN = (service: string, resource: string) => `arn:aws:${service}:${REGION}:${ACCOUNT}:${resource}`;

export type Statement = Record<string, unknown>;
export const doc = (...statements: Statement[]) =>
  pulumi.jsonStringify({ Version: "2012-10-17", Statement: statements });
export const allow = (
  action: string | string[],
  resource: pulumi.Input<string> | pulumi.Input<string>[],
  extra: Statement = {},
): Statement => ({ Effect: "Allow", Action: action, Resource: resource, ...extra });

export const ECS_TASKS_TRUST = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Principal: { Service: "ecs-tasks.amazonaws.com" }, Action: "sts:AssumeRole" }],
});

/** A trust policy for GitHub's OIDC provider with these conditions. */
export function githubTrust(condition?: Record<string, Record<string, string | string[]>>): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "GitHubActions",
        Effect: "Allow",
        Principal: { Federated: GITHUB_PROVIDER_ARN },
        Action: "sts:AssumeRoleWithWebIdentity",
        ...(condition ? { Condition: condition } : {}),
      },
    ],
  });
}
export const pinned = (sub: string) => githubTrust({ StringEquals: { [AUD]: "sts.amazonaws.com", [SUB]: sub } });

export const role = (name: string, assumeRolePolicy: string = ECS_TASKS_TRUST) =>
  new aws.iam.Role(name, { name, assumeRolePolicy });

export interface Container {
  name: string;
  image?: string;
  environment?: { name: string; value: pulumi.Input<string> }[];
  secrets?: { name: string; valueFrom: pulumi.Input<string> }[];
  repositoryCredentials?: { credentialsParameter: pulumi.Input<string> };
  logConfiguration?: { logDriver: string; options: Record<string, string> };
  command?: string[];
  entryPoint?: string[];
}

export function taskDefinition(
  name: string,
  containers: Container[],
  extra: Partial<aws.ecs.TaskDefinitionArgs> = {},
): aws.ecs.TaskDefinition {
  return new aws.ecs.TaskDefinition(name, {
    family: name,
    cpu: "256",
    memory: "512",
    networkMode: "awsvpc",
    requiresCompatibilities: ["FARGATE"],
    containerDefinitions: pulumi.jsonStringify(
      containers.map((c) => ({ image: "ghcr.io/lumerin-protocol/app:v1.0.0", essential: true, ...c })),
    ),
    ...extra,
  });
}

export function lambda(name: string, variables: Record<string, pulumi.Input<string>>): aws.lambda.Function {
  const exec = role(`${name}-role`);
  return new aws.lambda.Function(name, {
    role: exec.arn,
    runtime: "nodejs20.x",
    handler: "index.handler",
    code: new pulumi.asset.AssetArchive({ "index.js": new pulumi.asset.StringAsset("exports.handler=()=>0") }),
    environment: { variables },
  });
}

export function distribution(
  name: string,
  viewerProtocolPolicy: string,
  minimumProtocolVersion: string,
  ordered: { pathPattern: string; viewerProtocolPolicy: string }[] = [],
): aws.cloudfront.Distribution {
  const behaviour = {
    targetOriginId: "origin",
    allowedMethods: ["GET", "HEAD"],
    cachedMethods: ["GET", "HEAD"],
    cachePolicyId: "658327ea-f89d-4fab-a63d-7e88639e58f6",
  };
  return new aws.cloudfront.Distribution(name, {
    enabled: true,
    aliases: ["app.example.com"],
    origins: [
      {
        originId: "origin",
        domainName: "origin.example.com",
        customOriginConfig: {
          httpPort: 80,
          httpsPort: 443,
          originProtocolPolicy: "https-only",
          originSslProtocols: ["TLSv1.2"],
        },
      },
    ],
    defaultCacheBehavior: { ...behaviour, viewerProtocolPolicy },
    orderedCacheBehaviors: ordered.map((o) => ({ ...behaviour, ...o })),
    restrictions: { geoRestriction: { restrictionType: "none" } },
    viewerCertificate: { acmCertificateArn: CERT_ARN, sslSupportMethod: "sni-only", minimumProtocolVersion },
  });
}
