/**
 * Read and validate the stack configuration once, before any resource is
 * registered. Every problem is collected and reported together, each naming
 * its full key (`lumerin-infra:proxyRouter.router.cpu`) and what was expected:
 * the cross-key checks run even when the schema fails elsewhere, each on the
 * inputs it needs as far as they parse, so one run shows every problem.
 */
import * as pulumi from "@pulumi/pulumi";
import { MonitoringConfig, deploymentAlarmWindowMinutes, resolveMonitoring } from "./monitoring";
import {
  BAKE_MARGIN_MINUTES,
  IMAGE_DEPLOY_JOB_MINUTES,
  RUNNER_FOLLOW_MARGIN_MINUTES,
  RUNNER_MAX_DEADLINE_MINUTES,
  STEADY_STATE_MINUTES,
  imageDeployRunMinutes,
  rolloutDeadlineMinutes,
} from "../lib/rollout";
import {
  FuturesConfig,
  FuturesSchema,
  MARKET_MAKER_ECS_ONLY_KEYS,
  MarginCallSchema,
  MarketMakerSchema,
  NotificationsDatabaseSchema,
  NotificationsSchema,
} from "./futures";
import { z } from "zod";
import { Environment, EnvironmentName, environment, isEnvironmentName } from "../lib/environments";
import {
  ClusterConfig,
  DeployIdentityConfig,
  DeployRunnerConfig,
  ParsedStackConfig,
  DeployIdentitySchema,
  DnsConfig,
  DnsSchema,
  GitHubConfig,
  GitHubSchema,
  NetworkConfig,
  OutOfBandSecretsConfig,
  OutOfBandSecretsSchema,
  OutOfBandState,
  PROXY_RESERVED_ENV,
  ProxyRouterConfig,
  ProxyRouterSchema,
  ProxyServiceSchema,
  SECRET_KEYS,
  SecretGroup,
  SecretKey,
  StackConfigSchema,
} from "./schema";
import { describePattern, parsePinnedTag } from "../lib/image-tags";
import { PROTECTED_BACKUP_RETENTION_DAYS } from "../lib/stateful-types";
import { DnsInputs, dnsIssues } from "./dns";
import { derivedNameIssues } from "./derived-names";

export const PROJECT = "lumerin-infra";

export interface ConfigIssue {
  /** Full key path, e.g. `lumerin-infra:proxyRouter.router.cpu`. */
  readonly key: string;
  readonly message: string;
}

export class ConfigError extends Error {
  constructor(readonly issues: readonly ConfigIssue[]) {
    super(
      `invalid stack configuration (${issues.length} problem${issues.length === 1 ? "" : "s"}):\n` +
        issues.map((i) => `  - ${i.key}: ${i.message}`).join("\n"),
    );
    this.name = "ConfigError";
  }
}

/** Where configuration comes from: the Pulumi runtime, under the CLI or under mocks alike. */
export interface ConfigSource {
  readonly project: string;
  readonly stack: string;
  /** Full keys (`namespace:name`) → raw values as the CLI passes them (objects as JSON). */
  readonly values: Readonly<Record<string, string>>;
  /** Whether the key arrived encrypted (`secure:` in the stack file). */
  isSecret(key: string): boolean;
  /**
   * The process environment variables configuration may read: only `GITHUB_ADMIN_TOKEN`, the
   * admin token for managing GitHub environments (never `GITHUB_TOKEN`, which in a workflow is
   * the workflow's own token and cannot manage them); absent: none. Components never read the
   * environment.
   */
  readonly environment?: { readonly GITHUB_ADMIN_TOKEN?: string };
}

/** The GitHub provider's token in stack config (`pulumi config set --secret github:token …`). */
export const GITHUB_TOKEN_KEY = "github:token";

/** What managing GitHub environments asks of the token, for the error and the docs. */
export const GITHUB_ADMIN_TOKEN_PERMISSIONS =
  'a fine-grained personal access token or a GitHub App installation token for the repositories, with the repository permissions "Administration: Read and write", "Environments: Read and write" and "Variables: Read and write" (and "Metadata: Read"); a workflow\'s own GITHUB_TOKEN cannot manage environments';

interface RuntimeConfigInternals {
  isConfigSecret?: (key: string) => boolean;
}

/** The Pulumi runtime's configuration: what `pulumi up` passes, or what the offline plan set with `setAllConfig`. */
export function pulumiConfigSource(
  environment: Readonly<Record<string, string | undefined>> = process.env,
): ConfigSource {
  // The CLI tells the program which keys are secret through PULUMI_CONFIG_SECRET_KEYS, which
  // the SDK reads with this (internal) function. Without it we could not refuse plaintext secrets,
  // so a future SDK that drops it must fail here rather than let a secret through unchecked.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const internals = require("@pulumi/pulumi/runtime/config") as RuntimeConfigInternals;
  const isConfigSecret = internals.isConfigSecret;
  if (typeof isConfigSecret !== "function") {
    throw new Error(
      "@pulumi/pulumi no longer exposes runtime/config.isConfigSecret; cannot verify that secret config keys are encrypted",
    );
  }
  return {
    project: pulumi.getProject(),
    stack: pulumi.getStack(),
    values: pulumi.runtime.allConfig(),
    isSecret: (key) => isConfigSecret(key),
    environment: environment.GITHUB_ADMIN_TOKEN ? { GITHUB_ADMIN_TOKEN: environment.GITHUB_ADMIN_TOKEN } : {},
  };
}

export type SecretValues = Readonly<Record<string, pulumi.Output<string>>>;

