/**
 * The invoker's two uses of its DynamoDB table (partition key `pk`, a string;
 * TTL attribute `expiresAt`, seconds since the epoch):
 *
 * - replay records, `pk = "jti#<jti>"`: a token's `jti`, written once with
 *   `attribute_not_exists(pk)`, kept until the token can no longer verify;
 * - leases, `pk = "lease#<app>#<environment>"`: one deploy at a time per app
 *   and environment. `holder` is the request id of the deploy holding it,
 *   `deadline` (ISO 8601) the deadline that deploy runs to, `expiresAt` when
 *   the lease lapses by itself (after the deadline). The runner deletes the
 *   item when the deploy ends, conditioned on `holder` being its request id.
 */
import {
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from "@aws-sdk/client-dynamodb";
import type { EnvironmentName } from "../../lib/environments";
import { awsErrorName, awsFailure, Denial } from "./failures";
import { CLOCK_SKEW_SECONDS, type ReplayStore } from "./verify";

/** The partition key of a token's replay record. */
export function replayPk(jti: string): string {
  return `jti#${jti}`;
}

/** The lease's key as the runner's input carries it (`RunnerInput.lease.key`). */
export function leaseKey(app: string, environment: EnvironmentName): string {
  return `${app}#${environment}`;
}

/** The partition key of the lease item named by a {@link leaseKey}. */
export function leasePk(key: string): string {
  return `lease#${key}`;
}

/** The lease is taken when none exists, when the one there has lapsed, or when this request holds it. */
export const LEASE_CONDITION = "attribute_not_exists(pk) OR expiresAt < :now OR holder = :requestId";
/** A lease is released only by the request holding it, and only the one it wrote (same deadline). */
export const RELEASE_CONDITION = "holder = :requestId AND deadline = :deadline";

const seconds = (date: Date): number => Math.ceil(date.getTime() / 1000);

function isConditionFailure(error: unknown): boolean {
  return awsErrorName(error) === "ConditionalCheckFailedException";
}

/** Replay records in the table: a `jti` is claimed by the first conditional put only. */
export class DynamoReplayStore implements ReplayStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async claimOnce(jti: string, expiresAt: Date): Promise<boolean> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          // Kept past the token's expiry by the clock skew the verification tolerates.
          Item: { pk: { S: replayPk(jti) }, expiresAt: { N: String(seconds(expiresAt) + CLOCK_SKEW_SECONDS) } },
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw awsFailure("DynamoDB PutItem", `the replay record of token ${jti}`, error, "the request was not decided");
    }
  }
}

/** A lease as the table holds it. */
interface LeaseItem {
  readonly holder: string;
  readonly deadline: string;
  readonly expiresAt: number;
}

/** A lease this request holds. */
export interface Lease {
  readonly table: string;
  readonly key: string;
  readonly requestId: string;
  /** The deadline of the deploy holding the lease (the one already running when `resumed`). */
  readonly deadline: string;
  readonly expiresAt: number;
  /** This request held the lease before this call: its deploy was started by an earlier call. */
  readonly resumed: boolean;
  /** No live lease of this request was there when this call wrote it: this call took it. */
  readonly taken: boolean;
}

export interface LeaseRequest {
  readonly app: string;
  readonly environment: EnvironmentName;
  readonly requestId: string;
  /** The deadline of a deploy started now. */
  readonly deadline: Date;
  /** When a lease taken now lapses (after `deadline`). */
  readonly expiresAt: Date;
}

function leaseItem(item: Record<string, AttributeValue> | undefined): LeaseItem | undefined {
  const holder = item?.holder?.S;
  const deadline = item?.deadline?.S;
  const expiresAt = Number(item?.expiresAt?.N);
  if (holder === undefined || deadline === undefined || !Number.isFinite(expiresAt)) return undefined;
  return { holder, deadline, expiresAt };
}

/** Leases in the table, one per app and environment. */
export class DynamoLeases {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
    private readonly now: () => Date,
  ) {}

  /**
   * Takes the lease of the request's app for the request, or denies naming
   * the deploy that holds it. When the request already holds a live lease
   * (its deploy was started by an earlier call), the lease keeps its deadline,
   * so the runner's input is the same as the first time.
   */
  async take(request: LeaseRequest): Promise<Lease> {
    const key = leaseKey(request.app, request.environment);
    const nowSeconds = Math.floor(this.now().getTime() / 1000);
    const existing = leaseItem(await this.read(key));
    const resumed = existing !== undefined && existing.holder === request.requestId && existing.expiresAt >= nowSeconds;
    const values: LeaseItem = resumed
      ? existing
      : {
          holder: request.requestId,
          deadline: request.deadline.toISOString(),
          expiresAt: seconds(request.expiresAt),
        };
    const previous = await this.write(key, values, request, nowSeconds);
    const heldBefore =
      previous !== undefined && previous.holder === request.requestId && previous.expiresAt >= nowSeconds;
    return {
      table: this.table,
      key,
      requestId: request.requestId,
      deadline: values.deadline,
      expiresAt: values.expiresAt,
      resumed,
      taken: !heldBefore,
    };
  }

  /** Deletes the lease this request took, if it still holds that one; a lease of another deploy stays. */
  async release(lease: Lease): Promise<void> {
    try {
      await this.client.send(
        new DeleteItemCommand({
          TableName: this.table,
          Key: { pk: { S: leasePk(lease.key) } },
          ConditionExpression: RELEASE_CONDITION,
          ExpressionAttributeValues: { ":requestId": { S: lease.requestId }, ":deadline": { S: lease.deadline } },
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) return;
      throw error;
    }
  }

  private async read(key: string): Promise<Record<string, AttributeValue> | undefined> {
    try {
      const out = await this.client.send(
        new GetItemCommand({ TableName: this.table, Key: { pk: { S: leasePk(key) } }, ConsistentRead: true }),
      );
      return out.Item;
    } catch (error) {
      throw awsFailure("DynamoDB GetItem", `the lease ${key}`, error, "nothing was started");
    }
  }

  /** The conditional put; returns the item it replaced, if any. */
  private async write(
    key: string,
    values: LeaseItem,
    request: LeaseRequest,
    nowSeconds: number,
  ): Promise<LeaseItem | undefined> {
    try {
      const out = await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: {
            pk: { S: leasePk(key) },
            holder: { S: values.holder },
            deadline: { S: values.deadline },
            expiresAt: { N: String(values.expiresAt) },
          },
          ConditionExpression: LEASE_CONDITION,
          ExpressionAttributeValues: { ":now": { N: String(nowSeconds) }, ":requestId": { S: request.requestId } },
          ReturnValues: "ALL_OLD",
          ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        }),
      );
      return leaseItem(out.Attributes);
    } catch (error) {
      if (isConditionFailure(error)) {
        const held = leaseItem((error as { Item?: Record<string, AttributeValue> }).Item);
        const holder = held === undefined ? "(unknown)" : held.holder;
        const until =
          held === undefined ? "" : ` (its lease lapses at ${new Date(held.expiresAt * 1000).toISOString()})`;
        throw new Denial(`deploy ${holder} of ${request.app} in ${request.environment} is running${until}`);
      }
      throw awsFailure("DynamoDB PutItem", `the lease ${key}`, error, "nothing was started");
    }
  }
}
