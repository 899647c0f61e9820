/**
 * One `Monitoring` component that watches what the stack runs, built
 * from the typed outputs of the other components, never from guessed names:
 * the alert topic, every component alarm, one composite per service whose rule
 * is exactly the OR of that service's alarms (only composites notify, so one
 * incident pages once), and the overview dashboard. Each part follows its
 * toggle in `monitoring` config.
 */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import type { Environment } from "../../config/environments";
import { MonitoringConfig, SERVICE_ALARM_PERIOD_SECONDS } from "../../config/monitoring";
import { AwsContext, denyWithoutTls, resourcePolicyDocument } from "../../lib/iam";
import { alarmName, appEnv, uiCanaryNames } from "../../lib/naming";
import { UiCanary } from "./canary";
import { LogMetric, logMetricNamespace } from "./log-metrics";
import { MetricLine, Widget, alarmStatusWidget, dashboardBody, metricWidget } from "./dashboard";

/** An ECS service to watch. */
export interface WatchedService {
  /** The composite's name stem: `proxy-router`, `market-maker`... */
  readonly key: string;
  readonly clusterName: pulumi.Input<string>;
  readonly serviceName: pulumi.Input<string>;
  /** Tasks it should run; 0 (paused) leaves out the running-tasks alarm. */
  readonly desiredCount: number;
}

/** A service's database, load balancer or function: its alarms join the service's composite. */
export interface WatchedDatabase {
  readonly key: string;
  readonly identifier: pulumi.Input<string>;
  readonly maxConnections: number;
}
export interface WatchedLoadBalancer {
  readonly key: string;
  readonly loadBalancerArnSuffix: pulumi.Input<string>;
  readonly targetGroupArnSuffix: pulumi.Input<string>;
}
export interface WatchedFunction {
  readonly key: string;
  readonly functionName: pulumi.Input<string>;
  readonly timeoutSeconds: number;
  /** Minutes between scheduled runs: no invocation for longer than that (twice) is an alarm too. */
  readonly intervalMinutes: number;
  /** The queue that keeps its failed asynchronous runs: a message there is an alarm. */
  readonly failureQueueName?: pulumi.Input<string>;
  /** Whether its schedules run it; without them, not being invoked is no alarm. @default true */
  readonly scheduled?: boolean;
}
/** A Step Functions workflow a service depends on (a redeploy): a failed execution joins the service's composite. */
export interface WatchedWorkflow {
  readonly key: string;
  /** `redeploy`: the alarm is `<service>-<suffix>-failed-<env>`. */
  readonly suffix: string;
  /** What a failed execution means, for the alarm's description. */
  readonly failureMeans: string;
  readonly stateMachineArn: pulumi.Input<string>;
}
/** A service's log group and what its lines are counted for; each metric's alarm joins the service's composite. */
export interface WatchedLogs {
  readonly key: string;
  readonly logGroupName: pulumi.Input<string>;
  readonly metrics: readonly LogMetric[];
}
export interface WatchedSite {
  readonly key: string;
  readonly distributionId: pulumi.Input<string>;
  readonly hostName: string;
}

export interface MonitoringArgs {
  readonly aws: AwsContext;
  readonly env: Environment;
  readonly config: MonitoringConfig;
  /** Encrypts a topic this stack creates (its key policy lets CloudWatch alarms publish). */
  readonly kmsKeyArn: pulumi.Input<string>;
  /** us-east-1: CloudFront's and Route53's metrics live there. Required with a site. */
  readonly globalProvider?: aws.Provider;
  readonly services: readonly WatchedService[];
  readonly databases?: readonly WatchedDatabase[];
  readonly loadBalancers?: readonly WatchedLoadBalancer[];
  /** Network load balancers in front of a service (the proxies' stratum port): graphed, their service's alarms cover them. */
  readonly networkLoadBalancers?: readonly WatchedLoadBalancer[];
  readonly functions?: readonly WatchedFunction[];
  readonly workflows?: readonly WatchedWorkflow[];
  readonly site?: WatchedSite;
  readonly logs?: readonly WatchedLogs[];
}

