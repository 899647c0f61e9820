import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { AwsContext, policyDocument, serviceTrust, trustDocument } from "../../lib/iam";
import type { NotificationsConfig } from "../../config/futures";
import { policyExceptionTag } from "../../policy/rules/model";
import type { ClusterRef } from "../cluster";
import { ContainerService, SecurityGroupRule, addSecurityGroupRules } from "../container-service";
import { dnsValidatedCertificate } from "../dns-certificate";
import type { DnsTarget } from "../dns-zone";
import { LoadBalancedEndpoint, loadBalancedEndpoint } from "../load-balanced-endpoint";
import { AppService, AppServiceArgs, DeployedServiceRef, appService } from "../service-parts";
import { PROTECTED_BACKUP_RETENTION_DAYS } from "../../lib/stateful-types";

/** Physical names (docs/estate.md; `futuresNames(env).notifications` has exactly this shape). */
export interface NotificationsNames {
  /** ECS service, `svc-futures-notifications-{env}`. */
  readonly service: string;
  /** Task definition family, `tsk-futures-notifications`. */
  readonly taskFamily: string;
  /** Container name, `futures-notifications-container` (the deploy workflow swaps its image). */
  readonly container: string;
  /** Log group, `/ecs/futures-notifications-{env}`. */
  readonly logGroup: string;
  /** The application's secret, `notifications-secrets-v3-{env}` (JSON key `telegram_bot_token`). */
  readonly secret: string;
  /** SSM String parameter recording the deployed tag, `/futures-notifications/{env}/image-tag`. */
  readonly imageTagParameter: string;
  /** Internal ALB, `alb-futures-notifications-{env}` (at most 32 characters). */
  readonly loadBalancer: string;
  /** Target group, `tg-notification-v2-3000` (at most 32 characters; the live one carries no environment). */
  readonly targetGroup: string;
  /** The ALB's security group, `notifications-alb-int-v2-{env}`. */
  readonly albSecurityGroup: string;
  /** The tasks' security group, `notifications-ecs-v2-{env}`. */
  readonly serviceSecurityGroup: string;
  /** The database's security group, `notifications-rds-v2-{env}`. */
  readonly databaseSecurityGroup: string;
  /** RDS instance identifier, `notifications-v2-{env}`. */
  readonly database: string;
  /** DB subnet group, `notifications-db-subnet-v2-{env}`. */
  readonly databaseSubnetGroup: string;
  /** DB parameter group, `notifications-pg17-v2-{env}`. */
  readonly databaseParameterGroup: string;
  /** Role ECS uses to start the task (pull, secrets, logs). */
  readonly executionRole: string;
  /** The application's own role (it needs no AWS API; ECS Exec when enabled). */
  readonly taskRole: string;
  /** EventBridge rule on the database secret's rotation, `futures-notifications-db-rotated-{env}`. */
  readonly rotationRule: string;
  /** The role that rule starts the redeploy with, `futures-notifications-db-rotated-{env}-events`. */
  readonly rotationRuleRole: string;
  /** The state machine that forces a new deployment, `futures-notifications-redeploy-{env}`. */
  readonly redeployStateMachine: string;
  /** Its role (`ecs:UpdateService` on this one service), `futures-notifications-redeploy-{env}-sfn`. */
  readonly redeployRole: string;
}

/** The database settings of the stack config (`futures.notifications.database`, documented there). */
type DatabaseConfig = NotificationsConfig["database"];

/**
 * The PostgreSQL database: the stack config's `futures.notifications.database` (docs/estate.md has
 * today's values per environment), with the component's own defaults, and settings only the
 * component sets.
 */
export interface NotificationsDatabase extends Omit<
  DatabaseConfig,
  "engineVersion" | "multiAz" | "kmsKeyArn" | "parameterGroupDescription"
> {
  /**
   * PostgreSQL MAJOR version only, e.g. `"17"`. With `autoMinorVersionUpgrade` on,
   * RDS keeps the actual minor version (`17.4`, later `17.6`) in `engineVersionActual`
   * and the provider treats the configured major as a prefix of it, so a minor
   * upgrade in the maintenance window never shows up as a diff. A full `17.4` would
   * fight every upgrade (or need `ignoreChanges`), so it is refused.
   */
  readonly engineVersion: string;
  /**
   * Standby in a second AZ; may not be off when `protect`.
   * @default protect
   */
  readonly multiAz?: DatabaseConfig["multiAz"];
  /**
   * The key of the storage and Performance Insights. RDS cannot re-encrypt an instance:
   * a different key than the live one's is a new, empty database. Adopting an instance encrypted
   * with the account's `aws/rds` key names that key here; the instance then carries the policy
   * exception tag (the stack's policy pack reports it).
   * @default secretsKmsKeyArn (the stack's own key)
   */
  readonly kmsKeyArn?: DatabaseConfig["kmsKeyArn"];
  /**
   * The parameter group's description (RDS cannot change one), e.g. `Managed by Terraform`.
   * @default "<identifier>: TLS required, connection limit"
   */
  readonly parameterGroupDescription?: DatabaseConfig["parameterGroupDescription"];
  /**
   * Database the application uses.
   * @default "notifications"
   */
  readonly databaseName?: string;
  /**
   * Master user name (its password is generated and rotated by RDS in Secrets Manager).
   * @default "notificationsadmin"
   */
  readonly username?: string;
  /**
   * RDS deletion protection; may not be off when `protect`.
   * @default protect
   */
  readonly deletionProtection?: boolean;
  /**
   * Skip the final snapshot on deletion; may not be true when `protect`.
   * @default !protect
   */
  readonly skipFinalSnapshot?: boolean;
  /**
   * Final snapshot name, deterministic on purpose:
   * the live Terraform embeds `timestamp()`, a diff on every plan (docs/estate.md#flaw-rds-production).
   * @default "<identifier>-final"
   */
  readonly finalSnapshotIdentifier?: string;
}

/** A security group allowed to call the internal HTTPS endpoint (the margin-call Lambda's). */
export interface NotificationsClient {
  /** Stable short id (`margin-call`): part of the rule's logical name, so rules never shift when the list changes. */
  readonly key: string;
  /** Who the client is, shown on the rule. */
  readonly description: string;
  /** The client's security group id, e.g. `sg-0a1b2c3d4e5f60718`: the source of its ingress rule. */
  readonly securityGroupId: pulumi.Input<string>;
}

/**
 * The component's arguments. The service settings that come from stack config are the
 * config's own fields (`futures.notifications.*`, documented there).
 */
export interface NotificationsArgs extends Pick<
  NotificationsConfig,
  "cpu" | "memory" | "logLevel" | "logRetentionDays" | "enableExecuteCommand" | "albIngressCidrs"
