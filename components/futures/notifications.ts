import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { AwsContext, policyDocument, serviceTrust, trustDocument } from "../../lib/iam";
import { policyExceptionTag } from "../../policy/rules/model";
import type { ClusterRef } from "../cluster";
import { ContainerService, SecurityGroupRule, addSecurityGroupRules } from "../container-service";
import { dnsValidatedCertificate } from "../dns-certificate";
import { DnsTarget, zoneRecord } from "../dns-zone";
import { DeployedServiceRef, appSecret, deployedServiceRef, imageTagParameter } from "../service-parts";

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
  /** Target group, `tg-notifications-3000-{env}` (at most 32 characters). */
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

/** The PostgreSQL database (docs/estate.md has today's values per environment). */
export interface NotificationsDatabase {
  /** RDS instance class, e.g. `db.t3.micro` (dev, stg), `db.t3.small` (lmn). */
  readonly instanceClass: string;
  /** Storage (GiB) at creation, e.g. 20 (dev) or 50 (lmn). */
  readonly allocatedStorage: number;
  /** Storage autoscaling ceiling (GiB); must exceed `allocatedStorage`. E.g. 50 (dev) or 100 (lmn). */
  readonly maxAllocatedStorage: number;
  /**
   * PostgreSQL MAJOR version only, e.g. `"17"`. With `autoMinorVersionUpgrade` on,
   * RDS keeps the actual minor version (`17.4`, later `17.6`) in `engineVersionActual`
   * and the provider treats the configured major as a prefix of it, so a minor
   * upgrade in the maintenance window never shows up as a diff. A full `17.4` would
   * fight every upgrade (or need `ignoreChanges`), so it is refused.
   */
  readonly engineVersion: string;
  /** Database the application uses. Default `notifications`. */
  readonly databaseName?: string;
  /** Master user name (its password is generated and rotated by RDS in Secrets Manager). Default `notificationsadmin`. */
  readonly username?: string;
  /** Days of automated backups: 1–35, at least 14 when `protect` (e.g. 7 dev, 30 lmn). */
  readonly backupRetentionDays: number;
  /** Daily backup window, UTC, e.g. `03:00-04:00`. */
  readonly backupWindow: string;
  /** Weekly maintenance window, UTC, e.g. `sun:04:00-sun:05:00`. */
  readonly maintenanceWindow: string;
  /** Standby in a second AZ. Default: `protect`; may not be off when `protect`. */
  readonly multiAz?: boolean;
  /** RDS deletion protection. Default: `protect`; may not be off when `protect`. */
  readonly deletionProtection?: boolean;
  /** Skip the final snapshot on deletion. Default: `!protect`; may not be true when `protect`. */
  readonly skipFinalSnapshot?: boolean;
  /**
   * Final snapshot name. Default `<identifier>-final`. Deterministic on purpose:
   * the live Terraform embeds `timestamp()`, a diff on every plan (docs/estate.md#flaw-rds-production).
   */
  readonly finalSnapshotIdentifier?: string;
  /** `max_connections` in the parameter group, e.g. 100 (dev) or 200 (lmn). */
  readonly maxConnections: number;
  /** Days Performance Insights keeps its data: 7 (free), 31…731. */
  readonly performanceInsightsRetentionDays: number;
}

/** A security group allowed to call the internal HTTPS endpoint (the margin-call Lambda's). */
export interface NotificationsClient {
  /** Stable short id (`margin-call`): part of the rule's logical name, so rules never shift when the list changes. */
  readonly key: string;
  /** Who the client is, shown on the rule. */
  readonly description: string;
  readonly securityGroupId: pulumi.Input<string>;
}

