/**
 * The composition: one stack's configuration → components → stack outputs.
 * `index.ts` runs it under the Pulumi CLI; `tools/plan.ts` and the tests run the
 * same function under Pulumi's mocks. Nothing here knows which.
 */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import {
  ConfigError,
  ConfigSource,
  StackConfig,
  initialTaskCount,
  loadStackConfig,
  secretPending,
} from "./config/load";
import { DeployBlockedError, DeployBlocker, pendingDnsBlocker } from "./config/dns";
import { DNS_ROLE_PENDING, SECRET_KEYS, SecretGroup, secretKeysOf } from "./config/schema";
import { DNS_ACCESS_TAG, dnsAccessOf } from "./lib/dns-access";
import type { ReleaseSource } from "./lib/github-releases";
import { AwsContext } from "./lib/iam";
import { DeployedTagReader, ImageRequest, ResolvedImage, resolveImages } from "./lib/image-resolution";
import { pinnedTagPattern } from "./lib/image-tags";
import { rolloutDeadlineMinutes } from "./lib/rollout";
import { deploymentAlarmWindowMinutes } from "./config/monitoring";
import {
  appEnv,
  clusterNames,
  deploymentAlarmNames,
  futuresNames,
  infraDeployerRoleName,
  infraPreviewRoleName,
  platformKeyAlias,
} from "./lib/naming";
import { Cluster } from "./components/cluster";
import { DeployIdentity, DeployRepository, GitHubRepositoryIds } from "./components/deploy-identity";
import { TITANIO_STATE_BUCKET } from "./lib/pulumi-state";
import { Futures } from "./components/futures/futures";
import { LOG_METRICS, MARKET_MAKER_FUNCTION_LOG_METRICS } from "./components/monitoring/log-metrics";
import { Monitoring } from "./components/monitoring/monitoring";
import { EnvironmentRepository, GitHubEnvironments, ecsDeployTargetsVariable } from "./components/github-environments";
import { Network } from "./components/network";
import { PlatformKey } from "./components/platform-key";
import { ProxyRouter, resolvedProxyNames } from "./components/proxy-router";
import type { DeployedServiceRef } from "./components/service-parts";
import type { DnsTarget } from "./components/proxy-service";

export interface StackDependencies {
  /** Configuration as the Pulumi runtime has it. */
  readonly config: ConfigSource;
  /** Release lookups for `imageTag: auto`; `undefined` leaves `auto` visibly unresolved (offline plan). */
  readonly releases: ReleaseSource | undefined;
  /**
   * What a deploy blocker (a one-time step not done yet: the role into the zone's
   * account is `pending`) does. `refuse` (the Pulumi CLI, preview and up alike):
   * stop before any resource is registered. A function (the offline plan): the
   * stack is planned without what the blocker withholds, and the function gets
   * the blockers at the end.
   */
  readonly blockers: "refuse" | ((blockers: readonly DeployBlocker[]) => void);
}

