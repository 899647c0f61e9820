import * as pulumi from "@pulumi/pulumi";
import type { Environment } from "../lib/environments";
import type { ProxyRouterConfig, ProxyServiceConfig } from "../config/schema";
import type { SecretValues } from "../config/load";
import { AwsContext } from "../lib/iam";
import {
  PROXY_SERVICE_KEY,
  ProxyServiceKind,
  ProxyServiceNames,
  deploymentAlarmNames,
  proxyServiceNames,
} from "../lib/naming";
import { DeployedServiceRef, deployedServiceRef } from "./service-parts";
import type { ClusterRef } from "./cluster";
import { LOG_METRICS } from "./monitoring/log-metrics";
import { DnsTarget, NetworkRef, ProxyService } from "./proxy-service";
import { CodeDeploy, SystemFacets, ecsDeployVariables } from "./system";

export interface ProxyRouterArgs {
  /** The account, region and partition the services run in. */
  readonly aws: AwsContext;
  /** The environment: names, tag suffix, production or not. */
  readonly env: Environment;
  /** The `proxyRouter` section of the stack configuration. */
  readonly config: ProxyRouterConfig;
  /** Resolved images per service (lib/image-resolution.ts); a disabled service's is ignored. */
  readonly images: Readonly<Record<ProxyServiceKind, { readonly image: string; readonly tag: string }>>;
  /** The shared ECS cluster both services run on. */
  readonly cluster: ClusterRef;
  /** The VPC and subnets: tasks in the private subnets, the load balancers in the public ones. */
  readonly network: NetworkRef;
  /** The hosted zone the services' records go into. */
  readonly dns: DnsTarget;
  /** Encrypts the services' secrets. */
  readonly secretsKmsKeyArn: pulumi.Input<string>;
  /** Values from `pulumi config set --secret`, per service; a service without any has its secret filled out of band. */
  readonly secretValues: Readonly<Partial<Record<ProxyServiceKind, SecretValues>>>;
  /**
   * Services whose secret's value is still to be put in out of band: they are created without tasks.
   * @default none
   */
  readonly pendingSecrets?: ReadonlySet<ProxyServiceKind>;
  /** Whether the monitoring's alarms (they exist when monitoring alarms are on) roll the services' deployments back. */
  readonly deploymentAlarms: boolean;
  /** How long a code deploy waits for one service's rollout, bake time included (lib/rollout.ts). */
  readonly rolloutDeadlineMinutes: number;
  /** Protect the stateful parts (always in production). */
  readonly protect: boolean;
}

export type { DeployedServiceRef } from "./service-parts";

/** Physical names for one service: the estate's defaults with the stack's overrides. */
export function resolvedProxyNames(
  kind: ProxyServiceKind,
  env: Environment,
  region: string,
  cfg: ProxyServiceConfig,
): ProxyServiceNames {
  return { ...proxyServiceNames(kind, env.name, region, cfg.stratumPort), ...cfg.names };
}

/**
 * The proxy-router system: the seller's router and the validator,
 * each a ProxyService on the shared cluster. A disabled service registers nothing.
 */
export class ProxyRouter extends pulumi.ComponentResource {
  readonly services: Readonly<Partial<Record<ProxyServiceKind, ProxyService>>>;
  readonly refs: Readonly<Partial<Record<ProxyServiceKind, DeployedServiceRef>>>;

  /** What the stack's composition needs of the proxy-router system. */
  readonly facets: SystemFacets;

  constructor(name: string, args: ProxyRouterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lumerin:proxy:ProxyRouter", name, {}, opts);
    const services: Partial<Record<ProxyServiceKind, ProxyService>> = {};
    const refs: Partial<Record<ProxyServiceKind, DeployedServiceRef>> = {};
    for (const kind of PROXY_KINDS) {
      if (!args.config[kind].enabled) continue;
      services[kind] = proxyService(kind, args, this);
      refs[kind] = serviceRef(kind, services[kind], args);
    }
    this.services = services;
    this.refs = refs;
    this.facets = proxyFacets(args, services, refs);
    this.registerOutputs({
      router: refs.router?.serviceName,
      validator: refs.validator?.serviceName,
    });
  }
}

/** In deploy order: the router first, then the validator. */
const PROXY_KINDS = ["router", "validator"] as const;

