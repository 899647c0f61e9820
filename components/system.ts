/**
 * What a system (the proxy router, the futures marketplace) hands the stack's
 * composition, in one shape for every system: what its repository deploys,
 * the GitHub variables that repository's workflows read, what the monitoring
 * watches, and which secrets the stack writes a value into. `stack.ts` builds
 * the deploy identity, the GitHub environments and the monitoring from these
 * facets alone, never from a system's insides.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { Environment } from "../lib/environments";
import { pinnedTagPattern } from "../lib/image-tags";
import type { DeployableFunction, DeployableService, DeployableSite } from "../lib/deployables";
import { EcsDeployTarget, ecsDeployTargetsVariable } from "./github-environments";
import type { MonitoringTargets } from "./monitoring/monitoring";

/** The lists the monitoring watches; a system fills the ones it has (every list given, empty or not). */
export type WatchedParts = Required<Omit<MonitoringTargets, "site">> & Pick<MonitoringTargets, "site">;

/** The deploy repositories of the estate, by their key in logical names. */
export type DeployRepositoryKey = "proxy-router" | "futures";

export interface SystemFacets {
  /** The GitHub repository that deploys this system's code, by its key (`proxy-router`, `futures`). */
  readonly repository: DeployRepositoryKey;
  /** Everything that repository's deploy role may deploy, and nothing else. */
  readonly deploys: {
    readonly services: readonly DeployableService[];
    readonly sites: readonly DeployableSite[];
    readonly functions: readonly DeployableFunction[];
  };
  /**
   * The repository's GitHub environment variables (never a credential): the
   * cluster and services with what the image-deploy workflow needs, and the
   * other deployment facts its workflows read. The stack adds the role and region.
   */
  readonly githubVariables: Readonly<Record<string, pulumi.Input<string>>>;
  /** What the monitoring watches of this system. */
  readonly watched: WatchedParts;
  /** Secrets whose value this stack writes (from `pulumi config set --secret`): a preview's refresh reads them. */
  readonly writtenSecretArns: readonly pulumi.Input<string>[];
  /** The ECS services whose image the repository deploys, in deploy order (image-deploy's and the deploy runner's targets). */
  readonly codeDeploys: readonly CodeDeploy[];
}

/** One ECS service whose image a code deploy changes: where it runs and what a deploy needs to know. */
export interface CodeDeploy {
  /** The app's name in deploy requests and in the deploy runner's allowlist (`proxy-router`, `notifications`...). */
  readonly app: string;
  /** The cluster's name. */
  readonly cluster: string;
  /** The service's name. */
  readonly service: string;
  /** The container whose image a deploy replaces; every other container stays as it runs. */
  readonly container: string;
  /** The image repository, without a tag. */
  readonly imageRepository: string;
  /** The app's release-tag prefix (`proxy-router-`, or `""` for plain tags). */
  readonly tagPrefix: string;
  /** The SSM parameter that records the tag the service runs. */
  readonly tagParameter: string;
  /** The service's ARN, task family, roles and tag parameter ARN: the bounds of whoever deploys it. */
  readonly deployable: DeployableService;
}

/** How many things a repository deploys: a repository with nothing to deploy gets no role. */
export function deployCount(d: SystemFacets["deploys"]): number {
  return d.services.length + d.sites.length + d.functions.length;
}

/** The systems' watched parts, list by list, in the systems' order. */
export function mergeWatched(systems: readonly SystemFacets[]): WatchedParts {
  const site = systems.map((s) => s.watched.site).find((s) => s !== undefined);
  return {
    services: systems.flatMap((s) => s.watched.services),
    databases: systems.flatMap((s) => s.watched.databases),
    networkLoadBalancers: systems.flatMap((s) => s.watched.networkLoadBalancers),
    loadBalancers: systems.flatMap((s) => s.watched.loadBalancers),
    functions: systems.flatMap((s) => s.watched.functions),
    workflows: systems.flatMap((s) => s.watched.workflows),
    logs: systems.flatMap((s) => s.watched.logs),
    ...(site ? { site } : {}),
  };
}

/**
 * The image-deploy workflow's variables for a system's ECS services, in deploy
 * order: the cluster, the services' names, and per service what a deploy needs
 * (`ECS_DEPLOY_TARGETS`, JSON). None when the system runs no ECS service.
 */
export function ecsDeployVariables(
  deploys: readonly CodeDeploy[],
  env: Pick<Environment, "tagSuffix">,
  rolloutDeadlineMinutes: number,
): Record<string, pulumi.Input<string>> {
  if (deploys.length === 0) return {};
  const targets: EcsDeployTarget[] = deploys.map((d) => ({
    service: d.service,
    container: d.container,
    image: d.imageRepository,
    // The workflow refuses a tag that is not a release of this environment, exactly as the program does.
    tagPattern: pinnedTagPattern({ prefix: d.tagPrefix, suffix: env.tagSuffix }),
    imageTagParameter: d.tagParameter,
    rolloutDeadlineMinutes,
  }));
  return {
    ECS_CLUSTER: deploys[0].cluster,
    ECS_SERVICES: deploys.map((d) => d.service).join(","),
    ECS_DEPLOY_TARGETS: ecsDeployTargetsVariable(targets),
  };
}
