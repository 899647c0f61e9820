import { strict as assert } from "node:assert";
import { existsSync } from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { runSimulation } from "@cloud-copilot/iam-simulate";
import {
  DAILY_INPUT,
  MarginCall,
  MarginCallArgs,
  MarginCallEnvironment,
  PLACEHOLDER_HANDLER,
  dailyExpression,
} from "../components/futures/margin-call";
import { rateExpression } from "../components/futures/scheduled-function";
import { isSecretLookingName, secretLookingValue } from "../lib/secret-patterns";
import { futuresNames } from "../lib/naming";
import { RULES } from "../policy/rules";
import type { PolicyViolation } from "../policy/rules/model";
import type { Plan } from "../tools/harness";
import { ACCOUNT, REGION, evaluateProgram } from "./support/policy";
import { configError, doc, resource, resourcesOfType } from "./support/plan";
import { planFiles } from "../tools/plan-stack";
import { KEY_ARN, PRIVATE_SUBNETS, VPC } from "./support/fixtures";

type Stack = "dev" | "lmn";

const FUTURES = "lumerin-infra:futures";

const SUBNETS = PRIVATE_SUBNETS;
const RPC_URL = "https://arb-mainnet.g.alchemy.com/v2/AbCdEfGhIjKlMnOpQrStUvWxYz012345";
const SUBGRAPH_URL = "https://gateway.thegraph.com/api/0123456789abcdef0123456789abcdef/subgraphs/id/Qm123";
const PLAIN: MarginCallEnvironment = {
  FUTURES_ADDRESS: "0x8464dc5ab80e76e497fad318fe6d444408e5ccda",
  HASHRATE_ORACLE_ADDRESS: "0x6599ef8e2b4a548a86eb82e2dfbc6ceadfceacbd",
  MULTICALL_ADDRESS: "0xcA11bde05977b3631167028862bE2a173976CA11",
  NOTIFICATIONS_SERVICE_URL: "https://notifyint.lmn.lumerin.io/notifications",
  LOG_LEVEL: "info",
  MARGIN_UTILIZATION_WARNING_PERCENT: "80",
};
const arn = {
  ec2: (resource: string) => `arn:aws:ec2:${REGION}:${ACCOUNT}:${resource}`,
  logStreams: (group: string) => `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${group}:log-stream:*`,
  secret: (name: string) => `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${name}-AbCdEf`,
  queue: (name: string) => `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`,
  rule: (name: string) => `arn:aws:events:${REGION}:${ACCOUNT}:rule/${name}`,
};

function args(stack: Stack, overrides: Partial<MarginCallArgs> = {}): MarginCallArgs {
  return {
    aws: { accountId: ACCOUNT, region: REGION, partition: "aws" },
    network: { vpcId: VPC, privateSubnetIds: SUBNETS },
    names: futuresNames(stack).marginCall,
    timeoutSeconds: stack === "lmn" ? 300 : 60,
    memoryMb: stack === "lmn" ? 1024 : 512,
    intervalMinutes: stack === "lmn" ? 15 : 1,
    daily: { hour: 0, minute: 30 },
    environment: PLAIN,
    logLevel: "info",
    logRetentionDays: 30,
    secretsKmsKeyArn: KEY_ARN,
    secretValues: { eth_node_url: pulumi.secret(RPC_URL), futures_subgraph_url: pulumi.secret(SUBGRAPH_URL) },
    protect: stack === "lmn",
    ...overrides,
  };
}

/** The `code` input of the last function planned per stack. */
const archives: Partial<Record<Stack, pulumi.asset.AssetArchive>> = {};

interface Planned {
  plan: Plan;
  violations: PolicyViolation[];
}

/** The component alone, its public outputs as the stack's (so the output rules see them too), under the whole pack. */
async function planOf(stack: Stack, overrides: Partial<MarginCallArgs> = {}): Promise<Planned> {
  return evaluateProgram(
    RULES,
    () => {
      // The plan flattens an archive's assets (a promise); keep the archive itself for the code tests.
      pulumi.runtime.registerStackTransformation((t) => {
        if (t.type === "aws:lambda/function:Function")
          archives[stack] = t.props.code as pulumi.asset.AssetArchive | undefined;
        return undefined;
      });
      const mc = new MarginCall("margin-call", args(stack, overrides));
      return {
        functionName: mc.functionName,
        functionArn: mc.functionArn,
        roleArn: mc.roleArn,
        securityGroupId: mc.securityGroupId,
        logGroupName: mc.logGroupName,
        failureQueueArn: mc.failureQueueArn,
        failureQueueName: mc.failureQueueName,
        scheduleRuleName: mc.scheduleRuleName,
        scheduleRuleArn: mc.scheduleRuleArn,
        dailyRuleName: mc.dailyRuleName,
        dailyRuleArn: mc.dailyRuleArn,
        secretArn: mc.secretArn,
      };
    },
    { stack },
  );
}

