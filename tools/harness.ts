/**
 * The capture harness: runs the stack program in-process under Pulumi's mocks
 * and records every resource it registers, with its inputs, outputs, which
 * inputs are secret, and its options. The offline plan and the tests both use
 * it: one piece of code, not two.
 */
import * as pulumi from "@pulumi/pulumi";
import { HostedZone, MockRecord, RealisticMocks, estateHostedZones } from "./mocks";

export const DEFAULT_ACCOUNT_ID = "123456789012";
export const SECRET_MASK = "[secret]";

export interface ResourceOptionsSnapshot {
  readonly protect: boolean;
  readonly ignoreChanges: readonly string[];
  readonly retainOnDelete: boolean;
  readonly deleteBeforeReplace: boolean;
  /** URNs of explicit dependencies. */
  readonly dependsOn: readonly string[];
  readonly aliases: readonly unknown[];
}

export interface CapturedResource {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly id: string | null;
  /** URN of the parent (the stack's URN for top-level resources). */
  readonly parent: string;
  readonly custom: boolean;
  /** The explicit provider's URN, given to the resource or inherited from a parent component; none for the default provider. */
  readonly provider?: string;
  /** Inputs with outputs resolved; secret values replaced by "[secret]". */
  readonly inputs: Record<string, unknown>;
  /** Inputs plus what the (mock) provider computed; secret values masked likewise. */
  readonly outputs: Record<string, unknown>;
  /** Paths (dot-separated) of inputs that are Pulumi secrets. */
  readonly secretInputs: readonly string[];
  readonly options: ResourceOptionsSnapshot;
}

export type { PolicyViolation as Violation } from "../policy/rules/model";
import type { PolicyViolation } from "../policy/rules/model";

export interface Plan {
  readonly stack: string;
  readonly project: string;
  readonly resources: readonly CapturedResource[];
  readonly outputs: Record<string, unknown>;
  readonly violations: readonly PolicyViolation[];
  /** The data-source calls (lookups) the program made, in order, each with its explicit provider's URN (none: the default). */
  readonly invokes: readonly { readonly token: string; readonly provider?: string }[];
  /**
   * One-time steps still missing before the first real `pulumi up`: from the stack files
   * (tools/readiness.ts; the plan itself succeeds), and from the program, which lists what
   * it withholds meanwhile (a pending DNS role: `pulumi up` refuses to run).
   */
  readonly blockers: readonly {
    readonly key: string;
    readonly message: string;
    readonly withheld?: readonly string[];
  }[];
}

export interface CaptureOptions {
  readonly project: string;
  readonly stack: string;
  /** Full config keys → values as the CLI passes them (objects as JSON). */
  readonly config: Readonly<Record<string, string>>;
  readonly secretKeys: readonly string[];
  /** Account the mocks answer for; default the first `aws:allowedAccountIds`, else 123456789012. */
  readonly accountId?: string;
  /** SSM parameters the mocked account already holds (e.g. deployed image tags). */
  readonly ssmParameters?: Readonly<Record<string, string>>;
  /** Public hosted zones per account; default: the estate's, with titanio-prd as the config's DNS role names it. */
  readonly hostedZones?: Readonly<Record<string, readonly HostedZone[]>>;
  /** The program: runs after config is set, inside the stack. */
  readonly program: () => Promise<Record<string, unknown>>;
}

interface Registration {
  readonly resource: pulumi.Resource;
  readonly type: string;
  readonly name: string;
  readonly opts: pulumi.ResourceOptions;
  readonly custom: boolean;
}

let running = false;

/** Runs `options.program` under mocks and captures what it registers. Runs are serialised: the Pulumi runtime is global. */
export async function capture(options: CaptureOptions): Promise<Plan> {
  if (running) throw new Error("capture() runs one program at a time (the Pulumi runtime is process-global)");
  running = true;
  // The Pulumi runtime records `new Error().stack` on every promise it creates (for its
  // leak report), and under ts-node each stack is source-mapped: most of a plan's time.
  // No frames, no cost; error messages are unchanged.
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return await captureOnce(options);
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
    running = false;
  }
}

