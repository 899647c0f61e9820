/**
 * Reads `Pulumi.yaml` and a stack file the way the Pulumi CLI does, so that the
 * offline plan feeds the program exactly what `pulumi up` would: project config
 * defaults applied, declared keys without a default required, values passed as
 * strings (objects as JSON), and every key holding a `secure:` value marked
 * secret. Ciphertext cannot be decrypted offline: it becomes a placeholder.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { ConfigError, ConfigIssue } from "../config/load";

export interface StackFileConfig {
  readonly project: string;
  readonly stack: string;
  readonly configFile: string;
  readonly config: Record<string, string>;
  readonly secretKeys: string[];
  /** The stack file's `secretsprovider:` (absent: the CLI would ask for a passphrase). */
  readonly secretsProvider?: string;
  /** Whether the stack file carries `encryptedkey:`, which only `pulumi stack init` (or change-secrets-provider) writes. */
  readonly hasEncryptedKey: boolean;
}

interface Declaration {
  readonly type?: string;
  readonly default?: unknown;
  readonly secret?: boolean;
}

export function readStackConfig(root: string, stack: string, configFile?: string): StackFileConfig {
  const projectFile = path.join(root, "Pulumi.yaml");
  const project = parse(readFileSync(projectFile, "utf8")) as { name?: string; config?: Record<string, unknown> };
  if (!project?.name) throw new Error(`${projectFile} has no project name`);
  const ns = project.name;
  const file = configFile ? path.resolve(configFile) : path.join(root, `Pulumi.${stack}.yaml`);
  let stackDoc: { config?: Record<string, unknown>; secretsprovider?: unknown; encryptedkey?: unknown } | null;
  try {
    stackDoc = parse(readFileSync(file, "utf8")) as typeof stackDoc;
  } catch (err) {
    throw new Error(`cannot read the config of stack "${stack}" from ${file}: ${(err as Error).message}`);
  }

  const config: Record<string, string> = {};
  const secretKeys = new Set<string>();
  const issues: ConfigIssue[] = [];
  const declarations = new Map<string, Declaration>();

  for (const [key, value] of Object.entries(project.config ?? {})) {
    if (key.includes(":") && !key.startsWith(`${ns}:`)) {
      // Another namespace (`aws:region`): a project-wide value.
      config[key] = toConfigString(key, value, secretKeys);
      continue;
    }
    const name = key.startsWith(`${ns}:`) ? key.slice(ns.length + 1) : key;
    const decl: Declaration =
      value && typeof value === "object" && !Array.isArray(value) ? (value as Declaration) : { default: value };
    declarations.set(name, decl);
    if (decl.default !== undefined) config[`${ns}:${name}`] = toConfigString(`${ns}:${name}`, decl.default, secretKeys);
  }

  for (const [key, value] of Object.entries(stackDoc?.config ?? {})) {
    const full = key.includes(":") ? key : `${ns}:${key}`;
    secretKeys.delete(full);
    config[full] = toConfigString(full, value, secretKeys);
  }

  for (const [name, decl] of declarations) {
    const full = `${ns}:${name}`;
    const value = config[full];
    if (value === undefined) {
      issues.push({
        key: full,
        message: `required: Pulumi.yaml declares it without a default (set it in ${path.basename(file)})`,
      });
      continue;
    }
    if (decl.type === "integer" && !/^-?\d+$/.test(value))
      issues.push({ key: full, message: `expected an integer (Pulumi.yaml), got ${value}` });
    if (decl.type === "boolean" && !/^(true|false)$/.test(value))
      issues.push({ key: full, message: `expected a boolean (Pulumi.yaml), got ${value}` });
  }
  if (issues.length > 0) throw new ConfigError(issues);

  return {
    project: ns,
    stack,
    configFile: file,
    config,
    secretKeys: [...secretKeys].sort(),
    ...(typeof stackDoc?.secretsprovider === "string" ? { secretsProvider: stackDoc.secretsprovider } : {}),
    hasEncryptedKey: typeof stackDoc?.encryptedkey === "string" && stackDoc.encryptedkey.length > 0,
  };
}

function isSecure(value: unknown): value is { secure: string } {
  return (
    !!value &&
    typeof value === "object" &&
    !Array.isArray(value) &&
    Object.keys(value).length === 1 &&
    typeof (value as { secure?: unknown }).secure === "string"
  );
}

/** The CLI's rendering of a config value; nested `secure:` values make the whole key secret. */
function toConfigString(key: string, value: unknown, secretKeys: Set<string>): string {
  let secret = false;
  const replace = (v: unknown): unknown => {
    if (isSecure(v)) {
      secret = true;
      return `offline-placeholder-for-${key.split(":").pop()}`;
    }
    if (Array.isArray(v)) return v.map(replace);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, replace(x)]));
    return v;
  };
  const plain = replace(value);
  if (secret) secretKeys.add(key);
  return typeof plain === "string"
    ? plain
    : typeof plain === "object" && plain !== null
      ? JSON.stringify(plain)
      : String(plain);
}
