/**
 * Every rule of the policy pack, on real `@pulumi/aws` resources built under the
 * capture harness's mocks: for each rule at least one case where it fires (the
 * policy, level, offending URN and why) and one where it passes. The last test
 * checks that every rule in RULES was exercised both ways, so a rule added
 * without tests fails the suite.
 */
import { committedPlan } from "./support/plan";
import { strict as assert } from "node:assert";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { evaluate } from "../policy/evaluate";
import { cloudfrontTls, ecsCircuitBreaker, loadBalancersHttpsOnly, logGroupsRetained, nlbSecurityGroups, rdsHardened, rdsStorageStackKey, s3Hardened, statefulProtected } from "../policy/rules/data-safety";
import { RULES } from "../policy/rules/index";
import { mayAddress, unscopedResource } from "../policy/rules/iam-facts";
import {
  actionsExist,
  executionRolesReadOwnSecrets,
  githubRolesReadNoSecrets,
  githubTrustPinned,
  noUsersOrAccessKeys,
  noWildcardActions,
  passRoleScoped,
  resourceStarOnlyWhereRequired,
} from "../policy/rules/least-privilege";
import { globsOverlap, policyExceptionTag } from "../policy/rules/model";
import type { Level, PolicyViolation, ResourceView, Rule } from "../policy/rules/model";
import { containerSecretsByReference, noSecretsInPlainEnvironment, noSecretsInTagsOrOutputs, secretValuesAreSecret } from "../policy/rules/secrets";
import { ACCOUNT, REGION, TestStack, nameOf, urnOf, violations } from "./support/policy";

// ------------------------------------------------------------------ coverage bookkeeping

const coverage = new Map<string, { fires: number; passes: number }>();
/** Off while a known-bug case runs: a case that cannot pass yet covers nothing. */
function record(rule: Rule, kind: "fires" | "passes"): void {
  const entry = coverage.get(rule.name) ?? { fires: 0, passes: 0 };
  entry[kind] += 1;
  coverage.set(rule.name, entry);
}

interface Expected {
  /** The offender's type and logical name (a top-level resource: its URN is computed, not looked up). */
  readonly type: string;
  readonly name: string;
  readonly level: Level;
  /** A fragment of the message that says why. */
  readonly message: string | RegExp;
  readonly stack?: TestStack;
}

const matches = (message: string, fragment: string | RegExp) => (typeof fragment === "string" ? message.includes(fragment) : fragment.test(message));
const show = (vs: readonly PolicyViolation[]) => JSON.stringify(vs, null, 2);

/** Asserts `rule` reported `expected` exactly (policy, URN, level, message) and returns that violation. */
function fires(vs: readonly PolicyViolation[], rule: Rule, expected: Expected): PolicyViolation {
  const urn = urnOf(expected.type, expected.name, expected.stack ?? "dev");
  const mine = vs.filter((v) => v.policy === rule.name);
  const hit = mine.find((v) => v.urn === urn && matches(v.message, expected.message));
  assert.ok(hit, `expected ${rule.name} to fire on ${urn} saying ${String(expected.message)}; it reported:\n${show(mine)}`);
  assert.equal(hit.level, expected.level, `level of ${rule.name} on ${expected.name}`);
  // A blocking finding tells what to change; an allowed exception says it is one.
  if (hit.level === "mandatory" || !hit.message.startsWith("allowed exception")) assert.ok(hit.message.endsWith(rule.remediation), `remediation missing: ${hit.message}`);
  record(rule, "fires");
  return hit;
}

/** Asserts `rule` reported nothing on the named resources (or nothing at all when none are named). */
function passes(vs: readonly PolicyViolation[], rule: Rule, ...names: string[]): void {
  const mine = vs.filter((v) => v.policy === rule.name && (names.length === 0 || names.includes(nameOf(v.urn))));
  assert.deepEqual(mine, [], `expected ${rule.name} to pass${names.length ? ` on ${names.join(", ")}` : ""}; it reported:\n${show(mine)}`);
  record(rule, "passes");
}

function ofRule(vs: readonly PolicyViolation[], rule: Rule, name?: string): PolicyViolation[] {
  return vs.filter((v) => v.policy === rule.name && (name === undefined || nameOf(v.urn) === name));
}

// ------------------------------------------------------------------ fixtures

const T = {
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
  stack: "pulumi:pulumi:Stack",
} as const;

const STACK_URN = (stack: TestStack) => `urn:pulumi:${stack}::lumerin-infra::pulumi:pulumi:Stack::lumerin-infra-${stack}`;

const GITHUB_PROVIDER_ARN = `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com`;
const AUD = "token.actions.githubusercontent.com:aud";
const SUB = "token.actions.githubusercontent.com:sub";
const KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const CERT_ARN = `arn:aws:acm:${REGION}:${ACCOUNT}:certificate/0f0e0d0c-0b0a-4909-a808-070605040302`;
// Fake, obviously so, but shaped like the real thing.
const HEX_KEY = "0x" + "ab".repeat(32);
const GRAPH_KEY = "0123456789abcdef".repeat(2);
const ALCHEMY_URL = "https://eth-mainnet.g.alchemy.com/v2/AbCdEfGhIjKlMnOpQrStUvWxYz012345";
const ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE";
/** An AWS-managed policy's ARN. */
const managed = (name: string) => `arn:aws:iam::aws:policy/${name}`;
const ARN = (service: string, resource: string) => `arn:aws:${service}:${REGION}:${ACCOUNT}:${resource}`;

type Statement = Record<string, unknown>;
const doc = (...statements: Statement[]) => pulumi.jsonStringify({ Version: "2012-10-17", Statement: statements });
const allow = (action: string | string[], resource: pulumi.Input<string> | pulumi.Input<string>[], extra: Statement = {}): Statement => ({ Effect: "Allow", Action: action, Resource: resource, ...extra });

const ECS_TASKS_TRUST = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Principal: { Service: "ecs-tasks.amazonaws.com" }, Action: "sts:AssumeRole" }],
});

/** A trust policy for GitHub's OIDC provider with these conditions. */
function githubTrust(condition?: Record<string, Record<string, string | string[]>>): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Sid: "GitHubActions", Effect: "Allow", Principal: { Federated: GITHUB_PROVIDER_ARN }, Action: "sts:AssumeRoleWithWebIdentity", ...(condition ? { Condition: condition } : {}) }],
  });
}
const pinned = (sub: string) => githubTrust({ StringEquals: { [AUD]: "sts.amazonaws.com", [SUB]: sub } });

const role = (name: string, assumeRolePolicy: string = ECS_TASKS_TRUST) => new aws.iam.Role(name, { name, assumeRolePolicy });

interface Container {
  name: string;
  image?: string;
  environment?: { name: string; value: pulumi.Input<string> }[];
  secrets?: { name: string; valueFrom: pulumi.Input<string> }[];
  repositoryCredentials?: { credentialsParameter: pulumi.Input<string> };
}

function taskDefinition(name: string, containers: Container[], extra: Partial<aws.ecs.TaskDefinitionArgs> = {}): aws.ecs.TaskDefinition {
  return new aws.ecs.TaskDefinition(name, {
    family: name,
    cpu: "256",
    memory: "512",
    networkMode: "awsvpc",
    requiresCompatibilities: ["FARGATE"],
    containerDefinitions: pulumi.jsonStringify(containers.map((c) => ({ image: "ghcr.io/lumerin-protocol/app:v1.0.0", essential: true, ...c }))),
    ...extra,
  });
}

function lambda(name: string, variables: Record<string, pulumi.Input<string>>): aws.lambda.Function {
  const exec = role(`${name}-role`);
  return new aws.lambda.Function(name, {
    role: exec.arn,
    runtime: "nodejs20.x",
    handler: "index.handler",
    code: new pulumi.asset.AssetArchive({ "index.js": new pulumi.asset.StringAsset("exports.handler=()=>0") }),
    environment: { variables },
  });
}

function distribution(name: string, viewerProtocolPolicy: string, minimumProtocolVersion: string, ordered: { pathPattern: string; viewerProtocolPolicy: string }[] = []): aws.cloudfront.Distribution {
  const behaviour = { targetOriginId: "origin", allowedMethods: ["GET", "HEAD"], cachedMethods: ["GET", "HEAD"], cachePolicyId: "658327ea-f89d-4fab-a63d-7e88639e58f6" };
  return new aws.cloudfront.Distribution(name, {
    enabled: true,
    aliases: ["app.example.com"],
    origins: [
      {
        originId: "origin",
        domainName: "origin.example.com",
        customOriginConfig: { httpPort: 80, httpsPort: 443, originProtocolPolicy: "https-only", originSslProtocols: ["TLSv1.2"] },
      },
    ],
    defaultCacheBehavior: { ...behaviour, viewerProtocolPolicy },
    orderedCacheBehaviors: ordered.map((o) => ({ ...behaviour, ...o })),
    restrictions: { geoRestriction: { restrictionType: "none" } },
    viewerCertificate: { acmCertificateArn: CERT_ARN, sslSupportMethod: "sni-only", minimumProtocolVersion },
  });
}

// ------------------------------------------------------------------ least privilege

