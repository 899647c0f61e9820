/**
 * The deploy runner: GitHub may only ask, AWS decides and deploys. A workflow (through the
 * GitHub runner role, by OIDC) can invoke the invoker Lambda and read the runner's logs, nothing
 * else. The invoker checks the request against the allowlist, takes the lease and starts the
 * runner's state machine, whose runner Lambda (private subnets, HTTPS out only) deploys the image
 * with its own role, bounded to the allowlisted services.
 */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import type { Environment } from "../lib/environments";
import { AllowlistEntry, AllowlistEntrySchema } from "../lambdas/deploy-invoker/allowlist";
import { runnerDefinition, runnerTimeoutSeconds } from "../lambdas/deploy-runner/state-machine";
import {
  RunnerTarget,
  githubRunnerStatements,
  invokerStatements,
  runnerLambdaStatements,
  stateMachineStatements,
} from "../lib/deploy-runner-iam";
import { AwsContext, policyDocument, serviceTrust } from "../lib/iam";
import { DeployRunnerNames, deployRunnerNames } from "../lib/naming";
import { IMAGE_DEPLOY_SESSION_SECONDS, RUNNER_MAX_DEADLINE_MINUTES } from "../lib/rollout";
import { invokerEnvironment } from "../lambdas/deploy-invoker/config";
import { addSecurityGroupRules } from "./container-service";
import type { DeployableService } from "../lib/deployables";
import { GitHubRepositoryIds, oidcTrust, subjectRepository } from "./deploy-identity";

/** Physical names, from `deployRunnerNames(env)`. */

/** One app the runner may deploy: its allowlist entry and the service's IAM facts. */
export interface DeployRunnerApp {
  /** Who may deploy the app and where it goes; checked against its schema before anything is registered. */
  readonly entry: AllowlistEntry;
  /** The service's ARN, task family, roles and tag parameter (the runner role's bounds). */
  readonly service: DeployableService;
  /**
   * The image's ECR repository, when it is in ECR; the invoker may then check the image exists.
   * @default none: the image is in another registry (ghcr.io), and the tag pattern is the check
   */
  readonly ecrRepositoryArn?: pulumi.Input<string>;
}

/** A repository whose workflows may assume the GitHub runner role. */
export interface DeployRunnerCaller {
  /** `owner/repo`, spelled exactly as GitHub spells it. */
  readonly repository: string;
  /** Its immutable ids. @default none: the subject is `repo:<owner>/<repo>:...` */
  readonly ids?: GitHubRepositoryIds;
  /** The GitHub environment its deploy job runs in. @default the environment's own (`env.githubEnvironment`) */
  readonly environment?: string;
}

export interface DeployRunnerArgs {
  /** The account, region and partition the runner deploys in. */
  readonly aws: AwsContext;
  /** The environment it deploys to: names, branch, GitHub environment, production or not. */
  readonly env: Environment;
  /** The runner Lambda's ENIs go into the private subnets; its security group into the VPC. */
  readonly network: { readonly vpcId: pulumi.Input<string>; readonly privateSubnetIds: pulumi.Input<string[]> };
  /** The apps it deploys: one entry per app, all of this environment. */
  readonly apps: readonly DeployRunnerApp[];
  /** The repositories that may assume the GitHub runner role; each must be the repository of an app's entry. */
  readonly callers: readonly DeployRunnerCaller[];
  /** The account's GitHub OIDC provider (`DeployIdentity.oidcProviderArn`). */
  readonly oidcProviderArn: pulumi.Input<string>;
  /** The invoker's code (a bundle whose `index.js` exports `handler`). */
  readonly invokerCode: pulumi.asset.Archive;
  /** The runner Lambda's code (the bundle of `lambdas/deploy-runner/handler.ts`, `index.js` exporting `handler`). */
  readonly runnerCode: pulumi.asset.Archive;
  /** Minutes from the start of a deploy to its deadline, 1 to `RUNNER_RUNNER_MAX_DEADLINE_MINUTES` (180). @default 30 */
  readonly deadlineMinutes?: number;
  /** Minutes a lease lasts; longer than the deadline and the execution's timeout. @default 45 */
  readonly leaseMinutes?: number;
  /** Days the three log groups keep events. @default 90 */
  readonly logRetentionDays?: number;
  /** Protect the lease table (production). @default env.production */
  readonly protect?: boolean;
  /** Physical names. @default deployRunnerNames(env.name) */
  readonly names?: DeployRunnerNames;
}

