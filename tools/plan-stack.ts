/**
 * Plans one stack offline: reads its config files like the CLI, runs `stack.ts`
 * (the program `index.ts` runs) under the capture harness. Used by `npm run plan`,
 * `npm run bench` and the tests.
 */
import * as path from "node:path";
import type { DeployBlocker } from "../config/dns";
import { pulumiConfigSource } from "../config/load";
import type { ReleaseSource } from "../lib/github-releases";
import { evaluate } from "../policy/evaluate";
import type { PolicyConfig } from "../policy/rules/model";
import { viewsFromPlan } from "../policy/views";
import { lumerinStack } from "../stack";
import { Plan, capture } from "./harness";
import type { HostedZone } from "./mocks";
import { deploymentBlockers } from "./readiness";
import { StackFileConfig, readStackConfig } from "./stack-files";

export const REPO_ROOT = path.resolve(__dirname, "..");

export interface PlanStackOptions {
  /** Release lookups for `auto` tags; absent: they stay visibly unresolved. */
  readonly releases?: ReleaseSource;
  /** SSM parameters the mocked account holds (deployed image tags). */
  readonly ssmParameters?: Readonly<Record<string, string>>;
  /** Replace or add config values (full keys) after the files are read: for tests. */
  readonly overrides?: Readonly<Record<string, string | undefined>>;
  /** Keys to mark secret in addition to those the files mark. */
  readonly extraSecretKeys?: readonly string[];
  /** Public hosted zones per account the mocks answer for (default: the estate's, see tools/mocks.ts). */
  readonly hostedZones?: Readonly<Record<string, readonly HostedZone[]>>;
  /** Environment variables the configuration reads (GITHUB_TOKEN); default: this process's. */
  readonly environment?: Readonly<Record<string, string | undefined>>;
  /** Policy pack configuration (defaults: policy/rules/model.ts). */
  readonly policyConfig?: Partial<PolicyConfig>;
}

export function planFiles(stack: string, configFile?: string): StackFileConfig {
  return readStackConfig(REPO_ROOT, stack, configFile);
}

export async function planStack(files: StackFileConfig, options: PlanStackOptions = {}): Promise<Plan> {
  const config: Record<string, string> = { ...files.config };
  for (const [key, value] of Object.entries(options.overrides ?? {})) {
    if (value === undefined) delete config[key];
    else config[key] = value;
  }
  const blockers: DeployBlocker[] = [];
  const plan = await capture({
    project: files.project,
    stack: files.stack,
    config,
    secretKeys: [...files.secretKeys, ...(options.extraSecretKeys ?? [])],
    ssmParameters: options.ssmParameters,
    ...(options.hostedZones ? { hostedZones: options.hostedZones } : {}),
    // The plan is a report: a blocker is listed (and what it withholds left out), where `pulumi up` refuses.
    program: () =>
      lumerinStack({
        config: pulumiConfigSource(options.environment ?? process.env),
        releases: options.releases,
        blockers: (found) => blockers.push(...found),
      }),
  });
  // The same rules `pulumi preview --policy-pack policy` runs, on everything the program registered.
  const violations = await evaluate(viewsFromPlan(plan), { stack: plan.stack, config: options.policyConfig });
  return { ...plan, violations, blockers: [...deploymentBlockers({ ...files, config }), ...blockers] };
}
