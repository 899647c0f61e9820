import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { AwsContext, Statement, policyDocument, serviceTrust } from "../lib/iam";
import type { ClusterRef } from "./cluster";

/** One container secret: a JSON key of a Secrets Manager secret, read by ECS at task start. */
export interface ContainerSecret {
  /** Environment variable name inside the container. */
  readonly name: string;
  /** Full ARN of the Secrets Manager secret. */
  readonly secretArn: pulumi.Input<string>;
  /** Key inside the secret's JSON object. */
  readonly jsonKey: string;
  /** Customer-managed key the secret is encrypted with; omit for the AWS-managed key. */
  readonly kmsKeyArn?: pulumi.Input<string>;
}

export interface SecurityGroupRule {
  /** Stable short id of the rule's purpose (`stratum-from-nlb`): part of its logical name, so rules never shift. */
  readonly key: string;
  /** Why the rule exists: shown in the console and in the plan. */
  readonly description: string;
  readonly protocol: "tcp" | "udp" | "-1";
  readonly fromPort: number;
  readonly toPort: number;
  /** Either CIDR blocks ... */
  readonly cidrBlocks?: readonly string[];
  /** ... or another security group. */
  readonly securityGroupId?: pulumi.Input<string>;
  /** Tags of the rule resource (an adoption's policy exception tag, for one). @default none */
  readonly tags?: Readonly<Record<string, string>>;
}

export interface ContainerHealthCheck {
  readonly command: readonly string[];
  readonly intervalSeconds: number;
  readonly timeoutSeconds: number;
  readonly retries: number;
  readonly startPeriodSeconds: number;
}

export interface ContainerServiceArgs {
  readonly aws: AwsContext;
  readonly cluster: ClusterRef;
  /** ECS service name. */
  readonly serviceName: string;
  /** Task definition family. */
  readonly family: string;
  readonly containerName: string;
  /** Full image reference `repository:tag`. */
  readonly image: string;
  /** Fargate CPU units and memory (MiB); validated against Fargate's table by config. */
  readonly cpu: number;
  readonly memory: number;
  /** Initial task count; later changes by people or autoscaling are not undone by `pulumi up`. */
  readonly desiredCount: number;
  /**
   * Never two tasks at once (bots that must be unique, such as a Telegram bot):
   * deployments stop the old task before starting the new one.
   */
  readonly singleton?: boolean;
  /** Plain, non-secret environment. */
  readonly environment?: Readonly<Record<string, string>>;
  readonly secrets?: readonly ContainerSecret[];
  /** Secret with `{"username","password"}` for a private registry. */
  readonly repositoryCredentialsSecretArn?: string;
  readonly portMappings?: readonly { readonly containerPort: number; readonly name: string }[];
  readonly healthCheck?: ContainerHealthCheck;
  readonly ulimits?: readonly { readonly name: string; readonly softLimit: number; readonly hardLimit: number }[];
  readonly logGroupName: string;
  readonly logRetentionDays: number;
  /** awslogs stream prefix. */
  readonly logStreamPrefix: string;
  readonly vpcId: pulumi.Input<string>;
  readonly subnetIds: pulumi.Input<string[]>;
  readonly securityGroupName: string;
  /**
   * The security group's description (EC2 cannot change one: a new description is a new group).
   * @default "<serviceName> tasks"
   */
  readonly securityGroupDescription?: string;
  /** Inbound rules; none by default. */
  readonly ingress?: readonly SecurityGroupRule[];
  /** Outbound rules; HTTPS anywhere by default (registries, Secrets Manager, RPC). */
  readonly egress?: readonly SecurityGroupRule[];
  readonly loadBalancers?: readonly { readonly targetGroupArn: pulumi.Input<string>; readonly containerPort: number }[];
  readonly healthCheckGracePeriodSeconds?: number;
  /**
   * CloudWatch alarms (by name; the monitoring creates them) that fail a deployment
   * and roll it back when any of them fires during it, besides the circuit breaker.
   */
  readonly deploymentAlarmNames?: readonly string[];
  readonly enableExecuteCommand?: boolean;
  readonly executionRoleName: string;
  readonly taskRoleName: string;
  /** Rights the application itself needs (the task role); none by default. */
  readonly taskRoleStatements?: readonly Statement[];
}

