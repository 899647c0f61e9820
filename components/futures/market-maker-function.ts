import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import type { MarketMakerConfig } from "../../config/futures";
import { AwsContext } from "../../lib/iam";
import { isSecretLookingName, secretLookingValue } from "../../lib/secret-patterns";
import {
  FunctionArtifact,
  FunctionNetwork,
  FunctionSchedule,
  ONE_RUN_AT_A_TIME,
  RetryLimits,
  ScheduledFunctionArgs,
  ScheduledFunctionNames,
  rateExpression,
  scheduledFunction,
} from "./scheduled-function";

/**
 * Physical names (the live function of February 2026), from `futuresNames(env).marketMakerLambda`:
 * the function `market-maker-{env}`, its role `market-maker-lambda-role-{env}` with the inline policy
 * `market-maker-secrets-access`, its security group `market-maker-lambda-{env}`, its log group
 * `/aws/lambda/market-maker-{env}`, and its failure queue (new) `market-maker-failures-{env}`.
 */
export interface MarketMakerFunctionNames extends ScheduledFunctionNames {
  /** `market-maker-schedule-{env}`. */
  readonly scheduleRule: string;
  /** `market-maker-lambda`. */
  readonly scheduleTargetId: string;
  /** The rule's invoke statement: `AllowExecutionFromCloudWatch`. */
  readonly scheduleStatementId: string;
}

/** The code a new function gets when no artifact is configured: it fails every run, loudly. */
export const MARKET_MAKER_PLACEHOLDER_HANDLER = path.join(__dirname, "market-maker-placeholder", "index.js");

/** Asynchronous retries of a failed run: none (a stale trading run is worse than the next fresh one). */
export const MARKET_MAKER_RETRY_ATTEMPTS = 0;
/** Reserved concurrency 0: Lambda throttles every invocation, so the function never runs. */
export const NO_RUN = 0;
/** EventBridge's retries of a failed delivery, within the event's age. */
export const MARKET_MAKER_DELIVERY_RETRY_ATTEMPTS = 2;

/** The config's settings of the function as they are (`futures.marketMaker.lambda`, documented and range-checked there). */
type LambdaConfig = MarketMakerConfig["lambda"];

/**
 * The function's arguments. Its schedule, timeout and memory come from the config as they are
 * (`futures.marketMaker.lambda`): `scheduleMinutes`, `timeoutSeconds` (at most the interval:
 * a run ends before the next is due) and `memoryMb`; its logging from `futures.marketMaker`:
 * `logLevel` (Lambda's own filter on the application's JSON log lines,
 * `loggingConfig.applicationLogLevel`) and `logRetentionDays`.
 */
export interface MarketMakerFunctionArgs
  extends
    Pick<LambdaConfig, "scheduleMinutes" | "timeoutSeconds" | "memoryMb">,
    Pick<MarketMakerConfig, "logLevel" | "logRetentionDays"> {
  /** Account, region and partition for the ARNs in the role's policy. */
  readonly aws: AwsContext;
  /** The function's ENIs go into the private (middle) subnets, its security group into the VPC. */
  readonly network: FunctionNetwork;
  /** Physical names: `futuresNames(env).marketMakerLambda`. */
  readonly names: MarketMakerFunctionNames;
  /** The bot's plain settings (chain, contracts, trading parameters); the component adds `SECRETS_ARN` and refuses anything secret-looking. */
  readonly environment: Readonly<Record<string, string>>;
  /** The secret with the wallet key, RPC and subgraph URLs; the function reads it at run time by ARN. */
  readonly secretArn: pulumi.Input<string>;
  /** The key that encrypts that secret: the role may decrypt with it only through Secrets Manager. */
  readonly secretsKmsKeyArn: pulumi.Input<string>;
  /**
   * The security group's description. EC2 cannot change a description, so adopting the live
   * group (`Security group for Market Maker Lambda`) needs its text.
   * @default "<function>: no inbound; HTTPS out"
   */
  readonly securityGroupDescription?: LambdaConfig["securityGroupDescription"];
  /**
   * The function's first code: a zip in S3. The pipeline owns the code afterwards.
   * @default a placeholder that fails every run ({@link MARKET_MAKER_PLACEHOLDER_HANDLER})
   */
  readonly artifact?: FunctionArtifact;
  /**
   * Nothing runs the function: for while its secret's value is still to be put in out of band
   * (declared `pending`), when every run would fail reading it. No execution is reserved (0:
   * Lambda throttles any invocation; an account still at the default limit of 10 accepts it),
   * and the schedule's rule has no target and no invoke permission, so no throttled event fills
   * the failure queue. Back to `false`, the reservation returns to 1 and the target and the
   * permission are created. The rule's state is left alone: the provider ignores a state that
   * goes from stated to absent, so a rule disabled while paused would stay disabled.
   * @default false
   */
  readonly paused?: boolean;
}

/**
 * The market maker as the scheduled Lambda the live estate runs since February 2026: Node.js 22
 * in the private subnets, on one EventBridge schedule, one run at a time (reserved concurrency 1:
 * two runs would trade with the same wallet at once). Built like the margin call: a
 * least-privilege inline role, failed runs kept in a queue, the wallet key read from its secret at
 * run time (`SECRETS_ARN`), never in the environment, and code that belongs to the application's
 * pipeline (`pulumi up` never reverts an upload).
 */
