/**
 * The deploy invoker's handler against mocked AWS SDK clients (DynamoDB and
 * Step Functions answering through in-memory fakes that evaluate the
 * conditions as AWS does) and tokens signed by a local key: what it starts,
 * exactly; every denial, with nothing started; the lease; idempotency; and AWS
 * errors failing closed.
 */
import assert from "node:assert/strict";
import {
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  ThrottlingException,
  type PutItemCommandInput,
} from "@aws-sdk/client-dynamodb";
import { StartExecutionCommand } from "@aws-sdk/client-sfn";
import { GetParameterCommand, GetParameterHistoryCommand, ParameterNotFound } from "@aws-sdk/client-ssm";
import type { InvokerResponse } from "../lambdas/deploy-invoker/handler";
import { LEASE_CONDITION, RELEASE_CONDITION } from "../lambdas/deploy-invoker/replay-and-lease";
import { RunnerInputSchema } from "../lambdas/deploy-runner/contract";
import {
  awsError,
  ENTRY,
  environmentOf,
  FakeStateMachine,
  invoker,
  LOG_GROUPS,
  mocks,
  NOW_S,
  request,
  REQUEST_ID,
  resetAws,
  STATE_MACHINE_ARN,
  TABLE,
  TARGET,
  token,
  type FakeTable,
  type FakeStateMachine as Machine,
  ghcrDigest,
} from "./support/deploy-invoker";

const EXECUTION_ARN = FakeStateMachine.arnOf(REQUEST_ID);
const LEASE_PK = "lease#proxy-router#lmn";
/** NOW + 30 min (DEADLINE_MINUTES) and NOW + 45 min (LEASE_MINUTES). */
const DEADLINE = "2026-12-02T00:30:00.000Z";
const LEASE_EXPIRES_AT = NOW_S + 45 * 60;

/** The runner input for the admitted request: every field, in full. */
const EXPECTED_INPUT = {
  requestId: REQUEST_ID,
  app: "proxy-router",
  environment: "lmn",
  target: {
    cluster: "ecs-lumerin-lmn",
    service: "svc-proxy-router-lmn",
    container: "proxy-router",
    imageRepository: "ghcr.io/lumerin-protocol/proxy-router",
    tagParameter: "/lmn/proxy-router/image-tag",
  },
  // By the digest ghcr.io gives the tag: what was checked is what runs.
  image: `ghcr.io/lumerin-protocol/proxy-router@${ghcrDigest("proxy-router-v1.5.0")}`,
  imageTag: "proxy-router-v1.5.0",
  rollback: false,
  deadline: DEADLINE,
  lease: { table: TABLE, key: "proxy-router#lmn" },
};

let table: FakeTable;
let machine: Machine;

/** The tag parameter: v1.4.0 running, v1.3.0 before it. */
function recordTags(): void {
  mocks.ssm
    .on(GetParameterCommand, { Name: TARGET.tagParameter })
    .resolves({ Parameter: { Name: TARGET.tagParameter, Value: "proxy-router-v1.4.0", Version: 2 } });
  mocks.ssm.on(GetParameterHistoryCommand, { Name: TARGET.tagParameter }).resolves({
    Parameters: [
      { Name: TARGET.tagParameter, Value: "proxy-router-v1.3.0", Version: 1 },
      { Name: TARGET.tagParameter, Value: "proxy-router-v1.4.0", Version: 2 },
    ],
  });
}

beforeEach(() => {
  ({ table, machine } = resetAws());
  recordTags();
});

function startCalls() {
  return mocks.sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input);
}

function leasePuts(): PutItemCommandInput[] {
  return mocks.dynamodb
    .commandCalls(PutItemCommand)
    .map((c) => c.args[0].input)
    .filter((i) => i.Item?.pk?.S?.startsWith("lease#"));
}

