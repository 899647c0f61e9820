import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { Environment, hostName } from "../../lib/environments";
import type { FuturesConfig } from "../../config/futures";
import type { SecretValues } from "../../config/load";
import { AwsContext } from "../../lib/iam";
import { FuturesNames, deploymentAlarmNames, futuresNames } from "../../lib/naming";
import { Cluster } from "../cluster";
import type { DeployedServiceRef } from "../service-parts";
import type { DnsTarget, NetworkRef } from "../proxy-service";
import { LOG_METRICS, LogMetric, MARKET_MAKER_FUNCTION_LOG_METRICS } from "../monitoring/log-metrics";
import { CodeDeploy, SystemFacets, WatchedParts, ecsDeployVariables } from "../system";
import { MarginCall, MarginCallSecretKey } from "./margin-call";
import { MarketMaker, MarketMakerSecretKey } from "./market-maker";
import { Notifications } from "./notifications";
import { FuturesUi } from "./ui";

/** An image as resolved before any resource is registered. */
export interface ResolvedImageRef {
  /** `repository:tag`. */
  readonly image: string;
  readonly tag: string;
}

export interface FuturesArgs {
  /** The account, region and partition the marketplace runs in. */
  readonly aws: AwsContext;
  /** The environment: names, tag suffix, production or not. */
  readonly env: Environment;
  /** The `futures` section of the stack configuration. */
  readonly config: FuturesConfig;
  /** The VPC and subnets: tasks, functions and the database in the private subnets. */
  readonly network: NetworkRef;
  /** The hosted zone the site's and the notifications endpoint's records go into. */
  readonly dns: DnsTarget;
  /** Encrypts the services' secrets and the cluster's exec-session logs. */
  readonly platformKeyArn: pulumi.Input<string>;
  /** The cluster's exec-session log group (the platform key's policy names it). */
  readonly clusterExecLogGroupName: string;
  /** A provider in us-east-1 (CloudFront's certificate and web ACL); required when the UI is enabled. @default none */
  readonly globalProvider?: aws.Provider;
  /** Images of the enabled container services. */
  readonly images: { readonly marketMaker?: ResolvedImageRef; readonly notifications?: ResolvedImageRef };
  /** Values from `pulumi config set --secret`, per secret; absent ones are filled out of band. */
  readonly secretValues: {
    readonly marketMaker?: SecretValues;
    readonly notifications?: SecretValues;
    readonly marginCall?: SecretValues;
  };
  /** Protect the stateful parts (always in production). */
  readonly protect: boolean;
  /** The monitoring's alarms roll the services' deployments back (they exist when monitoring alarms are on). */
  readonly deploymentAlarms: boolean;
  /**
   * Secrets whose value is still to be put in out of band: their service is created
   * without tasks, the margin call without its schedules, the market maker Lambda paused.
   * @default none
   */
  readonly pendingSecrets?: ReadonlySet<"marketMaker" | "notifications" | "marginCall">;
  /** How long a code deploy waits for one service's rollout, bake time included (`rolloutDeadlineMinutes` in lib/rollout.ts). */
  readonly rolloutDeadlineMinutes: number;
}

/**
 * The futures marketplace, composed from its parts: its own
 * ECS cluster, the market maker, the notifications service with its database,
 * the margin-call Lambda and the trading UI. Each part follows its `enabled`
 * toggle; a disabled part registers nothing, and the cluster exists only while
 * a container service needs it.
 */
export class Futures extends pulumi.ComponentResource {
  readonly cluster?: Cluster;
  readonly marketMaker?: MarketMaker;
  readonly notifications?: Notifications;
  readonly marginCall?: MarginCall;
  readonly ui?: FuturesUi;
  /** The ECS services by part. */
  readonly refs: { readonly marketMaker?: DeployedServiceRef; readonly notifications?: DeployedServiceRef };
  /** What the stack's composition needs of the futures marketplace. */
  readonly facets: SystemFacets;