export async function lumerinStack(deps: StackDependencies): Promise<Record<string, unknown>> {
  // Everything that can fail on input happens before the first resource is registered.
  const config = loadStackConfig(deps.config);
  const env = config.env;
  const zonePending = config.dns.assumeRoleArn === DNS_ROLE_PENDING;
  if (zonePending && deps.blockers === "refuse") {
    throw new DeployBlockedError([pendingDnsBlocker(env, config.stack, config.dns.zoneName, `${config.project}:`, [])]);
  }
  const images = await resolveStackImages(config, deps.releases);
  const [identity, partition] = await Promise.all([aws.getCallerIdentity(), aws.getPartition()]);
  const ctx: AwsContext = { accountId: identity.accountId, region: config.region, partition: partition.partition };

  const defaults = clusterNames(env.name, config.region);
  const execLogGroupName = config.cluster.execLogGroupName ?? defaults.execLogGroup;
  const futuresExecLogGroupName = futuresNames(env.name).clusterExecLogGroup;
  const key = new PlatformKey("platform", {
    alias: platformKeyAlias(env.name),
    description: `lumerin-infra ${env.name}: service secrets and ECS Exec session logs`,
    aws: ctx,
    logGroupNames: [execLogGroupName, ...(config.futures ? [futuresExecLogGroupName] : [])],
    // A topic this stack creates is encrypted with this key; CloudWatch must be able to publish to it.
    alarmTopics: monitoringCreatesTopic(config),
    protect: config.protect,
  });

  const monitors = config.monitoring.enabled && config.monitoring.alarms;
  // A code deploy waits for ECS's bake time, which the deployment alarms' evaluation windows set.
  const rolloutDeadline = rolloutDeadlineMinutes(monitors ? [deploymentAlarmWindowMinutes(config.monitoring)] : []);
  const network = new Network("network", { config: config.network, vpcName: appEnv("lumerin", env.name) });
  const dns = await dnsTarget(config, identity.arn);

  const cluster = new Cluster("cluster", {
    name: config.cluster.name ?? defaults.cluster,
    execLogGroupName,
    execLogRetentionDays: config.cluster.execLogRetentionDays,
    containerInsights: config.cluster.containerInsights,
    kmsKeyArn: key.arn,
  });

  // A service whose secret's value is still pending out of band is created without tasks.
  const proxyTasks = {
    router: initialTaskCount(config, "proxyRouter", config.proxyRouter.router.desiredCount),
    validator: initialTaskCount(config, "proxyValidator", config.proxyRouter.validator.desiredCount),
  };
  const proxy = new ProxyRouter("proxy", {
    aws: ctx,
    env,
    config: config.proxyRouter,
    images: {
      router: pick(images, "proxy-router"),
      validator: pick(images, "proxy-validator"),
    },
    cluster: cluster.ref,
    network,
    dns,
    secretsKmsKeyArn: key.arn,
    secretValues: { router: config.secrets.proxyRouter, validator: config.secrets.proxyValidator },
    desiredCounts: proxyTasks,
    // The monitoring's alarms roll deployments back, besides the circuit breaker.
    ...(monitors
      ? {
          deploymentAlarmNames: {
            router: deploymentAlarmNames("proxy-router", env.name, {
              runningTasks: proxyTasks.router > 0,
              loadBalancer5xx: false,
            }),
            validator: deploymentAlarmNames("proxy-validator", env.name, {
              runningTasks: proxyTasks.validator > 0,
              loadBalancer5xx: false,
            }),
          },
        }
      : {}),
    protect: config.protect,
  });

  // us-east-1: CloudFront's certificate and web ACL, and the metrics of CloudFront and Route53.
  const m = config.monitoring;
  const watches = m.enabled && (m.alarms || m.dashboards || m.metricFilters || m.canary);
  const watchesSite = watches && !!config.futures?.ui.enabled;
  const global = config.futures?.ui.enabled || watchesSite ? globalProvider(config) : undefined;

  const futures = config.futures
    ? new Futures("futures", {
        aws: ctx,
        env,
        config: config.futures,
        network,
        dns,
        platformKeyArn: key.arn,
        clusterExecLogGroupName: futuresExecLogGroupName,
        ...(global ? { globalProvider: global } : {}),
        images: {
          ...(images.has("market-maker") ? { marketMaker: pick(images, "market-maker") } : {}),
          ...(images.has("futures-notifications") ? { notifications: pick(images, "futures-notifications") } : {}),
        },
        secretValues: {
          marketMaker: config.secrets.marketMaker,
          notifications: config.secrets.notifications,
          marginCall: config.secrets.marginCall,
        },
        protect: config.protect,
        deploymentAlarms: monitors,
        pendingSecrets: new Set(
          (["marketMaker", "notifications", "marginCall"] as const).filter((group) => secretPending(config, group)),
        ),
        rolloutDeadlineMinutes: rolloutDeadline,
      })
    : undefined;

  const monitoring = watches
    ? new Monitoring("monitoring", {
        aws: ctx,
        env,
        config: config.monitoring,
        kmsKeyArn: key.arn,
        ...(global ? { globalProvider: global } : {}),
        services: [
          ...(["router", "validator"] as const).flatMap((kind) => {
            const ref = proxy.refs[kind];
            const keyOf = PROXY_SERVICE_KEY[kind];
            return ref
              ? [
                  {
                    key: keyOf,
                    clusterName: cluster.cluster.name,
                    serviceName: ref.serviceName,
                    desiredCount: proxyTasks[kind],
                  },
                ]
              : [];
          }),
          ...(futures?.cluster && futures.refs.marketMaker && config.futures
            ? [
                {
                  key: "market-maker",
                  clusterName: futures.cluster.cluster.name,
                  serviceName: futures.refs.marketMaker.serviceName,
                  desiredCount: initialTaskCount(config, "marketMaker", config.futures.marketMaker.workerQuantity),
                },
              ]
            : []),
          ...(futures?.cluster && futures.refs.notifications
            ? [
                {
                  key: "notifications",
                  clusterName: futures.cluster.cluster.name,
                  serviceName: futures.refs.notifications.serviceName,
                  desiredCount: futures.notifications?.desiredCount ?? 1,
                },
              ]
            : []),
        ],
        databases:
          futures?.notifications && config.futures
            ? [
                {
                  key: "notifications",
                  identifier: futures.notifications.databaseIdentifier,
                  maxConnections: config.futures.notifications.database.maxConnections,
                },
              ]
            : [],
        networkLoadBalancers: (["router", "validator"] as const).flatMap((kind) => {
          const service = proxy.services[kind];
          return service?.loadBalancer && service.targetGroup
            ? [
                {
                  key: PROXY_SERVICE_KEY[kind],
                  loadBalancerArnSuffix: service.loadBalancer.arnSuffix,
                  targetGroupArnSuffix: service.targetGroup.arnSuffix,
                },
              ]
            : [];
        }),
        loadBalancers: futures?.notifications
          ? [
              {
                key: "notifications",
                loadBalancerArnSuffix: futures.notifications.loadBalancerArnSuffix,
                targetGroupArnSuffix: futures.notifications.targetGroupArnSuffix,
              },
            ]
          : [],
        functions: [
          ...(futures?.marketMaker?.function && config.futures
            ? [
                {
                  key: "market-maker",
                  functionName: futures.marketMaker.function.functionName,
                  timeoutSeconds: config.futures.marketMaker.lambda.timeoutSeconds,
                  intervalMinutes: config.futures.marketMaker.lambda.scheduleMinutes,
                  failureQueueName: futures.marketMaker.function.failureQueueName,
                  scheduled: !secretPending(config, "marketMaker"),
                },
              ]
            : []),
          ...(futures?.marginCall && config.futures
            ? [
                {
                  key: "margin-call",
                  functionName: futures.marginCall.functionName,
                  timeoutSeconds: config.futures.marginCall.timeoutSeconds,
                  intervalMinutes: config.futures.marginCall.intervalMinutes,
                  failureQueueName: futures.marginCall.failureQueue.name,
                  scheduled: !secretPending(config, "marginCall"),
                },
              ]
            : []),
        ],
        workflows: futures?.notifications
          ? [
              {
                key: "notifications",
                suffix: "redeploy",
                failureMeans:
                  "the service still runs with the database password from before the last rotation; force a new deployment by hand (docs/secrets.md)",
                stateMachineArn: futures.notifications.rotationRedeploy.stateMachine.arn,
              },
            ]
          : [],
        ...(futures?.ui
          ? { site: { key: "futures-ui", distributionId: futures.ui.distributionId, hostName: futures.ui.siteName } }
          : {}),
        logs: [
          ...(["router", "validator"] as const).flatMap((kind) => {
            const ref = proxy.refs[kind];
            const key = PROXY_SERVICE_KEY[kind];
            return ref ? [{ key, logGroupName: ref.logGroupName, metrics: LOG_METRICS[key] }] : [];
          }),
          ...(futures?.refs.marketMaker
            ? [
                {
                  key: "market-maker",
                  logGroupName: futures.refs.marketMaker.logGroupName,
                  metrics: LOG_METRICS["market-maker"],
                },
              ]
            : []),
          ...(futures?.marketMaker?.function
            ? [
                {
                  key: "market-maker",
                  logGroupName: futures.marketMaker.function.logGroupName,
                  metrics: MARKET_MAKER_FUNCTION_LOG_METRICS,
                },
              ]
            : []),
          ...(futures?.refs.notifications
            ? [
                {
                  key: "notifications",
                  logGroupName: futures.refs.notifications.logGroupName,
                  metrics: LOG_METRICS.notifications,
                },
              ]
            : []),
          ...(futures?.marginCall
            ? [
                {
                  key: "margin-call",
                  logGroupName: futures.marginCall.logGroupName,
                  metrics: LOG_METRICS["margin-call"],
                },
              ]
            : []),
        ],
      })
    : undefined;

  // GitHub Actions reach AWS only through OIDC, each repository with a role scoped to its own services.
  const proxyServices = (["router", "validator"] as const).flatMap((kind) => {
    const ref = proxy.refs[kind];
    return ref ? [ref] : [];
  });
  const deployCfg = config.deployIdentity;
  const repositories: DeployRepository[] = [];
  if (deployCfg.proxyRouter.enabled && proxyServices.length > 0) {
    repositories.push({
      key: "proxy-router",
      repository: deployCfg.proxyRouter.repository,
      ...githubIds(deployCfg.proxyRouter),
      roleName: deployCfg.proxyRouter.roleName ?? `github-actions-proxy-router-deploy-${env.name}`,
      extraSubjects: deployCfg.proxyRouter.extraSubjects,
      services: proxyServices,
    });
  }
  const futuresDeploys = futures?.deployables();
  if (
    deployCfg.futures.enabled &&
    futuresDeploys &&
    futuresDeploys.services.length + futuresDeploys.sites.length + futuresDeploys.functions.length > 0
  ) {
    repositories.push({
      key: "futures",
      repository: deployCfg.futures.repository,
      ...githubIds(deployCfg.futures),
      roleName: deployCfg.futures.roleName ?? futuresNames(env.name).deployRole,
      extraSubjects: deployCfg.futures.extraSubjects,
      ...futuresDeploys,
    });
  }
  const infraCi = deployCfg.infra;
  const deploy =
    repositories.length > 0 || infraCi.enabled
      ? new DeployIdentity("deploy", {
          aws: ctx,
          env,
          ...(deployCfg.oidcProviderArn ? { oidcProviderArn: deployCfg.oidcProviderArn } : {}),
          protect: config.protect,
          repositories,
          ...(infraCi.enabled
            ? {
                infra: {
                  repository: config.github.infraRepository,
                  ...githubIds(infraCi),
                  previewRoleName: infraCi.previewRoleName ?? infraPreviewRoleName(env.name),
                  deployerRoleName: infraCi.deployerRoleName ?? infraDeployerRoleName(env.name),
                  driftCheckBranch: infraCi.driftCheckBranch,
                  ...(infraCi.stateBucket
                    ? {
                        state: {
                          partition: ctx.partition,
                          bucket: infraCi.stateBucket,
                          prefix: infraCi.stateKeyPrefix,
                          ...(infraCi.stateBucket === TITANIO_STATE_BUCKET.bucket
                            ? { foreignPrefixes: [TITANIO_STATE_BUCKET.terraformPrefix] }
                            : {}),
                          project: config.project,
                          stack: config.stack,
                          ...(infraCi.stateBucketKeyArn ? { bucketKeyArn: infraCi.stateBucketKeyArn } : {}),
                        },
                      }
                    : {}),
                  ...(infraCi.secretsProviderKeyArn ? { secretsProviderKeyArn: infraCi.secretsProviderKeyArn } : {}),
                  ...(config.dns.assumeRoleArn && config.dns.assumeRoleArn !== DNS_ROLE_PENDING
                    ? { dnsRoleArn: config.dns.assumeRoleArn }
                    : {}),
                  refreshReads: {
                    // Only the secrets this stack writes a value into; the ones filled out of band stay unreadable.
                    secretArns: [
                      ...(config.secrets.proxyRouter && proxy.services.router
                        ? [proxy.services.router.secret.arn]
                        : []),
                      ...(config.secrets.proxyValidator && proxy.services.validator
                        ? [proxy.services.validator.secret.arn]
                        : []),
                      ...(config.secrets.marketMaker && futures?.marketMaker ? [futures.marketMaker.secret.arn] : []),
                      ...(config.secrets.notifications && futures?.notifications
                        ? [futures.notifications.secret.arn]
                        : []),
                      ...(config.secrets.marginCall && futures?.marginCall ? [futures.marginCall.secret.arn] : []),
                    ],
                    secretsKmsKeyArn: key.arn,
                    objectArns: monitoring?.canary
                      ? [
                          pulumi.interpolate`arn:${ctx.partition}:s3:::${monitoring.canary.code.bucket}/${monitoring.canary.code.key}`,
                        ]
                      : [],
                  },
                },
              }
            : {}),
        })
      : undefined;

  // Each stack manages its own GitHub environment (dev, stg or main) in every repository.
  if (config.github.manageEnvironments) {
    const environmentRepositories: EnvironmentRepository[] = [];
    const proxyRole = deploy?.roleArns["proxy-router"];
    if (proxyRole) {
      environmentRepositories.push({
        key: "proxy-router",
        repository: deployCfg.proxyRouter.repository,
        variables: {
          AWS_ROLE_ARN: proxyRole,
          AWS_REGION: config.region,
          ECS_CLUSTER: cluster.cluster.name,
          // In deploy order: the router first, then the validator.
          ECS_SERVICES: pulumi.all(proxyServices.map((s) => s.serviceName)).apply((names) => names.join(",")),
          ECS_DEPLOY_TARGETS: ecsDeployTargetsVariable(
            proxyServices.map((s) => ({
              service: s.serviceName,
              container: s.containerName,
              image: config.proxyRouter.image,
              // The workflow refuses a tag that is not a release of this environment, exactly as the program does.
              tagPattern: pinnedTagPattern({ prefix: config.proxyRouter.github.tagPrefix, suffix: env.tagSuffix }),
              imageTagParameter: s.imageTagParameterName,
              rolloutDeadlineMinutes: rolloutDeadline,
            })),
          ),
        },
      });
    }
    const futuresRole = deploy?.roleArns.futures;
    if (futures && futuresRole) {
      environmentRepositories.push({
        key: "futures",
        repository: deployCfg.futures.repository,
        variables: { AWS_ROLE_ARN: futuresRole, AWS_REGION: config.region, ...futures.githubVariables() },
      });
    }
    const infraPreview = deploy?.roleArns["infra-preview"];
    const infraDeployer = deploy?.roleArns["infra-deployer"];
    environmentRepositories.push({
      key: "infra",
      repository: config.github.infraRepository,
      variables: {
        AWS_REGION: config.region,
        PULUMI_STACK: config.stack,
        ...(infraDeployer ? { AWS_ROLE_ARN: infraDeployer } : {}),
      },
      // Previews and drift checks run in no environment, so their role is a repository variable.
      repositoryVariables: infraPreview ? { [`AWS_PREVIEW_ROLE_ARN_${config.stack.toUpperCase()}`]: infraPreview } : {},
    });
    new GitHubEnvironments("github", {
      env,
      owner: config.github.owner,
      repositories: environmentRepositories,
      productionReviewers: {
        users: config.github.productionReviewerUsers,
        teams: config.github.productionReviewerTeams,
      },
      productionWaitTimerMinutes: config.github.productionWaitTimerMinutes,
      ...(config.githubToken ? { token: config.githubToken } : {}),
    });
  }

  if (dns.withheld && deps.blockers !== "refuse") {
    deps.blockers([pendingDnsBlocker(env, config.stack, config.dns.zoneName, `${config.project}:`, dns.withheld)]);
  }

  return {
    environment: env.name,
    region: config.region,
    accountId: ctx.accountId,
    vpcId: network.vpcId,
    clusterName: cluster.cluster.name,
    clusterArn: cluster.cluster.arn,
    platformKeyAlias: key.aliasName,
    proxyRouter: serviceOutputs(proxy.refs.router, images.get("proxy-router")),
    proxyValidator: serviceOutputs(proxy.refs.validator, images.get("proxy-validator")),
    marketMaker:
      serviceOutputs(futures?.refs.marketMaker, images.get("market-maker")) ??
      (futures?.marketMaker?.function
        ? { functionName: futures.marketMaker.function.functionName, secretArn: futures.marketMaker.secret.arn }
        : undefined),
    futuresNotifications: serviceOutputs(futures?.refs.notifications, images.get("futures-notifications")),
    // Deployment facts of the futures marketplace (also its GitHub environment's variables); none is a secret.
    futures: futures
      ? {
          clusterName: futures.cluster?.cluster.name,
          siteUrl: futures.ui?.siteUrl,
          uiBucket: futures.ui?.bucketName,
          cloudFrontDistributionId: futures.ui?.distributionId,
          notificationsUrl: futures.notifications?.url,
          databaseIdentifier: futures.notifications?.databaseIdentifier,
          marginCallFunction: futures.marginCall?.functionName,
          marketMakerFunction: futures.marketMaker?.function?.functionName,
          marginCallFailureQueue: futures.marginCall?.failureQueue.name,
        }
      : undefined,
    // Not secret: role ARNs belong in GitHub environment variables (AWS_ROLE_ARN).
    deployRoles: deploy ? deploy.roleArns : {},
    oidcProviderArn: deploy?.oidcProviderArn,
    ...(monitoring?.topicArn ? { alertTopicArn: monitoring.topicArn } : {}),
    alarms: monitoring ? monitoring.alarmNames : {},
    // What an operator still has to do by hand: each secret declared pending out of band.
    operatorToDo: operatorToDo(config),
  };
}