/** The validated, typed, frozen configuration that `stack.ts` hands to components in slices. */
export interface StackConfig {
  readonly project: string;
  readonly stack: string;
  readonly region: string;
  /**
   * The default provider's `aws:defaultTags` and `aws:allowedAccountIds`, for the
   * explicit providers the program makes (us-east-1, another account's zone): an
   * explicit provider does not inherit them from the stack config.
   */
  readonly providerDefaults: {
    readonly defaultTags?: { readonly tags: Readonly<Record<string, string>> };
    readonly allowedAccountIds?: readonly string[];
  };
  readonly env: Environment;
  /** Protect stateful resources (always true in production). */
  readonly protect: boolean;
  readonly network: NetworkConfig;
  readonly dns: DnsConfig & { readonly zoneName: string };
  readonly cluster: ClusterConfig;
  readonly proxyRouter: ProxyRouterConfig;
  readonly deployIdentity: DeployIdentityConfig;
  /** The deploy runner (off by default). */
  readonly deployRunner: DeployRunnerConfig;
  readonly github: GitHubConfig;
  /** The GitHub provider's token when stack config gives one (`github:token`, a secret); otherwise the provider reads GITHUB_TOKEN. */
  readonly githubToken?: pulumi.Output<string>;
  /** The futures marketplace; absent when the stack runs none of it. */
  readonly futures?: FuturesConfig;
  /** Monitoring, every default settled for this environment. */
  readonly monitoring: MonitoringConfig;
  /** Secret values given through `pulumi config set --secret`, per Secrets Manager secret; absent when set out of band. */
  readonly secrets: Readonly<Partial<Record<SecretGroup, SecretValues>>>;
  /** Secrets whose value is put into Secrets Manager outside Pulumi, as the stack declares them. */
  readonly outOfBandSecrets: OutOfBandSecretsConfig;
}

/**
 * Whether a secret's value is still to be put in out of band (`outOfBandSecrets.<secret>:
 * pending`). Its workload is then created without tasks (a Lambda: with its schedules
 * off), so that the first `pulumi up` starts nothing that cannot read its secret.
 */
export function secretPending(config: Pick<StackConfig, "outOfBandSecrets">, group: SecretGroup): boolean {
  return config.outOfBandSecrets[group] === "pending";
}

/** The task count a service is created with: `configured`, or 0 while its secret's value is pending. */
export function initialTaskCount<N extends number>(
  config: Pick<StackConfig, "outOfBandSecrets">,
  group: SecretGroup,
  configured: N,
): N | 0 {
  return secretPending(config, group) ? 0 : configured;
}

export function loadStackConfig(source: ConfigSource): StackConfig {
  const issues: ConfigIssue[] = [];
  const prefix = `${source.project}:`;
  const raw: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(source.values)) {
    if (!key.startsWith(prefix)) continue;
    const name = key.slice(prefix.length);
    raw[name] = name in SECRET_KEYS ? value : parseValue(value);
  }

  const region = source.values["aws:region"];
  if (!region) {
    issues.push({ key: "aws:region", message: "required; set it with `pulumi config set aws:region us-east-1`" });
  } else if (!/^[a-z]{2}(-gov)?-[a-z]+-\d$/.test(region)) {
    issues.push({ key: "aws:region", message: `expected an AWS region such as us-east-1, got "${region}"` });
  }

  // Secret-bearing keys must arrive encrypted, whatever else is wrong.
  for (const key of Object.keys(SECRET_KEYS) as SecretKey[]) {
    if (raw[key] !== undefined && !source.isSecret(`${prefix}${key}`)) {
      issues.push({
        key: `${prefix}${key}`,
        message: `holds a secret but is stored in plain text; run \`pulumi config set --secret ${key} <value>\` so the stack file holds only ciphertext`,
      });
    }
  }

  // reportInput: without it zod 4 leaves `input` off every issue, so "missing" could not be told from "wrong type".
  const parsed = StackConfigSchema.safeParse(raw, { reportInput: true });
  const schemaIssues = parsed.success ? [] : parsed.error.issues.flatMap((issue) => toConfigIssues(issue, prefix));
  issues.push(...schemaIssues);
  // The cross-key checks run whether or not the schema passed, so a user fixes everything in one round.
  // They read the raw input, each value through its own schema, so a key the schema refused is never reported twice.
  const refused = new Set(schemaIssues.map((issue) => issue.key));
  issues.push(...crossCheck(crossCheckInputs(raw), source, prefix).filter((issue) => !refused.has(issue.key)));
  if (issues.length > 0 || !parsed.success) throw new ConfigError(issues);
  const cfg = parsed.data;

  const env = environment(cfg.environment);
  const monitoring = resolveMonitoring(cfg.monitoring, env);
  // Checks on what the values make: the names derived from them, and how long a code deploy waits.
  const derived: ConfigIssue[] = [
    ...derivedNameIssues({
      env,
      region: region as string,
      proxyRouter: cfg.proxyRouter,
      dns: cfg.dns,
      ...(cfg.futures ? { futures: cfg.futures } : {}),
    }).map((issue) => ({ key: `${prefix}${issue.key}`, message: issue.message })),
    ...[rolloutBudgetIssue(cfg.proxyRouter, monitoring, cfg.deployRunner.enabled, prefix)].filter(
      (issue): issue is ConfigIssue => issue !== undefined,
    ),
    ...deployRunnerIssues(cfg, prefix),
  ];
  if (derived.length > 0) throw new ConfigError(derived);
  const secrets: Partial<Record<SecretGroup, SecretValues>> = {};
  for (const [key, { secret, jsonKey }] of Object.entries(SECRET_KEYS) as [
    SecretKey,
    (typeof SECRET_KEYS)[SecretKey],
  ][]) {
    const value = cfg[key];
    if (value === undefined) continue;
    secrets[secret] = { ...secrets[secret], [jsonKey]: pulumi.secret(value) };
  }

  return deepFreeze({
    project: source.project,
    stack: source.stack,
    region: region as string,
    providerDefaults: providerDefaults(source),
    env,
    protect: cfg.protect ?? env.production,
    network: cfg.network,
    dns: { ...cfg.dns, zoneName: cfg.dns.zoneName ?? env.dnsZone },
    cluster: cfg.cluster,
    proxyRouter: cfg.proxyRouter,
    deployIdentity: cfg.deployIdentity,
    deployRunner: cfg.deployRunner,
    github: cfg.github,
    ...githubTokenOf(source),
    ...(cfg.futures ? { futures: cfg.futures } : {}),
    monitoring,
    secrets,
    outOfBandSecrets: cfg.outOfBandSecrets,
  });
}

