import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import {
  AwsContext,
  Statement,
  denyWithoutTls,
  logGroupArn,
  policyDocument,
  resourcePolicyDocument,
  serviceTrust,
} from "../../lib/iam";
import { isSecretLookingName, secretLookingValue } from "../../lib/secret-patterns";
import { addSecurityGroupRules } from "../container-service";
import { appSecret } from "../service-parts";

/** Physical names (docs/estate.md: the live `-v2` function and its rules), from `futuresNames(env).marginCall`. */
export interface MarginCallNames {
  /** The function: `margin-call-v2-{env}`. */
  readonly function: string;
  /** Its execution role: `margin-call-lambda-role-v2-{env}`. */
  readonly role: string;
  /** Its security group: `margin-call-lambda-v2-{env}`. */
  readonly securityGroup: string;
  /** Its log group: `/aws/lambda/margin-call-v2-{env}` (the name Lambda would pick, so the live group can be adopted). */
  readonly logGroup: string;
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
  /** The queue that keeps failed runs (new; `{app}-{env}`): `margin-call-failures-{env}`. */
  readonly failureQueue: string;
  /** The role's inline policy: `margin-call-secrets-access` (the live name). */
  readonly rolePolicy: string;
  /** The regular rule's invoke statement on the function: `AllowExecutionFromCloudWatch` (the live id). */
  readonly scheduleStatementId: string;
  /** The daily rule's invoke statement: `AllowExecutionFromCloudWatchDaily` (the live id). */
  readonly dailyStatementId: string;
}

/** JSON keys of `margin-call-secrets-v3-{env}`: the RPC URL and the subgraph URL (it embeds the Graph API key). */
export const MARGIN_CALL_SECRET_KEYS = ["eth_node_url", "futures_subgraph_url"] as const;
export type MarginCallSecretKey = (typeof MARGIN_CALL_SECRET_KEYS)[number];

export type MarginCallLogLevel = "debug" | "info" | "warn" | "error";

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
/** Two weeks to look at a failed run and replay it (SQS allows at most 14 days). */
export const FAILURE_RETENTION_SECONDS = 14 * 24 * 3600;

/** The code a new function gets when no artifact is configured: it fails every run, loudly. */
export const PLACEHOLDER_HANDLER = path.join(__dirname, "margin-call-placeholder", "index.js");

/**
 * Function properties that belong to the application's pipeline
 * (`aws lambda update-function-code`): `pulumi up` sets them once, at creation,
 * and never reverts an upload. `code` is the placeholder archive; `s3*` the
 * configured artifact; `sourceCodeHash`/`codeSha256` the v7 hash inputs.
 */
export const PIPELINE_OWNED_PROPERTIES = [
  "code",
  "s3Bucket",
  "s3Key",
  "s3ObjectVersion",
  "sourceCodeHash",
  "codeSha256",
] as const;

export interface MarginCallArgs {
  /** Account, region and partition for the ARNs in the role's policy and the invoke permissions. */
  readonly aws: AwsContext;
  /** Where the function runs: its ENIs go into the private subnets, its security group into the VPC. */
  readonly network: {
    /** The VPC of the private subnets. */
    readonly vpcId: pulumi.Input<string>;
    /** Private subnets (egress through NAT): RPC, subgraph, Secrets Manager and the notifications ALB. */
    readonly privateSubnetIds: pulumi.Input<string[]>;
  };
  /** Physical names: `futuresNames(env).marginCall`. */
  readonly names: MarginCallNames;
  /** Lambda timeout, 1 to 900 s. With reserved concurrency 1, a run that outlasts `intervalMinutes` delays the next one. */
  readonly timeoutSeconds: number;
  /**
   * Executions reserved for the function (1: runs never overlap); `null` reserves none, for an
   * account still at Lambda's default limit of 10, which refuses any reservation.
   * @default 1
   */
  readonly reservedConcurrency?: number | null;
  /** Lambda memory, 128 to 10240 MB (CPU scales with it). */
  readonly memoryMb: number;
  /** Minutes between regular runs (a whole number, at least 1): `rate(1 minute)`, `rate(15 minutes)`. */
  readonly intervalMinutes: number;
  /** The daily run with `{"executeMarginCall": true}`, UTC: `cron(<minute> <hour> * * ? *)`. */
  readonly daily: {
    /** Hour, 0 to 23 (UTC). */
    readonly hour: number;
    /** Minute, 0 to 59. */
    readonly minute: number;
  };
  /** Plain, non-secret settings; the component adds `SECRETS_ARN` and refuses anything that looks secret. */
  readonly environment: MarginCallEnvironment;
  /**
   * Lambda's own filter on the application's JSON logs (`loggingConfig.applicationLogLevel`):
   * lines below it never reach CloudWatch. Must equal `environment.LOG_LEVEL`.
   */
  readonly logLevel: MarginCallLogLevel;
  /** Days CloudWatch Logs keeps the function's logs (a value CloudWatch accepts: 1, 3, 5, 7, 14, 30, ...). */
  readonly logRetentionDays: number;
  /** The platform CMK: it encrypts the secret; the role may decrypt with it only through Secrets Manager. */
  readonly secretsKmsKeyArn: pulumi.Input<string>;
  /**
   * Values from `pulumi config set --secret` (Pulumi secrets), written as one JSON
   * secret version. Absent: the secret is created empty and filled out of band
   * (`aws secretsmanager put-secret-value`).
   */
  readonly secretValues?: Readonly<Record<MarginCallSecretKey, pulumi.Input<string>>>;
  /**
   * The function's first code: a zip in S3. Absent: a placeholder that fails every
   * run. Either way the application's pipeline owns the code afterwards; changing
   * this later changes nothing ({@link PIPELINE_OWNED_PROPERTIES} are ignored).
   */
  readonly artifact?: {
    /** Bucket holding the zip (same region as the function). */
    readonly s3Bucket: string;
    /** Key of the zip. */
    readonly s3Key: string;
  };
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
  readonly securityGroupDescription?: string;
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

