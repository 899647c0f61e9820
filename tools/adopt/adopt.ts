/**
 * Adoption of a live, Terraform-managed estate by a stack: matches each managed
 * Terraform resource instance to a planned resource by type and physical identity,
 * compares them on the planned inputs, and says what `pulumi import` takes, what
 * replaces, what is left over and what blocks a safe adoption.
 */
import { STATEFUL_TYPES } from "../../lib/stateful-types";
import { knowsType, statefulHolds } from "../../lib/force-new";
import type { CapturedResource, Plan } from "../harness";
import { mockSubnetId, mockVpcId, mockZoneId } from "../mocks";
import { Difference, compare } from "./compare";
import { show } from "./render";
import { StackTarget, checkSourceTarget } from "./target";
import { Attributes, TfInstance, TfSource, isObject, isSensitive } from "./tfstate";
import {
  LiveIndex,
  NOTHING_TO_ADOPT,
  PlanIndex,
  RULE_BY_PULUMI_TYPE,
  TypeRule,
  normalizeProtocol,
  peerOf,
  ruleKey,
  rulesForTfType,
} from "./types";

export { StackTarget, checkSourceTarget, stackTarget } from "./target";

export type Effect = "update" | "replace";

export interface Change {
  readonly path: string;
  readonly effect: Effect;
  /** Absent when sensitive. */
  readonly live?: unknown;
  readonly planned?: unknown;
  readonly sensitive?: true;
  /** Why it replaces, when the provider's facts say. */
  readonly why?: string;
}

export interface Match {
  readonly address: string;
  readonly file: string;
  readonly tfType: string;
  /** The Terraform provider the live instance was managed through (an alias may reach another account). */
  readonly tfProvider: string;
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly importId: string;
  readonly changes: readonly Change[];
  /** Planned inputs the state has no attribute for (not compared). */
  readonly notCompared: readonly string[];
}

export type LiveAction = "terraform state rm and keep" | "delete after cut-over" | "leave in Terraform";

export interface UnmatchedLive {
  readonly address: string;
  readonly file: string;
  readonly tfType: string;
  readonly reason: string;
  readonly action: LiveAction;
}

export type PlannedStatus = "created" | "exists outside Terraform" | "may exist outside Terraform";

export interface PlannedOnly {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly status: PlannedStatus;
  readonly note: string;
  /** The import id, when it can be derived (then the import file holds it). */
  readonly importId?: string;
}

export interface Blocker {
  readonly urn?: string;
  readonly address?: string;
  readonly problem: string;
  readonly fix: string;
}

export interface SourceSummary {
  readonly file: string;
  readonly lineage: string;
  readonly serial: number;
}

export interface AdoptReport {
  readonly stack: string;
  readonly sources: readonly SourceSummary[];
  readonly matches: readonly Match[];
  readonly unmatchedLive: readonly UnmatchedLive[];
  readonly plannedOnly: readonly PlannedOnly[];
  readonly blockers: readonly Blocker[];
  /** What to check by hand before importing (not blockers). */
  readonly warnings: readonly Warning[];
}

export interface Warning {
  readonly address: string;
  readonly urn: string;
  readonly message: string;
}

/** Types whose replacement clients notice (a new address, a new name, a gap in service). */
const CLIENT_FACING = new Set([
  "aws:lb/loadBalancer:LoadBalancer",
  "aws:lb/listener:Listener",
  "aws:route53/record:Record",
  "aws:cloudfront/distribution:Distribution",
  "aws:ecs/service:Service",
  "aws:lambda/function:Function",
  "aws:ecs/cluster:Cluster",
]);

/** Compute: two of them doing one job at once (two market makers trading) is a data risk. */
const COMPUTE = new Set(["aws:lambda/function:Function", "aws:ecs/service:Service"]);