/**
 * With the deploy runner on, the invoker admits one workflow of one repository per
 * app, bound by the repository's immutable ids: each repository whose ECS services
 * the runner deploys must name its caller workflow and its ids. An omitted setting
 * is refused here, so that no allowlist entry is ever written without it.
 */
function deployRunnerIssues(cfg: ParsedStackConfig, prefix: string): ConfigIssue[] {
  if (!cfg.deployRunner.enabled) return [];
  const proxyServices = cfg.proxyRouter.router.enabled || cfg.proxyRouter.validator.enabled;
  const futuresServices =
    !!cfg.futures &&
    (cfg.futures.notifications.enabled ||
      (cfg.futures.marketMaker.enabled && cfg.futures.marketMaker.runtime === "ecs"));
  const repositories = [
    ...(proxyServices ? [{ key: "proxyRouter" as const }] : []),
    ...(futuresServices ? [{ key: "futures" as const }] : []),
  ];
  return repositories.flatMap(({ key }) => {
    const ids = cfg.deployIdentity[key];
    const missing: ConfigIssue[] = [];
    if (!cfg.deployRunner.callers[key].workflow) {
      missing.push({
        key: `${prefix}deployRunner.callers.${key}.workflow`,
        message: `required while deployRunner.enabled is true: the workflow of ${ids.repository} that calls image-deploy (e.g. .github/workflows/deploy.yml); the invoker admits no other`,
      });
    }
    for (const id of ["ownerId", "repositoryId"] as const) {
      if (ids[id] === undefined) {
        missing.push({
          key: `${prefix}deployIdentity.${key}.${id}`,
          message: `required while deployRunner.enabled is true: the invoker binds ${ids.repository}'s requests to its immutable ids (gh api repos/${ids.repository} --jq ${id === "ownerId" ? ".owner.id" : ".id"})`,
        });
      }
    }
    return missing;
  });
}

/**
 * A code deploy of the proxy image rolls out the router and the validator one
 * after the other, each waiting for ECS's bake time (the deployment alarms'
 * window): the run must fit in image-deploy's job timeout.
 */
function rolloutBudgetIssue(
  proxy: ProxyRouterConfig,
  monitoring: MonitoringConfig,
  runner: boolean,
  prefix: string,
): ConfigIssue | undefined {
  if (!monitoring.enabled || !monitoring.alarms) return undefined;
  const services = [proxy.router, proxy.validator].filter((s) => s.enabled).length;
  const deadline = rolloutDeadlineMinutes([deploymentAlarmWindowMinutes(monitoring)]);
  const key = `${prefix}monitoring.unhealthyWindowMinutes`;
  if (runner && deadline > RUNNER_MAX_DEADLINE_MINUTES) {
    return {
      key,
      message: `${monitoring.unhealthyWindowMinutes} minutes makes a rollout's deadline ${deadline} minutes, over the deploy runner's ${RUNNER_MAX_DEADLINE_MINUTES}; use a shorter window`,
    };
  }
  // The runner path follows each execution a margin past its deadline.
  const perService = deadline + (runner ? RUNNER_FOLLOW_MARGIN_MINUTES : 0);
  const run = imageDeployRunMinutes(Array.from({ length: Math.max(services, 1) }, () => perService));
  if (run <= IMAGE_DEPLOY_JOB_MINUTES) return undefined;
  return {
    key,
    message:
      `${monitoring.unhealthyWindowMinutes} minutes makes ECS's bake time so long that a code deploy of ${services} service(s) ` +
      `(${perService} minutes each: ${STEADY_STATE_MINUTES} to steady state + the alarm window + ${BAKE_MARGIN_MINUTES}${runner ? ` + the runner path's ${RUNNER_FOLLOW_MARGIN_MINUTES}` : ""}) would take ${run} minutes, ` +
      `more than image-deploy's ${IMAGE_DEPLOY_JOB_MINUTES}-minute job; use a shorter window`,
  };
}

/**
 * What the cross-key checks read, taken from the raw input one value at a time,
 * each through its own schema: a part is absent when its value (or a parent of
 * it) is malformed, and the checks that need it are skipped, never guessed.
 */
