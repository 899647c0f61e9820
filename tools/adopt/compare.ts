/**
 * Compares a live Terraform instance with a planned resource on the planned resource's
 * input paths. Terraform attributes are snake_case and write every block as a list;
 * Pulumi inputs are camelCase, a block with at most one item is an object, and a list
 * block takes the plural name (`default_action` → `defaultActions`). The live value is
 * brought into the planned value's shape, then compared; which differences replace the
 * resource is the AWS provider's own facts (lib/force-new.ts).
 */
import { canonical, replacementReasons } from "../../lib/force-new";
import { isObject } from "./tfstate";

const SECURITY_GROUP_RULE = {
  cidrIpv4: "cidr_blocks",
  cidrIpv6: "ipv6_cidr_blocks",
  prefixListId: "prefix_list_ids",
  ipProtocol: "protocol",
  referencedSecurityGroupId: "source_security_group_id",
};

/** Pulumi input names that are not the camelCase of the Terraform attribute (tried first; the camelCase one next). */
const RENAMED: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  "aws:cloudwatch/metricAlarm:MetricAlarm": { name: "alarm_name" },
  "aws:lambda/function:Function": { name: "function_name" },
  "aws:lambda/permission:Permission": { function: "function_name" },
  "aws:route53/record:Record": { aliases: "alias" },
  "aws:lb/loadBalancer:LoadBalancer": { subnets: "subnets", securityGroups: "security_groups" },
  "aws:sqs/queue:Queue": { messageRetentionSeconds: "message_retention_seconds" },
  // A rule Terraform keeps as aws_security_group_rule (an aws_vpc_security_group_*_rule uses the plain names).
  "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": SECURITY_GROUP_RULE,
  "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": SECURITY_GROUP_RULE,
};

/** Inputs never compared: tags differ by design (Terraform's default tags vs the stack's), and assets are code. */
const NOT_COMPARED = new Set(["tags", "tagsAll", "code", "source", "content"]);

export interface Difference {
  readonly path: string;
  readonly live: unknown;
  readonly planned: unknown;
}

export interface Comparison {
  readonly differences: readonly Difference[];
  /** Planned inputs with no attribute of that name in the live instance (not compared). */
  readonly unknownAttributes: readonly string[];
  /** Replacement reasons, on the planned input paths. */
  readonly replacements: readonly { readonly path: string; readonly why?: string }[];
  /** The Terraform attribute each top-level compared path came from. */
  readonly sourceAttribute: ReadonlyMap<string, string>;
}

export function snake(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase();
}

/** Candidate Terraform names for a Pulumi input name (list blocks are plural in Pulumi). */
function candidates(key: string, renamed?: string): string[] {
  const base = snake(key);
  const out = renamed ? [renamed] : [];
  out.push(base);
  if (base.endsWith("ies")) out.push(`${base.slice(0, -3)}y`);
  if (base.endsWith("es")) out.push(base.slice(0, -2));
  if (base.endsWith("s")) out.push(base.slice(0, -1));
  return out;
}

function pick(
  live: Record<string, unknown>,
  key: string,
  renamed?: string,
): { name: string; value: unknown } | undefined {
  for (const name of candidates(key, renamed)) if (name in live) return { name, value: live[name] };
  return undefined;
}

/** The live value in the planned value's shape (only the keys the program sets). */
export function shapeLike(planned: unknown, live: unknown): unknown {
  if (typeof planned === "string" && typeof live !== "string") return live;
  if (isObject(planned)) {
    let node = live;
    if (Array.isArray(node) && node.length <= 1) node = node[0]; // a block with at most one item
    // A JSON document (a policy) is already in the API's shape, as the program writes it.
    if (typeof node === "string") return parseJson(node) ?? node;
    if (!isObject(node)) return node;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(planned)) {
      const found = pick(node, k);
      if (found) out[k] = shapeLike(v, found.value);
    }
    return out;
  }
  if (Array.isArray(planned)) {
    if (!Array.isArray(live)) return live === null || live === undefined ? [] : [live];
    const model = planned.find((p) => p !== undefined);
    return live.map((item) => (model === undefined ? item : shapeLike(model, item)));
  }
  return live;
}

