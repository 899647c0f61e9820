import { strict as assert } from "node:assert";
import type { Plan } from "../tools/harness";
import {
  GITHUB_ADMIN_ENV,
  GITHUB_ADMIN_TOKEN,
  committedPlan,
  planWith,
  registeredInLastRun,
  resource,
  resourcesOfType,
} from "./support/plan";
import { ConfigError } from "../config/load";
import { environment } from "../lib/environments";
import { GitHubEnvironments, repositoryOf, variableKey } from "../components/github-environments";
import { evaluateProgram } from "./support/policy";

const ENV = "lumerin-infra:github";
const manage = (extra: Record<string, unknown> = {}) => ({
  overrides: { [ENV]: JSON.stringify({ manageEnvironments: true, ...extra }) },
  environment: GITHUB_ADMIN_ENV,
});
const BRANCH = { dev: "dev", stg: "stg", lmn: "main" } as const;
const GITHUB_ENV = { dev: "dev", stg: "stg", lmn: "main" } as const;

function variables(plan: Plan, key: string): Record<string, unknown> {
  return Object.fromEntries(
    resourcesOfType(plan, "github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable")
      .filter((r) => r.name.startsWith(`github-${key}-`))
      .map((r) => [r.inputs.variableName, r.inputs.value]),
  );
}