interface CrossCheckInputs {
  readonly environment?: EnvironmentName;
  readonly protect?: boolean;
  readonly manageEnvironments?: boolean;
  /** Required reviewers (users and teams), when both lists parsed. */
  readonly productionReviewers?: number;
  /** `proxyRouter.github.tagPrefix`. */
  readonly proxyTagPrefix?: string;
  readonly proxyServices: readonly {
    readonly kind: "router" | "validator";
    readonly imageTag?: string;
    /** Names under `extraEnvironment`, when it is an object. */
    readonly extraEnvironmentNames: readonly string[];
  }[];
  /** Other pinned images (the futures services), each with its key, tag and tag prefix as parsed. */
  readonly otherImages: readonly { readonly key: string; readonly imageTag?: string; readonly tagPrefix?: string }[];
  /** `futures.notifications.database.backupRetentionDays`, when futures and the key parsed. */
  readonly databaseBackupRetentionDays?: number;
  /** `futures.notifications.database.multiAz`, when futures and the key parsed. */
  readonly databaseMultiAz?: boolean;
  /** Secret-bearing keys that are set at all (empty or not). */
  readonly secretKeysGiven: ReadonlySet<SecretKey>;
  /** `dns`, each key as parsed (absent when malformed). */
  readonly dns?: DnsInputs;
  /** `outOfBandSecrets` (`{}` when absent), undefined when it is malformed. */
  readonly outOfBand?: OutOfBandSecretsConfig;
  /**
   * Per secret, whether something reads it once deployed: a service with tasks, or the
   * margin-call function; undefined when the keys that decide it did not parse.
   */
  readonly secretReaders: Readonly<Record<SecretGroup, string | false | undefined>>;
  /** A trusted repository (`owner/repo`) and the releases repository whose spelling is canonical, as far as both parsed. */
  readonly repositorySpellings: readonly {
    readonly key: string;
    readonly repository?: string;
    readonly ownerKey: string;
    readonly owner?: string;
    readonly repoKey?: string;
    readonly repo?: string;
  }[];
  /** The immutable-id pairs (`ownerId`, `repositoryId`) under each deployIdentity part. */
  readonly idPairs: readonly { readonly path: string; readonly ownerId?: number; readonly repositoryId?: number }[];
  /** `futures.marketMaker.runtime` as parsed, and which runtime-specific keys the stack sets. */
  readonly marketMaker?: {
    readonly runtime: "ecs" | "lambda";
    readonly enabled: boolean;
    readonly ecsKeysGiven: readonly string[];
    readonly lambdaGiven: boolean;
  };
}

/** What an ECS task does when a secret it references has no value. */
const ECS_FAILURE =
  'could not start (ECS: "ResourceInitializationError: unable to pull secrets or registry auth", and the failed deployment does not recover when the secret is filled later)';

/** Who reads each secret, as the config decides: what would fail without a value, false for no reader, undefined when unknown. */
function secretReaders(raw: Readonly<Record<string, unknown>>): Record<SecretGroup, string | false | undefined> {
  const proxy = ProxyServiceSchema.shape;
  const proxyReader = (kind: "router" | "validator"): string | false | undefined => {
    const enabled = parsedAt(raw, ["proxyRouter", kind, "enabled"], proxy.enabled);
    const count = parsedAt(raw, ["proxyRouter", kind, "desiredCount"], proxy.desiredCount);
    if (!enabled || !count) return undefined;
    return enabled.value && count.value > 0 ? `the tasks of proxyRouter.${kind} ${ECS_FAILURE}` : false;
  };
  const proxyReaders = { proxyRouter: proxyReader("router"), proxyValidator: proxyReader("validator") };
  const futures = rawAt(raw, ["futures"]);
  if (futures === undefined) return { ...proxyReaders, marketMaker: false, notifications: false, marginCall: false };
  const marketMakerEnabled = parsedAt(raw, ["futures", "marketMaker", "enabled"], MarketMakerSchema.shape.enabled);
  const workers = parsedAt(raw, ["futures", "marketMaker", "workerQuantity"], MarketMakerSchema.shape.workerQuantity);
  const runtime = parsedAt(raw, ["futures", "marketMaker", "runtime"], MarketMakerSchema.shape.runtime);
  const notifications = parsedAt(raw, ["futures", "notifications", "enabled"], NotificationsSchema.shape.enabled);
  const marginCall = parsedAt(raw, ["futures", "marginCall", "enabled"], MarginCallSchema.shape.enabled);
  return {
    ...proxyReaders,
    marketMaker:
      !marketMakerEnabled || !workers || !runtime
        ? undefined
        : !marketMakerEnabled.value
          ? false
          : runtime.value === "lambda"
            ? "every scheduled run of futures.marketMaker (runtime lambda) would fail reading it"
            : workers.value > 0
              ? `the task of futures.marketMaker ${ECS_FAILURE}`
              : false,
    notifications: !notifications
      ? undefined
      : notifications.value
        ? `the task of futures.notifications ${ECS_FAILURE}`
        : false,
    marginCall: !marginCall
      ? undefined
      : marginCall.value
        ? "every scheduled run of futures.marginCall would fail reading it"
        : false,
  };
}