/** One secret whose value an operator still has to put in, and the steps that bring its workload up. */
export interface SecretToDo {
  /** The config key that declares it: `lumerin-infra:outOfBandSecrets.<secret>`. */
  readonly configKey: string;
  /** The Secrets Manager secret's name. */
  readonly secretName: string;
  /** The JSON keys the secret's value must hold. */
  readonly jsonKeys: readonly string[];
  /** Commands and edits, in order. */
  readonly steps: readonly string[];
}

/**
 * The to-do of every secret declared `pending` whose workload this stack runs, with the
 * commands spelled out for this stack's names, in the order that keeps every start
 * clean: fill the secret, start the workload, then declare it `filled`.
 */
export function operatorToDo(config: StackConfig): SecretToDo[] {
  const env = config.env;
  const region = config.region;
  const todo: SecretToDo[] = [];
  const add = (group: SecretGroup, secretName: string, start: string[]): void => {
    if (!secretPending(config, group)) return;
    const jsonKeys = secretKeysOf(group).map((key) => SECRET_KEYS[key].jsonKey);
    const configKey = `${config.project}:outOfBandSecrets.${group}`;
    todo.push({
      configKey,
      secretName,
      jsonKeys,
      steps: [
        `aws secretsmanager put-secret-value --region ${region} --secret-id ${secretName} --secret-string file://${group}-${env.name}.json   # a JSON object with ${jsonKeys.join(", ")}`,
        ...start,
        `set ${configKey} to filled in Pulumi.${config.stack}.yaml, then pulumi up`,
      ],
    });
  };
  const ecsStart = (cluster: string, service: string, tasks: number): string[] =>
    tasks > 0
      ? [
          `aws ecs update-service --region ${region} --cluster ${cluster} --service ${service} --desired-count ${tasks} --force-new-deployment`,
        ]
      : [];

  const proxyCluster = config.cluster.name ?? clusterNames(env.name, region).cluster;
  for (const [kind, group] of [
    ["router", "proxyRouter"],
    ["validator", "proxyValidator"],
  ] as const) {
    const cfg = config.proxyRouter[kind];
    if (!cfg.enabled) continue;
    const names = resolvedProxyNames(kind, env, region, cfg);
    add(group, names.secret, ecsStart(proxyCluster, names.service, cfg.desiredCount));
  }
  const futures = config.futures;
  if (futures) {
    const names = futuresNames(env.name);
    const futuresCluster = futures.cluster.name ?? names.cluster;
    if (futures.marketMaker.enabled)
      add(
        "marketMaker",
        names.marketMaker.secret,
        // The Lambda needs no start of its own: `filled` reserves its execution and creates its schedule's target.
        futures.marketMaker.runtime === "lambda"
          ? []
          : ecsStart(futuresCluster, names.marketMaker.service, futures.marketMaker.workerQuantity),
      );
    if (futures.notifications.enabled)
      add("notifications", names.notifications.secret, ecsStart(futuresCluster, names.notifications.service, 1));
    // The margin call needs no start of its own: `filled` turns its schedules on.
    if (futures.marginCall.enabled) add("marginCall", names.marginCall.secret, []);
  }
  return todo;
}

