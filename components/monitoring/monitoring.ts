/**
 * One `Monitoring` component that watches what the stack runs, built
 * from the typed outputs of the other components, never from guessed names:
 * the alert topic, every component alarm, one composite per service whose rule
 * is exactly the OR of that service's alarms (only composites notify, so one
 * incident pages once), and the overview dashboard. Each part follows its
 * toggle in `monitoring` config.
 *
 * The constructor is a sequence of the module-level steps below: the site's
 * checks (health check, canary), the log metric filters, the alarms with their
 * composites and topic, and the dashboard. What each alarm watches is in
 * alarm-specs.ts (one function per family), the dashboard's rows in overview.ts.
 */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import type { Environment } from "../../lib/environments";
import type { MonitoringConfig } from "../../config/monitoring";
import { AwsContext, denyWithoutTls, resourcePolicyDocument } from "../../lib/iam";
import {
  alarmName,
  alertTopicName,
  compositeAlarmName,
  healthCheckName,
  logMetricNamespace,
  overviewDashboardName,
  uiCanaryNames,
} from "../../lib/naming";
import { AlarmSpec, AlarmSpecs, alarmSpecs } from "./alarm-specs";
import { UiCanary } from "./canary";
import { dashboardBody } from "./dashboard";
import type { LogMetric } from "./log-metrics";
import { overviewRows } from "./overview";

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

/** What a step needs of the component: its name (the logical names' stem), its args, and itself as parent. */
interface Scope {
  readonly name: string;
  readonly args: MonitoringArgs;
  readonly parent: pulumi.ComponentResource;
}

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
    refuseUnwatchable(args);
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

/**
 * Refuses, before anything is registered, a site without a us-east-1 provider (its metrics live
 * there), and, in a stack outside us-east-1, a site whose composite (in us-east-1 with its alarms)
 * would notify: the stack's topic is in the stack's region.
 */
function refuseUnwatchable(args: MonitoringArgs): void {
  if (!args.site) return;
  if (!args.globalProvider)
    throw new Error(
      "monitoring: a site is watched, but no us-east-1 provider was given (CloudFront and Route53 metrics live there)",
    );
  const cfg = args.config;
  if (cfg.alarms && cfg.notificationsEnabled && args.aws.region !== "us-east-1")
    throw new Error(
      `monitoring: the ${args.site.key} composite lives in us-east-1 with its alarms; give monitoring.alertTopic.arn a topic there`,
    );
}

/**
 * The site's checks: the Route53 HTTPS health check (global, its metric in us-east-1; it exists for
 * its alarm only, and costs per check: made with alarms on) and the Synthetics canary in us-east-1
 * (where `canary` is on).
 */
function siteChecks(
  scope: Scope,
  site: WatchedSite,
): { readonly healthCheckId?: pulumi.Output<string>; readonly canary?: UiCanary } {
  const { name, args, parent } = scope;
  const cfg = args.config;
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