function crossCheckInputs(raw: Readonly<Record<string, unknown>>): CrossCheckInputs {
  const proxyService = ProxyServiceSchema.shape;
  const githubShape = GitHubSchema.shape;
  const users = parsedAt(raw, ["github", "productionReviewerUsers"], githubShape.productionReviewerUsers);
  const teams = parsedAt(raw, ["github", "productionReviewerTeams"], githubShape.productionReviewerTeams);
  return {
    environment: parsedAt(raw, ["environment"], StackConfigSchema.shape.environment)?.value,
    protect: parsedAt(raw, ["protect"], StackConfigSchema.shape.protect)?.value,
    manageEnvironments: parsedAt(raw, ["github", "manageEnvironments"], githubShape.manageEnvironments)?.value,
    ...(users && teams ? { productionReviewers: users.value.length + teams.value.length } : {}),
    proxyTagPrefix: parsedAt(
      raw,
      ["proxyRouter", "github", "tagPrefix"],
      ProxyRouterSchema.shape.github.unwrap().shape.tagPrefix,
    )?.value,
    proxyServices: (["router", "validator"] as const).map((kind) => {
      const extra = rawAt(raw, ["proxyRouter", kind, "extraEnvironment"]);
      return {
        kind,
        imageTag: parsedAt(raw, ["proxyRouter", kind, "imageTag"], proxyService.imageTag)?.value,
        extraEnvironmentNames: isPlainObject(extra) ? Object.keys(extra) : [],
      };
    }),
    otherImages: (["marketMaker", "notifications"] as const).map((part) => {
      const shape = part === "marketMaker" ? MarketMakerSchema.shape : NotificationsSchema.shape;
      return {
        key: `futures.${part}.imageTag`,
        imageTag: parsedAt(raw, ["futures", part, "imageTag"], shape.imageTag)?.value,
        tagPrefix: parsedAt(raw, ["futures", part, "tagPrefix"], shape.tagPrefix)?.value,
      };
    }),
    databaseBackupRetentionDays: parsedAt(
      raw,
      ["futures", "notifications", "database", "backupRetentionDays"],
      NotificationsDatabaseSchema.shape.backupRetentionDays,
    )?.value,
    databaseMultiAz: parsedAt(
      raw,
      ["futures", "notifications", "database", "multiAz"],
      NotificationsDatabaseSchema.shape.multiAz,
    )?.value,
    secretKeysGiven: new Set((Object.keys(SECRET_KEYS) as SecretKey[]).filter((key) => raw[key] !== undefined)),
    ...(isPlainObject(rawAt(raw, ["dns"])) || rawAt(raw, ["dns"]) === undefined
      ? {
          dns: {
            zoneName: parsedAt(raw, ["dns", "zoneName"], DnsSchema.shape.zoneName)?.value,
            zoneId: parsedAt(raw, ["dns", "zoneId"], DnsSchema.shape.zoneId)?.value,
            assumeRoleArn: parsedAt(raw, ["dns", "assumeRoleArn"], DnsSchema.shape.assumeRoleArn)?.value,
          },
        }
      : {}),
    outOfBand: parsedAt(raw, ["outOfBandSecrets"], OutOfBandSecretsSchema.prefault({}))?.value,
    secretReaders: secretReaders(raw),
    repositorySpellings: repositorySpellings(raw),
    idPairs: (["proxyRouter", "futures", "infra"] as const).map((part) => {
      const shape = DeployIdentitySchema.shape[part].unwrap().shape;
      return {
        path: `deployIdentity.${part}`,
        ownerId: parsedAt(raw, ["deployIdentity", part, "ownerId"], shape.ownerId)?.value,
        repositoryId: parsedAt(raw, ["deployIdentity", part, "repositoryId"], shape.repositoryId)?.value,
      };
    }),
    ...marketMakerInputs(raw),
  };
}

function marketMakerInputs(raw: Readonly<Record<string, unknown>>): Pick<CrossCheckInputs, "marketMaker"> {
  const mm = rawAt(raw, ["futures", "marketMaker"]);
  const runtime = parsedAt(raw, ["futures", "marketMaker", "runtime"], MarketMakerSchema.shape.runtime)?.value;
  const enabled = parsedAt(raw, ["futures", "marketMaker", "enabled"], MarketMakerSchema.shape.enabled)?.value;
  if (!isPlainObject(mm) || runtime === undefined || enabled === undefined) return {};
  return {
    marketMaker: {
      runtime,
      enabled,
      ecsKeysGiven: MARKET_MAKER_ECS_ONLY_KEYS.filter((key) => mm[key] !== undefined),
      lambdaGiven: mm.lambda !== undefined,
    },
  };
}

/** Each trusted repository beside the key that spells its owner (and name) canonically: the releases repository, or the organisation. */
function repositorySpellings(raw: Readonly<Record<string, unknown>>): CrossCheckInputs["repositorySpellings"] {
  const deploy = DeployIdentitySchema.shape;
  const proxyGithub = ProxyRouterSchema.shape.github.unwrap().shape;
  const futuresGithub = FuturesSchema.shape.github.unwrap().shape;
  const github = GitHubSchema.shape;
  const futuresGiven = rawAt(raw, ["futures"]) !== undefined;
  return [
    {
      key: "deployIdentity.proxyRouter.repository",
      repository: parsedAt(
        raw,
        ["deployIdentity", "proxyRouter", "repository"],
        deploy.proxyRouter.unwrap().shape.repository,
      )?.value,
      ownerKey: "proxyRouter.github.owner",
      owner: parsedAt(raw, ["proxyRouter", "github", "owner"], proxyGithub.owner)?.value,
      repoKey: "proxyRouter.github.repo",
      repo: parsedAt(raw, ["proxyRouter", "github", "repo"], proxyGithub.repo)?.value,
    },
    ...(futuresGiven
      ? [
          {
            key: "deployIdentity.futures.repository",
            repository: parsedAt(
              raw,
              ["deployIdentity", "futures", "repository"],
              deploy.futures.unwrap().shape.repository,
            )?.value,
            ownerKey: "futures.github.owner",
            owner: parsedAt(raw, ["futures", "github", "owner"], futuresGithub.owner)?.value,
            repoKey: "futures.github.repo",
            repo: parsedAt(raw, ["futures", "github", "repo"], futuresGithub.repo)?.value,
          },
        ]
      : []),
    {
      key: "github.infraRepository",
      repository: parsedAt(raw, ["github", "infraRepository"], github.infraRepository)?.value,
      ownerKey: "github.owner",
      owner: parsedAt(raw, ["github", "owner"], github.owner)?.value,
    },
  ];
}

/** Marks a value below something that is not an object: there is nothing to read there. */
const UNREACHABLE = Symbol("unreachable");

