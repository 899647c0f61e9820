import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import {
  NotificationsArgs,
  NotificationsDatabase,
  databaseRules,
  endpointRules,
  notificationsDatabase,
  notificationsEndpoint,
  notificationsService,
  resolveDatabase,
  securityGroups,
} from "../components/futures/notifications";
import { futuresNames } from "../lib/naming";
import { policyExceptionTag } from "../policy/rules/model";
import type { Plan } from "../tools/harness";
import { AWS_CTX } from "./support/fixtures";
import { ACCOUNT, REGION, evaluateProgram } from "./support/policy";
import { resource, resourcesOfType } from "./support/plan";
import { PRIVATE_SUBNETS } from "./support/fixtures";

/** A parent for a step run alone, as the component is for the steps it runs. */
class Parent extends pulumi.ComponentResource {
  constructor() {
    super("test:index:Parent", "parent");
  }
}

/** The plan of `step` run alone under a parent (no rules evaluated). */
async function planOf(step: (parent: pulumi.Resource) => void): Promise<Plan> {
  const { plan } = await evaluateProgram([], () => step(new Parent()));
  return plan;
}

const names = futuresNames("dev").notifications;
const STACK_KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const AWS_RDS_KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/0000aaaa-12ab-34cd-56ef-1234567890ab`;
const SUBNETS = PRIVATE_SUBNETS;
const ALB_SG = "sg-0a0a0a0a0a0a0a0a0";
const SERVICE_SG = "sg-0b0b0b0b0b0b0b0b0";
const DB_SG = "sg-0c0c0c0c0c0c0c0c0";
const DATABASE: NotificationsDatabase = {
  instanceClass: "db.t3.micro",
  allocatedStorage: 20,
  maxAllocatedStorage: 50,
  engineVersion: "17",
  backupRetentionDays: 7,
  backupWindow: "03:00-04:00",
  maintenanceWindow: "sun:04:00-sun:05:00",
  maxConnections: 100,
  performanceInsightsRetentionDays: 7,
};

const RULE_TYPES = [
  "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
  "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
];

/** Each rule as `logical-name group port peer`. */
function rules(plan: Plan): string[] {
  return RULE_TYPES.flatMap((type) =>
    resourcesOfType(plan, type).map((r) => {
      const i = r.inputs;
      const peer = i.referencedSecurityGroupId ? String(i.referencedSecurityGroupId) : String(i.cidrIpv4);
      return `${r.name} ${String(i.securityGroupId)} ${String(i.fromPort)} ${peer}`;
    }),
  ).sort();
}

describe("Notifications steps, each run alone", () => {
  describe("endpointRules", () => {
    const clients = [
      { key: "margin-call", description: "the margin-call Lambda", securityGroupId: "sg-0d0d0d0d0d0d0d0d0" },
      { key: "ops", description: "an operator tool", securityGroupId: "sg-0e0e0e0e0e0e0e0e0" },
    ];
    const plan = (albIngressCidrs: string[], albClients = clients) =>
      planOf((parent) =>
        endpointRules(
          "n",
          { albSecurityGroupId: ALB_SG, serviceSecurityGroupId: SERVICE_SG, albIngressCidrs, albClients },
          parent,
        ),
      );

    it("admits HTTPS from each CIDR and each client by its key, and sends HTTP only to the tasks", async () => {
      assert.deepEqual(rules(await plan(["172.18.0.0/19", "10.8.0.0/16"])), [
        `n-alb-in-https-from-cidrs-0 ${ALB_SG} 443 172.18.0.0/19`,
        `n-alb-in-https-from-cidrs-1 ${ALB_SG} 443 10.8.0.0/16`,
        `n-alb-in-https-from-margin-call ${ALB_SG} 443 sg-0d0d0d0d0d0d0d0d0`,
        `n-alb-in-https-from-ops ${ALB_SG} 443 sg-0e0e0e0e0e0e0e0e0`,
        `n-alb-out-http-to-tasks ${ALB_SG} 3000 ${SERVICE_SG}`,
      ]);
    });

    it("keeps a client's rule under its own name when another client leaves the list", async () => {
      const both = rules(await plan([]));
      const onlyOps = rules(await plan([], [clients[1]]));
      assert.deepEqual(
        onlyOps,
        both.filter((r) => !r.startsWith("n-alb-in-https-from-margin-call ")),
      );
      assert.equal(onlyOps.length, 2);
    });
  });

  describe("databaseRules", () => {
    it("admits PostgreSQL from the tasks only, unless CIDRs are given; the database has no egress", async () => {
      const run = (databaseIngressCidrs?: string[]) =>
        planOf((parent) =>
          databaseRules(
            "n",
            {
              databaseSecurityGroupId: DB_SG,
              serviceSecurityGroupId: SERVICE_SG,
              ...(databaseIngressCidrs ? { databaseIngressCidrs } : {}),
            },
            parent,
          ),
        );
      assert.deepEqual(rules(await run()), [`n-db-in-postgres-from-service ${DB_SG} 5432 ${SERVICE_SG}`]);
      assert.deepEqual(rules(await run(["172.18.0.0/19"])), [
        `n-db-in-postgres-from-cidrs ${DB_SG} 5432 172.18.0.0/19`,
        `n-db-in-postgres-from-service ${DB_SG} 5432 ${SERVICE_SG}`,
      ]);
    });
  });

  describe("securityGroups", () => {
    it("takes adopted descriptions as given, and otherwise names what each group admits", async () => {
      const run = (securityGroupDescriptions?: { alb?: string; database?: string }) =>
        planOf((parent) =>
          securityGroups(
            "n",
            {
              names,
              network: { vpcId: "vpc-0123" },
              ...(securityGroupDescriptions ? { securityGroupDescriptions } : {}),
            },
            parent,
          ),
        );
      const descriptions = (plan: Plan) =>
        resourcesOfType(plan, "aws:ec2/securityGroup:SecurityGroup").map((g) => [g.name, g.inputs.description]);
      assert.deepEqual(descriptions(await run()), [
        ["n-alb-sg", "alb-futures-notifications-dev: HTTPS from callers, HTTP to svc-futures-notifications-dev"],
        ["n-db-sg", "notifications-v2-dev: PostgreSQL from svc-futures-notifications-dev only"],
      ]);
      assert.deepEqual(descriptions(await run({ alb: "Security group for Notifications internal ALB" })), [
        ["n-alb-sg", "Security group for Notifications internal ALB"],
        ["n-db-sg", "notifications-v2-dev: PostgreSQL from svc-futures-notifications-dev only"],
      ]);
    });
  });

  describe("notificationsDatabase", () => {
    const run = (kmsKeyArn?: string) =>
      planOf((parent) =>
        notificationsDatabase(
          "n",
          {
            names,
            settings: resolveDatabase({ ...DATABASE, ...(kmsKeyArn ? { kmsKeyArn } : {}) }, names.database, false),
            network: { privateSubnetIds: SUBNETS },
            securityGroupId: DB_SG,
            secretsKmsKeyArn: STACK_KEY,
            logRetentionDays: 7,
            protect: false,
          },
          parent,
        ),
      );
    const keys = (plan: Plan) => {
      const i = resource(plan, "aws:rds/instance:Instance", "n-db").inputs;
      return {
        storage: i.kmsKeyId,
        performanceInsights: i.performanceInsightsKmsKeyId,
        masterSecret: i.masterUserSecretKmsKeyId,
        tags: i.tags,
      };
    };

    it("encrypts storage, Performance Insights and the master secret with the stack's key by default", async () => {
      assert.deepEqual(keys(await run()), {
        storage: STACK_KEY,
        performanceInsights: STACK_KEY,
        masterSecret: STACK_KEY,
        tags: undefined,
      });
    });

    it("an adopted instance's key encrypts its storage and Performance Insights only, tagged as the policy exception", async () => {
      assert.deepEqual(keys(await run(AWS_RDS_KEY)), {
        storage: AWS_RDS_KEY,
        performanceInsights: AWS_RDS_KEY,
        masterSecret: STACK_KEY,
        tags: { [policyExceptionTag("rds-storage-stack-key")]: "futures.notifications.database.kmsKeyArn" },
      });
    });

    it("creates the exported log groups, with retention, before the instance that writes to them", async () => {
      const plan = await run();
      const groups = resourcesOfType(plan, "aws:cloudwatch/logGroup:LogGroup");
      assert.deepEqual(
        groups.map((g) => [g.inputs.name, g.inputs.retentionInDays]),
        [
          ["/aws/rds/instance/notifications-v2-dev/postgresql", 7],
          ["/aws/rds/instance/notifications-v2-dev/upgrade", 7],
        ],
      );
      const instance = resource(plan, "aws:rds/instance:Instance", "n-db");
      assert.deepEqual([...instance.options.dependsOn].sort(), groups.map((g) => g.urn).sort());
    });
  });

  describe("notificationsEndpoint", () => {
    it("while the zone is pending, registers no record and lists the alias and the validation record it withholds", async () => {
      const withheld: string[] = [];
      const plan = await planOf((parent) => {
        notificationsEndpoint(
          "n",
          {
            names,
            hostName: "notifyint.dev.lumerin.io",
            dns: { zoneName: "dev.lumerin.io", withheld },
            network: { vpcId: "vpc-0123", privateSubnetIds: SUBNETS },
            securityGroupId: ALB_SG,
            protect: false,
          },
          parent,
        );
      });
      assert.deepEqual(resourcesOfType(plan, "aws:route53/record:Record"), []);
      assert.deepEqual(withheld, ["ACM's validation CNAME of notifyint.dev.lumerin.io", "notifyint.dev.lumerin.io A"]);
      assert.equal(resource(plan, "aws:lb/listener:Listener", "n-https").inputs.port, 443);
    });
  });
  describe("notificationsService", () => {
    const TAG = "notifications-v1.2.0-dev";
    const DB_SECRET = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:rds!db-0a1b2c3d-AbCdEf`;
    const TARGET_GROUP = `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:targetgroup/tg-notification-v2-3000/0123456789abcdef`;
    const args: NotificationsArgs = {
      aws: AWS_CTX,
      cluster: { arn: "arn:c", name: "c", execLogGroupArn: "arn:l", kmsKeyArn: STACK_KEY },
      network: { vpcId: "vpc-0123", privateSubnetIds: SUBNETS },
      names,
      image: `ghcr.io/lumerin-protocol/futures-notifications:${TAG}`,
      imageTag: TAG,
      cpu: 256,
      memory: 512,
      logLevel: "info",
      logRetentionDays: 7,
      enableExecuteCommand: false,
      secretsKmsKeyArn: STACK_KEY,
      hostName: "notifyint.dev.lumerin.io",
      dns: { zoneName: "dev.lumerin.io" },
      albIngressCidrs: [],
      database: DATABASE,
      protect: false,
    };

    it("the shared appService, wired to what was made before it: waits for the listener, registers in its target group, reads the database's secret", async () => {
      let listenerUrn = "";
      const plan = await planOf((parent) => {
        const listener = new aws.lb.Listener(
          "n-https",
          { loadBalancerArn: "arn:lb", defaultActions: [{ type: "forward", targetGroupArn: TARGET_GROUP }] },
          { parent },
        );
        listener.urn.apply((u) => (listenerUrn = u));
        notificationsService(
          "n",
          args,
          {
            environment: { PGHOST: "db.example" },
            databaseSecretArn: DB_SECRET,
            desiredCount: 0,
            albSecurityGroupId: ALB_SG,
            databaseSecurityGroupId: DB_SG,
            targetGroupArn: TARGET_GROUP,
            listener,
          },
          parent,
        );
      });
      // The ContainerService waits for the listener (and with it every child, the ECS service included).
      assert.deepEqual(resource(plan, "lumerin:ecs:ContainerService", "n-svc").options.dependsOn, [listenerUrn]);
      const service = resource(plan, "aws:ecs/service:Service", "n-svc-service");
      assert.equal(service.inputs.desiredCount, 0);
      assert.deepEqual(service.inputs.loadBalancers, [
        { targetGroupArn: TARGET_GROUP, containerName: names.container, containerPort: 3000 },
      ]);
      const [container] = JSON.parse(
        String(resource(plan, "aws:ecs/taskDefinition:TaskDefinition", "n-svc-task").inputs.containerDefinitions),
      ) as { secrets: { name: string; valueFrom: string }[] }[];
      const own = resource(plan, "aws:secretsmanager/secret:Secret", "n-secret");
      assert.deepEqual(container.secrets, [
        { name: "PGUSER", valueFrom: `${DB_SECRET}:username::` },
        { name: "PGPASSWORD", valueFrom: `${DB_SECRET}:password::` },
        { name: "TELEGRAM_BOT_TOKEN", valueFrom: `${String(own.outputs.arn)}:telegram_bot_token::` },
      ]);
      // No token given: the secret is filled out of band, so no version is registered.
      assert.deepEqual(resourcesOfType(plan, "aws:secretsmanager/secretVersion:SecretVersion"), []);
      const group = String(resource(plan, "aws:ec2/securityGroup:SecurityGroup", "n-svc-sg").id);
      assert.deepEqual(rules(plan), [
        `n-svc-in-http-from-alb ${group} 3000 ${ALB_SG}`,
        `n-svc-out-https ${group} 443 0.0.0.0/0`,
        `n-svc-out-postgres-to-db ${group} 5432 ${DB_SG}`,
      ]);
    });
  });
});