> {
  /** The account and region the stack deploys to (IAM trust conditions and ARNs). */
  readonly aws: AwsContext;
  /** The futures cluster the service runs in. */
  readonly cluster: ClusterRef;
  /** VPC and the private subnets (the foundation's "middle" subnets) for the tasks, the ALB and the database. */
  readonly network: NotificationsNetwork;
  /** Every physical name, from `futuresNames(env).notifications` in lib/naming.ts. */
  readonly names: NotificationsNames;
  /** Full image reference `repository:tag`, e.g. `ghcr.io/lumerin-protocol/futures-notifications:notifications-v1.2.0-dev`. */
  readonly image: string;
  /** The tag alone (recorded in SSM); `image` must end with `:<imageTag>`. */
  readonly imageTag: string;
  /**
   * Alarms that roll a deployment back (the monitoring's, by name).
   * @default none: a failed deployment is rolled back by the circuit breaker only
   */
  readonly deploymentAlarmNames?: readonly string[];
  /**
   * The platform CMK. It encrypts the application secret, the RDS-managed master
   * secret, the database storage and Performance Insights; the execution role may
   * decrypt with it only through Secrets Manager.
   */
  readonly secretsKmsKeyArn: pulumi.Input<string>;
  /**
   * Telegram bot token from `pulumi config set --secret`.
   * @default none: the secret's value is filled out of band (no secret version is registered)
   */
  readonly telegramBotToken?: pulumi.Output<string>;
  /** Internal host name, `notifyint.dev.lumerin.io` (lmn `notifyint.lumerin.io`); must lie in `dns.zoneName`. */
  readonly hostName: string;
  /** Zone of the alias and the certificate's validation record (and the provider for its account). */
  readonly dns: DnsTarget;
  /**
   * Security groups that may call the HTTPS endpoint, e.g. the margin-call Lambda's.
   * @default [] (none)
   */
  readonly albClients?: readonly NotificationsClient[];
  /**
   * CIDRs that may reach PostgreSQL directly (operators on the VPN), e.g. `["172.18.0.0/19"]`.
   * @default [] (none: only the service)
   */
  readonly databaseIngressCidrs?: readonly string[];
  /** The PostgreSQL database's settings. */
  readonly database: NotificationsDatabase;
  /** Production data: protects the database and the secret, and turns on every database safeguard. */
  readonly protect: boolean;
  /**
   * Tasks the service is created with: 1 (one bot), or 0 while the application secret's
   * value is still to be put in out of band. Later changes of the running count are
   * left alone.
   * @default 1
   */
  readonly desiredCount?: 0 | 1;
  /**
   * The security groups' descriptions (EC2 cannot change one), e.g. `{ alb: "Managed by Terraform" }`.
   * @default {} (the program's own, naming what each group admits)
   */
  readonly securityGroupDescriptions?: NotificationsConfig["securityGroupDescriptions"];
}

/** Where the service, its load balancer and its database live. */
export interface NotificationsNetwork {
  /** The VPC, e.g. `vpc-0123456789abcdef0`. */
  readonly vpcId: pulumi.Input<string>;
  /** Private subnets (at least two AZs: the ALB and the DB subnet group need them). */
  readonly privateSubnetIds: pulumi.Input<string[]>;
}

/** Port the application listens on (hard-coded in the app, docs/estate.md). */
export const NOTIFICATIONS_PORT = 3000;
export const POSTGRES_PORT = 5432;
/** TLS 1.3 and 1.2 only, forward-secret ciphers: AWS's recommended ALB policy. */
export const NOTIFICATIONS_TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06";

/** What the deploy role, the GitHub variables, the monitoring and the callers need to know about the service. */
export interface NotificationsRef extends DeployedServiceRef {
  /** The RDS-managed master secret (`username`, `password`). */
  readonly databaseSecretArn: pulumi.Output<string>;
  /** The CloudWatch `DBInstanceIdentifier` dimension. */
  readonly databaseIdentifier: pulumi.Output<string>;
  /** `app/<name>/<id>`: the CloudWatch `LoadBalancer` dimension. */
  readonly loadBalancerArnSuffix: pulumi.Output<string>;
  /** `targetgroup/<name>/<id>`: the CloudWatch `TargetGroup` dimension. */
  readonly targetGroupArnSuffix: pulumi.Output<string>;
  /** `https://<hostName>`: what callers (the margin-call Lambda) use. */
  readonly url: string;
  /** The tasks' security group (made by the ContainerService). */
  readonly serviceSecurityGroupId: pulumi.Output<string>;
  /** The internal ALB's security group. */
  readonly albSecurityGroupId: pulumi.Output<string>;
  /** The database's security group. */
  readonly databaseSecurityGroupId: pulumi.Output<string>;
  /** Tasks the service is created with (see {@link NotificationsArgs.desiredCount}). */
  readonly desiredCount: 0 | 1;
  /** The state machine each rotation of the database secret starts. */
  readonly redeployStateMachineArn: pulumi.Output<string>;
}

/**
 * The futures notifications service: a singleton Fargate
 * service (one Telegram bot at a time) behind an internal HTTPS-only ALB, with
 * its PostgreSQL 17 database on RDS.
 *
 * The database password exists only in the RDS-managed secret: the container
 * gets the standard libpq variables (`PGHOST`, `PGPORT`, `PGDATABASE`,
 * `PGSSLMODE=require`) as environment and `PGUSER`/`PGPASSWORD` as container
 * secrets by JSON key from that secret. Today's `DATABASE_URL` with the
 * secret's ARN in place of the password (docs/estate.md#flaw-database-url) is not carried over.
 *
 * Traffic: callers (security groups and CIDRs given) → 443 on the ALB → 3000 on
 * the tasks → 5432 on the database. Nothing else reaches the tasks or the
 * database; the tasks may also leave on 443 (Telegram, AWS APIs).
 */
export class Notifications extends pulumi.ComponentResource {
  /** The application secret (`telegram_bot_token`). */
  readonly secret: aws.secretsmanager.Secret;
  /** The SSM parameter recording the deployed image tag. */
  readonly imageTagParameter: aws.ssm.Parameter;
  /** The Fargate service, its task definition, roles, log group and security group. */
  readonly containerService: ContainerService;
  /** The PostgreSQL instance (protected when `protect`). */
  readonly database: aws.rds.Instance;
  readonly databaseSecurityGroup: aws.ec2.SecurityGroup;
  readonly albSecurityGroup: aws.ec2.SecurityGroup;
  /** The internal ALB. */
  readonly loadBalancer: aws.lb.LoadBalancer;
  readonly targetGroup: aws.lb.TargetGroup;
  /** The HTTPS 443 listener (the only one). */
  readonly listener: aws.lb.Listener;
  /** The DNS-validated certificate of `hostName`. */
  readonly certificate: aws.acm.Certificate;
  /** On each rotation of the database secret, a forced new deployment: see {@link rotationRedeploy}. */
  readonly rotationRedeploy: RotationRedeploy;
  /** What the deploy role, the GitHub variables, the monitoring and the callers need. */
  readonly ref: NotificationsRef;