function isPlainObject(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The raw value at `path`: `undefined` when it or a parent is absent (defaults apply), UNREACHABLE below a non-object. */
function rawAt(raw: unknown, path: readonly string[]): unknown {
  let value = raw;
  for (const segment of path) {
    if (value === undefined) return undefined;
    if (!isPlainObject(value)) return UNREACHABLE;
    value = Object.hasOwn(value, segment) ? value[segment] : undefined;
  }
  return value;
}

/** The value at `path` as `schema` parses it (defaults applied), or undefined when it cannot be read or is invalid. */
function parsedAt<S extends z.ZodType>(
  raw: unknown,
  path: readonly string[],
  schema: S,
): { readonly value: z.output<S> } | undefined {
  const value = rawAt(raw, path);
  if (value === UNREACHABLE) return undefined;
  const result = schema.safeParse(value);
  return result.success ? { value: result.data } : undefined;
}

/** The GitHub provider's admin token, always a Pulumi secret: `github:token`, else GITHUB_ADMIN_TOKEN. */
function githubTokenOf(source: ConfigSource): { githubToken?: pulumi.Output<string> } {
  const token = source.values[GITHUB_TOKEN_KEY] ?? source.environment?.GITHUB_ADMIN_TOKEN;
  return token ? { githubToken: pulumi.secret(token) } : {};
}

/** Checks that need more than one key, or the environment table; each runs only when its inputs parsed. */
function crossCheck(inputs: CrossCheckInputs, source: ConfigSource, prefix: string): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const env = inputs.environment === undefined ? undefined : environment(inputs.environment);

  if (env && isEnvironmentName(source.stack) && source.stack !== env.name) {
    issues.push({
      key: `${prefix}environment`,
      message: `is "${env.name}" but the stack is "${source.stack}"; a stack named after an environment must be that environment`,
    });
  }
  const token = source.values[GITHUB_TOKEN_KEY];
  if (token !== undefined && !source.isSecret(GITHUB_TOKEN_KEY)) {
    issues.push({
      key: GITHUB_TOKEN_KEY,
      message: `holds a secret but is stored in plain text; run \`pulumi config set --secret ${GITHUB_TOKEN_KEY} <token>\``,
    });
  }
  if (inputs.manageEnvironments === true && !token && !source.environment?.GITHUB_ADMIN_TOKEN) {
    issues.push({
      key: GITHUB_TOKEN_KEY,
      message:
        `${prefix}github.manageEnvironments is on, so this stack manages GitHub environments, their branch policies and variables, ` +
        `which needs a token with admin rights on the repositories, and none is set (neither ${GITHUB_TOKEN_KEY} nor GITHUB_ADMIN_TOKEN; GITHUB_TOKEN is never used for this). ` +
        `Give ${GITHUB_ADMIN_TOKEN_PERMISSIONS}: \`pulumi config set --secret ${GITHUB_TOKEN_KEY} <token>\` or GITHUB_ADMIN_TOKEN=<token>`,
    });
  }
  if (env?.production && inputs.manageEnvironments === true && inputs.productionReviewers === 0) {
    issues.push({
      key: `${prefix}github.productionReviewerUsers`,
      message:
        "production's GitHub environment needs at least one required reviewer (user or team id): it is the confirmation gate",
    });
  }
  // A zone in another account needs a role there (or `pending`); see config/dns.ts.
  if (env && inputs.dns) {
    issues.push(
      ...dnsIssues(env, inputs.dns).map((issue) => ({ key: `${prefix}${issue.key}`, message: issue.message })),
    );
  }
  if (env?.production && inputs.protect === false) {
    issues.push({
      key: `${prefix}protect`,
      message: "cannot be false in production: stateful resources there are always protected",
    });
  }

  // Each service's pin is its own: the validator can be rolled back while the router stays on auto.
  const tagPrefix = inputs.proxyTagPrefix;
  for (const { kind, imageTag } of inputs.proxyServices) {
    if (!env || tagPrefix === undefined || imageTag === undefined || imageTag === "auto") continue;
    const pattern = { prefix: tagPrefix, suffix: env.tagSuffix };
    if (!parsePinnedTag(imageTag, pattern)) {
      issues.push({
        key: `${prefix}proxyRouter.${kind}.imageTag`,
        message: `"${imageTag}" is not a ${env.name} release tag; expected "auto" or ${describePattern(pattern)} (the "${tagPrefix}" prefix is optional)`,
      });
    }
  }

  for (const { key, imageTag, tagPrefix } of inputs.otherImages) {
    if (!env || tagPrefix === undefined || imageTag === undefined || imageTag === "auto") continue;
    const pattern = { prefix: tagPrefix, suffix: env.tagSuffix };
    if (!parsePinnedTag(imageTag, pattern)) {
      issues.push({
        key: `${prefix}${key}`,
        message: `"${imageTag}" is not a ${env.name} release tag; expected "auto" or ${describePattern(pattern)}${tagPrefix ? ` (the "${tagPrefix}" prefix is optional)` : ""}`,
      });
    }
  }
  // Protected data (production, or `protect: true` anywhere) keeps the database's safety settings.
  const protectedData = inputs.protect ?? env?.production ?? false;
  const days = inputs.databaseBackupRetentionDays;
  if (protectedData && days !== undefined && days < PROTECTED_BACKUP_RETENTION_DAYS) {
    issues.push({
      key: `${prefix}futures.notifications.database.backupRetentionDays`,
      message: `is ${days}; protected data (production, or protect: true) keeps at least ${PROTECTED_BACKUP_RETENTION_DAYS} days of backups`,
    });
  }
  if (protectedData && inputs.databaseMultiAz === false) {
    issues.push({
      key: `${prefix}futures.notifications.database.multiAz`,
      message: "cannot be false for protected data (production, or protect: true): the database keeps a standby",
    });
  }

  // One wallet key, one market maker: settings of the other runtime would describe a second bot.
  const mm = inputs.marketMaker;
  if (mm?.enabled && mm.runtime === "lambda") {
    for (const key of mm.ecsKeysGiven) {
      issues.push({
        key: `${prefix}futures.marketMaker.${key}`,
        message: `configures the ECS service, but ${prefix}futures.marketMaker.runtime is "lambda": a stack runs the market maker once (both would trade with one wallet key); remove ${key} or set runtime "ecs"`,
      });
    }
  }
  if (mm?.enabled && mm.runtime === "ecs" && mm.lambdaGiven) {
    issues.push({
      key: `${prefix}futures.marketMaker.lambda`,
      message: `configures the Lambda, but ${prefix}futures.marketMaker.runtime is "ecs": a stack runs the market maker once (both would trade with one wallet key); remove lambda or set runtime "lambda"`,
    });
  }

  for (const { kind, extraEnvironmentNames } of inputs.proxyServices) {
    for (const name of extraEnvironmentNames) {
      if ((PROXY_RESERVED_ENV as readonly string[]).includes(name)) {
        issues.push({
          key: `${prefix}proxyRouter.${kind}.extraEnvironment.${name}`,
          message: "is set from typed config or a secret; set the typed key instead",
        });
      }
    }
  }

  // GitHub's OIDC subject carries owner and repository exactly as GitHub spells them, and the trust
  // compares case-sensitively: a trusted repository spelled unlike its releases repository is a typo
  // that GitHub's API forgives (it is case-insensitive) and STS does not.
  for (const { key, repository, ownerKey, owner, repoKey, repo } of inputs.repositorySpellings) {
    if (repository === undefined) continue;
    const [trustedOwner, trustedRepo] = repository.split("/");
    const clash = (theirs: string | undefined, ours: string) =>
      theirs !== undefined && theirs !== ours && theirs.toLowerCase() === ours.toLowerCase();
    if (owner !== undefined && clash(owner, trustedOwner)) {
      issues.push({
        key: `${prefix}${key}`,
        message: `spells the owner "${trustedOwner}" but ${prefix}${ownerKey} spells it "${owner}"; GitHub's OIDC subject carries the owner exactly as GitHub spells it and the role's trust compares it case-sensitively, so use GitHub's spelling in both (\`gh api repos/${owner}/${trustedRepo} --jq .full_name\` prints it)`,
      });
    }
    if (repoKey && repo !== undefined && clash(repo, trustedRepo)) {
      issues.push({
        key: `${prefix}${key}`,
        message: `spells the repository "${trustedRepo}" but ${prefix}${repoKey} spells it "${repo}"; the OIDC subject is compared case-sensitively, so use GitHub's spelling in both (\`gh api repos/${trustedOwner}/${repo} --jq .full_name\` prints it)`,
      });
    }
  }
  for (const { path, ownerId, repositoryId } of inputs.idPairs) {
    if ((ownerId === undefined) === (repositoryId === undefined)) continue;
    const missing = ownerId === undefined ? "ownerId" : "repositoryId";
    issues.push({
      key: `${prefix}${path}.${missing}`,
      message: `required because ${path}.${missing === "ownerId" ? "repositoryId" : "ownerId"} is set: the immutable subject repo:<owner>@<ownerId>/<repo>@<repositoryId> needs both (\`gh api repos/OWNER/REPO --jq .id,.owner.id\`)`,
    });
  }

  // A Secrets Manager secret's JSON must carry every key its containers read, or the task cannot start.
  const byGroup = new Map<SecretGroup, { given: SecretKey[]; missing: SecretKey[] }>();
  for (const [key, { secret }] of Object.entries(SECRET_KEYS) as [SecretKey, (typeof SECRET_KEYS)[SecretKey]][]) {
    const entry = byGroup.get(secret) ?? { given: [], missing: [] };
    (inputs.secretKeysGiven.has(key) ? entry.given : entry.missing).push(key);
    byGroup.set(secret, entry);
  }
  for (const [group, { given, missing }] of byGroup) {
    const declared: OutOfBandState | undefined = inputs.outOfBand?.[group];
    const reader = inputs.secretReaders[group];
    if (given.length > 0 && declared !== undefined) {
      issues.push({
        key: `${prefix}outOfBandSecrets.${group}`,
        message: `is "${declared}", but ${given.join(", ")} ${given.length === 1 ? "is" : "are"} set: the ${group} secret's value comes from Pulumi or from outside, not both (unset one side)`,
      });
    }
    // When outOfBandSecrets itself is malformed the schema reports it; no declaration is guessed.
    if (given.length === 0 && declared === undefined && reader && inputs.outOfBand !== undefined) {
      issues.push({
        key: `${prefix}outOfBandSecrets.${group}`,
        message:
          `${missing.join(", ")} ${missing.length === 1 ? "is" : "are"} unset, so the ${group} secret would be created empty, and ${reader}. ` +
          `Set ${missing.length === 1 ? "it" : "them"} with \`pulumi config set --secret\`, or declare the value out of band with \`outOfBandSecrets.${group}: pending\` ` +
          `(then nothing that reads it starts until you fill it; docs/secrets.md)`,
      });
    }
    if (given.length > 0 && missing.length > 0) {
      for (const key of missing) {
        issues.push({
          key: `${prefix}${key}`,
          message: `required because ${given.join(", ")} ${given.length === 1 ? "is" : "are"} set: the ${group} secret is written whole (set all of its keys, or none and fill the secret out of band)`,
        });
      }
    }
  }
  return issues;
}

