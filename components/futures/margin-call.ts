import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { AwsContext, Statement, denyWithoutTls, logGroupArn, policyDocument, resourcePolicyDocument, serviceTrust } from "../../lib/iam";
import { addSecurityGroupRules } from "../container-service";
import { appSecret } from "../service-parts";

/** Physical names (ESTATE.md §3: the live `-v2` function and its rules). */
export interface MarginCallNames {
  /** `margin-call-v2-{env}`. */
  readonly function: string;
  /** `margin-call-lambda-role-v2-{env}`. */
  readonly role: string;
  /** `margin-call-lambda-v2-{env}`. */
  readonly securityGroup: string;
  /** `/aws/lambda/margin-call-v2-{env}`. */
  readonly logGroup: string;
  /** `margin-call-secrets-v3-{env}`. */
  readonly secret: string;
  /** `margin-call-schedule-v2-{env}` and its target id `margin-call-lambda-v2`. */
  readonly scheduleRule: string;
  readonly scheduleTargetId: string;
  /** `margin-call-daily-schedule-v2-{env}` and its target id `margin-call-lambda-daily-v2`. */
  readonly dailyRule: string;
  readonly dailyTargetId: string;
  /** The queue that keeps failed runs: `margin-call-failures-{env}`. */
  readonly failureQueue: string;
}

/** JSON keys of `margin-call-secrets-v3-{env}`: the RPC URL and the subgraph URL (it embeds the Graph API key). */
export const MARGIN_CALL_SECRET_KEYS = ["eth_node_url", "futures_subgraph_url"] as const;
export type MarginCallSecretKey = (typeof MARGIN_CALL_SECRET_KEYS)[number];

/** The input of the daily run. */
export const DAILY_INPUT = { executeMarginCall: true } as const;

/** The first code of a function nobody has deployed yet: it fails every run, loudly. */
export const PLACEHOLDER_HANDLER = path.join(__dirname, "margin-call-placeholder", "index.js");

export interface MarginCallArgs {
  readonly aws: AwsContext;
  readonly network: { readonly vpcId: pulumi.Input<string>; readonly privateSubnetIds: pulumi.Input<string[]> };
  readonly names: MarginCallNames;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  /** Minutes between regular runs. */
  readonly intervalMinutes: number;
  /** The daily run with `{"executeMarginCall": true}`, UTC. */
  readonly daily: { readonly hour: number; readonly minute: number };
  /**
   * Plain, non-secret settings (`FUTURES_ADDRESS`, `HASHRATE_ORACLE_ADDRESS`,
   * `MULTICALL_ADDRESS`, `NOTIFICATIONS_SERVICE_URL`, `LOG_LEVEL`,
   * `MARGIN_UTILIZATION_WARNING_PERCENT`); the component adds `SECRETS_ARN`.
   */
  readonly environment: Readonly<Record<string, string>>;
  readonly logLevel: "debug" | "info" | "warn" | "error";
  readonly logRetentionDays: number;
  /** Encrypts the secret; the role may decrypt with it only through Secrets Manager. */
  readonly secretsKmsKeyArn: pulumi.Input<string>;
  /** Values from `pulumi config set --secret`; absent when the secret is filled out of band. */
  readonly secretValues?: Readonly<Record<MarginCallSecretKey, pulumi.Input<string>>>;
  /** The function's first code (a zip in S3); absent: the placeholder. Later uploads belong to the application. */
  readonly artifact?: { readonly s3Bucket: string; readonly s3Key: string };
  readonly protect: boolean;
}