  /** {@link NotificationsRef.serviceName}, for the composition. */
  readonly serviceName: pulumi.Output<string>;
  /** {@link NotificationsRef.containerName}, for the composition. */
  readonly containerName: string;
  /** {@link NotificationsRef.imageTagParameterName}, for the composition. */
  readonly imageTagParameterName: string;
  /** {@link NotificationsRef.loadBalancerArnSuffix}, for the monitoring. */
  readonly loadBalancerArnSuffix: pulumi.Output<string>;
  /** {@link NotificationsRef.targetGroupArnSuffix}, for the monitoring. */
  readonly targetGroupArnSuffix: pulumi.Output<string>;
  /** {@link NotificationsRef.databaseIdentifier}, for the monitoring. */
  readonly databaseIdentifier: pulumi.Output<string>;
  /** {@link NotificationsRef.url}, for the callers. */
  readonly url: string;
  /** {@link NotificationsRef.desiredCount}. */
  readonly desiredCount: 0 | 1;

  constructor(name: string, args: NotificationsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lumerin:futures:Notifications", name, {}, opts);
    validateArgs(args);
    const settings = resolveDatabase(args.database, args.names.database, args.protect);
    this.desiredCount = args.desiredCount ?? 1;

    const groups = securityGroups(name, args, this);
    const database = notificationsDatabase(name, { ...args, settings, securityGroupId: groups.database.id }, this);
    const endpoint = notificationsEndpoint(name, { ...args, securityGroupId: groups.alb.id }, this);
    const app = notificationsService(
      name,
      args,
      {
        environment: serviceEnvironment(args.logLevel, database.instance.address, settings.databaseName),
        databaseSecretArn: database.masterSecretArn,
        desiredCount: this.desiredCount,
        albSecurityGroupId: groups.alb.id,
        databaseSecurityGroupId: groups.database.id,
        targetGroupArn: endpoint.targetGroup.arn,
        listener: endpoint.listener,
      },
      this,
    );
    const redeploy = rotationRedeploy(
      name,
      {
        ...args,
        databaseSecretArn: database.masterSecretArn,
        clusterArn: args.cluster.arn,
        serviceName: app.service.serviceName,
        serviceArn: app.service.serviceArn,
      },
      this,
    );
    const serviceSecurityGroupId = app.service.securityGroupId;
    endpointRules(name, { ...args, albSecurityGroupId: groups.alb.id, serviceSecurityGroupId }, this);
    databaseRules(name, { ...args, databaseSecurityGroupId: groups.database.id, serviceSecurityGroupId }, this);

    this.albSecurityGroup = groups.alb;
    this.databaseSecurityGroup = groups.database;
    this.database = database.instance;
    this.certificate = endpoint.certificate;
    this.loadBalancer = endpoint.loadBalancer;
    this.targetGroup = endpoint.targetGroup;
    this.listener = endpoint.listener;
    this.secret = app.secret;
    this.imageTagParameter = app.imageTagParameter;
    this.containerService = app.service;
    this.rotationRedeploy = redeploy;
    this.ref = notificationsRef({ app, database, endpoint, groups, redeploy, desiredCount: this.desiredCount });
    this.serviceName = this.ref.serviceName;
    this.containerName = this.ref.containerName;
    this.imageTagParameterName = this.ref.imageTagParameterName;
    this.loadBalancerArnSuffix = this.ref.loadBalancerArnSuffix;
    this.targetGroupArnSuffix = this.ref.targetGroupArnSuffix;
    this.databaseIdentifier = this.ref.databaseIdentifier;
    this.url = this.ref.url;
    this.registerOutputs(componentOutputs(this.ref));
  }
}

/** The ref of the parts, for {@link Notifications.ref}. */
export function notificationsRef(parts: {
  readonly app: AppService;
  readonly database: NotificationsDatabaseResources;
  readonly endpoint: NotificationsEndpoint;
  readonly groups: NotificationsSecurityGroups;
  readonly redeploy: RotationRedeploy;
  readonly desiredCount: 0 | 1;
}): NotificationsRef {
  const { app, database, endpoint, groups } = parts;
  return {
    ...app.ref,
    databaseSecretArn: database.masterSecretArn,
    databaseIdentifier: database.instance.identifier,
    loadBalancerArnSuffix: endpoint.loadBalancer.arnSuffix,
    targetGroupArnSuffix: endpoint.targetGroup.arnSuffix,
    url: endpoint.url,
    serviceSecurityGroupId: app.service.securityGroupId,
    albSecurityGroupId: groups.alb.id,
    databaseSecurityGroupId: groups.database.id,
    desiredCount: parts.desiredCount,
    redeployStateMachineArn: parts.redeploy.stateMachine.arn,
  };
}

/** The component's registered outputs: the ref's values, without the log group, the count and the state machine. */
function componentOutputs(ref: NotificationsRef): pulumi.Inputs {
  return {
    serviceArn: ref.serviceArn,
    serviceName: ref.serviceName,
    taskFamily: ref.taskFamily,
    containerName: ref.containerName,
    executionRoleArn: ref.executionRoleArn,
    taskRoleArn: ref.taskRoleArn,
    imageTagParameterArn: ref.imageTagParameterArn,
    imageTagParameterName: ref.imageTagParameterName,
    secretArn: ref.secretArn,
    databaseSecretArn: ref.databaseSecretArn,
    loadBalancerArnSuffix: ref.loadBalancerArnSuffix,
    targetGroupArnSuffix: ref.targetGroupArnSuffix,
    databaseIdentifier: ref.databaseIdentifier,
    serviceSecurityGroupId: ref.serviceSecurityGroupId,
    albSecurityGroupId: ref.albSecurityGroupId,
    databaseSecurityGroupId: ref.databaseSecurityGroupId,
    url: ref.url,
  };
}

/** What {@link securityGroups} needs. */
export interface SecurityGroupsArgs extends Pick<NotificationsArgs, "securityGroupDescriptions"> {
  /** The VPC the groups belong to. */
  readonly network: Pick<NotificationsNetwork, "vpcId">;
  /** The groups' names, and the names their descriptions mention. */
  readonly names: Pick<
    NotificationsNames,
    "albSecurityGroup" | "databaseSecurityGroup" | "loadBalancer" | "service" | "database"
  >;
}

/** The ALB's and the database's security groups (the tasks' belongs to their ContainerService). */
export interface NotificationsSecurityGroups {
  readonly alb: aws.ec2.SecurityGroup;
  readonly database: aws.ec2.SecurityGroup;
}

/**
 * `<name>-alb-sg` and `<name>-db-sg`, created empty: their rules reference one another
 * (ALB → tasks → database), so every rule is its own resource, added once both ends
 * exist ({@link endpointRules}, {@link databaseRules}).
 */
