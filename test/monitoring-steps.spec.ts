/**
 * The monitoring's steps alone, without a plan: the alarm specs of each family, how they
 * gather per service key (the order of its composite's rule), and the dashboard's rows.
 */
import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { environment } from "../lib/environments";
import { capture } from "../tools/harness";
import { registeredAfterFailure } from "./support/plan";
import { MonitoringSchema, resolveMonitoring } from "../config/monitoring";
import { AlarmSpec, alarmSpecs, functionAlarms, serviceAlarms, siteAlarms } from "../components/monitoring/alarm-specs";
import {
  Monitoring,
  MonitoringArgs,
  MonitoringTargets,
  WatchedFunction,
  WatchedSite,
} from "../components/monitoring/monitoring";
import { overviewRows } from "../components/monitoring/overview";
import { LOG_METRICS } from "../components/monitoring/log-metrics";
import { deploymentAlarmNames } from "../lib/naming";

const config = (monitoring: Record<string, unknown> = {}) =>
  resolveMonitoring(MonitoringSchema.parse(monitoring), { name: "dev", production: false });
const suffixes = (specs: readonly AlarmSpec[] | undefined) => (specs ?? []).map((s) => s.suffix);

const SERVICE = { key: "svc", clusterName: "cluster", serviceName: "service", desiredCount: 1 };
const FUNCTION: WatchedFunction = { key: "fn", functionName: "fn-dev", timeoutSeconds: 60, intervalMinutes: 3 };
const SITE: WatchedSite = { key: "site", distributionId: "E123", hostName: "app.example.com" };
const TARGETS: MonitoringTargets = {
  services: [SERVICE],
  databases: [{ key: "svc", identifier: "db", maxConnections: 200 }],
  loadBalancers: [{ key: "svc", loadBalancerArnSuffix: "app/lb/1", targetGroupArnSuffix: "targetgroup/tg/2" }],
  workflows: [{ key: "svc", suffix: "redeploy", failureMeans: "it runs on the old password", stateMachineArn: "arn" }],
  functions: [FUNCTION],
  logs: [{ key: "svc", logGroupName: "/ecs/svc", metrics: LOG_METRICS.notifications }],
};

