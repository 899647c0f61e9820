import { strict as assert } from "node:assert";
import { runSimulation } from "@cloud-copilot/iam-simulate";
import * as pulumi from "@pulumi/pulumi";
import { DeployRunner, DeployRunnerArgs, DeployRunnerApp } from "../components/deploy-runner";
import { EnvironmentName, environment } from "../lib/environments";
import type { AllowlistEntry } from "../lambdas/deploy-invoker/allowlist";
import { runnerDefinition, runnerTimeoutSeconds } from "../lambdas/deploy-runner/state-machine";
import { RULES } from "../policy/rules";
import type { Plan } from "../tools/harness";
import { ACCOUNT, REGION, evaluateProgram } from "./support/policy";
import { doc, resource, resourcesOfType } from "./support/plan";

const T = {
  component: "lumerin:deploy:DeployRunner",
  table: "aws:dynamodb/table:Table",
  fn: "aws:lambda/function:Function",
  role: "aws:iam/role:Role",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  logGroup: "aws:cloudwatch/logGroup:LogGroup",
  sg: "aws:ec2/securityGroup:SecurityGroup",
  egress: "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
  ingress: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
  machine: "aws:sfn/stateMachine:StateMachine",
} as const;

const arn = (service: string, resource: string) => `arn:aws:${service}:${REGION}:${ACCOUNT}:${resource}`;
const PROVIDER = `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com`;
const GITHUB_ENV: Record<EnvironmentName, string> = { dev: "dev", stg: "stg", lmn: "main" };

function entry(env: EnvironmentName, over: Partial<AllowlistEntry> = {}): AllowlistEntry {
  const ref = env === "lmn" ? "refs/heads/main" : `refs/heads/${env}`;
  return {
    app: "proxy-router",
    environment: env,
    repository: "Lumerin-protocol/proxy-router",
    repositoryId: "540012345",
    repositoryOwnerId: "61234567",
    ref,
    githubEnvironment: GITHUB_ENV[env],
    workflowRef: `Lumerin-protocol/proxy-router/.github/workflows/release.yml@${ref}`,
    jobWorkflowRef: `Lumerin-protocol/lumerin-infra/.github/workflows/image-deploy.yml@refs/heads/main`,
    tagPrefix: "",
    target: {
      cluster: `ecs-proxy-router-${env}-use1`,
      service: `svc-proxy-router-${env}-use1`,
      container: "proxy-router-container",
      imageRepository: "ghcr.io/lumerin-protocol/proxy-router",
      tagParameter: `/proxy-router/${env}/image-tag`,
    },
    ...over,
  };
}

function app(env: EnvironmentName, over: Partial<AllowlistEntry> = {}): DeployRunnerApp {
  const e = entry(env, over);
  const name = e.app;
  return {
    entry: e,
    service: {
      serviceArn: arn("ecs", `service/${e.target.cluster}/${e.target.service}`),
      taskFamily: `tsk-${name}`,
      executionRoleArn: `arn:aws:iam::${ACCOUNT}:role/${name}-${env}-execution`,
      taskRoleArn: `arn:aws:iam::${ACCOUNT}:role/${name}-${env}-task`,
      imageTagParameterArn: arn("ssm", `parameter${e.target.tagParameter}`),
    },
  };
}

const code = (text: string) => new pulumi.asset.AssetArchive({ "index.js": new pulumi.asset.StringAsset(text) });

function args(env: EnvironmentName, over: Partial<DeployRunnerArgs> = {}): DeployRunnerArgs {
  return {
    aws: { accountId: ACCOUNT, region: REGION, partition: "aws" },
    env: environment(env),
    network: {
      vpcId: "vpc-0a1b2c3d4e5f60718",
      privateSubnetIds: ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"],
    },
    apps: [
      app(env),
      app(env, {
        app: "proxy-validator",
        target: {
          ...entry(env).target,
          service: `svc-proxy-validator-${env}-use1`,
          tagParameter: `/proxy-validator/${env}/image-tag`,
        },
      }),
    ],
    callers: [{ repository: "Lumerin-protocol/proxy-router" }],
    oidcProviderArn: PROVIDER,
    invokerCode: code("exports.handler = async () => ({ decision: 'denied' });"),
    runnerCode: code("exports.handler = async () => ({});"),
    ...over,
  };
}

