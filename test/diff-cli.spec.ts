/**
 * `npm run diff` as a process, on commits in a temporary repository made from this
 * working tree (its dependencies linked, as the tool links them when the lockfile is
 * the same): a change that adds s3:PutObject on * to a deploy role and shortens a log
 * group's name, a change that only reorders code, and the bad inputs (exit 2, naming
 * the cause).
 */
import { strict as assert } from "node:assert";
import { spawn, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { InputError, resolveBase } from "../tools/diff";
import { committedPlan } from "./support/plan";

const ROOT = path.resolve(__dirname, "..");
const TS_NODE = require.resolve("ts-node/dist/bin");

function git(cwd: string, ...args: string[]): string {
  const r = spawnSync(
    "git",
    ["-c", "user.email=diff@test", "-c", "user.name=diff", "-c", "commit.gpgsign=false", ...args],
    { cwd, encoding: "utf8" },
  );
  assert.equal(r.status, 0, `git ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

function edit(file: string, from: string | RegExp, to: string): void {
  const text = readFileSync(file, "utf8");
  const next = text.replace(from, to);
  assert.notEqual(next, text, `${path.basename(file)}: ${String(from)} not found`);
  writeFileSync(file, next);
}

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function diff(cwd: string, ...args: string[]): Promise<Run> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [TS_NODE, "--transpile-only", "tools/diff.ts", ...args], {
      cwd,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("close", (code) => done({ code: code ?? -1, stdout, stderr }));
  });
}

describe("npm run diff (the CLI, on commits of a temporary repository)", function () {
  this.timeout(180000);
  let dir: string;
  let changed: string;
  let reordered: string;
  let changedRun: Run;
  let reorderedRun: Run;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "lumerin-diff-cli-"));
    const base = path.join(dir, "base");
    mkdirSync(base);
    const files = git(ROOT, "ls-files", "-co", "--exclude-standard", "-z").split("\0").filter(Boolean);
    for (const f of files) {
      try {
        cpSync(path.join(ROOT, f), path.join(base, f), { recursive: false });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err; // deleted but not yet staged
      }
    }
    git(base, "init", "-q", "-b", "base");
    writeFileSync(path.join(base, ".git", "info", "exclude"), "node_modules\n");
    symlinkSync(path.join(ROOT, "node_modules"), path.join(base, "node_modules"), "dir");
    git(base, "add", "-A");
    git(base, "commit", "-qm", "base");

    // Two working trees on top of the base: git worktrees of the temporary repository.
    changed = path.join(dir, "changed");
    reordered = path.join(dir, "reordered");
    for (const tree of [changed, reordered]) {
      git(base, "worktree", "add", "-q", "-b", path.basename(tree), tree);
      symlinkSync(path.join(ROOT, "node_modules"), path.join(tree, "node_modules"), "dir");
    }
    edit(
      path.join(changed, "components", "deploy-identity.ts"),
      "  return [\n    ...ecsDeployStatements(ctx, repo.services),",
      '  return [\n    { Sid: "WriteAnyObject", Action: ["s3:PutObject"], Resource: ["*"] },\n    ...ecsDeployStatements(ctx, repo.services),',
    );
    edit(
      path.join(changed, "lib", "naming.ts"),
      "execLogGroup: `bedrock-${env}-proxy-router-ecs-exec`",
      "execLogGroup: `bedrock-${env}-pr-exec`",
    );
    git(changed, "commit", "-qam", "widen and rename");
    // Only code order: two independent statements of the module swapped, nothing planned differs.
    edit(
      path.join(reordered, "tools", "diff.ts"),
      "const USAGE =\n",
      "const REORDERED = true;\nvoid REORDERED;\nconst USAGE =\n",
    );
    git(reordered, "commit", "-qam", "reorder");
    // Both diffs at once: each plans its base (in a worktree) and its own tree.
    [changedRun, reorderedRun] = await Promise.all([
      diff(
        changed,
        "--stack",
        "dev",
        "--base",
        "base",
        "--markdown",
        path.join(dir, "changed.md"),
        "--json",
        path.join(dir, "changed.json"),
      ),
      diff(reordered, "--stack", "dev", "--base", "base", "--markdown", path.join(dir, "reordered.md"), "--quiet"),
    ]);
  });

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("a change that adds s3:PutObject on * to a deploy role and shortens a log group's name: the first lines say so", async () => {
    const md = path.join(dir, "changed.md");
    const json = path.join(dir, "changed.json");
    assert.equal(changedRun.code, 0, changedRun.stderr);
    assert.match(changedRun.stdout, /replace +cluster-exec-logs \(aws:cloudwatch\/logGroup:LogGroup\): name/);
    const lines = readFileSync(md, "utf8").split("\n");
    assert.match(lines[2], /^\*\*dev\*\* against `base \([0-9a-f]{12}\)`: \d+ to update, 1 to replace\.$/);
    assert.match(
      lines[3],
      /^- \*\*data loss\*\*: LogGroup bedrock-dev-proxy-router-ecs-exec \(cluster-exec-logs\) is replaced \(name: bedrock-dev-proxy-router-ecs-exec → bedrock-dev-pr-exec\): its log events are lost$/,
    );
    assert.ok(
      lines
        .slice(4, 6)
        .includes(
          "- **access widened**: role github-actions-proxy-router-deploy-dev (inline policy code-deploy) may now s3:PutObject on \\*",
        ),
      lines.slice(0, 8).join("\n"),
    );
    const out = JSON.parse(readFileSync(json, "utf8")) as {
      stack: string;
      changes: { urn: string; change: string; paths: string[] }[];
      risks: { kind: string; urn: string }[];
    };
    assert.equal(out.stack, "dev");
    const logs = out.changes.find((c) => c.urn.endsWith("::cluster-exec-logs"));
    assert.deepEqual([logs?.change, logs?.paths], ["replace", ["name"]]);
    assert.ok(out.risks.some((r) => r.kind === "access-widened" && r.urn.endsWith("::deploy-proxy-router-policy")));
    assert.ok(out.risks.some((r) => r.kind === "policy-new"));
    // The base was planned in a temporary worktree, removed afterwards: only the repository's own remain.
    const worktrees = git(path.join(dir, "base"), "worktree", "list", "--porcelain")
      .split("\n")
      .filter((l) => l.startsWith("worktree "));
    assert.deepEqual(worktrees.map((l) => path.basename(l.slice("worktree ".length))).sort(), [
      "base",
      "changed",
      "reordered",
    ]);
  });

  it("a change that only reorders code says nothing changed", async () => {
    assert.equal(reorderedRun.code, 0, reorderedRun.stderr);
    assert.equal(reorderedRun.stdout, "", "--quiet prints nothing");
    assert.match(
      readFileSync(path.join(dir, "reordered.md"), "utf8"),
      /^### Diff of stack `dev`\n\n\*\*dev\*\*: no changes against `base \([0-9a-f]{12}\)`\.\n/,
    );
  });

  it("bad input: exit 2 naming the cause (unknown ref, unreadable plan file, plan of another stack); a plan JSON as the base, exit 1 when a protected stateful resource would be replaced", async () => {
    const other = path.join(dir, "lmn-plan.json");
    writeFileSync(
      other,
      JSON.stringify({ stack: "lmn", project: "lumerin-infra", resources: [], outputs: {}, violations: [] }),
    );
    const broken = path.join(dir, "broken.json");
    writeFileSync(broken, "{ not json");
    const notAPlan = path.join(dir, "not-a-plan.json");
    writeFileSync(notAPlan, JSON.stringify({ stack: "dev" }));
    // A base where lmn's protected router secret had another name: the tree renames it, so replaces it.
    const lmn = JSON.parse(JSON.stringify(await committedPlan("lmn"))) as {
      resources: { name: string; inputs: Record<string, unknown>; options: { protect: boolean } }[];
    };
    const secret = lmn.resources.find((r) => r.name === "proxy-router-secret");
    assert.ok(secret?.options.protect, "lmn protects its secrets");
    secret.inputs.name = "/proxy-router/lmn/old-config";
    const protectedBase = path.join(dir, "lmn-base.json");
    writeFileSync(protectedBase, JSON.stringify(lmn));
    const runs = await Promise.all([
      diff(changed, "--stack", "dev", "--base", "no-such-branch"),
      diff(changed, "--stack", "lmn", "--base", protectedBase),
    ]);
    assert.deepEqual(
      runs.map((r) => r.code),
      [2, 1],
      runs.map((r) => r.stderr).join("\n"),
    );
    assert.match(runs[0].stderr, /^✗ unknown git ref "no-such-branch"/);
    assert.match(runs[1].stdout, /blocked: a protected stateful resource would be replaced or deleted/);
    assert.match(
      runs[1].stdout,
      /data loss: Secret \/proxy-router\/lmn\/old-config \(proxy-router-secret\) is replaced \(name: /,
    );
    // The other causes, decided before anything is planned (the CLI prints them and exits 2, as above).
    assert.throws(
      () => resolveBase(path.join(dir, "missing.json"), "dev", changed),
      (e: Error) => e instanceof InputError && /cannot read the base plan .*missing\.json: ENOENT/.test(e.message),
    );
    assert.throws(
      () => resolveBase(broken, "dev", changed),
      (e: Error) => e instanceof InputError && /cannot read the base plan .*broken\.json: .*JSON/.test(e.message),
    );
    assert.throws(
      () => resolveBase(other, "dev", changed),
      (e: Error) =>
        e instanceof InputError && /the base plan .*lmn-plan\.json is of stack "lmn", not "dev"/.test(e.message),
    );
    assert.throws(
      () => resolveBase(notAPlan, "dev", changed),
      (e: Error) => e instanceof InputError && /is not a plan written by `npm run plan -- --json`/.test(e.message),
    );
  });

  it("a stack the base commit does not have yet: an empty base, so everything in it is a create", async () => {
    const base = resolveBase("base", "qa", changed);
    assert.match(base.label, /^base \([0-9a-f]{12}, without stack qa\)$/);
    assert.deepEqual(await base.plan(), {
      stack: "qa",
      project: "",
      resources: [],
      outputs: {},
      violations: [],
      invokes: [],
      blockers: [],
    });
    assert.match(resolveBase("base", "dev", changed).label, /^base \([0-9a-f]{12}\)$/);
  });
});
