/**
 * The deploy runner in the stacks: with `deployRunner.enabled`, the plan holds the
 * invoker, the lease table, the runner and its state machine and their roles; the
 * application repositories' GitHub side can do nothing but invoke the invoker and
 * read the runner's logs; the allowlist is derived from the services the stack runs;
 * and the whole policy pack passes.
 */
import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { runSimulation } from "@cloud-copilot/iam-simulate";
import * as aws from "@pulumi/aws";
import { ConfigError } from "../config/load";
import { AllowlistEntrySchema } from "../lambdas/deploy-invoker/allowlist";
import type { Plan } from "../tools/harness";
import { REPO_ROOT } from "../tools/plan-stack";
import { readStackConfig } from "../tools/stack-files";
import { CommittedStack, STACK_ACCOUNTS, resourceOf, resourcesOf } from "./support/fixtures";
import { GITHUB_ADMIN_ENV, LMN_DNS_CONFIGURED, configError, doc, planWith, resource } from "./support/plan";

const NS = "lumerin-infra";
/** Stand-ins for the application repositories' immutable ids (`gh api repos/OWNER/REPO --jq .id,.owner.id`). */
const IDS = {
  proxyRouter: { ownerId: 61234567, repositoryId: 712345678 },
  futures: { ownerId: 61234567, repositoryId: 812345678 },
} as const;
const WORKFLOWS = { proxyRouter: ".github/workflows/deploy.yml", futures: ".github/workflows/deploy-services.yml" };

/** The stack file's deploy identity with the application repositories' ids added. */
function deployIdentityWithIds(stack: CommittedStack): string {
  const committed = JSON.parse(readStackConfig(REPO_ROOT, stack).config[`${NS}:deployIdentity`] ?? "{}") as Record<
    string,
    Record<string, unknown>
  >;
  return JSON.stringify({
    ...committed,
    proxyRouter: { ...committed.proxyRouter, ...IDS.proxyRouter },
    futures: { ...committed.futures, ...IDS.futures },
  });
}

function runnerOn(stack: CommittedStack): Record<string, string> {
  return {
    [`${NS}:deployRunner`]: JSON.stringify({
      enabled: true,
      callers: { proxyRouter: { workflow: WORKFLOWS.proxyRouter }, futures: { workflow: WORKFLOWS.futures } },
    }),
    [`${NS}:deployIdentity`]: deployIdentityWithIds(stack),
    [`${NS}:github`]: JSON.stringify({ manageEnvironments: true, productionReviewerUsers: [1234567] }),
    ...(stack === "lmn" ? { [`${NS}:dns`]: LMN_DNS_CONFIGURED } : {}),
  };
}

function runnerPlan(stack: CommittedStack): Promise<Plan> {
  return planWith(stack, { overrides: runnerOn(stack), environment: GITHUB_ADMIN_ENV });
}

