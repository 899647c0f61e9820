import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { runSimulation } from "@cloud-copilot/iam-simulate";
import { DAILY_INPUT, MarginCall, MarginCallArgs, PLACEHOLDER_HANDLER, rateExpression } from "../components/futures/margin-call";
import { futuresNames } from "../lib/naming";
import { RULES } from "../policy/rules";
import type { Plan } from "../tools/harness";
import { ACCOUNT, REGION, evaluateProgram } from "./support/policy";
import { doc, resource, resourcesOfType } from "./support/plan";

const KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const SUBNETS = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"];
const PLAIN = {
  FUTURES_ADDRESS: "0x8464dc5ab80e76e497fad318fe6d444408e5ccda",
  HASHRATE_ORACLE_ADDRESS: "0x6599ef8e2b4a548a86eb82e2dfbc6ceadfceacbd",
  MULTICALL_ADDRESS: "0xcA11bde05977b3631167028862bE2a173976CA11",
  NOTIFICATIONS_SERVICE_URL: "https://notifyint.lumerin.io/notifications",
  LOG_LEVEL: "info",
  MARGIN_UTILIZATION_WARNING_PERCENT: "80",
};

function args(stack: "dev" | "lmn", overrides: Partial<MarginCallArgs> = {}): MarginCallArgs {
  return {
    aws: { accountId: ACCOUNT, region: REGION, partition: "aws" },
    network: { vpcId: "vpc-0123456789abcdef0", privateSubnetIds: SUBNETS },
    names: futuresNames(stack).marginCall,
    timeoutSeconds: 300,
    memoryMb: stack === "lmn" ? 1024 : 512,
    intervalMinutes: 15,
    daily: { hour: 0, minute: 30 },
    environment: PLAIN,
    logLevel: "info",
    logRetentionDays: 30,
    secretsKmsKeyArn: KEY_ARN,
    secretValues: { eth_node_url: pulumi.secret("https://arb1.example/v2/key"), futures_subgraph_url: pulumi.secret("https://gateway.thegraph.com/api/k/subgraphs/id/x") },
    protect: stack === "lmn",
    ...overrides,
  };
}

async function planOf(stack: "dev" | "lmn", overrides: Partial<MarginCallArgs> = {}) {
  const { plan, violations } = await evaluateProgram(RULES, () => void new MarginCall("margin-call", args(stack, overrides)), { stack });
  return { plan, mandatory: violations.filter((v) => v.level === "mandatory").map((v) => `${v.policy}: ${v.message}`) };
}