export function securityGroups(
  name: string,
  args: SecurityGroupsArgs,
  parent: pulumi.Resource,
): NotificationsSecurityGroups {
  const { names } = args;
  const alb = new aws.ec2.SecurityGroup(
    `${name}-alb-sg`,
    {
      name: names.albSecurityGroup,
      description:
        args.securityGroupDescriptions?.alb ?? `${names.loadBalancer}: HTTPS from callers, HTTP to ${names.service}`,
      vpcId: args.network.vpcId,
      tags: { Name: names.albSecurityGroup },
    },
    { parent },
  );
  // No egress rule: the provider removes AWS's default allow-all, and PostgreSQL only answers.
  const database = new aws.ec2.SecurityGroup(
    `${name}-db-sg`,
    {
      name: names.databaseSecurityGroup,
      description:
        args.securityGroupDescriptions?.database ?? `${names.database}: PostgreSQL from ${names.service} only`,
      vpcId: args.network.vpcId,
      tags: { Name: names.databaseSecurityGroup },
    },
    { parent },
  );
  return { alb, database };
}

/** What {@link notificationsDatabase} needs. */
export interface DatabaseArgs extends Pick<NotificationsArgs, "secretsKmsKeyArn" | "logRetentionDays" | "protect"> {
  /** The instance's, the subnet group's and the parameter group's names. */
  readonly names: Pick<NotificationsNames, "database" | "databaseSubnetGroup" | "databaseParameterGroup">;
  /** The settings with their defaults applied ({@link resolveDatabase}). */
  readonly settings: ResolvedNotificationsDatabase;
  /** The private subnets of the DB subnet group. */
  readonly network: Pick<NotificationsNetwork, "privateSubnetIds">;
  /** The database's own security group. */
  readonly securityGroupId: pulumi.Input<string>;
}

/** The database and what it is made of. */
export interface NotificationsDatabaseResources {
  readonly instance: aws.rds.Instance;
  readonly subnetGroup: aws.rds.SubnetGroup;
  readonly parameterGroup: aws.rds.ParameterGroup;
  readonly logGroups: readonly aws.cloudwatch.LogGroup[];
  /** The RDS-managed master secret (`username`, `password`); an error if RDS reports none. */
  readonly masterSecretArn: pulumi.Output<string>;
}

/** The PostgreSQL instance with its subnet group, parameter group and log groups. */
export function notificationsDatabase(
  name: string,
  args: DatabaseArgs,
  parent: pulumi.Resource,
): NotificationsDatabaseResources {
  const { names } = args;
  const subnetGroup = new aws.rds.SubnetGroup(
    `${name}-db-subnets`,
    {
      name: names.databaseSubnetGroup,
      description: `${names.database}: private subnets`,
      subnetIds: args.network.privateSubnetIds,
    },
    { parent },
  );
  const parameterGroup = databaseParameterGroup(name, args, parent);
  const logGroups = databaseLogGroups(name, args, parent);
  const instance = databaseInstance(name, args, { subnetGroup, parameterGroup, logGroups }, parent);
  const masterSecretArn = instance.masterUserSecrets.apply((secrets) => {
    const arn = secrets?.[0]?.secretArn;
    if (!arn) throw new Error(`${names.database}: RDS reported no managed master-user secret`);
    return arn;
  });
  return { instance, subnetGroup, parameterGroup, logGroups, masterSecretArn };
}

/** `<name>-db-parameters`: TLS required, and the connection limit. */
export function databaseParameterGroup(
  name: string,
  args: DatabaseArgs,
  parent: pulumi.Resource,
): aws.rds.ParameterGroup {
  const { names, settings } = args;
  return new aws.rds.ParameterGroup(
    `${name}-db-parameters`,
    {
      name: names.databaseParameterGroup,
      family: `postgres${settings.engineVersion}`,
      description: settings.parameterGroupDescription ?? `${names.database}: TLS required, connection limit`,
      parameters: [
        // PostgreSQL 15+ on RDS defaults to 1 already; stated here so the guarantee does not rest on a default.
        // pending-reboot is accepted for static and dynamic parameters alike; a new instance starts with both.
        { name: "rds.force_ssl", value: "1", applyMethod: "pending-reboot" },
        { name: "max_connections", value: String(settings.maxConnections), applyMethod: "pending-reboot" },
      ],
    },
    { parent },
  );
}

/** `<name>-db-logs-<log>`: RDS would create these itself, without retention (kept forever). */
export function databaseLogGroups(
  name: string,
  args: Pick<DatabaseArgs, "names" | "logRetentionDays">,
  parent: pulumi.Resource,
): aws.cloudwatch.LogGroup[] {
  return DATABASE_LOG_EXPORTS.map(
    (log) =>
      new aws.cloudwatch.LogGroup(
        `${name}-db-logs-${log}`,
        { name: rdsLogGroupName(args.names.database, log), retentionInDays: args.logRetentionDays },
        { parent },
      ),
  );
}

/** The log group RDS exports an instance's `log` to (a name RDS fixes). */
export function rdsLogGroupName(identifier: string, log: string): string {
  return `/aws/rds/instance/${identifier}/${log}`;
}

/** `<name>-db`: the instance, protected when `protect`. */
export function databaseInstance(
  name: string,
  args: DatabaseArgs,
  parts: {
    readonly subnetGroup: aws.rds.SubnetGroup;
    readonly parameterGroup: aws.rds.ParameterGroup;
    readonly logGroups: readonly aws.cloudwatch.LogGroup[];
  },
  parent: pulumi.Resource,
): aws.rds.Instance {
  const db = args.settings;
  // The stack's key, unless an adopted instance is encrypted with another one (a new key is a new instance).
  const storageKey = db.kmsKeyArn ?? args.secretsKmsKeyArn;
  return new aws.rds.Instance(
    `${name}-db`,
    {
      identifier: args.names.database,
      engine: "postgres",
      engineVersion: db.engineVersion,
      autoMinorVersionUpgrade: true,
      // A major upgrade changes the parameter group family too: a deliberate change, never a side effect.
      allowMajorVersionUpgrade: false,
      instanceClass: db.instanceClass,
      dbName: db.databaseName,
      username: db.username,
      // RDS generates the password and keeps it (and its rotation) in a secret encrypted with the CMK:
      // no password in config, code or state.
      manageMasterUserPassword: true,
      masterUserSecretKmsKeyId: args.secretsKmsKeyArn,
      port: POSTGRES_PORT,
      storageType: "gp3",
      allocatedStorage: db.allocatedStorage,
      maxAllocatedStorage: db.maxAllocatedStorage,
      storageEncrypted: true,
      kmsKeyId: storageKey,
      dbSubnetGroupName: parts.subnetGroup.name,
      parameterGroupName: parts.parameterGroup.name,
      vpcSecurityGroupIds: [args.securityGroupId],
      publiclyAccessible: false,
      multiAz: db.multiAz,
      backupRetentionPeriod: db.backupRetentionDays,
      backupWindow: db.backupWindow,
      maintenanceWindow: db.maintenanceWindow,
      copyTagsToSnapshot: true,
      // Production keeps its automated backups for their retention period even after the instance is gone.
      deleteAutomatedBackups: !args.protect,
      deletionProtection: db.deletionProtection,
      skipFinalSnapshot: db.skipFinalSnapshot,
      ...(db.skipFinalSnapshot ? {} : { finalSnapshotIdentifier: db.finalSnapshotIdentifier }),
      performanceInsightsEnabled: true,
      performanceInsightsKmsKeyId: storageKey,
      performanceInsightsRetentionPeriod: db.performanceInsightsRetentionDays,
      enabledCloudwatchLogsExports: [...DATABASE_LOG_EXPORTS],
      ...(db.kmsKeyArn
        ? { tags: { [policyExceptionTag("rds-storage-stack-key")]: "futures.notifications.database.kmsKeyArn" } }
        : {}),
    },
    // No retainOnDelete: deleting production already takes two deliberate steps (unprotect, then
    // deletion protection off), and then takes a final snapshot and keeps the automated backups;
    // retaining would only orphan a running Multi-AZ instance outside the program.
    { parent, protect: args.protect, dependsOn: [...parts.logGroups] },
  );
}