async function captureOnce(options: CaptureOptions): Promise<Plan> {
  const region = options.config["aws:region"] ?? "us-east-1";
  const accountId = options.accountId ?? firstAllowedAccount(options.config) ?? DEFAULT_ACCOUNT_ID;
  const hostedZones = options.hostedZones ?? estateHostedZones(options.config, `${options.project}:dns`);
  const mocks = new RealisticMocks({ accountId, region, ssmParameters: options.ssmParameters, hostedZones });
  await pulumi.runtime.setMocks(mocks, options.project, options.stack, false);
  pulumi.runtime.setAllConfig({ ...options.config }, [...options.secretKeys]);

  const registrations: Registration[] = [];
  const secretOutputs: string[] = [];
  const stackOutputs = await pulumi.runtime.runInPulumiStack(async () => {
    pulumi.runtime.registerStackTransformation((args) => {
      registrations.push({
        resource: args.resource,
        type: args.type,
        name: args.name,
        opts: args.opts,
        custom: args.resource instanceof pulumi.CustomResource,
      });
      return undefined;
    });
    const result = await options.program();
    await findSecretOutputs(result, "", secretOutputs);
    return result;
  });

  const stackUrn = `urn:pulumi:${options.stack}::${options.project}::pulumi:pulumi:Stack::${options.project}-${options.stack}`;
  const stackResource = pulumi.runtime.getStackResource();
  // The mock monitor names URNs by the immediate parent only; compute the engine's form (full type chain).
  const chains = new Map<pulumi.Resource, string>();
  const urns = new Map<pulumi.Resource, string>();
  for (const r of registrations) {
    const parent = r.opts.parent;
    const parentChain = parent && parent !== stackResource ? chains.get(parent) : undefined;
    const chain = parentChain ? `${parentChain}$${r.type}` : r.type;
    chains.set(r.resource, chain);
    urns.set(r.resource, `urn:pulumi:${options.stack}::${options.project}::${chain}::${r.name}`);
  }
  // Wait for every registration to complete, so the mocks hold every resource's state.
  await Promise.all(registrations.map((r) => resolve(r.resource.urn)));

  const resources: CapturedResource[] = [];
  for (const r of registrations) {
    const record: MockRecord | undefined =
      r.custom || r.type.startsWith("awsx:") ? mocks.records.get(`${r.type}::${r.name}`) : undefined;
    const secretPaths: string[] = [];
    const inputs = record ? unwrapSecrets(record.inputs, "", secretPaths) : {};
    const outputs = record ? unwrapSecrets(record.state, "", []) : {};
    for (const path of secretPaths) maskPath(outputs, path);
    const parent = r.opts.parent && r.opts.parent !== stackResource ? (urns.get(r.opts.parent) ?? stackUrn) : stackUrn;
    // The provider the engine would use: given, or inherited from a component ({ provider } on a parent).
    const given = r.opts.provider ?? (r.custom ? (r.resource as pulumi.CustomResource).getProvider(r.type) : undefined);
    const provider = given ? urns.get(given) : undefined;
    resources.push({
      urn: urns.get(r.resource) as string,
      type: r.type,
      name: r.name,
      id: record?.id ?? null,
      parent,
      custom: r.custom,
      ...(provider ? { provider } : {}),
      inputs,
      outputs,
      secretInputs: secretPaths,
      options: {
        protect: r.opts.protect === true,
        ignoreChanges: [...(r.opts.ignoreChanges ?? [])],
        retainOnDelete: r.opts.retainOnDelete === true,
        deleteBeforeReplace: (r.opts as pulumi.CustomResourceOptions).deleteBeforeReplace === true,
        dependsOn: await dependencyUrns(r.opts.dependsOn, urns),
        aliases: await Promise.all((r.opts.aliases ?? []).map((a) => resolveAlias(a))),
      },
    });
  }

  return {
    stack: options.stack,
    project: options.project,
    resources,
    outputs: plainOutputs(stackOutputs ?? {}, secretOutputs),
    // A provider reference is `<urn>::<id>`; the id names the provider in the engine's URN form.
    invokes: mocks.invokes.map(({ token, provider }) => {
      const id = provider?.slice(provider.lastIndexOf("::") + 2);
      const urn = id ? resources.find((r) => r.type.startsWith("pulumi:providers:") && r.id === id)?.urn : undefined;
      return { token, ...(provider ? { provider: urn ?? provider } : {}) };
    }),
    violations: [],
    blockers: [],
  };
}

