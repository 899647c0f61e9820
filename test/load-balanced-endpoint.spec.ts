import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { NOTIFICATIONS_TLS_POLICY } from "../components/futures/notifications";
import {
  LoadBalancedEndpoint,
  LoadBalancedEndpointArgs,
  loadBalancedEndpoint,
} from "../components/load-balanced-endpoint";
import { CapturedResource, Plan, capture } from "../tools/harness";
import { committedPlan, resource, resourcesOfType } from "./support/plan";

const DEV_ACCOUNT = "434960487817";
const REGION = "us-east-1";

class Holder extends pulumi.ComponentResource {
  constructor(name: string) {
    super("test:index:Holder", name, {});
  }
}

async function planOf(
  name: string,
  args: LoadBalancedEndpointArgs,
): Promise<{ plan: Plan; made: LoadBalancedEndpoint }> {
  let made: LoadBalancedEndpoint | undefined;
  const plan = await capture({
    project: "lumerin-infra",
    stack: "dev",
    config: { "aws:region": REGION },
    secretKeys: [],
    accountId: DEV_ACCOUNT,
    program: async () => {
      made = loadBalancedEndpoint(name, args, new Holder("holder"));
      return {};
    },
  });
  return { plan, made: made as LoadBalancedEndpoint };
}

const LB = "aws:lb/loadBalancer:LoadBalancer";
const TG = "aws:lb/targetGroup:TargetGroup";
const LISTENER = "aws:lb/listener:Listener";
const RECORD = "aws:route53/record:Record";

function tcpArgs(overrides: Partial<LoadBalancedEndpointArgs> = {}): LoadBalancedEndpointArgs {
  return {
    type: "network",
    names: { loadBalancer: "nlb-bot-dev", targetGroup: "tg-bot-3333-dev" },
    internal: false,
    vpcId: "vpc-0123456789abcdef0",
    subnetIds: ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
    deletionProtection: false,
    targetGroup: {
      port: 3333,
      protocol: "TCP",
      deregistrationDelaySeconds: 0,
      healthCheck: { protocol: "TCP", port: "3333" },
    },
    listeners: { listener: { port: 7301, protocol: "TCP" } },
    hostName: "bot.dev.lumerin.io",
    dns: { zoneId: "Z566FD47C8169D", zoneName: "dev.lumerin.io" },
    ...overrides,
  };
}

