/**
 * Monitoring as the stacks compose it: the alarm set per stack, each alarm's
 * metric and dimensions resolved to the resource it watches, composites equal
 * to the OR of their service's alarms, actions only on composites (and none
 * when notifications are off), the us-east-1 alarms, and the created topic.
 */
import { strict as assert } from "node:assert";
import type { CapturedResource, Plan } from "../tools/harness";
import { compositeRule } from "../components/monitoring/monitoring";
import { alarmStatusWidget, dashboardBody, metricWidget } from "../components/monitoring/dashboard";
import { LOG_METRICS, LogMetric } from "../components/monitoring/log-metrics";
import { matches } from "./support/log-filter";
import { MONITORING_DEFAULTS, MonitoringSchema, resolveMonitoring } from "../config/monitoring";
import { doc, freshEstateConfig, freshEstatePlan, planWith, resource, resourcesOfType } from "./support/plan";

const STACKS = ["dev", "stg", "lmn"] as const;
type Stack = (typeof STACKS)[number];
const ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm";
const COMPOSITE = "aws:cloudwatch/compositeAlarm:CompositeAlarm";

const SERVICES = {
  "proxy-router": ["cpu-high", "memory-high", "running-tasks", "error-lines", "crashes"],
  "proxy-validator": ["cpu-high", "memory-high", "running-tasks", "error-lines", "crashes"],
  "market-maker": ["cpu-high", "memory-high", "running-tasks", "error-lines", "order-failures", "insufficient-funds"],
  notifications: [
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
  ],
  "margin-call": [
    "errors",
    "duration",
    "throttles",
    "failed-runs",
    "not-running",
    "error-lines",
    "failed-calls",
    "failed-alerts",
  ],
  "futures-ui": ["5xx-errors", "4xx-errors", "unreachable"],
} as const;
/** The alarms of a service in a stack: the canary runs in production only (by default). */
const alarmsOf = (stack: Stack, key: keyof typeof SERVICES): readonly string[] =>
  key === "futures-ui" && stack === "lmn" ? [...SERVICES[key], "canary-failed"] : SERVICES[key];

const alarm = (plan: Plan, key: string, suffix: string) => resource(plan, ALARM, `monitoring-${key}-${suffix}`);
const out = (plan: Plan, type: string, name: string, key = "name") => resource(plan, type, name).outputs[key];

