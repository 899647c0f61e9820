/**
 * What each alarm watches and when it fires, family by family: pure functions of a watched
 * target and the monitoring config, so each family is testable without a plan. `Monitoring`
 * turns the specs into alarms and composites (and owns every resource).
 */
import type * as pulumi from "@pulumi/pulumi";
import type { EnvironmentName } from "../../lib/environments";
import { MonitoringConfig, SERVICE_ALARM_PERIOD_SECONDS } from "../../config/monitoring";
import { ALARM_SUFFIX, AlarmSuffix, logMetricNamespace, workflowAlarmSuffix } from "../../lib/naming";
import type { UiCanary } from "./canary";
import type {
  MonitoringTargets,
  WatchedDatabase,
  WatchedFunction,
  WatchedLoadBalancer,
  WatchedLogs,
  WatchedService,
  WatchedSite,
  WatchedWorkflow,
} from "./monitoring";

/** What an alarm watches and when it fires; the component adds the name, the period unit and no actions. */
export interface AlarmSpec {
  /** `cpu-high`: the alarm is `<service>-<suffix>-<env>`. */
  readonly suffix: AlarmSuffix;
  /** The alarm's description: what firing means, with its threshold. */
  readonly description: string;
  /** The metric's namespace: `AWS/ECS`. */
  readonly namespace: string;
  /** The metric: `CPUUtilization`. */
  readonly metricName: string;
  /** The statistic compared with the threshold. */
  readonly statistic: "Average" | "Sum" | "Minimum" | "Maximum";
  /** The metric's dimensions, from the watched resource's outputs; none for a log metric. */
  readonly dimensions: Record<string, pulumi.Input<string>>;
  /** Seconds per evaluated datapoint. */
  readonly periodSeconds: number;
  /** Datapoints evaluated, all of which must breach. */
  readonly evaluationPeriods: number;
  /** In the metric's unit (bytes, connections, ms, %). */
  readonly threshold: number;
  /** How the statistic is compared with the threshold. */
  readonly comparison: "GreaterThanThreshold" | "GreaterThanOrEqualToThreshold" | "LessThanThreshold";
  /** Deliberate, per alarm: see each spec's comment. */
  readonly treatMissingData: "breaching" | "notBreaching";
  /**
   * us-east-1 metrics (CloudFront, Route53, the canary): the alarm and its composite live there.
   * @default false
   */
  readonly global?: boolean;
}

/** The alarm specs of each service key, in the order their alarms are made and named in its composite. */
export type AlarmSpecs = ReadonlyMap<string, readonly AlarmSpec[]>;

/** The site's checks that alarms read: the Route53 health check (with alarms on) and the canary (where on). */
export interface SiteChecks {
  /**
   * The HTTPS check of the site: its id is the unreachable alarm's dimension.
   * @default none (no unreachable alarm)
   */
  readonly healthCheckId?: pulumi.Input<string>;
  /**
   * The canary's name and period: its failure alarm's dimension and period.
   * @default none (no canary-failed alarm)
   */
  readonly canary?: Pick<UiCanary, "canaryName" | "periodSeconds">;
}

const FIVE_MINUTES = 300;

/**
 * Every alarm spec of the targets, by service key: each key's ECS service, database, load
 * balancer, workflow, function, site and log alarms in that order (the order of its composite's
 * rule). A key whose lists give no alarm has no entry, so no composite.
 */
export function alarmSpecs(
  targets: MonitoringTargets,
  env: EnvironmentName,
  cfg: MonitoringConfig,
  checks: SiteChecks = {},
): AlarmSpecs {
  const families: (readonly [string, readonly AlarmSpec[]])[] = [
    ...targets.services.map((s) => [s.key, serviceAlarms(s, cfg)] as const),
    ...(targets.databases ?? []).map((d) => [d.key, databaseAlarms(d, cfg)] as const),
    ...(targets.loadBalancers ?? []).map((lb) => [lb.key, loadBalancerAlarms(lb, cfg)] as const),
    ...(targets.workflows ?? []).map((w) => [w.key, [workflowAlarm(w)]] as const),
    ...(targets.functions ?? []).map((f) => [f.key, functionAlarms(f, cfg)] as const),
    ...(targets.site ? [[targets.site.key, siteAlarms(targets.site, cfg, checks)] as const] : []),
    ...(cfg.metricFilters ? (targets.logs ?? []) : []).map((l) => [l.key, logAlarms(l, env, cfg)] as const),
  ];
  const specs = new Map<string, readonly AlarmSpec[]>();
  for (const [key, list] of families) if (list.length > 0) specs.set(key, [...(specs.get(key) ?? []), ...list]);
  return specs;
}

