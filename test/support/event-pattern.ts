/**
 * EventBridge event patterns, evaluated offline, for the subset the program writes:
 * fields that must be present, each matching one of a list of exact values, and
 * objects nested in objects. Matching follows EventBridge's rules for that subset:
 * every field the pattern names must be in the event; a field matches when its value
 * (or, for a list, any element) equals one of the pattern's values, exactly and
 * case-sensitively; fields the pattern does not name are ignored. Anything else in a
 * pattern (prefix, anything-but, numeric, exists, $or ...) is refused rather than
 * guessed, so a test cannot pass on a rule it does not understand.
 */

type Scalar = string | number | boolean | null;

function isObject(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isScalar(value: unknown): value is Scalar {
  return value === null || ["string", "number", "boolean"].includes(typeof value);
}

/** Whether `event` matches `pattern` (a pattern object, or its JSON as a rule holds it). */
export function eventMatches(pattern: unknown, event: unknown): boolean {
  const parsed = typeof pattern === "string" ? (JSON.parse(pattern) as unknown) : pattern;
  if (!isObject(parsed)) throw new Error("an event pattern is a JSON object");
  return matchObject(parsed, event, "");
}

function matchObject(pattern: Readonly<Record<string, unknown>>, event: unknown, at: string): boolean {
  if (Object.keys(pattern).length === 0) throw new Error(`empty object in the pattern at ${at || "the top"}`);
  for (const [key, expected] of Object.entries(pattern)) {
    const path = at ? `${at}.${key}` : key;
    if (key.startsWith("$")) throw new Error(`${path}: operator ${key} is not supported by this evaluator`);
    if (!isObject(event) || !Object.hasOwn(event, key)) return false;
    const actual = event[key];
    if (Array.isArray(expected)) {
      if (!matchValues(expected, actual, path)) return false;
    } else if (isObject(expected)) {
      if (!matchObject(expected, actual, path)) return false;
    } else {
      throw new Error(`${path}: a pattern field holds a list of values or an object, not ${JSON.stringify(expected)}`);
    }
  }
  return true;
}

function matchValues(expected: readonly unknown[], actual: unknown, path: string): boolean {
  if (expected.length === 0) throw new Error(`${path}: an empty list matches nothing`);
  for (const value of expected) {
    if (!isScalar(value))
      throw new Error(`${path}: content filter ${JSON.stringify(value)} is not supported by this evaluator`);
  }
  const candidates = Array.isArray(actual) ? actual : [actual];
  return candidates.some((candidate) => isScalar(candidate) && expected.some((value) => value === candidate));
}