export function adopt(plan: Plan, sources: readonly TfSource[], target: StackTarget): AdoptReport {
  for (const source of sources) checkSourceTarget(source, target);
  const managed = sources.flatMap((s) => s.managed);
  const data = sources.flatMap((s) => s.data);
  const live = liveIndex(managed);
  const planIndex = indexPlan(plan);
  const candidates = plan.resources.filter((r) => r.custom && !r.type.startsWith("pulumi:providers:"));

  // Planned identities: type → key → resource.
  const plannedByKey = new Map<string, CapturedResource>();
  for (const r of candidates) {
    const rule = RULE_BY_PULUMI_TYPE.get(r.type);
    const key = rule?.planned(r, planIndex);
    if (rule && key !== undefined && !plannedByKey.has(`${r.type}#${key}`)) plannedByKey.set(`${r.type}#${key}`, r);
  }

  const matched = new Map<string, { instance: TfInstance; rule: TypeRule; resource: CapturedResource }>();
  const unmatched: { instance: TfInstance; why?: string }[] = [];
  for (const instance of managed) {
    const rules = rulesForTfType(instance.type);
    let hit: { rule: TypeRule; resource: CapturedResource } | undefined;
    let duplicateOf: string | undefined;
    for (const rule of rules) {
      const key = rule.live(instance.attributes, live);
      const resource = key === undefined ? undefined : plannedByKey.get(`${rule.pulumiType}#${key}`);
      if (!resource) continue;
      const previous = matched.get(resource.urn);
      if (previous) duplicateOf = previous.instance.address;
      else hit = { rule, resource };
      break;
    }
    if (hit) matched.set(hit.resource.urn, { instance, ...hit });
    else unmatched.push({ instance, ...(duplicateOf ? { why: `the same AWS object as ${duplicateOf}` } : {}) });
  }

  const translate = translation(candidates, [...matched.values()], data);
  const matches: Match[] = [];
  const blockers: Blocker[] = [];
  for (const { instance, rule, resource } of matched.values()) {
    const importId = rule.importId(instance.attributes);
    if (!importId) {
      unmatched.push({ instance, why: `no import id can be derived for ${resource.type}` });
      continue;
    }
    const match = compareMatch(instance, resource, importId, translate);
    matches.push(match);
    blockers.push(...replacementBlockers(match, resource));
  }
  const matchedUrns = new Set(matches.map((m) => m.urn));

  const plannedOnly = candidates
    .filter((r) => !matchedUrns.has(r.urn))
    .map((r) => classifyPlannedOnly(r, managed, planIndex, live, matches));
  const plannedRules = new Map<string, string>();
  for (const r of candidates) {
    if (!r.type.startsWith("aws:vpc/securityGroup")) continue;
    const key = RULE_BY_PULUMI_TYPE.get(r.type)?.planned(r, planIndex);
    if (key) plannedRules.set(key, r.name);
  }
  const unmatchedLive = unmatched.map(({ instance, why }) =>
    classifyUnmatched(instance, why, planIndex, live, plannedRules),
  );
  blockers.push(
    ...leftBehindBlockers(
      unmatched.map((u) => u.instance),
      plannedOnly,
      planIndex,
    ),
  );

  // A plan that withholds resources (production's DNS records until the zone account's role is
  // configured) cannot adopt their live twins: they would stay in Terraform, and `pulumi up` refuses.
  for (const withheld of plan.blockers.filter((b) => (b.withheld?.length ?? 0) > 0)) {
    blockers.push({
      problem: `the plan withholds ${withheld.withheld?.length} resources until ${withheld.key} is set (${withheld.message}), so their live twins cannot be adopted`,
      fix: `set ${withheld.key} (and what it names) in the stack file, then run npm run adopt again`,
    });
  }

  const warnings = providerWarnings(matches, managed, target, new Map(plan.resources.map((r) => [r.urn, r])));

  const byAddress = (a: { address: string }, b: { address: string }) => a.address.localeCompare(b.address);
  return {
    stack: plan.stack,
    sources: sources.map((s) => ({ file: s.file, lineage: s.lineage, serial: s.serial })),
    matches: matches.sort((a, b) => a.urn.localeCompare(b.urn)),
    unmatchedLive: unmatchedLive.sort(byAddress),
    plannedOnly: plannedOnly.sort((a, b) => a.urn.localeCompare(b.urn)),
    blockers,
    warnings,
  };
}

/**
 * A Terraform provider alias may reach another account (the lmn records live in the account
 * that owns the parent zone), and a state does not say which: only ARNs carry accounts.
 * A match through an alias that no ARN of the stack's account vouches for gets a warning
 * naming the provider the import will use.
 */
