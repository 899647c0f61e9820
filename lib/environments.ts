/**
 * The environment table: the one module that spells a branch, a tag suffix, a
 * GitHub environment or a DNS zone. Everything else asks this module.
 *
 * `dev` ← branch `dev` (tags vX.Y.Z-dev), `stg` ← `stg` (vX.Y.Z-stg),
 * `lmn` (production) ← `main` (vX.Y.Z). The proxy-router repository's GitHub
 * environments are named after the branches (`dev`, `stg`, `main`).
 */

export const ENVIRONMENT_NAMES = ["dev", "stg", "lmn"] as const;
export type EnvironmentName = (typeof ENVIRONMENT_NAMES)[number];

export interface Environment {
  /** Stack and environment name: `dev`, `stg`, `lmn`. */
  readonly name: EnvironmentName;
  /** The only branch whose workflows may deploy to this environment. */
  readonly branch: string;
  /** Release tags for this environment end with this suffix (`""` in production). */
  readonly tagSuffix: string;
  /** The GitHub environment the deploy jobs run in (its branch policy admits only `branch`). */
  readonly githubEnvironment: string;
  /** The public DNS zone of this environment's host names. */
  readonly dnsZone: string;
  /**
   * The account that hosts `dnsZone` when it is not the environment's own
   * (lmn: `lumerin.io` lives in titanio-prd). Absent: the zone is in the stack's account.
   */
  readonly dnsZoneAccount?: string;
  /** Production: stateful resources protected, deletion protection on. */
  readonly production: boolean;
  /** The estate's `account_lifecycle` (lmn is `prd`); the live secrets use it as a prefix. */
  readonly lifecycle: string;
}

const TABLE: Readonly<Record<EnvironmentName, Environment>> = Object.freeze({
  dev: Object.freeze({
    name: "dev",
    branch: "dev",
    tagSuffix: "-dev",
    githubEnvironment: "dev",
    dnsZone: "dev.lumerin.io",
    production: false,
    lifecycle: "dev",
  }),
  stg: Object.freeze({
    name: "stg",
    branch: "stg",
    tagSuffix: "-stg",
    githubEnvironment: "stg",
    dnsZone: "stg.lumerin.io",
    production: false,
    lifecycle: "stg",
  }),
  lmn: Object.freeze({
    name: "lmn",
    branch: "main",
    tagSuffix: "",
    githubEnvironment: "main",
    dnsZone: "lumerin.io",
    dnsZoneAccount: "titanio-prd",
    production: true,
    lifecycle: "prd",
  }),
});

export function isEnvironmentName(value: unknown): value is EnvironmentName {
  return typeof value === "string" && (ENVIRONMENT_NAMES as readonly string[]).includes(value);
}

export function environment(name: EnvironmentName): Environment {
  return TABLE[name];
}

/** `futures` → `futures.dev.lumerin.io` (dev), `futures.lumerin.io` (lmn). */
export function hostName(env: Environment, label: string, zone: string = env.dnsZone): string {
  return `${label}.${zone}`;
}
