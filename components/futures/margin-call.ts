import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import type { MarginCallConfig } from "../../config/futures";
import { AwsContext } from "../../lib/iam";
import { isSecretLookingName, secretLookingValue } from "../../lib/secret-patterns";
import { appSecret } from "../service-parts";
import {
  FunctionArtifact,
  FunctionNetwork,
  FunctionSchedule,
  ONE_RUN_AT_A_TIME,
  ScheduledFunctionArgs,
  ScheduledFunctionNames,
  plural,
  rateExpression,
  scheduledFunction,
} from "./scheduled-function";

/**
 * Physical names (docs/estate.md: the live `-v2` function and its rules), from `futuresNames(env).marginCall`:
 * the function `margin-call-v2-{env}`, its role `margin-call-lambda-role-v2-{env}` with the inline policy
 * `margin-call-secrets-access` (the live name), its security group `margin-call-lambda-v2-{env}`, its log
 * group `/aws/lambda/margin-call-v2-{env}`, and its failure queue (new; `{app}-{env}`) `margin-call-failures-{env}`.
 */
export interface MarginCallNames extends ScheduledFunctionNames {
  /** The secret with the RPC and subgraph URLs: `margin-call-secrets-v3-{env}`. */
  readonly secret: string;
  /** The regular schedule's rule: `margin-call-schedule-v2-{env}`. */
  readonly scheduleRule: string;
  /** The regular schedule's target id: `margin-call-lambda-v2`. */
  readonly scheduleTargetId: string;
  /** The daily rule: `margin-call-daily-schedule-v2-{env}`. */
  readonly dailyRule: string;
  /** The daily rule's target id: `margin-call-lambda-daily-v2`. */
  readonly dailyTargetId: string;
  /** The regular rule's invoke statement on the function: `AllowExecutionFromCloudWatch` (the live id). */
  readonly scheduleStatementId: string;
  /** The daily rule's invoke statement: `AllowExecutionFromCloudWatchDaily` (the live id). */
  readonly dailyStatementId: string;
}

/** JSON keys of `margin-call-secrets-v3-{env}`: the RPC URL and the subgraph URL (it embeds the Graph API key). */
export const MARGIN_CALL_SECRET_KEYS = ["eth_node_url", "futures_subgraph_url"] as const;
export type MarginCallSecretKey = (typeof MARGIN_CALL_SECRET_KEYS)[number];

/** The application's log level, as the config spells it. */
export type MarginCallLogLevel = MarginCallConfig["logLevel"];

/**
 * The function's plain settings: what the application reads from its environment
 * besides `SECRETS_ARN` (which the component adds). Nothing secret: the RPC and
 * subgraph URLs are in the secret.
 */
export interface MarginCallEnvironment {
  /** The futures contract, `0x` + 40 hex. */
  readonly FUTURES_ADDRESS: string;
  /** The hashrate oracle contract, `0x` + 40 hex. */
  readonly HASHRATE_ORACLE_ADDRESS: string;
  /** The Multicall3 contract, `0x` + 40 hex. */
  readonly MULTICALL_ADDRESS: string;
  /**
   * `https://notifyint.<zone>/notifications`, from the same host name as the DNS
   * record. HTTPS only (the security group opens nothing else). Absent when the
   * notifications service is switched off.
   */
  readonly NOTIFICATIONS_SERVICE_URL?: string;
  /** The application's log level; equal to {@link MarginCallArgs.logLevel}. */
  readonly LOG_LEVEL: MarginCallLogLevel;
  /** Margin utilisation (percent) above which a position gets a warning, e.g. `"80"`. */
  readonly MARGIN_UTILIZATION_WARNING_PERCENT: string;
}

/** The input of the daily run. */
export const DAILY_INPUT = { executeMarginCall: true } as const;

/** Asynchronous retries of a failed run (Lambda's maximum is 2), before the event goes to the failure queue. */
export const MAX_RETRY_ATTEMPTS = 2;
/**
 * How long an event may wait (throttled behind a long run, or between retries) or
 * EventBridge may keep trying to deliver it, before it goes to the failure queue.
 * One hour: a margin check older than that is better replayed by a person than run late.
 */
export const MAX_EVENT_AGE_SECONDS = 3600;
/** EventBridge's own maximum of delivery retries: within the hour, delivery is tried as often as EventBridge allows. */
export const DELIVERY_RETRY_ATTEMPTS = 185;

/** The code a new function gets when no artifact is configured: it fails every run, loudly. */
export const PLACEHOLDER_HANDLER = path.join(__dirname, "margin-call-placeholder", "index.js");