/** An ECS service's CPU, memory and (when it should run tasks) running-task alarms, over the unhealthy window. */
export function serviceAlarms(s: WatchedService, cfg: MonitoringConfig): AlarmSpec[] {
  const t = cfg.thresholds;
  const common = {
    dimensions: { ClusterName: s.clusterName, ServiceName: s.serviceName },
    periodSeconds: SERVICE_ALARM_PERIOD_SECONDS,
    evaluationPeriods: cfg.evaluationPeriods,
  };
  // No data means no tasks: the running-tasks alarm covers that, so these two stay quiet then.
  const utilisation = (suffix: AlarmSuffix, what: string, metricName: string, threshold: number): AlarmSpec => ({
    ...common,
    suffix,
    description: `${s.key}: ${what} above ${threshold} % for ${cfg.unhealthyWindowMinutes} min`,
    namespace: "AWS/ECS",
    metricName,
    statistic: "Average",
    threshold,
    comparison: "GreaterThanThreshold",
    treatMissingData: "notBreaching",
  });
  return [
    utilisation(ALARM_SUFFIX.cpuHigh, "CPU", "CPUUtilization", t.ecsCpuPercent),
    utilisation(ALARM_SUFFIX.memoryHigh, "memory", "MemoryUtilization", t.ecsMemoryPercent),
    // A service with no running task reports nothing: missing data must alarm, not go quiet.
    ...(s.desiredCount > 0
      ? [
          {
            ...common,
            suffix: ALARM_SUFFIX.runningTasks,
            description: `${s.key}: no running task for ${cfg.unhealthyWindowMinutes} min`,
            namespace: "ECS/ContainerInsights",
            metricName: "RunningTaskCount",
            statistic: "Minimum",
            threshold: 1,
            comparison: "LessThanThreshold",
            treatMissingData: "breaching",
          } as const,
        ]
      : []),
  ];
}

/** A database's CPU, free storage and connections (a share of its `max_connections`). */
export function databaseAlarms(d: WatchedDatabase, cfg: MonitoringConfig): AlarmSpec[] {
  const t = cfg.thresholds;
  const connections = Math.floor((d.maxConnections * t.rdsConnectionsPercent) / 100);
  // An instance that reports nothing is down or gone: all three alarm on missing data.
  const common = {
    namespace: "AWS/RDS",
    dimensions: { DBInstanceIdentifier: d.identifier },
    periodSeconds: FIVE_MINUTES,
    treatMissingData: "breaching",
  } as const;
  return [
    {
      ...common,
      suffix: ALARM_SUFFIX.rdsCpu,
      description: `${d.key} database: CPU above ${t.rdsCpuPercent} %`,
      metricName: "CPUUtilization",
      statistic: "Average",
      evaluationPeriods: cfg.evaluationPeriods,
      threshold: t.rdsCpuPercent,
      comparison: "GreaterThanThreshold",
    },
    {
      ...common,
      suffix: ALARM_SUFFIX.rdsStorage,
      description: `${d.key} database: less than ${t.rdsFreeStorageGiB} GiB free`,
      metricName: "FreeStorageSpace",
      statistic: "Minimum",
      evaluationPeriods: 1,
      threshold: t.rdsFreeStorageGiB * 1024 ** 3,
      comparison: "LessThanThreshold",
    },
    {
      ...common,
      suffix: ALARM_SUFFIX.rdsConnections,
      description: `${d.key} database: more than ${connections} connections (${t.rdsConnectionsPercent} % of ${d.maxConnections})`,
      metricName: "DatabaseConnections",
      statistic: "Maximum",
      evaluationPeriods: cfg.evaluationPeriods,
      threshold: connections,
      comparison: "GreaterThanThreshold",
    },
  ];
}

