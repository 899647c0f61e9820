import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import {
  NOTIFICATIONS_TLS_POLICY,
  Notifications,
  NotificationsArgs,
  NotificationsDatabase,
  resolveDatabase,
} from "../components/futures/notifications";
import { futuresNames } from "../lib/naming";
import { RULES } from "../policy/rules";
import type { PolicyViolation } from "../policy/rules/model";
import type { CapturedResource, Plan } from "../tools/harness";
import { ACCOUNT, REGION, evaluateProgram } from "./support/policy";
import { containers, doc, resource, resourcesOfType } from "./support/plan";
import { eventMatches } from "./support/event-pattern";
import { runSimulation } from "@cloud-copilot/iam-simulate";
import { KEY_ARN, PRIVATE_SUBNETS } from "./support/fixtures";

type Stack = "dev" | "lmn";

const MARGIN_CALL_SG = "sg-0a1b2c3d4e5f60718";
const VPN = "172.18.0.0/19";
const SUBNETS = PRIVATE_SUBNETS;
const ZONES: Record<Stack, { zoneId: string; zoneName: string; hostName: string }> = {
  dev: { zoneId: "Z0DEVZONE000001", zoneName: "dev.lumerin.io", hostName: "notifyint.dev.lumerin.io" },
  lmn: { zoneId: "Z0ROOTZONE00001", zoneName: "lumerin.io", hostName: "notifyint.lumerin.io" },
};

/** docs/estate.md: today's values, with the production safeguards coming from `protect`. */
const DATABASES: Record<Stack, NotificationsDatabase> = {
  dev: {
    instanceClass: "db.t3.micro",
    allocatedStorage: 20,
    maxAllocatedStorage: 50,
    engineVersion: "17",
    backupRetentionDays: 7,
    backupWindow: "03:00-04:00",
    maintenanceWindow: "sun:04:00-sun:05:00",
    maxConnections: 100,
    performanceInsightsRetentionDays: 7,
  },
  lmn: {
    instanceClass: "db.t3.small",
    allocatedStorage: 50,
    maxAllocatedStorage: 100,
    engineVersion: "17",
    backupRetentionDays: 30,
    backupWindow: "03:00-04:00",
    maintenanceWindow: "sun:04:00-sun:05:00",
    maxConnections: 200,
    performanceInsightsRetentionDays: 7,
  },
};