describe("MarginCall", () => {
  const plans = {} as Record<"dev" | "lmn", { plan: Plan; mandatory: string[] }>;
  before(async () => {
    plans.dev = await planOf("dev");
    plans.lmn = await planOf("lmn");
  });
  const fn = (stack: "dev" | "lmn" = "lmn") => resource(plans[stack].plan, "aws:lambda/function:Function", "margin-call-function");

  it("is Node.js 22 in the private subnets with its own security group, one run at a time", () => {
    const f = fn().inputs;
    assert.deepEqual([f.name, f.runtime, f.handler, f.timeout, f.memorySize, f.reservedConcurrentExecutions], ["margin-call-v2-lmn", "nodejs22.x", "index.handler", 300, 1024, 1]);
    const sg = resource(plans.lmn.plan, "aws:ec2/securityGroup:SecurityGroup", "margin-call-sg");
    assert.deepEqual(f.vpcConfig, { subnetIds: SUBNETS, securityGroupIds: [sg.id] });
    assert.deepEqual(resourcesOfType(plans.lmn.plan, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"), [], "nothing comes in");
    const egress = resourcesOfType(plans.lmn.plan, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule");
    assert.deepEqual(egress.map((r) => [r.inputs.securityGroupId, r.inputs.ipProtocol, r.inputs.fromPort, r.inputs.toPort, r.inputs.cidrIpv4]), [[sg.id, "tcp", 443, 443, "0.0.0.0/0"]]);
  });

  it("logs to its own log group, with retention, created first", () => {
    const logs = resource(plans.lmn.plan, "aws:cloudwatch/logGroup:LogGroup", "margin-call-logs");
    assert.deepEqual([logs.inputs.name, logs.inputs.retentionInDays], ["/aws/lambda/margin-call-v2-lmn", 30]);
    assert.deepEqual(fn().inputs.loggingConfig, { logFormat: "JSON", logGroup: "/aws/lambda/margin-call-v2-lmn", applicationLogLevel: "INFO", systemLogLevel: "WARN" });
    assert.ok(fn().options.dependsOn.includes(logs.urn));
  });

  it("gets plain settings as environment and its secrets only by the secret's ARN", () => {
    const secretArn = resource(plans.lmn.plan, "aws:secretsmanager/secret:Secret", "margin-call-secret").outputs.arn;
    assert.deepEqual(fn().inputs.environment, { variables: { ...PLAIN, SECRETS_ARN: secretArn } });
    assert.doesNotMatch(JSON.stringify(fn().inputs.environment), /gateway\.thegraph\.com|arb1\.example/);
    const version = resource(plans.lmn.plan, "aws:secretsmanager/secretVersion:SecretVersion", "margin-call-secret-value");
    assert.equal(version.inputs.secretString, "[secret]");
  });

  it("refuses to have SECRETS_ARN set by hand", async () => {
    await assert.rejects(planOf("dev", { environment: { ...PLAIN, SECRETS_ARN: "x" } }), /SECRETS_ARN is set by the component/);
  });

  it("runs every N minutes and daily with {executeMarginCall: true}", () => {
    const rule = (name: string) => resource(plans.lmn.plan, "aws:cloudwatch/eventRule:EventRule", name).inputs;
    assert.deepEqual([rule("margin-call-schedule").name, rule("margin-call-schedule").scheduleExpression], ["margin-call-schedule-v2-lmn", "rate(15 minutes)"]);
    assert.deepEqual([rule("margin-call-daily").name, rule("margin-call-daily").scheduleExpression], ["margin-call-daily-schedule-v2-lmn", "cron(30 0 * * ? *)"]);
    const target = (name: string) => resource(plans.lmn.plan, "aws:cloudwatch/eventTarget:EventTarget", name).inputs;
    const arn = fn().outputs.arn;
    assert.deepEqual([target("margin-call-schedule-target").arn, target("margin-call-schedule-target").targetId, target("margin-call-schedule-target").input], [arn, "margin-call-lambda-v2", undefined]);
    assert.deepEqual([target("margin-call-daily-target").arn, target("margin-call-daily-target").targetId], [arn, "margin-call-lambda-daily-v2"]);
    assert.deepEqual(JSON.parse(String(target("margin-call-daily-target").input)), DAILY_INPUT);
    assert.deepEqual(DAILY_INPUT, { executeMarginCall: true });
  });

  it("speaks EventBridge's rate syntax (singular for one minute)", () => {
    assert.equal(rateExpression(1), "rate(1 minute)");
    assert.equal(rateExpression(15), "rate(15 minutes)");
  });

  it("lets each rule invoke it by that rule's ARN only, from this account", () => {
    for (const key of ["schedule", "daily"]) {
      const permission = resource(plans.lmn.plan, "aws:lambda/permission:Permission", `margin-call-${key}-invoke`).inputs;
      const ruleArn = resource(plans.lmn.plan, "aws:cloudwatch/eventRule:EventRule", `margin-call-${key}`).outputs.arn;
      assert.deepEqual(
        [permission.action, permission.principal, permission.function, permission.sourceArn, permission.sourceAccount],
        ["lambda:InvokeFunction", "events.amazonaws.com", "margin-call-v2-lmn", ruleArn, ACCOUNT],
      );
      assert.match(String(ruleArn), /:rule\/margin-call-/);
    }
  });

  it("keeps failed runs: two retries, then an encrypted queue, for 14 days", () => {
    const queue = resource(plans.lmn.plan, "aws:sqs/queue:Queue", "margin-call-failures");
    assert.deepEqual([queue.inputs.name, queue.inputs.sqsManagedSseEnabled, queue.inputs.messageRetentionSeconds], ["margin-call-failures-lmn", true, 1209600]);
    const config = resource(plans.lmn.plan, "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig", "margin-call-async").inputs;
    assert.deepEqual([config.functionName, config.maximumRetryAttempts, config.destinationConfig], ["margin-call-v2-lmn", 2, { onFailure: { destination: queue.outputs.arn } }]);
    const queuePolicy = doc(resource(plans.lmn.plan, "aws:sqs/queuePolicy:QueuePolicy", "margin-call-failures-policy").inputs.policy);
    assert.deepEqual(queuePolicy.Statement.map((s) => [s.Sid, s.Effect, s.Condition]), [["DenyRequestsWithoutTls", "Deny", { Bool: { "aws:SecureTransport": "false" } }]]);
  });

  it("has exactly its own rights: its secret (through Secrets Manager only), its logs, its queue", () => {
    const plan = plans.lmn.plan;
    const policy = doc(resource(plan, "aws:iam/rolePolicy:RolePolicy", "margin-call-policy").inputs.policy);
    const secretArn = resource(plan, "aws:secretsmanager/secret:Secret", "margin-call-secret").outputs.arn;
    const queueArn = resource(plan, "aws:sqs/queue:Queue", "margin-call-failures").outputs.arn;
    assert.deepEqual(
      policy.Statement.map((s) => [s.Sid, s.Action, s.Resource, s.Condition]),
      [
        ["ReadOwnSecretAtRunTime", ["secretsmanager:GetSecretValue"], [secretArn], undefined],
        ["DecryptOwnSecretThroughSecretsManagerOnly", ["kms:Decrypt"], [KEY_ARN], { StringEquals: { "kms:ViaService": `secretsmanager.${REGION}.amazonaws.com` } }],
        ["WriteOwnLogStreams", ["logs:CreateLogStream", "logs:PutLogEvents"], [`arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/margin-call-v2-lmn:log-stream:*`], undefined],
        ["KeepFailedRunsInOwnQueue", ["sqs:SendMessage"], [queueArn], undefined],
      ],
    );
    const trust = doc(resource(plan, "aws:iam/role:Role", "margin-call-role").inputs.assumeRolePolicy).Statement;
    assert.deepEqual(trust.map((s) => s.Principal), [{ Service: "lambda.amazonaws.com" }]);
    const attachment = resource(plan, "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "margin-call-vpc-access");
    assert.equal(attachment.inputs.policyArn, "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole");
  });

  describe("its secret, evaluated as IAM does", () => {
    const can = async (action: string, target: string) => {
      const policy = doc(resource(plans.lmn.plan, "aws:iam/rolePolicy:RolePolicy", "margin-call-policy").inputs.policy);
      const result = await runSimulation(
        {
          request: { principal: `arn:aws:iam::${ACCOUNT}:role/margin-call-lambda-role-v2-lmn`, action, resource: { resource: target, accountId: ACCOUNT }, contextVariables: {} },
          identityPolicies: [{ name: "margin-call", policy }],
          serviceControlPolicies: [],
          resourceControlPolicies: [],
        },
        {},
      );
      return result.resultType === "single" && result.overallResult === "Allowed";
    };
    it("may read its own secret", async () => {
      assert.equal(await can("secretsmanager:GetSecretValue", String(resource(plans.lmn.plan, "aws:secretsmanager/secret:Secret", "margin-call-secret").outputs.arn)), true);
    });
    it("may not read the market maker's, nor list secrets, nor invoke functions", async () => {
      assert.equal(await can("secretsmanager:GetSecretValue", `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:market-maker-secrets-v3-lmn-AbCdEf`), false);
      assert.equal(await can("secretsmanager:ListSecrets", "*"), false);
      assert.equal(await can("lambda:InvokeFunction", `arn:aws:lambda:${REGION}:${ACCOUNT}:function:margin-call-v2-lmn`), false);
    });
  });

  describe("code belongs to the application", () => {
    it("starts from the placeholder, and a later pulumi up never reverts the pipeline's upload", () => {
      const f = fn("dev");
      assert.deepEqual(f.options.ignoreChanges, ["code", "s3Bucket", "s3Key", "s3ObjectVersion", "sourceCodeHash"]);
      assert.ok(f.inputs.code, "a placeholder archive");
      assert.equal(f.inputs.s3Bucket, undefined);
    });

    it("or from the configured artifact", async () => {
      const { plan } = await planOf("dev", { artifact: { s3Bucket: "titanio-dev-artifacts", s3Key: "margin-call/v1.0.0.zip" } });
      const f = resource(plan, "aws:lambda/function:Function", "margin-call-function").inputs;
      assert.deepEqual([f.s3Bucket, f.s3Key, f.code], ["titanio-dev-artifacts", "margin-call/v1.0.0.zip", undefined]);
    });

    it("the placeholder fails every run, loudly", async () => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const placeholder = require(PLACEHOLDER_HANDLER) as { handler: () => Promise<unknown> };
      await assert.rejects(placeholder.handler(), /no application code has been deployed to this function yet/);
    });
  });

  it("protects its secret in production only", () => {
    assert.equal(resource(plans.lmn.plan, "aws:secretsmanager/secret:Secret", "margin-call-secret").options.protect, true);
    assert.notEqual(resource(plans.dev.plan, "aws:secretsmanager/secret:Secret", "margin-call-secret").options.protect, true);
  });

  for (const stack of ["dev", "lmn"] as const) {
    it(`${stack}: passes the whole policy pack (no mandatory violation)`, () => assert.deepEqual(plans[stack].mandatory, []));
  }
});
