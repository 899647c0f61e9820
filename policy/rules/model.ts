import type { CustomResourceOptions, Resource, Unwrap } from "@pulumi/pulumi";

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
  /** The GitHub owner every OIDC-trusted role must be pinned to, spelled exactly as GitHub spells it (the `sub` claim is case-sensitive). */
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
  githubOwner: "Lumerin-protocol",
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
  /** This rule's own options (its `options`), defaults filled in. */
  readonly options: Readonly<Record<string, unknown>>;
}

/**
 * One option of one rule (a threshold, an allow-list): under the CLI it is a property of that policy's
 * `configSchema`, with this default; `npm run audit --policy-config` and `evaluate` take it under the
 * rule's name.
 */
export interface RuleOption<T = unknown> {
  readonly description: string;
  /** JSON schema of the value, without the default. */
  readonly schema: Readonly<Record<string, unknown>>;
  readonly default: T;
}

export type RuleOptions = Readonly<Record<string, RuleOption>>;

/** A rule's options, typed by its option specs' defaults. */
export function optionsOf<O extends RuleOptions>(
  ctx: RuleContext,
  spec: O,
): { readonly [K in keyof O]: O[K]["default"] } {
  const out: Record<string, unknown> = {};
  for (const [key, option] of Object.entries(spec)) out[key] = key in ctx.options ? ctx.options[key] : option.default;
  return out as { readonly [K in keyof O]: O[K]["default"] };
}

/** The JSON type an option value has, for validating configuration. */
function jsonType(value: unknown): string {
  if (Array.isArray(value)) return "array";
  if (value === null) return "null";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

type Schema = Readonly<Record<string, unknown>>;

/**
 * What is wrong with a value against the small JSON-schema subset options use (type, minimum, maximum,
 * items, additionalProperties), as `<path>: expected ...`; `undefined` when nothing is.
 */
function schemaProblem(value: unknown, schema: Schema, path: string): string | undefined {
  const want = typeof schema.type === "string" ? schema.type : undefined;
  const got = jsonType(value);
  if (want && got !== want && !(want === "number" && got === "integer")) return `${path}: expected ${want}, got ${got}`;
  if (typeof value === "number") {
    if (typeof schema.minimum === "number" && value < schema.minimum)
      return `${path}: expected at least ${schema.minimum}, got ${value}`;
    if (typeof schema.maximum === "number" && value > schema.maximum)
      return `${path}: expected at most ${schema.maximum}, got ${value}`;
  }
  if (Array.isArray(value) && schema.items && typeof schema.items === "object") {
    for (const [i, v] of value.entries()) {
      const problem = schemaProblem(v, schema.items as Schema, `${path}[${i}]`);
      if (problem) return problem;
    }
  }
  if (got === "object" && schema.additionalProperties && typeof schema.additionalProperties === "object") {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const problem = schemaProblem(v, schema.additionalProperties as Schema, `${path}.${k}`);
      if (problem) return problem;
    }
  }
  return undefined;
}

/**
 * A rule's options from configuration, defaults filled in. Throws, naming `<rule>.<key>` (and the element),
 * on an option the rule does not have or a value its schema refuses.
 */
export function resolveOptions(
  rule: Rule,
  given: Readonly<Record<string, unknown>> | undefined,
): Record<string, unknown> {
  const spec = rule.options ?? {};
  const out: Record<string, unknown> = Object.fromEntries(Object.entries(spec).map(([k, o]) => [k, o.default]));
  for (const [key, value] of Object.entries(given ?? {})) {
    const option = spec[key];
    if (!option)
      throw new Error(
        `policy config ${rule.name}.${key}: ${rule.name} has no option ${key}${Object.keys(spec).length ? ` (it has ${Object.keys(spec).join(", ")})` : ""}`,
      );
    const problem = schemaProblem(value, option.schema, `${rule.name}.${key}`);
    if (problem) throw new Error(`policy config ${problem}`);
    out[key] = value;
  }
  return out;
}

/** A resource class of `@pulumi/aws` (its type token is the class's `__pulumiType`, as `validateResourceOfType` reads it). */
export interface ResourceClass<TArgs> {
  new (name: string, args: TArgs, opts?: CustomResourceOptions): Resource;
}