  constructor(name: string, args: FuturesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lumerin:futures:Futures", name, {}, opts);
    const cfg = args.config;
    const names = futuresNames(args.env.name);
    const hosts = futuresHostNames(args.env, cfg, args.dns.zoneName);
    const ecsMarketMaker = cfg.marketMaker.enabled && cfg.marketMaker.runtime === "ecs";
    // The cluster exists only while a container service needs it.
    this.cluster = ecsMarketMaker || cfg.notifications.enabled ? futuresCluster(name, args, names, this) : undefined;
    if (cfg.marketMaker.enabled) this.marketMaker = marketMaker(name, args, names, this.cluster, this);
    // The margin call first: the notifications endpoint admits its security group.
    if (cfg.marginCall.enabled) this.marginCall = marginCall(name, args, names, hosts, this);
    if (cfg.notifications.enabled && this.cluster) {
      this.notifications = notifications(name, args, names, hosts, this.cluster, this.marginCall, this);
    }
    if (cfg.ui.enabled) this.ui = futuresUi(name, args, names, hosts, this);
    this.refs = {
      ...(this.marketMaker?.ref ? { marketMaker: this.marketMaker.ref } : {}),
      ...(this.notifications ? { notifications: this.notifications.ref } : {}),
    };
    this.facets = futuresFacets(args, names, this);
    this.registerOutputs({
      cluster: this.cluster?.cluster.name,
      services: deployedServices(this).map((s) => s.serviceName),
    });
  }
}

type Hosts = ReturnType<typeof futuresHostNames>;

function futuresCluster(name: string, args: FuturesArgs, names: FuturesNames, parent: pulumi.Resource): Cluster {
  const cfg = args.config.cluster;
  return new Cluster(
    `${name}-cluster`,
    {
      name: cfg.name ?? names.cluster,
      execLogGroupName: args.clusterExecLogGroupName,
      execLogRetentionDays: cfg.execLogRetentionDays,
      containerInsights: cfg.containerInsights,
      kmsKeyArn: args.platformKeyArn,
    },
    { parent },
  );
}

/** The market maker as its `runtime` says: a scheduled Lambda, or an ECS service on the cluster. */
function marketMaker(
  name: string,
  args: FuturesArgs,
  names: FuturesNames,
  cluster: Cluster | undefined,
  parent: pulumi.Resource,
): MarketMaker | undefined {
  const cfg = args.config;
  const mm = cfg.marketMaker;
  const common = {
    aws: args.aws,
    network: args.network,
    names: names.marketMaker,
    chainId: cfg.chainId,
    contracts: cfg.contracts,
    trading: mm,
    logLevel: mm.logLevel,
    logRetentionDays: mm.logRetentionDays,
    secretsKmsKeyArn: args.platformKeyArn,
    ...(args.secretValues.marketMaker
      ? { secretValues: args.secretValues.marketMaker as Readonly<Record<MarketMakerSecretKey, pulumi.Input<string>>> }
      : {}),
    protect: args.protect,
  };
  if (mm.runtime === "lambda") {
    return new MarketMaker(
      `${name}-market-maker`,
      {
        ...common,
        runtime: "lambda",
        lambda: {
          names: names.marketMakerLambda,
          scheduleMinutes: mm.lambda.scheduleMinutes,
          timeoutSeconds: mm.lambda.timeoutSeconds,
          memoryMb: mm.lambda.memoryMb,
          ...(mm.lambda.securityGroupDescription
            ? { securityGroupDescription: mm.lambda.securityGroupDescription }
            : {}),
          ...(mm.lambda.artifact ? { artifact: mm.lambda.artifact } : {}),
          ...(args.pendingSecrets?.has("marketMaker") ? { paused: true } : {}),
        },
      },
      { parent },
    );
  }
  if (!cluster) return undefined;
  const image = required(args.images.marketMaker, "marketMaker");
  const tasks = args.pendingSecrets?.has("marketMaker") ? 0 : mm.workerQuantity;
  return new MarketMaker(
    `${name}-market-maker`,
    {
      ...common,
      cluster: cluster.ref,
      image: image.image,
      imageTag: image.tag,
      cpu: mm.cpu,
      memory: mm.memory,
      desiredCount: tasks,
      enableExecuteCommand: mm.enableExecuteCommand,
      ...(args.deploymentAlarms
        ? {
            deploymentAlarmNames: deploymentAlarmNames("market-maker", args.env.name, {
              runningTasks: tasks > 0,
              loadBalancer5xx: false,
            }),
          }
        : {}),
    },
    { parent },
  );
}

