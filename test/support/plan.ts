/** Plans for specs: the same harness and program as `npm run plan`, with overrides per case. */
import type { CapturedResource, Plan } from "../../tools/harness";
import { PlanStackOptions, planFiles, planStack } from "../../tools/plan-stack";

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

/**
 * A plan of `stack` with config values replaced (full keys; `undefined` removes a key). The
 * process environment is not read unless `options.environment` gives it: a developer's own
 * GITHUB_TOKEN never changes a spec's result.
 */
export function planWith(stack: string, options: PlanStackOptions = {}, configFile?: string): Promise<Plan> {
  return planStack(planFiles(stack, configFile), { environment: {}, ...options });
}

/** An environment that lets a plan manage GitHub environments: an (offline) admin token in GITHUB_TOKEN. */
export const GITHUB_ADMIN_ENV = { GITHUB_TOKEN: "github_pat_offline_placeholder" } as const;

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