/** What an alarm watches and when it fires; the component adds the name, the period unit and no actions. */
interface AlarmSpec {
  /** `cpu-high`: the alarm is `<service>-<suffix>-<env>`. */
  readonly suffix: string;
  readonly description: string;
  readonly namespace: string;
  readonly metricName: string;
  readonly statistic: "Average" | "Sum" | "Minimum" | "Maximum";
  readonly dimensions: Record<string, pulumi.Input<string>>;
  readonly periodSeconds: number;
  readonly evaluationPeriods: number;
  readonly threshold: number;
  readonly comparison: "GreaterThanThreshold" | "GreaterThanOrEqualToThreshold" | "LessThanThreshold";
  /** Deliberate, per alarm: see each spec's comment. */
  readonly treatMissingData: "breaching" | "notBreaching";
  /** us-east-1 metrics (CloudFront, Route53). */
  readonly global?: boolean;
}

const FIVE_MINUTES = 300;

/**
 * Alarms, composites and the alert topic. Component alarms have no actions;
 * each service's composite has alarm and OK actions to the topic when
 * `notificationsEnabled`, none otherwise.
 */
export class Monitoring extends pulumi.ComponentResource {
  /** Component alarm names by service key, in a stable order. */
  readonly alarmNames: Readonly<Record<string, readonly string[]>>;
  readonly composites: Readonly<Record<string, aws.cloudwatch.CompositeAlarm>>;
  /** Where composites notify; none when alarms are off. */
  readonly topicArn?: pulumi.Output<string>;
  readonly dashboard?: aws.cloudwatch.Dashboard;
  /** The Synthetics canary on the site, where `canary` is on and the stack has a site. */
  readonly canary?: UiCanary;
  /** Log metric filters by service key. */
  readonly metricFilters: Readonly<Record<string, readonly aws.cloudwatch.LogMetricFilter[]>>;

  constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lumerin:monitoring:Monitoring", name, {}, opts);
    const { config: cfg, env } = args;
    const parent = { parent: this };
    const t = cfg.thresholds;
    const periods = cfg.evaluationPeriods;
    const specs = new Map<string, AlarmSpec[]>();
    const add = (key: string, spec: AlarmSpec) => specs.set(key, [...(specs.get(key) ?? []), spec]);

    // ---------------------------------------------------------------- ECS services
    for (const s of args.services) {
      const dims = { ClusterName: s.clusterName, ServiceName: s.serviceName };
      // No data means no tasks: the running-tasks alarm covers that, so these two stay quiet then.
      add(s.key, {
        suffix: "cpu-high",
        description: `${s.key}: CPU above ${t.ecsCpuPercent} % for ${cfg.unhealthyWindowMinutes} min`,
        namespace: "AWS/ECS",
        metricName: "CPUUtilization",
        statistic: "Average",
        dimensions: dims,
        periodSeconds: SERVICE_ALARM_PERIOD_SECONDS,
        evaluationPeriods: periods,
        threshold: t.ecsCpuPercent,
        comparison: "GreaterThanThreshold",
        treatMissingData: "notBreaching",
      });
      add(s.key, {
        suffix: "memory-high",
        description: `${s.key}: memory above ${t.ecsMemoryPercent} % for ${cfg.unhealthyWindowMinutes} min`,
        namespace: "AWS/ECS",
        metricName: "MemoryUtilization",
        statistic: "Average",
        dimensions: dims,
        periodSeconds: SERVICE_ALARM_PERIOD_SECONDS,
        evaluationPeriods: periods,
        threshold: t.ecsMemoryPercent,
        comparison: "GreaterThanThreshold",
        treatMissingData: "notBreaching",
      });
      if (s.desiredCount > 0) {
        // A service with no running task reports nothing: missing data must alarm, not go quiet.
        add(s.key, {
          suffix: "running-tasks",
          description: `${s.key}: no running task for ${cfg.unhealthyWindowMinutes} min`,
          namespace: "ECS/ContainerInsights",
          metricName: "RunningTaskCount",
          statistic: "Minimum",
          dimensions: dims,
          periodSeconds: SERVICE_ALARM_PERIOD_SECONDS,
          evaluationPeriods: periods,
          threshold: 1,
          comparison: "LessThanThreshold",
          treatMissingData: "breaching",
        });
      }
    }

