/**
 * A scheduled Lambda function and everything it needs, as the margin call and the market maker
 * (`runtime: lambda`) both have it: its log group, a queue for failed runs, an outbound-only
 * security group, a role with inline rights only, the function (whose code belongs to the
 * application's pipeline), Lambda's retries of a failed run, and one or more EventBridge rules,
 * each with its target and its own invoke permission. Functions, not a component: every resource
 * is a child of the calling component, under the logical names `<name>-<part>`.
 */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import {
  AwsContext,
  Statement,
  denyWithoutTls,
  policyDocument,
  resourcePolicyDocument,
  serviceTrust,
  vpcLambdaNetworkStatements,
  writeOwnLogStreams,
} from "../../lib/iam";
import { addSecurityGroupRules } from "../container-service";

/** The physical names every scheduled function has (its rules' names are in its {@link FunctionSchedule}s). */
export interface ScheduledFunctionNames {
  /** The function, e.g. `margin-call-v2-dev`. */
  readonly function: string;
  /** Its execution role, e.g. `margin-call-lambda-role-v2-dev`. */
  readonly role: string;
  /** The role's one inline policy, e.g. `margin-call-secrets-access`. */
  readonly rolePolicy: string;
  /** Its security group, e.g. `margin-call-lambda-v2-dev`. */
  readonly securityGroup: string;
  /** Its log group: `/aws/lambda/<function>`, the name Lambda would pick, so that a live group can be adopted. */
  readonly logGroup: string;
  /** The queue that keeps failed runs and events EventBridge could not deliver, e.g. `margin-call-failures-dev`. */
  readonly failureQueue: string;
}

/** Where a scheduled function runs. */
export interface FunctionNetwork {
  /** The VPC of the private subnets: the function's security group goes there. */
  readonly vpcId: pulumi.Input<string>;
  /** Private subnets (egress through NAT) for the function's network interfaces. */
  readonly privateSubnetIds: pulumi.Input<string[]>;
}

/** The function's first code: a zip in S3 (same region as the function). */
export interface FunctionArtifact {
  /** Bucket holding the zip. */
  readonly s3Bucket: string;
  /** Key of the zip. */
  readonly s3Key: string;
}

/** How long, and how often, a failed run or delivery is tried again before its event goes to the failure queue. */
export interface RetryLimits {
  /** Retries after the first attempt. */
  readonly maximumRetryAttempts: number;
  /** Age after which the event is not tried again, in seconds. */
  readonly maximumEventAgeInSeconds: number;
}

/** One EventBridge rule that invokes the function. */
export interface FunctionSchedule {
  /**
   * Part of the logical names: the rule is `<name>-<key>`, its target `<name>-<key>-target`, its
   * invoke permission `<name>-<key>-invoke`. Example: `"schedule"`, `"daily"`.
   */
  readonly key: string;
  /** The rule's physical name, e.g. `margin-call-schedule-v2-dev`. */
  readonly ruleName: string;
  /** The rule's description, e.g. `Every 15 minutes: check margins`. */
  readonly description: string;
  /** EventBridge's schedule expression: {@link rateExpression} or a six-field `cron(...)`. */
  readonly expression: string;
  /** The target's id on the rule, e.g. `margin-call-lambda-v2`. */
  readonly targetId: string;
  /** The invoke statement's id on the function, e.g. `AllowExecutionFromCloudWatch`. */
  readonly statementId: string;
  /**
   * The rule's state. Absent leaves the rule's state to EventBridge (a new rule is enabled):
   * the provider ignores a state that goes from stated to absent, so a rule once stated
   * `DISABLED` stays disabled until it is stated `ENABLED`.
   * @default absent
   */
  readonly state?: "ENABLED" | "DISABLED";
  /**
   * The event the function gets, as JSON text, e.g. `'{"executeMarginCall":true}'`.
   * @default the scheduled event EventBridge sends
   */
  readonly input?: string;
  /**
   * Whether the rule invokes the function. `false` registers the rule without its target and
   * invoke permission: nothing runs the function (and no throttled event reaches the failure
   * queue) until it is `true` again, when both are created. Unlike {@link state}, this needs no
   * input stated for ever after.
   * @default true
   */
  readonly invokes?: boolean;
}

