/**
 * The invoker Lambda: decide (the core in `authorize.ts`), take the app's
 * lease, start the runner's state machine, answer the workflow.
 *
 * Its answer to every request it can decide is a {@link InvokerResponse}
 * (a denial included: decision `denied` and the reason). When AWS fails it
 * (throttling, an access denial, a service error), the invocation fails with
 * an {@link InvokerFailure} naming the call; nothing is ever allowed by an
 * error. The request's token is never logged.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { ECRClient } from "@aws-sdk/client-ecr";
import { SFNClient } from "@aws-sdk/client-sfn";
import { SSMClient } from "@aws-sdk/client-ssm";
import type { JWTVerifyGetKey } from "jose";
import { authorize, orderStillHolds, type AuthorizeDeps, type RecordedTags } from "./authorize";
import { loadInvokerConfig, type InvokerConfig } from "./config";
import { Denial, InvokerFailure } from "./failures";
import { SsmRecordedTags } from "./recorded-tags";
import { OciRegistry } from "./oci-registry";
import { Registry } from "./registry";
import { DynamoLeases, DynamoReplayStore, leaseKey } from "./replay-and-lease";
import { runnerInput, startRunner } from "./start";
import { githubKeys } from "./verify";

/** What the workflow gets back from `aws lambda invoke`. */
export interface InvokerResponse {
  /** `started`: this call started the deploy; `running`: an earlier call with this requestId did; `denied`: nothing started. */
  readonly decision: "started" | "running" | "denied";
  /** The request's id, when it has a well-formed one (`null` otherwise). */
  readonly requestId: string | null;
  /** The runner's execution, when the deploy is started or running. */
  readonly executionArn?: string;
  /** Why the request was denied. */
  readonly reason?: string;
  /** The runner Lambda's log group, then the state machine's: where the deploy's logs are. */
  readonly logGroups: readonly [string, string];
}

/** The AWS clients the invoker uses; each is created once per cold start. */
export interface InvokerClients {
  readonly dynamodb: DynamoDBClient;
  readonly sfn: SFNClient;
  readonly ssm: SSMClient;
  /** An ECR client of a region (an image repository may live in another region). */
  readonly ecr: (region: string) => ECRClient;
}

export interface HandlerOptions {
  /** The issuer's keys. @default GitHub's JWKS, fetched and cached */
  readonly keys?: JWTVerifyGetKey;
  /** The clock. @default the system clock */
  readonly now?: () => Date;
  /** @default clients of the function's own region and credentials */
  readonly clients?: InvokerClients;
  /** Where the one JSON line per request goes. @default console.log (the function's log group) */
  readonly log?: (line: string) => void;
  /** The registry outside AWS (ghcr.io). @default the OCI distribution API over HTTPS */
  readonly oci?: OciRegistry;
}

export type InvokerHandler = (event: unknown) => Promise<InvokerResponse>;

