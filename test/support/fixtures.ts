/**
 * Fixtures every component spec shares: the mocks' account and region, the
 * ids a component is given (a key, a VPC, subnets), ARNs in that account, the
 * committed stacks' accounts as their stack files declare them, and a typed
 * lookup of a planned resource's inputs.
 */
import * as path from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import type { AwsContext } from "../../lib/iam";
import type { CapturedResource, Plan } from "../../tools/harness";
import { readStackConfig } from "../../tools/stack-files";
import { ACCOUNT, REGION } from "./policy";

export { ACCOUNT, REGION };

/** The committed stacks. */
export type CommittedStack = "dev" | "stg" | "lmn";

/** The mocks' account, as a component's `aws` arg. */
export const AWS_CTX: AwsContext = { accountId: ACCOUNT, region: REGION, partition: "aws" };

/** A customer-managed key in the mocks' account. */
export const KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
export const VPC = "vpc-0123456789abcdef0";
/** Two private subnets in two availability zones. */
export const PRIVATE_SUBNETS = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"];
/** Two public subnets in two availability zones. */
export const PUBLIC_SUBNETS = ["subnet-0fedcba9876543210", "subnet-0fedcba9876543211"];

/** ARNs in the mocks' account, as AWS spells them. */
export const arnIn = {
  ec2: (resource: string) => `arn:aws:ec2:${REGION}:${ACCOUNT}:${resource}`,
  logGroup: (group: string) => `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${group}`,
  logStreams: (group: string) => `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${group}:log-stream:*`,
  secret: (name: string) => `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${name}-AbCdEf`,
  queue: (name: string) => `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`,
  rule: (name: string) => `arn:aws:events:${REGION}:${ACCOUNT}:rule/${name}`,
  role: (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`,
  parameter: (name: string) => `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter${name.startsWith("/") ? "" : "/"}${name}`,
};

const ROOT = path.resolve(__dirname, "..", "..");

/** The account each committed stack deploys to: the first of its stack file's `aws:allowedAccountIds`. */
export function stackAccount(stack: CommittedStack): string {
  const raw = readStackConfig(ROOT, stack).config["aws:allowedAccountIds"];
  const accounts = raw ? (JSON.parse(raw) as unknown) : [];
  if (!Array.isArray(accounts) || typeof accounts[0] !== "string") {
    throw new Error(`Pulumi.${stack}.yaml: aws:allowedAccountIds names no account`);
  }
  return accounts[0];
}

/** The committed stacks' accounts, from their stack files. */
export const STACK_ACCOUNTS: Readonly<Record<CommittedStack, string>> = {
  dev: stackAccount("dev"),
  stg: stackAccount("stg"),
  lmn: stackAccount("lmn"),
};

/** A resource class of @pulumi/aws (or any provider): what `resourceOf` looks a resource up by. */
export interface ResourceClass<Args> {
  new (name: string, args: Args, opts?: pulumi.CustomResourceOptions): pulumi.CustomResource;
}

/** A planned resource whose inputs are typed as its class's args, with every Input resolved. */
export interface TypedResource<Args> extends Omit<CapturedResource, "inputs"> {
  readonly inputs: pulumi.Unwrap<NonNullable<Args>>;
}

/**
 * The one resource of `cls` with this logical name, its inputs typed as the class's args:
 * `resourceOf(plan, aws.ecs.Service, "proxy-router-service").inputs.desiredCount`.
 */
export function resourceOf<Args>(plan: Plan, cls: ResourceClass<Args>, name: string): TypedResource<Args> {
  const type = pulumiType(cls);
  const found = plan.resources.find((r) => r.type === type && r.name === name);
  if (!found) {
    const names = plan.resources.filter((r) => r.type === type).map((r) => r.name);
    throw new Error(`no ${type} named ${name} in the ${plan.stack} plan; there are: ${names.join(", ") || "none"}`);
  }
  return found as unknown as TypedResource<Args>;
}

/** Every resource of `cls` in the plan, inputs typed likewise. */
export function resourcesOf<Args>(plan: Plan, cls: ResourceClass<Args>): TypedResource<Args>[] {
  const type = pulumiType(cls);
  return plan.resources.filter((r) => r.type === type) as unknown as TypedResource<Args>[];
}

/** The Pulumi type token a generated resource class registers under (its static `__pulumiType`). */
function pulumiType(cls: object): string {
  const token = (cls as { readonly __pulumiType?: unknown }).__pulumiType;
  if (typeof token !== "string") throw new Error(`${String(cls)} is not a provider resource class`);
  return token;
}