/**
 * The props of `r` typed as the class's args when `r` is of that class, else `undefined`: the same test
 * `validateResourceOfType` of `@pulumi/policy` makes, for rules that the CLI, the plan and the audit share.
 */
export function propsOf<TArgs>(
  r: ResourceView,
  cls: ResourceClass<TArgs>,
): Partial<Unwrap<NonNullable<TArgs>>> | undefined {
  return r.type === typeToken(cls) ? (r.props as Partial<Unwrap<NonNullable<TArgs>>>) : undefined;
}

/** The type token of a `@pulumi/aws` resource class (`aws:rds/instance:Instance`). */
export function typeToken<TArgs>(cls: ResourceClass<TArgs>): string {
  const token = (cls as unknown as { __pulumiType?: unknown }).__pulumiType;
  if (typeof token !== "string") throw new Error(`${cls.name} is not a Pulumi resource class`);
  return token;
}

/** The resources of this class in the stack, each with typed props. */
export function ofClass<TArgs>(
  resources: readonly ResourceView[],
  cls: ResourceClass<TArgs>,
): { view: ResourceView; props: Partial<Unwrap<NonNullable<TArgs>>> }[] {
  const token = typeToken(cls);
  return resources
    .filter((r) => r.type === token)
    .map((view) => ({ view, props: view.props as Partial<Unwrap<NonNullable<TArgs>>> }));
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
  /**
   * Peer checks of the same thing, each verified against the peer's own source: Checkov `CKV_AWS_*`/`CKV2_AWS_*`,
   * awsguard (`awsguard:<name>`), cdk-nag `AwsSolutions-*`, Trivy `AVD-AWS-*`, Security Hub `[Service.n]`. Empty when
   * no peer checks it. policy/README.md lists them (a test keeps the table in step).
   */
  readonly equivalents?: readonly string[];
  /** This rule's own configuration (thresholds, allow-lists), each with a default. */
  readonly options?: RuleOptions;
  /**
   * The `@pulumi/aws` classes `checkResource` looks at, when it looks at certain classes only: the pack then
   * registers it through `validateResourceOfType` per class, and the evaluator skips other resources.
   */
  readonly resourceClasses?: readonly ResourceClass<never>[];
  readonly checkResource?: (resource: ResourceView, ctx: RuleContext) => Checked;
  readonly checkStack?: (resources: readonly ResourceView[], ctx: RuleContext) => Checked;
}

export function levelFor(rule: Rule, production: boolean): Level {
  if (rule.enforcement === "production-only") return production ? "mandatory" : "advisory";
  return rule.enforcement;
}