/** What {@link notificationsEndpoint} needs; `protect` turns the ALB's deletion protection on. */
export interface NotificationsEndpointArgs extends Pick<NotificationsArgs, "hostName" | "dns" | "protect"> {
  /** The load balancer's and the target group's names. */
  readonly names: Pick<NotificationsNames, "loadBalancer" | "targetGroup">;
  /** The VPC of the target group and the private subnets of the internal ALB. */
  readonly network: NotificationsNetwork;
  /** The ALB's own security group. */
  readonly securityGroupId: pulumi.Input<string>;
}

/** The internal HTTPS endpoint: the certificate, and the ALB, target group, listener and alias it serves. */
export interface NotificationsEndpoint extends LoadBalancedEndpoint {
  /** The DNS-validated certificate of `hostName`. */
  readonly certificate: aws.acm.Certificate;
  /** The HTTPS 443 listener, `listeners.https` (the only one). */
  readonly listener: aws.lb.Listener;
  /** `https://<hostName>`. */
  readonly url: string;
}

/** The load balancer's check of each task: `GET /healthcheck` on the application's port answers 200. */
export const NOTIFICATIONS_HEALTH_CHECK: aws.types.input.lb.TargetGroupHealthCheck = {
  enabled: true,
  protocol: "HTTP",
  path: "/healthcheck",
  port: "traffic-port",
  matcher: "200",
  interval: 30,
  timeout: 5,
  healthyThreshold: 2,
  unhealthyThreshold: 2,
};

/**
 * `<name>-certificate` (DNS-validated), then the shared {@link loadBalancedEndpoint}: `<name>-alb`
 * (internal), `<name>-tg` (the tasks by IP on the application's port), `<name>-https` and `<name>-dns`.
 * HTTPS 443 only: no port-80 listener exists, so nothing ever crosses the VPC in plain text.
 */
export function notificationsEndpoint(
  name: string,
  args: NotificationsEndpointArgs,
  parent: pulumi.Resource,
): NotificationsEndpoint {
  const issued = dnsValidatedCertificate(name, {
    names: [{ key: "host", host: args.hostName }],
    dns: args.dns,
    parent,
  });
  // docs/estate.md#flaw-private-ips-public-dns: an internal ALB's private addresses published in the PUBLIC zone, as today
  // (the margin-call Lambda resolves this name). A private hosted zone associated with the VPC is the
  // better long-term home; the public record stays until the Lambda can resolve one.
  const endpoint = loadBalancedEndpoint(
    name,
    {
      type: "application",
      names: { loadBalancer: args.names.loadBalancer, targetGroup: args.names.targetGroup },
      internal: true,
      vpcId: args.network.vpcId,
      subnetIds: args.network.privateSubnetIds,
      securityGroupIds: [args.securityGroupId],
      deletionProtection: args.protect,
      targetGroup: {
        port: NOTIFICATIONS_PORT,
        protocol: "HTTP",
        // A singleton: the old task stops before the new one starts, so there is nothing to drain for long.
        deregistrationDelaySeconds: 10,
        healthCheck: NOTIFICATIONS_HEALTH_CHECK,
      },
      listeners: {
        https: {
          port: 443,
          protocol: "HTTPS",
          sslPolicy: NOTIFICATIONS_TLS_POLICY,
          certificateArn: issued.validatedArn,
        },
      },
      hostName: args.hostName,
      dns: args.dns,
    },
    parent,
  );
  const listener = endpoint.listeners.https;
  return { ...endpoint, certificate: issued.certificate, listener, url: `https://${args.hostName}` };
}

/**
 * The container's plain environment: the port, `LOG_LEVEL` and libpq's settings (nothing secret).
 * @param logLevel `LOG_LEVEL`
 * @param databaseAddress `PGHOST`: the instance's address, known once RDS has created it
 * @param databaseName `PGDATABASE`
 */
export function serviceEnvironment(
  logLevel: NotificationsArgs["logLevel"],
  databaseAddress: pulumi.Input<string>,
  databaseName: string,
): Record<string, pulumi.Input<string>> {
  return {
    PORT: String(NOTIFICATIONS_PORT),
    LOG_LEVEL: logLevel,
    PGHOST: databaseAddress,
    PGPORT: String(POSTGRES_PORT),
    PGDATABASE: databaseName,
    // The parameter group refuses clear-text connections; libpq must not fall back to them.
    PGSSLMODE: "require",
  };
}

/** The resources the service is wired to, made before it. */
export interface ServiceWiring {
  /** The container's plain environment ({@link serviceEnvironment}). */
  readonly environment: Readonly<Record<string, pulumi.Input<string>>>;
  /** The RDS-managed master secret (`PGUSER`, `PGPASSWORD`). */
  readonly databaseSecretArn: pulumi.Input<string>;
  /** Tasks the service is created with. */
  readonly desiredCount: 0 | 1;
  /** The ALB's group: the only source the tasks admit. */
  readonly albSecurityGroupId: pulumi.Input<string>;
  /** The database's group: the tasks' PostgreSQL egress goes there only. */
  readonly databaseSecurityGroupId: pulumi.Input<string>;
  /** The target group the tasks register in. */
  readonly targetGroupArn: pulumi.Input<string>;
  /** The listener that attaches the target group to the ALB: the service waits for it. */
  readonly listener: aws.lb.Listener;
}

/**
 * The shared {@link appService}: the application secret (`<name>-secret`, and `<name>-secret-value`
 * when the token is given), the image-tag parameter (`<name>-image-tag`), the singleton
 * ContainerService (`<name>-svc`) and its ref.
 */