function defaultClients(): InvokerClients {
  const ecr = new Map<string, ECRClient>();
  return {
    dynamodb: new DynamoDBClient({}),
    sfn: new SFNClient({}),
    ssm: new SSMClient({}),
    ecr: (region) => {
      const client = ecr.get(region) ?? new ECRClient({ region });
      ecr.set(region, client);
      return client;
    },
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The request id to answer with: only a well-formed one is echoed. */
function requestIdOf(event: unknown): string | null {
  if (typeof event !== "object" || event === null) return null;
  const id = (event as { requestId?: unknown }).requestId;
  return typeof id === "string" && UUID.test(id) ? id : null;
}

interface Runtime {
  readonly config: InvokerConfig;
  readonly clients: InvokerClients;
  readonly now: () => Date;
  readonly deps: AuthorizeDeps;
  readonly leases: DynamoLeases;
  readonly registry: Registry;
}

const MINUTE_MS = 60_000;

/** Decides, leases and starts; a denial anywhere is thrown as a {@link Denial}. */
async function invoke(event: unknown, rt: Runtime): Promise<InvokerResponse> {
  const decision = await authorize(event, rt.deps);
  if (decision.decision === "deny") throw new Denial(decision.reason);
  const { order, target } = decision;
  const image = await rt.registry.reference(target.imageRepository, order);
  const now = rt.now();
  const deadline = new Date(now.getTime() + rt.config.deadlineMinutes * MINUTE_MS);
  const key = leaseKey(order.app, order.environment);
  // Checked before the lease is taken: an input the runner would refuse takes no lease.
  const planned = runnerInput(order, target, image, { table: rt.config.table, key, deadline: deadline.toISOString() });
  const lease = await rt.leases.take({
    app: order.app,
    environment: order.environment,
    requestId: order.requestId,
    deadline,
    expiresAt: new Date(now.getTime() + rt.config.leaseMinutes * MINUTE_MS),
  });
  // Under the lease, the version rule once more: the previous deploy may have recorded a newer tag since.
  const overtaken = await orderStillHolds(order, rt.deps);
  if (overtaken !== undefined) {
    if (lease.taken) await rt.leases.release(lease);
    throw new Denial(overtaken);
  }
  // A request resuming its own lease runs to that lease's deadline, so its input is the first call's.
  const input = lease.deadline === planned.deadline ? planned : runnerInput(order, target, image, lease);
  const executionArn = await startRunner(rt.clients.sfn, rt.config.stateMachineArn, input, lease, rt.leases);
  return {
    decision: lease.resumed ? "running" : "started",
    requestId: order.requestId,
    executionArn,
    logGroups: rt.config.logGroups,
  };
}

/** One JSON line per request: the decision, never the token. */
function logDecision(log: (line: string) => void, response: InvokerResponse, app: unknown): void {
  log(
    JSON.stringify({
      requestId: response.requestId,
      app: typeof app === "string" ? app.slice(0, 64) : null,
      decision: response.decision,
      ...(response.executionArn === undefined ? {} : { executionArn: response.executionArn }),
      ...(response.reason === undefined ? {} : { reason: response.reason }),
    }),
  );
}

/**
 * The handler for a configuration read from `env` (the function's
 * environment). The configuration is checked here, at cold start: a bad
 * variable throws an error naming it, and the function does not start.
 */
export function createHandler(
  env: Readonly<Record<string, string | undefined>>,
  options: HandlerOptions = {},
): InvokerHandler {
  const config = loadInvokerConfig(env);
  const clients = options.clients ?? defaultClients();
  const now = options.now ?? (() => new Date());
  const log = options.log ?? ((line: string) => console.log(line));
  const recordedTags: RecordedTags = new SsmRecordedTags(clients.ssm);
  const registry = new Registry(clients.ecr, options.oci);
  const rt: Runtime = {
    config,
    clients,
    now,
    registry,
    leases: new DynamoLeases(clients.dynamodb, config.table, now),
    deps: {
      environment: config.environment,
      audience: config.audience,
      keys: options.keys ?? githubKeys(),
      replay: new DynamoReplayStore(clients.dynamodb, config.table),
      allowlist: config.allowlist,
      recordedTags,
      registry,
      now,
    },
  };
  return async (event) => {
    const app = typeof event === "object" && event !== null ? (event as { app?: unknown }).app : undefined;
    try {
      const response = await invoke(event, rt);
      logDecision(log, response, app);
      return response;
    } catch (error) {
      if (!(error instanceof Denial)) {
        const failure =
          error instanceof InvokerFailure
            ? error
            : new InvokerFailure(`the invoker failed: ${error instanceof Error ? error.message : String(error)}`);
        log(JSON.stringify({ requestId: requestIdOf(event), failure: failure.message }));
        throw failure;
      }
      const response: InvokerResponse = {
        decision: "denied",
        requestId: requestIdOf(event),
        reason: error.reason,
        logGroups: config.logGroups,
      };
      logDecision(log, response, app);
      return response;
    }
  };
}