    // ---------------------------------------------------------------- databases (join their service's composite)
    for (const d of args.databases ?? []) {
      const dims = { DBInstanceIdentifier: d.identifier };
      // An instance that reports nothing is down or gone: all three alarm on missing data.
      add(d.key, {
        suffix: "rds-cpu",
        description: `${d.key} database: CPU above ${t.rdsCpuPercent} %`,
        namespace: "AWS/RDS",
        metricName: "CPUUtilization",
        statistic: "Average",
        dimensions: dims,
        periodSeconds: FIVE_MINUTES,
        evaluationPeriods: periods,
        threshold: t.rdsCpuPercent,
        comparison: "GreaterThanThreshold",
        treatMissingData: "breaching",
      });
      add(d.key, {
        suffix: "rds-storage",
        description: `${d.key} database: less than ${t.rdsFreeStorageGiB} GiB free`,
        namespace: "AWS/RDS",
        metricName: "FreeStorageSpace",
        statistic: "Minimum",
        dimensions: dims,
        periodSeconds: FIVE_MINUTES,
        evaluationPeriods: 1,
        threshold: t.rdsFreeStorageGiB * 1024 ** 3,
        comparison: "LessThanThreshold",
        treatMissingData: "breaching",
      });
      const connections = Math.floor((d.maxConnections * t.rdsConnectionsPercent) / 100);
      add(d.key, {
        suffix: "rds-connections",
        description: `${d.key} database: more than ${connections} connections (${t.rdsConnectionsPercent} % of ${d.maxConnections})`,
        namespace: "AWS/RDS",
        metricName: "DatabaseConnections",
        statistic: "Maximum",
        dimensions: dims,
        periodSeconds: FIVE_MINUTES,
        evaluationPeriods: periods,
        threshold: connections,
        comparison: "GreaterThanThreshold",
        treatMissingData: "breaching",
      });
    }

    // ---------------------------------------------------------------- load balancers
    for (const lb of args.loadBalancers ?? []) {
      // No 5xx is no data: quiet. Unhealthy hosts are reported every minute while the target group exists.
      add(lb.key, {
        suffix: "alb-5xx",
        description: `${lb.key}: more than ${t.alb5xx} load-balancer 5xx in 5 min`,
        namespace: "AWS/ApplicationELB",
        metricName: "HTTPCode_ELB_5XX_Count",
        statistic: "Sum",
        dimensions: { LoadBalancer: lb.loadBalancerArnSuffix },
        periodSeconds: FIVE_MINUTES,
        evaluationPeriods: 1,
        threshold: t.alb5xx,
        comparison: "GreaterThanThreshold",
        treatMissingData: "notBreaching",
      });
      add(lb.key, {
        suffix: "alb-unhealthy",
        description: `${lb.key}: an unhealthy target for ${cfg.unhealthyWindowMinutes} min`,
        namespace: "AWS/ApplicationELB",
        metricName: "UnHealthyHostCount",
        statistic: "Maximum",
        dimensions: { LoadBalancer: lb.loadBalancerArnSuffix, TargetGroup: lb.targetGroupArnSuffix },
        periodSeconds: 60,
        evaluationPeriods: cfg.unhealthyWindowMinutes,
        threshold: 1,
        comparison: "GreaterThanOrEqualToThreshold",
        treatMissingData: "breaching",
      });
    }

    // ---------------------------------------------------------------- workflows
    for (const w of args.workflows ?? []) {
      // Executions are rare (one per rotation): no execution is no data, and quiet.
      add(w.key, {
        suffix: `${w.suffix}-failed`,
        description: `${w.key}: a ${w.suffix} execution failed after its retries: ${w.failureMeans}`,
        namespace: "AWS/States",
        metricName: "ExecutionsFailed",
        statistic: "Sum",
        dimensions: { StateMachineArn: w.stateMachineArn },
        periodSeconds: FIVE_MINUTES,
        evaluationPeriods: 1,
        threshold: 0,
        comparison: "GreaterThanThreshold",
        treatMissingData: "notBreaching",
      });
    }

