/**
 * Reads Terraform state files (format version 4, as `terraform state pull` prints them)
 * into resource instances. Nothing here prints or keeps a value outside the instances:
 * the caller decides what is safe to show (see `sensitiveValues`).
 */
import { readFileSync } from "node:fs";
import { isSecretLookingName, secretLookingValue } from "../../lib/secret-patterns";

export type Attributes = Readonly<Record<string, unknown>>;

export interface TfInstance {
  /** The state file it came from. */
  readonly file: string;
  /** `module.x.aws_lb.this["a"]`, as Terraform prints it. */
  readonly address: string;
  readonly mode: "managed" | "data";
  readonly type: string;
  readonly name: string;
  /** `provider["registry.terraform.io/hashicorp/aws"].alias`. */
  readonly provider: string;
  /** The provider's alias, when the resource uses one. */
  readonly providerAlias?: string;
  readonly attributes: Attributes;
  /** Paths of attributes Terraform marks sensitive, each as a list of keys and indexes. */
  readonly sensitivePaths: readonly (readonly (string | number)[])[];
}

export interface TfSource {
  readonly file: string;
  readonly lineage: string;
  readonly serial: number;
  readonly terraformVersion: string;
  readonly managed: readonly TfInstance[];
  readonly data: readonly TfInstance[];
}

/** A state file the tool refuses: the message names the file and the cause. */
export class TfStateError extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: ${reason}`);
    this.name = "TfStateError";
  }
}

export function readTfState(file: string): TfSource {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new TfStateError(
      file,
      `cannot read the file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    // The parser's message quotes the text around the error, which may be a secret: never repeat it.
    throw new TfStateError(file, "not JSON: expected the output of `terraform state pull`");
  }
  return parseTfState(file, doc);
}

export function parseTfState(file: string, doc: unknown): TfSource {
  if (!isObject(doc)) throw new TfStateError(file, "not a Terraform state: expected a JSON object");
  if (doc.version !== 4) {
    const seen = doc.version === undefined ? "no version" : `version ${JSON.stringify(doc.version)}`;
    throw new TfStateError(
      file,
      `unsupported state format: ${seen}; expected version 4 (Terraform 0.12 or later, \`terraform state pull\`)`,
    );
  }
  if (typeof doc.lineage !== "string" || doc.lineage === "")
    throw new TfStateError(file, "malformed state: no lineage");
  if (typeof doc.serial !== "number") throw new TfStateError(file, "malformed state: no serial");
  if (!Array.isArray(doc.resources)) throw new TfStateError(file, "malformed state: `resources` is not a list");

  const managed: TfInstance[] = [];
  const data: TfInstance[] = [];
  doc.resources.forEach((resource: unknown, i: number) => {
    const where = `resources[${i}]`;
    if (!isObject(resource)) throw new TfStateError(file, `malformed resource ${where}: not an object`);
    const { mode, type, name, provider, instances } = resource;
    if (mode !== "managed" && mode !== "data")
      throw new TfStateError(file, `malformed resource ${where}: mode must be "managed" or "data"`);
    if (typeof type !== "string" || type === "") throw new TfStateError(file, `malformed resource ${where}: no type`);
    if (typeof name !== "string" || name === "")
      throw new TfStateError(file, `malformed resource ${where} (${type}): no name`);
    if (typeof provider !== "string")
      throw new TfStateError(file, `malformed resource ${where} (${type}.${name}): no provider`);
    if (!Array.isArray(instances))
      throw new TfStateError(file, `malformed resource ${where} (${type}.${name}): \`instances\` is not a list`);
    const module = typeof resource.module === "string" && resource.module ? `${resource.module}.` : "";
    const base = `${module}${mode === "data" ? "data." : ""}${type}.${name}`;
    instances.forEach((instance: unknown, j: number) => {
      if (!isObject(instance) || !isObject(instance.attributes)) {
        throw new TfStateError(file, `malformed resource ${base} (instance ${j}): no \`attributes\` object`);
      }
      const key = instance.index_key;
      const address =
        key === undefined ? base : typeof key === "number" ? `${base}[${key}]` : `${base}[${JSON.stringify(key)}]`;
      const alias = /\]\.([A-Za-z0-9_-]+)$/.exec(provider)?.[1];
      const parsed: TfInstance = {
        file,
        address,
        mode,
        type,
        name,
        provider,
        ...(alias ? { providerAlias: alias } : {}),
        attributes: instance.attributes,
        sensitivePaths: sensitivePaths(instance.sensitive_attributes),
      };
      (mode === "managed" ? managed : data).push(parsed);
    });
  });
  return {
    file,
    lineage: doc.lineage,
    serial: doc.serial,
    terraformVersion: String(doc.terraform_version ?? "unknown"),
    managed,
    data,
  };
}

