import { strict as assert } from "node:assert";
import { proxyIngress } from "../components/proxy-service";
import { ProxyServiceSchema } from "../config/schema";
import { policyExceptionTag } from "../policy/rules/model";
import type { Plan } from "../tools/harness";
import {
  containers,
  doc,
  freshEstateConfig,
  freshEstatePlan,
  planWith,
  resource,
  resourcesOfType,
} from "./support/plan";
import { STACK_ACCOUNTS } from "./support/fixtures";

const ACCOUNTS = STACK_ACCOUNTS;
const KINDS = [
  {
    kind: "router",
    logical: "proxy-router",
    host: { dev: "proxy.dev.lumerin.io", stg: "proxy.stg.lumerin.io", lmn: "proxy.lumerin.io" },
  },
  {
    kind: "validator",
    logical: "proxy-validator",
    host: { dev: "validator.dev.lumerin.io", stg: "validator.stg.lumerin.io", lmn: "validator.lumerin.io" },
  },
] as const;
const STACKS = ["dev", "stg", "lmn"] as const;

// What a new estate gets: the committed stacks adopt the live NLBs and secrets instead (test/adoption.spec.ts).
describe("ProxyRouter", () => {
  const plans = {} as Record<(typeof STACKS)[number], Plan>;
  before(async () => {
    for (const stack of STACKS) plans[stack] = await freshEstatePlan(stack);
  });

  for (const stack of STACKS) {
    for (const { kind, logical, host } of KINDS) {
      describe(`${stack} ${kind}`, () => {
        const acct = ACCOUNTS[stack];
        const app = logical;

        it("names the service, family, logs and secret as the live estate does", () => {
          const p = plans[stack];
          assert.equal(
            resource(p, "aws:ecs/service:Service", `${logical}-svc-service`).inputs.name,
            `svc-${app}-${stack}-use1`,
          );
          assert.equal(
            resource(p, "aws:ecs/taskDefinition:TaskDefinition", `${logical}-svc-task`).inputs.family,
            `tsk-${app}`,
          );
          assert.equal(
            resource(p, "aws:cloudwatch/logGroup:LogGroup", `${logical}-svc-logs`).inputs.name,
            `bedrock-${stack}-${app}-log-group`,
          );
          assert.equal(
            resource(p, "aws:secretsmanager/secret:Secret", `${logical}-secret`).inputs.name,
            `/${app}/${stack}/config`,
          );
          assert.equal(
            resource(p, "aws:ssm/parameter:Parameter", `${logical}-image-tag`).inputs.name,
            `/${app}/${stack}/image-tag`,
          );
        });

        it("reads WALLET_PRIVATE_KEY, ETH_NODE_ADDRESS and FUTURES_SUBGRAPH_URL from its own secret by JSON key, never from environment", () => {
          const p = plans[stack];
          const secretArn = resource(p, "aws:secretsmanager/secret:Secret", `${logical}-secret`).outputs.arn as string;
          assert.match(
            secretArn,
            new RegExp(`^arn:aws:secretsmanager:us-east-1:${acct}:secret:/${app}/${stack}/config-[A-Za-z]{6}$`),
          );
          const [c] = containers(resource(p, "aws:ecs/taskDefinition:TaskDefinition", `${logical}-svc-task`));
          assert.deepEqual(c.secrets, [
            { name: "WALLET_PRIVATE_KEY", valueFrom: `${secretArn}:wallet_private_key::` },
            { name: "ETH_NODE_ADDRESS", valueFrom: `${secretArn}:eth_node_address::` },
            { name: "FUTURES_SUBGRAPH_URL", valueFrom: `${secretArn}:futures_subgraph_url::` },
          ]);
          const envNames = c.environment.map((e) => e.name);
          for (const s of c.secrets) assert.ok(!envNames.includes(s.name), `${s.name} must not be plain environment`);
        });

        it("sets the non-secret settings the binary reads", () => {
          const [c] = containers(
            resource(plans[stack], "aws:ecs/taskDefinition:TaskDefinition", `${logical}-svc-task`),
          );
          const env = Object.fromEntries(c.environment.map((e) => [e.name, e.value]));
          assert.equal(env.PROXY_ADDRESS, "0.0.0.0:3333");
          assert.equal(env.WEB_ADDRESS, "0.0.0.0:8080");
          assert.equal(env.MULTICALL_ADDRESS, "0xcA11bde05977b3631167028862bE2a173976CA11");
          for (const key of ["FUTURES_ADDRESS", "CLONE_FACTORY_ADDRESS", "VALIDATOR_REGISTRY_ADDRESS"])
            assert.match(env[key], /^0x[0-9a-fA-F]{40}$/);
          assert.match(
            env.POOL_ADDRESS,
            kind === "validator" ? /-val:@btc\.f2pool\.com:1314$/ : /[^l]:@btc\.f2pool\.com:1314$/,
          );
          assert.equal(env.HASHRATE_SHARE_TIMEOUT, "20m");
          assert.equal(env.LOG_JSON, "true");
          assert.ok(env.LOG_LEVEL_APP);
          assert.deepEqual(c.ulimits, [{ name: "nofile", softLimit: 15000, hardLimit: 15000 }]);
          assert.equal(c.healthCheck, undefined, "off in the committed stacks: the image is FROM scratch");
        });

        it("lets its execution role read only its own secret (through the stack key) and write only its own logs", () => {
          const p = plans[stack];
          const secretArn = resource(p, "aws:secretsmanager/secret:Secret", `${logical}-secret`).outputs.arn;
          const keyArn = resource(p, "aws:kms/key:Key", "platform-key").outputs.arn;
          const policy = doc(
            resource(p, "aws:iam/rolePolicy:RolePolicy", `${logical}-svc-execution-policy`).inputs.policy,
          );
          assert.deepEqual(
            policy.Statement.map((s) => [s.Sid, s.Action, s.Resource]),
            [
              [
                "WriteOwnLogStreams",
                ["logs:CreateLogStream", "logs:PutLogEvents"],
                [`arn:aws:logs:us-east-1:${acct}:log-group:bedrock-${stack}-${app}-log-group:log-stream:*`],
              ],
              ["ReadOwnSecretsAtTaskStart", ["secretsmanager:GetSecretValue"], [secretArn]],
              ["DecryptOwnSecretsThroughSecretsManagerOnly", ["kms:Decrypt"], [keyArn]],
            ],
          );
        });

        it("runs with the circuit breaker and rollback, in private subnets, with desiredCount left to people", () => {
          const svc = resource(plans[stack], "aws:ecs/service:Service", `${logical}-svc-service`);
          assert.deepEqual(svc.inputs.deploymentCircuitBreaker, { enable: true, rollback: true });
          assert.deepEqual(svc.options.ignoreChanges, ["desiredCount"]);
          const net = svc.inputs.networkConfiguration as { assignPublicIp: boolean; subnets: string[] };
          assert.equal(net.assignPublicIp, false);
          assert.equal(net.subnets.length, 3);
        });

        it("sizes the task as the environment needs (lmn: 2048 CPU / 4096 MiB)", () => {
          const task = resource(plans[stack], "aws:ecs/taskDefinition:TaskDefinition", `${logical}-svc-task`);
          assert.deepEqual([task.inputs.cpu, task.inputs.memory], stack === "lmn" ? ["2048", "4096"] : ["256", "512"]);
        });

        it("publishes stratum through an internet-facing NLB (7301 → 3333, client IP kept) at its public name", () => {
          const p = plans[stack];
          const nlb = resource(p, "aws:lb/loadBalancer:LoadBalancer", `${logical}-nlb`);
          assert.equal(nlb.inputs.loadBalancerType, "network");
          assert.equal(nlb.inputs.internal, false);
          assert.equal(nlb.inputs.enableDeletionProtection, stack === "lmn");
          const tg = resource(p, "aws:lb/targetGroup:TargetGroup", `${logical}-tg`);
          assert.deepEqual(
            [tg.inputs.port, tg.inputs.protocol, tg.inputs.targetType, tg.inputs.preserveClientIp],
            [3333, "TCP", "ip", "true"],
          );
          assert.deepEqual(tg.inputs.healthCheck, {
            protocol: "TCP",
            port: "3333",
            interval: 5,
            timeout: 2,
            healthyThreshold: 2,
            unhealthyThreshold: 2,
          });
          const listener = resource(p, "aws:lb/listener:Listener", `${logical}-listener`);
          assert.deepEqual([listener.inputs.port, listener.inputs.protocol], [7301, "TCP"]);
          const record = resource(p, "aws:route53/record:Record", `${logical}-dns`);
          assert.equal(record.inputs.name, host[stack]);
          assert.deepEqual((record.inputs.aliases as { name: string }[])[0].name, nlb.outputs.dnsName);
        });

        it("admits stratum to the tasks only from the NLB, and the web API only from the VPN", () => {
          const p = plans[stack];
          const taskSg = resource(p, "aws:ec2/securityGroup:SecurityGroup", `${logical}-svc-sg`);
          const nlbSg = resource(p, "aws:ec2/securityGroup:SecurityGroup", `${logical}-nlb-sg`);
          const ingress = resourcesOfType(p, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").filter((r) =>
            r.name.startsWith(`${logical}-svc-in`),
          );
          assert.deepEqual(
            ingress.map((r) => [
              r.inputs.securityGroupId,
              r.inputs.fromPort,
              r.inputs.referencedSecurityGroupId ?? r.inputs.cidrIpv4,
            ]),
            [
              [taskSg.id, 3333, nlbSg.id],
              [taskSg.id, 8080, "172.18.0.0/19"],
            ],
          );
          const nlbIn = resource(
            p,
            "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
            `${logical}-nlb-in-miners`,
          );
          assert.deepEqual([nlbIn.inputs.fromPort, nlbIn.inputs.cidrIpv4], [7301, "0.0.0.0/0"]);
          const nlbOut = resource(
            p,
            "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
            `${logical}-nlb-out-stratum-to-tasks`,
          );
          assert.deepEqual([nlbOut.inputs.fromPort, nlbOut.inputs.referencedSecurityGroupId], [3333, taskSg.id]);
        });

        it("never publishes task addresses in public DNS (no Cloud Map, one alias record to the NLB)", () => {
          const p = plans[stack];
          assert.equal(
            p.resources.some((r) => r.type.startsWith("aws:servicediscovery/")),
            false,
          );
          const records = resourcesOfType(p, "aws:route53/record:Record").filter((r) => r.name.startsWith(logical));
          assert.deepEqual(
            records.map((r) => r.inputs.type),
            ["A"],
          );
        });
      });
    }

    it(`${stack}: protects stateful resources ${stack === "lmn" ? "" : "only "}in production`, () => {
      const p = plans[stack];
      const stateful = p.resources.filter(
        (r) =>
          ["aws:secretsmanager/secret:Secret", "aws:kms/key:Key"].includes(r.type) &&
          !r.urn.includes("lumerin:futures:"),
      );
      assert.equal(stateful.length, 3);
      for (const r of stateful) assert.equal(r.options.protect, stack === "lmn", `${r.name} protect`);
      const secretWindow = resource(p, "aws:secretsmanager/secret:Secret", "proxy-router-secret").inputs
        .recoveryWindowInDays;
      assert.equal(secretWindow, stack === "lmn" ? 30 : 7);
    });
  }

  it("with the health check enabled, the container checks GET /healthcheck on the web port", async () => {
    const plan = await planWith("dev", {
      overrides: {
        ...freshEstateConfig("dev"),
        "lumerin-infra:proxyRouter": JSON.stringify(
          withService(
            "router",
            { healthCheck: { enabled: true, startPeriodSeconds: 90 } },
            await freshEstatePlan("dev"),
          ),
        ),
      },
    });
    const [c] = containers(resource(plan, "aws:ecs/taskDefinition:TaskDefinition", "proxy-router-svc-task"));
    assert.deepEqual(c.healthCheck, {
      command: ["CMD-SHELL", "wget -q -O /dev/null http://127.0.0.1:8080/healthcheck || exit 1"],
      interval: 30,
      timeout: 5,
      retries: 3,
      startPeriod: 90,
    });
  });

  it("a disabled service registers nothing, and a disabled public endpoint removes the NLB and its DNS only", async () => {
    const base = await freshEstatePlan("dev");
    const without = await planWith("dev", {
      overrides: {
        ...freshEstateConfig("dev"),
        "lumerin-infra:proxyRouter": JSON.stringify(withService("validator", { enabled: false }, base)),
      },
    });
    assert.equal(
      without.resources.some((r) => r.name.startsWith("proxy-validator")),
      false,
    );
    assert.equal(
      without.resources.filter((r) => r.name.startsWith("proxy-router")).length,
      base.resources.filter((r) => r.name.startsWith("proxy-router")).length,
    );

    const noEndpoint = await planWith("dev", {
      overrides: {
        ...freshEstateConfig("dev"),
        "lumerin-infra:proxyRouter": JSON.stringify(
          withService("router", { publicEndpoint: { enabled: false } }, base),
        ),
      },
    });
    const removed = base.resources
      .filter((r) => !noEndpoint.resources.some((n) => n.urn === r.urn))
      .map((r) => r.name)
      .sort();
    assert.deepEqual(removed, [
      "proxy-router-dns",
      "proxy-router-listener",
      "proxy-router-nlb",
      "proxy-router-nlb-in-miners",
      "proxy-router-nlb-out-stratum-to-tasks",
      "proxy-router-nlb-sg",
      "proxy-router-svc-in-stratum-from-nlb",
      "proxy-router-tg",
    ]);
    const svc = resource(noEndpoint, "aws:ecs/service:Service", "proxy-router-svc-service");
    assert.deepEqual(svc.inputs.loadBalancers, []);
  });
});