/**
 * The margin call's arguments. Timing, memory and logging come from the config as they are
 * (`futures.marginCall`, whose schema documents and range-checks them): `timeoutSeconds`,
 * `memoryMb`, `intervalMinutes`, `logLevel` (Lambda's own filter on the application's JSON log
 * lines, `loggingConfig.applicationLogLevel`: lines below it never reach CloudWatch; it must equal
 * `environment.LOG_LEVEL`) and `logRetentionDays`. With reserved concurrency 1, a run that
 * outlasts `intervalMinutes` delays the next one.
 */
export interface MarginCallArgs extends Pick<
  MarginCallConfig,
  "timeoutSeconds" | "memoryMb" | "intervalMinutes" | "logLevel" | "logRetentionDays"
> {
  /** Account, region and partition for the ARNs in the role's policy and the invoke permissions. */
  readonly aws: AwsContext;
  /** Where the function runs: its ENIs go into the private subnets (RPC, subgraph, Secrets Manager and the notifications ALB), its security group into the VPC. */
  readonly network: FunctionNetwork;
  /** Physical names: `futuresNames(env).marginCall`. */
  readonly names: MarginCallNames;
  /**
   * Executions reserved for the function (1: runs never overlap); `null` reserves none, for an
   * account still at Lambda's default limit of 10, which refuses any reservation.
   * @default 1
   */
  readonly reservedConcurrency?: MarginCallConfig["reservedConcurrency"];
  /**
   * The daily run with `{"executeMarginCall": true}`, UTC: `cron(<minute> <hour> * * ? *)`.
   * Example: `{ hour: 0, minute: 30 }` (the config's `dailyHour` and `dailyMinute`).
   */
  readonly daily: {
    /** Hour, 0 to 23 (UTC). */
    readonly hour: MarginCallConfig["dailyHour"];
    /** Minute, 0 to 59. */
    readonly minute: MarginCallConfig["dailyMinute"];
  };
  /** Plain, non-secret settings; the component adds `SECRETS_ARN` and refuses anything that looks secret. */
  readonly environment: MarginCallEnvironment;
  /** The platform CMK: it encrypts the secret; the role may decrypt with it only through Secrets Manager. */
  readonly secretsKmsKeyArn: pulumi.Input<string>;
  /**
   * Values from `pulumi config set --secret` (Pulumi secrets), written as one JSON
   * secret version.
   * @default none: the secret is created empty and filled out of band (`aws secretsmanager put-secret-value`)
   */
  readonly secretValues?: Readonly<Record<MarginCallSecretKey, pulumi.Input<string>>>;
  /**
   * The function's first code: a zip in S3 (same region as the function). Either way the
   * application's pipeline owns the code afterwards; changing this later changes nothing
   * (`PIPELINE_OWNED_PROPERTIES` are ignored).
   * @default a placeholder that fails every run ({@link PLACEHOLDER_HANDLER})
   */
  readonly artifact?: FunctionArtifact;
  /** Production: `protect` the secret, and keep it 30 days after deletion (7 otherwise). */
  readonly protect: boolean;
  /**
   * Whether the two schedules invoke the function. Off while the secret's value is
   * still to be put in out of band: every run would fail reading it.
   * @default true
   */
  readonly schedulesEnabled?: boolean;
  /**
   * The security group's description. EC2 cannot change a description, so adopting the live
   * group (`Security group for Margin Call Lambda`) needs its text.
   * @default "<function>: no inbound; HTTPS out"
   */
  readonly securityGroupDescription?: MarginCallConfig["securityGroupDescription"];
}

/**
 * The margin-call Lambda: Node.js 22 in the private
 * subnets, one run at a time (reserved concurrency 1, unless configured otherwise), on two EventBridge
 * schedules, each allowed to invoke it by its own ARN. Asynchronous failures
 * are retried, then kept in an encrypted SQS queue, as are events EventBridge
 * could not deliver: a failed run is never lost silently. The RPC and subgraph
 * URLs stay in its secret, read at run time by ARN (today they are plain
 * environment variables: docs/estate.md#flaw-plaintext-env). The code belongs to the application:
 * `pulumi up` creates the function and never reverts the pipeline's uploads.
 */
export class MarginCall extends pulumi.ComponentResource {
  readonly function: aws.lambda.Function;
  readonly role: aws.iam.Role;
  readonly securityGroup: aws.ec2.SecurityGroup;
  readonly logGroup: aws.cloudwatch.LogGroup;
  readonly secret: aws.secretsmanager.Secret;
  readonly failureQueue: aws.sqs.Queue;
  readonly scheduleRule: aws.cloudwatch.EventRule;
  readonly dailyRule: aws.cloudwatch.EventRule;

