/**
 * The runner Lambda: the four steps the deploy runner's state machine invokes, each one
 * action on AWS with the runner's own role.
 *
 * - `begin`: read the service, render its running task definition with only the target
 *   container's image changed, register it, point the service at it, return the deployment.
 * - `watch`: one DescribeServices, decided by {@link decide}.
 * - `record`: write the tag into the target's SSM parameter (only after a completed watch).
 * - `release`: delete the lease, only while this request holds the one it ran under.
 *
 * Every name it acts on comes from the state's `target` and `lease`, which the invoker copied
 * from the allowlist; the role bounds them again.
 */
import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
} from "@aws-sdk/client-ecs";
import { ConditionalCheckFailedException, DeleteItemCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { z } from "zod";
import { Begun, RunnerState, RunnerStateSchema, WatchResult, imageProblem } from "./contract";
import { renderTaskDefinition } from "./render";
import { decide } from "./watch";

export const RUNNER_ACTIONS = ["begin", "watch", "record", "release"] as const;
export type RunnerAction = (typeof RUNNER_ACTIONS)[number];

export const RunnerEventSchema = z.strictObject({
  action: z.enum(RUNNER_ACTIONS).describe("The step to run."),
  state: RunnerStateSchema.describe("The execution's state: the runner input and what earlier steps found."),
});
export type RunnerEvent = z.infer<typeof RunnerEventSchema>;

export interface RunnerDeps {
  readonly ecs: ECSClient;
  readonly ssm: SSMClient;
  readonly dynamodb: DynamoDBClient;
  readonly now: () => Date;
  /**
   * One structured line per step, each with the request id: the workflow streams the function's
   * log group and filters on it as a quoted term (`"<id>"`); a failing step logs its `error` too.
   */
  readonly log: (line: StepLog) => void;
}

/** What a step logs: never a secret (the state holds names, the image and the tag only). */
export interface StepLog {
  readonly step: RunnerAction;
  readonly requestId: string;
  readonly app: string;
  readonly environment: string;
  readonly [detail: string]: unknown;
}

export interface Recorded {
  readonly parameter: string;
  readonly tag: string;
  readonly version: number;
}

export interface Released {
  /** False when the lease was already gone or held by another request (it had expired and been retaken). */
  readonly released: boolean;
}

export type RunnerResult = Begun | WatchResult | Recorded | Released;

/** The lease item's key, as the invoker writes it. */
export function leaseItemKey(leaseKey: string): string {
  return `lease#${leaseKey}`;
}

/** Runs one step; a malformed event throws before any AWS call. */
export async function runStep(event: unknown, deps: RunnerDeps): Promise<RunnerResult> {
  const parsed = RunnerEventSchema.safeParse(event);
  if (!parsed.success)
    throw new Error(
      `runner event: ${parsed.error.issues.map((i) => `${i.path.join(".") || "(event)"}: ${i.message}`).join("; ")}`,
    );
  const { action, state } = parsed.data;
  const line = { step: action, requestId: state.requestId, app: state.app, environment: state.environment };
  let result: RunnerResult;
  try {
    result = await run(action, state, deps);
  } catch (error) {
    // The workflow follows the request's lines: a step that fails says why there too, not only in the execution.
    deps.log({ ...line, error: error instanceof Error ? error.message : String(error) });
    throw error;
  }
  deps.log({ ...line, ...result });
  return result;
}

function run(action: RunnerAction, state: RunnerState, deps: RunnerDeps): Promise<RunnerResult> {
  switch (action) {
    case "begin":
      return begin(state, deps);
    case "watch":
      return watch(state, deps);
    case "record":
      return record(state, deps);
    case "release":
      return release(state, deps);
  }
}

async function begin(state: RunnerState, deps: RunnerDeps): Promise<Begun> {
  const { cluster, service, container } = state.target;
  const wrongImage = imageProblem(state);
  if (wrongImage) throw new Error(`refused before touching ${service}: ${wrongImage}`);
  const described = await deps.ecs.send(new DescribeServicesCommand({ cluster, services: [service] }));
  const failure = (described.failures ?? [])[0];
  if (failure) throw new Error(`service ${service} in ${cluster}: ${failure.reason ?? "failure"}`);
  const current = (described.services ?? [])[0];
  if (!current || current.serviceName !== service) throw new Error(`service ${service} in ${cluster}: not found`);
  if (current.status !== "ACTIVE") throw new Error(`service ${service} in ${cluster} is ${current.status}`);
  const busy = (current.deployments ?? []).filter(
    (d) => d.status === "ACTIVE" || (d.status === "PRIMARY" && d.rolloutState === "IN_PROGRESS"),
  );
  if (busy.length > 0)
    throw new Error(
      `service ${service} in ${cluster} has a deployment in progress (${busy.map((d) => `${d.id} ${d.status} ${d.rolloutState}`).join(", ")}); not starting another`,
    );
  const running = current.taskDefinition;
  if (!running) throw new Error(`service ${service} in ${cluster} runs no task definition`);

  const { taskDefinition, tags } = await deps.ecs.send(
    new DescribeTaskDefinitionCommand({ taskDefinition: running, include: ["TAGS"] }),
  );
  if (!taskDefinition) throw new Error(`task definition ${running}: not returned`);
  const registered = await deps.ecs.send(
    new RegisterTaskDefinitionCommand(renderTaskDefinition(taskDefinition, tags ?? [], container, state.image)),
  );
  const newArn = registered.taskDefinition?.taskDefinitionArn;
  if (!newArn) throw new Error(`RegisterTaskDefinition of ${taskDefinition.family} returned no ARN`);

  const updated = await deps.ecs.send(new UpdateServiceCommand({ cluster, service, taskDefinition: newArn }));
  const ours = (updated.service?.deployments ?? []).find((d) => d.status === "PRIMARY" && d.taskDefinition === newArn);
  if (!ours?.id) throw new Error(`UpdateService of ${service} to ${newArn} started no primary deployment`);
  return { deploymentId: ours.id, taskDefinitionArn: newArn, previousTaskDefinitionArn: running };
}

async function watch(state: RunnerState, deps: RunnerDeps): Promise<WatchResult> {
  if (!state.begun) throw new Error("watch: the state has no begun deployment");
  const { cluster, service } = state.target;
  const response = await deps.ecs.send(new DescribeServicesCommand({ cluster, services: [service] }));
  return decide(response, { cluster, service }, state.begun, new Date(state.deadline), deps.now());
}

async function record(state: RunnerState, deps: RunnerDeps): Promise<Recorded> {
  if (state.watch?.status !== "completed")
    throw new Error(`record: the deploy has not completed (watch: ${state.watch?.status ?? "none"}); nothing recorded`);
  const parameter = state.target.tagParameter;
  const put = await deps.ssm.send(
    new PutParameterCommand({ Name: parameter, Value: state.imageTag, Type: "String", Overwrite: true }),
  );
  return { parameter, tag: state.imageTag, version: put.Version ?? 0 };
}

async function release(state: RunnerState, deps: RunnerDeps): Promise<Released> {
  try {
    await deps.dynamodb.send(
      new DeleteItemCommand({
        TableName: state.lease.table,
        Key: { pk: { S: leaseItemKey(state.lease.key) } },
        // The lease this deploy ran under: the invoker wrote it with this request id and this deadline.
        ConditionExpression: "holder = :requestId AND deadline = :deadline",
        ExpressionAttributeValues: { ":requestId": { S: state.requestId }, ":deadline": { S: state.deadline } },
      }),
    );
    return { released: true };
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return { released: false };
    throw error;
  }
}

let clients: RunnerDeps | undefined;

/** The Lambda entry point: the SDK clients are made once per container, in the function's region. */
export async function handler(event: unknown): Promise<RunnerResult> {
  clients ??= {
    ecs: new ECSClient({}),
    ssm: new SSMClient({}),
    dynamodb: new DynamoDBClient({}),
    now: () => new Date(),
    log: (line) => console.info(line),
  };
  return runStep(event, clients);
}