describe("proxyIngress (the tasks' inbound rules, by id)", () => {
  const cfg = (publicEndpoint: Record<string, unknown>, apiIngressCidrs: string[] = []) =>
    ProxyServiceSchema.parse({ poolAddress: "//acct.worker:@btc.f2pool.com:1314", publicEndpoint, apiIngressCidrs });

  it("behind an NLB with a security group: stratum from that group only, and the API from operators", () => {
    const rules = proxyIngress({ kind: "router", config: cfg({}, ["172.18.0.0/19"]) }, "sg-nlb");
    assert.deepEqual(Object.keys(rules), ["stratum-from-nlb", "api-from-operators"]);
    assert.deepEqual(
      [
        rules["stratum-from-nlb"].securityGroupId,
        rules["stratum-from-nlb"].fromPort,
        rules["stratum-from-nlb"].cidrBlocks,
      ],
      ["sg-nlb", 3333, undefined],
    );
    assert.deepEqual(
      [rules["api-from-operators"].fromPort, rules["api-from-operators"].cidrBlocks],
      [8080, ["172.18.0.0/19"]],
    );
  });

  it("behind an adopted NLB without one: stratum from the miners' CIDRs, tagged as the adoption's exception naming the key", () => {
    const rules = proxyIngress(
      { kind: "validator", config: cfg({ securityGroups: false, allowedCidrs: ["0.0.0.0/0"] }) },
      undefined,
    );
    assert.deepEqual(Object.keys(rules), ["stratum-from-miners"]);
    assert.deepEqual(rules["stratum-from-miners"].cidrBlocks, ["0.0.0.0/0"]);
    assert.deepEqual(rules["stratum-from-miners"].tags, {
      [policyExceptionTag("security-groups-not-open-to-the-world")]:
        "proxyRouter.validator.publicEndpoint.securityGroups",
    });
  });

  it("with the endpoint off: no stratum rule at all", () => {
    assert.deepEqual(proxyIngress({ kind: "router", config: cfg({ enabled: false }) }, undefined), {});
  });
});

/** The fresh-estate dev proxyRouter config (adoption switches at their defaults) with one service's settings merged. */
function withService(
  kind: "router" | "validator",
  patch: Record<string, unknown>,
  _base: Plan,
): Record<string, unknown> {
  const cfg = JSON.parse(freshEstateConfig("dev")["lumerin-infra:proxyRouter"]) as Record<
    string,
    Record<string, unknown>
  >;
  return { ...cfg, [kind]: { ...cfg[kind], ...patch } };
}
