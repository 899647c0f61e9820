/**
 * The CrossGuard pack: `pulumi preview --policy-pack policy`. This file only
 * assembles the PolicyPack from the rules in ./rules; the offline plan, the
 * tests and `npm run audit` evaluate the same rules through ./evaluate.ts.
 *
 * A rule whose enforcement is "production-only" is registered twice: mandatory
 * for production stacks and advisory (`<name>-nonprod`) elsewhere, because a
 * pack's enforcement level is fixed per policy.
 */
import {
  EnforcementLevel,
  Policies,
  PolicyConfigSchema,
  PolicyPack,
  PolicyResource,
  ReportViolation,
  ResourceValidationArgs,
  StackValidationArgs,
} from "@pulumi/policy";
import { RULES } from "./rules";
import { DEFAULT_POLICY_CONFIG, Finding, PolicyConfig, ResourceView, Rule, RuleContext, stackOf } from "./rules/model";

const configSchema: PolicyConfigSchema = {
  properties: {
    productionStacks: { type: "array", items: { type: "string" }, default: [...DEFAULT_POLICY_CONFIG.productionStacks] },
    githubOwner: { type: "string", default: DEFAULT_POLICY_CONFIG.githubOwner },
    privilegedRoles: { type: "array", items: { type: "string" }, default: [...DEFAULT_POLICY_CONFIG.privilegedRoles] },
    productionSubjects: { type: "array", items: { type: "string" }, default: [...DEFAULT_POLICY_CONFIG.productionSubjects] },
    previewRoles: { type: "array", items: { type: "string" }, default: [...DEFAULT_POLICY_CONFIG.previewRoles] },
  },
};

/** The CLI's view: props only, and no way to tell which were secret (its host unwraps them). */
function view(r: { type: string; name: string; urn: string; props: Record<string, unknown>; opts: { protect: boolean } }): ResourceView {
  return { type: r.type, name: r.name, urn: r.urn, props: r.props, outputs: r.props, secretPaths: undefined, protect: r.opts.protect };
}

function context(urn: string, getConfig: () => Partial<PolicyConfig>): RuleContext {
  const config = { ...DEFAULT_POLICY_CONFIG, ...getConfig() };
  const stack = stackOf(urn);
  return { stack, production: config.productionStacks.includes(stack), config };
}

function report(findings: readonly Finding[], rule: Rule, reportViolation: ReportViolation, wantExceptions = false, resourceUrn?: string): void {
  for (const f of findings) {
    if (!!f.exception !== wantExceptions) continue;
    reportViolation(wantExceptions ? `${rule.name}: ${f.message}` : `${f.message}. ${rule.remediation}`, f.urn ?? resourceUrn);
  }
}

function policiesFor(rule: Rule): Policies {
  const modes: { name: string; level: EnforcementLevel; applies: (production: boolean) => boolean }[] =
    rule.enforcement === "production-only"
      ? [
          { name: rule.name, level: "mandatory", applies: (p) => p },
          { name: `${rule.name}-nonprod`, level: "advisory", applies: (p) => !p },
        ]
      : [{ name: rule.name, level: rule.enforcement, applies: () => true }];
  return modes.map((mode) => {
    const base = { name: mode.name, description: rule.description, enforcementLevel: mode.level, remediationSteps: rule.remediation, configSchema };
    const checkResource = rule.checkResource;
    const checkStack = rule.checkStack;
    if (checkResource) {
      return {
        ...base,
        validateResource: async (args: ResourceValidationArgs, reportViolation: ReportViolation) => {
          const ctx = context(args.urn, () => args.getConfig<Partial<PolicyConfig>>());
          if (!mode.applies(ctx.production)) return;
          report(await checkResource(view(args), ctx), rule, reportViolation);
        },
      };
    }
    if (!checkStack) throw new Error(`rule ${rule.name} checks nothing`);
    return {
      ...base,
      validateStack: async (args: StackValidationArgs, reportViolation: ReportViolation) => {
        if (args.resources.length === 0) return;
        const ctx = context(args.resources[0].urn, () => args.getConfig<Partial<PolicyConfig>>());
        if (!mode.applies(ctx.production)) return;
        report(await checkStack(args.resources.map((r: PolicyResource) => view(r)), ctx), rule, reportViolation);
      },
    };
  });
}

/** Configured exceptions (privilegedRoles) are reported, never silent, and never block. */
const allowedExceptions: Policies[number] = {
  name: "allowed-exceptions",
  description: "Lists every configured exception a rule allowed (for example the privileged deployer role).",
  enforcementLevel: "advisory",
  configSchema,
  validateStack: async (args, reportViolation) => {
    if (args.resources.length === 0) return;
    const ctx = context(args.resources[0].urn, () => args.getConfig<Partial<PolicyConfig>>());
    const views = args.resources.map((r) => view(r));
    for (const rule of RULES) {
      if (rule.checkStack) report(await rule.checkStack(views, ctx), rule, reportViolation, true);
      if (rule.checkResource) for (const v of views) report(await rule.checkResource(v, ctx), rule, reportViolation, true, v.urn);
    }
  },
};

new PolicyPack("lumerin-guard", {
  description: "Least privilege, secret handling and data safety for lumerin-infra.",
  policies: [...RULES.flatMap(policiesFor), allowedExceptions],
});