export const DEFAULT_DEADLINE_MINUTES = 30;
export const DEFAULT_LEASE_MINUTES = 45;
export const DEFAULT_LOG_RETENTION_DAYS = 90;
/**
 * The GitHub runner role's longest session: the image-deploy job's, because one job follows up to
 * four services' executions one after the other (each up to its deadline plus a margin). The role
 * can only invoke the invoker and read the runner's logs, so a long session widens nothing.
 */
export const GITHUB_RUNNER_SESSION_SECONDS = IMAGE_DEPLOY_SESSION_SECONDS;

interface Settings {
  readonly names: DeployRunnerNames;
  readonly deadlineMinutes: number;
  readonly leaseMinutes: number;
  readonly logRetentionDays: number;
  readonly protect: boolean;
  readonly entries: readonly AllowlistEntry[];
  readonly subjects: readonly string[];
}

/**
 * The deploy runner of one environment: the lease table, the invoker, the runner Lambda, the
 * state machine, their roles and log groups, and the GitHub runner role.
 */
export class DeployRunner extends pulumi.ComponentResource {
  readonly table: aws.dynamodb.Table;
  readonly invoker: aws.lambda.Function;
  readonly runner: aws.lambda.Function;
  readonly stateMachine: aws.sfn.StateMachine;
  readonly githubRole: aws.iam.Role;
  /** What the workflow invokes (`aws lambda invoke --function-name`). */
  readonly invokerFunctionName: pulumi.Output<string>;
  readonly invokerFunctionArn: pulumi.Output<string>;
  /** The role the workflow assumes (`role-to-assume`). */
  readonly githubRoleArn: pulumi.Output<string>;
  /** The audience the workflow requests its OIDC token for. */
  readonly invokerAudience: string;
  readonly stateMachineArn: pulumi.Output<string>;
  readonly tableName: pulumi.Output<string>;
  /** The log groups the workflow streams: the runner Lambda's and the state machine's. */
  readonly runnerLogGroupNames: pulumi.Output<string[]>;
  readonly invokerLogGroupName: pulumi.Output<string>;

  constructor(name: string, args: DeployRunnerArgs, opts?: pulumi.ComponentResourceOptions) {
    // Checked before the component itself registers: bad arguments leave nothing in the plan.
    const settings = validate(args);
    super("lumerin:deploy:DeployRunner", name, {}, opts);
    const { names } = settings;
    const targets = runnerTargets(args);

    const logs = logGroups(name, settings, this);
    this.table = leaseTable(name, settings, this);
    this.runner = runnerFunction(name, args, settings, targets, this.table, logs.runner, this);
    const machine = runnerStateMachine(name, args, settings, this.runner, logs.stateMachine, this);
    this.stateMachine = machine;
    this.invoker = invokerFunction(name, args, settings, targets, this.table, machine, logs, this);
    this.githubRole = githubRunnerRole(name, args, settings, this.invoker, logs, this);

    this.invokerFunctionName = this.invoker.name;
    this.invokerFunctionArn = this.invoker.arn;
    this.githubRoleArn = this.githubRole.arn;
    this.invokerAudience = names.invokerAudience;
    this.stateMachineArn = machine.arn;
    this.tableName = this.table.name;
    this.runnerLogGroupNames = pulumi.all([logs.runner.name, logs.stateMachine.name]);
    this.invokerLogGroupName = logs.invoker.name;
    this.registerOutputs({
      invokerFunctionName: this.invokerFunctionName,
      invokerFunctionArn: this.invokerFunctionArn,
      githubRoleArn: this.githubRoleArn,
      invokerAudience: this.invokerAudience,
      stateMachineArn: this.stateMachineArn,
      tableName: this.tableName,
      runnerLogGroupNames: this.runnerLogGroupNames,
      invokerLogGroupName: this.invokerLogGroupName,
    });
  }
}