const HTTPS_OUT: SecurityGroupRule = {
  key: "https",
  description: "HTTPS to registries, Secrets Manager, CloudWatch and RPC endpoints",
  protocol: "tcp",
  fromPort: 443,
  toPort: 443,
  cidrBlocks: ["0.0.0.0/0"],
};

/**
 * THE Fargate building block: task definition, one container, secrets by JSON
 * key, logs, security group, execution and task roles, and a service with the
 * deployment circuit breaker and rollback on.
 *
 * Code deploys (a new image) happen outside Pulumi: the image-deploy workflow
 * registers a revision and updates the service. So the service ignores
 * `desiredCount` drift, old task definition revisions are kept (the circuit
 * breaker rolls back to them), and the image comes from the caller, who
 * resolves it so that `pulumi up` keeps what is running (see README).
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
    const parent = { parent: this };
    const secrets = args.secrets ?? [];

    this.logGroup = new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      { name: args.logGroupName, retentionInDays: args.logRetentionDays },
      parent,
    );

    // ---------------------------------------------------------------- network
    this.securityGroup = new aws.ec2.SecurityGroup(
      `${name}-sg`,
      {
        name: args.securityGroupName,
        description: args.securityGroupDescription ?? `${args.serviceName} tasks`,
        vpcId: args.vpcId,
        tags: { Name: args.securityGroupName },
      },
      parent,
    );
    addRules(`${name}-in`, "ingress", this.securityGroup.id, args.ingress ?? [], this);
    addRules(`${name}-out`, "egress", this.securityGroup.id, args.egress ?? [HTTPS_OUT], this);

    // ---------------------------------------------------------------- roles
    this.executionRole = new aws.iam.Role(
      `${name}-execution-role`,
      {
        name: args.executionRoleName,
        description: `ECS starts ${args.serviceName} tasks: pulls the image, reads its own secrets, writes its own logs`,
        assumeRolePolicy: serviceTrust(
          "ecs-tasks.amazonaws.com",
          args.aws.accountId,
          "EcsTasksAssumeForThisAccountOnly",
        ),
        maxSessionDuration: 3600,
      },
      parent,
    );
    const executionRolePolicy = new aws.iam.RolePolicy(
      `${name}-execution-policy`,
      { role: this.executionRole.id, name: "start-task", policy: executionPolicy(args, this.logGroup.arn) },
      parent,
    );

    this.taskRole = new aws.iam.Role(
      `${name}-task-role`,
      {
        name: args.taskRoleName,
        description: `The ${args.serviceName} application's own identity`,
        assumeRolePolicy: serviceTrust(
          "ecs-tasks.amazonaws.com",
          args.aws.accountId,
          "EcsTasksAssumeForThisAccountOnly",
        ),
        maxSessionDuration: 3600,
      },
      parent,
    );
    const taskStatements = [
      ...(args.taskRoleStatements ?? []),
      ...(args.enableExecuteCommand ? execStatements(args.cluster) : []),
    ];
    const taskRolePolicies: aws.iam.RolePolicy[] = [];
    if (taskStatements.length > 0) {
      const taskRolePolicy = new aws.iam.RolePolicy(
        `${name}-task-policy`,
        { role: this.taskRole.id, name: "application", policy: policyDocument(taskStatements) },
        parent,
      );
      taskRolePolicies.push(taskRolePolicy);
    }

    // ---------------------------------------------------------------- task
    const container = {
      name: args.containerName,
      image: args.image,
      essential: true,
      portMappings: (args.portMappings ?? []).map((p) => ({
        name: p.name,
        containerPort: p.containerPort,
        hostPort: p.containerPort,
        protocol: "tcp",
      })),
      environment: Object.entries(args.environment ?? {})
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([n, value]) => ({ name: n, value })),
      secrets: secrets.map((s) => ({ name: s.name, valueFrom: pulumi.interpolate`${s.secretArn}:${s.jsonKey}::` })),
      ...(args.repositoryCredentialsSecretArn
        ? { repositoryCredentials: { credentialsParameter: args.repositoryCredentialsSecretArn } }
        : {}),
      ...(args.healthCheck
        ? {
            healthCheck: {
              command: [...args.healthCheck.command],
              interval: args.healthCheck.intervalSeconds,
              timeout: args.healthCheck.timeoutSeconds,
              retries: args.healthCheck.retries,
              startPeriod: args.healthCheck.startPeriodSeconds,
            },
          }
        : {}),
      ...(args.ulimits?.length ? { ulimits: args.ulimits.map((u) => ({ ...u })) } : {}),
      logConfiguration: {
        logDriver: "awslogs",
        options: {
          "awslogs-group": this.logGroup.name,
          "awslogs-region": args.aws.region,
          "awslogs-stream-prefix": args.logStreamPrefix,
        },
      },
    };

    this.taskDefinition = new aws.ecs.TaskDefinition(
      `${name}-task`,
      {
        family: args.family,
        cpu: String(args.cpu),
        memory: String(args.memory),
        networkMode: "awsvpc",
        requiresCompatibilities: ["FARGATE"],
        runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: "X86_64" },
        executionRoleArn: this.executionRole.arn,
        taskRoleArn: this.taskRole.arn,
        containerDefinitions: pulumi.jsonStringify([container]),
        // Keep superseded revisions registered: the circuit breaker rolls back to them,
        // and the deploy workflow renders new revisions from the current one.
        skipDestroy: true,
      },
      parent,
    );

    // ---------------------------------------------------------------- service
    this.service = new aws.ecs.Service(
      `${name}-service`,
      {
        name: args.serviceName,
        cluster: args.cluster.arn,
        taskDefinition: this.taskDefinition.arn,
        desiredCount: args.desiredCount,
        launchType: "FARGATE",
        platformVersion: "LATEST",
        deploymentCircuitBreaker: { enable: true, rollback: true },
        ...(args.deploymentAlarmNames?.length
          ? { alarms: { alarmNames: [...args.deploymentAlarmNames], enable: true, rollback: true } }
          : {}),
        deploymentMinimumHealthyPercent: args.singleton ? 0 : 100,
        deploymentMaximumPercent: args.singleton ? 100 : 200,
        networkConfiguration: {
          subnets: args.subnetIds,
          securityGroups: [this.securityGroup.id],
          assignPublicIp: false,
        },
        loadBalancers: (args.loadBalancers ?? []).map((lb) => ({
          targetGroupArn: lb.targetGroupArn,
          containerName: args.containerName,
          containerPort: lb.containerPort,
        })),
        ...(args.loadBalancers?.length
          ? { healthCheckGracePeriodSeconds: args.healthCheckGracePeriodSeconds ?? 60 }
          : {}),
        enableExecuteCommand: args.enableExecuteCommand ?? false,
        propagateTags: "SERVICE",
        enableEcsManagedTags: true,
      },
      {
        parent: this,
        // Scaling belongs to people and autoscaling, not to the last `pulumi up`.
        ignoreChanges: ["desiredCount"],
        // A role exists before its inline policy does: without these, the first tasks could start
        // while the execution role may not yet pull the image, read the secrets or write logs.
        dependsOn: [executionRolePolicy, ...taskRolePolicies],
      },
    );

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

function validate(args: ContainerServiceArgs): void {
  if (args.singleton && args.desiredCount > 1) {
    throw new Error(
      `${args.serviceName}: a singleton service runs at most one task (desiredCount ${args.desiredCount})`,
    );
  }
  const secretNames = new Set((args.secrets ?? []).map((s) => s.name));
  for (const name of Object.keys(args.environment ?? {})) {
    if (secretNames.has(name)) throw new Error(`${args.serviceName}: ${name} is both a secret and plain environment`);
  }
  if (secretNames.size !== (args.secrets ?? []).length) {
    throw new Error(`${args.serviceName}: a container secret name is used twice`);
  }
}

/** The execution role may read exactly the secrets the task references, and write exactly its own logs. */
function executionPolicy(
  args: ContainerServiceArgs,
  logGroupArn: pulumi.Output<string>,
): pulumi.Output<aws.types.input.iam.PolicyDocument> {
  const secrets = args.secrets ?? [];
  const secretArns = [
    ...secrets.map((s) => s.secretArn),
    ...(args.repositoryCredentialsSecretArn ? [args.repositoryCredentialsSecretArn] : []),
  ];
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

/** One resource per rule (not inline blocks), so that rules added later never fight over the group. */
function addRules(
  prefix: string,
  direction: "ingress" | "egress",
  securityGroupId: pulumi.Input<string>,
  rules: readonly SecurityGroupRule[],
  parent: pulumi.Resource,
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
      if (direction === "ingress") new aws.vpc.SecurityGroupIngressRule(logical, ruleArgs, { parent });
      else new aws.vpc.SecurityGroupEgressRule(logical, ruleArgs, { parent });
    });
  });
}

export { addRules as addSecurityGroupRules };