function marginCall(
  name: string,
  args: FuturesArgs,
  names: FuturesNames,
  hosts: Hosts,
  parent: pulumi.Resource,
): MarginCall {
  const cfg = args.config;
  const mc = cfg.marginCall;
  return new MarginCall(
    `${name}-margin-call`,
    {
      aws: args.aws,
      network: args.network,
      names: names.marginCall,
      timeoutSeconds: mc.timeoutSeconds,
      memoryMb: mc.memoryMb,
      reservedConcurrency: mc.reservedConcurrency,
      intervalMinutes: mc.intervalMinutes,
      daily: { hour: mc.dailyHour, minute: mc.dailyMinute },
      environment: {
        FUTURES_ADDRESS: cfg.contracts.futures,
        HASHRATE_ORACLE_ADDRESS: cfg.contracts.hashrateOracle,
        MULTICALL_ADDRESS: cfg.contracts.multicall,
        // The same name the DNS record has (today lmn points at one that does not exist).
        ...(cfg.notifications.enabled
          ? { NOTIFICATIONS_SERVICE_URL: `https://${hosts.notifications}/notifications` }
          : {}),
        LOG_LEVEL: mc.logLevel,
        MARGIN_UTILIZATION_WARNING_PERCENT: String(mc.warningPercent),
      },
      logLevel: mc.logLevel,
      logRetentionDays: mc.logRetentionDays,
      secretsKmsKeyArn: args.platformKeyArn,
      ...(args.secretValues.marginCall
        ? { secretValues: args.secretValues.marginCall as Readonly<Record<MarginCallSecretKey, pulumi.Input<string>>> }
        : {}),
      ...(mc.artifact ? { artifact: mc.artifact } : {}),
      ...(mc.securityGroupDescription ? { securityGroupDescription: mc.securityGroupDescription } : {}),
      protect: args.protect,
      schedulesEnabled: !args.pendingSecrets?.has("marginCall"),
    },
    { parent },
  );
}

function notifications(
  name: string,
  args: FuturesArgs,
  names: FuturesNames,
  hosts: Hosts,
  cluster: Cluster,
  marginCall: MarginCall | undefined,
  parent: pulumi.Resource,
): Notifications {
  const n = args.config.notifications;
  const image = required(args.images.notifications, "notifications");
  const pending = args.pendingSecrets?.has("notifications") ?? false;
  return new Notifications(
    `${name}-notifications`,
    {
      aws: args.aws,
      cluster: cluster.ref,
      network: args.network,
      names: names.notifications,
      image: image.image,
      imageTag: image.tag,
      cpu: n.cpu,
      memory: n.memory,
      logLevel: n.logLevel,
      logRetentionDays: n.logRetentionDays,
      enableExecuteCommand: n.enableExecuteCommand,
      ...(args.deploymentAlarms
        ? {
            deploymentAlarmNames: deploymentAlarmNames("notifications", args.env.name, {
              runningTasks: !pending,
              loadBalancer5xx: true,
            }),
          }
        : {}),
      desiredCount: pending ? 0 : 1,
      secretsKmsKeyArn: args.platformKeyArn,
      ...(args.secretValues.notifications?.telegram_bot_token
        ? { telegramBotToken: pulumi.output(args.secretValues.notifications.telegram_bot_token) }
        : {}),
      hostName: hosts.notifications,
      dns: args.dns,
      albIngressCidrs: n.albIngressCidrs,
      albClients: marginCall
        ? [
            {
              key: "margin-call",
              description: "The margin-call Lambda posts notifications",
              securityGroupId: marginCall.securityGroupId,
            },
          ]
        : [],
      database: n.database,
      securityGroupDescriptions: n.securityGroupDescriptions,
      protect: args.protect,
    },
    { parent },
  );
}

function futuresUi(
  name: string,
  args: FuturesArgs,
  names: FuturesNames,
  hosts: Hosts,
  parent: pulumi.Resource,
): FuturesUi {
  if (!args.globalProvider) {
    throw new Error(
      "futures.ui: enabled, but no us-east-1 provider was given (CloudFront's certificate and web ACL live there)",
    );
  }
  return new FuturesUi(
    `${name}-ui`,
    {
      aws: args.aws,
      globalProvider: args.globalProvider,
      dns: args.dns,
      siteName: hosts.site,
      bucketName: hosts.bucket,
      originAccessControlName: names.ui.originAccessControl,
      webAclName: names.ui.webAcl,
      responseHeadersPolicyName: names.ui.responseHeadersPolicy,
      priceClass: args.config.ui.priceClass,
      rateLimitPer5Minutes: args.config.ui.rateLimitPer5Minutes,
      protect: args.protect,
    },
    { parent },
  );
}