/** The tasks a service is created with: none while its secret's value is pending. */
function taskCount(kind: ProxyServiceKind, args: ProxyRouterArgs): number {
  return args.pendingSecrets?.has(kind) ? 0 : args.config[kind].desiredCount;
}

function proxyService(kind: ProxyServiceKind, args: ProxyRouterArgs, parent: pulumi.Resource): ProxyService {
  const cfg = args.config[kind];
  const tasks = taskCount(kind, args);
  return new ProxyService(
    PROXY_SERVICE_KEY[kind],
    {
      kind,
      aws: args.aws,
      env: args.env,
      config: cfg,
      contracts: args.config.contracts,
      image: args.images[kind].image,
      imageTag: args.images[kind].tag,
      repositoryCredentialsSecretArn: args.config.repositoryCredentialsSecretArn,
      names: resolvedProxyNames(kind, args.env, args.aws.region, cfg),
      cluster: args.cluster,
      network: args.network,
      dns: args.dns,
      secretsKmsKeyArn: args.secretsKmsKeyArn,
      secretValues: args.secretValues[kind],
      // The monitoring's alarms roll deployments back, besides the circuit breaker.
      ...(args.deploymentAlarms
        ? {
            deploymentAlarmNames: deploymentAlarmNames(PROXY_SERVICE_KEY[kind], args.env.name, {
              runningTasks: tasks > 0,
              loadBalancer5xx: false,
            }),
          }
        : {}),
      desiredCount: tasks,
      protect: args.protect,
    },
    { parent },
  );
}

function serviceRef(kind: ProxyServiceKind, service: ProxyService, args: ProxyRouterArgs): DeployedServiceRef {
  const names = resolvedProxyNames(kind, args.env, args.aws.region, args.config[kind]);
  return deployedServiceRef(service.containerService, {
    taskFamily: names.taskFamily,
    containerName: names.container,
    imageTagParameter: service.imageTagParameter,
    imageTagParameterName: names.imageTagParameter,
    secret: service.secret,
    ...(service.hostName ? { hostName: service.hostName } : {}),
  });
}

/** The proxy-router repository deploys both services; the monitoring watches them and their load balancers. */
function proxyFacets(
  args: ProxyRouterArgs,
  services: Partial<Record<ProxyServiceKind, ProxyService>>,
  refs: Partial<Record<ProxyServiceKind, DeployedServiceRef>>,
): SystemFacets {
  const running = PROXY_KINDS.flatMap((kind) => {
    const ref = refs[kind];
    const service = services[kind];
    return ref && service ? [{ kind, key: PROXY_SERVICE_KEY[kind], ref, service }] : [];
  });
  const codeDeploys: CodeDeploy[] = running.map(({ kind, key, ref }) => {
    const names = resolvedProxyNames(kind, args.env, args.aws.region, args.config[kind]);
    return {
      app: key,
      cluster: args.cluster.name,
      service: names.service,
      container: names.container,
      imageRepository: args.config.image,
      tagPrefix: args.config.github.tagPrefix,
      tagParameter: names.imageTagParameter,
      deployable: ref,
    };
  });
  return {
    repository: "proxy-router",
    deploys: { services: running.map((s) => s.ref), sites: [], functions: [] },
    codeDeploys,
    githubVariables: ecsDeployVariables(codeDeploys, args.env, args.rolloutDeadlineMinutes),
    watched: {
      services: running.map(({ kind, key, ref }) => ({
        key,
        clusterName: args.cluster.name,
        serviceName: ref.serviceName,
        desiredCount: taskCount(kind, args),
      })),
      databases: [],
      networkLoadBalancers: running.flatMap(({ key, service }) =>
        service.loadBalancer && service.targetGroup
          ? [
              {
                key,
                loadBalancerArnSuffix: service.loadBalancer.arnSuffix,
                targetGroupArnSuffix: service.targetGroup.arnSuffix,
              },
            ]
          : [],
      ),
      loadBalancers: [],
      functions: [],
      workflows: [],
      logs: running.map(({ key, ref }) => ({ key, logGroupName: ref.logGroupName, metrics: LOG_METRICS[key] })),
    },
    writtenSecretArns: running.flatMap(({ kind, ref }) => (args.secretValues[kind] ? [ref.secretArn] : [])),
  };
}
