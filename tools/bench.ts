/**
 * `npm run bench`: per stack, the wall time of the offline plan as a newcomer
 * runs it (a fresh process: ts-node, module loading, the program under mocks),
 * the resources planned and resources per second; then the in-process time of
 * a warm plan, which is what the test suite pays per plan; and the cold wall time of
 * `npm run adopt` on the stack's Terraform state fixtures (both roots), which plans the
 * stack too and should take at most a few seconds more. Targets: each stack's
 * plan under 5 s wall on a 2-core machine. Then, per stack, the wall
 * time of `npm run diff -- --base HEAD` (the base planned in a temporary worktree
 * beside the working tree's plan) against the cold plan: the target is at most
 * about twice one plan. Not a test: it prints.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import type { Plan } from "./harness";
import { REPO_ROOT, planFiles, planStack } from "./plan-stack";

const STACKS = ["dev", "stg", "lmn"];
const TARGET_SECONDS = 5;
const DIFF_TARGET_RATIO = 2;

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), "lumerin-bench-"));
  const rows: string[][] = [
    [
      "stack",
      "cold wall (s)",
      "warm in-process (s)",
      "resources",
      "resources/s (cold)",
      `under ${TARGET_SECONDS} s`,
      "adopt cold wall (s)",
      "adopt − plan (s)",
    ],
  ];
  const diffRows: string[][] = [
    ["stack", "diff wall (s)", "plan wall (s)", "diff / plan", `at most ${DIFF_TARGET_RATIO}x`],
  ];
  const coldPlans = new Map<string, number>();
  try {
    for (const stack of STACKS) {
      const json = path.join(dir, `${stack}.json`);
      const started = process.hrtime.bigint();
      execFileSync(
        process.execPath,
        [
          require.resolve("ts-node/dist/bin"),
          "--transpile-only",
          "tools/plan.ts",
          "--stack",
          stack,
          "--quiet",
          "--json",
          json,
        ],
        {
          cwd: REPO_ROOT,
          stdio: ["ignore", "ignore", "inherit"],
        },
      );
      const cold = Number(process.hrtime.bigint() - started) / 1e9;
      coldPlans.set(stack, cold);
      const plan = JSON.parse(readFileSync(json, "utf8")) as Plan;
      const resources = plan.resources.filter((r) => r.custom).length;

      await planStack(planFiles(stack)); // warm the module cache
      const warmStart = process.hrtime.bigint();
      await planStack(planFiles(stack));
      const warm = Number(process.hrtime.bigint() - warmStart) / 1e9;

      const adopt = adoptSeconds(stack);
      rows.push([
        stack,
        cold.toFixed(2),
        warm.toFixed(3),
        String(resources),
        (resources / cold).toFixed(1),
        cold < TARGET_SECONDS ? "yes" : "NO",
        adopt.toFixed(2),
        (adopt - cold).toFixed(2),
      ]);
    }
    for (const stack of STACKS) {
      const started = process.hrtime.bigint();
      execFileSync(
        process.execPath,
        [
          require.resolve("ts-node/dist/bin"),
          "--transpile-only",
          "tools/diff.ts",
          "--stack",
          stack,
          "--base",
          "HEAD",
          "--quiet",
        ],
        {
          cwd: REPO_ROOT,
          stdio: ["ignore", "ignore", "inherit"],
        },
      );
      const wall = Number(process.hrtime.bigint() - started) / 1e9;
      const plan = coldPlans.get(stack) ?? Number.NaN;
      diffRows.push([
        stack,
        wall.toFixed(2),
        plan.toFixed(2),
        (wall / plan).toFixed(2),
        wall / plan <= DIFF_TARGET_RATIO ? "yes" : "NO",
      ]);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  print(rows);
  console.log("");
  print(diffRows);
}

function print(rows: readonly string[][]): void {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const row of rows) console.log(row.map((cell, i) => cell.padEnd(widths[i])).join("  "));
}

/** `npm run adopt` on the stack's state fixtures, as a fresh process; exit 1 (blockers) is a result, not a failure. */
function adoptSeconds(stack: string): number {
  const states = ["proxy-router", "futures-marketplace"].flatMap((root) => [
    "--tfstate",
    path.join(REPO_ROOT, "test/fixtures/tfstate", stack, `${root}.tfstate.json`),
  ]);
  const started = process.hrtime.bigint();
  const result = spawnSync(
    process.execPath,
    [require.resolve("ts-node/dist/bin"), "--transpile-only", "tools/adopt.ts", "--stack", stack, "--quiet", ...states],
    {
      cwd: REPO_ROOT,
      stdio: ["ignore", "ignore", "inherit"],
    },
  );
  if (result.status !== 0 && result.status !== 1)
    throw new Error(`npm run adopt -- --stack ${stack} exited ${result.status}`);
  return Number(process.hrtime.bigint() - started) / 1e9;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
