/** Secret handling rules (policy/rules/secrets.ts). */
import { strict as assert } from "node:assert";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { evaluate } from "../../policy/evaluate";
import type { PolicyViolation, ResourceView } from "../../policy/rules/model";
import {
  containerSecretsByReference,
  noSecretsInPlainEnvironment,
  noSecretsInTagsOrOutputs,
  secretValuesAreSecret,
  secretsUseCustomerManagedKeys,
  ssmSecretsAreSecureStrings,
} from "../../policy/rules/secrets";
import { ACCOUNT, REGION, violations } from "../support/policy";
import {
  ALCHEMY_URL,
  ACCESS_KEY_ID,
  GRAPH_KEY,
  HEX_KEY,
  KEY_ARN,
  STACK_URN,
  T,
  fires,
  lambda,
  ofRule,
  passes,
  show,
  taskDefinition,
} from "./support";

describe("policy rules: secret handling", () => {
  // ------------------------------------------------------------------ secrets

  describe("no-secrets-in-plain-environment", () => {
    let vs: PolicyViolation[];
    before(async () => {
      vs = await violations(noSecretsInPlainEnvironment, () => {
        taskDefinition("env-key-name", [
          { name: "wallet", environment: [{ name: "WALLET_PRIVATE_KEY", value: "see-config" }] },
        ]);
        taskDefinition("env-graph-url", [
          {
            name: "indexer",
            environment: [
              { name: "SUBGRAPH_URL", value: `https://gateway.thegraph.com/api/${GRAPH_KEY}/subgraphs/id/x` },
            ],
          },
        ]);
        taskDefinition("env-hex-key", [{ name: "signer", environment: [{ name: "SIGNER", value: HEX_KEY }] }]);
        lambda("price-feed", { ETH_NODE_URL: ALCHEMY_URL });
        lambda("notifier", { BOT_CHAT: pulumi.secret("12345") });
        taskDefinition("env-plain", [
          {
            name: "app",
            environment: [
              { name: "LOG_LEVEL", value: "info" },
              { name: "CLONE_FACTORY_ADDRESS", value: "0x" + "cd".repeat(20) },
              { name: "ETH_NODE_URL", value: "https://eth-mainnet.example.com/" },
            ],
          },
        ]);
        lambda("plain-fn", { LOG_LEVEL: "info", ETH_NODE_URL: "wss://node.example.com/ws" });
      });
    });

    it("fires on a container variable named like a secret", () => {
      fires(vs, noSecretsInPlainEnvironment, {
        type: T.taskDefinition,
        name: "env-key-name",
        level: "mandatory",
        message: "container wallet environment: WALLET_PRIVATE_KEY is named like a secret",
      });
    });

    it("fires on a container value carrying a Graph gateway API key, or a 64-hex private key", () => {
      fires(vs, noSecretsInPlainEnvironment, {
        type: T.taskDefinition,
        name: "env-graph-url",
        level: "mandatory",
        message: "the value of SUBGRAPH_URL looks like a URL carrying an API key",
      });
      fires(vs, noSecretsInPlainEnvironment, {
        type: T.taskDefinition,
        name: "env-hex-key",
        level: "mandatory",
        message: "the value of SIGNER looks like a 32-byte hex private key",
      });
    });

    it("fires on a Lambda variable with an Alchemy-style /v2/<key> URL, and on a Lambda variable that is a Pulumi secret", () => {
      fires(vs, noSecretsInPlainEnvironment, {
        type: T.lambda,
        name: "price-feed",
        level: "mandatory",
        message: "Lambda environment: the value of ETH_NODE_URL looks like a URL carrying an API key",
      });
      fires(vs, noSecretsInPlainEnvironment, {
        type: T.lambda,
        name: "notifier",
        level: "mandatory",
        message: "Lambda environment holds a Pulumi secret",
      });
    });

    it("fires on a secret in a container's command or entry point, and on a canary's secret-looking environment variable", async () => {
      const vs = await violations(noSecretsInPlainEnvironment, () => {
        taskDefinition("cmd-flag", [{ name: "signer", command: ["node", "sign.js", `--private-key=${HEX_KEY}`] }]);
        taskDefinition("cmd-split-flag", [{ name: "db", entryPoint: ["psql", "--password", "hunter2-hunter2"] }]);
        taskDefinition("cmd-url", [{ name: "indexer", command: ["indexer", "--rpc", ALCHEMY_URL] }]);
        taskDefinition("cmd-plain", [
          {
            name: "app",
            command: ["node", "server.js", "--port", "3000", "--log-level=info"],
            entryPoint: ["/usr/bin/tini", "--"],
          },
        ]);
        const canary = (name: string, environmentVariables: Record<string, string>) =>
          new aws.synthetics.Canary(name, {
            name,
            artifactS3Location: "s3://artifacts/canary/",
            executionRoleArn: `arn:aws:iam::${ACCOUNT}:role/canary`,
            handler: "index.handler",
            runtimeVersion: "syn-nodejs-puppeteer-15.0",
            schedule: { expression: "rate(15 minutes)" },
            s3Bucket: "artifacts",
            s3Key: "code/canary.zip",
            runConfig: { environmentVariables },
          });
        canary("canary-token", { TARGET_URL: "https://futures.lumerin.io", LOGIN_TOKEN: "abc" });
        canary("canary-plain", { TARGET_URL: "https://futures.lumerin.io" });
      });
      fires(vs, noSecretsInPlainEnvironment, {
        type: T.taskDefinition,
        name: "cmd-flag",
        level: "mandatory",
        message: "container signer command: argument 2 looks like a 32-byte hex private key",
      });
      fires(vs, noSecretsInPlainEnvironment, {
        type: T.taskDefinition,
        name: "cmd-flag",
        level: "mandatory",
        message: "container signer command: argument 2 passes private-key on the command line",
      });
      fires(vs, noSecretsInPlainEnvironment, {
        type: T.taskDefinition,
        name: "cmd-split-flag",
        level: "mandatory",
        message: "container db entryPoint: argument 1 passes password on the command line",
      });
      fires(vs, noSecretsInPlainEnvironment, {
        type: T.taskDefinition,
        name: "cmd-url",
        level: "mandatory",
        message: "container indexer command: argument 2 looks like a URL carrying an API key",
      });
      fires(vs, noSecretsInPlainEnvironment, {
        type: "aws:synthetics/canary:Canary",
        name: "canary-token",
        level: "mandatory",
        message: "canary environment: LOGIN_TOKEN is named like a secret",
      });
      passes(vs, noSecretsInPlainEnvironment, "cmd-plain", "canary-plain");
    });

    it("fires on a task definition whose containerDefinitions is a Pulumi secret", async () => {
      // The secret reaches the view as the placeholder "[secret]"; containerDefinitions() fails to parse it and the
      // rule returns [] before its `secretPaths.has("containerDefinitions")` check.
      const secretDefs = await violations(noSecretsInPlainEnvironment, () => {
        taskDefinition("env-secret-defs", [
          { name: "app", environment: [{ name: "LOG_LEVEL", value: pulumi.secret("info") }] },
        ]);
      });
      fires(secretDefs, noSecretsInPlainEnvironment, {
        type: T.taskDefinition,
        name: "env-secret-defs",
        level: "mandatory",
        message: "the container definitions hold a Pulumi secret",
      });
    });

    it("passes plain settings (LOG_LEVEL, a contract address, a key-less node URL) in containers and Lambdas", () => {
      passes(vs, noSecretsInPlainEnvironment, "env-plain", "plain-fn");
    });
  });

  describe("container-secrets-by-reference", () => {
    it("fires on a plain-text valueFrom and non-Secrets-Manager registry credentials; passes Secrets Manager and SSM ARNs", async () => {
      const vs = await violations(containerSecretsByReference, () => {
        const secret = new aws.secretsmanager.Secret("app-config", { name: "/app/dev/config", kmsKeyId: KEY_ARN });
        const param = new aws.ssm.Parameter("rpc-url", {
          name: "/app/dev/rpc-url",
          type: "SecureString",
          value: pulumi.secret("https://rpc.example.com"),
        });
        taskDefinition("by-value", [
          { name: "app", secrets: [{ name: "DB_PASSWORD", valueFrom: "plain-text-value" }] },
        ]);
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
      fires(vs, containerSecretsByReference, {
        type: T.taskDefinition,
        name: "by-value",
        level: "mandatory",
        message: 'container app secret DB_PASSWORD: valueFrom "plain-text-value" is not a Secrets Manager or SSM ARN',
      });
      fires(vs, containerSecretsByReference, {
        type: T.taskDefinition,
        name: "bad-creds",
        level: "mandatory",
        message: "container app: repositoryCredentials must name a Secrets Manager secret ARN",
      });
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
          {
            transformations: [
              (args) => ({
                props: { ...args.props, secretString: pulumi.unsecret(pulumi.output(args.props.secretString)) },
                opts: args.opts,
              }),
            ],
          },
        );
        new aws.rds.Instance("db-password", {
          identifier: "db-password",
          engine: "postgres",
          instanceClass: "db.t4g.micro",
          allocatedStorage: 20,
          username: "app",
          password: "correct-horse-battery",
        });
      });
      fires(vs, secretValuesAreSecret, {
        type: T.secretVersion,
        name: "plain-version",
        level: "mandatory",
        message: "secretString is not a Pulumi secret: it would be stored in plain text in the state",
      });
      fires(vs, secretValuesAreSecret, {
        type: T.rdsInstance,
        name: "db-password",
        level: "mandatory",
        message: "password is set: use manageMasterUserPassword",
      });
      fires(vs, secretValuesAreSecret, {
        type: T.rdsInstance,
        name: "db-password",
        level: "mandatory",
        message: "manageMasterUserPassword is not true",
      });
    });

    it("passes a SecretVersion given pulumi.secret (or a plain string the SDK marks secret) and an RDS instance with a managed master password", async () => {
      const vs = await violations(secretValuesAreSecret, () => {
        const secret = new aws.secretsmanager.Secret("app-config", { name: "/app/dev/config", kmsKeyId: KEY_ARN });
        new aws.secretsmanager.SecretVersion("secret-version", {
          secretId: secret.id,
          secretString: pulumi.secret('{"password":"hunter2"}'),
        });
        new aws.secretsmanager.SecretVersion("sdk-marked-version", {
          secretId: secret.id,
          secretString: '{"password":"hunter2"}',
        });
        new aws.rds.Instance("db-managed", {
          identifier: "db-managed",
          engine: "postgres",
          instanceClass: "db.t4g.micro",
          allocatedStorage: 20,
          username: "app",
          manageMasterUserPassword: true,
        });
      });
      passes(vs, secretValuesAreSecret);
    });
  });

  describe("no-secrets-in-tags-or-outputs", () => {
    it("fires on a tag holding an AWS access key id, and on secret or secret-looking stack outputs; passes plain tags and outputs", async () => {
      const vs = await violations(noSecretsInTagsOrOutputs, () => {
        new aws.cloudwatch.LogGroup("tagged-key", {
          name: "/app/tagged-key",
          retentionInDays: 14,
          tags: { Owner: ACCESS_KEY_ID },
        });
        new aws.cloudwatch.LogGroup("tagged-plain", {
          name: "/app/tagged-plain",
          retentionInDays: 14,
          tags: { Owner: "platform", Project: "lumerin", Commit: "4f3c2b1" },
        });
        return {
          subgraphUrl: `https://gateway.thegraph.com/api/${GRAPH_KEY}/subgraphs/id/x`,
          adminPassword: pulumi.secret("correct-horse-battery"),
          appUrl: "https://app.lumerin.io",
          nested: { apiUrl: "https://api.lumerin.io/v1" },
        };
      });
      fires(vs, noSecretsInTagsOrOutputs, {
        type: T.logGroup,
        name: "tagged-key",
        level: "mandatory",
        message: "tag Owner looks like an AWS access key id",
      });
      passes(vs, noSecretsInTagsOrOutputs, "tagged-plain");
      fires(vs, noSecretsInTagsOrOutputs, {
        type: T.stack,
        name: "lumerin-infra-dev",
        level: "mandatory",
        message: "stack output subgraphUrl looks like a URL carrying an API key",
      });
      fires(vs, noSecretsInTagsOrOutputs, {
        type: T.stack,
        name: "lumerin-infra-dev",
        level: "mandatory",
        message: "stack output adminPassword is a secret",
      });
      const onStack = ofRule(vs, noSecretsInTagsOrOutputs, "lumerin-infra-dev");
      assert.equal(onStack.length, 2, `appUrl and nested.apiUrl are plain: ${show(onStack)}`);
    });

    it("fires on a tag named like a secret that holds a value; passes a tag naming a secret by reference", async () => {
      const vs = await violations(noSecretsInTagsOrOutputs, () => {
        new aws.cloudwatch.LogGroup("tagged-password", {
          name: "/app/tagged-password",
          retentionInDays: 14,
          tags: { DbPassword: "hunter2" },
        });
        new aws.cloudwatch.LogGroup("tagged-secret-name", {
          name: "/app/tagged-secret-name",
          retentionInDays: 14,
          tags: { SecretName: "/app/dev/config" },
        });
      });
      fires(vs, noSecretsInTagsOrOutputs, {
        type: T.logGroup,
        name: "tagged-password",
        level: "mandatory",
        message: "tag DbPassword is named like a secret and holds a value",
      });
      passes(vs, noSecretsInTagsOrOutputs, "tagged-secret-name");
    });

    it("fires on a tag whose value is a Pulumi secret", async () => {
      // A secret tag value makes the whole `tags` map secret: the secret path is "tags", and the rule only looks
      // for paths starting with "tags.".
      const vs = await violations(noSecretsInTagsOrOutputs, () => {
        new aws.cloudwatch.LogGroup("tagged-secret", {
          name: "/app/tagged-secret",
          retentionInDays: 14,
          tags: { Owner: pulumi.secret("platform") },
        });
      });
      fires(vs, noSecretsInTagsOrOutputs, {
        type: T.logGroup,
        name: "tagged-secret",
        level: "mandatory",
        message: "holds a Pulumi secret",
      });
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
      const leaky = await evaluate([stackView({ walletKey: HEX_KEY, bot: "[secret]" }, ["bot"])], {
        stack: "stg",
        rules: [noSecretsInTagsOrOutputs],
      });
      fires(leaky, noSecretsInTagsOrOutputs, {
        type: T.stack,
        name: "lumerin-infra-stg",
        stack: "stg",
        level: "mandatory",
        message: "stack output walletKey looks like a 32-byte hex private key",
      });
      fires(leaky, noSecretsInTagsOrOutputs, {
        type: T.stack,
        name: "lumerin-infra-stg",
        stack: "stg",
        level: "mandatory",
        message: "stack output bot is a secret",
      });
      const clean = await evaluate(
        [stackView({ appUrl: "https://app.lumerin.io", cluster: `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/c` })],
        { stack: "stg", rules: [noSecretsInTagsOrOutputs] },
      );
      passes(clean, noSecretsInTagsOrOutputs);
    });
  });

  describe("ssm-secrets-are-secure-strings", () => {
    it("fires on a String parameter named or valued like a secret, and on a SecureString whose value is not a Pulumi secret; passes an image tag and a secret SecureString", async () => {
      const vs = await violations(ssmSecretsAreSecureStrings, () => {
        new aws.ssm.Parameter("param-named", { name: "/app/dev/db-password", type: "String", value: "see-vault" });
        new aws.ssm.Parameter("param-valued", { name: "/app/dev/rpc-url", type: "String", insecureValue: ALCHEMY_URL });
        new aws.ssm.Parameter("param-secret-plain-type", {
          name: "/app/dev/signer-url",
          type: "String",
          insecureValue: pulumi.secret("https://node.example.com/"),
        });
        new aws.ssm.Parameter("param-secure-plain", {
          name: "/app/dev/signer",
          type: "SecureString",
          value: "not-a-pulumi-secret",
        });
        new aws.ssm.Parameter("param-image-tag", {
          name: "/app/dev/image-tag",
          type: "String",
          insecureValue: "v1.2.3",
        });
        new aws.ssm.Parameter("param-secure", {
          name: "/app/dev/db-url",
          type: "SecureString",
          value: pulumi.secret("postgres://db.internal:5432/app"),
        });
      });
      fires(vs, ssmSecretsAreSecureStrings, {
        type: T.parameter,
        name: "param-named",
        level: "mandatory",
        message: "String parameter /app/dev/db-password is named like a secret",
      });
      fires(vs, ssmSecretsAreSecureStrings, {
        type: T.parameter,
        name: "param-valued",
        level: "mandatory",
        message: "String parameter /app/dev/rpc-url: its value looks like a URL carrying an API key",
      });
      fires(vs, ssmSecretsAreSecureStrings, {
        type: T.parameter,
        name: "param-secret-plain-type",
        level: "mandatory",
        message: "String parameter /app/dev/signer-url holds a Pulumi secret, which SSM stores in plain text",
      });
      passes(vs, ssmSecretsAreSecureStrings, "param-image-tag", "param-secure");
      // @pulumi/aws marks every SecureString value secret itself, so the plain case is an audit of drifted state.
      const drifted: ResourceView = {
        type: T.parameter,
        name: "param-secure-plain",
        urn: "urn:pulumi:dev::lumerin-infra::aws:ssm/parameter:Parameter::param-secure-plain",
        props: { name: "/app/dev/signer", type: "SecureString", value: "plain" },
        outputs: {},
        secretPaths: new Set(),
        protect: false,
      };
      fires(
        await evaluate([drifted], { stack: "dev", rules: [ssmSecretsAreSecureStrings] }),
        ssmSecretsAreSecureStrings,
        {
          type: T.parameter,
          name: "param-secure-plain",
          level: "mandatory",
          message: "SecureString /app/dev/signer: its value is not a Pulumi secret",
        },
      );
    });
  });

  describe("secrets-use-customer-managed-keys", () => {
    it("fires in production on a secret without a key or with the AWS-managed key; passes a customer-managed key", async () => {
      const program = () => {
        new aws.secretsmanager.Secret("secret-default-key", { name: "default-key" });
        new aws.secretsmanager.Secret("secret-aws-key", { name: "aws-key", kmsKeyId: "alias/aws/secretsmanager" });
        new aws.secretsmanager.Secret("secret-cmk", { name: "cmk", kmsKeyId: KEY_ARN });
      };
      const lmn = await violations(secretsUseCustomerManagedKeys, program, { stack: "lmn" });
      fires(lmn, secretsUseCustomerManagedKeys, {
        type: T.secret,
        name: "secret-default-key",
        stack: "lmn",
        level: "mandatory",
        message: "secret default-key is encrypted with the AWS-managed key",
      });
      fires(lmn, secretsUseCustomerManagedKeys, {
        type: T.secret,
        name: "secret-aws-key",
        stack: "lmn",
        level: "mandatory",
        message: "secret aws-key is encrypted with the AWS-managed key",
      });
      passes(lmn, secretsUseCustomerManagedKeys, "secret-cmk");
      fires(await violations(secretsUseCustomerManagedKeys, program), secretsUseCustomerManagedKeys, {
        type: T.secret,
        name: "secret-default-key",
        level: "advisory",
        message: "AWS-managed key",
      });
    });
  });
});
