/**
 * Fixtures of the deploy invoker's handler specs: a local signing key in
 * place of GitHub's, the admitted caller's claims, the allowlist entry, the
 * invoker's environment, and in-memory stand-ins for the DynamoDB table and
 * the state machine behind aws-sdk-client-mock that answer as AWS does
 * (conditional writes evaluated, `ExecutionAlreadyExists` for a taken name).
 */
import { createHash, randomUUID } from "node:crypto";
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  type AttributeValue,
  type DeleteItemCommandInput,
  type PutItemCommandInput,
} from "@aws-sdk/client-dynamodb";
import { ECRClient } from "@aws-sdk/client-ecr";
import {
  ExecutionAlreadyExists,
  SFNClient,
  StartExecutionCommand,
  type StartExecutionCommandInput,
} from "@aws-sdk/client-sfn";
import { SSMClient } from "@aws-sdk/client-ssm";
import { mockClient } from "aws-sdk-client-mock";
import {
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  SignJWT,
  type CryptoKey,
  type JWK,
  type JWTVerifyGetKey,
} from "jose";
import type { AllowlistEntry, DeployTarget } from "../../lambdas/deploy-invoker/allowlist";
import { INVOKER_VARIABLES } from "../../lambdas/deploy-invoker/config";
import { createHandler, type HandlerOptions, type InvokerHandler } from "../../lambdas/deploy-invoker/handler";
import { OciRegistry, type Fetch } from "../../lambdas/deploy-invoker/oci-registry";
import { LEASE_CONDITION, RELEASE_CONDITION } from "../../lambdas/deploy-invoker/replay-and-lease";
import { GITHUB_ISSUER } from "../../lambdas/deploy-invoker/verify";

export const NOW = new Date("2026-12-02T00:00:00Z");
export const NOW_S = Math.floor(NOW.getTime() / 1000);
export const AUDIENCE = "lumerin-deploy-invoker-lmn";
export const REQUEST_ID = "0b6f0d3e-6a0c-4b8e-9d2e-3f1c2a4b5c6d";
export const TABLE = "lumerin-deploy-runner-lmn";
export const STATE_MACHINE_ARN = "arn:aws:states:us-east-1:111122223333:stateMachine:lumerin-deploy-runner-lmn";
export const LOG_GROUPS = ["/aws/lambda/lumerin-deploy-runner-lmn", "/aws/states/lumerin-deploy-runner-lmn"] as const;
export const DIGEST = `sha256:${"ab".repeat(32)}`;
/** The local signing key's id (GitHub's JWKS names its keys the same way). */
export const KID = "local-test-key";

export const TARGET: DeployTarget = {
  cluster: "ecs-lumerin-lmn",
  service: "svc-proxy-router-lmn",
  container: "proxy-router",
  imageRepository: "ghcr.io/lumerin-protocol/proxy-router",
  tagParameter: "/lmn/proxy-router/image-tag",
};

export const ENTRY: AllowlistEntry = {
  app: "proxy-router",
  environment: "lmn",
  repository: "Lumerin-protocol/proxy-router",
  repositoryId: "123456789",
  repositoryOwnerId: "987654321",
  ref: "refs/heads/main",
  githubEnvironment: "main",
  workflowRef: "Lumerin-protocol/proxy-router/.github/workflows/deploy.yml@refs/heads/main",
  jobWorkflowRef: "Lumerin-protocol/lumerin-infra/.github/workflows/image-deploy.yml@refs/heads/main",
  tagPrefix: "proxy-router-",
  target: TARGET,
};

/** An app whose image is in ECR (deployed by digest). */
export const ECR_REPOSITORY = "111122223333.dkr.ecr.us-east-1.amazonaws.com/market-maker";
export const ECR_ENTRY: AllowlistEntry = {
  ...ENTRY,
  app: "market-maker",
  tagPrefix: "market-maker-",
  target: {
    cluster: "ecs-lumerin-lmn",
    service: "svc-market-maker-lmn",
    container: "market-maker",
    imageRepository: ECR_REPOSITORY,
    tagParameter: "/lmn/market-maker/image-tag",
  },
};

export function environmentOf(over: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    [INVOKER_VARIABLES.environment]: "lmn",
    [INVOKER_VARIABLES.audience]: AUDIENCE,
    [INVOKER_VARIABLES.allowlist]: JSON.stringify([ENTRY, ECR_ENTRY]),
    [INVOKER_VARIABLES.table]: TABLE,
    [INVOKER_VARIABLES.stateMachineArn]: STATE_MACHINE_ARN,
    [INVOKER_VARIABLES.deadlineMinutes]: "30",
    [INVOKER_VARIABLES.leaseMinutes]: "45",
    [INVOKER_VARIABLES.runnerLogGroup]: LOG_GROUPS[0],
    [INVOKER_VARIABLES.stateMachineLogGroup]: LOG_GROUPS[1],
    ...over,
  };
}

let signingKey: CryptoKey | undefined;
let publicJwk: JWK | undefined;

