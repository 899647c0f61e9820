/**
 * What a rule sees, whatever runs it: the real policy pack under the Pulumi CLI
 * (`pulumi preview --policy-pack policy`), the offline plan, the tests, or an
 * audit of a `pulumi stack export`. Rules are data plus pure checks; the pack
 * (policy/index.ts) and the evaluator (policy/evaluate.ts) only adapt them.
 */

export interface ResourceView {
  readonly type: string;
  /** Logical name. */
  readonly name: string;
  readonly urn: string;
  /** Inputs, with secret values replaced by a placeholder. */
  readonly props: Readonly<Record<string, unknown>>;
  /** Outputs where known (ARNs, ids): the offline plan and exports have them; a CLI preview has what is known. */
  readonly outputs: Readonly<Record<string, unknown>>;
  /**
   * Dot paths of props that are Pulumi secrets; `undefined` when the runner cannot tell
   * (the CLI's policy host unwraps secrets before validation).
   */
  readonly secretPaths: ReadonlySet<string> | undefined;
  readonly protect: boolean;
}

export type Level = "mandatory" | "advisory";

/** Policy configuration (`--policy-pack-config`, or the evaluator's options). */
export interface PolicyConfig {
  /** Stacks whose data-safety rules are mandatory. */
  readonly productionStacks: readonly string[];
  /** The GitHub owner every OIDC-trusted role must be pinned to. */
  readonly githubOwner: string;
  /** Role names (IAM wildcards allowed) granted broad rights on purpose (the infrastructure deployer); each use is reported as an exception. */
  readonly privilegedRoles: readonly string[];
  /** Read-only preview roles (IAM wildcards allowed) that may trust `pull_request` in production; each is reported. */
  readonly previewRoles: readonly string[];
  /** GitHub environments / branches that count as production in OIDC subjects. */
  readonly productionSubjects: readonly string[];
}

export const DEFAULT_POLICY_CONFIG: PolicyConfig = {
  productionStacks: ["lmn"],
  githubOwner: "lumerin-protocol",
  // The one role that runs `pulumi up` from CI (components/deploy-identity.ts).
  privilegedRoles: ["lumerin-infra-deployer-*"],
  productionSubjects: ["environment:main", "ref:refs/heads/main"],
  // `pulumi preview` of a production stack on a pull request (components/deploy-identity.ts).
  previewRoles: ["lumerin-infra-preview-*"],
};

export interface RuleContext {
  readonly stack: string;
  readonly production: boolean;
  readonly config: PolicyConfig;
}

/** One result of evaluating the pack: the plan JSON's `violations` entries. */
export interface PolicyViolation {
  readonly policy: string;
  readonly level: Level;
  readonly urn: string;
  readonly message: string;
}

export interface Finding {
  readonly message: string;
  /** Defaults to the resource under check; stack rules name the offender. */
  readonly urn?: string;
  /** An allowed exception (configured), reported but never blocking. */
  readonly exception?: boolean;
}

export type Checked = readonly Finding[] | Promise<readonly Finding[]>;

export interface Rule {
  /** Stable name: configuration and reports refer to it. */
  readonly name: string;
  readonly description: string;
  /** `mandatory` blocks; `production-only` is mandatory in production stacks and advisory elsewhere. */
  readonly enforcement: Level | "production-only";
  /** What to change when it fires. */
  readonly remediation: string;
  /** Checkov / awsguard / cdk-nag ids that check the same thing, for the README table. */
  readonly equivalents?: readonly string[];
  readonly checkResource?: (resource: ResourceView, ctx: RuleContext) => Checked;
  readonly checkStack?: (resources: readonly ResourceView[], ctx: RuleContext) => Checked;
}

export function levelFor(rule: Rule, production: boolean): Level {
  if (rule.enforcement === "production-only") return production ? "mandatory" : "advisory";
  return rule.enforcement;
}