    // ---------------------------------------------------------------- functions
    for (const f of args.functions ?? []) {
      const dims = { FunctionName: f.functionName };
      const duration = t.lambdaDurationMs ?? Math.round(f.timeoutSeconds * 1000 * 0.8);
      add(f.key, {
        suffix: "errors",
        description: `${f.key}: more than ${t.lambdaErrors} errors in 5 min`,
        namespace: "AWS/Lambda",
        metricName: "Errors",
        statistic: "Sum",
        dimensions: dims,
        periodSeconds: FIVE_MINUTES,
        evaluationPeriods: 1,
        threshold: t.lambdaErrors,
        comparison: "GreaterThanThreshold",
        treatMissingData: "notBreaching",
      });
      add(f.key, {
        suffix: "duration",
        description: `${f.key}: runs average over ${duration} ms`,
        namespace: "AWS/Lambda",
        metricName: "Duration",
        statistic: "Average",
        dimensions: dims,
        periodSeconds: FIVE_MINUTES,
        evaluationPeriods: 1,
        threshold: duration,
        comparison: "GreaterThanThreshold",
        treatMissingData: "notBreaching",
      });
      add(f.key, {
        suffix: "throttles",
        description: `${f.key}: more than ${t.lambdaThrottles} throttles in 5 min`,
        namespace: "AWS/Lambda",
        metricName: "Throttles",
        statistic: "Sum",
        dimensions: dims,
        periodSeconds: FIVE_MINUTES,
        evaluationPeriods: 1,
        threshold: t.lambdaThrottles,
        comparison: "GreaterThanThreshold",
        treatMissingData: "notBreaching",
      });
      // The three above go quiet when nothing runs it at all (a broken schedule): this one does not.
      const silence = Math.max(2 * f.intervalMinutes, 10);
      if (f.failureQueueName) {
        // Retries exhausted: a run is lost unless someone looks. An idle, empty queue reports nothing.
        add(f.key, {
          suffix: "failed-runs",
          description: `${f.key}: a run failed after its retries (see its failure queue)`,
          namespace: "AWS/SQS",
          metricName: "ApproximateNumberOfMessagesVisible",
          statistic: "Maximum",
          dimensions: { QueueName: f.failureQueueName },
          periodSeconds: FIVE_MINUTES,
          evaluationPeriods: 1,
          threshold: 0,
          comparison: "GreaterThanThreshold",
          treatMissingData: "notBreaching",
        });
      }
      if (f.scheduled !== false)
        add(f.key, {
          suffix: "not-running",
          description: `${f.key}: not invoked for ${silence} min`,
          namespace: "AWS/Lambda",
          metricName: "Invocations",
          statistic: "Sum",
          dimensions: dims,
          periodSeconds: 60 * silence,
          evaluationPeriods: 1,
          threshold: 1,
          comparison: "LessThanThreshold",
          treatMissingData: "breaching",
        });
    }

    // ---------------------------------------------------------------- the site (us-east-1 metrics)
    let healthCheck: aws.route53.HealthCheck | undefined;
    if (args.site) {
      const site = args.site;
      if (!args.globalProvider)
        throw new Error(
          "monitoring: a site is watched, but no us-east-1 provider was given (CloudFront and Route53 metrics live there)",
        );
      const dims = { DistributionId: site.distributionId, Region: "Global" };
      add(site.key, {
        suffix: "5xx-errors",
        description: `${site.key}: 5xx rate above ${t.cloudFront5xxPercent} %`,
        namespace: "AWS/CloudFront",
        metricName: "5xxErrorRate",
        statistic: "Average",
        dimensions: dims,
        periodSeconds: FIVE_MINUTES,
        evaluationPeriods: periods,
        threshold: t.cloudFront5xxPercent,
        comparison: "GreaterThanThreshold",
        treatMissingData: "notBreaching",
        global: true,
      });
      add(site.key, {
        suffix: "4xx-errors",
        description: `${site.key}: 4xx rate above ${t.cloudFront4xxPercent} %`,
        namespace: "AWS/CloudFront",
        metricName: "4xxErrorRate",
        statistic: "Average",
        dimensions: dims,
        periodSeconds: FIVE_MINUTES,
        evaluationPeriods: periods,
        threshold: t.cloudFront4xxPercent,
        comparison: "GreaterThanThreshold",
        treatMissingData: "notBreaching",
        global: true,
      });
      // The health check exists for its alarm only (and costs per check).
      if (cfg.alarms) {
        healthCheck = new aws.route53.HealthCheck(
          `${name}-${site.key}-health`,
          {
            type: "HTTPS",
            fqdn: site.hostName,
            port: 443,
            resourcePath: "/",
            failureThreshold: 3,
            requestInterval: 30,
            measureLatency: cfg.healthCheckMeasuresLatency,
            tags: { Name: `${site.key}-${env.name}` },
          },
          parent,
        );
      }
      // A health check that stops reporting is as bad as one that fails.
      if (healthCheck)
        add(site.key, {
          suffix: "unreachable",
          description: `${site.key}: https://${site.hostName}/ failing from Route53's checkers for ${cfg.unhealthyWindowMinutes} min`,
          namespace: "AWS/Route53",
          metricName: "HealthCheckStatus",
          statistic: "Minimum",
          dimensions: { HealthCheckId: healthCheck.id },
          periodSeconds: 60,
          evaluationPeriods: cfg.unhealthyWindowMinutes,
          threshold: 1,
          comparison: "LessThanThreshold",
          treatMissingData: "breaching",
          global: true,
        });
      if (cfg.canary) {
        // In us-east-1 with the site's other alarms: a composite reads alarms of its own region only.
        this.canary = new UiCanary(
          `${name}-${site.key}-canary`,
          {
            aws: { ...args.aws, region: "us-east-1" },
            env: env.name,
            url: `https://${site.hostName}`,
            rateMinutes: cfg.canaryRateMinutes,
            names: uiCanaryNames(env.name, args.aws.accountId),
          },
          { parent: this, provider: args.globalProvider },
        );
        // One datapoint per run; a canary that stops running is as bad as one that fails.
        const runs = Math.max(1, Math.round(cfg.unhealthyWindowMinutes / cfg.canaryRateMinutes));
        add(site.key, {
          suffix: "canary-failed",
          description: `${site.key}: the browser check of https://${site.hostName}/ failed (${runs} run${runs === 1 ? "" : "s"} in a row)`,
          namespace: "CloudWatchSynthetics",
          metricName: "SuccessPercent",
          statistic: "Average",
          dimensions: { CanaryName: this.canary.canaryName },
          periodSeconds: this.canary.periodSeconds,
          evaluationPeriods: runs,
          threshold: 100,
          comparison: "LessThanThreshold",
          treatMissingData: "breaching",
          global: true,
        });
      }
    }