function parseJson(text: string): unknown {
  if (!/^\s*[[{]/.test(text)) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isEmpty(v: unknown): boolean {
  return (
    v === undefined ||
    v === null ||
    v === "" ||
    (Array.isArray(v) && v.length === 0) ||
    (isObject(v) && Object.keys(v).length === 0)
  );
}

/** Values that AWS and Terraform write differently but mean the same: numbers as strings, a list of one for a scalar, key order, set order. */
export function sameMeaning(planned: unknown, live: unknown): boolean {
  if (isEmpty(planned) && isEmpty(live)) return true;
  if (typeof planned === "string" && typeof live === "string") {
    const p = parseJson(planned);
    const l = parseJson(live);
    if (p !== undefined && l !== undefined) return sameMeaning(p, l);
    return planned === live;
  }
  if (typeof planned === "string" && (isObject(live) || Array.isArray(live))) {
    const p = parseJson(planned);
    if (p !== undefined) return sameMeaning(p, live);
  }
  if ((isObject(planned) || Array.isArray(planned)) && typeof live === "string") {
    const l = parseJson(live);
    if (l !== undefined) return sameMeaning(planned, l);
  }
  if (Array.isArray(planned) && !Array.isArray(live)) return planned.length === 1 && sameMeaning(planned[0], live);
  if (!Array.isArray(planned) && Array.isArray(live)) return live.length === 1 && sameMeaning(planned, live[0]);
  if (Array.isArray(planned) && Array.isArray(live)) {
    if (planned.length !== live.length) return false;
    // Sets and lists alike: every planned element has a live one of the same meaning.
    const left = [...live];
    return planned.every((p) => {
      const i = left.findIndex((l) => sameMeaning(p, l));
      if (i < 0) return false;
      left.splice(i, 1);
      return true;
    });
  }
  if (isObject(planned) && isObject(live)) {
    const keys = new Set([...Object.keys(planned), ...Object.keys(live)]);
    return [...keys].every((k) => sameMeaning(planned[k], live[k]));
  }
  if (planned === undefined || live === undefined || planned === null || live === null)
    return isEmpty(planned) && isEmpty(live);
  return String(planned) === String(live);
}

/** The leaf paths where `planned` and `live` differ (objects descend; lists and scalars are leaves). */
function differences(path: string, planned: unknown, live: unknown, out: Difference[]): void {
  if (sameMeaning(planned, live)) return;
  if (isObject(planned) && isObject(live)) {
    for (const k of Object.keys(planned)) differences(`${path}.${k}`, planned[k], live[k], out);
    return;
  }
  out.push({ path, live, planned });
}

export function compare(
  type: string,
  plannedInputs: Readonly<Record<string, unknown>>,
  live: Readonly<Record<string, unknown>>,
  ignore: readonly string[],
): Comparison {
  const renamed = RENAMED[type] ?? {};
  const before: Record<string, unknown> = {};
  const after: Record<string, unknown> = {};
  const unknownAttributes: string[] = [];
  const sourceAttribute = new Map<string, string>();
  const found: Difference[] = [];
  for (const [key, value] of Object.entries(plannedInputs)) {
    if (NOT_COMPARED.has(key) || ignore.includes(key) || isAsset(value)) continue;
    const attr = pick(live as Record<string, unknown>, key, renamed[key]);
    if (!attr) {
      unknownAttributes.push(key);
      continue;
    }
    sourceAttribute.set(key, attr.name);
    const shaped = shapeLike(value, attr.value);
    before[key] = shaped;
    after[key] = value;
    differences(key, value, shaped, found);
  }
  // Only what differs can replace (the shapes may still differ in form where the meaning is
  // the same): the "before" is the plan itself, with the live value where they differ.
  const differing = new Set(found.map((d) => d.path.split(".")[0]));
  const liveWhereDiffering = Object.fromEntries(Object.entries(before).filter(([k]) => differing.has(k)));
  const replacements = replacementReasons(type, { ...after, ...liveWhereDiffering }, after).map((r) => ({
    path: r.path,
    ...(r.why ? { why: r.why } : {}),
  }));
  return { differences: found, unknownAttributes, replacements, sourceAttribute };
}

function isAsset(value: unknown): boolean {
  return isObject(value) && typeof value["4dabf18193072939515e22adb298388d"] === "string";
}

export { canonical };
