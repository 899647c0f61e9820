import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { AppService, AppServiceArgs, appService, containerSecrets } from "../components/service-parts";
import { Plan, capture } from "../tools/harness";
import { NOTIFICATIONS_PORT, POSTGRES_PORT } from "../components/futures/notifications";
import { futuresNames } from "../lib/naming";
import { committedPlan, containers, doc, resource } from "./support/plan";
import { ACCOUNT, KEY_ARN, REGION } from "./support/fixtures";

const DB_SECRET_ARN = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:rds!db-1234-AbCdEf`;

function args(overrides: Partial<AppServiceArgs> = {}): AppServiceArgs {
  return {
    aws: { accountId: ACCOUNT, region: REGION, partition: "aws" },
    cluster: {
      arn: `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/c`,
      name: "c",
      execLogGroupArn: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:exec`,
      kmsKeyArn: KEY_ARN,
    },
    names: {
      service: "svc-bot-dev",
      taskFamily: "tsk-bot",
      container: "bot-container",
      securityGroup: "bot-ecs-dev",
      executionRole: "bot-dev-execution",
      taskRole: "bot-dev-task",
      logGroup: "/ecs/bot-dev",
      secret: "bot-secrets-dev",
      imageTagParameter: "/bot/dev/image-tag",
    },
    secret: {
      description: "bot: token",
      kmsKeyArn: KEY_ARN,
      values: { token: pulumi.secret("t0k3n") },
      protect: false,
    },
    imageTag: "bot-v1.0.0-dev",
    network: { vpcId: "vpc-0123456789abcdef0", subnetIds: ["subnet-0123456789abcdef0"] },
    container: {
      image: "ghcr.io/lumerin-protocol/bot:bot-v1.0.0-dev",
      cpu: 256,
      memory: 512,
      // Another secret's key first, the service's own after: the order is the caller's.
      secrets: [
        { name: "PGPASSWORD", secretArn: DB_SECRET_ARN, jsonKey: "password", kmsKeyArn: KEY_ARN },
        { name: "TOKEN", jsonKey: "token" },
      ],
    },
    logging: { retentionDays: 7, streamPrefix: "bot-tsk" },
    deployment: { desiredCount: 1, singleton: true },
    ...overrides,
  };
}

class Holder extends pulumi.ComponentResource {
  constructor(name: string) {
    super("test:index:Holder", name, {});
  }
}

async function planOf(
  appArgs: (before: aws.ssm.Parameter) => AppServiceArgs,
): Promise<{ plan: Plan; made: () => AppService }> {
  let made: AppService | undefined;
  const plan = await capture({
    project: "lumerin-infra",
    stack: "dev",
    config: { "aws:region": REGION },
    secretKeys: [],
    accountId: ACCOUNT,
    program: async () => {
      const holder = new Holder("holder");
      const before = new aws.ssm.Parameter("first", { type: "String", insecureValue: "x" }, { parent: holder });
      made = appService("bot", appArgs(before), holder);
      return {};
    },
  });
  return { plan, made: () => made as AppService };
}