function providerWarnings(
  matches: readonly Match[],
  managed: readonly TfInstance[],
  target: StackTarget,
  byUrn: ReadonlyMap<string, CapturedResource>,
): Warning[] {
  const vouched = new Set<string>();
  for (const i of managed) {
    const arn = typeof i.attributes.arn === "string" ? i.attributes.arn : "";
    const account = /^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:(\d{12}):/.exec(arn)?.[1];
    if (account && target.accountIds.includes(account)) vouched.add(i.provider);
  }
  const byAddress = new Map(managed.map((i) => [`${i.file}#${i.address}`, i]));
  return matches
    .filter((m) => byAddress.get(`${m.file}#${m.address}`)?.providerAlias && !vouched.has(m.tfProvider))
    .map((m) => {
      const provider = byUrn.get(m.urn)?.provider;
      const uses = provider ? `the program's provider ${provider.split("::").pop()}` : "the stack's default provider";
      return {
        address: m.address,
        urn: m.urn,
        message: `Terraform managed it through ${m.tfProvider}, whose account the state does not show; the import uses ${uses}: check that it reaches the account holding ${m.importId}`,
      };
    });
}

function liveIndex(managed: readonly TfInstance[]): LiveIndex {
  const securityGroupName = new Map<string, string>();
  const keyAliases = new Map<string, string[]>();
  const secretName = new Map<string, string>();
  const distributionAliases = new Map<string, string>();
  for (const i of managed) {
    const a = i.attributes;
    if (i.type === "aws_security_group" && typeof a.id === "string" && typeof a.name === "string")
      securityGroupName.set(a.id, a.name);
    if (i.type === "aws_kms_alias" && typeof a.target_key_id === "string" && typeof a.name === "string") {
      const keyId = a.target_key_id.split("/").pop() as string;
      keyAliases.set(keyId, [...(keyAliases.get(keyId) ?? []), a.name]);
    }
    if (i.type === "aws_secretsmanager_secret" && typeof a.arn === "string" && typeof a.name === "string")
      secretName.set(a.arn, a.name);
    if (i.type === "aws_cloudfront_distribution" && typeof a.id === "string" && Array.isArray(a.aliases)) {
      distributionAliases.set(
        a.id,
        a.aliases
          .map((n) => String(n).toLowerCase().replace(/\.$/, ""))
          .sort()
          .join(","),
      );
    }
  }
  return { securityGroupName, keyAliases, secretName, distributionAliases };
}

function indexPlan(plan: Plan): PlanIndex {
  const byId = new Map<string, CapturedResource>();
  const byType = new Map<string, CapturedResource[]>();
  for (const r of plan.resources) {
    if (r.id) byId.set(r.id, r);
    byType.set(r.type, [...(byType.get(r.type) ?? []), r]);
  }
  return { byId, byType };
}

/**
 * Mock values of the plan → live values, for comparing references: the ids and ARNs the
 * mocks gave matched resources (→ the live ones), and the VPC, subnets and zones the
 * program looks up by name (→ the state's data sources of the same names).
 */
