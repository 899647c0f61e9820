/**
 * Policy rules on real resources: runs a small program that builds real
 * `@pulumi/aws` resources under the capture harness (the offline plan's mocks,
 * with realistic ARNs), then evaluates rules on the views the plan yields, the
 * same path `npm run plan` takes.
 */
import { evaluate } from "../../policy/evaluate";
import type { PolicyConfig, PolicyViolation, Rule } from "../../policy/rules/model";
import { viewsFromPlan } from "../../policy/views";
import { Plan, capture } from "../../tools/harness";

export const PROJECT = "lumerin-infra";
export const ACCOUNT = "111122223333";
export const REGION = "us-east-1";

export type TestStack = "dev" | "stg" | "lmn";

export interface ViolationOptions {
  readonly stack?: TestStack;
  readonly config?: Partial<PolicyConfig>;
}

/** A program for the harness; it may return stack outputs (for the output rules), or nothing. */
export type Program = () => void | Record<string, unknown> | Promise<void | Record<string, unknown>>;

export interface Evaluated {
  readonly plan: Plan;
  readonly violations: PolicyViolation[];
}

/** Captures `program` and evaluates `rules` on it; the plan is returned too, for URN lookups. */
export async function evaluateProgram(
  rules: Rule | readonly Rule[],
  program: Program,
  opts: ViolationOptions = {},
): Promise<Evaluated> {
  const stack = opts.stack ?? "dev";
  const plan = await capture({
    project: PROJECT,
    stack,
    config: { "aws:region": REGION },
    secretKeys: [],
    accountId: ACCOUNT,
    program: async () => (await program()) ?? {},
  });
  const list = Array.isArray(rules) ? (rules as readonly Rule[]) : [rules as Rule];
  const violations = await evaluate(viewsFromPlan(plan), { stack, config: opts.config, rules: list });
  return { plan, violations };
}

/** The violations `rules` report on what `program` builds. */
export async function violations(
  rules: Rule | readonly Rule[],
  program: Program,
  opts: ViolationOptions = {},
): Promise<PolicyViolation[]> {
  return (await evaluateProgram(rules, program, opts)).violations;
}

/** The URN the harness gives a top-level resource. */
export function urnOf(type: string, name: string, stack: TestStack = "dev"): string {
  return `urn:pulumi:${stack}::${PROJECT}::${type}::${name}`;
}

/** The logical name at the end of a URN. */
export function nameOf(urn: string): string {
  return urn.split("::").pop() ?? urn;
}
