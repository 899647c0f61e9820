import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { AwsContext, Statement, policyDocument, serviceTrust } from "../lib/iam";
import type { ClusterRef } from "./cluster";

/** One container secret: a JSON key of a Secrets Manager secret, read by ECS at task start. */
export interface ContainerSecret {
  /** Environment variable name inside the container, e.g. `PGPASSWORD`. */
  readonly name: string;
  /** Full ARN of the Secrets Manager secret. */
  readonly secretArn: pulumi.Input<string>;
  /** Key inside the secret's JSON object, e.g. `password`. */
  readonly jsonKey: string;
  /**
   * Customer-managed key the secret is encrypted with; the execution role may decrypt with it
   * only through Secrets Manager.
   * @default none (the AWS-managed key, no `kms:Decrypt` statement)
   */
  readonly kmsKeyArn?: pulumi.Input<string>;
}

/** One security-group rule, without its id (the id is the key of the map it sits in). */
export interface SecurityGroupRuleSpec {
  /** Why the rule exists: shown in the console and in the plan. */
  readonly description: string;
  /** `tcp`, `udp`, or `-1` (all traffic; the ports are then not sent). */
  readonly protocol: "tcp" | "udp" | "-1";
  /** First port of the range, e.g. 443. */
  readonly fromPort: number;
  /** Last port of the range, e.g. 443. */
  readonly toPort: number;
  /**
   * CIDR blocks the rule admits (ingress) or reaches (egress): one rule resource per block,
   * `<prefix>-<id>-<n>` when there are several. Give either these or `securityGroupId`.
   * @default none
   */
  readonly cidrBlocks?: readonly string[];
  /**
   * The other end as a security group. Give either this or `cidrBlocks`.
   * @default none
   */
  readonly securityGroupId?: pulumi.Input<string>;
  /** Tags of the rule resource (an adoption's policy exception tag, for one). @default none */
  readonly tags?: Readonly<Record<string, string>>;
}

/** A security-group rule with its id, for {@link addSecurityGroupRules}. */
export interface SecurityGroupRule extends SecurityGroupRuleSpec {
  /** Stable short id of the rule's purpose (`stratum-from-nlb`): part of its logical name, so rules never shift. */
  readonly key: string;
}

/** Security-group rules keyed by their stable id (`stratum-from-nlb`), which is part of each rule's logical name. */
export type SecurityGroupRules = Readonly<Record<string, SecurityGroupRuleSpec>>;

/** The container's own health check (ECS restarts an unhealthy task). */
export interface ContainerHealthCheck {
  /** The check, e.g. `["CMD-SHELL", "wget -q -O /dev/null http://127.0.0.1:8080/healthcheck || exit 1"]`. */
  readonly command: readonly string[];
  /** Seconds between checks. */
  readonly intervalSeconds: number;
  /** Seconds before one check counts as failed. */
  readonly timeoutSeconds: number;
  /** Consecutive failures that make the task unhealthy. */
  readonly retries: number;
  /** Seconds after start during which failures do not count. */
  readonly startPeriodSeconds: number;
}

/** Physical names of what a container service creates (lib/naming.ts has the estate's). */
export interface ContainerServiceNames {
  /** ECS service, e.g. `svc-proxy-router-dev-use1`. */
  readonly service: string;
  /** Task definition family, e.g. `tsk-proxy-router`. */
  readonly taskFamily: string;
  /** The one container's name (the deploy workflow swaps its image), e.g. `proxy-router-container`. */
  readonly container: string;
  /** The tasks' security group. */
  readonly securityGroup: string;
  /** The role ECS starts tasks with (pull, secrets, logs). */
  readonly executionRole: string;
  /** The application's own role. */
  readonly taskRole: string;
  /** The container log group, e.g. `bedrock-dev-proxy-router-log-group`. */
  readonly logGroup: string;
}

/** Where the tasks run. */
export interface ContainerServiceNetwork {
  /** The VPC of the tasks' security group. */
  readonly vpcId: pulumi.Input<string>;
  /** Private subnets of the tasks (no public IP is ever assigned). */
  readonly subnetIds: pulumi.Input<string[]>;
  /**
   * The security group's description (EC2 cannot change one: a new description is a new group).
   * @default "<names.service> tasks"
   */
  readonly securityGroupDescription?: string;
}