/**
 * The margin-call Lambda of seed 004 (issue 6 §5): Node.js 22 in the private
 * subnets, one run at a time (reserved concurrency 1), on two EventBridge
 * schedules, each allowed to invoke it by its own ARN. Asynchronous failures
 * are retried, then kept in an encrypted SQS queue: a failed run is never lost
 * silently. The RPC and subgraph URLs stay in its secret, read at run time by
 * ARN (today they are plain environment, ESTATE.md finding 2). The code belongs
 * to the application: `pulumi up` creates the function and never reverts the
 * pipeline's uploads.
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

  readonly functionName: pulumi.Output<string>;
  readonly functionArn: pulumi.Output<string>;
  readonly securityGroupId: pulumi.Output<string>;

  constructor(name: string, args: MarginCallArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lumerin:futures:MarginCall", name, {}, opts);
    validate(args);
    const { names } = args;
    const parent = { parent: this };

    this.secret = appSecret(
      name,
      {
        secretName: names.secret,
        description: `margin call: ${MARGIN_CALL_SECRET_KEYS.join(", ")} (read by the function at run time)`,
        kmsKeyArn: args.secretsKmsKeyArn,
        values: args.secretValues,
        protect: args.protect,
      },
      this,
    );

    this.logGroup = new aws.cloudwatch.LogGroup(`${name}-logs`, { name: names.logGroup, retentionInDays: args.logRetentionDays }, parent);

    this.failureQueue = new aws.sqs.Queue(
      `${name}-failures`,
      {
        name: names.failureQueue,
        // Two weeks to look at a failed run and replay it.
        messageRetentionSeconds: 14 * 24 * 3600,
        // SSE-SQS: encrypted at rest without a key policy for Lambda to encrypt with.
        sqsManagedSseEnabled: true,
      },
      parent,
    );
    new aws.sqs.QueuePolicy(
      `${name}-failures-policy`,
      {
        queueUrl: this.failureQueue.url,
        // The function's role sends by its own identity policy; the queue only refuses plain HTTP.
        policy: resourcePolicyDocument([denyWithoutTls("sqs", [this.failureQueue.arn])]),
      },
      parent,
    );

    // ---------------------------------------------------------------- network: out only
    this.securityGroup = new aws.ec2.SecurityGroup(
      `${name}-sg`,
      { name: names.securityGroup, description: `${names.function}: no inbound; HTTPS out`, vpcId: args.network.vpcId, tags: { Name: names.securityGroup } },
      parent,
    );
    addSecurityGroupRules(
      `${name}-out`,
      "egress",
      this.securityGroup.id,
      [{ key: "https", description: "RPC, subgraph, Secrets Manager and the notifications endpoint, over HTTPS", protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"] }],
      this,
    );

    // ---------------------------------------------------------------- identity
    this.role = new aws.iam.Role(
      `${name}-role`,
      {
        name: names.role,
        description: `${names.function}: reads its own secret, writes its own logs, keeps failed runs`,
        assumeRolePolicy: serviceTrust("lambda.amazonaws.com", args.aws.accountId, "LambdaAssumesForThisAccountOnly"),
        maxSessionDuration: 3600,
      },
      parent,
    );
    const policy = new aws.iam.RolePolicy(
      `${name}-policy`,
      { role: this.role.id, name: "margin-call", policy: policyDocument(marginCallStatements(args, this.secret.arn, this.failureQueue.arn)) },
      parent,
    );
    // ENIs in the VPC: AWS's managed policy for exactly that (its EC2 actions take no narrower resource in practice).
    const vpcAccess = new aws.iam.RolePolicyAttachment(
      `${name}-vpc-access`,
      { role: this.role.name, policyArn: `arn:${args.aws.partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole` },
      parent,
    );

    // ---------------------------------------------------------------- the function (its code belongs to the application)
    const code = args.artifact
      ? { s3Bucket: args.artifact.s3Bucket, s3Key: args.artifact.s3Key }
      : { code: new pulumi.asset.AssetArchive({ "index.js": new pulumi.asset.FileAsset(PLACEHOLDER_HANDLER) }) };
    this.function = new aws.lambda.Function(
      `${name}-function`,
      {
        name: names.function,
        description: "Checks futures margins; warns and triggers margin calls",
        runtime: "nodejs22.x",
        handler: "index.handler",
        architectures: ["x86_64"],
        role: this.role.arn,
        ...code,
        timeout: args.timeoutSeconds,
        memorySize: args.memoryMb,
        // Two runs never overlap: a run that outlasts the interval delays the next instead of racing it.
        reservedConcurrentExecutions: 1,
        vpcConfig: { subnetIds: args.network.privateSubnetIds, securityGroupIds: [this.securityGroup.id] },
        environment: { variables: { ...args.environment, SECRETS_ARN: this.secret.arn } },
        loggingConfig: { logFormat: "JSON", logGroup: this.logGroup.name, applicationLogLevel: args.logLevel.toUpperCase(), systemLogLevel: "WARN" },
      },
      {
        parent: this,
        dependsOn: [this.logGroup, policy, vpcAccess],
        // The pipeline uploads the code (`aws lambda update-function-code`): never revert it.
        ignoreChanges: ["code", "s3Bucket", "s3Key", "s3ObjectVersion", "sourceCodeHash"],
      },
    );
    this.functionName = this.function.name;
    this.functionArn = this.function.arn;
    this.securityGroupId = this.securityGroup.id;

    new aws.lambda.FunctionEventInvokeConfig(
      `${name}-async`,
      {
        functionName: this.function.name,
        // EventBridge invokes asynchronously: retry twice, then keep the event.
        maximumRetryAttempts: 2,
        maximumEventAgeInSeconds: 3600,
        destinationConfig: { onFailure: { destination: this.failureQueue.arn } },
      },
      parent,
    );

    // ---------------------------------------------------------------- schedules
    const schedule = (key: string, rule: string, targetId: string, expression: string, description: string, input?: string) => {
      const eventRule = new aws.cloudwatch.EventRule(`${name}-${key}`, { name: rule, description, scheduleExpression: expression }, parent);
      new aws.cloudwatch.EventTarget(
        `${name}-${key}-target`,
        { rule: eventRule.name, targetId, arn: this.function.arn, ...(input ? { input } : {}) },
        parent,
      );
      new aws.lambda.Permission(
        `${name}-${key}-invoke`,
        {
          statementId: `AllowEventBridge-${key}`,
          action: "lambda:InvokeFunction",
          function: this.function.name,
          principal: "events.amazonaws.com",
          // This rule only: not any rule, and not another account's.
          sourceArn: eventRule.arn,
          sourceAccount: args.aws.accountId,
        },
        parent,
      );
      return eventRule;
    };
    this.scheduleRule = schedule("schedule", names.scheduleRule, names.scheduleTargetId, rateExpression(args.intervalMinutes), `Every ${args.intervalMinutes} minute(s): check margins`);
    this.dailyRule = schedule(
      "daily",
      names.dailyRule,
      names.dailyTargetId,
      `cron(${args.daily.minute} ${args.daily.hour} * * ? *)`,
      `Daily at ${pad(args.daily.hour)}:${pad(args.daily.minute)} UTC: execute margin calls`,
      JSON.stringify(DAILY_INPUT),
    );

    this.registerOutputs({
      functionName: this.functionName,
      functionArn: this.functionArn,
      roleArn: this.role.arn,
      securityGroupId: this.securityGroupId,
      logGroupName: this.logGroup.name,
      failureQueueArn: this.failureQueue.arn,
      secretArn: this.secret.arn,
      scheduleRuleArn: this.scheduleRule.arn,
      dailyRuleArn: this.dailyRule.arn,
    });
  }
}

/** EventBridge's rate syntax: `rate(1 minute)`, `rate(15 minutes)`. */
export function rateExpression(minutes: number): string {
  return `rate(${minutes} ${minutes === 1 ? "minute" : "minutes"})`;
}

