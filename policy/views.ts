/** Resource views from each place the pack runs: an offline plan, a stack export, the CLI. */
import type { ResourceView } from "./rules/model";

/** The plan JSON's resource entries (tools/harness.ts), structurally. */
export interface PlannedResource {
  readonly urn: string;
  readonly id: string | null;
  readonly type: string;
  readonly name: string;
  readonly custom: boolean;
  readonly inputs: Record<string, unknown>;
  readonly outputs: Record<string, unknown>;
  readonly secretInputs: readonly string[];
  readonly options: { readonly protect: boolean };
}

export interface PlannedStack {
  readonly stack: string;
  readonly project: string;
  readonly resources: readonly PlannedResource[];
  readonly outputs: Record<string, unknown>;
}

export function viewsFromPlan(plan: PlannedStack): ResourceView[] {
  const views: ResourceView[] = plan.resources
    .filter((r) => r.custom)
    .map((r) => ({
      type: r.type,
      name: r.name,
      urn: r.urn,
      props: r.inputs,
      outputs: r.id ? { id: r.id, ...r.outputs } : r.outputs,
      secretPaths: new Set(r.secretInputs),
      protect: r.options.protect,
    }));
  // The plan masks secret outputs; a masked output is a secret output.
  const secretOutputs = new Set<string>();
  collectMasked(plan.outputs, "", secretOutputs);
  views.push(stackView(plan.stack, plan.project, plan.outputs, secretOutputs));
  return views;
}

const MASK = "[secret]";

function collectMasked(value: unknown, path: string, into: Set<string>): void {
  if (value === MASK) into.add(path);
  else if (Array.isArray(value)) value.forEach((v, i) => collectMasked(v, path ? `${path}.${i}` : String(i), into));
  else if (value && typeof value === "object")
    for (const [k, v] of Object.entries(value)) collectMasked(v, path ? `${path}.${k}` : k, into);
}

function stackView(
  stack: string,
  project: string,
  outputs: Record<string, unknown>,
  secretPaths: Set<string>,
): ResourceView {
  return {
    type: "pulumi:pulumi:Stack",
    name: `${project}-${stack}`,
    urn: `urn:pulumi:${stack}::${project}::pulumi:pulumi:Stack::${project}-${stack}`,
    props: outputs,
    outputs,
    secretPaths,
    protect: false,
  };
}

const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** Unwraps a state value, recording the paths of secrets (ciphertext or plaintext alike become a placeholder). */
function unwrapState(value: unknown, path: string, secrets: Set<string>): unknown {
  if (Array.isArray(value)) return value.map((v, i) => unwrapState(v, path ? `${path}.${i}` : String(i), secrets));
  if (value && typeof value === "object") {
    const obj = value as Record<string, unknown>;
    if (obj[SECRET_SIG_KEY] === SECRET_SIG) {
      secrets.add(path);
      return "[secret]";
    }
    return Object.fromEntries(
      Object.entries(obj).map(([k, v]) => [k, unwrapState(v, path ? `${path}.${k}` : k, secrets)]),
    );
  }
  return value;
}

interface ExportedResource {
  urn: string;
  id?: string;
  type: string;
  custom?: boolean;
  inputs?: Record<string, unknown>;
  outputs?: Record<string, unknown>;
  protect?: boolean;
  delete?: boolean;
}

/** Views of a `pulumi stack export` file (deployment version 3). */
export function viewsFromExport(exported: unknown): { stack: string; views: ResourceView[] } {
  const doc = exported as { version?: number; deployment?: { resources?: ExportedResource[] } };
  if (doc?.version !== 3 || !Array.isArray(doc.deployment?.resources)) {
    throw new Error(`not a Pulumi stack export of deployment version 3 (found version ${String(doc?.version)})`);
  }
  const resources = doc.deployment.resources.filter((r) => !r.delete && !r.type.startsWith("pulumi:providers:"));
  const stackResource = resources.find((r) => r.type === "pulumi:pulumi:Stack");
  const stack = (stackResource?.urn ?? resources[0]?.urn ?? "urn:pulumi:unknown::")
    .split("::")[0]
    .replace(/^urn:pulumi:/, "");
  const views = resources
    .filter((r) => r.custom !== false || r.type === "pulumi:pulumi:Stack")
    .map((r): ResourceView => {
      const secretPaths = new Set<string>();
      const source = r.type === "pulumi:pulumi:Stack" ? (r.outputs ?? {}) : (r.inputs ?? {});
      const props = unwrapState(source, "", secretPaths) as Record<string, unknown>;
      const outputs = unwrapState({ ...(r.id ? { id: r.id } : {}), ...(r.outputs ?? {}) }, "", new Set()) as Record<
        string,
        unknown
      >;
      return {
        type: r.type,
        name: r.urn.split("::").pop() ?? r.urn,
        urn: r.urn,
        props,
        outputs,
        secretPaths,
        protect: r.protect === true,
      };
    });
  return { stack, views };
}