/** Keys that moved, by their old path: a leftover one says where it went rather than only "unknown key". */
const MOVED_KEYS: Readonly<Record<string, string>> = {
  "proxyRouter.imageTag":
    "proxyRouter.router.imageTag / proxyRouter.validator.imageTag (each service takes its own tag, `auto` or pinned, so one can be rolled back alone)",
};

/** `aws:defaultTags` and `aws:allowedAccountIds` as the default provider reads them (the AWS provider validates them). */
function providerDefaults(source: ConfigSource): StackConfig["providerDefaults"] {
  const tags = parseValue(source.values["aws:defaultTags"] ?? "") as { tags?: unknown } | string;
  const accounts = parseValue(source.values["aws:allowedAccountIds"] ?? "");
  const stringRecord = (v: unknown): v is Record<string, string> =>
    typeof v === "object" && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === "string");
  return {
    ...(typeof tags === "object" && stringRecord(tags.tags) ? { defaultTags: { tags: tags.tags } } : {}),
    ...(Array.isArray(accounts) && accounts.every((a) => typeof a === "string")
      ? { allowedAccountIds: accounts as string[] }
      : {}),
  };
}

/** The CLI passes objects and arrays as JSON and scalars as their text. */
function parseValue(value: string): unknown {
  const trimmed = value.trim();
  if (/^[[{]/.test(trimmed) || /^(true|false|-?\d+(\.\d+)?)$/.test(trimmed)) {
    try {
      return JSON.parse(trimmed);
    } catch {
      return value;
    }
  }
  return value;
}

function toConfigIssues(issue: z.core.$ZodIssue, prefix: string): ConfigIssue[] {
  const path = issue.path.map(String);
  const key = (segments: readonly string[]) => `${prefix}${segments.join(".")}`;
  if (issue.code === "unrecognized_keys") {
    const known = knownKeys(StackConfigSchema, path);
    return issue.keys.map((unknownKey) => {
      const moved = MOVED_KEYS[[...path, unknownKey].join(".")];
      if (moved) return { key: key([...path, unknownKey]), message: `unknown key: moved to ${moved}` };
      const suggestion = closest(unknownKey, known);
      return {
        key: key([...path, unknownKey]),
        message: `unknown key${suggestion ? ` (did you mean "${suggestion}"?)` : ""}; known keys here: ${known.join(", ")}`,
      };
    });
  }
  if (issue.code === "invalid_union" && "discriminator" in issue) {
    const options = (issue as { options?: unknown[] }).options ?? [];
    return [{ key: key(path), message: `expected one of ${options.map((o) => JSON.stringify(o)).join(", ")}` }];
  }
  if (issue.code === "invalid_type" && issue.input === undefined) {
    return [{ key: key(path), message: `required (${issue.expected})` }];
  }
  if (issue.code === "invalid_type") {
    return [{ key: key(path), message: `expected ${issue.expected}, got ${describeInput(issue.input)}` }];
  }
  if (issue.code === "invalid_value") {
    return [{ key: key(path), message: `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}` }];
  }
  if (issue.code === "invalid_key") {
    // A record key (e.g. an environment variable name): zod keeps the reason in the nested issues.
    const reasons = issue.issues.map((i) => i.message).join("; ");
    return [{ key: key(path), message: `invalid name: ${reasons || issue.message}` }];
  }
  return [
    { key: key(path.length ? path : ["<root>"]), message: issue.message.replace(/^Invalid (input|option): /, "") },
  ];
}

/** The kind of a bad value, never the value itself (it may be a secret). */
function describeInput(input: unknown): string {
  if (input === null) return "null";
  if (Array.isArray(input)) return "a list";
  return typeof input === "object" ? "an object" : `a ${typeof input}`;
}

interface ZodDefLike {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  options?: z.ZodType[];
  element?: z.ZodType;
  valueType?: z.ZodType;
  in?: z.ZodType;
}

function defOf(schema: z.ZodType): ZodDefLike {
  return (schema as unknown as { _zod: { def: ZodDefLike } })._zod.def;
}

/** The keys the schema accepts at `path` (for "did you mean" on unknown keys). */
export function knownKeys(schema: z.ZodType, path: readonly string[]): string[] {
  const candidates = [schema];
  const keys = new Set<string>();
  const walk = (s: z.ZodType, rest: readonly string[]): void => {
    const def = defOf(s);
    switch (def.type) {
      case "optional":
      case "default":
      case "prefault":
      case "nullable":
        return walk(def.innerType as z.ZodType, rest);
      case "pipe":
        return walk(def.in as z.ZodType, rest);
      case "union":
        return (def.options ?? []).forEach((o) => walk(o, rest));
      case "object": {
        const shape = def.shape ?? {};
        if (rest.length === 0) return Object.keys(shape).forEach((k) => keys.add(k));
        const child = shape[rest[0]];
        if (child) walk(child, rest.slice(1));
        return;
      }
      case "array":
        return walk(def.element as z.ZodType, rest.slice(1));
      case "record":
        return walk(def.valueType as z.ZodType, rest.slice(1));
      default:
        return;
    }
  };
  candidates.forEach((c) => walk(c, path));
  return [...keys];
}

function closest(word: string, options: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const option of options) {
    const d = editDistance(word.toLowerCase(), option.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = option;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(word.length / 4)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length];
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value) && !pulumi.Output.isInstance(value)) {
    Object.freeze(value);
    for (const child of Object.values(value as Record<string, unknown>)) deepFreeze(child);
  }
  return value;
}