/** The arguments of {@link scheduledFunction}. */
export interface ScheduledFunctionArgs {
  /** Account, region and partition for the ARNs in the role's policy. */
  readonly aws: AwsContext;
  /** Where the function runs. */
  readonly network: FunctionNetwork;
  /** Physical names. */
  readonly names: ScheduledFunctionNames;
  /** The function's description, e.g. `Checks futures margins; warns and triggers margin calls`. */
  readonly description: string;
  /** What the security group's one rule (HTTPS out, anywhere) is for, e.g. `RPC, subgraphs and Secrets Manager, over HTTPS`. */
  readonly egressDescription: string;
  /**
   * The security group's description. EC2 cannot change a description, so adopting a live group needs its text.
   * @default "<function>: no inbound; HTTPS out"
   */
  readonly securityGroupDescription?: string;
  /** Lambda timeout in seconds. */
  readonly timeoutSeconds: number;
  /** Lambda memory in MB. */
  readonly memoryMb: number;
  /**
   * Executions reserved for the function (1: runs never overlap; 0: Lambda throttles every invocation);
   * `null` reserves none (Lambda's default of -1: the function draws on the account's unreserved pool).
   */
  readonly reservedConcurrency: number | null;
  /** Plain settings; the function adds `SECRETS_ARN`. Checked by the caller: nothing secret belongs here. */
  readonly environment: Readonly<Record<string, string>>;
  /** Lambda's own filter on the application's JSON log lines (`loggingConfig.applicationLogLevel`). */
  readonly logLevel: "debug" | "info" | "warn" | "error";
  /** Days CloudWatch Logs keeps the function's logs. */
  readonly logRetentionDays: number;
  /** The one secret the function reads at run time, by ARN (`SECRETS_ARN`). */
  readonly secretArn: pulumi.Input<string>;
  /** The key that encrypts that secret: the role may decrypt with it only through Secrets Manager. */
  readonly secretsKmsKeyArn: pulumi.Input<string>;
  /** The handler file a new function gets when no artifact is configured (it should fail every run, loudly). */
  readonly placeholderHandler: string;
  /**
   * The function's first code. Either way the pipeline owns the code afterwards
   * ({@link PIPELINE_OWNED_PROPERTIES} are ignored).
   * @default the placeholder handler, zipped
   */
  readonly artifact?: FunctionArtifact;
  /** Lambda's retries of a failed asynchronous run, before the event goes to the failure queue. */
  readonly runRetries: RetryLimits;
  /** EventBridge's retries of a delivery that failed (permission gone, function renamed), before the failure queue. */
  readonly deliveryRetries: RetryLimits;
  /** The rules that invoke the function, at least one. */
  readonly schedules: readonly FunctionSchedule[];
}

/** What {@link scheduledFunction} made. */
export interface ScheduledFunctionParts {
  /** `<name>-logs`. */
  readonly logGroup: aws.cloudwatch.LogGroup;
  /** `<name>-failures`. */
  readonly failureQueue: aws.sqs.Queue;
  /** `<name>-sg`. */
  readonly securityGroup: aws.ec2.SecurityGroup;
  /** `<name>-role`. */
  readonly role: aws.iam.Role;
  /** `<name>-policy`. */
  readonly rolePolicy: aws.iam.RolePolicy;
  /** `<name>-function`. */
  readonly function: aws.lambda.Function;
  /** The rules, in the order of `schedules`. */
  readonly rules: readonly aws.cloudwatch.EventRule[];
}

/** Two weeks to look at a failed run and replay it (SQS allows at most 14 days). */
export const FAILURE_RETENTION_SECONDS = 14 * 24 * 3600;

/**
 * Reserved concurrency of a scheduled function: one run at a time. Lambda refuses it in an
 * account whose unreserved concurrency would drop below 100 (new accounts start at a limit of
 * 10); such an account needs a quota increase first.
 */
export const ONE_RUN_AT_A_TIME = 1;

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