/** An IAM pattern (`*` any run, `?` one character) as a whole-string RegExp. */
export function wildcardRegExp(pattern: string, flags = ""): RegExp {
  return new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".")}$`,
    flags,
  );
}

/**
 * Whether two IAM patterns (`*` any run, `?` one character) can match a common string: whether a
 * policy's Resource can reach an ARN format, or two Resources overlap.
 */
export function globsOverlap(a: string, b: string): boolean {
  const n = a.length;
  const m = b.length;
  const seen = new Set<number>();
  const todo: number[] = [0];
  const visit = (i: number, j: number) => todo.push(i * (m + 1) + j);
  while (todo.length > 0) {
    const state = todo.pop() as number;
    if (seen.has(state)) continue;
    seen.add(state);
    const i = Math.floor(state / (m + 1));
    const j = state % (m + 1);
    if (i === n && j === m) return true;
    // A star may match nothing, or absorb one character of the other side.
    if (i < n && a[i] === "*") visit(i + 1, j);
    if (j < m && b[j] === "*") visit(i, j + 1);
    if (i < n && j < m) {
      const x = a[i];
      const y = b[j];
      if (x === "*" && y !== "*") visit(i, j + 1);
      else if (y === "*" && x !== "*") visit(i + 1, j);
      else if (x !== "*" && y !== "*" && (x === y || x === "?" || y === "?")) visit(i + 1, j + 1);
    }
  }
  return false;
}

/**
 * The tag by which a resource carries an allowed exception to one rule: its value names the
 * stack-config key that chose it (an adopted live resource the rule's fix would replace). The
 * rule reports it as an allowed exception, never silently and never blocking.
 */
export function policyExceptionTag(rule: string): string {
  return `lumerin:exception:${rule}`;
}

/** The config key a resource's exception tag for `rule` names, if it carries one. */
export function policyExceptionOf(resource: ResourceView, rule: string): string | undefined {
  const tags = resource.props.tags;
  if (typeof tags !== "object" || tags === null) return undefined;
  const value = (tags as Record<string, unknown>)[policyExceptionTag(rule)];
  return typeof value === "string" && value.length > 0 ? value : undefined;
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

const list = (v: unknown): string[] =>
  v === undefined || v === null ? [] : Array.isArray(v) ? v.map(String) : [String(v)];

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

/** The identity policies in a stack, each with the principals it applies to. */
export interface IdentityPolicy {
  readonly source: ResourceView;
  readonly statements: readonly IamStatement[];
  /** Role names this policy grants to (resolved by name; empty when unknown). */
  readonly roles: readonly string[];
  /** User and group names it grants to (inline user/group policies, or a managed policy attached to them). */
  readonly users: readonly string[];
  readonly groups: readonly string[];
  /** It is granted to some principal whose name is not known yet (a preview of a new role or attachment). */
  readonly principalsUnknown: boolean;
}

export function str(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

export function roleName(role: ResourceView): string | undefined {
  return str(role.props.name) ?? str(role.outputs.name) ?? str(role.outputs.id);
}

export type PrincipalKind = "role" | "user" | "group";

/** One managed policy (AWS-managed, or this stack's aws.iam.Policy by ARN) attached to one role, user or group. */
export interface ManagedAttachment {
  /** What attaches it: an attachment resource, or a Role through its `managedPolicyArns`. */
  readonly source: ResourceView;
  readonly policyArn: string;
  readonly kind: PrincipalKind;
  /** The role, user or group name; `undefined` while unknown (a preview of a new principal). */
  readonly principal: string | undefined;
}

/** Attachment resource types, with where each keeps its policy ARNs and its principals (@pulumi/aws 7). */
const ATTACHMENTS: Readonly<
  Record<string, { readonly arns: string; readonly principals: readonly [PrincipalKind, string, "one" | "list"][] }>
> = {
  "aws:iam/rolePolicyAttachment:RolePolicyAttachment": { arns: "policyArn", principals: [["role", "role", "one"]] },
  "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive": {
    arns: "policyArns",
    principals: [["role", "roleName", "one"]],
  },
  "aws:iam/userPolicyAttachment:UserPolicyAttachment": { arns: "policyArn", principals: [["user", "user", "one"]] },
  "aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive": {
    arns: "policyArns",
    principals: [["user", "userName", "one"]],
  },
  "aws:iam/groupPolicyAttachment:GroupPolicyAttachment": { arns: "policyArn", principals: [["group", "group", "one"]] },
  "aws:iam/groupPolicyAttachmentsExclusive:GroupPolicyAttachmentsExclusive": {
    arns: "policyArns",
    principals: [["group", "groupName", "one"]],
  },
  "aws:iam/policyAttachment:PolicyAttachment": {
    arns: "policyArn",
    principals: [
      ["role", "roles", "list"],
      ["user", "users", "list"],
      ["group", "groups", "list"],
    ],
  },
};

/** The resource types that attach managed policies (besides a Role's own `managedPolicyArns`). */
export const ATTACHMENT_TYPES: readonly string[] = Object.keys(ATTACHMENTS);

const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined || v === null ? [] : [v]);
const lastSegment = (ref: string) => ref.split("/").pop() || ref;

/** Role names by every reference to them (name, ARN, id). */
function roleRefs(resources: readonly ResourceView[]): Map<string, string> {
  const byRef = new Map<string, string>();
  for (const r of resources.filter((x) => x.type === "aws:iam/role:Role")) {
    const name = roleName(r);
    if (!name) continue;
    for (const ref of [name, str(r.outputs.arn), str(r.outputs.id)]) if (ref) byRef.set(ref, name);
  }
  return byRef;
}

/**
 * Every managed-policy attachment of the stack, one per (policy ARN, principal): RolePolicyAttachment,
 * RolePolicyAttachmentsExclusive, PolicyAttachment (roles, users, groups), User/GroupPolicyAttachment,
 * User/GroupPolicyAttachmentsExclusive, and a Role's `managedPolicyArns`. A policy ARN not known yet is
 * skipped; a principal not known yet is kept with `principal: undefined` (a whole unknown list yields none).
 */
export function managedAttachments(resources: readonly ResourceView[]): ManagedAttachment[] {
  const roles = roleRefs(resources);
  const resolve = (kind: PrincipalKind, ref: unknown): string | undefined => {
    const key = str(ref);
    if (!key) return undefined;
    return kind === "role" ? (roles.get(key) ?? lastSegment(key)) : lastSegment(key);
  };
  const out: ManagedAttachment[] = [];
  const add = (source: ResourceView, arns: unknown, kind: PrincipalKind, refs: unknown[]) => {
    for (const policyArn of asList(arns).map(str)) {
      if (!policyArn) continue;
      for (const ref of refs) out.push({ source, policyArn, kind, principal: resolve(kind, ref) });
    }
  };
  for (const r of resources) {
    if (r.type === "aws:iam/role:Role") {
      add(r, r.props.managedPolicyArns, "role", [roleName(r)]);
      continue;
    }
    const shape = ATTACHMENTS[r.type];
    if (!shape) continue;
    for (const [kind, prop, arity] of shape.principals)
      add(r, r.props[shape.arns], kind, arity === "one" ? [r.props[prop]] : asList(r.props[prop]));
  }
  return out;
}

/** Every identity policy document of the stack, linked to its roles, users and groups by name or ARN. */
export function identityPolicies(resources: readonly ResourceView[]): IdentityPolicy[] {
  const out: IdentityPolicy[] = [];
  const roles = roleRefs(resources);
  const roleOf = (ref: unknown): string[] => {
    const key = str(ref);
    return key ? [roles.get(key) ?? lastSegment(key)] : [];
  };
  const nameOf = (ref: unknown): string[] => {
    const key = str(ref);
    return key ? [lastSegment(key)] : [];
  };
  const policyByArn = new Map<string, ResourceView>();
  for (const r of resources.filter((x) => x.type === "aws:iam/policy:Policy")) {
    const arn = str(r.outputs.arn);
    if (arn) policyByArn.set(arn, r);
  }
  const attached = new Map<ResourceView, { roles: string[]; users: string[]; groups: string[]; unknown: boolean }>();
  for (const a of managedAttachments(resources)) {
    const policy = policyByArn.get(a.policyArn);
    if (!policy) continue;
    const entry = attached.get(policy) ?? { roles: [], users: [], groups: [], unknown: false };
    if (a.principal === undefined) entry.unknown = true;
    else entry[a.kind === "role" ? "roles" : a.kind === "user" ? "users" : "groups"].push(a.principal);
    attached.set(policy, entry);
  }

  for (const r of resources) {
    switch (r.type) {
      case "aws:iam/rolePolicy:RolePolicy":
        push(r, r.props.policy, { roles: roleOf(r.props.role) });
        break;
      case "aws:iam/policy:Policy": {
        const to = attached.get(r);
        push(r, r.props.policy, {
          roles: unique(to?.roles),
          users: unique(to?.users),
          groups: unique(to?.groups),
          unknown: to?.unknown,
        });
        break;
      }
      case "aws:iam/userPolicy:UserPolicy":
        push(r, r.props.policy, { users: nameOf(r.props.user) });
        break;
      case "aws:iam/groupPolicy:GroupPolicy":
        push(r, r.props.policy, { groups: nameOf(r.props.group) });
        break;
      case "aws:iam/role:Role": {
        const inline = Array.isArray(r.props.inlinePolicies) ? (r.props.inlinePolicies as { policy?: unknown }[]) : [];
        const name = roleName(r);
        for (const p of inline) push(r, p.policy, { roles: name ? [name] : [] });
        break;
      }
    }
  }
  return out;

  function push(
    source: ResourceView,
    doc: unknown,
    to: { roles?: string[]; users?: string[]; groups?: string[]; unknown?: boolean },
  ): void {
    const statements = parseDocument(doc);
    if (!statements) return;
    const roles = to.roles ?? [];
    const users = to.users ?? [];
    const groups = to.groups ?? [];
    // An inline policy always has one principal: none known means it is unknown.
    const inline = source.type !== "aws:iam/policy:Policy";
    const principalsUnknown = !!to.unknown || (inline && roles.length + users.length + groups.length === 0);
    out.push({ source, statements, roles, users, groups, principalsUnknown });
  }
}

function unique(names: readonly string[] | undefined): string[] {
  return [...new Set(names ?? [])];
}