/** The one container of the task. */
export interface ContainerSpec {
  /** Full image reference `repository:tag`, e.g. `ghcr.io/lumerin-protocol/proxy-router:proxy-router-v3.2.1-dev`. */
  readonly image: string;
  /** Fargate CPU units, e.g. 256; validated against Fargate's table by config. */
  readonly cpu: number;
  /** Fargate memory (MiB), e.g. 512. */
  readonly memory: number;
  /**
   * Plain, non-secret environment; outputs (a database address) are resolved into the task definition.
   * @default none
   */
  readonly environment?: Readonly<Record<string, pulumi.Input<string>>>;
  /** Secrets by JSON key, read by ECS at task start. @default none */
  readonly secrets?: readonly ContainerSecret[];
  /**
   * Secret with `{"username","password"}` for a private registry; the execution role may read it.
   * @default none (a public image)
   */
  readonly repositoryCredentialsSecretArn?: string;
  /** TCP ports the container listens on, each named, e.g. `{ containerPort: 3333, name: "stratum" }`. @default none */
  readonly portMappings?: readonly { readonly containerPort: number; readonly name: string }[];
  /** @default none (ECS then judges a task by its process alone) */
  readonly healthCheck?: ContainerHealthCheck;
  /** e.g. `[{ name: "nofile", softLimit: 15000, hardLimit: 15000 }]`. @default none (Fargate's) */
  readonly ulimits?: readonly { readonly name: string; readonly softLimit: number; readonly hardLimit: number }[];
}

/** The container's logs. */
export interface ContainerServiceLogging {
  /** Days CloudWatch Logs keeps them. */
  readonly retentionDays: number;
  /** awslogs stream prefix, e.g. `proxy-router-tsk`. */
  readonly streamPrefix: string;
}

/** How the service runs and rolls out. */
export interface ContainerServiceDeployment {
  /** Initial task count; later changes by people or autoscaling are not undone by `pulumi up`. */
  readonly desiredCount: number;
  /**
   * Never two tasks at once (bots that must be unique, such as a Telegram bot):
   * deployments stop the old task before starting the new one (0 % / 100 % instead of 100 % / 200 %).
   * @default false
   */
  readonly singleton?: boolean;
  /**
   * CloudWatch alarms (by name; the monitoring creates them) that fail a deployment
   * and roll it back when any of them fires during it, besides the circuit breaker.
   * @default none
   */
  readonly alarmNames?: readonly string[];
  /**
   * Seconds ECS ignores load-balancer health checks after a task starts (only sent with `loadBalancers`).
   * @default 60
   */
  readonly healthCheckGracePeriodSeconds?: number;
}

/** Adjusts the args of one child before it is constructed: what it returns is what the plan and the policy pack see. */
export type Transform<T> = (args: T, name: string) => T;

/** One hook per child of {@link ContainerService}; each gets the args and the child's logical name. */
export interface ContainerServiceTransforms {
  /** `<name>-service`. @default none */
  readonly service?: Transform<aws.ecs.ServiceArgs>;
  /** `<name>-task`. @default none */
  readonly taskDefinition?: Transform<aws.ecs.TaskDefinitionArgs>;
  /** `<name>-sg`. @default none */
  readonly securityGroup?: Transform<aws.ec2.SecurityGroupArgs>;
  /** `<name>-execution-role`. @default none */
  readonly executionRole?: Transform<aws.iam.RoleArgs>;
  /** `<name>-execution-policy`. @default none */
  readonly executionRolePolicy?: Transform<aws.iam.RolePolicyArgs>;
  /** `<name>-task-role`. @default none */
  readonly taskRole?: Transform<aws.iam.RoleArgs>;
  /** `<name>-task-policy` (only when the task role has statements). @default none */
  readonly taskRolePolicy?: Transform<aws.iam.RolePolicyArgs>;
  /** `<name>-logs`. @default none */
  readonly logGroup?: Transform<aws.cloudwatch.LogGroupArgs>;
  /** Every `<name>-in-<id>` rule. @default none */
  readonly ingressRule?: Transform<aws.vpc.SecurityGroupIngressRuleArgs>;
  /** Every `<name>-out-<id>` rule. @default none */
  readonly egressRule?: Transform<aws.vpc.SecurityGroupEgressRuleArgs>;
}