export function notificationsService(
  name: string,
  args: NotificationsArgs,
  wiring: ServiceWiring,
  parent: pulumi.Resource,
): AppService {
  const { names } = args;
  return appService(
    name,
    {
      aws: args.aws,
      cluster: args.cluster,
      names: { ...names, securityGroup: names.serviceSecurityGroup },
      secret: {
        description: "futures notifications: telegram_bot_token (read by ECS at task start only)",
        kmsKeyArn: args.secretsKmsKeyArn,
        ...(args.telegramBotToken ? { values: { telegram_bot_token: args.telegramBotToken } } : {}),
        protect: args.protect,
      },
      imageTag: args.imageTag,
      network: {
        vpcId: args.network.vpcId,
        subnetIds: args.network.privateSubnetIds,
        ...(args.securityGroupDescriptions?.service
          ? { securityGroupDescription: args.securityGroupDescriptions.service }
          : {}),
      },
      container: serviceContainer(args, wiring),
      logging: { retentionDays: args.logRetentionDays, streamPrefix: "futures-notifications-tsk" },
      deployment: {
        // Only one Telegram bot may poll at a time.
        desiredCount: wiring.desiredCount,
        singleton: true,
        healthCheckGracePeriodSeconds: 60,
        ...(args.deploymentAlarmNames ? { alarmNames: args.deploymentAlarmNames } : {}),
      },
      ...serviceRules(wiring),
      loadBalancers: [{ targetGroupArn: wiring.targetGroupArn, containerPort: NOTIFICATIONS_PORT }],
      enableExecuteCommand: args.enableExecuteCommand,
      // A target group takes targets only once a listener attaches it to the load balancer.
      dependsOn: [wiring.listener],
    },
    parent,
  );
}

/**
 * The container: the image and size, the plain environment (`PGHOST` resolved into the task
 * definition once RDS has created the instance), `PGUSER`/`PGPASSWORD` from the database's
 * secret and `TELEGRAM_BOT_TOKEN` from the service's own.
 */
export function serviceContainer(
  args: Pick<NotificationsArgs, "image" | "cpu" | "memory" | "secretsKmsKeyArn">,
  wiring: Pick<ServiceWiring, "environment" | "databaseSecretArn">,
): AppServiceArgs["container"] {
  const database = { secretArn: wiring.databaseSecretArn, kmsKeyArn: args.secretsKmsKeyArn };
  return {
    image: args.image,
    cpu: args.cpu,
    memory: args.memory,
    environment: wiring.environment,
    secrets: [
      { name: "PGUSER", jsonKey: "username", ...database },
      { name: "PGPASSWORD", jsonKey: "password", ...database },
      { name: "TELEGRAM_BOT_TOKEN", jsonKey: "telegram_bot_token" },
    ],
    portMappings: [{ containerPort: NOTIFICATIONS_PORT, name: "http" }],
  };
}

/** The tasks' rules: HTTP in from the ALB only; HTTPS out anywhere and PostgreSQL to the database only. */
export function serviceRules(
  wiring: Pick<ServiceWiring, "albSecurityGroupId" | "databaseSecurityGroupId">,
): Pick<AppServiceArgs, "ingress" | "egress"> {
  return {
    ingress: {
      "http-from-alb": {
        description: "HTTP and health checks from the internal ALB",
        protocol: "tcp",
        fromPort: NOTIFICATIONS_PORT,
        toPort: NOTIFICATIONS_PORT,
        securityGroupId: wiring.albSecurityGroupId,
      },
    },
    egress: {
      https: {
        description: "HTTPS to Telegram, the image registry and AWS APIs",
        protocol: "tcp",
        fromPort: 443,
        toPort: 443,
        cidrBlocks: ["0.0.0.0/0"],
      },
      "postgres-to-db": {
        description: "PostgreSQL to the notifications database",
        protocol: "tcp",
        fromPort: POSTGRES_PORT,
        toPort: POSTGRES_PORT,
        securityGroupId: wiring.databaseSecurityGroupId,
      },
    },
  };
}

/** What {@link endpointRules} needs. */
export interface EndpointRulesArgs extends Pick<NotificationsArgs, "albIngressCidrs" | "albClients"> {
  /** The ALB's group, the rules' owner. */
  readonly albSecurityGroupId: pulumi.Input<string>;
  /** The tasks' group: the ALB's only egress. */
  readonly serviceSecurityGroupId: pulumi.Input<string>;
}

/** `<name>-alb-in-*` (HTTPS from the CIDRs and from each client) and `<name>-alb-out-*` (HTTP to the tasks). */
export function endpointRules(name: string, args: EndpointRulesArgs, parent: pulumi.Resource): void {
  const albIngress: SecurityGroupRule[] = [];
  if (args.albIngressCidrs.length > 0) {
    albIngress.push({
      key: "https-from-cidrs",
      description: "HTTPS from configured networks (VPN)",
      protocol: "tcp",
      fromPort: 443,
      toPort: 443,
      cidrBlocks: args.albIngressCidrs,
    });
  }
  for (const client of args.albClients ?? []) {
    albIngress.push({
      key: `https-from-${client.key}`,
      description: `HTTPS from ${client.description}`,
      protocol: "tcp",
      fromPort: 443,
      toPort: 443,
      securityGroupId: client.securityGroupId,
    });
  }
  addSecurityGroupRules(`${name}-alb-in`, "ingress", args.albSecurityGroupId, albIngress, parent);
  addSecurityGroupRules(
    `${name}-alb-out`,
    "egress",
    args.albSecurityGroupId,
    [
      {
        key: "http-to-tasks",
        description: "HTTP and health checks to the notifications tasks",
        protocol: "tcp",
        fromPort: NOTIFICATIONS_PORT,
        toPort: NOTIFICATIONS_PORT,
        securityGroupId: args.serviceSecurityGroupId,
      },
    ],
    parent,
  );
}

/** What {@link databaseRules} needs. */
export interface DatabaseRulesArgs extends Pick<NotificationsArgs, "databaseIngressCidrs"> {
  /** The database's group, the rules' owner. */
  readonly databaseSecurityGroupId: pulumi.Input<string>;
  /** The tasks' group: always admitted on 5432. */
  readonly serviceSecurityGroupId: pulumi.Input<string>;
}

/** `<name>-db-in-*`: PostgreSQL from the tasks, and from the CIDRs given. The database has no egress rule. */
export function databaseRules(name: string, args: DatabaseRulesArgs, parent: pulumi.Resource): void {
  const dbIngress: SecurityGroupRule[] = [
    {
      key: "postgres-from-service",
      description: "PostgreSQL from the notifications tasks",
      protocol: "tcp",
      fromPort: POSTGRES_PORT,
      toPort: POSTGRES_PORT,
      securityGroupId: args.serviceSecurityGroupId,
    },
  ];
  if ((args.databaseIngressCidrs ?? []).length > 0) {
    dbIngress.push({
      key: "postgres-from-cidrs",
      description: "PostgreSQL from configured operator networks",
      protocol: "tcp",
      fromPort: POSTGRES_PORT,
      toPort: POSTGRES_PORT,
      cidrBlocks: args.databaseIngressCidrs,
    });
  }
  addSecurityGroupRules(`${name}-db-in`, "ingress", args.databaseSecurityGroupId, dbIngress, parent);
}