/** An application load balancer's own 5xx responses and its unhealthy targets. */
export function loadBalancerAlarms(lb: WatchedLoadBalancer, cfg: MonitoringConfig): AlarmSpec[] {
  const t = cfg.thresholds;
  // No 5xx is no data: quiet. Unhealthy hosts are reported every minute while the target group exists.
  return [
    {
      suffix: ALARM_SUFFIX.alb5xx,
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
    },
    {
      suffix: ALARM_SUFFIX.albUnhealthy,
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
    },
  ];
}

/** A workflow's failed executions (after its own retries). */
export function workflowAlarm(w: WatchedWorkflow): AlarmSpec {
  // Executions are rare (one per rotation): no execution is no data, and quiet.
  return {
    suffix: workflowAlarmSuffix(w.suffix),
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
  };
}

/**
 * A function's errors, average duration and throttles (5 minutes each), its failure queue's
 * messages (with a queue) and its silence (when scheduled).
 */
export function functionAlarms(f: WatchedFunction, cfg: MonitoringConfig): AlarmSpec[] {
  const t = cfg.thresholds;
  const duration = t.lambdaDurationMs ?? Math.round(f.timeoutSeconds * 1000 * 0.8);
  const lambda = (
    suffix: AlarmSuffix,
    description: string,
    metricName: string,
    statistic: AlarmSpec["statistic"],
    threshold: number,
  ): AlarmSpec => ({
    suffix,
    description,
    namespace: "AWS/Lambda",
    metricName,
    statistic,
    dimensions: { FunctionName: f.functionName },
    periodSeconds: FIVE_MINUTES,
    evaluationPeriods: 1,
    threshold,
    comparison: "GreaterThanThreshold",
    treatMissingData: "notBreaching",
  });
  // Errors, duration and throttles go quiet when nothing runs it at all (a broken schedule): not-running does not.
  const silence = Math.max(2 * f.intervalMinutes, 10);
  return [
    lambda(
      ALARM_SUFFIX.lambdaErrors,
      `${f.key}: more than ${t.lambdaErrors} errors in 5 min`,
      "Errors",
      "Sum",
      t.lambdaErrors,
    ),
    lambda(ALARM_SUFFIX.lambdaDuration, `${f.key}: runs average over ${duration} ms`, "Duration", "Average", duration),
    lambda(
      ALARM_SUFFIX.lambdaThrottles,
      `${f.key}: more than ${t.lambdaThrottles} throttles in 5 min`,
      "Throttles",
      "Sum",
      t.lambdaThrottles,
    ),
    // Retries exhausted: a run is lost unless someone looks. An idle, empty queue reports nothing.
    // Its metric is the failure queue's (SQS), judged like the function's own.
    ...(f.failureQueueName
      ? [
          {
            ...lambda(
              ALARM_SUFFIX.failedRuns,
              `${f.key}: a run failed after its retries (see its failure queue)`,
              "ApproximateNumberOfMessagesVisible",
              "Maximum",
              0,
            ),
            namespace: "AWS/SQS",
            dimensions: { QueueName: f.failureQueueName },
          },
        ]
      : []),
    ...(f.scheduled !== false
      ? [
          {
            ...lambda(ALARM_SUFFIX.notRunning, `${f.key}: not invoked for ${silence} min`, "Invocations", "Sum", 1),
            periodSeconds: 60 * silence,
            comparison: "LessThanThreshold",
            treatMissingData: "breaching",
          } as const,
        ]
      : []),
  ];
}

/**
 * A site's CloudFront 5xx and 4xx rates, its health check's status (with one) and its canary's
 * success (with one), all on us-east-1 metrics.
 */