interface Planned {
  readonly plan: Plan;
  readonly mandatory: string[];
  readonly outputs: Record<string, unknown>;
}

async function planned(env: EnvironmentName, over: Partial<DeployRunnerArgs> = {}): Promise<Planned> {
  const { plan, violations } = await evaluateProgram(
    RULES,
    () => {
      const runner = new DeployRunner("deploy-runner", args(env, over));
      return {
        invokerFunctionName: runner.invokerFunctionName,
        invokerFunctionArn: runner.invokerFunctionArn,
        githubRoleArn: runner.githubRoleArn,
        invokerAudience: runner.invokerAudience,
        stateMachineArn: runner.stateMachineArn,
        tableName: runner.tableName,
        runnerLogGroupNames: runner.runnerLogGroupNames,
        invokerLogGroupName: runner.invokerLogGroupName,
      };
    },
    { stack: env },
  );
  return {
    plan,
    mandatory: violations.filter((v) => v.level === "mandatory").map((v) => `${v.policy}: ${v.message}`),
    outputs: plan.outputs,
  };
}

async function simulate(policy: unknown, action: string, resourceArn: string, context: Record<string, string> = {}) {
  const result = await runSimulation(
    {
      request: {
        principal: `arn:aws:iam::${ACCOUNT}:role/x`,
        action,
        resource: { resource: resourceArn, accountId: ACCOUNT },
        contextVariables: context,
      },
      identityPolicies: [{ name: "p", policy: policy as never }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    {},
  );
  return result.resultType === "single" && result.overallResult === "Allowed";
}

describe("DeployRunner component", () => {
  const plans = {} as Record<EnvironmentName, Planned>;
  before(async () => {
    for (const env of ["dev", "stg", "lmn"] as const) plans[env] = await planned(env);
  });

  for (const env of ["dev", "stg", "lmn"] as const)
    it(`${env}: passes the whole policy pack (no mandatory violation)`, () =>
      assert.deepEqual(plans[env].mandatory, []));

  it("every part is a child of the component", () => {
    const { plan } = plans.dev;
    const component = plan.resources.find((r) => r.type === T.component);
    assert.ok(component);
    const children = plan.resources.filter((r) => r.custom);
    assert.ok(children.length >= 15, String(children.length));
    for (const r of children) assert.equal(r.parent, component!.urn, r.name);
  });

  it("the lease table: pay per request, key pk, TTL on expiresAt, SSE, point-in-time recovery; protected in production", () => {
    for (const env of ["dev", "lmn"] as const) {
      const t = resource(plans[env].plan, T.table, "deploy-runner-table");
      assert.equal(t.inputs.name, `deploy-runner-${env}`);
      assert.equal(t.inputs.billingMode, "PAY_PER_REQUEST");
      assert.equal(t.inputs.hashKey, "pk");
      assert.deepEqual(t.inputs.attributes, [{ name: "pk", type: "S" }]);
      assert.deepEqual(t.inputs.ttl, { attributeName: "expiresAt", enabled: true });
      assert.deepEqual(t.inputs.serverSideEncryption, { enabled: true });
      assert.deepEqual(t.inputs.pointInTimeRecovery, { enabled: true });
      assert.equal(t.options.protect, env === "lmn");
      assert.equal(t.inputs.deletionProtectionEnabled, env === "lmn");
    }
  });

  it("the runner Lambda: private subnets, its own security group with HTTPS out only, its log group", () => {
    const { plan } = plans.dev;
    const fn = resource(plan, T.fn, "deploy-runner-runner");
    const sg = resource(plan, T.sg, "deploy-runner-runner-sg");
    assert.equal(fn.inputs.name, "deploy-runner-dev");
    assert.equal(fn.inputs.runtime, "nodejs24.x");
    assert.deepEqual((fn.inputs.vpcConfig as { subnetIds: string[] }).subnetIds, args("dev").network.privateSubnetIds);
    assert.deepEqual((fn.inputs.vpcConfig as { securityGroupIds: string[] }).securityGroupIds, [sg.id]);
    assert.equal((fn.inputs.loggingConfig as { logGroup: string }).logGroup, "/aws/lambda/deploy-runner-dev");
    const rules = resourcesOfType(plan, T.egress).filter((r) => r.inputs.securityGroupId === sg.id);
    assert.deepEqual(
      rules.map((r) => [r.inputs.ipProtocol, r.inputs.fromPort, r.inputs.toPort, r.inputs.cidrIpv4]),
      [["tcp", 443, 443, "0.0.0.0/0"]],
    );
    assert.deepEqual(resourcesOfType(plan, T.ingress), []);
    assert.equal(fn.inputs.environment, undefined);
  });

  it("the state machine: standard, the runner's definition for this function, logging ALL without execution data", () => {
    const { plan } = plans.dev;
    const machine = resource(plan, T.machine, "deploy-runner-state-machine");
    const runnerArn = String(resource(plan, T.fn, "deploy-runner-runner").outputs.arn);
    assert.equal(machine.inputs.type, "STANDARD");
    assert.deepEqual(
      JSON.parse(String(machine.inputs.definition)),
      runnerDefinition({ runnerFunctionArn: runnerArn, deadlineMinutes: 30 }),
    );
    assert.equal(JSON.parse(String(machine.inputs.definition)).TimeoutSeconds, runnerTimeoutSeconds(30));
    const logging = machine.inputs.loggingConfiguration as Record<string, unknown>;
    assert.equal(logging.level, "ALL");
    assert.equal(logging.includeExecutionData, false);
    const group = resource(plan, T.logGroup, "deploy-runner-state-machine-logs");
    assert.equal(logging.logDestination, `${group.outputs.arn}:*`);
    assert.equal(group.inputs.name, "/aws/vendedlogs/states/deploy-runner-dev");
  });

  it("the invoker: outside the VPC, its settings in the environment (the allowlist as its schema has it)", () => {
    const { plan } = plans.dev;
    const fn = resource(plan, T.fn, "deploy-runner-invoker");
    assert.equal(fn.inputs.vpcConfig, undefined);
    const vars = (fn.inputs.environment as { variables: Record<string, string> }).variables;
    assert.deepEqual(
      JSON.parse(vars.ALLOWLIST),
      args("dev").apps.map((a) => a.entry),
    );
    assert.equal(vars.OIDC_AUDIENCE, "lumerin-deploy-invoker-dev");
    assert.equal(vars.DEPLOY_ENVIRONMENT, "dev");
    assert.equal(vars.TABLE_NAME, "deploy-runner-dev");
    assert.equal(vars.STATE_MACHINE_ARN, resource(plan, T.machine, "deploy-runner-state-machine").outputs.arn);
    assert.equal(vars.RUNNER_LOG_GROUP, "/aws/lambda/deploy-runner-dev");
    assert.equal(vars.STATE_MACHINE_LOG_GROUP, "/aws/vendedlogs/states/deploy-runner-dev");
    assert.deepEqual(Object.keys(vars).sort(), [
      "ALLOWLIST",
      "DEADLINE_MINUTES",
      "DEPLOY_ENVIRONMENT",
      "LEASE_MINUTES",
      "OIDC_AUDIENCE",
      "RUNNER_LOG_GROUP",
      "STATE_MACHINE_ARN",
      "STATE_MACHINE_LOG_GROUP",
      "TABLE_NAME",
    ]);
    assert.equal(vars.DEADLINE_MINUTES, "30");
    assert.equal(vars.LEASE_MINUTES, "45");
  });

  it("the GitHub runner role trusts exactly the callers' environment subject, with the STS audience", () => {
    for (const env of ["dev", "lmn"] as const) {
      const role = resource(plans[env].plan, T.role, "deploy-runner-github-role");
      assert.equal(role.inputs.name, `github-actions-deploy-runner-${env}`);
      // As long as the image-deploy job, which follows the executions of one run in turn.
      assert.equal(role.inputs.maxSessionDuration, 6 * 3600);
      const [s, ...rest] = doc(role.inputs.assumeRolePolicy).Statement;
      assert.equal(rest.length, 0);
      assert.equal((s.Principal as { Federated: string }).Federated, PROVIDER);
      assert.deepEqual(s.Condition, {
        StringEquals: {
          "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
          "token.actions.githubusercontent.com:sub": [
            `repo:Lumerin-protocol/proxy-router:environment:${GITHUB_ENV[env]}`,
          ],
        },
      });
    }
  });

  it("the GitHub runner role, as planned: invoke the planned invoker and read the two runner log groups only", async () => {
    const { plan } = plans.dev;
    const policy = doc(resource(plan, T.rolePolicy, "deploy-runner-github-policy").inputs.policy);
    const invoker = String(resource(plan, T.fn, "deploy-runner-invoker").outputs.arn);
    const runner = String(resource(plan, T.fn, "deploy-runner-runner").outputs.arn);
    const lg = (n: string) => arn("logs", `log-group:${n}`);
    assert.equal(await simulate(policy, "lambda:InvokeFunction", invoker), true);
    assert.equal(await simulate(policy, "logs:FilterLogEvents", lg("/aws/lambda/deploy-runner-dev")), true);
    assert.equal(await simulate(policy, "logs:FilterLogEvents", lg("/aws/vendedlogs/states/deploy-runner-dev")), true);
    assert.equal(await simulate(policy, "logs:FilterLogEvents", lg("/aws/lambda/deploy-invoker-dev")), false);
    assert.equal(await simulate(policy, "lambda:InvokeFunction", runner), false);
    const machine = String(resource(plan, T.machine, "deploy-runner-state-machine").outputs.arn);
    assert.equal(await simulate(policy, "states:StartExecution", machine), false);
    assert.equal(await simulate(policy, "ecs:UpdateService", String(args("dev").apps[0].service.serviceArn)), false);
  });

  it("the runner's role, as planned: the allowlisted services only; the state machine's: the runner only", async () => {
    const { plan } = plans.dev;
    const runnerPolicy = doc(resource(plan, T.rolePolicy, "deploy-runner-runner-policy").inputs.policy);
    const services = args("dev").apps.map((a) => String(a.service.serviceArn));
    for (const s of services) assert.equal(await simulate(runnerPolicy, "ecs:UpdateService", s), true, s);
    assert.equal(
      await simulate(
        runnerPolicy,
        "ecs:UpdateService",
        arn("ecs", "service/ecs-futures-marketplace-dev/svc-market-maker-dev"),
      ),
      false,
    );
    const machinePolicy = doc(resource(plan, T.rolePolicy, "deploy-runner-state-machine-policy").inputs.policy);
    const runner = String(resource(plan, T.fn, "deploy-runner-runner").outputs.arn);
    const invoker = String(resource(plan, T.fn, "deploy-runner-invoker").outputs.arn);
    assert.equal(await simulate(machinePolicy, "lambda:InvokeFunction", runner), true);
    assert.equal(await simulate(machinePolicy, "lambda:InvokeFunction", invoker), false);
    const invokerPolicy = doc(resource(plan, T.rolePolicy, "deploy-runner-invoker-policy").inputs.policy);
    const machine = String(resource(plan, T.machine, "deploy-runner-state-machine").outputs.arn);
    assert.equal(await simulate(invokerPolicy, "states:StartExecution", machine), true);
    assert.equal(
      await simulate(
        invokerPolicy,
        "states:StartExecution",
        arn("states", "stateMachine:futures-notifications-redeploy-dev"),
      ),
      false,
    );
  });

  it("exposes the invoker, the GitHub role, the audience, the table and the log groups", () => {
    const { outputs, plan } = plans.dev;
    assert.equal(outputs.invokerFunctionName, "deploy-invoker-dev");
    assert.equal(outputs.invokerFunctionArn, resource(plan, T.fn, "deploy-runner-invoker").outputs.arn);
    assert.equal(outputs.githubRoleArn, `arn:aws:iam::${ACCOUNT}:role/github-actions-deploy-runner-dev`);
    assert.equal(outputs.invokerAudience, "lumerin-deploy-invoker-dev");
    assert.equal(outputs.tableName, "deploy-runner-dev");
    assert.deepEqual(outputs.runnerLogGroupNames, [
      "/aws/lambda/deploy-runner-dev",
      "/aws/vendedlogs/states/deploy-runner-dev",
    ]);
    assert.equal(outputs.invokerLogGroupName, "/aws/lambda/deploy-invoker-dev");
  });

  describe("bad arguments fail before any resource, naming the field", () => {
    const cases: [string, Partial<DeployRunnerArgs>, RegExp][] = [
      ["no apps", { apps: [] }, /apps: the deploy runner needs at least one app/],
      [
        "an entry without its repository id",
        { apps: [app("dev", { repositoryId: "" })] },
        /apps\[0\]\.entry\.repositoryId: repositoryId is required/,
      ],
      [
        "an entry without a target service",
        { apps: [app("dev", { target: { ...entry("dev").target, service: "" } })] },
        /apps\[0\]\.entry\.target\.service: service is required/,
      ],
      [
        "an entry of another environment",
        { apps: [app("dev", { environment: "stg" })] },
        /environment stg is not this stack's \(dev\)/,
      ],
      ["the same app twice", { apps: [app("dev"), app("dev")] }, /apps\[1\]: app proxy-router is listed twice/],
      [
        "a caller that deploys no app",
        {
          callers: [
            { repository: "Lumerin-protocol/proxy-router" },
            { repository: "Lumerin-protocol/futures-marketplace" },
          ],
        },
        /callers\[1\]: Lumerin-protocol\/futures-marketplace \(environment dev\) deploys no app/,
      ],
      [
        "a caller in another GitHub environment",
        { callers: [{ repository: "Lumerin-protocol/proxy-router", environment: "stg" }] },
        /callers\[0\]: .*environment stg\) deploys no app.*app proxy-router: its repository .* is not among the callers/,
      ],
      [
        "caller ids that differ from the entry's",
        { callers: [{ repository: "Lumerin-protocol/proxy-router", ids: { ownerId: 61234567, repositoryId: 1 } }] },
        /callers\[0\]: Lumerin-protocol\/proxy-router's ids differ/,
      ],
      [
        "a lease shorter than the execution",
        { leaseMinutes: 32 },
        /leaseMinutes 32 must outlast the execution's timeout \(1920 s/,
      ],
      ["a fractional deadline", { deadlineMinutes: 1.5 }, /deadlineMinutes 1.5 must be a whole number from 1 to 180/],
      [
        "a deadline over three hours",
        { deadlineMinutes: 181, leaseMinutes: 240 },
        /deadlineMinutes 181 must be a whole number from 1 to 180/,
      ],
    ];
    for (const [name, over, error] of cases)
      it(name, async () => {
        let registered = 0;
        await assert.rejects(
          evaluateProgram([], () => {
            pulumi.runtime.registerStackTransformation(() => {
              registered++;
              return undefined;
            });
            new DeployRunner("deploy-runner", args("dev", over));
          }),
          error,
        );
        assert.equal(registered, 0);
      });

    it("an allowlist over Lambda's 4 KB environment", async () => {
      const many = Array.from({ length: 12 }, (_, i) =>
        app("dev", { app: `app-${i}`, target: { ...entry("dev").target, service: `svc-app-${i}-dev` } }),
      );
      let registered = 0;
      await assert.rejects(
        evaluateProgram([], () => {
          pulumi.runtime.registerStackTransformation(() => void registered++);
          new DeployRunner("deploy-runner", args("dev", { apps: many }));
        }),
        /deploy invoker configuration: the environment variables take \d+ bytes, over Lambda's 4096 \(ALLOWLIST takes \d+\)/,
      );
      assert.equal(registered, 0);
    });
  });
});
