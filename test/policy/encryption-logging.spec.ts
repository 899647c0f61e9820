/** Encryption and logging rules (policy/rules/encryption-logging.ts). */
import * as aws from "@pulumi/aws";
import {
  bucketsRequireTls,
  cloudfrontOriginsHttps,
  containersLog,
  ecsExecLogged,
  kmsKeysRotate,
  queuesAndTopicsEncrypted,
  rdsExportsLogs,
  rdsRequiresTls,
} from "../../policy/rules/encryption-logging";
import type { PolicyViolation } from "../../policy/rules/model";
import { violations } from "../support/policy";
import { CERT_ARN, KEY_ARN, T, doc, fires, passes, taskDefinition } from "./support";

const E = {
  queue: "aws:sqs/queue:Queue",
  topic: "aws:sns/topic:Topic",
  cluster: "aws:ecs/cluster:Cluster",
  bucket: "aws:s3/bucket:Bucket",
} as const;

const db = (name: string, extra: Partial<aws.rds.InstanceArgs> = {}) =>
  new aws.rds.Instance(name, {
    identifier: name,
    engine: "postgres",
    engineVersion: "17",
    instanceClass: "db.t4g.micro",
    allocatedStorage: 20,
    username: "app",
    manageMasterUserPassword: true,
    ...extra,
  });

