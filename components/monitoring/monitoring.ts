/**
 * One `Monitoring` component that watches what the stack runs (issue 7), built
 * from the typed outputs of the other components, never from guessed names.
 * This first step: the alert topic, every component alarm, and one composite
 * per service whose rule is exactly the OR of that service's alarms. Only
 * composites notify, so one incident pages once. Next steps (see README): log
 * metric filters, the dashboard, the canary, and alarm-driven rollback.
 */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import type { Environment } from "../../config/environments";
import type { MonitoringConfig } from "../../config/monitoring";
import { AwsContext, denyWithoutTls, resourcePolicyDocument } from "../../lib/iam";
import { alarmName } from "../../lib/naming";

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
  readonly functions?: readonly WatchedFunction[];
  readonly site?: WatchedSite;
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
  readonly topicArn: pulumi.Output<string>;

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
      add(s.key, { suffix: "cpu-high", description: `${s.key}: CPU above ${t.ecsCpuPercent} % for ${cfg.unhealthyWindowMinutes} min`, namespace: "AWS/ECS", metricName: "CPUUtilization", statistic: "Average", dimensions: dims, periodSeconds: FIVE_MINUTES, evaluationPeriods: periods, threshold: t.ecsCpuPercent, comparison: "GreaterThanThreshold", treatMissingData: "notBreaching" });
      add(s.key, { suffix: "memory-high", description: `${s.key}: memory above ${t.ecsMemoryPercent} % for ${cfg.unhealthyWindowMinutes} min`, namespace: "AWS/ECS", metricName: "MemoryUtilization", statistic: "Average", dimensions: dims, periodSeconds: FIVE_MINUTES, evaluationPeriods: periods, threshold: t.ecsMemoryPercent, comparison: "GreaterThanThreshold", treatMissingData: "notBreaching" });
      if (s.desiredCount > 0) {
        // A service with no running task reports nothing: missing data must alarm, not go quiet.
        add(s.key, { suffix: "running-tasks", description: `${s.key}: no running task for ${cfg.unhealthyWindowMinutes} min`, namespace: "ECS/ContainerInsights", metricName: "RunningTaskCount", statistic: "Minimum", dimensions: dims, periodSeconds: FIVE_MINUTES, evaluationPeriods: periods, threshold: 1, comparison: "LessThanThreshold", treatMissingData: "breaching" });
      }
    }

    // ---------------------------------------------------------------- databases (join their service's composite)
    for (const d of args.databases ?? []) {
      const dims = { DBInstanceIdentifier: d.identifier };
      // An instance that reports nothing is down or gone: all three alarm on missing data.
      add(d.key, { suffix: "rds-cpu", description: `${d.key} database: CPU above ${t.rdsCpuPercent} %`, namespace: "AWS/RDS", metricName: "CPUUtilization", statistic: "Average", dimensions: dims, periodSeconds: FIVE_MINUTES, evaluationPeriods: periods, threshold: t.rdsCpuPercent, comparison: "GreaterThanThreshold", treatMissingData: "breaching" });
      add(d.key, { suffix: "rds-storage", description: `${d.key} database: less than ${t.rdsFreeStorageGiB} GiB free`, namespace: "AWS/RDS", metricName: "FreeStorageSpace", statistic: "Minimum", dimensions: dims, periodSeconds: FIVE_MINUTES, evaluationPeriods: 1, threshold: t.rdsFreeStorageGiB * 1024 ** 3, comparison: "LessThanThreshold", treatMissingData: "breaching" });
      const connections = Math.floor((d.maxConnections * t.rdsConnectionsPercent) / 100);
      add(d.key, { suffix: "rds-connections", description: `${d.key} database: more than ${connections} connections (${t.rdsConnectionsPercent} % of ${d.maxConnections})`, namespace: "AWS/RDS", metricName: "DatabaseConnections", statistic: "Maximum", dimensions: dims, periodSeconds: FIVE_MINUTES, evaluationPeriods: periods, threshold: connections, comparison: "GreaterThanThreshold", treatMissingData: "breaching" });
    }

    // ---------------------------------------------------------------- load balancers
    for (const lb of args.loadBalancers ?? []) {
      // No 5xx is no data: quiet. Unhealthy hosts are reported every minute while the target group exists.
      add(lb.key, { suffix: "alb-5xx", description: `${lb.key}: more than ${t.alb5xx} load-balancer 5xx in 5 min`, namespace: "AWS/ApplicationELB", metricName: "HTTPCode_ELB_5XX_Count", statistic: "Sum", dimensions: { LoadBalancer: lb.loadBalancerArnSuffix }, periodSeconds: FIVE_MINUTES, evaluationPeriods: 1, threshold: t.alb5xx, comparison: "GreaterThanThreshold", treatMissingData: "notBreaching" });
      add(lb.key, { suffix: "alb-unhealthy", description: `${lb.key}: an unhealthy target for ${cfg.unhealthyWindowMinutes} min`, namespace: "AWS/ApplicationELB", metricName: "UnHealthyHostCount", statistic: "Maximum", dimensions: { LoadBalancer: lb.loadBalancerArnSuffix, TargetGroup: lb.targetGroupArnSuffix }, periodSeconds: 60, evaluationPeriods: cfg.unhealthyWindowMinutes, threshold: 1, comparison: "GreaterThanOrEqualToThreshold", treatMissingData: "breaching" });
    }

    // ---------------------------------------------------------------- functions
    for (const f of args.functions ?? []) {
      const dims = { FunctionName: f.functionName };
      const duration = t.lambdaDurationMs ?? Math.round(f.timeoutSeconds * 1000 * 0.8);
      add(f.key, { suffix: "errors", description: `${f.key}: more than ${t.lambdaErrors} errors in 5 min`, namespace: "AWS/Lambda", metricName: "Errors", statistic: "Sum", dimensions: dims, periodSeconds: FIVE_MINUTES, evaluationPeriods: 1, threshold: t.lambdaErrors, comparison: "GreaterThanThreshold", treatMissingData: "notBreaching" });
      add(f.key, { suffix: "duration", description: `${f.key}: runs average over ${duration} ms`, namespace: "AWS/Lambda", metricName: "Duration", statistic: "Average", dimensions: dims, periodSeconds: FIVE_MINUTES, evaluationPeriods: 1, threshold: duration, comparison: "GreaterThanThreshold", treatMissingData: "notBreaching" });
      add(f.key, { suffix: "throttles", description: `${f.key}: more than ${t.lambdaThrottles} throttles in 5 min`, namespace: "AWS/Lambda", metricName: "Throttles", statistic: "Sum", dimensions: dims, periodSeconds: FIVE_MINUTES, evaluationPeriods: 1, threshold: t.lambdaThrottles, comparison: "GreaterThanThreshold", treatMissingData: "notBreaching" });
      // The three above go quiet when nothing runs it at all (a broken schedule): this one does not.
      const silence = Math.max(2 * f.intervalMinutes, 10);
      if (f.failureQueueName) {
        // Retries exhausted: a run is lost unless someone looks. An idle, empty queue reports nothing.
        add(f.key, { suffix: "failed-runs", description: `${f.key}: a run failed after its retries (see its failure queue)`, namespace: "AWS/SQS", metricName: "ApproximateNumberOfMessagesVisible", statistic: "Maximum", dimensions: { QueueName: f.failureQueueName }, periodSeconds: FIVE_MINUTES, evaluationPeriods: 1, threshold: 0, comparison: "GreaterThanThreshold", treatMissingData: "notBreaching" });
      }
      add(f.key, { suffix: "not-running", description: `${f.key}: not invoked for ${silence} min`, namespace: "AWS/Lambda", metricName: "Invocations", statistic: "Sum", dimensions: dims, periodSeconds: 60 * silence, evaluationPeriods: 1, threshold: 1, comparison: "LessThanThreshold", treatMissingData: "breaching" });
    }

    // ---------------------------------------------------------------- the site (us-east-1 metrics)
    let healthCheck: aws.route53.HealthCheck | undefined;
    if (args.site) {
      const site = args.site;
      if (!args.globalProvider) throw new Error("monitoring: a site is watched, but no us-east-1 provider was given (CloudFront and Route53 metrics live there)");
      const dims = { DistributionId: site.distributionId, Region: "Global" };
      add(site.key, { suffix: "5xx-errors", description: `${site.key}: 5xx rate above ${t.cloudFront5xxPercent} %`, namespace: "AWS/CloudFront", metricName: "5xxErrorRate", statistic: "Average", dimensions: dims, periodSeconds: FIVE_MINUTES, evaluationPeriods: periods, threshold: t.cloudFront5xxPercent, comparison: "GreaterThanThreshold", treatMissingData: "notBreaching", global: true });
      add(site.key, { suffix: "4xx-errors", description: `${site.key}: 4xx rate above ${t.cloudFront4xxPercent} %`, namespace: "AWS/CloudFront", metricName: "4xxErrorRate", statistic: "Average", dimensions: dims, periodSeconds: FIVE_MINUTES, evaluationPeriods: periods, threshold: t.cloudFront4xxPercent, comparison: "GreaterThanThreshold", treatMissingData: "notBreaching", global: true });
      healthCheck = new aws.route53.HealthCheck(
        `${name}-${site.key}-health`,
        { type: "HTTPS", fqdn: site.hostName, port: 443, resourcePath: "/", failureThreshold: 3, requestInterval: 30, measureLatency: true, tags: { Name: `${site.key}-${env.name}` } },
        parent,
      );
      // A health check that stops reporting is as bad as one that fails.
      add(site.key, { suffix: "unreachable", description: `${site.key}: https://${site.hostName}/ failing from Route53's checkers for ${cfg.unhealthyWindowMinutes} min`, namespace: "AWS/Route53", metricName: "HealthCheckStatus", statistic: "Minimum", dimensions: { HealthCheckId: healthCheck.id }, periodSeconds: 60, evaluationPeriods: cfg.unhealthyWindowMinutes, threshold: 1, comparison: "LessThanThreshold", treatMissingData: "breaching", global: true });
    }

    // ---------------------------------------------------------------- the topic
    this.topicArn = alertTopic(name, args, this);
    const actions = cfg.notificationsEnabled ? [this.topicArn] : [];

    // ---------------------------------------------------------------- alarms and composites
    const alarmNames: Record<string, string[]> = {};
    const composites: Record<string, aws.cloudwatch.CompositeAlarm> = {};
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
              dimensions: spec.dimensions,
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
        throw new Error(`monitoring: the ${key} composite lives in us-east-1 with its alarms; give monitoring.alertTopic.arn a topic there`);
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

    this.alarmNames = alarmNames;
    this.composites = composites;
    this.registerOutputs({ topicArn: this.topicArn, alarmNames, composites: Object.keys(composites) });
  }
}

/** Exactly the OR of these alarms. */
export function compositeRule(alarmNames: readonly string[]): string {
  return alarmNames.map((n) => `ALARM("${n}")`).join(" OR ");
}

/** The configured topic, or one this stack creates: encrypted, publishable only by this account's CloudWatch. */
function alertTopic(name: string, args: MonitoringArgs, parent: pulumi.Resource): pulumi.Output<string> {
  const { aws: ctx, config, env } = args;
  if (config.alertTopic.arn) return pulumi.output(config.alertTopic.arn);
  if (config.alertTopic.name) return pulumi.output(`arn:${ctx.partition}:sns:${ctx.region}:${ctx.accountId}:${config.alertTopic.name}`);
  const topic = new aws.sns.Topic(`${name}-alerts`, { name: `lumerin-alerts-${env.name}`, kmsMasterKeyId: args.kmsKeyArn }, { parent });
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