describe("monitoring steps", () => {
  it("a key's alarms come family by family (its composite's order), whichever lists name it", () => {
    const specs = alarmSpecs(TARGETS, "dev", config());
    assert.deepEqual([...specs.keys()], ["svc", "fn"]);
    assert.deepEqual(suffixes(specs.get("svc")), [
      "cpu-high",
      "memory-high",
      "running-tasks",
      "rds-cpu",
      "rds-storage",
      "rds-connections",
      "alb-5xx",
      "alb-unhealthy",
      "redeploy-failed",
      "error-lines",
      "send-failures",
    ]);
    // The log alarms read the service's own namespace.
    assert.equal(specs.get("svc")?.at(-1)?.namespace, "Lumerin/dev/svc");
  });

  it("a key with nothing to alarm on gets no entry (so no composite); metricFilters off drops the log alarms only", () => {
    const quiet = alarmSpecs(
      { services: [], logs: [{ key: "quiet", logGroupName: "/q", metrics: [] }] },
      "dev",
      config(),
    );
    assert.equal(quiet.has("quiet"), false);
    const off = alarmSpecs(TARGETS, "dev", config({ metricFilters: false }));
    assert.deepEqual(suffixes(off.get("svc")).slice(-2), ["alb-unhealthy", "redeploy-failed"]);
    assert.deepEqual(suffixes(off.get("fn")), ["errors", "duration", "throttles", "not-running"]);
  });

  it("the alarms a deployment rolls back on are ones the service's family makes, under the same names", () => {
    const specs = alarmSpecs(TARGETS, "dev", config());
    const made = new Set(suffixes(specs.get("svc")).map((s) => `svc-${s}-dev`));
    const rollback = deploymentAlarmNames("svc", "dev", { runningTasks: true, loadBalancer5xx: true });
    assert.deepEqual(rollback, ["svc-cpu-high-dev", "svc-memory-high-dev", "svc-running-tasks-dev", "svc-alb-5xx-dev"]);
    for (const name of rollback) assert.ok(made.has(name), name);
    // A paused service (0 tasks) has no running-tasks alarm, and rolls back on none.
    assert.deepEqual(suffixes(serviceAlarms({ ...SERVICE, desiredCount: 0 }, config())), ["cpu-high", "memory-high"]);
  });

  it("a function: failed runs with a failure queue only, silence only when scheduled, duration at 80 % of its timeout", () => {
    const cfg = config();
    const bare = functionAlarms({ ...FUNCTION, scheduled: false }, cfg);
    assert.deepEqual(suffixes(bare), ["errors", "duration", "throttles"]);
    assert.equal(bare[1].threshold, 48_000);
    const full = functionAlarms({ ...FUNCTION, failureQueueName: "fn-failures" }, cfg);
    assert.deepEqual(suffixes(full), ["errors", "duration", "throttles", "failed-runs", "not-running"]);
    const [failed, silent] = full.slice(3);
    assert.deepEqual(
      [failed.namespace, failed.dimensions, failed.statistic, failed.threshold, failed.treatMissingData],
      ["AWS/SQS", { QueueName: "fn-failures" }, "Maximum", 0, "notBreaching"],
    );
    // Twice the interval, 10 minutes at least; no invocation at all is the alarm.
    assert.deepEqual(
      [silent.periodSeconds, silent.comparison, silent.treatMissingData],
      [600, "LessThanThreshold", "breaching"],
    );
    assert.equal(functionAlarms({ ...FUNCTION, intervalMinutes: 30 }, cfg).at(-1)?.periodSeconds, 3600);
    const given = config({ thresholds: { lambdaDurationMs: 1234 } });
    assert.equal(functionAlarms(FUNCTION, given)[1].threshold, 1234);
  });

  it("a site: the error rates always, the health check's and the canary's alarms with them, all in us-east-1", () => {
    const cfg = config();
    assert.deepEqual(suffixes(siteAlarms(SITE, cfg, {})), ["5xx-errors", "4xx-errors"]);
    const canaryName = pulumi.output("site-canary");
    const all = siteAlarms(SITE, cfg, { healthCheckId: "hc-1", canary: { canaryName, periodSeconds: 3600 } });
    assert.deepEqual(suffixes(all), ["5xx-errors", "4xx-errors", "unreachable", "canary-failed"]);
    assert.ok(all.every((a) => a.global === true));
    assert.deepEqual(all[2].dimensions, { HealthCheckId: "hc-1" });
    // dev: a 60-minute window over hourly runs is one run.
    assert.deepEqual(
      [all[3].periodSeconds, all[3].evaluationPeriods, all[3].dimensions.CanaryName],
      [3600, 1, canaryName],
    );
    assert.match(all[3].description, /failed \(1 run in a row\)$/);
  });

  it("the dashboard: no alarm row without composites, a row per kind watched, log widgets four to a row", () => {
    const logs = ["a", "b", "c", "d", "e"].map((key) => ({
      key,
      logGroupName: `/${key}`,
      metrics: LOG_METRICS["margin-call"],
    }));
    const rows = overviewRows({ services: [SERVICE] }, "dev", [], logs, undefined);
    assert.deepEqual(
      rows.map((row) => row.map((w) => w.title)),
      [
        ["ECS CPU %", "ECS memory %", "ECS running tasks"],
        ["a log events", "b log events", "c log events", "d log events"],
        ["e log events"],
      ],
    );
    const site = overviewRows({ services: [], site: SITE }, "dev", [pulumi.output("arn")], [], undefined);
    assert.deepEqual(
      site.map((row) => row.length),
      [1, 4],
      "the alarm status row, then CloudFront's; no canary row without a canary",
    );
  });
});

describe("Monitoring refuses what it cannot watch, before registering anything", () => {
  const base = (region: string, monitoring: Record<string, unknown>, provider?: aws.Provider): MonitoringArgs => ({
    aws: { accountId: "123456789012", region, partition: "aws" },
    env: environment("stg"),
    config: resolveMonitoring(MonitoringSchema.parse(monitoring), { name: "stg", production: false }),
    kmsKeyArn: "arn:aws:kms:eu-central-1:123456789012:key/k",
    services: [SERVICE],
    site: SITE,
    ...(provider ? { globalProvider: provider } : {}),
  });
  /** The error the program failed with, and the types it registered before. */
  async function refused(
    region: string,
    monitoring: Record<string, unknown>,
    withProvider: boolean,
  ): Promise<{ message: string; types: string[] }> {
    let message = "";
    await capture({
      project: "lumerin-infra",
      stack: "stg",
      config: { "aws:region": region },
      secretKeys: [],
      program: async () => {
        const provider = withProvider ? new aws.Provider("us-east-1", { region: "us-east-1" }) : undefined;
        new Monitoring("monitoring", base(region, monitoring, provider));
        return {};
      },
    }).catch((e: unknown) => (message = e instanceof Error ? e.message : String(e)));
    const types = (await registeredAfterFailure("stg")).map((urn) => urn.split("::")[2]);
    return { message, types };
  }

  it("a site without a us-east-1 provider", async () => {
    const { message, types } = await refused("us-east-1", {}, false);
    assert.match(message, /monitoring: a site is watched, but no us-east-1 provider was given/);
    assert.deepEqual(
      types.filter((t) => t !== "pulumi:pulumi:Stack"),
      [],
    );
  });

  it("outside us-east-1 with notifications on: the site's composite would live apart from the stack's topic", async () => {
    const { message, types } = await refused("eu-central-1", { notificationsEnabled: true }, true);
    assert.match(message, /monitoring: the site composite lives in us-east-1 with its alarms/);
    assert.deepEqual(
      types.filter((t) => t.startsWith("aws:cloudwatch") || t.startsWith("aws:route53") || t.includes("Monitoring")),
      [],
    );
  });
});