/** Terraform writes each sensitive path as a list of steps (`get_attr` names, `index` keys). */
function sensitivePaths(raw: unknown): (string | number)[][] {
  if (!Array.isArray(raw)) return [];
  const paths: (string | number)[][] = [];
  for (const path of raw) {
    if (!Array.isArray(path)) continue;
    const steps: (string | number)[] = [];
    for (const step of path) {
      if (!isObject(step)) continue;
      const value = step.value;
      if (isObject(value) && "value" in value)
        steps.push(value.value as string | number); // index steps: {"value": {"value": k, "type": ...}}
      else if (typeof value === "string" || typeof value === "number") steps.push(value);
    }
    if (steps.length > 0) paths.push(steps);
  }
  return paths;
}

/**
 * Attributes that hold secrets whatever Terraform marks, and the part of each that is
 * secret: a secret's value, passwords and keys entirely; of an environment (a Lambda's
 * variables, a container's `environment`), the values a name or a value shows to be a
 * secret (today's Lambdas carry RPC URLs with their API keys there, in plain text).
 * These attributes are never shown, whole or in part.
 */
const SECRET_ATTRIBUTES: Readonly<Record<string, (value: unknown) => unknown>> = {
  secret_string: (v) => v,
  secret_binary: (v) => v,
  secret_string_wo: (v) => v,
  password: (v) => v,
  password_wo: (v) => v,
  private_key: (v) => v,
  user_data: (v) => v,
  environment: (v) =>
    Array.isArray(v)
      ? v.map((block) =>
          isObject(block) && isObject(block.variables) ? secretEntries(Object.entries(block.variables)) : undefined,
        )
      : undefined,
  container_definitions: (v) => {
    const defs = typeof v === "string" ? tryJson(v) : v;
    if (!Array.isArray(defs)) return undefined;
    return defs.map((d) =>
      isObject(d) && Array.isArray(d.environment)
        ? secretEntries(d.environment.filter(isObject).map((e) => [String(e.name ?? ""), e.value] as [string, unknown]))
        : undefined,
    );
  },
};

function secretEntries(entries: readonly [string, unknown][]): unknown[] {
  return entries
    .filter(
      ([name, value]) =>
        isSecretLookingName(name) || (typeof value === "string" && secretLookingValue(value) !== undefined),
    )
    .map(([, value]) => value);
}

/** Shorter strings ("true", "info") are not worth scrubbing and would garble the report. */
const MIN_SECRET_LENGTH = 8;

/** Every value a state holds in a sensitive place: scrubbed from every output of the tool. */
export function sensitiveValues(sources: readonly TfSource[]): Set<string> {
  const found = new Set<string>();
  const add = (value: string): void => {
    if (value.length >= MIN_SECRET_LENGTH) found.add(value);
  };
  // A sensitive value: all of it, and every leaf of it. Inside a JSON document (a secret's
  // string), the leaves that are secrets by name or value: a secret may also hold plain
  // deployment facts (a bucket name, a region) that the report must be able to show.
  const collect = (value: unknown): void => {
    if (typeof value === "string") {
      add(value);
      const parsed = /^\s*[[{]/.test(value) ? tryJson(value) : undefined;
      if (parsed !== undefined) collectSecretLeaves(parsed, "", add);
    } else if (Array.isArray(value)) value.forEach(collect);
    else if (isObject(value)) Object.values(value).forEach(collect);
    else if (typeof value === "number") add(String(value));
  };
  for (const source of sources) {
    for (const instance of [...source.managed, ...source.data]) {
      for (const path of instance.sensitivePaths) collect(at(instance.attributes, path));
      for (const [name, pick] of Object.entries(SECRET_ATTRIBUTES))
        if (name in instance.attributes) collect(pick(instance.attributes[name]));
    }
  }
  return found;
}

/** A URL with a path or query: node and subgraph URLs carry their API key there. */
const URL_WITH_PATH = /^[a-z][a-z0-9+.-]*:\/\/[^/?#\s]+[/?#]\S+/i;

function collectSecretLeaves(value: unknown, name: string, add: (v: string) => void): void {
  if (Array.isArray(value)) value.forEach((v) => collectSecretLeaves(v, name, add));
  else if (isObject(value)) for (const [k, v] of Object.entries(value)) collectSecretLeaves(v, k, add);
  else if (value !== null && value !== undefined) {
    const text = String(value);
    if (isSecretLookingName(name) || secretLookingValue(text) !== undefined || URL_WITH_PATH.test(text)) add(text);
  }
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** True when `path` (attribute steps) is, or lies inside, a sensitive attribute of the instance. */
export function isSensitive(instance: TfInstance, attribute: string): boolean {
  return attribute in SECRET_ATTRIBUTES || instance.sensitivePaths.some((p) => p[0] === attribute);
}

function at(value: unknown, path: readonly (string | number)[]): unknown {
  let node = value;
  for (const step of path) {
    if (Array.isArray(node) && typeof step === "number") node = node[step];
    else if (isObject(node)) node = node[String(step)];
    else return undefined;
  }
  return node;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return !!value && typeof value === "object" && !Array.isArray(value);
}