export function siteAlarms(site: WatchedSite, cfg: MonitoringConfig, checks: SiteChecks): AlarmSpec[] {
  const t = cfg.thresholds;
  const rate = (suffix: AlarmSuffix, what: "5xx" | "4xx", threshold: number): AlarmSpec => ({
    suffix,
    description: `${site.key}: ${what} rate above ${threshold} %`,
    namespace: "AWS/CloudFront",
    metricName: `${what}ErrorRate`,
    statistic: "Average",
    dimensions: { DistributionId: site.distributionId, Region: "Global" },
    periodSeconds: FIVE_MINUTES,
    evaluationPeriods: cfg.evaluationPeriods,
    threshold,
    comparison: "GreaterThanThreshold",
    treatMissingData: "notBreaching",
    global: true,
  });
  // A health check that stops reporting is as bad as one that fails; so is a canary that stops running.
  const unreachable = (healthCheckId: pulumi.Input<string>): AlarmSpec => ({
    suffix: ALARM_SUFFIX.unreachable,
    description: `${site.key}: https://${site.hostName}/ failing from Route53's checkers for ${cfg.unhealthyWindowMinutes} min`,
    namespace: "AWS/Route53",
    metricName: "HealthCheckStatus",
    statistic: "Minimum",
    dimensions: { HealthCheckId: healthCheckId },
    periodSeconds: 60,
    evaluationPeriods: cfg.unhealthyWindowMinutes,
    threshold: 1,
    comparison: "LessThanThreshold",
    treatMissingData: "breaching",
    global: true,
  });
  return [
    rate(ALARM_SUFFIX.site5xx, "5xx", t.cloudFront5xxPercent),
    rate(ALARM_SUFFIX.site4xx, "4xx", t.cloudFront4xxPercent),
    ...(checks.healthCheckId ? [unreachable(checks.healthCheckId)] : []),
    ...(checks.canary ? [canaryAlarm(site, cfg, checks.canary)] : []),
  ];
}

/** The canary's success, one datapoint per run, over the unhealthy window (one run at least). */
function canaryAlarm(site: WatchedSite, cfg: MonitoringConfig, canary: NonNullable<SiteChecks["canary"]>): AlarmSpec {
  const runs = Math.max(1, Math.round(cfg.unhealthyWindowMinutes / cfg.canaryRateMinutes));
  return {
    suffix: ALARM_SUFFIX.canaryFailed,
    description: `${site.key}: the browser check of https://${site.hostName}/ failed (${runs} run${runs === 1 ? "" : "s"} in a row)`,
    namespace: "CloudWatchSynthetics",
    metricName: "SuccessPercent",
    statistic: "Average",
    dimensions: { CanaryName: canary.canaryName },
    periodSeconds: canary.periodSeconds,
    evaluationPeriods: runs,
    threshold: 100,
    comparison: "LessThanThreshold",
    treatMissingData: "breaching",
    global: true,
  };
}

/**
 * The alarm of each log metric: error lines over `logErrorLines` for the unhealthy window, an
 * application event at its first match.
 */
export function logAlarms(logs: WatchedLogs, env: EnvironmentName, cfg: MonitoringConfig): AlarmSpec[] {
  const t = cfg.thresholds;
  return logs.metrics.map((m) => {
    const errors = m.kind === "errors";
    // No log line at all is no data: quiet here (the running-tasks and not-running alarms cover silence).
    return {
      suffix: m.suffix,
      description: errors
        ? `${logs.key}: more than ${t.logErrorLines} ${m.meaning} per 5 min for ${cfg.unhealthyWindowMinutes} min`
        : `${logs.key}: ${m.meaning} (a log line matched ${m.pattern})`,
      namespace: logMetricNamespace(env, logs.key),
      metricName: m.metricName,
      statistic: "Sum",
      dimensions: {},
      periodSeconds: FIVE_MINUTES,
      evaluationPeriods: errors ? cfg.evaluationPeriods : 1,
      threshold: errors ? t.logErrorLines : 0,
      comparison: "GreaterThanThreshold",
      treatMissingData: "notBreaching",
    };
  });
}