/** Every argument checked before a resource is registered; each problem names its field. */
function validate(args: DeployRunnerArgs): Settings {
  const names = args.names ?? deployRunnerNames(args.env.name);
  const deadlineMinutes = args.deadlineMinutes ?? DEFAULT_DEADLINE_MINUTES;
  const leaseMinutes = args.leaseMinutes ?? DEFAULT_LEASE_MINUTES;
  const problems = timingProblems(deadlineMinutes, leaseMinutes);
  const entries = allowlistEntries(args, problems);
  const subjects = callerSubjects(args, entries, problems);
  if (problems.length > 0) throw new Error(`deploy runner (${args.env.name}): ${problems.join("; ")}`);
  // The invoker's environment, with the values its resources will have, must fit Lambda's limit.
  invokerVariables({ entries, names, deadlineMinutes, leaseMinutes }, args.env, {
    table: names.table,
    stateMachineArn: `arn:${args.aws.partition}:states:${args.aws.region}:${args.aws.accountId}:stateMachine:${names.stateMachine}`,
    logGroups: [names.runnerLogGroup, names.stateMachineLogGroup],
  });
  return {
    names,
    deadlineMinutes,
    leaseMinutes,
    logRetentionDays: args.logRetentionDays ?? DEFAULT_LOG_RETENTION_DAYS,
    protect: args.protect ?? args.env.production,
    entries,
    subjects: [...new Set(subjects)],
  };
}

/** The deadline below an hour, and the lease outlasting the execution's timeout. */
function timingProblems(deadlineMinutes: number, leaseMinutes: number): string[] {
  const problems: string[] = [];
  const whole = (v: number) => Number.isInteger(v) && v >= 1;
  if (!whole(deadlineMinutes) || deadlineMinutes > RUNNER_MAX_DEADLINE_MINUTES)
    problems.push(`deadlineMinutes ${deadlineMinutes} must be a whole number from 1 to ${RUNNER_MAX_DEADLINE_MINUTES}`);
  if (!whole(leaseMinutes)) problems.push(`leaseMinutes ${leaseMinutes} must be a whole number, at least 1`);
  const timeout = runnerTimeoutSeconds(deadlineMinutes);
  if (whole(deadlineMinutes) && whole(leaseMinutes) && leaseMinutes * 60 <= timeout)
    problems.push(
      `leaseMinutes ${leaseMinutes} must outlast the execution's timeout (${timeout} s: deadlineMinutes ${deadlineMinutes} plus its margin)`,
    );
  return problems;
}

/** The apps' allowlist entries, each checked against its schema, all of this environment, one per app. */
function allowlistEntries(args: DeployRunnerArgs, problems: string[]): AllowlistEntry[] {
  const entries: AllowlistEntry[] = [];
  args.apps.forEach((app, i) => {
    const parsed = AllowlistEntrySchema.safeParse(app.entry);
    if (!parsed.success) {
      for (const issue of parsed.error.issues)
        problems.push(`apps[${i}].entry.${issue.path.join(".")}: ${issue.message}`);
      return;
    }
    const entry = parsed.data;
    if (entry.environment !== args.env.name)
      problems.push(
        `apps[${i}] (${entry.app}): environment ${entry.environment} is not this stack's (${args.env.name})`,
      );
    if (entries.some((e) => e.app === entry.app)) problems.push(`apps[${i}]: app ${entry.app} is listed twice`);
    entries.push(entry);
  });
  if (args.apps.length === 0) problems.push("apps: the deploy runner needs at least one app");
  return entries;
}

/** The OIDC subjects the GitHub role trusts: each caller's, which must be the repository of its apps' entries. */
function callerSubjects(args: DeployRunnerArgs, entries: readonly AllowlistEntry[], problems: string[]): string[] {
  const subjects: string[] = [];
  args.callers.forEach((caller, i) => {
    const environment = caller.environment ?? args.env.githubEnvironment;
    const own = entries.filter((e) => e.repository === caller.repository && e.githubEnvironment === environment);
    if (own.length === 0)
      problems.push(`callers[${i}]: ${caller.repository} (environment ${environment}) deploys no app of the allowlist`);
    for (const e of own)
      if (
        caller.ids &&
        (String(caller.ids.repositoryId) !== e.repositoryId || String(caller.ids.ownerId) !== e.repositoryOwnerId)
      )
        problems.push(
          `callers[${i}]: ${caller.repository}'s ids differ from app ${e.app}'s repositoryId/repositoryOwnerId`,
        );
    try {
      subjects.push(`repo:${subjectRepository(caller.repository, caller.ids)}:environment:${environment}`);
    } catch (error) {
      problems.push(`callers[${i}].repository: ${(error as Error).message}`);
    }
  });
  for (const e of entries)
    if (
      !args.callers.some(
        (c) => c.repository === e.repository && (c.environment ?? args.env.githubEnvironment) === e.githubEnvironment,
      )
    )
      problems.push(
        `app ${e.app}: its repository ${e.repository} (environment ${e.githubEnvironment}) is not among the callers`,
      );
  return subjects;
}