function translation(
  planned: readonly CapturedResource[],
  matched: readonly { instance: TfInstance; resource: CapturedResource }[],
  data: readonly TfInstance[],
): (value: unknown) => unknown {
  const pairs = new Map<string, string>();
  const add = (mock: unknown, real: unknown) => {
    if (typeof mock === "string" && typeof real === "string" && mock.length >= 6 && mock !== real)
      pairs.set(mock, real);
  };
  for (const { instance, resource } of matched) {
    const a = instance.attributes;
    // Only what the mocks made up: an id that is the program's own name (an RDS identifier) stays.
    const given = new Set(Object.values(resource.inputs).filter((v): v is string => typeof v === "string"));
    const addMade = (mock: unknown, real: unknown) => {
      if (typeof mock === "string" && !given.has(mock)) add(mock, real);
    };
    addMade(resource.id, a.id);
    for (const [key, value] of Object.entries(resource.outputs)) {
      if (key in resource.inputs) continue;
      addMade(value, a[key.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase()]);
    }
  }
  // What the stack creates has no live value yet: say so instead of showing a mock id.
  const matchedUrns = new Set(matched.map((m) => m.resource.urn));
  for (const r of planned) {
    if (matchedUrns.has(r.urn)) continue;
    const given = new Set(Object.values(r.inputs).filter((v): v is string => typeof v === "string"));
    const label = `(created: ${r.name})`;
    for (const value of [r.id, r.outputs.arn])
      if (typeof value === "string" && !given.has(value) && !pairs.has(value)) add(value, label);
  }
  for (const d of data) {
    const a = d.attributes;
    const nameTag = isObject(a.tags) && typeof a.tags.Name === "string" ? a.tags.Name : undefined;
    if (d.type === "aws_vpc" && nameTag) add(mockVpcId(nameTag), a.id);
    if (d.type === "aws_subnet" && nameTag) add(mockSubnetId(nameTag), a.id);
    if (d.type === "aws_route53_zone" && typeof a.name === "string") {
      add(mockZoneId(a.name.replace(/\.$/, "")), a.zone_id ?? a.id);
      add(mockZoneId(`${a.name.replace(/\.$/, "")}.`), a.zone_id ?? a.id);
    }
  }
  const ordered = [...pairs].sort((x, y) => y[0].length - x[0].length);
  const replace = (text: string): string => {
    let out = text;
    for (const [mock, real] of ordered) if (out.includes(mock)) out = out.split(mock).join(real);
    return out;
  };
  const walk = (value: unknown): unknown => {
    if (typeof value === "string") return replace(value);
    if (Array.isArray(value)) return value.map(walk);
    if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v)]));
    return value;
  };
  return walk;
}

function compareMatch(
  instance: TfInstance,
  resource: CapturedResource,
  importId: string,
  translate: (v: unknown) => unknown,
): Match {
  const planned = translate(resource.inputs) as Record<string, unknown>;
  const secretTop = new Set(resource.secretInputs.map((p) => p.split(".")[0]));
  const comparison = knowsType(resource.type)
    ? compare(resource.type, planned, instance.attributes, resource.options.ignoreChanges)
    : {
        differences: [] as Difference[],
        unknownAttributes: Object.keys(planned),
        replacements: [],
        sourceAttribute: new Map<string, string>(),
      };
  const changes: Change[] = comparison.differences.map((d) => {
    const top = d.path.split(".")[0];
    const reason = comparison.replacements.find(
      (r) =>
        d.path === r.path ||
        d.path.startsWith(`${r.path}.`) ||
        r.path.startsWith(`${d.path}.`) ||
        r.path.startsWith(`${top}[*]`) ||
        r.path === top,
    );
    const sensitive = secretTop.has(top) || isSensitive(instance, comparison.sourceAttribute.get(top) ?? top);
    return {
      path: d.path,
      effect: reason ? "replace" : "update",
      ...(sensitive ? { sensitive: true as const } : { live: d.live ?? null, planned: d.planned ?? null }),
      ...(reason?.why ? { why: reason.why } : {}),
    };
  });
  return {
    address: instance.address,
    file: instance.file,
    tfType: instance.type,
    tfProvider: instance.provider,
    urn: resource.urn,
    type: resource.type,
    name: resource.name,
    importId,
    changes,
    notCompared: comparison.unknownAttributes,
  };
}

function replacementBlockers(match: Match, resource: CapturedResource): Blocker[] {
  const replacing = match.changes.filter((c) => c.effect === "replace");
  if (replacing.length === 0) return [];
  const holds = statefulHolds(match.type);
  if (!holds && !CLIENT_FACING.has(match.type)) return [];
  const what = holds ? `its ${holds} would be lost` : "its clients would lose it while a new one is made";
  const detail = replacing
    .map((c) =>
      c.sensitive ? `${c.path} (sensitive)` : `${c.path}: live ${show(c.live)} → planned ${show(c.planned)}`,
    )
    .join("; ");
  const why = replacing.map((c) => c.why).find(Boolean);
  return [
    {
      urn: match.urn,
      address: match.address,
      problem: `${resource.name} (${match.type}) would be replaced, and ${what}: ${detail}${why ? ` (${why})` : ""}`,
      fix: `make the program keep the live value of ${replacing.map((c) => c.path).join(", ")} for ${match.address}, then run adopt again`,
    },
  ];
}

