/**
 * Generates the configuration reference (docs/configuration.md) from the zod schema
 * (config/schema.ts): one table per top-level key, every key by its full path
 * (`lumerin-infra:proxyRouter.router.cpu`, as errors name it), with its type,
 * default, whether it is required, whether it is a secret, and the field's
 * description (`.describe()`, the same text as its JSDoc).
 *
 *   npm run config-doc               rewrite the block between the markers in docs/configuration.md
 *   npm run config-doc -- --check    exit 1 when docs/configuration.md differs from what would be generated
 *
 * Only the text between `<!-- config:start -->` and `<!-- config:end -->` is
 * ever touched. The output depends on the schema alone (deterministic).
 */
import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { z } from "zod";
import { PROJECT } from "../config/load";
import { FARGATE_SIZES, SECRET_KEYS, StackConfigSchema } from "../config/schema";

export const START_MARKER = "<!-- config:start -->";
export const END_MARKER = "<!-- config:end -->";
export const README = path.resolve(__dirname, "..", "docs", "configuration.md");
export const STALE_MESSAGE = "docs/configuration.md is stale; run npm run config-doc";

/** One documented key. */
export interface ConfigRow {
  /** Full key, e.g. `lumerin-infra:proxyRouter.router.cpu`. */
  readonly key: string;
  readonly type: string;
  /** The default as JSON, or undefined when there is none. */
  readonly default?: string;
  /** `yes`, `no`, or `yes (mode `existing`)` inside a discriminated union's variant. */
  readonly required: string;
  readonly secret: boolean;
  readonly description: string;
}

/** One table: a heading and its rows. */
export interface ConfigTable {
  readonly title: string;
  readonly intro?: string;
  readonly rows: readonly ConfigRow[];
}

// ---------------------------------------------------------------- reading zod 4 schemas

interface Def {
  type: string;
  innerType?: z.ZodType;
  defaultValue?: unknown;
  shape?: Record<string, z.ZodType>;
  options?: z.ZodType[];
  discriminator?: string;
  element?: z.ZodType;
  keyType?: z.ZodType;
  valueType?: z.ZodType;
  entries?: Record<string, string | number>;
  values?: unknown[];
  checks?: { _zod: { def: CheckDef } }[];
  format?: string;
  in?: z.ZodType;
}

interface CheckDef {
  check: string;
  format?: string;
  value?: number;
  inclusive?: boolean;
  minimum?: number;
  maximum?: number;
  error?: (issue: unknown) => unknown;
}

function defOf(schema: z.ZodType): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def;
}

/** A field with its wrappers (optional, default, prefault) peeled off. */
interface Field {
  readonly description: string;
  readonly optional: boolean;
  readonly default?: unknown;
  readonly hasDefault: boolean;
  readonly core: z.ZodType;
}

function unwrap(schema: z.ZodType): Field {
  const description = schema.description ?? "";
  let optional = false;
  let hasDefault = false;
  let dflt: unknown;
  let s = schema;
  for (;;) {
    const def = defOf(s);
    if (def.type === "optional" || def.type === "nullable") {
      optional = true;
    } else if (def.type === "default" || def.type === "prefault") {
      if (!hasDefault) {
        hasDefault = true;
        dflt = def.defaultValue;
      }
    } else if (def.type === "pipe") {
      s = def.in as z.ZodType;
      continue;
    } else {
      break;
    }
    s = def.innerType as z.ZodType;
  }
  return { description: description || (s.description ?? ""), optional, hasDefault, default: dflt, core: s };
}

/** The first check's own message ("expected ..."), which the schema writes for people. */
function checkMessage(def: Def): string | undefined {
  for (const check of def.checks ?? []) {
    const error = check._zod.def.error;
    if (typeof error !== "function") continue;
    const message = error({});
    if (typeof message === "string" && message) return message.replace(/^expected /, "");
  }
  return undefined;
}

function code(value: string): string {
  return `\`${value}\``;
}

