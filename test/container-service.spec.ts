import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { ContainerService, ContainerServiceArgs } from "../components/container-service";
import { Plan, capture } from "../tools/harness";
import { containers, doc, resource, resourcesOfType } from "./support/plan";

const ACCOUNT = "111122223333";
const REGION = "us-east-1";
const SECRET_ARN = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:/bot/dev/config-AbCdEf`;
const KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
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
    serviceName: "svc-bot-dev",
    family: "tsk-bot",
    containerName: "bot",
    image: "ghcr.io/lumerin-protocol/bot:v1.2.3-dev",
    cpu: 256,
    memory: 512,
    desiredCount: 1,
    environment: { LOG_LEVEL: "info", PORT: "3000" },
    secrets: [
      { name: "BOT_TOKEN", secretArn: SECRET_ARN, jsonKey: "telegram_bot_token", kmsKeyArn: KEY_ARN },
      { name: "DB_PASSWORD", secretArn: SECRET_ARN, jsonKey: "password", kmsKeyArn: KEY_ARN },
    ],
    portMappings: [{ containerPort: 3000, name: "http" }],
    logGroupName: "/ecs/bot-dev",
    logRetentionDays: 7,
    logStreamPrefix: "bot",
    vpcId: "vpc-0123456789abcdef0",
    subnetIds: ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
    securityGroupName: "bot-dev-service",
    executionRoleName: "bot-dev-execution",
    taskRoleName: "bot-dev-task",
    ...overrides,
  };
}

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
    const single = await planOf(args({ singleton: true }));
    const service = resource(single, "aws:ecs/service:Service", "bot-service");
    assert.equal(service.inputs.deploymentMinimumHealthyPercent, 0);
    assert.equal(service.inputs.deploymentMaximumPercent, 100);
  });

  it("refuses a singleton with more than one task, a secret that is also environment, and a duplicate secret name", async () => {
    await assert.rejects(planOf(args({ singleton: true, desiredCount: 2 })), /singleton service runs at most one task/);
    await assert.rejects(
      planOf(args({ environment: { BOT_TOKEN: "x" } })),
      /BOT_TOKEN is both a secret and plain environment/,
    );
    const dup = args().secrets ?? [];
    await assert.rejects(planOf(args({ secrets: [...dup, dup[0]] })), /secret name is used twice/);
  });

  it("pulls a private image with repository credentials the execution role (alone) can read", async () => {
    const priv = await planOf(args({ repositoryCredentialsSecretArn: CREDS_ARN, secrets: [] }));
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
});
