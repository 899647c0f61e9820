/**
 * Compares two offline plans of one stack, resource by resource (by URN, aliases
 * honoured): what is created, deleted, updated (which input paths, old and new
 * values, secrets masked) or replaced (predicted with lib/force-new.ts), and the
 * risks a reviewer must see first: data loss, access widened, exposure widened,
 * client-facing names changed, policy violations new or fixed.
 */
import {
  canonical,
  isStateful,
  knowsType,
  replacementReasons,
  statefulHolds,
  type ReplacementReason,
} from "../lib/force-new";
import {
  compareIdentityPolicies,
  compareResourcePolicies,
  compareTrust,
  parsePolicy,
  type AccessGrant,
} from "./diff-access";
import { SECRET_MASK, type CapturedResource, type Plan } from "./harness";

export type ChangeKind = "create" | "update" | "replace" | "delete";
export type RiskKind =
  "data-loss" | "access-widened" | "exposure-widened" | "name-changed" | "policy-new" | "policy-fixed";

export interface PathChange {
  readonly path: string;
  readonly before: unknown;
  readonly after: unknown;
}

export interface ResourceChange {
  readonly urn: string;
  readonly type: string;
  readonly change: ChangeKind;
  /** Changed input paths (update, replace). */
  readonly paths: readonly string[];
  readonly details: readonly PathChange[];
  /** Why it is replaced (replace). */
  readonly reasons: readonly ReplacementReason[];
  /** The URN in the base, when it differs (matched through an alias). */
  readonly baseUrn?: string;
  /** A delete and a create of the same physical resource under another logical name. */
  readonly renamed?: { readonly from?: string; readonly to?: string };
  /** The type's force-new facts are unknown: an update may in truth be a replacement. */
  readonly unpredicted?: boolean;
}

export interface Risk {
  readonly kind: RiskKind;
  readonly urn: string;
  readonly detail: string;
}

export interface NarrowedAccess {
  readonly urn: string;
  readonly detail: string;
}

export interface PlanDiff {
  readonly stack: string;
  readonly base: string;
  readonly changes: readonly ResourceChange[];
  readonly risks: readonly Risk[];
  /** Access a change takes away (good news; shown, not a risk). */
  readonly narrowed: readonly NarrowedAccess[];
  /** A protected stateful resource is replaced or deleted: the gate fails. */
  readonly blocking: boolean;
}

/** The JSON other tools read: `{ stack, base, changes, risks }`. */
export function diffJson(diff: PlanDiff): unknown {
  return {
    stack: diff.stack,
    base: diff.base,
    changes: diff.changes.map((c) => ({ urn: c.urn, type: c.type, change: c.change, paths: c.paths })),
    risks: diff.risks.map((r) => ({ kind: r.kind, urn: r.urn, detail: r.detail })),
  };
}

/** Compares `head` (the working tree) with `base`. */
export async function diffPlans(base: Plan, head: Plan, baseLabel: string): Promise<PlanDiff> {
  if (base.stack !== head.stack) throw new Error(`the base plan is of stack ${base.stack}, not ${head.stack}`);
  const baseByUrn = new Map(base.resources.filter((r) => r.custom).map((r) => [r.urn, r]));
  const matched = new Set<string>();
  const pairs: [CapturedResource | undefined, CapturedResource | undefined][] = [];
  for (const r of head.resources.filter((x) => x.custom)) {
    const old =
      baseByUrn.get(r.urn) ??
      aliasCandidates(r)
        .map((u) => baseByUrn.get(u))
        .find((x) => x && !matched.has(x.urn));
    if (old) matched.add(old.urn);
    pairs.push([old, r]);
  }
  for (const r of base.resources.filter((x) => x.custom)) if (!matched.has(r.urn)) pairs.push([r, undefined]);

  const changes: ResourceChange[] = [];
  for (const [old, now] of pairs) {
    const change = compareResource(old, now);
    if (change) changes.push(change);
  }
  markRenames(changes, base, head);
  replaceUnderReplacedProviders(changes, head);
  changes.sort((a, b) => ORDER[a.change] - ORDER[b.change] || a.urn.localeCompare(b.urn));

  const account = accountOf(head) ?? accountOf(base) ?? "123456789012";
  const risks: Risk[] = [];
  const narrowed: NarrowedAccess[] = [];
  const baseAll = new Map(base.resources.map((r) => [r.urn, r]));
  const headAll = new Map(head.resources.map((r) => [r.urn, r]));
  let blocking = false;
  for (const c of changes) {
    const old = baseAll.get(c.baseUrn ?? c.urn);
    const now = headAll.get(c.urn);
    risks.push(...dataLoss(c, old, now));
    if ((c.change === "replace" || c.change === "delete") && old && isStateful(old.type) && old.options.protect)
      blocking = true;
    const access = await accessRisks(c, old, now, account);
    risks.push(...access.risks);
    narrowed.push(...access.narrowed);
    risks.push(...exposure(c, old, now));
    risks.push(...nameChanges(c, old, now));
  }
  risks.push(...policyRisks(base, head));
  risks.sort((a, b) => RISK_ORDER[a.kind] - RISK_ORDER[b.kind]);
  return { stack: head.stack, base: baseLabel, changes, risks, narrowed, blocking };
}