describe("appService", () => {
  let plan: Plan;
  before(async () => {
    ({ plan } = await planOf(() => args({ hostName: "bot.dev.lumerin.io" })));
  });

  it("makes <name>-secret (with its value), <name>-image-tag and the ContainerService <name>-svc, all under the parent", () => {
    const holder = resource(plan, "test:index:Holder", "holder");
    const secret = resource(plan, "aws:secretsmanager/secret:Secret", "bot-secret");
    assert.deepEqual(
      [secret.inputs.name, secret.inputs.kmsKeyId, secret.inputs.recoveryWindowInDays],
      ["bot-secrets-dev", KEY_ARN, 7],
    );
    assert.equal(
      resource(plan, "aws:secretsmanager/secretVersion:SecretVersion", "bot-secret-value").parent,
      holder.urn,
    );
    const param = resource(plan, "aws:ssm/parameter:Parameter", "bot-image-tag");
    assert.deepEqual([param.inputs.name, param.inputs.insecureValue], ["/bot/dev/image-tag", "bot-v1.0.0-dev"]);
    for (const r of [secret, param, resource(plan, "lumerin:ecs:ContainerService", "bot-svc")])
      assert.equal(r.parent, holder.urn, r.name);
    assert.equal(resource(plan, "aws:ecs/service:Service", "bot-svc-service").inputs.name, "svc-bot-dev");
  });

  it("reads keys without a secretArn from its own secret (with its key), others from theirs, in the caller's order", () => {
    const own = resource(plan, "aws:secretsmanager/secret:Secret", "bot-secret").outputs.arn as string;
    const [c] = containers(resource(plan, "aws:ecs/taskDefinition:TaskDefinition", "bot-svc-task"));
    assert.deepEqual(c.secrets, [
      { name: "PGPASSWORD", valueFrom: `${DB_SECRET_ARN}:password::` },
      { name: "TOKEN", valueFrom: `${own}:token::` },
    ]);
    const policy = doc(resource(plan, "aws:iam/rolePolicy:RolePolicy", "bot-svc-execution-policy").inputs.policy);
    const read = policy.Statement.find((s) => s.Sid === "ReadOwnSecretsAtTaskStart");
    assert.deepEqual(read?.Resource, [own, DB_SECRET_ARN].sort());
  });

  it("returns the typed ref of what it made", async () => {
    const { plan: p, made } = await planOf(() => args({ hostName: "bot.dev.lumerin.io" }));
    const { ref, secret, imageTagParameter, service } = made();
    const resolve = <T>(o: pulumi.Output<T>) => new Promise<T>((ok) => o.apply(ok));
    assert.equal(ref.taskFamily, "tsk-bot");
    assert.equal(ref.containerName, "bot-container");
    assert.equal(ref.imageTagParameterName, "/bot/dev/image-tag");
    assert.equal(ref.hostName, "bot.dev.lumerin.io");
    assert.equal(await resolve(ref.secretArn), await resolve(secret.arn));
    assert.equal(await resolve(ref.imageTagParameterArn), await resolve(imageTagParameter.arn));
    assert.equal(await resolve(ref.serviceName), "svc-bot-dev");
    assert.equal(await resolve(ref.executionRoleArn), await resolve(service.executionRole.arn));
    assert.equal(await resolve(ref.logGroupName), "/ecs/bot-dev");
    assert.equal(resource(p, "aws:iam/role:Role", "bot-svc-task-role").inputs.name, "bot-dev-task");
  });

  it("without values registers no secret version, and the service waits for what it is told to", async () => {
    const { plan: p } = await planOf((before) =>
      args({ secret: { description: "bot: token", kmsKeyArn: KEY_ARN, protect: true }, dependsOn: [before] }),
    );
    assert.equal(
      p.resources.some((r) => r.name === "bot-secret-value"),
      false,
    );
    const secret = resource(p, "aws:secretsmanager/secret:Secret", "bot-secret");
    assert.deepEqual([secret.options.protect, secret.inputs.recoveryWindowInDays], [true, 30]);
    assert.deepEqual(resource(p, "lumerin:ecs:ContainerService", "bot-svc").options.dependsOn, [
      resource(p, "aws:ssm/parameter:Parameter", "first").urn,
    ]);
  });

  it("containerSecrets keeps another secret's key absent when none is given", () => {
    assert.deepEqual(
      containerSecrets(
        [
          { name: "A", jsonKey: "a", secretArn: "arn:other" },
          { name: "B", jsonKey: "b" },
        ],
        "arn:own",
        "arn:key",
      ),
      [
        { name: "A", secretArn: "arn:other", jsonKey: "a" },
        { name: "B", secretArn: "arn:own", jsonKey: "b", kmsKeyArn: "arn:key" },
      ],
    );
  });

  it("fits notifications exactly: its secret, image-tag parameter and service, as Notifications makes them in dev", async () => {
    const dev = await committedPlan("dev");
    const mine = (r: { name: string }) => /^futures-notifications-(secret|image-tag|svc)/.test(r.name);
    const live = dev.resources.filter(mine);
    const from = (type: string, name: string) => resource(dev, type, name).inputs;
    const [c] = containers(resource(dev, "aws:ecs/taskDefinition:TaskDefinition", "futures-notifications-svc-task"));
    const env = Object.fromEntries(c.environment.map((e) => [e.name, e.value]));
    const dbSecretArn = c.secrets[0].valueFrom.replace(/:username::$/, "");
    const service = from("aws:ecs/service:Service", "futures-notifications-svc-service");
    const net = service.networkConfiguration as { subnets: string[] };
    const key = String(from("aws:secretsmanager/secret:Secret", "futures-notifications-secret").kmsKeyId);
    const names = futuresNames("dev").notifications;
    const image = c.image;

    // What notifications.ts passes, with the values of the resources around it taken from the dev plan.
    const notificationsArgs: AppServiceArgs = {
      aws: { accountId: "434960487817", region: REGION, partition: "aws" },
      cluster: { arn: String(service.cluster), name: "c", execLogGroupArn: "unused", kmsKeyArn: "unused" },
      names: { ...names, securityGroup: names.serviceSecurityGroup },
      secret: {
        description: "futures notifications: telegram_bot_token (read by ECS at task start only)",
        kmsKeyArn: key,
        protect: false,
      },
      imageTag: image.split(":")[1],
      network: {
        vpcId: String(from("aws:ec2/securityGroup:SecurityGroup", "futures-notifications-svc-sg").vpcId),
        subnetIds: net.subnets,
        securityGroupDescription: String(
          from("aws:ec2/securityGroup:SecurityGroup", "futures-notifications-svc-sg").description,
        ),
      },
      container: {
        image,
        cpu: 256,
        memory: 512,
        environment: {
          PORT: String(NOTIFICATIONS_PORT),
          LOG_LEVEL: "info",
          PGHOST: pulumi.output(env.PGHOST),
          PGPORT: String(POSTGRES_PORT),
          PGDATABASE: "notifications",
          PGSSLMODE: "require",
        },
        secrets: [
          { name: "PGUSER", secretArn: dbSecretArn, jsonKey: "username", kmsKeyArn: key },
          { name: "PGPASSWORD", secretArn: dbSecretArn, jsonKey: "password", kmsKeyArn: key },
          { name: "TELEGRAM_BOT_TOKEN", jsonKey: "telegram_bot_token" },
        ],
        portMappings: [{ containerPort: NOTIFICATIONS_PORT, name: "http" }],
      },
      logging: { retentionDays: 30, streamPrefix: "futures-notifications-tsk" },
      deployment: {
        desiredCount: 1,
        singleton: true,
        healthCheckGracePeriodSeconds: 60,
        alarmNames: (service.alarms as { alarmNames: string[] }).alarmNames,
      },
      ingress: {
        "http-from-alb": {
          description: "HTTP and health checks from the internal ALB",
          protocol: "tcp",
          fromPort: NOTIFICATIONS_PORT,
          toPort: NOTIFICATIONS_PORT,
          securityGroupId: String(
            from(
              "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
              "futures-notifications-svc-in-http-from-alb",
            ).referencedSecurityGroupId,
          ),
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
          securityGroupId: String(
            from(
              "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
              "futures-notifications-svc-out-postgres-to-db",
            ).referencedSecurityGroupId,
          ),
        },
      },
      loadBalancers: [
        {
          targetGroupArn: (service.loadBalancers as { targetGroupArn: string }[])[0].targetGroupArn,
          containerPort: NOTIFICATIONS_PORT,
        },
      ],
      enableExecuteCommand: false,
    };
    const made = await capture({
      project: "lumerin-infra",
      stack: "dev",
      config: { "aws:region": REGION },
      secretKeys: [],
      accountId: "434960487817",
      program: async () => {
        appService("futures-notifications", notificationsArgs, new Holder("holder"));
        return {};
      },
    });
    const byName = (rs: readonly { name: string; type: string; inputs: unknown }[]) =>
      Object.fromEntries(rs.map((r) => [`${r.type} ${r.name}`, r.inputs]));
    assert.ok(live.length >= 12, `the dev plan has notifications' parts (${live.length})`);
    assert.deepEqual(byName(made.resources.filter(mine)), byName(live));
  });
});
