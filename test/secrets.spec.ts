/**
 * Secret values and the first `pulumi up`: a workload whose secret would have no
 * value is refused before any resource is registered, unless the stack declares
 * the value set out of band; a `pending` secret's workload is created without
 * tasks (the margin call without schedules), so nothing starts that could not read
 * it; and the plan lists what the operator still has to do.
 */
import { strict as assert } from "node:assert";
import { ConfigError } from "../config/load";
import { OutOfBandSecretsSchema, SECRET_GROUPS, SECRET_KEYS, SecretGroup, secretKeysOf } from "../config/schema";
import type { Plan } from "../tools/harness";
import { planFiles } from "../tools/plan-stack";
import { renderMarkdown, renderTree } from "../tools/render";
import type { SecretToDo } from "../stack";
import { configError, filledPlan, freshEstateConfig, planWith, resource, resourcesOfType } from "./support/plan";

const NS = "lumerin-infra";
const OUT_OF_BAND = `${NS}:outOfBandSecrets`;
const STACKS = ["dev", "stg", "lmn"] as const;
const SERVICE = "aws:ecs/service:Service";
const RULE = "aws:cloudwatch/eventRule:EventRule";
const ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm";

/** The ECS service that reads each secret, by logical name; the margin call has schedules instead. */
const SERVICE_OF: Readonly<Record<Exclude<SecretGroup, "marginCall">, string>> = {
  proxyRouter: "proxy-router-svc-service",
  proxyValidator: "proxy-validator-svc-service",
  marketMaker: "futures-market-maker-svc-service",
  notifications: "futures-notifications-svc-service",
};
const MARGIN_CALL_RULES = ["futures-margin-call-schedule", "futures-margin-call-daily"];

/**
 * The committed stack's config with the adoption switches back at the program's defaults: a new
 * estate, whose secrets an operator has yet to fill (the committed stacks adopt the live
 * estate, whose secrets are filled already).
 */
const planFresh = (
  stack: "dev" | "stg" | "lmn",
  options: { overrides?: Record<string, string | undefined>; extraSecretKeys?: string[] } = {},
) => planWith(stack, { ...options, overrides: { ...freshEstateConfig(stack), ...options.overrides } });
const pendingCache = new Map<string, Promise<Plan>>();
/** A new estate with every secret declared pending. */
const pendingPlan = (stack: "dev" | "stg" | "lmn"): Promise<Plan> => {
  let plan = pendingCache.get(stack);
  if (!plan) {
    plan = planFresh(stack, {
      overrides: { [OUT_OF_BAND]: JSON.stringify(Object.fromEntries(SECRET_GROUPS.map((g) => [g, "pending"]))) },
    });
    pendingCache.set(stack, plan);
  }
  return plan;
};

const declared = (states: Partial<Record<SecretGroup, string>>) => ({ [OUT_OF_BAND]: JSON.stringify(states) });
const allExcept = (group: SecretGroup, state = "pending") =>
  Object.fromEntries(SECRET_GROUPS.filter((g) => g !== group).map((g) => [g, state]));
const editFutures = (stack: string, edit: (cfg: Record<string, Record<string, unknown>>) => void) => {
  const cfg = JSON.parse(freshEstateConfig(stack as "dev" | "stg" | "lmn")[`${NS}:futures`]) as Record<
    string,
    Record<string, unknown>
  >;
  edit(cfg);
  return { [`${NS}:futures`]: JSON.stringify(cfg) };
};
const editProxy = (stack: string, edit: (cfg: Record<string, Record<string, unknown>>) => void) => {
  const cfg = JSON.parse(freshEstateConfig(stack as "dev" | "stg" | "lmn")[`${NS}:proxyRouter`]) as Record<
    string,
    Record<string, unknown>
  >;
  edit(cfg);
  return { [`${NS}:proxyRouter`]: JSON.stringify(cfg) };
};
const todoOf = (plan: Plan) => plan.outputs.operatorToDo as SecretToDo[];

