/**
 * The overview dashboard's rows, built from what the monitoring watches: pure functions of
 * the targets (and the composites' and canary's outputs), laid out by `dashboardBody`.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { EnvironmentName } from "../../lib/environments";
import { logMetricNamespace } from "../../lib/naming";
import type { UiCanary } from "./canary";
import { MetricLine, Widget, alarmStatusWidget, metricWidget } from "./dashboard";
import type {
  MonitoringTargets,
  WatchedDatabase,
  WatchedFunction,
  WatchedLoadBalancer,
  WatchedLogs,
  WatchedService,
  WatchedSite,
} from "./monitoring";

/**
 * The overview dashboard's rows, top to bottom: what is in alarm, then one row per
 * kind of thing the stack runs (ECS services, functions, the database, the load
 * balancers, the site and its canary, the logs). Each line's dimensions are the
 * watched resource's own outputs; a kind the stack does not run has no row.
 */
export function overviewRows(
  targets: MonitoringTargets,
  env: EnvironmentName,
  compositeArns: readonly pulumi.Output<string>[],
  logs: readonly WatchedLogs[],
  canary: Pick<UiCanary, "canaryName"> | undefined,
): Widget[][] {
  const rows = [
    compositeArns.length > 0
      ? [alarmStatusWidget("Services (composite alarms: any component alarm)", compositeArns, { width: 24, height: 3 })]
      : [],
    serviceRow(targets.services),
    functionRow(targets.functions ?? []),
    databaseRow(targets.databases ?? []),
    applicationLoadBalancerRow(targets.loadBalancers ?? []),
    networkLoadBalancerRow(targets.networkLoadBalancers ?? []),
    ...(targets.site ? siteRows(targets.site, canary) : []),
    ...logRows(env, logs),
  ];
  return rows.filter((row) => row.length > 0);
}

/** ECS CPU, memory and running tasks of every service. */
function serviceRow(services: readonly WatchedService[]): Widget[] {
  if (services.length === 0) return [];
  const line = (metricName: string, namespace = "AWS/ECS") =>
    services.map((s) => ({
      namespace,
      metricName,
      dimensions: { ClusterName: s.clusterName, ServiceName: s.serviceName },
      label: s.key,
    }));
  return [
    metricWidget("ECS CPU %", "Average", line("CPUUtilization"), { width: 8, yAxisMin: 0, yAxisMax: 100 }),
    metricWidget("ECS memory %", "Average", line("MemoryUtilization"), { width: 8, yAxisMin: 0, yAxisMax: 100 }),
    metricWidget("ECS running tasks", "Minimum", line("RunningTaskCount", "ECS/ContainerInsights"), {
      width: 8,
      yAxisMin: 0,
    }),
  ];
}

/** Lambda invocations and errors, duration, throttles and failed runs waiting in each function's queue. */
function functionRow(functions: readonly WatchedFunction[]): Widget[] {
  if (functions.length === 0) return [];
  const lambda = (f: WatchedFunction, metricName: string, label: string, stat?: "Maximum"): MetricLine => ({
    namespace: "AWS/Lambda",
    metricName,
    dimensions: { FunctionName: f.functionName },
    label: `${f.key} ${label}`,
    ...(stat ? { stat } : {}),
  });
  const failedRuns = (f: WatchedFunction): MetricLine[] =>
    f.failureQueueName
      ? [
          {
            namespace: "AWS/SQS",
            metricName: "ApproximateNumberOfMessagesVisible",
            dimensions: { QueueName: f.failureQueueName },
            label: `${f.key} failed runs waiting`,
            stat: "Maximum",
          },
        ]
      : [];
  return [
    metricWidget(
      "Lambda invocations and errors",
      "Sum",
      functions.flatMap((f) => [lambda(f, "Invocations", "invocations"), lambda(f, "Errors", "errors")]),
      { width: 8 },
    ),
    metricWidget(
      "Lambda duration (ms)",
      "Average",
      functions.flatMap((f) => [lambda(f, "Duration", "average"), lambda(f, "Duration", "maximum", "Maximum")]),
      { width: 8 },
    ),
    metricWidget(
      "Lambda throttles and failed runs",
      "Sum",
      functions.flatMap((f) => [lambda(f, "Throttles", "throttles"), ...failedRuns(f)]),
      { width: 8 },
    ),
  ];
}

/** RDS CPU, free storage and connections of every database. */
function databaseRow(databases: readonly WatchedDatabase[]): Widget[] {
  if (databases.length === 0) return [];
  const line = (metricName: string, label = (d: WatchedDatabase) => d.key) =>
    databases.map((d) => ({
      namespace: "AWS/RDS",
      metricName,
      dimensions: { DBInstanceIdentifier: d.identifier },
      label: label(d),
    }));
  return [
    metricWidget("RDS CPU %", "Average", line("CPUUtilization"), { width: 8, yAxisMin: 0, yAxisMax: 100 }),
    metricWidget("RDS free storage (bytes)", "Minimum", line("FreeStorageSpace"), { width: 8, yAxisMin: 0 }),
    metricWidget(
      "RDS connections",
      "Maximum",
      line("DatabaseConnections", (d) => `${d.key} (max ${d.maxConnections})`),
      { width: 8, yAxisMin: 0 },
    ),
  ];
}