    // ---------------------------------------------------------------- log metric filters (each with its alarm)
    const metricFilters: Record<string, aws.cloudwatch.LogMetricFilter[]> = {};
    if (cfg.metricFilters) {
      for (const logs of args.logs ?? []) {
        const namespace = logMetricNamespace(env.name, logs.key);
        metricFilters[logs.key] = logs.metrics.map(
          (m) =>
            new aws.cloudwatch.LogMetricFilter(
              `${name}-${logs.key}-${m.suffix}`,
              {
                name: alarmName(logs.key, m.suffix, env.name),
                logGroupName: logs.logGroupName,
                pattern: m.pattern,
                // 0 for every line that does not match, so a quiet service graphs 0, not a gap.
                metricTransformation: { namespace, name: m.metricName, value: "1", defaultValue: "0", unit: "Count" },
              },
              parent,
            ),
        );
        for (const m of logs.metrics) {
          const errors = m.kind === "errors";
          // No log line at all is no data: quiet here (the running-tasks and not-running alarms cover silence).
          add(logs.key, {
            suffix: m.suffix,
            description: errors
              ? `${logs.key}: more than ${t.logErrorLines} ${m.meaning} per 5 min for ${cfg.unhealthyWindowMinutes} min`
              : `${logs.key}: ${m.meaning} (a log line matched ${m.pattern})`,
            namespace,
            metricName: m.metricName,
            statistic: "Sum",
            dimensions: {},
            periodSeconds: FIVE_MINUTES,
            evaluationPeriods: errors ? periods : 1,
            threshold: errors ? t.logErrorLines : 0,
            comparison: "GreaterThanThreshold",
            treatMissingData: "notBreaching",
          });
        }
      }
    }

    // ---------------------------------------------------------------- alarms and composites
    const alarmNames: Record<string, string[]> = {};
    const composites: Record<string, aws.cloudwatch.CompositeAlarm> = {};
    if (cfg.alarms) {
      this.topicArn = alertTopic(name, args, this);
      const actions = cfg.notificationsEnabled ? [this.topicArn] : [];
      for (const [key, list] of specs) {
        const global = list.some((s) => s.global);
        const inRegion = global ? { parent: this, provider: args.globalProvider } : parent;
        const alarms = list.map(
          (spec) =>
            new aws.cloudwatch.MetricAlarm(
              `${name}-${key}-${spec.suffix}`,
              {
                name: alarmName(key, spec.suffix, env.name),
                alarmDescription: spec.description,
                namespace: spec.namespace,
                metricName: spec.metricName,
                statistic: spec.statistic,
                // A log metric has no dimensions: CloudWatch takes none rather than an empty map.
                ...(Object.keys(spec.dimensions).length > 0 ? { dimensions: spec.dimensions } : {}),
                period: spec.periodSeconds,
                evaluationPeriods: spec.evaluationPeriods,
                datapointsToAlarm: spec.evaluationPeriods,
                threshold: spec.threshold,
                comparisonOperator: spec.comparison,
                treatMissingData: spec.treatMissingData,
                // Component alarms notify nobody: their composite does, once.
                actionsEnabled: false,
              },
              // A composite reads alarms of its own region: a site's all live in us-east-1.
              inRegion,
            ),
        );
        alarmNames[key] = list.map((spec) => alarmName(key, spec.suffix, env.name));
        if (global && args.aws.region !== "us-east-1" && actions.length > 0) {
          throw new Error(
            `monitoring: the ${key} composite lives in us-east-1 with its alarms; give monitoring.alertTopic.arn a topic there`,
          );
        }
        composites[key] = new aws.cloudwatch.CompositeAlarm(
          `${name}-${key}`,
          {
            alarmName: `${key}-${env.name}`,
            alarmDescription: `${key} in ${env.name}: any of its ${alarms.length} alarms`,
            alarmRule: compositeRule(alarmNames[key]),
            actionsEnabled: actions.length > 0,
            alarmActions: actions,
            okActions: actions,
          },
          { ...inRegion, dependsOn: alarms },
        );
      }
    }

