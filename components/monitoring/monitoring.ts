/**
 * One `Monitoring` component that watches what the stack runs, built
 * from the typed outputs of the other components, never from guessed names:
 * the alert topic, every component alarm, one composite per service whose rule
 * is exactly the OR of that service's alarms (only composites notify, so one
 * incident pages once), and the overview dashboard. Each part follows its
 * toggle in `monitoring` config.
 *
 * The constructor is a sequence of the module-level steps below: the site's
 * checks (health check, canary), the log metric filters, the alarm specs of
 * each family (services, databases, load balancers, workflows, functions, the
 * site, the logs), the alarms with their composites and topic, and the dashboard.
 */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import type { Environment, EnvironmentName } from "../../config/environments";
import { MonitoringConfig, SERVICE_ALARM_PERIOD_SECONDS } from "../../config/monitoring";
import { AwsContext, denyWithoutTls, resourcePolicyDocument } from "../../lib/iam";
import {
  ALARM_SUFFIX,
  AlarmSuffix,
  alarmName,
  alertTopicName,
  compositeAlarmName,
  healthCheckName,
  logMetricNamespace,
  overviewDashboardName,
  uiCanaryNames,
  workflowAlarmSuffix,
} from "../../lib/naming";
import { UiCanary } from "./canary";
import type { LogMetric } from "./log-metrics";
import { MetricLine, Widget, alarmStatusWidget, dashboardBody, metricWidget } from "./dashboard";

/** An ECS service to watch: its CPU, memory and running tasks. */
export interface WatchedService {
  /** The composite's name stem, shared by everything of this service: `proxy-router`, `market-maker`... */
  readonly key: string;
  /** The cluster it runs in (the `ClusterName` dimension). */
  readonly clusterName: pulumi.Input<string>;
  /** The ECS service's name (the `ServiceName` dimension). */
  readonly serviceName: pulumi.Input<string>;
  /** Tasks it should run; 0 (paused) leaves out the running-tasks alarm. */
  readonly desiredCount: number;
}

/** A service's database: its CPU, free storage and connections join the service's composite. */
export interface WatchedDatabase {
  /** The service whose composite its alarms join: `notifications`. */
  readonly key: string;
  /** The RDS instance identifier (the `DBInstanceIdentifier` dimension). */
  readonly identifier: pulumi.Input<string>;
  /** The instance's `max_connections`: the connections alarm fires at `rdsConnectionsPercent` of it. */
  readonly maxConnections: number;
}

/**
 * A load balancer in front of a service and its target group. An application load balancer's 5xx and
 * unhealthy targets join the service's composite; a network load balancer is graphed only.
 */
export interface WatchedLoadBalancer {
  /** The service behind it: its composite, and the label of its graphs. */
  readonly key: string;
  /** The load balancer's ARN suffix (`app/...` or `net/...`, the `LoadBalancer` dimension). */
  readonly loadBalancerArnSuffix: pulumi.Input<string>;
  /** Its target group's ARN suffix (the `TargetGroup` dimension). */
  readonly targetGroupArnSuffix: pulumi.Input<string>;
}

/** A Lambda function: its errors, duration, throttles, failed runs and silence join the service's composite. */
export interface WatchedFunction {
  /** The service it is (`margin-call`) or belongs to (`market-maker` as a Lambda). */
  readonly key: string;
  /** The function's name (the `FunctionName` dimension). */
  readonly functionName: pulumi.Input<string>;
  /** Its timeout: the duration alarm fires at 80 % of it unless `thresholds.lambdaDurationMs` says otherwise. */
  readonly timeoutSeconds: number;
  /** Minutes between scheduled runs: no invocation for twice that (10 minutes at least) is an alarm. */
  readonly intervalMinutes: number;
  /**
   * The queue that keeps its failed asynchronous runs: a message there is an alarm.
   * @default none (no failed-runs alarm)
   */
  readonly failureQueueName?: pulumi.Input<string>;
  /**
   * Whether its schedules run it; without them, not being invoked is no alarm.
   * @default true
   */
  readonly scheduled?: boolean;
}

/** A Step Functions workflow a service depends on (a redeploy): a failed execution joins the service's composite. */
export interface WatchedWorkflow {
  /** The service whose composite the alarm joins. */
  readonly key: string;
  /** What the workflow does, `redeploy`: the alarm is `<service>-<suffix>-failed-<env>`. */
  readonly suffix: string;
  /** What a failed execution means, for the alarm's description. */
  readonly failureMeans: string;
  /** The state machine's ARN (the `StateMachineArn` dimension). */
  readonly stateMachineArn: pulumi.Input<string>;
}