async function allowed(policy: unknown, account: string, action: string, resourceArn: string): Promise<boolean> {
  const result = await runSimulation(
    {
      request: {
        principal: `arn:aws:iam::${account}:role/github-actions-deploy-runner`,
        action,
        resource: { resource: resourceArn, accountId: account },
        contextVariables: {},
      },
      identityPolicies: [{ name: "p", policy: JSON.parse(JSON.stringify(policy)) }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    {},
  );
  assert.equal(result.resultType, "single");
  return result.resultType === "single" && result.overallResult === "Allowed";
}

/** The value of a GitHub environment variable the plan sets in a repository's environment. */
function variable(plan: Plan, name: string, repository: string): string | undefined {
  const found = plan.resources.find(
    (r) =>
      r.type === "github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable" &&
      r.inputs.variableName === name &&
      r.inputs.repository === repository,
  );
  return found ? String(found.inputs.value) : undefined;
}

describe("the deploy runner in the stacks (deployRunner.enabled)", function () {
  this.timeout(120_000);
  const plans: Partial<Record<CommittedStack, Plan>> = {};
  before(async () => {
    for (const stack of ["dev", "stg", "lmn"] as const) plans[stack] = await runnerPlan(stack);
  });
  const plan = (stack: CommittedStack): Plan => plans[stack] as Plan;

  it("is off in every committed stack file", async () => {
    for (const stack of ["dev", "stg", "lmn"] as const) {
      const committed = readStackConfig(REPO_ROOT, stack).config[`${NS}:deployRunner`];
      assert.deepEqual(JSON.parse(committed ?? "{}"), { enabled: false }, `Pulumi.${stack}.yaml says so`);
    }
  });

  it("plans the invoker, the lease table, the runner, its state machine and their roles", () => {
    for (const stack of ["dev", "stg", "lmn"] as const) {
      const p = plan(stack);
      assert.equal(resourceOf(p, aws.dynamodb.Table, "deploy-runner-table").inputs.name, `deploy-runner-${stack}`);
      const functions = resourcesOf(p, aws.lambda.Function).map((f) => f.inputs.name);
      assert.ok(functions.includes(`deploy-invoker-${stack}`) && functions.includes(`deploy-runner-${stack}`));
      assert.ok(resourcesOf(p, aws.sfn.StateMachine).some((m) => m.inputs.name === `deploy-runner-${stack}`));
      const roles = resourcesOf(p, aws.iam.Role).map((r) => r.inputs.name);
      assert.ok(roles.includes(`github-actions-deploy-runner-${stack}`), roles.join(", "));
    }
  });

  it("passes the whole policy pack in every stack (no mandatory violation)", () => {
    for (const stack of ["dev", "stg", "lmn"] as const) {
      const mandatory = plan(stack).violations.filter((v) => v.level === "mandatory");
      assert.deepEqual(
        mandatory.map((v) => `${v.policy}: ${v.urn}: ${v.message}`),
        [],
      );
    }
  });

  it("derives the allowlist from the services the stack runs: one entry per ECS service, bound to its repository's ids and workflow", () => {
    for (const stack of ["dev", "lmn"] as const) {
      const p = plan(stack);
      const invoker = resourcesOf(p, aws.lambda.Function).find((f) => f.inputs.name === `deploy-invoker-${stack}`);
      const variables = invoker?.inputs.environment?.variables ?? {};
      const entries = (JSON.parse(String(variables.ALLOWLIST)) as unknown[]).map((e) => AllowlistEntrySchema.parse(e));
      // The committed stacks run the market maker as a Lambda: its code is uploaded, not deployed by the runner.
      assert.deepEqual(
        entries.map((e) => e.app),
        ["proxy-router", "proxy-validator", "notifications"],
      );
      const branch = stack === "lmn" ? "main" : stack;
      for (const e of entries) {
        const key = e.app === "notifications" ? "futures" : "proxyRouter";
        assert.equal(e.environment, stack);
        assert.equal(e.repositoryId, String(IDS[key].repositoryId));
        assert.equal(e.repositoryOwnerId, String(IDS[key].ownerId));
        assert.equal(e.ref, `refs/heads/${branch}`);
        assert.equal(e.githubEnvironment, branch);
        assert.equal(e.workflowRef, `${e.repository}/${WORKFLOWS[key]}@refs/heads/${branch}`);
        assert.equal(
          e.jobWorkflowRef,
          "Lumerin-protocol/lumerin-infra/.github/workflows/image-deploy.yml@refs/heads/main",
        );
      }
      const router = entries.find((e) => e.app === "proxy-router");
      assert.equal(router?.repository, "Lumerin-protocol/proxy-router");
      assert.equal(router?.target.cluster, `ecs-proxy-router-${stack}-use1`);
      assert.equal(router?.target.tagParameter, `/proxy-router/${stack}/image-tag`);
      assert.equal(variables.OIDC_AUDIENCE, `lumerin-deploy-invoker-${stack}`);
    }
  });

  it("the application repositories' GitHub role may only invoke the invoker and read the runner's logs", async () => {
    const stack = "dev";
    const account = STACK_ACCOUNTS[stack];
    const policy = doc(
      resource(plan(stack), "aws:iam/rolePolicy:RolePolicy", "deploy-runner-github-policy").inputs.policy,
    );
    const lambda = (name: string) => `arn:aws:lambda:us-east-1:${account}:function:${name}`;
    const logGroup = (name: string) => `arn:aws:logs:us-east-1:${account}:log-group:${name}`;
    assert.equal(await allowed(policy, account, "lambda:InvokeFunction", lambda("deploy-invoker-dev")), true);
    assert.equal(
      await allowed(policy, account, "logs:FilterLogEvents", logGroup("/aws/lambda/deploy-runner-dev")),
      true,
    );
    const mayNot: [string, string][] = [
      ["lambda:InvokeFunction", lambda("deploy-runner-dev")],
      ["lambda:UpdateFunctionCode", lambda("deploy-invoker-dev")],
      [
        "ecs:UpdateService",
        `arn:aws:ecs:us-east-1:${account}:service/ecs-proxy-router-dev-use1/svc-proxy-router-dev-use1`,
      ],
      ["ecs:RegisterTaskDefinition", `arn:aws:ecs:us-east-1:${account}:task-definition/tsk-proxy-router:1`],
      ["iam:PassRole", `arn:aws:iam::${account}:role/proxy-router-dev-execution`],
      ["states:StartExecution", `arn:aws:states:us-east-1:${account}:stateMachine:deploy-runner-dev`],
      ["ssm:PutParameter", `arn:aws:ssm:us-east-1:${account}:parameter/proxy-router/dev/image-tag`],
      ["logs:FilterLogEvents", logGroup("/ecs/futures-notifications-dev")],
      ["dynamodb:DeleteItem", `arn:aws:dynamodb:us-east-1:${account}:table/deploy-runner-dev`],
    ];
    for (const [action, arn] of mayNot)
      assert.equal(await allowed(policy, account, action, arn), false, `${action} on ${arn}`);
  });

  it("takes the ECS deploys from the repositories' own roles: proxy-router has none left, futures keeps its site and Lambdas only", async () => {
    const p = plan("dev");
    const roles = resourcesOf(p, aws.iam.Role).map((r) => r.inputs.name);
    assert.ok(!roles.includes("github-actions-proxy-router-deploy-dev"), "the proxy-router deploy role is gone");
    assert.ok(roles.includes("github-actions-futures-v3-dev"), "the futures deploy role stays (UI, Lambdas)");
    const policy = doc(resource(p, "aws:iam/rolePolicy:RolePolicy", "deploy-futures-policy").inputs.policy);
    const actions = policy.Statement.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
    assert.ok(!actions.some((a) => a.startsWith("ecs:")), `no ECS action left: ${actions.join(", ")}`);
    assert.ok(actions.includes("lambda:UpdateFunctionCode") && actions.some((a) => a.startsWith("s3:")));
  });

  it("gives each repository's GitHub environment DEPLOY_RUNNER (no AWS_ROLE_ARN where the runner deploys everything)", () => {
    for (const stack of ["dev", "lmn"] as const) {
      const p = plan(stack);
      const raw = variable(p, "DEPLOY_RUNNER", "proxy-router");
      assert.ok(raw, "the proxy-router environment has DEPLOY_RUNNER");
      const settings = JSON.parse(raw) as Record<string, unknown>;
      assert.deepEqual(Object.keys(settings).sort(), [
        "apps",
        "audience",
        "deadlineMinutes",
        "environment",
        "invokerFunction",
        "region",
        "roleArn",
        "runnerLogGroup",
        "stateMachineLogGroup",
      ]);
      assert.equal(settings.environment, stack);
      assert.equal(settings.invokerFunction, `deploy-invoker-${stack}`);
      assert.equal(settings.audience, `lumerin-deploy-invoker-${stack}`);
      assert.deepEqual(settings.apps, {
        [`svc-proxy-router-${stack}-use1`]: "proxy-router",
        [`svc-proxy-validator-${stack}-use1`]: "proxy-validator",
      });
      assert.equal(variable(p, "AWS_ROLE_ARN", "proxy-router"), undefined);
      assert.ok(variable(p, "ECS_DEPLOY_TARGETS", "proxy-router"), "the workflow's tag checks still read the targets");
      const futures = JSON.parse(variable(p, "DEPLOY_RUNNER", "futures-marketplace") ?? "{}") as { apps?: unknown };
      assert.deepEqual(futures.apps, { [`svc-futures-notifications-${stack}`]: "notifications" });
      assert.ok(
        variable(p, "AWS_ROLE_ARN", "futures-marketplace"),
        "futures keeps its role for the UI and the Lambdas",
      );
    }
  });

  it("sets every variable image-deploy reads, but the direct path's role, where the runner deploys everything", () => {
    const workflow = readFileSync(path.join(REPO_ROOT, ".github", "workflows", "image-deploy.yml"), "utf8");
    const read = new Set([...workflow.matchAll(/vars\.([A-Z_]+)/g)].map((m) => m[1]));
    assert.ok(read.has("DEPLOY_RUNNER") && read.has("AWS_ROLE_ARN"));
    for (const stack of ["dev", "stg", "lmn"] as const)
      for (const name of [...read].filter((v) => v !== "AWS_ROLE_ARN"))
        assert.ok(variable(plan(stack), name, "proxy-router"), `${stack}: image-deploy reads vars.${name}`);
  });

  it("refuses a monitoring window whose rollout deadline the runner cannot wait for, naming the key, before any resource", async () => {
    const { [`${NS}:github`]: _github, ...withoutGithub } = runnerOn("dev");
    const monitoring = JSON.parse(readStackConfig(REPO_ROOT, "dev").config[`${NS}:monitoring`] ?? "{}") as object;
    const error: ConfigError = await configError("dev", {
      ...withoutGithub,
      [`${NS}:monitoring`]: JSON.stringify({ ...monitoring, unhealthyWindowMinutes: 240 }),
    });
    const issue = error.issues.find((i) => i.key === `${NS}:monitoring.unhealthyWindowMinutes`);
    assert.match(issue?.message ?? "", /makes a rollout's deadline \d+ minutes, over the deploy runner's 180/);
  });

  it("refuses the runner without a repository's caller workflow or immutable ids, naming each key, before any resource", async () => {
    const { [`${NS}:github`]: _github, ...withoutGithub } = runnerOn("dev");
    const overrides = {
      ...withoutGithub,
      [`${NS}:deployRunner`]: JSON.stringify({ enabled: true, callers: { futures: { workflow: WORKFLOWS.futures } } }),
      [`${NS}:deployIdentity`]: readStackConfig(REPO_ROOT, "dev").config[`${NS}:deployIdentity`],
    };
    const error: ConfigError = await configError("dev", overrides);
    const keys = error.issues.map((i) => i.key).sort();
    assert.deepEqual(keys, [
      `${NS}:deployIdentity.futures.ownerId`,
      `${NS}:deployIdentity.futures.repositoryId`,
      `${NS}:deployIdentity.proxyRouter.ownerId`,
      `${NS}:deployIdentity.proxyRouter.repositoryId`,
      `${NS}:deployRunner.callers.proxyRouter.workflow`,
    ]);
    assert.match(
      error.issues.find((i) => i.key.endsWith("proxyRouter.workflow"))?.message ?? "",
      /the workflow of Lumerin-protocol\/proxy-router that calls image-deploy/,
    );
  });
});
