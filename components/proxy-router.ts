import * as pulumi from "@pulumi/pulumi";
import type { Environment } from "../config/environments";
import type { ProxyRouterConfig, ProxyServiceConfig } from "../config/schema";
import type { SecretValues } from "../config/load";
import { AwsContext } from "../lib/iam";
import { DeployedServiceRef, deployedServiceRef } from "./service-parts";
import { ProxyServiceKind, ProxyServiceNames, proxyServiceNames } from "../lib/naming";
import type { ClusterRef } from "./cluster";
import { DnsTarget, NetworkRef, ProxyService } from "./proxy-service";

export interface ProxyRouterArgs {
  readonly aws: AwsContext;
  readonly env: Environment;
  readonly config: ProxyRouterConfig;
  /** Resolved images per service (see lib/image-resolution). */
  readonly images: Readonly<Record<ProxyServiceKind, { readonly image: string; readonly tag: string }>>;
  readonly cluster: ClusterRef;
  readonly network: NetworkRef;
  readonly dns: DnsTarget;
  readonly secretsKmsKeyArn: pulumi.Input<string>;
  readonly secretValues: Readonly<Partial<Record<ProxyServiceKind, SecretValues>>>;
  /** Per service, the tasks it is created with. @default each service's `desiredCount` */
  readonly desiredCounts?: Readonly<Partial<Record<ProxyServiceKind, number>>>;
  /** Per service, the alarms that roll its deployments back (the monitoring's, by name). */
  readonly deploymentAlarmNames?: Readonly<Partial<Record<ProxyServiceKind, readonly string[]>>>;
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

  constructor(name: string, args: ProxyRouterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lumerin:proxy:ProxyRouter", name, {}, opts);
    const services: Partial<Record<ProxyServiceKind, ProxyService>> = {};
    const refs: Partial<Record<ProxyServiceKind, DeployedServiceRef>> = {};

    for (const kind of ["router", "validator"] as const) {
      const cfg = args.config[kind];
      if (!cfg.enabled) continue;
      const names = resolvedProxyNames(kind, args.env, args.aws.region, cfg);
      const logical = kind === "router" ? "proxy-router" : "proxy-validator";
      const service = new ProxyService(
        logical,
        {
          kind,
          aws: args.aws,
          env: args.env,
          config: cfg,
          contracts: args.config.contracts,
          image: args.images[kind].image,
          imageTag: args.images[kind].tag,
          repositoryCredentialsSecretArn: args.config.repositoryCredentialsSecretArn,
          names,
          cluster: args.cluster,
          network: args.network,
          dns: args.dns,
          secretsKmsKeyArn: args.secretsKmsKeyArn,
          secretValues: args.secretValues[kind],
          ...(args.deploymentAlarmNames?.[kind] ? { deploymentAlarmNames: args.deploymentAlarmNames[kind] } : {}),
          ...(args.desiredCounts?.[kind] !== undefined ? { desiredCount: args.desiredCounts[kind] } : {}),
          protect: args.protect,
        },
        { parent: this },
      );
      services[kind] = service;
      refs[kind] = deployedServiceRef(service.containerService, {
        taskFamily: names.taskFamily,
        containerName: names.container,
        imageTagParameter: service.imageTagParameter,
        imageTagParameterName: names.imageTagParameter,
        secret: service.secret,
        ...(service.hostName ? { hostName: service.hostName } : {}),
      });
    }

    this.services = services;
    this.refs = refs;
    this.registerOutputs({
      router: refs.router?.serviceName,
      validator: refs.validator?.serviceName,
    });
  }
}