/** A readable type, with the allowed values where the schema lists them. */
export function typeOf(schema: z.ZodType): string {
  const def = defOf(schema);
  switch (def.type) {
    case "string": {
      const checks = (def.checks ?? []).map((c) => c._zod.def);
      if (def.format === "url") return "string: a URL";
      const hint = checkMessage(def);
      const nonEmpty = checks.some((c) => c.check === "min_length" && (c.minimum ?? 0) >= 1);
      if (hint && !checks.every((c) => c.check === "min_length")) return `string: ${hint}`;
      return nonEmpty ? "non-empty string" : "string";
    }
    case "number": {
      const checks = (def.checks ?? []).map((c) => c._zod.def);
      const integer = checks.some(
        (c) => c.check === "number_format" && (c.format === "safeint" || c.format === "int32"),
      );
      const base = integer ? "integer" : "number";
      const custom = checks.some((c) => c.check === "custom") ? checkMessage(def) : undefined;
      if (custom) return `${base}: ${custom}`;
      const min = checks.find((c) => c.check === "greater_than")?.value;
      const max = checks.find((c) => c.check === "less_than")?.value;
      if (min !== undefined && max !== undefined) return `${base}, ${min} to ${max}`;
      if (min !== undefined) return `${base}, at least ${min}`;
      if (max !== undefined) return `${base}, at most ${max}`;
      return base;
    }
    case "boolean":
      return "boolean";
    case "enum":
      return `one of ${Object.values(def.entries ?? {})
        .map((v) => code(String(v)))
        .join(", ")}`;
    case "literal":
      return (def.values ?? []).map((v) => code(String(v))).join(", ");
    case "array": {
      const min = (def.checks ?? []).map((c) => c._zod.def).find((c) => c.check === "min_length")?.minimum;
      const element = typeOf(unwrap(def.element as z.ZodType).core);
      return `list${min ? ` (at least ${min})` : ""} of ${element}`;
    }
    case "record": {
      const key = typeOf(def.keyType as z.ZodType).replace(/^string: /, "");
      return `map: ${key} → ${typeOf(unwrap(def.valueType as z.ZodType).core)}`;
    }
    case "object":
      return "object";
    case "union":
      return def.discriminator
        ? `object, by ${code(def.discriminator)}: ${modes(def)
            .map((m) => code(m.value))
            .join(" or ")}`
        : (def.options ?? []).map((o) => typeOf(unwrap(o).core)).join(" or ");
    default:
      return def.type;
  }
}

interface Mode {
  readonly value: string;
  readonly schema: z.ZodType;
  readonly description: string;
}

function modes(def: Def): Mode[] {
  const discriminator = def.discriminator as string;
  return (def.options ?? []).map((option) => {
    const field = unwrap(defOf(option).shape?.[discriminator] as z.ZodType);
    return { value: String(defOf(field.core).values?.[0]), schema: option, description: field.description };
  });
}

/** Whether an object field is big enough for its own table (it holds objects itself). */
function holdsObjects(schema: z.ZodType): boolean {
  const def = defOf(schema);
  return (
    def.type === "object" && Object.values(def.shape ?? {}).some((child) => defOf(unwrap(child).core).type === "object")
  );
}

// ---------------------------------------------------------------- rows and tables

const SECRET_NAMES = new Set(Object.keys(SECRET_KEYS));

function row(
  key: string,
  field: Field,
  extra: { secret?: boolean; required?: string; prefix?: string } = {},
): ConfigRow {
  const required = !field.hasDefault && !field.optional;
  return {
    key,
    type: typeOf(field.core),
    ...(field.hasDefault ? { default: JSON.stringify(field.default) } : {}),
    required: required ? (extra.required ?? "yes") : "no",
    secret: extra.secret ?? false,
    description: `${extra.prefix ?? ""}${field.description}`,
  };
}