export interface ContainerServiceArgs {
  /** The account and region (trust conditions, log configuration, the KMS `ViaService`). */
  readonly aws: AwsContext;
  /** The cluster the service runs in (and whose exec log group and key ECS Exec uses). */
  readonly cluster: ClusterRef;
  /** Physical names of every child. */
  readonly names: ContainerServiceNames;
  /** VPC, subnets and the security group's description. */
  readonly network: ContainerServiceNetwork;
  /** Image, size, environment, secrets, ports, health check, limits. */
  readonly container: ContainerSpec;
  /** Log retention and stream prefix. */
  readonly logging: ContainerServiceLogging;
  /** Task count, singleton mode, rollback alarms. */
  readonly deployment: ContainerServiceDeployment;
  /**
   * Inbound rules keyed by id, e.g. `{ "stratum-from-nlb": { ... } }`; each is `<name>-in-<id>`.
   * @default none (no port open)
   */
  readonly ingress?: SecurityGroupRules;
  /**
   * Outbound rules keyed by id; each is `<name>-out-<id>`.
   * @default `{ https: ... }`: HTTPS anywhere (registries, Secrets Manager, CloudWatch, RPC)
   */
  readonly egress?: SecurityGroupRules;
  /** Target groups the service registers its tasks in, by container port. @default none */
  readonly loadBalancers?: readonly { readonly targetGroupArn: pulumi.Input<string>; readonly containerPort: number }[];
  /** Allow `aws ecs execute-command` (the task role gets the session rights). @default false */
  readonly enableExecuteCommand?: boolean;
  /** Rights the application itself needs (the task role). @default none */
  readonly taskRoleStatements?: readonly Statement[];
  /** Hooks that adjust each child's args before it is created. @default none */
  readonly transform?: ContainerServiceTransforms;
}

/** The default egress: HTTPS anywhere, and nothing else. */
export const HTTPS_OUT: SecurityGroupRules = {
  https: {
    description: "HTTPS to registries, Secrets Manager, CloudWatch and RPC endpoints",
    protocol: "tcp",
    fromPort: 443,
    toPort: 443,
    cidrBlocks: ["0.0.0.0/0"],
  },
};

/** The two roles and the inline policies the service must wait for. */
export interface ContainerServiceRoles {
  readonly executionRole: aws.iam.Role;
  readonly taskRole: aws.iam.Role;
  /** The execution role's policy and the task role's (when it has one): the service depends on them. */
  readonly policies: readonly aws.iam.RolePolicy[];
}

/**
 * THE Fargate building block: task definition, one container, secrets by JSON
 * key, logs, security group, execution and task roles, and a service with the
 * deployment circuit breaker and rollback on.
 *
 * Code deploys (a new image) happen outside Pulumi: the image-deploy workflow
 * registers a revision and updates the service. So the service ignores
 * `desiredCount` drift, old task definition revisions are kept (the circuit
 * breaker rolls back to them), and the image comes from the caller, who
 * resolves it so that `pulumi up` keeps what is running (see docs/image-tags.md).
 */
export class ContainerService extends pulumi.ComponentResource {
  readonly service: aws.ecs.Service;
  readonly taskDefinition: aws.ecs.TaskDefinition;
  readonly executionRole: aws.iam.Role;
  readonly taskRole: aws.iam.Role;
  readonly securityGroup: aws.ec2.SecurityGroup;
  readonly logGroup: aws.cloudwatch.LogGroup;
  readonly serviceArn: pulumi.Output<string>;
  readonly serviceName: pulumi.Output<string>;
  readonly securityGroupId: pulumi.Output<string>;