function physicalName(r: CapturedResource): string | undefined {
  const i = r.inputs;
  for (const key of [
    "name",
    "identifier",
    "bucket",
    "family",
    "functionName",
    "alarmName",
    "dashboardName",
    "domainName",
  ])
    if (typeof i[key] === "string") return i[key] as string;
  return undefined;
}

function liveName(a: Attributes): string | undefined {
  for (const key of [
    "name",
    "identifier",
    "bucket",
    "family",
    "function_name",
    "alarm_name",
    "dashboard_name",
    "domain_name",
  ])
    if (typeof a[key] === "string") return a[key] as string;
  return undefined;
}

function classifyPlannedOnly(
  r: CapturedResource,
  managed: readonly TfInstance[],
  plan: PlanIndex,
  live: LiveIndex,
  matches: readonly Match[],
): PlannedOnly {
  const base = { urn: r.urn, type: r.type, name: r.name };
  const rule = RULE_BY_PULUMI_TYPE.get(r.type);
  if (!rule) return { ...base, status: "created", note: `no Terraform counterpart in the adoption table: created` };
  if (!rule.importable)
    return { ...base, status: "created", note: "created, cannot collide (it holds no AWS object of its own)" };
  const name = physicalName(r);

  if (r.type === "aws:cloudwatch/logGroup:LogGroup" && name) {
    // RDS and Lambda make their own log groups on first use; Terraform may never have managed them.
    const rds = /^\/aws\/rds\/instance\/([^/]+)\/([a-z]+)$/.exec(name);
    if (rds) {
      const db = managed.find((i) => i.type === "aws_db_instance" && i.attributes.identifier === rds[1]);
      const exports = Array.isArray(db?.attributes.enabled_cloudwatch_logs_exports)
        ? (db?.attributes.enabled_cloudwatch_logs_exports as unknown[])
        : [];
      if (db && exports.includes(rds[2]))
        return {
          ...base,
          status: "exists outside Terraform",
          note: `RDS made it for ${db.address}'s ${rds[2]} log export: import by id ${name}`,
          importId: name,
        };
      if (db)
        return {
          ...base,
          status: "created",
          note: `${db.address} does not export ${rds[2]} logs today: created, cannot collide`,
        };
    }
    const fn = /^\/aws\/lambda\/([^/]+)$/.exec(name);
    if (fn && managed.some((i) => i.type === "aws_lambda_function" && i.attributes.function_name === fn[1])) {
      return {
        ...base,
        status: "exists outside Terraform",
        note: `Lambda made it on the function's first run: import by id ${name}`,
        importId: name,
      };
    }
  }
  if (r.type === "aws:ssm/parameter:Parameter" && name && /\/image-tag$/.test(name)) {
    return {
      ...base,
      status: "may exist outside Terraform",
      note: `a code deploy writes ${name}: if \`aws ssm get-parameter --name ${name}\` finds it, import it by id ${name} (add it to the import file) before \`pulumi up\`; else it is created`,
    };
  }
  if (
    r.type === "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule" ||
    r.type === "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
  ) {
    return classifyRule(r, base, managed, plan, live, matches);
  }
  const sameName = name
    ? managed.find((i) => rule.tfTypes.includes(i.type) && liveName(i.attributes) === name)
    : undefined;
  if (sameName)
    return {
      ...base,
      status: "created",
      note: `${sameName.address} has the same name but another identity: see unmatchedLive`,
    };
  return { ...base, status: "created", note: name ? `no Terraform resource is named ${name}: created` : "created" };
}

