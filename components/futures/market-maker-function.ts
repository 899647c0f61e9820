import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { AwsContext, denyWithoutTls, policyDocument, resourcePolicyDocument, serviceTrust } from "../../lib/iam";
import { isSecretLookingName, secretLookingValue } from "../../lib/secret-patterns";
import { addSecurityGroupRules } from "../container-service";
import {
  FAILURE_RETENTION_SECONDS,
  MAX_RETRY_ATTEMPTS,
  ONE_RUN_AT_A_TIME,
  PIPELINE_OWNED_PROPERTIES,
  invokeFromRule,
  rateExpression,
  scheduledFunctionStatements,
} from "./margin-call";

/** Physical names (the live function of February 2026), from `futuresNames(env).marketMakerLambda`. */
export interface MarketMakerFunctionNames {
  /** `market-maker-{env}`. */
  readonly function: string;
  /** `market-maker-lambda-role-{env}`. */
  readonly role: string;
  /** The role's inline policy: `market-maker-secrets-access`. */
  readonly rolePolicy: string;
  /** `market-maker-lambda-{env}`. */
  readonly securityGroup: string;
  /** `/aws/lambda/market-maker-{env}`: the name Lambda would pick, so the live group can be adopted. */
  readonly logGroup: string;
  /** `market-maker-schedule-{env}`. */
  readonly scheduleRule: string;
  /** `market-maker-lambda`. */
  readonly scheduleTargetId: string;
  /** The rule's invoke statement: `AllowExecutionFromCloudWatch`. */
  readonly scheduleStatementId: string;
  /** The queue that keeps failed runs (new): `market-maker-failures-{env}`. */
  readonly failureQueue: string;
}

/** The code a new function gets when no artifact is configured: it fails every run, loudly. */
export const MARKET_MAKER_PLACEHOLDER_HANDLER = path.join(__dirname, "market-maker-placeholder", "index.js");

export interface MarketMakerFunctionArgs {
  readonly aws: AwsContext;
  /** The function's ENIs go into the private (middle) subnets, its security group into the VPC. */
  readonly network: { readonly vpcId: pulumi.Input<string>; readonly privateSubnetIds: pulumi.Input<string[]> };
  readonly names: MarketMakerFunctionNames;
  /** Minutes between runs, at least 1: `rate(1 minute)`, `rate(5 minutes)`. */
  readonly scheduleMinutes: number;
  /** Lambda timeout, 1 to 900 s, at most the interval: a run ends before the next is due. */
  readonly timeoutSeconds: number;
  /** Lambda memory, 128 to 10240 MB. */
  readonly memoryMb: number;
  /** The bot's plain settings (chain, contracts, trading parameters); the component adds `SECRETS_ARN` and refuses anything secret-looking. */
  readonly environment: Readonly<Record<string, string>>;
  /** Lambda's own filter on the application's JSON log lines (`loggingConfig.applicationLogLevel`). */
  readonly logLevel: "debug" | "info" | "warn" | "error";
  readonly logRetentionDays: number;
  /** The secret with the wallet key, RPC and subgraph URLs; the function reads it at run time by ARN. */
  readonly secretArn: pulumi.Input<string>;
  /** The key that encrypts that secret: the role may decrypt with it only through Secrets Manager. */
  readonly secretsKmsKeyArn: pulumi.Input<string>;
  /**
   * The security group's description. EC2 cannot change a description, so adopting the live
   * group (`Security group for Market Maker Lambda`) needs its text.
   * @default "<function>: no inbound; HTTPS out"
   */
  readonly securityGroupDescription?: string;
  /** The function's first code: a zip in S3. Absent: a placeholder that fails every run. The pipeline owns the code afterwards. */
  readonly artifact?: { readonly s3Bucket: string; readonly s3Key: string };
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
    const { names } = args;
    const parent = { parent: this };