function runnerTargets(args: DeployRunnerArgs): RunnerTarget[] {
  return args.apps.map((a) => ({
    ...a.service,
    app: a.entry.app,
    ...(a.ecrRepositoryArn ? { ecrRepositoryArn: a.ecrRepositoryArn } : {}),
  }));
}

interface LogGroups {
  readonly invoker: aws.cloudwatch.LogGroup;
  readonly runner: aws.cloudwatch.LogGroup;
  readonly stateMachine: aws.cloudwatch.LogGroup;
}

function logGroups(name: string, settings: Settings, parent: pulumi.Resource): LogGroups {
  const group = (suffix: string, groupName: string) =>
    new aws.cloudwatch.LogGroup(
      `${name}-${suffix}-logs`,
      { name: groupName, retentionInDays: settings.logRetentionDays },
      { parent },
    );
  return {
    invoker: group("invoker", settings.names.invokerLogGroup),
    runner: group("runner", settings.names.runnerLogGroup),
    stateMachine: group("state-machine", settings.names.stateMachineLogGroup),
  };
}

/** Leases (`lease#<app>#<env>`) and replay records (`jti#<jti>`), each expiring by TTL. */
function leaseTable(name: string, settings: Settings, parent: pulumi.Resource): aws.dynamodb.Table {
  return new aws.dynamodb.Table(
    `${name}-table`,
    {
      name: settings.names.table,
      billingMode: "PAY_PER_REQUEST",
      hashKey: "pk",
      attributes: [{ name: "pk", type: "S" }],
      ttl: { attributeName: "expiresAt", enabled: true },
      serverSideEncryption: { enabled: true },
      pointInTimeRecovery: { enabled: true },
      deletionProtectionEnabled: settings.protect,
    },
    { parent, protect: settings.protect },
  );
}

function runnerFunction(
  name: string,
  args: DeployRunnerArgs,
  settings: Settings,
  targets: readonly RunnerTarget[],
  table: aws.dynamodb.Table,
  logGroup: aws.cloudwatch.LogGroup,
  parent: pulumi.Resource,
): aws.lambda.Function {
  const { names } = settings;
  const group = runnerSecurityGroup(name, args, settings, parent);
  const { role, policy } = runnerRole(name, args, settings, { targets, table, securityGroup: group }, parent);
  return new aws.lambda.Function(
    `${name}-runner`,
    {
      name: names.runnerFunction,
      description: "Deploy runner: begin, watch, record and release one deploy (invoked by its state machine only)",
      runtime: "nodejs24.x",
      handler: "index.handler",
      architectures: ["x86_64"],
      role: role.arn,
      code: args.runnerCode,
      timeout: 60,
      memorySize: 256,
      vpcConfig: { subnetIds: args.network.privateSubnetIds, securityGroupIds: [group.id] },
      loggingConfig: {
        logFormat: "JSON",
        logGroup: logGroup.name,
        applicationLogLevel: "INFO",
        systemLogLevel: "WARN",
      },
    },
    { parent, dependsOn: [logGroup, policy] },
  );
}

