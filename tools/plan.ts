/**
 * `npm run plan -- --stack <dev|stg|lmn> [--config-file <path>] [--json <file>] [--markdown <file>]
 *                  [--github-api-url <url>] [--deployed-tag <ssm-name>=<tag>]...`
 *
 * The offline plan: what `pulumi preview` would register for a stack, without
 * AWS, GitHub or the Pulumi CLI. Exit 0 on success, 2 on bad input (config,
 * image tag lookup), 1 on anything else.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { parseCli } from "./cli";

const USAGE =
  "usage: npm run plan -- --stack <dev|stg|lmn> [--config-file <path>] [--json <file>] [--markdown <file>] [--github-api-url <url>] [--deployed-tag <ssm-name>=<tag>]... [--quiet]";

async function main(): Promise<number> {
  const options = {
    stack: { type: "string" },
    "config-file": { type: "string" },
    json: { type: "string" },
    markdown: { type: "string" },
    "github-api-url": { type: "string" },
    "deployed-tag": { type: "string", multiple: true },
    quiet: { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  } as const;
  const parsed = parseCli(process.argv.slice(2), options, USAGE, ["stack"]);
  if (parsed.exit !== undefined) return parsed.exit;
  const args = parsed.values;

  const ssmParameters: Record<string, string> = {};
  for (const pair of args["deployed-tag"] ?? []) {
    const at = pair.indexOf("=");
    if (at <= 0) {
      console.error(`--deployed-tag expects <ssm-parameter-name>=<tag>, got "${pair}"`);
      return 2;
    }
    ssmParameters[pair.slice(0, at)] = pair.slice(at + 1);
  }

  // Loaded only now: @pulumi/aws takes seconds to load, and a usage error should not wait for it.
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { ConfigError } = require("../config/load") as typeof import("../config/load");
  const { GitHubReleaseSource, ImageTagLookupError } =
    require("../lib/github-releases") as typeof import("../lib/github-releases");
  const { planFiles, planStack } = require("./plan-stack") as typeof import("./plan-stack");
  const { renderMarkdown, renderTree } = require("./render") as typeof import("./render");
  /* eslint-enable @typescript-eslint/no-require-imports */

  const stack = args.stack;
  let files;
  try {
    files = planFiles(stack, args["config-file"]);
  } catch (err) {
    console.error(`✗ stack "${stack}": ${(err as Error).message}`);
    return 2;
  }
  try {
    const releases = args["github-api-url"]
      ? new GitHubReleaseSource({ baseUrl: args["github-api-url"], token: process.env.GITHUB_TOKEN })
      : undefined;
    const plan = await planStack(files, { releases, ssmParameters });
    if (!args.quiet) console.log(renderTree(plan, path.relative(process.cwd(), files.configFile) || files.configFile));
    if (args.json) write(args.json, JSON.stringify(plan, null, 2) + "\n");
    if (args.markdown) write(args.markdown, renderMarkdown(plan));
    return plan.violations.some((v) => v.level === "mandatory") ? 1 : 0;
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`✗ stack "${stack}": ${err.message}`);
      return 2;
    }
    if (err instanceof ImageTagLookupError) {
      console.error(`✗ stack "${stack}": ${err.message}`);
      return 2;
    }
    console.error(`✗ stack "${stack}": ${(err as Error).message ?? err}`);
    if (process.env.DEBUG) console.error((err as Error).stack);
    return 1;
  }
}

function write(file: string, text: string): void {
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  writeFileSync(file, text);
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