    this.logGroup = new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      { name: names.logGroup, retentionInDays: args.logRetentionDays },
      parent,
    );

    this.failureQueue = new aws.sqs.Queue(
      `${name}-failures`,
      {
        name: names.failureQueue,
        messageRetentionSeconds: FAILURE_RETENTION_SECONDS,
        // SSE-SQS: encrypted at rest, and both writers (the function's role and EventBridge)
        // can send without a KMS grant. With the CMK, its key policy would have to admit
        // events.amazonaws.com and the role's kms:GenerateDataKey: more rights for no gain.
        sqsManagedSseEnabled: true,
      },
      parent,
    );

    // ---------------------------------------------------------------- network: out only
    this.securityGroup = new aws.ec2.SecurityGroup(
      `${name}-sg`,
      {
        name: names.securityGroup,
        description: args.securityGroupDescription ?? `${names.function}: no inbound; HTTPS out`,
        vpcId: args.network.vpcId,
        tags: { Name: names.securityGroup },
      },
      parent,
    );
    addSecurityGroupRules(
      `${name}-out`,
      "egress",
      this.securityGroup.id,
      [
        {
          key: "https",
          description: "RPC, subgraph, Secrets Manager and the notifications endpoint, over HTTPS",
          protocol: "tcp",
          fromPort: 443,
          toPort: 443,
          cidrBlocks: ["0.0.0.0/0"],
        },
      ],
      this,
    );

    // ---------------------------------------------------------------- identity
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
    const policy = new aws.iam.RolePolicy(
      `${name}-policy`,
      {
        role: this.role.id,
        name: names.rolePolicy,
        policy: pulumi
          .all([args.network.vpcId, args.network.privateSubnetIds, this.securityGroup.id])
          .apply(([vpcId, subnetIds, securityGroupId]) =>
            pulumi.output(
              policyDocument(
                scheduledFunctionStatements(args, {
                  logGroup: names.logGroup,
                  secretArn: this.secret.arn,
                  queueArn: this.failureQueue.arn,
                  vpcId,
                  subnetIds,
                  securityGroupId,
                }),
              ),
            ),
          ),
      },
      parent,
    );

    // ---------------------------------------------------------------- the function (its code belongs to the application)
    const code = args.artifact
      ? { s3Bucket: args.artifact.s3Bucket, s3Key: args.artifact.s3Key }
      : { code: new pulumi.asset.AssetArchive({ "index.js": new pulumi.asset.FileAsset(PLACEHOLDER_HANDLER) }) };
    const reserved = args.reservedConcurrency === undefined ? ONE_RUN_AT_A_TIME : args.reservedConcurrency;
    this.function = new aws.lambda.Function(
      `${name}-function`,
      {
        name: names.function,
        description: "Checks futures margins; warns and triggers margin calls",
        runtime: "nodejs22.x",
        handler: "index.handler",
        // x86_64 as today: the pipeline's zip may carry native modules built for it.
        architectures: ["x86_64"],
        role: this.role.arn,
        ...code,
        timeout: args.timeoutSeconds,
        memorySize: args.memoryMb,
        // With 1, two runs never overlap: a run that outlasts the interval delays the next instead of racing it.
        // Without a reservation (null), Lambda's default of -1 leaves the function unreserved.
        ...(reserved === null ? {} : { reservedConcurrentExecutions: reserved }),
        vpcConfig: { subnetIds: args.network.privateSubnetIds, securityGroupIds: [this.securityGroup.id] },
        environment: { variables: { ...definedOnly(args.environment), SECRETS_ARN: this.secret.arn } },
        loggingConfig: {
          logFormat: "JSON",
          logGroup: this.logGroup.name,
          applicationLogLevel: args.logLevel.toUpperCase(),
          systemLogLevel: "WARN",
        },
      },
      {
        parent: this,
        // The log group exists before the first line is written (Lambda would otherwise create one
        // that keeps logs forever); the role may create ENIs and send to the queue before Lambda checks.
        dependsOn: [this.logGroup, policy],
        ignoreChanges: [...PIPELINE_OWNED_PROPERTIES],
      },
    );

    new aws.lambda.FunctionEventInvokeConfig(
      `${name}-async`,
      {
        functionName: this.function.name,
        // EventBridge invokes asynchronously: retry, then keep the event (with the error) in the queue.
        maximumRetryAttempts: MAX_RETRY_ATTEMPTS,
        maximumEventAgeInSeconds: MAX_EVENT_AGE_SECONDS,
        destinationConfig: { onFailure: { destination: this.failureQueue.arn } },
      },
      parent,
    );

    // ---------------------------------------------------------------- schedules
    // Stated either way: the provider keeps a rule's last state when the input is absent.
    const state = (args.schedulesEnabled ?? true) ? "ENABLED" : "DISABLED";
    this.scheduleRule = new aws.cloudwatch.EventRule(
      `${name}-schedule`,
      {
        name: names.scheduleRule,
        description: `Every ${plural(args.intervalMinutes, "minute")}: check margins`,
        scheduleExpression: rateExpression(args.intervalMinutes),
        state,
      },
      parent,
    );
    this.dailyRule = new aws.cloudwatch.EventRule(
      `${name}-daily`,
      {
        name: names.dailyRule,
        description: `Daily at ${pad(args.daily.hour)}:${pad(args.daily.minute)} UTC: execute margin calls`,
        scheduleExpression: dailyExpression(args.daily.hour, args.daily.minute),
        state,
      },
      parent,
    );
    const rules = [this.scheduleRule, this.dailyRule];

    // The queue takes failed runs from the role (its identity policy) and undeliverable events from
    // these two rules only; nothing over plain HTTP.
    const queuePolicy = new aws.sqs.QueuePolicy(
      `${name}-failures-policy`,
      {
        queueUrl: this.failureQueue.url,
        policy: resourcePolicyDocument([
          denyWithoutTls("sqs", [this.failureQueue.arn]),
          {
            Sid: "KeepEventsTheseRulesCouldNotDeliver",
            Principal: { Service: "events.amazonaws.com" },
            Action: ["sqs:SendMessage"],
            Resource: [this.failureQueue.arn],
            Condition: { ArnEquals: { "aws:SourceArn": rules.map((r) => r.arn) } },
          },
        ]),
      },
      parent,
    );

    const target = (
      key: string,
      rule: aws.cloudwatch.EventRule,
      targetId: string,
      statementId: string,
      input?: string,
    ) => {
      new aws.cloudwatch.EventTarget(
        `${name}-${key}-target`,
        {
          rule: rule.name,
          targetId,
          arn: this.function.arn,
          ...(input ? { input } : {}),
          // Delivery itself can fail (permission removed, function renamed: docs/estate.md#flaw-wrong-names):
          // such events land in the same queue instead of only a FailedInvocations metric.
          retryPolicy: { maximumEventAgeInSeconds: MAX_EVENT_AGE_SECONDS, maximumRetryAttempts: 185 },
          deadLetterConfig: { arn: this.failureQueue.arn },
        },
        { parent: this, dependsOn: [queuePolicy] },
      );
      new aws.lambda.Permission(
        `${name}-${key}-invoke`,
        {
          statementId,
          ...invokeFromRule(this.function.name, rule.arn),
        },
        // The statement id is fixed and a new rule ARN replaces the statement: Lambda refuses a second
        // statement with the same id, so the old one goes first (nothing else refers to it).
        { ...parent, deleteBeforeReplace: true },
      );
    };
    target("schedule", this.scheduleRule, names.scheduleTargetId, names.scheduleStatementId);
    target("daily", this.dailyRule, names.dailyTargetId, names.dailyStatementId, JSON.stringify(DAILY_INPUT));

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