/** The runner Lambda's security group: no inbound, HTTPS out only (the AWS APIs). */
function runnerSecurityGroup(
  name: string,
  args: DeployRunnerArgs,
  { names }: Settings,
  parent: pulumi.Resource,
): aws.ec2.SecurityGroup {
  const group = new aws.ec2.SecurityGroup(
    `${name}-runner-sg`,
    {
      name: names.runnerSecurityGroup,
      description: `${names.runnerFunction}: no inbound; HTTPS out to the AWS APIs`,
      vpcId: args.network.vpcId,
      tags: { Name: names.runnerSecurityGroup },
    },
    { parent },
  );
  addSecurityGroupRules(
    `${name}-runner-out`,
    "egress",
    group.id,
    [
      {
        key: "https",
        description: "ECS, SSM and DynamoDB APIs over HTTPS",
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

/** The runner Lambda's role and its one policy: the allowlisted services, families, roles, parameters and leases. */
function runnerRole(
  name: string,
  args: DeployRunnerArgs,
  { names }: Settings,
  bounds: {
    readonly targets: readonly RunnerTarget[];
    readonly table: aws.dynamodb.Table;
    readonly securityGroup: aws.ec2.SecurityGroup;
  },
  parent: pulumi.Resource,
): { readonly role: aws.iam.Role; readonly policy: aws.iam.RolePolicy } {
  const role = new aws.iam.Role(
    `${name}-runner-role`,
    {
      name: names.runnerRole,
      description: `${names.runnerFunction}: deploys images to the allowlisted services of ${args.env.name}, nothing else`,
      assumeRolePolicy: serviceTrust("lambda.amazonaws.com", args.aws.accountId, "LambdaAssumesForThisAccountOnly"),
      maxSessionDuration: 3600,
    },
    { parent },
  );
  const policy = new aws.iam.RolePolicy(
    `${name}-runner-policy`,
    {
      role: role.id,
      name: "deploy-allowlisted-services",
      policy: pulumi
        .all([args.network.vpcId, args.network.privateSubnetIds, bounds.securityGroup.id])
        .apply(([vpcId, subnetIds, securityGroupId]) =>
          pulumi.output(
            policyDocument(
              runnerLambdaStatements(args.aws, {
                environment: args.env.name,
                tableArn: bounds.table.arn,
                targets: bounds.targets,
                logGroup: names.runnerLogGroup,
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
  return { role, policy };
}

function runnerStateMachine(
  name: string,
  args: DeployRunnerArgs,
  settings: Settings,
  runner: aws.lambda.Function,
  logGroup: aws.cloudwatch.LogGroup,
  parent: pulumi.Resource,
): aws.sfn.StateMachine {
  const { names } = settings;
  const role = new aws.iam.Role(
    `${name}-state-machine-role`,
    {
      name: names.stateMachineRole,
      description: `${names.stateMachine}: invokes ${names.runnerFunction}, nothing else`,
      assumeRolePolicy: serviceTrust(
        "states.amazonaws.com",
        args.aws.accountId,
        "StepFunctionsAssumesForThisAccountOnly",
      ),
      maxSessionDuration: 3600,
    },
    { parent },
  );
  const policy = new aws.iam.RolePolicy(
    `${name}-state-machine-policy`,
    {
      role: role.id,
      name: "invoke-runner",
      policy: policyDocument(stateMachineStatements({ runnerFunctionArn: runner.arn })),
    },
    { parent },
  );
  return new aws.sfn.StateMachine(
    `${name}-state-machine`,
    {
      name: names.stateMachine,
      // Standard: an execution name (the request id) stays taken for 90 days, and the history is the audit record.
      type: "STANDARD",
      roleArn: role.arn,
      definition: runner.arn.apply((arn) =>
        JSON.stringify(runnerDefinition({ runnerFunctionArn: arn, deadlineMinutes: settings.deadlineMinutes })),
      ),
      loggingConfiguration: {
        level: "ALL",
        // The input carries only the allowlist's target and the order, but execution data stays out of the logs anyway.
        includeExecutionData: false,
        logDestination: pulumi.interpolate`${logGroup.arn}:*`,
      },
    },
    // Step Functions checks the role's rights when the state machine is created.
    { parent, dependsOn: [policy] },
  );
}

function invokerFunction(
  name: string,
  args: DeployRunnerArgs,
  settings: Settings,
  targets: readonly RunnerTarget[],
  table: aws.dynamodb.Table,
  machine: aws.sfn.StateMachine,
  logs: LogGroups,
  parent: pulumi.Resource,
): aws.lambda.Function {
  const { names } = settings;
  const role = new aws.iam.Role(
    `${name}-invoker-role`,
    {
      name: names.invokerRole,
      description: `${names.invokerFunction}: checks deploy requests, takes the lease, starts ${names.stateMachine}`,
      assumeRolePolicy: serviceTrust("lambda.amazonaws.com", args.aws.accountId, "LambdaAssumesForThisAccountOnly"),
      maxSessionDuration: 3600,
    },
    { parent },
  );
  const policy = new aws.iam.RolePolicy(
    `${name}-invoker-policy`,
    {
      role: role.id,
      name: "invoke-deploy-runner",
      policy: policyDocument(
        invokerStatements(args.aws, {
          environment: args.env.name,
          tableArn: table.arn,
          stateMachineArn: machine.arn,
          targets,
          logGroup: names.invokerLogGroup,
        }),
      ),
    },
    { parent },
  );
  const variables = pulumi
    .all([table.name, machine.arn, logs.runner.name, logs.stateMachine.name])
    .apply(([tableName, stateMachineArn, runnerLogs, machineLogs]) =>
      invokerVariables(settings, args.env, { table: tableName, stateMachineArn, logGroups: [runnerLogs, machineLogs] }),
    );
  return new aws.lambda.Function(
    `${name}-invoker`,
    {
      name: names.invokerFunction,
      description: "Deploy invoker: checks a GitHub deploy request against the allowlist and starts the deploy runner",
      runtime: "nodejs24.x",
      handler: "index.handler",
      architectures: ["x86_64"],
      role: role.arn,
      code: args.invokerCode,
      timeout: 30,
      memorySize: 256,
      // Outside the VPC: it fetches GitHub's signing keys from the internet, and reaches AWS APIs only.
      environment: { variables },
      loggingConfig: {
        logFormat: "JSON",
        logGroup: logs.invoker.name,
        applicationLogLevel: "INFO",
        systemLogLevel: "WARN",
      },
    },
    { parent, dependsOn: [logs.invoker, policy] },
  );
}

/** The invoker's environment for these settings, checked as the invoker checks it at cold start and against Lambda's limit. */
function invokerVariables(
  settings: Pick<Settings, "entries" | "names" | "deadlineMinutes" | "leaseMinutes">,
  env: Environment,
  refs: { readonly table: string; readonly stateMachineArn: string; readonly logGroups: readonly [string, string] },
): Record<string, string> {
  return invokerEnvironment({
    environment: env.name,
    audience: settings.names.invokerAudience,
    allowlist: settings.entries,
    table: refs.table,
    stateMachineArn: refs.stateMachineArn,
    deadlineMinutes: settings.deadlineMinutes,
    leaseMinutes: settings.leaseMinutes,
    logGroups: refs.logGroups,
  });
}

function githubRunnerRole(
  name: string,
  args: DeployRunnerArgs,
  settings: Settings,
  invoker: aws.lambda.Function,
  logs: LogGroups,
  parent: pulumi.Resource,
): aws.iam.Role {
  const { names } = settings;
  const role = new aws.iam.Role(
    `${name}-github-role`,
    {
      name: names.githubRole,
      description: `GitHub Actions ask the deploy runner of ${args.env.name} to deploy: invoke ${names.invokerFunction} and read the runner's logs, nothing else`,
      assumeRolePolicy: oidcTrust(
        args.oidcProviderArn,
        `GitHub${pascal(args.env.githubEnvironment)}EnvironmentOfTheAllowlistedRepositoriesOnly`,
        settings.subjects,
      ),
      // The workflow streams the runner's logs until the execution ends (at most an hour and two minutes).
      maxSessionDuration: GITHUB_RUNNER_SESSION_SECONDS,
    },
    { parent },
  );
  new aws.iam.RolePolicy(
    `${name}-github-policy`,
    {
      role: role.id,
      name: "ask-deploy-runner",
      policy: policyDocument(
        githubRunnerStatements(args.aws, {
          invokerFunctionArn: invoker.arn,
          logGroups: [logs.runner.name, logs.stateMachine.name],
        }),
      ),
    },
    { parent },
  );
  return role;
}

function pascal(text: string): string {
  return text.replace(/(^|[^A-Za-z0-9])([A-Za-z0-9])/g, (_, __, c: string) => c.toUpperCase());
}