/** A service's log group and what its lines are counted for; each metric's alarm joins the service's composite. */
export interface WatchedLogs {
  /** The service: its composite, and its metrics' namespace `Lumerin/<env>/<service>`. */
  readonly key: string;
  /** The log group the filters read. */
  readonly logGroupName: pulumi.Input<string>;
  /** What is counted (`LOG_METRICS` in log-metrics.ts): one filter and one alarm each. */
  readonly metrics: readonly LogMetric[];
}

/** A CloudFront site: its error rates, a Route53 HTTPS check and (where on) a canary, all in us-east-1. */
export interface WatchedSite {
  /** The site's composite name stem: `futures-ui`. */
  readonly key: string;
  /** The CloudFront distribution's id (the `DistributionId` dimension). */
  readonly distributionId: pulumi.Input<string>;
  /** The site's public host name: the health check and the canary load `https://<hostName>/`. */
  readonly hostName: string;
}

/**
 * What the monitoring watches: the lists `stack.ts` builds from the other components' outputs.
 * Each entry's `key` names the composite its alarms join; a key in several lists makes one composite.
 */
export interface MonitoringTargets {
  /** The ECS services. */
  readonly services: readonly WatchedService[];
  /**
   * The services' databases.
   * @default []
   */
  readonly databases?: readonly WatchedDatabase[];
  /**
   * Network load balancers in front of a service (the proxies' stratum port): graphed, their service's alarms cover them.
   * @default []
   */
  readonly networkLoadBalancers?: readonly WatchedLoadBalancer[];
  /**
   * Application load balancers in front of a service: their 5xx and unhealthy targets alarm.
   * @default []
   */
  readonly loadBalancers?: readonly WatchedLoadBalancer[];
  /**
   * The Lambda functions.
   * @default []
   */
  readonly functions?: readonly WatchedFunction[];
  /**
   * The Step Functions workflows.
   * @default []
   */
  readonly workflows?: readonly WatchedWorkflow[];
  /**
   * The CloudFront site; it needs `globalProvider`.
   * @default none
   */
  readonly site?: WatchedSite;
  /**
   * The services' log groups and their metrics (created where `config.metricFilters` is on).
   * @default []
   */
  readonly logs?: readonly WatchedLogs[];
}

export interface MonitoringArgs extends MonitoringTargets {
  /** The account, region and partition the stack deploys to. */
  readonly aws: AwsContext;
  /** The environment: its name suffixes every alarm, composite, topic and dashboard. */
  readonly env: Environment;
  /** The stack's `monitoring` configuration, resolved: toggles, alert topic, window and thresholds. */
  readonly config: MonitoringConfig;
  /** Encrypts a topic this stack creates (its key policy lets CloudWatch alarms publish). */
  readonly kmsKeyArn: pulumi.Input<string>;
  /**
   * A us-east-1 provider: CloudFront's and Route53's metrics live there. Required with a site.
   * @default none
   */
  readonly globalProvider?: aws.Provider;
}

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

/** What a step needs of the component: its name (the logical names' stem), its args, and itself as parent. */
interface Scope {
  readonly name: string;
  readonly args: MonitoringArgs;
  readonly parent: pulumi.ComponentResource;
}

/** The site's checks that alarms read: the Route53 health check (with alarms on) and the canary (where on). */
export interface SiteChecks {
  /** The HTTPS check of the site: its id is the unreachable alarm's dimension. */
  readonly healthCheckId?: pulumi.Input<string>;
  /** The canary's name and period: its failure alarm's dimension and period. */
  readonly canary?: Pick<UiCanary, "canaryName" | "periodSeconds">;
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
  /** Each service's composite alarm, by service key. */
  readonly composites: Readonly<Record<string, aws.cloudwatch.CompositeAlarm>>;
  /** Where composites notify; none when alarms are off. */
  readonly topicArn?: pulumi.Output<string>;
  /** The overview dashboard, where `dashboards` is on. */
  readonly dashboard?: aws.cloudwatch.Dashboard;
  /** The Synthetics canary on the site, where `canary` is on and the stack has a site. */
  readonly canary?: UiCanary;
  /** Log metric filters by service key. */
  readonly metricFilters: Readonly<Record<string, readonly aws.cloudwatch.LogMetricFilter[]>>;

  constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lumerin:monitoring:Monitoring", name, {}, opts);
    const scope: Scope = { name, args, parent: this };
    const checks = args.site ? siteChecks(scope, args.site) : {};
    this.canary = checks.canary;
    this.metricFilters = args.config.metricFilters ? logMetricFilters(scope, args.logs ?? []) : {};
    const alerting = args.config.alarms
      ? alarmsAndComposites(scope, alarmSpecs(args, args.env.name, args.config, checks))
      : { alarmNames: {}, composites: {} };
    this.topicArn = alerting.topicArn;
    this.alarmNames = alerting.alarmNames;
    this.composites = alerting.composites;
    if (args.config.dashboards) {
      const compositeArns = Object.values(this.composites).map((c) => c.arn);
      this.dashboard = overviewDashboard(scope, compositeArns, this.canary);
    }
    this.registerOutputs({
      topicArn: this.topicArn,
      alarmNames: this.alarmNames,
      composites: Object.keys(this.composites),
      dashboardName: this.dashboard?.dashboardName,
      canaryName: this.canary?.canaryName,
    });
  }
}

// ------------------------------------------------------------------------------------------------ alarm specs

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
  // The three above go quiet when nothing runs it at all (a broken schedule): not-running does not.
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

// ------------------------------------------------------------------------------------------------ resources

/**
 * The site's checks, in us-east-1: the Route53 HTTPS health check (it exists for its alarm only, and
 * costs per check: made with alarms on) and the Synthetics canary (where `canary` is on).
 */
function siteChecks(
  scope: Scope,
  site: WatchedSite,
): { readonly healthCheckId?: pulumi.Output<string>; readonly canary?: UiCanary } {
  const { name, args, parent } = scope;
  const cfg = args.config;
  if (!args.globalProvider)
    throw new Error(
      "monitoring: a site is watched, but no us-east-1 provider was given (CloudFront and Route53 metrics live there)",
    );
  const healthCheck = cfg.alarms
    ? new aws.route53.HealthCheck(
        `${name}-${site.key}-health`,
        {
          type: "HTTPS",
          fqdn: site.hostName,
          port: 443,
          resourcePath: "/",
          failureThreshold: 3,
          requestInterval: 30,
          measureLatency: cfg.healthCheckMeasuresLatency,
          tags: { Name: healthCheckName(site.key, args.env.name) },
        },
        { parent },
      )
    : undefined;
  // In us-east-1 with the site's other alarms: a composite reads alarms of its own region only.
  const canary = cfg.canary
    ? new UiCanary(
        `${name}-${site.key}-canary`,
        {
          aws: { ...args.aws, region: "us-east-1" },
          env: args.env.name,
          url: `https://${site.hostName}`,
          rateMinutes: cfg.canaryRateMinutes,
          names: uiCanaryNames(args.env.name, args.aws.accountId),
        },
        { parent, provider: args.globalProvider },
      )
    : undefined;
  return { ...(healthCheck ? { healthCheckId: healthCheck.id } : {}), ...(canary ? { canary } : {}) };
}

/** One metric filter per log metric of each service, on its own log group, by service key. */
function logMetricFilters(
  scope: Scope,
  logs: readonly WatchedLogs[],
): Record<string, aws.cloudwatch.LogMetricFilter[]> {
  const { name, args, parent } = scope;
  const env = args.env.name;
  return Object.fromEntries(
    logs.map((l) => [
      l.key,
      l.metrics.map(
        (m) =>
          new aws.cloudwatch.LogMetricFilter(
            `${name}-${l.key}-${m.suffix}`,
            {
              name: alarmName(l.key, m.suffix, env),
              logGroupName: l.logGroupName,
              pattern: m.pattern,
              // 0 for every line that does not match, so a quiet service graphs 0, not a gap.
              metricTransformation: {
                namespace: logMetricNamespace(env, l.key),
                name: m.metricName,
                value: "1",
                defaultValue: "0",
                unit: "Count",
              },
            },
            { parent },
          ),
      ),
    ]),
  );
}

/** The alarms of every service, its composite, and the topic composites notify. */
interface Alerting {
  readonly topicArn?: pulumi.Output<string>;
  readonly alarmNames: Record<string, string[]>;
  readonly composites: Record<string, aws.cloudwatch.CompositeAlarm>;
}