/** The local key pair standing in for GitHub's: the private key signs, the public JWK verifies. */
export async function key(): Promise<{ signingKey: CryptoKey; publicJwk: JWK }> {
  if (signingKey === undefined || publicJwk === undefined) {
    const pair = await generateKeyPair("RS256");
    signingKey = pair.privateKey;
    publicJwk = { ...(await exportJWK(pair.publicKey)), kid: KID, alg: "RS256", use: "sig" };
  }
  return { signingKey, publicJwk };
}

export async function localKeys(): Promise<JWTVerifyGetKey> {
  return createLocalJWKSet({ keys: [(await key()).publicJwk] });
}

/** The claims GitHub puts in a token of the admitted deploy job. */
export function goodClaims(): Record<string, unknown> {
  return {
    iss: GITHUB_ISSUER,
    aud: AUDIENCE,
    sub: "repo:Lumerin-protocol/proxy-router:environment:main",
    iat: NOW_S - 10,
    nbf: NOW_S - 10,
    exp: NOW_S + 300,
    jti: randomUUID(),
    repository: ENTRY.repository,
    repository_id: ENTRY.repositoryId,
    repository_owner: "Lumerin-protocol",
    repository_owner_id: ENTRY.repositoryOwnerId,
    ref: ENTRY.ref,
    environment: ENTRY.githubEnvironment,
    workflow_ref: ENTRY.workflowRef,
    job_workflow_ref: ENTRY.jobWorkflowRef,
    event_name: "push",
  };
}

/** A token of the admitted deploy job, `change` applied (`undefined` deletes a claim), signed by `signWith` (the local key). */
export async function token(change: Record<string, unknown> = {}, signWith?: CryptoKey): Promise<string> {
  const claims: Record<string, unknown> = { ...goodClaims(), ...change };
  for (const [k, v] of Object.entries(change)) if (v === undefined) delete claims[k];
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "RS256", kid: KID, typ: "JWT" })
    .sign(signWith ?? (await key()).signingKey);
}

export async function request(
  over: Record<string, unknown> = {},
  tokenChange: Record<string, unknown> = {},
): Promise<Record<string, unknown>> {
  const req: Record<string, unknown> = {
    app: "proxy-router",
    environment: "lmn",
    imageTag: "proxy-router-v1.5.0",
    requestId: REQUEST_ID,
    oidcToken: await token(tokenChange),
    ...over,
  };
  for (const [k, v] of Object.entries(over)) if (v === undefined) delete req[k];
  return req;
}

/** An error as the AWS SDK throws it for an error AWS answered with (or none, for a network failure). */
export function awsError(name: string, httpStatusCode: number | undefined, message = `${name} (test)`): Error {
  return Object.assign(new Error(message), {
    name,
    $fault: httpStatusCode !== undefined && httpStatusCode < 500 ? "client" : "server",
    $metadata: httpStatusCode === undefined ? {} : { httpStatusCode },
  });
}

type Item = Record<string, AttributeValue>;

/**
 * The invoker's table: PutItem, GetItem and DeleteItem with the conditions
 * the invoker writes, evaluated as DynamoDB does; any other condition is
 * refused, so a changed expression fails the specs instead of passing unseen.
 */
export class FakeTable {
  readonly items = new Map<string, Item>();

  private static holds(item: Item | undefined, condition: string, values: Item): boolean {
    const expiresAt = item?.expiresAt?.N === undefined ? undefined : Number(item.expiresAt.N);
    switch (condition) {
      case "attribute_not_exists(pk)":
        return item === undefined;
      case LEASE_CONDITION:
        return (
          item === undefined ||
          (expiresAt !== undefined && expiresAt < Number(values[":now"].N)) ||
          item.holder?.S === values[":requestId"].S
        );
      case RELEASE_CONDITION:
        return item?.holder?.S === values[":requestId"].S && item?.deadline?.S === values[":deadline"].S;
      default:
        throw new Error(`fake table: unexpected condition ${condition}`);
    }
  }

  private static refuse(old: Item | undefined, returnOld: boolean): never {
    throw new ConditionalCheckFailedException({
      message: "The conditional request failed",
      $metadata: { httpStatusCode: 400 },
      ...(returnOld && old !== undefined ? { Item: old } : {}),
    });
  }

  put(input: PutItemCommandInput): { Attributes?: Item } {
    if (input.TableName !== TABLE) throw awsError("ResourceNotFoundException", 400);
    const item = input.Item ?? {};
    const pk = item.pk?.S ?? "";
    const old = this.items.get(pk);
    if (input.ConditionExpression !== undefined) {
      if (!FakeTable.holds(old, input.ConditionExpression, input.ExpressionAttributeValues ?? {})) {
        FakeTable.refuse(old, input.ReturnValuesOnConditionCheckFailure === "ALL_OLD");
      }
    }
    this.items.set(pk, item);
    return input.ReturnValues === "ALL_OLD" && old !== undefined ? { Attributes: old } : {};
  }

  delete(input: DeleteItemCommandInput): void {
    const pk = input.Key?.pk?.S ?? "";
    const old = this.items.get(pk);
    if (input.ConditionExpression !== undefined) {
      if (!FakeTable.holds(old, input.ConditionExpression, input.ExpressionAttributeValues ?? {})) {
        FakeTable.refuse(old, false);
      }
    }
    this.items.delete(pk);
  }
}