/**
 * The futures repository deploys the ECS services (in deploy order: the market
 * maker, then notifications), uploads the Lambdas' code and publishes the UI;
 * the monitoring watches each part.
 */
function futuresFacets(args: FuturesArgs, names: FuturesNames, parts: Futures): SystemFacets {
  const codeDeploys = futuresCodeDeploys(args, names, parts);
  return {
    repository: "futures",
    deploys: {
      services: deployedServices(parts),
      sites: parts.ui ? [parts.ui.deployable] : [],
      functions: [
        ...(parts.marketMaker?.function ? [{ functionArn: parts.marketMaker.function.functionArn }] : []),
        ...(parts.marginCall ? [{ functionArn: parts.marginCall.functionArn }] : []),
      ],
    },
    codeDeploys,
    githubVariables: futuresVariables(args, codeDeploys, parts),
    watched: futuresWatched(args, parts),
    writtenSecretArns: [
      ...(args.secretValues.marketMaker && parts.marketMaker ? [parts.marketMaker.secret.arn] : []),
      ...(args.secretValues.notifications && parts.notifications ? [parts.notifications.secret.arn] : []),
      ...(args.secretValues.marginCall && parts.marginCall ? [parts.marginCall.secret.arn] : []),
    ],
  };
}

function deployedServices(parts: Futures): DeployedServiceRef[] {
  return [parts.refs.marketMaker, parts.refs.notifications].filter((r): r is DeployedServiceRef => r !== undefined);
}

/**
 * The futures ECS services whose image the repository deploys, in deploy order:
 * the market maker (runtime ecs), then notifications.
 */
function futuresCodeDeploys(args: FuturesArgs, names: FuturesNames, parts: Futures): CodeDeploy[] {
  const cfg = args.config;
  const cluster = parts.cluster?.ref.name;
  if (!cluster) return [];
  const deploy = (
    app: string,
    service: { readonly service: string; readonly container: string; readonly imageTagParameter: string },
    part: { readonly image: string; readonly tagPrefix: string },
    deployable: DeployedServiceRef,
  ): CodeDeploy => ({
    app,
    cluster,
    service: service.service,
    container: service.container,
    imageRepository: part.image,
    tagPrefix: part.tagPrefix,
    tagParameter: service.imageTagParameter,
    deployable,
  });
  return [
    ...(parts.refs.marketMaker
      ? [deploy("market-maker", names.marketMaker, cfg.marketMaker, parts.refs.marketMaker)]
      : []),
    ...(parts.refs.notifications
      ? [deploy("notifications", names.notifications, cfg.notifications, parts.refs.notifications)]
      : []),
  ];
}

/**
 * The futures repository's GitHub environment variables (never a credential):
 * the cluster, its services in deploy order with what image-deploy needs, and
 * the deployment facts of the UI and the Lambdas.
 */
function futuresVariables(
  args: FuturesArgs,
  codeDeploys: readonly CodeDeploy[],
  parts: Futures,
): Record<string, pulumi.Input<string>> {
  return {
    ...(parts.marginCall ? { MARGIN_CALL_FUNCTION: parts.marginCall.functionName } : {}),
    // The market-maker workflow uploads code to this function (runtime lambda) instead of an ECS deploy.
    ...(parts.marketMaker?.function ? { MARKET_MAKER_FUNCTION: parts.marketMaker.function.functionName } : {}),
    // Deployment facts, not secrets: the UI's workflow syncs, then invalidates.
    ...(parts.ui
      ? {
          UI_BUCKET: parts.ui.bucketName,
          CLOUDFRONT_DISTRIBUTION_ID: parts.ui.distributionId,
          SITE_URL: parts.ui.siteUrl,
        }
      : {}),
    ...ecsDeployVariables(codeDeploys, args.env, args.rolloutDeadlineMinutes),
  };
}

