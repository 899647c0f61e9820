/**
 * `npm run audit -- <stack-export.json> [--json <file>] [--policy-config <file>]`
 *
 * Evaluates the policy pack on a live stack's state (`pulumi stack export >
 * dev.json`, deployment version 3), offline. Same rules and report as the plan.
 * Exit 0: no mandatory violation; 1: mandatory violations; 2: bad input.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { evaluate, splitPolicyConfig } from "../policy/evaluate";
import type { PolicyConfig } from "../policy/rules/model";
import { viewsFromExport } from "../policy/views";
import { renderViolations } from "./render";

const USAGE = "usage: npm run audit -- <stack-export.json> [--json <file>] [--policy-config <file>]";

export async function audit(argv: readonly string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: { json: { type: "string" }, "policy-config": { type: "string" } },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const [file] = parsed.positionals;
  if (!file || parsed.positionals.length > 1) {
    console.error(`expected one stack export file\n${USAGE}`);
    return 2;
  }
  let stack: string;
  let views;
  let config: Partial<PolicyConfig> | undefined;
  let ruleOptions: Record<string, Record<string, unknown>> | undefined;
  try {
    ({ stack, views } = viewsFromExport(JSON.parse(readFileSync(file, "utf8"))));
  } catch (err) {
    console.error(`✗ ${file}: ${(err as Error).message}`);
    return 2;
  }
  const configFile = parsed.values["policy-config"];
  if (configFile) {
    try {
      ({ config, ruleOptions } = splitPolicyConfig(JSON.parse(readFileSync(configFile, "utf8"))));
    } catch (err) {
      console.error(`✗ ${configFile}: ${(err as Error).message}`);
      return 2;
    }
  }
  let violations;
  try {
    violations = await evaluate(views, { stack, config, ruleOptions });
  } catch (err) {
    // A rule option the rule does not have, or of the wrong type, named `<rule>.<option>`.
    if (!/^policy config /.test((err as Error).message)) throw err;
    console.error(`✗ ${configFile ?? file}: ${(err as Error).message}`);
    return 2;
  }
  console.log(`Audit of stack "${stack}" (${file}): ${views.length} resources`);
  console.log(renderViolations({ violations }).join("\n"));
  if (parsed.values.json) writeFileSync(parsed.values.json, JSON.stringify({ stack, violations }, null, 2) + "\n");
  return violations.some((v) => v.level === "mandatory") ? 1 : 0;
}

if (require.main === module) {
  audit(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
