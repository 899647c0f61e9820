import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import type { Environment } from "../lib/environments";
import { PROXY_RESERVED_ENV, ProxyRouterConfig, ProxyServiceConfig } from "../config/schema";
import type { SecretValues } from "../config/load";
import { AwsContext } from "../lib/iam";
import { ProxyServiceKind, ProxyServiceNames, defaultProxyHostLabel } from "../lib/naming";
import type { ClusterRef } from "./cluster";
import { policyExceptionTag } from "../policy/rules/model";
import { ContainerService, SecurityGroupRules, addSecurityGroupRules, keyed } from "./container-service";
import { AppServiceArgs, DeployedServiceRef, appService } from "./service-parts";
import type { DnsTarget } from "./dns-zone";
import { LoadBalancedEndpoint, loadBalancedEndpoint } from "./load-balanced-endpoint";

export type { DnsTarget };

/** The VPC a proxy service runs in. */
export interface NetworkRef {
  /** The VPC of every security group and of the target group. */
  readonly vpcId: pulumi.Input<string>;
  /** Subnets of the internet-facing NLB. */
  readonly publicSubnetIds: pulumi.Input<string[]>;
  /** Subnets of the tasks (no public IP). */
  readonly privateSubnetIds: pulumi.Input<string[]>;
}

export interface ProxyServiceArgs {
  /** `router` (the seller's) or `validator`: the default host label and the config keys errors name. */
  readonly kind: ProxyServiceKind;
  /** The account and region. */
  readonly aws: AwsContext;
  /** The environment (production turns on the NLB's deletion protection by default). */
  readonly env: Environment;
  /** This service's config (`proxyRouter.router` or `proxyRouter.validator`). */
  readonly config: ProxyServiceConfig;
  /** The contract addresses both services read (`proxyRouter.contracts`). */
  readonly contracts: ProxyRouterConfig["contracts"];
  /** Full image reference `repository:tag`, e.g. `ghcr.io/lumerin-protocol/proxy-router:proxy-router-v3.2.1-dev`. */
  readonly image: string;
  /** The tag alone, recorded in SSM, e.g. `proxy-router-v3.2.1-dev`. */
  readonly imageTag: string;
  /** Secret with `{"username","password"}` for a private registry. @default none (a public image) */
  readonly repositoryCredentialsSecretArn?: ProxyRouterConfig["repositoryCredentialsSecretArn"];
  /** Physical names (lib/naming.ts's, with `proxyRouter.<kind>.names` over them). */
  readonly names: ProxyServiceNames;
  /** The cluster the service runs in. */
  readonly cluster: ClusterRef;
  /** The VPC, its public subnets (the NLB) and private subnets (the tasks). */
  readonly network: NetworkRef;
  /** The zone of the public host name. */
  readonly dns: DnsTarget;
  /** KMS key for the service's secret. */
  readonly secretsKmsKeyArn: pulumi.Input<string>;
  /** Values from `pulumi config set --secret`. @default none: the secret is filled out of band */
  readonly secretValues?: SecretValues;
  /** Production: the secret is `protect`ed with a 30-day recovery window. */
  readonly protect: boolean;
  /** Alarms that roll a deployment back (the monitoring's, by name). @default none */
  readonly deploymentAlarmNames?: readonly string[];
  /**
   * Tasks the service is created with: 0 while its secret's value is still to be put in
   * out of band. Later changes of the running count are left alone.
   * @default config.desiredCount
   */
  readonly desiredCount?: number;
}

/** JSON keys of the service secret and the variables the application reads them into. */
export const PROXY_SECRET_KEYS: readonly { readonly env: string; readonly jsonKey: string }[] = [
  { env: "WALLET_PRIVATE_KEY", jsonKey: "wallet_private_key" },
  { env: "ETH_NODE_ADDRESS", jsonKey: "eth_node_address" },
  // Carries the Graph gateway API key in its path: a secret, not configuration.
  { env: "FUTURES_SUBGRAPH_URL", jsonKey: "futures_subgraph_url" },
];

/**
 * One proxy-router process (the seller's router or the validator): its secret,
 * its container service, the SSM parameter recording its deployed tag, and,
 * when enabled, an internet-facing NLB for miners with its DNS name. The web
 * API stays private: no public DNS record points at task addresses (docs/estate.md#flaw-private-ips-public-dns).
 */
