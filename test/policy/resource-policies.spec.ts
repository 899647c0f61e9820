/** Resource and trust policy rules (policy/rules/resource-policies.ts). */
import * as aws from "@pulumi/aws";
import { lambdaUrlsUseIam, resourcePoliciesPinCaller, trustPoliciesPinned } from "../../policy/rules/resource-policies";
import type { PolicyViolation } from "../../policy/rules/model";
import { ACCOUNT, REGION, violations } from "../support/policy";
import { ARN, T, doc, fires, lambda, passes, pinned, role } from "./support";

const R = {
  bucketPolicy: "aws:s3/bucketPolicy:BucketPolicy",
  queuePolicy: "aws:sqs/queuePolicy:QueuePolicy",
  queue: "aws:sqs/queue:Queue",
  topicPolicy: "aws:sns/topicPolicy:TopicPolicy",
  secretPolicy: "aws:secretsmanager/secretPolicy:SecretPolicy",
  permission: "aws:lambda/permission:Permission",
  functionUrl: "aws:lambda/functionUrl:FunctionUrl",
} as const;

const trust = (statement: Record<string, unknown>) =>
  JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "sts:AssumeRole", ...statement }] });

describe("policy rules: resource and trust policies", () => {
  describe("resource-policies-pin-the-caller", () => {
    let vs: PolicyViolation[];
    before(async () => {
      vs = await violations(resourcePoliciesPinCaller, () => {
        const bucket = "site-bucket";
        const objects = `arn:aws:s3:::${bucket}/*`;
        const distribution = `arn:aws:cloudfront::${ACCOUNT}:distribution/E2EXAMPLE`;
        // Public read, and CloudFront without its distribution: any distribution of any account could read.
        new aws.s3.BucketPolicy("bucket-public", {
          bucket,
          policy: doc({
            Sid: "PublicRead",
            Effect: "Allow",
            Principal: "*",
            Action: "s3:GetObject",
            Resource: objects,
          }),
        });
        new aws.s3.BucketPolicy("bucket-any-distribution", {
          bucket,
          policy: doc({
            Sid: "AnyCloudFront",
            Effect: "Allow",
            Principal: { Service: "cloudfront.amazonaws.com" },
            Action: "s3:GetObject",
            Resource: objects,
          }),
        });
        new aws.s3.BucketPolicy("bucket-oac", {
          bucket,
          policy: doc(
            {
              Sid: "ThisDistributionOnly",
              Effect: "Allow",
              Principal: { Service: "cloudfront.amazonaws.com" },
              Action: "s3:GetObject",
              Resource: objects,
              Condition: { StringEquals: { "AWS:SourceArn": distribution } },
            },
            {
              Sid: "DenyWithoutTls",
              Effect: "Deny",
              Principal: "*",
              Action: "s3:*",
              Resource: objects,
              Condition: { Bool: { "aws:SecureTransport": "false" } },
            },
          ),
        });
        const queueArn = ARN("sqs", "failures");
        new aws.sqs.QueuePolicy("queue-any-account", {
          queueUrl: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/failures`,
          policy: doc({
            Sid: "AnyAccountSends",
            Effect: "Allow",
            Principal: { AWS: "*" },
            Action: "sqs:SendMessage",
            Resource: queueArn,
          }),
        });
        new aws.sqs.QueuePolicy("queue-rule", {
          queueUrl: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/failures`,
          policy: doc({
            Sid: "OneRule",
            Effect: "Allow",
            Principal: { Service: "events.amazonaws.com" },
            Action: "sqs:SendMessage",
            Resource: queueArn,
            Condition: { ArnEquals: { "aws:SourceArn": ARN("events", "rule/r") } },
          }),
        });
        new aws.sqs.Queue("queue-inline-open", {
          name: "inline-open",
          sqsManagedSseEnabled: true,
          policy: doc({ Sid: "Open", Effect: "Allow", Principal: "*", Action: "sqs:SendMessage", Resource: "*" }),
        });
        new aws.sns.TopicPolicy("topic-org", {
          arn: ARN("sns", "alerts"),
          policy: doc({
            Sid: "OurOrganization",
            Effect: "Allow",
            Principal: { AWS: "*" },
            Action: "sns:Publish",
            Resource: ARN("sns", "alerts"),
            Condition: { StringEquals: { "aws:PrincipalOrgID": "o-abc123def4" } },
          }),
        });
        new aws.sns.TopicPolicy("topic-wildcard-org", {
          arn: ARN("sns", "alerts"),
          policy: doc({
            Sid: "AnyOrganization",
            Effect: "Allow",
            Principal: { AWS: "*" },
            Action: "sns:Publish",
            Resource: ARN("sns", "alerts"),
            Condition: { StringLike: { "aws:PrincipalOrgID": "*" } },
          }),
        });
        new aws.kms.Key("key-open", {
          description: "open",
          enableKeyRotation: true,
          policy: doc({
            Sid: "Everyone",
            Effect: "Allow",
            Principal: { AWS: "*" },
            Action: "kms:Decrypt",
            Resource: "*",
          }),
        });
        new aws.kms.Key("key-logs", {
          description: "logs",
          enableKeyRotation: true,
          policy: doc(
            {
              Sid: "AccountAdministers",
              Effect: "Allow",
              Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
              Action: "kms:*",
              Resource: "*",
            },
            {
              Sid: "LogsForOwnGroups",
              Effect: "Allow",
              Principal: { Service: `logs.${REGION}.amazonaws.com` },
              Action: ["kms:Encrypt", "kms:Decrypt"],
              Resource: "*",
              Condition: { ArnEquals: { "kms:EncryptionContext:aws:logs:arn": ARN("logs", "log-group:exec") } },
            },
          ),
        });
        new aws.secretsmanager.SecretPolicy("secret-open", {
          secretArn: ARN("secretsmanager", "secret:s-AbCdEf"),
          policy: doc({
            Sid: "AnyoneReads",
            Effect: "Allow",
            Principal: "*",
            Action: "secretsmanager:GetSecretValue",
            Resource: "*",
          }),
        });
        const fn = lambda("fn", {});
        new aws.lambda.Permission("invoke-any-rule", {
          function: fn.name,
          action: "lambda:InvokeFunction",
          principal: "events.amazonaws.com",
        });
        new aws.lambda.Permission("invoke-anyone", {
          function: fn.name,
          action: "lambda:InvokeFunction",
          principal: "*",
        });
        new aws.lambda.Permission("invoke-own-rule", {
          function: fn.name,
          action: "lambda:InvokeFunction",
          principal: "events.amazonaws.com",
          sourceArn: ARN("events", "rule/r"),
          sourceAccount: ACCOUNT,
        });
        new aws.lambda.Permission("invoke-account", {
          function: fn.name,
          action: "lambda:InvokeFunction",
          principal: ACCOUNT,
        });
      });
    });

    it("fires on * and AWS * without a caller condition, and on a service principal without aws:SourceArn (any distribution, any rule)", () => {
      fires(vs, resourcePoliciesPinCaller, {
        type: R.bucketPolicy,
        name: "bucket-public",
        level: "mandatory",
        message: 'bucket policy statement PublicRead admits "*" without a condition that pins the caller',
      });
      fires(vs, resourcePoliciesPinCaller, {
        type: R.bucketPolicy,
        name: "bucket-any-distribution",
        level: "mandatory",
        message: "bucket policy statement AnyCloudFront admits cloudfront.amazonaws.com without a condition",
      });
      fires(vs, resourcePoliciesPinCaller, {
        type: R.queuePolicy,
        name: "queue-any-account",
        level: "mandatory",
        message: 'queue policy statement AnyAccountSends admits AWS "*"',
      });
      fires(vs, resourcePoliciesPinCaller, {
        type: R.queue,
        name: "queue-inline-open",
        level: "mandatory",
        message: "queue policy statement Open",
      });
      fires(vs, resourcePoliciesPinCaller, {
        type: R.topicPolicy,
        name: "topic-wildcard-org",
        level: "mandatory",
        message: "topic policy statement AnyOrganization",
      });
      fires(vs, resourcePoliciesPinCaller, {
        type: T.kmsKey,
        name: "key-open",
        level: "mandatory",
        message: "key policy statement Everyone",
      });
      fires(vs, resourcePoliciesPinCaller, {
        type: R.secretPolicy,
        name: "secret-open",
        level: "mandatory",
        message: "secret policy statement AnyoneReads",
      });
      fires(vs, resourcePoliciesPinCaller, {
        type: R.permission,
        name: "invoke-any-rule",
        level: "mandatory",
        message: "lets events.amazonaws.com invoke",
      });
      fires(vs, resourcePoliciesPinCaller, {
        type: R.permission,
        name: "invoke-anyone",
        level: "mandatory",
        message: "lets anyone invoke",
      });
    });

    it("passes an OAC's distribution ARN, a rule's SourceArn, an organization, the account root, CloudWatch Logs by log group, a TLS deny, and a pinned or account permission", () => {
      passes(
        vs,
        resourcePoliciesPinCaller,
        "bucket-oac",
        "queue-rule",
        "topic-org",
        "key-logs",
        "invoke-own-rule",
        "invoke-account",
      );
    });
  });

  describe("trust-policies-pinned", () => {
    let vs: PolicyViolation[];
    before(async () => {
      vs = await violations(trustPoliciesPinned, () => {
        role("trust-anyone", trust({ Sid: "Anyone", Principal: { AWS: "*" } }));
        role(
          "trust-anyone-org",
          trust({
            Sid: "OurOrg",
            Principal: { AWS: "*" },
            Condition: { StringEquals: { "aws:PrincipalOrgID": "o-abc123def4" } },
          }),
        );
        const oidc = `arn:aws:iam::${ACCOUNT}:oidc-provider/oidc.example.com`;
        role(
          "trust-oidc-any-audience",
          trust({ Sid: "Oidc", Action: "sts:AssumeRoleWithWebIdentity", Principal: { Federated: oidc } }),
        );
        role(
          "trust-oidc-wildcard-audience",
          trust({
            Sid: "OidcLike",
            Action: "sts:AssumeRoleWithWebIdentity",
            Principal: { Federated: oidc },
            Condition: { StringLike: { "oidc.example.com:aud": "*" } },
          }),
        );
        role(
          "trust-oidc-audience",
          trust({
            Sid: "OidcAud",
            Action: "sts:AssumeRoleWithWebIdentity",
            Principal: { Federated: oidc },
            Condition: { StringEquals: { "oidc.example.com:aud": "lumerin-app" } },
          }),
        );
        role("trust-account", trust({ Sid: "Account", Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` } }));
        role(
          "trust-service",
          trust({
            Sid: "Ecs",
            Principal: { Service: "ecs-tasks.amazonaws.com" },
            Condition: { StringEquals: { "aws:SourceAccount": ACCOUNT } },
          }),
        );
        // GitHub's provider is github-oidc-trust-pinned's: not reported twice here.
        role("trust-github", pinned("repo:lumerin-protocol/proxy-router:environment:dev"));
      });
    });

    it("fires on AWS * without a caller condition and on a federated provider without an exact audience", () => {
      fires(vs, trustPoliciesPinned, {
        type: T.role,
        name: "trust-anyone",
        level: "mandatory",
        message: 'trust statement Anyone trusts AWS "*" without a condition that pins the caller',
      });
      fires(vs, trustPoliciesPinned, {
        type: T.role,
        name: "trust-oidc-any-audience",
        level: "mandatory",
        message:
          "trust statement Oidc trusts the identity provider arn:aws:iam::111122223333:oidc-provider/oidc.example.com without an exact audience",
      });
      fires(vs, trustPoliciesPinned, {
        type: T.role,
        name: "trust-oidc-wildcard-audience",
        level: "mandatory",
        message: "trust statement OidcLike trusts the identity provider",
      });
    });

    it("passes an organization-pinned *, an exact audience, the account, a service and GitHub's pinned trust", () => {
      passes(
        vs,
        trustPoliciesPinned,
        "trust-anyone-org",
        "trust-oidc-audience",
        "trust-account",
        "trust-service",
        "trust-github",
      );
    });
  });

  describe("lambda-function-urls-use-iam", () => {
    it("fires on a function URL with authorizationType NONE; passes AWS_IAM", async () => {
      const vs = await violations(lambdaUrlsUseIam, () => {
        const fn = lambda("url-fn", {});
        new aws.lambda.FunctionUrl("url-open", { functionName: fn.name, authorizationType: "NONE" });
        new aws.lambda.FunctionUrl("url-iam", { functionName: fn.name, authorizationType: "AWS_IAM" });
      });
      fires(vs, lambdaUrlsUseIam, {
        type: R.functionUrl,
        name: "url-open",
        level: "mandatory",
        message: "has authorizationType NONE: anyone on the internet can invoke it",
      });
      passes(vs, lambdaUrlsUseIam, "url-iam");
    });
  });
});