const ORDER: Record<ChangeKind, number> = { replace: 0, delete: 1, create: 2, update: 3 };
const RISK_ORDER: Record<RiskKind, number> = {
  "data-loss": 0,
  "access-widened": 1,
  "exposure-widened": 2,
  "name-changed": 3,
  "policy-new": 4,
  "policy-fixed": 5,
};

/** The base URNs an alias of `r` can name: a URN as is, or `{ name, type }` within the same parent chain. */
function aliasCandidates(r: CapturedResource): string[] {
  const at = r.urn.lastIndexOf("::");
  const head = r.urn.slice(0, at);
  const chainStart = head.lastIndexOf("::") + 2;
  const prefix = head.slice(0, chainStart);
  const chain = head.slice(chainStart).split("$");
  const out: string[] = [];
  for (const alias of r.options.aliases) {
    if (typeof alias === "string") out.push(alias);
    else if (alias && typeof alias === "object") {
      const a = alias as { name?: string; type?: string; stack?: string; project?: string };
      let p = prefix;
      if (a.stack || a.project) {
        const [, , stack, project] = /^(urn:pulumi:)([^:]+)::([^:]+)::/.exec(prefix) ?? [];
        p = `urn:pulumi:${a.stack ?? stack}::${a.project ?? project}::`;
      }
      const types = a.type ? [...chain.slice(0, -1), a.type] : chain;
      out.push(`${p}${types.join("$")}::${a.name ?? r.name}`);
    }
  }
  return out;
}

function compareResource(
  old: CapturedResource | undefined,
  now: CapturedResource | undefined,
): ResourceChange | undefined {
  if (!old && now) return { urn: now.urn, type: now.type, change: "create", paths: [], details: [], reasons: [] };
  if (old && !now) return { urn: old.urn, type: old.type, change: "delete", paths: [], details: [], reasons: [] };
  if (!old || !now) return undefined;
  const secrets = [...old.secretInputs, ...now.secretInputs];
  const ignored = now.options.ignoreChanges;
  const details = changedPaths(old.inputs, now.inputs, "")
    .filter((d) => !ignored.some((i) => d.path === i || d.path.startsWith(`${i}.`) || d.path.startsWith(`${i}[`)))
    .map((d) => (isSecretPath(d.path, secrets) ? { path: d.path, before: SECRET_MASK, after: SECRET_MASK } : d));
  // Options that change what a deletion does are part of the change (the engine records them in the state).
  for (const key of ["protect", "retainOnDelete"] as const) {
    if (old.options[key] !== now.options[key])
      details.push({ path: `options.${key}`, before: old.options[key], after: now.options[key] });
  }
  const aliasNote = old.urn !== now.urn ? { baseUrn: old.urn } : {};
  const typeChanged = old.type !== now.type;
  const providerChanged = (old.provider ?? "") !== (now.provider ?? "") && !old.urn.includes("pulumi:providers");
  const known = knowsType(now.type);
  const reasons: ReplacementReason[] = [];
  if (typeChanged)
    reasons.push({
      path: "(type)",
      before: old.type,
      after: now.type,
      why: "another resource type is another resource",
    });
  if (providerChanged)
    reasons.push({
      path: "(provider)",
      before: old.provider ?? "default",
      after: now.provider ?? "default",
      why: "a resource moved to another provider is replaced",
    });
  if (known && !typeChanged) {
    reasons.push(
      ...replacementReasons(now.type, old.inputs, now.inputs)
        .filter((r) => !ignored.includes(r.path))
        .map((r) => (isSecretPath(r.path, secrets) ? { ...r, before: SECRET_MASK, after: SECRET_MASK } : r)),
    );
  }
  if (details.length === 0 && reasons.length === 0) return undefined;
  const paths = details.map((d) => d.path);
  for (const r of reasons) if (!paths.includes(r.path) && !r.path.startsWith("(")) paths.push(r.path);
  return {
    urn: now.urn,
    type: now.type,
    change: reasons.length ? "replace" : "update",
    paths,
    details,
    reasons,
    ...aliasNote,
    ...(known ? {} : { unpredicted: true }),
  };
}

