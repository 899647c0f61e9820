import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { Environment, hostName } from "../../config/environments";
import type { FuturesConfig } from "../../config/futures";
import type { SecretValues } from "../../config/load";
import { AwsContext } from "../../lib/iam";
import { deploymentAlarmNames, futuresNames } from "../../lib/naming";
import { Cluster } from "../cluster";
import type { DeployableFunction, DeployableService, DeployableSite } from "../deploy-identity";
import type { DeployedServiceRef } from "../service-parts";
import type { DnsTarget, NetworkRef } from "../proxy-service";
import { EcsDeployTarget, ecsDeployTargetsVariable } from "../github-environments";
import { pinnedTagPattern } from "../../lib/image-tags";
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
  readonly aws: AwsContext;
  readonly env: Environment;
  readonly config: FuturesConfig;
  readonly network: NetworkRef;
  readonly dns: DnsTarget;
  /** Encrypts the services' secrets and the cluster's exec-session logs. */
  readonly platformKeyArn: pulumi.Input<string>;
  /** The cluster's exec-session log group (the platform key's policy names it). */
  readonly clusterExecLogGroupName: string;
  /** A provider in us-east-1 (CloudFront's certificate and web ACL); required when the UI is enabled. */
  readonly globalProvider?: aws.Provider;
  /** Images of the enabled container services. */
  readonly images: { readonly marketMaker?: ResolvedImageRef; readonly notifications?: ResolvedImageRef };
  /** Values from `pulumi config set --secret`, per secret; absent ones are filled out of band. */
  readonly secretValues: {
    readonly marketMaker?: SecretValues;
    readonly notifications?: SecretValues;
    readonly marginCall?: SecretValues;
  };
  readonly protect: boolean;
  /** The monitoring's alarms roll the services' deployments back (they exist when monitoring alarms are on). */
  readonly deploymentAlarms: boolean;
  /**
   * Secrets whose value is still to be put in out of band: their service is created
   * without tasks, the margin call without its schedules. Default none.
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
  /** The ECS services the futures repository deploys, in deploy order. */
  readonly services: readonly DeployedServiceRef[];
  /** The same services by part. */
  readonly refs: { readonly marketMaker?: DeployedServiceRef; readonly notifications?: DeployedServiceRef };
  /** The static site it publishes (the UI), when enabled. */
  readonly sites: readonly DeployableSite[];
  /** The Lambda functions whose code it uploads. */
  readonly functions: readonly DeployableFunction[];
  private readonly variables: Record<string, pulumi.Input<string>>;

  /**
   * The futures repository's GitHub environment variables (never a credential):
   * the cluster, its services in deploy order with what image-deploy needs, and
   * the deployment facts of the UI and the margin-call function.
   */
  githubVariables(): Record<string, pulumi.Input<string>> {
    return { ...this.variables };
  }

  /** Everything the futures repository's deploy role may deploy, and nothing else. */
  deployables(): FuturesDeployables {
    return { services: this.services, sites: this.sites, functions: this.functions };
  }

  constructor(name: string, args: FuturesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lumerin:futures:Futures", name, {}, opts);
    const { config: cfg, env } = args;
    const names = futuresNames(env.name);
    const services: DeployedServiceRef[] = [];
    const refs: { marketMaker?: DeployedServiceRef; notifications?: DeployedServiceRef } = {};

    const ecsMarketMaker = cfg.marketMaker.enabled && cfg.marketMaker.runtime === "ecs";
    const needsCluster = ecsMarketMaker || cfg.notifications.enabled;
    if (needsCluster) {
      this.cluster = new Cluster(
        `${name}-cluster`,
        {
          name: cfg.cluster.name ?? names.cluster,
          execLogGroupName: args.clusterExecLogGroupName,
          execLogRetentionDays: cfg.cluster.execLogRetentionDays,
          containerInsights: cfg.cluster.containerInsights,
          kmsKeyArn: args.platformKeyArn,
        },
        { parent: this },
      );
    }

    const functions: DeployableFunction[] = [];
    if (cfg.marketMaker.enabled) {
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
          ? {
              secretValues: args.secretValues.marketMaker as Readonly<
                Record<MarketMakerSecretKey, pulumi.Input<string>>
              >,
            }
          : {}),
        protect: args.protect,
      };
      if (mm.runtime === "lambda") {
        this.marketMaker = new MarketMaker(
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
            },
          },
          { parent: this },
        );
        if (this.marketMaker.function) functions.push({ functionArn: this.marketMaker.function.functionArn });
      } else if (this.cluster) {
        const image = required(args.images.marketMaker, "marketMaker");
        const tasks = args.pendingSecrets?.has("marketMaker") ? 0 : mm.workerQuantity;
        this.marketMaker = new MarketMaker(
          `${name}-market-maker`,
          {
            ...common,
            cluster: this.cluster.ref,
            image: image.image,
            imageTag: image.tag,
            cpu: mm.cpu,
            memory: mm.memory,
            desiredCount: tasks,
            enableExecuteCommand: mm.enableExecuteCommand,
            ...(args.deploymentAlarms
              ? {
                  deploymentAlarmNames: deploymentAlarmNames("market-maker", env.name, {
                    runningTasks: tasks > 0,
                    loadBalancer5xx: false,
                  }),
                }
              : {}),
          },
          { parent: this },
        );
        if (this.marketMaker.ref) {
          refs.marketMaker = this.marketMaker.ref;
          services.push(refs.marketMaker);
        }
      }
    }

    const hosts = futuresHostNames(env, cfg, args.dns.zoneName);

    // The margin call first: the notifications endpoint admits its security group.
    if (cfg.marginCall.enabled) {
      const mc = cfg.marginCall;
      this.marginCall = new MarginCall(
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
            ? {
                secretValues: args.secretValues.marginCall as Readonly<
                  Record<MarginCallSecretKey, pulumi.Input<string>>
                >,
              }
            : {}),
          ...(mc.artifact ? { artifact: mc.artifact } : {}),
          ...(mc.securityGroupDescription ? { securityGroupDescription: mc.securityGroupDescription } : {}),
          protect: args.protect,
          schedulesEnabled: !args.pendingSecrets?.has("marginCall"),
        },
        { parent: this },
      );
      functions.push({ functionArn: this.marginCall.functionArn });
    }

    if (cfg.notifications.enabled && this.cluster) {
      const n = cfg.notifications;
      const image = required(args.images.notifications, "notifications");
      this.notifications = new Notifications(
        `${name}-notifications`,
        {
          aws: args.aws,
          cluster: this.cluster.ref,
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
                deploymentAlarmNames: deploymentAlarmNames("notifications", env.name, {
                  runningTasks: !args.pendingSecrets?.has("notifications"),
                  loadBalancer5xx: true,
                }),
              }
            : {}),
          desiredCount: args.pendingSecrets?.has("notifications") ? 0 : 1,
          secretsKmsKeyArn: args.platformKeyArn,
          ...(args.secretValues.notifications?.telegram_bot_token
            ? { telegramBotToken: pulumi.output(args.secretValues.notifications.telegram_bot_token) }
            : {}),
          hostName: hosts.notifications,
          dns: args.dns,
          albIngressCidrs: n.albIngressCidrs,
          albClients: this.marginCall
            ? [
                {
                  key: "margin-call",
                  description: "The margin-call Lambda posts notifications",
                  securityGroupId: this.marginCall.securityGroupId,
                },
              ]
            : [],
          database: n.database,
          securityGroupDescriptions: n.securityGroupDescriptions,
          protect: args.protect,
        },
        { parent: this },
      );
      refs.notifications = this.notifications.ref;
      services.push(refs.notifications);
    }

    const sites: DeployableSite[] = [];
    if (cfg.ui.enabled) {
      if (!args.globalProvider)
        throw new Error(
          "futures.ui: enabled, but no us-east-1 provider was given (CloudFront's certificate and web ACL live there)",
        );
      this.ui = new FuturesUi(
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
          priceClass: cfg.ui.priceClass,
          rateLimitPer5Minutes: cfg.ui.rateLimitPer5Minutes,
          protect: args.protect,
        },
        { parent: this },
      );
      sites.push(this.ui.deployable);
    }

    const variables: Record<string, pulumi.Input<string>> = {};
    const targets: EcsDeployTarget[] = [];
    if (this.marketMaker?.containerService) {
      targets.push({
        service: this.marketMaker.containerService.serviceName,
        container: names.marketMaker.container,
        image: cfg.marketMaker.image,
        tagPattern: pinnedTagPattern({ prefix: cfg.marketMaker.tagPrefix, suffix: env.tagSuffix }),
        imageTagParameter: names.marketMaker.imageTagParameter,
        rolloutDeadlineMinutes: args.rolloutDeadlineMinutes,
      });
    }
    if (this.notifications) {
      targets.push({
        service: this.notifications.serviceName,
        container: this.notifications.containerName,
        image: cfg.notifications.image,
        tagPattern: pinnedTagPattern({ prefix: cfg.notifications.tagPrefix, suffix: env.tagSuffix }),
        imageTagParameter: this.notifications.imageTagParameterName,
        rolloutDeadlineMinutes: args.rolloutDeadlineMinutes,
      });
    }
    if (this.marginCall) variables.MARGIN_CALL_FUNCTION = this.marginCall.functionName;
    // The market-maker workflow uploads code to this function (runtime lambda) instead of an ECS deploy.
    if (this.marketMaker?.function) variables.MARKET_MAKER_FUNCTION = this.marketMaker.function.functionName;
    if (this.ui) {
      // Deployment facts, not secrets: the UI's workflow syncs, then invalidates.
      variables.UI_BUCKET = this.ui.bucketName;
      variables.CLOUDFRONT_DISTRIBUTION_ID = this.ui.distributionId;
      variables.SITE_URL = this.ui.siteUrl;
    }
    if (this.cluster && targets.length > 0) {
      variables.ECS_CLUSTER = this.cluster.cluster.name;
      variables.ECS_SERVICES = pulumi.all(targets.map((t) => t.service)).apply((list) => list.join(","));
      variables.ECS_DEPLOY_TARGETS = ecsDeployTargetsVariable(targets);
    }

    this.services = services;
    this.refs = refs;
    this.sites = sites;
    this.functions = functions;
    this.variables = variables;
    this.registerOutputs({
      cluster: this.cluster?.cluster.name,
      services: services.map((s) => s.serviceName),
    });
  }
}

/** What the futures repository deploys, for its deploy role. */
export interface FuturesDeployables {
  readonly services: readonly DeployableService[];
  readonly sites: readonly DeployableSite[];
  readonly functions: readonly DeployableFunction[];
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