/** An IAM pattern (`*` any run, `?` one character) as a whole-string RegExp. */
export function wildcardRegExp(pattern: string, flags = ""): RegExp {
  return new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`, flags);
}

/** Whether a role name is one of the configured privileged roles. */
export function isPrivilegedRole(role: string, config: PolicyConfig): boolean {
  return config.privilegedRoles.some((pattern) => wildcardRegExp(pattern).test(role));
}

/** The stack a URN belongs to: `urn:pulumi:<stack>::<project>::...`. */
export function stackOf(urn: string): string {
  return urn.split("::")[0]?.replace(/^urn:pulumi:/, "") ?? "";
}

// ---------------------------------------------------------------- IAM documents

export interface IamStatement {
  readonly sid?: string;
  readonly effect: "Allow" | "Deny";
  readonly actions: readonly string[];
  readonly notActions: readonly string[];
  readonly resources: readonly string[];
  readonly notResources: readonly string[];
  readonly principal: unknown;
  readonly condition: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>>;
}

const list = (v: unknown): string[] => (v === undefined || v === null ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);

/** Parses a policy document given as an object or as JSON; `undefined` when absent or unknown. */
export function parseDocument(value: unknown): IamStatement[] | undefined {
  let doc = value;
  if (typeof doc === "string") {
    try {
      doc = JSON.parse(doc);
    } catch {
      return undefined;
    }
  }
  if (!doc || typeof doc !== "object") return undefined;
  const raw = (doc as { Statement?: unknown }).Statement;
  const statements = Array.isArray(raw) ? raw : raw ? [raw] : [];
  return statements.map((s: Record<string, unknown>) => ({
    ...(typeof s.Sid === "string" ? { sid: s.Sid } : {}),
    effect: s.Effect === "Deny" ? "Deny" : "Allow",
    actions: list(s.Action),
    notActions: list(s.NotAction),
    resources: list(s.Resource),
    notResources: list(s.NotResource),
    principal: s.Principal,
    condition: Object.fromEntries(
      Object.entries((s.Condition as Record<string, Record<string, unknown>>) ?? {}).map(([op, kv]) => [
        op,
        Object.fromEntries(Object.entries(kv ?? {}).map(([k, v]) => [k, list(v)])),
      ]),
    ),
  }));
}

/** Condition values for a key under any operator of these names (IAM keys are case-insensitive). */
export function conditionValues(s: IamStatement, operators: readonly string[], key: string): string[] | undefined {
  for (const op of operators) {
    const block = s.condition[op];
    if (!block) continue;
    const hit = Object.entries(block).find(([k]) => k.toLowerCase() === key.toLowerCase());
    if (hit) return [...hit[1]];
  }
  return undefined;
}

/** The identity policies in a stack, each with the role names it applies to. */
export interface IdentityPolicy {
  readonly source: ResourceView;
  readonly statements: readonly IamStatement[];
  /** Role names this policy grants to (resolved by name; empty when unknown). */
  readonly roles: readonly string[];
}

export function str(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

export function roleName(role: ResourceView): string | undefined {
  return str(role.props.name) ?? str(role.outputs.name) ?? str(role.outputs.id);
}

/** Every identity policy document of the stack, linked to roles by name or ARN. */
export function identityPolicies(resources: readonly ResourceView[]): IdentityPolicy[] {
  const out: IdentityPolicy[] = [];
  const roleByRef = new Map<string, string>();
  for (const r of resources.filter((x) => x.type === "aws:iam/role:Role")) {
    const name = roleName(r);
    if (!name) continue;
    for (const ref of [name, str(r.outputs.arn), str(r.outputs.id)]) if (ref) roleByRef.set(ref, name);
  }
  const roleOf = (ref: unknown): string[] => {
    const key = str(ref);
    return key ? [roleByRef.get(key) ?? key.split("/").pop() ?? key] : [];
  };
  const policyByArn = new Map<string, ResourceView>();
  for (const r of resources.filter((x) => x.type === "aws:iam/policy:Policy")) {
    const arn = str(r.outputs.arn);
    if (arn) policyByArn.set(arn, r);
  }
  const attachedRoles = new Map<ResourceView, string[]>();
  for (const a of resources.filter((x) => x.type === "aws:iam/rolePolicyAttachment:RolePolicyAttachment")) {
    const policy = policyByArn.get(str(a.props.policyArn) ?? "");
    if (policy) attachedRoles.set(policy, [...(attachedRoles.get(policy) ?? []), ...roleOf(a.props.role)]);
  }

  for (const r of resources) {
    switch (r.type) {
      case "aws:iam/rolePolicy:RolePolicy":
        push(r, r.props.policy, roleOf(r.props.role));
        break;
      case "aws:iam/policy:Policy":
        push(r, r.props.policy, attachedRoles.get(r) ?? []);
        break;
      case "aws:iam/userPolicy:UserPolicy":
      case "aws:iam/groupPolicy:GroupPolicy":
        push(r, r.props.policy, []);
        break;
      case "aws:iam/role:Role": {
        const inline = Array.isArray(r.props.inlinePolicies) ? (r.props.inlinePolicies as { policy?: unknown }[]) : [];
        const name = roleName(r);
        for (const p of inline) push(r, p.policy, name ? [name] : []);
        break;
      }
    }
  }
  return out;

  function push(source: ResourceView, doc: unknown, roles: string[]): void {
    const statements = parseDocument(doc);
    if (statements) out.push({ source, statements, roles });
  }
}
