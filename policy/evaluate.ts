/**
 * Evaluates the rules in-process on resource views: the offline plan, the tests
 * and `npm run audit` use this; `pulumi preview --policy-pack policy` uses the
 * same rules through policy/index.ts.
 */
import { RULES } from "./rules";
import { DEFAULT_POLICY_CONFIG, Finding, PolicyConfig, PolicyViolation, ResourceView, Rule, RuleContext, levelFor } from "./rules/model";

export interface EvaluateOptions {
  readonly stack: string;
  readonly config?: Partial<PolicyConfig>;
  /** Evaluate only these rules (tests); default all. */
  readonly rules?: readonly Rule[];
}

export async function evaluate(views: readonly ResourceView[], options: EvaluateOptions): Promise<PolicyViolation[]> {
  const config: PolicyConfig = { ...DEFAULT_POLICY_CONFIG, ...options.config };
  const ctx: RuleContext = { stack: options.stack, production: config.productionStacks.includes(options.stack), config };
  const violations: PolicyViolation[] = [];
  for (const rule of options.rules ?? RULES) {
    const level = levelFor(rule, ctx.production);
    const record = (findings: readonly Finding[], fallbackUrn: string) => {
      for (const f of findings) {
        violations.push({
          policy: rule.name,
          // An allowed exception is always visible, never blocking.
          level: f.exception ? "advisory" : level,
          urn: f.urn ?? fallbackUrn,
          message: f.exception ? f.message : `${f.message}. ${rule.remediation}`,
        });
      }
    };
    if (rule.checkResource) for (const view of views) record(await rule.checkResource(view, ctx), view.urn);
    if (rule.checkStack) record(await rule.checkStack(views, ctx), `urn:pulumi:${options.stack}::stack`);
  }
  return violations;
}
