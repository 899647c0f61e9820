/**
 * `npm run diff -- --stack <dev|stg|lmn> --base <git-ref | plan.json> [--markdown <file>] [--json <file>] [--quiet]`
 *
 * What a change does to a stack, offline: plans the stack at the base (a git ref,
 * planned in a temporary worktree; or a plan JSON from `npm run plan -- --json`) and
 * in the working tree, and compares the two resource by resource, risks first.
 * Exit 0: compared; 1: the change replaces or deletes a protected stateful resource
 * (or the comparison failed); 2: bad input (unknown ref, unreadable plan file, plan of
 * another stack, unknown stack).
 */
import { spawn, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { parseCli } from "./cli";
import type { Plan } from "./harness";

const USAGE =
  "usage: npm run diff -- --stack <dev|stg|lmn> --base <git-ref | plan.json> [--markdown <file>] [--json <file>] [--quiet]";
const REPO_ROOT = path.resolve(__dirname, "..");

export class InputError extends Error {}

async function main(): Promise<number> {
  const options = {
    stack: { type: "string" },
    base: { type: "string" },
    json: { type: "string" },
    markdown: { type: "string" },
    quiet: { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  } as const;
  const parsed = parseCli(process.argv.slice(2), options, USAGE, ["stack", "base"]);
  if (parsed.exit !== undefined) return parsed.exit;
  const args = parsed.values;
  const stack = args.stack;
  const baseArg = args.base;
  try {
    const base = resolveBase(baseArg, stack);
    // Loaded only now: @pulumi/aws takes seconds to load, and a usage error should not wait for it.
    /* eslint-disable @typescript-eslint/no-require-imports */
    const { planFiles, planStack } = require("./plan-stack") as typeof import("./plan-stack");
    const { diffJson, diffPlans } = require("./diff-plans") as typeof import("./diff-plans");
    const { renderMarkdown, renderText } = require("./diff-render") as typeof import("./diff-render");
    /* eslint-enable @typescript-eslint/no-require-imports */
    let files;
    try {
      files = planFiles(stack);
    } catch (err) {
      throw new InputError(`stack "${stack}": ${(err as Error).message}`);
    }
    // The base plans in its own process (its own code), while this one plans the working tree.
    const [basePlan, headPlan] = await Promise.all([base.plan(), planStack(files)]);
    const diff = await diffPlans(basePlan, headPlan, base.label);
    if (!args.quiet) console.log(renderText(diff));
    if (args.json) write(args.json, JSON.stringify(diffJson(diff), null, 2) + "\n");
    if (args.markdown) write(args.markdown, renderMarkdown(diff));
    return diff.blocking ? 1 : 0;
  } catch (err) {
    if (err instanceof InputError) {
      console.error(`✗ ${err.message}`);
      return 2;
    }
    console.error(`✗ diff of stack "${stack}": ${(err as Error).message ?? err}`);
    if (process.env.DEBUG) console.error((err as Error).stack);
    return 1;
  }
}

export interface Base {
  readonly label: string;
  plan(): Promise<Plan>;
}

/** A plan JSON file, or a git ref of the repository at `root`: which, decided before anything is planned. */
export function resolveBase(base: string, stack: string, root = REPO_ROOT): Base {
  const asFile = path.resolve(base);
  if (base.endsWith(".json") || (existsSync(asFile) && statSync(asFile).isFile())) {
    let plan: Plan;
    try {
      plan = JSON.parse(readFileSync(asFile, "utf8")) as Plan;
    } catch (err) {
      throw new InputError(`cannot read the base plan ${base}: ${(err as Error).message}`);
    }
    if (!plan || typeof plan !== "object" || !Array.isArray(plan.resources) || typeof plan.stack !== "string") {
      throw new InputError(
        `the base plan ${base} is not a plan written by \`npm run plan -- --json\` (no stack or resources)`,
      );
    }
    if (plan.stack !== stack) throw new InputError(`the base plan ${base} is of stack "${plan.stack}", not "${stack}"`);
    // A plan written before a field existed reads as empty there.
    return {
      label: base,
      plan: async () => ({
        ...plan,
        violations: plan.violations ?? [],
        invokes: plan.invokes ?? [],
        blockers: plan.blockers ?? [],
      }),
    };
  }
  const rev = git(["rev-parse", "--verify", "--quiet", `${base}^{commit}`], root);
  if (rev.status !== 0)
    throw new InputError(`unknown git ref "${base}" (not a commit in ${root}, and no such plan file)`);
  const sha = rev.stdout.trim();
  // A stack the base does not have yet: everything in it is new.
  if (git(["cat-file", "-e", `${sha}:Pulumi.${stack}.yaml`], root).status !== 0) {
    return {
      label: `${base} (${sha.slice(0, 12)}, without stack ${stack})`,
      plan: async () => ({ stack, project: "", resources: [], outputs: {}, violations: [], invokes: [], blockers: [] }),
    };
  }
  return { label: `${base} (${sha.slice(0, 12)})`, plan: () => planAtCommit(sha, stack) };
}

function git(args: readonly string[], cwd = REPO_ROOT): { status: number; stdout: string; stderr: string } {
  const r = spawnSync("git", args, { cwd, encoding: "utf8" });
  return { status: r.status ?? -1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

/**
 * Plans `stack` as it was at `sha`, in a temporary worktree. Dependencies: the working
 * tree's node_modules when the commit's lockfile is the same, else `npm ci` there.
 */
export async function planAtCommit(sha: string, stack: string): Promise<Plan> {
  const dir = mkdtempSync(path.join(tmpdir(), "lumerin-diff-base-"));
  const tree = path.join(dir, "tree");
  const added = git(["worktree", "add", "--detach", "--quiet", tree, sha]);
  if (added.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`git worktree add ${sha.slice(0, 12)} failed: ${added.stderr.trim()}`);
  }
  try {
    const lock = git(["show", `${sha}:package-lock.json`]);
    const current = readFileSync(path.join(REPO_ROOT, "package-lock.json"), "utf8");
    if (existsSync(path.join(tree, "node_modules"))) {
      // The commit carries its own (a link to the dependencies, as a test repository may).
    } else if (lock.status === 0 && lock.stdout === current && existsSync(path.join(REPO_ROOT, "node_modules"))) {
      symlinkSync(path.join(REPO_ROOT, "node_modules"), path.join(tree, "node_modules"), "dir");
    } else {
      await run("npm", ["ci", "--no-audit", "--no-fund"], tree);
    }
    const out = path.join(dir, "base-plan.json");
    const tsNode = path.join(tree, "node_modules", "ts-node", "dist", "bin.js");
    const result = await run(
      process.execPath,
      [tsNode, "--transpile-only", "tools/plan.ts", "--stack", stack, "--quiet", "--json", out],
      tree,
      true,
    );
    // Exit 1 with a plan written is a plan with mandatory violations: still a plan to compare.
    if (!existsSync(out))
      throw new Error(
        `the plan at ${sha.slice(0, 12)} failed (exit ${result.code}): ${result.stderr.trim().split("\n").slice(-5).join(" / ")}`,
      );
    return JSON.parse(readFileSync(out, "utf8")) as Plan;
  } finally {
    // Only this worktree: never a prune, which would touch the repository's other worktrees.
    git(["worktree", "remove", "--force", tree]);
    rmSync(dir, { recursive: true, force: true });
  }
}

function run(
  command: string,
  args: readonly string[],
  cwd: string,
  tolerate = false,
): Promise<{ code: number; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", fail);
    child.on("close", (code) => {
      if (code !== 0 && !tolerate)
        fail(
          new Error(
            `${command} ${args.join(" ")} failed (exit ${code}): ${stderr.trim().split("\n").slice(-5).join(" / ")}`,
          ),
        );
      else done({ code: code ?? -1, stderr });
    });
  });
}

function write(file: string, text: string): void {
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  writeFileSync(file, text);
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
