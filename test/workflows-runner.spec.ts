/**
 * image-deploy's runner path: with DEPLOY_RUNNER in the environment, the job
 * deploys nothing itself. Its step scripts run here with bash and jq against a
 * fake `aws` (the invoker's answers and CloudWatch Logs pages, served by a
 * clock that only the fake `sleep` moves), a fake `curl` (GitHub's OIDC token
 * service) and a fake `gh` (the deployments API), all on PATH.
 */
import { strict as assert } from "node:assert";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { IMAGE_DEPLOY_SESSION_SECONDS } from "../lib/rollout";
import { matches } from "./support/log-filter";
import { runStep, step, uses, workflow, type Step } from "./support/workflow-steps";
import { RUNNER_FOLLOW_MARGIN_MINUTES } from "../lib/rollout";

const wf = workflow("image-deploy.yml");
const deploy = wf.jobs.deploy;
const targetsStep = step(deploy, "targets");
const runnerStep = step(deploy, "runner");
const deploymentStep = step(deploy, "deployment");
const SLOTS = Number(targetsStep.env?.MAX_SERVICES);
const slot = (n: number) => step(deploy, `runner-${n}`);
const finishStep = deploy.steps.find((s) => s.name?.startsWith("Set the GitHub deployment's status"));
const credsSteps = deploy.steps.filter((s) => uses(s, "aws-actions/configure-aws-credentials"));

const ACCOUNT = "464450398935";
const RUN_ID = "12874501234";
const RUN_ATTEMPT = "1";
const SERVICE = "svc-proxy-router-lmn-use1";
const VALIDATOR = "svc-proxy-validator-lmn-use1";
const TAG = "proxy-router-v3.2.1";
const T0 = 1_795_000_000; // the fake clock's start, in seconds
const DEPLOY_RUNNER = {
  roleArn: `arn:aws:iam::${ACCOUNT}:role/deploy-runner-caller-proxy-router-lmn`,
  region: "us-east-1",
  invokerFunction: "deploy-invoker-lmn",
  audience: "lumerin-deploy-invoker-lmn",
  runnerLogGroup: "/aws/lambda/deploy-runner-lmn",
  stateMachineLogGroup: "/aws/vendedlogs/states/deploy-runner-lmn",
  environment: "lmn",
  apps: { [SERVICE]: "proxy-router", [VALIDATOR]: "proxy-validator" },
  deadlineMinutes: 40,
};