/** EventBridge's rate syntax: `rate(1 minute)` (singular, or EventBridge rejects it), `rate(15 minutes)`. */
export function rateExpression(minutes: number): string {
  return `rate(${plural(minutes, "minute")})`;
}

/** EventBridge's six-field cron, every day at `hour:minute` UTC: `cron(30 0 * * ? *)`. */
export function dailyExpression(hour: number, minute: number): string {
  return `cron(${minute} ${hour} * * ? *)`;
}

/**
 * Reserved concurrency of a scheduled function: one run at a time. Lambda refuses it in an
 * account whose unreserved concurrency would drop below 100 (new accounts start at a limit of
 * 10); such an account needs a quota increase first.
 */
export const ONE_RUN_AT_A_TIME = 1;

/**
 * The invoke permission of one EventBridge rule: this rule's ARN only. The rule's ARN names
 * this account, so no `sourceAccount` is needed; the live statements have none, and any
 * difference in a permission replaces it.
 */
export function invokeFromRule(functionName: pulumi.Input<string>, ruleArn: pulumi.Input<string>) {
  return {
    action: "lambda:InvokeFunction",
    function: functionName,
    principal: "events.amazonaws.com",
    sourceArn: ruleArn,
  };
}

/** What a scheduled function's role statements name. */
export interface PolicyRefs {
  /** The function's log group (its streams are all it may write). */
  readonly logGroup: string;
  readonly secretArn: pulumi.Input<string>;
  readonly queueArn: pulumi.Input<string>;
  readonly vpcId: string;
  readonly subnetIds: readonly string[];
  readonly securityGroupId: string;
}

