/** Least privilege rules (policy/rules/least-privilege.ts). */
import { strict as assert } from "node:assert";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { evaluate } from "../../policy/evaluate";
import { mayAddress, unscopedResource } from "../../policy/rules/iam-facts";
import {
  actionsExist,
  executionRolesReadOwnSecrets,
  githubRolesNoIamEscalation,
  githubRolesOnlyAskTheRunner,
  githubRolesReadNoSecrets,
  githubTrustPinned,
  noUsersOrAccessKeys,
  noWildcardActions,
  passRoleScoped,
  resourceStarOnlyWhereRequired,
  taskRoleIsNotExecutionRole,
} from "../../policy/rules/least-privilege";
import { globsOverlap } from "../../policy/rules/model";
import type { PolicyViolation, ResourceView } from "../../policy/rules/model";
import { ACCOUNT, REGION, urnOf, violations } from "../support/policy";
import {
  ARN,
  AUD,
  ECS_TASKS_TRUST,
  KEY_ARN,
  SUB,
  T,
  allow,
  doc,
  fires,
  githubTrust,
  managed,
  ofRule,
  passes,
  pinned,
  role,
  show,
  taskDefinition,
} from "./support";

describe("policy rules: least privilege", () => {
  describe("iam-no-wildcard-actions", () => {
    it('fires on a RolePolicy allowing "s3:*", an aws.iam.Policy allowing "*", and an AdministratorAccess attachment or managed ARN', async () => {
      const vs = await violations(noWildcardActions, () => {
        const app = role("app-task");
        new aws.iam.RolePolicy("app-s3", { role: app.name, policy: doc(allow("s3:*", "*", { Sid: "AllOfS3" })) });
        new aws.iam.RolePolicyAttachment("app-admin", {
          role: app.name,
          policyArn: "arn:aws:iam::aws:policy/AdministratorAccess",
        });
        const broad = new aws.iam.Policy("app-broad", { name: "app-broad", policy: doc(allow("*", "*")) });
        new aws.iam.RolePolicyAttachment("app-broad-attach", { role: app.name, policyArn: broad.arn });
        new aws.iam.Role("ops", {
          name: "ops",
          assumeRolePolicy: ECS_TASKS_TRUST,
          managedPolicyArns: ["arn:aws:iam::aws:policy/PowerUserAccess"],
        });
      });
      fires(vs, noWildcardActions, {
        type: T.rolePolicy,
        name: "app-s3",
        level: "mandatory",
        message: 'allows "s3:*" (AllOfS3)',
      });
      fires(vs, noWildcardActions, {
        type: T.attachment,
        name: "app-admin",
        level: "mandatory",
        message: "attaches the AWS-managed AdministratorAccess policy",
      });
      fires(vs, noWildcardActions, { type: T.policy, name: "app-broad", level: "mandatory", message: 'allows "*"' });
      fires(vs, noWildcardActions, {
        type: T.role,
        name: "ops",
        level: "mandatory",
        message: "attaches the AWS-managed PowerUserAccess policy",
      });
      assert.equal(ofRule(vs, noWildcardActions).length, 4, show(vs));
    });

    it("passes exact actions, and reports a privilegedRoles role's wildcard as an advisory allowed exception", async () => {
      const vs = await violations(
        noWildcardActions,
        () => {
          const app = role("app-task");
          new aws.iam.RolePolicy("app-exact", {
            role: app.name,
            policy: doc(
              allow(["s3:GetObject", "s3:PutObject"], "arn:aws:s3:::lumerin-assets/*"),
              allow("ecs:UpdateService", "*"),
            ),
          });
          const deployer = role("deployer");
          new aws.iam.RolePolicy("deployer-all", {
            role: deployer.name,
            policy: doc(allow("*", "*", { Sid: "Deployer" })),
          });
          new aws.iam.RolePolicyAttachment("deployer-admin", {
            role: deployer.name,
            policyArn: "arn:aws:iam::aws:policy/AdministratorAccess",
          });
        },
        { config: { privilegedRoles: ["deployer"] } },
      );
      passes(vs, noWildcardActions, "app-exact");
      const policy = fires(vs, noWildcardActions, {
        type: T.rolePolicy,
        name: "deployer-all",
        level: "advisory",
        message: /^allowed exception \(privilegedRoles\): allows "\*" \(Deployer\)$/,
      });
      assert.ok(!policy.message.includes(noWildcardActions.remediation), "an exception carries no remediation");
      fires(vs, noWildcardActions, {
        type: T.attachment,
        name: "deployer-admin",
        level: "advisory",
        message: /^allowed exception \(privilegedRoles\): attaches the AWS-managed AdministratorAccess/,
      });
      assert.deepEqual(
        vs.filter((v) => v.level === "mandatory"),
        [],
      );
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
      fires(vs, noWildcardActions, {
        type: T.policy,
        name: "shared-broad",
        level: "mandatory",
        message: 'allows "ecs:*"',
      });
    });
  });

  describe("iam-resource-star-only-where-required, iam-actions-exist, iam-passrole-scoped", () => {
    let vs: PolicyViolation[];
    before(async () => {
      vs = await violations([resourceStarOnlyWhereRequired, actionsExist, passRoleScoped], () => {
        const deploy = role("deploy");
        new aws.iam.RolePolicy("deploy-update-star", {
          role: deploy.name,
          policy: doc(allow("ecs:UpdateService", "*", { Sid: "UpdateAnyService" })),
        });
        new aws.iam.RolePolicy("deploy-typo", {
          role: deploy.name,
          policy: doc(allow("ecs:UpdateServices", `arn:aws:ecs:${REGION}:${ACCOUNT}:service/c/svc`, { Sid: "Typo" })),
        });
        new aws.iam.RolePolicy("deploy-pass-star", {
          role: deploy.name,
          policy: doc(
            allow("iam:PassRole", "*", {
              Sid: "PassAny",
              Condition: { StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } },
            }),
          ),
        });
        const exec = role("svc-exec");
        new aws.iam.RolePolicy("deploy-pass-unconditioned", {
          role: deploy.name,
          policy: doc(allow("iam:PassRole", exec.arn, { Sid: "PassExec" })),
        });
        new aws.iam.RolePolicy("deploy-pass-all-roles", {
          role: deploy.name,
          policy: doc(
            allow("iam:PassRole", `arn:aws:iam::${ACCOUNT}:role/*`, {
              Sid: "PassAllRoles",
              Condition: { StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } },
            }),
          ),
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
      fires(vs, actionsExist, {
        type: T.rolePolicy,
        name: "deploy-typo",
        level: "mandatory",
        message: 'statement Typo: no IAM action matches "ecs:UpdateServices"',
      });
      assert.equal(ofRule(vs, actionsExist).length, 1, show(ofRule(vs, actionsExist)));
    });

    it('iam-passrole-scoped fires on PassRole to "*" or role/*, and on PassRole without iam:PassedToService', () => {
      fires(vs, passRoleScoped, {
        type: T.rolePolicy,
        name: "deploy-pass-star",
        level: "mandatory",
        message: "statement PassAny: iam:PassRole names no specific role",
      });
      fires(vs, passRoleScoped, {
        type: T.rolePolicy,
        name: "deploy-pass-all-roles",
        level: "mandatory",
        message: "statement PassAllRoles: iam:PassRole names no specific role",
      });
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
        new aws.iam.RolePolicy("deploy-star-role", {
          role: deploy.name,
          policy: doc(allow("iam:*Role", `arn:aws:iam::${ACCOUNT}:role/*`, { Sid: "StarRole" })),
        });
      });
      fires(pattern, passRoleScoped, {
        type: T.rolePolicy,
        name: "deploy-star-role",
        level: "mandatory",
        message: "statement StarRole: iam:PassRole (via iam:*Role) names no specific role",
      });
    });
  });

  describe("iam-* rules on an exact policy", () => {
    it("pass exact actions, ARN-less actions on *, action patterns that exist, and a scoped, conditioned PassRole", async () => {
      const rules = [
        noWildcardActions,
        resourceStarOnlyWhereRequired,
        actionsExist,
        passRoleScoped,
        noUsersOrAccessKeys,
      ];
      const vs = await violations(rules, () => {
        const exec = role("svc-exec");
        const deploy = role("deploy");
        const key = new aws.kms.Key("app-key", { description: "app" });
        new aws.iam.RolePolicy("deploy-exact", {
          role: deploy.name,
          policy: doc(
            allow("ecs:UpdateService", `arn:aws:ecs:${REGION}:${ACCOUNT}:service/c/svc`, { Sid: "UpdateOwnService" }),
            allow(
              ["ssmmessages:CreateControlChannel", "ssmmessages:OpenControlChannel", "ecr:GetAuthorizationToken"],
              "*",
              { Sid: "NoResourceArn" },
            ),
            allow(["kms:GenerateDataKey*", "kms:Decrypt"], key.arn, { Sid: "UseKey" }),
            allow("iam:PassRole", exec.arn, {
              Sid: "PassExec",
              Condition: { StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } },
            }),
          ),
        });
      });
      for (const rule of rules) passes(vs, rule);
    });
  });

  describe('iam-resource-star-only-where-required: type-wide ARN wildcards count as "*"', () => {
    describe("unscopedResource, the one definition", () => {
      // Unscoped: "*", or an ARN whose resource part (split at / and :) is wildcards and resource-type words only.
      const unscoped = [
        "*",
        "arn:aws:secretsmanager:*:*:secret:*",
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:*",
        // Every name with Secrets Manager's six-character suffix is every secret.
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:*-??????",
        "arn:aws:secretsmanager:*:*:secret:?*",
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
        "arn:aws:secretsmanager:*:*:secret:proxy-router-secrets-dev-??????",
        "arn:aws:s3:::bucket-name/*",
        "arn:aws:s3:::bucket-name",
        "arn:aws:ecs:us-east-1:1:service/cluster-dev/proxy-router-dev",
        "arn:aws:ecs:us-east-1:1:service/cluster-dev/*",
        "arn:aws:ssm:us-east-1:1:parameter/app/dev/*",
        "arn:aws:kms:us-east-1:1:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "arn:aws:iam::1:role/lumerin-*",
      ];
      for (const resource of unscoped)
        it(`unscoped: ${resource}`, async () => assert.equal(await unscopedResource(resource), true));
      for (const resource of scoped)
        it(`scoped: ${resource}`, async () => assert.equal(await unscopedResource(resource), false));

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
        const stmt = (name: string, action: string | string[], resource: string | string[], sid: string) =>
          new aws.iam.RolePolicy(name, { role: app.name, policy: doc(allow(action, resource, { Sid: sid })) });
        stmt("any-secret", "secretsmanager:GetSecretValue", "arn:aws:secretsmanager:*:*:secret:*", "AnySecret");
        stmt("any-secret-here", "secretsmanager:GetSecretValue", ARN("secretsmanager", "secret:*"), "AnySecretHere");
        stmt("any-object", "s3:GetObject", "arn:aws:s3:::*", "AnyObject");
        stmt("any-parameter", "ssm:GetParameter", "arn:aws:ssm:*:*:parameter/*", "AnyParameter");
        stmt("any-key", "kms:Decrypt", "arn:aws:kms:*:*:key/*", "AnyKey");
        stmt("any-service", "ecs:UpdateService", ARN("ecs", "service/*"), "AnyService");
        // One scoped and one unscoped Resource: the message names only the unscoped one, and only the actions it reaches.
        stmt(
          "mixed",
          ["s3:GetObject", "secretsmanager:GetSecretValue"],
          ["arn:aws:s3:::lumerin-assets-dev/*", "arn:aws:secretsmanager:*:*:secret:*"],
          "Mixed",
        );
        // ENIs Lambda made: nameless, but nothing bounds the grant to them (Lambda's VPC access, spelled per type).
        stmt(
          "any-eni",
          ["ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses"],
          ARN("ec2", "network-interface/*"),
          "AnyEni",
        );
        // Existing ENIs under a condition that pins their VPC, but with a wildcard in it: still unbounded.
        new aws.iam.RolePolicy("eni-any-vpc", {
          role: app.name,
          policy: doc(
            allow(["ec2:DeleteNetworkInterface"], ARN("ec2", "network-interface/*"), {
              Sid: "EniAnyVpc",
              Condition: { ArnLike: { "ec2:Vpc": ARN("ec2", "vpc/*") } },
            }),
          ),
        });
        // A created ENI in any subnet: the subnet is named by nobody.
        stmt(
          "eni-any-subnet",
          "ec2:CreateNetworkInterface",
          [ARN("ec2", "network-interface/*"), ARN("ec2", "subnet/*")],
          "EniAnySubnet",
        );

        // Scoped: names, name prefixes (Secrets Manager's random suffix, task-definition revisions), one bucket's objects.
        stmt(
          "own-revisions",
          "ecs:RegisterTaskDefinition",
          ARN("ecs", "task-definition/proxy-router-dev:*"),
          "OwnRevisions",
        );
        stmt(
          "own-log-group",
          ["logs:CreateLogStream", "logs:PutLogEvents"],
          ARN("logs", "log-group:/ecs/proxy-router-dev:*"),
          "OwnLogGroup",
        );
        stmt(
          "own-secret",
          "secretsmanager:GetSecretValue",
          ARN("secretsmanager", "secret:proxy-router-secrets-dev-*"),
          "OwnSecret",
        );
        stmt("own-objects", ["s3:GetObject", "s3:PutObject"], "arn:aws:s3:::lumerin-assets-dev/*", "OwnObjects");
        stmt("own-service", "ecs:UpdateService", ARN("ecs", "service/cluster-dev/proxy-router-dev"), "OwnService");
        // A new ENI cannot be named before it exists; the subnets and security group it goes into are (Lambda in a VPC).
        stmt(
          "eni-own-subnets",
          "ec2:CreateNetworkInterface",
          [
            ARN("ec2", "network-interface/*"),
            ARN("ec2", "subnet/subnet-0123456789abcdef0"),
            ARN("ec2", "security-group/sg-0123456789abcdef0"),
          ],
          "EniOwnSubnets",
        );
        // Metrics: PutMetricData's one resource type (dataset) is optional; "*" bounded by its namespace passes, unbounded it fires.
        stmt("metrics-any-namespace", "cloudwatch:PutMetricData", "*", "MetricsAnyNamespace");
        new aws.iam.RolePolicy("metrics-namespace-pattern", {
          role: app.name,
          policy: doc(
            allow(["cloudwatch:PutMetricData"], "*", {
              Sid: "MetricsNamespacePattern",
              Condition: { StringLike: { "cloudwatch:namespace": "Cloud*" } },
            }),
          ),
        });
        new aws.iam.RolePolicy("metrics-own-namespace", {
          role: app.name,
          policy: doc(
            allow(["cloudwatch:PutMetricData"], "*", {
              Sid: "MetricsOwnNamespace",
              Condition: { StringEquals: { "cloudwatch:namespace": "CloudWatchSynthetics" } },
            }),
          ),
        });
        // A condition on a key the action does not have bounds nothing.
        new aws.iam.RolePolicy("metrics-foreign-key", {
          role: app.name,
          policy: doc(
            allow(["cloudwatch:PutMetricData"], "*", {
              Sid: "MetricsForeignKey",
              Condition: { StringEquals: { "cloudwatch:alarmActions": "x" } },
            }),
          ),
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
        fires(vs, resourceStarOnlyWhereRequired, {
          type: T.rolePolicy,
          name,
          level: "mandatory",
          message: `statement ${sid} grants on "${arn}" actions that take resource ARNs: ${actions}`,
        });
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

    it("fires on an Allow with NotResource (every resource but the listed ones)", async () => {
      const vs = await violations(resourceStarOnlyWhereRequired, () => {
        const app = role("app-task");
        new aws.iam.RolePolicy("app-not-resource", {
          role: app.name,
          policy: doc({
            Sid: "AllButOne",
            Effect: "Allow",
            Action: "s3:GetObject",
            NotResource: "arn:aws:s3:::private/*",
          }),
        });
      });
      fires(vs, resourceStarOnlyWhereRequired, {
        type: T.rolePolicy,
        name: "app-not-resource",
        level: "mandatory",
        message:
          "statement AllButOne allows its actions on every resource except arn:aws:s3:::private/* (Allow with NotResource)",
      });
    });

    it('cloudwatch:PutMetricData on "*" (its dataset type is optional) passes only pinned to a namespace by StringEquals', () => {
      for (const [name, sid] of [
        ["metrics-any-namespace", "MetricsAnyNamespace"],
        ["metrics-namespace-pattern", "MetricsNamespacePattern"],
        ["metrics-foreign-key", "MetricsForeignKey"],
      ]) {
        fires(vs, resourceStarOnlyWhereRequired, {
          type: T.rolePolicy,
          name,
          level: "mandatory",
          message: `statement ${sid} grants on "*" actions that take resource ARNs: cloudwatch:PutMetricData`,
        });
      }
      passes(vs, resourceStarOnlyWhereRequired, "metrics-own-namespace");
    });

    it("passes names and name prefixes (task-definition/<family>:*, log-group:<name>:*, secret:<name>-*, <bucket>/*, service/<cluster>/<name>) and a created ENI pinned to its subnets", () => {
      passes(
        vs,
        resourceStarOnlyWhereRequired,
        "own-revisions",
        "own-log-group",
        "own-secret",
        "own-objects",
        "own-service",
        "eni-own-subnets",
        "eni-own-vpc",
      );
      // A VPC condition with a wildcard bounds nothing.
      assert.equal(ofRule(vs, resourceStarOnlyWhereRequired, "eni-any-vpc").length, 1);
      const mixed = ofRule(vs, resourceStarOnlyWhereRequired, "mixed");
      assert.equal(mixed.length, 1, show(mixed));
      assert.ok(
        !mixed[0].message.includes("lumerin-assets-dev") && !mixed[0].message.includes("s3:GetObject"),
        mixed[0].message,
      );
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
          new aws.iam.PolicyAttachment("admin-everywhere", {
            policyArn: ADMIN,
            roles: [app.name, deployer.name],
            groups: [ops.name],
          });
          new aws.iam.RolePolicyAttachmentsExclusive("app-exclusive", {
            roleName: app.name,
            policyArns: [managed("PowerUserAccess"), managed("ReadOnlyAccess")],
          });
          new aws.iam.GroupPolicyAttachment("ops-iam", { group: ops.name, policyArn: managed("IAMFullAccess") });
          new aws.iam.GroupPolicyAttachmentsExclusive("ops-exclusive", { groupName: ops.name, policyArns: [ADMIN] });
          new aws.iam.UserPolicyAttachment("bot-admin", { user: "ci-bot", policyArn: ADMIN });
          // "*" to the privileged deployer, and to a group: not an exception.
          const star = new aws.iam.Policy("shared-star", {
            name: "shared-star",
            policy: doc(allow("*", "*", { Sid: "Everything" })),
          });
          new aws.iam.PolicyAttachment("shared-star-attach", {
            policyArn: star.arn,
            roles: [deployer.name],
            groups: [ops.name],
          });
        },
        { config: { privilegedRoles: ["deployer"] } },
      );
      const mandatory = (type: string, name: string, message: string) =>
        fires(vs, noWildcardActions, { type, name, level: "mandatory", message });
      mandatory(
        T.policyAttachment,
        "admin-everywhere",
        "attaches the AWS-managed AdministratorAccess policy to role app-task",
      );
      mandatory(
        T.policyAttachment,
        "admin-everywhere",
        "attaches the AWS-managed AdministratorAccess policy to group ops: admin policies go only to privilegedRoles roles, never to a user or group",
      );
      mandatory(
        T.roleAttachmentsExclusive,
        "app-exclusive",
        "attaches the AWS-managed PowerUserAccess policy to role app-task",
      );
      mandatory(T.groupAttachment, "ops-iam", "attaches the AWS-managed IAMFullAccess policy to group ops");
      mandatory(
        T.groupAttachmentsExclusive,
        "ops-exclusive",
        "attaches the AWS-managed AdministratorAccess policy to group ops",
      );
      mandatory(T.userAttachment, "bot-admin", "attaches the AWS-managed AdministratorAccess policy to user ci-bot");
      mandatory(T.policy, "shared-star", 'allows "*" (Everything)');
      fires(vs, noWildcardActions, {
        type: T.policyAttachment,
        name: "admin-everywhere",
        level: "advisory",
        message:
          /^allowed exception \(privilegedRoles\): attaches the AWS-managed AdministratorAccess policy to role deployer$/,
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
          new aws.iam.RolePolicyAttachmentsExclusive("deployer-exclusive", {
            roleName: deployer.name,
            policyArns: [managed("AdministratorAccess")],
          });
          const star = new aws.iam.Policy("deployer-star", {
            name: "deployer-star",
            policy: doc(allow("*", "*", { Sid: "Deployer" })),
          });
          new aws.iam.PolicyAttachment("deployer-star-attach", { policyArn: star.arn, roles: [deployer.name] });
        },
        { config: { privilegedRoles: ["deployer"] } },
      );
      passes(vs, noWildcardActions, "preview-read", "preview");
      fires(vs, noWildcardActions, {
        type: T.roleAttachmentsExclusive,
        name: "deployer-exclusive",
        level: "advisory",
        message:
          /^allowed exception \(privilegedRoles\): attaches the AWS-managed AdministratorAccess policy to role deployer$/,
      });
      // The customer policy is linked to the deployer through the PolicyAttachment, so its "*" is the deployer's exception too.
      fires(vs, noWildcardActions, {
        type: T.policy,
        name: "deployer-star",
        level: "advisory",
        message: /^allowed exception \(privilegedRoles\): allows "\*" \(Deployer\)$/,
      });
      assert.deepEqual(
        vs.filter((v) => v.level === "mandatory"),
        [],
      );
    });

    it("in a preview, an attachment whose principal is not known yet is never an exception", async () => {
      // CLI-preview-shaped views (unknowns arrive as undefined): the joins skip what they cannot resolve.
      const view = (
        type: string,
        name: string,
        props: Record<string, unknown>,
        outputs: Record<string, unknown> = {},
      ): ResourceView => ({
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
          view(
            T.policy,
            "star",
            {
              name: "star",
              policy: JSON.stringify({
                Version: "2012-10-17",
                Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }],
              }),
            },
            { arn: starArn },
          ),
          view(T.policyAttachment, "star-attach", { policyArn: starArn, roles: ["deployer", undefined] }),
          view(T.roleAttachmentsExclusive, "admin-unknown", {
            roleName: undefined,
            policyArns: [managed("AdministratorAccess")],
          }),
          // A policy ARN not known yet links nothing.
          view(T.policyAttachment, "pending", { policyArn: undefined, roles: ["deployer"] }),
        ],
        { stack: "dev", config: { privilegedRoles: ["deployer"] }, rules: [noWildcardActions] },
      );
      fires(vs, noWildcardActions, { type: T.policy, name: "star", level: "mandatory", message: 'allows "*"' });
      fires(vs, noWildcardActions, {
        type: T.roleAttachmentsExclusive,
        name: "admin-unknown",
        level: "mandatory",
        message: "attaches the AWS-managed AdministratorAccess policy to a role not known yet",
      });
      passes(vs, noWildcardActions, "pending", "star-attach", "deployer");
    });

    it("github-roles-read-no-secrets fires on a secret-reading managed policy or customer policy reaching a GitHub-trusted role through PolicyAttachment or RolePolicyAttachmentsExclusive; passes the run-time role", async () => {
      const vs = await violations(githubRolesReadNoSecrets, () => {
        const gh = role("gh-deploy", pinned("repo:Lumerin-protocol/proxy-router:environment:dev"));
        const exec = role("app-exec");
        const secret = new aws.secretsmanager.Secret("app-config", { name: "/app/dev/config", kmsKeyId: KEY_ARN });
        new aws.iam.RolePolicyAttachmentsExclusive("gh-exclusive", {
          roleName: gh.name,
          policyArns: [managed("SecretsManagerReadWrite")],
        });
        new aws.iam.PolicyAttachment("gh-managed-read", {
          policyArn: managed("SecretsManagerReadWrite"),
          roles: [gh.name],
        });
        const read = new aws.iam.Policy("read-config", {
          name: "read-config",
          policy: doc(allow("secretsmanager:GetSecretValue", secret.arn, { Sid: "ReadConfig" })),
        });
        new aws.iam.PolicyAttachment("read-config-attach", { policyArn: read.arn, roles: [gh.name] });
        // The run-time role reads secrets: not this rule's concern, however attached.
        const runtime = new aws.iam.Policy("exec-read", {
          name: "exec-read",
          policy: doc(allow("secretsmanager:GetSecretValue", secret.arn)),
        });
        new aws.iam.RolePolicyAttachmentsExclusive("exec-exclusive", {
          roleName: exec.name,
          policyArns: [runtime.arn, managed("SecretsManagerReadWrite")],
        });
      });
      const message =
        "GitHub-trusted role gh-deploy gets the AWS-managed SecretsManagerReadWrite policy, which reads secrets";
      fires(vs, githubRolesReadNoSecrets, {
        type: T.roleAttachmentsExclusive,
        name: "gh-exclusive",
        level: "mandatory",
        message,
      });
      fires(vs, githubRolesReadNoSecrets, {
        type: T.policyAttachment,
        name: "gh-managed-read",
        level: "mandatory",
        message,
      });
      fires(vs, githubRolesReadNoSecrets, {
        type: T.policy,
        name: "read-config",
        level: "mandatory",
        message: "GitHub-trusted role gh-deploy can read secrets: secretsmanager:GetSecretValue (ReadConfig)",
      });
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
        taskDefinition(
          "svc-over",
          [{ name: "app", secrets: [{ name: "A", valueFrom: pulumi.interpolate`${a.arn}:key::` }] }],
          { executionRoleArn: over.arn },
        );
        const overRead = new aws.iam.Policy("over-read", {
          name: "over-read",
          policy: doc(allow("secretsmanager:GetSecretValue", [a.arn, b.arn])),
        });
        new aws.iam.RolePolicyAttachmentsExclusive("over-exclusive", {
          roleName: over.name,
          policyArns: [overRead.arn],
        });
        const exact = role("exact-exec");
        taskDefinition(
          "svc-exact",
          [{ name: "app", secrets: [{ name: "A", valueFrom: pulumi.interpolate`${a.arn}:key::` }] }],
          { executionRoleArn: exact.arn },
        );
        const exactRead = new aws.iam.Policy("exact-read", {
          name: "exact-read",
          policy: doc(allow("secretsmanager:GetSecretValue", a.arn)),
        });
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
        new aws.iam.PolicyAttachment("to-users", {
          policyArn: managed("ReadOnlyAccess"),
          users: ["ci-bot"],
          roles: [app.name],
        });
        new aws.iam.UserPolicyAttachmentsExclusive("bot-exclusive", {
          userName: "ci-bot",
          policyArns: [managed("ReadOnlyAccess")],
        });
        new aws.iam.PolicyAttachment("to-roles", { policyArn: managed("ReadOnlyAccess"), roles: [app.name] });
      });
      fires(vs, noUsersOrAccessKeys, {
        type: T.policyAttachment,
        name: "to-users",
        level: "mandatory",
        message: 'PolicyAttachment "to-users" grants IAM users ci-bot, long-lived credentials',
      });
      fires(vs, noUsersOrAccessKeys, {
        type: T.userAttachmentsExclusive,
        name: "bot-exclusive",
        level: "mandatory",
        message: 'UserPolicyAttachmentsExclusive "bot-exclusive" is a long-lived credential',
      });
      passes(vs, noUsersOrAccessKeys, "to-roles", "app-task");
      assert.equal(vs.length, 2, show(vs));
    });
  });

  describe("iam-no-users-or-access-keys", () => {
    it("fires on an aws.iam.User and its aws.iam.AccessKey, and passes a role", async () => {
      const vs = await violations(noUsersOrAccessKeys, () => {
        const user = new aws.iam.User("ci-user", { name: "ci-user" });
        new aws.iam.AccessKey("ci-key", { user: user.name });
        role("ci-role", pinned("repo:Lumerin-protocol/proxy-router:environment:dev"));
      });
      fires(vs, noUsersOrAccessKeys, {
        type: T.user,
        name: "ci-user",
        level: "mandatory",
        message: 'User "ci-user" is a long-lived credential',
      });
      fires(vs, noUsersOrAccessKeys, {
        type: T.accessKey,
        name: "ci-key",
        level: "mandatory",
        message: 'AccessKey "ci-key" is a long-lived credential',
      });
      passes(vs, noUsersOrAccessKeys, "ci-role");
      assert.equal(vs.length, 2, show(vs));
    });

    it("fires on a console login profile, a service-specific credential (a CodeCommit password), an SSH key and a signing certificate", async () => {
      const vs = await violations(noUsersOrAccessKeys, () => {
        new aws.iam.UserLoginProfile("ops-console", { user: "ops" });
        new aws.iam.ServiceSpecificCredential("ops-git", { userName: "ops", serviceName: "codecommit.amazonaws.com" });
        new aws.iam.SshKey("ops-ssh", {
          username: "ops",
          encoding: "SSH",
          publicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleOnlyNotARealKeyAtAll ops",
        });
        new aws.iam.SigningCertificate("ops-cert", {
          userName: "ops",
          certificateBody: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
        });
      });
      fires(vs, noUsersOrAccessKeys, {
        type: "aws:iam/userLoginProfile:UserLoginProfile",
        name: "ops-console",
        level: "mandatory",
        message: 'UserLoginProfile "ops-console" is a long-lived credential',
      });
      fires(vs, noUsersOrAccessKeys, {
        type: "aws:iam/serviceSpecificCredential:ServiceSpecificCredential",
        name: "ops-git",
        level: "mandatory",
        message: 'ServiceSpecificCredential "ops-git" is a long-lived credential',
      });
      fires(vs, noUsersOrAccessKeys, {
        type: "aws:iam/sshKey:SshKey",
        name: "ops-ssh",
        level: "mandatory",
        message: 'SshKey "ops-ssh" is a long-lived credential',
      });
      fires(vs, noUsersOrAccessKeys, {
        type: "aws:iam/signingCertificate:SigningCertificate",
        name: "ops-cert",
        level: "mandatory",
        message: 'SigningCertificate "ops-cert" is a long-lived credential',
      });
    });
  });

  describe("github-oidc-trust-pinned", () => {
    it("fires on dev without aud, without sub, with a wildcard owner or repository, or another owner", async () => {
      const vs = await violations(githubTrustPinned, () => {
        role("gh-no-aud", githubTrust({ StringLike: { [SUB]: "repo:Lumerin-protocol/proxy-router:*" } }));
        role("gh-no-sub", githubTrust({ StringEquals: { [AUD]: "sts.amazonaws.com" } }));
        role(
          "gh-any-owner",
          githubTrust({ StringEquals: { [AUD]: "sts.amazonaws.com" }, StringLike: { [SUB]: "repo:*/proxy-router:*" } }),
        );
        role(
          "gh-any-repo",
          githubTrust({
            StringEquals: { [AUD]: "sts.amazonaws.com" },
            StringLike: { [SUB]: "repo:Lumerin-protocol/*:*" },
          }),
        );
        role("gh-other-owner", pinned("repo:someone-else/proxy-router:environment:dev"));
        // GitHub spells the owner Lumerin-protocol; StringEquals on another spelling never matches a real token.
        role("gh-lower-case-owner", pinned("repo:lumerin-protocol/proxy-router:environment:dev"));
        role("gh-lower-case-owner-immutable", pinned("repo:lumerin-protocol@1234/proxy-router@5678:environment:dev"));
        role("gh-not-repo", githubTrust({ StringEquals: { [AUD]: "sts.amazonaws.com" }, StringLike: { [SUB]: "*" } }));
      });
      fires(vs, githubTrustPinned, {
        type: T.role,
        name: "gh-no-aud",
        level: "mandatory",
        message: 'trust statement GitHubActions: aud must be StringEquals "sts.amazonaws.com"',
      });
      fires(vs, githubTrustPinned, {
        type: T.role,
        name: "gh-no-sub",
        level: "mandatory",
        message: "no sub condition, so any repository on GitHub could assume the role",
      });
      fires(vs, githubTrustPinned, {
        type: T.role,
        name: "gh-any-owner",
        level: "mandatory",
        message: 'sub "repo:*/proxy-router:*" has a wildcard in owner or repository',
      });
      fires(vs, githubTrustPinned, {
        type: T.role,
        name: "gh-any-repo",
        level: "mandatory",
        message: 'sub "repo:Lumerin-protocol/*:*" has a wildcard in owner or repository',
      });
      fires(vs, githubTrustPinned, {
        type: T.role,
        name: "gh-other-owner",
        level: "mandatory",
        message: 'trusts owner "someone-else", not "Lumerin-protocol"',
      });
      fires(vs, githubTrustPinned, {
        type: T.role,
        name: "gh-lower-case-owner",
        level: "mandatory",
        message:
          'sub "repo:lumerin-protocol/proxy-router:environment:dev" spells the owner "lumerin-protocol", but GitHub spells it "Lumerin-protocol"; the subject is compared case-sensitively',
      });
      fires(vs, githubTrustPinned, {
        type: T.role,
        name: "gh-lower-case-owner-immutable",
        level: "mandatory",
        message: 'spells the owner "lumerin-protocol", but GitHub spells it "Lumerin-protocol"',
      });
      fires(vs, githubTrustPinned, {
        type: T.role,
        name: "gh-not-repo",
        level: "mandatory",
        message: 'sub "*" is not of the form repo:<owner>/<repo>:<context> or repo:<owner>@<id>/<repo>@<id>:<context>',
      });
      // The no-aud role's sub is fine on dev: exactly one finding.
      assert.equal(ofRule(vs, githubTrustPinned, "gh-no-aud").length, 1, show(vs));
    });

    it("passes a pinned repository with aud on dev, and ignores roles GitHub cannot assume", async () => {
      const vs = await violations(githubTrustPinned, () => {
        role("gh-dev", pinned("repo:Lumerin-protocol/proxy-router:environment:dev"));
        // GitHub's immutable subject form (owner and repository ids).
        role("gh-dev-immutable", pinned("repo:Lumerin-protocol@1234/proxy-router@5678:environment:dev"));
        role(
          "gh-dev-branches",
          githubTrust({
            StringEquals: { [AUD]: "sts.amazonaws.com" },
            StringLike: { [SUB]: "repo:Lumerin-protocol/proxy-router:*" },
          }),
        );
        role("ecs-task");
      });
      passes(vs, githubTrustPinned);
    });

    it("on the production stack fires on a non-production subject and passes environment:main", async () => {
      const vs = await violations(
        githubTrustPinned,
        () => {
          role("gh-lmn-dev", pinned("repo:Lumerin-protocol/proxy-router:environment:dev"));
          role("gh-lmn-main", pinned("repo:Lumerin-protocol/proxy-router:environment:main"));
          role("gh-lmn-branch", pinned("repo:Lumerin-protocol/proxy-router:ref:refs/heads/main"));
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
        const gh = role("gh-deploy", pinned("repo:Lumerin-protocol/proxy-router:environment:dev"));
        const secret = new aws.secretsmanager.Secret("app-config", { name: "/app/dev/config", kmsKeyId: KEY_ARN });
        const secure = new aws.ssm.Parameter("db-url", {
          name: "/app/dev/db-url",
          type: "SecureString",
          value: pulumi.secret("postgres://db.internal:5432/app"),
        });
        const plain = new aws.ssm.Parameter("image-tag", {
          name: "/app/dev/image-tag",
          type: "String",
          value: "v1.2.3",
        });
        new aws.iam.RolePolicy("gh-read-secret", {
          role: gh.name,
          policy: doc(allow("secretsmanager:GetSecretValue", secret.arn, { Sid: "ReadConfig" })),
        });
        new aws.iam.RolePolicy("gh-decrypt", {
          role: gh.name,
          policy: doc(allow("kms:Decrypt", KEY_ARN, { Sid: "Decrypt" })),
        });
        new aws.iam.RolePolicy("gh-read-param", {
          role: gh.name,
          policy: doc(allow(["ssm:GetParameter", "ssm:GetParameters"], secure.arn, { Sid: "ReadDbUrl" })),
        });
        new aws.iam.RolePolicy("gh-read-tag", {
          role: gh.name,
          policy: doc(allow(["ssm:GetParameter", "ssm:PutParameter"], plain.arn, { Sid: "ImageTag" })),
        });
        new aws.iam.RolePolicy("gh-deploy-ecs", {
          role: gh.name,
          policy: doc(allow("ecs:UpdateService", `arn:aws:ecs:${REGION}:${ACCOUNT}:service/c/svc`)),
        });
        // Pulumi's secrets-provider key encrypts stack config, not Secrets Manager secrets: a preview may decrypt it.
        new aws.iam.RolePolicy("gh-decrypt-stack-config", {
          role: gh.name,
          policy: doc(
            allow("kms:Decrypt", `arn:aws:kms:${REGION}:${ACCOUNT}:key/99999999-1111-2222-3333-444444444444`, {
              Sid: "StackConfig",
            }),
          ),
        });
        // Through a managed policy attached by ARN, too.
        const managed = new aws.iam.Policy("gh-managed", {
          name: "gh-managed",
          policy: doc(allow("secretsmanager:GetSecretValue", secret.arn, { Sid: "ManagedRead" })),
        });
        new aws.iam.RolePolicyAttachment("gh-managed-attach", { role: gh.name, policyArn: managed.arn });
        // The run-time role reads secrets: not this rule's concern.
        const exec = role("app-exec");
        new aws.iam.RolePolicy("app-exec-read", {
          role: exec.name,
          policy: doc(allow("secretsmanager:GetSecretValue", secret.arn)),
        });
      });
    });

    it("fires on secretsmanager:GetSecretValue, kms:Decrypt and ssm:GetParameter on a SecureString granted to a GitHub-trusted role", () => {
      fires(vs, githubRolesReadNoSecrets, {
        type: T.rolePolicy,
        name: "gh-read-secret",
        level: "mandatory",
        message: "GitHub-trusted role gh-deploy can read secrets: secretsmanager:GetSecretValue (ReadConfig)",
      });
      fires(vs, githubRolesReadNoSecrets, {
        type: T.rolePolicy,
        name: "gh-decrypt",
        level: "mandatory",
        message: "GitHub-trusted role gh-deploy can read secrets: kms:Decrypt (Decrypt)",
      });
      fires(vs, githubRolesReadNoSecrets, {
        type: T.rolePolicy,
        name: "gh-read-param",
        level: "mandatory",
        message: "can read secrets: ssm:GetParameter, ssm:GetParameters (ReadDbUrl)",
      });
      fires(vs, githubRolesReadNoSecrets, {
        type: T.policy,
        name: "gh-managed",
        level: "mandatory",
        message: "GitHub-trusted role gh-deploy can read secrets: secretsmanager:GetSecretValue (ManagedRead)",
      });
    });

    it("passes deploy actions, a plain String parameter, and a run-time role reading its secret", () => {
      passes(vs, githubRolesReadNoSecrets, "gh-deploy-ecs", "gh-read-tag", "app-exec-read", "gh-decrypt-stack-config");
      assert.equal(ofRule(vs, githubRolesReadNoSecrets).length, 4, show(vs));
    });

    it("fires on action patterns that include a secret read (secretsmanager:Get*, kms:Decr*, ssm:Get* on a SecureString)", async () => {
      // SECRET_READS matches only the exact names and "service:*"; the patterns are not expanded (iam-facts could).
      const patterns = await violations(githubRolesReadNoSecrets, () => {
        const gh = role("gh-deploy", pinned("repo:Lumerin-protocol/proxy-router:environment:dev"));
        const secret = new aws.secretsmanager.Secret("app-config", { name: "/app/dev/config", kmsKeyId: KEY_ARN });
        const secure = new aws.ssm.Parameter("db-url", {
          name: "/app/dev/db-url",
          type: "SecureString",
          value: pulumi.secret("postgres://db.internal:5432/app"),
        });
        new aws.iam.RolePolicy("gh-get-star", {
          role: gh.name,
          policy: doc(allow("secretsmanager:Get*", secret.arn, { Sid: "GetStar" })),
        });
        new aws.iam.RolePolicy("gh-decr-star", {
          role: gh.name,
          policy: doc(allow("kms:Decr*", KEY_ARN, { Sid: "DecrStar" })),
        });
        new aws.iam.RolePolicy("gh-ssm-star", {
          role: gh.name,
          policy: doc(allow("ssm:Get*", secure.arn, { Sid: "SsmStar" })),
        });
      });
      for (const name of ["gh-get-star", "gh-decr-star", "gh-ssm-star"]) {
        fires(patterns, githubRolesReadNoSecrets, {
          type: T.rolePolicy,
          name,
          level: "mandatory",
          message: "GitHub-trusted role gh-deploy can read secrets",
        });
      }
    });

    it("a preview role (previewRoles) may read exactly the secrets whose value the stack writes (in its state already), reported as an exception; any other secret read is mandatory", async () => {
      const vs = await violations(githubRolesReadNoSecrets, () => {
        const preview = role("lumerin-infra-preview-dev", pinned("repo:Lumerin-protocol/lumerin-infra:pull_request"));
        const held = new aws.secretsmanager.Secret("held", { name: "/app/dev/held", kmsKeyId: KEY_ARN });
        new aws.secretsmanager.SecretVersion("held-value", {
          secretId: held.id,
          secretString: pulumi.secret('{"k":"v"}'),
        });
        const outOfBand = new aws.secretsmanager.Secret("out-of-band", { name: "/app/dev/oob", kmsKeyId: KEY_ARN });
        new aws.iam.RolePolicy("preview-reads-held", {
          role: preview.name,
          policy: doc(
            allow("secretsmanager:GetSecretValue", held.arn, { Sid: "Held" }),
            allow("kms:Decrypt", KEY_ARN, {
              Sid: "ViaSecretsManager",
              Condition: { StringEquals: { "kms:ViaService": "secretsmanager.us-east-1.amazonaws.com" } },
            }),
          ),
        });
        const other = role("lumerin-infra-preview-stg", pinned("repo:Lumerin-protocol/lumerin-infra:pull_request"));
        new aws.iam.RolePolicy("preview-reads-out-of-band", {
          role: other.name,
          policy: doc(allow("secretsmanager:GetSecretValue", outOfBand.arn, { Sid: "OutOfBand" })),
        });
        // Decrypt outside Secrets Manager reads every secret of the key: never an exception.
        const third = role("lumerin-infra-preview-lmn", pinned("repo:Lumerin-protocol/lumerin-infra:pull_request"));
        new aws.iam.RolePolicy("preview-decrypts-directly", {
          role: third.name,
          policy: doc(
            allow("secretsmanager:GetSecretValue", held.arn, { Sid: "Held" }),
            allow("kms:Decrypt", KEY_ARN, { Sid: "Direct" }),
          ),
        });
      });
      const held = ofRule(vs, githubRolesReadNoSecrets, "preview-reads-held");
      assert.equal(held.length, 2, show(vs));
      for (const v of held) {
        assert.equal(v.level, "advisory");
        assert.match(
          v.message,
          /^allowed exception \(previewRoles\): GitHub-trusted role lumerin-infra-preview-dev can read secrets: .*only those whose values its stack's state already holds$/,
        );
      }
      fires(vs, githubRolesReadNoSecrets, {
        type: T.rolePolicy,
        name: "preview-reads-out-of-band",
        level: "mandatory",
        message:
          "GitHub-trusted role lumerin-infra-preview-stg can read secrets: secretsmanager:GetSecretValue (OutOfBand)",
      });
      fires(vs, githubRolesReadNoSecrets, {
        type: T.rolePolicy,
        name: "preview-decrypts-directly",
        level: "mandatory",
        message: "GitHub-trusted role lumerin-infra-preview-lmn can read secrets: kms:Decrypt (Direct)",
      });
    });

    it("resolves a secret's key given by alias (name or ARN) to the key, so kms:Decrypt on that key fires; a key no secret uses passes", async () => {
      const vs = await violations(githubRolesReadNoSecrets, () => {
        const gh = role("gh-deploy", pinned("repo:lumerin-protocol/proxy-router:environment:dev"));
        const key = new aws.kms.Key("secrets-key", { description: "secrets", enableKeyRotation: true });
        const other = new aws.kms.Key("config-key", { description: "stack config", enableKeyRotation: true });
        new aws.kms.Alias("secrets-alias", { name: "alias/platform-dev", targetKeyId: key.keyId });
        new aws.secretsmanager.Secret("by-alias", { name: "/app/dev/by-alias", kmsKeyId: "alias/platform-dev" });
        new aws.secretsmanager.Secret("by-alias-arn", {
          name: "/app/dev/by-alias-arn",
          kmsKeyId: `arn:aws:kms:${REGION}:${ACCOUNT}:alias/platform-dev`,
        });
        new aws.iam.RolePolicy("gh-decrypt-secrets-key", {
          role: gh.name,
          policy: doc(allow("kms:Decrypt", key.arn, { Sid: "DecryptSecretsKey" })),
        });
        new aws.iam.RolePolicy("gh-decrypt-config-key", {
          role: gh.name,
          policy: doc(allow("kms:Decrypt", other.arn, { Sid: "DecryptConfigKey" })),
        });
      });
      fires(vs, githubRolesReadNoSecrets, {
        type: T.rolePolicy,
        name: "gh-decrypt-secrets-key",
        level: "mandatory",
        message: "GitHub-trusted role gh-deploy can read secrets: kms:Decrypt (DecryptSecretsKey)",
      });
      passes(vs, githubRolesReadNoSecrets, "gh-decrypt-config-key");
    });

    it("treats a secret whose key alias this stack does not hold as encrypted by any key", async () => {
      const vs = await violations(githubRolesReadNoSecrets, () => {
        const gh = role("gh-deploy", pinned("repo:lumerin-protocol/proxy-router:environment:dev"));
        new aws.secretsmanager.Secret("by-foreign-alias", { name: "/app/dev/x", kmsKeyId: "alias/shared-secrets" });
        new aws.iam.RolePolicy("gh-decrypt-some-key", {
          role: gh.name,
          policy: doc(allow("kms:Decrypt", KEY_ARN, { Sid: "DecryptSomeKey" })),
        });
      });
      fires(vs, githubRolesReadNoSecrets, {
        type: T.rolePolicy,
        name: "gh-decrypt-some-key",
        level: "mandatory",
        message: "can read secrets: kms:Decrypt (DecryptSomeKey)",
      });
    });
  });

  describe("github-roles-no-iam-escalation", () => {
    let vs: PolicyViolation[];
    before(async () => {
      vs = await violations(githubRolesNoIamEscalation, () => {
        const gh = role("gh-deploy", pinned("repo:lumerin-protocol/proxy-router:environment:dev"));
        const exec = role("svc-exec");
        const task = role("svc-task");
        const admin = role("ops-admin");
        new aws.iam.RolePolicyAttachment("ops-admin-attach", {
          role: admin.name,
          policyArn: managed("AdministratorAccess"),
        });
        const iamWriter = role("iam-writer");
        new aws.iam.RolePolicy("iam-writer-policy", {
          role: iamWriter.name,
          policy: doc(allow("iam:AttachRolePolicy", `arn:aws:iam::${ACCOUNT}:role/app-*`)),
        });
        const ecsPass = { Condition: { StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } } };
        new aws.iam.RolePolicy("gh-pass-own", {
          role: gh.name,
          policy: doc(allow("iam:PassRole", [exec.arn, task.arn], { Sid: "PassOwnTaskRoles", ...ecsPass })),
        });
        new aws.iam.RolePolicy("gh-pass-admin", {
          role: gh.name,
          policy: doc(allow("iam:PassRole", [task.arn, admin.arn], { Sid: "PassAdmin", ...ecsPass })),
        });
        new aws.iam.RolePolicy("gh-pass-iam-writer", {
          role: gh.name,
          policy: doc(allow("iam:PassRole", iamWriter.arn, { Sid: "PassIamWriter", ...ecsPass })),
        });
        new aws.iam.RolePolicy("gh-assume-admin", {
          role: gh.name,
          policy: doc(allow("sts:AssumeRole", admin.arn, { Sid: "ChainToAdmin" })),
        });
        new aws.iam.RolePolicy("gh-assume-task", {
          role: gh.name,
          policy: doc(allow("sts:AssumeRole", task.arn, { Sid: "ChainToTask" })),
        });
        new aws.iam.RolePolicy("gh-own-trust", {
          role: gh.name,
          policy: doc(allow("iam:UpdateAssumeRolePolicy", gh.arn, { Sid: "RewriteOwnTrust" })),
        });
        new aws.iam.RolePolicy("gh-attach", {
          role: gh.name,
          policy: doc(allow("iam:Attach*", `arn:aws:iam::${ACCOUNT}:role/svc-*`, { Sid: "AttachPolicies" })),
        });
        new aws.iam.RolePolicy("gh-read-iam", {
          role: gh.name,
          policy: doc(allow(["iam:GetRole", "iam:ListRolePolicies"], exec.arn, { Sid: "ReadIam" })),
        });
        new aws.iam.RolePolicyAttachment("gh-iam-full", { role: gh.name, policyArn: managed("IAMFullAccess") });
        // The deployer runs pulumi up: AdministratorAccess on a privilegedRoles role is the allowed exception.
        const deployer = role(
          "lumerin-infra-deployer-dev",
          pinned("repo:lumerin-protocol/lumerin-infra:environment:dev"),
        );
        new aws.iam.RolePolicyAttachment("deployer-admin", {
          role: deployer.name,
          policyArn: managed("AdministratorAccess"),
        });
        // A run-time role that may change IAM is not GitHub's.
        new aws.iam.RolePolicy("ops-iam", {
          role: iamWriter.name,
          policy: doc(allow("iam:UpdateAssumeRolePolicy", iamWriter.arn)),
        });
      });
    });

    it("fires on a GitHub-trusted role that changes IAM (its own trust, attachments, IAMFullAccess)", () => {
      fires(vs, githubRolesNoIamEscalation, {
        type: T.rolePolicy,
        name: "gh-own-trust",
        level: "mandatory",
        message:
          "GitHub-trusted role gh-deploy (RewriteOwnTrust) can change IAM: iam:UpdateAssumeRolePolicy, including its own trust policy",
      });
      fires(vs, githubRolesNoIamEscalation, {
        type: T.rolePolicy,
        name: "gh-attach",
        level: "mandatory",
        message: "GitHub-trusted role gh-deploy (AttachPolicies) can change IAM: iam:Attach*",
      });
      fires(vs, githubRolesNoIamEscalation, {
        type: T.attachment,
        name: "gh-iam-full",
        level: "mandatory",
        message: "GitHub-trusted role gh-deploy gets the AWS-managed IAMFullAccess policy, which changes IAM",
      });
    });

    it("fires on passing a role with AdministratorAccess or with IAM-changing rights, or on assuming one", () => {
      fires(vs, githubRolesNoIamEscalation, {
        type: T.rolePolicy,
        name: "gh-assume-admin",
        level: "mandatory",
        message:
          "GitHub-trusted role gh-deploy (ChainToAdmin) can assume more privileged roles: ops-admin (holds AdministratorAccess)",
      });
      fires(vs, githubRolesNoIamEscalation, {
        type: T.rolePolicy,
        name: "gh-pass-admin",
        level: "mandatory",
        message:
          "GitHub-trusted role gh-deploy (PassAdmin) can pass more privileged roles: ops-admin (holds AdministratorAccess)",
      });
      fires(vs, githubRolesNoIamEscalation, {
        type: T.rolePolicy,
        name: "gh-pass-iam-writer",
        level: "mandatory",
        message: "can pass more privileged roles: iam-writer (can change IAM (iam:AttachRolePolicy))",
      });
    });

    it("passes passing the service's own roles, reading IAM, and a run-time role's IAM rights; the deployer's admin is an allowed exception", () => {
      passes(
        vs,
        githubRolesNoIamEscalation,
        "gh-pass-own",
        "gh-assume-task",
        "gh-read-iam",
        "ops-iam",
        "iam-writer-policy",
      );
      const deployer = ofRule(vs, githubRolesNoIamEscalation, "deployer-admin");
      assert.deepEqual(
        deployer.map((v) => [v.level, v.message]),
        [
          [
            "advisory",
            "allowed exception (privilegedRoles): GitHub-trusted role lumerin-infra-deployer-dev gets the AWS-managed AdministratorAccess policy, which changes IAM",
          ],
        ],
      );
    });
  });

  describe("ecs-task-role-is-not-execution-role", () => {
    it("fires on a task definition whose task role is its execution role; passes separate roles", async () => {
      const vs = await violations(taskRoleIsNotExecutionRole, () => {
        const exec = role("app-exec");
        const task = role("app-task");
        taskDefinition("svc-shared-role", [{ name: "app" }], { executionRoleArn: exec.arn, taskRoleArn: exec.arn });
        taskDefinition("svc-own-roles", [{ name: "app" }], { executionRoleArn: exec.arn, taskRoleArn: task.arn });
      });
      fires(vs, taskRoleIsNotExecutionRole, {
        type: T.taskDefinition,
        name: "svc-shared-role",
        level: "mandatory",
        message: `task definition svc-shared-role uses its execution role arn:aws:iam::${ACCOUNT}:role/app-exec as its task role`,
      });
      passes(vs, taskRoleIsNotExecutionRole, "svc-own-roles");
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
        taskDefinition(
          "svc-over",
          [{ name: "app", secrets: [{ name: "DB_PASSWORD", valueFrom: pulumi.interpolate`${a.arn}:password::` }] }],
          { executionRoleArn: over.arn },
        );
        new aws.iam.RolePolicy("over-exec-read", {
          role: over.name,
          policy: doc(allow("secretsmanager:GetSecretValue", [a.arn, b.arn], { Sid: "ReadSecrets" })),
        });
        const exact = role("exact-exec");
        taskDefinition(
          "svc-exact",
          [{ name: "app", secrets: [{ name: "DB_PASSWORD", valueFrom: pulumi.interpolate`${a.arn}:password::` }] }],
          { executionRoleArn: exact.arn },
        );
        new aws.iam.RolePolicy("exact-exec-read", {
          role: exact.name,
          policy: doc(allow("secretsmanager:GetSecretValue", a.arn, { Sid: "ReadOwnSecret" })),
        });
      });
      assert.ok(captured.b?.startsWith(`arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:/app/dev/b-`), captured.b);
      const hit = fires(vs, executionRolesReadOwnSecrets, {
        type: T.rolePolicy,
        name: "over-exec-read",
        level: "mandatory",
        message: `execution role over-exec can read secrets its task definitions (svc-over) do not reference: ${captured.b}`,
      });
      assert.ok(
        !/secret:\/app\/dev\/a-/.test(hit.message),
        `secret A is referenced and must not be named: ${hit.message}`,
      );
      passes(vs, executionRolesReadOwnSecrets, "exact-exec-read");
    });

    it("fires on an action pattern that reads secrets (secretsmanager:Get*) on a secret the task does not reference", async () => {
      const vs = await violations(executionRolesReadOwnSecrets, () => {
        const a = new aws.secretsmanager.Secret("secret-a", { name: "/app/dev/a" });
        const b = new aws.secretsmanager.Secret("secret-b", { name: "/app/dev/b" });
        const exec = role("pattern-exec");
        taskDefinition(
          "svc-pattern",
          [{ name: "app", secrets: [{ name: "DB_PASSWORD", valueFrom: pulumi.interpolate`${a.arn}:password::` }] }],
          { executionRoleArn: exec.arn },
        );
        new aws.iam.RolePolicy("pattern-exec-get", {
          role: exec.name,
          policy: doc(allow("secretsmanager:Get*", [a.arn, b.arn], { Sid: "GetStar" })),
        });
        new aws.iam.RolePolicy("pattern-exec-describe", {
          role: exec.name,
          policy: doc(allow("secretsmanager:Describe*", b.arn, { Sid: "DescribeOnly" })),
        });
      });
      fires(vs, executionRolesReadOwnSecrets, {
        type: T.rolePolicy,
        name: "pattern-exec-get",
        level: "mandatory",
        message:
          "execution role pattern-exec can read secrets its task definitions (svc-pattern) do not reference: arn:aws:secretsmanager:",
      });
      passes(vs, executionRolesReadOwnSecrets, "pattern-exec-describe");
    });

    it("passes an execution role shared by two task definitions that together reference every secret it reads", async () => {
      // The rule compares each task definition alone with the role's whole grant, so it reports secret B against
      // task 1 and secret A against task 2, though the role reads only what its task definitions reference.
      const vs = await violations(executionRolesReadOwnSecrets, () => {
        const a = new aws.secretsmanager.Secret("secret-a", { name: "/app/dev/a" });
        const b = new aws.secretsmanager.Secret("secret-b", { name: "/app/dev/b" });
        const shared = role("shared-exec");
        taskDefinition(
          "task-a",
          [{ name: "app", secrets: [{ name: "A", valueFrom: pulumi.interpolate`${a.arn}:key::` }] }],
          { executionRoleArn: shared.arn },
        );
        taskDefinition(
          "task-b",
          [{ name: "app", secrets: [{ name: "B", valueFrom: pulumi.interpolate`${b.arn}:key::` }] }],
          { executionRoleArn: shared.arn },
        );
        new aws.iam.RolePolicy("shared-exec-read", {
          role: shared.name,
          policy: doc(allow("secretsmanager:GetSecretValue", [a.arn, b.arn])),
        });
      });
      passes(vs, executionRolesReadOwnSecrets, "shared-exec-read");
    });
  });

  describe("github-roles-only-ask-the-deploy-runner", () => {
    /** An invoker Lambda: its presence says the stack deploys through the runner. */
    const invoker = () =>
      new aws.lambda.Function("invoker", {
        name: "deploy-invoker-dev",
        role: ARN("iam", "role/deploy-invoker-dev-lambda").replace(`:${REGION}:`, "::"),
        runtime: "nodejs24.x",
        handler: "index.handler",
        code: new pulumi.asset.AssetArchive({ "index.js": new pulumi.asset.StringAsset("exports.handler=()=>1") }),
      });
    const SERVICE = ARN("ecs", "service/c/svc");

    it("fires on a GitHub role that deploys ECS itself beside the runner, and on the caller role holding more than invoke and log reads", async () => {
      const vs = await violations(githubRolesOnlyAskTheRunner, () => {
        invoker();
        const deployer = role("gh-direct", pinned("repo:Lumerin-protocol/proxy-router:environment:dev"));
        new aws.iam.RolePolicy("gh-direct-deploy", {
          role: deployer.name,
          policy: doc(
            allow(["ecs:UpdateService", "ecs:DescribeServices"], SERVICE, { Sid: "Deploy" }),
            allow("iam:PassRole", ARN("iam", "role/app-exec").replace(`:${REGION}:`, "::"), { Sid: "Pass" }),
          ),
        });
        const caller = role("gh-runner", pinned("repo:Lumerin-protocol/proxy-router:environment:dev"));
        new aws.iam.RolePolicy("gh-runner-ask", {
          role: caller.name,
          policy: doc(
            allow("lambda:InvokeFunction", ARN("lambda", "function:deploy-invoker-dev"), { Sid: "Invoke" }),
            allow("logs:FilterLogEvents", ARN("logs", "log-group:/aws/lambda/deploy-runner-dev"), { Sid: "Logs" }),
          ),
        });
        new aws.iam.RolePolicy("gh-runner-more", {
          role: caller.name,
          policy: doc(allow("s3:GetObject", "arn:aws:s3:::some-bucket/*", { Sid: "Extra" })),
        });
      });
      fires(vs, githubRolesOnlyAskTheRunner, {
        type: T.rolePolicy,
        name: "gh-direct-deploy",
        level: "mandatory",
        message: /deploys itself beside the deploy runner: ecs:UpdateService \(Deploy\)/,
      });
      fires(vs, githubRolesOnlyAskTheRunner, {
        type: T.rolePolicy,
        name: "gh-direct-deploy",
        level: "mandatory",
        message: /deploys itself beside the deploy runner: iam:PassRole \(Pass\)/,
      });
      fires(vs, githubRolesOnlyAskTheRunner, {
        type: T.rolePolicy,
        name: "gh-runner-more",
        level: "mandatory",
        message:
          /may invoke the deploy runner's invoker, so it may do nothing else but read logs; it also has s3:GetObject/,
      });
      passes(vs, githubRolesOnlyAskTheRunner, "gh-runner-ask");
    });

    it("passes the caller that only asks and reads logs, a repository role that uploads its scheduled functions' code, and direct deploys in a stack without the runner", async () => {
      const withRunner = await violations(githubRolesOnlyAskTheRunner, () => {
        invoker();
        const caller = role("gh-runner", pinned("repo:Lumerin-protocol/proxy-router:environment:dev"));
        new aws.iam.RolePolicy("gh-runner-ask", {
          role: caller.name,
          policy: doc(
            allow("lambda:InvokeFunction", ARN("lambda", "function:deploy-invoker-dev"), { Sid: "Invoke" }),
            allow(
              ["logs:FilterLogEvents", "logs:GetLogEvents"],
              ARN("logs", "log-group:/aws/vendedlogs/states/deploy-runner-dev"),
              { Sid: "Logs" },
            ),
          ),
        });
        const futures = role("gh-futures", pinned("repo:Lumerin-protocol/futures-marketplace:environment:dev"));
        new aws.iam.RolePolicy("gh-futures-upload", {
          role: futures.name,
          policy: doc(
            allow("lambda:UpdateFunctionCode", ARN("lambda", "function:margin-call-v2-dev"), { Sid: "Upload" }),
          ),
        });
      });
      passes(withRunner, githubRolesOnlyAskTheRunner);
      const withoutRunner = await violations(githubRolesOnlyAskTheRunner, () => {
        const deployer = role("gh-direct", pinned("repo:Lumerin-protocol/proxy-router:environment:dev"));
        new aws.iam.RolePolicy("gh-direct-deploy", {
          role: deployer.name,
          policy: doc(allow("ecs:UpdateService", SERVICE, { Sid: "Deploy" })),
        });
      });
      passes(withoutRunner, githubRolesOnlyAskTheRunner);
    });
  });
});
