/**
 * The subset of CloudWatch Logs filter syntax the log metrics use, evaluated
 * offline so a spec can show each pattern against the lines the apps write:
 * - a quoted term (`"panic: "`): the event contains it, case-sensitively;
 * - a JSON pattern (`{ ($.a = "x") || ($.b >= 50) }`): `=`/`!=` on strings
 *   (a trailing `*` is a prefix match) and `=`, `!=`, `<`, `<=`, `>`, `>=` on
 *   numbers, joined by `&&` / `||` with parentheses; a non-JSON event never matches.
 * Anything else is refused, so a pattern this cannot read fails its spec.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html
 */
export function matches(pattern: string, event: string): boolean {
  const p = pattern.trim();
  const term = /^"((?:[^"\\]|\\.)*)"$/.exec(p);
  if (term) return event.includes(term[1].replace(/\\(.)/g, "$1"));
  if (p.startsWith("{") && p.endsWith("}")) {
    let json: unknown;
    try {
      json = JSON.parse(event);
    } catch {
      return false;
    }
    const parser = new Parser(p.slice(1, -1));
    const result = parser.expression(json);
    parser.end();
    return result;
  }
  throw new Error(`log-filter: unsupported pattern ${pattern}`);
}

class Parser {
  private pos = 0;
  constructor(private readonly src: string) {}

  expression(json: unknown): boolean {
    let value = this.conjunction(json);
    while (this.eat("||")) value = this.conjunction(json) || value;
    return value;
  }

  end(): void {
    this.skip();
    if (this.pos !== this.src.length) throw new Error(`log-filter: unexpected "${this.src.slice(this.pos)}"`);
  }

  private conjunction(json: unknown): boolean {
    let value = this.term(json);
    while (this.eat("&&")) value = this.term(json) && value;
    return value;
  }

  private term(json: unknown): boolean {
    if (this.eat("(")) {
      const value = this.expression(json);
      if (!this.eat(")")) throw new Error(`log-filter: missing ")" at ${this.pos}`);
      return value;
    }
    const selector = this.take(/^\$(\.[A-Za-z_][A-Za-z0-9_]*)+/, "a $.field selector");
    const op = this.take(/^(>=|<=|!=|=|>|<)/, "an operator");
    const field = selector
      .slice(2)
      .split(".")
      .reduce<unknown>(
        (o, k) => (o !== null && typeof o === "object" ? (o as Record<string, unknown>)[k] : undefined),
        json,
      );
    const literal = this.take(/^("(?:[^"\\]|\\.)*"|-?\d+(\.\d+)?)/, "a string or number");
    if (literal.startsWith('"')) {
      if (op !== "=" && op !== "!=") throw new Error(`log-filter: ${op} on a string`);
      const want = literal.slice(1, -1);
      const equal =
        typeof field === "string" && (want.endsWith("*") ? field.startsWith(want.slice(0, -1)) : field === want);
      return op === "=" ? equal : !equal;
    }
    if (typeof field !== "number") return false;
    const n = Number(literal);
    switch (op) {
      case "=":
        return field === n;
      case "!=":
        return field !== n;
      case ">":
        return field > n;
      case ">=":
        return field >= n;
      case "<":
        return field < n;
      default:
        return field <= n;
    }
  }

  private skip(): void {
    while (this.src[this.pos] === " ") this.pos++;
  }

  private eat(token: string): boolean {
    this.skip();
    if (!this.src.startsWith(token, this.pos)) return false;
    this.pos += token.length;
    return true;
  }

  private take(re: RegExp, what: string): string {
    this.skip();
    const m = re.exec(this.src.slice(this.pos));
    if (!m) throw new Error(`log-filter: expected ${what} at "${this.src.slice(this.pos)}"`);
    this.pos += m[0].length;
    return m[0];
  }
}
