/**
 * The deploy runner's four identities, each with exactly its part:
 *
 * - the **GitHub runner role** (OIDC) invokes the invoker and reads the runner's two log groups;
 * - the **invoker** takes the lease (and gives it back when the start is refused), checks tags
 *   and images, starts the state machine;
 * - the **state machine** invokes the runner Lambda;
 * - the **runner Lambda** deploys to the allowlisted services only: their families, their roles,
 *   their tag parameters, their leases.
 *
 * ECS's service authorization reference: RegisterTaskDefinition takes the task-definition
 * resource (`task-definition/<family>:<revision>`), so registering is bounded by family;
 * DescribeTaskDefinition takes no resource ARN; UpdateService and DescribeServices take the
 * service ARN. Step Functions' log delivery actions take no resource ARN either.
 */
import * as pulumi from "@pulumi/pulumi";
import type { DeployableService } from "./deployables";
import { AwsContext, Statement, logGroupArn, vpcLambdaNetworkStatements, writeOwnLogStreams } from "./iam";

/** One allowlisted deploy target, as IAM must know it. */
export interface RunnerTarget extends DeployableService {
  /** The app's name in the allowlist; with the environment it keys the lease (`lease#<app>#<env>`). */
  readonly app: string;
  /** The ECR repository the image comes from; absent when the image is in another registry (e.g. ghcr.io). */
  readonly ecrRepositoryArn?: pulumi.Input<string>;
}

/** `lease#<app>#<environment>`: the lease item's partition key. */
export function leasePartitionKey(app: string, environment: string): string {
  return `lease#${app}#${environment}`;
}

/** The replay records' partition keys: `jti#<jti>`. */
export const REPLAY_KEY_PATTERN = "jti#*";

/** A log group's ARN and its streams' (`:*`): log reads name either. */
function logGroupAndStreams(ctx: AwsContext, name: pulumi.Input<string>): pulumi.Output<string>[] {
  const arn = logGroupArn(ctx, name);
  return [arn, pulumi.interpolate`${arn}:*`];
}

export interface GitHubRunnerRefs {
  readonly invokerFunctionArn: pulumi.Input<string>;
  /** The runner Lambda's and the state machine's log groups: what the workflow streams. */
  readonly logGroups: readonly pulumi.Input<string>[];
}

/** The GitHub runner role: invoke the invoker, read the runner's logs. Nothing else. */
export function githubRunnerStatements(ctx: AwsContext, refs: GitHubRunnerRefs): Statement[] {
  return [
    { Sid: "InvokeTheDeployInvokerOnly", Action: ["lambda:InvokeFunction"], Resource: [refs.invokerFunctionArn] },
    {
      Sid: "ReadTheDeployRunnersLogsOnly",
      Action: ["logs:FilterLogEvents", "logs:GetLogEvents", "logs:DescribeLogStreams"],
      Resource: refs.logGroups.flatMap((g) => logGroupAndStreams(ctx, g)),
    },
  ];
}

export interface InvokerRefs {
  readonly environment: string;
  readonly tableArn: pulumi.Input<string>;
  readonly stateMachineArn: pulumi.Input<string>;
  readonly targets: readonly RunnerTarget[];
  readonly logGroup: pulumi.Input<string>;
}

/** The invoker: replay records and leases in its table, tags and images of its targets, one state machine. */
export function invokerStatements(ctx: AwsContext, refs: InvokerRefs): Statement[] {
  const ecr = refs.targets.flatMap((t) => (t.ecrRepositoryArn ? [t.ecrRepositoryArn] : []));
  return [
    {
      Sid: "RecordTokensAndTakeLeasesOfOwnTargetsOnly",
      Action: ["dynamodb:PutItem", "dynamodb:GetItem"],
      Resource: [refs.tableArn],
      Condition: {
        "ForAllValues:StringLike": {
          "dynamodb:LeadingKeys": [
            REPLAY_KEY_PATTERN,
            ...refs.targets.map((t) => leasePartitionKey(t.app, refs.environment)),
          ],
        },
      },
    },
    {
      // When StartExecution is refused, the invoker releases the lease it has just taken.
      Sid: "ReleaseLeasesOfOwnTargetsOnly",
      Action: ["dynamodb:DeleteItem"],
      Resource: [refs.tableArn],
      Condition: {
        "ForAllValues:StringEquals": {
          "dynamodb:LeadingKeys": refs.targets.map((t) => leasePartitionKey(t.app, refs.environment)),
        },
      },
    },
    { Sid: "StartTheDeployRunnerOnly", Action: ["states:StartExecution"], Resource: [refs.stateMachineArn] },
    {
      Sid: "ReadRecordedTagsOfOwnTargets",
      Action: ["ssm:GetParameter", "ssm:GetParameterHistory"],
      Resource: refs.targets.map((t) => t.imageTagParameterArn),
    },
    ...(ecr.length > 0
      ? [{ Sid: "CheckImagesInOwnEcrRepositories", Action: ["ecr:DescribeImages"], Resource: ecr } as Statement]
      : []),
    writeOwnLogStreams(ctx, refs.logGroup),
  ];
}

