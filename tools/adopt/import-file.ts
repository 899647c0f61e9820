/**
 * The `pulumi import --file` document for an adoption (Pulumi CLI 3.276, the version in
 * .pulumi-version). Its schema is the CLI's `importFile`: `nameTable` (name → URN of a
 * resource already in the stack) and `resources`, each with `type`, `name` (unique in
 * the file; parents and providers refer to it), `id`, and optionally `logicalName` (the
 * program's name, when `name` differs), `parent`, `provider`, `version`, `component`
 * (an empty component the import creates as a parent) and `inputs` (a provider declared
 * in the file is created with these inputs, and takes no id). The engine builds each URN
 * from the parent's type chain and the logical name, so an imported resource gets the URN
 * the program registers.
 */
import type { CapturedResource, Plan } from "../harness";
import type { AdoptReport } from "./adopt";

export interface ImportSpec {
  readonly type: string;
  readonly name: string;
  readonly id?: string;
  readonly logicalName?: string;
  readonly parent?: string;
  readonly provider?: string;
  readonly version?: string;
  readonly component?: true;
  readonly inputs?: Readonly<Record<string, unknown>>;
}

export interface ImportFile {
  readonly nameTable: Readonly<Record<string, string>>;
  readonly resources: readonly ImportSpec[];
}

export interface ImportOptions {
  /** The @pulumi/aws plugin version the program uses (its package.json). */
  readonly awsVersion: string;
}

export function buildImportFile(plan: Plan, report: AdoptReport, options: ImportOptions): ImportFile {
  const byUrn = new Map(plan.resources.map((r) => [r.urn, r]));
  const stackUrn = stackUrnOf(plan);
  const imports: { resource: CapturedResource; id: string }[] = [
    ...report.matches.map((m) => ({ resource: byUrn.get(m.urn) as CapturedResource, id: m.importId })),
    ...report.plannedOnly
      .filter((p) => p.importId)
      .map((p) => ({ resource: byUrn.get(p.urn) as CapturedResource, id: p.importId as string })),
  ].filter((i) => i.resource);

  // Every component above an imported resource, outermost first, and every explicit provider it uses.
  const components: CapturedResource[] = [];
  const seen = new Set<string>();
  const addAncestors = (urn: string): void => {
    const r = byUrn.get(urn);
    if (!r || r.urn === stackUrn || seen.has(urn)) return;
    addAncestors(r.parent);
    seen.add(urn);
    components.push(r);
  };
  for (const { resource } of imports) addAncestors(resource.parent);
  const providers = [...new Set(imports.map((i) => i.resource.provider).filter((p): p is string => !!p))]
    .map((urn) => byUrn.get(urn))
    .filter((p): p is CapturedResource => !!p);

  const names = new Map<string, string>();
  const taken = new Set<string>();
  const nameOf = (r: CapturedResource): string => {
    const known = names.get(r.urn);
    if (known) return known;
    let name = r.name;
    if (taken.has(name)) name = `${r.name}-${(r.type.split(":").pop() ?? "resource").toLowerCase()}`;
    for (let n = 2; taken.has(name); n++) name = `${r.name}-${n}`;
    taken.add(name);
    names.set(r.urn, name);
    return name;
  };
  const parentOf = (r: CapturedResource): { parent?: string } =>
    r.parent && r.parent !== stackUrn && byUrn.has(r.parent)
      ? { parent: nameOf(byUrn.get(r.parent) as CapturedResource) }
      : {};
  const logical = (r: CapturedResource, name: string): { logicalName?: string } =>
    name === r.name ? {} : { logicalName: r.name };

  const resources: ImportSpec[] = [];
  for (const p of providers) {
    const name = nameOf(p);
    resources.push({
      type: p.type,
      name,
      ...logical(p, name),
      ...parentOf(p),
      version: options.awsVersion,
      inputs: p.inputs,
    });
  }
  for (const c of components) {
    const name = nameOf(c);
    resources.push({ type: c.type, name, ...logical(c, name), ...parentOf(c), component: true });
  }
  for (const { resource, id } of imports) {
    const name = nameOf(resource);
    resources.push({
      type: resource.type,
      name,
      id,
      ...logical(resource, name),
      ...parentOf(resource),
      ...(resource.provider && byUrn.has(resource.provider)
        ? { provider: nameOf(byUrn.get(resource.provider) as CapturedResource) }
        : {}),
      ...(resource.type.startsWith("aws:") ? { version: options.awsVersion } : {}),
    });
  }
  return { nameTable: {}, resources };
}

function stackUrnOf(plan: Plan): string {
  return `urn:pulumi:${plan.stack}::${plan.project}::pulumi:pulumi:Stack::${plan.project}-${plan.stack}`;
}

/**
 * The URN the CLI gives each entry of an import file (its `parseImportFile`): the
 * parent's qualified type chain, the entry's type and its logical name. Used to check a
 * file against the program's URNs.
 */
export function importedUrns(file: ImportFile, stack: string, project: string): Map<string, string> {
  const byName = new Map(file.resources.map((r) => [r.name, r]));
  const urns = new Map<string, string>();
  const chain = (spec: ImportSpec, depth = 0): string => {
    if (depth > 64) throw new Error(`import file: the parent chain of ${spec.name} loops`);
    if (!spec.parent) return spec.type;
    const parent = byName.get(spec.parent);
    if (parent) return `${chain(parent, depth + 1)}$${spec.type}`;
    const urn = file.nameTable[spec.parent];
    if (!urn)
      throw new Error(
        `import file: the parent '${spec.parent}' of ${spec.name} has no entry in 'nameTable' or 'resources'`,
      );
    return `${urn.split("::")[2]}$${spec.type}`;
  };
  for (const spec of file.resources)
    urns.set(spec.name, `urn:pulumi:${stack}::${project}::${chain(spec)}::${spec.logicalName ?? spec.name}`);
  return urns;
}