function firstAllowedAccount(config: Readonly<Record<string, string>>): string | undefined {
  const raw = config["aws:allowedAccountIds"];
  if (!raw) return undefined;
  try {
    const ids = JSON.parse(raw) as unknown;
    return Array.isArray(ids) && typeof ids[0] === "string" ? ids[0] : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The value of an output, from the runtime's own promise of it: that rejects when the
 * registration failed (a call the mocks refuse, as AWS would), where `apply` would
 * never run and the capture would wait forever.
 */
function resolve<T>(output: pulumi.Output<T>): Promise<T> {
  const internal = output as unknown as { promise?: () => Promise<T> };
  if (typeof internal.promise !== "function")
    throw new Error(
      "@pulumi/pulumi no longer exposes Output.promise; the capture cannot tell a failed registration from a slow one",
    );
  return internal.promise();
}

const SIG_KEY = pulumi.runtime.specialSigKey;
const SECRET_SIG = pulumi.runtime.specialSecretSig;

/** Mock inputs carry secrets in the runtime's wrapper; record their paths and mask their values. */
function unwrapSecrets(value: unknown, path: string, secretPaths: string[]): Record<string, unknown> {
  return walk(value, path, secretPaths) as Record<string, unknown>;
}

function walk(value: unknown, path: string, secretPaths: string[]): unknown {
  if (Array.isArray(value)) return value.map((v, i) => walk(v, join(path, String(i)), secretPaths));
  if (value && typeof value === "object") {
    const obj = value as Record<string, unknown>;
    if (obj[SIG_KEY] === SECRET_SIG) {
      secretPaths.push(path);
      return SECRET_MASK;
    }
    if (typeof obj[SIG_KEY] === "string") return obj; // assets, resource references: keep as they are
    return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, walk(v, join(path, k), secretPaths)]));
  }
  return value;
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

function maskPath(target: Record<string, unknown>, path: string): void {
  const parts = path.split(".");
  let node: unknown = target;
  for (const part of parts.slice(0, -1)) {
    if (!node || typeof node !== "object") return;
    node = (node as Record<string, unknown>)[part];
  }
  if (node && typeof node === "object") (node as Record<string, unknown>)[parts[parts.length - 1]] = SECRET_MASK;
}

async function dependencyUrns(
  dependsOn: pulumi.ResourceOptions["dependsOn"],
  urns: ReadonlyMap<pulumi.Resource, string>,
): Promise<string[]> {
  if (!dependsOn) return [];
  const unwrap = async (v: unknown): Promise<unknown> => {
    const value = await Promise.resolve(v);
    return pulumi.Output.isInstance(value) ? resolve(value) : value;
  };
  const list = await unwrap(dependsOn);
  const resources = await Promise.all((Array.isArray(list) ? list : [list]).map(unwrap));
  return resources.map((r) => urns.get(r as pulumi.Resource) ?? "<outside the stack>");
}

async function resolveAlias(alias: pulumi.Input<pulumi.URN | pulumi.Alias>): Promise<unknown> {
  const value = await Promise.resolve(alias);
  if (pulumi.Output.isInstance(value)) return resolve(value);
  if (value && typeof value === "object") {
    const { name, type, stack, project } = value as pulumi.Alias;
    return Object.fromEntries(Object.entries({ name, type, stack, project }).filter(([, v]) => v !== undefined));
  }
  return value;
}

/** Stack outputs as plain JSON, secret ones masked (the stack's massaging unwraps them). */
function plainOutputs(outputs: Record<string, unknown>, secretPaths: readonly string[]): Record<string, unknown> {
  const plain = walk(JSON.parse(JSON.stringify(outputs ?? {})), "", []) as Record<string, unknown>;
  for (const path of secretPaths) maskPath(plain, path);
  return plain;
}

/** Paths of program outputs that are Pulumi secrets. */
async function findSecretOutputs(value: unknown, path: string, found: string[]): Promise<void> {
  if (pulumi.Output.isInstance(value)) {
    if (await pulumi.isSecret(value)) found.push(path);
    else await findSecretOutputs(await resolve(value), path, found);
    return;
  }
  if (value instanceof pulumi.Resource) return;
  if (Array.isArray(value)) {
    await Promise.all(value.map((v, i) => findSecretOutputs(v, join(path, String(i)), found)));
  } else if (value && typeof value === "object") {
    await Promise.all(Object.entries(value).map(([k, v]) => findSecretOutputs(v, join(path, k), found)));
  }
}