export class MarketMakerFunction extends pulumi.ComponentResource {
  readonly function: aws.lambda.Function;
  readonly role: aws.iam.Role;
  readonly securityGroup: aws.ec2.SecurityGroup;
  readonly logGroup: aws.cloudwatch.LogGroup;
  readonly failureQueue: aws.sqs.Queue;
  readonly scheduleRule: aws.cloudwatch.EventRule;
  /** `market-maker-{env}`: the futures deploy role's `lambda:UpdateFunctionCode` target, a GitHub variable. */
  readonly functionName: pulumi.Output<string>;
  /** The unqualified function ARN (the deploy role's grant is on exactly this). */
  readonly functionArn: pulumi.Output<string>;
  readonly logGroupName: pulumi.Output<string>;
  readonly failureQueueName: pulumi.Output<string>;

  constructor(name: string, args: MarketMakerFunctionArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lumerin:futures:MarketMakerFunction", name, {}, opts);
    validate(args);
    const parts = scheduledFunction(name, marketMakerFunction(args), this);
    this.function = parts.function;
    this.role = parts.role;
    this.securityGroup = parts.securityGroup;
    this.logGroup = parts.logGroup;
    this.failureQueue = parts.failureQueue;
    [this.scheduleRule] = parts.rules;

    this.functionName = this.function.name;
    this.functionArn = this.function.arn;
    this.logGroupName = this.logGroup.name;
    this.failureQueueName = this.failureQueue.name;
    this.registerOutputs({
      functionName: this.functionName,
      functionArn: this.functionArn,
      logGroupName: this.logGroupName,
      failureQueueName: this.failureQueueName,
    });
  }
}

/** The market maker as a scheduled function: its settings, its retries, its one schedule. */
export function marketMakerFunction(args: MarketMakerFunctionArgs): ScheduledFunctionArgs {
  return {
    aws: args.aws,
    network: args.network,
    names: args.names,
    description: "Automated market maker for futures trading",
    egressDescription: "RPC, subgraphs and Secrets Manager, over HTTPS",
    securityGroupDescription: args.securityGroupDescription,
    timeoutSeconds: args.timeoutSeconds,
    memoryMb: args.memoryMb,
    // Two runs never trade with the same wallet at once; paused, none runs at all.
    reservedConcurrency: args.paused ? NO_RUN : ONE_RUN_AT_A_TIME,
    // The wallet key, RPC and subgraph URLs stay in the secret: the function reads it by ARN.
    environment: args.environment,
    logLevel: args.logLevel,
    logRetentionDays: args.logRetentionDays,
    secretArn: args.secretArn,
    secretsKmsKeyArn: args.secretsKmsKeyArn,
    placeholderHandler: MARKET_MAKER_PLACEHOLDER_HANDLER,
    artifact: args.artifact,
    // A run that fails is not retried: the next scheduled run trades on fresh prices.
    runRetries: { ...oneInterval(args.scheduleMinutes), maximumRetryAttempts: MARKET_MAKER_RETRY_ATTEMPTS },
    // An event older than one interval is dropped into the queue: the next run is already due.
    deliveryRetries: {
      ...oneInterval(args.scheduleMinutes),
      maximumRetryAttempts: MARKET_MAKER_DELIVERY_RETRY_ATTEMPTS,
    },
    schedules: [marketMakerSchedule(args)],
  };
}

/** `<name>-schedule`: one market-making run every `scheduleMinutes` (a rule that invokes nothing while paused). */
export function marketMakerSchedule(
  args: Pick<MarketMakerFunctionArgs, "names" | "scheduleMinutes" | "paused">,
): FunctionSchedule {
  const minutes = args.scheduleMinutes;
  return {
    key: "schedule",
    ruleName: args.names.scheduleRule,
    description: `Every ${minutes === 1 ? "minute" : `${minutes} minutes`}: one market-making run`,
    expression: rateExpression(minutes),
    targetId: args.names.scheduleTargetId,
    statementId: args.names.scheduleStatementId,
    ...(args.paused ? { invokes: false } : {}),
  };
}

/** An event's useful age: one interval, and at least the minute EventBridge and Lambda require. */
function oneInterval(minutes: number): Pick<RetryLimits, "maximumEventAgeInSeconds"> {
  return { maximumEventAgeInSeconds: Math.max(60, minutes * 60) };
}

/**
 * What the config's schema cannot check: the timeout against the interval, and nothing secret in
 * the environment (the ranges of the interval, the timeout and the memory are the schema's).
 */
function validate(args: MarketMakerFunctionArgs): void {
  const where = args.names.function;
  const problems: string[] = [];
  if (args.timeoutSeconds > args.scheduleMinutes * 60)
    problems.push(
      `timeoutSeconds ${args.timeoutSeconds} exceeds the ${args.scheduleMinutes}-minute interval: a run must end before the next is due`,
    );
  for (const [key, value] of Object.entries(args.environment)) {
    if (key === "SECRETS_ARN") problems.push("SECRETS_ARN is set by the component");
    else if (isSecretLookingName(key))
      problems.push(`environment ${key} is named like a secret: it belongs in the secret`);
    else {
      const secret = secretLookingValue(value);
      if (secret) problems.push(`environment ${key} looks like ${secret}: it belongs in the secret`);
    }
  }
  if (problems.length > 0) throw new Error(`${where}: ${problems.join("; ")}`);
}