/** The repository's immutable ids, when config gives both. */
function githubIds(cfg: { readonly ownerId?: number; readonly repositoryId?: number }): { ids?: GitHubRepositoryIds } {
  return cfg.ownerId !== undefined && cfg.repositoryId !== undefined
    ? { ids: { ownerId: cfg.ownerId, repositoryId: cfg.repositoryId } }
    : {};
}

/** A service's stack output: what runs (image and where its tag came from) and where to find it. */
function serviceOutputs(ref: DeployedServiceRef | undefined, image: ResolvedImage | undefined) {
  return ref && image
    ? {
        serviceName: ref.serviceName,
        serviceArn: ref.serviceArn,
        image: image.image,
        imageTag: image.tag,
        imageTagOrigin: image.origin,
        imageTagParameter: ref.imageTagParameterName,
        secretArn: ref.secretArn,
        ...(ref.hostName ? { hostName: ref.hostName } : {}),
      }
    : undefined;
}

function pick(images: ReadonlyMap<string, ResolvedImage>, key: string): { image: string; tag: string } {
  const resolved = images.get(key);
  // A disabled service has no image request; it registers nothing, so any value serves.
  return resolved ? { image: resolved.image, tag: resolved.tag } : { image: "", tag: "" };
}

/** Every container image of the stack, resolved in one pass (one release listing per repository). */
async function resolveStackImages(
  config: StackConfig,
  releases: ReleaseSource | undefined,
): Promise<ReadonlyMap<string, ResolvedImage>> {
  const requests = [...proxyImageRequests(config), ...futuresImageRequests(config)];
  return resolveImages(requests, { environment: config.env.name, releases, readDeployedTags: readSsmTags });
}