  constructor(name: string, args: ContainerServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lumerin:ecs:ContainerService", name, {}, opts);
    validate(args);
    this.logGroup = containerLogGroup(name, args, this);
    this.securityGroup = serviceSecurityGroup(name, args, this);
    const roles = serviceRoles(name, args, this.logGroup.arn, this);
    this.executionRole = roles.executionRole;
    this.taskRole = roles.taskRole;
    this.taskDefinition = taskDefinition(name, args, roles, this.logGroup, this);
    this.service = ecsService(name, args, this.taskDefinition, this.securityGroup, roles.policies, this);

    this.serviceArn = this.service.arn;
    this.serviceName = this.service.name;
    this.securityGroupId = this.securityGroup.id;
    this.registerOutputs({
      serviceArn: this.serviceArn,
      serviceName: this.serviceName,
      taskDefinitionArn: this.taskDefinition.arn,
      executionRoleArn: this.executionRole.arn,
      taskRoleArn: this.taskRole.arn,
      securityGroupId: this.securityGroupId,
      logGroupName: this.logGroup.name,
    });
  }
}

/** `hook(args, name)` when a hook is given, else `args`. */
export function transformed<T>(hook: Transform<T> | undefined, args: T, name: string): T {
  return hook ? hook(args, name) : args;
}

/** Refuses, naming the service, a singleton with more than one task and a secret name used twice or also as environment. */
export function validate(args: Pick<ContainerServiceArgs, "names" | "container" | "deployment">): void {
  const service = args.names.service;
  const { desiredCount, singleton } = args.deployment;
  if (singleton && desiredCount > 1) {
    throw new Error(`${service}: a singleton service runs at most one task (desiredCount ${desiredCount})`);
  }
  const secrets = args.container.secrets ?? [];
  const secretNames = new Set(secrets.map((s) => s.name));
  for (const name of Object.keys(args.container.environment ?? {})) {
    if (secretNames.has(name)) throw new Error(`${service}: ${name} is both a secret and plain environment`);
  }
  if (secretNames.size !== secrets.length) {
    throw new Error(`${service}: a container secret name is used twice`);
  }
}

/** `<name>-logs`: the container log group with its retention. */
export function containerLogGroup(
  name: string,
  args: Pick<ContainerServiceArgs, "names" | "logging" | "transform">,
  parent: pulumi.Resource,
): aws.cloudwatch.LogGroup {
  const logical = `${name}-logs`;
  return new aws.cloudwatch.LogGroup(
    logical,
    transformed(
      args.transform?.logGroup,
      { name: args.names.logGroup, retentionInDays: args.logging.retentionDays },
      logical,
    ),
    { parent },
  );
}

/** `<name>-sg` and one resource per rule: `<name>-in-<id>`, `<name>-out-<id>` (HTTPS out by default). */
export function serviceSecurityGroup(
  name: string,
  args: Pick<ContainerServiceArgs, "names" | "network" | "ingress" | "egress" | "transform">,
  parent: pulumi.Resource,
): aws.ec2.SecurityGroup {
  const logical = `${name}-sg`;
  const group = new aws.ec2.SecurityGroup(
    logical,
    transformed(
      args.transform?.securityGroup,
      {
        name: args.names.securityGroup,
        description: args.network.securityGroupDescription ?? `${args.names.service} tasks`,
        vpcId: args.network.vpcId,
        tags: { Name: args.names.securityGroup },
      },
      logical,
    ),
    { parent },
  );
  addSecurityGroupRules(`${name}-in`, "ingress", group.id, keyed(args.ingress ?? {}), parent, args.transform);
  addSecurityGroupRules(`${name}-out`, "egress", group.id, keyed(args.egress ?? HTTPS_OUT), parent, args.transform);
  return group;
}

/** The rules of a map as a list, each with its id as `key`. */
export function keyed(rules: SecurityGroupRules): SecurityGroupRule[] {
  return Object.entries(rules).map(([key, rule]) => ({ key, ...rule }));
}