/**
 * The alert topic, then per service key its component alarms and its composite. A key with a
 * us-east-1 alarm has all its alarms and its composite there: a composite reads alarms of its own
 * region only.
 */
function alarmsAndComposites(scope: Scope, specs: AlarmSpecs): Alerting {
  const { args, parent } = scope;
  const topicArn = alertTopic(scope);
  const actions = args.config.notificationsEnabled ? [topicArn] : [];
  const alarmNames: Record<string, string[]> = {};
  const composites: Record<string, aws.cloudwatch.CompositeAlarm> = {};
  for (const [key, list] of specs) {
    const global = list.some((s) => s.global);
    const inRegion = global ? { parent, provider: args.globalProvider } : { parent };
    const alarms = list.map((spec) => metricAlarm(scope, key, spec, inRegion));
    alarmNames[key] = list.map((spec) => alarmName(key, spec.suffix, args.env.name));
    if (global && args.aws.region !== "us-east-1" && actions.length > 0) {
      throw new Error(
        `monitoring: the ${key} composite lives in us-east-1 with its alarms; give monitoring.alertTopic.arn a topic there`,
      );
    }
    composites[key] = new aws.cloudwatch.CompositeAlarm(
      `${scope.name}-${key}`,
      {
        alarmName: compositeAlarmName(key, args.env.name),
        alarmDescription: `${key} in ${args.env.name}: any of its ${alarms.length} alarms`,
        alarmRule: compositeRule(alarmNames[key]),
        actionsEnabled: actions.length > 0,
        alarmActions: actions,
        okActions: actions,
      },
      { ...inRegion, dependsOn: alarms },
    );
  }
  return { topicArn, alarmNames, composites };
}

/** One component alarm: the spec, named `<service>-<suffix>-<env>`, notifying nobody (its composite does, once). */
function metricAlarm(
  scope: Scope,
  key: string,
  spec: AlarmSpec,
  opts: pulumi.CustomResourceOptions,
): aws.cloudwatch.MetricAlarm {
  return new aws.cloudwatch.MetricAlarm(
    `${scope.name}-${key}-${spec.suffix}`,
    {
      name: alarmName(key, spec.suffix, scope.args.env.name),
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
      actionsEnabled: false,
    },
    opts,
  );
}

/** Exactly the OR of these alarms. */
export function compositeRule(alarmNames: readonly string[]): string {
  return alarmNames.map((n) => `ALARM("${n}")`).join(" OR ");
}

/** The configured topic, or one this stack creates: encrypted, publishable only by this account's CloudWatch. */
function alertTopic(scope: Scope): pulumi.Output<string> {
  const { name, args, parent } = scope;
  const { aws: ctx, config, env } = args;
  if (config.alertTopic.arn) return pulumi.output(config.alertTopic.arn);
  if (config.alertTopic.name)
    return pulumi.output(`arn:${ctx.partition}:sns:${ctx.region}:${ctx.accountId}:${config.alertTopic.name}`);
  const topic = new aws.sns.Topic(
    `${name}-alerts`,
    { name: alertTopicName(env.name), kmsMasterKeyId: args.kmsKeyArn },
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

// ------------------------------------------------------------------------------------------------ the dashboard

/**
 * The overview dashboard `lumerin-overview-<env>` and, with a site, CloudFront's additional
 * metrics (its cache hit rate and origin latency are published only with them on).
 */
function overviewDashboard(
  scope: Scope,
  compositeArns: readonly pulumi.Output<string>[],
  canary: UiCanary | undefined,
): aws.cloudwatch.Dashboard {
  const { name, args, parent } = scope;
  if (args.site) {
    new aws.cloudfront.MonitoringSubscription(
      `${name}-${args.site.key}-metrics`,
      {
        distributionId: args.site.distributionId,
        monitoringSubscription: {
          realtimeMetricsSubscriptionConfig: { realtimeMetricsSubscriptionStatus: "Enabled" },
        },
      },
      { parent, provider: args.globalProvider },
    );
  }
  const logs = args.config.metricFilters ? (args.logs ?? []) : [];
  const rows = overviewRows(args, args.env.name, compositeArns, logs, canary);
  return new aws.cloudwatch.Dashboard(
    `${name}-dashboard`,
    {
      dashboardName: overviewDashboardName(args.env.name),
      dashboardBody: dashboardBody(rows, {
        region: args.aws.region,
        periodSeconds: args.config.dashboardPeriodSeconds,
      }),
    },
    { parent },
  );
}

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