/** A denial: the exact response shape, nothing started, no lease taken. */
function assertDenied(response: InvokerResponse, reason: RegExp, requestId: string | null = REQUEST_ID): void {
  assert.equal(response.decision, "denied", `expected a denial, got ${JSON.stringify(response)}`);
  assert.match(response.reason ?? "", reason);
  assert.deepEqual(response, { decision: "denied", requestId, reason: response.reason, logGroups: [...LOG_GROUPS] });
  assert.deepEqual(startCalls(), [], "nothing is started");
}

function assertNothingLeased(): void {
  assert.deepEqual(leasePuts(), [], "no lease is taken");
  assert.equal(table.items.has(LEASE_PK), false);
}

describe("deploy invoker handler", () => {
  describe("an admitted request", () => {
    it("starts the runner's state machine with name = requestId and exactly the runner's input", async () => {
      const handler = await invoker();
      const response = await handler(await request());
      assert.deepEqual(response, {
        decision: "started",
        requestId: REQUEST_ID,
        executionArn: EXECUTION_ARN,
        logGroups: [...LOG_GROUPS],
      });
      const calls = startCalls();
      assert.equal(calls.length, 1);
      const { input, ...rest } = calls[0];
      assert.deepEqual(rest, { stateMachineArn: STATE_MACHINE_ARN, name: REQUEST_ID });
      const sent = JSON.parse(input ?? "null") as unknown;
      assert.deepEqual(sent, EXPECTED_INPUT);
      assert.deepEqual(RunnerInputSchema.parse(sent), EXPECTED_INPUT, "the runner's schema admits it");
    });

    it("takes the lease with one conditional PutItem: the condition, its values and the item exactly", async () => {
      await (
        await invoker()
      )(await request());
      assert.deepEqual(leasePuts(), [
        {
          TableName: TABLE,
          Item: {
            pk: { S: LEASE_PK },
            holder: { S: REQUEST_ID },
            deadline: { S: DEADLINE },
            expiresAt: { N: String(LEASE_EXPIRES_AT) },
          },
          ConditionExpression: "attribute_not_exists(pk) OR expiresAt < :now OR holder = :requestId",
          ExpressionAttributeValues: { ":now": { N: String(NOW_S) }, ":requestId": { S: REQUEST_ID } },
          ReturnValues: "ALL_OLD",
          ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        },
      ]);
      assert.equal(LEASE_CONDITION, "attribute_not_exists(pk) OR expiresAt < :now OR holder = :requestId");
      assert.deepEqual(mocks.dynamodb.commandCalls(GetItemCommand)[0].args[0].input, {
        TableName: TABLE,
        Key: { pk: { S: LEASE_PK } },
        ConsistentRead: true,
      });
    });

    it("records the token's jti once, with a conditional put kept until the token's expiry plus the skew", async () => {
      const oidcToken = await token({ jti: "jti-1" });
      await (
        await invoker()
      )(await request({ oidcToken }));
      const replay = mocks.dynamodb
        .commandCalls(PutItemCommand)
        .map((c) => c.args[0].input)
        .filter((i) => i.Item?.pk?.S?.startsWith("jti#"));
      assert.deepEqual(replay, [
        {
          TableName: TABLE,
          Item: { pk: { S: "jti#jti-1" }, expiresAt: { N: String(NOW_S + 300 + 30) } },
          ConditionExpression: "attribute_not_exists(pk)",
        },
      ]);
    });

    it("takes a lease that has lapsed, whoever held it", async () => {
      table.items.set(LEASE_PK, {
        pk: { S: LEASE_PK },
        holder: { S: "11111111-1111-4111-8111-111111111111" },
        deadline: { S: "2026-12-01T23:00:00.000Z" },
        expiresAt: { N: String(NOW_S - 1) },
      });
      const response = await (await invoker())(await request());
      assert.equal(response.decision, "started");
      assert.equal(table.items.get(LEASE_PK)?.holder?.S, REQUEST_ID);
    });

    it("rolls production back to a tag on the second page of the parameter's history", async () => {
      // Inputs copied as sent: the SDK's paginator reuses one input object from page to page.
      const pages: unknown[] = [];
      mocks.ssm.on(GetParameterHistoryCommand, { Name: TARGET.tagParameter }).callsFake(async (input) => {
        pages.push(JSON.parse(JSON.stringify(input)));
        return input.NextToken === undefined
          ? { Parameters: [{ Value: "proxy-router-v1.4.0" }], NextToken: "page-2" }
          : { Parameters: [{ Value: "proxy-router-v1.2.0" }] };
      });
      const response = await (await invoker())(await request({ imageTag: "proxy-router-v1.2.0", rollback: true }));
      assert.equal(response.decision, "started", JSON.stringify(response));
      // Read through once to decide, and once more under the lease.
      const bothPages = [
        { Name: TARGET.tagParameter, MaxResults: 50 },
        { Name: TARGET.tagParameter, MaxResults: 50, NextToken: "page-2" },
      ];
      assert.deepEqual(pages, [...bothPages, ...bothPages]);
      const sent = JSON.parse(startCalls()[0].input ?? "null") as { rollback: boolean; imageTag: string };
      assert.equal(sent.rollback, true);
      assert.equal(sent.imageTag, "proxy-router-v1.2.0");
    });
  });

  describe("denials: nothing is started and no lease is taken", () => {
    it("a token for another audience (the STS one)", async () => {
      assertDenied(await (await invoker())(await request({}, { aud: "sts.amazonaws.com" })), /^token: claim aud /);
      assertNothingLeased();
    });

    it("another repository id (a re-created repository of the same name)", async () => {
      assertDenied(
        await (
          await invoker()
        )(await request({}, { repository_id: "555" })),
        /^token claim repository_id is "555"; app proxy-router in lmn admits only "123456789"/,
      );
      assertNothingLeased();
    });

    it("another workflow", async () => {
      const other = "Lumerin-protocol/proxy-router/.github/workflows/other.yml@refs/heads/main";
      assertDenied(
        await (
          await invoker()
        )(await request({}, { workflow_ref: other })),
        /^token claim workflow_ref is .*other\.yml.*; app proxy-router in lmn admits only /,
      );
      assertNothingLeased();
    });

    it("a pull-request event", async () => {
      assertDenied(
        await (
          await invoker()
        )(await request({}, { event_name: "pull_request_target" })),
        /^token claim event_name is pull_request_target: only push and workflow_dispatch runs deploy/,
      );
      assertNothingLeased();
    });

    it("another environment's tag", async () => {
      assertDenied(
        await (
          await invoker()
        )(await request({ imageTag: "proxy-router-v1.5.0-stg" })),
        /^imageTag proxy-router-v1\.5\.0-stg is not a release of lmn \(expected proxy-router-vX\.Y\.Z\)/,
      );
      assertNothingLeased();
    });

    it("an app missing from the allowlist", async () => {
      const handler = await invoker(environmentOf({ ALLOWLIST: JSON.stringify([ENTRY]) }));
      assertDenied(
        await handler(await request({ app: "market-maker", imageTag: "market-maker-v1.0.0" })),
        /^app market-maker is not in the allowlist of lmn/,
      );
      assertNothingLeased();
    });

    it("a replayed token, even with the same requestId", async () => {
      const handler = await invoker();
      const replayed = await request();
      assert.equal((await handler(replayed)).decision, "started");
      const again = await handler(replayed);
      assert.deepEqual(again, {
        decision: "denied",
        requestId: REQUEST_ID,
        reason: again.reason,
        logGroups: [...LOG_GROUPS],
      });
      assert.match(again.reason ?? "", /^token: already used \(jti .*\); request a new token/);
      assert.equal(startCalls().length, 1, "the replay starts nothing");
    });

    it("a malformed request, answered without echoing a malformed requestId", async () => {
      assertDenied(
        await (
          await invoker()
        )(await request({ requestId: "x", cluster: "ecs-other" })),
        /^request\.requestId: Invalid UUID; request: Unrecognized key: "cluster"/,
        null,
      );
    });

    it("a runner input the runner's schema refuses (checked before it is sent, and before the lease)", async () => {
      const spaced = { ...ENTRY, target: { ...TARGET, imageRepository: "ghcr.io/lumerin protocol/proxy-router" } };
      const handler = await invoker(environmentOf({ ALLOWLIST: JSON.stringify([spaced]) }));
      assertDenied(
        await handler(await request()),
        /^the runner's input is invalid: input\.image: expected repository:tag or repository@sha256:digest/,
      );
      assertNothingLeased();
    });

    it("a lease held by another request, naming that deploy", async () => {
      const other = "22222222-2222-4222-8222-222222222222";
      table.items.set(LEASE_PK, {
        pk: { S: LEASE_PK },
        holder: { S: other },
        deadline: { S: "2026-12-02T00:10:00.000Z" },
        expiresAt: { N: String(NOW_S + 60) },
      });
      assertDenied(
        await (
          await invoker()
        )(await request()),
        /^deploy 22222222-2222-4222-8222-222222222222 of proxy-router in lmn is running \(its lease lapses at 2026-12-02T00:01:00\.000Z\)/,
      );
      assert.equal(table.items.get(LEASE_PK)?.holder?.S, other, "the other deploy keeps its lease");
    });
  });

  describe("idempotency", () => {
    it("two requests at once for one app: one takes the lease and starts, the other is denied", async () => {
      const handler = await invoker();
      const otherId = "44444444-4444-4444-8444-444444444444";
      const [a, b] = await Promise.all([
        handler(await request()),
        handler(await request({ requestId: otherId, imageTag: "proxy-router-v1.6.0" })),
      ]);
      assert.deepEqual([a.decision, b.decision].sort(), ["denied", "started"]);
      const loser = a.decision === "denied" ? a : b;
      const winner = a.decision === "denied" ? b : a;
      assert.match(loser.reason ?? "", new RegExp(`^deploy ${winner.requestId} of proxy-router in lmn is running`));
      assert.equal(machine.executions.size, 1);
      assert.equal(table.items.get(LEASE_PK)?.holder?.S, winner.requestId);
    });

    it("the same requestId again (a new token) returns the running execution and starts nothing new", async () => {
      const handler = await invoker();
      const first = await handler(await request());
      const leaseAfterFirst = table.items.get(LEASE_PK);
      const second = await handler(await request());
      assert.deepEqual(first, {
        decision: "started",
        requestId: REQUEST_ID,
        executionArn: EXECUTION_ARN,
        logGroups: [...LOG_GROUPS],
      });
      assert.deepEqual(second, { ...first, decision: "running" });
      assert.equal(machine.executions.size, 1, "one execution");
      const [a, b] = startCalls();
      assert.deepEqual(b, a, "the repeat sends the same name and the same input");
      assert.deepEqual(table.items.get(LEASE_PK), leaseAfterFirst, "the lease keeps its deadline and expiry");
    });

    it("resumes with the lease's deadline when the repeat comes later", async () => {
      const handler = await invoker();
      await handler(await request());
      const later = await invoker(environmentOf(), { now: () => new Date((NOW_S + 600) * 1000) });
      const response = await later(await request({}, { iat: NOW_S + 590, nbf: NOW_S + 590, exp: NOW_S + 900 }));
      assert.equal(response.decision, "running", JSON.stringify(response));
      assert.equal(machine.executions.size, 1);
      assert.equal((JSON.parse(startCalls()[1].input ?? "null") as { deadline: string }).deadline, DEADLINE);
    });

    it("the same requestId with another image while it runs is a denial naming ExecutionAlreadyExists; the lease stays", async () => {
      const handler = await invoker();
      await handler(await request());
      const response = await handler(await request({ imageTag: "proxy-router-v1.6.0" }));
      assert.equal(response.decision, "denied");
      assert.match(
        response.reason ?? "",
        /^requestId 0b6f0d3e-6a0c-4b8e-9d2e-3f1c2a4b5c6d names another deploy: .*\(ExecutionAlreadyExists\); send a new requestId/,
      );
      assert.equal(machine.executions.size, 1);
      assert.equal(table.items.get(LEASE_PK)?.holder?.S, REQUEST_ID, "the running deploy keeps its lease");
      assert.deepEqual(mocks.dynamodb.commandCalls(DeleteItemCommand), []);
    });

    it("a requestId whose execution has ended is denied, and the lease this call took is released", async () => {
      const handler = await invoker();
      await handler(await request());
      // The runner finished and released the lease.
      machine.executions.get(REQUEST_ID)!.running = false;
      table.items.delete(LEASE_PK);
      const response = await handler(await request());
      assert.equal(response.decision, "denied");
      assert.match(response.reason ?? "", /\(ExecutionAlreadyExists\)/);
      assert.equal(table.items.has(LEASE_PK), false, "released");
      assert.deepEqual(
        mocks.dynamodb.commandCalls(DeleteItemCommand).map((c) => c.args[0].input),
        [
          {
            TableName: TABLE,
            Key: { pk: { S: LEASE_PK } },
            ConditionExpression: RELEASE_CONDITION,
            ExpressionAttributeValues: { ":requestId": { S: REQUEST_ID }, ":deadline": { S: DEADLINE } },
          },
        ],
      );
      assert.equal(RELEASE_CONDITION, "holder = :requestId AND deadline = :deadline");
    });
  });

  describe("AWS errors fail closed", () => {
    it("a throttled replay record fails the invocation, naming the call; nothing is started", async () => {
      mocks.dynamodb
        .on(PutItemCommand)
        .rejects(new ThrottlingException({ message: "Rate exceeded", $metadata: { httpStatusCode: 400 } }));
      await assert.rejects((await invoker())(await request()), {
        name: "InvokerFailure",
        message:
          /^DynamoDB PutItem on the replay record of token .* failed \(ThrottlingException: Rate exceeded\); the request was not decided/,
      });
      assert.deepEqual(startCalls(), []);
    });

    it("an older release is denied once it holds the lease when the deploy before it recorded a newer tag meanwhile, and the lease is given back", async () => {
      // The running tag as the two reads see it: v1.4.0 when the request is decided, v1.6.0 (the
      // previous holder's Record step) once it holds the lease.
      let reads = 0;
      mocks.ssm.on(GetParameterCommand, { Name: TARGET.tagParameter }).callsFake(async () => ({
        Parameter: { Name: TARGET.tagParameter, Value: reads++ === 0 ? "proxy-router-v1.4.0" : "proxy-router-v1.6.0" },
      }));
      const response = await (await invoker())(await request());
      assert.equal(response.decision, "denied");
      assert.equal(
        response.reason,
        "proxy-router-v1.5.0 is older than the running proxy-router-v1.6.0; production moves forward only unless the request is a rollback",
      );
      assert.equal(reads, 2);
      assert.deepEqual(startCalls(), []);
      assert.equal(table.items.has("lease#proxy-router#lmn"), false, "the lease it took is given back");
    });

    it("an access denial reading the running tag (production's forward check) fails; nothing is started", async () => {
      mocks.ssm.on(GetParameterCommand).rejects(awsError("AccessDeniedException", 400, "not authorized"));
      await assert.rejects((await invoker())(await request()), {
        name: "InvokerFailure",
        message: /^SSM GetParameter on \/lmn\/proxy-router\/image-tag failed \(AccessDeniedException: not authorized\)/,
      });
      assert.deepEqual(startCalls(), []);
      assertNothingLeased();
    });

    it("a missing tag parameter denies: it is never taken for a first deploy", async () => {
      mocks.ssm
        .on(GetParameterCommand)
        .rejects(new ParameterNotFound({ message: "not found", $metadata: { httpStatusCode: 400 } }));
      assertDenied(
        await (
          await invoker()
        )(await request()),
        /^the tag parameter \/lmn\/proxy-router\/image-tag of svc-proxy-router-lmn does not exist/,
      );
      assertNothingLeased();
    });

    it("a failed lease read fails the invocation before any lease is written", async () => {
      mocks.dynamodb.on(GetItemCommand).rejects(awsError("InternalServerError", 500));
      await assert.rejects((await invoker())(await request()), {
        name: "InvokerFailure",
        message:
          /^DynamoDB GetItem on the lease proxy-router#lmn failed \(InternalServerError: .*\); nothing was started/,
      });
      assertNothingLeased();
      assert.deepEqual(startCalls(), []);
    });

    it("a refused StartExecution (4xx) fails the invocation and releases the lease it took", async () => {
      mocks.sfn.on(StartExecutionCommand).rejects(awsError("AccessDeniedException", 400, "not authorized"));
      await assert.rejects((await invoker())(await request()), {
        name: "InvokerFailure",
        message:
          /^Step Functions StartExecution on arn:aws:states:.* failed \(AccessDeniedException: not authorized\); the lease of request .* was released/,
      });
      assert.equal(table.items.has(LEASE_PK), false);
    });

    it("a StartExecution with no answer (5xx, network) keeps the lease for a retry with the same requestId", async () => {
      mocks.sfn.on(StartExecutionCommand).rejectsOnce(awsError("ServiceUnavailable", 503));
      const handler = await invoker();
      await assert.rejects(handler(await request()), {
        name: "InvokerFailure",
        message:
          /failed \(ServiceUnavailable: .*\); the lease of proxy-router stays with request .* until 2026-12-02T00:45:00\.000Z; retry with the same requestId/,
      });
      assert.equal(table.items.get(LEASE_PK)?.holder?.S, REQUEST_ID);
      assert.deepEqual(mocks.dynamodb.commandCalls(DeleteItemCommand), []);
      mocks.sfn.on(StartExecutionCommand).callsFake(async (input) => machine.start(input));
      const retry = await handler(await request());
      assert.deepEqual(retry, {
        decision: "running",
        requestId: REQUEST_ID,
        executionArn: EXECUTION_ARN,
        logGroups: [...LOG_GROUPS],
      });
      assert.equal(machine.executions.size, 1);
    });
  });

  describe("logs", () => {
    it("log the decision and never the token", async () => {
      const lines: string[] = [];
      const handler = await invoker(environmentOf(), { log: (line) => void lines.push(line) });
      const admitted = await request();
      await handler(admitted);
      await handler(admitted);
      mocks.dynamodb.on(PutItemCommand).rejects(awsError("ThrottlingException", 400));
      const failing = await request();
      await assert.rejects(handler(failing));
      assert.equal(lines.length, 3);
      for (const secret of [admitted.oidcToken, failing.oidcToken]) {
        const signature = String(secret).split(".")[2];
        assert.ok(!lines.some((l) => l.includes(signature)), "no token in the logs");
      }
      assert.deepEqual(
        lines.map((l) => JSON.parse(l) as unknown),
        [
          { requestId: REQUEST_ID, app: "proxy-router", decision: "started", executionArn: EXECUTION_ARN },
          {
            requestId: REQUEST_ID,
            app: "proxy-router",
            decision: "denied",
            reason: (JSON.parse(lines[1]) as { reason: string }).reason,
          },
          { requestId: REQUEST_ID, failure: (JSON.parse(lines[2]) as { failure: string }).failure },
        ],
      );
      assert.match(lines[1], /token: already used/);
      assert.match(lines[2], /ThrottlingException/);
    });
  });
});