/** The state machine's executions: a name is taken once; the same name and input while running is the same execution. */
export class FakeStateMachine {
  readonly executions = new Map<string, { input: string; running: boolean }>();

  static arnOf(name: string): string {
    return STATE_MACHINE_ARN.replace(":stateMachine:", ":execution:") + `:${name}`;
  }

  start(input: StartExecutionCommandInput): { executionArn: string; startDate: Date } {
    const name = input.name ?? "";
    const existing = this.executions.get(name);
    if (existing !== undefined && !(existing.running && existing.input === input.input)) {
      throw new ExecutionAlreadyExists({
        message: `Execution Already Exists: '${FakeStateMachine.arnOf(name)}'`,
        $metadata: { httpStatusCode: 400 },
      });
    }
    if (existing === undefined) this.executions.set(name, { input: input.input ?? "", running: true });
    return { executionArn: FakeStateMachine.arnOf(name), startDate: NOW };
  }
}

export const mocks = {
  dynamodb: mockClient(DynamoDBClient),
  sfn: mockClient(SFNClient),
  ssm: mockClient(SSMClient),
  ecr: mockClient(ECRClient),
};

/** Resets the mocks; the table and the state machine answer through the fakes returned. */
export function resetAws(): { table: FakeTable; machine: FakeStateMachine } {
  for (const mock of Object.values(mocks)) mock.reset();
  const table = new FakeTable();
  const machine = new FakeStateMachine();
  mocks.dynamodb.on(PutItemCommand).callsFake(async (input: PutItemCommandInput) => table.put(input));
  mocks.dynamodb
    .on(GetItemCommand)
    .callsFake(async (input: { Key?: Item }) => ({ Item: table.items.get(input.Key?.pk?.S ?? "") }));
  mocks.dynamodb.on(DeleteItemCommand).callsFake(async (input: DeleteItemCommandInput) => {
    table.delete(input);
    return {};
  });
  mocks.sfn.on(StartExecutionCommand).callsFake(async (input: StartExecutionCommandInput) => machine.start(input));
  return { table, machine };
}

/** The digest the fake ghcr.io gives a tag: a stable function of the tag. */
export function ghcrDigest(tag: string): string {
  return `sha256:${createHash("sha256").update(tag).digest("hex")}`;
}

/** A request the fake ghcr.io saw: method, URL and whether it carried the bearer token. */
export interface GhcrCall {
  readonly method: string;
  readonly url: string;
  readonly authorized: boolean;
}

/**
 * ghcr.io as `docker pull` meets it, behind an injected fetch: a manifest HEAD without a token
 * answers 401 with a bearer challenge; the token service gives an anonymous pull token (unless
 * `privateImage`); with it the HEAD answers 200 and the tag's digest, or 404 for a tag not in `tags`.
 */
export function fakeGhcr(
  tags: readonly string[] = [
    "proxy-router-v1.2.0",
    "proxy-router-v1.3.0",
    "proxy-router-v1.4.0",
    "proxy-router-v1.5.0",
    "proxy-router-v1.6.0",
  ],
  behaviour: { readonly privateImage?: boolean; readonly status?: number } = {},
): { readonly fetch: Fetch; readonly calls: GhcrCall[] } {
  const calls: GhcrCall[] = [];
  const TOKEN = "anonymous-pull-token";
  const fetch: Fetch = async (url, init) => {
    const method = init?.method ?? "GET";
    const authorized = init?.headers?.Authorization === `Bearer ${TOKEN}`;
    calls.push({ method, url, authorized });
    const u = new URL(url);
    if (u.pathname === "/token") {
      return behaviour.privateImage
        ? new Response(JSON.stringify({ errors: [{ code: "DENIED" }] }), { status: 403 })
        : new Response(JSON.stringify({ token: TOKEN }), { status: 200 });
    }
    const m = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(u.pathname);
    if (!m) return new Response("", { status: 404 });
    if (!authorized) {
      return new Response("", {
        status: 401,
        headers: {
          "www-authenticate": `Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:${m[1]}:pull"`,
        },
      });
    }
    if (behaviour.status) return new Response("", { status: behaviour.status });
    const tag = decodeURIComponent(m[2]);
    return tags.includes(tag)
      ? new Response(null, { status: 200, headers: { "docker-content-digest": ghcrDigest(tag) } })
      : new Response("", { status: 404 });
  };
  return { fetch, calls };
}

export async function invoker(
  env: Record<string, string | undefined> = environmentOf(),
  options: HandlerOptions = {},
): Promise<InvokerHandler> {
  const ecr = new ECRClient({ region: "us-east-1" });
  return createHandler(env, {
    keys: await localKeys(),
    now: () => NOW,
    clients: {
      dynamodb: new DynamoDBClient({ region: "us-east-1" }),
      sfn: new SFNClient({ region: "us-east-1" }),
      ssm: new SSMClient({ region: "us-east-1" }),
      ecr: () => ecr,
    },
    log: () => undefined,
    oci: new OciRegistry({ fetch: fakeGhcr().fetch }),
    ...options,
  });
}
