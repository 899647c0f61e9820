/**
 * What each service's logs are counted for: its error and fatal
 * lines, and the application events that mean a user was let down. Every
 * metric here has an alarm that joins its service's composite; a metric nobody
 * watches (`TransactionFailures`, docs/estate.md#flaw-monitoring-gaps) is not made.
 *
 * Patterns use CloudWatch Logs filter syntax:
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html
 */
import { LOG_ALARM_SUFFIX, LogAlarmSuffix } from "../../lib/naming";

/** One thing a service's log lines are counted for: a metric filter and the alarm of its metric. */
export interface LogMetric {
  /** The filter's and the alarm's name stem: both are `<service>-<suffix>-<env>`. */
  readonly suffix: LogAlarmSuffix;
  /** The metric in the service's namespace (`logMetricNamespace` in lib/naming.ts), e.g. `ErrorLines`. */
  readonly metricName: string;
  /** The CloudWatch Logs filter pattern whose every match counts 1. */
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

/** Error and fatal lines of a service, as its log format writes them: one metric, `ErrorLines`, for every format. */
function errorLines(pattern: string): LogMetric {
  return {
    suffix: LOG_ALARM_SUFFIX.errorLines,
    metricName: "ErrorLines",
    pattern,
    meaning: "error or fatal log lines",
    kind: "errors",
  };
}

/**
 * Error and fatal lines of the Go proxy: zap's production JSON encoder
 * (`LOG_IS_PROD=true`, `LOG_JSON=true`) writes lower-case string levels;
 * `dpanic`/`panic`/`fatal` are rarer than `error` but worse.
 */
const ZAP_ERROR_LINES = errorLines(
  '{ ($.level = "error") || ($.level = "dpanic") || ($.level = "panic") || ($.level = "fatal") }',
);

/**
 * A Go runtime panic: the proxy has no `recover()`, so a panic prints plain
 * text (`panic: ...` and goroutine stacks) outside zap and the task dies. ECS
 * restarts it, so the running-task alarm may never see the gap.
 */
const GO_PANICS: LogMetric = {
  suffix: LOG_ALARM_SUFFIX.crashes,
  metricName: "Crashes",
  pattern: '"panic: "',
  meaning: "a Go runtime panic ended the process",
  kind: "event",
};

/** Error (50) and fatal (60) lines of a Node service logging pino JSON (numeric `level`). */
const PINO_ERROR_LINES = errorLines("{ $.level >= 50 }");

/**
 * The margin-call Lambda's error lines. It logs with pino straight to stdout
 * (numeric levels pass through as written) and its handler's catch uses
 * `console.error`, which Lambda's JSON log format turns into `"level": "ERROR"`.
 */
const LAMBDA_ERROR_LINES = errorLines('{ ($.level = "ERROR") || ($.level = "FATAL") || ($.level >= 50) }');

/** The services whose log formats and application events `LOG_METRICS` knows (the keys of their composites). */
export type LoggedService = "proxy-router" | "proxy-validator" | "market-maker" | "notifications" | "margin-call";

/**
 * The application events come from the apps' code (futures-marketplace and
 * proxy-router as of early 2026), not from today's Terraform filters: its
 * `Transaction failed`, `Sending margin` and space-delimited `Found * participants`
 * patterns match nothing the apps log.
 */
export const LOG_METRICS: Readonly<Record<LoggedService, readonly LogMetric[]>> = {
  "proxy-router": [ZAP_ERROR_LINES, GO_PANICS],
  "proxy-validator": [ZAP_ERROR_LINES, GO_PANICS],
  "market-maker": [
    PINO_ERROR_LINES,
    // A run that throws (an order or deposit transaction that fails) ends in `console.error("Market Maker failed", error)`.
    {
      suffix: LOG_ALARM_SUFFIX.orderFailures,
      metricName: "OrderFailures",
      pattern: '"Market Maker failed"',
      meaning: "a market-making run failed (an order or deposit transaction did not go through)",
      kind: "event",
    },
    // `Insufficient ETH for gas: ...` / `Insufficient USDC: ...` at pino warn: the run stops without trading.
    // Matched on the JSON `msg` only: the run's summary line repeats the text.
    {
      suffix: LOG_ALARM_SUFFIX.insufficientFunds,
      metricName: "InsufficientBalance",
      pattern: '{ $.msg = "Insufficient*" }',
      meaning: "the market maker's wallet cannot pay for gas or cover its orders",
      kind: "event",
    },
  ],
  notifications: [
    PINO_ERROR_LINES,
    // grammY's errors, logged by Fastify's error handler: `Call to 'sendMessage' failed! (...)` or `Network request for 'sendMessage' failed!`.
    {
      suffix: LOG_ALARM_SUFFIX.sendFailures,
      metricName: "SendFailures",
      pattern: `"'sendMessage' failed"`,
      meaning: "a Telegram notification was not delivered",
      kind: "event",
    },
  ],
  "margin-call": [
    LAMBDA_ERROR_LINES,
    // A margin call that throws (simulate, write or receipt) is logged only by the handler's catch.
    {
      suffix: LOG_ALARM_SUFFIX.failedCalls,
      metricName: "FailedMarginCalls",
      pattern: '"Error in margin call handler"',
      meaning: "a margin-call run failed",
      kind: "event",
    },
    // The alert to the notifications service did not go out: wallets in deficit were not told.
    {
      suffix: LOG_ALARM_SUFFIX.failedAlerts,
      metricName: "FailedDeficitAlerts",
      pattern: '"Failed to send deficit alerts"',
      meaning: "deficit alerts were not sent to the notifications service",
      kind: "event",
    },
  ],
};

/**
 * The market maker as a Lambda (`runtime: lambda`) writes through Lambda's JSON log format, like
 * the margin call: `console.error` lines become `"level": "ERROR"`, pino lines pass through. Its
 * application events are the same as on ECS.
 */
export const MARKET_MAKER_FUNCTION_LOG_METRICS: readonly LogMetric[] = [
  LAMBDA_ERROR_LINES,
  ...LOG_METRICS["market-maker"].filter((m) => m.kind === "event"),
];