/** The function's own rights: its secret (decrypted only through Secrets Manager), its logs, its failure queue. */
function marginCallStatements(args: MarginCallArgs, secretArn: pulumi.Output<string>, queueArn: pulumi.Output<string>): Statement[] {
  return [
    { Sid: "ReadOwnSecretAtRunTime", Action: ["secretsmanager:GetSecretValue"], Resource: [secretArn] },
    {
      Sid: "DecryptOwnSecretThroughSecretsManagerOnly",
      Action: ["kms:Decrypt"],
      Resource: [args.secretsKmsKeyArn],
      Condition: { StringEquals: { "kms:ViaService": `secretsmanager.${args.aws.region}.amazonaws.com` } },
    },
    {
      Sid: "WriteOwnLogStreams",
      Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
      Resource: [pulumi.interpolate`${logGroupArn(args.aws, args.names.logGroup)}:log-stream:*`],
    },
    { Sid: "KeepFailedRunsInOwnQueue", Action: ["sqs:SendMessage"], Resource: [queueArn] },
  ];
}

function validate(args: MarginCallArgs): void {
  const where = args.names.function;
  if (args.intervalMinutes < 1 || !Number.isInteger(args.intervalMinutes)) throw new Error(`${where}: intervalMinutes must be a whole number of minutes, at least 1`);
  if (args.timeoutSeconds > args.intervalMinutes * 60) {
    // Not an error (reserved concurrency 1 keeps runs apart), but the schedule would throttle: say so loudly.
    pulumi.log.warn(`${where}: the timeout (${args.timeoutSeconds} s) exceeds the interval (${args.intervalMinutes} min); overlapping schedules are throttled, not run twice`);
  }
  for (const name of Object.keys(args.environment)) {
    if (name === "SECRETS_ARN") throw new Error(`${where}: SECRETS_ARN is set by the component`);
  }
}

function pad(n: number): string {
  return String(n).padStart(2, "0");
}
