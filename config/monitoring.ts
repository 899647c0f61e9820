/**
 * The `monitoring` section of the stack configuration: toggles, the alert topic, and per-alarm thresholds whose
 * defaults depend on the environment (docs/estate.md has today's values).
 * Every threshold left out takes its environment's default; `resolveMonitoring`
 * returns the settings a stack runs with.
 */
import { z } from "zod";
import type { EnvironmentName } from "../lib/environments";

const positive = z.number().positive();
const percent = z.number().gt(0).max(100);
const snsTopicArn = z
  .string()
  .regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/, "expected an SNS topic ARN");
const snsTopicName = z.string().regex(/^[A-Za-z0-9_-]{1,256}$/, "expected an SNS topic name");

export const ThresholdsSchema = z.strictObject({
  ecsCpuPercent: percent.optional().describe("ECS service CPU utilisation (%) above which its alarm fires."),
  ecsMemoryPercent: percent.optional().describe("ECS service memory utilisation (%) above which its alarm fires."),
  lambdaErrors: z
    .number()
    .int()
    .min(0)
    .optional()
    .describe("Lambda errors (sum per 5 minutes) above which the alarm fires."),
  lambdaThrottles: z
    .number()
    .int()
    .min(0)
    .optional()
    .describe("Lambda throttles (sum per 5 minutes) above which the alarm fires."),
  lambdaDurationMs: positive
    .optional()
    .describe("Lambda average duration (ms) above which the alarm fires; default 80 % of the timeout."),
  alb5xx: z
    .number()
    .int()
    .min(0)
    .optional()
    .describe("ALB 5xx responses (sum per 5 minutes) above which the alarm fires."),
  rdsCpuPercent: percent.optional().describe("RDS CPU utilisation (%) above which its alarm fires."),
  rdsFreeStorageGiB: positive.optional().describe("RDS free storage (GiB) below which its alarm fires."),
  rdsConnectionsPercent: percent
    .optional()
    .describe("RDS connections, as a percentage of `max_connections`, above which the alarm fires."),
  cloudFront5xxPercent: percent.optional().describe("CloudFront 5xx error rate (%) above which the UI alarm fires."),
  logErrorLines: z
    .number()
    .int()
    .min(0)
    .optional()
    .describe(
      "Error or fatal log lines (per 5 minutes, over the unhealthy window) above which a service's log alarm fires.",
    ),
  cloudFront4xxPercent: percent.optional().describe("CloudFront 4xx error rate (%) above which the UI alarm fires."),
});

export const MonitoringSchema = z.strictObject({
  enabled: z.boolean().default(true).describe("Watch the stack at all (alarms, dashboards, metric filters, canary)."),
  alarms: z.boolean().default(true).describe("Create the component and composite alarms."),
  dashboards: z.boolean().default(true).describe("Create the overview dashboard `lumerin-overview-<env>`."),
  metricFilters: z
    .boolean()
    .default(true)
    .describe("Create the log metric filters on the services' log groups, each with its alarm."),
  canary: z
    .boolean()
    .optional()
    .describe("Run the Synthetics canary on the futures UI (where the stack has one). Default: on in production."),
  notificationsEnabled: z
    .boolean()
    .optional()
    .describe("Composite alarms notify the alert topic (alarm and OK actions). Default: on in production."),
  alertTopic: z
    .strictObject({
      arn: snsTopicArn.optional().describe("An existing topic's ARN."),
      name: snsTopicName.optional().describe("An existing topic's name, in this account and region."),
    })
    .refine((t) => !(t.arn && t.name), { message: "give the topic's arn or its name, not both" })
    .prefault({})
    .describe(
      "Where composites notify: an existing topic (`arn` or `name`), or none given: a topic this stack creates.",
    ),
  healthCheckMeasuresLatency: z
    .boolean()
    .default(true)
    .describe(
      "The site's Route53 health check also measures latency. Route53 cannot change this on an existing check (a change is a new check): adopting the live one, made without, sets `false`.",
    ),
  dashboardPeriodSeconds: z
    .union([z.literal(60), z.literal(300), z.literal(900), z.literal(3600)], {
      message: "expected 60, 300, 900 or 3600",
    })
    .default(300)
    .describe("Seconds each dashboard graph aggregates."),
  unhealthyWindowMinutes: z
    .number()
    .int()
    .min(5)
    .max(1440)
    .optional()
    .describe("How long (minutes) a service must be unhealthy before its alarm fires. Default 60 dev, 30 stg, 15 lmn."),
  canaryRateMinutes: z
    .number()
    .int()
    .min(1)
    .max(60)
    .optional()
    .describe("Minutes between canary runs. Default 60 dev, 30 stg, 15 lmn."),
  thresholds: ThresholdsSchema.prefault({}).describe(
    "Alarm thresholds; each left out takes its environment's default.",
  ),
});