function futuresImageRequests(config: StackConfig): ImageRequest[] {
  const cfg = config.futures;
  if (!cfg) return [];
  const names = futuresNames(config.env.name);
  const github = { owner: cfg.github.owner, repo: cfg.github.repo };
  const parts = [
    // The Lambda runtime has no image: the pipeline uploads its code.
    {
      key: "market-maker",
      part: cfg.marketMaker,
      enabled: cfg.marketMaker.enabled && cfg.marketMaker.runtime === "ecs",
      parameter: names.marketMaker.imageTagParameter,
    },
    {
      key: "futures-notifications",
      part: cfg.notifications,
      enabled: cfg.notifications.enabled,
      parameter: names.notifications.imageTagParameter,
    },
  ];
  return parts
    .filter(({ enabled }) => enabled)
    .map(({ key, part, parameter }) => ({
      key,
      repository: part.image,
      imageTag: part.imageTag,
      github,
      pattern: { prefix: part.tagPrefix, suffix: config.env.tagSuffix },
      deployedTagParameter: parameter,
    }));
}

/** The proxy services' keys in images, monitoring and outputs. */
const PROXY_SERVICE_KEY = { router: "proxy-router", validator: "proxy-validator" } as const;

function proxyImageRequests(config: StackConfig): ImageRequest[] {
  const cfg = config.proxyRouter;
  return (["router", "validator"] as const)
    .filter((kind) => cfg[kind].enabled)
    .map((kind) => ({
      key: PROXY_SERVICE_KEY[kind],
      repository: cfg.image,
      // Each service its own tag: pinning the validator alone rolls back the validator alone.
      imageTag: cfg[kind].imageTag,
      github: { owner: cfg.github.owner, repo: cfg.github.repo },
      pattern: { prefix: cfg.github.tagPrefix, suffix: config.env.tagSuffix },
      deployedTagParameter: resolvedProxyNames(kind, config.env, config.region, cfg[kind]).imageTagParameter,
    }));
}