    this.logGroup = new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      { name: names.logGroup, retentionInDays: args.logRetentionDays },
      parent,
    );
    this.failureQueue = failureQueue(name, names.failureQueue, this);
    this.securityGroup = outboundOnlySecurityGroup(name, args, this);
    this.role = new aws.iam.Role(
      `${name}-role`,
      {
        name: names.role,
        description: `${names.function}: reads its own secret, writes its own logs, keeps failed runs, attaches to its VPC`,
        assumeRolePolicy: serviceTrust("lambda.amazonaws.com", args.aws.accountId, "LambdaAssumesForThisAccountOnly"),
        maxSessionDuration: 3600,
      },
      parent,
    );
    const policy = rolePolicy(name, args, this.role, this.securityGroup, this.failureQueue, this);
    this.function = scheduledFunction(
      name,
      args,
      this.role,
      this.securityGroup,
      this.logGroup,
      [this.logGroup, policy],
      this,
    );

    new aws.lambda.FunctionEventInvokeConfig(
      `${name}-async`,
      {
        functionName: this.function.name,
        // A run that fails is not retried: the next scheduled run trades on fresh prices.
        maximumRetryAttempts: MARKET_MAKER_RETRY_ATTEMPTS,
        maximumEventAgeInSeconds: Math.max(60, args.scheduleMinutes * 60),
        destinationConfig: { onFailure: { destination: this.failureQueue.arn } },
      },
      parent,
    );
    this.scheduleRule = schedule(name, args, this.function, this.failureQueue, this);

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

/** Asynchronous retries of a failed run: none (a stale trading run is worse than the next fresh one). */
export const MARKET_MAKER_RETRY_ATTEMPTS = 0;

function failureQueue(name: string, queueName: string, parent: pulumi.Resource): aws.sqs.Queue {
  // SSE-SQS: both writers (the function's role and EventBridge) send without a KMS grant.
  return new aws.sqs.Queue(
    `${name}-failures`,
    { name: queueName, messageRetentionSeconds: FAILURE_RETENTION_SECONDS, sqsManagedSseEnabled: true },
    { parent },
  );
}

function outboundOnlySecurityGroup(
  name: string,
  args: MarketMakerFunctionArgs,
  parent: pulumi.Resource,
): aws.ec2.SecurityGroup {
  const { names } = args;
  const group = new aws.ec2.SecurityGroup(
    `${name}-sg`,
    {
      name: names.securityGroup,
      description: args.securityGroupDescription ?? `${names.function}: no inbound; HTTPS out`,
      vpcId: args.network.vpcId,
      tags: { Name: names.securityGroup },
    },
    { parent },
  );
  addSecurityGroupRules(
    `${name}-out`,
    "egress",
    group.id,
    [
      {
        key: "https",
        description: "RPC, subgraphs and Secrets Manager, over HTTPS",
        protocol: "tcp",
        fromPort: 443,
        toPort: 443,
        cidrBlocks: ["0.0.0.0/0"],
      },
    ],
    parent,
  );
  return group;
}

function rolePolicy(
  name: string,
  args: MarketMakerFunctionArgs,
  role: aws.iam.Role,
  group: aws.ec2.SecurityGroup,
  queue: aws.sqs.Queue,
  parent: pulumi.Resource,
): aws.iam.RolePolicy {
  return new aws.iam.RolePolicy(
    `${name}-policy`,
    {
      role: role.id,
      name: args.names.rolePolicy,
      policy: pulumi
        .all([args.network.vpcId, args.network.privateSubnetIds, group.id])
        .apply(([vpcId, subnetIds, securityGroupId]) =>
          pulumi.output(
            policyDocument(
              scheduledFunctionStatements(args, {
                logGroup: args.names.logGroup,
                secretArn: args.secretArn,
                queueArn: queue.arn,
                vpcId,
                subnetIds,
                securityGroupId,
              }),
            ),
          ),
        ),
    },
    { parent },
  );
}

