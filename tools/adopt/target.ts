/**
 * The account and regions a stack runs in, and the check that refuses a Terraform state
 * of another one. Kept free of the program's modules, so that the CLI refuses a wrong
 * state before it spends seconds loading them.
 */
import type { Plan } from "../harness";
import { TfSource, TfStateError } from "./tfstate";

export interface StackTarget {
  readonly stack: string;
  readonly accountIds: readonly string[];
  readonly region: string;
  /** Regions of the program's explicit providers (a resource there is the stack's too). */
  readonly otherRegions: readonly string[];
}

/** The stack's account and regions, from its config (`aws:allowedAccountIds`, `aws:region`) and its planned providers. */
export function stackTarget(plan: Plan, config: Readonly<Record<string, string>>): StackTarget {
  const regions = plan.resources
    .filter((r) => r.type === "pulumi:providers:aws" && typeof r.inputs.region === "string")
    .map((r) => r.inputs.region as string);
  return configTarget(plan.stack, config, regions);
}

/** The target from the stack's config alone; `providerRegions`: the regions of its explicit providers, when known. */
export function configTarget(
  stack: string,
  config: Readonly<Record<string, string>>,
  providerRegions: readonly string[] = [],
): StackTarget {
  let accountIds: string[] = [];
  try {
    const parsed = JSON.parse(config["aws:allowedAccountIds"] ?? "[]") as unknown;
    if (Array.isArray(parsed)) accountIds = parsed.map(String);
  } catch {
    accountIds = [];
  }
  const region = config["aws:region"] ?? "us-east-1";
  const otherRegions = [...new Set(providerRegions.filter((r) => r !== region))];
  return { stack, accountIds, region, otherRegions };
}

const ARN = /^arn:aws[a-z-]*:[a-z0-9-]+:([a-z0-9-]*):(\d{12})?:/;

/** Refuses a state of another account or region: its resources are not the stack's to adopt. */
export function checkSourceTarget(source: TfSource, target: StackTarget, checkRegion = true): void {
  const regions = new Set([target.region, ...target.otherRegions]);
  for (const instance of source.managed) {
    for (const value of [instance.attributes.arn, instance.attributes.id]) {
      if (typeof value !== "string") continue;
      const m = ARN.exec(value);
      if (!m) continue;
      const [, region, account] = m;
      if (account && target.accountIds.length > 0 && !target.accountIds.includes(account)) {
        throw new TfStateError(
          source.file,
          `a state of account ${account} (${instance.address} is ${value.split(":").slice(0, 5).join(":")}:…), but stack ${target.stack} runs in ${target.accountIds.join(", ")} (aws:allowedAccountIds)`,
        );
      }
      if (checkRegion && region && !regions.has(region)) {
        throw new TfStateError(
          source.file,
          `a state of region ${region} (${instance.address}), but stack ${target.stack} runs in ${[...regions].join(", ")} (aws:region)`,
        );
      }
    }
  }
}