/** A planned rule on an adopted security group may already exist in AWS as one of Terraform's inline rules. */
function classifyRule(
  r: CapturedResource,
  base: { urn: string; type: string; name: string },
  managed: readonly TfInstance[],
  plan: PlanIndex,
  live: LiveIndex,
  matches: readonly Match[],
): PlannedOnly {
  const direction = r.type.includes("Ingress") ? "ingress" : "egress";
  const rule = RULE_BY_PULUMI_TYPE.get(r.type) as TypeRule;
  const key = rule.planned(r, plan);
  const group = plan.byId.get(String(r.inputs.securityGroupId ?? ""));
  const adoptedGroup = group && matches.find((m) => m.urn === group.urn);
  if (!key || !adoptedGroup)
    return { ...base, status: "created", note: "on a security group the stack creates: created, cannot collide" };
  const sg = managed.find((i) => i.address === adoptedGroup.address);
  const inline = sg ? inlineRuleKeys(sg, direction, live) : [];
  const loose = managed
    .filter(
      (i) =>
        i.type === "aws_security_group_rule" &&
        i.attributes.type === direction &&
        i.attributes.security_group_id === sg?.attributes.id,
    )
    .flatMap((i) => expandedRuleKeys(i.attributes, direction, live));
  if ([...inline, ...loose].includes(key)) {
    const groupId = String(sg?.attributes.id);
    return {
      ...base,
      status: "exists outside Terraform",
      note: `the same rule exists in ${sg?.address} (an inline or multi-peer rule, which has no rule id in the state): find its id with \`aws ec2 describe-security-group-rules --filters Name=group-id,Values=${groupId}\` and import it, or \`pulumi up\` fails on a duplicate rule`,
    };
  }
  return {
    ...base,
    status: "created",
    note: `${adoptedGroup.address} has no such rule today: created, cannot collide`,
  };
}

function inlineRuleKeys(sg: TfInstance, direction: "ingress" | "egress", live: LiveIndex): string[] {
  const blocks = Array.isArray(sg.attributes[direction]) ? (sg.attributes[direction] as unknown[]) : [];
  return blocks
    .filter(isObject)
    .flatMap((b) => expandedRuleKeys({ ...b, security_group_id: sg.attributes.id }, direction, live));
}

/** One key per peer of a Terraform rule with several (each peer is its own AWS rule). */
function expandedRuleKeys(a: Attributes, direction: "ingress" | "egress", live: LiveIndex): string[] {
  const group = live.securityGroupName.get(String(a.security_group_id ?? ""));
  const strings = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : []);
  const peers = [
    ...[...strings(a.cidr_blocks), ...strings(a.ipv6_cidr_blocks), ...strings(a.prefix_list_ids)].map(peerOf),
    ...[
      ...strings(a.security_groups),
      ...(typeof a.source_security_group_id === "string" && a.source_security_group_id
        ? [a.source_security_group_id]
        : []),
    ].map((id) => `sg:${live.securityGroupName.get(id) ?? id}`),
    ...(a.self === true ? [`sg:${group}`] : []),
  ];
  return peers
    .map((peer) =>
      ruleKey(
        direction,
        group,
        normalizeProtocol(typeof a.protocol === "string" ? a.protocol : undefined),
        a.from_port,
        a.to_port,
        peer,
      ),
    )
    .filter((k): k is string => !!k);
}

function classifyUnmatched(
  instance: TfInstance,
  why: string | undefined,
  plan: PlanIndex,
  live: LiveIndex,
  plannedRules: ReadonlyMap<string, string>,
): UnmatchedLive {
  const base = { address: instance.address, file: instance.file, tfType: instance.type };
  if (why) return { ...base, reason: why, action: "terraform state rm and keep" };
  if (instance.type === "aws_security_group_rule") {
    // One Terraform rule with several peers is several AWS rules: deleting it would revoke one the program plans.
    const direction = instance.attributes.type === "egress" ? "egress" : "ingress";
    const kept = expandedRuleKeys(instance.attributes, direction, live)
      .map((k) => plannedRules.get(k))
      .filter((n): n is string => !!n);
    if (kept.length > 0) {
      return {
        ...base,
        reason: `its AWS rules include ones the program plans (${kept.join(", ")}): destroying it would revoke them`,
        action: "terraform state rm and keep",
      };
    }
  }
  const nothing = NOTHING_TO_ADOPT[instance.type];
  if (nothing) return { ...base, reason: `nothing to adopt: ${nothing}`, action: "terraform state rm and keep" };
  const rules = rulesForTfType(instance.type);
  if (rules.length === 0)
    return {
      ...base,
      reason: `type ${instance.type} is unknown to the adoption table: the program does not manage it`,
      action: "leave in Terraform",
    };
  // aws_security_group_rule holds either direction: name the one it is.
  const types = rules
    .map((r) => r.pulumiType)
    .sort(
      (a, b) =>
        Number(!a.toLowerCase().includes(String(instance.attributes.type))) -
        Number(!b.toLowerCase().includes(String(instance.attributes.type))),
    );
  const name = liveName(instance.attributes);
  const what = name
    ? `no planned ${short(types[0])} is named ${name}`
    : `no planned ${short(types[0])} has its identity`;
  if (types.some((t) => STATEFUL_TYPES[t]?.protectRequired)) {
    return { ...base, reason: `${what}: it holds ${statefulHolds(types[0])}`, action: "terraform state rm and keep" };
  }
  if (instance.type === "aws_secretsmanager_secret_version") {
    return {
      ...base,
      reason: "the program writes no value to this secret: the value stays, filled out of band",
      action: "terraform state rm and keep",
    };
  }
  const planned = types.some((t) => (plan.byType.get(t) ?? []).length > 0);
  if (planned)
    return { ...base, reason: `${what}: the program's own resources take its place`, action: "delete after cut-over" };
  return { ...base, reason: `the program plans no ${short(types[0])}`, action: "leave in Terraform" };
}