describe("monitoring", () => {
  const plans = {} as Record<Stack, Plan>;
  before(async () => {
    for (const stack of STACKS) plans[stack] = await freshEstatePlan(stack);
  });

  for (const stack of STACKS) {
    it(`${stack}: has exactly the seed's alarms (suffixed by stack), the proxy services' and a not-running alarm for the margin call`, () => {
      const names = resourcesOfType(plans[stack], ALARM)
        .map((a) => a.inputs.name)
        .sort();
      const expected = (Object.keys(SERVICES) as (keyof typeof SERVICES)[])
        .flatMap((key) => alarmsOf(stack, key).map((s) => `${key}-${s}-${stack}`))
        .sort();
      assert.deepEqual(names, expected);
      assert.deepEqual(
        resourcesOfType(plans[stack], COMPOSITE)
          .map((c) => c.inputs.alarmName)
          .sort(),
        Object.keys(SERVICES)
          .map((k) => `${k}-${stack}`)
          .sort(),
      );
    });
  }

  it("every composite's rule is exactly the OR of its service's alarms", () => {
    for (const stack of STACKS) {
      for (const key of Object.keys(SERVICES) as (keyof typeof SERVICES)[]) {
        const suffixes = alarmsOf(stack, key);
        const composite = resource(plans[stack], COMPOSITE, `monitoring-${key}`);
        assert.equal(composite.inputs.alarmRule, suffixes.map((s) => `ALARM("${key}-${s}-${stack}")`).join(" OR "));
        // It waits for its alarms: CloudWatch refuses a rule naming an alarm that does not exist.
        assert.deepEqual(
          [...(composite.options.dependsOn as string[])].sort(),
          suffixes.map((s) => alarm(plans[stack], key, s).urn).sort(),
        );
      }
    }
    assert.equal(compositeRule(["a", "b"]), 'ALARM("a") OR ALARM("b")');
  });

  it("only composites notify, and only where notifications are on (lmn by default)", () => {
    for (const stack of STACKS) {
      for (const a of resourcesOfType(plans[stack], ALARM)) {
        assert.deepEqual(
          [a.inputs.actionsEnabled, a.inputs.alarmActions, a.inputs.okActions],
          [false, undefined, undefined],
          a.name,
        );
      }
      const topic = `arn:aws:sns:us-east-1:${stack === "dev" ? "434960487817" : stack === "stg" ? "464450398935" : "330280307271"}:${stack === "lmn" ? "titanio-lmn-devops-alerts" : `titanio-${stack}-dev-alerts`}`;
      for (const c of resourcesOfType(plans[stack], COMPOSITE)) {
        const on = stack === "lmn";
        assert.deepEqual(
          [c.inputs.actionsEnabled, c.inputs.alarmActions, c.inputs.okActions],
          [on, on ? [topic] : [], on ? [topic] : []],
          `${stack} ${c.name}`,
        );
      }
    }
  });

  describe("each alarm watches the resource it names", () => {
    const plan = () => plans.lmn;
    it("ECS services: AWS/ECS CPU and memory, Container Insights running tasks, by cluster and service", () => {
      const p = plan();
      const cases: [string, string, string][] = [
        ["proxy-router", "cluster-cluster", "proxy-router-svc-service"],
        ["proxy-validator", "cluster-cluster", "proxy-validator-svc-service"],
        ["market-maker", "futures-cluster-cluster", "futures-market-maker-svc-service"],
        ["notifications", "futures-cluster-cluster", "futures-notifications-svc-service"],
      ];
      for (const [key, clusterName, serviceName] of cases) {
        const dims = {
          ClusterName: out(p, "aws:ecs/cluster:Cluster", clusterName),
          ServiceName: out(p, "aws:ecs/service:Service", serviceName),
        };
        const shape = (a: CapturedResource) => [
          a.inputs.namespace,
          a.inputs.metricName,
          a.inputs.statistic,
          a.inputs.dimensions,
          a.inputs.comparisonOperator,
          a.inputs.treatMissingData,
        ];
        assert.deepEqual(shape(alarm(p, key, "cpu-high")), [
          "AWS/ECS",
          "CPUUtilization",
          "Average",
          dims,
          "GreaterThanThreshold",
          "notBreaching",
        ]);
        assert.deepEqual(shape(alarm(p, key, "memory-high")), [
          "AWS/ECS",
          "MemoryUtilization",
          "Average",
          dims,
          "GreaterThanThreshold",
          "notBreaching",
        ]);
        // A service with no running task reports nothing: that must alarm.
        assert.deepEqual(shape(alarm(p, key, "running-tasks")), [
          "ECS/ContainerInsights",
          "RunningTaskCount",
          "Minimum",
          dims,
          "LessThanThreshold",
          "breaching",
        ]);
        assert.equal(alarm(p, key, "running-tasks").inputs.threshold, 1);
      }
    });

    it("the database, the load balancer and the function, by their own identifiers", () => {
      const p = plan();
      const db = out(p, "aws:rds/instance:Instance", "futures-notifications-db", "identifier");
      for (const suffix of ["rds-cpu", "rds-storage", "rds-connections"]) {
        assert.deepEqual(
          [alarm(p, "notifications", suffix).inputs.namespace, alarm(p, "notifications", suffix).inputs.dimensions],
          ["AWS/RDS", { DBInstanceIdentifier: db }],
        );
      }
      // Thresholds in the metric's own unit: bytes, and connections out of the parameter group's maximum.
      assert.equal(alarm(p, "notifications", "rds-storage").inputs.threshold, 10 * 1024 ** 3);
      assert.equal(alarm(p, "notifications", "rds-connections").inputs.threshold, 160, "80 % of max_connections 200");
      const lb = out(p, "aws:lb/loadBalancer:LoadBalancer", "futures-notifications-alb", "arnSuffix");
      const tg = out(p, "aws:lb/targetGroup:TargetGroup", "futures-notifications-tg", "arnSuffix");
      assert.match(String(lb), /^app\//);
      assert.deepEqual(alarm(p, "notifications", "alb-5xx").inputs.dimensions, { LoadBalancer: lb });
      assert.deepEqual(alarm(p, "notifications", "alb-unhealthy").inputs.dimensions, {
        LoadBalancer: lb,
        TargetGroup: tg,
      });
      // A redeploy after a database password rotation that failed: the service runs on the old password.
      const redeploy = alarm(p, "notifications", "redeploy-failed").inputs;
      assert.deepEqual(
        [
          redeploy.namespace,
          redeploy.metricName,
          redeploy.statistic,
          redeploy.dimensions,
          redeploy.threshold,
          redeploy.comparisonOperator,
          redeploy.treatMissingData,
        ],
        [
          "AWS/States",
          "ExecutionsFailed",
          "Sum",
          { StateMachineArn: out(p, "aws:sfn/stateMachine:StateMachine", "futures-notifications-redeploy", "arn") },
          0,
          "GreaterThanThreshold",
          "notBreaching",
        ],
      );
      const fn = out(p, "aws:lambda/function:Function", "futures-margin-call-function");
      for (const suffix of ["errors", "duration", "throttles", "not-running"])
        assert.deepEqual(alarm(p, "margin-call", suffix).inputs.dimensions, { FunctionName: fn });
      // A run lost after its retries sits in the failure queue: that pages too.
      const failed = alarm(p, "margin-call", "failed-runs").inputs;
      assert.deepEqual(
        [failed.namespace, failed.metricName, failed.dimensions, failed.threshold, failed.comparisonOperator],
        [
          "AWS/SQS",
          "ApproximateNumberOfMessagesVisible",
          { QueueName: out(p, "aws:sqs/queue:Queue", "futures-margin-call-failures") },
          0,
          "GreaterThanThreshold",
        ],
      );
      // Nothing invoking it for two intervals is an alarm, not silence.
      const silent = alarm(p, "margin-call", "not-running").inputs;
      assert.deepEqual(
        [silent.metricName, silent.period, silent.comparisonOperator, silent.treatMissingData],
        ["Invocations", 1800, "LessThanThreshold", "breaching"],
      );
      assert.equal(alarm(p, "margin-call", "duration").inputs.threshold, 240000, "80 % of the 300 s timeout");
    });

    it("the UI: CloudFront rates by distribution (Region Global) and a Route53 HTTPS check, all in us-east-1", () => {
      const p = plan();
      const global = p.resources.find((r) => r.type === "pulumi:providers:aws" && r.name === "us-east-1");
      assert.ok(global);
      assert.equal(global.inputs.region, "us-east-1");
      const distribution = resource(p, "aws:cloudfront/distribution:Distribution", "futures-ui-distribution").id;
      for (const suffix of ["5xx-errors", "4xx-errors"]) {
        const a = alarm(p, "futures-ui", suffix);
        assert.deepEqual(
          [a.inputs.namespace, a.inputs.dimensions, a.provider],
          ["AWS/CloudFront", { DistributionId: distribution, Region: "Global" }, global.urn],
        );
      }
      const check = resource(p, "aws:route53/healthCheck:HealthCheck", "monitoring-futures-ui-health");
      assert.deepEqual(
        [
          check.inputs.type,
          check.inputs.fqdn,
          check.inputs.port,
          check.inputs.resourcePath,
          check.inputs.failureThreshold,
          check.inputs.requestInterval,
        ],
        ["HTTPS", "futures.lumerin.io", 443, "/", 3, 30],
      );
      const unreachable = alarm(p, "futures-ui", "unreachable");
      assert.deepEqual(
        [
          unreachable.inputs.namespace,
          unreachable.inputs.dimensions,
          unreachable.inputs.treatMissingData,
          unreachable.provider,
        ],
        ["AWS/Route53", { HealthCheckId: check.id }, "breaching", global.urn],
      );
      assert.equal(
        resource(p, COMPOSITE, "monitoring-futures-ui").provider,
        global.urn,
        "a composite lives with its alarms",
      );
    });
  });

  describe("log metric filters", () => {
    const FILTER = "aws:cloudwatch/logMetricFilter:LogMetricFilter";
    const LOG_GROUPS: Record<keyof typeof LOG_METRICS, [string, string]> = {
      "proxy-router": ["aws:cloudwatch/logGroup:LogGroup", "proxy-router-svc-logs"],
      "proxy-validator": ["aws:cloudwatch/logGroup:LogGroup", "proxy-validator-svc-logs"],
      "market-maker": ["aws:cloudwatch/logGroup:LogGroup", "futures-market-maker-svc-logs"],
      notifications: ["aws:cloudwatch/logGroup:LogGroup", "futures-notifications-svc-logs"],
      "margin-call": ["aws:cloudwatch/logGroup:LogGroup", "futures-margin-call-logs"],
    };

    for (const stack of STACKS) {
      it(`${stack}: each service's filters read its own log group, count 1 per line into Lumerin/${stack}/<service>, and each has the alarm of the same metric`, () => {
        const plan = plans[stack];
        const filters = resourcesOfType(plan, FILTER);
        assert.equal(filters.length, Object.values(LOG_METRICS).flat().length);
        for (const [key, metrics] of Object.entries(LOG_METRICS) as [
          keyof typeof LOG_METRICS,
          readonly LogMetric[],
        ][]) {
          const logGroup = out(plan, ...LOG_GROUPS[key]);
          for (const m of metrics) {
            const f = resource(plan, FILTER, `monitoring-${key}-${m.suffix}`).inputs;
            const namespace = `Lumerin/${stack}/${key}`;
            assert.deepEqual(
              [f.name, f.logGroupName, f.pattern, f.metricTransformation],
              [
                `${key}-${m.suffix}-${stack}`,
                logGroup,
                m.pattern,
                { namespace, name: m.metricName, value: "1", defaultValue: "0", unit: "Count" },
              ],
            );
            const a = alarm(plan, key, m.suffix).inputs;
            const errors = m.kind === "errors";
            assert.deepEqual(
              [
                a.namespace,
                a.metricName,
                a.statistic,
                a.dimensions,
                a.period,
                a.threshold,
                a.evaluationPeriods,
                a.comparisonOperator,
                a.treatMissingData,
              ],
              [
                namespace,
                m.metricName,
                "Sum",
                undefined,
                300,
                errors ? MONITORING_DEFAULTS[stack].thresholds.logErrorLines : 0,
                errors ? { dev: 12, stg: 6, lmn: 3 }[stack] : 1,
                "GreaterThanThreshold",
                "notBreaching",
              ],
              `${stack} ${key} ${m.suffix}`,
            );
            assert.equal(a.datapointsToAlarm, a.evaluationPeriods, "every period of the window must breach");
          }
        }
      });
    }

    it("counts error and fatal lines in each service's own log format, and the seed's application events", () => {
      assert.equal(
        LOG_METRICS["proxy-router"][0].pattern,
        '{ ($.level = "error") || ($.level = "dpanic") || ($.level = "panic") || ($.level = "fatal") }',
      );
      assert.equal(LOG_METRICS.notifications[0].pattern, "{ $.level >= 50 }");
      assert.equal(
        LOG_METRICS["margin-call"][0].pattern,
        '{ ($.level = "ERROR") || ($.level = "FATAL") || ($.level >= 50) }',
      );
      assert.deepEqual(
        Object.entries(LOG_METRICS).map(([key, ms]) => [
          key,
          ms.filter((m) => m.kind === "event").map((m) => m.suffix),
        ]),
        [
          ["proxy-router", ["crashes"]],
          ["proxy-validator", ["crashes"]],
          ["market-maker", ["order-failures", "insufficient-funds"]],
          ["notifications", ["send-failures"]],
          ["margin-call", ["failed-calls", "failed-alerts"]],
        ],
      );
      // Matched as the apps write them (futures-marketplace and proxy-router code), not as today's filters guess.
      const patterns = Object.fromEntries(
        Object.entries(LOG_METRICS).flatMap(([key, ms]) => ms.map((m) => [`${key} ${m.suffix}`, m.pattern])),
      );
      assert.equal(patterns["proxy-router crashes"], '"panic: "');
      assert.equal(patterns["market-maker order-failures"], '"Market Maker failed"');
      assert.equal(patterns["market-maker insufficient-funds"], '{ $.msg = "Insufficient*" }');
      assert.equal(patterns["notifications send-failures"], `"'sendMessage' failed"`);
      assert.equal(patterns["margin-call failed-calls"], '"Error in margin call handler"');
      assert.equal(patterns["margin-call failed-alerts"], '"Failed to send deficit alerts"');
    });

    it("each pattern matches the lines the apps write for it, and not their neighbours", () => {
      const zap = (level: string, msg: string) =>
        JSON.stringify({ level, ts: 1767225600.5, logger: "APP", caller: "x.go:1", msg });
      const pino = (level: number, msg: string, extra: Record<string, unknown> = {}) =>
        JSON.stringify({ level, time: 1767225600000, pid: 1, hostname: "ip-10-0-0-1", ...extra, msg });
      const lambda = (level: string, message: string) =>
        JSON.stringify({ timestamp: "2026-01-01T00:00:00Z", level, requestId: "r-1", message });
      const cases: [keyof typeof LOG_METRICS, string, string[], string[]][] = [
        [
          "proxy-router",
          "error-lines",
          [
            zap("error", "contract sync state error x"),
            zap("dpanic", "hashrate counter not found, x"),
            zap("fatal", "x"),
          ],
          [zap("warn", "x"), zap("info", "error handling event"), "error: plain text"],
        ],
        [
          "proxy-router",
          "crashes",
          ["panic: runtime error: invalid memory address or nil pointer dereference"],
          [zap("error", "x"), "goroutine 1 [running]:"],
        ],
        [
          "market-maker",
          "error-lines",
          [pino(50, "x"), pino(60, "x")],
          [pino(40, "Insufficient USDC: 1 USDC < 10 USDC required"), pino(30, "Orders placed")],
        ],
        [
          "market-maker",
          "order-failures",
          ["Market Maker failed TransactionExecutionError: execution reverted"],
          [pino(30, "Orders placed"), "Market Maker completed { statusCode: 200 }"],
        ],
        [
          "market-maker",
          "insufficient-funds",
          [
            pino(40, "Insufficient ETH for gas: 0.0001 ETH < 0.001 ETH required"),
            pino(40, "Insufficient USDC: 1 USDC < 10 USDC required"),
          ],
          // The run's summary repeats the text in plain console output: counted once, from the JSON line.
          [
            "Market Maker completed { message: 'Insufficient USDC: 1 USDC < 10 USDC required' }",
            pino(30, "Orders placed"),
          ],
        ],
        [
          "notifications",
          "error-lines",
          [pino(50, "Call to 'sendMessage' failed! (403: Forbidden: bot was blocked by the user)")],
          [pino(30, "request completed", { responseTime: 12 }), pino(40, "x")],
        ],
        [
          "notifications",
          "send-failures",
          [
            pino(50, "Call to 'sendMessage' failed! (403: Forbidden: bot was blocked by the user)"),
            pino(50, "Network request for 'sendMessage' failed!"),
          ],
          [pino(20, "Notification sent to user 42"), pino(50, "Call to 'getMe' failed! (401: Unauthorized)")],
        ],
        [
          "margin-call",
          "error-lines",
          [lambda("ERROR", "Error in margin call handler: x"), pino(50, "Failed to send deficit alerts: Bad Gateway")],
          [lambda("INFO", "x"), pino(30, "Found 3 participants")],
        ],
        [
          "margin-call",
          "failed-calls",
          [lambda("ERROR", "Error in margin call handler: ContractFunctionExecutionError")],
          [pino(30, "Executed margin call for 2 entries")],
        ],
        [
          "margin-call",
          "failed-alerts",
          [pino(50, "Failed to send deficit alerts: Bad Gateway")],
          [pino(30, "Sending deficit alerts: 2")],
        ],
      ];
      for (const [key, suffix, hits, misses] of cases) {
        const metric = LOG_METRICS[key].find((m) => m.suffix === suffix);
        assert.ok(metric, `${key} ${suffix}`);
        for (const line of hits)
          assert.equal(matches(metric.pattern, line), true, `${key} ${suffix} should count ${line}`);
        for (const line of misses)
          assert.equal(matches(metric.pattern, line), false, `${key} ${suffix} should not count ${line}`);
      }
      // Every metric has a case.
      assert.deepEqual(
        Object.entries(LOG_METRICS)
          .flatMap(([key, ms]) => ms.map((m) => `${key} ${m.suffix}`))
          .filter((k) => !cases.some(([c, x]) => `${c} ${x}` === k) && !k.startsWith("proxy-validator")),
        [],
      );
      // The evaluator refuses what it cannot read rather than guessing.
      assert.throws(() => matches("[ip, user, status = 4*]", "x"), /unsupported pattern/);
      assert.throws(() => matches('{ $.level ~ "x" }', "{}"), /expected an operator/);
    });

    it("metricFilters: false removes the filters and their alarms only", async () => {
      const plan = await planWith("lmn", {
        overrides: {
          ...freshEstateConfig("lmn"),
          "lumerin-infra:monitoring": JSON.stringify({ metricFilters: false }),
        },
      });
      assert.deepEqual(resourcesOfType(plan, FILTER), []);
      const names = resourcesOfType(plan, ALARM).map((a) => a.inputs.name as string);
      const logSuffixes = new Set(
        Object.values(LOG_METRICS)
          .flat()
          .map((m) => m.suffix),
      );
      assert.deepEqual(
        names.filter((n) => [...logSuffixes].some((s) => n.endsWith(`-${s}-lmn`))),
        [],
      );
      assert.equal(names.length, resourcesOfType(plans.lmn, ALARM).length - Object.values(LOG_METRICS).flat().length);
    });
  });

  describe("the canary", () => {
    const CANARY = "aws:synthetics/canary:Canary";
    it("lmn: loads the production site every 15 minutes from us-east-1, and its failure joins the UI composite", () => {
      const p = plans.lmn;
      const global = p.resources.find((r) => r.type === "pulumi:providers:aws" && r.name === "us-east-1");
      const canary = resource(p, CANARY, "monitoring-futures-ui-canary-canary");
      assert.equal(canary.provider, global?.urn);
      assert.deepEqual(
        [
          canary.inputs.name,
          canary.inputs.schedule,
          (canary.inputs.runConfig as { environmentVariables: Record<string, string> }).environmentVariables,
        ],
        ["futures-ui-lmn", { expression: "rate(15 minutes)" }, { TARGET_URL: "https://futures.lumerin.io" }],
      );
      assert.equal(
        resource(p, "aws:s3/bucket:Bucket", "monitoring-futures-ui-canary-bucket").inputs.bucket,
        "futures-synthetics-330280307271-lmn",
      );
      const a = alarm(p, "futures-ui", "canary-failed");
      assert.deepEqual(
        [
          a.inputs.namespace,
          a.inputs.metricName,
          a.inputs.statistic,
          a.inputs.dimensions,
          a.inputs.period,
          a.inputs.evaluationPeriods,
          a.inputs.threshold,
          a.inputs.comparisonOperator,
          a.inputs.treatMissingData,
          a.provider,
        ],
        [
          "CloudWatchSynthetics",
          "SuccessPercent",
          "Average",
          { CanaryName: canary.outputs.name },
          900,
          1,
          100,
          "LessThanThreshold",
          "breaching",
          global?.urn,
        ],
      );
    });

    it("dev and stg run none by default; canary: true in dev runs hourly, and canary: false in lmn removes it and its alarm", async () => {
      for (const stack of ["dev", "stg"] as const) assert.deepEqual(resourcesOfType(plans[stack], CANARY), []);
      const dev = await planWith("dev", {
        overrides: { ...freshEstateConfig("dev"), "lumerin-infra:monitoring": JSON.stringify({ canary: true }) },
      });
      assert.deepEqual(resource(dev, CANARY, "monitoring-futures-ui-canary-canary").inputs.schedule, {
        expression: "rate(1 hour)",
      });
      const a = alarm(dev, "futures-ui", "canary-failed").inputs;
      assert.deepEqual([a.period, a.evaluationPeriods], [3600, 1]);
      assert.deepEqual(
        dev.violations.filter((v) => v.level === "mandatory"),
        [],
      );
      const off = await planWith("lmn", {
        overrides: { ...freshEstateConfig("lmn"), "lumerin-infra:monitoring": JSON.stringify({ canary: false }) },
      });
      assert.deepEqual(resourcesOfType(off, CANARY), []);
      assert.equal(
        resourcesOfType(off, ALARM).some((x) => x.name.endsWith("canary-failed")),
        false,
      );
      assert.equal(
        resource(off, COMPOSITE, "monitoring-futures-ui").inputs.alarmRule,
        SERVICES["futures-ui"].map((x) => `ALARM("futures-ui-${x}-lmn")`).join(" OR "),
      );
    });
  });

  it("every ECS service rolls a deployment back when its CPU, memory, running-task (or ALB 5xx) alarm fires", () => {
    for (const stack of STACKS) {
      const plan = plans[stack];
      const existing = new Set(resourcesOfType(plan, ALARM).map((a) => a.inputs.name));
      const cases: [string, string, string[]][] = [
        ["proxy-router-svc-service", "proxy-router", ["cpu-high", "memory-high", "running-tasks"]],
        ["proxy-validator-svc-service", "proxy-validator", ["cpu-high", "memory-high", "running-tasks"]],
        ["futures-market-maker-svc-service", "market-maker", ["cpu-high", "memory-high", "running-tasks"]],
        ["futures-notifications-svc-service", "notifications", ["cpu-high", "memory-high", "running-tasks", "alb-5xx"]],
      ];
      for (const [service, key, suffixes] of cases) {
        const alarms = resource(plan, "aws:ecs/service:Service", service).inputs.alarms as {
          alarmNames: string[];
          enable: boolean;
          rollback: boolean;
        };
        assert.deepEqual(
          alarms,
          { alarmNames: suffixes.map((x) => `${key}-${x}-${stack}`), enable: true, rollback: true },
          `${stack} ${service}`,
        );
        for (const name of alarms.alarmNames)
          assert.ok(existing.has(name), `${name} is an alarm the monitoring creates`);
        // The circuit breaker stays on as well.
        assert.deepEqual(resource(plan, "aws:ecs/service:Service", service).inputs.deploymentCircuitBreaker, {
          enable: true,
          rollback: true,
        });
      }
    }
  });

  it("evaluates over the environment's window: 12×5 min in dev, 6 in stg, 3 in lmn", () => {
    for (const [stack, periods] of [
      ["dev", 12],
      ["stg", 6],
      ["lmn", 3],
    ] as const) {
      const a = alarm(plans[stack], "proxy-router", "cpu-high").inputs;
      assert.deepEqual(
        [a.period, a.evaluationPeriods, a.datapointsToAlarm, a.threshold],
        [300, periods, periods, MONITORING_DEFAULTS[stack].thresholds.ecsCpuPercent],
      );
    }
  });

  it("a paused market maker (0 tasks) has no running-tasks alarm, and its composite says so", async () => {
    const futures = JSON.parse(freshEstateConfig("dev")["lumerin-infra:futures"]) as {
      marketMaker: Record<string, unknown>;
    };
    futures.marketMaker.workerQuantity = 0;
    const plan = await planWith("dev", {
      overrides: { ...freshEstateConfig("dev"), "lumerin-infra:futures": JSON.stringify(futures) },
    });
    assert.equal(
      plan.resources.some((r) => r.name === "monitoring-market-maker-running-tasks"),
      false,
    );
    assert.equal(
      resource(plan, COMPOSITE, "monitoring-market-maker").inputs.alarmRule,
      ["cpu-high", "memory-high", "error-lines", "order-failures", "insufficient-funds"]
        .map((s) => `ALARM("market-maker-${s}-dev")`)
        .join(" OR "),
    );
    const alarms = resource(plan, "aws:ecs/service:Service", "futures-market-maker-svc-service").inputs.alarms as {
      alarmNames: string[];
    };
    assert.deepEqual(alarms.alarmNames, ["market-maker-cpu-high-dev", "market-maker-memory-high-dev"]);
  });

  it("without a configured topic, creates an encrypted one that only this account's CloudWatch may publish to", async () => {
    const plan = await planWith("stg", {
      overrides: {
        ...freshEstateConfig("stg"),
        "lumerin-infra:monitoring": JSON.stringify({ notificationsEnabled: true }),
      },
    });
    const topic = resource(plan, "aws:sns/topic:Topic", "monitoring-alerts");
    const key = resource(plan, "aws:kms/key:Key", "platform-key");
    assert.deepEqual([topic.inputs.name, topic.inputs.kmsMasterKeyId], ["lumerin-alerts-stg", key.outputs.arn]);
    const policy = doc(resource(plan, "aws:sns/topicPolicy:TopicPolicy", "monitoring-alerts-policy").inputs.policy);
    assert.deepEqual(
      policy.Statement.map((s) => [s.Sid, s.Effect, s.Principal, s.Action, s.Condition]),
      [
        [
          "CloudWatchAlarmsOfThisAccountPublish",
          "Allow",
          { Service: "cloudwatch.amazonaws.com" },
          ["sns:Publish"],
          {
            StringEquals: { "aws:SourceAccount": "464450398935" },
            ArnLike: { "aws:SourceArn": "arn:aws:cloudwatch:*:464450398935:alarm:*" },
          },
        ],
        ["DenyRequestsWithoutTls", "Deny", "*", ["sns:*"], { Bool: { "aws:SecureTransport": "false" } }],
      ],
    );
    // The key lets CloudWatch encrypt alarm messages for that topic, for this account only.
    const keyPolicy = JSON.parse(String(key.inputs.policy)) as {
      Statement: { Sid: string; Principal: unknown; Condition?: unknown }[];
    };
    const cw = keyPolicy.Statement.find((s) => s.Sid === "CloudWatchAlarmsOfThisAccountPublishToEncryptedTopics");
    assert.deepEqual(
      [cw?.Principal, cw?.Condition],
      [{ Service: "cloudwatch.amazonaws.com" }, { StringEquals: { "aws:SourceAccount": "464450398935" } }],
    );
    for (const c of resourcesOfType(plan, COMPOSITE)) assert.deepEqual(c.inputs.alarmActions, [topic.outputs.arn]);
    assert.deepEqual(
      plan.violations.filter((v) => v.level === "mandatory"),
      [],
    );
    // With the team's topic configured, the key does not need that statement.
    const committed = JSON.parse(String(resource(plans.stg, "aws:kms/key:Key", "platform-key").inputs.policy)) as {
      Statement: { Sid: string }[];
    };
    assert.equal(
      committed.Statement.some((s) => s.Sid === "CloudWatchAlarmsOfThisAccountPublishToEncryptedTopics"),
      false,
    );
  });

  it("switched off, registers nothing", async () => {
    const plan = await planWith("lmn", {
      overrides: { ...freshEstateConfig("lmn"), "lumerin-infra:monitoring": JSON.stringify({ enabled: false }) },
    });
    assert.equal(
      plan.resources.some((r) => r.urn.includes("lumerin:monitoring:")),
      false,
    );
    for (const service of resourcesOfType(plan, "aws:ecs/service:Service"))
      assert.equal(service.inputs.alarms, undefined, service.name);
  });

  it("with alarms off: no alarm, composite, topic or health check, and no service waits on alarms; the dashboard stays", async () => {
    const plan = await planWith("lmn", {
      overrides: { ...freshEstateConfig("lmn"), "lumerin-infra:monitoring": JSON.stringify({ alarms: false }) },
    });
    for (const type of [ALARM, COMPOSITE, "aws:sns/topic:Topic", "aws:route53/healthCheck:HealthCheck"])
      assert.deepEqual(
        resourcesOfType(plan, type).map((r) => r.name),
        [],
        type,
      );
    for (const service of resourcesOfType(plan, "aws:ecs/service:Service"))
      assert.equal(service.inputs.alarms, undefined, service.name);
    const body = JSON.parse(
      String(resource(plan, "aws:cloudwatch/dashboard:Dashboard", "monitoring-dashboard").inputs.dashboardBody),
    ) as { widgets: { type: string; properties: { metrics?: string[][] } }[] };
    assert.equal(
      body.widgets.some((w) => w.type === "alarm"),
      false,
      "no alarm-status widget without alarms",
    );
    // The services are still graphed: every ECS service of the plan is on it.
    const graphed = new Set(
      body.widgets.flatMap((w) => (w.properties.metrics ?? []).map((m) => m[m.indexOf("ServiceName") + 1])),
    );
    for (const service of resourcesOfType(plan, "aws:ecs/service:Service"))
      assert.ok(graphed.has(service.outputs.name as string), service.name);
  });

  describe("config", () => {
    it("takes each environment's defaults, and any threshold given overrides only itself", () => {
      const parsed = MonitoringSchema.parse({ thresholds: { ecsCpuPercent: 70 } });
      const lmn = resolveMonitoring(parsed, { name: "lmn", production: true });
      assert.deepEqual(
        [lmn.canary, lmn.notificationsEnabled, lmn.evaluationPeriods, lmn.canaryRateMinutes],
        [true, true, 3, 15],
      );
      assert.deepEqual(lmn.thresholds, { ...MONITORING_DEFAULTS.lmn.thresholds, ecsCpuPercent: 70 });
      const dev = resolveMonitoring(MonitoringSchema.parse({ unhealthyWindowMinutes: 7 }), {
        name: "dev",
        production: false,
      });
      assert.deepEqual([dev.canary, dev.notificationsEnabled, dev.evaluationPeriods], [false, false, 2]);
    });

    it("refuses a topic given both ways, and a bad percentage, naming the key", () => {
      const both = MonitoringSchema.safeParse({
        alertTopic: { name: "a", arn: "arn:aws:sns:us-east-1:123456789012:a" },
      });
      assert.equal(both.success, false);
      assert.match(JSON.stringify(both.error?.issues), /give the topic's arn or its name, not both/);
      const bad = MonitoringSchema.safeParse({ thresholds: { ecsCpuPercent: 150 } });
      assert.deepEqual(
        bad.error?.issues.map((i) => i.path.join(".")),
        ["thresholds.ecsCpuPercent"],
      );
    });
  });
});

describe("monitoring: the overview dashboard", () => {
  type Body = {
    widgets: {
      type: string;
      x: number;
      y: number;
      width: number;
      height: number;
      properties: Record<string, unknown>;
    }[];
  };
  const DASHBOARD = "aws:cloudwatch/dashboard:Dashboard";
  const bodyOf = (plan: Plan): Body =>
    JSON.parse(String(resource(plan, DASHBOARD, "monitoring-dashboard").inputs.dashboardBody)) as Body;
  /** Each dimension a dashboard may name, and the resources (type, output) whose values it may take. */
  const DIMENSIONS: Record<string, [string, string][]> = {
    ClusterName: [["aws:ecs/cluster:Cluster", "name"]],
    ServiceName: [["aws:ecs/service:Service", "name"]],
    FunctionName: [["aws:lambda/function:Function", "name"]],
    QueueName: [["aws:sqs/queue:Queue", "name"]],
    DBInstanceIdentifier: [["aws:rds/instance:Instance", "identifier"]],
    LoadBalancer: [["aws:lb/loadBalancer:LoadBalancer", "arnSuffix"]],
    TargetGroup: [["aws:lb/targetGroup:TargetGroup", "arnSuffix"]],
    DistributionId: [["aws:cloudfront/distribution:Distribution", "id"]],
    CanaryName: [["aws:synthetics/canary:Canary", "name"]],
  };
  /** `[namespace, metric, dim, value, ..., options]` → its parts. */
  const parse = (m: unknown[]) => {
    const last = m[m.length - 1];
    const hasOptions = typeof last === "object" && last !== null;
    const pairs = m.slice(2, hasOptions ? -1 : undefined) as string[];
    const dims: Record<string, string> = {};
    for (let i = 0; i < pairs.length; i += 2) dims[pairs[i]] = pairs[i + 1];
    return {
      namespace: m[0] as string,
      metric: m[1] as string,
      dims,
      options: (hasOptions ? last : {}) as Record<string, string>,
    };
  };
  const metricsOf = (body: Body) =>
    body.widgets
      .filter((w) => w.type === "metric")
      .flatMap((w) => (w.properties.metrics as unknown[][]).map((m) => ({ widget: w, ...parse(m) })));

  const plans = {} as Record<Stack, Plan>;
  before(async () => {
    for (const stack of STACKS) plans[stack] = await freshEstatePlan(stack);
  });

  for (const stack of STACKS) {
    it(`${stack}: every metric's dimensions name a resource the stack creates, and every watched resource is on it`, () => {
      const plan = plans[stack];
      const dashboard = resource(plan, DASHBOARD, "monitoring-dashboard");
      assert.equal(dashboard.inputs.dashboardName, `lumerin-overview-${stack}`);
      const allowed = (dim: string) =>
        new Set(
          (DIMENSIONS[dim] ?? []).flatMap(([type, key]) =>
            resourcesOfType(plan, type).map((r) => (key === "id" ? r.id : r.outputs[key])),
          ),
        );
      const published = new Set(
        resourcesOfType(plan, "aws:cloudwatch/logMetricFilter:LogMetricFilter").map((f) => {
          const t = f.inputs.metricTransformation as { namespace: string; name: string };
          return `${t.namespace} ${t.name}`;
        }),
      );
      const metrics = metricsOf(bodyOf(plan));
      assert.ok(metrics.length > 20, `${metrics.length} metrics`);
      for (const m of metrics) {
        for (const [dim, value] of Object.entries(m.dims)) {
          if (dim === "Region") {
            assert.equal(value, "Global", `${m.namespace} ${m.metric}`);
            continue;
          }
          assert.ok(
            allowed(dim).has(value),
            `${m.namespace} ${m.metric}: ${dim}=${value} is not a resource of the ${stack} plan`,
          );
        }
        // A log metric has no dimension: a filter of the stack publishes it.
        if (Object.keys(m.dims).length === 0)
          assert.ok(
            published.has(`${m.namespace} ${m.metric}`),
            `${m.namespace} ${m.metric} is published by a metric filter of the ${stack} plan`,
          );
      }
      // Coverage: each service, function, database, load balancer and distribution is graphed.
      const graphed = (dim: string) => new Set(metrics.map((m) => m.dims[dim]).filter(Boolean));
      for (const dim of Object.keys(DIMENSIONS)) {
        if (dim === "ClusterName") continue;
        for (const value of allowed(dim))
          assert.ok(graphed(dim).has(value as string), `${dim}=${String(value)} is on the dashboard`);
      }
    });
  }

  it("lmn: alarm status shows exactly the composites; ECS, Lambda, RDS, ALB and CloudFront rows with the issue's metrics", () => {
    const plan = plans.lmn;
    const body = bodyOf(plan);
    const alarmWidgets = body.widgets.filter((w) => w.type === "alarm");
    assert.equal(alarmWidgets.length, 1);
    assert.deepEqual(
      [...(alarmWidgets[0].properties.alarms as string[])].sort(),
      resourcesOfType(plan, COMPOSITE)
        .map((c) => c.outputs.arn as string)
        .sort(),
    );
    const byNamespace = new Map<string, Set<string>>();
    for (const m of metricsOf(body))
      byNamespace.set(m.namespace, new Set([...(byNamespace.get(m.namespace) ?? []), m.metric]));
    const has = (ns: string, names: string[]) =>
      assert.deepEqual(
        names.filter((n) => !byNamespace.get(ns)?.has(n)),
        [],
        ns,
      );
    has("AWS/ECS", ["CPUUtilization", "MemoryUtilization"]);
    has("ECS/ContainerInsights", ["RunningTaskCount"]);
    has("AWS/Lambda", ["Invocations", "Errors", "Duration", "Throttles"]);
    has("AWS/RDS", ["CPUUtilization", "FreeStorageSpace", "DatabaseConnections"]);
    has("AWS/ApplicationELB", [
      "RequestCount",
      "HTTPCode_ELB_5XX_Count",
      "HTTPCode_Target_5XX_Count",
      "TargetResponseTime",
    ]);
    has("AWS/CloudFront", ["Requests", "4xxErrorRate", "5xxErrorRate", "CacheHitRate"]);
    // CloudFront's metrics are read in us-east-1; the cache hit rate needs the distribution's additional metrics.
    for (const m of metricsOf(body).filter((x) => x.namespace === "AWS/CloudFront"))
      assert.equal(m.widget.properties.region, "us-east-1");
    const subscription = resource(
      plan,
      "aws:cloudfront/monitoringSubscription:MonitoringSubscription",
      "monitoring-futures-ui-metrics",
    );
    assert.deepEqual(subscription.inputs, {
      distributionId: resource(plan, "aws:cloudfront/distribution:Distribution", "futures-ui-distribution").id,
      monitoringSubscription: { realtimeMetricsSubscriptionConfig: { realtimeMetricsSubscriptionStatus: "Enabled" } },
    });
  });

  it("widgets tile the 24-column grid without overlapping, each aggregating over dashboardPeriodSeconds", async () => {
    const plan = await planWith("stg", {
      overrides: {
        ...freshEstateConfig("stg"),
        "lumerin-infra:monitoring": JSON.stringify({ dashboardPeriodSeconds: 60 }),
      },
    });
    const widgets = bodyOf(plan).widgets;
    for (const w of widgets) {
      assert.ok(w.x >= 0 && w.x + w.width <= 24, JSON.stringify(w.properties.title));
      if (w.type === "metric") assert.equal(w.properties.period, 60);
    }
    for (const [i, a] of widgets.entries()) {
      for (const b of widgets.slice(i + 1)) {
        const overlap = a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
        assert.equal(overlap, false, `${String(a.properties.title)} overlaps ${String(b.properties.title)}`);
      }
    }
    assert.equal(metricsOf(bodyOf(plans.stg))[0].widget.properties.period, 300, "default period");
  });

  it("dev without futures graphs only the proxy services, and dashboards: false removes it", async () => {
    const noFutures = await planWith("dev", {
      overrides: { ...freshEstateConfig("dev"), "lumerin-infra:futures": undefined },
    });
    const metrics = metricsOf(bodyOf(noFutures));
    assert.deepEqual([...new Set(metrics.map((m) => m.dims.ServiceName).filter(Boolean))].sort(), [
      "svc-proxy-router-dev-use1",
      "svc-proxy-validator-dev-use1",
    ]);
    assert.deepEqual([...new Set(metrics.map((m) => m.namespace))].sort(), [
      "AWS/ECS",
      "AWS/NetworkELB",
      "ECS/ContainerInsights",
      "Lumerin/dev/proxy-router",
      "Lumerin/dev/proxy-validator",
    ]);
    assert.equal(resourcesOfType(noFutures, "aws:cloudfront/monitoringSubscription:MonitoringSubscription").length, 0);
    const off = await planWith("dev", {
      overrides: { ...freshEstateConfig("dev"), "lumerin-infra:monitoring": JSON.stringify({ dashboards: false }) },
    });
    assert.deepEqual(resourcesOfType(off, DASHBOARD), []);
    assert.deepEqual(resourcesOfType(off, "aws:cloudfront/monitoringSubscription:MonitoringSubscription"), []);
  });

  it("the body builder refuses a row wider than the grid and a widget that can show nothing", () => {
    const line = { namespace: "AWS/ECS", metricName: "CPUUtilization", dimensions: { ClusterName: "c" }, label: "c" };
    assert.throws(
      () =>
        dashboardBody(
          [[metricWidget("a", "Average", [line], { width: 16 }), metricWidget("b", "Average", [line], { width: 12 })]],
          { region: "us-east-1", periodSeconds: 300 },
        ),
      /the row with "b" is wider than 24 columns/,
    );
    assert.throws(
      () => dashboardBody([[metricWidget("empty", "Sum", [])]], { region: "us-east-1", periodSeconds: 300 }),
      /the widget "empty" has no metric/,
    );
    assert.throws(
      () => dashboardBody([[alarmStatusWidget("none", [])]], { region: "us-east-1", periodSeconds: 300 }),
      /the alarm widget "none" has no alarm/,
    );
  });
});