function scheduledFunction(
  name: string,
  args: MarketMakerFunctionArgs,
  role: aws.iam.Role,
  group: aws.ec2.SecurityGroup,
  logGroup: aws.cloudwatch.LogGroup,
  dependsOn: pulumi.Resource[],
  parent: pulumi.Resource,
): aws.lambda.Function {
  const code = args.artifact
    ? { s3Bucket: args.artifact.s3Bucket, s3Key: args.artifact.s3Key }
    : {
        code: new pulumi.asset.AssetArchive({
          "index.js": new pulumi.asset.FileAsset(MARKET_MAKER_PLACEHOLDER_HANDLER),
        }),
      };
  return new aws.lambda.Function(
    `${name}-function`,
    {
      name: args.names.function,
      description: "Automated market maker for futures trading",
      runtime: "nodejs22.x",
      handler: "index.handler",
      architectures: ["x86_64"],
      role: role.arn,
      ...code,
      timeout: args.timeoutSeconds,
      memorySize: args.memoryMb,
      // Two runs never trade with the same wallet at once.
      reservedConcurrentExecutions: ONE_RUN_AT_A_TIME,
      vpcConfig: { subnetIds: args.network.privateSubnetIds, securityGroupIds: [group.id] },
      // The wallet key, RPC and subgraph URLs stay in the secret: the function reads it by ARN.
      environment: { variables: { ...args.environment, SECRETS_ARN: args.secretArn } },
      loggingConfig: {
        logFormat: "JSON",
        logGroup: logGroup.name,
        applicationLogLevel: args.logLevel.toUpperCase(),
        systemLogLevel: "WARN",
      },
    },
    { parent, dependsOn, ignoreChanges: [...PIPELINE_OWNED_PROPERTIES] },
  );
}

function schedule(
  name: string,
  args: MarketMakerFunctionArgs,
  fn: aws.lambda.Function,
  queue: aws.sqs.Queue,
  parent: pulumi.Resource,
): aws.cloudwatch.EventRule {
  const { names } = args;
  const opts = { parent };
  const rule = new aws.cloudwatch.EventRule(
    `${name}-schedule`,
    {
      name: names.scheduleRule,
      description: `Every ${args.scheduleMinutes === 1 ? "minute" : `${args.scheduleMinutes} minutes`}: one market-making run`,
      scheduleExpression: rateExpression(args.scheduleMinutes),
    },
    opts,
  );
  const queuePolicy = new aws.sqs.QueuePolicy(
    `${name}-failures-policy`,
    {
      queueUrl: queue.url,
      policy: resourcePolicyDocument([
        denyWithoutTls("sqs", [queue.arn]),
        {
          Sid: "KeepEventsThisRuleCouldNotDeliver",
          Principal: { Service: "events.amazonaws.com" },
          Action: ["sqs:SendMessage"],
          Resource: [queue.arn],
          Condition: { ArnEquals: { "aws:SourceArn": [rule.arn] } },
        },
      ]),
    },
    opts,
  );
  new aws.cloudwatch.EventTarget(
    `${name}-schedule-target`,
    {
      rule: rule.name,
      targetId: names.scheduleTargetId,
      arn: fn.arn,
      // An event older than one interval is dropped into the queue: the next run is already due.
      retryPolicy: {
        maximumEventAgeInSeconds: Math.max(60, args.scheduleMinutes * 60),
        maximumRetryAttempts: MAX_RETRY_ATTEMPTS,
      },
      deadLetterConfig: { arn: queue.arn },
    },
    { parent, dependsOn: [queuePolicy] },
  );
  // The statement id is fixed and a new rule ARN replaces the statement: Lambda refuses a second
  // statement with the same id, so the old one goes first (nothing else refers to it).
  new aws.lambda.Permission(
    `${name}-schedule-invoke`,
    { statementId: names.scheduleStatementId, ...invokeFromRule(fn.name, rule.arn) },
    { ...opts, deleteBeforeReplace: true },
  );
  return rule;
}

function validate(args: MarketMakerFunctionArgs): void {
  const where = args.names.function;
  const whole = (value: number, min: number, max: number) => Number.isInteger(value) && value >= min && value <= max;
  const problems: string[] = [];
  if (!whole(args.scheduleMinutes, 1, 1440))
    problems.push(`scheduleMinutes ${args.scheduleMinutes} must be a whole number from 1 to 1440`);
  if (!whole(args.timeoutSeconds, 1, 900))
    problems.push(`timeoutSeconds ${args.timeoutSeconds} must be a whole number from 1 to 900`);
  else if (args.timeoutSeconds > args.scheduleMinutes * 60)
    problems.push(
      `timeoutSeconds ${args.timeoutSeconds} exceeds the ${args.scheduleMinutes}-minute interval: a run must end before the next is due`,
    );
  if (!whole(args.memoryMb, 128, 10240))
    problems.push(`memoryMb ${args.memoryMb} must be a whole number from 128 to 10240`);
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