export class ProxyService extends pulumi.ComponentResource {
  /** `/{app}/{env}/config`: the wallet key, RPC and subgraph URLs. */
  readonly secret: aws.secretsmanager.Secret;
  readonly containerService: ContainerService;
  /** `/{app}/{env}/image-tag`. */
  readonly imageTagParameter: aws.ssm.Parameter;
  /** What the deploy role, the GitHub variables and the monitoring need. */
  readonly ref: DeployedServiceRef;
  /** The miners' NLB, when the endpoint is enabled. */
  readonly loadBalancer?: aws.lb.LoadBalancer;
  /** Its target group of the tasks, when the endpoint is enabled. */
  readonly targetGroup?: aws.lb.TargetGroup;
  /** Public host name miners use, when the endpoint is enabled. */
  readonly hostName?: string;

  constructor(name: string, args: ProxyServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lumerin:proxy:ProxyService", name, {}, opts);
    const nlbSecurityGroup = minersSecurityGroup(name, args, this);
    const endpoint = stratumEndpoint(name, args, nlbSecurityGroup, this);
    this.loadBalancer = endpoint?.loadBalancer;
    this.targetGroup = endpoint?.targetGroup;
    this.hostName = endpoint?.hostName;

    const app = appService(name, proxyAppServiceArgs(name, args, nlbSecurityGroup, endpoint), this);
    this.secret = app.secret;
    this.imageTagParameter = app.imageTagParameter;
    this.containerService = app.service;
    this.ref = app.ref;
    if (nlbSecurityGroup) stratumToTasks(name, args.config, nlbSecurityGroup, app.service.securityGroupId, this);

    this.registerOutputs({
      serviceName: this.containerService.serviceName,
      secretArn: this.secret.arn,
      imageTagParameter: this.imageTagParameter.name,
      hostName: this.hostName,
    });
  }
}

/** `<name>-nlb-sg` with `<name>-nlb-in-miners`, when the endpoint is on and has security groups (else none). */
export function minersSecurityGroup(
  name: string,
  args: Pick<ProxyServiceArgs, "config" | "names" | "network">,
  parent: pulumi.Resource,
): aws.ec2.SecurityGroup | undefined {
  const { publicEndpoint: endpoint } = args.config;
  if (!endpoint.enabled || !endpoint.securityGroups) return undefined;
  const { names } = args;
  const group = new aws.ec2.SecurityGroup(
    `${name}-nlb-sg`,
    {
      name: names.loadBalancerSecurityGroup,
      description: `${names.loadBalancer}: miners in, stratum to ${names.service}`,
      vpcId: args.network.vpcId,
      tags: { Name: names.loadBalancerSecurityGroup },
    },
    { parent },
  );
  const miners: SecurityGroupRules = {
    miners: {
      description: "Miners connect to the stratum listener",
      protocol: "tcp",
      fromPort: endpoint.listenerPort,
      toPort: endpoint.listenerPort,
      cidrBlocks: endpoint.allowedCidrs,
    },
  };
  addSecurityGroupRules(`${name}-nlb-in`, "ingress", group.id, keyed(miners), parent);
  return group;
}

/** `<name>-nlb-out-stratum-to-tasks`: the NLB reaches the tasks on the stratum port only. */
export function stratumToTasks(
  name: string,
  cfg: ProxyServiceConfig,
  nlbSecurityGroup: aws.ec2.SecurityGroup,
  taskSecurityGroupId: pulumi.Input<string>,
  parent: pulumi.Resource,
): void {
  const toTasks: SecurityGroupRules = {
    "stratum-to-tasks": {
      description: "Stratum and health checks to the tasks",
      protocol: "tcp",
      fromPort: cfg.stratumPort,
      toPort: cfg.stratumPort,
      securityGroupId: taskSecurityGroupId,
    },
  };
  addSecurityGroupRules(`${name}-nlb-out`, "egress", nlbSecurityGroup.id, keyed(toTasks), parent);
}