export interface NotificationsArgs {
  readonly aws: AwsContext;
  /** The futures cluster the service runs in. */
  readonly cluster: ClusterRef;
  /** VPC and the private subnets (the foundation's "middle" subnets) for the tasks, the ALB and the database. */
  readonly network: { readonly vpcId: pulumi.Input<string>; readonly privateSubnetIds: pulumi.Input<string[]> };
  readonly names: NotificationsNames;
  /** Full image reference `repository:tag`, e.g. `ghcr.io/lumerin-protocol/futures-notifications:notifications-v1.2.0-dev`. */
  readonly image: string;
  /** The tag alone (recorded in SSM); `image` must end with `:<imageTag>`. */
  readonly imageTag: string;
  /** Fargate CPU units, e.g. 256. */
  readonly cpu: number;
  /** Fargate memory (MiB), e.g. 512. */
  readonly memory: number;
  /** `LOG_LEVEL` of the application. */
  readonly logLevel: "debug" | "info" | "warn" | "error";
  /** Days CloudWatch Logs keeps the service's and the database's logs. */
  readonly logRetentionDays: number;
  /** Allow `aws ecs execute-command` into the task (sessions logged and encrypted by the cluster). */
  readonly enableExecuteCommand: boolean;
  /** Alarms that roll a deployment back (the monitoring's, by name). */
  readonly deploymentAlarmNames?: readonly string[];
  /**
   * The platform CMK. It encrypts the application secret, the RDS-managed master
   * secret, the database storage and Performance Insights; the execution role may
   * decrypt with it only through Secrets Manager.
   */
  readonly secretsKmsKeyArn: pulumi.Input<string>;
  /** Telegram bot token from `pulumi config set --secret`; absent when the secret is filled out of band. */
  readonly telegramBotToken?: pulumi.Output<string>;
  /** Internal host name, `notifyint.dev.lumerin.io` (lmn `notifyint.lumerin.io`); must lie in `dns.zoneName`. */
  readonly hostName: string;
  /** Zone of the alias and the certificate's validation record (and the provider for its account). */
  readonly dns: DnsTarget;
  /** CIDRs (VPN) that may call the HTTPS endpoint. Default none. */
  readonly albIngressCidrs?: readonly string[];
  /** Security groups that may call the HTTPS endpoint (the margin-call Lambda's). Default none. */
  readonly albClients?: readonly NotificationsClient[];
  /** CIDRs that may reach PostgreSQL directly (operators on the VPN). Default none: only the service. */
  readonly databaseIngressCidrs?: readonly string[];
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
   * The key of the database's storage and Performance Insights. RDS cannot re-encrypt an instance:
   * a different key than the live one's is a new, empty database. Adopting an instance encrypted
   * with the account's `aws/rds` key names that key here (the stack's policy pack reports it).
   * @default secretsKmsKeyArn (the stack's own key)
   */
  readonly databaseKmsKeyArn?: string;
  /**
   * The parameter group's description (RDS cannot change one).
   * @default "<identifier>: TLS required, connection limit"
   */
  readonly parameterGroupDescription?: string;
  /**
   * The security groups' descriptions (EC2 cannot change one).
   * @default the program's own, naming what each group admits
   */
  readonly securityGroupDescriptions?: { readonly alb?: string; readonly service?: string; readonly database?: string };
}