/** `<name>-execution-role` with its `start-task` policy, `<name>-task-role` with its `application` policy when it has statements. */
export function serviceRoles(
  name: string,
  args: ContainerServiceArgs,
  logGroupArn: pulumi.Output<string>,
  parent: pulumi.Resource,
): ContainerServiceRoles {
  const hooks = args.transform ?? {};
  const trust = serviceTrust("ecs-tasks.amazonaws.com", args.aws.accountId, "EcsTasksAssumeForThisAccountOnly");
  const role = (suffix: string, description: string, hook: Transform<aws.iam.RoleArgs> | undefined, physical: string) =>
    new aws.iam.Role(
      `${name}-${suffix}`,
      transformed(
        hook,
        { name: physical, description, assumeRolePolicy: trust, maxSessionDuration: 3600 },
        `${name}-${suffix}`,
      ),
      { parent },
    );
  const policy = (
    suffix: string,
    roleId: pulumi.Input<string>,
    hook: Transform<aws.iam.RolePolicyArgs> | undefined,
    policyName: string,
    document: pulumi.Input<aws.types.input.iam.PolicyDocument>,
  ) =>
    new aws.iam.RolePolicy(
      `${name}-${suffix}`,
      transformed(hook, { role: roleId, name: policyName, policy: document }, `${name}-${suffix}`),
      { parent },
    );

  const service = args.names.service;
  const executionRole = role(
    "execution-role",
    `ECS starts ${service} tasks: pulls the image, reads its own secrets, writes its own logs`,
    hooks.executionRole,
    args.names.executionRole,
  );
  const policies = [
    policy(
      "execution-policy",
      executionRole.id,
      hooks.executionRolePolicy,
      "start-task",
      executionPolicy(args, logGroupArn),
    ),
  ];
  const taskRole = role("task-role", `The ${service} application's own identity`, hooks.taskRole, args.names.taskRole);
  const taskStatements = [
    ...(args.taskRoleStatements ?? []),
    ...(args.enableExecuteCommand ? execStatements(args.cluster) : []),
  ];
  if (taskStatements.length > 0) {
    policies.push(
      policy("task-policy", taskRole.id, hooks.taskRolePolicy, "application", policyDocument(taskStatements)),
    );
  }
  return { executionRole, taskRole, policies };
}

/** The container definition of the task: environment sorted by name, secrets by `valueFrom`, awslogs to `logGroupName`. */
export function containerDefinition(
  args: Pick<ContainerServiceArgs, "aws" | "names" | "container" | "logging">,
  logGroupName: pulumi.Input<string>,
): Record<string, unknown> {
  const c = args.container;
  return {
    name: args.names.container,
    image: c.image,
    essential: true,
    portMappings: (c.portMappings ?? []).map((p) => ({
      name: p.name,
      containerPort: p.containerPort,
      hostPort: p.containerPort,
      protocol: "tcp",
    })),
    environment: Object.entries(c.environment ?? {})
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([n, value]) => ({ name: n, value })),
    secrets: (c.secrets ?? []).map((s) => ({
      name: s.name,
      valueFrom: pulumi.interpolate`${s.secretArn}:${s.jsonKey}::`,
    })),
    ...(c.repositoryCredentialsSecretArn
      ? { repositoryCredentials: { credentialsParameter: c.repositoryCredentialsSecretArn } }
      : {}),
    ...(c.healthCheck
      ? {
          healthCheck: {
            command: [...c.healthCheck.command],
            interval: c.healthCheck.intervalSeconds,
            timeout: c.healthCheck.timeoutSeconds,
            retries: c.healthCheck.retries,
            startPeriod: c.healthCheck.startPeriodSeconds,
          },
        }
      : {}),
    ...(c.ulimits?.length ? { ulimits: c.ulimits.map((u) => ({ ...u })) } : {}),
    logConfiguration: {
      logDriver: "awslogs",
      options: {
        "awslogs-group": logGroupName,
        "awslogs-region": args.aws.region,
        "awslogs-stream-prefix": args.logging.streamPrefix,
      },
    },
  };
}