export interface StateMachineRefs {
  readonly runnerFunctionArn: pulumi.Input<string>;
}

/** The state machine: invoke the runner Lambda; deliver its own execution logs. */
export function stateMachineStatements(refs: StateMachineRefs): Statement[] {
  return [
    { Sid: "InvokeTheRunnerLambdaOnly", Action: ["lambda:InvokeFunction"], Resource: [refs.runnerFunctionArn] },
    {
      // Step Functions sets up its log delivery through these, and none of them accepts a resource ARN.
      Sid: "DeliverExecutionLogsAcceptsNoResourceArn",
      Action: [
        "logs:CreateLogDelivery",
        "logs:GetLogDelivery",
        "logs:UpdateLogDelivery",
        "logs:DeleteLogDelivery",
        "logs:ListLogDeliveries",
        "logs:PutResourcePolicy",
        "logs:DescribeResourcePolicies",
        "logs:DescribeLogGroups",
      ],
      Resource: "*",
    },
  ];
}

export interface RunnerLambdaRefs {
  readonly environment: string;
  readonly tableArn: pulumi.Input<string>;
  readonly targets: readonly RunnerTarget[];
  readonly logGroup: pulumi.Input<string>;
  readonly vpcId: string;
  readonly subnetIds: readonly string[];
  readonly securityGroupId: string;
}

/** The runner Lambda: deploy to the allowlisted services only, record their tags, release their leases. */
export function runnerLambdaStatements(ctx: AwsContext, refs: RunnerLambdaRefs): Statement[] {
  const { targets } = refs;
  if (targets.length === 0) throw new Error("the deploy runner has no allowlisted target");
  const families = [...new Set(targets.map((t) => t.taskFamily))].sort();
  const revisions = families.map(
    (f) => `arn:${ctx.partition}:ecs:${ctx.region}:${ctx.accountId}:task-definition/${f}:*`,
  );
  return [
    {
      Sid: "DeployAndWatchAllowlistedServicesOnly",
      Action: ["ecs:DescribeServices", "ecs:UpdateService"],
      Resource: targets.map((t) => t.serviceArn),
    },
    {
      // DescribeTaskDefinition accepts no resource ARN (service authorization reference).
      Sid: "ReadTaskDefinitionsAcceptsNoResourceArn",
      Action: ["ecs:DescribeTaskDefinition"],
      Resource: "*",
    },
    { Sid: "RegisterRevisionsOfAllowlistedFamiliesOnly", Action: ["ecs:RegisterTaskDefinition"], Resource: revisions },
    {
      // The render copies the revision's tags; ECS authorizes tags given at registration as ecs:TagResource.
      Sid: "TagOwnRevisionsOnlyWhileRegistering",
      Action: ["ecs:TagResource"],
      Resource: revisions,
      Condition: { StringEquals: { "ecs:CreateAction": "RegisterTaskDefinition" } },
    },
    {
      Sid: "PassAllowlistedTaskRolesToEcsTasksOnly",
      Action: ["iam:PassRole"],
      Resource: targets.flatMap((t) => [t.executionRoleArn, t.taskRoleArn]),
      Condition: { StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } },
    },
    {
      Sid: "RecordTagsOfAllowlistedServicesOnly",
      Action: ["ssm:PutParameter"],
      Resource: targets.map((t) => t.imageTagParameterArn),
    },
    {
      Sid: "ReleaseLeasesOfAllowlistedServicesOnly",
      Action: ["dynamodb:DeleteItem"],
      Resource: [refs.tableArn],
      Condition: {
        "ForAllValues:StringEquals": {
          "dynamodb:LeadingKeys": targets.map((t) => leasePartitionKey(t.app, refs.environment)),
        },
      },
    },
    writeOwnLogStreams(ctx, refs.logGroup),
    ...vpcLambdaNetworkStatements(ctx, refs),
  ];
}