/** The UUID v5 of RFC 9562 (SHA-1 of the namespace's bytes and the name), computed here independently of the script. */
function uuidV5(namespace: string, name: string): string {
  const hash = createHash("sha1")
    .update(Buffer.from(namespace.replace(/-/g, ""), "hex"))
    .update(name, "utf8")
    .digest();
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
const NAMESPACE = /^NAMESPACE=([0-9a-f-]{36})$/m.exec(runnerStep.run ?? "")?.[1] ?? "";
const requestIdOf = (service: string, attempt = RUN_ATTEMPT) => uuidV5(NAMESPACE, `${RUN_ID}/${attempt}/${service}`);
const REQUEST = requestIdOf(SERVICE);
const executionOf = (request: string) => `arn:aws:states:us-east-1:${ACCOUNT}:execution:deploy-runner-lmn:${request}`;
const EXECUTION = executionOf(REQUEST);

/** The filter patterns the job must send: the request id as a quoted term, and this execution's end. */
const RUNNER_PATTERN = (request: string) => `"${request}"`;
const MACHINE_PATTERN = (arn: string) =>
  `{ ($.execution_arn = "${arn}") && (($.type = "ExecutionSucceeded") || ($.type = "ExecutionFailed") || ($.type = "ExecutionTimedOut") || ($.type = "ExecutionAborted")) }`;

interface LogEvent {
  readonly eventId: string;
  readonly timestamp: number;
  readonly message: string;
  readonly logStreamName: string;
  /** The fake clock (seconds) from which FilterLogEvents returns it: CloudWatch delivers lines late. */
  readonly visibleAt: number;
}
let eventSeq = 0;
const eventId = () => `3792${String(++eventSeq).padStart(52, "0")}`;

/** A line the runner Lambda (Node.js) writes: timestamp, Lambda request id, level, message. */
function runnerLine(atSecond: number, visibleAt: number, message: string, request = REQUEST): LogEvent {
  const ts = (T0 + atSecond) * 1000;
  return {
    eventId: eventId(),
    timestamp: ts,
    message: `${new Date(ts).toISOString()}\t0f8e3c1a-5b7d-4e2f-9a61-2d4c8b9e7f10\tINFO\t${request} ${message}\n`,
    logStreamName: "2026/12/02/[$LATEST]4c3d2b1a0f9e8d7c6b5a493827161504",
    visibleAt: T0 + visibleAt,
  };
}

/**
 * An execution history event as Step Functions writes it to CloudWatch Logs (log level ALL, execution
 * data excluded): id and previous_event_id as strings, event_timestamp in milliseconds as a string,
 * type, details (error and cause for a failure), execution_arn and redrive_count.
 */
function machineEvent(
  atSecond: number,
  visibleAt: number,
  id: number,
  type: string,
  details: Record<string, unknown>,
  arn = EXECUTION,
): LogEvent {
  const ts = (T0 + atSecond) * 1000;
  return {
    eventId: eventId(),
    timestamp: ts,
    message: JSON.stringify({
      id: String(id),
      type,
      details,
      previous_event_id: String(id - 1),
      event_timestamp: String(ts),
      execution_arn: arn,
      redrive_count: "0",
    }),
    logStreamName: `states/deploy-runner-lmn/2026-12-02-10-00/${arn.split(":").pop()?.slice(0, 8)}`,
    visibleAt: T0 + visibleAt,
  };
}
const started = (visibleAt = 15) =>
  machineEvent(1, visibleAt, 1, "ExecutionStarted", {
    input: "",
    inputDetails: { truncated: false },
    roleArn: `arn:aws:iam::${ACCOUNT}:role/deploy-runner-machine-lmn`,
  });
const taskEntered = (visibleAt = 15) =>
  machineEvent(2, visibleAt, 2, "TaskStateEntered", { name: "Begin", input: "", inputDetails: { truncated: false } });
const succeeded = (atSecond: number, visibleAt: number) =>
  machineEvent(atSecond, visibleAt, 41, "ExecutionSucceeded", { output: "", outputDetails: { truncated: false } });

type InvokeAnswer =
  { readonly exit: number; readonly stderr: string } | { readonly payload: unknown; readonly functionError?: string };

interface Scenario {
  readonly invoke: readonly InvokeAnswer[];
  readonly runnerEvents?: readonly LogEvent[];
  readonly machineEvents?: readonly LogEvent[];
  /** Requests (ids) whose patterns the fake serves; default: the one service's. */
  readonly requests?: readonly string[];
}

const FAKE_AWS = `
const fs = require("fs"), path = require("path");
const dir = process.env.FAKE_DIR;
const scenario = JSON.parse(fs.readFileSync(path.join(dir, "scenario.json"), "utf8"));
const args = process.argv.slice(2);
fs.appendFileSync(path.join(dir, "aws-calls"), JSON.stringify({ args, maxAttempts: process.env.AWS_MAX_ATTEMPTS ?? null }) + "\\n");
const opt = (name) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
const clock = Number(fs.readFileSync(path.join(dir, "clock"), "utf8"));
if (args[0] === "lambda" && args[1] === "invoke") {
  const f = path.join(dir, "invokes");
  const n = (fs.existsSync(f) ? Number(fs.readFileSync(f, "utf8")) : 0) + 1;
  fs.writeFileSync(f, String(n));
  fs.writeFileSync(path.join(dir, "payload-" + n + ".json"), fs.readFileSync(opt("--payload").replace(/^file:\\/\\//, ""), "utf8"));
  fs.writeFileSync(path.join(dir, "payload-" + n + ".cwd"), process.cwd());
  const answer = scenario.invoke[Math.min(n, scenario.invoke.length) - 1];
  if (answer.exit) { process.stderr.write(answer.stderr + "\\n"); process.exit(answer.exit); }
  fs.writeFileSync(path.resolve(args[args.length - 1]), typeof answer.payload === "string" ? answer.payload : JSON.stringify(answer.payload));
  const out = { StatusCode: 200 };
  if (answer.functionError) out.FunctionError = answer.functionError;
  out.ExecutedVersion = "$LATEST";
  process.stdout.write(JSON.stringify(out, null, 4) + "\\n");
  process.exit(0);
}
if (args[0] === "logs" && args[1] === "filter-log-events") {
  if (!args.includes("--no-paginate")) { process.stderr.write("the fake serves one page per call: use --no-paginate and --next-token\\n"); process.exit(252); }
  const group = scenario.groups[opt("--log-group-name")];
  if (!group) { process.stderr.write("An error occurred (ResourceNotFoundException) when calling the FilterLogEvents operation: The specified log group does not exist.\\n"); process.exit(254); }
  const matching = group.matches[opt("--filter-pattern")];
  if (!matching) { process.stderr.write("unexpected filter pattern: " + opt("--filter-pattern") + "\\n"); process.exit(253); }
  const start = Number(opt("--start-time"));
  const visible = group.events.filter((e) => matching.includes(e.eventId) && e.visibleAt <= clock && e.timestamp >= start)
    .sort((a, b) => a.timestamp - b.timestamp);
  const token = opt("--next-token");
  const from = token ? Number(token.split("/")[1]) : 0;
  const out = { events: visible.slice(from, from + scenario.pageSize).map(({ visibleAt, ...e }) => ({ ...e, ingestionTime: e.timestamp + 900 })), searchedLogStreams: [] };
  if (from + scenario.pageSize < visible.length) out.nextToken = "Bxkq6kVGFtq2y_MoigeqscPOdhXVbhiVtLoAmXb5jCrI7fXLrPQmfhPOBLHN2tR/" + (from + scenario.pageSize);
  process.stdout.write(JSON.stringify(out, null, 4) + "\\n");
  process.exit(0);
}
process.stderr.write("unexpected aws call: " + args.join(" ") + "\\n");
process.exit(254);
`;

/** GitHub's OIDC token service: a new token per request (GitHub mints a new jti each time). */
const FAKE_CURL = `#!/usr/bin/env bash
set -euo pipefail
n=$(( $(cat "$FAKE_DIR/tokens" 2>/dev/null || echo 0) + 1 )); echo "$n" > "$FAKE_DIR/tokens"
printf '%s\\n' "$*" >> "$FAKE_DIR/curl-calls"
[[ "$*" == *"-H Authorization: bearer $FAKE_REQUEST_TOKEN "* ]] || { echo "curl: (22) The requested URL returned error: 401" >&2; exit 22; }
printf '{"count":1,"value":"eyJhbGciOiJSUzI1NiIsImtpZCI6IjM4ODI2YjE3In0.eyJqdGkiOiJqdGktJHtufSJ9.c2lnbmF0dXJl-%s_Zm9v"}' "$n"
`;

/** The deployments API: a deployment is created with id 4242; statuses are accepted. Bodies are recorded. */
const FAKE_GH = `#!/usr/bin/env bash
set -euo pipefail
body=$(cat)
jq -nc --arg args "$*" --arg body "$body" '{args: $args, body: ($body | fromjson? // $body)}' >> "$FAKE_DIR/gh-calls"
answer='{"id": 987, "state": "ok"}'
[[ "$*" == *"/statuses"* ]] || answer='{"id": 4242, "environment": "main"}'
all="$*"
if [[ "$all" == *"--jq "* ]]; then jq -r "\${all##*--jq }" <<<"$answer"; else echo "$answer"; fi
`;

const FAKE_DATE = `#!/usr/bin/env bash
[[ "$*" == "+%s" ]] || { echo "fake date: unexpected $*" >&2; exit 1; }
cat "$FAKE_DIR/clock"
`;

/** Moves the clock; at the sleep numbered KILL_AT_SLEEP it stops the step as GitHub does on a cancellation. */
const FAKE_SLEEP = `#!/usr/bin/env bash
echo "sleep $*" >> "$FAKE_DIR/sleeps"
echo $(( $(cat "$FAKE_DIR/clock") + $1 )) > "$FAKE_DIR/clock"
if [[ -n "\${KILL_AT_SLEEP:-}" && "$(wc -l < "$FAKE_DIR/sleeps")" -eq "$KILL_AT_SLEEP" ]]; then kill -TERM "$PPID"; fi
`;

interface Fakes {
  readonly dir: string;
  readonly runnerTemp: string;
  readonly env: Record<string, string>;
  awsCalls(): { args: string[]; maxAttempts: string | null }[];
  ghCalls(): { args: string; body: Record<string, unknown> }[];
  payloads(): Record<string, unknown>[];
  sleeps(): string[];
  tokens(): string[];
  cleanup(): void;
}

function fakes(scenario: Scenario): Fakes {
  const dir = mkdtempSync(path.join(tmpdir(), "image-deploy-runner-"));
  const bin = path.join(dir, "bin");
  const runnerTemp = path.join(dir, "runner-temp");
  mkdirSync(bin);
  mkdirSync(runnerTemp);
  const requests = scenario.requests ?? [REQUEST];
  const groupOf = (events: readonly LogEvent[], patterns: string[]) => ({
    events,
    matches: Object.fromEntries(
      patterns.map((p) => [p, events.filter((e) => matches(p, e.message)).map((e) => e.eventId)]),
    ),
  });
  writeFileSync(
    path.join(dir, "scenario.json"),
    JSON.stringify({
      invoke: scenario.invoke,
      pageSize: 2,
      groups: {
        [DEPLOY_RUNNER.runnerLogGroup]: groupOf(scenario.runnerEvents ?? [], requests.map(RUNNER_PATTERN)),
        [DEPLOY_RUNNER.stateMachineLogGroup]: groupOf(
          scenario.machineEvents ?? [],
          requests.map((r) => MACHINE_PATTERN(executionOf(r))),
        ),
      },
    }),
  );
  writeFileSync(path.join(dir, "clock"), String(T0));
  writeFileSync(path.join(bin, "aws"), `#!${process.execPath}\n${FAKE_AWS}`, { mode: 0o755 });
  writeFileSync(path.join(bin, "curl"), FAKE_CURL, { mode: 0o755 });
  writeFileSync(path.join(bin, "gh"), FAKE_GH, { mode: 0o755 });
  writeFileSync(path.join(bin, "date"), FAKE_DATE, { mode: 0o755 });
  writeFileSync(path.join(bin, "sleep"), FAKE_SLEEP, { mode: 0o755 });
  const lines = (file: string) => {
    try {
      return readFileSync(path.join(dir, file), "utf8").split("\n").filter(Boolean);
    } catch {
      return [];
    }
  };
  return {
    dir,
    runnerTemp,
    env: {
      PATH: `${bin}:${process.env.PATH ?? "/usr/bin:/bin"}`,
      FAKE_DIR: dir,
      RUNNER_TEMP: runnerTemp,
      GITHUB_RUN_ID: RUN_ID,
      GITHUB_RUN_ATTEMPT: RUN_ATTEMPT,
      GITHUB_REPOSITORY: "lumerin-protocol/proxy-router",
      GITHUB_SERVER_URL: "https://github.com",
      ACTIONS_ID_TOKEN_REQUEST_URL:
        "https://pipelinesghubeus2.actions.githubusercontent.com/3Bd0kCx/00000000-0000-0000-0000-000000000000/_apis/distributedtask/hubs/Actions/plans/5f2e/jobs/77a1/idtoken?api-version=2.0",
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: "runner-request-token-9f8e",
      FAKE_REQUEST_TOKEN: "runner-request-token-9f8e",
    },
    awsCalls: () => lines("aws-calls").map((l) => JSON.parse(l) as { args: string[]; maxAttempts: string | null }),
    ghCalls: () => lines("gh-calls").map((l) => JSON.parse(l) as { args: string; body: Record<string, unknown> }),
    payloads: () =>
      readdirSync(dir)
        .filter((f) => /^payload-\d+\.json$/.test(f))
        .sort()
        .map((f) => JSON.parse(readFileSync(path.join(dir, f), "utf8")) as Record<string, unknown>),
    sleeps: () => lines("sleeps"),
    tokens: () =>
      Array.from(
        { length: Number(lines("tokens")[0] ?? 0) },
        (_, i) => `eyJhbGciOiJSUzI1NiIsImtpZCI6IjM4ODI2YjE3In0.eyJqdGkiOiJqdGktJHtufSJ9.c2lnbmF0dXJl-${i + 1}_Zm9v`,
      ),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The environment GitHub gives a step: its `env:` (literal values from the workflow, expressions resolved here). */
function stepEnv(s: Step, resolved: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(s.env ?? {})) {
    if (!value.includes("${{")) env[key] = value;
    else {
      assert.ok(key in resolved, `${s.name}: the test gives no value for ${key} (${value})`);
      env[key] = resolved[key];
    }
  }
  return env;
}

const runnerConfig = JSON.stringify(DEPLOY_RUNNER);
/** Runs the runner step (it writes the script), then slot n's step. */
function runSlot(f: Fakes, n: number, service: string, extra: Record<string, string> = {}) {
  const config = runStep(runnerStep, {
    ...f.env,
    ...stepEnv(runnerStep, { DEPLOY_RUNNER: runnerConfig, ENVIRONMENT: "main", SERVICES: service }),
  });
  assert.equal(config.status, 0, config.stdout + config.stderr);
  return runStep(slot(n), {
    ...f.env,
    ...stepEnv(slot(n), { SERVICE: service, IMAGE_TAG: TAG, ROLLBACK: "false", DEPLOY_RUNNER: runnerConfig }),
    ...extra,
  });
}
function runFinish(f: Fakes, services: string, jobStatus: string, extra: Record<string, string> = {}) {
  assert.ok(finishStep);
  return runStep(finishStep, {
    ...f.env,
    ...stepEnv(finishStep, {
      GH_TOKEN: "ghs_job-token",
      DEPLOYMENT_ID: "4242",
      SERVICES: services,
      IMAGE_TAG: TAG,
      DEPLOY_RUNNER: runnerConfig,
      JOB_STATUS: jobStatus,
    }),
    ...extra,
  });
}

const started_ = (request = REQUEST) => ({
  payload: {
    decision: "started",
    requestId: request,
    executionArn: executionOf(request),
    logGroups: [DEPLOY_RUNNER.runnerLogGroup, DEPLOY_RUNNER.stateMachineLogGroup],
  },
});
const printedRunnerLines = (stdout: string) => stdout.split("\n").filter((l) => l.startsWith("runner | "));
const filterCalls = (f: Fakes, group: string) =>
  f.awsCalls().filter((c) => c.args[1] === "filter-log-events" && c.args.includes(group));
const opt = (args: string[], name: string) => args[args.indexOf(name) + 1];

describe("image-deploy: the deploy runner path", () => {
  describe("which steps run (the workflow's own if: conditions)", () => {
    type Status = "success" | "failure" | "cancelled";
    /** Evaluates the conditions this workflow uses; anything else fails the test, so a new form must be added here. */
    function runs(s: Step, ctx: { runner: boolean; services: number; deployment: boolean; status: Status }): boolean {
      const terms = (s.if ?? "").split("&&").map((t) => t.trim());
      if (!terms.some((t) => t === "always()" || t === "failure()") && ctx.status !== "success") return false;
      return terms.every((t) => {
        if (t === "") return true;
        if (t === "always()") return true;
        if (t === "failure()") return ctx.status === "failure";
        if (t === "vars.DEPLOY_RUNNER == ''") return !ctx.runner;
        if (t === "vars.DEPLOY_RUNNER != ''") return ctx.runner;
        if (t === "steps.deployment.outputs.id != ''") return ctx.deployment;
        const n = /^steps\.targets\.outputs\.service_(\d) != ''$/.exec(t);
        if (n) return Number(n[1]) <= ctx.services;
        throw new Error(`unknown condition "${t}" in ${s.name ?? s.id}`);
      });
    }
    const label = (s: Step) => s.id ?? s.uses?.split("@")[0] ?? s.name ?? "";
    const ran = (ctx: Parameters<typeof runs>[1]) => deploy.steps.filter((s) => runs(s, ctx)).map(label);

    it("without DEPLOY_RUNNER: exactly today's direct steps, none of the runner's", () => {
      assert.deepEqual(ran({ runner: false, services: 2, deployment: false, status: "success" }), [
        "targets",
        "Check that the image exists",
        "aws-actions/configure-aws-credentials",
        "watcher",
        "current",
        "render-1",
        "deploy-1",
        "1. Wait until ECS completes the rollout of ${{ steps.targets.outputs.service_1 }}, then record its tag",
        "render-2",
        "deploy-2",
        "2. Wait until ECS completes the rollout of ${{ steps.targets.outputs.service_2 }}, then record its tag",
      ]);
      const direct = deploy.steps.filter((s) =>
        runs(s, { runner: false, services: SLOTS, deployment: false, status: "success" }),
      );
      assert.equal(
        direct.filter((s) => uses(s, "aws-actions/configure-aws-credentials"))[0]?.with?.["role-to-assume"],
        "${{ vars.AWS_ROLE_ARN }}",
      );
      // Nothing of the runner's runs on the direct path, not even after a failure or a cancellation.
      for (const status of ["success", "failure", "cancelled"] as const)
        for (const s of deploy.steps.filter((x) =>
          runs(x, { runner: false, services: SLOTS, deployment: false, status }),
        ))
          assert.doesNotMatch(JSON.stringify(s), /DEPLOY_RUNNER != ''|deploy-runner\.sh|gh api/, label(s));
    });

    it("with DEPLOY_RUNNER: the checks, the runner's steps per service and the status step; no deploy role, no ECS", () => {
      assert.deepEqual(ran({ runner: true, services: 2, deployment: true, status: "success" }), [
        "targets",
        "Check that the image exists",
        "runner",
        "deployment",
        "aws-actions/configure-aws-credentials",
        "runner-1",
        "runner-2",
        "Set the GitHub deployment's status from the runner's final state (after a cancellation, follow it first)",
      ]);
      for (const status of ["success", "failure", "cancelled"] as const) {
        const steps = deploy.steps.filter((s) => runs(s, { runner: true, services: SLOTS, deployment: true, status }));
        for (const s of steps) {
          assert.doesNotMatch(JSON.stringify(s), /AWS_ROLE_ARN|ECS_CLUSTER|amazon-ecs-|watch-rollout/, label(s));
          assert.doesNotMatch(s.run ?? "", /\baws (ecs|ssm|iam|sts)\b/, label(s));
        }
      }
      const creds = credsSteps.find((s) => s.if === "vars.DEPLOY_RUNNER != ''");
      assert.deepEqual(creds?.with, {
        "role-to-assume": "${{ steps.runner.outputs.role_arn }}",
        "role-session-name": "image-deploy-${{ github.run_id }}",
        "aws-region": "${{ steps.runner.outputs.region }}",
        "mask-aws-account-id": true,
        "role-duration-seconds": IMAGE_DEPLOY_SESSION_SECONDS,
      });
      // The role is assumed only after the settings are checked and the GitHub deployment exists.
      const at = (s: Step | undefined) => deploy.steps.indexOf(s as Step);
      assert.ok(at(runnerStep) < at(deploymentStep) && at(deploymentStep) < at(creds) && at(creds) < at(slot(1)));
    });

    it("after a failure or a cancellation only the status step (and the failure report) still run", () => {
      assert.deepEqual(ran({ runner: true, services: 2, deployment: true, status: "cancelled" }), [
        "Set the GitHub deployment's status from the runner's final state (after a cancellation, follow it first)",
      ]);
      assert.deepEqual(ran({ runner: true, services: 2, deployment: true, status: "failure" }), [
        "Set the GitHub deployment's status from the runner's final state (after a cancellation, follow it first)",
        "Report a failed rollout",
      ]);
      assert.deepEqual(ran({ runner: true, services: 2, deployment: false, status: "failure" }), [
        "Report a failed rollout",
      ]);
    });

    it(`has ${SLOTS} runner slots, identical but for their index, with the same inputs as the direct path`, () => {
      const first = JSON.stringify(slot(1));
      for (let n = 1; n <= SLOTS; n++) {
        const s = slot(n);
        assert.equal(s.if, `vars.DEPLOY_RUNNER != '' && steps.targets.outputs.service_${n} != ''`);
        assert.equal(s.run, 'bash "$RUNNER_TEMP/deploy-runner.sh" deploy');
        assert.deepEqual(s.env, {
          INDEX: String(n),
          SERVICE: `\${{ steps.targets.outputs.service_${n} }}`,
          IMAGE_TAG: "${{ inputs.image-tag }}",
          ROLLBACK: "${{ inputs.rollback }}",
          DEPLOY_RUNNER: "${{ vars.DEPLOY_RUNNER }}",
          POLL_SECONDS: "15",
          // The margin the config's time budget counts for the runner path.
          MARGIN_MINUTES: String(RUNNER_FOLLOW_MARGIN_MINUTES),
        });
        assert.equal(
          JSON.stringify(s)
            .replaceAll(`service_${n}`, "service_1")
            .replaceAll(`runner-${n}`, "runner-1")
            .replaceAll(`Runner ${n}:`, "Runner 1:")
            .replace(`"INDEX":"${n}"`, '"INDEX":"1"'),
          first,
        );
      }
      assert.throws(() => slot(SLOTS + 1));
      // The callers' inputs of the direct path, and one optional flag only the runner path reads.
      assert.deepEqual(Object.keys((wf.on.workflow_call as { inputs: object }).inputs), [
        "environment",
        "image-tag",
        "services",
        "rollback",
      ]);
    });

    it("asks for deployments: write (the job's permissions cannot depend on the environment's variables)", () => {
      assert.deepEqual(deploy.permissions, {
        contents: "read",
        deployments: "write",
        "id-token": "write",
        packages: "read",
      });
    });
  });

  describe("the job summary", () => {
    const targets = JSON.stringify([
      {
        service: SERVICE,
        container: "proxy-router-container",
        image: "ghcr.io/lumerin-protocol/proxy-router",
        tagPattern: "^(proxy-router-)?v(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)$",
        imageTagParameter: "/proxy-router/lmn/image-tag",
        rolloutDeadlineMinutes: 40,
      },
    ]);
    const resolve = (runner: string) =>
      runStep(targetsStep, {
        ENVIRONMENT: "main",
        IMAGE_TAG: TAG,
        SERVICES: "",
        ECS_DEPLOY_TARGETS: targets,
        DEPLOY_RUNNER: runner,
        MAX_SERVICES: String(SLOTS),
      });

    it("has a row per service with its tag, result and execution on the runner path; the direct path's table is unchanged", () => {
      assert.equal(targetsStep.env?.DEPLOY_RUNNER, "${{ vars.DEPLOY_RUNNER }}");
      const runner = resolve(runnerConfig);
      assert.equal(runner.status, 0, runner.stdout);
      assert.equal(
        runner.summary,
        `### Deploying \`${TAG}\` to \`main\`\n\n| service | tag | result | runner execution |\n|---|---|---|---|\n`,
      );
      const direct = resolve("");
      assert.equal(direct.summary, `### Deploying \`${TAG}\` to \`main\`\n\n| service | result |\n|---|---|\n`);
      // The same tag checks on both paths: a tag of another environment is refused before anything is touched.
      const refused = runStep(targetsStep, {
        ENVIRONMENT: "main",
        IMAGE_TAG: "proxy-router-v3.2.1-stg",
        SERVICES: "",
        ECS_DEPLOY_TARGETS: targets,
        DEPLOY_RUNNER: runnerConfig,
        MAX_SERVICES: String(SLOTS),
      });
      assert.notEqual(refused.status, 0);
      assert.match(refused.stdout, /is not a release tag of any service in "main"/);
    });
  });

  describe("checking DEPLOY_RUNNER before anything is touched", () => {
    const check = (config: unknown, services = SERVICE) =>
      runStep(runnerStep, {
        RUNNER_TEMP: mkdtempSync(path.join(tmpdir(), "runner-check-")),
        ...stepEnv(runnerStep, {
          DEPLOY_RUNNER: typeof config === "string" ? config : JSON.stringify(config),
          ENVIRONMENT: "main",
          SERVICES: services,
        }),
      });

    it("accepts the contract's shape and hands the role and region to the credentials step", () => {
      const r = check(DEPLOY_RUNNER, `${SERVICE} ${VALIDATOR}`);
      assert.equal(r.status, 0, r.stdout + r.stderr);
      assert.deepEqual(r.outputs, { role_arn: DEPLOY_RUNNER.roleArn, region: "us-east-1" });
    });

    const refusals: [string, unknown, RegExp][] = [
      ["malformed JSON", "{roleArn", /not a JSON object/],
      ["a missing role", { ...DEPLOY_RUNNER, roleArn: undefined }, /roleArn is not an IAM role ARN/],
      [
        "a user instead of a role",
        { ...DEPLOY_RUNNER, roleArn: `arn:aws:iam::${ACCOUNT}:user/ci` },
        /roleArn is not an IAM role ARN/,
      ],
      ["a bad region", { ...DEPLOY_RUNNER, region: "US East" }, /region is not an AWS region/],
      ["no invoker", { ...DEPLOY_RUNNER, invokerFunction: "" }, /invokerFunction is not a Lambda function name/],
      [
        "the STS audience",
        { ...DEPLOY_RUNNER, audience: "sts.amazonaws.com" },
        /audience must be the invoker's own, not sts\.amazonaws\.com/,
      ],
      ["no audience", { ...DEPLOY_RUNNER, audience: undefined }, /audience is missing/],
      ["no stack name", { ...DEPLOY_RUNNER, environment: undefined }, /environment is not a stack name/],
      ["no runner log group", { ...DEPLOY_RUNNER, runnerLogGroup: 3 }, /runnerLogGroup is not a log group name/],
      ["a fractional deadline", { ...DEPLOY_RUNNER, deadlineMinutes: 0.5 }, /deadlineMinutes is not a whole number/],
      [
        "an app name with a shell command",
        { ...DEPLOY_RUNNER, apps: { [SERVICE]: "x; rm -rf /" } },
        /apps is not a map/,
      ],
      [
        "a service without an app",
        { ...DEPLOY_RUNNER, apps: { [VALIDATOR]: "proxy-validator" } },
        new RegExp(`apps has no app for ${SERVICE}`),
      ],
    ];
    for (const [what, config, message] of refusals) {
      it(`refuses ${what}, naming the field`, () => {
        const r = check(config);
        assert.notEqual(r.status, 0);
        assert.match(r.stdout, /::error title=image-deploy::DEPLOY_RUNNER of "main": /);
        assert.match(r.stdout, message);
        assert.match(r.stdout, /nothing was changed/);
        assert.deepEqual(r.outputs, {});
      });
    }
  });

  describe("a service through the runner (the slot's script with bash and jq, fake aws, curl, gh, date and sleep)", () => {
    it("started, its log lines streamed once each (paged, one delivered late), succeeded: the next service may go", () => {
      const runnerEvents = [
        runnerLine(2, 15, "begin: service svc-proxy-router-lmn-use1 runs tsk-proxy-router:41"),
        runnerLine(
          3,
          15,
          "begin: registered tsk-proxy-router:42 (image ghcr.io/lumerin-protocol/proxy-router:proxy-router-v3.2.1)",
        ),
        runnerLine(4, 15, "begin: UpdateService started deployment ecs-svc/5310627734"),
        runnerLine(5, 15, "begin: another deploy", "5b1f7a0e-0c43-5d6e-8f21-7a9b3c4d5e6f"),
        runnerLine(20, 30, "watch: ecs-svc/5310627734 IN_PROGRESS, 1/1 running"),
        runnerLine(10, 45, "watch: ecs-svc/5310627734 IN_PROGRESS, 0/1 running (delivered late)"),
        runnerLine(40, 45, "watch: ecs-svc/5310627734 COMPLETED\n::error::not a workflow command"),
        runnerLine(43, 45, "record: /proxy-router/lmn/image-tag = proxy-router-v3.2.1"),
      ];
      const machineEvents = [
        started(),
        taskEntered(),
        machineEvent(
          30,
          15,
          41,
          "ExecutionSucceeded",
          { output: "", outputDetails: { truncated: false } },
          executionOf("5b1f7a0e-0c43-5d6e-8f21-7a9b3c4d5e6f"),
        ),
        succeeded(44, 45),
      ];
      const f = fakes({ invoke: [started_()], runnerEvents, machineEvents });
      try {
        const r = runSlot(f, 1, SERVICE);
        assert.equal(r.status, 0, r.stdout + r.stderr);
        assert.deepEqual(printedRunnerLines(r.stdout), [
          `runner | ${runnerEvents[0].message.trimEnd()}`,
          `runner | ${runnerEvents[1].message.trimEnd()}`,
          `runner | ${runnerEvents[2].message.trimEnd()}`,
          `runner | ${runnerEvents[4].message.trimEnd()}`,
          `runner | ${runnerEvents[5].message.trimEnd()}`,
          `runner | ${runnerEvents[6].message.split("\n")[0]}`,
          "runner | ::error::not a workflow command",
          `runner | ${runnerEvents[7].message.trimEnd()}`,
        ]);
        assert.doesNotMatch(r.stdout, /another deploy/);
        assert.match(r.stdout, new RegExp(`the runner started ${EXECUTION}`));
        assert.match(
          r.stdout,
          new RegExp(`${SERVICE}: the runner deployed ${TAG} \\(execution ${EXECUTION} succeeded\\)`),
        );
        assert.equal(r.summary, `| \`${SERVICE}\` | \`${TAG}\` | succeeded | \`${EXECUTION}\` |\n`);
        // One invoke with its exact command, then per look: the state machine's end, then the runner's lines, page by page.
        const calls = f.awsCalls();
        assert.deepEqual(calls[0], {
          args: [
            "lambda",
            "invoke",
            "--function-name",
            "deploy-invoker-lmn",
            "--cli-binary-format",
            "raw-in-base64-out",
            "--payload",
            "file://request.json",
            "response.json",
          ],
          maxAttempts: "1",
        });
        assert.equal(calls.filter((c) => c.args[0] === "lambda").length, 1);
        const machine = filterCalls(f, DEPLOY_RUNNER.stateMachineLogGroup);
        assert.equal(machine.length, 4, "looks at 0, 15, 30 and 45 s");
        for (const c of machine) {
          assert.equal(opt(c.args, "--filter-pattern"), MACHINE_PATTERN(EXECUTION));
          assert.equal(opt(c.args, "--start-time"), String((T0 - 60) * 1000));
        }
        const runner = filterCalls(f, DEPLOY_RUNNER.runnerLogGroup);
        for (const c of runner) assert.equal(opt(c.args, "--filter-pattern"), `"${REQUEST}"`);
        assert.ok(
          runner.some((c) => c.args.includes("--next-token")),
          "a second page is read with the token",
        );
        assert.deepEqual(f.sleeps(), ["sleep 15", "sleep 15", "sleep 15"]);
      } finally {
        f.cleanup();
      }
    });

    it("reads on from two minutes before the newest line seen: a late line is still printed, an old one not again", () => {
      const runnerEvents = [
        runnerLine(10, 0, "begin: registered tsk-proxy-router:42"),
        runnerLine(290, 300, "watch: IN_PROGRESS, baking"),
        runnerLine(200, 450, "watch: IN_PROGRESS, 1/1 running (delivered late)"),
        runnerLine(440, 450, "watch: COMPLETED"),
      ];
      const f = fakes({ invoke: [started_()], runnerEvents, machineEvents: [started(0), succeeded(590, 600)] });
      try {
        const r = runSlot(f, 1, SERVICE, { POLL_SECONDS: "150" });
        assert.equal(r.status, 0, r.stdout + r.stderr);
        assert.deepEqual(
          printedRunnerLines(r.stdout),
          [0, 1, 2, 3].map((i) => `runner | ${runnerEvents[i].message.trimEnd()}`),
        );
        // Looks at 0, 150, 300, 450 (two pages) and 600 s; after the line of 290 s the reads start at 170 s, after 440 s at 320 s.
        assert.deepEqual(
          filterCalls(f, DEPLOY_RUNNER.runnerLogGroup).map((c) => Number(opt(c.args, "--start-time")) / 1000 - T0),
          [-60, -60, -60, 170, 170, 320],
        );
      } finally {
        f.cleanup();
      }
    });

    it("sends rollback: true as a sixth field only when the caller asks for a rollback", () => {
      const f = fakes({ invoke: [started_()], machineEvents: [succeeded(10, 0)] });
      try {
        const r = runSlot(f, 1, SERVICE, { ROLLBACK: "true" });
        assert.equal(r.status, 0, r.stdout + r.stderr);
        const [payload] = f.payloads();
        assert.deepEqual(Object.keys(payload).sort(), [
          "app",
          "environment",
          "imageTag",
          "oidcToken",
          "requestId",
          "rollback",
        ]);
        assert.equal(payload.rollback, true);
      } finally {
        f.cleanup();
      }
    });

    it("sends exactly the five fields: the app from DEPLOY_RUNNER.apps, the stack's name (lmn for GitHub's main), the tag, a deterministic UUID and the token for the invoker's audience", () => {
      const f = fakes({ invoke: [started_()], machineEvents: [succeeded(10, 0)] });
      try {
        const r = runSlot(f, 1, SERVICE);
        assert.equal(r.status, 0, r.stdout + r.stderr);
        const [payload] = f.payloads();
        assert.deepEqual(Object.keys(payload).sort(), ["app", "environment", "imageTag", "oidcToken", "requestId"]);
        assert.deepEqual(payload, {
          app: "proxy-router",
          environment: "lmn",
          imageTag: TAG,
          requestId: REQUEST,
          oidcToken: f.tokens()[0],
        });
        assert.match(REQUEST, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        assert.notEqual(requestIdOf(SERVICE, "2"), REQUEST, "another attempt is another request");
        assert.notEqual(requestIdOf(VALIDATOR), REQUEST, "another service is another request");
        // The token was requested with the invoker's audience, url-encoded onto GitHub's request URL.
        const curl = readFileSync(path.join(f.dir, "curl-calls"), "utf8");
        assert.match(curl, /--data-urlencode audience=lumerin-deploy-invoker-lmn /);
        assert.match(curl, /idtoken\?api-version=2\.0$/m);
      } finally {
        f.cleanup();
      }
    });

    it("never prints the OIDC token (it is masked) and leaves no file with it", () => {
      const f = fakes({ invoke: [started_()], machineEvents: [succeeded(10, 0)] });
      try {
        const r = runSlot(f, 1, SERVICE);
        assert.equal(r.status, 0, r.stdout + r.stderr);
        const [token] = f.tokens();
        const lines = r.stdout.split("\n").filter((l) => l.includes(token));
        assert.deepEqual(lines, [`::add-mask::${token}`], "the token appears only in its mask command");
        assert.ok(!r.stderr.includes(token) && !r.summary.includes(token));
        assert.ok(!JSON.stringify(f.awsCalls()).includes(token), "never on a command line");
        const walk = (d: string): string[] =>
          readdirSync(d).flatMap((e) =>
            statSync(path.join(d, e)).isDirectory() ? walk(path.join(d, e)) : [path.join(d, e)],
          );
        for (const file of walk(f.runnerTemp)) assert.ok(!readFileSync(file, "utf8").includes(token), file);
        assert.ok(f.payloads().length === 1 && JSON.stringify(f.payloads()).includes(token), "it was sent");
      } finally {
        f.cleanup();
      }
    });

    it("denied: the reason, nothing else called, and the job fails", () => {
      const reason = "deploy 0c7d… of proxy-router is running: one deploy at a time per app and environment";
      const f = fakes({
        invoke: [{ payload: { decision: "denied", requestId: REQUEST, reason, logGroups: [] } }],
      });
      try {
        const r = runSlot(f, 1, SERVICE);
        assert.notEqual(r.status, 0);
        assert.match(r.stdout, new RegExp(`::error title=image-deploy::${SERVICE}: ${reason}; nothing was deployed`));
        assert.deepEqual(
          f.awsCalls().map((c) => c.args.slice(0, 2).join(" ")),
          ["lambda invoke"],
        );
        assert.deepEqual(f.sleeps(), []);
        assert.match(
          r.summary,
          new RegExp(`\\| \`${SERVICE}\` \\| \`${TAG}\` \\| denied: ${reason}; nothing was deployed \\|  \\|`),
        );
        const finish = runFinish(f, SERVICE, "failure");
        assert.notEqual(finish.status, 0);
        const status = f.ghCalls().at(-1);
        assert.equal(
          status?.args,
          "api --method POST repos/lumerin-protocol/proxy-router/deployments/4242/statuses --input -",
        );
        assert.equal(status?.body.state, "failure");
        assert.equal(status?.body.description, `${SERVICE}: denied: ${reason}; nothing was deployed`.slice(0, 140));
      } finally {
        f.cleanup();
      }
    });

    it("a repeat (the invoke timed out, asked again with the same request id and a fresh token): follows the same execution", () => {
      const f = fakes({
        invoke: [
          {
            exit: 255,
            stderr: `\nRead timeout on endpoint URL: "https://lambda.us-east-1.amazonaws.com/2015-03-31/functions/deploy-invoker-lmn/invocations"`,
          },
          { payload: { ...started_().payload, decision: "running" } },
        ],
        runnerEvents: [runnerLine(2, 0, "begin: registered tsk-proxy-router:42")],
        machineEvents: [started(0), succeeded(30, 30)],
      });
      try {
        const r = runSlot(f, 1, SERVICE);
        assert.equal(r.status, 0, r.stdout + r.stderr);
        const [first, second] = f.payloads();
        assert.equal(first.requestId, REQUEST);
        assert.equal(second.requestId, REQUEST);
        assert.notEqual(first.oidcToken, second.oidcToken, "each token is used once");
        assert.match(
          r.stdout,
          /::warning title=image-deploy::svc-proxy-router-lmn-use1: aws lambda invoke failed \(exit 255\); asking again with the same request id/,
        );
        assert.match(r.stdout, new RegExp(`request ${REQUEST} is already running as ${EXECUTION}; following it`));
        assert.equal(printedRunnerLines(r.stdout).length, 1);
        assert.match(r.summary, /\| succeeded \|/);
      } finally {
        f.cleanup();
      }
    });

    const ends: [string, Record<string, unknown>, RegExp][] = [
      [
        "ExecutionFailed",
        {
          error: "RolloutFailed",
          cause:
            "deployment ecs-svc/5310627734 FAILED: alarm proxy-router-memory-high-lmn\nis in ALARM; ECS rolled back",
        },
        /the runner's execution ended ExecutionFailed \(RolloutFailed: deployment ecs-svc\/5310627734 FAILED: alarm proxy-router-memory-high-lmn is in ALARM; ECS rolled back\); its tag was not recorded/,
      ],
      [
        "ExecutionTimedOut",
        { error: "States.Timeout", cause: "The execution timed out." },
        /ended ExecutionTimedOut \(States\.Timeout: The execution timed out\.\)/,
      ],
      ["ExecutionAborted", {}, /ended ExecutionAborted; its tag was not recorded/],
    ];
    for (const [type, details, message] of ends) {
      it(`${type}: fails the job with the cause`, () => {
        const f = fakes({
          invoke: [started_()],
          runnerEvents: [runnerLine(2, 0, "begin: registered tsk-proxy-router:42")],
          machineEvents: [started(0), machineEvent(20, 15, 30, type, details)],
        });
        try {
          const r = runSlot(f, 1, SERVICE);
          assert.notEqual(r.status, 0);
          assert.match(r.stdout, new RegExp(`::error title=image-deploy::${SERVICE}: `));
          assert.match(r.stdout, message);
          assert.match(
            r.summary,
            new RegExp(`\\| failed: .*${type}.* \\| \`${EXECUTION.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\` \\|`),
          );
          assert.deepEqual(f.sleeps(), ["sleep 15"]);
        } finally {
          f.cleanup();
        }
      });
    }

    it("fails at the workflow's deadline (deadlineMinutes + the margin) when no end is logged", () => {
      const f = fakes({ invoke: [started_()], machineEvents: [started(0)] });
      try {
        const r = runSlot(f, 1, SERVICE, { POLL_SECONDS: "900" });
        assert.notEqual(r.status, 0);
        assert.match(
          r.stdout,
          new RegExp(
            `no end of execution ${EXECUTION.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} within 45 minutes \\(the runner's deadline and 5 more\\); it may still be running in AWS`,
          ),
        );
        // 40 + 5 minutes at one look every 15 minutes: three waits, then the look at the deadline.
        assert.deepEqual(f.sleeps(), ["sleep 900", "sleep 900", "sleep 900"]);
        assert.match(r.summary, /\| deadline: /);
      } finally {
        f.cleanup();
      }
    });

    it("a FunctionError (AWS did not answer the invoker) is asked again with the same request id and a new token; a start then follows that execution", () => {
      const f = fakes({
        invoke: [
          {
            functionError: "Unhandled",
            payload: { errorType: "InvokerFailure", errorMessage: "Step Functions StartExecution failed (500)" },
          },
          started_(),
        ],
        machineEvents: [started(), succeeded(44, 45)],
      });
      try {
        const r = runSlot(f, 1, SERVICE);
        assert.equal(r.status, 0, r.stdout + r.stderr);
        assert.match(
          r.stdout,
          /the invoker failed \(Unhandled\): Step Functions StartExecution failed \(500\); asking again with the same request id/,
        );
        const [first, second] = f.payloads();
        assert.equal(first.requestId, REQUEST);
        assert.equal(second.requestId, REQUEST);
        assert.notEqual(first.oidcToken, second.oidcToken, "each ask carries a new token (a token is used once)");
      } finally {
        f.cleanup();
      }
    });

    it("a FunctionError every time fails the job after the attempts, with the payload's errorMessage", () => {
      const f = fakes({
        invoke: [
          {
            functionError: "Unhandled",
            payload: {
              errorType: "TypeError",
              errorMessage: "Cannot read properties of undefined (reading 'holder')",
              trace: ["TypeError: ..."],
            },
          },
        ],
      });
      try {
        const r = runSlot(f, 1, SERVICE);
        assert.notEqual(r.status, 0);
        assert.match(
          r.stdout,
          /the invoker failed \(Unhandled\): Cannot read properties of undefined \(reading 'holder'\), 3 times/,
        );
        assert.equal(f.payloads().length, 3);
      } finally {
        f.cleanup();
      }
    });

    it("refuses an answer for another request, and a start without this request's execution", () => {
      const other = fakes({ invoke: [started_("5b1f7a0e-0c43-5d6e-8f21-7a9b3c4d5e6f")] });
      const noArn = fakes({ invoke: [{ payload: { decision: "started", requestId: REQUEST, logGroups: [] } }] });
      try {
        const a = runSlot(other, 1, SERVICE);
        assert.notEqual(a.status, 0);
        assert.match(
          a.stdout,
          new RegExp(`the invoker answered for request 5b1f7a0e-0c43-5d6e-8f21-7a9b3c4d5e6f, not ${REQUEST}`),
        );
        const b = runSlot(noArn, 1, SERVICE);
        assert.notEqual(b.status, 0);
        assert.match(b.stdout, /the invoker answered "started" without this request's execution ARN \(none\)/);
        assert.equal(noArn.awsCalls().length, 1, "nothing followed");
      } finally {
        other.cleanup();
        noArn.cleanup();
      }
    });
  });

  describe("the GitHub deployment and its final status", () => {
    const deployment = (f: Fakes) =>
      runStep(deploymentStep, {
        ...f.env,
        ...stepEnv(deploymentStep, {
          GH_TOKEN: "ghs_job-token",
          ENVIRONMENT: "main",
          IMAGE_TAG: TAG,
          SERVICES: `${SERVICE} ${VALIDATOR}`,
          REF: "9c06f03d0e8f1a2b3c4d5e6f708192a3b4c5d6e7",
        }),
      });

    it("is created for the environment at the start (no required contexts, never merging) and marked in progress", () => {
      const f = fakes({ invoke: [] });
      try {
        const r = deployment(f);
        assert.equal(r.status, 0, r.stdout + r.stderr);
        assert.deepEqual(r.outputs, { id: "4242" });
        assert.deepEqual(f.ghCalls(), [
          {
            args: "api --method POST repos/lumerin-protocol/proxy-router/deployments --input - --jq .id",
            body: {
              ref: "9c06f03d0e8f1a2b3c4d5e6f708192a3b4c5d6e7",
              environment: "main",
              auto_merge: false,
              required_contexts: [],
              description: `${TAG} by the deploy runner`,
              payload: { imageTag: TAG, services: [SERVICE, VALIDATOR] },
            },
          },
          {
            args: "api --method POST repos/lumerin-protocol/proxy-router/deployments/4242/statuses --input -",
            body: {
              state: "in_progress",
              log_url: `https://github.com/lumerin-protocol/proxy-router/actions/runs/${RUN_ID}`,
              description: "the deploy runner is deploying",
            },
          },
        ]);
        assert.deepEqual(deploymentStep.env?.GH_TOKEN, "${{ github.token }}");
      } finally {
        f.cleanup();
      }
    });

    it("success when every service succeeded; a service after a failed one is reported as not requested", () => {
      const ok = fakes({ invoke: [started_()], machineEvents: [succeeded(10, 0)] });
      try {
        assert.equal(runSlot(ok, 1, SERVICE).status, 0);
        const done = runFinish(ok, SERVICE, "success");
        assert.equal(done.status, 0, done.stdout + done.stderr);
        assert.deepEqual(ok.ghCalls().at(-1)?.body, {
          state: "success",
          description: `${TAG} deployed to ${SERVICE} by the deploy runner`,
          log_url: `https://github.com/lumerin-protocol/proxy-router/actions/runs/${RUN_ID}`,
          auto_inactive: true,
        });
        assert.equal(done.summary, "", "no row twice: the service's step wrote it");
        // Two services, the first failed: the second was never requested.
        const two = runFinish(ok, `${SERVICE} ${VALIDATOR}`, "failure");
        assert.equal(ok.ghCalls().at(-1)?.body.state, "failure");
        assert.equal(ok.ghCalls().at(-1)?.body.description, `${VALIDATOR} was not requested`);
        assert.equal(two.summary, `| \`${VALIDATOR}\` | \`${TAG}\` | not requested |  |\n`);
      } finally {
        ok.cleanup();
      }
    });

    for (const [end, state] of [
      ["ExecutionSucceeded", "success"],
      ["ExecutionFailed", "failure"],
    ] as const) {
      it(`after a cancellation, follows the execution the runner goes on with to its end: ${end} → ${state}`, () => {
        const f = fakes({
          invoke: [started_()],
          runnerEvents: [
            runnerLine(2, 0, "begin: registered tsk-proxy-router:42"),
            runnerLine(50, 60, "watch: ecs-svc/5310627734 COMPLETED"),
          ],
          machineEvents: [
            started(0),
            end === "ExecutionSucceeded"
              ? succeeded(55, 60)
              : machineEvent(55, 60, 30, end, {
                  error: "RolloutFailed",
                  cause: "deployment ecs-svc/5310627734 FAILED",
                }),
          ],
        });
        try {
          // GitHub stops the step at its second wait (SIGINT, then SIGTERM); the runner goes on in AWS.
          const cancelled = runSlot(f, 1, SERVICE, { KILL_AT_SLEEP: "2" });
          assert.notEqual(cancelled.status, 0);
          assert.equal(printedRunnerLines(cancelled.stdout).length, 1);
          const r = runFinish(f, SERVICE, "cancelled");
          assert.equal(r.status, state === "success" ? 0 : 1, r.stdout + r.stderr);
          assert.match(
            r.stdout,
            new RegExp(`the job ended \\(cancelled\\) while the runner was deploying; following ${EXECUTION}`),
          );
          // The line seen before the cancellation is not printed again; the later one is.
          assert.deepEqual(printedRunnerLines(r.stdout), [
            `runner | ${new Date((T0 + 50) * 1000).toISOString()}\t0f8e3c1a-5b7d-4e2f-9a61-2d4c8b9e7f10\tINFO\t${REQUEST} watch: ecs-svc/5310627734 COMPLETED`,
          ]);
          const status = f.ghCalls().at(-1);
          assert.equal(status?.body.state, state);
          assert.match(
            r.summary,
            new RegExp(`\\| \`${SERVICE}\` \\| \`${TAG}\` \\| ${state === "success" ? "succeeded" : "failed: "}`),
          );
          // No new request: the finish step only reads logs.
          assert.equal(f.awsCalls().filter((c) => c.args[0] === "lambda").length, 1);
        } finally {
          f.cleanup();
        }
      });
    }

    it("runs always() and only where the runner path created a deployment, with the job's token", () => {
      assert.ok(finishStep);
      assert.equal(finishStep.if, "always() && vars.DEPLOY_RUNNER != '' && steps.deployment.outputs.id != ''");
      assert.equal(finishStep.run, 'bash "$RUNNER_TEMP/deploy-runner.sh" finish');
      assert.equal(finishStep.env?.GH_TOKEN, "${{ github.token }}");
      assert.equal(finishStep.env?.JOB_STATUS, "${{ job.status }}");
      assert.equal(finishStep.env?.POLL_SECONDS, slot(1).env?.POLL_SECONDS);
      assert.equal(finishStep.env?.MARGIN_MINUTES, slot(1).env?.MARGIN_MINUTES);
    });
  });
});
