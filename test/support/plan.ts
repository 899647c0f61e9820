/** Plans for specs: the same harness and program as `npm run plan`, with overrides per case. */
import { strict as assert } from "node:assert";
import { ConfigError } from "../../config/load";
import type { CapturedResource, Plan } from "../../tools/harness";
import { PlanStackOptions, planFiles, planStack } from "../../tools/plan-stack";
import { SECRET_GROUPS } from "../../config/schema";

const cache = new Map<string, Promise<Plan>>();

/** The plan of a stack file as committed (cached: plans are deterministic). */
export function committedPlan(stack: "dev" | "stg" | "lmn"): Promise<Plan> {
  let plan = cache.get(stack);
  if (!plan) {
    plan = planStack(planFiles(stack), { environment: {} });
    cache.set(stack, plan);
  }
  return plan;
}

/** titanio-prd's account id is not known to this repository: the specs' stand-in for it. */
export const TITANIO_PRD_STAND_IN = "210987654321";
/** The stand-in id of the `lumerin.io` zone in titanio-prd. */
export const LUMERIN_IO_ZONE_ID = "Z04LUMERINIOTITANIOPRD";
export const LMN_DNS_ROLE_ARN = `arn:aws:iam::${TITANIO_PRD_STAND_IN}:role/lumerin-infra-dns-lmn`;
/** `lumerin-infra:dns` of lmn once the role in titanio-prd exists (docs/dns.md). */
export const LMN_DNS_CONFIGURED = JSON.stringify({ assumeRoleArn: LMN_DNS_ROLE_ARN, zoneId: LUMERIN_IO_ZONE_ID });

const deployable = new Map<string, Promise<Plan>>();

/**
 * What `pulumi up` would deploy: the committed stack file, except that lmn's DNS
 * role (pending in the file until it exists in titanio-prd) is configured.
 */
export function deployablePlan(stack: "dev" | "stg" | "lmn"): Promise<Plan> {
  if (stack !== "lmn") return committedPlan(stack);
  let plan = deployable.get(stack);
  if (!plan) {
    plan = planStack(planFiles(stack), { environment: {}, overrides: { "lumerin-infra:dns": LMN_DNS_CONFIGURED } });
    deployable.set(stack, plan);
  }
  return plan;
}

const filledCache = new Map<string, Promise<Plan>>();

/** Every secret the program creates, declared `filled` out of band: the stack once an operator has put every value in. */
export const ALL_SECRETS_FILLED: Readonly<Record<string, string>> = {
  "lumerin-infra:outOfBandSecrets": JSON.stringify(Object.fromEntries(SECRET_GROUPS.map((group) => [group, "filled"]))),
};

/**
 * The plan of a committed stack file once every secret is filled (cached): the steady
 * state, with every service's tasks and schedules on. The committed files declare
 * their secrets `pending` (nothing starts before the values are in). In lmn the DNS
 * role in titanio-prd is configured too (the committed file has it `pending`).
 */
export function filledPlan(stack: "dev" | "stg" | "lmn"): Promise<Plan> {
  let plan = filledCache.get(stack);
  if (!plan) {
    const dns = stack === "lmn" ? { "lumerin-infra:dns": LMN_DNS_CONFIGURED } : {};
    plan = planStack(planFiles(stack), { environment: {}, overrides: { ...ALL_SECRETS_FILLED, ...dns } });
    filledCache.set(stack, plan);
  }
  return plan;
}

/**
 * The committed stack's config with every adoption switch back at the program's default: what a
 * new estate in that account gets (NLBs with security groups, the stack's key on the database,
 * the program's names and descriptions, the market maker on ECS). Full keys → JSON values.
 */
export function freshEstateConfig(stack: "dev" | "stg" | "lmn"): Record<string, string> {
  const files = planFiles(stack);
  const proxy = JSON.parse(files.config["lumerin-infra:proxyRouter"]) as Record<string, Record<string, unknown>>;
  for (const kind of ["router", "validator"]) {
    const service = proxy[kind];
    delete service.names;
    const endpoint = service.publicEndpoint as Record<string, unknown> | undefined;
    if (endpoint) delete endpoint.securityGroups;
  }
  const futures = JSON.parse(files.config["lumerin-infra:futures"]) as Record<string, Record<string, unknown>>;
  delete futures.marketMaker.runtime;
  delete futures.marketMaker.lambda;
  delete futures.notifications.securityGroupDescriptions;
  const database = futures.notifications.database as Record<string, unknown>;
  delete database.kmsKeyArn;
  delete database.parameterGroupDescription;
  delete futures.marginCall.securityGroupDescription;
  const monitoring = JSON.parse(files.config["lumerin-infra:monitoring"]) as Record<string, unknown>;
  delete monitoring.healthCheckMeasuresLatency;
  return {
    "lumerin-infra:proxyRouter": JSON.stringify(proxy),
    "lumerin-infra:futures": JSON.stringify(futures),
    "lumerin-infra:monitoring": JSON.stringify(monitoring),
    // A new production estate is deployable only with the zone account's role (lmn's file has it pending).
    ...(stack === "lmn" ? { "lumerin-infra:dns": LMN_DNS_CONFIGURED } : {}),
  };
}

