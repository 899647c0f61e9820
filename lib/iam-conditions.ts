/**
 * A small evaluator of IAM's string condition operators, enough to decide
 * whether an OIDC token's claims satisfy a role's trust policy: StringEquals
 * (exact, case-sensitive), StringLike (`*` and `?` wildcards), their `IfExists`
 * forms, several values of one key OR-ed, several keys and operators AND-ed, and
 * a missing key failing every operator but the `IfExists` ones.
 */
export type ConditionBlock = Readonly<Record<string, Readonly<Record<string, string | readonly string[]>>>>;
export type RequestContext = Readonly<Record<string, string | undefined>>;

const SUPPORTED = /^(StringEquals|StringNotEquals|StringLike|StringNotLike)(IfExists)?$/;

function like(pattern: string, value: string): boolean {
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".")}$`,
  );
  return re.test(value);
}

/** Whether `context` satisfies every condition in `block` (an absent block is satisfied). */
export function conditionsMatch(block: ConditionBlock | undefined, context: RequestContext): boolean {
  for (const [operator, keys] of Object.entries(block ?? {})) {
    const match = SUPPORTED.exec(operator);
    if (!match) throw new Error(`condition operator ${operator} is not supported by this evaluator`);
    const [, base, ifExists] = match;
    for (const [key, raw] of Object.entries(keys)) {
      const expected = typeof raw === "string" ? [raw] : [...raw];
      // Condition keys are case-insensitive; their values are not.
      const actualKey = Object.keys(context).find((k) => k.toLowerCase() === key.toLowerCase());
      const actual = actualKey === undefined ? undefined : context[actualKey];
      if (actual === undefined) {
        if (ifExists) continue;
        return false;
      }
      const hit = expected.some((e) => (base.endsWith("Like") ? like(e, actual) : e === actual));
      if (base.includes("Not") ? hit : !hit) return false;
    }
  }
  return true;
}
