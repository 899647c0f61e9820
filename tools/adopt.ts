/**
 * `npm run adopt -- --stack <dev|stg|lmn> --tfstate <file> [--tfstate <file>...]
 *                   [--import-file <out.json>] [--json <out.json>] [--markdown <out.md>]`
 *
 * Plans the stack offline (the plan `npm run plan` makes) and matches it against the
 * Terraform states of the live estate (`terragrunt state pull`, one per root). Exit 0:
 * the stack adopts everything it plans without replacing anything stateful or
 * client-facing; 1: only with replacements or data risks (the blockers); 2: bad input
 * (an unreadable, non-v4 or malformed state, a state of another account or region, the
 * stack's config); 3: a fault of the tool itself. No value a state holds in a sensitive place reaches any output.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { parseCli } from "./cli";
import { TfSource, TfStateError, readTfState, sensitiveValues } from "./adopt/tfstate";
import { scrubber } from "./adopt/render";
import { checkSourceTarget, configTarget } from "./adopt/target";
import { readStackConfig } from "./stack-files";

const USAGE =
  "usage: npm run adopt -- --stack <dev|stg|lmn> --tfstate <file> [--tfstate <file>...] [--import-file <out.json>] [--json <out.json>] [--markdown <out.md>] [--quiet]";

async function main(): Promise<number> {
  const options = {
    stack: { type: "string" },
    tfstate: { type: "string", multiple: true },
    "import-file": { type: "string" },
    json: { type: "string" },
    markdown: { type: "string" },
    quiet: { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  } as const;
  const parsed = parseCli(process.argv.slice(2), options, USAGE, ["stack"]);
  if (parsed.exit !== undefined) return parsed.exit;
  const args = parsed.values;
  if (!args.tfstate?.length) {
    console.error(`at least one --tfstate is required\n${USAGE}`);
    return 2;
  }

  // States first (they are what can be wrong), before the seconds @pulumi/aws takes to load.
  const sources: TfSource[] = [];
  try {
    for (const file of args.tfstate) sources.push(readTfState(file));
  } catch (err) {
    if (err instanceof TfStateError) {
      console.error(`✗ refused ${err.message}`);
      return 2;
    }
    throw err;
  }
  const scrub = scrubber(sensitiveValues(sources));
  const out = (text: string) => console.log(scrub(text));
  const fail = (text: string) => console.error(scrub(text));

  // A state of another account is refused from the stack file alone, before the program loads.
  const stack = args.stack;
  let files;
  try {
    files = readStackConfig(path.resolve(__dirname, ".."), stack);
    const target = configTarget(stack, files.config);
    for (const source of sources) checkSourceTarget(source, target, false);
  } catch (err) {
    fail(err instanceof TfStateError ? `✗ refused ${err.message}` : `✗ stack "${stack}": ${(err as Error).message}`);
    return 2;
  }

  /* eslint-disable @typescript-eslint/no-require-imports */
  const { ConfigError } = require("../config/load") as typeof import("../config/load");
  const { planStack } = require("./plan-stack") as typeof import("./plan-stack");
  const { adopt, stackTarget } = require("./adopt/adopt") as typeof import("./adopt/adopt");
  const { buildImportFile } = require("./adopt/import-file") as typeof import("./adopt/import-file");
  const { renderReportMarkdown, renderSummary } = require("./adopt/render") as typeof import("./adopt/render");
  /* eslint-enable @typescript-eslint/no-require-imports */

  try {
    const plan = await planStack(files);
    const report = adopt(plan, sources, stackTarget(plan, files.config));
    const awsVersion = (
      JSON.parse(readFileSync(require.resolve("@pulumi/aws/package.json"), "utf8")) as { version: string }
    ).version;
    if (args["import-file"])
      write(args["import-file"], scrub(JSON.stringify(buildImportFile(plan, report, { awsVersion }), null, 4) + "\n"));
    if (args.json) write(args.json, scrub(JSON.stringify(report, null, 2) + "\n"));
    if (args.markdown) write(args.markdown, scrub(renderReportMarkdown(report)));
    if (!args.quiet) out(renderSummary(report));
    return report.blockers.length > 0 ? 1 : 0;
  } catch (err) {
    if (err instanceof TfStateError) {
      fail(`✗ refused ${err.message}`);
      return 2;
    }
    if (err instanceof ConfigError) {
      fail(`✗ stack "${stack}": ${err.message}`);
      return 2;
    }
    fail(`✗ stack "${stack}": ${(err as Error).message ?? err}`);
    if (process.env.DEBUG) fail(String((err as Error).stack));
    return 2;
  }
}

function write(file: string, text: string): void {
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  writeFileSync(file, text);
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error("✗ adopt failed unexpectedly (set DEBUG=1 for the trace)");
    if (process.env.DEBUG) console.error(err);
    process.exit(3);
  },
);