/**
 * The function's own rights: its secret (decrypted only through Secrets Manager),
 * its log streams, its failure queue, and its ENIs. The ENI statements replace the
 * AWS-managed AWSLambdaVPCAccessExecutionRole, whose single statement also grants
 * logs:CreateLogGroup/CreateLogStream/PutLogEvents on "*" (every log group of the
 * account) and which the policy pack cannot read. Its EC2 actions are the ones
 * Lambda's guide lists; creation is limited to this function's subnets and
 * security group, and only the two Describe calls (no resource ARN) stay on "*".
 */
export function scheduledFunctionStatements(
  args: { readonly aws: AwsContext; readonly secretsKmsKeyArn: pulumi.Input<string> },
  refs: PolicyRefs,
): Statement[] {
  const ec2 = (resource: string) =>
    `arn:${args.aws.partition}:ec2:${args.aws.region}:${args.aws.accountId}:${resource}`;
  return [
    { Sid: "ReadOwnSecretAtRunTime", Action: ["secretsmanager:GetSecretValue"], Resource: [refs.secretArn] },
    {
      Sid: "DecryptOwnSecretThroughSecretsManagerOnly",
      Action: ["kms:Decrypt"],
      Resource: [args.secretsKmsKeyArn],
      Condition: { StringEquals: { "kms:ViaService": `secretsmanager.${args.aws.region}.amazonaws.com` } },
    },
    {
      Sid: "WriteOwnLogStreams",
      Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
      Resource: [pulumi.interpolate`${logGroupArn(args.aws, refs.logGroup)}:log-stream:*`],
    },
    { Sid: "KeepFailedRunsInOwnQueue", Action: ["sqs:SendMessage"], Resource: [refs.queueArn] },
    {
      Sid: "CreateEnisOnlyInOwnSubnetsWithOwnSecurityGroup",
      Action: ["ec2:CreateNetworkInterface"],
      Resource: [
        ec2("network-interface/*"),
        ...refs.subnetIds.map((id) => ec2(`subnet/${id}`)),
        ec2(`security-group/${refs.securityGroupId}`),
      ],
    },
    {
      // Lambda names an ENI only once it has made it: any ENI, but only in this function's VPC.
      Sid: "ManageEnisLambdaCreatedInOwnVpc",
      Action: ["ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"],
      Resource: [ec2("network-interface/*")],
      Condition: { ArnEquals: { "ec2:Vpc": ec2(`vpc/${refs.vpcId}`) } },
    },
    {
      Sid: "DescribeNetworkTakesNoResourceArn",
      Action: ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"],
      Resource: "*",
    },
  ];
}

function validate(args: MarginCallArgs): void {
  const where = args.names.function;
  const whole = (value: number, min: number, max: number) => Number.isInteger(value) && value >= min && value <= max;
  const problems: string[] = [];
  if (!whole(args.intervalMinutes, 1, Number.MAX_SAFE_INTEGER))
    problems.push(`intervalMinutes ${args.intervalMinutes} must be a whole number of minutes, at least 1`);
  if (!whole(args.timeoutSeconds, 1, 900))
    problems.push(`timeoutSeconds ${args.timeoutSeconds} must be a whole number from 1 to 900`);
  if (!whole(args.memoryMb, 128, 10240))
    problems.push(`memoryMb ${args.memoryMb} must be a whole number from 128 to 10240`);
  if (!whole(args.daily.hour, 0, 23)) problems.push(`daily.hour ${args.daily.hour} must be 0 to 23`);
  if (!whole(args.daily.minute, 0, 59)) problems.push(`daily.minute ${args.daily.minute} must be 0 to 59`);
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

function plural(n: number, unit: string): string {
  return `${n} ${n === 1 ? unit : `${unit}s`}`;
}

function pad(n: number): string {
  return String(n).padStart(2, "0");
}
