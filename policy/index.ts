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
  validateResourceOfType,
} from "@pulumi/policy";
import type { PolicyConfigJSONSchema } from "@pulumi/policy/schema";
import { RULES } from "./rules";
import {
  DEFAULT_POLICY_CONFIG,
  Finding,
  PolicyConfig,
  ResourceView,
  Rule,
  RuleContext,
  resolveOptions,
  stackOf,
} from "./rules/model";

/** The keys every policy shares (which stacks are production, the GitHub owner, the configured exceptions). */
const sharedProperties: PolicyConfigSchema["properties"] = {
  productionStacks: { type: "array", items: { type: "string" }, default: [...DEFAULT_POLICY_CONFIG.productionStacks] },
  githubOwner: { type: "string", default: DEFAULT_POLICY_CONFIG.githubOwner },
  privilegedRoles: { type: "array", items: { type: "string" }, default: [...DEFAULT_POLICY_CONFIG.privilegedRoles] },
  productionSubjects: {
    type: "array",
    items: { type: "string" },
    default: [...DEFAULT_POLICY_CONFIG.productionSubjects],
  },
  previewRoles: { type: "array", items: { type: "string" }, default: [...DEFAULT_POLICY_CONFIG.previewRoles] },
};

/** A policy's schema: the shared keys, and the rule's own options with their defaults (awsguard's style). */
function configSchemaOf(rule?: Rule): PolicyConfigSchema {
  const own = Object.fromEntries(
    Object.entries(rule?.options ?? {}).map(([key, o]) => [
      key,
      {
        ...(o.schema as PolicyConfigJSONSchema),
        description: o.description,
        default: o.default as PolicyConfigJSONSchema["default"],
      },
    ]),
  );
  return { properties: { ...sharedProperties, ...own } };
}

/** The CLI's view: props only, and no way to tell which were secret (its host unwraps them). */
function view(r: {
  type: string;
  name: string;
  urn: string;
  props: Record<string, unknown>;
  opts: { protect: boolean };
}): ResourceView {
  return {
    type: r.type,
    name: r.name,
    urn: r.urn,
    props: r.props,
    outputs: r.props,
    secretPaths: undefined,
    protect: r.opts.protect,
  };
}

/** The rule's context from its policy's configuration: the shared keys, and the rule's own options. */
function context(urn: string, rule: Rule | undefined, getConfig: () => Record<string, unknown>): RuleContext {
  const given = getConfig();
  const shared = Object.fromEntries(
    Object.keys(DEFAULT_POLICY_CONFIG)
      .filter((k) => k in given)
      .map((k) => [k, given[k]]),
  ) as Partial<PolicyConfig>;
  const config: PolicyConfig = { ...DEFAULT_POLICY_CONFIG, ...shared };
  const own = rule
    ? Object.fromEntries(
        Object.keys(rule.options ?? {})
          .filter((k) => k in given)
          .map((k) => [k, given[k]]),
      )
    : {};
  const stack = stackOf(urn);
  return {
    stack,
    production: config.productionStacks.includes(stack),
    config,
    options: rule ? resolveOptions(rule, own) : {},
  };
}

function report(
  findings: readonly Finding[],
  rule: Rule,
  reportViolation: ReportViolation,
  wantExceptions = false,
  resourceUrn?: string,
): void {
  for (const f of findings) {
    if (!!f.exception !== wantExceptions) continue;
    reportViolation(
      wantExceptions ? `${rule.name}: ${f.message}` : `${f.message}. ${rule.remediation}`,
      f.urn ?? resourceUrn,
    );
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
    const base = {
      name: mode.name,
      description: rule.description,
      enforcementLevel: mode.level,
      remediationSteps: rule.remediation,
      configSchema: configSchemaOf(rule),
    };
    const checkResource = rule.checkResource;
    const checkStack = rule.checkStack;
    if (checkResource) {
      const validate = async (args: ResourceValidationArgs, reportViolation: ReportViolation) => {
        const ctx = context(args.urn, rule, () => args.getConfig<Record<string, unknown>>());
        if (!mode.applies(ctx.production)) return;
        report(await checkResource(view(args), ctx), rule, reportViolation);
      };
      // A rule about certain classes is registered per class, with @pulumi/policy's typed helper.
      const classes = rule.resourceClasses;
      return {
        ...base,
        validateResource: classes
          ? classes.map((cls) =>
              validateResourceOfType(cls, (_props, args, reportViolation) => validate(args, reportViolation)),
            )
          : validate,
      };
    }
    if (!checkStack) throw new Error(`rule ${rule.name} checks nothing`);
    return {
      ...base,
      validateStack: async (args: StackValidationArgs, reportViolation: ReportViolation) => {
        if (args.resources.length === 0) return;
        const ctx = context(args.resources[0].urn, rule, () => args.getConfig<Record<string, unknown>>());
        if (!mode.applies(ctx.production)) return;
        report(
          await checkStack(
            args.resources.map((r: PolicyResource) => view(r)),
            ctx,
          ),
          rule,
          reportViolation,
        );
      },
    };
  });
}

/** Configured exceptions (privilegedRoles) are reported, never silent, and never block. */
const allowedExceptions: Policies[number] = {
  name: "allowed-exceptions",
  description: "Lists every configured exception a rule allowed (for example the privileged deployer role).",
  enforcementLevel: "advisory",
  configSchema: configSchemaOf(),
  validateStack: async (args, reportViolation) => {
    if (args.resources.length === 0) return;
    const shared = context(args.resources[0].urn, undefined, () => args.getConfig<Record<string, unknown>>());
    const views = args.resources.map((r) => view(r));
    for (const rule of RULES) {
      // This policy sees only the shared keys: every rule runs with its default options here.
      const ctx: RuleContext = { ...shared, options: resolveOptions(rule, {}) };
      if (rule.checkStack) report(await rule.checkStack(views, ctx), rule, reportViolation, true);
      if (rule.checkResource)
        for (const v of views) report(await rule.checkResource(v, ctx), rule, reportViolation, true, v.urn);
    }
  },
};

new PolicyPack("lumerin-guard", {
  description:
    "Least privilege, resource and trust policies, network exposure, secret handling, encryption and logging, and data safety for lumerin-infra.",
  policies: [...RULES.flatMap(policiesFor), allowedExceptions],
});
