/**
 * What each service's logs are counted for (issue 7 §4): its error and fatal
 * lines, and the application events that mean a user was let down. Every
 * metric here has an alarm that joins its service's composite; a metric nobody
 * watches (ESTATE finding 15's `TransactionFailures`) is not made.
 *
 * Patterns use CloudWatch Logs filter syntax:
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html
 */
import type { EnvironmentName } from "../../config/environments";

export interface LogMetric {
  /** The filter's and alarm's name stem: `<service>-<suffix>-<env>`. */
  readonly suffix: string;
  /** The metric in the service's namespace (`logMetricNamespace`). */
  readonly metricName: string;
  readonly pattern: string;
  /** Says what a match means, for the alarm's description. */
  readonly meaning: string;
  /**
   * `errors`: the environment's `logErrorLines` threshold, sustained over the
   * unhealthy window (a few error lines are noise). `event`: any one match in
   * 5 minutes alarms (each is a failed margin call, order or notification).
   */
  readonly kind: "errors" | "event";
}

/** Where a service's log metrics are published: one namespace per stack and service. */
export function logMetricNamespace(env: EnvironmentName, service: string): string {
  return `Lumerin/${env}/${service}`;
}

/**
 * Error and fatal lines of the Go proxy (zap, JSON: `LOG_JSON=true`), whose
 * levels are strings; `dpanic`/`panic`/`fatal` end or corrupt the process.
 */
const ZAP_ERROR_LINES: LogMetric = {
  suffix: "error-lines",
  metricName: "ErrorLines",
  pattern: '{ ($.level = "error") || ($.level = "dpanic") || ($.level = "panic") || ($.level = "fatal") }',
  meaning: "error or fatal log lines",
  kind: "errors",
};

/** Error (50) and fatal (60) lines of a Node service logging pino JSON. */
const PINO_ERROR_LINES: LogMetric = {
  suffix: "error-lines",
  metricName: "ErrorLines",
  pattern: "{ $.level >= 50 }",
  meaning: "error or fatal log lines",
  kind: "errors",
};

/**
 * The Lambda's error lines: with `logFormat: JSON`, `console.error` becomes
 * `"level": "ERROR"` (and Lambda's own `FATAL`); pino lines written to stdout
 * keep their numeric level.
 */
const LAMBDA_ERROR_LINES: LogMetric = {
  suffix: "error-lines",
  metricName: "ErrorLines",
  pattern: '{ ($.level = "ERROR") || ($.level = "FATAL") || ($.level >= 50) }',
  meaning: "error or fatal log lines",
  kind: "errors",
};

export type LoggedService = "proxy-router" | "proxy-validator" | "market-maker" | "notifications" | "margin-call";

export const LOG_METRICS: Readonly<Record<LoggedService, readonly LogMetric[]>> = {
  "proxy-router": [ZAP_ERROR_LINES],
  "proxy-validator": [ZAP_ERROR_LINES],
  "market-maker": [
    PINO_ERROR_LINES,
    { suffix: "order-failures", metricName: "OrderFailures", pattern: '"Transaction failed"', meaning: "an order transaction failed", kind: "event" },
    { suffix: "insufficient-funds", metricName: "InsufficientBalance", pattern: '"Insufficient"', meaning: "the market maker's wallet cannot cover an order", kind: "event" },
  ],
  notifications: [
    PINO_ERROR_LINES,
    { suffix: "send-failures", metricName: "SendFailures", pattern: '"Failed to send"', meaning: "a notification was not delivered", kind: "event" },
  ],
  "margin-call": [
    LAMBDA_ERROR_LINES,
    { suffix: "failed-calls", metricName: "FailedMarginCalls", pattern: '"Failed to"', meaning: "a margin call was not carried out", kind: "event" },
  ],
};
