import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import type { Environment } from "../config/environments";
import { PROXY_RESERVED_ENV, ProxyRouterConfig, ProxyServiceConfig } from "../config/schema";
import type { SecretValues } from "../config/load";
import { AwsContext } from "../lib/iam";
import { ProxyServiceKind, ProxyServiceNames, defaultProxyHostLabel } from "../lib/naming";
import type { ClusterRef } from "./cluster";
import { policyExceptionTag } from "../policy/rules/model";
import { ContainerService, SecurityGroupRule, addSecurityGroupRules } from "./container-service";
import { DeployedServiceRef, appService } from "./service-parts";
import { type DnsTarget, zoneRecord } from "./dns-zone";

export type { DnsTarget };

export interface NetworkRef {
  readonly vpcId: pulumi.Input<string>;
  readonly publicSubnetIds: pulumi.Input<string[]>;
  readonly privateSubnetIds: pulumi.Input<string[]>;
}

export interface ProxyServiceArgs {
  readonly kind: ProxyServiceKind;
  readonly aws: AwsContext;
  readonly env: Environment;
  readonly config: ProxyServiceConfig;
  readonly contracts: ProxyRouterConfig["contracts"];
  /** Full image reference and the tag alone (recorded in SSM). */
  readonly image: string;
  readonly imageTag: string;
  readonly repositoryCredentialsSecretArn?: string;
  readonly names: ProxyServiceNames;
  readonly cluster: ClusterRef;
  readonly network: NetworkRef;
  readonly dns: DnsTarget;
  /** KMS key for the service's secret. */
  readonly secretsKmsKeyArn: pulumi.Input<string>;
  /** Values from `pulumi config set --secret`; absent when the secret is filled out of band. */
  readonly secretValues?: SecretValues;
  readonly protect: boolean;
  /** Alarms that roll a deployment back (the monitoring's, by name). */
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
  readonly secret: aws.secretsmanager.Secret;
  readonly containerService: ContainerService;
  readonly imageTagParameter: aws.ssm.Parameter;
  /** What the deploy role, the GitHub variables and the monitoring need. */
  readonly ref: DeployedServiceRef;
  readonly loadBalancer?: aws.lb.LoadBalancer;
  readonly targetGroup?: aws.lb.TargetGroup;
  /** Public host name miners use, when the endpoint is enabled. */
  readonly hostName?: string;

