/**
 * Evaluates the rules in-process on resource views: the offline plan, the tests
 * and `npm run audit` use this; `pulumi preview --policy-pack policy` uses the
 * same rules through policy/index.ts.
 */
import { RULES } from "./rules";
import {
  DEFAULT_POLICY_CONFIG,
  Finding,
  PolicyConfig,
  PolicyViolation,
  ResourceView,
  Rule,
  RuleContext,
  levelFor,
  resolveOptions,
  typeToken,
} from "./rules/model";

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
  const contexts = new Map<Rule, RuleContext>(
    rules.map((rule) => [
      rule,
      { stack: options.stack, production, config, options: resolveOptions(rule, options.ruleOptions?.[rule.name]) },
    ]),
  );
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
    const types = rule.resourceClasses?.map(typeToken);
    if (rule.checkResource)
      for (const view of views)
        if (!types || types.includes(view.type)) record(await rule.checkResource(view, ctx), view.urn);
    if (rule.checkStack) record(await rule.checkStack(views, ctx), `urn:pulumi:${options.stack}::stack`);
  }
  return violations;
}

/**
 * A policy configuration file (`npm run audit --policy-config`): the shared keys at the top level
 * (`productionStacks`, `privilegedRoles`...), and each rule's options under its name, as in the CLI's
 * `--policy-pack-config` (`{ "rds-hardened": { "productionMinimumBackupRetentionDays": 30 } }`). Throws,
 * naming the key, on anything else.
 */
export function splitPolicyConfig(raw: unknown): {
  config: Partial<PolicyConfig>;
  ruleOptions: Record<string, Record<string, unknown>>;
} {
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) throw new Error("policy config: expected a JSON object");
  const config: Record<string, unknown> = {};
  const ruleOptions: Record<string, Record<string, unknown>> = {};
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    if (key in DEFAULT_POLICY_CONFIG) {
      const expected = DEFAULT_POLICY_CONFIG[key as keyof PolicyConfig];
      if (
        Array.isArray(expected) !== Array.isArray(value) ||
        (!Array.isArray(value) && typeof value !== typeof expected)
      ) {
        throw new Error(
          `policy config ${key}: expected ${Array.isArray(expected) ? "an array" : `a ${typeof expected}`}`,
        );
      }
      config[key] = value;
    } else if (RULES.some((r) => r.name === key)) {
      if (!value || typeof value !== "object" || Array.isArray(value))
        throw new Error(`policy config ${key}: expected an object of ${key}'s options`);
      ruleOptions[key] = value as Record<string, unknown>;
    } else {
      throw new Error(
        `policy config ${key}: neither a shared key (${Object.keys(DEFAULT_POLICY_CONFIG).join(", ")}) nor a rule name`,
      );
    }
  }
  return { config: config as Partial<PolicyConfig>, ruleOptions };
}
