import { strict as assert } from "node:assert";
import {
  DescribeServicesCommand,
  DescribeServicesCommandOutput,
  DescribeTaskDefinitionCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
} from "@aws-sdk/client-ecs";
import { DeleteItemCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { mockClient } from "aws-sdk-client-mock";
import { runStep } from "../lambdas/deploy-runner/handler";
import {
  AslTask,
  DEFAULT_WAIT_SECONDS,
  JsonValue,
  LAMBDA_INVOKE,
  TIMEOUT_MARGIN_SECONDS,
  runnerDefinition,
} from "../lambdas/deploy-runner/state-machine";
import { ExecutionResult, FakeClock, execute, fakeClock } from "./support/asl";
import {
  INPUT,
  NEW_TD,
  START,
  completed,
  described,
  externalDeploy,
  failedRollout,
  missing,
  rolledBack,
  rolledBackQuietly,
  rollingOut,
  runningTaskDefinition,
  steady,
  updated,
} from "./support/deploy-runner-fixtures";

const FN = "arn:aws:lambda:us-east-1:434960487817:function:deploy-runner-dev";
const DEFINITION = runnerDefinition({ runnerFunctionArn: FN, deadlineMinutes: 30 });

describe("deploy runner: the state machine's definition", () => {
  const task = (name: string) => DEFINITION.States[name] as AslTask;

  it("Begin → Wait → Watch → Decide, completed → Record → ReleaseAfterSuccess → Succeeded", () => {
    assert.equal(DEFINITION.StartAt, "Begin");
    assert.equal(task("Begin").Next, "Wait");
    assert.deepEqual(DEFINITION.States.Wait, { Type: "Wait", Seconds: DEFAULT_WAIT_SECONDS, Next: "Watch" });
    assert.equal(task("Watch").Next, "Decide");
    assert.deepEqual(DEFINITION.States.Decide, {
      Type: "Choice",
      Choices: [
        { Variable: "$.watch.status", StringEquals: "completed", Next: "Record" },
        { Variable: "$.watch.status", StringEquals: "in-progress", Next: "Wait" },
      ],
      Default: "WatchFailed",
    });
    assert.equal(task("Record").Next, "ReleaseAfterSuccess");
    assert.equal(task("ReleaseAfterSuccess").Next, "Succeeded");
    assert.deepEqual(DEFINITION.States.Succeeded, { Type: "Succeed" });
  });

  it("a failed watch and every error of Begin, Watch and Record go through ReleaseAfterFailure to Failed", () => {
    assert.equal((DEFINITION.States.WatchFailed as { Next: string }).Next, "ReleaseAfterFailure");
    for (const name of ["Begin", "Watch", "Record"])
      assert.deepEqual(
        task(name).Catch,
        [{ ErrorEquals: ["States.ALL"], ResultPath: "$.failure", Next: "ReleaseAfterFailure" }],
        name,
      );
    assert.equal(task("ReleaseAfterFailure").Next, "Failed");
    assert.deepEqual(DEFINITION.States.Failed, {
      Type: "Fail",
      ErrorPath: "$.failure.Error",
      CausePath: "$.failure.Cause",
    });
  });

  it("every Task invokes the runner Lambda only, with its action and the whole state", () => {
    const tasks = Object.entries(DEFINITION.States).filter(([, s]) => s.Type === "Task") as [string, AslTask][];
    assert.deepEqual(
      tasks.map(([name, t]) => [name, t.Resource, t.Parameters]),
      [
        ["Begin", LAMBDA_INVOKE, { FunctionName: FN, Payload: { action: "begin", "state.$": "$" } }],
        ["Watch", LAMBDA_INVOKE, { FunctionName: FN, Payload: { action: "watch", "state.$": "$" } }],
        ["Record", LAMBDA_INVOKE, { FunctionName: FN, Payload: { action: "record", "state.$": "$" } }],
        ["ReleaseAfterSuccess", LAMBDA_INVOKE, { FunctionName: FN, Payload: { action: "release", "state.$": "$" } }],
        ["ReleaseAfterFailure", LAMBDA_INVOKE, { FunctionName: FN, Payload: { action: "release", "state.$": "$" } }],
      ],
    );
  });

  it("Begin is retried only when Lambda did not run it (a second UpdateService would start a second deployment)", () => {
    assert.deepEqual(
      task("Begin").Retry!.flatMap((r) => r.ErrorEquals),
      ["Lambda.TooManyRequestsException"],
    );
  });

  it("TimeoutSeconds is the deadline plus the margin, and the margin outlasts the last Wait, Watch and Release", () => {
    assert.equal(DEFINITION.TimeoutSeconds, 30 * 60 + TIMEOUT_MARGIN_SECONDS);
    assert.equal(
      runnerDefinition({ runnerFunctionArn: FN, deadlineMinutes: 10 }).TimeoutSeconds,
      600 + TIMEOUT_MARGIN_SECONDS,
    );
    assert.ok(TIMEOUT_MARGIN_SECONDS >= 2 * DEFAULT_WAIT_SECONDS);
  });

  it("refuses a deadline or wait it cannot honour, naming it", () => {
    assert.throws(() => runnerDefinition({ runnerFunctionArn: FN, deadlineMinutes: 0 }), /deadlineMinutes 0/);
    assert.throws(() => runnerDefinition({ runnerFunctionArn: FN, deadlineMinutes: 2.5 }), /deadlineMinutes 2.5/);
    assert.throws(
      () => runnerDefinition({ runnerFunctionArn: FN, deadlineMinutes: 30, waitSeconds: TIMEOUT_MARGIN_SECONDS }),
      /waitSeconds 120/,
    );
  });

  it("is plain JSON (what the state machine resource gets)", () => {
    assert.deepEqual(JSON.parse(JSON.stringify(DEFINITION)), DEFINITION);
  });
});

/** The clients behind the runner Lambda, a fake clock, and a DescribeServices sequence that advances with it. */
/** Every client mock a test made, restored after it so that no stub outlives its test. */
const stubs: { restore(): void }[] = [];

function world(sequence: (minutes: number) => DescribeServicesCommandOutput, clock: FakeClock = fakeClock(START)) {
  const ecs = mockClient(ECSClient);
  const ssm = mockClient(SSMClient);
  const dynamodb = mockClient(DynamoDBClient);
  stubs.push(ecs, ssm, dynamodb);
  let begun = false;
  ecs.on(DescribeServicesCommand).callsFake(() => {
    if (!begun) return described(steady());
    return sequence((clock.now().getTime() - START.getTime()) / 60_000);
  });
  ecs.on(DescribeTaskDefinitionCommand).resolves(runningTaskDefinition());
  ecs.on(RegisterTaskDefinitionCommand).resolves({ taskDefinition: { taskDefinitionArn: NEW_TD, revision: 42 } });
  ecs.on(UpdateServiceCommand).callsFake(() => {
    begun = true;
    return updated();
  });
  ssm.on(PutParameterCommand).resolves({ Version: 3 });
  dynamodb.on(DeleteItemCommand).resolves({});
  const deps = {
    ecs: new ECSClient({ region: "us-east-1" }),
    ssm: new SSMClient({ region: "us-east-1" }),
    dynamodb: new DynamoDBClient({ region: "us-east-1" }),
    now: () => clock.now(),
    log: () => undefined,
  };
  const run = (): Promise<ExecutionResult> =>
    execute(DEFINITION, INPUT as unknown as JsonValue, { [FN]: (payload) => runStep(payload, deps) }, clock);
  return { ecs, ssm, dynamodb, clock, run };
}

const states = (r: ExecutionResult) => [...new Set(r.trace.map((t) => t.state))];

describe("deploy runner: recorded sequences through the real definition", () => {
  afterEach(() => stubs.splice(0).forEach((s) => s.restore()));

  it("success: rolls out, completes, records the tag, releases the lease, succeeds", async () => {
    const w = world((m) => (m < 3 ? rollingOut(m) : completed()));
    const result = await w.run();
    assert.equal(result.status, "SUCCEEDED", JSON.stringify(result));
    assert.deepEqual(states(result), [
      "Begin",
      "Wait",
      "Watch",
      "Decide",
      "Record",
      "ReleaseAfterSuccess",
      "Succeeded",
    ]);
    assert.equal(w.ecs.commandCalls(UpdateServiceCommand).length, 1);
    assert.equal(w.ecs.commandCalls(RegisterTaskDefinitionCommand).length, 1);
    assert.deepEqual(w.ssm.commandCalls(PutParameterCommand)[0].args[0].input, {
      Name: INPUT.target.tagParameter,
      Value: INPUT.imageTag,
      Type: "String",
      Overwrite: true,
    });
    assert.equal(w.dynamodb.commandCalls(DeleteItemCommand).length, 1);
    // One look per wait: 3 minutes of rolling out at 15 s, then the completed look.
    assert.equal(w.ecs.commandCalls(DescribeServicesCommand).length, 1 + 12);
    const output = (result as unknown as { output: { begun: unknown; watch: { status: string } } }).output;
    assert.equal(output.watch.status, "completed");
  });

  const failures: [string, (m: number) => DescribeServicesCommandOutput, RegExp][] = [
    [
      "failure (ours FAILED)",
      (m) => (m < 2 ? rollingOut(m) : failedRollout()),
      /failed: ECS deployment circuit breaker/,
    ],
    [
      "silent rollback (a new PRIMARY with the old revision)",
      (m) => (m < 2 ? rollingOut(m) : rolledBack()),
      /was rolled back/,
    ],
    [
      "silent rollback seen only after it completed (ours INACTIVE, COMPLETED)",
      (m) => (m < 2 ? rollingOut(m) : rolledBackQuietly()),
      /was rolled back/,
    ],
    [
      "a concurrent external deploy",
      (m) => (m < 1 ? rollingOut(m) : externalDeploy()),
      /another deployment became primary/,
    ],
    ["the service went missing", (m) => (m < 1 ? rollingOut(m) : missing()), /MISSING/],
    ["the deadline (never completes)", (m) => rollingOut(m), /deadline 2026-12-02T01:30:00.000Z passed/],
  ];
  for (const [name, sequence, cause] of failures)
    it(`${name}: releases the lease, never records, fails with the cause`, async () => {
      const w = world(sequence);
      const result = await w.run();
      assert.equal(result.status, "FAILED", JSON.stringify(result).slice(0, 300));
      if (result.status !== "FAILED") return;
      assert.equal(result.error, "DeployFailed");
      assert.match(result.cause, cause);
      assert.deepEqual(states(result).slice(-3), ["WatchFailed", "ReleaseAfterFailure", "Failed"]);
      assert.equal(w.ssm.commandCalls(PutParameterCommand).length, 0);
      assert.equal(w.dynamodb.commandCalls(DeleteItemCommand).length, 1);
      assert.equal(w.ecs.commandCalls(UpdateServiceCommand).length, 1);
    });

  it("the deadline fails the deploy (and releases) before the execution's own timeout", async () => {
    const w = world((m) => rollingOut(m));
    const result = await w.run();
    assert.equal(result.status, "FAILED");
    const elapsed = (w.clock.now().getTime() - START.getTime()) / 1000;
    assert.ok(elapsed >= 30 * 60 && elapsed <= DEFINITION.TimeoutSeconds, String(elapsed));
  });

  it("an error in Begin (the service is missing) is caught: releases, never updates or records", async () => {
    const w = world(() => missing());
    w.ecs.on(DescribeServicesCommand).resolves(missing());
    const result = await w.run();
    assert.equal(result.status, "FAILED");
    if (result.status !== "FAILED") return;
    assert.equal(result.error, "Error");
    assert.match(result.cause, /svc-proxy-router-dev-use1 in ecs-proxy-router-dev-use1: MISSING/);
    assert.deepEqual(states(result), ["Begin", "ReleaseAfterFailure", "Failed"]);
    assert.equal(w.ecs.commandCalls(UpdateServiceCommand).length, 0);
    assert.equal(w.ssm.commandCalls(PutParameterCommand).length, 0);
    assert.equal(w.dynamodb.commandCalls(DeleteItemCommand).length, 1);
  });

  it("a Record that keeps failing fails the deploy and still releases the lease", async () => {
    const w = world((m) => (m < 1 ? rollingOut(m) : completed()));
    w.ssm.on(PutParameterCommand).rejects(new Error("AccessDeniedException: not authorized"));
    const result = await w.run();
    assert.equal(result.status, "FAILED");
    assert.deepEqual(states(result).slice(-3), ["Record", "ReleaseAfterFailure", "Failed"]);
    assert.equal(w.dynamodb.commandCalls(DeleteItemCommand).length, 1);
  });

  it("a throttled Begin is retried and then runs once", async () => {
    const w = world((m) => (m < 1 ? rollingOut(m) : completed()));
    let throttled = 0;
    const deps = {
      ecs: new ECSClient({ region: "us-east-1" }),
      ssm: new SSMClient({ region: "us-east-1" }),
      dynamodb: new DynamoDBClient({ region: "us-east-1" }),
      now: () => w.clock.now(),
      log: () => undefined,
    };
    const result = await execute(
      DEFINITION,
      INPUT as unknown as JsonValue,
      {
        [FN]: async (payload) => {
          if ((payload as { action: string }).action === "begin" && throttled++ === 0) {
            const e = new Error("Rate exceeded");
            e.name = "Lambda.TooManyRequestsException";
            throw e;
          }
          return runStep(payload, deps);
        },
      },
      w.clock,
    );
    assert.equal(result.status, "SUCCEEDED");
    assert.equal(w.ecs.commandCalls(UpdateServiceCommand).length, 1);
  });

  it("the execution's TimeoutSeconds stops a run whose steps hang past it (the interpreter honours the definition)", async () => {
    const clock = fakeClock(START);
    const w = world((m) => rollingOut(m), clock);
    const deps = {
      ecs: new ECSClient({ region: "us-east-1" }),
      ssm: new SSMClient({ region: "us-east-1" }),
      dynamodb: new DynamoDBClient({ region: "us-east-1" }),
      // The Lambda's clock is wrong: it never sees the deadline pass.
      now: () => START,
      log: () => undefined,
    };
    const result = await execute(DEFINITION, INPUT as unknown as JsonValue, { [FN]: (p) => runStep(p, deps) }, clock);
    assert.equal(result.status, "TIMED_OUT");
    assert.equal(w.ssm.commandCalls(PutParameterCommand).length, 0);
  });
});