  constructor(name: string, args: ProxyServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lumerin:proxy:ProxyService", name, {}, opts);
    const { config: cfg, names } = args;
    const parent = { parent: this };

    // ---------------------------------------------------------------- public endpoint (miners → stratum)
    const endpoint = cfg.publicEndpoint;
    let nlbSecurityGroup: aws.ec2.SecurityGroup | undefined;
    let listener: aws.lb.Listener | undefined;
    if (endpoint.enabled && endpoint.securityGroups) {
      nlbSecurityGroup = new aws.ec2.SecurityGroup(
        `${name}-nlb-sg`,
        {
          name: names.loadBalancerSecurityGroup,
          description: `${names.loadBalancer}: miners in, stratum to ${names.service}`,
          vpcId: args.network.vpcId,
          tags: { Name: names.loadBalancerSecurityGroup },
        },
        parent,
      );
      addSecurityGroupRules(
        `${name}-nlb-in`,
        "ingress",
        nlbSecurityGroup.id,
        [
          {
            key: "miners",
            description: "Miners connect to the stratum listener",
            protocol: "tcp",
            fromPort: endpoint.listenerPort,
            toPort: endpoint.listenerPort,
            cidrBlocks: endpoint.allowedCidrs,
          },
        ],
        this,
      );
    }
    if (endpoint.enabled) {
      this.loadBalancer = new aws.lb.LoadBalancer(
        `${name}-nlb`,
        {
          name: names.loadBalancer,
          loadBalancerType: "network",
          internal: false,
          subnets: args.network.publicSubnetIds,
          // An NLB takes security groups only at creation: adopting one made without keeps it without.
          ...(nlbSecurityGroup
            ? { securityGroups: [nlbSecurityGroup.id] }
            : {
                tags: {
                  [policyExceptionTag("nlb-security-groups")]: `proxyRouter.${args.kind}.publicEndpoint.securityGroups`,
                },
              }),
          enableCrossZoneLoadBalancing: true,
          enableDeletionProtection: endpoint.deletionProtection ?? args.env.production,
        },
        parent,
      );
      this.targetGroup = new aws.lb.TargetGroup(
        `${name}-tg`,
        {
          name: names.targetGroup,
          port: cfg.stratumPort,
          protocol: "TCP",
          targetType: "ip",
          vpcId: args.network.vpcId,
          // Pools and contracts see the miner's address, not the load balancer's.
          preserveClientIp: "true",
          connectionTermination: true,
          deregistrationDelay: 0,
          targetHealthStates: [{ enableUnhealthyConnectionTermination: true }],
          healthCheck: {
            protocol: "TCP",
            port: String(cfg.stratumPort),
            interval: 5,
            timeout: 2,
            healthyThreshold: 2,
            unhealthyThreshold: 2,
          },
        },
        parent,
      );
      listener = new aws.lb.Listener(
        `${name}-listener`,
        {
          loadBalancerArn: this.loadBalancer.arn,
          port: endpoint.listenerPort,
          protocol: "TCP",
          defaultActions: [{ type: "forward", targetGroupArn: this.targetGroup.arn }],
        },
        parent,
      );
      const label = endpoint.hostLabel ?? defaultProxyHostLabel(args.kind);
      this.hostName = `${label}.${args.dns.zoneName}`;
      zoneRecord(
        `${name}-dns`,
        args.dns,
        {
          name: this.hostName,
          type: "A",
          aliases: [{ name: this.loadBalancer.dnsName, zoneId: this.loadBalancer.zoneId, evaluateTargetHealth: true }],
        },
        { parent: this },
        `${this.hostName} A`,
      );
    }

    // ---------------------------------------------------------------- the service
    const ingress: SecurityGroupRule[] = [];
    if (nlbSecurityGroup) {
      ingress.push({
        key: "stratum-from-nlb",
        description: "Stratum from the load balancer",
        protocol: "tcp",
        fromPort: cfg.stratumPort,
        toPort: cfg.stratumPort,
        securityGroupId: nlbSecurityGroup.id,
      });
    } else if (endpoint.enabled) {
      // An NLB without a security group passes the miners' own addresses (preserved client IP) to the tasks.
      // The tasks then admit the miners' addresses themselves: the adoption's visible policy exception.
      ingress.push({
        key: "stratum-from-miners",
        description: "Stratum from miners through the load balancer (it has no security group)",
        protocol: "tcp",
        fromPort: cfg.stratumPort,
        toPort: cfg.stratumPort,
        cidrBlocks: endpoint.allowedCidrs,
        tags: {
          [policyExceptionTag("security-groups-not-open-to-the-world")]:
            `proxyRouter.${args.kind}.publicEndpoint.securityGroups`,
        },
      });
    }
    if (cfg.apiIngressCidrs.length > 0) {
      ingress.push({
        key: "api-from-operators",
        description: "Web API from operators (VPN/VPC)",
        protocol: "tcp",
        fromPort: cfg.webPort,
        toPort: cfg.webPort,
        cidrBlocks: cfg.apiIngressCidrs,
      });
    }

    const app = appService(
      name,
      {
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
        container: {
          image: args.image,
          cpu: cfg.cpu,
          memory: cfg.memory,
          environment: proxyEnvironment(cfg, args.contracts),
          secrets: PROXY_SECRET_KEYS.map((k) => ({ name: k.env, jsonKey: k.jsonKey })),
          repositoryCredentialsSecretArn: args.repositoryCredentialsSecretArn,
          portMappings: [
            { containerPort: cfg.stratumPort, name: "stratum" },
            { containerPort: cfg.webPort, name: "web" },
          ],
          healthCheck: cfg.healthCheck.enabled
            ? {
                command: [
                  "CMD-SHELL",
                  `wget -q -O /dev/null http://127.0.0.1:${cfg.webPort}${cfg.healthCheck.path} || exit 1`,
                ],
                intervalSeconds: cfg.healthCheck.intervalSeconds,
                timeoutSeconds: cfg.healthCheck.timeoutSeconds,
                retries: cfg.healthCheck.retries,
                startPeriodSeconds: cfg.healthCheck.startPeriodSeconds,
              }
            : undefined,
          ulimits: [{ name: "nofile", softLimit: cfg.ulimitNofile, hardLimit: cfg.ulimitNofile }],
        },
        logging: { retentionDays: cfg.logRetentionDays, streamPrefix: `${name}-tsk` },
        deployment: {
          desiredCount: args.desiredCount ?? cfg.desiredCount,
          healthCheckGracePeriodSeconds: 60,
          ...(args.deploymentAlarmNames ? { alarmNames: args.deploymentAlarmNames } : {}),
        },
        ingress: Object.fromEntries(ingress.map(({ key, ...rule }) => [key, rule])),
        // A proxy forwards hashrate to whichever pool a contract names, on that pool's port.
        egress: {
          "any-tcp": {
            description: "Pools, RPC and AWS APIs on any TCP port",
            protocol: "tcp",
            fromPort: 1,
            toPort: 65535,
            cidrBlocks: ["0.0.0.0/0"],
          },
        },
        loadBalancers: this.targetGroup
          ? [{ targetGroupArn: this.targetGroup.arn, containerPort: cfg.stratumPort }]
          : [],
        enableExecuteCommand: cfg.enableExecuteCommand,
        ...(this.hostName ? { hostName: this.hostName } : {}),
        // A target group can only take targets once a listener attaches it to the load balancer.
        ...(listener ? { dependsOn: [listener] } : {}),
      },
      this,
    );
    this.secret = app.secret;
    this.imageTagParameter = app.imageTagParameter;
    this.containerService = app.service;
    this.ref = app.ref;

    if (nlbSecurityGroup) {
      addSecurityGroupRules(
        `${name}-nlb-out`,
        "egress",
        nlbSecurityGroup.id,
        [
          {
            key: "stratum-to-tasks",
            description: "Stratum and health checks to the tasks",
            protocol: "tcp",
            fromPort: cfg.stratumPort,
            toPort: cfg.stratumPort,
            securityGroupId: this.containerService.securityGroupId,
          },
        ],
        this,
      );
    }

    this.registerOutputs({
      serviceName: this.containerService.serviceName,
      secretArn: this.secret.arn,
      imageTagParameter: this.imageTagParameter.name,
      hostName: this.hostName,
    });
  }
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
