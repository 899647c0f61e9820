import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { MARKET_MAKER_SECRET_KEYS, MarketMaker, MarketMakerEcsArgs } from "../components/futures/market-maker";
import { futuresNames } from "../lib/naming";
import { RULES } from "../policy/rules";
import type { Plan } from "../tools/harness";
import { ACCOUNT, REGION, evaluateProgram } from "./support/policy";
import { containers, doc, resource, resourcesOfType } from "./support/plan";
import { KEY_ARN } from "./support/fixtures";

function args(stack: "dev" | "lmn", overrides: Partial<MarketMakerEcsArgs> = {}): MarketMakerEcsArgs {
  return {
    aws: { accountId: ACCOUNT, region: REGION, partition: "aws" },
    cluster: {
      arn: `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/ecs-futures-marketplace-${stack}`,
      name: `ecs-futures-marketplace-${stack}`,
      execLogGroupArn: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:exec`,
      kmsKeyArn: KEY_ARN,
    },
    network: {
      vpcId: "vpc-0123456789abcdef0",
      privateSubnetIds: ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
    },
    names: futuresNames(stack).marketMaker,
    image: `ghcr.io/lumerin-protocol/market-maker:market-maker-v1.4.0${stack === "dev" ? "-dev" : ""}`,
    imageTag: `market-maker-v1.4.0${stack === "dev" ? "-dev" : ""}`,
    cpu: 256,
    memory: 512,
    desiredCount: 1,
    chainId: stack === "dev" ? 421614 : 42161,
    contracts: {
      futures: "0xec76867e96d942282fc7aafe3f778de34d41a311",
      hashrateOracle: "0x6f736186d2c93913721e2570c283dff2a08575e9",
      multicall: "0xcA11bde05977b3631167028862bE2a173976CA11",
    },
    trading: {
      floatAmount: "300000000",
      spreadAmount: "10000",
      gridLevels: 5,
      activeQuotingAmountRatio: 0.4,
      riskAversion: "3000000",
      maxPosition: 10,
      minEthBalance: "100000000000000",
      minUsdcBalance: "10000000",
      loopIntervalMs: 60000,
    },
    logLevel: "info",
    logRetentionDays: 30,
    enableExecuteCommand: false,
    secretsKmsKeyArn: KEY_ARN,
    secretValues: {
      private_key: pulumi.secret("0x" + "ab".repeat(32)),
      eth_node_url: pulumi.secret("https://arb-sepolia.example/v2/key"),
      futures_subgraph_url: pulumi.secret("https://gateway.thegraph.com/api/k/subgraphs/id/a"),
      oracles_subgraph_url: pulumi.secret("https://gateway.thegraph.com/api/k/subgraphs/id/b"),
    },
    protect: stack === "lmn",
    ...overrides,
  };
}

describe("MarketMaker", () => {
  const evaluated: Record<string, { plan: Plan; mandatory: string[] }> = {};
  before(async () => {
    for (const stack of ["dev", "lmn"] as const) {
      const { plan, violations } = await evaluateProgram(
        RULES,
        () => void new MarketMaker("market-maker", args(stack)),
        { stack },
      );
      evaluated[stack] = {
        plan,
        mandatory: violations.filter((v) => v.level === "mandatory").map((v) => `${v.policy}: ${v.message}`),
      };
    }
  });

  it("is a singleton: one task, and a deploy stops the old task before it starts the new one", () => {
    const service = resource(evaluated.dev.plan, "aws:ecs/service:Service", "market-maker-svc-service");
    assert.equal(service.inputs.name, "svc-market-maker-dev");
    assert.deepEqual(
      [
        service.inputs.desiredCount,
        service.inputs.deploymentMinimumHealthyPercent,
        service.inputs.deploymentMaximumPercent,
      ],
      [1, 0, 100],
    );
    assert.deepEqual(service.inputs.deploymentCircuitBreaker, { enable: true, rollback: true });
  });

  it("refuses a second worker", async () => {
    await assert.rejects(
      evaluateProgram([], () => void new MarketMaker("market-maker", args("dev", { desiredCount: 2 as 1 }))),
      /svc-market-maker-dev: a singleton service runs at most one task/,
    );
  });

  it("takes no traffic in and sends only HTTPS out", () => {
    const plan = evaluated.dev.plan;
    assert.deepEqual(resourcesOfType(plan, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"), []);
    const egress = resourcesOfType(plan, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule");
    assert.deepEqual(
      egress.map((r) => [r.inputs.ipProtocol, r.inputs.fromPort, r.inputs.toPort, r.inputs.cidrIpv4]),
      [["tcp", 443, 443, "0.0.0.0/0"]],
    );
  });

  it("reads its four secrets by JSON key, and none of them is plain environment", () => {
    const [container] = containers(
      resource(evaluated.dev.plan, "aws:ecs/taskDefinition:TaskDefinition", "market-maker-svc-task"),
    );
    const secretArn = resource(evaluated.dev.plan, "aws:secretsmanager/secret:Secret", "market-maker-secret").outputs
      .arn;
    assert.deepEqual(
      container.secrets,
      MARKET_MAKER_SECRET_KEYS.map((k) => ({ name: k.env, valueFrom: `${secretArn}:${k.jsonKey}::` })),
    );
    assert.deepEqual(
      container.secrets.map((s) => s.name),
      ["PRIVATE_KEY", "ETH_NODE_URL", "FUTURES_SUBGRAPH_URL", "ORACLES_SUBGRAPH_URL"],
    );
    const plainNames = container.environment.map((e) => e.name);
    for (const s of container.secrets) assert.ok(!plainNames.includes(s.name), s.name);
    assert.doesNotMatch(JSON.stringify(container.environment), /gateway\.thegraph\.com|https?:\/\//);
  });

  it("passes chain, contracts and trading parameters as plain environment", () => {
    const [container] = containers(
      resource(evaluated.dev.plan, "aws:ecs/taskDefinition:TaskDefinition", "market-maker-svc-task"),
    );
    assert.deepEqual(Object.fromEntries(container.environment.map((e) => [e.name, e.value])), {
      ACTIVE_QUOTING_AMOUNT_RATIO: "0.4",
      CHAIN_ID: "421614",
      FLOAT_AMOUNT: "300000000",
      FUTURES_ADDRESS: "0xec76867e96d942282fc7aafe3f778de34d41a311",
      GRID_LEVELS: "5",
      HASHRATE_ORACLE_ADDRESS: "0x6f736186d2c93913721e2570c283dff2a08575e9",
      LOG_LEVEL: "info",
      LOOP_INTERVAL_MS: "60000",
      MAX_POSITION: "10",
      MIN_ETH_BALANCE: "100000000000000",
      MIN_USDC_BALANCE: "10000000",
      MULTICALL_ADDRESS: "0xcA11bde05977b3631167028862bE2a173976CA11",
      RISK_AVERSION: "3000000",
      SPREAD_AMOUNT: "10000",
    });
    assert.equal(container.image, "ghcr.io/lumerin-protocol/market-maker:market-maker-v1.4.0-dev");
  });

  it("lets ECS read exactly its own secret, decrypting only through Secrets Manager", () => {
    const plan = evaluated.dev.plan;
    const policy = doc(
      resource(plan, "aws:iam/rolePolicy:RolePolicy", "market-maker-svc-execution-policy").inputs.policy,
    );
    const secretArn = resource(plan, "aws:secretsmanager/secret:Secret", "market-maker-secret").outputs.arn;
    const reads = policy.Statement.filter((s) => [s.Action].flat().includes("secretsmanager:GetSecretValue"));
    assert.deepEqual(
      reads.map((s) => s.Resource),
      [[secretArn]],
    );
    const decrypt = policy.Statement.filter((s) => [s.Action].flat().includes("kms:Decrypt"));
    assert.deepEqual(
      decrypt.map((s) => [s.Resource, s.Condition?.StringEquals?.["kms:ViaService"]]),
      [[[KEY_ARN], `secretsmanager.${REGION}.amazonaws.com`]],
    );
  });

  it("writes the secret's JSON only as a Pulumi secret, and records its image tag", () => {
    const plan = evaluated.dev.plan;
    const version = resource(plan, "aws:secretsmanager/secretVersion:SecretVersion", "market-maker-secret-value");
    assert.equal(version.inputs.secretString, "[secret]");
    const parameter = resource(plan, "aws:ssm/parameter:Parameter", "market-maker-image-tag");
    assert.deepEqual(
      [parameter.inputs.name, parameter.inputs.type, parameter.inputs.insecureValue],
      ["/market-maker/dev/image-tag", "String", "market-maker-v1.4.0-dev"],
    );
    const without = evaluateProgram(
      [],
      () => void new MarketMaker("market-maker", args("dev", { secretValues: undefined })),
    );
    return without.then(({ plan: p }) =>
      assert.equal(resourcesOfType(p, "aws:secretsmanager/secretVersion:SecretVersion").length, 0),
    );
  });

  it("protects its secret in production only", () => {
    assert.equal(
      resource(evaluated.lmn.plan, "aws:secretsmanager/secret:Secret", "market-maker-secret").options.protect,
      true,
    );
    assert.equal(
      resource(evaluated.lmn.plan, "aws:secretsmanager/secret:Secret", "market-maker-secret").inputs
        .recoveryWindowInDays,
      30,
    );
    assert.notEqual(
      resource(evaluated.dev.plan, "aws:secretsmanager/secret:Secret", "market-maker-secret").options.protect,
      true,
    );
  });

  for (const stack of ["dev", "lmn"] as const) {
    it(`${stack}: passes the whole policy pack (no mandatory violation)`, () =>
      assert.deepEqual(evaluated[stack].mandatory, []));
  }
});