/** The plan of {@link freshEstateConfig} (cached). */
export function freshEstatePlan(stack: "dev" | "stg" | "lmn"): Promise<Plan> {
  const key = `fresh:${stack}`;
  let plan = cache.get(key);
  if (!plan) {
    plan = planStack(planFiles(stack), { environment: {}, overrides: freshEstateConfig(stack) });
    cache.set(key, plan);
  }
  return plan;
}

/**
 * A plan of `stack` with config values replaced (full keys; `undefined` removes a key). The
 * process environment is not read unless `options.environment` gives it: a developer's own
 * GITHUB_TOKEN never changes a spec's result.
 */
export function planWith(stack: string, options: PlanStackOptions = {}, configFile?: string): Promise<Plan> {
  return planStack(planFiles(stack, configFile), { environment: {}, ...options });
}

/** An environment that lets a plan manage GitHub environments: an (offline) admin token in GITHUB_ADMIN_TOKEN. */
export const GITHUB_ADMIN_ENV = { GITHUB_ADMIN_TOKEN: "github_pat_offline_placeholder" } as const;

/** Config that lets a plan manage GitHub environments: an (offline) admin token in `github:token`, as a secret. */
export const GITHUB_ADMIN_TOKEN: Pick<PlanStackOptions, "overrides" | "extraSecretKeys"> = {
  overrides: { "github:token": "github_pat_offline_placeholder" },
  extraSecretKeys: ["github:token"],
};

/** The one resource of this type and logical name, or a failing assertion that says what exists. */
export function resource(plan: Plan, type: string, name: string): CapturedResource {
  const found = plan.resources.find((r) => r.type === type && r.name === name);
  if (!found) {
    const names = plan.resources.filter((r) => r.type === type).map((r) => r.name);
    throw new Error(`no ${type} named ${name} in the ${plan.stack} plan; there are: ${names.join(", ") || "none"}`);
  }
  return found;
}

export function resourcesOfType(plan: Plan, type: string): CapturedResource[] {
  return plan.resources.filter((r) => r.type === type);
}

/** An IAM document input, whether it was passed as an object or as JSON. */
export function doc(value: unknown): { Statement: IamStatement[] } {
  return (typeof value === "string" ? JSON.parse(value) : value) as { Statement: IamStatement[] };
}

export interface IamStatement {
  Sid: string;
  Effect: string;
  Action: string | string[];
  Resource?: string | string[];
  Principal?: unknown;
  Condition?: Record<string, Record<string, string | string[]>>;
}

/** Container definitions of a task definition resource. */
export function containers(task: CapturedResource): ContainerDef[] {
  return JSON.parse(String(task.inputs.containerDefinitions)) as ContainerDef[];
}

export interface ContainerDef {
  name: string;
  image: string;
  environment: { name: string; value: string }[];
  secrets: { name: string; valueFrom: string }[];
  portMappings: { containerPort: number }[];
  healthCheck?: { command: string[]; interval: number; timeout: number; retries: number; startPeriod: number };
  ulimits?: { name: string; softLimit: number; hardLimit: number }[];
  logConfiguration: { logDriver: string; options: Record<string, string> };
  repositoryCredentials?: { credentialsParameter: string };
}

/** URNs the mock monitor registered in the most recent run (after a failed run: what got through). */
export function registeredInLastRun(): string[] {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const pulumi = require("@pulumi/pulumi") as typeof import("@pulumi/pulumi");
  const monitor = pulumi.runtime.getMonitor() as unknown as { resources?: Map<string, unknown> } | undefined;
  return [...(monitor?.resources?.keys() ?? [])];
}

export function stackUrn(stack: string): string {
  return `urn:pulumi:${stack}::lumerin-infra::pulumi:pulumi:Stack::lumerin-infra-${stack}`;
}

/**
 * What the mock monitor registered in the failed run. The stack resource itself
 * is registered asynchronously, so this waits until it shows up (the run is
 * really over), then one more timer tick for anything else in flight.
 */
export async function registeredAfterFailure(stack: string): Promise<string[]> {
  for (let i = 0; i < 400 && !registeredInLastRun().includes(stackUrn(stack)); i++)
    await new Promise((r) => setTimeout(r, 5));
  await new Promise((r) => setTimeout(r, 10));
  return registeredInLastRun();
}

/** Runs the program on a bad config; returns the ConfigError, after checking that nothing but the stack was registered. */
export async function configError(
  stack: string,
  overrides: Record<string, string | undefined>,
  extraSecretKeys: string[] = [],
): Promise<ConfigError> {
  const error = await planWith(stack, { overrides, extraSecretKeys }).then(
    (plan: Plan) =>
      assert.fail(`the ${stack} plan should have failed; it registered ${plan.resources.length} resources`),
    (err: unknown) => err,
  );
  assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
  assert.deepEqual(
    await registeredAfterFailure(stack),
    [stackUrn(stack)],
    "no resource registered besides the stack itself",
  );
  return error;
}