function args(stack: Stack, dnsProvider?: aws.Provider): NotificationsArgs {
  const tag = stack === "dev" ? "notifications-v1.2.0-dev" : "notifications-v1.2.0";
  return {
    aws: { accountId: ACCOUNT, region: REGION, partition: "aws" },
    cluster: {
      arn: `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/ecs-futures-marketplace-${stack}`,
      name: `ecs-futures-marketplace-${stack}`,
      execLogGroupArn: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:bedrock-futures-marketplace-ecs-cluster-${stack}`,
      kmsKeyArn: KEY_ARN,
    },
    network: { vpcId: "vpc-0123456789abcdef0", privateSubnetIds: SUBNETS },
    names: futuresNames(stack).notifications,
    image: `ghcr.io/lumerin-protocol/futures-notifications:${tag}`,
    imageTag: tag,
    cpu: 256,
    memory: 512,
    logLevel: stack === "dev" ? "debug" : "info",
    logRetentionDays: stack === "dev" ? 7 : 90,
    enableExecuteCommand: stack === "dev",
    secretsKmsKeyArn: KEY_ARN,
    // lmn: the token is set out of band (no SecretVersion).
    ...(stack === "dev" ? { telegramBotToken: pulumi.secret("123456789:AAH-test-token-not-real") } : {}),
    hostName: ZONES[stack].hostName,
    dns: {
      zoneId: ZONES[stack].zoneId,
      zoneName: ZONES[stack].zoneName,
      ...(dnsProvider ? { provider: dnsProvider } : {}),
    },
    albIngressCidrs: stack === "dev" ? [VPN] : [],
    // dev opts operators on the VPN into the database; lmn takes the default (none).
    ...(stack === "dev" ? { databaseIngressCidrs: [VPN] } : {}),
    albClients: [{ key: "margin-call", description: "the margin-call Lambda", securityGroupId: MARGIN_CALL_SG }],
    database: DATABASES[stack],
    protect: stack === "lmn",
  };
}

const RULE_TYPES = {
  ingress: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
  egress: "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
} as const;

/** Every security-group rule as `direction group port peer`, groups and peers named by what they are. */
function ruleTable(plan: Plan): string[] {
  const groups = new Map<string, string>([
    [sg(plan, "notifications-alb-sg").id as string, "alb"],
    [sg(plan, "notifications-svc-sg").id as string, "service"],
    [sg(plan, "notifications-db-sg").id as string, "db"],
    [MARGIN_CALL_SG, "margin-call"],
  ]);
  const label = (id: unknown) => groups.get(String(id)) ?? `unknown ${String(id)}`;
  return (["ingress", "egress"] as const)
    .flatMap((direction) =>
      resourcesOfType(plan, RULE_TYPES[direction]).map((r) => {
        const i = r.inputs;
        const peer = i.referencedSecurityGroupId
          ? `sg:${label(i.referencedSecurityGroupId)}`
          : `cidr:${String(i.cidrIpv4)}`;
        const port =
          i.ipProtocol === "-1" ? "all" : `${String(i.ipProtocol)}/${String(i.fromPort)}-${String(i.toPort)}`;
        return `${direction} ${label(i.securityGroupId)} ${port} ${peer}`;
      }),
    )
    .sort();
}

function sg(plan: Plan, name: string): CapturedResource {
  return resource(plan, "aws:ec2/securityGroup:SecurityGroup", name);
}

describe("Notifications", () => {
  const evaluated = {} as Record<
    Stack,
    { plan: Plan; mandatory: string[]; advisory: string[]; violations: PolicyViolation[] }
  >;
  before(async () => {
    {
      for (const stack of ["dev", "lmn"] as const) {
        const { plan, violations } = await evaluateProgram(
          RULES,
          () => {
            // lmn's zone lives in another account (titanio-prd): its records go through that provider.
            const dnsProvider = stack === "lmn" ? new aws.Provider("zone-account", { region: REGION }) : undefined;
            const n = new Notifications("notifications", args(stack, dnsProvider));
            return {
              url: n.url,
              serviceArn: n.ref.serviceArn,
              serviceName: n.serviceName,
              taskFamily: n.ref.taskFamily,
              containerName: n.containerName,
              executionRoleArn: n.ref.executionRoleArn,
              taskRoleArn: n.ref.taskRoleArn,
              imageTagParameterArn: n.ref.imageTagParameterArn,
              imageTagParameterName: n.imageTagParameterName,
              secretArn: n.ref.secretArn,
              databaseSecretArn: n.ref.databaseSecretArn,
              loadBalancerArnSuffix: n.loadBalancerArnSuffix,
              targetGroupArnSuffix: n.targetGroupArnSuffix,
              databaseIdentifier: n.databaseIdentifier,
              serviceSecurityGroupId: n.ref.serviceSecurityGroupId,
              albSecurityGroupId: n.ref.albSecurityGroupId,
            };
          },
          { stack },
        );
        const format = (level: string) =>
          violations.filter((v) => v.level === level).map((v) => `${v.policy}: ${v.message}`);
        evaluated[stack] = { plan, mandatory: format("mandatory"), advisory: format("advisory"), violations };
      }
    }
  });

  const db = (stack: Stack) => resource(evaluated[stack].plan, "aws:rds/instance:Instance", "notifications-db");
  const appSecretArn = (stack: Stack) =>
    resource(evaluated[stack].plan, "aws:secretsmanager/secret:Secret", "notifications-secret").outputs.arn as string;
  /** The secret RDS manages for the master user (an output of the instance). */
  const dbSecretArn = (stack: Stack) => {
    const secrets = db(stack).outputs.masterUserSecrets as { secretArn: string }[];
    assert.equal(secrets.length, 1);
    assert.match(secrets[0].secretArn, new RegExp(`^arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:rds!db-`));
    return secrets[0].secretArn;
  };

  describe("database", () => {
    it("lmn: Multi-AZ, deletion protection, a deterministic final snapshot, long backups, protect", () => {
      const { inputs, options } = db("lmn");
      assert.equal(inputs.identifier, "notifications-v2-lmn");
      assert.equal(inputs.multiAz, true);
      assert.equal(inputs.deletionProtection, true);
      assert.equal(inputs.skipFinalSnapshot, false);
      assert.equal(inputs.finalSnapshotIdentifier, "notifications-v2-lmn-final");
      assert.ok(
        (inputs.backupRetentionPeriod as number) >= 14,
        `backups kept ${String(inputs.backupRetentionPeriod)} days`,
      );
      assert.equal(inputs.backupRetentionPeriod, 30);
      assert.equal(inputs.deleteAutomatedBackups, false);
      assert.equal(options.protect, true);
      assert.deepEqual(options.ignoreChanges, []);
    });

    it("dev: single AZ, deletable without a snapshot, 7 days of backups, not protected", () => {
      const { inputs, options } = db("dev");
      assert.deepEqual(
        [
          inputs.multiAz,
          inputs.deletionProtection,
          inputs.skipFinalSnapshot,
          inputs.finalSnapshotIdentifier,
          inputs.backupRetentionPeriod,
          options.protect,
        ],
        [false, false, true, undefined, 7, false],
      );
    });

    for (const stack of ["dev", "lmn"] as const) {
      it(`${stack}: takes no password; RDS manages it in a secret under the CMK, which also encrypts storage and Performance Insights`, () => {
        const { inputs } = db(stack);
        for (const key of ["password", "passwordWo", "passwordWoVersion"])
          assert.ok(!(key in inputs), `${key} is an input`);
        assert.equal(inputs.manageMasterUserPassword, true);
        assert.equal(inputs.masterUserSecretKmsKeyId, KEY_ARN);
        assert.equal(inputs.storageEncrypted, true);
        assert.equal(inputs.kmsKeyId, KEY_ARN);
        assert.equal(inputs.performanceInsightsEnabled, true);
        assert.equal(inputs.performanceInsightsKmsKeyId, KEY_ARN);
        assert.equal(inputs.performanceInsightsRetentionPeriod, 7);
        assert.deepEqual([inputs.username, inputs.dbName], ["notificationsadmin", "notifications"]);
        // Nothing anywhere in the plan carries a database password.
        assert.doesNotMatch(
          JSON.stringify(evaluated[stack].plan.resources.map((r) => r.inputs)),
          /"(password|masterPassword)"\s*:/i,
        );
      });
    }

    it("runs PostgreSQL 17 by major version, private, gp3, with the seed's windows and log exports", () => {
      const { inputs } = db("lmn");
      assert.equal(inputs.engine, "postgres");
      // A major-only version is a prefix of the running minor: automatic minor upgrades never diff.
      assert.equal(inputs.engineVersion, "17");
      assert.equal(inputs.autoMinorVersionUpgrade, true);
      assert.equal(inputs.allowMajorVersionUpgrade, false);
      assert.equal(inputs.publiclyAccessible, false);
      assert.equal(inputs.copyTagsToSnapshot, true);
      assert.deepEqual(
        [inputs.instanceClass, inputs.storageType, inputs.allocatedStorage, inputs.maxAllocatedStorage],
        ["db.t3.small", "gp3", 50, 100],
      );
      assert.deepEqual([inputs.backupWindow, inputs.maintenanceWindow], ["03:00-04:00", "sun:04:00-sun:05:00"]);
      assert.deepEqual(inputs.enabledCloudwatchLogsExports, ["postgresql", "upgrade"]);
      assert.equal(inputs.port, 5432);
      assert.deepEqual(inputs.vpcSecurityGroupIds, [sg(evaluated.lmn.plan, "notifications-db-sg").id]);
      assert.equal(inputs.dbSubnetGroupName, "notifications-db-subnet-v2-lmn");
      assert.equal(inputs.parameterGroupName, "notifications-pg17-v2-lmn");
      const subnets = resource(evaluated.lmn.plan, "aws:rds/subnetGroup:SubnetGroup", "notifications-db-subnets");
      assert.deepEqual([subnets.inputs.name, subnets.inputs.subnetIds], ["notifications-db-subnet-v2-lmn", SUBNETS]);
    });

    it("forces TLS and sets the connection limit in its own postgres17 parameter group", () => {
      for (const [stack, max] of [
        ["dev", "100"],
        ["lmn", "200"],
      ] as const) {
        const group = resource(
          evaluated[stack].plan,
          "aws:rds/parameterGroup:ParameterGroup",
          "notifications-db-parameters",
        );
        assert.equal(group.inputs.family, "postgres17");
        assert.equal(group.inputs.name, `notifications-pg17-v2-${stack}`);
        const params = Object.fromEntries(
          (group.inputs.parameters as { name: string; value: string }[]).map((p) => [p.name, p.value]),
        );
        assert.deepEqual(params, { "rds.force_ssl": "1", max_connections: max });
      }
    });

    it("keeps its exported logs for a bounded time (RDS would create them without retention)", () => {
      const groups = resourcesOfType(evaluated.lmn.plan, "aws:cloudwatch/logGroup:LogGroup").map((r) => [
        r.inputs.name,
        r.inputs.retentionInDays,
      ]);
      assert.deepEqual(
        groups.filter(([n]) => String(n).startsWith("/aws/rds/")),
        [
          ["/aws/rds/instance/notifications-v2-lmn/postgresql", 90],
          ["/aws/rds/instance/notifications-v2-lmn/upgrade", 90],
        ],
      );
      const dependsOn = db("lmn").options.dependsOn;
      for (const log of ["postgresql", "upgrade"])
        assert.ok(
          dependsOn.some((u) => u.endsWith(`::notifications-db-logs-${log}`)),
          log,
        );
    });

    it("refuses settings that would put production data at risk, naming each", () => {
      const id = "notifications-v2-lmn";
      const risky: [Partial<NotificationsDatabase>, RegExp][] = [
        [{ multiAz: false }, /multiAz may not be off/],
        [{ deletionProtection: false }, /deletionProtection may not be off/],
        [{ skipFinalSnapshot: true }, /skipFinalSnapshot may not be true/],
        [{ backupRetentionDays: 7 }, /backupRetentionDays 7 is below 14/],
      ];
      for (const [change, message] of risky) {
        assert.throws(() => resolveDatabase({ ...DATABASES.lmn, ...change }, id, true), message);
        assert.doesNotThrow(() => resolveDatabase({ ...DATABASES.lmn, ...change }, id, false));
      }
      assert.throws(
        () => resolveDatabase({ ...DATABASES.dev, engineVersion: "17.4" }, "x", false),
        /engineVersion "17.4" must be a major version/,
      );
      assert.throws(() => resolveDatabase({ ...DATABASES.dev, backupRetentionDays: 0 }, "x", false), /must be 1-35/);
      assert.throws(
        () => resolveDatabase({ ...DATABASES.dev, maxAllocatedStorage: 20 }, "x", false),
        /must exceed allocatedStorage 20/,
      );
      assert.throws(
        () => resolveDatabase({ ...DATABASES.dev, finalSnapshotIdentifier: "final--x" }, "x", false),
        /finalSnapshotIdentifier/,
      );
    });
  });

  describe("container", () => {
    const task = (stack: Stack) =>
      containers(resource(evaluated[stack].plan, "aws:ecs/taskDefinition:TaskDefinition", "notifications-svc-task"))[0];

    it("reads PGUSER/PGPASSWORD from the RDS-managed secret and the bot token from its own, by valueFrom", () => {
      for (const stack of ["dev", "lmn"] as const) {
        assert.deepEqual(task(stack).secrets, [
          { name: "PGUSER", valueFrom: `${dbSecretArn(stack)}:username::` },
          { name: "PGPASSWORD", valueFrom: `${dbSecretArn(stack)}:password::` },
          { name: "TELEGRAM_BOT_TOKEN", valueFrom: `${appSecretArn(stack)}:telegram_bot_token::` },
        ]);
      }
    });

    it("gets the libpq settings as plain environment, and nothing secret (no DATABASE_URL, no ARN)", () => {
      const container = task("lmn");
      assert.deepEqual(Object.fromEntries(container.environment.map((e) => [e.name, e.value])), {
        LOG_LEVEL: "info",
        PGDATABASE: "notifications",
        PGHOST: db("lmn").outputs.address,
        PGPORT: "5432",
        PGSSLMODE: "require",
        PORT: "3000",
      });
      const plain = container.environment.map((e) => e.name);
      for (const s of container.secrets) assert.ok(!plain.includes(s.name), `${s.name} is also plain environment`);
      assert.doesNotMatch(JSON.stringify(container.environment), /DATABASE_URL|arn:aws|secret/i);
      assert.deepEqual(
        container.portMappings.map((p) => p.containerPort),
        [3000],
      );
      assert.equal(container.name, "futures-notifications-container");
      assert.equal(container.image, "ghcr.io/lumerin-protocol/futures-notifications:notifications-v1.2.0");
      assert.equal(container.logConfiguration.options["awslogs-group"], "/ecs/futures-notifications-lmn");
    });

    it("is a singleton behind the target group: one task, the old one stops before the new one starts", () => {
      const plan = evaluated.lmn.plan;
      const service = resource(plan, "aws:ecs/service:Service", "notifications-svc-service");
      assert.equal(service.inputs.name, "svc-futures-notifications-lmn");
      assert.deepEqual(
        [
          service.inputs.desiredCount,
          service.inputs.deploymentMinimumHealthyPercent,
          service.inputs.deploymentMaximumPercent,
        ],
        [1, 0, 100],
      );
      assert.deepEqual(service.inputs.deploymentCircuitBreaker, { enable: true, rollback: true });
      const tg = resource(plan, "aws:lb/targetGroup:TargetGroup", "notifications-tg");
      assert.deepEqual(service.inputs.loadBalancers, [
        { targetGroupArn: tg.outputs.arn, containerName: "futures-notifications-container", containerPort: 3000 },
      ]);
      assert.deepEqual(
        (service.inputs.networkConfiguration as { subnets: string[]; assignPublicIp: boolean }).subnets,
        SUBNETS,
      );
      const svc = plan.resources.find((r) => r.name === "notifications-svc");
      assert.ok(
        svc?.options.dependsOn.some((u) => u.endsWith("::notifications-https")),
        "the service waits for the listener",
      );
    });

    it("lets ECS read exactly the two secrets, decrypting with the CMK only through Secrets Manager", () => {
      for (const stack of ["dev", "lmn"] as const) {
        const policy = doc(
          resource(evaluated[stack].plan, "aws:iam/rolePolicy:RolePolicy", "notifications-svc-execution-policy").inputs
            .policy,
        );
        const secretStatements = policy.Statement.filter((s) =>
          [s.Action].flat().some((a) => a.startsWith("secretsmanager:")),
        );
        assert.deepEqual(
          secretStatements.map((s) => [s.Action, s.Resource]),
          [[["secretsmanager:GetSecretValue"], [appSecretArn(stack), dbSecretArn(stack)].sort()]],
        );
        const kms = policy.Statement.filter((s) => [s.Action].flat().some((a) => a.startsWith("kms:")));
        assert.deepEqual(
          kms.map((s) => [s.Action, s.Resource, s.Condition]),
          [
            [
              ["kms:Decrypt"],
              [KEY_ARN],
              { StringEquals: { "kms:ViaService": `secretsmanager.${REGION}.amazonaws.com` } },
            ],
          ],
        );
      }
    });

    it("keeps the bot token only as a Pulumi secret, and records the deployed image tag", () => {
      const dev = evaluated.dev.plan;
      const secret = resource(dev, "aws:secretsmanager/secret:Secret", "notifications-secret");
      assert.deepEqual(
        [secret.inputs.name, secret.inputs.kmsKeyId, secret.inputs.recoveryWindowInDays],
        ["notifications-secrets-v3-dev", KEY_ARN, 7],
      );
      const version = resource(dev, "aws:secretsmanager/secretVersion:SecretVersion", "notifications-secret-value");
      assert.deepEqual(version.secretInputs, ["secretString"]);
      // lmn's token is set out of band: no value in the program, no version resource.
      assert.deepEqual(resourcesOfType(evaluated.lmn.plan, "aws:secretsmanager/secretVersion:SecretVersion"), []);
      const lmnSecret = resource(evaluated.lmn.plan, "aws:secretsmanager/secret:Secret", "notifications-secret");
      assert.deepEqual([lmnSecret.inputs.recoveryWindowInDays, lmnSecret.options.protect], [30, true]);
      const parameter = resource(dev, "aws:ssm/parameter:Parameter", "notifications-image-tag");
      assert.deepEqual(
        [parameter.inputs.name, parameter.inputs.type, parameter.inputs.insecureValue, parameter.inputs.value],
        ["/futures-notifications/dev/image-tag", "String", "notifications-v1.2.0-dev", undefined],
      );
    });
  });

  describe("network", () => {
    it("dev: every security-group rule, exactly (VPN may call the ALB and, opted in, the database)", () => {
      assert.deepEqual(ruleTable(evaluated.dev.plan), [
        "egress alb tcp/3000-3000 sg:service",
        "egress service tcp/443-443 cidr:0.0.0.0/0",
        "egress service tcp/5432-5432 sg:db",
        `ingress alb tcp/443-443 cidr:${VPN}`,
        "ingress alb tcp/443-443 sg:margin-call",
        `ingress db tcp/5432-5432 cidr:${VPN}`,
        "ingress db tcp/5432-5432 sg:service",
        "ingress service tcp/3000-3000 sg:alb",
      ]);
    });

    it("lmn: every security-group rule, exactly (no CIDR configured: only the margin-call Lambda calls; the database has no egress)", () => {
      assert.deepEqual(ruleTable(evaluated.lmn.plan), [
        "egress alb tcp/3000-3000 sg:service",
        "egress service tcp/443-443 cidr:0.0.0.0/0",
        "egress service tcp/5432-5432 sg:db",
        "ingress alb tcp/443-443 sg:margin-call",
        "ingress db tcp/5432-5432 sg:service",
        "ingress service tcp/3000-3000 sg:alb",
      ]);
      assert.deepEqual(
        ["notifications-alb-sg", "notifications-svc-sg", "notifications-db-sg"].map(
          (n) => sg(evaluated.lmn.plan, n).inputs.name,
        ),
        ["notifications-alb-int-v2-lmn", "notifications-ecs-v2-lmn", "notifications-rds-v2-lmn"],
      );
      // Rules are separate resources: no inline rule on any group could fight them.
      for (const n of ["notifications-alb-sg", "notifications-svc-sg", "notifications-db-sg"]) {
        assert.deepEqual(
          [sg(evaluated.lmn.plan, n).inputs.ingress, sg(evaluated.lmn.plan, n).inputs.egress],
          [undefined, undefined],
        );
      }
    });

    it("the ALB is internal, in the private subnets, drops invalid headers, and is deletion-protected in lmn only", () => {
      for (const stack of ["dev", "lmn"] as const) {
        const alb = resource(evaluated[stack].plan, "aws:lb/loadBalancer:LoadBalancer", "notifications-alb");
        assert.deepEqual(
          [
            alb.inputs.name,
            alb.inputs.loadBalancerType,
            alb.inputs.internal,
            alb.inputs.subnets,
            alb.inputs.dropInvalidHeaderFields,
            alb.inputs.enableDeletionProtection,
          ],
          [`alb-futures-notifications-${stack}`, "application", true, SUBNETS, true, stack === "lmn"],
        );
        assert.deepEqual(alb.inputs.securityGroups, [sg(evaluated[stack].plan, "notifications-alb-sg").id]);
      }
    });

    it("listens on HTTPS 443 only, with a TLS 1.2+ policy and the validated certificate", () => {
      const plan = evaluated.lmn.plan;
      const listeners = resourcesOfType(plan, "aws:lb/listener:Listener");
      assert.equal(listeners.length, 1);
      const [https] = listeners;
      const cert = resource(plan, "aws:acm/certificate:Certificate", "notifications-certificate");
      const tg = resource(plan, "aws:lb/targetGroup:TargetGroup", "notifications-tg");
      assert.deepEqual(
        [https.inputs.port, https.inputs.protocol, https.inputs.sslPolicy, https.inputs.certificateArn],
        [443, "HTTPS", NOTIFICATIONS_TLS_POLICY, cert.outputs.arn],
      );
      assert.equal(NOTIFICATIONS_TLS_POLICY, "ELBSecurityPolicy-TLS13-1-2-2021-06");
      assert.deepEqual(https.inputs.defaultActions, [{ type: "forward", targetGroupArn: tg.outputs.arn }]);
      assert.deepEqual(
        https.inputs.loadBalancerArn,
        resource(plan, "aws:lb/loadBalancer:LoadBalancer", "notifications-alb").outputs.arn,
      );
    });

    it("the target group checks GET /healthcheck on the container port", () => {
      const tg = resource(evaluated.dev.plan, "aws:lb/targetGroup:TargetGroup", "notifications-tg");
      assert.deepEqual(
        [tg.inputs.name, tg.inputs.port, tg.inputs.protocol, tg.inputs.targetType, tg.inputs.deregistrationDelay],
        // The live target group's name (per account, no environment), so the stack adopts it.
        ["tg-notification-v2-3000", 3000, "HTTP", "ip", 10],
      );
      const hc = tg.inputs.healthCheck as Record<string, unknown>;
      assert.deepEqual(
        [
          hc.path,
          hc.protocol,
          hc.port,
          hc.matcher,
          hc.interval,
          hc.timeout,
          hc.healthyThreshold,
          hc.unhealthyThreshold,
        ],
        ["/healthcheck", "HTTP", "traffic-port", "200", 30, 5, 2, 2],
      );
    });

    it("validates the certificate by DNS in the zone, through the zone's provider", () => {
      const plan = evaluated.lmn.plan;
      const cert = resource(plan, "aws:acm/certificate:Certificate", "notifications-certificate");
      assert.deepEqual(
        [cert.inputs.domainName, cert.inputs.validationMethod, cert.inputs.subjectAlternativeNames],
        ["notifyint.lumerin.io", "DNS", undefined],
      );
      const record = resource(plan, "aws:route53/record:Record", "notifications-certificate-validation-host");
      // ACM's answer for the name (tools/mocks.ts answers as ACM does: one CNAME under the name).
      const [option] = cert.outputs.domainValidationOptions as {
        domainName: string;
        resourceRecordName: string;
        resourceRecordValue: string;
      }[];
      assert.equal(option.domainName, "notifyint.lumerin.io");
      assert.match(option.resourceRecordName, /^_[0-9a-f]+\.notifyint\.lumerin\.io\.$/);
      assert.deepEqual(
        [record.inputs.zoneId, record.inputs.name, record.inputs.type, record.inputs.records],
        [ZONES.lmn.zoneId, option.resourceRecordName, "CNAME", [option.resourceRecordValue]],
      );
      assert.match(record.provider ?? "", /::zone-account$/);
      const validation = resource(
        plan,
        "aws:acm/certificateValidation:CertificateValidation",
        "notifications-certificate-validation",
      );
      assert.deepEqual(
        [validation.inputs.certificateArn, validation.inputs.validationRecordFqdns],
        [cert.outputs.arn, [option.resourceRecordName]],
      );
    });

    it("publishes notifyint.<zone> as an A alias of the ALB", () => {
      for (const stack of ["dev", "lmn"] as const) {
        const plan = evaluated[stack].plan;
        const alb = resource(plan, "aws:lb/loadBalancer:LoadBalancer", "notifications-alb");
        const alias = resource(plan, "aws:route53/record:Record", "notifications-dns");
        assert.deepEqual(
          [alias.inputs.zoneId, alias.inputs.name, alias.inputs.type, alias.inputs.aliases],
          [
            ZONES[stack].zoneId,
            ZONES[stack].hostName,
            "A",
            [{ name: alb.outputs.dnsName, zoneId: alb.outputs.zoneId, evaluateTargetHealth: true }],
          ],
        );
        if (stack === "lmn") assert.match(alias.provider ?? "", /::zone-account$/);
        else assert.equal(alias.provider, undefined);
      }
    });
  });

  it("refuses a host name outside its zone, an image without its tag, and a client key used twice", async () => {
    const bad: NotificationsArgs = {
      ...args("dev"),
      hostName: "notifyint.stg.lumerin.io",
      image: "ghcr.io/lumerin-protocol/futures-notifications:latest",
      albClients: [
        { key: "margin-call", description: "a", securityGroupId: MARGIN_CALL_SG },
        { key: "margin-call", description: "b", securityGroupId: "sg-0fffffffffffffff0" },
      ],
    };
    await assert.rejects(
      evaluateProgram([], () => void new Notifications("notifications", bad)),
      (e: Error) =>
        /svc-futures-notifications-dev: /.test(e.message) &&
        /image "ghcr\.io\/lumerin-protocol\/futures-notifications:latest" does not carry the tag "notifications-v1\.2\.0-dev"/.test(
          e.message,
        ) &&
        /hostName "notifyint\.stg\.lumerin\.io" is not in the zone dev\.lumerin\.io/.test(e.message) &&
        /albClients key "margin-call" is used twice/.test(e.message),
    );
  });

  it("exposes what the composition, the deploy role and monitoring need", () => {
    const plan = evaluated.lmn.plan;
    const out = plan.outputs;
    const alb = resource(plan, "aws:lb/loadBalancer:LoadBalancer", "notifications-alb");
    const tg = resource(plan, "aws:lb/targetGroup:TargetGroup", "notifications-tg");
    assert.equal(out.url, "https://notifyint.lumerin.io");
    assert.deepEqual(
      [out.loadBalancerArnSuffix, out.targetGroupArnSuffix],
      [alb.outputs.arnSuffix, tg.outputs.arnSuffix],
    );
    assert.match(String(out.loadBalancerArnSuffix), /^app\/alb-futures-notifications-lmn\//);
    assert.equal(out.databaseIdentifier, "notifications-v2-lmn");
    assert.deepEqual(
      [out.taskFamily, out.containerName, out.serviceName],
      ["tsk-futures-notifications", "futures-notifications-container", "svc-futures-notifications-lmn"],
    );
    assert.equal(out.serviceArn, resource(plan, "aws:ecs/service:Service", "notifications-svc-service").outputs.arn);
    assert.equal(
      out.executionRoleArn,
      resource(plan, "aws:iam/role:Role", "notifications-svc-execution-role").outputs.arn,
    );
    assert.equal(out.taskRoleArn, resource(plan, "aws:iam/role:Role", "notifications-svc-task-role").outputs.arn);
    assert.deepEqual(
      [out.imageTagParameterName, out.imageTagParameterArn],
      [
        "/futures-notifications/lmn/image-tag",
        resource(plan, "aws:ssm/parameter:Parameter", "notifications-image-tag").outputs.arn,
      ],
    );
    assert.deepEqual([out.secretArn, out.databaseSecretArn], [appSecretArn("lmn"), dbSecretArn("lmn")]);
    assert.deepEqual(
      [out.serviceSecurityGroupId, out.albSecurityGroupId],
      [sg(plan, "notifications-svc-sg").id, sg(plan, "notifications-alb-sg").id],
    );
  });

  describe("the database password rotates under the running service: each rotation forces a new deployment", () => {
    const R = {
      rule: "aws:cloudwatch/eventRule:EventRule",
      target: "aws:cloudwatch/eventTarget:EventTarget",
      machine: "aws:sfn/stateMachine:StateMachine",
      role: "aws:iam/role:Role",
      policy: "aws:iam/rolePolicy:RolePolicy",
    } as const;
    const get = (stack: Stack, type: string, name: string) => resource(evaluated[stack].plan, type, name);
    const clusterArn = (stack: Stack) => `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/ecs-futures-marketplace-${stack}`;
    const serviceArn = (stack: Stack) =>
      String(get(stack, "aws:ecs/service:Service", "notifications-svc-service").outputs.arn);
    const machineArn = (stack: Stack) => String(get(stack, R.machine, "notifications-redeploy").outputs.arn);
    const ruleArn = (stack: Stack) => String(get(stack, R.rule, "notifications-db-rotated").outputs.arn);
    const task = (stack: Stack) =>
      containers(get(stack, "aws:ecs/taskDefinition:TaskDefinition", "notifications-svc-task"))[0];

    /**
     * Secrets Manager's CloudTrail record of a finished rotation, as EventBridge delivers
     * it, in the shape the Secrets Manager guide documents ("Log entries for rotation"):
     * a service event, the secret's ARN in additionalEventData.SecretId.
     */
    const rotationEvent = (
      secretId: string,
      eventName = "RotationSucceeded",
      detailType = "AWS Service Event via CloudTrail",
    ) => ({
      version: "0",
      id: "6f1d0b2e-2c4a-4f0e-9d3b-6a8e5c1f2b7d",
      "detail-type": detailType,
      source: "aws.secretsmanager",
      account: ACCOUNT,
      time: "2026-11-24T04:12:31Z",
      region: REGION,
      resources: [],
      detail: {
        eventVersion: "1.08",
        userIdentity: { accountId: ACCOUNT, invokedBy: "secretsmanager.amazonaws.com" },
        eventTime: "2026-11-24T04:12:31Z",
        eventSource: "secretsmanager.amazonaws.com",
        eventName,
        awsRegion: REGION,
        sourceIPAddress: "secretsmanager.amazonaws.com",
        userAgent: "secretsmanager.amazonaws.com",
        requestParameters: null,
        responseElements: null,
        additionalEventData: { SecretId: secretId },
        requestID: "2b7c1d93-5f0a-4c1e-8e2d-7a9b3c4d5e6f",
        eventID: "9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d",
        readOnly: false,
        eventType: "AwsServiceEvent",
        managementEvent: true,
        recipientAccountId: ACCOUNT,
        eventCategory: "Management",
      },
    });

    it("the rule matches a RotationSucceeded of the database secret, and no other secret's, no other step, no API call", () => {
      for (const stack of ["dev", "lmn"] as const) {
        const rule = get(stack, R.rule, "notifications-db-rotated");
        assert.deepEqual(
          [rule.inputs.name, rule.inputs.state, rule.inputs.scheduleExpression],
          [`futures-notifications-db-rotated-${stack}`, "ENABLED", undefined],
        );
        const pattern = String(rule.inputs.eventPattern);
        assert.equal(
          eventMatches(pattern, rotationEvent(dbSecretArn(stack))),
          true,
          `${stack}: its own secret's rotation`,
        );
        // The application secret, another database's managed secret, another account's.
        assert.equal(eventMatches(pattern, rotationEvent(appSecretArn(stack))), false);
        assert.equal(
          eventMatches(
            pattern,
            rotationEvent(
              `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:rds!db-00000000-0000-4000-a000-000000000000-AbCdEf`,
            ),
          ),
          false,
        );
        assert.equal(eventMatches(pattern, rotationEvent(dbSecretArn(stack).replace(ACCOUNT, "444455556666"))), false);
        // Its name alone, or another case: EventBridge compares exactly.
        assert.equal(eventMatches(pattern, rotationEvent(dbSecretArn(stack).toUpperCase())), false);
        // Rotation that has not finished, or failed: the old password still holds.
        for (const step of ["RotationStarted", "RotationFailed", "RotationAbandoned"])
          assert.equal(eventMatches(pattern, rotationEvent(dbSecretArn(stack), step)), false, step);
        // An API call record with the same name is not the service's rotation event.
        assert.equal(
          eventMatches(pattern, rotationEvent(dbSecretArn(stack), "RotationSucceeded", "AWS API Call via CloudTrail")),
          false,
        );
        const { detail: _detail, ...envelope } = rotationEvent(dbSecretArn(stack));
        assert.equal(eventMatches(pattern, envelope), false, "no detail, no match");
      }
    });

    it("the rule watches the very secret the task reads PGUSER and PGPASSWORD from", () => {
      for (const stack of ["dev", "lmn"] as const) {
        const [user, password] = task(stack).secrets;
        const watched = (
          JSON.parse(String(get(stack, R.rule, "notifications-db-rotated").inputs.eventPattern)) as {
            detail: { additionalEventData: { SecretId: string[] } };
          }
        ).detail.additionalEventData.SecretId;
        assert.deepEqual(
          [user.valueFrom, password.valueFrom],
          [`${watched[0]}:username::`, `${watched[0]}:password::`],
        );
        assert.deepEqual(watched, [dbSecretArn(stack)]);
      }
    });

    it("its target starts the redeploy state machine with the rule's own role, passing only the rotated secret's id", () => {
      for (const stack of ["dev", "lmn"] as const) {
        const target = get(stack, R.target, "notifications-db-rotated-target");
        assert.deepEqual(
          [
            target.inputs.rule,
            target.inputs.arn,
            target.inputs.roleArn,
            target.inputs.inputPath,
            target.inputs.input,
            target.inputs.inputTransformer,
          ],
          [
            `futures-notifications-db-rotated-${stack}`,
            machineArn(stack),
            get(stack, R.role, "notifications-db-rotated-role").outputs.arn,
            "$.detail.additionalEventData",
            undefined,
            undefined,
          ],
        );
        assert.match(
          machineArn(stack),
          new RegExp(`^arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:futures-notifications-redeploy-${stack}$`),
        );
      }
    });

    it("the state machine does exactly one thing: ECS UpdateService of this service with forceNewDeployment, whatever its input", () => {
      for (const stack of ["dev", "lmn"] as const) {
        const machine = get(stack, R.machine, "notifications-redeploy");
        assert.deepEqual(
          [machine.inputs.type, machine.inputs.roleArn],
          ["STANDARD", get(stack, R.role, "notifications-redeploy-role").outputs.arn],
        );
        const definition = JSON.parse(String(machine.inputs.definition)) as {
          StartAt: string;
          States: Record<string, Record<string, unknown>>;
        };
        assert.deepEqual(Object.keys(definition.States), [definition.StartAt]);
        const state = definition.States[definition.StartAt];
        assert.deepEqual(
          [state.Type, state.Resource, state.End],
          ["Task", "arn:aws:states:::aws-sdk:ecs:updateService", true],
        );
        assert.deepEqual(state.Parameters, {
          Cluster: clusterArn(stack),
          Service: `svc-futures-notifications-${stack}`,
          ForceNewDeployment: true,
        });
        // Nothing is taken from the input (no "<key>.$" paths): starting it can do nothing else.
        assert.doesNotMatch(JSON.stringify(definition), /\.\$"/);
        assert.deepEqual(Object.keys(state).sort(), ["End", "Parameters", "Resource", "Retry", "Type"]);
        assert.ok(
          machine.options.dependsOn.includes(get(stack, R.policy, "notifications-redeploy-policy").urn),
          "its rights exist before Step Functions checks them",
        );
      }
    });

    describe("each role can do that one thing, as IAM evaluates it (@cloud-copilot/iam-simulate)", () => {
      const stack = "lmn" as const;
      const allowed = async (role: string, policy: string, action: string, target: string) => {
        const result = await runSimulation(
          {
            request: {
              principal: String(get(stack, R.role, role).outputs.arn),
              action,
              resource: { resource: target, accountId: ACCOUNT },
              contextVariables: {},
            },
            identityPolicies: [{ name: policy, policy: doc(get(stack, R.policy, policy).inputs.policy) }],
            serviceControlPolicies: [],
            resourceControlPolicies: [],
          },
          {},
        );
        assert.equal(result.resultType, "single", JSON.stringify(result).slice(0, 300));
        return result.resultType === "single" && result.overallResult === "Allowed";
      };
      const otherService = () => serviceArn(stack).replace("svc-futures-notifications-lmn", "svc-market-maker-lmn");
      const cases: [string, string, string, () => string, boolean][] = [
        ["state machine", "ecs:UpdateService", "its service", () => serviceArn(stack), true],
        ["state machine", "ecs:UpdateService", "another service of the cluster", otherService, false],
        [
          "state machine",
          "ecs:UpdateService",
          "the same name in another cluster",
          () => serviceArn(stack).replace("ecs-futures-marketplace-lmn", "ecs-proxy-router-lmn-use1"),
          false,
        ],
        ["state machine", "ecs:DeleteService", "its service", () => serviceArn(stack), false],
        [
          "state machine",
          "ecs:RegisterTaskDefinition",
          "its family",
          () => `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/tsk-futures-notifications:1`,
          false,
        ],
        [
          "state machine",
          "iam:PassRole",
          "the task role",
          () => String(get(stack, R.role, "notifications-svc-task-role").outputs.arn),
          false,
        ],
        ["state machine", "secretsmanager:GetSecretValue", "the database secret", () => dbSecretArn(stack), false],
        ["rule", "states:StartExecution", "the redeploy state machine", () => machineArn(stack), true],
        [
          "rule",
          "states:StartExecution",
          "another state machine",
          () => machineArn(stack).replace("futures-notifications-redeploy-lmn", "other-lmn"),
          false,
        ],
        ["rule", "ecs:UpdateService", "the service", () => serviceArn(stack), false],
      ];
      for (const [who, action, what, target, expected] of cases) {
        it(`the ${who}'s role ${expected ? "may" : "may not"} ${action} on ${what}`, async () => {
          const [role, policy] =
            who === "rule"
              ? ["notifications-db-rotated-role", "notifications-db-rotated-policy"]
              : ["notifications-redeploy-role", "notifications-redeploy-policy"];
          assert.equal(await allowed(role, policy, action, target()), expected);
        });
      }

      const assumable = async (role: string, service: string, context: Record<string, string>) => {
        const result = await runSimulation(
          {
            request: {
              principal: service,
              action: "sts:AssumeRole",
              resource: { resource: String(get(stack, R.role, role).outputs.arn), accountId: ACCOUNT },
              contextVariables: context,
            },
            identityPolicies: [],
            serviceControlPolicies: [],
            resourceControlPolicies: [],
            resourcePolicy: doc(get(stack, R.role, role).inputs.assumeRolePolicy),
          },
          {},
        );
        return result.resultType === "single" && result.overallResult === "Allowed";
      };
      it("EventBridge may assume the rule's role for this rule only; Step Functions the state machine's, for this account only", async () => {
        assert.equal(
          await assumable("notifications-db-rotated-role", "events.amazonaws.com", {
            "aws:SourceAccount": ACCOUNT,
            "aws:SourceArn": ruleArn(stack),
          }),
          true,
        );
        assert.equal(
          await assumable("notifications-db-rotated-role", "events.amazonaws.com", {
            "aws:SourceAccount": ACCOUNT,
            "aws:SourceArn": ruleArn(stack).replace("db-rotated-lmn", "db-rotated-stg"),
          }),
          false,
        );
        assert.equal(
          await assumable("notifications-db-rotated-role", "states.amazonaws.com", {
            "aws:SourceAccount": ACCOUNT,
            "aws:SourceArn": ruleArn(stack),
          }),
          false,
        );
        assert.equal(
          await assumable("notifications-redeploy-role", "states.amazonaws.com", { "aws:SourceAccount": ACCOUNT }),
          true,
        );
        assert.equal(
          await assumable("notifications-redeploy-role", "states.amazonaws.com", {
            "aws:SourceAccount": "444455556666",
          }),
          false,
        );
        assert.equal(
          await assumable("notifications-redeploy-role", "events.amazonaws.com", { "aws:SourceAccount": ACCOUNT }),
          false,
        );
      });
    });

    it("the offline plan refuses what AWS refuses here: a definition without its start state, a Step Functions target without a role, a pattern that is no JSON object", async () => {
      const machine = "arn:aws:states:us-east-1:111122223333:stateMachine:x";
      await assert.rejects(
        evaluateProgram(
          [],
          () =>
            void new aws.sfn.StateMachine("bad", {
              roleArn: "arn:aws:iam::111122223333:role/r",
              definition: JSON.stringify({ StartAt: "A", States: { B: { Type: "Succeed" } } }),
            }),
        ),
        /InvalidDefinition/,
      );
      await assert.rejects(
        evaluateProgram([], () => void new aws.cloudwatch.EventTarget("bad", { rule: "r", arn: machine })),
        /RoleArn is required for target/,
      );
      await assert.rejects(
        evaluateProgram(
          [],
          () => void new aws.cloudwatch.EventRule("bad", { eventPattern: JSON.stringify(["aws.secretsmanager"]) }),
        ),
        /InvalidEventPatternException/,
      );
      await assert.rejects(
        evaluateProgram(
          [],
          () =>
            void new aws.cloudwatch.EventRule("bad", {
              eventPattern: JSON.stringify({ source: ["aws.ecs"] }),
              state: "ON",
            }),
        ),
        /ValidationException: state "ON"/,
      );
    });

    it("the policy pack finds nothing to say about any of it", () => {
      for (const stack of ["dev", "lmn"] as const) {
        const mine = evaluated[stack].violations.filter((v) => /::notifications-(redeploy|db-rotated)/.test(v.urn));
        assert.deepEqual(mine, []);
        // The pack did look at them: its resources are in the plan it evaluated.
        assert.equal(
          resourcesOfType(evaluated[stack].plan, R.role).filter((r) => /redeploy|db-rotated/.test(r.name)).length,
          2,
        );
      }
    });
  });

  for (const stack of ["dev", "lmn"] as const) {
    it(`${stack}: passes the whole policy pack (no mandatory violation)`, () =>
      assert.deepEqual(evaluated[stack].mandatory, []));
  }
});