describe("MarginCall", () => {
  const plans = {} as Record<Stack, Planned>;
  before(async () => {
    // One capture at a time: the Pulumi runtime is process-global.
    plans.dev = await planOf("dev");
    plans.lmn = await planOf("lmn");
  });
  const get = (type: string, name: string, stack: Stack = "lmn") => resource(plans[stack].plan, type, name);
  const fn = (stack: Stack = "lmn") => get("aws:lambda/function:Function", "margin-call-function", stack);
  const out = (type: string, name: string, key = "arn") => String(get(type, name).outputs[key]);
  const secretArn = () => out("aws:secretsmanager/secret:Secret", "margin-call-secret");
  const queueArn = () => out("aws:sqs/queue:Queue", "margin-call-failures");
  const sgId = () => String(get("aws:ec2/securityGroup:SecurityGroup", "margin-call-sg").id);

  describe("the function", () => {
    it("is Node.js 22, index.handler, x86_64, with the configured timeout and memory, one run at a time", () => {
      const f = fn().inputs;
      assert.deepEqual(
        [f.name, f.runtime, f.handler, f.architectures, f.timeout, f.memorySize, f.reservedConcurrentExecutions],
        ["margin-call-v2-lmn", "nodejs22.x", "index.handler", ["x86_64"], 300, 1024, 1],
      );
      assert.deepEqual([fn("dev").inputs.name, fn("dev").inputs.memorySize], ["margin-call-v2-dev", 512]);
    });

    it("runs in the private subnets with its own security group: HTTPS out, nothing in", () => {
      const sg = get("aws:ec2/securityGroup:SecurityGroup", "margin-call-sg").inputs;
      assert.deepEqual([sg.name, sg.vpcId], ["margin-call-lambda-v2-lmn", VPC]);
      assert.deepEqual(fn().inputs.vpcConfig, { subnetIds: SUBNETS, securityGroupIds: [sgId()] });
      assert.deepEqual(
        resourcesOfType(plans.lmn.plan, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"),
        [],
        "nothing comes in",
      );
      const egress = resourcesOfType(plans.lmn.plan, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule");
      assert.deepEqual(
        egress.map((r) => [
          r.inputs.securityGroupId,
          r.inputs.ipProtocol,
          r.inputs.fromPort,
          r.inputs.toPort,
          r.inputs.cidrIpv4,
          r.inputs.referencedSecurityGroupId,
        ]),
        [[sgId(), "tcp", 443, 443, "0.0.0.0/0", undefined]],
      );
    });

    it("logs JSON to its own log group, with retention, created before the function", () => {
      const logs = get("aws:cloudwatch/logGroup:LogGroup", "margin-call-logs");
      assert.deepEqual([logs.inputs.name, logs.inputs.retentionInDays], ["/aws/lambda/margin-call-v2-lmn", 30]);
      assert.deepEqual(fn().inputs.loggingConfig, {
        logFormat: "JSON",
        logGroup: "/aws/lambda/margin-call-v2-lmn",
        applicationLogLevel: "INFO",
        systemLogLevel: "WARN",
      });
      assert.ok(fn().options.dependsOn.includes(logs.urn), "the log group first");
      assert.ok(
        fn().options.dependsOn.includes(get("aws:iam/rolePolicy:RolePolicy", "margin-call-policy").urn),
        "and the role's rights (ENIs, queue) before Lambda checks them",
      );
    });

    it("gets exactly the plain settings and SECRETS_ARN as environment, nothing secret", () => {
      const variables = (fn().inputs.environment as { variables: Record<string, string> }).variables;
      assert.deepEqual(variables, { ...PLAIN, SECRETS_ARN: secretArn() });
      assert.deepEqual(Object.keys(variables).sort(), [
        "FUTURES_ADDRESS",
        "HASHRATE_ORACLE_ADDRESS",
        "LOG_LEVEL",
        "MARGIN_UTILIZATION_WARNING_PERCENT",
        "MULTICALL_ADDRESS",
        "NOTIFICATIONS_SERVICE_URL",
        "SECRETS_ARN",
      ]);
      for (const [key, value] of Object.entries(variables)) {
        assert.equal(isSecretLookingName(key), false, key);
        assert.equal(secretLookingValue(value), undefined, `${key}=${value}`);
      }
      const text = JSON.stringify(fn().inputs);
      for (const leaked of [
        RPC_URL,
        SUBGRAPH_URL,
        "gateway.thegraph.com",
        "alchemy.com",
        "eth_node_url",
        "ETH_NODE_URL",
        "FUTURES_SUBGRAPH_URL",
      ]) {
        assert.ok(!text.includes(leaked), `the function's inputs mention ${leaked}`);
      }
    });
  });

  describe("its secret", () => {
    it("is margin-call-secrets-v3-{env}, CMK-encrypted, written from Pulumi secrets as one JSON version", () => {
      const secret = get("aws:secretsmanager/secret:Secret", "margin-call-secret");
      assert.deepEqual(
        [secret.inputs.name, secret.inputs.kmsKeyId, secret.inputs.recoveryWindowInDays],
        ["margin-call-secrets-v3-lmn", KEY_ARN, 30],
      );
      const version = get("aws:secretsmanager/secretVersion:SecretVersion", "margin-call-secret-value");
      assert.deepEqual(
        [version.inputs.secretId, version.inputs.secretString, version.secretInputs],
        [secret.id, "[secret]", ["secretString"]],
      );
    });

    it("is protected, and kept 30 days after deletion, in production only", () => {
      assert.equal(get("aws:secretsmanager/secret:Secret", "margin-call-secret").options.protect, true);
      const dev = get("aws:secretsmanager/secret:Secret", "margin-call-secret", "dev");
      assert.deepEqual([dev.options.protect, dev.inputs.recoveryWindowInDays], [false, 7]);
    });

    it("has no version when the values are set out of band", async () => {
      const { plan } = await planOf("dev", { secretValues: undefined });
      assert.deepEqual(resourcesOfType(plan, "aws:secretsmanager/secretVersion:SecretVersion"), []);
      assert.equal(resourcesOfType(plan, "aws:secretsmanager/secret:Secret").length, 1);
    });
  });

  describe("its schedules", () => {
    const rule = (name: string) => get("aws:cloudwatch/eventRule:EventRule", name).inputs;
    const target = (name: string) => get("aws:cloudwatch/eventTarget:EventTarget", name).inputs;

    it('runs every N minutes, and daily at hour:minute UTC with exactly {"executeMarginCall":true}', () => {
      assert.deepEqual(
        [rule("margin-call-schedule").name, rule("margin-call-schedule").scheduleExpression],
        ["margin-call-schedule-v2-lmn", "rate(15 minutes)"],
      );
      assert.deepEqual(
        [rule("margin-call-daily").name, rule("margin-call-daily").scheduleExpression],
        ["margin-call-daily-schedule-v2-lmn", "cron(30 0 * * ? *)"],
      );
      const fnArn = String(fn().outputs.arn);
      const regular = target("margin-call-schedule-target");
      const daily = target("margin-call-daily-target");
      assert.deepEqual(
        [regular.rule, regular.targetId, regular.arn, regular.input],
        ["margin-call-schedule-v2-lmn", "margin-call-lambda-v2", fnArn, undefined],
      );
      assert.deepEqual(
        [daily.rule, daily.targetId, daily.arn, daily.input],
        ["margin-call-daily-schedule-v2-lmn", "margin-call-lambda-daily-v2", fnArn, '{"executeMarginCall":true}'],
      );
      assert.deepEqual(DAILY_INPUT, { executeMarginCall: true });
    });

    it("speaks EventBridge's syntax: rate(1 minute) is singular", () => {
      assert.equal(
        get("aws:cloudwatch/eventRule:EventRule", "margin-call-schedule", "dev").inputs.scheduleExpression,
        "rate(1 minute)",
      );
      assert.deepEqual([1, 2, 15, 60].map(rateExpression), [
        "rate(1 minute)",
        "rate(2 minutes)",
        "rate(15 minutes)",
        "rate(60 minutes)",
      ]);
      assert.deepEqual([dailyExpression(0, 0), dailyExpression(23, 59)], ["cron(0 0 * * ? *)", "cron(59 23 * * ? *)"]);
    });

    it("lets each rule invoke the function by that rule's own ARN (which names this account), under the live statement ids, and nothing else", () => {
      const permissions = resourcesOfType(plans.lmn.plan, "aws:lambda/permission:Permission");
      assert.deepEqual(permissions.map((p) => p.name).sort(), [
        "margin-call-daily-invoke",
        "margin-call-schedule-invoke",
      ]);
      for (const [key, ruleName, statementId] of [
        ["schedule", "margin-call-schedule-v2-lmn", "AllowExecutionFromCloudWatch"],
        ["daily", "margin-call-daily-schedule-v2-lmn", "AllowExecutionFromCloudWatchDaily"],
      ]) {
        const permission = get("aws:lambda/permission:Permission", `margin-call-${key}-invoke`).inputs;
        const ruleArn = out("aws:cloudwatch/eventRule:EventRule", `margin-call-${key}`);
        assert.equal(ruleArn, arn.rule(ruleName));
        assert.match(String(ruleArn), new RegExp(`:${ACCOUNT}:rule/`), "the rule's ARN pins this account");
        // No sourceAccount: the live statements have none, and any difference replaces a permission.
        assert.deepEqual(
          [
            permission.statementId,
            permission.action,
            permission.principal,
            permission.function,
            permission.sourceArn,
            permission.sourceAccount,
          ],
          [statementId, "lambda:InvokeFunction", "events.amazonaws.com", "margin-call-v2-lmn", ruleArn, undefined],
        );
        assert.doesNotMatch(String(permission.sourceArn), /\*/);
      }
    });

    it("keeps events EventBridge could not deliver: retried for an hour, then in the failure queue", () => {
      for (const name of ["margin-call-schedule-target", "margin-call-daily-target"]) {
        const t = get("aws:cloudwatch/eventTarget:EventTarget", name);
        assert.deepEqual(
          [t.inputs.deadLetterConfig, t.inputs.retryPolicy],
          [{ arn: queueArn() }, { maximumEventAgeInSeconds: 3600, maximumRetryAttempts: 185 }],
        );
        assert.ok(
          t.options.dependsOn.includes(get("aws:sqs/queuePolicy:QueuePolicy", "margin-call-failures-policy").urn),
          "the queue admits EventBridge first",
        );
      }
    });
  });

  describe("failed runs", () => {
    it("are retried twice, then kept in the failure queue (the function's own, not a wildcard)", () => {
      const config = get("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig", "margin-call-async").inputs;
      assert.deepEqual(
        [
          config.functionName,
          config.qualifier,
          config.maximumRetryAttempts,
          config.maximumEventAgeInSeconds,
          config.destinationConfig,
        ],
        ["margin-call-v2-lmn", undefined, 2, 3600, { onFailure: { destination: queueArn() } }],
      );
    });

    it("stay 14 days in an encrypted queue (SSE-SQS)", () => {
      const queue = get("aws:sqs/queue:Queue", "margin-call-failures").inputs;
      assert.deepEqual(
        [queue.name, queue.sqsManagedSseEnabled, queue.messageRetentionSeconds, queue.kmsMasterKeyId],
        ["margin-call-failures-lmn", true, 1209600, undefined],
      );
      assert.equal(queueArn(), arn.queue("margin-call-failures-lmn"));
    });

    it("the queue's own policy: no plain HTTP, and EventBridge only for these two rules", () => {
      const policy = doc(get("aws:sqs/queuePolicy:QueuePolicy", "margin-call-failures-policy").inputs.policy);
      assert.deepEqual(
        policy.Statement.map((s) => [s.Sid, s.Effect, s.Principal, s.Action, s.Resource, s.Condition]),
        [
          [
            "DenyRequestsWithoutTls",
            "Deny",
            "*",
            ["sqs:*"],
            [queueArn()],
            { Bool: { "aws:SecureTransport": "false" } },
          ],
          [
            "KeepEventsTheseRulesCouldNotDeliver",
            "Allow",
            { Service: "events.amazonaws.com" },
            ["sqs:SendMessage"],
            [queueArn()],
            {
              ArnEquals: {
                "aws:SourceArn": [
                  arn.rule("margin-call-schedule-v2-lmn"),
                  arn.rule("margin-call-daily-schedule-v2-lmn"),
                ],
              },
            },
          ],
        ],
      );
    });
  });

  describe("the failure queue, evaluated as SQS does (@cloud-copilot/iam-simulate)", () => {
    const eventBridgeCan = async (sourceArn: string, secure = "true") => {
      const result = await runSimulation(
        {
          request: {
            principal: "events.amazonaws.com",
            action: "sqs:SendMessage",
            resource: { resource: queueArn(), accountId: ACCOUNT },
            contextVariables: {
              "aws:SourceArn": sourceArn,
              "aws:SourceAccount": ACCOUNT,
              "aws:SecureTransport": secure,
            },
          },
          identityPolicies: [],
          serviceControlPolicies: [],
          resourceControlPolicies: [],
          resourcePolicy: doc(get("aws:sqs/queuePolicy:QueuePolicy", "margin-call-failures-policy").inputs.policy),
        },
        {},
      );
      assert.equal(result.resultType, "single", JSON.stringify(result).slice(0, 300));
      return result.resultType === "single" && result.overallResult === "Allowed";
    };
    it("EventBridge may send for either schedule", async () => {
      assert.equal(await eventBridgeCan(arn.rule("margin-call-schedule-v2-lmn")), true);
      assert.equal(await eventBridgeCan(arn.rule("margin-call-daily-schedule-v2-lmn")), true);
    });
    it("but not for any other rule, nor over plain HTTP", async () => {
      assert.equal(await eventBridgeCan(arn.rule("market-maker-schedule-lmn")), false);
      assert.equal(
        await eventBridgeCan(arn.rule("margin-call-schedule-v2-stg").replace(ACCOUNT, "444455556666")),
        false,
      );
      assert.equal(await eventBridgeCan(arn.rule("margin-call-schedule-v2-lmn"), "false"), false);
    });
  });

  describe("its role", () => {
    const statements = () => doc(get("aws:iam/rolePolicy:RolePolicy", "margin-call-policy").inputs.policy).Statement;

    it("is assumed by Lambda for this account only", () => {
      const role = get("aws:iam/role:Role", "margin-call-role").inputs;
      assert.equal(role.name, "margin-call-lambda-role-v2-lmn");
      assert.deepEqual(doc(role.assumeRolePolicy).Statement, [
        {
          Sid: "LambdaAssumesForThisAccountOnly",
          Effect: "Allow",
          Principal: { Service: "lambda.amazonaws.com" },
          Action: "sts:AssumeRole",
          Condition: { StringEquals: { "aws:SourceAccount": ACCOUNT } },
        },
      ]);
    });

    it("has exactly its own rights: its secret (through Secrets Manager only), its log streams, its queue, its ENIs", () => {
      assert.deepEqual(
        statements().map((s) => [s.Sid, s.Effect, s.Action, s.Resource, s.Condition]),
        [
          ["ReadOwnSecretAtRunTime", "Allow", ["secretsmanager:GetSecretValue"], [secretArn()], undefined],
          [
            "DecryptOwnSecretThroughSecretsManagerOnly",
            "Allow",
            ["kms:Decrypt"],
            [KEY_ARN],
            { StringEquals: { "kms:ViaService": `secretsmanager.${REGION}.amazonaws.com` } },
          ],
          [
            "WriteOwnLogStreams",
            "Allow",
            ["logs:CreateLogStream", "logs:PutLogEvents"],
            [arn.logStreams("/aws/lambda/margin-call-v2-lmn")],
            undefined,
          ],
          ["KeepFailedRunsInOwnQueue", "Allow", ["sqs:SendMessage"], [queueArn()], undefined],
          [
            "CreateEnisOnlyInOwnSubnetsWithOwnSecurityGroup",
            "Allow",
            ["ec2:CreateNetworkInterface"],
            [
              arn.ec2("network-interface/*"),
              arn.ec2(`subnet/${SUBNETS[0]}`),
              arn.ec2(`subnet/${SUBNETS[1]}`),
              arn.ec2(`security-group/${sgId()}`),
            ],
            undefined,
          ],
          [
            "ManageEnisLambdaCreatedInOwnVpc",
            "Allow",
            ["ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"],
            [arn.ec2("network-interface/*")],
            { ArnEquals: { "ec2:Vpc": arn.ec2("vpc/vpc-0123456789abcdef0") } },
          ],
          [
            "DescribeNetworkTakesNoResourceArn",
            "Allow",
            ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"],
            "*",
            undefined,
          ],
        ],
      );
    });

    it("gets no AWS-managed policy (AWSLambdaVPCAccessExecutionRole would add logs on every log group)", () => {
      assert.deepEqual(resourcesOfType(plans.lmn.plan, "aws:iam/rolePolicyAttachment:RolePolicyAttachment"), []);
      assert.equal(get("aws:iam/role:Role", "margin-call-role").inputs.managedPolicyArns, undefined);
      assert.deepEqual(
        resourcesOfType(plans.lmn.plan, "aws:iam/rolePolicy:RolePolicy").map((p) => p.name),
        ["margin-call-policy"],
      );
    });

    describe("evaluated as IAM does (@cloud-copilot/iam-simulate)", () => {
      const principal = `arn:aws:iam::${ACCOUNT}:role/margin-call-lambda-role-v2-lmn`;
      // A KMS key answers only if its key policy delegates to IAM, as the platform key's does; the
      // queue's own policy applies to every send.
      const keyPolicy = {
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "AccountAdministersKeyThroughIam",
            Effect: "Allow",
            Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
            Action: "kms:*",
            Resource: "*",
          },
        ],
      };
      const resourcePolicyOf = (target: string) =>
        target === KEY_ARN
          ? keyPolicy
          : target === queueArn()
            ? doc(get("aws:sqs/queuePolicy:QueuePolicy", "margin-call-failures-policy").inputs.policy)
            : undefined;
      const can = async (action: string, target: string, context: Record<string, string> = {}) => {
        const resourcePolicy = resourcePolicyOf(target);
        const result = await runSimulation(
          {
            request: {
              principal,
              action,
              resource: { resource: target, accountId: ACCOUNT },
              contextVariables: { "aws:SecureTransport": "true", ...context },
            },
            identityPolicies: [
              {
                name: "margin-call",
                policy: doc(get("aws:iam/rolePolicy:RolePolicy", "margin-call-policy").inputs.policy),
              },
            ],
            serviceControlPolicies: [],
            resourceControlPolicies: [],
            ...(resourcePolicy ? { resourcePolicy } : {}),
          },
          {},
        );
        assert.equal(result.resultType, "single", JSON.stringify(result).slice(0, 300));
        return result.resultType === "single" && result.overallResult === "Allowed";
      };
      const viaSecretsManager = { "kms:ViaService": `secretsmanager.${REGION}.amazonaws.com` };
      const cases: [string, string, () => string, Record<string, string>, boolean][] = [
        ["secretsmanager:GetSecretValue", "its own secret", secretArn, {}, true],
        [
          "secretsmanager:GetSecretValue",
          "the market maker's secret",
          () => arn.secret("market-maker-secrets-v3-lmn"),
          {},
          false,
        ],
        [
          "secretsmanager:GetSecretValue",
          "another environment's margin-call secret",
          () => arn.secret("margin-call-secrets-v3-stg"),
          {},
          false,
        ],
        ["secretsmanager:DescribeSecret", "its own secret", secretArn, {}, false],
        ["secretsmanager:ListSecrets", "*", () => "*", {}, false],
        ["kms:Decrypt", "the CMK through Secrets Manager", () => KEY_ARN, viaSecretsManager, true],
        ["kms:Decrypt", "the CMK directly", () => KEY_ARN, {}, false],
        [
          "kms:Decrypt",
          "the CMK through SSM",
          () => KEY_ARN,
          { "kms:ViaService": `ssm.${REGION}.amazonaws.com` },
          false,
        ],
        [
          "logs:PutLogEvents",
          "its own log group",
          () => arn.logStreams("/aws/lambda/margin-call-v2-lmn").replace("*", "2026/01/01/abc"),
          {},
          true,
        ],
        [
          "logs:PutLogEvents",
          "another function's log group",
          () => arn.logStreams("/aws/lambda/market-maker-lmn").replace("*", "x"),
          {},
          false,
        ],
        [
          "logs:CreateLogGroup",
          "a new log group",
          () => `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/anything`,
          {},
          false,
        ],
        ["sqs:SendMessage", "its failure queue", queueArn, {}, true],
        ["sqs:SendMessage", "its failure queue over plain HTTP", queueArn, { "aws:SecureTransport": "false" }, false],
        ["sqs:SendMessage", "another queue", () => arn.queue("notifications-lmn"), {}, false],
        ["sqs:ReceiveMessage", "its failure queue", queueArn, {}, false],
        ["ec2:CreateNetworkInterface", "an ENI in its subnet", () => arn.ec2(`subnet/${SUBNETS[1]}`), {}, true],
        [
          "ec2:CreateNetworkInterface",
          "an ENI with its security group",
          () => arn.ec2(`security-group/${sgId()}`),
          {},
          true,
        ],
        [
          "ec2:CreateNetworkInterface",
          "an ENI in another subnet",
          () => arn.ec2("subnet/subnet-0fedcba9876543210"),
          {},
          false,
        ],
        [
          "ec2:CreateNetworkInterface",
          "an ENI with another security group",
          () => arn.ec2("security-group/sg-0fedcba9876543210"),
          {},
          false,
        ],
        [
          "ec2:DeleteNetworkInterface",
          "an ENI in its VPC",
          () => arn.ec2("network-interface/eni-0123456789abcdef0"),
          { "ec2:Vpc": arn.ec2(`vpc/${VPC}`) },
          true,
        ],
        [
          "ec2:DeleteNetworkInterface",
          "an ENI in another VPC",
          () => arn.ec2("network-interface/eni-0123456789abcdef0"),
          { "ec2:Vpc": arn.ec2("vpc/vpc-0fedcba9876543210") },
          false,
        ],
        [
          "ec2:DeleteNetworkInterface",
          "an ENI of another region",
          () => `arn:aws:ec2:eu-west-1:${ACCOUNT}:network-interface/eni-0123456789abcdef0`,
          { "ec2:Vpc": arn.ec2(`vpc/${VPC}`) },
          false,
        ],
        ["ec2:DescribeSubnets", "*", () => "*", {}, true],
        [
          "ec2:AuthorizeSecurityGroupIngress",
          "its security group",
          () => arn.ec2(`security-group/${sgId()}`),
          {},
          false,
        ],
        ["lambda:InvokeFunction", "itself", () => String(fn().outputs.arn), {}, false],
        ["lambda:UpdateFunctionCode", "itself", () => String(fn().outputs.arn), {}, false],
      ];
      for (const [action, what, target, context, expected] of cases) {
        it(`${expected ? "may" : "may not"} ${action} on ${what}`, async () =>
          assert.equal(await can(action, target(), context), expected));
      }
    });
  });

  describe("code belongs to the application", () => {
    it("a later pulumi up never reverts the pipeline's upload (every code property of v7 ignored)", () => {
      for (const stack of ["dev", "lmn"] as const) {
        assert.deepEqual([...fn(stack).options.ignoreChanges].sort(), [
          "code",
          "codeSha256",
          "s3Bucket",
          "s3Key",
          "s3ObjectVersion",
          "sourceCodeHash",
        ]);
      }
    });

    it("without an artifact: the placeholder archive from the repository", async () => {
      const f = fn("dev").inputs;
      assert.deepEqual(
        [f.s3Bucket, f.s3Key, (f.code as { __pulumiArchive?: boolean }).__pulumiArchive],
        [undefined, undefined, true],
      );
      await planOf("dev");
      const assets = (await archives.dev?.assets) as Record<string, pulumi.asset.FileAsset> | undefined;
      assert.deepEqual(Object.keys(assets ?? {}), ["index.js"], "index.js, for handler index.handler");
      assert.equal(await assets?.["index.js"].path, PLACEHOLDER_HANDLER);
      assert.ok(existsSync(PLACEHOLDER_HANDLER), "a real file in the repository");
    });

    it("with an artifact: the zip in S3, and no placeholder", async () => {
      const { plan, violations } = await planOf("dev", {
        artifact: { s3Bucket: "titanio-dev-artifacts", s3Key: "margin-call/v1.0.0.zip" },
      });
      const f = resource(plan, "aws:lambda/function:Function", "margin-call-function");
      assert.deepEqual(
        [f.inputs.s3Bucket, f.inputs.s3Key, f.inputs.code],
        ["titanio-dev-artifacts", "margin-call/v1.0.0.zip", undefined],
      );
      assert.ok(f.options.ignoreChanges.includes("s3Key"));
      assert.deepEqual(
        violations.filter((v) => v.level === "mandatory"),
        [],
      );
    });

    it("the placeholder fails every run, saying the pipeline has not deployed the code", async () => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const placeholder = require(PLACEHOLDER_HANDLER) as { handler: (event: unknown) => Promise<unknown> };
      await assert.rejects(
        placeholder.handler(DAILY_INPUT),
        /no application code has been deployed to this function yet.*futures-marketplace pipeline/s,
      );
    });
  });

  it("exposes what other components need, equal to what it made", () => {
    const outputs = plans.lmn.plan.outputs;
    assert.deepEqual(outputs, {
      functionName: "margin-call-v2-lmn",
      functionArn: fn().outputs.arn,
      roleArn: out("aws:iam/role:Role", "margin-call-role"),
      securityGroupId: sgId(),
      logGroupName: "/aws/lambda/margin-call-v2-lmn",
      failureQueueArn: queueArn(),
      failureQueueName: "margin-call-failures-lmn",
      scheduleRuleName: "margin-call-schedule-v2-lmn",
      scheduleRuleArn: arn.rule("margin-call-schedule-v2-lmn"),
      dailyRuleName: "margin-call-daily-schedule-v2-lmn",
      dailyRuleArn: arn.rule("margin-call-daily-schedule-v2-lmn"),
      secretArn: secretArn(),
    });
    assert.match(
      String(outputs.functionArn),
      new RegExp(`^arn:aws:lambda:${REGION}:${ACCOUNT}:function:margin-call-v2-lmn$`),
    );
  });

  it("every child has the component as parent", () => {
    const component = plans.lmn.plan.resources.find((r) => r.type === "lumerin:futures:MarginCall");
    assert.ok(component);
    for (const r of plans.lmn.plan.resources.filter((x) => x !== component))
      assert.equal(r.parent, component.urn, r.urn);
  });

  describe("refuses bad arguments, naming them", () => {
    const refused: [string, Partial<MarginCallArgs>, RegExp][] = [
      [
        "SECRETS_ARN by hand",
        { environment: { ...PLAIN, SECRETS_ARN: "x" } as MarginCallEnvironment },
        /SECRETS_ARN is set by the component/,
      ],
      [
        "the RPC URL as environment",
        { environment: { ...PLAIN, ETH_NODE_URL: RPC_URL } as MarginCallEnvironment },
        /ETH_NODE_URL looks like a URL carrying an API key: put it in margin-call-secrets-v3-dev/,
      ],
      [
        "the subgraph URL as environment",
        { environment: { ...PLAIN, FUTURES_SUBGRAPH_URL: SUBGRAPH_URL } as MarginCallEnvironment },
        /FUTURES_SUBGRAPH_URL looks like a URL carrying an API key/,
      ],
      [
        "a secret-looking name",
        { environment: { ...PLAIN, GRAPH_API_KEY: "k" } as MarginCallEnvironment },
        /GRAPH_API_KEY is named like a secret/,
      ],
      [
        "a plain-HTTP notifications URL",
        { environment: { ...PLAIN, NOTIFICATIONS_SERVICE_URL: "http://notifyint.dev.lumerin.io/notifications" } },
        /must be https:\/\//,
      ],
      ["LOG_LEVEL unlike logLevel", { logLevel: "debug" }, /LOG_LEVEL \(info\) and logLevel \(debug\) differ/],
    ];
    for (const [what, overrides, message] of refused) {
      it(what, async () => assert.rejects(planOf("dev", overrides), message));
    }
    it("but accepts no notifications URL (the notifications service switched off), absent or undefined", async () => {
      const { NOTIFICATIONS_SERVICE_URL: _, ...withoutUrl } = PLAIN;
      for (const environment of [withoutUrl, { ...PLAIN, NOTIFICATIONS_SERVICE_URL: undefined }]) {
        const { plan } = await planOf("dev", { environment });
        const variables = (
          resource(plan, "aws:lambda/function:Function", "margin-call-function").inputs.environment as {
            variables: Record<string, string>;
          }
        ).variables;
        assert.deepEqual(Object.keys(variables).sort(), [
          "FUTURES_ADDRESS",
          "HASHRATE_ORACLE_ADDRESS",
          "LOG_LEVEL",
          "MARGIN_UTILIZATION_WARNING_PERCENT",
          "MULTICALL_ADDRESS",
          "SECRETS_ARN",
        ]);
      }
    });
  });

  describe("the config refuses timing and memory out of range, naming the key, before any resource", () => {
    const refused: [string, Record<string, number>, string, RegExp][] = [
      ["a zero interval", { intervalMinutes: 0 }, "intervalMinutes", />=1/],
      ["a fractional interval", { intervalMinutes: 1.5 }, "intervalMinutes", /expected int/],
      ["a timeout over 900 s", { timeoutSeconds: 901 }, "timeoutSeconds", /<=900/],
      ["memory under 128 MB", { memoryMb: 64 }, "memoryMb", />=128/],
      ["hour 24", { dailyHour: 24 }, "dailyHour", /<=23/],
      ["minute 60", { dailyMinute: 60 }, "dailyMinute", /<=59/],
    ];
    for (const [what, edit, key, message] of refused) {
      it(what, async () => {
        const futures = JSON.parse(planFiles("dev").config[FUTURES]) as { marginCall?: Record<string, unknown> };
        futures.marginCall = { ...futures.marginCall, ...edit };
        const error = await configError("dev", { [FUTURES]: JSON.stringify(futures) });
        const issue = error.issues.find((i) => i.key === `${FUTURES}.marginCall.${key}`);
        assert.ok(issue, `names ${key}: ${error.message}`);
        assert.match(issue.message, message);
      });
    }
  });

  describe("the policy pack", () => {
    for (const stack of ["dev", "lmn"] as const) {
      it(`${stack}: no mandatory violation`, () => {
        assert.deepEqual(
          plans[stack].violations.filter((v) => v.level === "mandatory").map((v) => `${v.policy}: ${v.message}`),
          [],
        );
      });
    }
    it("lmn: no advisory one either; dev: only its unprotected secret (protect is production's)", () => {
      assert.deepEqual(
        plans.lmn.violations.map((v) => `${v.level} ${v.policy}: ${v.message}`),
        [],
      );
      assert.deepEqual(
        plans.dev.violations.map((v) => [v.level, v.policy, v.urn.split("::").pop()]),
        [["advisory", "stateful-resources-protected", "margin-call-secret"]],
      );
    });
  });
});