/** What the rotation redeploy acts on. */
export interface RotationRedeployArgs {
  /** The account: the trust conditions name it. */
  readonly aws: AwsContext;
  /** The rule's, the state machine's and their roles' names, and the names their descriptions mention. */
  readonly names: Pick<
    NotificationsNames,
    "rotationRule" | "rotationRuleRole" | "redeployStateMachine" | "redeployRole" | "service" | "database"
  >;
  /** The RDS-managed master secret: its rotations, and only its, trigger the redeploy. */
  readonly databaseSecretArn: pulumi.Input<string>;
  /** The cluster the service runs in. */
  readonly clusterArn: pulumi.Input<string>;
  /** The service the state machine redeploys. */
  readonly serviceName: pulumi.Input<string>;
  /** The same service's ARN: the only resource the state machine's role may update. */
  readonly serviceArn: pulumi.Input<string>;
}

/** The rotation redeploy's resources. */
export interface RotationRedeploy {
  /** The EventBridge rule on each finished rotation of the database secret. */
  readonly rule: aws.cloudwatch.EventRule;
  /** The rule's target: the state machine, started with `ruleRole`. */
  readonly target: aws.cloudwatch.EventTarget;
  /** The state machine that forces a new deployment of the service. */
  readonly stateMachine: aws.sfn.StateMachine;
  /** The role EventBridge starts the state machine with. */
  readonly ruleRole: aws.iam.Role;
  /** The role the state machine calls ECS with. */
  readonly stateMachineRole: aws.iam.Role;
}

/** The Step Functions SDK integration that calls ECS UpdateService. */
export const UPDATE_SERVICE_TASK = "arn:aws:states:::aws-sdk:ecs:updateService";

/**
 * The CloudTrail record Secrets Manager writes when a rotation of `secretArn` has
 * finished, as EventBridge matches it: a service event (not an API call), whose
 * `additionalEventData.SecretId` is the secret's ARN.
 */
export function rotationSucceededPattern(secretArn: string): Record<string, unknown> {
  return {
    source: ["aws.secretsmanager"],
    "detail-type": ["AWS Service Event via CloudTrail"],
    detail: {
      eventSource: ["secretsmanager.amazonaws.com"],
      eventName: ["RotationSucceeded"],
      additionalEventData: { SecretId: [secretArn] },
    },
  };
}

/** One state, one call: ECS UpdateService of exactly this service with forceNewDeployment, retried; the execution's input is never read. */
export function redeployDefinition(clusterArn: string, serviceName: string, database: string): Record<string, unknown> {
  return {
    Comment: `Start ${serviceName}'s tasks again after RDS rotated ${database}'s master password: ECS reads secrets only at task start`,
    StartAt: "ForceNewDeployment",
    States: {
      ForceNewDeployment: {
        Type: "Task",
        Resource: UPDATE_SERVICE_TASK,
        Parameters: { Cluster: clusterArn, Service: serviceName, ForceNewDeployment: true },
        // A deployment already in progress, or a throttle: try again, for about half an hour in all.
        Retry: [{ ErrorEquals: ["States.ALL"], IntervalSeconds: 30, BackoffRate: 2, MaxAttempts: 6 }],
        End: true,
      },
    },
  };
}

/**
 * RDS rotates the managed master password (every 7 days by default), and ECS injects
 * `PGPASSWORD` only when a task starts: after a rotation the running task's new
 * connections would fail. So each `RotationSucceeded` of the database secret starts a
 * Step Functions execution that forces a new deployment of the service, whose new task
 * reads the new password. No code: the state machine calls ECS through the SDK
 * integration. Each identity can do one thing: the rule's role may start only this
 * state machine, and the state machine's role may only call `ecs:UpdateService` on this
 * service. The state machine ignores its input, so whoever starts it can do no more
 * than that one redeploy. Standard workflow: each redeploy stays in the execution
 * history for 90 days.
 */
export function rotationRedeploy(name: string, args: RotationRedeployArgs, parent: pulumi.Resource): RotationRedeploy {
  const { stateMachine, stateMachineRole } = redeployStateMachine(name, args, parent);
  const rule = rotationRule(name, args, parent);
  const { role: ruleRole, policy: rulePolicy } = rotationRuleRole(
    name,
    { aws: args.aws, names: args.names, ruleArn: rule.arn, stateMachineArn: stateMachine.arn },
    parent,
  );
  const target = new aws.cloudwatch.EventTarget(
    `${name}-db-rotated-target`,
    {
      rule: rule.name,
      targetId: "force-new-deployment",
      arn: stateMachine.arn,
      roleArn: ruleRole.arn,
      // The execution records which secret's rotation started it; the state machine reads nothing from it.
      inputPath: "$.detail.additionalEventData",
      retryPolicy: { maximumEventAgeInSeconds: 3600, maximumRetryAttempts: 185 },
    },
    { parent, dependsOn: [rulePolicy] },
  );
  return { rule, target, stateMachine, ruleRole, stateMachineRole };
}

/**
 * `<name>-redeploy-role` (Step Functions, this account only; `ecs:UpdateService` on this
 * service only) and `<name>-redeploy`, the state machine of {@link redeployDefinition}.
 */
export function redeployStateMachine(
  name: string,
  args: Omit<RotationRedeployArgs, "databaseSecretArn">,
  parent: pulumi.Resource,
): Pick<RotationRedeploy, "stateMachine" | "stateMachineRole"> {
  const { names } = args;
  const stateMachineRole = new aws.iam.Role(
    `${name}-redeploy-role`,
    {
      name: names.redeployRole,
      description: `${names.redeployStateMachine}: forces a new deployment of ${names.service}, nothing else`,
      assumeRolePolicy: serviceTrust(
        "states.amazonaws.com",
        args.aws.accountId,
        "StepFunctionsAssumesForThisAccountOnly",
      ),
      maxSessionDuration: 3600,
    },
    { parent },
  );
  const stateMachinePolicy = new aws.iam.RolePolicy(
    `${name}-redeploy-policy`,
    {
      role: stateMachineRole.id,
      name: "force-new-deployment",
      policy: policyDocument([
        { Sid: "ForceNewDeploymentOfThisServiceOnly", Action: ["ecs:UpdateService"], Resource: [args.serviceArn] },
      ]),
    },
    { parent },
  );
  const stateMachine = new aws.sfn.StateMachine(
    `${name}-redeploy`,
    {
      name: names.redeployStateMachine,
      type: "STANDARD",
      roleArn: stateMachineRole.arn,
      definition: pulumi
        .all([args.clusterArn, args.serviceName])
        .apply(([cluster, service]) => JSON.stringify(redeployDefinition(cluster, service, names.database))),
    },
    // Step Functions checks the role's rights when the state machine is created.
    { parent, dependsOn: [stateMachinePolicy] },
  );
  return { stateMachine, stateMachineRole };
}