/** ALB requests, 5xx (the load balancer's and the service's), latency and target health. */
function applicationLoadBalancerRow(balancers: readonly WatchedLoadBalancer[]): Widget[] {
  if (balancers.length === 0) return [];
  const alb = (l: WatchedLoadBalancer, metricName: string, label: string, stat?: "Average"): MetricLine => ({
    namespace: "AWS/ApplicationELB",
    metricName,
    dimensions: { LoadBalancer: l.loadBalancerArnSuffix },
    label,
    ...(stat ? { stat } : {}),
  });
  return [
    metricWidget(
      "ALB requests",
      "Sum",
      balancers.map((l) => alb(l, "RequestCount", l.key)),
    ),
    metricWidget(
      "ALB 5xx",
      "Sum",
      balancers.flatMap((l) => [
        alb(l, "HTTPCode_ELB_5XX_Count", `${l.key} from the load balancer`),
        alb(l, "HTTPCode_Target_5XX_Count", `${l.key} from the service`),
      ]),
    ),
    metricWidget(
      "ALB latency (s)",
      "p90",
      balancers.flatMap((l) => [
        alb(l, "TargetResponseTime", `${l.key} p90`),
        alb(l, "TargetResponseTime", `${l.key} average`, "Average"),
      ]),
    ),
    metricWidget(
      "ALB targets",
      "Minimum",
      balancers.flatMap((l) => targetHealth("AWS/ApplicationELB", l)),
      {
        yAxisMin: 0,
      },
    ),
  ];
}

/** NLB active and new connections and target health. */
function networkLoadBalancerRow(nlbs: readonly WatchedLoadBalancer[]): Widget[] {
  if (nlbs.length === 0) return [];
  const line = (metricName: string) =>
    nlbs.map((l) => ({
      namespace: "AWS/NetworkELB",
      metricName,
      dimensions: { LoadBalancer: l.loadBalancerArnSuffix },
      label: l.key,
    }));
  return [
    metricWidget("NLB active connections", "Average", line("ActiveFlowCount"), { width: 8 }),
    metricWidget("NLB new connections", "Sum", line("NewFlowCount"), { width: 8 }),
    metricWidget(
      "NLB targets",
      "Minimum",
      nlbs.flatMap((l) => targetHealth("AWS/NetworkELB", l)),
      {
        width: 8,
        yAxisMin: 0,
      },
    ),
  ];
}

/** Healthy and unhealthy targets of a load balancer's target group. */
function targetHealth(namespace: "AWS/ApplicationELB" | "AWS/NetworkELB", l: WatchedLoadBalancer): MetricLine[] {
  const dimensions = { LoadBalancer: l.loadBalancerArnSuffix, TargetGroup: l.targetGroupArnSuffix };
  return [
    { namespace, metricName: "HealthyHostCount", dimensions, label: `${l.key} healthy` },
    { namespace, metricName: "UnHealthyHostCount", dimensions, label: `${l.key} unhealthy`, stat: "Maximum" },
  ];
}

/** The site's CloudFront requests, error rates, cache hit rate and bytes, and its canary's runs (with one). */
function siteRows(site: WatchedSite, canary: Pick<UiCanary, "canaryName"> | undefined): Widget[][] {
  // CloudFront's and the canary's metrics live in us-east-1 whatever the stack's region.
  const cf = (metricName: string, label: string): MetricLine => ({
    namespace: "AWS/CloudFront",
    metricName,
    dimensions: { DistributionId: site.distributionId, Region: "Global" },
    label,
  });
  const global = { width: 6, region: "us-east-1" };
  const cloudFront = [
    metricWidget(`${site.key} requests`, "Sum", [cf("Requests", "requests")], global),
    metricWidget(`${site.key} error rates %`, "Average", [cf("4xxErrorRate", "4xx"), cf("5xxErrorRate", "5xx")], {
      ...global,
      yAxisMin: 0,
    }),
    metricWidget(`${site.key} cache hit rate %`, "Average", [cf("CacheHitRate", "cache hits")], {
      ...global,
      yAxisMin: 0,
      yAxisMax: 100,
    }),
    metricWidget(`${site.key} bytes downloaded`, "Sum", [cf("BytesDownloaded", "bytes")], global),
  ];
  if (!canary) return [cloudFront];
  const run = (metricName: string, label: string): MetricLine[] => [
    { namespace: "CloudWatchSynthetics", metricName, dimensions: { CanaryName: canary.canaryName }, label },
  ];
  const runs = { width: 12, height: 4, region: "us-east-1", yAxisMin: 0 };
  return [
    cloudFront,
    [
      metricWidget(`${site.key} canary success %`, "Average", run("SuccessPercent", "success"), {
        ...runs,
        yAxisMax: 100,
      }),
      metricWidget(`${site.key} canary run time (ms)`, "Average", run("Duration", "run time"), runs),
    ],
  ];
}

/** What the services' logs say: one widget per service, four to a row. */
function logRows(env: EnvironmentName, logs: readonly WatchedLogs[]): Widget[][] {
  const widgets = logs.map((l) =>
    metricWidget(
      `${l.key} log events`,
      "Sum",
      l.metrics.map((m) => ({
        namespace: logMetricNamespace(env, l.key),
        metricName: m.metricName,
        dimensions: {},
        label: m.meaning,
      })),
      { yAxisMin: 0 },
    ),
  );
  const rows: Widget[][] = [];
  for (let i = 0; i < widgets.length; i += 4) rows.push(widgets.slice(i, i + 4));
  return rows;
}