/** The function and its parts, children of `parent`, in the order each needs the one before. */
export function scheduledFunction(
  name: string,
  args: ScheduledFunctionArgs,
  parent: pulumi.Resource,
): ScheduledFunctionParts {
  if (args.schedules.length === 0) throw new Error(`${args.names.function}: a scheduled function needs a schedule`);
  const logGroup = functionLogGroup(name, args, parent);
  const failureQueue = functionFailureQueue(name, args.names.failureQueue, parent);
  const securityGroup = outboundOnlySecurityGroup(name, args, parent);
  const role = functionRole(name, args.aws, args.names, parent);
  const rolePolicy = functionRolePolicy(name, args, { role, securityGroup, failureQueue }, parent);
  const fn = lambdaFunction(name, args, { role, securityGroup, logGroup, rolePolicy }, parent);
  runRetries(name, fn, failureQueue, args.runRetries, parent);
  const rules = schedules(name, args, fn, failureQueue, parent);
  return { logGroup, failureQueue, securityGroup, role, rolePolicy, function: fn, rules };
}

/** `<name>-logs`: the function's log group, with retention (Lambda would otherwise make one that keeps logs forever). */
export function functionLogGroup(
  name: string,
  args: Pick<ScheduledFunctionArgs, "names" | "logRetentionDays">,
  parent: pulumi.Resource,
): aws.cloudwatch.LogGroup {
  return new aws.cloudwatch.LogGroup(
    `${name}-logs`,
    { name: args.names.logGroup, retentionInDays: args.logRetentionDays },
    { parent },
  );
}

/** `<name>-failures`: where failed runs and undeliverable events wait, 14 days. */
export function functionFailureQueue(name: string, queueName: string, parent: pulumi.Resource): aws.sqs.Queue {
  return new aws.sqs.Queue(
    `${name}-failures`,
    {
      name: queueName,
      messageRetentionSeconds: FAILURE_RETENTION_SECONDS,
      // SSE-SQS: encrypted at rest, and both writers (the function's role and EventBridge)
      // can send without a KMS grant. With the CMK, its key policy would have to admit
      // events.amazonaws.com and the role's kms:GenerateDataKey: more rights for no gain.
      sqsManagedSseEnabled: true,
    },
    { parent },
  );
}