  /** `margin-call-v2-{env}`: the futures deploy role's `lambda:UpdateFunctionCode` target, a GitHub variable. */
  readonly functionName: pulumi.Output<string>;
  /** The unqualified function ARN (the deploy role's grant is on exactly this). */
  readonly functionArn: pulumi.Output<string>;
  readonly roleArn: pulumi.Output<string>;
  /** The function's security group: what the notifications ALB admits on 443. */
  readonly securityGroupId: pulumi.Output<string>;
  readonly logGroupName: pulumi.Output<string>;
  /** Where failed runs and undeliverable events wait (an alarm on its depth belongs to monitoring). */
  readonly failureQueueArn: pulumi.Output<string>;
  readonly failureQueueName: pulumi.Output<string>;
  readonly failureQueueUrl: pulumi.Output<string>;
  readonly scheduleRuleName: pulumi.Output<string>;
  readonly scheduleRuleArn: pulumi.Output<string>;
  readonly dailyRuleName: pulumi.Output<string>;
  readonly dailyRuleArn: pulumi.Output<string>;
  /** `SECRETS_ARN`: the one secret the function reads. */
  readonly secretArn: pulumi.Output<string>;

  constructor(name: string, args: MarginCallArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lumerin:futures:MarginCall", name, {}, opts);
    validate(args);
    this.secret = marginCallSecret(name, args, this);
    const parts = scheduledFunction(name, marginCallFunction(args, this.secret.arn), this);
    this.function = parts.function;
    this.role = parts.role;
    this.securityGroup = parts.securityGroup;
    this.logGroup = parts.logGroup;
    this.failureQueue = parts.failureQueue;
    [this.scheduleRule, this.dailyRule] = parts.rules;

    this.functionName = this.function.name;
    this.functionArn = this.function.arn;
    this.roleArn = this.role.arn;
    this.securityGroupId = this.securityGroup.id;
    this.logGroupName = this.logGroup.name;
    this.failureQueueArn = this.failureQueue.arn;
    this.failureQueueName = this.failureQueue.name;
    this.failureQueueUrl = this.failureQueue.url;
    this.scheduleRuleName = this.scheduleRule.name;
    this.scheduleRuleArn = this.scheduleRule.arn;
    this.dailyRuleName = this.dailyRule.name;
    this.dailyRuleArn = this.dailyRule.arn;
    this.secretArn = this.secret.arn;

    this.registerOutputs({
      functionName: this.functionName,
      functionArn: this.functionArn,
      roleArn: this.roleArn,
      securityGroupId: this.securityGroupId,
      logGroupName: this.logGroupName,
      failureQueueArn: this.failureQueueArn,
      failureQueueName: this.failureQueueName,
      failureQueueUrl: this.failureQueueUrl,
      scheduleRuleName: this.scheduleRuleName,
      scheduleRuleArn: this.scheduleRuleArn,
      dailyRuleName: this.dailyRuleName,
      dailyRuleArn: this.dailyRuleArn,
      secretArn: this.secretArn,
    });
  }
}

/** `<name>-secret` (and `<name>-secret-value` when values are given): the RPC and subgraph URLs, read at run time. */
export function marginCallSecret(
  name: string,
  args: Pick<MarginCallArgs, "names" | "secretsKmsKeyArn" | "secretValues" | "protect">,
  parent: pulumi.Resource,
): aws.secretsmanager.Secret {
  return appSecret(
    name,
    {
      secretName: args.names.secret,
      description: `margin call: ${MARGIN_CALL_SECRET_KEYS.join(", ")} (read by the function at run time)`,
      kmsKeyArn: args.secretsKmsKeyArn,
      values: args.secretValues,
      protect: args.protect,
    },
    parent,
  );
}

/** The margin call as a scheduled function: its settings, its retries, its two schedules. */
export function marginCallFunction(args: MarginCallArgs, secretArn: pulumi.Input<string>): ScheduledFunctionArgs {
  return {
    aws: args.aws,
    network: args.network,
    names: args.names,
    description: "Checks futures margins; warns and triggers margin calls",
    egressDescription: "RPC, subgraph, Secrets Manager and the notifications endpoint, over HTTPS",
    securityGroupDescription: args.securityGroupDescription,
    timeoutSeconds: args.timeoutSeconds,
    memoryMb: args.memoryMb,
    // With 1, two runs never overlap: a run that outlasts the interval delays the next instead of racing it.
    reservedConcurrency: args.reservedConcurrency === undefined ? ONE_RUN_AT_A_TIME : args.reservedConcurrency,
    environment: definedOnly(args.environment),
    logLevel: args.logLevel,
    logRetentionDays: args.logRetentionDays,
    secretArn,
    secretsKmsKeyArn: args.secretsKmsKeyArn,
    placeholderHandler: PLACEHOLDER_HANDLER,
    artifact: args.artifact,
    runRetries: { maximumRetryAttempts: MAX_RETRY_ATTEMPTS, maximumEventAgeInSeconds: MAX_EVENT_AGE_SECONDS },
    deliveryRetries: { maximumRetryAttempts: DELIVERY_RETRY_ATTEMPTS, maximumEventAgeInSeconds: MAX_EVENT_AGE_SECONDS },
    schedules: marginCallSchedules(args),
  };
}