function futuresWatched(args: FuturesArgs, parts: Futures): WatchedParts {
  const cfg = args.config;
  const clusterName = parts.cluster?.cluster.name;
  const mmFunction = parts.marketMaker?.function;
  const service = (key: string, ref: DeployedServiceRef | undefined, desiredCount: number) =>
    ref && clusterName ? [{ key, clusterName, serviceName: ref.serviceName, desiredCount }] : [];
  const logs = (key: string, logGroupName: pulumi.Input<string> | undefined, metrics: readonly LogMetric[]) =>
    logGroupName ? [{ key, logGroupName, metrics }] : [];
  return {
    services: [
      ...service(
        "market-maker",
        parts.refs.marketMaker,
        args.pendingSecrets?.has("marketMaker") ? 0 : cfg.marketMaker.workerQuantity,
      ),
      ...service("notifications", parts.refs.notifications, parts.notifications?.desiredCount ?? 1),
    ],
    databases: parts.notifications
      ? [
          {
            key: "notifications",
            identifier: parts.notifications.databaseIdentifier,
            maxConnections: cfg.notifications.database.maxConnections,
          },
        ]
      : [],
    networkLoadBalancers: [],
    loadBalancers: parts.notifications
      ? [
          {
            key: "notifications",
            loadBalancerArnSuffix: parts.notifications.loadBalancerArnSuffix,
            targetGroupArnSuffix: parts.notifications.targetGroupArnSuffix,
          },
        ]
      : [],
    functions: watchedFunctions(args, parts),
    workflows: parts.notifications
      ? [
          {
            key: "notifications",
            suffix: "redeploy",
            failureMeans:
              "the service still runs with the database password from before the last rotation; force a new deployment by hand (docs/secrets.md)",
            stateMachineArn: parts.notifications.rotationRedeploy.stateMachine.arn,
          },
        ]
      : [],
    logs: [
      ...logs("market-maker", parts.refs.marketMaker?.logGroupName, LOG_METRICS["market-maker"]),
      ...logs("market-maker", mmFunction?.logGroupName, MARKET_MAKER_FUNCTION_LOG_METRICS),
      ...logs("notifications", parts.refs.notifications?.logGroupName, LOG_METRICS.notifications),
      ...logs("margin-call", parts.marginCall?.logGroupName, LOG_METRICS["margin-call"]),
    ],
    ...(parts.ui
      ? { site: { key: "futures-ui", distributionId: parts.ui.distributionId, hostName: parts.ui.siteName } }
      : {}),
  };
}

function required<T>(value: T | undefined, part: string): T {
  if (value === undefined) throw new Error(`futures.${part}: enabled, but no image was resolved for it`);
  return value;
}

/** Host names of the futures parts in this environment (the environment table decides them). */
export function futuresHostNames(env: Environment, cfg: FuturesConfig, zone: string) {
  return {
    site: hostName(env, cfg.ui.hostLabel, zone),
    bucket: hostName(env, cfg.ui.bucketHostLabel, zone),
    notifications: hostName(env, cfg.notifications.hostLabel, zone),
  };
}

/** The scheduled Lambdas the monitoring watches: the market maker's (runtime lambda) and the margin call. */
function watchedFunctions(args: FuturesArgs, parts: Futures): WatchedParts["functions"] {
  const cfg = args.config;
  const mmFunction = parts.marketMaker?.function;
  return [
    ...(mmFunction
      ? [
          {
            key: "market-maker",
            functionName: mmFunction.functionName,
            timeoutSeconds: cfg.marketMaker.lambda.timeoutSeconds,
            intervalMinutes: cfg.marketMaker.lambda.scheduleMinutes,
            failureQueueName: mmFunction.failureQueueName,
            scheduled: !args.pendingSecrets?.has("marketMaker"),
          },
        ]
      : []),
    ...(parts.marginCall
      ? [
          {
            key: "margin-call",
            functionName: parts.marginCall.functionName,
            timeoutSeconds: cfg.marginCall.timeoutSeconds,
            intervalMinutes: cfg.marginCall.intervalMinutes,
            failureQueueName: parts.marginCall.failureQueue.name,
            scheduled: !args.pendingSecrets?.has("marginCall"),
          },
        ]
      : []),
  ];
}