/** Tags recorded by code deploys, read with one `GetParametersByPath` per folder (missing parameters are no error). */
const readSsmTags: DeployedTagReader = async (names) => {
  const folders = [...new Set(names.map((n) => n.slice(0, n.lastIndexOf("/")) || "/"))];
  const found = new Map<string, string>();
  for (const path of folders) {
    const result = await aws.ssm.getParametersByPath({ path, recursive: false, withDecryption: false });
    result.names.forEach((name, i) => {
      if (names.includes(name)) found.set(name, result.values[i]);
    });
  }
  return found;
};

/** Monitoring creates its alert topic unless one is configured. */
function monitoringCreatesTopic(config: StackConfig): boolean {
  const m = config.monitoring;
  return m.enabled && m.alarms && !m.alertTopic.arn && !m.alertTopic.name;
}

/** us-east-1, where CloudFront takes its certificates and web ACLs (and its metrics live), with the stack's tags and accounts. */
function globalProvider(config: StackConfig): aws.Provider {
  const { defaultTags, allowedAccountIds } = config.providerDefaults;
  return new aws.Provider("us-east-1", {
    region: "us-east-1",
    ...(defaultTags ? { defaultTags: { tags: { ...defaultTags.tags } } } : {}),
    ...(allowedAccountIds ? { allowedAccountIds: [...allowedAccountIds] } : {}),
  });
}

