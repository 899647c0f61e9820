/**
 * The GitHub workflows as the specs read them: parsed files, the step and job
 * shapes they use, and `run:` steps executed as GitHub executes them (bash
 * -eo pipefail, with GITHUB_OUTPUT and GITHUB_STEP_SUMMARY captured).
 */
import { strict as assert } from "node:assert";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { parse } from "yaml";

export const DIR = path.join(__dirname, "..", "..", ".github", "workflows");
export const FILES = readdirSync(DIR)
  .filter((f) => f.endsWith(".yml"))
  .sort();

export interface Step {
  name?: string;
  id?: string;
  if?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
export interface Job {
  name?: string;
  needs?: string | string[];
  if?: string;
  environment?: string | { name: string };
  permissions?: Record<string, string>;
  concurrency?: { group: string; "cancel-in-progress": boolean };
  strategy?: { matrix: { include: Record<string, string>[] } };
  steps: Step[];
  outputs?: Record<string, string>;
}
export interface Workflow {
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  jobs: Record<string, Job>;
}

export const text = (file: string) => readFileSync(path.join(DIR, file), "utf8");
export const workflow = (file: string) => parse(text(file)) as Workflow;
export const uses = (step: Step, action: string) => (step.uses ?? "").startsWith(`${action}@`);
export const assumesRole = (job: Job) => job.steps.some((s) => uses(s, "aws-actions/configure-aws-credentials"));

/** Runs one `run:` step as GitHub does (bash -eo pipefail), with its outputs and summary captured. */
export function runStep(
  step: Step,
  env: Record<string, string>,
  cwd?: string,
): { status: number; stderr: string; stdout: string; outputs: Record<string, string>; summary: string } {
  assert.ok(step.run, `step ${step.name} has no script`);
  const dir = mkdtempSync(path.join(tmpdir(), "workflow-step-"));
  try {
    const script = path.join(dir, "step.sh");
    writeFileSync(script, step.run);
    const output = path.join(dir, "output");
    const summary = path.join(dir, "summary");
    writeFileSync(output, "");
    writeFileSync(summary, "");
    const result = spawnSync("bash", ["--noprofile", "--norc", "-eo", "pipefail", script], {
      cwd,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", GITHUB_OUTPUT: output, GITHUB_STEP_SUMMARY: summary, ...env },
      encoding: "utf8",
    });
    const outputs = Object.fromEntries(
      readFileSync(output, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
    );
    return {
      status: result.status ?? -1,
      stderr: result.stderr,
      stdout: result.stdout,
      outputs,
      summary: readFileSync(summary, "utf8"),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** runStep without blocking the event loop (for steps that call a server this process runs). */
export async function runStepAsync(
  step: Step,
  env: Record<string, string>,
  cwd: string,
): Promise<{ status: number; stderr: string; stdout: string }> {
  assert.ok(step.run, `step ${step.name} has no script`);
  const script = path.join(cwd, "step.sh");
  writeFileSync(script, step.run);
  return new Promise((done) => {
    const child = spawn("bash", ["--noprofile", "--norc", "-eo", "pipefail", script], {
      cwd,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("close", (status) => done({ status: status ?? -1, stdout, stderr }));
  });
}

export function step(job: Job, id: string): Step {
  const found = job.steps.find((s) => s.id === id);
  assert.ok(found, `no step with id ${id}`);
  return found;
}
