/**
 * Physical names, derived in one place. Defaults follow the names the existing
 * Terraform gave the live resources (ESTATE.md sections 3 and 11) so that a stack
 * can adopt them (`pulumi import`) instead of recreating them; new resources
 * follow `{app}-{env}`. Every default here can be overridden per stack.
 */
import type { EnvironmentName } from "../config/environments";

/** `us-east-1` → `use1`, `eu-central-1` → `euc1`: the estate's region short form. */
export function regionShort(region: string): string {
  const match = /^([a-z]{2})-([a-z]+)-(\d+)$/.exec(region);
  if (!match) {
    throw new Error(`cannot shorten region "${region}": expected a form like us-east-1`);
  }
  const [, area, direction, index] = match;
  const dir = direction
    .split(/(?=north|south|east|west|central)/)
    .map((part) => part[0])
    .join("");
  return `${area}${dir}${index}`;
}

/** `{app}-{env}`: the default shape of every new physical name. */
export function appEnv(app: string, env: EnvironmentName): string {
  return `${app}-${env}`;
}

/** The proxy-router system's names as the live deployment has them. */
export interface ProxyServiceNames {
  readonly service: string;
  readonly taskFamily: string;
  readonly container: string;
  readonly logGroup: string;
  readonly secret: string;
  readonly loadBalancer: string;
  readonly targetGroup: string;
  readonly imageTagParameter: string;
  readonly executionRole: string;
  readonly taskRole: string;
  readonly serviceSecurityGroup: string;
  readonly loadBalancerSecurityGroup: string;
}

export type ProxyServiceKind = "router" | "validator";

export function proxyServiceNames(kind: ProxyServiceKind, env: EnvironmentName, region: string): ProxyServiceNames {
  const app = kind === "router" ? "proxy-router" : "proxy-validator";
  const short = regionShort(region);
  return {
    service: `svc-${app}-${env}-${short}`,
    taskFamily: `tsk-${app}`,
    // The live task definitions call the container `proxy-router-container` in both services.
    container: "proxy-router-container",
    logGroup: `bedrock-${env}-${app}-log-group`,
    // Seed 000's names; the live secrets are `{dev|stg|prd}-<app>-config` (override to adopt).
    secret: `/${app}/${env}/config`,
    loadBalancer: `alb-${app}-ext-${short}`,
    targetGroup: `alb-tg-${app}-3333-${short}`,
    // Seed 003: the tag a code deploy last rolled out, `/{app}/{env}/image-tag`.
    imageTagParameter: `/${app}/${env}/image-tag`,
    executionRole: `${appEnv(app, env)}-execution`,
    taskRole: `${appEnv(app, env)}-task`,
    serviceSecurityGroup: `${appEnv(app, env)}-service`,
    loadBalancerSecurityGroup: `${appEnv(app, env)}-nlb`,
  };
}

export interface ClusterNames {
  readonly cluster: string;
  readonly execLogGroup: string;
}

export function clusterNames(env: EnvironmentName, region: string): ClusterNames {
  return {
    cluster: `ecs-proxy-router-${env}-${regionShort(region)}`,
    execLogGroup: `bedrock-${env}-proxy-router-ecs-exec`,
  };
}

/** The stack's customer-managed key for secrets and exec-session logs. */
export function platformKeyAlias(env: EnvironmentName): string {
  return `alias/${appEnv("lumerin-platform", env)}`;
}