/** The regular schedule (`<name>-schedule`) and the daily one with {@link DAILY_INPUT} (`<name>-daily`). */
export function marginCallSchedules(
  args: Pick<MarginCallArgs, "names" | "intervalMinutes" | "daily" | "schedulesEnabled">,
): FunctionSchedule[] {
  const { names, daily } = args;
  // Stated either way: the provider keeps a rule's last state when the input is absent.
  const state = (args.schedulesEnabled ?? true) ? "ENABLED" : "DISABLED";
  return [
    {
      key: "schedule",
      ruleName: names.scheduleRule,
      description: `Every ${plural(args.intervalMinutes, "minute")}: check margins`,
      expression: rateExpression(args.intervalMinutes),
      state,
      targetId: names.scheduleTargetId,
      statementId: names.scheduleStatementId,
    },
    {
      key: "daily",
      ruleName: names.dailyRule,
      description: `Daily at ${pad(daily.hour)}:${pad(daily.minute)} UTC: execute margin calls`,
      expression: dailyExpression(daily.hour, daily.minute),
      state,
      targetId: names.dailyTargetId,
      statementId: names.dailyStatementId,
      input: JSON.stringify(DAILY_INPUT),
    },
  ];
}

/** EventBridge's six-field cron, every day at `hour:minute` UTC: `cron(30 0 * * ? *)`. */
export function dailyExpression(hour: number, minute: number): string {
  return `cron(${minute} ${hour} * * ? *)`;
}

/**
 * What the config's schema cannot check: LOG_LEVEL against the log level, HTTPS for the
 * notifications URL (the security group opens 443 only), and nothing secret in the environment
 * (the ranges of the timing and the memory are the schema's).
 */
function validate(args: MarginCallArgs): void {
  const where = args.names.function;
  const problems: string[] = [];
  if (args.environment.LOG_LEVEL !== args.logLevel)
    problems.push(`environment.LOG_LEVEL (${args.environment.LOG_LEVEL}) and logLevel (${args.logLevel}) differ`);
  const url = args.environment.NOTIFICATIONS_SERVICE_URL;
  if (url !== undefined && !url.startsWith("https://"))
    problems.push(`NOTIFICATIONS_SERVICE_URL ${url} must be https:// (the security group opens 443 only)`);
  for (const [key, value] of Object.entries(args.environment as unknown as Record<string, unknown>)) {
    if (value === undefined) continue;
    if (key === "SECRETS_ARN") problems.push("SECRETS_ARN is set by the component");
    else if (isSecretLookingName(key))
      problems.push(`environment ${key} is named like a secret: put it in ${args.names.secret}`);
    else if (typeof value !== "string") problems.push(`environment ${key} must be a string`);
    else {
      const secret = secretLookingValue(value);
      if (secret) problems.push(`environment ${key} looks like ${secret}: put it in ${args.names.secret}`);
    }
  }
  if (problems.length > 0) throw new Error(`${where}: ${problems.join("; ")}`);
  if (args.timeoutSeconds > args.intervalMinutes * 60) {
    // Not an error, but the schedule would throttle (reserved concurrency 1) or overlap (none): say so.
    pulumi.log.warn(
      args.reservedConcurrency === null
        ? `${where}: the timeout (${args.timeoutSeconds} s) exceeds the interval (${args.intervalMinutes} min) and no concurrency is reserved; a run that long overlaps the next`
        : `${where}: the timeout (${args.timeoutSeconds} s) exceeds the interval (${args.intervalMinutes} min); a run that long delays the next (throttled and retried), never overlaps it`,
    );
  }
}

/** `{ KEY: undefined }` means "not set": Lambda takes strings only. */
function definedOnly(environment: MarginCallEnvironment): Record<string, string> {
  return Object.fromEntries(Object.entries(environment).filter((e): e is [string, string] => e[1] !== undefined));
}

function pad(n: number): string {
  return String(n).padStart(2, "0");
}