describe("secret values before the first pulumi up", () => {
  describe("a workload whose secret would have no value is refused, naming the keys, before any resource is registered", () => {
    it("every secret the program creates: the proxy router and validator, the market maker, notifications, the margin call", async () => {
      const error = await configError("dev", { [OUT_OF_BAND]: undefined });
      assert.deepEqual(error.issues.map((i) => i.key).sort(), SECRET_GROUPS.map((g) => `${OUT_OF_BAND}.${g}`).sort());
      for (const group of SECRET_GROUPS) {
        const issue = error.issues.find((i) => i.key === `${OUT_OF_BAND}.${group}`);
        assert.ok(issue);
        for (const key of secretKeysOf(group)) assert.ok(issue.message.includes(key), `${group}: names ${key}`);
        assert.match(
          issue.message,
          new RegExp(`outOfBandSecrets\\.${group}: pending`),
          "says how to declare it out of band",
        );
        assert.match(issue.message, /pulumi config set --secret/);
      }
      const ecs = error.issues.find((i) => i.key === `${OUT_OF_BAND}.proxyRouter`);
      assert.match(ecs?.message ?? "", /ResourceInitializationError: unable to pull secrets/);
      assert.match(
        error.issues.find((i) => i.key === `${OUT_OF_BAND}.marginCall`)?.message ?? "",
        /every scheduled run of futures\.marginCall would fail reading it/,
      );
    });

    it("one secret alone: only its key is reported", async () => {
      const error = await configError("lmn", declared(allExcept("notifications")));
      assert.deepEqual(
        error.issues.map((i) => i.key),
        [`${OUT_OF_BAND}.notifications`],
      );
      assert.match(
        error.issues[0].message,
        /^futuresNotificationsTelegramBotToken is unset, so the notifications secret would be created empty/,
      );
    });

    it("a value from Pulumi and a declaration out of band at once is refused too: one source per secret", async () => {
      const keys = secretKeysOf("marginCall").map((k) => `${NS}:${k}`);
      const values = Object.fromEntries(keys.map((k) => [k, "https://rpc.example/v1/0123456789abcdef"]));
      const error = await configError(
        "stg",
        { ...values, ...declared({ ...allExcept("marginCall"), marginCall: "filled" }) },
        keys,
      );
      assert.deepEqual(
        error.issues.map((i) => i.key),
        [`${OUT_OF_BAND}.marginCall`],
      );
      assert.match(
        error.issues[0].message,
        /is "filled", but futuresMarginCallEthNodeUrl, futuresMarginCallFuturesSubgraphUrl are set/,
      );
    });

    it("an unknown secret name or state is refused with the keys it accepts", async () => {
      const error = await configError(
        "dev",
        declared({ ...allExcept("marginCall"), marginCall: "later", marginCal: "pending" } as Record<string, string>),
      );
      const keys = error.issues.map((i) => i.key).sort();
      assert.deepEqual(keys, [`${OUT_OF_BAND}.marginCal`, `${OUT_OF_BAND}.marginCall`]);
      assert.match(
        error.issues.find((i) => i.key === `${OUT_OF_BAND}.marginCall`)?.message ?? "",
        /"pending", "filled"/,
      );
    });
  });

  describe("nothing reads the secret: no declaration needed", () => {
    it("a proxy service with desiredCount 0, a paused market maker, notifications and the margin call switched off", async () => {
      const plan = await planFresh("dev", {
        overrides: {
          [OUT_OF_BAND]: undefined,
          ...editProxy("dev", (c) => {
            c.router.desiredCount = 0;
            c.validator.enabled = false;
          }),
          ...editFutures("dev", (c) => {
            c.marketMaker.workerQuantity = 0;
            c.notifications = { ...c.notifications, enabled: false };
            c.marginCall = { ...c.marginCall, enabled: false };
          }),
        },
      });
      assert.equal(resource(plan, SERVICE, SERVICE_OF.proxyRouter).inputs.desiredCount, 0);
      assert.deepEqual(todoOf(plan), []);
    });
  });

  describe("a secret declared pending: its workload is created without tasks, so the first up starts nothing that would fail", () => {
    const plans = {} as Record<(typeof STACKS)[number], Plan>;
    before(async () => {
      for (const stack of STACKS) plans[stack] = await pendingPlan(stack);
    });

    for (const stack of STACKS) {
      it(`${stack} (a new estate: every secret pending): every service at 0 tasks, the margin call's schedules off, with no mandatory violation`, () => {
        const plan = plans[stack];
        for (const name of Object.values(SERVICE_OF))
          assert.equal(resource(plan, SERVICE, name).inputs.desiredCount, 0, name);
        for (const name of MARGIN_CALL_RULES) assert.equal(resource(plan, RULE, name).inputs.state, "DISABLED", name);
        assert.deepEqual(
          plan.violations.filter((v) => v.level === "mandatory"),
          [],
        );
        // The secrets exist, empty: no version is written for them.
        assert.equal(resourcesOfType(plan, "aws:secretsmanager/secretVersion:SecretVersion").length, 0);
      });
    }

    it("no alarm waits for tasks that cannot run yet: no running-tasks or not-running alarm, and no deployment names one", () => {
      for (const stack of STACKS) {
        const names = resourcesOfType(plans[stack], ALARM).map((a) => String(a.inputs.name));
        assert.deepEqual(
          names.filter((n) => /running-tasks|not-running/.test(n)),
          [],
          stack,
        );
        for (const name of Object.values(SERVICE_OF)) {
          const alarms =
            (resource(plans[stack], SERVICE, name).inputs.alarms as { alarmNames: string[] } | undefined)?.alarmNames ??
            [];
          assert.deepEqual(
            alarms.filter((n) => n.includes("running-tasks")),
            [],
            `${stack} ${name}`,
          );
          for (const alarm of alarms) assert.ok(names.includes(alarm), `${stack} ${name}: ${alarm} exists`);
        }
      }
    });

    it("filled: the configured tasks and schedules, and their alarms", async () => {
      const plan = await planFresh("lmn", {
        overrides: { [OUT_OF_BAND]: JSON.stringify(Object.fromEntries(SECRET_GROUPS.map((g) => [g, "filled"]))) },
      });
      const configured = JSON.parse(planFiles("lmn").config[`${NS}:proxyRouter`]) as {
        router: { desiredCount?: number };
      };
      assert.equal(
        resource(plan, SERVICE, SERVICE_OF.proxyRouter).inputs.desiredCount,
        configured.router.desiredCount ?? 1,
      );
      for (const name of [SERVICE_OF.marketMaker, SERVICE_OF.notifications, SERVICE_OF.proxyValidator])
        assert.equal(resource(plan, SERVICE, name).inputs.desiredCount, 1, name);
      for (const name of MARGIN_CALL_RULES) assert.equal(resource(plan, RULE, name).inputs.state, "ENABLED", name);
      const names = resourcesOfType(plan, ALARM).map((a) => String(a.inputs.name));
      for (const expected of [
        "proxy-router-running-tasks-lmn",
        "notifications-running-tasks-lmn",
        "margin-call-not-running-lmn",
      ])
        assert.ok(names.includes(expected), expected);
      assert.deepEqual(todoOf(plan), []);
    });

    it("one secret pending, the others filled: only its workload waits", async () => {
      const plan = await planFresh("stg", {
        overrides: declared({ ...allExcept("marketMaker", "filled"), marketMaker: "pending" }),
      });
      assert.equal(resource(plan, SERVICE, SERVICE_OF.marketMaker).inputs.desiredCount, 0);
      for (const name of [SERVICE_OF.proxyRouter, SERVICE_OF.proxyValidator, SERVICE_OF.notifications])
        assert.equal(resource(plan, SERVICE, name).inputs.desiredCount, 1, name);
      for (const name of MARGIN_CALL_RULES) assert.equal(resource(plan, RULE, name).inputs.state, "ENABLED", name);
      assert.deepEqual(
        todoOf(plan).map((t) => t.configKey),
        [`${OUT_OF_BAND}.marketMaker`],
      );
    });
  });

  describe("the operator's to-do, in the plan and in the stack outputs", () => {
    it("lists each pending secret with its name, JSON keys, and the commands in order: fill, start, declare filled", async () => {
      const plan = await pendingPlan("lmn");
      const todo = todoOf(plan);
      assert.deepEqual(
        todo.map((t) => t.configKey),
        SECRET_GROUPS.map((g) => `${OUT_OF_BAND}.${g}`),
      );
      const router = todo[0];
      assert.equal(
        router.secretName,
        String(resource(plan, "aws:secretsmanager/secret:Secret", "proxy-router-secret").inputs.name),
      );
      assert.deepEqual(router.jsonKeys, ["wallet_private_key", "eth_node_address", "futures_subgraph_url"]);
      const service = resource(plan, SERVICE, SERVICE_OF.proxyRouter);
      const cluster = resource(plan, "aws:ecs/cluster:Cluster", "cluster-cluster");
      const configured =
        (JSON.parse(planFiles("lmn").config[`${NS}:proxyRouter`]) as { router: { desiredCount?: number } }).router
          .desiredCount ?? 1;
      assert.deepEqual(router.steps, [
        `aws secretsmanager put-secret-value --region us-east-1 --secret-id ${router.secretName} --secret-string file://proxyRouter-lmn.json   # a JSON object with wallet_private_key, eth_node_address, futures_subgraph_url`,
        `aws ecs update-service --region us-east-1 --cluster ${String(cluster.inputs.name)} --service ${String(service.inputs.name)} --desired-count ${configured} --force-new-deployment`,
        `set ${OUT_OF_BAND}.proxyRouter to filled in Pulumi.lmn.yaml, then pulumi up`,
      ]);
      const notifications = todo.find((t) => t.configKey.endsWith(".notifications"));
      const futuresCluster = resource(plan, "aws:ecs/cluster:Cluster", "futures-cluster-cluster");
      assert.equal(
        notifications?.steps[1],
        `aws ecs update-service --region us-east-1 --cluster ${String(futuresCluster.inputs.name)} --service svc-futures-notifications-lmn --desired-count 1 --force-new-deployment`,
      );
      // The margin call needs no start of its own: `filled` turns its schedules on.
      const marginCall = todo.find((t) => t.configKey.endsWith(".marginCall"));
      assert.equal(marginCall?.steps.length, 2);
      // Every secret's JSON keys are the keys its consumers read.
      for (const t of todo) {
        const group = t.configKey.split(".").pop() as SecretGroup;
        assert.deepEqual(
          t.jsonKeys,
          Object.values(SECRET_KEYS)
            .filter((k) => k.secret === group)
            .map((k) => k.jsonKey),
        );
      }
    });

    it("the printed plan and the pull-request summary show it; a stack with every value in shows none", async () => {
      const tree = renderTree(await pendingPlan("dev"), "Pulumi.dev.yaml");
      assert.match(tree, /^Operator to-do: 5 secrets to fill out of band \(docs\/secrets\.md\)$/m);
      assert.match(
        tree,
        /^ {2}lumerin-infra:outOfBandSecrets\.notifications: pending; notifications-secrets-v3-dev is created empty/m,
      );
      assert.match(
        tree,
        /^ {4}1\. aws secretsmanager put-secret-value --region us-east-1 --secret-id \/proxy-router\/dev\/config /m,
      );
      assert.match(renderMarkdown(await pendingPlan("dev")), /\*\*Operator to-do:\*\* 5 secrets to fill out of band/);
      const filled = await filledPlan("dev");
      assert.doesNotMatch(renderTree(filled, "Pulumi.dev.yaml"), /Operator to-do/);
    });
  });

  it("SECRET_GROUPS lists exactly the secrets SECRET_KEYS fills, and outOfBandSecrets takes exactly those", () => {
    assert.deepEqual([...SECRET_GROUPS].sort(), [...new Set(Object.values(SECRET_KEYS).map((k) => k.secret))].sort());
    assert.deepEqual(Object.keys(OutOfBandSecretsSchema.shape).sort(), [...SECRET_GROUPS].sort());
  });

  it("the error names the key even when another part of the config is wrong too", async () => {
    const error = await configError("dev", {
      [OUT_OF_BAND]: undefined,
      [`${NS}:cluster`]: JSON.stringify({ containerInsights: "maybe" }),
    });
    assert.ok(error instanceof ConfigError);
    assert.ok(error.issues.some((i) => i.key === `${NS}:cluster.containerInsights`));
    assert.ok(error.issues.some((i) => i.key === `${OUT_OF_BAND}.proxyRouter`));
  });
});