function short(type: string): string {
  return type.split(":").pop() ?? type;
}

/** Words of a physical name that say what it is for, without the environment and naming noise. */
function stem(name: string): Set<string> {
  const noise = new Set([
    "dev",
    "stg",
    "lmn",
    "prd",
    "use1",
    "v2",
    "v3",
    "svc",
    "tsk",
    "ecs",
    "lambda",
    "secrets",
    "secret",
    "config",
    "bedrock",
    "alb",
    "ext",
    "int",
    "aws",
  ]);
  return new Set(
    name
      .toLowerCase()
      .split(/[^a-z0-9]+/)
      .filter((w) => w.length >= 3 && !noise.has(w)),
  );
}

function overlap(a: Set<string>, b: Set<string>): number {
  return [...a].filter((w) => b.has(w)).length;
}

/**
 * A live stateful or compute resource that nothing adopts, while the plan creates one of
 * the same kind and purpose: the new one starts empty (or both run at once).
 */
function leftBehindBlockers(
  unmatched: readonly TfInstance[],
  plannedOnly: readonly PlannedOnly[],
  plan: PlanIndex,
): Blocker[] {
  const out: Blocker[] = [];
  const plannedResources = plannedOnly
    .map((p) => (plan.byType.get(p.type) ?? []).find((r) => r.urn === p.urn))
    .filter((r): r is CapturedResource => !!r);
  for (const instance of unmatched) {
    const types = rulesForTfType(instance.type).map((r) => r.pulumiType);
    const type = types[0];
    if (!type) continue;
    const data = types.some((t) => STATEFUL_TYPES[t]?.protectRequired);
    const compute = COMPUTE.has(type);
    if (!data && !compute) continue;
    const name = liveName(instance.attributes);
    if (!name) continue;
    const words = stem(name);
    const kin = plannedResources.filter(
      (r) =>
        (data ? types.includes(r.type) : COMPUTE.has(r.type)) &&
        overlap(stem(physicalName(r) ?? ""), words) >= Math.min(2, words.size),
    );
    for (const r of kin) {
      out.push(
        data
          ? {
              urn: r.urn,
              address: instance.address,
              problem: `the program creates ${physicalName(r)} (${short(r.type)}) while the live ${name} (${instance.address}), which holds ${statefulHolds(r.type)}, is adopted by nothing: the new one starts empty`,
              fix: `name the planned resource ${name} (its config names key) so that it adopts the live one, or move the data and say so before deleting ${instance.address}`,
            }
          : {
              urn: r.urn,
              address: instance.address,
              problem: `the program runs ${physicalName(r)} (${short(r.type)}) while the live ${name} (${short(type)}, ${instance.address}) does the same job and is adopted by nothing: both would run until it is deleted`,
              fix: `make the program run ${name} as a ${short(type)} (so it adopts the live one), or stop ${instance.address} in the same change that starts ${physicalName(r)}`,
            },
      );
    }
  }
  return out;
}
