import { strict as assert } from "node:assert";
import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
} from "@aws-sdk/client-ecs";
import { ConditionalCheckFailedException, DeleteItemCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { mockClient } from "aws-sdk-client-mock";
import type { Begun, RunnerState } from "../lambdas/deploy-runner/contract";
import { RunnerDeps, StepLog, handler, runStep } from "../lambdas/deploy-runner/handler";
import { READ_ONLY_FIELDS, renderTaskDefinition } from "../lambdas/deploy-runner/render";
import { decide } from "../lambdas/deploy-runner/watch";
import {
  CLUSTER,
  CONTAINER,
  EXTERNAL_DEPLOYMENT,
  INPUT,
  NEW_IMAGE,
  NEW_TD,
  OLD_TD,
  OUR_DEPLOYMENT,
  ROLLBACK_DEPLOYMENT,
  SERVICE,
  START,
  TABLE,
  completed,
  described,
  deployment,
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

const BEGUN: Begun = { deploymentId: OUR_DEPLOYMENT, taskDefinitionArn: NEW_TD, previousTaskDefinitionArn: OLD_TD };
const TARGET = { cluster: CLUSTER, service: SERVICE };
const DEADLINE = new Date(INPUT.deadline);
const at = (minutes: number) => new Date(START.getTime() + minutes * 60_000);

/** Every client mock a test made, restored after it so that no stub outlives its test. */
const stubs: { restore(): void }[] = [];

function mocks() {
  const ecs = mockClient(ECSClient);
  const ssm = mockClient(SSMClient);
  const dynamodb = mockClient(DynamoDBClient);
  stubs.push(ecs, ssm, dynamodb);
  let now = START;
  const lines: StepLog[] = [];
  const deps: RunnerDeps = {
    log: (line) => void lines.push(line),
    ecs: new ECSClient({ region: "us-east-1" }),
    ssm: new SSMClient({ region: "us-east-1" }),
    dynamodb: new DynamoDBClient({ region: "us-east-1" }),
    now: () => now,
  };
  return { ecs, ssm, dynamodb, deps, lines, setNow: (d: Date) => void (now = d) };
}

/** The fields of a task definition RegisterTaskDefinition would carry over (everything ECS does not set itself). */
function writable(td: Record<string, unknown>): Record<string, unknown> {
  const copy = { ...td };
  for (const f of READ_ONLY_FIELDS) delete copy[f];
  return copy;
}

describe("deploy runner: render", () => {
  it("the rendered definition equals the running one except the named container's image (deep comparison)", () => {
    const { taskDefinition, tags } = runningTaskDefinition();
    const rendered = renderTaskDefinition(taskDefinition!, tags!, CONTAINER, NEW_IMAGE);
    const expected = writable(structuredClone(taskDefinition!) as Record<string, unknown>);
    (expected.containerDefinitions as { image?: string }[])[0].image = NEW_IMAGE;
    assert.deepEqual(rendered, { ...expected, tags });
    // Nothing else moved: with the old image back, it is the running definition minus ECS's own fields.
    const back = structuredClone(rendered);
    back.containerDefinitions![0].image = taskDefinition!.containerDefinitions![0].image;
    delete back.tags;
    assert.deepEqual(back, writable(taskDefinition as Record<string, unknown>));
  });

  it("strips every read-only field ECS returns and keeps the tags", () => {
    const { taskDefinition, tags } = runningTaskDefinition();
    const rendered = renderTaskDefinition(taskDefinition!, tags!, CONTAINER, NEW_IMAGE) as unknown as Record<
      string,
      unknown
    >;
    for (const f of [
      "taskDefinitionArn",
      "revision",
      "status",
      "requiresAttributes",
      "compatibilities",
      "registeredAt",
      "registeredBy",
    ])
      assert.equal(f in rendered, false, f);
    assert.deepEqual(rendered.tags, [
      { key: "app", value: "proxy-router" },
      { key: "env", value: "dev" },
    ]);
  });

  it("changes only the named container of several", () => {
    const { taskDefinition } = runningTaskDefinition();
    const sidecar = {
      name: "log-router",
      image: "public.ecr.aws/aws-observability/aws-for-fluent-bit:2.32.0",
      essential: true,
    };
    const td = { ...taskDefinition!, containerDefinitions: [sidecar, ...taskDefinition!.containerDefinitions!] };
    const rendered = renderTaskDefinition(td, [], CONTAINER, NEW_IMAGE);
    assert.deepEqual(rendered.containerDefinitions![0], sidecar);
    assert.equal(rendered.containerDefinitions![1].image, NEW_IMAGE);
    assert.equal("tags" in rendered, false);
  });

  it("does not modify the running definition it was given", () => {
    const { taskDefinition, tags } = runningTaskDefinition();
    const before = structuredClone(taskDefinition!);
    renderTaskDefinition(taskDefinition!, tags!, CONTAINER, NEW_IMAGE);
    assert.deepEqual(taskDefinition, before);
  });

  it("refuses a container that is not in the definition, naming the ones that are", () => {
    const { taskDefinition } = runningTaskDefinition();
    assert.throws(
      () => renderTaskDefinition(taskDefinition!, [], "proxy-validator-container", NEW_IMAGE),
      /expected one container named proxy-validator-container, found 0 \(containers: proxy-router-container\)/,
    );
  });

  it("refuses a field it does not know how to copy (the SDK would drop it silently)", () => {
    const { taskDefinition } = runningTaskDefinition();
    const td = { ...taskDefinition!, futureSetting: { on: true } };
    assert.throws(() => renderTaskDefinition(td, [], CONTAINER, NEW_IMAGE), /unknown field\(s\) futureSetting/);
  });
});

describe("deploy runner: watch's decision", () => {
  const cases: [string, ReturnType<typeof described>, Date, string, RegExp][] = [
    ["rolling out", rollingOut(2), at(2), "in-progress", /^$/],
    [
      "ours completed and primary",
      completed(),
      at(6),
      "completed",
      /ecs-svc\/9917364528193746501 \(PRIMARY, COMPLETED/,
    ],
    ["ours FAILED", failedRollout(), at(6), "failed", /failed: ECS deployment circuit breaker: tasks failed to start/],
    [
      "the circuit breaker rolled back (a new PRIMARY with the old revision)",
      rolledBack(),
      at(7),
      "failed",
      new RegExp(
        `was rolled back: ${ROLLBACK_DEPLOYMENT} .* is primary with the previous revision; ours: .*rolling back`,
      ),
    ],
    [
      "a silent rollback (the rollback completed, ours INACTIVE and COMPLETED)",
      rolledBackQuietly(),
      at(9),
      "failed",
      /was rolled back/,
    ],
    [
      "another deployment became primary",
      externalDeploy(),
      at(3),
      "failed",
      new RegExp(`another deployment became primary: ${EXTERNAL_DEPLOYMENT}`),
    ],
    [
      "a missing service",
      missing(),
      at(1),
      "failed",
      /svc-proxy-router-dev-use1 in ecs-proxy-router-dev-use1: MISSING/,
    ],
    [
      "the deadline passed while still rolling out",
      rollingOut(30),
      DEADLINE,
      "failed",
      /deadline 2026-12-02T01:30:00.000Z passed/,
    ],
    [
      "ours is no longer listed",
      described(deployment({ id: "ecs-svc/1", status: "ACTIVE", taskDefinition: OLD_TD })),
      at(3),
      "failed",
      /no longer listed/,
    ],
    [
      "ours is no longer primary though none other is",
      described(
        deployment({ id: OUR_DEPLOYMENT, status: "ACTIVE", taskDefinition: NEW_TD, rolloutState: "IN_PROGRESS" }),
      ),
      at(3),
      "failed",
      /is ACTIVE, no longer primary/,
    ],
    [
      "a draining service",
      { ...completed(), services: [{ ...completed().services![0], status: "DRAINING" }] },
      at(3),
      "failed",
      /is DRAINING/,
    ],
    [
      "our deployment id on another revision than Begin registered does not count",
      described(deployment({ id: OUR_DEPLOYMENT, status: "PRIMARY", taskDefinition: OLD_TD })),
      at(3),
      "failed",
      /runs .*tsk-proxy-router:41, not .*tsk-proxy-router:42/,
    ],
  ];
  for (const [name, response, now, status, reason] of cases)
    it(`${name}: ${status}`, () => {
      const result = decide(response, TARGET, BEGUN, DEADLINE, now);
      assert.equal(result.status, status, result.reason);
      assert.match(result.reason, reason);
    });
});

describe("deploy runner: the Lambda's steps against mocked clients", () => {
  afterEach(() => stubs.splice(0).forEach((s) => s.restore()));

  const state = (over: Partial<RunnerState> = {}): RunnerState => ({ ...INPUT, ...over });

  it("begin: DescribeServices, DescribeTaskDefinition (with tags), the exact RegisterTaskDefinition and UpdateService, our deployment's id", async () => {
    const m = mocks();
    m.ecs.on(DescribeServicesCommand).resolves(described(steady()));
    m.ecs.on(DescribeTaskDefinitionCommand).resolves(runningTaskDefinition());
    m.ecs.on(RegisterTaskDefinitionCommand).resolves({ taskDefinition: { taskDefinitionArn: NEW_TD, revision: 42 } });
    m.ecs.on(UpdateServiceCommand).resolves(updated());
    const result = await runStep({ action: "begin", state: state() }, m.deps);
    assert.deepEqual(result, BEGUN);

    assert.deepEqual(m.ecs.commandCalls(DescribeServicesCommand)[0].args[0].input, {
      cluster: CLUSTER,
      services: [SERVICE],
    });
    assert.deepEqual(m.ecs.commandCalls(DescribeTaskDefinitionCommand)[0].args[0].input, {
      taskDefinition: OLD_TD,
      include: ["TAGS"],
    });
    const { taskDefinition, tags } = runningTaskDefinition();
    const expected = writable(taskDefinition as Record<string, unknown>);
    (expected.containerDefinitions as { image?: string }[])[0].image = NEW_IMAGE;
    const registered = m.ecs.commandCalls(RegisterTaskDefinitionCommand);
    assert.equal(registered.length, 1);
    assert.deepEqual(registered[0].args[0].input, { ...expected, tags });
    const updates = m.ecs.commandCalls(UpdateServiceCommand);
    assert.equal(updates.length, 1);
    assert.deepEqual(updates[0].args[0].input, { cluster: CLUSTER, service: SERVICE, taskDefinition: NEW_TD });
    assert.equal(m.ssm.calls().length + m.dynamodb.calls().length, 0);
    assert.deepEqual(m.lines, [
      { step: "begin", requestId: INPUT.requestId, app: "proxy-router", environment: "dev", ...BEGUN },
    ]);
  });

  it("begin refuses an image of another repository, or a tag other than the recorded release, before touching ECS", async () => {
    for (const image of [
      `evil.example.com/x@sha256:${"ab".repeat(32)}`,
      `${INPUT.target.imageRepository}:latest`,
      `${INPUT.target.imageRepository}-fork:${INPUT.imageTag}`,
    ]) {
      const m = mocks();
      await assert.rejects(
        runStep({ action: "begin", state: state({ image }) }, m.deps),
        new RegExp(
          `refused before touching ${SERVICE}: image .* is not ${INPUT.target.imageRepository.replace(/[.]/g, "\\.")} by digest or by its release tag`,
        ),
      );
      assert.equal(m.ecs.calls().length, 0, image);
    }
  });

  it("begin on a missing service fails naming it, and registers nothing", async () => {
    const m = mocks();
    m.ecs.on(DescribeServicesCommand).resolves(missing());
    await assert.rejects(
      runStep({ action: "begin", state: state() }, m.deps),
      /svc-proxy-router-dev-use1 in ecs-proxy-router-dev-use1: MISSING/,
    );
    // The failure is a line of this request too: the workflow streams it.
    assert.deepEqual(m.lines, [
      {
        step: "begin",
        requestId: INPUT.requestId,
        app: "proxy-router",
        environment: "dev",
        error: "service svc-proxy-router-dev-use1 in ecs-proxy-router-dev-use1: MISSING",
      },
    ]);
    assert.equal(m.ecs.commandCalls(RegisterTaskDefinitionCommand).length, 0);
    assert.equal(m.ecs.commandCalls(UpdateServiceCommand).length, 0);
  });

  it("begin while another deployment rolls out refuses to start a second one", async () => {
    const m = mocks();
    m.ecs.on(DescribeServicesCommand).resolves(externalDeploy());
    await assert.rejects(
      runStep({ action: "begin", state: state() }, m.deps),
      /has a deployment in progress .*not starting another/,
    );
    assert.equal(m.ecs.commandCalls(RegisterTaskDefinitionCommand).length, 0);
  });

  it("begin fails when UpdateService's response has no primary deployment of the new revision", async () => {
    const m = mocks();
    m.ecs.on(DescribeServicesCommand).resolves(described(steady()));
    m.ecs.on(DescribeTaskDefinitionCommand).resolves(runningTaskDefinition());
    m.ecs.on(RegisterTaskDefinitionCommand).resolves({ taskDefinition: { taskDefinitionArn: NEW_TD } });
    m.ecs.on(UpdateServiceCommand).resolves({ service: described(steady()).services![0] });
    await assert.rejects(runStep({ action: "begin", state: state() }, m.deps), /started no primary deployment/);
  });

  it("watch: one DescribeServices, decided against the state's deployment and deadline", async () => {
    const m = mocks();
    m.ecs.on(DescribeServicesCommand).resolvesOnce(rollingOut(1)).resolvesOnce(completed());
    m.setNow(at(1));
    assert.deepEqual(await runStep({ action: "watch", state: state({ begun: BEGUN }) }, m.deps), {
      status: "in-progress",
      reason: "",
    });
    const done = await runStep({ action: "watch", state: state({ begun: BEGUN }) }, m.deps);
    // Each look is one log line with the request id, the status and the reason: what the workflow streams.
    assert.deepEqual(
      m.lines.map((l) => [l.step, l.requestId, l.status]),
      [
        ["watch", INPUT.requestId, "in-progress"],
        ["watch", INPUT.requestId, "completed"],
      ],
    );
    assert.match(String(m.lines[1].reason), /ecs-svc\/9917364528193746501 \(PRIMARY, COMPLETED/);
    assert.equal((done as { status: string }).status, "completed");
    assert.equal(m.ecs.commandCalls(DescribeServicesCommand).length, 2);
    assert.deepEqual(m.ecs.commandCalls(DescribeServicesCommand)[1].args[0].input, {
      cluster: CLUSTER,
      services: [SERVICE],
    });
  });

  it("watch without a begun deployment throws", async () => {
    const m = mocks();
    await assert.rejects(runStep({ action: "watch", state: state() }, m.deps), /no begun deployment/);
    assert.equal(m.ecs.calls().length, 0);
  });

  it("record: PutParameter of the tag (String, Overwrite) into the target's parameter", async () => {
    const m = mocks();
    m.ssm.on(PutParameterCommand).resolves({ Version: 7, Tier: "Standard" });
    const result = await runStep(
      { action: "record", state: state({ begun: BEGUN, watch: { status: "completed", reason: "done" } }) },
      m.deps,
    );
    assert.deepEqual(result, { parameter: "/proxy-router/dev/image-tag", tag: "v3.2.1-dev", version: 7 });
    assert.deepEqual(m.ssm.commandCalls(PutParameterCommand)[0].args[0].input, {
      Name: "/proxy-router/dev/image-tag",
      Value: "v3.2.1-dev",
      Type: "String",
      Overwrite: true,
    });
  });

  for (const watch of [
    undefined,
    { status: "failed" as const, reason: "x" },
    { status: "in-progress" as const, reason: "" },
  ])
    it(`record refuses unless the watch completed (watch: ${watch?.status ?? "none"})`, async () => {
      const m = mocks();
      await assert.rejects(
        runStep({ action: "record", state: state({ begun: BEGUN, watch }) }, m.deps),
        /has not completed/,
      );
      assert.equal(m.ssm.calls().length, 0);
    });

  it("release: DeleteItem of the lease conditioned on this request holding the one it ran under (holder and deadline)", async () => {
    const m = mocks();
    m.dynamodb.on(DeleteItemCommand).resolves({});
    assert.deepEqual(await runStep({ action: "release", state: state() }, m.deps), { released: true });
    assert.deepEqual(m.dynamodb.commandCalls(DeleteItemCommand)[0].args[0].input, {
      TableName: TABLE,
      Key: { pk: { S: "lease#proxy-router#dev" } },
      ConditionExpression: "holder = :requestId AND deadline = :deadline",
      ExpressionAttributeValues: { ":requestId": { S: INPUT.requestId }, ":deadline": { S: INPUT.deadline } },
    });
  });

  it("release of a lease another request holds now deletes nothing and says so", async () => {
    const m = mocks();
    m.dynamodb
      .on(DeleteItemCommand)
      .rejects(new ConditionalCheckFailedException({ message: "The conditional request failed", $metadata: {} }));
    assert.deepEqual(await runStep({ action: "release", state: state() }, m.deps), { released: false });
  });

  it("release passes on any other error (the state machine retries it)", async () => {
    const m = mocks();
    m.dynamodb.on(DeleteItemCommand).rejects(new Error("ProvisionedThroughputExceededException"));
    await assert.rejects(runStep({ action: "release", state: state() }, m.deps), /ProvisionedThroughputExceeded/);
  });

  const bad: [string, unknown, RegExp][] = [
    ["an unknown action", { action: "deploy", state: INPUT }, /action: /],
    ["an extra event field", { action: "begin", state: INPUT, cluster: "other" }, /\(event\): Unrecognized key/],
    [
      "an extra state field (a caller-chosen cluster)",
      { action: "begin", state: { ...INPUT, cluster: "x" } },
      /state: Unrecognized key/,
    ],
    [
      "a target missing its service",
      { action: "begin", state: { ...INPUT, target: { ...INPUT.target, service: "" } } },
      /state\.target\.service/,
    ],
    ["a malformed image", { action: "begin", state: { ...INPUT, image: "proxy-router latest" } }, /state\.image/],
  ];
  for (const [name, event, error] of bad)
    it(`refuses ${name} before any AWS call`, async () => {
      const m = mocks();
      await assert.rejects(runStep(event, m.deps), error);
      assert.equal(m.ecs.calls().length + m.ssm.calls().length + m.dynamodb.calls().length, 0);
    });

  it("the Lambda entry point runs a step with its own clients and logs one line to the function's log", async () => {
    const dynamodb = mockClient(DynamoDBClient);
    dynamodb.on(DeleteItemCommand).resolves({});
    const logged: unknown[] = [];
    const info = console.info;
    console.info = (line: unknown) => void logged.push(line);
    try {
      assert.deepEqual(await handler({ action: "release", state: INPUT }), { released: true });
    } finally {
      console.info = info;
      dynamodb.restore();
    }
    assert.equal(dynamodb.commandCalls(DeleteItemCommand).length, 1);
    assert.deepEqual(logged, [
      { step: "release", requestId: INPUT.requestId, app: "proxy-router", environment: "dev", released: true },
    ]);
  });
});