/** Rows for `schema` at `key` and everything under it, except object fields that get their own table. */
function rowsOf(
  key: string,
  schema: z.ZodType,
  out: ConfigRow[],
  split: (key: string, schema: z.ZodType) => boolean,
  mode?: Mode,
): void {
  const field = unwrap(schema);
  const prefix = mode ? `(${code(`mode: ${mode.value}`)}) ` : "";
  const required = mode ? `yes (${code(`mode: ${mode.value}`)})` : undefined;
  const def = defOf(field.core);
  out.push(row(key, field, { prefix, required }));
  if (def.type === "object") {
    for (const [name, child] of Object.entries(def.shape ?? {})) {
      const childKey = `${key}.${name}`;
      // The field as declared (wrappers included): its description sits on the outermost wrapper.
      if (split(childKey, child)) {
        const own = row(childKey, unwrap(child), { prefix, required });
        out.push({ ...own, description: `${own.description} Its keys: the ${code(childKey)} table.` });
      } else {
        rowsOf(childKey, child, out, split, mode);
      }
    }
  } else if (def.type === "union" && def.discriminator) {
    const all = modes(def);
    out.push({
      key: `${key}.${def.discriminator}`,
      type: all.map((m) => code(m.value)).join(" or "),
      required: "yes",
      secret: false,
      description: all.map((m) => `${code(m.value)}: ${m.description}`).join(" "),
    });
    for (const m of all) {
      for (const [name, child] of Object.entries(defOf(m.schema).shape ?? {})) {
        if (name === def.discriminator) continue;
        rowsOf(`${key}.${name}`, child, out, split, m);
      }
    }
  } else if (def.type === "array" && defOf(unwrap(def.element as z.ZodType).core).type === "object") {
    const element = unwrap(def.element as z.ZodType).core;
    for (const [name, child] of Object.entries(defOf(element).shape ?? {}))
      rowsOf(`${key}[].${name}`, child, out, split, mode);
  }
}

/** `cpu` and `memory` are checked together: the sizes Fargate accepts. */
function fargateNote(): string {
  const sizes = Object.entries(FARGATE_SIZES).map(([cpu, memory]) => {
    const step = memory.length > 3 ? memory[1] - memory[0] : 0;
    const evenly = step > 0 && memory.every((m, i) => i === 0 || m - memory[i - 1] === step);
    const list = evenly ? `${memory[0]} to ${memory[memory.length - 1]} in steps of ${step}` : memory.join(", ");
    return `${cpu} → ${list}`;
  });
  return `\`memory\` must be a size Fargate accepts with \`cpu\` (MiB per CPU units: ${sizes.join("; ")}), and \`stratumPort\` must differ from \`webPort\`.`;
}

/** The tables of the reference, in schema order. */
export function configTables(): ConfigTable[] {
  const ns = `${PROJECT}:`;
  const shape = defOf(StackConfigSchema).shape ?? {};
  const stackRows: ConfigRow[] = [
    {
      key: "aws:region",
      type: "string: an AWS region such as us-east-1",
      required: "yes",
      secret: false,
      description:
        "AWS region of every resource. Outside the `lumerin-infra:` namespace: `pulumi config set aws:region us-east-1`.",
    },
  ];
  const secretRows: ConfigRow[] = [];
  const objectTables: ConfigTable[] = [];

  const tableFor = (key: string, schema: z.ZodType, title = key): void => {
    const rows: ConfigRow[] = [];
    const nested: [string, z.ZodType][] = [];
    // The root of a table is split off from its parent; its children may be split off in turn.
    const split = (childKey: string, child: z.ZodType): boolean => {
      if (childKey === key || !holdsObjects(unwrap(child).core)) return false;
      nested.push([childKey, child]);
      return true;
    };
    rowsOf(key, schema, rows, split);
    const sized = rows.some((r) => r.key === `${key}.cpu`) && rows.some((r) => r.key === `${key}.memory`);
    objectTables.push({ title, rows, ...(sized ? { intro: fargateNote() } : {}) });
    for (const [childKey, child] of nested) tableFor(childKey, child);
  };

  for (const [name, schema] of Object.entries(shape)) {
    const key = `${ns}${name}`;
    const kind = defOf(unwrap(schema).core).type;
    if (SECRET_NAMES.has(name)) secretRows.push(row(key, unwrap(schema), { secret: true }));
    else if (kind === "object" || kind === "union") tableFor(key, schema);
    else stackRows.push(row(key, unwrap(schema)));
  }

  return [
    { title: "Stack", rows: stackRows },
    ...objectTables,
    {
      title: "Secret keys",
      intro:
        "Each secret is its own top-level key (the CLI marks secrecy per top-level key), set with " +
        "`pulumi config set --secret <key> <value>`; a value stored in plain text is refused. Set every key of one " +
        "Secrets Manager secret, or none of them and fill that secret out of band.",
      rows: secretRows,
    },
  ];
}