/** Secret paths are dot paths with numeric indices (`a.0.b`); ours write `a[0].b`. */
function isSecretPath(path: string, secrets: readonly string[]): boolean {
  const dotted = path.replace(/\[(\d+)\]/g, ".$1");
  return secrets.some((s) => dotted === s || dotted.startsWith(`${s}.`) || s.startsWith(`${dotted}.`));
}

/** Leaf paths whose values differ; JSON text (policies, container definitions) is compared as the JSON it holds. */
export function changedPaths(before: unknown, after: unknown, path: string): PathChange[] {
  const b = asJson(before);
  const a = asJson(after);
  if (canonical(b) === canonical(a)) return [];
  if (isObject(b) && isObject(a)) {
    const keys = [...new Set([...Object.keys(b), ...Object.keys(a)])].sort();
    return keys.flatMap((k) => changedPaths(b[k], a[k], path ? `${path}.${k}` : k));
  }
  if (Array.isArray(b) && Array.isArray(a) && b.length === a.length) {
    return b.flatMap((v, i) => changedPaths(v, a[i], `${path}[${i}]`));
  }
  return [{ path, before, after }];
}

function asJson(value: unknown): unknown {
  if (typeof value === "string" && /^\s*[[{]/.test(value)) {
    try {
      return JSON.parse(value);
    } catch {
      return value;
    }
  }
  return value;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === "object" && !Array.isArray(v);
}

/**
 * A replaced explicit provider (another region) replaces every resource it manages: the
 * engine deletes them from the old provider and creates them with the new one.
 */
function replaceUnderReplacedProviders(changes: ResourceChange[], head: Plan): void {
  const replaced = new Set(
    changes.filter((c) => c.change === "replace" && c.type.startsWith("pulumi:providers:")).map((c) => c.urn),
  );
  if (replaced.size === 0) return;
  const index = new Map(changes.map((c, i) => [c.urn, i]));
  for (const r of head.resources) {
    if (!r.provider || !replaced.has(r.provider)) continue;
    const reason: ReplacementReason = {
      path: "(provider)",
      before: r.provider,
      after: r.provider,
      why: "its provider is replaced",
    };
    const at = index.get(r.urn);
    if (at === undefined) {
      changes.push({ urn: r.urn, type: r.type, change: "replace", paths: [], details: [], reasons: [reason] });
    } else if (changes[at].change === "update" || changes[at].change === "replace") {
      changes[at] = { ...changes[at], change: "replace", reasons: [...changes[at].reasons, reason] };
    }
  }
}

/** Inputs that carry a resource's physical name, per type (first present wins). */
const NAME_KEYS = [
  "name",
  "bucket",
  "identifier",
  "alarmName",
  "dashboardName",
  "family",
  "functionName",
  "domainName",
  "url",
];

export function physicalName(r: CapturedResource): string | undefined {
  for (const k of NAME_KEYS) if (typeof r.inputs[k] === "string") return r.inputs[k] as string;
  return undefined;
}

function markRenames(changes: ResourceChange[], base: Plan, head: Plan): void {
  const baseBy = new Map(base.resources.map((r) => [r.urn, r]));
  const headBy = new Map(head.resources.map((r) => [r.urn, r]));
  const identity = (r: CapturedResource) => `${r.type} ${physicalName(r) ?? canonical(r.inputs)}`;
  const deletes = new Map<string, number>();
  changes.forEach((c, i) => {
    const r = c.change === "delete" ? baseBy.get(c.urn) : undefined;
    if (r) deletes.set(identity(r), i);
  });
  changes.forEach((c, i) => {
    const r = c.change === "create" ? headBy.get(c.urn) : undefined;
    const d = r ? deletes.get(identity(r)) : undefined;
    if (r && d !== undefined) {
      changes[i] = { ...c, renamed: { from: changes[d].urn } };
      changes[d] = { ...changes[d], renamed: { to: c.urn } };
      deletes.delete(identity(r));
    }
  });
}

function accountOf(plan: Plan): string | undefined {
  for (const r of plan.resources) {
    const m = /^arn:aws[\w-]*:[\w-]+:[\w-]*:(\d{12}):/.exec(String(r.outputs.arn ?? r.id ?? ""));
    if (m) return m[1];
  }
  return undefined;
}

const label = (r: CapturedResource | undefined, urn: string) => {
  const name = r ? physicalName(r) : undefined;
  const type = (r?.type ?? "").split(":").pop() ?? "";
  const logical = urn.slice(urn.lastIndexOf("::") + 2);
  return name && name !== logical ? `${type} ${name} (${logical})` : `${type} ${logical}`;
};

const show = (v: unknown): string => (v === undefined ? "(none)" : typeof v === "string" ? v : JSON.stringify(v));

function dataLoss(c: ResourceChange, old: CapturedResource | undefined, now: CapturedResource | undefined): Risk[] {
  const risks: Risk[] = [];
  const r = old ?? now;
  if (!r) return risks;
  const holds = statefulHolds(r.type);
  // retainOnDelete: a delete only forgets the resource; AWS keeps it and its data.
  const retained = c.change === "delete" && old?.options.retainOnDelete === true;
  if (holds && !retained && (c.change === "replace" || c.change === "delete")) {
    const why =
      c.change === "replace"
        ? `replaced (${c.reasons.map((x) => `${x.path}: ${show(x.before)} → ${show(x.after)}`).join("; ")})`
        : c.renamed?.to
          ? `deleted and created again under the logical name ${c.renamed.to.slice(c.renamed.to.lastIndexOf("::") + 2)} (add an alias to keep it)`
          : "deleted";
    risks.push({
      kind: "data-loss",
      urn: c.urn,
      detail: `${label(r, c.urn)} is ${why}: its ${holds} ${old?.options.protect ? "are protected (the run will stop at it)" : "are lost"}`,
    });
  }
  if (!old || !now) return risks;
  const weakened = (what: string) =>
    risks.push({ kind: "data-loss", urn: c.urn, detail: `${label(now, c.urn)}: ${what}` });
  if (old.options.protect && !now.options.protect) weakened("protect removed");
  if (old.options.retainOnDelete && !now.options.retainOnDelete) weakened("retainOnDelete removed");
  const on = (x: CapturedResource, key: string) => x.inputs[key] === true;
  for (const key of ["deletionProtection", "enableDeletionProtection"])
    if (on(old, key) && !on(now, key)) weakened(`${key} turned off`);
  if (!on(old, "skipFinalSnapshot") && on(now, "skipFinalSnapshot"))
    weakened("skipFinalSnapshot turned on (no final snapshot on deletion)");
  if (!on(old, "forceDestroy") && on(now, "forceDestroy"))
    weakened("forceDestroy turned on (deletion empties it first)");
  if (old.inputs.retainOnDelete === true && now.inputs.retainOnDelete !== true) weakened("retainOnDelete turned off");
  if (
    typeof old.inputs.recoveryWindowInDays === "number" &&
    old.inputs.recoveryWindowInDays > 0 &&
    now.inputs.recoveryWindowInDays === 0
  )
    weakened("recovery window set to 0 (deletion is immediate and final)");
  return risks;
}

const roleNameOf = (role: unknown): string => String(role ?? "?").replace(/^arn:aws:iam::\d{12}:role\//, "");

function summarize(grants: readonly AccessGrant[]): string {
  const byResource = new Map<string, string[]>();
  for (const g of grants) {
    const key = `${g.resource}${
      Object.keys(g.context).length
        ? ` when ${Object.entries(g.context)
            .map(([k, v]) => `${k}=${v.replace(/x-any/g, "*")}`)
            .join(", ")}`
        : ""
    }`;
    byResource.set(key, [...(byResource.get(key) ?? []), g.action]);
  }
  return [...byResource]
    .map(
      ([resource, actions]) =>
        `${actions.length > 4 ? `${actions.slice(0, 4).join(", ")} (+${actions.length - 4} more)` : actions.join(", ")} on ${resource}`,
    )
    .join("; ");
}

const RESOURCE_POLICY: Record<string, { key: string; arn: (r: CapturedResource) => string | undefined }> = {
  "aws:s3/bucketPolicy:BucketPolicy": {
    key: "policy",
    arn: (r) => (typeof r.inputs.bucket === "string" ? `arn:aws:s3:::${r.inputs.bucket}` : undefined),
  },
  "aws:sqs/queuePolicy:QueuePolicy": { key: "policy", arn: () => undefined },
  "aws:sns/topicPolicy:TopicPolicy": {
    key: "policy",
    arn: (r) => (typeof r.inputs.arn === "string" ? r.inputs.arn : undefined),
  },
  "aws:kms/key:Key": { key: "policy", arn: (r) => (typeof r.outputs.arn === "string" ? r.outputs.arn : undefined) },
  "aws:secretsmanager/secretPolicy:SecretPolicy": {
    key: "policy",
    arn: (r) => (typeof r.inputs.secretArn === "string" ? r.inputs.secretArn : undefined),
  },
  "aws:ecr/repositoryPolicy:RepositoryPolicy": { key: "policy", arn: () => undefined },
};

async function accessRisks(
  c: ResourceChange,
  old: CapturedResource | undefined,
  now: CapturedResource | undefined,
  account: string,
): Promise<{ risks: Risk[]; narrowed: NarrowedAccess[] }> {
  const risks: Risk[] = [];
  const narrowed: NarrowedAccess[] = [];
  const r = now ?? old;
  if (!r) return { risks, narrowed };
  const changedKey = (key: string) =>
    c.change === "create" ||
    c.change === "delete" ||
    c.paths.some((p) => p === key || p.startsWith(`${key}.`) || p.startsWith(`${key}[`));
  const identity = async (key: string, who: string, principal: string) => {
    if (!changedKey(key)) return;
    const change = await compareIdentityPolicies(
      parsePolicy(old?.inputs[key]),
      parsePolicy(now?.inputs[key]),
      principal,
      account,
    );
    if (change.widened.length)
      risks.push({ kind: "access-widened", urn: c.urn, detail: `${who} may now ${summarize(change.widened)}` });
    if (change.narrowed.length)
      narrowed.push({ urn: c.urn, detail: `${who} may no longer ${summarize(change.narrowed)}` });
  };
  if (r.type === "aws:iam/rolePolicy:RolePolicy") {
    const role = roleNameOf(r.inputs.role);
    await identity(
      "policy",
      `role ${role} (inline policy ${String(r.inputs.name ?? r.name)})`,
      `arn:aws:iam::${account}:role/${role}`,
    );
  }
  if (r.type === "aws:iam/policy:Policy")
    await identity(
      "policy",
      `whoever holds policy ${String(r.inputs.name ?? r.name)}`,
      `arn:aws:iam::${account}:role/holder-of-${r.name}`,
    );
  if (r.type === "aws:iam/role:Role") {
    const role = String(r.inputs.name ?? r.name);
    if (changedKey("assumeRolePolicy")) {
      const trust = compareTrust(parsePolicy(old?.inputs.assumeRolePolicy), parsePolicy(now?.inputs.assumeRolePolicy));
      if (trust.admitted.length)
        risks.push({
          kind: "access-widened",
          urn: c.urn,
          detail: `role ${role} now trusts ${trust.admitted.join("; ")}`,
        });
      if (trust.refused.length)
        narrowed.push({ urn: c.urn, detail: `role ${role} no longer trusts ${trust.refused.join("; ")}` });
    }
    const inline = (x: CapturedResource | undefined) =>
      new Map(
        ((x?.inputs.inlinePolicies as { name?: string; policy?: string }[] | undefined) ?? []).map((p) => [
          p.name ?? "",
          p.policy,
        ]),
      );
    if (changedKey("inlinePolicies")) {
      const before = inline(old);
      const after = inline(now);
      for (const name of new Set([...before.keys(), ...after.keys()])) {
        const change = await compareIdentityPolicies(
          parsePolicy(before.get(name)),
          parsePolicy(after.get(name)),
          `arn:aws:iam::${account}:role/${role}`,
          account,
        );
        if (change.widened.length)
          risks.push({
            kind: "access-widened",
            urn: c.urn,
            detail: `role ${role} (inline policy ${name}) may now ${summarize(change.widened)}`,
          });
        if (change.narrowed.length)
          narrowed.push({
            urn: c.urn,
            detail: `role ${role} (inline policy ${name}) may no longer ${summarize(change.narrowed)}`,
          });
      }
    }
  }
  if (r.type === "aws:iam/rolePolicyAttachment:RolePolicyAttachment" && changedKey("policyArn")) {
    const role = roleNameOf(r.inputs.role);
    if (now && now.inputs.policyArn !== old?.inputs.policyArn)
      risks.push({
        kind: "access-widened",
        urn: c.urn,
        detail: `role ${role} is given the managed policy ${String(now.inputs.policyArn)} (its content is not evaluated offline)`,
      });
    if (old && old.inputs.policyArn !== now?.inputs.policyArn)
      narrowed.push({
        urn: c.urn,
        detail: `role ${roleNameOf(old.inputs.role)} loses the managed policy ${String(old.inputs.policyArn)}`,
      });
  }
  if (r.type === "aws:lambda/permission:Permission") {
    const grant = (x: CapturedResource) =>
      `${String(x.inputs.principal)} may ${String(x.inputs.action)} on function ${String(x.inputs.function)}${x.inputs.sourceArn ? ` from ${String(x.inputs.sourceArn)}` : ""}${x.inputs.sourceAccount ? ` (account ${String(x.inputs.sourceAccount)})` : ""}`;
    if (now && (!old || grant(old) !== grant(now)))
      risks.push({
        kind: "access-widened",
        urn: c.urn,
        detail: `lambda permission: ${grant(now)}${old ? ` (was: ${grant(old)})` : ""}`,
      });
    if (old && !now) narrowed.push({ urn: c.urn, detail: `lambda permission removed: ${grant(old)}` });
  }
  const rp = RESOURCE_POLICY[r.type];
  if (rp && changedKey(rp.key)) {
    const arn = rp.arn(now ?? r) ?? undefined;
    const changes = await compareResourcePolicies(
      parsePolicy(old?.inputs[rp.key]),
      parsePolicy(now?.inputs[rp.key]),
      arn,
      account,
    );
    const what = label(r, c.urn);
    for (const ch of changes) {
      if (ch.widened.length)
        risks.push({
          kind: "access-widened",
          urn: c.urn,
          detail: `${what}: ${ch.principal} may now ${summarize(ch.widened)}`,
        });
      if (ch.narrowed.length)
        narrowed.push({ urn: c.urn, detail: `${what}: ${ch.principal} may no longer ${summarize(ch.narrowed)}` });
    }
  }
  return { risks, narrowed };
}

const OPEN = new Set(["0.0.0.0/0", "::/0"]);

function exposure(c: ResourceChange, old: CapturedResource | undefined, now: CapturedResource | undefined): Risk[] {
  const risks: Risk[] = [];
  if (!now) return risks;
  const add = (detail: string) =>
    risks.push({ kind: "exposure-widened", urn: c.urn, detail: `${label(now, c.urn)}: ${detail}` });
  const was = (key: string) => old?.inputs[key];
  const is = (key: string) => now.inputs[key];
  if (now.type === "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule") {
    for (const key of ["cidrIpv4", "cidrIpv6"]) {
      if (OPEN.has(String(is(key))) && !OPEN.has(String(was(key))))
        add(
          `ingress ${show(is("ipProtocol"))} ${show(is("fromPort"))}-${show(is("toPort"))} newly open to the internet (${String(is(key))})`,
        );
    }
  }
  const openCidrs = (x: CapturedResource | undefined, path: string): string[] => {
    const rules =
      (x?.inputs[path] as
        { cidrBlocks?: string[]; ipv6CidrBlocks?: string[]; fromPort?: number; toPort?: number }[] | undefined) ?? [];
    return rules.flatMap((rule) =>
      [...(rule.cidrBlocks ?? []), ...(rule.ipv6CidrBlocks ?? [])]
        .filter((cidr) => OPEN.has(cidr))
        .map((cidr) => `${rule.fromPort}-${rule.toPort} ${cidr}`),
    );
  };
  if (now.type === "aws:ec2/securityGroup:SecurityGroup") {
    const before = new Set(openCidrs(old, "ingress"));
    for (const rule of openCidrs(now, "ingress"))
      if (!before.has(rule)) add(`inline ingress ${rule} newly open to the internet`);
  }
  if (now.type === "aws:ec2/securityGroupRule:SecurityGroupRule" && is("type") === "ingress") {
    const before = new Set(
      ((was("cidrBlocks") as string[] | undefined) ?? []).concat((was("ipv6CidrBlocks") as string[] | undefined) ?? []),
    );
    for (const cidr of [
      ...((is("cidrBlocks") as string[] | undefined) ?? []),
      ...((is("ipv6CidrBlocks") as string[] | undefined) ?? []),
    ])
      if (OPEN.has(cidr) && !before.has(cidr)) add(`ingress newly open to the internet (${cidr})`);
  }
  if (now.type === "aws:rds/instance:Instance" || now.type === "aws:rds/cluster:Cluster") {
    if (is("publiclyAccessible") === true && was("publiclyAccessible") !== true) add("publiclyAccessible turned on");
  }
  if (now.type === "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock" && old) {
    for (const key of ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"])
      if (was(key) === true && is(key) !== true) add(`${key} turned off`);
  }
  if (now.type === "aws:lb/loadBalancer:LoadBalancer" && is("internal") !== true && (!old || was("internal") === true))
    add("internet-facing" + (old ? " (was internal)" : " (new)"));
  if (now.type === "aws:lb/listener:Listener" && old) {
    const down: Record<string, string> = { HTTPS: "HTTP", TLS: "TCP" };
    const from = String(was("protocol") ?? "");
    if (down[from] && is("protocol") === down[from])
      add(`listener protocol ${from} → ${String(is("protocol"))} (no TLS)`);
    const a = tlsFloor(was("sslPolicy"));
    const b = tlsFloor(is("sslPolicy"));
    if (a !== undefined && b !== undefined && b < a)
      add(`ssl policy ${String(was("sslPolicy"))} → ${String(is("sslPolicy"))} (admits older TLS)`);
  }
  if (now.type === "aws:cloudfront/distribution:Distribution" && old) {
    const min = (x: CapturedResource) =>
      (x.inputs.viewerCertificate as { minimumProtocolVersion?: string } | undefined)?.minimumProtocolVersion;
    const a = CLOUDFRONT_TLS.indexOf(min(old) ?? "");
    const b = CLOUDFRONT_TLS.indexOf(min(now) ?? "");
    if (a >= 0 && b >= 0 && b < a) add(`minimum viewer TLS ${min(old)} → ${min(now)}`);
    const behaviors = (x: CapturedResource) =>
      [x.inputs.defaultCacheBehavior, ...((x.inputs.orderedCacheBehaviors as unknown[] | undefined) ?? [])] as (
        { viewerProtocolPolicy?: string; pathPattern?: string } | undefined
      )[];
    const before = behaviors(old);
    behaviors(now).forEach((b2, i) => {
      if (b2?.viewerProtocolPolicy === "allow-all" && before[i]?.viewerProtocolPolicy !== "allow-all")
        add(`viewerProtocolPolicy allow-all (plain HTTP) on ${b2.pathPattern ?? "the default behaviour"}`);
    });
  }
  return risks;
}

/** CloudFront's minimum viewer protocol versions, oldest first. */
const CLOUDFRONT_TLS = [
  "SSLv3",
  "TLSv1",
  "TLSv1_2016",
  "TLSv1.1_2016",
  "TLSv1.2_2018",
  "TLSv1.2_2019",
  "TLSv1.2_2021",
  "TLSv1.3_2025",
];

/** The oldest TLS version an ELB security policy admits (10, 11, 12, 13), from its name. */
export function tlsFloor(policy: unknown): number | undefined {
  if (typeof policy !== "string" || !policy) return undefined;
  const m = /(?:TLS13-|TLS-|FS-)1-([0-3])/.exec(policy);
  if (m) return 10 + Number(m[1]);
  // ELBSecurityPolicy-2016-08, -2015-05, -FS-2018-06 and the like admit TLS 1.0.
  return 10;
}

const CLIENT_NAMES: Record<string, { key: string; what: string }> = {
  "aws:route53/record:Record": { key: "name", what: "DNS name" },
  "aws:lb/loadBalancer:LoadBalancer": { key: "name", what: "load balancer name (and its DNS name)" },
  "aws:secretsmanager/secret:Secret": { key: "name", what: "secret name the apps read" },
  "aws:ssm/parameter:Parameter": { key: "name", what: "SSM parameter name" },
  "aws:cloudfront/distribution:Distribution": { key: "aliases", what: "CloudFront aliases" },
  "aws:sqs/queue:Queue": { key: "name", what: "queue name" },
  "aws:sns/topic:Topic": { key: "name", what: "topic name" },
};

function nameChanges(c: ResourceChange, old: CapturedResource | undefined, now: CapturedResource | undefined): Risk[] {
  const n = now ? CLIENT_NAMES[now.type] : undefined;
  if (!n || !old || !now || (c.change !== "update" && c.change !== "replace")) return [];
  if (canonical(old.inputs[n.key]) === canonical(now.inputs[n.key])) return [];
  return [
    { kind: "name-changed", urn: c.urn, detail: `${n.what}: ${show(old.inputs[n.key])} → ${show(now.inputs[n.key])}` },
  ];
}

function policyRisks(base: Plan, head: Plan): Risk[] {
  const key = (v: { policy: string; urn: string; message: string }) => `${v.policy} ${v.urn} ${v.message}`;
  const before = new Set(base.violations.map(key));
  const after = new Set(head.violations.map(key));
  // The finding's first sentence: what is wrong (the remediation follows in the plan's report).
  const what = (v: { policy: string; urn: string; message: string; level: string }) =>
    `${v.level} ${v.policy} on ${v.urn ? v.urn.slice(v.urn.lastIndexOf("::") + 2) : "the stack"}: ${/^.*?[.!](?=\s|$)/.exec(v.message)?.[0] ?? v.message}`;
  const risks: Risk[] = [];
  for (const v of head.violations)
    if (!before.has(key(v))) risks.push({ kind: "policy-new", urn: v.urn, detail: what(v) });
  for (const v of base.violations)
    if (!after.has(key(v))) risks.push({ kind: "policy-fixed", urn: v.urn, detail: what(v) });
  return risks;
}
