import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import {
  ContainerService,
  ContainerServiceArgs,
  ContainerSpec,
  containerDefinition,
  keyed,
} from "../components/container-service";
import { RULES } from "../policy/rules";
import { Plan, capture } from "../tools/harness";
import { containers, doc, resource, resourcesOfType } from "./support/plan";
import { evaluateProgram } from "./support/policy";
import { ACCOUNT, KEY_ARN, REGION } from "./support/fixtures";

const SECRET_ARN = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:/bot/dev/config-AbCdEf`;
const CREDS_ARN = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:ghcr-pull-XyZaBc`;
const EXEC_LOGS = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:exec`;

function args(overrides: Partial<ContainerServiceArgs> = {}): ContainerServiceArgs {
  return {
    aws: { accountId: ACCOUNT, region: REGION, partition: "aws" },
    cluster: {
      arn: `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/c`,
      name: "c",
      execLogGroupArn: EXEC_LOGS,
      kmsKeyArn: KEY_ARN,
    },
    names: {
      service: "svc-bot-dev",
      taskFamily: "tsk-bot",
      container: "bot",
      securityGroup: "bot-dev-service",
      executionRole: "bot-dev-execution",
      taskRole: "bot-dev-task",
      logGroup: "/ecs/bot-dev",
    },
    network: {
      vpcId: "vpc-0123456789abcdef0",
      subnetIds: ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
    },
    container: CONTAINER,
    logging: { retentionDays: 7, streamPrefix: "bot" },
    deployment: { desiredCount: 1 },
    ...overrides,
  };
}

const CONTAINER: ContainerSpec = {
  image: "ghcr.io/lumerin-protocol/bot:v1.2.3-dev",
  cpu: 256,
  memory: 512,
  environment: { LOG_LEVEL: "info", PORT: "3000" },
  secrets: [
    { name: "BOT_TOKEN", secretArn: SECRET_ARN, jsonKey: "telegram_bot_token", kmsKeyArn: KEY_ARN },
    { name: "DB_PASSWORD", secretArn: SECRET_ARN, jsonKey: "password", kmsKeyArn: KEY_ARN },
  ],
  portMappings: [{ containerPort: 3000, name: "http" }],
};

function planOf(serviceArgs: ContainerServiceArgs): Promise<Plan> {
  return capture({
    project: "lumerin-infra",
    stack: "dev",
    config: { "aws:region": REGION },
    secretKeys: [],
    accountId: ACCOUNT,
    program: async () => {
      new ContainerService("bot", serviceArgs);
      return {};
    },
  });
}

describe("ContainerService", () => {
  let plan: Plan;
  before(async () => {
    plan = await planOf(args());
  });

  it("passes secrets only by valueFrom <secret-arn>:<json-key>:: and never as environment", () => {
    const [container] = containers(resource(plan, "aws:ecs/taskDefinition:TaskDefinition", "bot-task"));
    assert.deepEqual(container.secrets, [
      { name: "BOT_TOKEN", valueFrom: `${SECRET_ARN}:telegram_bot_token::` },
      { name: "DB_PASSWORD", valueFrom: `${SECRET_ARN}:password::` },
    ]);
    assert.deepEqual(container.environment, [
      { name: "LOG_LEVEL", value: "info" },
      { name: "PORT", value: "3000" },
    ]);
  });

  it("lets the execution role read exactly its own secret, decrypt only through Secrets Manager, and write its own logs", () => {
    const policy = doc(resource(plan, "aws:iam/rolePolicy:RolePolicy", "bot-execution-policy").inputs.policy);
    assert.deepEqual(policy.Statement, [
      {
        Sid: "WriteOwnLogStreams",
        Effect: "Allow",
        Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
        Resource: [`arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/ecs/bot-dev:log-stream:*`],
      },
      {
        Sid: "ReadOwnSecretsAtTaskStart",
        Effect: "Allow",
        Action: ["secretsmanager:GetSecretValue"],
        Resource: [SECRET_ARN],
      },
      {
        Sid: "DecryptOwnSecretsThroughSecretsManagerOnly",
        Effect: "Allow",
        Action: ["kms:Decrypt"],
        Resource: [KEY_ARN],
        Condition: { StringEquals: { "kms:ViaService": `secretsmanager.${REGION}.amazonaws.com` } },
      },
    ]);
  });

  it("trusts only ECS tasks of this account for both roles", () => {
    for (const name of ["bot-execution-role", "bot-task-role"]) {
      const trust = doc(resource(plan, "aws:iam/role:Role", name).inputs.assumeRolePolicy);
      assert.deepEqual(trust.Statement, [
        {
          Sid: "EcsTasksAssumeForThisAccountOnly",
          Effect: "Allow",
          Principal: { Service: "ecs-tasks.amazonaws.com" },
          Action: "sts:AssumeRole",
          Condition: { StringEquals: { "aws:SourceAccount": ACCOUNT } },
        },
      ]);
    }
  });

  it("gives the task role no permissions unless asked", () => {
    assert.equal(resourcesOfType(plan, "aws:iam/rolePolicy:RolePolicy").length, 1);
  });

  it("deploys with the circuit breaker and rollback, rolling (100/200), and leaves desiredCount to people", () => {
    const service = resource(plan, "aws:ecs/service:Service", "bot-service");
    assert.deepEqual(service.inputs.deploymentCircuitBreaker, { enable: true, rollback: true });
    assert.equal(service.inputs.deploymentMinimumHealthyPercent, 100);
    assert.equal(service.inputs.deploymentMaximumPercent, 200);
    assert.deepEqual(service.options.ignoreChanges, ["desiredCount"]);
    assert.equal(
      service.inputs.taskDefinition,
      resource(plan, "aws:ecs/taskDefinition:TaskDefinition", "bot-task").outputs.arn,
    );
    assert.deepEqual((service.inputs.networkConfiguration as { assignPublicIp: boolean }).assignPublicIp, false);
  });

  it("keeps old task definition revisions for rollback", () => {
    assert.equal(resource(plan, "aws:ecs/taskDefinition:TaskDefinition", "bot-task").inputs.skipDestroy, true);
  });

  it("opens no port by default and allows only HTTPS out", () => {
    assert.equal(resourcesOfType(plan, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").length, 0);
    const egress = resourcesOfType(plan, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule");
    assert.deepEqual(
      egress.map((r) => [r.inputs.ipProtocol, r.inputs.fromPort, r.inputs.toPort, r.inputs.cidrIpv4]),
      [["tcp", 443, 443, "0.0.0.0/0"]],
    );
  });

  it("singleton mode never runs two tasks: minimum 0 %, maximum 100 %", async () => {
    const single = await planOf(args({ deployment: { desiredCount: 1, singleton: true } }));
    const service = resource(single, "aws:ecs/service:Service", "bot-service");
    assert.equal(service.inputs.deploymentMinimumHealthyPercent, 0);
    assert.equal(service.inputs.deploymentMaximumPercent, 100);
  });

  it("refuses a singleton with more than one task, a secret that is also environment, and a duplicate secret name", async () => {
    await assert.rejects(
      planOf(args({ deployment: { desiredCount: 2, singleton: true } })),
      /svc-bot-dev: a singleton service runs at most one task/,
    );
    await assert.rejects(
      planOf(args({ container: { ...CONTAINER, environment: { BOT_TOKEN: "x" } } })),
      /svc-bot-dev: BOT_TOKEN is both a secret and plain environment/,
    );
    const dup = CONTAINER.secrets ?? [];
    await assert.rejects(
      planOf(args({ container: { ...CONTAINER, secrets: [...dup, dup[0]] } })),
      /svc-bot-dev: a container secret name is used twice/,
    );
  });

  it("pulls a private image with repository credentials the execution role (alone) can read", async () => {
    const priv = await planOf(
      args({ container: { ...CONTAINER, repositoryCredentialsSecretArn: CREDS_ARN, secrets: [] } }),
    );
    const [container] = containers(resource(priv, "aws:ecs/taskDefinition:TaskDefinition", "bot-task"));
    assert.deepEqual(container.repositoryCredentials, { credentialsParameter: CREDS_ARN });
    const policy = doc(resource(priv, "aws:iam/rolePolicy:RolePolicy", "bot-execution-policy").inputs.policy);
    const read = policy.Statement.find((s) => s.Sid === "ReadOwnSecretsAtTaskStart");
    assert.deepEqual(read?.Resource, [CREDS_ARN]);
    assert.equal(
      policy.Statement.some((s) => s.Sid.startsWith("Decrypt")),
      false,
      "no CMK, no kms:Decrypt",
    );
  });

  it("with execute-command on, the task role gets exactly the session channels and the cluster's transcript log group", async () => {
    const exec = await planOf(args({ enableExecuteCommand: true }));
    assert.equal(resource(exec, "aws:ecs/service:Service", "bot-service").inputs.enableExecuteCommand, true);
    const policy = doc(resource(exec, "aws:iam/rolePolicy:RolePolicy", "bot-task-policy").inputs.policy);
    assert.deepEqual(
      policy.Statement.map((s) => [s.Sid, s.Resource]),
      [
        ["ExecSessionChannelsAcceptNoResourceArn", "*"],
        ["ExecSessionLogDiscoveryAcceptsNoResourceArn", "*"],
        ["WriteExecSessionTranscripts", [EXEC_LOGS, `${EXEC_LOGS}:log-stream:*`]],
        ["EncryptExecSessionsWithClusterKey", [KEY_ARN]],
      ],
    );
  });

  it("registers every child under the component and exposes the service ARN in the cluster's format", async () => {
    const component = resource(plan, "lumerin:ecs:ContainerService", "bot");
    for (const r of plan.resources.filter((x) => x.custom)) assert.equal(r.parent, component.urn, r.name);
    const service = resource(plan, "aws:ecs/service:Service", "bot-service");
    assert.equal(service.outputs.arn, `arn:aws:ecs:${REGION}:${ACCOUNT}:service/c/svc-bot-dev`);
    assert.ok(pulumi.runtime.getStackResource(), "the harness ran inside a stack");
  });

  describe("rules as maps keyed by id", () => {
    const VPN = "172.18.0.0/19";
    const withRules = (): Partial<ContainerServiceArgs> => ({
      ingress: {
        "http-from-vpn": {
          description: "HTTP from the VPN",
          protocol: "tcp",
          fromPort: 3000,
          toPort: 3000,
          cidrBlocks: [VPN],
        },
        "http-from-offices": {
          description: "HTTP from two offices",
          protocol: "tcp",
          fromPort: 3000,
          toPort: 3000,
          cidrBlocks: ["10.1.0.0/16", "10.2.0.0/16"],
        },
      },
      egress: {
        postgres: {
          description: "PostgreSQL to the database",
          protocol: "tcp",
          fromPort: 5432,
          toPort: 5432,
          securityGroupId: "sg-0123456789abcdef0",
        },
      },
    });

    it("names each rule <name>-in-<id> / <name>-out-<id> (-<n> per CIDR), and explicit egress replaces the HTTPS default", async () => {
      const p = await planOf(args(withRules()));
      const ingress = resourcesOfType(p, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule");
      assert.deepEqual(
        ingress.map((r) => [r.name, r.inputs.cidrIpv4]),
        [
          ["bot-in-http-from-vpn", VPN],
          ["bot-in-http-from-offices-0", "10.1.0.0/16"],
          ["bot-in-http-from-offices-1", "10.2.0.0/16"],
        ],
      );
      const egress = resourcesOfType(p, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule");
      assert.deepEqual(
        egress.map((r) => [r.name, r.inputs.fromPort, r.inputs.referencedSecurityGroupId]),
        [["bot-out-postgres", 5432, "sg-0123456789abcdef0"]],
      );
      const sg = resource(p, "aws:ec2/securityGroup:SecurityGroup", "bot-sg");
      for (const r of [...ingress, ...egress]) assert.equal(r.inputs.securityGroupId, sg.id, r.name);
    });

    it("keyed() turns a map into rules whose key is the id", () => {
      assert.deepEqual(
        keyed({ a: { description: "d", protocol: "tcp", fromPort: 1, toPort: 2, cidrBlocks: ["10.0.0.0/8"] } }),
        [{ key: "a", description: "d", protocol: "tcp", fromPort: 1, toPort: 2, cidrBlocks: ["10.0.0.0/8"] }],
      );
    });
  });

  describe("transform hooks", () => {
    it("apply to each child's args before it is created, with its logical name, and the plan shows the result", async () => {
      const seen: string[] = [];
      const p = await planOf(
        args({
          transform: {
            taskDefinition: (a, name) => (seen.push(name), { ...a, cpu: "512", memory: "1024" }),
            logGroup: (a, name) => (seen.push(name), { ...a, retentionInDays: 400 }),
            service: (a, name) => (seen.push(name), { ...a, platformVersion: "1.4.0" }),
            securityGroup: (a, name) => (seen.push(name), { ...a, tags: { Name: "bot-dev-service", Team: "core" } }),
            executionRole: (a, name) => (seen.push(name), { ...a, maxSessionDuration: 7200 }),
            taskRole: (a, name) => (seen.push(name), { ...a, description: "changed" }),
            executionRolePolicy: (a, name) => (seen.push(name), { ...a, name: "start-task-v2" }),
            egressRule: (a, name) => (seen.push(name), { ...a, fromPort: 0, toPort: 65535 }),
          },
        }),
      );
      assert.deepEqual(seen.sort(), [
        "bot-execution-policy",
        "bot-execution-role",
        "bot-logs",
        "bot-out-https",
        "bot-service",
        "bot-sg",
        "bot-task",
        "bot-task-role",
      ]);
      const task = resource(p, "aws:ecs/taskDefinition:TaskDefinition", "bot-task");
      assert.deepEqual([task.inputs.cpu, task.inputs.memory], ["512", "1024"]);
      assert.equal(resource(p, "aws:cloudwatch/logGroup:LogGroup", "bot-logs").inputs.retentionInDays, 400);
      assert.equal(resource(p, "aws:ecs/service:Service", "bot-service").inputs.platformVersion, "1.4.0");
      assert.deepEqual(resource(p, "aws:ec2/securityGroup:SecurityGroup", "bot-sg").inputs.tags, {
        Name: "bot-dev-service",
        Team: "core",
      });
      assert.equal(resource(p, "aws:iam/role:Role", "bot-execution-role").inputs.maxSessionDuration, 7200);
      assert.equal(resource(p, "aws:iam/role:Role", "bot-task-role").inputs.description, "changed");
      assert.equal(resource(p, "aws:iam/rolePolicy:RolePolicy", "bot-execution-policy").inputs.name, "start-task-v2");
      const out = resource(p, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "bot-out-https");
      assert.deepEqual([out.inputs.fromPort, out.inputs.toPort, out.inputs.cidrIpv4], [0, 65535, "0.0.0.0/0"]);
      // What the hooks did not touch stays the component's.
      assert.equal(task.inputs.skipDestroy, true);
      assert.deepEqual(resource(p, "aws:ecs/service:Service", "bot-service").options.ignoreChanges, ["desiredCount"]);
    });

    const ingress: ContainerServiceArgs["ingress"] = {
      "http-from-vpn": {
        description: "HTTP from the VPN",
        protocol: "tcp",
        fromPort: 3000,
        toPort: 3000,
        cidrBlocks: ["172.18.0.0/19"],
      },
    };
    const mandatory = async (serviceArgs: ContainerServiceArgs) => {
      const { violations } = await evaluateProgram(RULES, () => void new ContainerService("bot", serviceArgs));
      return violations.filter((v) => v.level === "mandatory").map((v) => `${v.policy}: ${v.message}`);
    };

    it("are what the policy pack evaluates: a rule widened to the world on every port, a public IP, both refused", async () => {
      assert.deepEqual(await mandatory(args({ ingress })), [], "without the hooks, the service passes");
      const widened = await mandatory(
        args({
          ingress,
          transform: {
            ingressRule: (a) => ({ ...a, cidrIpv4: "0.0.0.0/0", fromPort: 1, toPort: 65535 }),
            service: (a) => ({
              ...a,
              networkConfiguration: {
                ...(a.networkConfiguration as aws.types.input.ecs.ServiceNetworkConfiguration),
                assignPublicIp: true,
              },
            }),
          },
        }),
      );
      // Each message, without the rule's remediation that follows it.
      assert.deepEqual(widened.map((m) => m.split(". ")[0]).sort(), [
        "ecs-services-no-public-ip: service svc-bot-dev assigns public IPs to its tasks",
        `security-groups-not-open-to-the-world: rule bot-in-http-from-vpn of security group bot-dev-service admits every tcp port from 0.0.0.0/0`,
      ]);
    });
  });

  it("containerDefinition alone: environment sorted by name, secrets by valueFrom, logs to the given group", async () => {
    const def = containerDefinition(
      args({ container: { ...CONTAINER, environment: { ZED: "1", ALPHA: "2" }, secrets: [] } }),
      "/ecs/bot-dev",
    );
    assert.deepEqual(def.environment, [
      { name: "ALPHA", value: "2" },
      { name: "ZED", value: "1" },
    ]);
    assert.deepEqual(def.secrets, []);
    assert.deepEqual(def.logConfiguration, {
      logDriver: "awslogs",
      options: { "awslogs-group": "/ecs/bot-dev", "awslogs-region": REGION, "awslogs-stream-prefix": "bot" },
    });
  });
});