describe("loadBalancedEndpoint", () => {
  describe("fits the notifications ALB exactly (same logical names, same inputs as Notifications makes in dev)", () => {
    let live: Record<"alb" | "tg" | "https" | "dns", CapturedResource>;
    let mine: Plan;
    let made: LoadBalancedEndpoint;
    before(async () => {
      const dev = await committedPlan("dev");
      live = {
        alb: resource(dev, LB, "futures-notifications-alb"),
        tg: resource(dev, TG, "futures-notifications-tg"),
        https: resource(dev, LISTENER, "futures-notifications-https"),
        dns: resource(dev, RECORD, "futures-notifications-dns"),
      };
      const tg = live.tg.inputs;
      ({ plan: mine, made } = await planOf("futures-notifications", {
        type: "application",
        names: { loadBalancer: String(live.alb.inputs.name), targetGroup: String(tg.name) },
        internal: true,
        vpcId: String(tg.vpcId),
        subnetIds: live.alb.inputs.subnets as string[],
        securityGroupIds: live.alb.inputs.securityGroups as string[],
        deletionProtection: false,
        targetGroup: {
          port: 3000,
          protocol: "HTTP",
          deregistrationDelaySeconds: 10,
          healthCheck: {
            enabled: true,
            protocol: "HTTP",
            path: "/healthcheck",
            port: "traffic-port",
            matcher: "200",
            interval: 30,
            timeout: 5,
            healthyThreshold: 2,
            unhealthyThreshold: 2,
          },
        },
        listeners: {
          https: {
            port: 443,
            protocol: "HTTPS",
            sslPolicy: NOTIFICATIONS_TLS_POLICY,
            certificateArn: String(live.https.inputs.certificateArn),
          },
        },
        hostName: String(live.dns.inputs.name),
        dns: { zoneId: String(live.dns.inputs.zoneId), zoneName: "dev.lumerin.io" },
      }));
    });

    it("the load balancer and the target group", () => {
      assert.deepEqual(resource(mine, LB, "futures-notifications-alb").inputs, live.alb.inputs);
      assert.deepEqual(resource(mine, TG, "futures-notifications-tg").inputs, live.tg.inputs);
    });

    it("the HTTPS listener (its own load balancer and target group) and the alias record", () => {
      const lb = resource(mine, LB, "futures-notifications-alb");
      const tg = resource(mine, TG, "futures-notifications-tg");
      const listener = resource(mine, LISTENER, "futures-notifications-https");
      const arns = (r: CapturedResource) => ({
        ...r.inputs,
        loadBalancerArn: "<lb>",
        defaultActions: [{ type: "forward", targetGroupArn: "<tg>" }],
      });
      assert.deepEqual(arns(listener), arns(live.https));
      assert.equal(listener.inputs.loadBalancerArn, lb.outputs.arn);
      assert.deepEqual(listener.inputs.defaultActions, [{ type: "forward", targetGroupArn: tg.outputs.arn }]);
      const record = resource(mine, RECORD, "futures-notifications-dns");
      assert.deepEqual({ ...record.inputs, aliases: "<alb>" }, { ...live.dns.inputs, aliases: "<alb>" });
      assert.deepEqual(record.inputs.aliases, [
        { name: lb.outputs.dnsName, zoneId: lb.outputs.zoneId, evaluateTargetHealth: true },
      ]);
      assert.deepEqual(Object.keys(made.listeners), ["https"]);
      assert.equal(made.hostName, "notifyint.dev.lumerin.io");
    });
  });

  it("a network load balancer: cross-zone on, no security group unless given, its tags, client IP and connection termination", async () => {
    const { plan } = await planOf(
      "bot",
      tcpArgs({
        tags: { "lumerin:policy-exception": "x" },
        targetGroup: { ...tcpArgs().targetGroup, preserveClientIp: true, terminateConnections: true },
      }),
    );
    const lb = resource(plan, LB, "bot-nlb");
    assert.deepEqual(
      [
        lb.inputs.enableCrossZoneLoadBalancing,
        lb.inputs.securityGroups,
        lb.inputs.dropInvalidHeaderFields,
        lb.inputs.tags,
      ],
      [true, undefined, undefined, { "lumerin:policy-exception": "x" }],
    );
    const tg = resource(plan, TG, "bot-tg");
    assert.deepEqual(
      [tg.inputs.preserveClientIp, tg.inputs.connectionTermination, tg.inputs.targetHealthStates],
      ["true", true, [{ enableUnhealthyConnectionTermination: true }]],
    );
    assert.deepEqual(
      resourcesOfType(plan, LISTENER).map((l) => [l.name, l.inputs.port, l.inputs.protocol, l.inputs.certificateArn]),
      [["bot-listener", 7301, "TCP", undefined]],
    );
  });

  it("applies each transform to its child's args, with the child's logical name", async () => {
    const seen: string[] = [];
    const { plan } = await planOf(
      "bot",
      tcpArgs({
        transform: {
          loadBalancer: (a, name) => (seen.push(name), { ...a, ipAddressType: "dualstack" }),
          targetGroup: (a, name) => (seen.push(name), { ...a, deregistrationDelay: 30 }),
          listener: (a, name) => (seen.push(name), { ...a, port: 7302 }),
          record: (a, name) => (seen.push(name), { ...a, name: "bot2.dev.lumerin.io" }),
        },
      }),
    );
    assert.deepEqual(seen, ["bot-nlb", "bot-tg", "bot-listener", "bot-dns"]);
    assert.equal(resource(plan, LB, "bot-nlb").inputs.ipAddressType, "dualstack");
    assert.equal(resource(plan, TG, "bot-tg").inputs.deregistrationDelay, 30);
    assert.equal(resource(plan, LISTENER, "bot-listener").inputs.port, 7302);
    assert.equal(resource(plan, RECORD, "bot-dns").inputs.name, "bot2.dev.lumerin.io");
  });

  it("withholds the record while the zone's role is pending, and lists it", async () => {
    const withheld: string[] = [];
    const { plan, made } = await planOf("bot", tcpArgs({ dns: { zoneName: "dev.lumerin.io", withheld } }));
    assert.equal(resourcesOfType(plan, RECORD).length, 0);
    assert.equal(made.record, undefined);
    assert.deepEqual(withheld, ["bot.dev.lumerin.io A"]);
  });

  it("refuses, naming the endpoint, a host outside the zone, TLS without a certificate, a certificate on TCP, and an ALB without a security group", async () => {
    await assert.rejects(
      planOf("bot", tcpArgs({ hostName: "bot.example.com" })),
      /^Error: bot: hostName "bot.example.com" is not in the zone dev.lumerin.io/,
    );
    await assert.rejects(
      planOf("bot", tcpArgs({ listeners: { https: { port: 443, protocol: "HTTPS" } } })),
      /bot: listener "https" \(HTTPS\) needs certificateArn and sslPolicy/,
    );
    await assert.rejects(
      planOf("bot", tcpArgs({ listeners: { listener: { port: 7301, protocol: "TCP", sslPolicy: "p" } } })),
      /bot: listener "listener" \(TCP\) takes no certificateArn or sslPolicy/,
    );
    await assert.rejects(planOf("bot", tcpArgs({ listeners: {} })), /bot: a load balancer needs at least one listener/);
    await assert.rejects(
      planOf("bot", tcpArgs({ type: "application" })),
      /bot: an application load balancer needs a security group/,
    );
  });
});