/** `<name>-task`: a Fargate (x86-64 Linux) task definition of the one container; old revisions are kept. */
export function taskDefinition(
  name: string,
  args: ContainerServiceArgs,
  roles: ContainerServiceRoles,
  logGroup: aws.cloudwatch.LogGroup,
  parent: pulumi.Resource,
): aws.ecs.TaskDefinition {
  const logical = `${name}-task`;
  return new aws.ecs.TaskDefinition(
    logical,
    transformed(
      args.transform?.taskDefinition,
      {
        family: args.names.taskFamily,
        cpu: String(args.container.cpu),
        memory: String(args.container.memory),
        networkMode: "awsvpc",
        requiresCompatibilities: ["FARGATE"],
        runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: "X86_64" },
        executionRoleArn: roles.executionRole.arn,
        taskRoleArn: roles.taskRole.arn,
        containerDefinitions: pulumi.jsonStringify([containerDefinition(args, logGroup.name)]),
        // Keep superseded revisions registered: the circuit breaker rolls back to them,
        // and the deploy workflow renders new revisions from the current one.
        skipDestroy: true,
      },
      logical,
    ),
    { parent },
  );
}

/** `<name>-service`: circuit breaker with rollback, private IPs only, desiredCount left to people after creation. */
export function ecsService(
  name: string,
  args: ContainerServiceArgs,
  task: aws.ecs.TaskDefinition,
  securityGroup: aws.ec2.SecurityGroup,
  rolePolicies: readonly aws.iam.RolePolicy[],
  parent: pulumi.Resource,
): aws.ecs.Service {
  const logical = `${name}-service`;
  const d = args.deployment;
  const alarms = d.alarmNames ?? [];
  const loadBalancers = args.loadBalancers ?? [];
  return new aws.ecs.Service(
    logical,
    transformed(
      args.transform?.service,
      {
        name: args.names.service,
        cluster: args.cluster.arn,
        taskDefinition: task.arn,
        desiredCount: d.desiredCount,
        launchType: "FARGATE",
        platformVersion: "LATEST",
        deploymentCircuitBreaker: { enable: true, rollback: true },
        ...(alarms.length ? { alarms: { alarmNames: [...alarms], enable: true, rollback: true } } : {}),
        deploymentMinimumHealthyPercent: d.singleton ? 0 : 100,
        deploymentMaximumPercent: d.singleton ? 100 : 200,
        networkConfiguration: {
          subnets: args.network.subnetIds,
          securityGroups: [securityGroup.id],
          assignPublicIp: false,
        },
        loadBalancers: loadBalancers.map((lb) => ({
          targetGroupArn: lb.targetGroupArn,
          containerName: args.names.container,
          containerPort: lb.containerPort,
        })),
        ...(loadBalancers.length ? { healthCheckGracePeriodSeconds: d.healthCheckGracePeriodSeconds ?? 60 } : {}),
        enableExecuteCommand: args.enableExecuteCommand ?? false,
        propagateTags: "SERVICE",
        enableEcsManagedTags: true,
      },
      logical,
    ),
    {
      parent,
      // Scaling belongs to people and autoscaling, not to the last `pulumi up`.
      ignoreChanges: ["desiredCount"],
      // A role exists before its inline policy does: without these, the first tasks could start
      // while the execution role may not yet pull the image, read the secrets or write logs.
      dependsOn: [...rolePolicies],
    },
  );
}