/** The preview and deployer roles of this repository's CI in this stack. */
function infraRoleNames(config: StackConfig): { readonly previewRoleName: string; readonly deployerRoleName: string } {
  const infra = config.deployIdentity.infra;
  return {
    previewRoleName: infra.previewRoleName ?? infraPreviewRoleName(config.env.name),
    deployerRoleName: infra.deployerRoleName ?? infraDeployerRoleName(config.env.name),
  };
}

/**
 * The zone every record goes into, looked up (by id when configured, else by name)
 * before any record is registered, through the provider of the zone's account when
 * `dns.assumeRoleArn` names a role there. While that role is `pending` there is no
 * lookup and no zone: records are withheld (see `zoneRecord`).
 */
async function dnsTarget(config: StackConfig, callerArn: string): Promise<DnsTarget> {
  const { zoneName, zoneId, assumeRoleArn } = config.dns;
  if (assumeRoleArn === DNS_ROLE_PENDING) return { zoneName, withheld: [] };
  const defaultTags = config.providerDefaults.defaultTags;
  const provider = assumeRoleArn
    ? new aws.Provider("dns", {
        // The zone's account is another one: the stack's allowedAccountIds do not apply, its tags do.
        ...(defaultTags ? { defaultTags: { tags: { ...defaultTags.tags } } } : {}),
        region: config.region as aws.Region,
        assumeRoles: [
          {
            roleArn: assumeRoleArn,
            sessionName: `lumerin-infra-${config.env.name}-dns`,
            // The zone role's trust admits the preview role only as a reader (lib/dns-access.ts).
            tags: { [DNS_ACCESS_TAG]: dnsAccessOf(callerArn, infraRoleNames(config).previewRoleName) },
          },
        ],
      })
    : undefined;
  const through = provider ? { provider } : undefined;
  const zone = zoneId
    ? await aws.route53.getZone({ zoneId }, through)
    : await aws.route53.getZone({ name: zoneName, privateZone: false }, through);
  const found = zone.name.replace(/\.$/, "").toLowerCase();
  if (zoneId && found !== zoneName) {
    throw new ConfigError([
      { key: `${config.project}:dns.zoneId`, message: `${zoneId} is the hosted zone ${found}, not ${zoneName}` },
    ]);
  }
  return { zoneId: zone.zoneId, zoneName, ...(provider ? { provider } : {}) };
}