    // ---------------------------------------------------------------- the overview dashboard
    if (cfg.dashboards) {
      if (args.site) {
        // CloudFront publishes its cache hit rate (and origin latency) only with additional metrics on.
        new aws.cloudfront.MonitoringSubscription(
          `${name}-${args.site.key}-metrics`,
          {
            distributionId: args.site.distributionId,
            monitoringSubscription: {
              realtimeMetricsSubscriptionConfig: { realtimeMetricsSubscriptionStatus: "Enabled" },
            },
          },
          { parent: this, provider: args.globalProvider },
        );
      }
      const rows = overviewRows(
        args,
        Object.values(composites).map((c) => c.arn),
        cfg.metricFilters ? (args.logs ?? []) : [],
        this.canary,
      );
      this.dashboard = new aws.cloudwatch.Dashboard(
        `${name}-dashboard`,
        {
          dashboardName: appEnv("lumerin-overview", env.name),
          dashboardBody: dashboardBody(rows, { region: args.aws.region, periodSeconds: cfg.dashboardPeriodSeconds }),
        },
        parent,
      );
    }

    this.alarmNames = alarmNames;
    this.composites = composites;
    this.metricFilters = metricFilters;
    this.registerOutputs({
      topicArn: this.topicArn,
      alarmNames,
      composites: Object.keys(composites),
      dashboardName: this.dashboard?.dashboardName,
      canaryName: this.canary?.canaryName,
    });
  }
}

/**
 * The overview dashboard, top to bottom: what is in alarm, then one row per
 * kind of thing the stack runs (ECS services, functions, the database, the load
 * balancer, the site). Each line's dimensions are the watched resource's own
 * outputs; a kind the stack does not run has no row.
 */