describe("policy rules", () => {
  describe("iam-no-wildcard-actions", () => {
    it('fires on a RolePolicy allowing "s3:*", an aws.iam.Policy allowing "*", and an AdministratorAccess attachment or managed ARN', async () => {
      const vs = await violations(noWildcardActions, () => {
        const app = role("app-task");
        new aws.iam.RolePolicy("app-s3", { role: app.name, policy: doc(allow("s3:*", "*", { Sid: "AllOfS3" })) });
        new aws.iam.RolePolicyAttachment("app-admin", { role: app.name, policyArn: "arn:aws:iam::aws:policy/AdministratorAccess" });
        const broad = new aws.iam.Policy("app-broad", { name: "app-broad", policy: doc(allow("*", "*")) });
        new aws.iam.RolePolicyAttachment("app-broad-attach", { role: app.name, policyArn: broad.arn });
        new aws.iam.Role("ops", { name: "ops", assumeRolePolicy: ECS_TASKS_TRUST, managedPolicyArns: ["arn:aws:iam::aws:policy/PowerUserAccess"] });
      });
      fires(vs, noWildcardActions, { type: T.rolePolicy, name: "app-s3", level: "mandatory", message: 'allows "s3:*" (AllOfS3)' });
      fires(vs, noWildcardActions, { type: T.attachment, name: "app-admin", level: "mandatory", message: "attaches the AWS-managed AdministratorAccess policy" });
      fires(vs, noWildcardActions, { type: T.policy, name: "app-broad", level: "mandatory", message: 'allows "*"' });
      fires(vs, noWildcardActions, { type: T.role, name: "ops", level: "mandatory", message: "attaches the AWS-managed PowerUserAccess policy" });
      assert.equal(ofRule(vs, noWildcardActions).length, 4, show(vs));
    });

    it("passes exact actions, and reports a privilegedRoles role's wildcard as an advisory allowed exception", async () => {
      const vs = await violations(
        noWildcardActions,
        () => {
          const app = role("app-task");
          new aws.iam.RolePolicy("app-exact", { role: app.name, policy: doc(allow(["s3:GetObject", "s3:PutObject"], "arn:aws:s3:::lumerin-assets/*"), allow("ecs:UpdateService", "*")) });
          const deployer = role("deployer");
          new aws.iam.RolePolicy("deployer-all", { role: deployer.name, policy: doc(allow("*", "*", { Sid: "Deployer" })) });
          new aws.iam.RolePolicyAttachment("deployer-admin", { role: deployer.name, policyArn: "arn:aws:iam::aws:policy/AdministratorAccess" });
        },
        { config: { privilegedRoles: ["deployer"] } },
      );
      passes(vs, noWildcardActions, "app-exact");
      const policy = fires(vs, noWildcardActions, { type: T.rolePolicy, name: "deployer-all", level: "advisory", message: /^allowed exception \(privilegedRoles\): allows "\*" \(Deployer\)$/ });
      assert.ok(!policy.message.includes(noWildcardActions.remediation), "an exception carries no remediation");
      fires(vs, noWildcardActions, { type: T.attachment, name: "deployer-admin", level: "advisory", message: /^allowed exception \(privilegedRoles\): attaches the AWS-managed AdministratorAccess/ });
      assert.deepEqual(vs.filter((v) => v.level === "mandatory"), []);
    });

    it("is mandatory again when a broad policy is shared by a privileged and an ordinary role", async () => {
      const vs = await violations(
        noWildcardActions,
        () => {
          const deployer = role("deployer");
          const app = role("app-task");
          const shared = new aws.iam.Policy("shared-broad", { name: "shared-broad", policy: doc(allow("ecs:*", "*")) });
          new aws.iam.RolePolicyAttachment("shared-deployer", { role: deployer.name, policyArn: shared.arn });
          new aws.iam.RolePolicyAttachment("shared-app", { role: app.name, policyArn: shared.arn });
        },
        { config: { privilegedRoles: ["deployer"] } },
      );
      fires(vs, noWildcardActions, { type: T.policy, name: "shared-broad", level: "mandatory", message: 'allows "ecs:*"' });
    });
  });

  describe("iam-resource-star-only-where-required, iam-actions-exist, iam-passrole-scoped", () => {
    let vs: PolicyViolation[];
    before(async () => {
      vs = await violations([resourceStarOnlyWhereRequired, actionsExist, passRoleScoped], () => {
        const deploy = role("deploy");
        new aws.iam.RolePolicy("deploy-update-star", { role: deploy.name, policy: doc(allow("ecs:UpdateService", "*", { Sid: "UpdateAnyService" })) });
        new aws.iam.RolePolicy("deploy-typo", {
          role: deploy.name,
          policy: doc(allow("ecs:UpdateServices", `arn:aws:ecs:${REGION}:${ACCOUNT}:service/c/svc`, { Sid: "Typo" })),
        });
        new aws.iam.RolePolicy("deploy-pass-star", {
          role: deploy.name,
          policy: doc(allow("iam:PassRole", "*", { Sid: "PassAny", Condition: { StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } } })),
        });
        const exec = role("svc-exec");
        new aws.iam.RolePolicy("deploy-pass-unconditioned", { role: deploy.name, policy: doc(allow("iam:PassRole", exec.arn, { Sid: "PassExec" })) });
        new aws.iam.RolePolicy("deploy-pass-all-roles", {
          role: deploy.name,
          policy: doc(allow("iam:PassRole", `arn:aws:iam::${ACCOUNT}:role/*`, { Sid: "PassAllRoles", Condition: { StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } } })),
        });
      });
    });

    it('iam-resource-star-only-where-required fires on ecs:UpdateService on "*", and on iam:PassRole on role/* (any role)', () => {
      fires(vs, resourceStarOnlyWhereRequired, {
        type: T.rolePolicy,
        name: "deploy-update-star",
        level: "mandatory",
        message: 'statement UpdateAnyService grants on "*" actions that take resource ARNs: ecs:UpdateService',
      });
      fires(vs, resourceStarOnlyWhereRequired, {
        type: T.rolePolicy,
        name: "deploy-pass-all-roles",
        level: "mandatory",
        message: `statement PassAllRoles grants on "arn:aws:iam::${ACCOUNT}:role/*" actions that take resource ARNs: iam:PassRole`,
      });
    });

    it("iam-actions-exist fires on the typo ecs:UpdateServices", () => {
      fires(vs, actionsExist, { type: T.rolePolicy, name: "deploy-typo", level: "mandatory", message: 'statement Typo: no IAM action matches "ecs:UpdateServices"' });
      assert.equal(ofRule(vs, actionsExist).length, 1, show(ofRule(vs, actionsExist)));
    });

    it('iam-passrole-scoped fires on PassRole to "*" or role/*, and on PassRole without iam:PassedToService', () => {
      fires(vs, passRoleScoped, { type: T.rolePolicy, name: "deploy-pass-star", level: "mandatory", message: "statement PassAny: iam:PassRole names no specific role" });
      fires(vs, passRoleScoped, { type: T.rolePolicy, name: "deploy-pass-all-roles", level: "mandatory", message: "statement PassAllRoles: iam:PassRole names no specific role" });
      const unconditioned = fires(vs, passRoleScoped, {
        type: T.rolePolicy,
        name: "deploy-pass-unconditioned",
        level: "mandatory",
        message: "statement PassExec: iam:PassRole has no iam:PassedToService condition",
      });
      assert.ok(!unconditioned.message.includes("names no specific role"), unconditioned.message);
    });

    it("iam-passrole-scoped passes on a PassRole-free statement and iam-resource-star-only-where-required ignores ARN-scoped statements", () => {
      passes(vs, passRoleScoped, "deploy-update-star", "deploy-typo");
      passes(vs, resourceStarOnlyWhereRequired, "deploy-typo", "deploy-pass-unconditioned");
    });

    it('iam-passrole-scoped fires on an action pattern that grants iam:PassRole ("iam:*Role" on role/*, no condition)', async () => {
      // The rule recognises only iam:PassRole, iam:*, iam:Pass* and "*"; other patterns are not expanded.
      const pattern = await violations(passRoleScoped, () => {
        const deploy = role("deploy");
        new aws.iam.RolePolicy("deploy-star-role", { role: deploy.name, policy: doc(allow("iam:*Role", `arn:aws:iam::${ACCOUNT}:role/*`, { Sid: "StarRole" })) });
      });
      fires(pattern, passRoleScoped, { type: T.rolePolicy, name: "deploy-star-role", level: "mandatory", message: "statement StarRole: iam:PassRole (via iam:*Role) names no specific role" });
    });
  });

  describe("iam-* rules on an exact policy", () => {
    it("pass exact actions, ARN-less actions on *, action patterns that exist, and a scoped, conditioned PassRole", async () => {
      const rules = [noWildcardActions, resourceStarOnlyWhereRequired, actionsExist, passRoleScoped, noUsersOrAccessKeys];
      const vs = await violations(rules, () => {
        const exec = role("svc-exec");
        const deploy = role("deploy");
        const key = new aws.kms.Key("app-key", { description: "app" });
        new aws.iam.RolePolicy("deploy-exact", {
          role: deploy.name,
          policy: doc(
            allow("ecs:UpdateService", `arn:aws:ecs:${REGION}:${ACCOUNT}:service/c/svc`, { Sid: "UpdateOwnService" }),
            allow(["ssmmessages:CreateControlChannel", "ssmmessages:OpenControlChannel", "ecr:GetAuthorizationToken"], "*", { Sid: "NoResourceArn" }),
            allow(["kms:GenerateDataKey*", "kms:Decrypt"], key.arn, { Sid: "UseKey" }),
            allow("iam:PassRole", exec.arn, { Sid: "PassExec", Condition: { StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } } }),
          ),
        });
      });
      for (const rule of rules) passes(vs, rule);
    });
  });

  describe("iam-resource-star-only-where-required: type-wide ARN wildcards count as \"*\"", () => {
    describe("unscopedResource, the one definition", () => {
      // Unscoped: "*", or an ARN whose resource part (split at / and :) is wildcards and resource-type words only.
      const unscoped = [
        "*",
        "arn:aws:secretsmanager:*:*:secret:*",
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:*",
        "arn:aws:s3:::*",
        "arn:aws:s3:::*/*",
        "arn:aws:ssm:*:*:parameter/*",
        "arn:aws:kms:*:*:key/*",
        "arn:aws:kms:us-east-1:1:alias/*",
        "arn:aws:ecs:us-east-1:1:service/*",
        "arn:aws:ecs:us-east-1:1:service/*/*",
        "arn:aws:ecs:us-east-1:1:task-definition/*:*",
        "arn:aws:logs:us-east-1:1:log-group:*",
        "arn:aws:logs:*:*:log-group:*:log-stream:*",
        "arn:aws:iam::1:role/*",
        "arn:aws:ec2:us-east-1:1:network-interface/*",
        "arn:aws:*",
        "arn:aws:secretsmanager:*",
        "arn:aws:*:*:*:*",
      ];
      const scoped = [
        "arn:aws:ecs:us-east-1:1:task-definition/proxy-router-dev:*",
        "arn:aws:logs:us-east-1:1:log-group:/ecs/proxy-router-dev:*",
        "arn:aws:logs:us-east-1:1:log-group:/ecs/proxy-router-dev:log-stream:*",
        "arn:aws:secretsmanager:us-east-1:1:secret:proxy-router-secrets-dev-*",
        "arn:aws:secretsmanager:*:*:secret:proxy-router-secrets-dev-*",
        "arn:aws:s3:::bucket-name/*",
        "arn:aws:s3:::bucket-name",
        "arn:aws:ecs:us-east-1:1:service/cluster-dev/proxy-router-dev",
        "arn:aws:ecs:us-east-1:1:service/cluster-dev/*",
        "arn:aws:ssm:us-east-1:1:parameter/app/dev/*",
        "arn:aws:kms:us-east-1:1:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "arn:aws:iam::1:role/lumerin-*",
      ];
      for (const resource of unscoped) it(`unscoped: ${resource}`, async () => assert.equal(await unscopedResource(resource), true));
      for (const resource of scoped) it(`scoped: ${resource}`, async () => assert.equal(await unscopedResource(resource), false));

      it("mayAddress: a Resource reaches an ARN format only where partition, service, region, account and resource part overlap", () => {
        const subnet = "arn:${Partition}:ec2:${Region}:${Account}:subnet/${SubnetId}";
        const object = "arn:${Partition}:s3:::${BucketName}/${ObjectName}";
        assert.equal(mayAddress("arn:aws:ec2:us-east-1:1:subnet/subnet-a", subnet), true);
        assert.equal(mayAddress("arn:aws:ec2:us-east-1:1:network-interface/*", subnet), false);
        assert.equal(mayAddress("*", subnet), true);
        assert.equal(mayAddress("arn:aws:s3:::*", object), true, "a bucket wildcard covers every object");
        assert.equal(mayAddress("arn:aws:secretsmanager:*:*:secret:*", object), false, "another service");
        assert.equal(globsOverlap("ab*", "*c"), true);
        assert.equal(globsOverlap("a?c", "abd"), false);
      });
    });

    let vs: PolicyViolation[];
    before(async () => {
      vs = await violations(resourceStarOnlyWhereRequired, () => {
        const app = role("app-task");
        const stmt = (name: string, action: string | string[], resource: string | string[], sid: string) => new aws.iam.RolePolicy(name, { role: app.name, policy: doc(allow(action, resource, { Sid: sid })) });
        stmt("any-secret", "secretsmanager:GetSecretValue", "arn:aws:secretsmanager:*:*:secret:*", "AnySecret");
        stmt("any-secret-here", "secretsmanager:GetSecretValue", ARN("secretsmanager", "secret:*"), "AnySecretHere");
        stmt("any-object", "s3:GetObject", "arn:aws:s3:::*", "AnyObject");
        stmt("any-parameter", "ssm:GetParameter", "arn:aws:ssm:*:*:parameter/*", "AnyParameter");
        stmt("any-key", "kms:Decrypt", "arn:aws:kms:*:*:key/*", "AnyKey");
        stmt("any-service", "ecs:UpdateService", ARN("ecs", "service/*"), "AnyService");
        // One scoped and one unscoped Resource: the message names only the unscoped one, and only the actions it reaches.
        stmt("mixed", ["s3:GetObject", "secretsmanager:GetSecretValue"], ["arn:aws:s3:::lumerin-assets-dev/*", "arn:aws:secretsmanager:*:*:secret:*"], "Mixed");
        // ENIs Lambda made: nameless, but nothing bounds the grant to them (Lambda's VPC access, spelled per type).
        stmt("any-eni", ["ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses"], ARN("ec2", "network-interface/*"), "AnyEni");
        // Existing ENIs under a condition that pins their VPC, but with a wildcard in it: still unbounded.
        new aws.iam.RolePolicy("eni-any-vpc", {
          role: app.name,
          policy: doc(allow(["ec2:DeleteNetworkInterface"], ARN("ec2", "network-interface/*"), { Sid: "EniAnyVpc", Condition: { ArnLike: { "ec2:Vpc": ARN("ec2", "vpc/*") } } })),
        });
        // A created ENI in any subnet: the subnet is named by nobody.
        stmt("eni-any-subnet", "ec2:CreateNetworkInterface", [ARN("ec2", "network-interface/*"), ARN("ec2", "subnet/*")], "EniAnySubnet");

        // Scoped: names, name prefixes (Secrets Manager's random suffix, task-definition revisions), one bucket's objects.
        stmt("own-revisions", "ecs:RegisterTaskDefinition", ARN("ecs", "task-definition/proxy-router-dev:*"), "OwnRevisions");
        stmt("own-log-group", ["logs:CreateLogStream", "logs:PutLogEvents"], ARN("logs", "log-group:/ecs/proxy-router-dev:*"), "OwnLogGroup");
        stmt("own-secret", "secretsmanager:GetSecretValue", ARN("secretsmanager", "secret:proxy-router-secrets-dev-*"), "OwnSecret");
        stmt("own-objects", ["s3:GetObject", "s3:PutObject"], "arn:aws:s3:::lumerin-assets-dev/*", "OwnObjects");
        stmt("own-service", "ecs:UpdateService", ARN("ecs", "service/cluster-dev/proxy-router-dev"), "OwnService");
        // A new ENI cannot be named before it exists; the subnets and security group it goes into are (Lambda in a VPC).
        stmt(
          "eni-own-subnets",
          "ec2:CreateNetworkInterface",
          [ARN("ec2", "network-interface/*"), ARN("ec2", "subnet/subnet-0123456789abcdef0"), ARN("ec2", "security-group/sg-0123456789abcdef0")],
          "EniOwnSubnets",
        );
        // Metrics: PutMetricData's one resource type (dataset) is optional; "*" bounded by its namespace passes, unbounded it fires.
        stmt("metrics-any-namespace", "cloudwatch:PutMetricData", "*", "MetricsAnyNamespace");
        new aws.iam.RolePolicy("metrics-namespace-pattern", {
          role: app.name,
          policy: doc(allow(["cloudwatch:PutMetricData"], "*", { Sid: "MetricsNamespacePattern", Condition: { StringLike: { "cloudwatch:namespace": "Cloud*" } } })),
        });
        new aws.iam.RolePolicy("metrics-own-namespace", {
          role: app.name,
          policy: doc(allow(["cloudwatch:PutMetricData"], "*", { Sid: "MetricsOwnNamespace", Condition: { StringEquals: { "cloudwatch:namespace": "CloudWatchSynthetics" } } })),
        });
        // A condition on a key the action does not have bounds nothing.
        new aws.iam.RolePolicy("metrics-foreign-key", {
          role: app.name,
          policy: doc(allow(["cloudwatch:PutMetricData"], "*", { Sid: "MetricsForeignKey", Condition: { StringEquals: { "cloudwatch:alarmActions": "x" } } })),
        });
        // ENIs Lambda made, which nobody can name beforehand, bounded by their VPC (Lambda's execution role).
        new aws.iam.RolePolicy("eni-own-vpc", {
          role: app.name,
          policy: doc(
            allow(["ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses"], ARN("ec2", "network-interface/*"), {
              Sid: "EniOwnVpc",
              Condition: { ArnEquals: { "ec2:Vpc": ARN("ec2", "vpc/vpc-0123456789abcdef0") } },
            }),
          ),
        });
      });
    });

    it("fires on secret:*, arn:aws:s3:::*, parameter/*, key/* and service/*, naming the offending ARN", () => {
      const expect = (name: string, sid: string, arn: string, actions: string) =>
        fires(vs, resourceStarOnlyWhereRequired, { type: T.rolePolicy, name, level: "mandatory", message: `statement ${sid} grants on "${arn}" actions that take resource ARNs: ${actions}` });
      expect("any-secret", "AnySecret", "arn:aws:secretsmanager:*:*:secret:*", "secretsmanager:GetSecretValue");
      expect("any-secret-here", "AnySecretHere", ARN("secretsmanager", "secret:*"), "secretsmanager:GetSecretValue");
      expect("any-object", "AnyObject", "arn:aws:s3:::*", "s3:GetObject");
      expect("any-parameter", "AnyParameter", "arn:aws:ssm:*:*:parameter/*", "ssm:GetParameter");
      expect("any-key", "AnyKey", "arn:aws:kms:*:*:key/*", "kms:Decrypt");
      expect("any-service", "AnyService", ARN("ecs", "service/*"), "ecs:UpdateService");
      expect("mixed", "Mixed", "arn:aws:secretsmanager:*:*:secret:*", "secretsmanager:GetSecretValue");
    });

    it("fires on network-interface/* for actions on existing ENIs, and on a created ENI whose subnet is unscoped too", () => {
      fires(vs, resourceStarOnlyWhereRequired, {
        type: T.rolePolicy,
        name: "any-eni",
        level: "mandatory",
        message: `statement AnyEni grants on "${ARN("ec2", "network-interface/*")}" actions that take resource ARNs: ec2:DeleteNetworkInterface, ec2:AssignPrivateIpAddresses`,
      });
      fires(vs, resourceStarOnlyWhereRequired, {
        type: T.rolePolicy,
        name: "eni-any-subnet",
        level: "mandatory",
        message: `statement EniAnySubnet grants on "${ARN("ec2", "network-interface/*")}", "${ARN("ec2", "subnet/*")}" actions that take resource ARNs: ec2:CreateNetworkInterface`,
      });
    });

    it('cloudwatch:PutMetricData on "*" (its dataset type is optional) passes only pinned to a namespace by StringEquals', () => {
      for (const [name, sid] of [["metrics-any-namespace", "MetricsAnyNamespace"], ["metrics-namespace-pattern", "MetricsNamespacePattern"], ["metrics-foreign-key", "MetricsForeignKey"]]) {
        fires(vs, resourceStarOnlyWhereRequired, { type: T.rolePolicy, name, level: "mandatory", message: `statement ${sid} grants on "*" actions that take resource ARNs: cloudwatch:PutMetricData` });
      }
      passes(vs, resourceStarOnlyWhereRequired, "metrics-own-namespace");
    });

    it("passes names and name prefixes (task-definition/<family>:*, log-group:<name>:*, secret:<name>-*, <bucket>/*, service/<cluster>/<name>) and a created ENI pinned to its subnets", () => {
      passes(vs, resourceStarOnlyWhereRequired, "own-revisions", "own-log-group", "own-secret", "own-objects", "own-service", "eni-own-subnets", "eni-own-vpc");
      // A VPC condition with a wildcard bounds nothing.
      assert.equal(ofRule(vs, resourceStarOnlyWhereRequired, "eni-any-vpc").length, 1);
      const mixed = ofRule(vs, resourceStarOnlyWhereRequired, "mixed");
      assert.equal(mixed.length, 1, show(mixed));
      assert.ok(!mixed[0].message.includes("lumerin-assets-dev") && !mixed[0].message.includes("s3:GetObject"), mixed[0].message);
      assert.equal(ofRule(vs, resourceStarOnlyWhereRequired).length, 13, show(vs));
    });
  });

  describe("managed-policy attachments of every type (PolicyAttachment, *Exclusive, group and user attachments)", () => {
    it("iam-no-wildcard-actions fires on an admin policy however attached: to an ordinary role, to a group or user (always), and on a broad policy shared with a group", async () => {
      const ADMIN = managed("AdministratorAccess");
      const vs = await violations(
        noWildcardActions,
        () => {
          const app = role("app-task");
          const deployer = role("deployer");
          const ops = new aws.iam.Group("ops", { name: "ops" });
          new aws.iam.PolicyAttachment("admin-everywhere", { policyArn: ADMIN, roles: [app.name, deployer.name], groups: [ops.name] });
          new aws.iam.RolePolicyAttachmentsExclusive("app-exclusive", { roleName: app.name, policyArns: [managed("PowerUserAccess"), managed("ReadOnlyAccess")] });
          new aws.iam.GroupPolicyAttachment("ops-iam", { group: ops.name, policyArn: managed("IAMFullAccess") });
          new aws.iam.GroupPolicyAttachmentsExclusive("ops-exclusive", { groupName: ops.name, policyArns: [ADMIN] });
          new aws.iam.UserPolicyAttachment("bot-admin", { user: "ci-bot", policyArn: ADMIN });
          // "*" to the privileged deployer, and to a group: not an exception.
          const star = new aws.iam.Policy("shared-star", { name: "shared-star", policy: doc(allow("*", "*", { Sid: "Everything" })) });
          new aws.iam.PolicyAttachment("shared-star-attach", { policyArn: star.arn, roles: [deployer.name], groups: [ops.name] });
        },
        { config: { privilegedRoles: ["deployer"] } },
      );
      const mandatory = (type: string, name: string, message: string) => fires(vs, noWildcardActions, { type, name, level: "mandatory", message });
      mandatory(T.policyAttachment, "admin-everywhere", "attaches the AWS-managed AdministratorAccess policy to role app-task");
      mandatory(T.policyAttachment, "admin-everywhere", "attaches the AWS-managed AdministratorAccess policy to group ops: admin policies go only to privilegedRoles roles, never to a user or group");
      mandatory(T.roleAttachmentsExclusive, "app-exclusive", "attaches the AWS-managed PowerUserAccess policy to role app-task");
      mandatory(T.groupAttachment, "ops-iam", "attaches the AWS-managed IAMFullAccess policy to group ops");
      mandatory(T.groupAttachmentsExclusive, "ops-exclusive", "attaches the AWS-managed AdministratorAccess policy to group ops");
      mandatory(T.userAttachment, "bot-admin", "attaches the AWS-managed AdministratorAccess policy to user ci-bot");
      mandatory(T.policy, "shared-star", 'allows "*" (Everything)');
      fires(vs, noWildcardActions, {
        type: T.policyAttachment,
        name: "admin-everywhere",
        level: "advisory",
        message: /^allowed exception \(privilegedRoles\): attaches the AWS-managed AdministratorAccess policy to role deployer$/,
      });
      assert.equal(ofRule(vs, noWildcardActions).length, 8, show(vs));
    });

    it("iam-no-wildcard-actions passes a non-admin managed policy by PolicyAttachment and reports the privileged deployer's exclusive admin attachment as an exception", async () => {
      const vs = await violations(
        noWildcardActions,
        () => {
          const preview = role("preview");
          const deployer = role("deployer");
          new aws.iam.PolicyAttachment("preview-read", { policyArn: managed("ReadOnlyAccess"), roles: [preview.name] });
          new aws.iam.RolePolicyAttachmentsExclusive("deployer-exclusive", { roleName: deployer.name, policyArns: [managed("AdministratorAccess")] });
          const star = new aws.iam.Policy("deployer-star", { name: "deployer-star", policy: doc(allow("*", "*", { Sid: "Deployer" })) });
          new aws.iam.PolicyAttachment("deployer-star-attach", { policyArn: star.arn, roles: [deployer.name] });
        },
        { config: { privilegedRoles: ["deployer"] } },
      );
      passes(vs, noWildcardActions, "preview-read", "preview");
      fires(vs, noWildcardActions, { type: T.roleAttachmentsExclusive, name: "deployer-exclusive", level: "advisory", message: /^allowed exception \(privilegedRoles\): attaches the AWS-managed AdministratorAccess policy to role deployer$/ });
      // The customer policy is linked to the deployer through the PolicyAttachment, so its "*" is the deployer's exception too.
      fires(vs, noWildcardActions, { type: T.policy, name: "deployer-star", level: "advisory", message: /^allowed exception \(privilegedRoles\): allows "\*" \(Deployer\)$/ });
      assert.deepEqual(vs.filter((v) => v.level === "mandatory"), []);
    });

    it("in a preview, an attachment whose principal is not known yet is never an exception", async () => {
      // CLI-preview-shaped views (unknowns arrive as undefined): the joins skip what they cannot resolve.
      const view = (type: string, name: string, props: Record<string, unknown>, outputs: Record<string, unknown> = {}): ResourceView => ({
        type,
        name,
        urn: urnOf(type, name),
        props,
        outputs: { ...props, ...outputs },
        secretPaths: undefined,
        protect: false,
      });
      const starArn = `arn:aws:iam::${ACCOUNT}:policy/star`;
      const vs = await evaluate(
        [
          view(T.role, "deployer", { name: "deployer", assumeRolePolicy: ECS_TASKS_TRUST }),
          view(T.policy, "star", { name: "star", policy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] }) }, { arn: starArn }),
          view(T.policyAttachment, "star-attach", { policyArn: starArn, roles: ["deployer", undefined] }),
          view(T.roleAttachmentsExclusive, "admin-unknown", { roleName: undefined, policyArns: [managed("AdministratorAccess")] }),
          // A policy ARN not known yet links nothing.
          view(T.policyAttachment, "pending", { policyArn: undefined, roles: ["deployer"] }),
        ],
        { stack: "dev", config: { privilegedRoles: ["deployer"] }, rules: [noWildcardActions] },
      );
      fires(vs, noWildcardActions, { type: T.policy, name: "star", level: "mandatory", message: 'allows "*"' });
      fires(vs, noWildcardActions, { type: T.roleAttachmentsExclusive, name: "admin-unknown", level: "mandatory", message: "attaches the AWS-managed AdministratorAccess policy to a role not known yet" });
      passes(vs, noWildcardActions, "pending", "star-attach", "deployer");
    });

    it("github-roles-read-no-secrets fires on a secret-reading managed policy or customer policy reaching a GitHub-trusted role through PolicyAttachment or RolePolicyAttachmentsExclusive; passes the run-time role", async () => {
      const vs = await violations(githubRolesReadNoSecrets, () => {
        const gh = role("gh-deploy", pinned("repo:lumerin-protocol/proxy-router:environment:dev"));
        const exec = role("app-exec");
        const secret = new aws.secretsmanager.Secret("app-config", { name: "/app/dev/config", kmsKeyId: KEY_ARN });
        new aws.iam.RolePolicyAttachmentsExclusive("gh-exclusive", { roleName: gh.name, policyArns: [managed("SecretsManagerReadWrite")] });
        new aws.iam.PolicyAttachment("gh-managed-read", { policyArn: managed("SecretsManagerReadWrite"), roles: [gh.name] });
        const read = new aws.iam.Policy("read-config", { name: "read-config", policy: doc(allow("secretsmanager:GetSecretValue", secret.arn, { Sid: "ReadConfig" })) });
        new aws.iam.PolicyAttachment("read-config-attach", { policyArn: read.arn, roles: [gh.name] });
        // The run-time role reads secrets: not this rule's concern, however attached.
        const runtime = new aws.iam.Policy("exec-read", { name: "exec-read", policy: doc(allow("secretsmanager:GetSecretValue", secret.arn)) });
        new aws.iam.RolePolicyAttachmentsExclusive("exec-exclusive", { roleName: exec.name, policyArns: [runtime.arn, managed("SecretsManagerReadWrite")] });
      });
      const message = "GitHub-trusted role gh-deploy gets the AWS-managed SecretsManagerReadWrite policy, which reads secrets";
      fires(vs, githubRolesReadNoSecrets, { type: T.roleAttachmentsExclusive, name: "gh-exclusive", level: "mandatory", message });
      fires(vs, githubRolesReadNoSecrets, { type: T.policyAttachment, name: "gh-managed-read", level: "mandatory", message });
      fires(vs, githubRolesReadNoSecrets, { type: T.policy, name: "read-config", level: "mandatory", message: "GitHub-trusted role gh-deploy can read secrets: secretsmanager:GetSecretValue (ReadConfig)" });
      passes(vs, githubRolesReadNoSecrets, "exec-read", "exec-exclusive");
      assert.equal(ofRule(vs, githubRolesReadNoSecrets).length, 3, show(vs));
    });

    it("ecs-execution-role-reads-only-referenced-secrets follows customer policies attached by RolePolicyAttachmentsExclusive and PolicyAttachment", async () => {
      const captured: { b?: string } = {};
      const vs = await violations(executionRolesReadOwnSecrets, () => {
        const a = new aws.secretsmanager.Secret("secret-a", { name: "/app/dev/a" });
        const b = new aws.secretsmanager.Secret("secret-b", { name: "/app/dev/b" });
        b.arn.apply((arn) => (captured.b = arn));
        const over = role("over-exec");
        taskDefinition("svc-over", [{ name: "app", secrets: [{ name: "A", valueFrom: pulumi.interpolate`${a.arn}:key::` }] }], { executionRoleArn: over.arn });
        const overRead = new aws.iam.Policy("over-read", { name: "over-read", policy: doc(allow("secretsmanager:GetSecretValue", [a.arn, b.arn])) });
        new aws.iam.RolePolicyAttachmentsExclusive("over-exclusive", { roleName: over.name, policyArns: [overRead.arn] });
        const exact = role("exact-exec");
        taskDefinition("svc-exact", [{ name: "app", secrets: [{ name: "A", valueFrom: pulumi.interpolate`${a.arn}:key::` }] }], { executionRoleArn: exact.arn });
        const exactRead = new aws.iam.Policy("exact-read", { name: "exact-read", policy: doc(allow("secretsmanager:GetSecretValue", a.arn)) });
        new aws.iam.PolicyAttachment("exact-attach", { policyArn: exactRead.arn, roles: [exact.name] });
      });
      fires(vs, executionRolesReadOwnSecrets, {
        type: T.policy,
        name: "over-read",
        level: "mandatory",
        message: `execution role over-exec can read secrets its task definitions (svc-over) do not reference: ${captured.b}`,
      });
      passes(vs, executionRolesReadOwnSecrets, "exact-read");
    });

    it("iam-no-users-or-access-keys fires on a PolicyAttachment to users and on UserPolicyAttachmentsExclusive; passes a PolicyAttachment to roles only", async () => {
      const vs = await violations(noUsersOrAccessKeys, () => {
        const app = role("app-task");
        new aws.iam.PolicyAttachment("to-users", { policyArn: managed("ReadOnlyAccess"), users: ["ci-bot"], roles: [app.name] });
        new aws.iam.UserPolicyAttachmentsExclusive("bot-exclusive", { userName: "ci-bot", policyArns: [managed("ReadOnlyAccess")] });
        new aws.iam.PolicyAttachment("to-roles", { policyArn: managed("ReadOnlyAccess"), roles: [app.name] });
      });
      fires(vs, noUsersOrAccessKeys, { type: T.policyAttachment, name: "to-users", level: "mandatory", message: 'PolicyAttachment "to-users" grants IAM users ci-bot, long-lived credentials' });
      fires(vs, noUsersOrAccessKeys, { type: T.userAttachmentsExclusive, name: "bot-exclusive", level: "mandatory", message: 'UserPolicyAttachmentsExclusive "bot-exclusive" is a long-lived credential' });
      passes(vs, noUsersOrAccessKeys, "to-roles", "app-task");
      assert.equal(vs.length, 2, show(vs));
    });
  });

  describe("iam-no-users-or-access-keys", () => {
    it("fires on an aws.iam.User and its aws.iam.AccessKey, and passes a role", async () => {
      const vs = await violations(noUsersOrAccessKeys, () => {
        const user = new aws.iam.User("ci-user", { name: "ci-user" });
        new aws.iam.AccessKey("ci-key", { user: user.name });
        role("ci-role", pinned("repo:lumerin-protocol/proxy-router:environment:dev"));
      });
      fires(vs, noUsersOrAccessKeys, { type: T.user, name: "ci-user", level: "mandatory", message: 'User "ci-user" is a long-lived credential' });
      fires(vs, noUsersOrAccessKeys, { type: T.accessKey, name: "ci-key", level: "mandatory", message: 'AccessKey "ci-key" is a long-lived credential' });
      passes(vs, noUsersOrAccessKeys, "ci-role");
      assert.equal(vs.length, 2, show(vs));
    });
  });

  describe("github-oidc-trust-pinned", () => {
    it("fires on dev without aud, without sub, with a wildcard owner or repository, or another owner", async () => {
      const vs = await violations(githubTrustPinned, () => {
        role("gh-no-aud", githubTrust({ StringLike: { [SUB]: "repo:lumerin-protocol/proxy-router:*" } }));
        role("gh-no-sub", githubTrust({ StringEquals: { [AUD]: "sts.amazonaws.com" } }));
        role("gh-any-owner", githubTrust({ StringEquals: { [AUD]: "sts.amazonaws.com" }, StringLike: { [SUB]: "repo:*/proxy-router:*" } }));
        role("gh-any-repo", githubTrust({ StringEquals: { [AUD]: "sts.amazonaws.com" }, StringLike: { [SUB]: "repo:lumerin-protocol/*:*" } }));
        role("gh-other-owner", pinned("repo:someone-else/proxy-router:environment:dev"));
        role("gh-not-repo", githubTrust({ StringEquals: { [AUD]: "sts.amazonaws.com" }, StringLike: { [SUB]: "*" } }));
      });
      fires(vs, githubTrustPinned, { type: T.role, name: "gh-no-aud", level: "mandatory", message: 'trust statement GitHubActions: aud must be StringEquals "sts.amazonaws.com"' });
      fires(vs, githubTrustPinned, { type: T.role, name: "gh-no-sub", level: "mandatory", message: "no sub condition, so any repository on GitHub could assume the role" });
      fires(vs, githubTrustPinned, { type: T.role, name: "gh-any-owner", level: "mandatory", message: 'sub "repo:*/proxy-router:*" has a wildcard in owner or repository' });
      fires(vs, githubTrustPinned, { type: T.role, name: "gh-any-repo", level: "mandatory", message: 'sub "repo:lumerin-protocol/*:*" has a wildcard in owner or repository' });
      fires(vs, githubTrustPinned, { type: T.role, name: "gh-other-owner", level: "mandatory", message: 'trusts owner "someone-else", not "lumerin-protocol"' });
      fires(vs, githubTrustPinned, { type: T.role, name: "gh-not-repo", level: "mandatory", message: 'sub "*" is not of the form repo:<owner>/<repo>:<context>' });
      // The no-aud role's sub is fine on dev: exactly one finding.
      assert.equal(ofRule(vs, githubTrustPinned, "gh-no-aud").length, 1, show(vs));
    });

    it("passes a pinned repository with aud on dev, and ignores roles GitHub cannot assume", async () => {
      const vs = await violations(githubTrustPinned, () => {
        role("gh-dev", pinned("repo:lumerin-protocol/proxy-router:environment:dev"));
        role("gh-dev-branches", githubTrust({ StringEquals: { [AUD]: "sts.amazonaws.com" }, StringLike: { [SUB]: "repo:lumerin-protocol/proxy-router:*" } }));
        role("ecs-task");
      });
      passes(vs, githubTrustPinned);
    });

    it("on the production stack fires on a non-production subject and passes environment:main", async () => {
      const vs = await violations(
        githubTrustPinned,
        () => {
          role("gh-lmn-dev", pinned("repo:lumerin-protocol/proxy-router:environment:dev"));
          role("gh-lmn-main", pinned("repo:lumerin-protocol/proxy-router:environment:main"));
          role("gh-lmn-branch", pinned("repo:lumerin-protocol/proxy-router:ref:refs/heads/main"));
          role("ecs-task");
        },
        { stack: "lmn" },
      );
      fires(vs, githubTrustPinned, {
        type: T.role,
        name: "gh-lmn-dev",
        stack: "lmn",
        level: "mandatory",
        message: 'production role trusts "environment:dev"; expected one of environment:main, ref:refs/heads/main',
      });
      passes(vs, githubTrustPinned, "gh-lmn-main", "gh-lmn-branch", "ecs-task");
      assert.equal(vs.length, 1, show(vs));
    });
  });

  describe("github-roles-read-no-secrets", () => {
    let vs: PolicyViolation[];
    before(async () => {
      vs = await violations(githubRolesReadNoSecrets, () => {
        const gh = role("gh-deploy", pinned("repo:lumerin-protocol/proxy-router:environment:dev"));
        const secret = new aws.secretsmanager.Secret("app-config", { name: "/app/dev/config", kmsKeyId: KEY_ARN });
        const secure = new aws.ssm.Parameter("db-url", { name: "/app/dev/db-url", type: "SecureString", value: pulumi.secret("postgres://db.internal:5432/app") });
        const plain = new aws.ssm.Parameter("image-tag", { name: "/app/dev/image-tag", type: "String", value: "v1.2.3" });
        new aws.iam.RolePolicy("gh-read-secret", { role: gh.name, policy: doc(allow("secretsmanager:GetSecretValue", secret.arn, { Sid: "ReadConfig" })) });
        new aws.iam.RolePolicy("gh-decrypt", { role: gh.name, policy: doc(allow("kms:Decrypt", KEY_ARN, { Sid: "Decrypt" })) });
        new aws.iam.RolePolicy("gh-read-param", { role: gh.name, policy: doc(allow(["ssm:GetParameter", "ssm:GetParameters"], secure.arn, { Sid: "ReadDbUrl" })) });
        new aws.iam.RolePolicy("gh-read-tag", { role: gh.name, policy: doc(allow(["ssm:GetParameter", "ssm:PutParameter"], plain.arn, { Sid: "ImageTag" })) });
        new aws.iam.RolePolicy("gh-deploy-ecs", { role: gh.name, policy: doc(allow("ecs:UpdateService", `arn:aws:ecs:${REGION}:${ACCOUNT}:service/c/svc`)) });
        // Pulumi's secrets-provider key encrypts stack config, not Secrets Manager secrets: a preview may decrypt it.
        new aws.iam.RolePolicy("gh-decrypt-stack-config", { role: gh.name, policy: doc(allow("kms:Decrypt", `arn:aws:kms:${REGION}:${ACCOUNT}:key/99999999-1111-2222-3333-444444444444`, { Sid: "StackConfig" })) });
        // Through a managed policy attached by ARN, too.
        const managed = new aws.iam.Policy("gh-managed", { name: "gh-managed", policy: doc(allow("secretsmanager:GetSecretValue", secret.arn, { Sid: "ManagedRead" })) });
        new aws.iam.RolePolicyAttachment("gh-managed-attach", { role: gh.name, policyArn: managed.arn });
        // The run-time role reads secrets: not this rule's concern.
        const exec = role("app-exec");
        new aws.iam.RolePolicy("app-exec-read", { role: exec.name, policy: doc(allow("secretsmanager:GetSecretValue", secret.arn)) });
      });
    });

    it("fires on secretsmanager:GetSecretValue, kms:Decrypt and ssm:GetParameter on a SecureString granted to a GitHub-trusted role", () => {
      fires(vs, githubRolesReadNoSecrets, { type: T.rolePolicy, name: "gh-read-secret", level: "mandatory", message: "GitHub-trusted role gh-deploy can read secrets: secretsmanager:GetSecretValue (ReadConfig)" });
      fires(vs, githubRolesReadNoSecrets, { type: T.rolePolicy, name: "gh-decrypt", level: "mandatory", message: "GitHub-trusted role gh-deploy can read secrets: kms:Decrypt (Decrypt)" });
      fires(vs, githubRolesReadNoSecrets, { type: T.rolePolicy, name: "gh-read-param", level: "mandatory", message: "can read secrets: ssm:GetParameter, ssm:GetParameters (ReadDbUrl)" });
      fires(vs, githubRolesReadNoSecrets, { type: T.policy, name: "gh-managed", level: "mandatory", message: "GitHub-trusted role gh-deploy can read secrets: secretsmanager:GetSecretValue (ManagedRead)" });
    });

    it("passes deploy actions, a plain String parameter, and a run-time role reading its secret", () => {
      passes(vs, githubRolesReadNoSecrets, "gh-deploy-ecs", "gh-read-tag", "app-exec-read", "gh-decrypt-stack-config");
      assert.equal(ofRule(vs, githubRolesReadNoSecrets).length, 4, show(vs));
    });

    it("fires on action patterns that include a secret read (secretsmanager:Get*, kms:Decr*, ssm:Get* on a SecureString)", async () => {
      // SECRET_READS matches only the exact names and "service:*"; the patterns are not expanded (iam-facts could).
      const patterns = await violations(githubRolesReadNoSecrets, () => {
        const gh = role("gh-deploy", pinned("repo:lumerin-protocol/proxy-router:environment:dev"));
        const secret = new aws.secretsmanager.Secret("app-config", { name: "/app/dev/config", kmsKeyId: KEY_ARN });
        const secure = new aws.ssm.Parameter("db-url", { name: "/app/dev/db-url", type: "SecureString", value: pulumi.secret("postgres://db.internal:5432/app") });
        new aws.iam.RolePolicy("gh-get-star", { role: gh.name, policy: doc(allow("secretsmanager:Get*", secret.arn, { Sid: "GetStar" })) });
        new aws.iam.RolePolicy("gh-decr-star", { role: gh.name, policy: doc(allow("kms:Decr*", KEY_ARN, { Sid: "DecrStar" })) });
        new aws.iam.RolePolicy("gh-ssm-star", { role: gh.name, policy: doc(allow("ssm:Get*", secure.arn, { Sid: "SsmStar" })) });
      });
      for (const name of ["gh-get-star", "gh-decr-star", "gh-ssm-star"]) {
        fires(patterns, githubRolesReadNoSecrets, { type: T.rolePolicy, name, level: "mandatory", message: "GitHub-trusted role gh-deploy can read secrets" });
      }
    });
  });

  describe("ecs-execution-role-reads-only-referenced-secrets", () => {
    it("fires naming the secret the task does not reference, and passes an execution role limited to its task's secrets", async () => {
      const captured: { b?: string } = {};
      const vs = await violations(executionRolesReadOwnSecrets, () => {
        const a = new aws.secretsmanager.Secret("secret-a", { name: "/app/dev/a" });
        const b = new aws.secretsmanager.Secret("secret-b", { name: "/app/dev/b" });
        b.arn.apply((arn) => (captured.b = arn));
        const over = role("over-exec");
        taskDefinition("svc-over", [{ name: "app", secrets: [{ name: "DB_PASSWORD", valueFrom: pulumi.interpolate`${a.arn}:password::` }] }], { executionRoleArn: over.arn });
        new aws.iam.RolePolicy("over-exec-read", { role: over.name, policy: doc(allow("secretsmanager:GetSecretValue", [a.arn, b.arn], { Sid: "ReadSecrets" })) });
        const exact = role("exact-exec");
        taskDefinition("svc-exact", [{ name: "app", secrets: [{ name: "DB_PASSWORD", valueFrom: pulumi.interpolate`${a.arn}:password::` }] }], { executionRoleArn: exact.arn });
        new aws.iam.RolePolicy("exact-exec-read", { role: exact.name, policy: doc(allow("secretsmanager:GetSecretValue", a.arn, { Sid: "ReadOwnSecret" })) });
      });
      assert.ok(captured.b?.startsWith(`arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:/app/dev/b-`), captured.b);
      const hit = fires(vs, executionRolesReadOwnSecrets, {
        type: T.rolePolicy,
        name: "over-exec-read",
        level: "mandatory",
        message: `execution role over-exec can read secrets its task definitions (svc-over) do not reference: ${captured.b}`,
      });
      assert.ok(!/secret:\/app\/dev\/a-/.test(hit.message), `secret A is referenced and must not be named: ${hit.message}`);
      passes(vs, executionRolesReadOwnSecrets, "exact-exec-read");
    });

    it("passes an execution role shared by two task definitions that together reference every secret it reads", async () => {
      // The rule compares each task definition alone with the role's whole grant, so it reports secret B against
      // task 1 and secret A against task 2, though the role reads only what its task definitions reference.
      const vs = await violations(executionRolesReadOwnSecrets, () => {
        const a = new aws.secretsmanager.Secret("secret-a", { name: "/app/dev/a" });
        const b = new aws.secretsmanager.Secret("secret-b", { name: "/app/dev/b" });
        const shared = role("shared-exec");
        taskDefinition("task-a", [{ name: "app", secrets: [{ name: "A", valueFrom: pulumi.interpolate`${a.arn}:key::` }] }], { executionRoleArn: shared.arn });
        taskDefinition("task-b", [{ name: "app", secrets: [{ name: "B", valueFrom: pulumi.interpolate`${b.arn}:key::` }] }], { executionRoleArn: shared.arn });
        new aws.iam.RolePolicy("shared-exec-read", { role: shared.name, policy: doc(allow("secretsmanager:GetSecretValue", [a.arn, b.arn])) });
      });
      passes(vs, executionRolesReadOwnSecrets, "shared-exec-read");
    });
  });

  // ------------------------------------------------------------------ secrets

  describe("no-secrets-in-plain-environment", () => {
    let vs: PolicyViolation[];
    before(async () => {
      vs = await violations(noSecretsInPlainEnvironment, () => {
        taskDefinition("env-key-name", [{ name: "wallet", environment: [{ name: "WALLET_PRIVATE_KEY", value: "see-config" }] }]);
        taskDefinition("env-graph-url", [{ name: "indexer", environment: [{ name: "SUBGRAPH_URL", value: `https://gateway.thegraph.com/api/${GRAPH_KEY}/subgraphs/id/x` }] }]);
        taskDefinition("env-hex-key", [{ name: "signer", environment: [{ name: "SIGNER", value: HEX_KEY }] }]);
        lambda("price-feed", { ETH_NODE_URL: ALCHEMY_URL });
        lambda("notifier", { BOT_CHAT: pulumi.secret("12345") });
        taskDefinition("env-plain", [
          { name: "app", environment: [{ name: "LOG_LEVEL", value: "info" }, { name: "CLONE_FACTORY_ADDRESS", value: "0x" + "cd".repeat(20) }, { name: "ETH_NODE_URL", value: "https://eth-mainnet.example.com/" }] },
        ]);
        lambda("plain-fn", { LOG_LEVEL: "info", ETH_NODE_URL: "wss://node.example.com/ws" });
      });
    });

    it("fires on a container variable named like a secret", () => {
      fires(vs, noSecretsInPlainEnvironment, { type: T.taskDefinition, name: "env-key-name", level: "mandatory", message: "container wallet environment: WALLET_PRIVATE_KEY is named like a secret" });
    });

    it("fires on a container value carrying a Graph gateway API key, or a 64-hex private key", () => {
      fires(vs, noSecretsInPlainEnvironment, { type: T.taskDefinition, name: "env-graph-url", level: "mandatory", message: "the value of SUBGRAPH_URL looks like a URL carrying an API key" });
      fires(vs, noSecretsInPlainEnvironment, { type: T.taskDefinition, name: "env-hex-key", level: "mandatory", message: "the value of SIGNER looks like a 32-byte hex private key" });
    });

    it("fires on a Lambda variable with an Alchemy-style /v2/<key> URL, and on a Lambda variable that is a Pulumi secret", () => {
      fires(vs, noSecretsInPlainEnvironment, { type: T.lambda, name: "price-feed", level: "mandatory", message: "Lambda environment: the value of ETH_NODE_URL looks like a URL carrying an API key" });
      fires(vs, noSecretsInPlainEnvironment, { type: T.lambda, name: "notifier", level: "mandatory", message: "Lambda environment holds a Pulumi secret" });
    });

    it("fires on a task definition whose containerDefinitions is a Pulumi secret", async () => {
      // The secret reaches the view as the placeholder "[secret]"; containerDefinitions() fails to parse it and the
      // rule returns [] before its `secretPaths.has("containerDefinitions")` check.
      const secretDefs = await violations(noSecretsInPlainEnvironment, () => {
        taskDefinition("env-secret-defs", [{ name: "app", environment: [{ name: "LOG_LEVEL", value: pulumi.secret("info") }] }]);
      });
      fires(secretDefs, noSecretsInPlainEnvironment, { type: T.taskDefinition, name: "env-secret-defs", level: "mandatory", message: "the container definitions hold a Pulumi secret" });
    });

    it("passes plain settings (LOG_LEVEL, a contract address, a key-less node URL) in containers and Lambdas", () => {
      passes(vs, noSecretsInPlainEnvironment, "env-plain", "plain-fn");
    });
  });

  describe("container-secrets-by-reference", () => {
    it("fires on a plain-text valueFrom and non-Secrets-Manager registry credentials; passes Secrets Manager and SSM ARNs", async () => {
      const vs = await violations(containerSecretsByReference, () => {
        const secret = new aws.secretsmanager.Secret("app-config", { name: "/app/dev/config", kmsKeyId: KEY_ARN });
        const param = new aws.ssm.Parameter("rpc-url", { name: "/app/dev/rpc-url", type: "SecureString", value: pulumi.secret("https://rpc.example.com") });
        taskDefinition("by-value", [{ name: "app", secrets: [{ name: "DB_PASSWORD", valueFrom: "plain-text-value" }] }]);
        taskDefinition("bad-creds", [{ name: "app", repositoryCredentials: { credentialsParameter: "ghcr-token" } }]);
        taskDefinition("by-reference", [
          {
            name: "app",
            secrets: [
              { name: "DB_PASSWORD", valueFrom: pulumi.interpolate`${secret.arn}:password::` },
              { name: "RPC_URL", valueFrom: param.arn },
            ],
            repositoryCredentials: { credentialsParameter: secret.arn },
          },
        ]);
      });
      fires(vs, containerSecretsByReference, { type: T.taskDefinition, name: "by-value", level: "mandatory", message: 'container app secret DB_PASSWORD: valueFrom "plain-text-value" is not a Secrets Manager or SSM ARN' });
      fires(vs, containerSecretsByReference, { type: T.taskDefinition, name: "bad-creds", level: "mandatory", message: "container app: repositoryCredentials must name a Secrets Manager secret ARN" });
      passes(vs, containerSecretsByReference, "by-reference");
    });
  });

  describe("secret-values-are-pulumi-secrets", () => {
    it("fires on a SecretVersion whose secretString reaches the engine in plain text, and on an RDS password", async () => {
      const vs = await violations(secretValuesAreSecret, () => {
        const secret = new aws.secretsmanager.Secret("app-config", { name: "/app/dev/config", kmsKeyId: KEY_ARN });
        // @pulumi/aws marks secretString secret itself; a transformation that drops the mark is how plain text
        // can still reach the engine (as a hand-built registration or an older SDK would).
        new aws.secretsmanager.SecretVersion(
          "plain-version",
          { secretId: secret.id, secretString: '{"password":"hunter2"}' },
          { transformations: [(args) => ({ props: { ...args.props, secretString: pulumi.unsecret(pulumi.output(args.props.secretString)) }, opts: args.opts })] },
        );
        new aws.rds.Instance("db-password", { identifier: "db-password", engine: "postgres", instanceClass: "db.t4g.micro", allocatedStorage: 20, username: "app", password: "correct-horse-battery" });
      });
      fires(vs, secretValuesAreSecret, { type: T.secretVersion, name: "plain-version", level: "mandatory", message: "secretString is not a Pulumi secret: it would be stored in plain text in the state" });
      fires(vs, secretValuesAreSecret, { type: T.rdsInstance, name: "db-password", level: "mandatory", message: "password is set: use manageMasterUserPassword" });
      fires(vs, secretValuesAreSecret, { type: T.rdsInstance, name: "db-password", level: "mandatory", message: "manageMasterUserPassword is not true" });
    });

    it("passes a SecretVersion given pulumi.secret (or a plain string the SDK marks secret) and an RDS instance with a managed master password", async () => {
      const vs = await violations(secretValuesAreSecret, () => {
        const secret = new aws.secretsmanager.Secret("app-config", { name: "/app/dev/config", kmsKeyId: KEY_ARN });
        new aws.secretsmanager.SecretVersion("secret-version", { secretId: secret.id, secretString: pulumi.secret('{"password":"hunter2"}') });
        new aws.secretsmanager.SecretVersion("sdk-marked-version", { secretId: secret.id, secretString: '{"password":"hunter2"}' });
        new aws.rds.Instance("db-managed", { identifier: "db-managed", engine: "postgres", instanceClass: "db.t4g.micro", allocatedStorage: 20, username: "app", manageMasterUserPassword: true });
      });
      passes(vs, secretValuesAreSecret);
    });
  });

  describe("no-secrets-in-tags-or-outputs", () => {
    it("fires on a tag holding an AWS access key id, and on secret or secret-looking stack outputs; passes plain tags and outputs", async () => {
      const vs = await violations(noSecretsInTagsOrOutputs, () => {
        new aws.cloudwatch.LogGroup("tagged-key", { name: "/app/tagged-key", retentionInDays: 14, tags: { Owner: ACCESS_KEY_ID } });
        new aws.cloudwatch.LogGroup("tagged-plain", { name: "/app/tagged-plain", retentionInDays: 14, tags: { Owner: "platform", Project: "lumerin", Commit: "4f3c2b1" } });
        return {
          subgraphUrl: `https://gateway.thegraph.com/api/${GRAPH_KEY}/subgraphs/id/x`,
          adminPassword: pulumi.secret("correct-horse-battery"),
          appUrl: "https://app.lumerin.io",
          nested: { apiUrl: "https://api.lumerin.io/v1" },
        };
      });
      fires(vs, noSecretsInTagsOrOutputs, { type: T.logGroup, name: "tagged-key", level: "mandatory", message: "tag Owner looks like an AWS access key id" });
      passes(vs, noSecretsInTagsOrOutputs, "tagged-plain");
      fires(vs, noSecretsInTagsOrOutputs, { type: T.stack, name: "lumerin-infra-dev", level: "mandatory", message: "stack output subgraphUrl looks like a URL carrying an API key" });
      fires(vs, noSecretsInTagsOrOutputs, { type: T.stack, name: "lumerin-infra-dev", level: "mandatory", message: "stack output adminPassword is a secret" });
      const onStack = ofRule(vs, noSecretsInTagsOrOutputs, "lumerin-infra-dev");
      assert.equal(onStack.length, 2, `appUrl and nested.apiUrl are plain: ${show(onStack)}`);
    });

    it("fires on a tag whose value is a Pulumi secret", async () => {
      // A secret tag value makes the whole `tags` map secret: the secret path is "tags", and the rule only looks
      // for paths starting with "tags.".
      const vs = await violations(noSecretsInTagsOrOutputs, () => {
        new aws.cloudwatch.LogGroup("tagged-secret", { name: "/app/tagged-secret", retentionInDays: 14, tags: { Owner: pulumi.secret("platform") } });
      });
      fires(vs, noSecretsInTagsOrOutputs, { type: T.logGroup, name: "tagged-secret", level: "mandatory", message: "holds a Pulumi secret" });
    });

    it("checks a stack export-style view too: fires on a secret-looking output, passes plain outputs", async () => {
      const stackView = (outputs: Record<string, unknown>, secretPaths: string[] = []): ResourceView => ({
        type: "pulumi:pulumi:Stack",
        name: "lumerin-infra-stg",
        urn: STACK_URN("stg"),
        props: outputs,
        outputs,
        secretPaths: new Set(secretPaths),
        protect: false,
      });
      const leaky = await evaluate([stackView({ walletKey: HEX_KEY, bot: "[secret]" }, ["bot"])], { stack: "stg", rules: [noSecretsInTagsOrOutputs] });
      fires(leaky, noSecretsInTagsOrOutputs, { type: T.stack, name: "lumerin-infra-stg", stack: "stg", level: "mandatory", message: "stack output walletKey looks like a 32-byte hex private key" });
      fires(leaky, noSecretsInTagsOrOutputs, { type: T.stack, name: "lumerin-infra-stg", stack: "stg", level: "mandatory", message: "stack output bot is a secret" });
      const clean = await evaluate([stackView({ appUrl: "https://app.lumerin.io", cluster: `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/c` })], { stack: "stg", rules: [noSecretsInTagsOrOutputs] });
      passes(clean, noSecretsInTagsOrOutputs);
    });
  });

  // ------------------------------------------------------------------ data safety

  describe("stateful-resources-protected", () => {
    const program = () => {
      new aws.kms.Key("data-key", { description: "data" });
      new aws.kms.Key("kept-key", { description: "kept" }, { protect: true });
      new aws.cloudwatch.LogGroup("not-stateful", { name: "/app/x", retentionInDays: 7 });
    };

    it("fires as advisory on dev and mandatory on lmn for an unprotected KMS key; passes protect: true", async () => {
      const dev = await violations(statefulProtected, program);
      fires(dev, statefulProtected, { type: T.kmsKey, name: "data-key", level: "advisory", message: "Key data-key is not protected" });
      passes(dev, statefulProtected, "kept-key", "not-stateful");
      const lmn = await violations(statefulProtected, program, { stack: "lmn" });
      fires(lmn, statefulProtected, { type: T.kmsKey, name: "data-key", stack: "lmn", level: "mandatory", message: "Key data-key is not protected" });
      passes(lmn, statefulProtected, "kept-key", "not-stateful");
    });

    it("follows the productionStacks configuration", async () => {
      const stg = await violations(statefulProtected, program, { stack: "stg", config: { productionStacks: ["stg", "lmn"] } });
      fires(stg, statefulProtected, { type: T.kmsKey, name: "data-key", stack: "stg", level: "mandatory", message: "Key data-key is not protected" });
    });
  });

  describe("rds-hardened", () => {
    it("fires on an unencrypted, unprotected instance without final snapshot or backups; passes a hardened one", async () => {
      const vs = await violations(
        rdsHardened,
        () => {
          new aws.rds.Instance("db-bare", { identifier: "db-bare", engine: "postgres", instanceClass: "db.t4g.micro", allocatedStorage: 20, username: "app", manageMasterUserPassword: true, skipFinalSnapshot: true });
          new aws.rds.Instance("db-hardened", {
            identifier: "db-hardened",
            engine: "postgres",
            instanceClass: "db.t4g.micro",
            allocatedStorage: 20,
            username: "app",
            manageMasterUserPassword: true,
            storageEncrypted: true,
            deletionProtection: true,
            skipFinalSnapshot: false,
            finalSnapshotIdentifier: "db-hardened-final",
            backupRetentionPeriod: 7,
          });
        },
        { stack: "lmn" },
      );
      const bare = { type: T.rdsInstance, name: "db-bare", stack: "lmn", level: "mandatory" } as const;
      fires(vs, rdsHardened, { ...bare, message: "storage is not encrypted" });
      fires(vs, rdsHardened, { ...bare, message: "deletion protection is off" });
      fires(vs, rdsHardened, { ...bare, message: "no final snapshot" });
      fires(vs, rdsHardened, { ...bare, message: "backups kept default 1 days (< 7)" });
      passes(vs, rdsHardened, "db-hardened");
    });
  });

  describe("s3-hardened", () => {
    it("passes a bucket with versioning, encryption and a full public access block; fires three findings on a bare bucket", async () => {
      const vs = await violations(s3Hardened, () => {
        const assets = new aws.s3.Bucket("assets", { bucket: "lumerin-assets-dev" });
        // Linked by the bucket name (`.bucket`): see the known bug below for `.id` in the offline plan.
        new aws.s3.BucketVersioning("assets-versioning", { bucket: assets.bucket, versioningConfiguration: { status: "Enabled" } });
        new aws.s3.BucketServerSideEncryptionConfiguration("assets-sse", { bucket: assets.bucket, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: KEY_ARN } }] });
        new aws.s3.BucketPublicAccessBlock("assets-pab", { bucket: assets.bucket, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true });
        new aws.s3.Bucket("bare", { bucket: "lumerin-bare-dev" });
        const partial = new aws.s3.Bucket("partial", { bucket: "lumerin-partial-dev" });
        new aws.s3.BucketVersioning("partial-versioning", { bucket: partial.bucket, versioningConfiguration: { status: "Suspended" } });
        new aws.s3.BucketServerSideEncryptionConfiguration("partial-sse", { bucket: partial.bucket, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] });
        new aws.s3.BucketPublicAccessBlock("partial-pab", { bucket: partial.bucket, blockPublicAcls: true, blockPublicPolicy: false, ignorePublicAcls: true, restrictPublicBuckets: true });
      });
      passes(vs, s3Hardened, "assets");
      fires(vs, s3Hardened, { type: T.bucket, name: "bare", level: "advisory", message: "bucket bare is not versioned" });
      fires(vs, s3Hardened, { type: T.bucket, name: "bare", level: "advisory", message: "bucket bare has no explicit server-side encryption configuration" });
      fires(vs, s3Hardened, { type: T.bucket, name: "bare", level: "advisory", message: "bucket bare does not block all public access" });
      assert.equal(ofRule(vs, s3Hardened, "bare").length, 3, show(vs));
      // A suspended versioning and a partial block count as missing; the encryption configuration counts.
      fires(vs, s3Hardened, { type: T.bucket, name: "partial", level: "advisory", message: "bucket partial is not versioned" });
      fires(vs, s3Hardened, { type: T.bucket, name: "partial", level: "advisory", message: "bucket partial does not block all public access" });
      assert.equal(ofRule(vs, s3Hardened, "partial").length, 2, show(vs));
    });

    it("a bucket whose configurations name it by `bucket.id` (the usual form) passes in the offline plan", async () => {
      // Views of the offline plan carry no `id` output (the harness keeps it beside the outputs) and the mocks give
      // a Bucket the id `<logical>-<hash>` rather than its name, so `outputs.id` never links the configurations.
      const vs = await violations(s3Hardened, () => {
        const logs = new aws.s3.Bucket("logs", { bucket: "lumerin-logs-dev" });
        new aws.s3.BucketVersioning("logs-versioning", { bucket: logs.id, versioningConfiguration: { status: "Enabled" } });
        new aws.s3.BucketServerSideEncryptionConfiguration("logs-sse", { bucket: logs.id, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] });
        new aws.s3.BucketPublicAccessBlock("logs-pab", { bucket: logs.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true });
      });
      passes(vs, s3Hardened, "logs");
    });
  });

  describe("log-groups-have-retention", () => {
    it("fires on a log group without retention; passes one with retentionInDays", async () => {
      const vs = await violations(logGroupsRetained, () => {
        new aws.cloudwatch.LogGroup("forever", { name: "/ecs/forever" });
        new aws.cloudwatch.LogGroup("zero", { name: "/ecs/zero", retentionInDays: 0 });
        new aws.cloudwatch.LogGroup("retained", { name: "/ecs/retained", retentionInDays: 14 });
      });
      fires(vs, logGroupsRetained, { type: T.logGroup, name: "forever", level: "advisory", message: "log group /ecs/forever keeps logs forever" });
      fires(vs, logGroupsRetained, { type: T.logGroup, name: "zero", level: "advisory", message: "log group /ecs/zero keeps logs forever" });
      passes(vs, logGroupsRetained, "retained");
    });
  });

  describe("ecs-circuit-breaker-rollback", () => {
    it("fires on a service without circuit breaker or without rollback; passes enable + rollback", async () => {
      const vs = await violations(
        ecsCircuitBreaker,
        () => {
          const cluster = new aws.ecs.Cluster("c", { name: "c" });
          const task = taskDefinition("svc", [{ name: "app" }]);
          const service = (name: string, deploymentCircuitBreaker?: aws.types.input.ecs.ServiceDeploymentCircuitBreaker) =>
            new aws.ecs.Service(name, { name, cluster: cluster.arn, taskDefinition: task.arn, desiredCount: 1, launchType: "FARGATE", ...(deploymentCircuitBreaker ? { deploymentCircuitBreaker } : {}) });
          service("svc-none");
          service("svc-no-rollback", { enable: true, rollback: false });
          service("svc-safe", { enable: true, rollback: true });
        },
        { stack: "lmn" },
      );
      fires(vs, ecsCircuitBreaker, { type: T.service, name: "svc-none", stack: "lmn", level: "mandatory", message: "deployment circuit breaker with rollback is not on" });
      fires(vs, ecsCircuitBreaker, { type: T.service, name: "svc-no-rollback", stack: "lmn", level: "mandatory", message: "deployment circuit breaker with rollback is not on" });
      passes(vs, ecsCircuitBreaker, "svc-safe");
    });
  });

  describe("cloudfront-https-tls12", () => {
    it("fires on allow-all behaviours and TLSv1; passes redirect-to-https with TLSv1.2_2021", async () => {
      const vs = await violations(cloudfrontTls, () => {
        distribution("cdn-open", "allow-all", "TLSv1", [{ pathPattern: "/api/*", viewerProtocolPolicy: "allow-all" }]);
        distribution("cdn-safe", "redirect-to-https", "TLSv1.2_2021", [{ pathPattern: "/api/*", viewerProtocolPolicy: "https-only" }]);
      });
      fires(vs, cloudfrontTls, { type: T.distribution, name: "cdn-open", level: "advisory", message: "cache behaviour default allows plain HTTP" });
      fires(vs, cloudfrontTls, { type: T.distribution, name: "cdn-open", level: "advisory", message: "cache behaviour /api/* allows plain HTTP" });
      fires(vs, cloudfrontTls, { type: T.distribution, name: "cdn-open", level: "advisory", message: "minimum TLS is TLSv1" });
      passes(vs, cloudfrontTls, "cdn-safe");
    });
  });

  describe("load-balancers-https-only", () => {
    it("fires on an ALB HTTP forward and an old TLS policy; passes HTTP→HTTPS redirects, TLS 1.2+ policies and NLB TCP", async () => {
      const vs = await violations(
        loadBalancersHttpsOnly,
        () => {
          const alb = new aws.lb.LoadBalancer("web", { name: "web", loadBalancerType: "application", subnets: ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"] });
          const nlb = new aws.lb.LoadBalancer("stratum", { name: "stratum", loadBalancerType: "network", subnets: ["subnet-0123456789abcdef0"] });
          const tg = new aws.lb.TargetGroup("web-tg", { name: "web-tg", port: 3000, protocol: "HTTP", targetType: "ip", vpcId: "vpc-0123456789abcdef0" });
          const tcp = new aws.lb.TargetGroup("stratum-tg", { name: "stratum-tg", port: 3333, protocol: "TCP", targetType: "ip", vpcId: "vpc-0123456789abcdef0" });
          const forward = [{ type: "forward", targetGroupArn: tg.arn }];
          new aws.lb.Listener("web-http-forward", { loadBalancerArn: alb.arn, port: 8080, protocol: "HTTP", defaultActions: forward });
          new aws.lb.Listener("web-http-redirect", { loadBalancerArn: alb.arn, port: 80, protocol: "HTTP", defaultActions: [{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }] });
          new aws.lb.Listener("web-https-old", { loadBalancerArn: alb.arn, port: 8443, protocol: "HTTPS", certificateArn: CERT_ARN, sslPolicy: "ELBSecurityPolicy-2016-08", defaultActions: forward });
          new aws.lb.Listener("web-https", { loadBalancerArn: alb.arn, port: 443, protocol: "HTTPS", certificateArn: CERT_ARN, sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06", defaultActions: forward });
          new aws.lb.Listener("stratum-tcp", { loadBalancerArn: nlb.arn, port: 3333, protocol: "TCP", defaultActions: [{ type: "forward", targetGroupArn: tcp.arn }] });
        },
        { stack: "lmn" },
      );
      fires(vs, loadBalancersHttpsOnly, { type: T.listener, name: "web-http-forward", stack: "lmn", level: "mandatory", message: "HTTP listener serves traffic instead of redirecting to HTTPS" });
      fires(vs, loadBalancersHttpsOnly, {
        type: T.listener,
        name: "web-https-old",
        stack: "lmn",
        level: "mandatory",
        message: "HTTPS listener uses ELBSecurityPolicy-2016-08 security policy; expected TLS 1.2 or newer",
      });
      passes(vs, loadBalancersHttpsOnly, "web-http-redirect", "web-https", "stratum-tcp");
      assert.equal(ofRule(vs, loadBalancersHttpsOnly).length, 2, show(vs));
    });
  });

  describe("rds-storage-stack-key", () => {
    const db = (name: string, extra: Partial<aws.rds.InstanceArgs>) =>
      new aws.rds.Instance(name, { identifier: name, engine: "postgres", instanceClass: "db.t4g.micro", allocatedStorage: 20, username: "app", manageMasterUserPassword: true, storageEncrypted: true, ...extra });
    const AWS_RDS_KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/0c0ffee0-0000-4000-8000-000000000001`;

    it("fires on storage under aws/rds (no key) or a key the stack does not manage; an adoption tag makes it a visible exception naming the config key", async () => {
      const vs = await violations(
        rdsStorageStackKey,
        () => {
          const key = new aws.kms.Key("stack-key", { enableKeyRotation: true });
          db("db-stack-key", { kmsKeyId: key.arn });
          db("db-default-key", {});
          db("db-foreign-key", { kmsKeyId: AWS_RDS_KEY });
          db("db-adopted", { kmsKeyId: AWS_RDS_KEY, tags: { [policyExceptionTag("rds-storage-stack-key")]: "futures.notifications.database.kmsKeyArn" } });
        },
        { stack: "lmn" },
      );
      fires(vs, rdsStorageStackKey, { type: T.rdsInstance, name: "db-default-key", stack: "lmn", level: "mandatory", message: "db-default-key is encrypted with the account's aws/rds key (no kmsKeyId)" });
      fires(vs, rdsStorageStackKey, { type: T.rdsInstance, name: "db-foreign-key", stack: "lmn", level: "mandatory", message: `db-foreign-key is encrypted with ${AWS_RDS_KEY}, which is not a key this stack manages` });
      const adopted = fires(vs, rdsStorageStackKey, {
        type: T.rdsInstance,
        name: "db-adopted",
        stack: "lmn",
        level: "advisory",
        message: /^allowed exception \(adopted, futures\.notifications\.database\.kmsKeyArn\): db-adopted is encrypted with /,
      });
      assert.ok(!adopted.message.endsWith(rdsStorageStackKey.remediation), "an exception is no call to fix");
      passes(vs, rdsStorageStackKey, "db-stack-key");
      assert.equal(ofRule(vs, rdsStorageStackKey).length, 3, show(vs));
    });
  });

  describe("nlb-security-groups", () => {
    it("fires on an NLB without security groups, reports a tagged (adopted) one as an exception, and passes one with a group and an ALB", async () => {
      const vs = await violations(
        nlbSecurityGroups,
        () => {
          const sg = new aws.ec2.SecurityGroup("nlb-sg", { vpcId: "vpc-0123456789abcdef0", description: "nlb" });
          const subnets = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"];
          new aws.lb.LoadBalancer("nlb-bare", { name: "nlb-bare", loadBalancerType: "network", subnets });
          new aws.lb.LoadBalancer("nlb-adopted", { name: "nlb-adopted", loadBalancerType: "network", subnets, tags: { [policyExceptionTag("nlb-security-groups")]: "proxyRouter.router.publicEndpoint.securityGroups" } });
          new aws.lb.LoadBalancer("nlb-guarded", { name: "nlb-guarded", loadBalancerType: "network", subnets, securityGroups: [sg.id] });
          new aws.lb.LoadBalancer("alb-plain", { name: "alb-plain", loadBalancerType: "application", subnets });
        },
        { stack: "lmn" },
      );
      const nlb = "aws:lb/loadBalancer:LoadBalancer";
      fires(vs, nlbSecurityGroups, { type: nlb, name: "nlb-bare", stack: "lmn", level: "mandatory", message: "network load balancer nlb-bare has no security group" });
      fires(vs, nlbSecurityGroups, {
        type: nlb,
        name: "nlb-adopted",
        stack: "lmn",
        level: "advisory",
        message: "allowed exception (adopted, proxyRouter.router.publicEndpoint.securityGroups): network load balancer nlb-adopted has no security group",
      });
      passes(vs, nlbSecurityGroups, "nlb-guarded", "alb-plain");
    });
  });

  // ------------------------------------------------------------------ the committed stacks

  describe("the committed stacks", () => {
    for (const stack of ["dev", "stg", "lmn"] as const) {
      it(`${stack} plans with no mandatory violation`, async function () {
        this.timeout(60_000);
        const plan = await committedPlan(stack);
        assert.deepEqual(plan.violations.filter((v) => v.level === "mandatory"), []);
        // The configured exceptions, reported and never blocking: the infrastructure deployer's
        // administrator rights, and (in production) the preview role's pull_request trust.
        const exceptions = plan.violations.filter((v) => v.message.startsWith("allowed exception"));
        assert.deepEqual(
          exceptions.map((v) => `${v.policy} ${nameOf(v.urn)}`).sort(),
          [
            ...(stack === "lmn" ? ["github-oidc-trust-pinned deploy-infra-preview-role"] : []),
            "github-roles-read-no-secrets deploy-infra-deployer-admin",
            "iam-no-wildcard-actions deploy-infra-deployer-admin",
            // The adoption switches of the stack file: the live NLBs have no security group, the live database the aws/rds key.
            "nlb-security-groups proxy-router-nlb",
            "nlb-security-groups proxy-validator-nlb",
            "rds-storage-stack-key futures-notifications-db",
          ].sort(),
        );
        const advisory = plan.violations.filter((v) => v.level === "advisory" && !exceptions.includes(v));
        // Outside production only: unprotected state, and a database that may be deleted without a snapshot (cheap to tear down).
        const nonProduction = stack === "lmn" ? [] : [statefulProtected.name, "rds-hardened"];
        assert.deepEqual([...new Set(advisory.map((v) => v.policy))].filter((p) => !nonProduction.includes(p)), [], show(advisory));
      });
    }
  });

  // ------------------------------------------------------------------ coverage

  describe("coverage", () => {
    it("exercises every rule in RULES with at least one firing and one passing case", () => {
      const missing = RULES.flatMap((rule) => {
        const c = coverage.get(rule.name) ?? { fires: 0, passes: 0 };
        return [...(c.fires ? [] : [`${rule.name}: no firing case`]), ...(c.passes ? [] : [`${rule.name}: no passing case`])];
      });
      assert.deepEqual(missing, []);
      assert.equal(new Set(RULES.map((r) => r.name)).size, RULES.length, "rule names are unique");
    });
  });
});
