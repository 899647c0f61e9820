import { strict as assert } from "node:assert";
import { runSimulation } from "@cloud-copilot/iam-simulate";
import { conditionsMatch } from "../lib/iam-conditions";
import type { Plan } from "../tools/harness";
import { committedPlan, doc, planWith, resource, resourcesOfType } from "./support/plan";
import { evaluateProgram } from "./support/policy";
import { DeployIdentity, previewScope, previewStatements } from "../components/deploy-identity";
import { environment } from "../lib/environments";
import { stateReadObjects } from "../lib/pulumi-state";
import { STACK_ACCOUNTS } from "./support/fixtures";

const ACCOUNTS = STACK_ACCOUNTS;
const GITHUB_ENV = { dev: "dev", stg: "stg", lmn: "main" } as const;
const STACKS = ["dev", "stg", "lmn"] as const;
const HOST = "token.actions.githubusercontent.com";

type Stack = (typeof STACKS)[number];

/** Whether a token with these claims may assume the role, evaluated as STS does (not by comparing strings). */
function mayAssume(plan: Plan, claims: { sub?: string; aud?: string }, providerArn: string): boolean {
  const trust = doc(resource(plan, "aws:iam/role:Role", "deploy-proxy-router-role").inputs.assumeRolePolicy);
  return trust.Statement.some(
    (s) =>
      s.Effect === "Allow" &&
      s.Action === "sts:AssumeRoleWithWebIdentity" &&
      (s.Principal as { Federated?: string }).Federated === providerArn &&
      conditionsMatch(s.Condition, { [`${HOST}:sub`]: claims.sub, [`${HOST}:aud`]: claims.aud }),
  );
}

