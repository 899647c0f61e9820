/**
 * Starting the runner: one execution of its state machine per deploy, named
 * after the request id. Step Functions makes that idempotent: the same name
 * with the same input while the execution runs returns that execution; the
 * same name with another input, or after the execution ended, is refused
 * (`ExecutionAlreadyExists`), and a name stays taken for 90 days.
 */
import { StartExecutionCommand, type SFNClient } from "@aws-sdk/client-sfn";
import { RunnerInputSchema, imageProblem, type RunnerInput } from "../deploy-runner/contract";
import type { DeployOrder } from "./authorize";
import type { DeployTarget } from "./allowlist";
import { awsErrorName, awsFailure, awsHttpStatus, Denial, InvokerFailure } from "./failures";
import { describeIssues } from "./request";
import type { DynamoLeases, Lease } from "./replay-and-lease";

/**
 * The runner's input for an allowed order, checked against the runner's
 * schema before it is sent. Its fields are written in one fixed order, so the
 * same deploy always gives the same JSON (which the idempotency relies on).
 */
export function runnerInput(
  order: DeployOrder,
  target: DeployTarget,
  image: string,
  lease: { readonly table: string; readonly key: string; readonly deadline: string },
): RunnerInput {
  const input: RunnerInput = {
    requestId: order.requestId,
    app: order.app,
    environment: order.environment,
    target: {
      cluster: target.cluster,
      service: target.service,
      container: target.container,
      imageRepository: target.imageRepository,
      tagParameter: target.tagParameter,
    },
    image,
    imageTag: order.imageTag,
    rollback: order.rollback,
    deadline: lease.deadline,
    lease: { table: lease.table, key: lease.key },
  };
  const checked = RunnerInputSchema.safeParse(input);
  if (!checked.success) throw new Denial(`the runner's input is invalid: ${describeIssues("input", checked.error)}`);
  const wrongImage = imageProblem(input);
  if (wrongImage) throw new Denial(`the runner's input is invalid: ${wrongImage}`);
  return input;
}

/**
 * A definite refusal: AWS answered with a client error (4xx), so no execution
 * was started by the call. A server error or no answer may have started one.
 */
function refused(error: unknown): boolean {
  const status = awsHttpStatus(error);
  return status !== undefined && status >= 400 && status < 500;
}

/**
 * Starts (or finds) the execution of `input`. When the start is refused and
 * this call took the lease, the lease is released; when the outcome is
 * unknown, the lease stays with the request (a retry with the same request id
 * resumes it) until it lapses.
 */
export async function startRunner(
  client: SFNClient,
  stateMachineArn: string,
  input: RunnerInput,
  lease: Lease,
  leases: DynamoLeases,
): Promise<string> {
  try {
    const out = await client.send(
      new StartExecutionCommand({ stateMachineArn, name: input.requestId, input: JSON.stringify(input) }),
    );
    if (out.executionArn === undefined) throw new InvokerFailure("StartExecution returned no executionArn");
    return out.executionArn;
  } catch (error) {
    const release = lease.taken && refused(error);
    const released = release ? await releaseQuietly(leases, lease) : undefined;
    const leaseNote =
      released === undefined
        ? `the lease of ${input.app} stays with request ${input.requestId} until ${new Date(lease.expiresAt * 1000).toISOString()}; retry with the same requestId`
        : released;
    if (awsErrorName(error) === "ExecutionAlreadyExists") {
      throw new Denial(
        `requestId ${input.requestId} names another deploy: an execution of that name has ended or runs with another input (ExecutionAlreadyExists); send a new requestId`,
      );
    }
    if (error instanceof InvokerFailure) throw new InvokerFailure(`${error.message}; ${leaseNote}`);
    throw awsFailure("Step Functions StartExecution", stateMachineArn, error, leaseNote);
  }
}

/** Releases the lease; says what happened, for the failure's message. */
async function releaseQuietly(leases: DynamoLeases, lease: Lease): Promise<string> {
  try {
    await leases.release(lease);
    return `the lease of request ${lease.requestId} was released`;
  } catch (error) {
    return `releasing the lease failed too (${awsErrorName(error)}); it lapses at ${new Date(lease.expiresAt * 1000).toISOString()}`;
  }
}
