import { strict as assert } from "node:assert";
import { runSimulation } from "@cloud-copilot/iam-simulate";
import * as pulumi from "@pulumi/pulumi";
import { policyDocument, Statement } from "../lib/iam";
import {
  RunnerTarget,
  githubRunnerStatements,
  invokerStatements,
  leasePartitionKey,
  runnerLambdaStatements,
  stateMachineStatements,
} from "../lib/deploy-runner-iam";

const ACCT = "434960487817";
const CTX = { accountId: ACCT, region: "us-east-1", partition: "aws" };
const arn = (service: string, resource: string) => `arn:aws:${service}:us-east-1:${ACCT}:${resource}`;
const role = (name: string) => `arn:aws:iam::${ACCT}:role/${name}`;
const CLUSTER = "ecs-proxy-router-dev-use1";
const svc = (cluster: string, name: string) => arn("ecs", `service/${cluster}/${name}`);
const TABLE = arn("dynamodb", "table/deploy-runner-dev");
const STATE_MACHINE = arn("states", "stateMachine:deploy-runner-dev");
const INVOKER = arn("lambda", "function:deploy-invoker-dev");
const RUNNER = arn("lambda", "function:deploy-runner-dev");
const LOGS = {
  invoker: "/aws/lambda/deploy-invoker-dev",
  runner: "/aws/lambda/deploy-runner-dev",
  machine: "/aws/vendedlogs/states/deploy-runner-dev",
};
const lg = (name: string) => arn("logs", `log-group:${name}`);

const TARGETS: RunnerTarget[] = [
  {
    app: "proxy-router",
    serviceArn: svc(CLUSTER, "svc-proxy-router-dev-use1"),
    taskFamily: "tsk-proxy-router",
    executionRoleArn: role("proxy-router-dev-execution"),
    taskRoleArn: role("proxy-router-dev-task"),
    imageTagParameterArn: arn("ssm", "parameter/proxy-router/dev/image-tag"),
  },
  {
    app: "market-maker",
    serviceArn: svc("ecs-futures-marketplace-dev", "svc-market-maker-dev"),
    taskFamily: "tsk-market-maker",
    executionRoleArn: role("market-maker-dev-execution"),
    taskRoleArn: role("market-maker-dev-task"),
    imageTagParameterArn: arn("ssm", "parameter/market-maker/dev/image-tag"),
    ecrRepositoryArn: arn("ecr", "repository/market-maker"),
  },
];

type Case = [action: string, resource: string, context?: Record<string, string | string[]>];

/** The policy document with its outputs (ARNs interpolated from names) resolved, as IAM receives it. */
function resolved(statements: Statement[]): Promise<unknown> {
  return new Promise((done) =>
    pulumi.output(policyDocument(statements)).apply((d) => done(JSON.parse(JSON.stringify(d)))),
  );
}