describe("policy rules: encryption and logging", () => {
  describe("queues-and-topics-encrypted, kms-keys-rotate", () => {
    let vs: PolicyViolation[];
    before(async () => {
      vs = await violations([queuesAndTopicsEncrypted, kmsKeysRotate], () => {
        new aws.sqs.Queue("queue-plain", { name: "queue-plain", sqsManagedSseEnabled: false });
        new aws.sqs.Queue("queue-unsaid", { name: "queue-unsaid" });
        new aws.sqs.Queue("queue-sse", { name: "queue-sse", sqsManagedSseEnabled: true });
        new aws.sqs.Queue("queue-kms", { name: "queue-kms", kmsMasterKeyId: KEY_ARN });
        new aws.sns.Topic("topic-plain", { name: "topic-plain" });
        new aws.sns.Topic("topic-kms", { name: "topic-kms", kmsMasterKeyId: KEY_ARN });
        new aws.kms.Key("key-static", { description: "static" });
        new aws.kms.Key("key-rotating", { description: "rotating", enableKeyRotation: true });
        new aws.kms.Key("key-signing", {
          description: "signing",
          customerMasterKeySpec: "ECC_NIST_P256",
          keyUsage: "SIGN_VERIFY",
        });
      });
    });

    it("fires on an unencrypted queue and topic and a symmetric key that does not rotate", () => {
      fires(vs, queuesAndTopicsEncrypted, {
        type: E.queue,
        name: "queue-plain",
        level: "mandatory",
        message: "queue queue-plain is not encrypted at rest",
      });
      fires(vs, queuesAndTopicsEncrypted, {
        type: E.queue,
        name: "queue-unsaid",
        level: "mandatory",
        message:
          "queue queue-unsaid does not say how it is encrypted at rest (set sqsManagedSseEnabled or kmsMasterKeyId)",
      });
      fires(vs, queuesAndTopicsEncrypted, {
        type: E.topic,
        name: "topic-plain",
        level: "mandatory",
        message: "topic topic-plain is not encrypted at rest",
      });
      fires(vs, kmsKeysRotate, {
        type: T.kmsKey,
        name: "key-static",
        level: "mandatory",
        message: "key static does not rotate",
      });
    });

    it("passes SQS-managed SSE, KMS-encrypted queues and topics, a rotating key and an asymmetric signing key", () => {
      passes(vs, queuesAndTopicsEncrypted, "queue-sse", "queue-kms", "topic-kms");
      passes(vs, kmsKeysRotate, "key-rotating", "key-signing");
    });
  });

  describe("ecs-exec-sessions-encrypted-and-logged, containers-have-log-configuration", () => {
    let vs: PolicyViolation[];
    before(async () => {
      vs = await violations([ecsExecLogged, containersLog], () => {
        new aws.ecs.Cluster("cluster-bare", { name: "cluster-bare" });
        new aws.ecs.Cluster("cluster-unencrypted-log", {
          name: "cluster-unencrypted-log",
          configuration: {
            executeCommandConfiguration: {
              kmsKeyId: KEY_ARN,
              logging: "OVERRIDE",
              logConfiguration: { cloudWatchLogGroupName: "exec", cloudWatchEncryptionEnabled: false },
            },
          },
        });
        new aws.ecs.Cluster("cluster-logged", {
          name: "cluster-logged",
          configuration: {
            executeCommandConfiguration: {
              kmsKeyId: KEY_ARN,
              logging: "OVERRIDE",
              logConfiguration: { cloudWatchLogGroupName: "exec", cloudWatchEncryptionEnabled: true },
            },
          },
        });
        const logs = {
          logDriver: "awslogs",
          options: { "awslogs-group": "/ecs/app", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "app" },
        };
        taskDefinition("task-silent", [{ name: "app" }]);
        taskDefinition("task-logged", [{ name: "app", logConfiguration: logs }]);
      });
    });

    it("fires on a cluster without exec encryption or logging, a cluster logging unencrypted, and a container without logs", () => {
      fires(vs, ecsExecLogged, {
        type: E.cluster,
        name: "cluster-bare",
        level: "mandatory",
        message: "cluster cluster-bare: ECS Exec sessions are not encrypted with a KMS key",
      });
      fires(vs, ecsExecLogged, {
        type: E.cluster,
        name: "cluster-bare",
        level: "mandatory",
        message: "cluster cluster-bare: ECS Exec sessions are not logged to an encrypted destination",
      });
      fires(vs, ecsExecLogged, {
        type: E.cluster,
        name: "cluster-unencrypted-log",
        level: "mandatory",
        message: "not logged to an encrypted destination",
      });
      fires(vs, containersLog, {
        type: T.taskDefinition,
        name: "task-silent",
        level: "mandatory",
        message: "container app has no log configuration",
      });
    });

    it("passes a cluster that encrypts and logs exec sessions, and a container with awslogs", () => {
      passes(vs, ecsExecLogged, "cluster-logged");
      passes(vs, containersLog, "task-logged");
    });
  });

  describe("rds-exports-logs, rds-requires-tls", () => {
    let vs: PolicyViolation[];
    before(async () => {
      vs = await violations([rdsExportsLogs, rdsRequiresTls], () => {
        const tls = new aws.rds.ParameterGroup("pg-tls", {
          name: "pg-tls",
          family: "postgres17",
          parameters: [{ name: "rds.force_ssl", value: "1", applyMethod: "pending-reboot" }],
        });
        const lax = new aws.rds.ParameterGroup("pg-lax", {
          name: "pg-lax",
          family: "postgres17",
          parameters: [{ name: "max_connections", value: "200", applyMethod: "pending-reboot" }],
        });
        db("db-silent", { parameterGroupName: tls.name });
        db("db-default-group", { enabledCloudwatchLogsExports: ["postgresql"] });
        db("db-lax", { parameterGroupName: lax.name, enabledCloudwatchLogsExports: ["postgresql", "upgrade"] });
        db("db-good", { parameterGroupName: tls.name, enabledCloudwatchLogsExports: ["postgresql", "upgrade"] });
      });
    });

    it("fires on a database that exports no engine log, one on the default group, and one whose group lacks rds.force_ssl = 1", () => {
      fires(vs, rdsExportsLogs, {
        type: T.rdsInstance,
        name: "db-silent",
        level: "mandatory",
        message: "database db-silent does not export postgresql logs",
      });
      fires(vs, rdsRequiresTls, {
        type: T.rdsInstance,
        name: "db-default-group",
        level: "mandatory",
        message:
          "database db-default-group does not set rds.force_ssl = 1 in a parameter group of its own (the default group)",
      });
      fires(vs, rdsRequiresTls, {
        type: T.rdsInstance,
        name: "db-lax",
        level: "mandatory",
        message: "database db-lax does not set rds.force_ssl = 1 in parameter group pg-lax",
      });
    });

    it("passes a database exporting postgresql logs whose parameter group forces TLS", () => {
      passes(vs, rdsExportsLogs, "db-good", "db-lax", "db-default-group");
      passes(vs, rdsRequiresTls, "db-good", "db-silent");
    });
  });

  describe("cloudfront-origins-https", () => {
    it("fires on a custom origin over http-only, or allowing TLSv1; passes https-only TLSv1.2 and S3 origins", async () => {
      const vs = await violations(cloudfrontOriginsHttps, () => {
        const behaviour = {
          targetOriginId: "api",
          viewerProtocolPolicy: "redirect-to-https",
          allowedMethods: ["GET", "HEAD"],
          cachedMethods: ["GET", "HEAD"],
          cachePolicyId: "658327ea-f89d-4fab-a63d-7e88639e58f6",
        };
        const site = (name: string, originProtocolPolicy: string, originSslProtocols: string[]) =>
          new aws.cloudfront.Distribution(name, {
            enabled: true,
            origins: [
              {
                originId: "api",
                domainName: "api.example.com",
                customOriginConfig: { httpPort: 80, httpsPort: 443, originProtocolPolicy, originSslProtocols },
              },
              { originId: "s3", domainName: "bucket.s3.us-east-1.amazonaws.com", originAccessControlId: "oac" },
            ],
            defaultCacheBehavior: behaviour,
            restrictions: { geoRestriction: { restrictionType: "none" } },
            viewerCertificate: {
              acmCertificateArn: CERT_ARN,
              sslSupportMethod: "sni-only",
              minimumProtocolVersion: "TLSv1.2_2021",
            },
          });
        site("origin-http", "http-only", ["TLSv1.2"]);
        site("origin-old-tls", "https-only", ["TLSv1", "TLSv1.2"]);
        site("origin-https", "https-only", ["TLSv1.2"]);
      });
      fires(vs, cloudfrontOriginsHttps, {
        type: T.distribution,
        name: "origin-http",
        level: "mandatory",
        message: "origin api is reached over http-only",
      });
      fires(vs, cloudfrontOriginsHttps, {
        type: T.distribution,
        name: "origin-old-tls",
        level: "mandatory",
        message: "origin api allows TLSv1",
      });
      passes(vs, cloudfrontOriginsHttps, "origin-https");
    });
  });

  describe("buckets-require-tls", () => {
    it("fires on a bucket without a TLS-only policy, or whose deny misses the objects; passes a deny on the bucket and its objects", async () => {
      const vs = await violations(bucketsRequireTls, () => {
        new aws.s3.Bucket("bucket-bare", { bucket: "bucket-bare" });
        const half = new aws.s3.Bucket("bucket-half", { bucket: "bucket-half" });
        new aws.s3.BucketPolicy("bucket-half-policy", {
          bucket: half.id,
          policy: doc({
            Sid: "DenyWithoutTls",
            Effect: "Deny",
            Principal: "*",
            Action: "s3:*",
            Resource: "arn:aws:s3:::bucket-half",
            Condition: { Bool: { "aws:SecureTransport": "false" } },
          }),
        });
        const good = new aws.s3.Bucket("bucket-good", { bucket: "bucket-good" });
        new aws.s3.BucketPolicy("bucket-good-policy", {
          bucket: good.id,
          policy: doc({
            Sid: "DenyWithoutTls",
            Effect: "Deny",
            Principal: "*",
            Action: "s3:*",
            Resource: ["arn:aws:s3:::bucket-good", "arn:aws:s3:::bucket-good/*"],
            Condition: { Bool: { "aws:SecureTransport": "false" } },
          }),
        });
      });
      fires(vs, bucketsRequireTls, {
        type: E.bucket,
        name: "bucket-bare",
        level: "mandatory",
        message: "bucket bucket-bare does not deny requests without TLS",
      });
      fires(vs, bucketsRequireTls, {
        type: E.bucket,
        name: "bucket-half",
        level: "mandatory",
        message: "bucket bucket-half does not deny requests without TLS",
      });
      passes(vs, bucketsRequireTls, "bucket-good");
    });
  });
});