/** Port the application listens on (hard-coded in the app, docs/estate.md). */
export const NOTIFICATIONS_PORT = 3000;
export const POSTGRES_PORT = 5432;
/** TLS 1.3 and 1.2 only, forward-secret ciphers: AWS's recommended ALB policy. */
export const NOTIFICATIONS_TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06";

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
  readonly secret: aws.secretsmanager.Secret;
  readonly imageTagParameter: aws.ssm.Parameter;
  readonly containerService: ContainerService;
  /** What the deploy role, the GitHub variables and the monitoring need. */
  readonly ref: DeployedServiceRef;
  readonly database: aws.rds.Instance;
  readonly databaseSecurityGroup: aws.ec2.SecurityGroup;
  readonly albSecurityGroup: aws.ec2.SecurityGroup;
  readonly loadBalancer: aws.lb.LoadBalancer;
  readonly targetGroup: aws.lb.TargetGroup;
  readonly listener: aws.lb.Listener;
  readonly certificate: aws.acm.Certificate;
  /** On each rotation of the database secret, a forced new deployment: see {@link rotationRedeploy}. */
  readonly rotationRedeploy: RotationRedeploy;

  readonly serviceArn: pulumi.Output<string>;
  readonly serviceName: pulumi.Output<string>;
  readonly taskFamily: string;
  readonly containerName: string;
  readonly executionRoleArn: pulumi.Output<string>;
  readonly taskRoleArn: pulumi.Output<string>;
  readonly imageTagParameterArn: pulumi.Output<string>;
  readonly imageTagParameterName: string;
  /** The application secret (`telegram_bot_token`). */
  readonly secretArn: pulumi.Output<string>;
  /** The RDS-managed master secret (`username`, `password`). */
  readonly databaseSecretArn: pulumi.Output<string>;
  /** `app/<name>/<id>`: the CloudWatch `LoadBalancer` dimension. */
  readonly loadBalancerArnSuffix: pulumi.Output<string>;
  /** `targetgroup/<name>/<id>`: the CloudWatch `TargetGroup` dimension. */
  readonly targetGroupArnSuffix: pulumi.Output<string>;
  /** The CloudWatch `DBInstanceIdentifier` dimension. */
  readonly databaseIdentifier: pulumi.Output<string>;
  readonly serviceSecurityGroupId: pulumi.Output<string>;
  readonly albSecurityGroupId: pulumi.Output<string>;
  readonly databaseSecurityGroupId: pulumi.Output<string>;
  readonly hostName: string;
  /** `https://<hostName>`: what callers (the margin-call Lambda) use. */
  readonly url: string;
  /** Tasks the service is created with (see {@link NotificationsArgs.desiredCount}). */
  readonly desiredCount: 0 | 1;

  constructor(name: string, args: NotificationsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lumerin:futures:Notifications", name, {}, opts);
    validateArgs(args);
    const db = resolveDatabase(args.database, args.names.database, args.protect);
    const { names } = args;
    const parent = { parent: this };
    this.desiredCount = args.desiredCount ?? 1;

    this.secret = appSecret(
      name,
      {
        secretName: names.secret,
        description: "futures notifications: telegram_bot_token (read by ECS at task start only)",
        kmsKeyArn: args.secretsKmsKeyArn,
        ...(args.telegramBotToken ? { values: { telegram_bot_token: args.telegramBotToken } } : {}),
        protect: args.protect,
      },
      this,
    );
    this.imageTagParameter = imageTagParameter(
      name,
      { parameterName: names.imageTagParameter, tag: args.imageTag, serviceName: names.service },
      this,
    );

    // ---------------------------------------------------------------- security groups
    // Created empty first: their rules reference one another (ALB → tasks → database),
    // so every rule is its own resource, added once both ends exist.
    this.albSecurityGroup = new aws.ec2.SecurityGroup(
      `${name}-alb-sg`,
      {
        name: names.albSecurityGroup,
        description:
          args.securityGroupDescriptions?.alb ?? `${names.loadBalancer}: HTTPS from callers, HTTP to ${names.service}`,
        vpcId: args.network.vpcId,
        tags: { Name: names.albSecurityGroup },
      },
      parent,
    );
    // No egress rule: the provider removes AWS's default allow-all, and PostgreSQL only answers.
    this.databaseSecurityGroup = new aws.ec2.SecurityGroup(
      `${name}-db-sg`,
      {
        name: names.databaseSecurityGroup,
        description:
          args.securityGroupDescriptions?.database ?? `${names.database}: PostgreSQL from ${names.service} only`,
        vpcId: args.network.vpcId,
        tags: { Name: names.databaseSecurityGroup },
      },
      parent,
    );

    // ---------------------------------------------------------------- database
    const subnetGroup = new aws.rds.SubnetGroup(
      `${name}-db-subnets`,
      {
        name: names.databaseSubnetGroup,
        description: `${names.database}: private subnets`,
        subnetIds: args.network.privateSubnetIds,
      },
      parent,
    );
    const parameterGroup = new aws.rds.ParameterGroup(
      `${name}-db-parameters`,
      {
        name: names.databaseParameterGroup,
        family: `postgres${db.engineVersion}`,
        description: args.parameterGroupDescription ?? `${names.database}: TLS required, connection limit`,
        parameters: [
          // PostgreSQL 15+ on RDS defaults to 1 already; stated here so the guarantee does not rest on a default.
          // pending-reboot is accepted for static and dynamic parameters alike; a new instance starts with both.
          { name: "rds.force_ssl", value: "1", applyMethod: "pending-reboot" },
          { name: "max_connections", value: String(db.maxConnections), applyMethod: "pending-reboot" },
        ],
      },
      parent,
    );
    // RDS would create these itself, without retention (kept forever); created first with the service's retention.
    const databaseLogGroups = DATABASE_LOG_EXPORTS.map(
      (log) =>
        new aws.cloudwatch.LogGroup(
          `${name}-db-logs-${log}`,
          { name: `/aws/rds/instance/${names.database}/${log}`, retentionInDays: args.logRetentionDays },
          parent,
        ),
    );

    // The stack's key, unless an adopted instance is encrypted with another one (a new key is a new instance).
    const storageKey = args.databaseKmsKeyArn ?? args.secretsKmsKeyArn;
    this.database = new aws.rds.Instance(
      `${name}-db`,
      {
        identifier: names.database,
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
        dbSubnetGroupName: subnetGroup.name,
        parameterGroupName: parameterGroup.name,
        vpcSecurityGroupIds: [this.databaseSecurityGroup.id],
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
        ...(args.databaseKmsKeyArn
          ? { tags: { [policyExceptionTag("rds-storage-stack-key")]: "futures.notifications.database.kmsKeyArn" } }
          : {}),
      },
      // No retainOnDelete: deleting production already takes two deliberate steps (unprotect, then
      // deletion protection off), and then takes a final snapshot and keeps the automated backups;
      // retaining would only orphan a running Multi-AZ instance outside the program.
      { parent: this, protect: args.protect, dependsOn: databaseLogGroups },
    );
    this.databaseSecretArn = this.database.masterUserSecrets.apply((secrets) => {
      const arn = secrets?.[0]?.secretArn;
      if (!arn) throw new Error(`${names.database}: RDS reported no managed master-user secret`);
      return arn;
    });

    // ---------------------------------------------------------------- certificate and load balancer
    const issued = dnsValidatedCertificate(name, {
      names: [{ key: "host", host: args.hostName }],
      dns: args.dns,
      parent: this,
    });
    this.certificate = issued.certificate;

    this.loadBalancer = new aws.lb.LoadBalancer(
      `${name}-alb`,
      {
        name: names.loadBalancer,
        loadBalancerType: "application",
        internal: true,
        subnets: args.network.privateSubnetIds,
        securityGroups: [this.albSecurityGroup.id],
        dropInvalidHeaderFields: true,
        enableDeletionProtection: args.protect,
      },
      parent,
    );
    this.targetGroup = new aws.lb.TargetGroup(
      `${name}-tg`,
      {
        name: names.targetGroup,
        port: NOTIFICATIONS_PORT,
        protocol: "HTTP",
        targetType: "ip",
        vpcId: args.network.vpcId,
        // A singleton: the old task stops before the new one starts, so there is nothing to drain for long.
        deregistrationDelay: 10,
        healthCheck: {
          enabled: true,
          protocol: "HTTP",
          path: "/healthcheck",
          port: "traffic-port",
          matcher: "200",
          interval: 30,
          timeout: 5,
          healthyThreshold: 2,
          unhealthyThreshold: 2,
        },
      },
      parent,
    );
    // HTTPS only: no port-80 listener exists, so nothing ever crosses the VPC in plain text.
    this.listener = new aws.lb.Listener(
      `${name}-https`,
      {
        loadBalancerArn: this.loadBalancer.arn,
        port: 443,
        protocol: "HTTPS",
        sslPolicy: NOTIFICATIONS_TLS_POLICY,
        certificateArn: issued.validatedArn,
        defaultActions: [{ type: "forward", targetGroupArn: this.targetGroup.arn }],
      },
      parent,
    );

    // docs/estate.md#flaw-private-ips-public-dns: an internal ALB's private addresses published in the PUBLIC zone, as today
    // (the margin-call Lambda resolves this name). A private hosted zone associated with the VPC is the
    // better long-term home; the public record stays until the Lambda can resolve one.
    this.hostName = args.hostName;
    this.url = `https://${args.hostName}`;
    zoneRecord(
      `${name}-dns`,
      args.dns,
      {
        name: args.hostName,
        type: "A",
        aliases: [{ name: this.loadBalancer.dnsName, zoneId: this.loadBalancer.zoneId, evaluateTargetHealth: true }],
      },
      parent,
      `${args.hostName} A`,
    );

    // ---------------------------------------------------------------- the service
    const environment: Record<string, pulumi.Input<string>> = {
      PORT: String(NOTIFICATIONS_PORT),
      LOG_LEVEL: args.logLevel,
      PGHOST: this.database.address,
      PGPORT: String(POSTGRES_PORT),
      PGDATABASE: db.databaseName,
      // The parameter group refuses clear-text connections; libpq must not fall back to them.
      PGSSLMODE: "require",
    };
    this.containerService = new ContainerService(
      `${name}-svc`,
      {
        aws: args.aws,
        cluster: args.cluster,
        names: {
          service: names.service,
          taskFamily: names.taskFamily,
          container: names.container,
          securityGroup: names.serviceSecurityGroup,
          executionRole: names.executionRole,
          taskRole: names.taskRole,
          logGroup: names.logGroup,
        },
        network: {
          vpcId: args.network.vpcId,
          subnetIds: args.network.privateSubnetIds,
          ...(args.securityGroupDescriptions?.service
            ? { securityGroupDescription: args.securityGroupDescriptions.service }
            : {}),
        },
        container: {
          image: args.image,
          cpu: args.cpu,
          memory: args.memory,
          // PGHOST is known only once RDS has created the instance: resolved into the task definition.
          environment,
          secrets: [
            {
              name: "PGUSER",
              secretArn: this.databaseSecretArn,
              jsonKey: "username",
              kmsKeyArn: args.secretsKmsKeyArn,
            },
            {
              name: "PGPASSWORD",
              secretArn: this.databaseSecretArn,
              jsonKey: "password",
              kmsKeyArn: args.secretsKmsKeyArn,
            },
            {
              name: "TELEGRAM_BOT_TOKEN",
              secretArn: this.secret.arn,
              jsonKey: "telegram_bot_token",
              kmsKeyArn: args.secretsKmsKeyArn,
            },
          ],
          portMappings: [{ containerPort: NOTIFICATIONS_PORT, name: "http" }],
        },
        logging: { retentionDays: args.logRetentionDays, streamPrefix: "futures-notifications-tsk" },
        deployment: {
          // Only one Telegram bot may poll at a time.
          desiredCount: this.desiredCount,
          singleton: true,
          healthCheckGracePeriodSeconds: 60,
          ...(args.deploymentAlarmNames ? { alarmNames: args.deploymentAlarmNames } : {}),
        },
        ingress: {
          "http-from-alb": {
            description: "HTTP and health checks from the internal ALB",
            protocol: "tcp",
            fromPort: NOTIFICATIONS_PORT,
            toPort: NOTIFICATIONS_PORT,
            securityGroupId: this.albSecurityGroup.id,
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
            securityGroupId: this.databaseSecurityGroup.id,
          },
        },
        loadBalancers: [{ targetGroupArn: this.targetGroup.arn, containerPort: NOTIFICATIONS_PORT }],
        enableExecuteCommand: args.enableExecuteCommand,
      },
      // A target group takes targets only once a listener attaches it to the load balancer.
      { parent: this, dependsOn: [this.listener] },
    );
    const serviceSgId = this.containerService.securityGroupId;

    // ---------------------------------------------------------------- the password rotates under the service
    this.rotationRedeploy = rotationRedeploy(
      name,
      {
        aws: args.aws,
        names,
        databaseSecretArn: this.databaseSecretArn,
        clusterArn: args.cluster.arn,
        serviceName: this.containerService.serviceName,
        serviceArn: this.containerService.serviceArn,
      },
      this,
    );

    // ---------------------------------------------------------------- rules that need both ends
    const albIngress: SecurityGroupRule[] = [];
    if ((args.albIngressCidrs ?? []).length > 0) {
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
    addSecurityGroupRules(`${name}-alb-in`, "ingress", this.albSecurityGroup.id, albIngress, this);
    addSecurityGroupRules(
      `${name}-alb-out`,
      "egress",
      this.albSecurityGroup.id,
      [
        {
          key: "http-to-tasks",
          description: "HTTP and health checks to the notifications tasks",
          protocol: "tcp",
          fromPort: NOTIFICATIONS_PORT,
          toPort: NOTIFICATIONS_PORT,
          securityGroupId: serviceSgId,
        },
      ],
      this,
    );

    const dbIngress: SecurityGroupRule[] = [
      {
        key: "postgres-from-service",
        description: "PostgreSQL from the notifications tasks",
        protocol: "tcp",
        fromPort: POSTGRES_PORT,
        toPort: POSTGRES_PORT,
        securityGroupId: serviceSgId,
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
    addSecurityGroupRules(`${name}-db-in`, "ingress", this.databaseSecurityGroup.id, dbIngress, this);

    // ---------------------------------------------------------------- outputs
    this.serviceArn = this.containerService.serviceArn;
    this.serviceName = this.containerService.serviceName;
    this.taskFamily = names.taskFamily;
    this.containerName = names.container;
    this.executionRoleArn = this.containerService.executionRole.arn;
    this.taskRoleArn = this.containerService.taskRole.arn;
    this.imageTagParameterArn = this.imageTagParameter.arn;
    this.imageTagParameterName = names.imageTagParameter;
    this.secretArn = this.secret.arn;
    this.loadBalancerArnSuffix = this.loadBalancer.arnSuffix;
    this.targetGroupArnSuffix = this.targetGroup.arnSuffix;
    this.databaseIdentifier = this.database.identifier;
    this.serviceSecurityGroupId = serviceSgId;
    this.albSecurityGroupId = this.albSecurityGroup.id;
    this.databaseSecurityGroupId = this.databaseSecurityGroup.id;
    this.ref = deployedServiceRef(this.containerService, {
      taskFamily: names.taskFamily,
      containerName: names.container,
      imageTagParameter: this.imageTagParameter,
      imageTagParameterName: names.imageTagParameter,
      secret: this.secret,
    });

    this.registerOutputs({
      serviceArn: this.serviceArn,
      serviceName: this.serviceName,
      taskFamily: this.taskFamily,
      containerName: this.containerName,
      executionRoleArn: this.executionRoleArn,
      taskRoleArn: this.taskRoleArn,
      imageTagParameterArn: this.imageTagParameterArn,
      imageTagParameterName: this.imageTagParameterName,
      secretArn: this.secretArn,
      databaseSecretArn: this.databaseSecretArn,
      loadBalancerArnSuffix: this.loadBalancerArnSuffix,
      targetGroupArnSuffix: this.targetGroupArnSuffix,
      databaseIdentifier: this.databaseIdentifier,
      serviceSecurityGroupId: this.serviceSecurityGroupId,
      albSecurityGroupId: this.albSecurityGroupId,
      databaseSecurityGroupId: this.databaseSecurityGroupId,
      url: this.url,
    });
  }
}

/** What the rotation redeploy acts on. */
export interface RotationRedeployArgs {
  readonly aws: AwsContext;
  readonly names: Pick<
    NotificationsNames,
    "rotationRule" | "rotationRuleRole" | "redeployStateMachine" | "redeployRole" | "service" | "database"
  >;
  /** The RDS-managed master secret: its rotations, and only its, trigger the redeploy. */
  readonly databaseSecretArn: pulumi.Input<string>;
  readonly clusterArn: pulumi.Input<string>;
  readonly serviceName: pulumi.Input<string>;
  readonly serviceArn: pulumi.Input<string>;
}

export interface RotationRedeploy {
  readonly rule: aws.cloudwatch.EventRule;
  readonly target: aws.cloudwatch.EventTarget;
  readonly stateMachine: aws.sfn.StateMachine;
  readonly ruleRole: aws.iam.Role;
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
  const { names } = args;
  const opts = { parent };

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
    opts,
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
    opts,
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

  const rule = new aws.cloudwatch.EventRule(
    `${name}-db-rotated`,
    {
      name: names.rotationRule,
      description: `${names.database}'s master password rotated: force a new deployment of ${names.service}`,
      eventPattern: pulumi.output(args.databaseSecretArn).apply((arn) => JSON.stringify(rotationSucceededPattern(arn))),
      // ENABLED matches every event but read-only management events; a rotation is neither read-only nor an API call.
      state: "ENABLED",
    },
    opts,
  );
  const ruleRole = new aws.iam.Role(
    `${name}-db-rotated-role`,
    {
      name: names.rotationRuleRole,
      description: `${names.rotationRule}: starts ${names.redeployStateMachine}, nothing else`,
      assumeRolePolicy: pulumi.output(rule.arn).apply((ruleArn) =>
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
    opts,
  );
  const rulePolicy = new aws.iam.RolePolicy(
    `${name}-db-rotated-policy`,
    {
      role: ruleRole.id,
      name: "start-redeploy",
      policy: policyDocument([
        { Sid: "StartThisRedeployOnly", Action: ["states:StartExecution"], Resource: [stateMachine.arn] },
      ]),
    },
    opts,
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

/** Log types the database exports to CloudWatch Logs. */
const DATABASE_LOG_EXPORTS = ["postgresql", "upgrade"] as const;

/** The database settings with every default applied. */
export type ResolvedNotificationsDatabase = Required<NotificationsDatabase>;

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
    if (d.backupRetentionDays < 14)
      problems.push(`backupRetentionDays ${d.backupRetentionDays} is below 14 for production data (protect)`);
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
