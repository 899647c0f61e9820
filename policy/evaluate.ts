/**
 * Evaluates the rules in-process on resource views: the offline plan, the tests
 * and `npm run audit` use this; `pulumi preview --policy-pack policy` uses the
 * same rules through policy/index.ts.
 */
import { RULES } from "./rules";
import { DEFAULT_POLICY_CONFIG, Finding, PolicyConfig, PolicyViolation, ResourceView, Rule, RuleContext, levelFor, resolveOptions } from "./rules/model";

export interface EvaluateOptions {
  readonly stack: string;
  readonly config?: Partial<PolicyConfig>;
  /** Per-rule options by rule name (`{ "rds-hardened": { "productionMinimumBackupRetentionDays": 14 } }`). */
  readonly ruleOptions?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  /** Evaluate only these rules (tests); default all. */
  readonly rules?: readonly Rule[];
}

export async function evaluate(views: readonly ResourceView[], options: EvaluateOptions): Promise<PolicyViolation[]> {
  const config: PolicyConfig = { ...DEFAULT_POLICY_CONFIG, ...options.config };
  const production = config.productionStacks.includes(options.stack);
  const rules = options.rules ?? RULES;
  for (const name of Object.keys(options.ruleOptions ?? {})) {
    if (!RULES.some((r) => r.name === name)) throw new Error(`policy config ${name}: no rule of that name`);
  }
  // Every rule's options are checked before any rule runs, so bad configuration fails whole.
  const contexts = new Map<Rule, RuleContext>(rules.map((rule) => [rule, { stack: options.stack, production, config, options: resolveOptions(rule, options.ruleOptions?.[rule.name]) }]));
  const violations: PolicyViolation[] = [];
  for (const rule of rules) {
    const ctx = contexts.get(rule) as RuleContext;
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