describe("GitHubEnvironments", () => {
  it("is off unless configured (it needs a GitHub token with admin rights)", async () => {
    for (const stack of ["dev", "stg", "lmn"] as const) {
      assert.equal(
        (await committedPlan(stack)).resources.some((r) => r.type.startsWith("github:")),
        false,
      );
    }
  });

  it("keeps every environment, branch policy and variable in GitHub when a later run stops managing them (retainOnDelete)", async () => {
    const plan = await planWith("stg", manage());
    const managed = plan.resources.filter((r) => r.type.startsWith("github:index/"));
    assert.ok(managed.length > 3, managed.map((r) => r.name).join(", "));
    for (const r of managed) assert.equal(r.options.retainOnDelete, true, r.name);
  });

  for (const stack of ["dev", "stg"] as const) {
    it(`${stack}: each repository's ${GITHUB_ENV[stack]} environment admits only the ${BRANCH[stack]} branch, without reviewers`, async () => {
      const plan = await planWith(stack, manage());
      for (const [key, repo] of [
        ["proxy-router", "proxy-router"],
        ["infra", "lumerin-infra"],
      ]) {
        const environment = resource(plan, "github:index/repositoryEnvironment:RepositoryEnvironment", `github-${key}`);
        assert.equal(environment.inputs.repository, repo);
        assert.equal(environment.inputs.environment, GITHUB_ENV[stack]);
        assert.deepEqual(environment.inputs.deploymentBranchPolicy, {
          protectedBranches: false,
          customBranchPolicies: true,
        });
        assert.equal(environment.inputs.reviewers, undefined);
        const policy = resource(
          plan,
          "github:index/repositoryEnvironmentDeploymentPolicy:RepositoryEnvironmentDeploymentPolicy",
          `github-${key}-branch`,
        );
        assert.deepEqual(
          [policy.inputs.repository, policy.inputs.environment, policy.inputs.branchPattern],
          [repo, GITHUB_ENV[stack], BRANCH[stack]],
        );
        assert.equal(environment.provider, resource(plan, "pulumi:providers:github", "github-provider").urn);
      }
    });
  }

  it("lmn: main admits only the main branch and waits for its reviewers, whom admins cannot bypass", async () => {
    const plan = await planWith(
      "lmn",
      manage({ productionReviewerUsers: [1234567], productionReviewerTeams: [89], productionWaitTimerMinutes: 5 }),
    );
    const environment = resource(
      plan,
      "github:index/repositoryEnvironment:RepositoryEnvironment",
      "github-proxy-router",
    );
    assert.deepEqual(environment.inputs.reviewers, [{ users: [1234567], teams: [89] }]);
    assert.equal(environment.inputs.waitTimer, 5);
    assert.equal(environment.inputs.preventSelfReview, true);
    assert.equal(environment.inputs.canAdminsBypass, false);
    const policy = resource(
      plan,
      "github:index/repositoryEnvironmentDeploymentPolicy:RepositoryEnvironmentDeploymentPolicy",
      "github-proxy-router-branch",
    );
    assert.equal(policy.inputs.branchPattern, "main");
  });

  it("refuses to manage production without a required reviewer", async () => {
    await assert.rejects(
      planWith("lmn", manage()),
      /lumerin-infra:github\.productionReviewerUsers: production's GitHub environment needs at least one required reviewer/,
    );
  });

  it("gives the workflows their role ARN, region, cluster, services in deploy order and image facts as variables, never a credential", async () => {
    const plan = await planWith("stg", manage());
    const vars = variables(plan, "proxy-router");
    assert.deepEqual(vars, {
      AWS_ROLE_ARN: "arn:aws:iam::464450398935:role/github-actions-proxy-router-deploy-stg",
      AWS_REGION: "us-east-1",
      ECS_CLUSTER: "ecs-proxy-router-stg-use1",
      ECS_SERVICES: "svc-proxy-router-stg-use1,svc-proxy-validator-stg-use1",
      // What the image-deploy workflow reads: services in order, each with its container, image,
      // release-tag pattern (the program's own pin check), tag parameter and rollout deadline
      // (stg: 20 minutes to steady state + the 30-minute alarm window + 5).
      ECS_DEPLOY_TARGETS: JSON.stringify(
        ["proxy-router", "proxy-validator"].map((app) => ({
          service: `svc-${app}-stg-use1`,
          container: "proxy-router-container",
          image: "ghcr.io/lumerin-protocol/proxy-router",
          tagPattern: "^(proxy-router-)?v(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)-stg$",
          imageTagParameter: `/${app}/stg/image-tag`,
          rolloutDeadlineMinutes: 55,
        })),
      ),
    });
    assert.deepEqual(variables(plan, "infra"), {
      AWS_REGION: "us-east-1",
      PULUMI_STACK: "stg",
      AWS_ROLE_ARN: "arn:aws:iam::464450398935:role/lumerin-infra-deployer-stg",
    });
    // Previews and drift checks run in no environment: the preview role is a repository variable, one name per stack.
    const repoVars = resourcesOfType(plan, "github:index/actionsVariable:ActionsVariable");
    assert.deepEqual(
      repoVars.map((r) => [r.inputs.repository, r.inputs.variableName, r.inputs.value]),
      [["lumerin-infra", "AWS_PREVIEW_ROLE_ARN_STG", "arn:aws:iam::464450398935:role/lumerin-infra-preview-stg"]],
    );
    assert.equal(
      plan.resources.some((r) => r.type === "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret"),
      false,
      "no GitHub secrets at all",
    );
    assert.deepEqual(
      plan.violations.filter((v) => v.level === "mandatory"),
      [],
    );
  });

  describe("the token (managing environments needs admin rights, which a workflow's GITHUB_TOKEN has not)", () => {
    const managed = JSON.stringify({ manageEnvironments: true });
    it("refuses to plan without one, naming github:token and the permissions, before any resource is registered", async () => {
      const error = await planWith("stg", { overrides: { [ENV]: managed } }).then(
        () => assert.fail("planned without a token"),
        (err: unknown) => err,
      );
      assert.ok(error instanceof ConfigError, String(error));
      const issue = error.issues.find((i) => i.key === "github:token");
      assert.ok(issue, JSON.stringify(error.issues));
      assert.match(issue.message, /lumerin-infra:github\.manageEnvironments is on/);
      assert.match(issue.message, /neither github:token nor GITHUB_ADMIN_TOKEN; GITHUB_TOKEN is never used for this/);
      assert.match(
        issue.message,
        /"Administration: Read and write", "Environments: Read and write" and "Variables: Read and write"/,
      );
      assert.match(issue.message, /a workflow's own GITHUB_TOKEN cannot manage environments/);
      assert.equal(
        registeredInLastRun().some((urn) => urn.includes("github:")),
        false,
      );
    });

    it("takes github:token (a secret) and hands it to the GitHub provider as a secret", async () => {
      const plan = await planWith("stg", {
        ...GITHUB_ADMIN_TOKEN,
        overrides: { ...GITHUB_ADMIN_TOKEN.overrides, [ENV]: managed },
      });
      const provider = plan.resources.find((r) => r.type === "pulumi:providers:github");
      assert.ok(provider, "the plan has the GitHub provider");
      assert.equal(provider.inputs.token, "[secret]");
      assert.ok(provider.secretInputs.includes("token"));
      assert.equal(JSON.stringify(plan).includes("github_pat_offline_placeholder"), false);
    });

    it("takes GITHUB_ADMIN_TOKEN from the environment and hands it to the provider as a secret", async () => {
      const plan = await planWith("stg", manage());
      const provider = plan.resources.find((r) => r.type === "pulumi:providers:github");
      assert.equal(provider?.inputs.token, "[secret]");
      assert.ok(provider?.secretInputs.includes("token"));
    });

    it("never takes the workflow's GITHUB_TOKEN as the admin token", async () => {
      const error = await planWith("stg", {
        overrides: { [ENV]: managed },
        environment: { GITHUB_TOKEN: "ghs_workflow_token_offline" },
      }).then(
        () => assert.fail("planned with the workflow's token"),
        (err: unknown) => err,
      );
      assert.ok(error instanceof ConfigError, String(error));
      assert.ok(error.issues.some((i) => i.key === "github:token"));
    });

    it("refuses github:token in plain text", async () => {
      const error = await planWith("stg", { overrides: { ...GITHUB_ADMIN_TOKEN.overrides, [ENV]: managed } }).then(
        () => assert.fail("planned with a plain-text token"),
        (err: unknown) => err,
      );
      assert.ok(error instanceof ConfigError);
      assert.match(
        error.issues.find((i) => i.key === "github:token")?.message ?? "",
        /holds a secret but is stored in plain text/,
      );
    });
  });
});

describe("GitHubEnvironments' steps", () => {
  const repo = (repository: string) => ({
    key: repository.split("/")[1],
    repository,
    variables: { AWS_REGION: "us-east-1" },
  });

  it("refuses a repository of another owner, naming it and the owner, before registering anything in GitHub (not even the provider or an earlier repository's environment)", async () => {
    let refused: unknown;
    const { plan } = await evaluateProgram([], () => {
      try {
        new GitHubEnvironments("github", {
          env: environment("dev"),
          owner: "Lumerin-protocol",
          repositories: [repo("Lumerin-protocol/proxy-router"), repo("someone-else/proxy-router-fork")],
          productionReviewers: { users: [], teams: [] },
          productionWaitTimerMinutes: 0,
        });
      } catch (err) {
        refused = err;
      }
    });
    assert.match(
      String(refused),
      /someone-else\/proxy-router-fork: GitHub environments are managed for Lumerin-protocol repositories only/,
    );
    assert.deepEqual(
      plan.resources
        .filter((r) => r.type.startsWith("github:") || r.type === "pulumi:providers:github")
        .map((r) => r.name),
      [],
    );
  });

  it("repositoryOf: the name without its owner, the owner compared as GitHub does (case-insensitively)", () => {
    assert.equal(repositoryOf({ repository: "lumerin-PROTOCOL/proxy-router" }, "Lumerin-protocol"), "proxy-router");
    assert.throws(() => repositoryOf({ repository: "other/proxy-router" }, "Lumerin-protocol"), /other\/proxy-router/);
  });

  it("variableKey: a variable's part of a logical name, as the live URNs spell it", () => {
    assert.equal(variableKey("AWS_PREVIEW_ROLE_ARN_DEV"), "aws-preview-role-arn-dev");
  });
});