async function allowed(statements: Statement[], [action, resource, context]: Case): Promise<boolean> {
  const policy = await resolved(statements);
  const result = await runSimulation(
    {
      request: {
        principal: role("deploy-runner-test"),
        action,
        resource: { resource, accountId: ACCT },
        contextVariables: context ?? {},
      },
      identityPolicies: [{ name: "p", policy }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    {},
  );
  assert.equal(result.resultType, "single", JSON.stringify(result).slice(0, 400));
  return result.resultType === "single" && result.overallResult === "Allowed";
}

function matrix(name: string, statements: () => Statement[], may: Case[], mayNot: Case[]) {
  describe(name, () => {
    for (const c of may)
      it(`may ${c[0]} on ${c[1]}${c[2] ? ` ${JSON.stringify(c[2])}` : ""}`, async () =>
        assert.equal(await allowed(statements(), c), true));
    for (const c of mayNot)
      it(`may NOT ${c[0]} on ${c[1]}${c[2] ? ` ${JSON.stringify(c[2])}` : ""}`, async () =>
        assert.equal(await allowed(statements(), c), false));
  });
}

const ecs = "ecs-tasks.amazonaws.com";
const lease = { "dynamodb:LeadingKeys": [leasePartitionKey("proxy-router", "dev")] };

describe("deploy runner IAM (evaluated by @cloud-copilot/iam-simulate)", () => {
  matrix(
    "the GitHub runner role: invoke the invoker, read the runner's logs, nothing else",
    () => githubRunnerStatements(CTX, { invokerFunctionArn: INVOKER, logGroups: [LOGS.runner, LOGS.machine] }),
    [
      ["lambda:InvokeFunction", INVOKER],
      ["logs:FilterLogEvents", lg(LOGS.runner)],
      ["logs:FilterLogEvents", lg(LOGS.machine)],
      ["logs:DescribeLogStreams", lg(LOGS.machine)],
      ["logs:GetLogEvents", `${lg(LOGS.runner)}:log-stream:2026/12/02/[$LATEST]0123456789abcdef`],
    ],
    [
      ["lambda:InvokeFunction", RUNNER],
      ["lambda:InvokeFunction", arn("lambda", "function:market-maker-dev")],
      ["lambda:UpdateFunctionCode", INVOKER],
      ["ecs:UpdateService", TARGETS[0].serviceArn as string],
      ["ecs:RegisterTaskDefinition", arn("ecs", "task-definition/tsk-proxy-router:42")],
      ["iam:PassRole", role("proxy-router-dev-task"), { "iam:PassedToService": ecs }],
      ["states:StartExecution", STATE_MACHINE],
      ["ssm:PutParameter", TARGETS[0].imageTagParameterArn as string],
      ["dynamodb:DeleteItem", TABLE, lease],
      ["logs:FilterLogEvents", lg(LOGS.invoker)],
      ["logs:FilterLogEvents", lg("bedrock-dev-proxy-router-log-group")],
      ["logs:GetLogEvents", `${lg("bedrock-dev-proxy-router-log-group")}:log-stream:proxy-router/x/1`],
      ["logs:FilterLogEvents", lg(`${LOGS.runner}-other`)],
      ["secretsmanager:GetSecretValue", arn("secretsmanager", "secret:/proxy-router/dev/config-AbCdEf")],
    ],
  );

  matrix(
    "the invoker: its table's tokens and leases, its targets' tags and images, one state machine",
    () =>
      invokerStatements(CTX, {
        environment: "dev",
        tableArn: TABLE,
        stateMachineArn: STATE_MACHINE,
        targets: TARGETS,
        logGroup: LOGS.invoker,
      }),
    [
      ["dynamodb:PutItem", TABLE, lease],
      ["dynamodb:PutItem", TABLE, { "dynamodb:LeadingKeys": ["jti#5f1e0c2a-1b2c-4d5e-8f90-a1b2c3d4e5f6"] }],
      ["dynamodb:GetItem", TABLE, { "dynamodb:LeadingKeys": [leasePartitionKey("market-maker", "dev")] }],
      ["dynamodb:DeleteItem", TABLE, lease],
      ["states:StartExecution", STATE_MACHINE],
      ["ssm:GetParameter", TARGETS[1].imageTagParameterArn as string],
      ["ssm:GetParameterHistory", TARGETS[0].imageTagParameterArn as string],
      ["ecr:DescribeImages", arn("ecr", "repository/market-maker")],
      ["logs:PutLogEvents", `${lg(LOGS.invoker)}:log-stream:2026/12/02/[$LATEST]abc`],
    ],
    [
      ["states:StartExecution", arn("states", "stateMachine:futures-notifications-redeploy-dev")],
      ["states:StopExecution", arn("states", `execution:deploy-runner-dev:8d0f6c2e`)],
      ["dynamodb:PutItem", arn("dynamodb", "table/other-table"), lease],
      ["dynamodb:PutItem", TABLE, { "dynamodb:LeadingKeys": [leasePartitionKey("futures-notifications", "dev")] }],
      ["dynamodb:PutItem", TABLE, { "dynamodb:LeadingKeys": [leasePartitionKey("proxy-router", "stg")] }],
      ["dynamodb:DeleteItem", TABLE, { "dynamodb:LeadingKeys": ["jti#5f1e0c2a-1b2c-4d5e-8f90-a1b2c3d4e5f6"] }],
      ["dynamodb:DeleteItem", TABLE, { "dynamodb:LeadingKeys": [leasePartitionKey("futures-notifications", "dev")] }],
      ["dynamodb:UpdateItem", TABLE, lease],
      ["dynamodb:Scan", TABLE],
      ["ssm:GetParameter", arn("ssm", "parameter/futures-notifications/dev/image-tag")],
      ["ssm:PutParameter", TARGETS[0].imageTagParameterArn as string],
      ["ecr:DescribeImages", arn("ecr", "repository/other")],
      ["ecs:RunTask", arn("ecs", "task-definition/tsk-proxy-router:41")],
      ["ecs:UpdateService", TARGETS[0].serviceArn as string],
      ["iam:PassRole", role("deploy-runner-dev"), { "iam:PassedToService": "states.amazonaws.com" }],
      ["lambda:InvokeFunction", RUNNER],
      ["logs:PutLogEvents", `${lg(LOGS.runner)}:log-stream:x`],
    ],
  );

  matrix(
    "the state machine: the runner Lambda only",
    () => stateMachineStatements({ runnerFunctionArn: RUNNER }),
    [
      ["lambda:InvokeFunction", RUNNER],
      ["logs:CreateLogDelivery", "*"],
    ],
    [
      ["lambda:InvokeFunction", INVOKER],
      ["lambda:InvokeFunction", `${RUNNER}:1`],
      ["ecs:UpdateService", TARGETS[0].serviceArn as string],
      ["logs:PutLogEvents", `${lg(LOGS.machine)}:log-stream:x`],
      ["iam:PassRole", role("proxy-router-dev-task"), { "iam:PassedToService": ecs }],
    ],
  );

  const vpc = "vpc-0a1b2c3d4e5f60718";
  const subnets = ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"];
  const sg = "sg-0ccccccccccccccc3";
  matrix(
    "the runner Lambda: the allowlisted services, families, roles, tag parameters and leases only",
    () =>
      runnerLambdaStatements(CTX, {
        environment: "dev",
        tableArn: TABLE,
        targets: TARGETS,
        logGroup: LOGS.runner,
        vpcId: vpc,
        subnetIds: subnets,
        securityGroupId: sg,
      }),
    [
      ["ecs:DescribeServices", TARGETS[0].serviceArn as string],
      ["ecs:UpdateService", TARGETS[0].serviceArn as string],
      ["ecs:UpdateService", TARGETS[1].serviceArn as string],
      ["ecs:DescribeTaskDefinition", "*"],
      ["ecs:RegisterTaskDefinition", arn("ecs", "task-definition/tsk-proxy-router:42")],
      ["ecs:RegisterTaskDefinition", arn("ecs", "task-definition/tsk-market-maker:7")],
      [
        "ecs:TagResource",
        arn("ecs", "task-definition/tsk-proxy-router:42"),
        { "ecs:CreateAction": "RegisterTaskDefinition" },
      ],
      ["iam:PassRole", role("proxy-router-dev-execution"), { "iam:PassedToService": ecs }],
      ["iam:PassRole", role("market-maker-dev-task"), { "iam:PassedToService": ecs }],
      ["ssm:PutParameter", TARGETS[0].imageTagParameterArn as string],
      ["dynamodb:DeleteItem", TABLE, lease],
      ["logs:PutLogEvents", `${lg(LOGS.runner)}:log-stream:2026/12/02/[$LATEST]abc`],
      ["ec2:CreateNetworkInterface", arn("ec2", `subnet/${subnets[0]}`)],
      ["ec2:DeleteNetworkInterface", arn("ec2", "network-interface/eni-0123"), { "ec2:Vpc": arn("ec2", `vpc/${vpc}`) }],
    ],
    [
      ["ecs:UpdateService", svc("ecs-futures-marketplace-dev", "svc-futures-notifications-dev")],
      ["ecs:UpdateService", svc("ecs-proxy-router-stg-use1", "svc-proxy-router-stg-use1")],
      ["ecs:DeleteService", TARGETS[0].serviceArn as string],
      ["ecs:RegisterTaskDefinition", arn("ecs", "task-definition/tsk-futures-notifications:3")],
      ["ecs:DeregisterTaskDefinition", "*"],
      ["ecs:RunTask", arn("ecs", "task-definition/tsk-proxy-router:42")],
      ["ecs:TagResource", arn("ecs", "task-definition/tsk-proxy-router:41")],
      ["ecs:TagResource", TARGETS[0].serviceArn as string, { "ecs:CreateAction": "RegisterTaskDefinition" }],
      ["iam:PassRole", role("futures-notifications-dev-task"), { "iam:PassedToService": ecs }],
      ["iam:PassRole", role("proxy-router-dev-task"), { "iam:PassedToService": "lambda.amazonaws.com" }],
      ["iam:PassRole", role("deploy-runner-dev"), { "iam:PassedToService": ecs }],
      ["ssm:PutParameter", arn("ssm", "parameter/futures-notifications/dev/image-tag")],
      ["ssm:PutParameter", arn("ssm", "parameter/proxy-router/dev/config")],
      ["ssm:GetParameter", TARGETS[0].imageTagParameterArn as string],
      ["dynamodb:DeleteItem", TABLE, { "dynamodb:LeadingKeys": [leasePartitionKey("futures-notifications", "dev")] }],
      ["dynamodb:DeleteItem", TABLE, { "dynamodb:LeadingKeys": ["jti#5f1e0c2a"] }],
      ["dynamodb:PutItem", TABLE, lease],
      ["dynamodb:DeleteItem", arn("dynamodb", "table/other"), lease],
      ["states:StartExecution", STATE_MACHINE],
      ["secretsmanager:GetSecretValue", arn("secretsmanager", "secret:/proxy-router/dev/config-AbCdEf")],
      ["ec2:CreateNetworkInterface", arn("ec2", "subnet/subnet-0ddddddddddddddd4")],
      [
        "ec2:DeleteNetworkInterface",
        arn("ec2", "network-interface/eni-0123"),
        { "ec2:Vpc": arn("ec2", "vpc/vpc-other") },
      ],
    ],
  );

  it("the runner refuses to be built with no target", () =>
    assert.throws(
      () =>
        runnerLambdaStatements(CTX, {
          environment: "dev",
          tableArn: TABLE,
          targets: [],
          logGroup: LOGS.runner,
          vpcId: vpc,
          subnetIds: subnets,
          securityGroupId: sg,
        }),
      /no allowlisted target/,
    ));
});