/** The internet-facing NLB (listener port → stratum port, client IP kept) and `<label>.<zone>`, when enabled. */
export function stratumEndpoint(
  name: string,
  args: Pick<ProxyServiceArgs, "kind" | "env" | "config" | "names" | "network" | "dns">,
  nlbSecurityGroup: aws.ec2.SecurityGroup | undefined,
  parent: pulumi.Resource,
): LoadBalancedEndpoint | undefined {
  const { config: cfg, names } = args;
  const endpoint = cfg.publicEndpoint;
  if (!endpoint.enabled) return undefined;
  return loadBalancedEndpoint(
    name,
    {
      type: "network",
      names: { loadBalancer: names.loadBalancer, targetGroup: names.targetGroup },
      internal: false,
      vpcId: args.network.vpcId,
      subnetIds: args.network.publicSubnetIds,
      // An NLB takes security groups only at creation: adopting one made without keeps it without.
      ...(nlbSecurityGroup
        ? { securityGroupIds: [nlbSecurityGroup.id] }
        : {
            tags: {
              [policyExceptionTag("nlb-security-groups")]: `proxyRouter.${args.kind}.publicEndpoint.securityGroups`,
            },
          }),
      deletionProtection: endpoint.deletionProtection ?? args.env.production,
      targetGroup: {
        port: cfg.stratumPort,
        protocol: "TCP",
        deregistrationDelaySeconds: 0,
        // Pools and contracts see the miner's address, not the load balancer's.
        preserveClientIp: true,
        terminateConnections: true,
        healthCheck: {
          protocol: "TCP",
          port: String(cfg.stratumPort),
          interval: 5,
          timeout: 2,
          healthyThreshold: 2,
          unhealthyThreshold: 2,
        },
      },
      listeners: { listener: { port: endpoint.listenerPort, protocol: "TCP" } },
      hostName: `${endpoint.hostLabel ?? defaultProxyHostLabel(args.kind)}.${args.dns.zoneName}`,
      dns: args.dns,
    },
    parent,
  );
}

/** What the tasks admit: stratum from the NLB (or, from an NLB without a security group, the miners), the API from operators. */
export function proxyIngress(
  args: Pick<ProxyServiceArgs, "kind" | "config">,
  nlbSecurityGroupId: pulumi.Input<string> | undefined,
): SecurityGroupRules {
  const cfg = args.config;
  const endpoint = cfg.publicEndpoint;
  const stratum = { protocol: "tcp", fromPort: cfg.stratumPort, toPort: cfg.stratumPort } as const;
  return {
    ...(nlbSecurityGroupId
      ? {
          "stratum-from-nlb": {
            description: "Stratum from the load balancer",
            ...stratum,
            securityGroupId: nlbSecurityGroupId,
          },
        }
      : {}),
    // An NLB without a security group passes the miners' own addresses (preserved client IP) to the tasks.
    // The tasks then admit the miners' addresses themselves: the adoption's visible policy exception.
    ...(!nlbSecurityGroupId && endpoint.enabled
      ? {
          "stratum-from-miners": {
            description: "Stratum from miners through the load balancer (it has no security group)",
            ...stratum,
            cidrBlocks: endpoint.allowedCidrs,
            tags: {
              [policyExceptionTag("security-groups-not-open-to-the-world")]:
                `proxyRouter.${args.kind}.publicEndpoint.securityGroups`,
            },
          },
        }
      : {}),
    ...(cfg.apiIngressCidrs.length > 0
      ? {
          "api-from-operators": {
            description: "Web API from operators (VPN/VPC)",
            protocol: "tcp",
            fromPort: cfg.webPort,
            toPort: cfg.webPort,
            cidrBlocks: cfg.apiIngressCidrs,
          },
        }
      : {}),
  };
}

/** A proxy forwards hashrate to whichever pool a contract names, on that pool's port. */
const ANY_TCP_OUT: SecurityGroupRules = {
  "any-tcp": {
    description: "Pools, RPC and AWS APIs on any TCP port",
    protocol: "tcp",
    fromPort: 1,
    toPort: 65535,
    cidrBlocks: ["0.0.0.0/0"],
  },
};