/** `<name>-db-rotated`: the EventBridge rule on each finished rotation of the database secret. */
export function rotationRule(
  name: string,
  args: Pick<RotationRedeployArgs, "names" | "databaseSecretArn">,
  parent: pulumi.Resource,
): aws.cloudwatch.EventRule {
  const { names } = args;
  return new aws.cloudwatch.EventRule(
    `${name}-db-rotated`,
    {
      name: names.rotationRule,
      description: `${names.database}'s master password rotated: force a new deployment of ${names.service}`,
      eventPattern: pulumi.output(args.databaseSecretArn).apply((arn) => JSON.stringify(rotationSucceededPattern(arn))),
      // ENABLED matches every event but read-only management events; a rotation is neither read-only nor an API call.
      state: "ENABLED",
    },
    { parent },
  );
}

/** What {@link rotationRuleRole} needs. */
export interface RotationRuleRoleArgs extends Pick<RotationRedeployArgs, "aws" | "names"> {
  /** The rule that alone may assume the role (`aws:SourceArn`). */
  readonly ruleArn: pulumi.Input<string>;
  /** The state machine the role may start, and nothing else. */
  readonly stateMachineArn: pulumi.Input<string>;
}

/** `<name>-db-rotated-role` (EventBridge, for this rule only) with `<name>-db-rotated-policy` (start this state machine only). */
export function rotationRuleRole(
  name: string,
  args: RotationRuleRoleArgs,
  parent: pulumi.Resource,
): { readonly role: aws.iam.Role; readonly policy: aws.iam.RolePolicy } {
  const { names } = args;
  const role = new aws.iam.Role(
    `${name}-db-rotated-role`,
    {
      name: names.rotationRuleRole,
      description: `${names.rotationRule}: starts ${names.redeployStateMachine}, nothing else`,
      assumeRolePolicy: pulumi.output(args.ruleArn).apply((ruleArn) =>
        trustDocument([
          {
            Sid: "EventBridgeAssumesForThisRuleOnly",
            Principal: { Service: "events.amazonaws.com" },
            Action: "sts:AssumeRole",
            Condition: { StringEquals: { "aws:SourceAccount": args.aws.accountId, "aws:SourceArn": ruleArn } },
          },
        ]),
      ),
      maxSessionDuration: 3600,
    },
    { parent },
  );
  const policy = new aws.iam.RolePolicy(
    `${name}-db-rotated-policy`,
    {
      role: role.id,
      name: "start-redeploy",
      policy: policyDocument([
        { Sid: "StartThisRedeployOnly", Action: ["states:StartExecution"], Resource: [args.stateMachineArn] },
      ]),
    },
    { parent },
  );
  return { role, policy };
}

/** Log types the database exports to CloudWatch Logs. */
const DATABASE_LOG_EXPORTS = ["postgresql", "upgrade"] as const;

/** The database settings with every default applied. */
export type ResolvedNotificationsDatabase = Required<
  Omit<NotificationsDatabase, "kmsKeyArn" | "parameterGroupDescription">
> &
  Pick<NotificationsDatabase, "kmsKeyArn" | "parameterGroupDescription">;

/**
 * Applies the database defaults (production safeguards follow `protect`) and
 * refuses, naming each field, anything that would put production data at risk
 * or that the program could not keep stable.
 */
export function resolveDatabase(
  database: NotificationsDatabase,
  identifier: string,
  protect: boolean,
): ResolvedNotificationsDatabase {
  const d = database;
  const problems: string[] = [];
  if (!/^[1-9][0-9]*$/.test(d.engineVersion)) {
    problems.push(
      `engineVersion "${d.engineVersion}" must be a major version such as "17": minor versions upgrade automatically`,
    );
  }
  if (!(Number.isInteger(d.backupRetentionDays) && d.backupRetentionDays >= 1 && d.backupRetentionDays <= 35)) {
    problems.push(`backupRetentionDays ${d.backupRetentionDays} must be 1-35 (0 would turn automated backups off)`);
  }
  if (d.maxAllocatedStorage <= d.allocatedStorage) {
    problems.push(`maxAllocatedStorage ${d.maxAllocatedStorage} must exceed allocatedStorage ${d.allocatedStorage}`);
  }
  const databaseName = d.databaseName ?? "notifications";
  const username = d.username ?? "notificationsadmin";
  for (const [field, value] of [
    ["databaseName", databaseName],
    ["username", username],
  ] as const) {
    if (!/^[a-z][a-z0-9_]{0,62}$/.test(value))
      problems.push(`${field} "${value}" must be a lower-case PostgreSQL identifier`);
  }
  if (protect) {
    if (d.multiAz === false) problems.push("multiAz may not be off for production data (protect)");
    if (d.deletionProtection === false)
      problems.push("deletionProtection may not be off for production data (protect)");
    if (d.skipFinalSnapshot === true) problems.push("skipFinalSnapshot may not be true for production data (protect)");
    if (d.backupRetentionDays < PROTECTED_BACKUP_RETENTION_DAYS)
      problems.push(
        `backupRetentionDays ${d.backupRetentionDays} is below ${PROTECTED_BACKUP_RETENTION_DAYS} for production data (protect)`,
      );
  }
  const finalSnapshotIdentifier = d.finalSnapshotIdentifier ?? `${identifier}-final`;
  if (!/^[A-Za-z](?!.*--)[A-Za-z0-9-]{0,253}[A-Za-z0-9]$/.test(finalSnapshotIdentifier)) {
    problems.push(
      `finalSnapshotIdentifier "${finalSnapshotIdentifier}" must start with a letter, hold letters, digits and single hyphens, and not end with a hyphen`,
    );
  }
  if (problems.length > 0) throw new Error(`${identifier}: ${problems.join("; ")}`);
  return {
    ...d,
    databaseName,
    username,
    multiAz: d.multiAz ?? protect,
    deletionProtection: d.deletionProtection ?? protect,
    skipFinalSnapshot: d.skipFinalSnapshot ?? !protect,
    finalSnapshotIdentifier,
  };
}

function validateArgs(args: NotificationsArgs): void {
  const problems: string[] = [];
  if (!args.image.endsWith(`:${args.imageTag}`))
    problems.push(`image "${args.image}" does not carry the tag "${args.imageTag}"`);
  if (!args.hostName.endsWith(`.${args.dns.zoneName}`))
    problems.push(`hostName "${args.hostName}" is not in the zone ${args.dns.zoneName}`);
  const keys = (args.albClients ?? []).map((c) => c.key);
  const twice = keys.filter((k, i) => keys.indexOf(k) !== i);
  if (twice.length > 0) problems.push(`albClients key "${twice[0]}" is used twice`);
  if (problems.length > 0) throw new Error(`${args.names.service}: ${problems.join("; ")}`);
}