export type MonitoringInput = z.output<typeof MonitoringSchema>;
export type Thresholds = Required<Omit<z.output<typeof ThresholdsSchema>, "lambdaDurationMs">> & {
  readonly lambdaDurationMs?: number;
};

/** Today's values (docs/estate.md), per environment; `logErrorLines` is new (today's error filters have no alarm). */
export const MONITORING_DEFAULTS: Readonly<
  Record<EnvironmentName, { readonly window: number; readonly canaryRate: number; readonly thresholds: Thresholds }>
> = {
  dev: {
    window: 60,
    canaryRate: 60,
    thresholds: {
      ecsCpuPercent: 90,
      ecsMemoryPercent: 90,
      lambdaErrors: 5,
      lambdaThrottles: 10,
      alb5xx: 20,
      rdsCpuPercent: 90,
      rdsFreeStorageGiB: 5,
      rdsConnectionsPercent: 90,
      cloudFront5xxPercent: 5,
      cloudFront4xxPercent: 10,
      logErrorLines: 20,
    },
  },
  stg: {
    window: 30,
    canaryRate: 30,
    thresholds: {
      ecsCpuPercent: 85,
      ecsMemoryPercent: 85,
      lambdaErrors: 3,
      lambdaThrottles: 5,
      alb5xx: 10,
      rdsCpuPercent: 85,
      rdsFreeStorageGiB: 5,
      rdsConnectionsPercent: 85,
      cloudFront5xxPercent: 3,
      cloudFront4xxPercent: 8,
      logErrorLines: 10,
    },
  },
  lmn: {
    window: 15,
    canaryRate: 15,
    thresholds: {
      ecsCpuPercent: 80,
      ecsMemoryPercent: 85,
      lambdaErrors: 1,
      lambdaThrottles: 1,
      alb5xx: 5,
      rdsCpuPercent: 80,
      rdsFreeStorageGiB: 10,
      rdsConnectionsPercent: 80,
      cloudFront5xxPercent: 1,
      cloudFront4xxPercent: 5,
      logErrorLines: 5,
    },
  },
};

/** The monitoring a stack runs with: toggles settled, every threshold known. */
export interface MonitoringConfig {
  readonly enabled: boolean;
  readonly alarms: boolean;
  readonly dashboards: boolean;
  readonly metricFilters: boolean;
  readonly canary: boolean;
  readonly notificationsEnabled: boolean;
  readonly alertTopic: { readonly arn?: string; readonly name?: string };
  readonly dashboardPeriodSeconds: number;
  /** Whether the site's health check measures latency (fixed at its creation). */
  readonly healthCheckMeasuresLatency: boolean;
  /** Evaluation periods of 5 minutes that make the unhealthy window (at least 1). */
  readonly evaluationPeriods: number;
  readonly unhealthyWindowMinutes: number;
  readonly canaryRateMinutes: number;
  readonly thresholds: Thresholds;
}

export function resolveMonitoring(
  input: MonitoringInput,
  env: { readonly name: EnvironmentName; readonly production: boolean },
): MonitoringConfig {
  const defaults = MONITORING_DEFAULTS[env.name];
  const window = input.unhealthyWindowMinutes ?? defaults.window;
  const given = Object.fromEntries(Object.entries(input.thresholds).filter(([, v]) => v !== undefined));
  return {
    enabled: input.enabled,
    alarms: input.alarms,
    dashboards: input.dashboards,
    metricFilters: input.metricFilters,
    canary: input.canary ?? env.production,
    notificationsEnabled: input.notificationsEnabled ?? env.production,
    alertTopic: { ...input.alertTopic },
    dashboardPeriodSeconds: input.dashboardPeriodSeconds,
    healthCheckMeasuresLatency: input.healthCheckMeasuresLatency,
    evaluationPeriods: Math.max(1, Math.ceil(window / 5)),
    unhealthyWindowMinutes: window,
    canaryRateMinutes: input.canaryRateMinutes ?? defaults.canaryRate,
    thresholds: { ...defaults.thresholds, ...given },
  };
}

/** The period (seconds) of the ECS services' CPU, memory and running-task alarms. */
export const SERVICE_ALARM_PERIOD_SECONDS = 300;

/**
 * The longest evaluation window (minutes: evaluationPeriods × period) of the
 * alarms that roll an ECS deployment back: CPU, memory and running tasks, each
 * over the unhealthy window in 5-minute periods (a load balancer's 5xx alarm
 * evaluates one period). ECS's bake time follows from it (lib/rollout.ts).
 */
export function deploymentAlarmWindowMinutes(cfg: MonitoringConfig): number {
  return (cfg.evaluationPeriods * SERVICE_ALARM_PERIOD_SECONDS) / 60;
}