describe("DeployIdentity", () => {
  const plans = {} as Record<Stack, Plan>;
  before(async () => {
    for (const stack of STACKS) plans[stack] = await committedPlan(stack);
  });

  describe("trust matrix: only the environment's GitHub environment of Lumerin-protocol/proxy-router", () => {
    for (const stack of STACKS) {
      const provider = `arn:aws:iam::${ACCOUNTS[stack]}:oidc-provider/${HOST}`;
      const own = `repo:Lumerin-protocol/proxy-router:environment:${GITHUB_ENV[stack]}`;
      const others = STACKS.filter((s) => s !== stack).map(
        (s) => `repo:Lumerin-protocol/proxy-router:environment:${GITHUB_ENV[s]}`,
      );
      const denied: [string, { sub?: string; aud?: string }][] = [
        ...others.map((sub): [string, { sub: string; aud: string }] => [
          `another environment (${sub.split(":").pop()})`,
          { sub, aud: "sts.amazonaws.com" },
        ]),
        [
          "the environment's branch without the GitHub environment",
          {
            sub: `repo:Lumerin-protocol/proxy-router:ref:refs/heads/${stack === "lmn" ? "main" : stack}`,
            aud: "sts.amazonaws.com",
          },
        ],
        ["a pull request", { sub: "repo:Lumerin-protocol/proxy-router:pull_request", aud: "sts.amazonaws.com" }],
        ["a tag", { sub: "repo:Lumerin-protocol/proxy-router:ref:refs/tags/v3.2.1", aud: "sts.amazonaws.com" }],
        [
          "another repository of the owner",
          {
            sub: `repo:Lumerin-protocol/futures-marketplace:environment:${GITHUB_ENV[stack]}`,
            aud: "sts.amazonaws.com",
          },
        ],
        [
          "another owner",
          { sub: `repo:someone-else/proxy-router:environment:${GITHUB_ENV[stack]}`, aud: "sts.amazonaws.com" },
        ],
        [
          "a look-alike repository",
          { sub: `repo:Lumerin-protocol/proxy-router-fork:environment:${GITHUB_ENV[stack]}`, aud: "sts.amazonaws.com" },
        ],
        [
          "a look-alike owner (case)",
          { sub: `repo:Lumerin-Protocol/proxy-router:environment:${GITHUB_ENV[stack]}`, aud: "sts.amazonaws.com" },
        ],
        // Image names are lower-case (ghcr.io/lumerin-protocol/...), GitHub's subject is not: the old, wrong spelling.
        [
          "the owner in lower case",
          { sub: `repo:lumerin-protocol/proxy-router:environment:${GITHUB_ENV[stack]}`, aud: "sts.amazonaws.com" },
        ],
        [
          "the repository in another case",
          { sub: `repo:Lumerin-protocol/Proxy-Router:environment:${GITHUB_ENV[stack]}`, aud: "sts.amazonaws.com" },
        ],
        [
          "the immutable form while no ids are configured",
          {
            sub: `repo:Lumerin-protocol@1234/proxy-router@5678:environment:${GITHUB_ENV[stack]}`,
            aud: "sts.amazonaws.com",
          },
        ],
        ["an environment whose name extends this one", { sub: `${own}-hotfix`, aud: "sts.amazonaws.com" }],
        ["a token without aud", { sub: own }],
        ["a token for another audience", { sub: own, aud: "https://github.com/lumerin-protocol" }],
      ];
      it(`${stack}: ${own} may assume the role`, () =>
        assert.equal(mayAssume(plans[stack], { sub: own, aud: "sts.amazonaws.com" }, provider), true));
      for (const [name, claims] of denied)
        it(`${stack}: denies ${name}`, () => assert.equal(mayAssume(plans[stack], claims, provider), false));
    }
  });

  describe("trust matrix, immutable subjects: with ids set, exactly repo:Owner@<id>/repo@<id>:<context>", () => {
    const IDS = { owner: 61234567, proxy: 540012345, futures: 610098765, infra: 990011223 };
    const stack: Stack = "stg";
    const provider = `arn:aws:iam::${ACCOUNTS[stack]}:oidc-provider/${HOST}`;
    const may = (plan: Plan, role: string, sub: string) =>
      doc(resource(plan, "aws:iam/role:Role", role).inputs.assumeRolePolicy).Statement.some(
        (s) =>
          s.Effect === "Allow" &&
          (s.Principal as { Federated?: string }).Federated === provider &&
          conditionsMatch(s.Condition, { [`${HOST}:sub`]: sub, [`${HOST}:aud`]: "sts.amazonaws.com" }),
      );
    let withIds: Plan;
    let mixed: Plan;
    before(async () => {
      withIds = await planWith(stack, {
        overrides: {
          "lumerin-infra:deployIdentity": JSON.stringify({
            oidcProviderArn: provider,
            proxyRouter: { ownerId: IDS.owner, repositoryId: IDS.proxy },
            futures: { ownerId: IDS.owner, repositoryId: IDS.futures },
            infra: { ownerId: IDS.owner, repositoryId: IDS.infra },
          }),
        },
      });
      // Ids for one repository only: the others keep the plain form.
      mixed = await planWith(stack, {
        overrides: {
          "lumerin-infra:deployIdentity": JSON.stringify({
            oidcProviderArn: provider,
            infra: { ownerId: IDS.owner, repositoryId: IDS.infra },
          }),
        },
      });
    });
    const proxy = `repo:Lumerin-protocol@${IDS.owner}/proxy-router@${IDS.proxy}`;
    const futures = `repo:Lumerin-protocol@${IDS.owner}/futures-marketplace@${IDS.futures}`;
    const infra = `repo:Lumerin-protocol@${IDS.owner}/lumerin-infra@${IDS.infra}`;
    const cases: [string, string, string, boolean][] = [
      ["proxy-router deploy", "deploy-proxy-router-role", `${proxy}:environment:stg`, true],
      ["proxy-router deploy", "deploy-proxy-router-role", "repo:Lumerin-protocol/proxy-router:environment:stg", false],
      [
        "proxy-router deploy",
        "deploy-proxy-router-role",
        `repo:lumerin-protocol@${IDS.owner}/proxy-router@${IDS.proxy}:environment:stg`,
        false,
      ],
      [
        "proxy-router deploy",
        "deploy-proxy-router-role",
        `repo:Lumerin-protocol@${IDS.owner}/proxy-router@${IDS.proxy + 1}:environment:stg`,
        false,
      ],
      [
        "proxy-router deploy",
        "deploy-proxy-router-role",
        `repo:Lumerin-protocol@${IDS.owner + 1}/proxy-router@${IDS.proxy}:environment:stg`,
        false,
      ],
      [
        "proxy-router deploy",
        "deploy-proxy-router-role",
        `repo:Lumerin-protocol@${IDS.proxy}/proxy-router@${IDS.owner}:environment:stg`,
        false,
      ],
      ["proxy-router deploy", "deploy-proxy-router-role", `${proxy}:environment:dev`, false],
      ["proxy-router deploy", "deploy-proxy-router-role", `${proxy}:pull_request`, false],
      ["proxy-router deploy", "deploy-proxy-router-role", `${proxy}:ref:refs/heads/stg`, false],
      ["proxy-router deploy", "deploy-proxy-router-role", `${futures}:environment:stg`, false],
      ["futures deploy", "deploy-futures-role", `${futures}:environment:stg`, true],
      ["futures deploy", "deploy-futures-role", "repo:Lumerin-protocol/futures-marketplace:environment:stg", false],
      ["futures deploy", "deploy-futures-role", `${proxy}:environment:stg`, false],
      ["infra preview", "deploy-infra-preview-role", `${infra}:pull_request`, true],
      ["infra preview", "deploy-infra-preview-role", `${infra}:ref:refs/heads/main`, true],
      ["infra preview", "deploy-infra-preview-role", "repo:Lumerin-protocol/lumerin-infra:pull_request", false],
      ["infra preview", "deploy-infra-preview-role", "repo:Lumerin-protocol/lumerin-infra:ref:refs/heads/main", false],
      ["infra preview", "deploy-infra-preview-role", `${infra}:ref:refs/heads/dev`, false],
      ["infra preview", "deploy-infra-preview-role", `${infra}:environment:stg`, false],
      ["infra deployer", "deploy-infra-deployer-role", `${infra}:environment:stg`, true],
      ["infra deployer", "deploy-infra-deployer-role", "repo:Lumerin-protocol/lumerin-infra:environment:stg", false],
      ["infra deployer", "deploy-infra-deployer-role", `${infra}:pull_request`, false],
      ["infra deployer", "deploy-infra-deployer-role", `${infra}:environment:main`, false],
    ];
    for (const [what, role, sub, expected] of cases) {
      it(`${what}: ${expected ? "admits" : "denies"} ${sub}`, () => assert.equal(may(withIds, role, sub), expected));
    }
    it("ids on one repository change only that repository's roles", () => {
      assert.equal(may(mixed, "deploy-infra-deployer-role", `${infra}:environment:stg`), true);
      assert.equal(
        may(mixed, "deploy-infra-deployer-role", "repo:Lumerin-protocol/lumerin-infra:environment:stg"),
        false,
      );
      assert.equal(may(mixed, "deploy-proxy-router-role", "repo:Lumerin-protocol/proxy-router:environment:stg"), true);
      assert.equal(may(mixed, "deploy-proxy-router-role", `${proxy}:environment:stg`), false);
      assert.equal(
        may(mixed, "deploy-futures-role", "repo:Lumerin-protocol/futures-marketplace:environment:stg"),
        true,
      );
    });
    it("lmn: the immutable subjects of the main environment, and the production rule still reads their context", async () => {
      const lmnProvider = `arn:aws:iam::${ACCOUNTS.lmn}:oidc-provider/${HOST}`;
      const lmn = await planWith("lmn", {
        overrides: {
          "lumerin-infra:deployIdentity": JSON.stringify({
            oidcProviderArn: lmnProvider,
            proxyRouter: { ownerId: IDS.owner, repositoryId: IDS.proxy },
            infra: { ownerId: IDS.owner, repositoryId: IDS.infra },
          }),
        },
      });
      const mayLmn = (role: string, sub: string) =>
        doc(resource(lmn, "aws:iam/role:Role", role).inputs.assumeRolePolicy).Statement.some(
          (st) =>
            (st.Principal as { Federated?: string }).Federated === lmnProvider &&
            conditionsMatch(st.Condition, { [`${HOST}:sub`]: sub, [`${HOST}:aud`]: "sts.amazonaws.com" }),
        );
      assert.equal(mayLmn("deploy-proxy-router-role", `${proxy}:environment:main`), true);
      assert.equal(mayLmn("deploy-proxy-router-role", `${proxy}:environment:stg`), false);
      assert.equal(mayLmn("deploy-proxy-router-role", "repo:Lumerin-protocol/proxy-router:environment:main"), false);
      assert.equal(mayLmn("deploy-infra-deployer-role", `${infra}:environment:main`), true);
      const trust = lmn.violations.filter((v) => v.policy === "github-oidc-trust-pinned");
      // Only the preview's pull_request trust, reported as the allowed exception, as with the plain form.
      assert.deepEqual(
        trust.map((v) => [v.urn.split("::").pop(), v.level]),
        [["deploy-infra-preview-role", "advisory"]],
      );
      assert.match(
        trust[0].message,
        new RegExp(`^allowed exception \\(previewRoles\\): .*production role trusts "pull_request"`),
      );
    });

    it("the immutable trust passes the policy pack (no github-oidc-trust-pinned finding)", () => {
      assert.deepEqual(
        withIds.violations.filter((v) => v.policy === "github-oidc-trust-pinned"),
        [],
      );
    });
  });

  describe("permission matrix (IAM evaluation by @cloud-copilot/iam-simulate)", () => {
    for (const stack of STACKS) {
      const acct = ACCOUNTS[stack];
      const arn = {
        router: `arn:aws:ecs:us-east-1:${acct}:service/ecs-proxy-router-${stack}-use1/svc-proxy-router-${stack}-use1`,
        validator: `arn:aws:ecs:us-east-1:${acct}:service/ecs-proxy-router-${stack}-use1/svc-proxy-validator-${stack}-use1`,
      };
      const other = STACKS.find((s) => s !== stack) as Stack;
      const can = async (action: string, resourceArn: string, context: Record<string, string> = {}) => {
        const plan = plans[stack];
        const policy = doc(resource(plan, "aws:iam/rolePolicy:RolePolicy", "deploy-proxy-router-policy").inputs.policy);
        const result = await runSimulation(
          {
            request: {
              principal: `arn:aws:iam::${acct}:role/github-actions-proxy-router-deploy-${stack}`,
              action,
              resource: { resource: resourceArn, accountId: acct },
              contextVariables: context,
            },
            identityPolicies: [{ name: "code-deploy", policy }],
            serviceControlPolicies: [],
            resourceControlPolicies: [],
          },
          {},
        );
        assert.equal(result.resultType, "single", JSON.stringify(result).slice(0, 300));
        return result.resultType === "single" && result.overallResult === "Allowed";
      };
      const role = (name: string) => `arn:aws:iam::${acct}:role/${name}`;
      const allowed: [string, string, Record<string, string>?][] = [
        ["ecs:UpdateService", arn.router],
        ["ecs:UpdateService", arn.validator],
        ["ecs:DescribeServices", arn.validator],
        ["ecs:RegisterTaskDefinition", `arn:aws:ecs:us-east-1:${acct}:task-definition/tsk-proxy-router:42`],
        ["ecs:RegisterTaskDefinition", `arn:aws:ecs:us-east-1:${acct}:task-definition/tsk-proxy-validator:7`],
        ["ecs:DescribeTaskDefinition", "*"],
        // The render action copies the revision's tags into the new registration.
        [
          "ecs:TagResource",
          `arn:aws:ecs:us-east-1:${acct}:task-definition/tsk-proxy-router:43`,
          { "ecs:CreateAction": "RegisterTaskDefinition" },
        ],
        ["iam:PassRole", role(`proxy-router-${stack}-execution`), { "iam:PassedToService": "ecs-tasks.amazonaws.com" }],
        ["iam:PassRole", role(`proxy-validator-${stack}-task`), { "iam:PassedToService": "ecs-tasks.amazonaws.com" }],
        ["ssm:PutParameter", `arn:aws:ssm:us-east-1:${acct}:parameter/proxy-router/${stack}/image-tag`],
        ["ssm:GetParameter", `arn:aws:ssm:us-east-1:${acct}:parameter/proxy-validator/${stack}/image-tag`],
      ];
      const denied: [string, string, Record<string, string>?][] = [
        [
          "ecs:UpdateService",
          `arn:aws:ecs:us-east-1:${acct}:service/ecs-futures-marketplace-${stack}/svc-futures-notifications-${stack}`,
        ],
        [
          "ecs:UpdateService",
          `arn:aws:ecs:us-east-1:${ACCOUNTS[other]}:service/ecs-proxy-router-${other}-use1/svc-proxy-router-${other}-use1`,
        ],
        ["ecs:RegisterTaskDefinition", `arn:aws:ecs:us-east-1:${acct}:task-definition/tsk-futures-notifications:3`],
        // Takes no resource ARN, so IAM evaluates it on "*".
        ["ecs:DeregisterTaskDefinition", "*"],
        ["ecs:ListServices", "*"],
        ["ecs:RunTask", `arn:aws:ecs:us-east-1:${acct}:task-definition/tsk-proxy-router:42`],
        // Tags only while registering: never retag an existing revision, a service or another family.
        ["ecs:TagResource", `arn:aws:ecs:us-east-1:${acct}:task-definition/tsk-proxy-router:42`],
        ["ecs:TagResource", arn.router, { "ecs:CreateAction": "RegisterTaskDefinition" }],
        [
          "ecs:TagResource",
          `arn:aws:ecs:us-east-1:${acct}:task-definition/tsk-futures-notifications:3`,
          { "ecs:CreateAction": "RegisterTaskDefinition" },
        ],
        ["iam:PassRole", role(`proxy-router-${stack}-execution`), { "iam:PassedToService": "lambda.amazonaws.com" }],
        [
          "iam:PassRole",
          role(`github-actions-proxy-router-deploy-${stack}`),
          { "iam:PassedToService": "ecs-tasks.amazonaws.com" },
        ],
        ["iam:PassRole", role("bedrock-foundation-role"), { "iam:PassedToService": "ecs-tasks.amazonaws.com" }],
        [
          "secretsmanager:GetSecretValue",
          `arn:aws:secretsmanager:us-east-1:${acct}:secret:/proxy-router/${stack}/config-AbCdEf`,
        ],
        ["kms:Decrypt", `arn:aws:kms:us-east-1:${acct}:key/1234abcd-12ab-34cd-56ef-1234567890ab`],
        ["ssm:PutParameter", `arn:aws:ssm:us-east-1:${acct}:parameter/futures/${stack}/image-tag`],
        ["ssm:GetParameter", `arn:aws:ssm:us-east-1:${ACCOUNTS[other]}:parameter/proxy-router/${other}/image-tag`],
      ];
      for (const [action, target, context] of allowed) {
        it(`${stack}: allows ${action} on ${target.split(":").slice(5).join(":") || target}${context ? ` (${Object.values(context).join(", ")})` : ""}`, async () =>
          assert.equal(await can(action, target, context), true));
      }
      for (const [action, target, context] of denied) {
        it(`${stack}: denies ${action} on ${target.split(":").slice(4).join(":") || target}${context ? ` (${Object.values(context).join(", ")})` : ""}`, async () =>
          assert.equal(await can(action, target, context), false));
      }
    }
  });

  it("grants exactly these statements, each with a Sid that says why", () => {
    const plan = plans.dev;
    const acct = ACCOUNTS.dev;
    const policy = doc(resource(plan, "aws:iam/rolePolicy:RolePolicy", "deploy-proxy-router-policy").inputs.policy);
    const out = (type: string, name: string, key = "arn") => resource(plan, type, name).outputs[key];
    assert.deepEqual(
      policy.Statement.map((s) => [s.Sid, s.Action, s.Resource, s.Condition]),
      [
        [
          "RegisterRevisionsOfOwnTaskFamilies",
          ["ecs:RegisterTaskDefinition"],
          [
            `arn:aws:ecs:us-east-1:${acct}:task-definition/tsk-proxy-router:*`,
            `arn:aws:ecs:us-east-1:${acct}:task-definition/tsk-proxy-validator:*`,
          ],
          undefined,
        ],
        [
          "TagOwnRevisionsOnlyWhileRegistering",
          ["ecs:TagResource"],
          [
            `arn:aws:ecs:us-east-1:${acct}:task-definition/tsk-proxy-router:*`,
            `arn:aws:ecs:us-east-1:${acct}:task-definition/tsk-proxy-validator:*`,
          ],
          { StringEquals: { "ecs:CreateAction": "RegisterTaskDefinition" } },
        ],
        ["ReadTaskDefinitionsAcceptsNoResourceArn", ["ecs:DescribeTaskDefinition"], "*", undefined],
        [
          "DeployAndWatchOwnServices",
          ["ecs:UpdateService", "ecs:DescribeServices"],
          [
            out("aws:ecs/service:Service", "proxy-router-svc-service"),
            out("aws:ecs/service:Service", "proxy-validator-svc-service"),
          ],
          undefined,
        ],
        [
          "PassOwnTaskRolesToEcsTasksOnly",
          ["iam:PassRole"],
          [
            out("aws:iam/role:Role", "proxy-router-svc-execution-role"),
            out("aws:iam/role:Role", "proxy-router-svc-task-role"),
            out("aws:iam/role:Role", "proxy-validator-svc-execution-role"),
            out("aws:iam/role:Role", "proxy-validator-svc-task-role"),
          ],
          { StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } },
        ],
        [
          "RecordDeployedImageTag",
          ["ssm:PutParameter", "ssm:GetParameter"],
          [
            out("aws:ssm/parameter:Parameter", "proxy-router-image-tag"),
            out("aws:ssm/parameter:Parameter", "proxy-validator-image-tag"),
          ],
          undefined,
        ],
      ],
    );
    const role = resource(plan, "aws:iam/role:Role", "deploy-proxy-router-role");
    assert.equal(role.inputs.name, "github-actions-proxy-router-deploy-dev");
    // Six hours: image-deploy waits out ECS's bake time per service and records the last tag at its end.
    assert.equal(role.inputs.maxSessionDuration, 6 * 3600);
  });

  it("reuses the account's OIDC provider when the stack names it, and creates it (protected in lmn) otherwise", async () => {
    for (const stack of STACKS)
      assert.deepEqual(resourcesOfType(plans[stack], "aws:iam/openIdConnectProvider:OpenIdConnectProvider"), []);
    const created = await planWith("lmn", { overrides: { "lumerin-infra:deployIdentity": JSON.stringify({}) } });
    const provider = resource(created, "aws:iam/openIdConnectProvider:OpenIdConnectProvider", "deploy-github-oidc");
    assert.equal(provider.inputs.url, "https://token.actions.githubusercontent.com");
    assert.deepEqual(provider.inputs.clientIdLists, ["sts.amazonaws.com"]);
    assert.equal(provider.options.protect, true);
    const trust = doc(resource(created, "aws:iam/role:Role", "deploy-proxy-router-role").inputs.assumeRolePolicy);
    assert.equal((trust.Statement[0].Principal as { Federated: string }).Federated, provider.outputs.arn);
    assert.equal(created.outputs.oidcProviderArn, provider.outputs.arn);
  });

  it("trusts extra subjects only by explicit config, and refuses wildcard or pull_request subjects", async () => {
    const extra = "repo:Lumerin-protocol/proxy-router:ref:refs/heads/hotfix";
    const plan = await planWith("stg", {
      overrides: {
        "lumerin-infra:deployIdentity": JSON.stringify({
          oidcProviderArn: `arn:aws:iam::${ACCOUNTS.stg}:oidc-provider/${HOST}`,
          proxyRouter: { extraSubjects: [extra] },
        }),
      },
    });
    assert.equal(
      mayAssume(plan, { sub: extra, aud: "sts.amazonaws.com" }, `arn:aws:iam::${ACCOUNTS.stg}:oidc-provider/${HOST}`),
      true,
    );
    for (const bad of ["repo:Lumerin-protocol/*:environment:stg", "repo:Lumerin-protocol/proxy-router:pull_request"]) {
      await assert.rejects(
        planWith("stg", {
          overrides: { "lumerin-infra:deployIdentity": JSON.stringify({ proxyRouter: { extraSubjects: [bad] } }) },
        }),
        /lumerin-infra:deployIdentity\.proxyRouter\.extraSubjects\.0: expected an exact OIDC subject/,
      );
    }
  });

  it("exports the role ARN for the GitHub environment's AWS_ROLE_ARN variable, and no role when switched off", async () => {
    assert.deepEqual(plans.lmn.outputs.deployRoles, {
      "proxy-router": `arn:aws:iam::${ACCOUNTS.lmn}:role/github-actions-proxy-router-deploy-lmn`,
      "infra-preview": `arn:aws:iam::${ACCOUNTS.lmn}:role/lumerin-infra-preview-lmn`,
      "infra-deployer": `arn:aws:iam::${ACCOUNTS.lmn}:role/lumerin-infra-deployer-lmn`,
      futures: `arn:aws:iam::${ACCOUNTS.lmn}:role/github-actions-futures-v3-lmn`,
    });
    const off = await planWith("dev", {
      overrides: {
        "lumerin-infra:deployIdentity": JSON.stringify({
          proxyRouter: { enabled: false },
          futures: { enabled: false },
          infra: { enabled: false },
        }),
      },
    });
    assert.equal(
      off.resources.some((r) => r.type.startsWith("lumerin:identity:")),
      false,
    );
  });

  describe("this repository's CI roles", () => {
    const infra = "repo:Lumerin-protocol/lumerin-infra";
    const trustOf = (plan: Plan, name: string) =>
      doc(resource(plan, "aws:iam/role:Role", name).inputs.assumeRolePolicy).Statement;
    const assume = (plan: Plan, name: string, sub: string, stack: Stack) =>
      trustOf(plan, name).some(
        (s) =>
          (s.Principal as { Federated?: string }).Federated ===
            `arn:aws:iam::${ACCOUNTS[stack]}:oidc-provider/${HOST}` &&
          conditionsMatch(s.Condition, { [`${HOST}:sub`]: sub, [`${HOST}:aud`]: "sts.amazonaws.com" }),
      );

    for (const stack of STACKS) {
      it(`${stack}: pull requests and main's drift check may preview; only the ${GITHUB_ENV[stack]} environment may deploy`, () => {
        const plan = plans[stack];
        const preview = `lumerin-infra-preview-${stack}`;
        assert.equal(resource(plan, "aws:iam/role:Role", "deploy-infra-preview-role").inputs.name, preview);
        assert.equal(assume(plan, "deploy-infra-preview-role", `${infra}:pull_request`, stack), true);
        // Scheduled workflows run on the default branch.
        assert.equal(assume(plan, "deploy-infra-preview-role", `${infra}:ref:refs/heads/main`, stack), true);
        for (const sub of [
          `${infra}:environment:${GITHUB_ENV[stack]}`,
          `${infra}:ref:refs/heads/dev`,
          `${infra}:ref:refs/heads/main-old`,
          `${infra}:ref:refs/tags/main`,
          "repo:Lumerin-protocol/proxy-router:pull_request",
          "repo:Lumerin-protocol/lumerin-infra-fork:pull_request",
          "repo:someone-else/lumerin-infra:ref:refs/heads/main",
          "repo:lumerin-protocol/lumerin-infra:pull_request",
          "repo:lumerin-protocol/lumerin-infra:ref:refs/heads/main",
        ]) {
          assert.equal(assume(plan, "deploy-infra-preview-role", sub, stack), false, sub);
        }
        assert.equal(
          assume(plan, "deploy-infra-deployer-role", `${infra}:environment:${GITHUB_ENV[stack]}`, stack),
          true,
        );
        for (const sub of [
          `${infra}:pull_request`,
          `${infra}:ref:refs/heads/${GITHUB_ENV[stack]}`,
          `repo:Lumerin-protocol/proxy-router:environment:${GITHUB_ENV[stack]}`,
        ]) {
          assert.equal(assume(plan, "deploy-infra-deployer-role", sub, stack), false, sub);
        }
      });
    }

    it("the deployer holds AdministratorAccess for `pulumi up`, reported by the policy pack as the allowed exception", () => {
      const plan = plans.stg;
      const admin = resource(plan, "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "deploy-infra-deployer-admin");
      assert.equal(admin.inputs.policyArn, "arn:aws:iam::aws:policy/AdministratorAccess");
      assert.equal(resource(plan, "aws:iam/role:Role", "deploy-infra-deployer-role").inputs.maxSessionDuration, 7200);
      const reported = plan.violations.filter((v) => v.urn === admin.urn);
      assert.deepEqual(reported.map((v) => [v.policy, v.level]).sort(), [
        ["github-roles-no-iam-escalation", "advisory"],
        ["github-roles-read-no-secrets", "advisory"],
        ["iam-no-wildcard-actions", "advisory"],
      ]);
    });
  });
});