/** `<name>-sg` and its one rule `<name>-out-https`: nothing in, HTTPS out. */
export function outboundOnlySecurityGroup(
  name: string,
  args: Pick<ScheduledFunctionArgs, "names" | "network" | "securityGroupDescription" | "egressDescription">,
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
        description: args.egressDescription,
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

/** `<name>-role`: assumed by Lambda for this account only; its rights are {@link functionRolePolicy}'s. */
export function functionRole(
  name: string,
  context: AwsContext,
  names: Pick<ScheduledFunctionNames, "role" | "function">,
  parent: pulumi.Resource,
): aws.iam.Role {
  return new aws.iam.Role(
    `${name}-role`,
    {
      name: names.role,
      description: `${names.function}: reads its own secret, writes its own logs, keeps failed runs, attaches to its VPC`,
      assumeRolePolicy: serviceTrust("lambda.amazonaws.com", context.accountId, "LambdaAssumesForThisAccountOnly"),
      maxSessionDuration: 3600,
    },
    { parent },
  );
}

/** `<name>-policy`: the role's one inline policy, {@link scheduledFunctionStatements}. */
export function functionRolePolicy(
  name: string,
  args: Pick<ScheduledFunctionArgs, "aws" | "network" | "names" | "secretArn" | "secretsKmsKeyArn">,
  refs: {
    readonly role: aws.iam.Role;
    readonly securityGroup: aws.ec2.SecurityGroup;
    readonly failureQueue: aws.sqs.Queue;
  },
  parent: pulumi.Resource,
): aws.iam.RolePolicy {
  return new aws.iam.RolePolicy(
    `${name}-policy`,
    {
      role: refs.role.id,
      name: args.names.rolePolicy,
      policy: pulumi
        .all([args.network.vpcId, args.network.privateSubnetIds, refs.securityGroup.id])
        .apply(([vpcId, subnetIds, securityGroupId]) =>
          pulumi.output(
            policyDocument(
              scheduledFunctionStatements(args, {
                logGroup: args.names.logGroup,
                secretArn: args.secretArn,
                queueArn: refs.failureQueue.arn,
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

/** `<name>-function`: Node.js 22 in the private subnets, JSON logs to its own group, code owned by the pipeline. */
export function lambdaFunction(
  name: string,
  args: ScheduledFunctionArgs,
  refs: {
    readonly role: aws.iam.Role;
    readonly securityGroup: aws.ec2.SecurityGroup;
    readonly logGroup: aws.cloudwatch.LogGroup;
    readonly rolePolicy: aws.iam.RolePolicy;
  },
  parent: pulumi.Resource,
): aws.lambda.Function {
  const code = args.artifact
    ? { s3Bucket: args.artifact.s3Bucket, s3Key: args.artifact.s3Key }
    : { code: new pulumi.asset.AssetArchive({ "index.js": new pulumi.asset.FileAsset(args.placeholderHandler) }) };
  const reserved = args.reservedConcurrency;
  return new aws.lambda.Function(
    `${name}-function`,
    {
      name: args.names.function,
      description: args.description,
      runtime: "nodejs22.x",
      handler: "index.handler",
      // x86_64 as today: the pipeline's zip may carry native modules built for it.
      architectures: ["x86_64"],
      role: refs.role.arn,
      ...code,
      timeout: args.timeoutSeconds,
      memorySize: args.memoryMb,
      // Without a reservation (null), Lambda's default of -1 leaves the function unreserved.
      ...(reserved === null ? {} : { reservedConcurrentExecutions: reserved }),
      vpcConfig: { subnetIds: args.network.privateSubnetIds, securityGroupIds: [refs.securityGroup.id] },
      // Nothing secret here: the function reads its secret by ARN at run time.
      environment: { variables: { ...args.environment, SECRETS_ARN: args.secretArn } },
      loggingConfig: {
        logFormat: "JSON",
        logGroup: refs.logGroup.name,
        applicationLogLevel: args.logLevel.toUpperCase(),
        systemLogLevel: "WARN",
      },
    },
    {
      parent,
      // The log group exists before the first line is written; the role may create ENIs and
      // send to the queue before Lambda checks.
      dependsOn: [refs.logGroup, refs.rolePolicy],
      ignoreChanges: [...PIPELINE_OWNED_PROPERTIES],
    },
  );
}

/** `<name>-async`: EventBridge invokes asynchronously; Lambda retries a failed run, then keeps the event (with the error) in the queue. */
export function runRetries(
  name: string,
  fn: aws.lambda.Function,
  queue: aws.sqs.Queue,
  limits: RetryLimits,
  parent: pulumi.Resource,
): aws.lambda.FunctionEventInvokeConfig {
  return new aws.lambda.FunctionEventInvokeConfig(
    `${name}-async`,
    {
      functionName: fn.name,
      maximumRetryAttempts: limits.maximumRetryAttempts,
      maximumEventAgeInSeconds: limits.maximumEventAgeInSeconds,
      destinationConfig: { onFailure: { destination: queue.arn } },
    },
    { parent },
  );
}

/**
 * The rules, the queue's policy (`<name>-failures-policy`) that admits their undeliverable
 * events, and per rule that invokes the function its target and its invoke permission.
 */
export function schedules(
  name: string,
  args: Pick<ScheduledFunctionArgs, "schedules" | "deliveryRetries">,
  fn: aws.lambda.Function,
  queue: aws.sqs.Queue,
  parent: pulumi.Resource,
): aws.cloudwatch.EventRule[] {
  const rules = args.schedules.map((s) => scheduleRule(name, s, parent));
  const queuePolicy = failureQueuePolicy(name, queue, rules, parent);
  args.schedules.forEach((s, i) => {
    if (s.invokes === false) return;
    scheduleTarget(name, s, { rule: rules[i], fn, queue, queuePolicy }, args.deliveryRetries, parent);
    invokePermission(name, s, rules[i], fn, parent);
  });
  return rules;
}

/** `<name>-<key>`: one EventBridge rule. */
export function scheduleRule(name: string, schedule: FunctionSchedule, parent: pulumi.Resource) {
  return new aws.cloudwatch.EventRule(
    `${name}-${schedule.key}`,
    {
      name: schedule.ruleName,
      description: schedule.description,
      scheduleExpression: schedule.expression,
      ...(schedule.state ? { state: schedule.state } : {}),
    },
    { parent },
  );
}

/**
 * `<name>-failures-policy`: the queue takes failed runs from the role (its identity policy) and
 * undeliverable events from these rules only; nothing over plain HTTP.
 */
export function failureQueuePolicy(
  name: string,
  queue: aws.sqs.Queue,
  rules: readonly aws.cloudwatch.EventRule[],
  parent: pulumi.Resource,
): aws.sqs.QueuePolicy {
  return new aws.sqs.QueuePolicy(
    `${name}-failures-policy`,
    {
      queueUrl: queue.url,
      policy: resourcePolicyDocument([
        denyWithoutTls("sqs", [queue.arn]),
        {
          Sid: rules.length === 1 ? "KeepEventsThisRuleCouldNotDeliver" : "KeepEventsTheseRulesCouldNotDeliver",
          Principal: { Service: "events.amazonaws.com" },
          Action: ["sqs:SendMessage"],
          Resource: [queue.arn],
          Condition: { ArnEquals: { "aws:SourceArn": rules.map((r) => r.arn) } },
        },
      ]),
    },
    { parent },
  );
}

/**
 * `<name>-<key>-target`: the rule invokes the function. Delivery itself can fail (permission
 * removed, function renamed): such events land in the failure queue instead of only a
 * FailedInvocations metric, once the queue's policy admits them.
 */
export function scheduleTarget(
  name: string,
  schedule: FunctionSchedule,
  refs: {
    readonly rule: aws.cloudwatch.EventRule;
    readonly fn: aws.lambda.Function;
    readonly queue: aws.sqs.Queue;
    readonly queuePolicy: aws.sqs.QueuePolicy;
  },
  retries: RetryLimits,
  parent: pulumi.Resource,
): aws.cloudwatch.EventTarget {
  return new aws.cloudwatch.EventTarget(
    `${name}-${schedule.key}-target`,
    {
      rule: refs.rule.name,
      targetId: schedule.targetId,
      arn: refs.fn.arn,
      ...(schedule.input ? { input: schedule.input } : {}),
      retryPolicy: {
        maximumEventAgeInSeconds: retries.maximumEventAgeInSeconds,
        maximumRetryAttempts: retries.maximumRetryAttempts,
      },
      deadLetterConfig: { arn: refs.queue.arn },
    },
    { parent, dependsOn: [refs.queuePolicy] },
  );
}

/**
 * `<name>-<key>-invoke`: this rule may invoke the function. The statement id is fixed and a new
 * rule ARN replaces the statement: Lambda refuses a second statement with the same id, so the
 * old one goes first (nothing else refers to it).
 */
export function invokePermission(
  name: string,
  schedule: FunctionSchedule,
  rule: aws.cloudwatch.EventRule,
  fn: aws.lambda.Function,
  parent: pulumi.Resource,
): aws.lambda.Permission {
  return new aws.lambda.Permission(
    `${name}-${schedule.key}-invoke`,
    { statementId: schedule.statementId, ...invokeFromRule(fn.name, rule.arn) },
    { parent, deleteBeforeReplace: true },
  );
}

/** EventBridge's rate syntax: `rate(1 minute)` (singular, or EventBridge rejects it), `rate(15 minutes)`. */
export function rateExpression(minutes: number): string {
  return `rate(${plural(minutes, "minute")})`;
}

/** `1 minute`, `15 minutes`. */
export function plural(n: number, unit: string): string {
  return `${n} ${n === 1 ? unit : `${unit}s`}`;
}

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
  /** The one secret it may read. */
  readonly secretArn: pulumi.Input<string>;
  /** Its failure queue, the one queue it may send to. */
  readonly queueArn: pulumi.Input<string>;
  /** The VPC its network interfaces are in. */
  readonly vpcId: string;
  /** The subnets it may create network interfaces in. */
  readonly subnetIds: readonly string[];
  /** The security group its network interfaces get. */
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
  return [
    { Sid: "ReadOwnSecretAtRunTime", Action: ["secretsmanager:GetSecretValue"], Resource: [refs.secretArn] },
    {
      Sid: "DecryptOwnSecretThroughSecretsManagerOnly",
      Action: ["kms:Decrypt"],
      Resource: [args.secretsKmsKeyArn],
      Condition: { StringEquals: { "kms:ViaService": `secretsmanager.${args.aws.region}.amazonaws.com` } },
    },
    writeOwnLogStreams(args.aws, refs.logGroup),
    { Sid: "KeepFailedRunsInOwnQueue", Action: ["sqs:SendMessage"], Resource: [refs.queueArn] },
    ...vpcLambdaNetworkStatements(args.aws, refs),
  ];
}