/** The execution role may read exactly the secrets the task references, and write exactly its own logs. */
function executionPolicy(
  args: Pick<ContainerServiceArgs, "aws" | "container">,
  logGroupArn: pulumi.Output<string>,
): pulumi.Output<aws.types.input.iam.PolicyDocument> {
  const secrets = args.container.secrets ?? [];
  const credentials = args.container.repositoryCredentialsSecretArn;
  const secretArns = [...secrets.map((s) => s.secretArn), ...(credentials ? [credentials] : [])];
  const keyArns = secrets.flatMap((s) => (s.kmsKeyArn ? [s.kmsKeyArn] : []));
  return pulumi
    .all([logGroupArn, pulumi.all(secretArns), pulumi.all(keyArns)])
    .apply(([logGroup, secretList, keyList]) => {
      const uniqueSecrets = [...new Set(secretList)].sort();
      const uniqueKeys = [...new Set(keyList)].sort();
      const statements: Statement[] = [
        {
          Sid: "WriteOwnLogStreams",
          Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
          Resource: [`${logGroup}:log-stream:*`],
        },
      ];
      if (uniqueSecrets.length > 0) {
        statements.push({
          Sid: "ReadOwnSecretsAtTaskStart",
          Action: ["secretsmanager:GetSecretValue"],
          Resource: uniqueSecrets,
        });
      }
      if (uniqueKeys.length > 0) {
        statements.push({
          Sid: "DecryptOwnSecretsThroughSecretsManagerOnly",
          Action: ["kms:Decrypt"],
          Resource: uniqueKeys,
          Condition: { StringEquals: { "kms:ViaService": `secretsmanager.${args.aws.region}.amazonaws.com` } },
        });
      }
      return policyDocument(statements);
    });
}

/** What `aws ecs execute-command` needs from the task role (AWS documents these as resource-less). */
function execStatements(cluster: ClusterRef): Statement[] {
  return [
    {
      Sid: "ExecSessionChannelsAcceptNoResourceArn",
      Action: [
        "ssmmessages:CreateControlChannel",
        "ssmmessages:CreateDataChannel",
        "ssmmessages:OpenControlChannel",
        "ssmmessages:OpenDataChannel",
      ],
      Resource: "*",
    },
    {
      Sid: "ExecSessionLogDiscoveryAcceptsNoResourceArn",
      Action: ["logs:DescribeLogGroups"],
      Resource: "*",
    },
    {
      Sid: "WriteExecSessionTranscripts",
      Action: ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
      Resource: [cluster.execLogGroupArn, pulumi.interpolate`${cluster.execLogGroupArn}:log-stream:*`],
    },
    {
      Sid: "EncryptExecSessionsWithClusterKey",
      Action: ["kms:Decrypt", "kms:GenerateDataKey"],
      Resource: [cluster.kmsKeyArn],
    },
  ];
}

/**
 * One resource per rule (not inline blocks), so that rules added later never fight over the group:
 * `<prefix>-<key>` (`-<n>` per CIDR when a rule has several), each rule's args through
 * `transform.ingressRule` / `transform.egressRule` when given.
 */
export function addSecurityGroupRules(
  prefix: string,
  direction: "ingress" | "egress",
  securityGroupId: pulumi.Input<string>,
  rules: readonly SecurityGroupRule[],
  parent: pulumi.Resource,
  transform?: Pick<ContainerServiceTransforms, "ingressRule" | "egressRule">,
): void {
  const keys = new Set<string>();
  rules.forEach((rule) => {
    if (keys.has(rule.key)) throw new Error(`security group rule key "${rule.key}" is used twice`);
    keys.add(rule.key);
    const targets: { cidrIpv4?: string; referencedSecurityGroupId?: pulumi.Input<string> }[] = rule.securityGroupId
      ? [{ referencedSecurityGroupId: rule.securityGroupId }]
      : (rule.cidrBlocks ?? []).map((cidrIpv4) => ({ cidrIpv4 }));
    if (targets.length === 0)
      throw new Error(`security group rule "${rule.description}" names no CIDR and no security group`);
    targets.forEach((target, t) => {
      const ruleArgs = {
        securityGroupId,
        description: rule.description,
        ipProtocol: rule.protocol,
        ...(rule.protocol === "-1" ? {} : { fromPort: rule.fromPort, toPort: rule.toPort }),
        ...target,
        ...(rule.tags ? { tags: { ...rule.tags } } : {}),
      };
      const logical = `${prefix}-${rule.key}${targets.length > 1 ? `-${t}` : ""}`;
      if (direction === "ingress")
        new aws.vpc.SecurityGroupIngressRule(logical, transformed(transform?.ingressRule, ruleArgs, logical), {
          parent,
        });
      else
        new aws.vpc.SecurityGroupEgressRule(logical, transformed(transform?.egressRule, ruleArgs, logical), {
          parent,
        });
    });
  });
}