/** Every documented key, in table order. */
export function configRows(): ConfigRow[] {
  return configTables().flatMap((t) => t.rows);
}

// ---------------------------------------------------------------- Markdown

function cell(text: string): string {
  return text.replace(/\r?\n/g, " ").replace(/\|/g, "\\|");
}

function renderTable(table: ConfigTable): string {
  const heading = table.title.includes(":") ? code(table.title) : table.title;
  const lines = [`### ${heading}`, ""];
  if (table.intro) lines.push(table.intro, "");
  lines.push("| Key | Type | Default | Required | Secret | Description |", "| --- | --- | --- | --- | --- | --- |");
  for (const r of table.rows) {
    lines.push(
      `| ${[
        code(r.key),
        r.type,
        r.default === undefined ? "" : code(r.default),
        r.required,
        r.secret ? "**yes**" : "no",
        r.description,
      ]
        .map(cell)
        .join(" | ")} |`,
    );
  }
  return lines.join("\n");
}

/** The generated block, without the markers. */
export function renderConfigReference(): string {
  const intro = [
    "<!-- Generated from config/schema.ts by `npm run config-doc`; edit the schema, not this table. -->",
    "",
    "Every key lives in the `lumerin-infra:` namespace except `aws:region`. A key with a default may be left out;",
    "`Required: yes` keys must be set in `Pulumi.<stack>.yaml`. Objects and lists are written as YAML in the stack file.",
  ];
  return [
    ...intro,
    "",
    ...configTables()
      .map(renderTable)
      .flatMap((t) => [t, ""]),
  ].join("\n");
}

/** `readme` with the text between the markers replaced by `block`. */
export function replaceConfigBlock(readme: string, block: string): string {
  const start = readme.indexOf(START_MARKER);
  const end = readme.indexOf(END_MARKER);
  if (start < 0 || end < 0 || end < start) {
    throw new Error(`the reference must contain ${START_MARKER} followed by ${END_MARKER}`);
  }
  return `${readme.slice(0, start + START_MARKER.length)}\n${block.replace(/\n*$/, "\n")}${readme.slice(end)}`;
}

export function main(argv: readonly string[], readmePath: string = README): number {
  const unknown = argv.filter((a) => a !== "--check");
  if (unknown.length > 0) {
    console.error(`unknown argument ${unknown[0]}; usage: npm run config-doc [-- --check]`);
    return 2;
  }
  let current: string;
  let wanted: string;
  try {
    current = readFileSync(readmePath, "utf8");
    wanted = replaceConfigBlock(current, renderConfigReference());
  } catch (err) {
    console.error(`config-doc: ${(err as Error).message}`);
    return 2;
  }
  if (argv.includes("--check")) {
    if (current !== wanted) {
      console.error(STALE_MESSAGE);
      return 1;
    }
    console.log("docs/configuration.md is up to date");
    return 0;
  }
  if (current !== wanted) writeFileSync(readmePath, wanted);
  console.log(
    `${current === wanted ? "unchanged" : "wrote"} ${path.relative(process.cwd(), readmePath) || readmePath} (${configRows().length} keys)`,
  );
  return 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