function overviewRows(
  args: MonitoringArgs,
  compositeArns: readonly pulumi.Output<string>[],
  logs: readonly WatchedLogs[],
  canary: UiCanary | undefined,
): Widget[][] {
  const rows: Widget[][] = [];
  if (compositeArns.length > 0)
    rows.push([
      alarmStatusWidget("Services (composite alarms: any component alarm)", compositeArns, { width: 24, height: 3 }),
    ]);

  const services = args.services;
  if (services.length > 0) {
    const ecs = (s: WatchedService) => ({ ClusterName: s.clusterName, ServiceName: s.serviceName });
    rows.push([
      metricWidget(
        "ECS CPU %",
        "Average",
        services.map((s) => ({ namespace: "AWS/ECS", metricName: "CPUUtilization", dimensions: ecs(s), label: s.key })),
        { width: 8, yAxisMin: 0, yAxisMax: 100 },
      ),
      metricWidget(
        "ECS memory %",
        "Average",
        services.map((s) => ({
          namespace: "AWS/ECS",
          metricName: "MemoryUtilization",
          dimensions: ecs(s),
          label: s.key,
        })),
        { width: 8, yAxisMin: 0, yAxisMax: 100 },
      ),
      metricWidget(
        "ECS running tasks",
        "Minimum",
        services.map((s) => ({
          namespace: "ECS/ContainerInsights",
          metricName: "RunningTaskCount",
          dimensions: ecs(s),
          label: s.key,
        })),
        { width: 8, yAxisMin: 0 },
      ),
    ]);
  }

  const functions = args.functions ?? [];
  if (functions.length > 0) {
    const fn = (f: WatchedFunction) => ({ FunctionName: f.functionName });
    rows.push([
      metricWidget(
        "Lambda invocations and errors",
        "Sum",
        functions.flatMap((f) => [
          { namespace: "AWS/Lambda", metricName: "Invocations", dimensions: fn(f), label: `${f.key} invocations` },
          { namespace: "AWS/Lambda", metricName: "Errors", dimensions: fn(f), label: `${f.key} errors` },
        ]),
        { width: 8 },
      ),
      metricWidget(
        "Lambda duration (ms)",
        "Average",
        functions.flatMap((f) => [
          { namespace: "AWS/Lambda", metricName: "Duration", dimensions: fn(f), label: `${f.key} average` },
          {
            namespace: "AWS/Lambda",
            metricName: "Duration",
            dimensions: fn(f),
            label: `${f.key} maximum`,
            stat: "Maximum" as const,
          },
        ]),
        { width: 8 },
      ),
      metricWidget(
        "Lambda throttles and failed runs",
        "Sum",
        functions.flatMap((f): MetricLine[] => [
          { namespace: "AWS/Lambda", metricName: "Throttles", dimensions: fn(f), label: `${f.key} throttles` },
          ...(f.failureQueueName
            ? [
                {
                  namespace: "AWS/SQS",
                  metricName: "ApproximateNumberOfMessagesVisible",
                  dimensions: { QueueName: f.failureQueueName },
                  label: `${f.key} failed runs waiting`,
                  stat: "Maximum" as const,
                },
              ]
            : []),
        ]),
        { width: 8 },
      ),
    ]);
  }

  const databases = args.databases ?? [];
  if (databases.length > 0) {
    const db = (d: WatchedDatabase) => ({ DBInstanceIdentifier: d.identifier });
    rows.push([
      metricWidget(
        "RDS CPU %",
        "Average",
        databases.map((d) => ({ namespace: "AWS/RDS", metricName: "CPUUtilization", dimensions: db(d), label: d.key })),
        { width: 8, yAxisMin: 0, yAxisMax: 100 },
      ),
      metricWidget(
        "RDS free storage (bytes)",
        "Minimum",
        databases.map((d) => ({
          namespace: "AWS/RDS",
          metricName: "FreeStorageSpace",
          dimensions: db(d),
          label: d.key,
        })),
        { width: 8, yAxisMin: 0 },
      ),
      metricWidget(
        "RDS connections",
        "Maximum",
        databases.map((d) => ({
          namespace: "AWS/RDS",
          metricName: "DatabaseConnections",
          dimensions: db(d),
          label: `${d.key} (max ${d.maxConnections})`,
        })),
        { width: 8, yAxisMin: 0 },
      ),
    ]);
  }

  const balancers = args.loadBalancers ?? [];
  if (balancers.length > 0) {
    const lb = (l: WatchedLoadBalancer) => ({ LoadBalancer: l.loadBalancerArnSuffix });
    rows.push([
      metricWidget(
        "ALB requests",
        "Sum",
        balancers.map((l) => ({
          namespace: "AWS/ApplicationELB",
          metricName: "RequestCount",
          dimensions: lb(l),
          label: l.key,
        })),
      ),
      metricWidget(
        "ALB 5xx",
        "Sum",
        balancers.flatMap((l) => [
          {
            namespace: "AWS/ApplicationELB",
            metricName: "HTTPCode_ELB_5XX_Count",
            dimensions: lb(l),
            label: `${l.key} from the load balancer`,
          },
          {
            namespace: "AWS/ApplicationELB",
            metricName: "HTTPCode_Target_5XX_Count",
            dimensions: lb(l),
            label: `${l.key} from the service`,
          },
        ]),
      ),
      metricWidget(
        "ALB latency (s)",
        "p90",
        balancers.flatMap((l) => [
          {
            namespace: "AWS/ApplicationELB",
            metricName: "TargetResponseTime",
            dimensions: lb(l),
            label: `${l.key} p90`,
          },
          {
            namespace: "AWS/ApplicationELB",
            metricName: "TargetResponseTime",
            dimensions: lb(l),
            label: `${l.key} average`,
            stat: "Average" as const,
          },
        ]),
      ),
      metricWidget(
        "ALB targets",
        "Minimum",
        balancers.flatMap((l) => targetHealth("AWS/ApplicationELB", l)),
        { yAxisMin: 0 },
      ),
    ]);
  }

  const nlbs = args.networkLoadBalancers ?? [];
  if (nlbs.length > 0) {
    const lb = (l: WatchedLoadBalancer) => ({ LoadBalancer: l.loadBalancerArnSuffix });
    rows.push([
      metricWidget(
        "NLB active connections",
        "Average",
        nlbs.map((l) => ({
          namespace: "AWS/NetworkELB",
          metricName: "ActiveFlowCount",
          dimensions: lb(l),
          label: l.key,
        })),
        { width: 8 },
      ),
      metricWidget(
        "NLB new connections",
        "Sum",
        nlbs.map((l) => ({ namespace: "AWS/NetworkELB", metricName: "NewFlowCount", dimensions: lb(l), label: l.key })),
        { width: 8 },
      ),
      metricWidget(
        "NLB targets",
        "Minimum",
        nlbs.flatMap((l) => targetHealth("AWS/NetworkELB", l)),
        { width: 8, yAxisMin: 0 },
      ),
    ]);
  }

  if (args.site) {
    const site = args.site;
    // CloudFront's metrics live in us-east-1 whatever the stack's region.
    const cf = (metricName: string, label: string): MetricLine => ({
      namespace: "AWS/CloudFront",
      metricName,
      dimensions: { DistributionId: site.distributionId, Region: "Global" },
      label,
    });
    const global = { width: 6, region: "us-east-1" };
    rows.push([
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
    ]);
    if (canary) {
      const run = (metricName: string, label: string): MetricLine => ({
        namespace: "CloudWatchSynthetics",
        metricName,
        dimensions: { CanaryName: canary.canaryName },
        label,
      });
      rows.push([
        metricWidget(`${site.key} canary success %`, "Average", [run("SuccessPercent", "success")], {
          width: 12,
          height: 4,
          region: "us-east-1",
          yAxisMin: 0,
          yAxisMax: 100,
        }),
        metricWidget(`${site.key} canary run time (ms)`, "Average", [run("Duration", "run time")], {
          width: 12,
          height: 4,
          region: "us-east-1",
          yAxisMin: 0,
        }),
      ]);
    }
  }
  // What the services' logs say: one widget per service, four to a row.
  const logWidgets = logs.map((l) =>
    metricWidget(
      `${l.key} log events`,
      "Sum",
      l.metrics.map((m) => ({
        namespace: logMetricNamespace(args.env.name, l.key),
        metricName: m.metricName,
        dimensions: {},
        label: m.meaning,
      })),
      { yAxisMin: 0 },
    ),
  );
  for (let i = 0; i < logWidgets.length; i += 4) rows.push(logWidgets.slice(i, i + 4));
  return rows;
}