describe("DeployIdentity's steps", () => {
  const ctx = { accountId: ACCOUNTS.dev, region: "us-east-1", partition: "aws" };
  const service = {
    serviceArn: `arn:aws:ecs:us-east-1:${ACCOUNTS.dev}:service/c/svc-proxy-router-dev-use1`,
    taskFamily: "tsk-proxy-router",
    executionRoleArn: `arn:aws:iam::${ACCOUNTS.dev}:role/proxy-router-dev-execution`,
    taskRoleArn: `arn:aws:iam::${ACCOUNTS.dev}:role/proxy-router-dev-task`,
    imageTagParameterArn: `arn:aws:ssm:us-east-1:${ACCOUNTS.dev}:parameter/proxy-router/dev/image-tag`,
  };
  const repo = (key: string, deploys: boolean) => ({
    key,
    repository: `Lumerin-protocol/${key}`,
    roleName: `github-actions-${key}-dev`,
    services: deploys ? [service] : [],
  });

  it("refuses a repository that deploys nothing, naming its role and repository, before registering any resource (not even the OIDC provider or an earlier repository's role)", async () => {
    let refused: unknown;
    const { plan } = await evaluateProgram([], () => {
      try {
        new DeployIdentity("deploy", {
          aws: ctx,
          env: environment("dev"),
          protect: false,
          repositories: [repo("proxy-router", true), repo("futures-marketplace", false)],
        });
      } catch (err) {
        refused = err;
      }
    });
    assert.match(
      String(refused),
      /deploy role github-actions-futures-marketplace-dev: the repository Lumerin-protocol\/futures-marketplace deploys nothing \(no service, site or function\)/,
    );
    assert.deepEqual(
      plan.resources.filter((r) => r.type.startsWith("aws:")).map((r) => r.name),
      [],
    );
  });

  describe("previewScope: what the preview role may read, the rest of each kind being denied", () => {
    const base = {
      repository: "Lumerin-protocol/lumerin-infra",
      previewRoleName: "lumerin-infra-preview-dev",
      deployerRoleName: "lumerin-infra-deployer-dev",
      driftCheckBranch: "main",
    };
    const state = {
      partition: "aws",
      bucket: "state-bucket",
      prefix: "pulumi/lumerin-infra",
      project: "lumerin-infra",
      stack: "dev",
      bucketKeyArn: "arn:aws:kms:us-east-1:111122223333:key/state",
    };
    const configKey = "arn:aws:kms:us-east-1:111122223333:key/config";
    const platformKey = "arn:aws:kms:us-east-1:111122223333:key/platform";

    it("with nothing given: no key, no object, no secret", () => {
      assert.deepEqual(previewScope(base), { secretArns: [], objects: [], refreshObjects: [], keys: [] });
    });

    it("decrypts with the config key, the state bucket's key, and the secrets' key only when there are secrets", () => {
      const withoutSecrets = previewScope({
        ...base,
        state,
        secretsProviderKeyArn: configKey,
        refreshReads: { secretArns: [], secretsKmsKeyArn: platformKey, objectArns: ["arn:aws:s3:::b/code/x.zip"] },
      });
      assert.deepEqual(withoutSecrets.keys, [configKey, state.bucketKeyArn]);
      assert.equal(withoutSecrets.secretKey, undefined);
      assert.deepEqual(withoutSecrets.objects, [...stateReadObjects(state), "arn:aws:s3:::b/code/x.zip"]);
      assert.deepEqual(withoutSecrets.refreshObjects, ["arn:aws:s3:::b/code/x.zip"]);

      const withSecrets = previewScope({
        ...base,
        state,
        secretsProviderKeyArn: configKey,
        refreshReads: {
          secretArns: ["arn:aws:secretsmanager:us-east-1:1:secret:s"],
          secretsKmsKeyArn: platformKey,
          objectArns: [],
        },
      });
      assert.deepEqual(withSecrets.keys, [configKey, state.bucketKeyArn, platformKey]);
      assert.equal(withSecrets.secretKey, platformKey);
    });

    it("previewStatements keeps allows, then denies, then the zone role's statements", () => {
      const sids = previewStatements(ctx, {
        ...base,
        secretsProviderKeyArn: configKey,
        dnsRoleArn: "arn:aws:iam::210987654321:role/lumerin-infra-dns-dev",
        refreshReads: { secretArns: ["arn:s"], secretsKmsKeyArn: platformKey, objectArns: ["arn:o"] },
      }).map((s) => s.Sid);
      assert.deepEqual(sids, [
        "DecryptStackConfig",
        "RefreshReadsSecretValuesItsStateAlreadyHolds",
        "DecryptThoseSecretsThroughSecretsManagerOnly",
        "RefreshReadsObjectsTheStackUploads",
        "NeverReadOtherSecretValues",
        "NeverBatchReadSecretValues",
        "NeverDecryptWithOtherKeys",
        "NeverDecryptWithThePlatformKeyOutsideSecretsManager",
        "NeverReadOtherObjects",
        "AssumeTheZoneRoleToReadRecords",
        "TagZoneSessionsAsReadOnly",
      ]);
    });
  });
});