/** The proxy's container: environment, its three secrets, stratum and web ports, health check, `nofile`. */
export function proxyContainer(
  args: Pick<ProxyServiceArgs, "config" | "contracts" | "image" | "repositoryCredentialsSecretArn">,
): AppServiceArgs["container"] {
  const cfg = args.config;
  const hc = cfg.healthCheck;
  return {
    image: args.image,
    cpu: cfg.cpu,
    memory: cfg.memory,
    environment: proxyEnvironment(cfg, args.contracts),
    secrets: PROXY_SECRET_KEYS.map((k) => ({ name: k.env, jsonKey: k.jsonKey })),
    ...(args.repositoryCredentialsSecretArn
      ? { repositoryCredentialsSecretArn: args.repositoryCredentialsSecretArn }
      : {}),
    portMappings: [
      { containerPort: cfg.stratumPort, name: "stratum" },
      { containerPort: cfg.webPort, name: "web" },
    ],
    ...(hc.enabled
      ? {
          healthCheck: {
            command: ["CMD-SHELL", `wget -q -O /dev/null http://127.0.0.1:${cfg.webPort}${hc.path} || exit 1`],
            intervalSeconds: hc.intervalSeconds,
            timeoutSeconds: hc.timeoutSeconds,
            retries: hc.retries,
            startPeriodSeconds: hc.startPeriodSeconds,
          },
        }
      : {}),
    ulimits: [{ name: "nofile", softLimit: cfg.ulimitNofile, hardLimit: cfg.ulimitNofile }],
  };
}

/** The proxy as an application service: its secret, tag parameter and container service behind the endpoint. */
export function proxyAppServiceArgs(
  name: string,
  args: ProxyServiceArgs,
  nlbSecurityGroup: aws.ec2.SecurityGroup | undefined,
  endpoint: LoadBalancedEndpoint | undefined,
): AppServiceArgs {
  const { config: cfg, names } = args;
  return {
    aws: args.aws,
    cluster: args.cluster,
    names: { ...names, securityGroup: names.serviceSecurityGroup },
    secret: {
      description: `${name}: ${PROXY_SECRET_KEYS.map((k) => k.jsonKey).join(", ")} (read by ECS at task start only)`,
      kmsKeyArn: args.secretsKmsKeyArn,
      ...(args.secretValues ? { values: args.secretValues } : {}),
      protect: args.protect,
    },
    imageTag: args.imageTag,
    network: { vpcId: args.network.vpcId, subnetIds: args.network.privateSubnetIds },
    container: proxyContainer(args),
    logging: { retentionDays: cfg.logRetentionDays, streamPrefix: `${name}-tsk` },
    deployment: {
      desiredCount: args.desiredCount ?? cfg.desiredCount,
      healthCheckGracePeriodSeconds: 60,
      ...(args.deploymentAlarmNames ? { alarmNames: args.deploymentAlarmNames } : {}),
    },
    ingress: proxyIngress(args, nlbSecurityGroup?.id),
    egress: ANY_TCP_OUT,
    loadBalancers: endpoint ? [{ targetGroupArn: endpoint.targetGroup.arn, containerPort: cfg.stratumPort }] : [],
    enableExecuteCommand: cfg.enableExecuteCommand,
    ...(endpoint ? { hostName: endpoint.hostName } : {}),
    // A target group can only take targets once a listener attaches it to the load balancer.
    ...(endpoint ? { dependsOn: Object.values(endpoint.listeners) } : {}),
  };
}

/** The non-secret settings the proxy-router binary reads (docs/estate.md). */
export function proxyEnvironment(
  cfg: ProxyServiceConfig,
  contracts: ProxyRouterConfig["contracts"],
): Record<string, string> {
  const managed: Record<string, string> = {
    PROXY_ADDRESS: `0.0.0.0:${cfg.stratumPort}`,
    WEB_ADDRESS: `0.0.0.0:${cfg.webPort}`,
    POOL_ADDRESS: cfg.poolAddress,
    FUTURES_ADDRESS: contracts.futures,
    CLONE_FACTORY_ADDRESS: contracts.cloneFactory,
    VALIDATOR_REGISTRY_ADDRESS: contracts.validatorRegistry,
    MULTICALL_ADDRESS: contracts.multicall,
    HASHRATE_SHARE_TIMEOUT: cfg.hashrateShareTimeout,
    ENVIRONMENT: cfg.environmentName,
    LOG_LEVEL_APP: cfg.log.level,
    LOG_JSON: String(cfg.log.json),
    LOG_IS_PROD: String(cfg.log.isProd),
    ...(cfg.webPublicUrl ? { WEB_PUBLIC_URL: cfg.webPublicUrl } : {}),
  };
  // Config validation refuses these first; this guards callers that bypass it.
  const clash = Object.keys(cfg.extraEnvironment).filter((k) => (PROXY_RESERVED_ENV as readonly string[]).includes(k));
  if (clash.length > 0) throw new Error(`extraEnvironment may not redefine ${clash.join(", ")}`);
  return { ...managed, ...cfg.extraEnvironment };
}