/** Healthy and unhealthy targets of a load balancer's target group. */
function targetHealth(namespace: "AWS/ApplicationELB" | "AWS/NetworkELB", l: WatchedLoadBalancer): MetricLine[] {
  const dimensions = { LoadBalancer: l.loadBalancerArnSuffix, TargetGroup: l.targetGroupArnSuffix };
  return [
    { namespace, metricName: "HealthyHostCount", dimensions, label: `${l.key} healthy` },
    { namespace, metricName: "UnHealthyHostCount", dimensions, label: `${l.key} unhealthy`, stat: "Maximum" },
  ];
}

/** Exactly the OR of these alarms. */
export function compositeRule(alarmNames: readonly string[]): string {
  return alarmNames.map((n) => `ALARM("${n}")`).join(" OR ");
}

/** The configured topic, or one this stack creates: encrypted, publishable only by this account's CloudWatch. */
function alertTopic(name: string, args: MonitoringArgs, parent: pulumi.Resource): pulumi.Output<string> {
  const { aws: ctx, config, env } = args;
  if (config.alertTopic.arn) return pulumi.output(config.alertTopic.arn);
  if (config.alertTopic.name)
    return pulumi.output(`arn:${ctx.partition}:sns:${ctx.region}:${ctx.accountId}:${config.alertTopic.name}`);
  const topic = new aws.sns.Topic(
    `${name}-alerts`,
    { name: `lumerin-alerts-${env.name}`, kmsMasterKeyId: args.kmsKeyArn },
    { parent },
  );
  new aws.sns.TopicPolicy(
    `${name}-alerts-policy`,
    {
      arn: topic.arn,
      policy: resourcePolicyDocument([
        {
          Sid: "CloudWatchAlarmsOfThisAccountPublish",
          Principal: { Service: "cloudwatch.amazonaws.com" },
          Action: ["sns:Publish"],
          Resource: [topic.arn],
          Condition: {
            StringEquals: { "aws:SourceAccount": ctx.accountId },
            ArnLike: { "aws:SourceArn": `arn:${ctx.partition}:cloudwatch:*:${ctx.accountId}:alarm:*` },
          },
        },
        denyWithoutTls("sns", [topic.arn]),
      ]),
    },
    { parent },
  );
  return topic.arn;
}
