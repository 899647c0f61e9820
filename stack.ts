/**
 * The composition: one stack's configuration → components → stack outputs.
 * `index.ts` runs it under the Pulumi CLI; `tools/plan.ts` and the tests run the
 * same function under Pulumi's mocks. Nothing here knows which.
 */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { ConfigError, ConfigSource, StackConfig, loadStackConfig, secretPending } from "./config/load";
import { DeployBlockedError, DeployBlocker, pendingDnsBlocker } from "./config/dns";
import { DNS_ROLE_PENDING, SECRET_KEYS, SecretGroup, secretKeysOf } from "./config/schema";
import { DNS_ACCESS_TAG, dnsAccessOf } from "./lib/dns-access";
import type { ReleaseSource } from "./lib/github-releases";
import { AwsContext } from "./lib/iam";
import { DeployedTagReader, ImageRequest, ResolvedImage, resolveImages } from "./lib/image-resolution";
import { rolloutDeadlineMinutes } from "./lib/rollout";
import { deploymentAlarmWindowMinutes } from "./config/monitoring";
import {
  appEnv,
  clusterNames,
  futuresNames,
  infraDeployerRoleName,
  infraPreviewRoleName,
  platformKeyAlias,
  proxyRouterDeployRoleName,
} from "./lib/naming";
import type { EnvironmentName } from "./lib/environments";
import { Cluster } from "./components/cluster";
import { DeployIdentity, DeployRepository, GitHubRepositoryIds, InfraCiRoles } from "./components/deploy-identity";
import { TITANIO_STATE_BUCKET } from "./lib/pulumi-state";
import { Futures } from "./components/futures/futures";
import { Monitoring } from "./components/monitoring/monitoring";
import { EnvironmentRepository, GitHubEnvironments } from "./components/github-environments";
import { Network } from "./components/network";
import { PlatformKey } from "./components/platform-key";
import { ProxyRouter, resolvedProxyNames } from "./components/proxy-router";
import { PROXY_SERVICE_KEY } from "./lib/naming";
import type { DeployedServiceRef } from "./components/service-parts";
import type { DnsTarget } from "./components/proxy-service";
import { CodeDeploy, DeployRepositoryKey, SystemFacets, deployCount, mergeWatched } from "./components/system";
import { DeployRunner, DeployRunnerApp } from "./components/deploy-runner";
import { bundleLambda } from "./lib/lambda-bundle";
import { ecrRepositoryArnOf } from "./lib/image-tags";

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

/**
 * One stack, composed in five steps: its configuration and images; the
 * foundations every system stands on; the systems; what operates them (the
 * monitoring, the deploy identity and the GitHub environments, built from the
 * systems' facets alone); and the typed outputs.
 */
export async function lumerinStack(deps: StackDependencies): Promise<StackOutputs> {
  const inputs = await stackInputs(deps);
  const base = await foundations(inputs);
  const systems = composeSystems(inputs, base);
  const operations = operate(inputs, base, systems);
  if (base.dns.withheld && deps.blockers !== "refuse") deps.blockers([dnsBlocker(inputs.config, base.dns.withheld)]);
  return stackOutputs(inputs, base, systems, operations);
}

/** What everything else is built from, settled before the first resource is registered. */
interface StackInputs {
  readonly config: StackConfig;
  readonly images: ReadonlyMap<string, ResolvedImage>;
  readonly ctx: AwsContext;
  /** The identity running the program (the DNS role's trust tells a preview from a deploy by it). */
  readonly callerArn: string;
  /** Whether the monitoring's alarms exist (they then roll deployments back). */
  readonly monitors: boolean;
  /** How long a code deploy waits for one service's rollout, bake time included. */
  readonly rolloutDeadlineMinutes: number;
}

/** Everything that can fail on input happens here, before the first resource is registered. */
async function stackInputs(deps: StackDependencies): Promise<StackInputs> {
  const config = loadStackConfig(deps.config);
  if (config.dns.assumeRoleArn === DNS_ROLE_PENDING && deps.blockers === "refuse") {
    throw new DeployBlockedError([dnsBlocker(config, [])]);
  }
  const images = await resolveStackImages(config, deps.releases);
  const [identity, partition] = await Promise.all([aws.getCallerIdentity(), aws.getPartition()]);
  const monitors = config.monitoring.enabled && config.monitoring.alarms;
  return {
    config,
    images,
    ctx: { accountId: identity.accountId, region: config.region, partition: partition.partition },
    callerArn: identity.arn,
    monitors,
    // A code deploy waits for ECS's bake time, which the deployment alarms' evaluation windows set.
    rolloutDeadlineMinutes: rolloutDeadlineMinutes(monitors ? [deploymentAlarmWindowMinutes(config.monitoring)] : []),
  };
}

/** What every system stands on. */
interface Foundations {
  readonly key: PlatformKey;
  readonly network: Network;
  readonly dns: DnsTarget;
  readonly cluster: Cluster;
  /** us-east-1 (CloudFront's certificate and web ACL, CloudFront's and Route53's metrics), when anything needs it. */
  readonly global?: aws.Provider;
}

async function foundations(inputs: StackInputs): Promise<Foundations> {
  const { config, ctx } = inputs;
  const env = config.env;
  const execLogGroupName = config.cluster.execLogGroupName ?? clusterNames(env.name, config.region).execLogGroup;
  const key = new PlatformKey("platform", {
    alias: platformKeyAlias(env.name),
    description: `lumerin-infra ${env.name}: service secrets and ECS Exec session logs`,
    aws: ctx,
    logGroupNames: [execLogGroupName, ...(config.futures ? [futuresNames(env.name).clusterExecLogGroup] : [])],
    // A topic this stack creates is encrypted with this key; CloudWatch must be able to publish to it.
    alarmTopics: monitoringCreatesTopic(config),
    protect: config.protect,
  });
  const network = new Network("network", { config: config.network, vpcName: appEnv("lumerin", env.name) });
  const dns = await dnsTarget(config, inputs.callerArn);
  const cluster = new Cluster("cluster", {
    name: config.cluster.name ?? clusterNames(env.name, config.region).cluster,
    execLogGroupName,
    execLogRetentionDays: config.cluster.execLogRetentionDays,
    containerInsights: config.cluster.containerInsights,
    kmsKeyArn: key.arn,
  });
  const needsGlobal = !!config.futures?.ui.enabled;
  return { key, network, dns, cluster, ...(needsGlobal ? { global: globalProvider(config) } : {}) };
}

/** The systems the stack runs, each exposing the same facets. */
interface Systems {
  readonly proxy: ProxyRouter;
  readonly futures?: Futures;
  /** Every system's facets, in deploy and monitoring order. */
  readonly all: readonly SystemFacets[];
}

function composeSystems(inputs: StackInputs, base: Foundations): Systems {
  const { config, ctx, images } = inputs;
  const env = config.env;
  const proxy = new ProxyRouter("proxy", {
    aws: ctx,
    env,
    config: config.proxyRouter,
    images: { router: pick(images, "proxy-router"), validator: pick(images, "proxy-validator") },
    cluster: base.cluster.ref,
    network: base.network,
    dns: base.dns,
    secretsKmsKeyArn: base.key.arn,
    secretValues: { router: config.secrets.proxyRouter, validator: config.secrets.proxyValidator },
    // A service whose secret's value is still pending out of band is created without tasks.
    pendingSecrets: new Set(
      (["router", "validator"] as const).filter((kind) => secretPending(config, PROXY_SECRET[kind])),
    ),
    deploymentAlarms: inputs.monitors,
    rolloutDeadlineMinutes: inputs.rolloutDeadlineMinutes,
    protect: config.protect,
  });
  const futures = config.futures
    ? new Futures("futures", {
        aws: ctx,
        env,
        config: config.futures,
        network: base.network,
        dns: base.dns,
        platformKeyArn: base.key.arn,
        clusterExecLogGroupName: futuresNames(env.name).clusterExecLogGroup,
        ...(base.global ? { globalProvider: base.global } : {}),
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
        deploymentAlarms: inputs.monitors,
        pendingSecrets: new Set(
          (["marketMaker", "notifications", "marginCall"] as const).filter((group) => secretPending(config, group)),
        ),
        rolloutDeadlineMinutes: inputs.rolloutDeadlineMinutes,
      })
    : undefined;
  return { proxy, ...(futures ? { futures } : {}), all: [proxy.facets, ...(futures ? [futures.facets] : [])] };
}

/** The secret group of each proxy service. */
const PROXY_SECRET = { router: "proxyRouter", validator: "proxyValidator" } as const;

/** What operates the systems. */
interface Operations {
  readonly monitoring?: Monitoring;
  readonly deploy?: DeployIdentity;
  readonly runner?: DeployRunner;
}

/** The monitoring, the deploy identity and the GitHub environments, from the systems' facets. */
function operate(inputs: StackInputs, base: Foundations, systems: Systems): Operations {
  const monitoring = watch(inputs, base, systems);
  const deploy = deployIdentity(inputs, base, systems, monitoring);
  const runner = deploy ? deployRunner(inputs, base, systems, deploy) : undefined;
  if (inputs.config.github.manageEnvironments) githubEnvironments(inputs, systems, deploy, runner);
  return { ...(monitoring ? { monitoring } : {}), ...(deploy ? { deploy } : {}), ...(runner ? { runner } : {}) };
}

function watch(inputs: StackInputs, base: Foundations, systems: Systems): Monitoring | undefined {
  const { config } = inputs;
  const m = config.monitoring;
  if (!(m.enabled && (m.alarms || m.dashboards || m.metricFilters || m.canary))) return undefined;
  return new Monitoring("monitoring", {
    aws: inputs.ctx,
    env: config.env,
    config: m,
    kmsKeyArn: base.key.arn,
    ...(base.global ? { globalProvider: base.global } : {}),
    ...mergeWatched(systems.all),
  });
}

/** GitHub Actions reach AWS only through OIDC, each repository with a role scoped to its own system. */
function deployIdentity(
  inputs: StackInputs,
  base: Foundations,
  systems: Systems,
  monitoring: Monitoring | undefined,
): DeployIdentity | undefined {
  const { config, ctx } = inputs;
  const cfg = config.deployIdentity;
  const repositories = systems.all.flatMap((system) => deployRepository(config, system));
  // The deploy runner's GitHub role trusts the account's OIDC provider, which the deploy identity holds.
  if (repositories.length === 0 && !cfg.infra.enabled && !config.deployRunner.enabled) return undefined;
  return new DeployIdentity("deploy", {
    aws: ctx,
    env: config.env,
    ...(cfg.oidcProviderArn ? { oidcProviderArn: cfg.oidcProviderArn } : {}),
    protect: config.protect,
    repositories,
    ...(cfg.infra.enabled ? { infra: infraCiRoles(inputs, base, systems, monitoring) } : {}),
  });
}

/** A system's deploy repository: its configured GitHub repository and role, and what the system deploys. */
function deployRepository(config: StackConfig, system: SystemFacets): DeployRepository[] {
  const cfg = deployRepositoryConfig(config, system.repository);
  // With the deploy runner, the repository's own role deploys no ECS service: the runner does.
  const deploys = config.deployRunner.enabled ? { ...system.deploys, services: [] } : system.deploys;
  if (!cfg.enabled || deployCount(deploys) === 0) return [];
  return [
    {
      key: system.repository,
      repository: cfg.repository,
      ...githubIds(cfg),
      roleName: cfg.roleName ?? deployRoleName(system.repository, config.env.name),
      extraSubjects: cfg.extraSubjects,
      ...deploys,
    },
  ];
}

/**
 * The deploy runner, when the stack uses it: it deploys every system's ECS services, each
 * app admitted for one workflow of its repository on the environment's branch and GitHub
 * environment, through the image-deploy workflow of this repository.
 */
function deployRunner(
  inputs: StackInputs,
  base: Foundations,
  systems: Systems,
  deploy: DeployIdentity,
): DeployRunner | undefined {
  const { config, ctx } = inputs;
  if (!config.deployRunner.enabled) return undefined;
  const deploying = systems.all.filter((system) => system.codeDeploys.length > 0);
  if (deploying.length === 0) return undefined;
  return new DeployRunner("deploy-runner", {
    aws: ctx,
    env: config.env,
    network: { vpcId: base.network.vpcId, privateSubnetIds: base.network.privateSubnetIds },
    apps: deploying.flatMap((system) => system.codeDeploys.map((d) => runnerApp(inputs, system.repository, d))),
    callers: deploying.map((system) => {
      const cfg = deployRepositoryConfig(config, system.repository);
      return { repository: cfg.repository, ...githubIds(cfg) };
    }),
    oidcProviderArn: deploy.oidcProviderArn,
    invokerCode: bundleLambda(DEPLOY_INVOKER_ENTRY),
    runnerCode: bundleLambda(DEPLOY_RUNNER_ENTRY),
    // The runner waits for a rollout as long as image-deploy does; its lease outlasts the execution.
    deadlineMinutes: inputs.rolloutDeadlineMinutes,
    leaseMinutes: inputs.rolloutDeadlineMinutes + RUNNER_LEASE_MARGIN_MINUTES,
    protect: config.protect,
  });
}

/** The Lambdas' entry points, bundled by the program. */
const DEPLOY_INVOKER_ENTRY = "lambdas/deploy-invoker/index.ts";
const DEPLOY_RUNNER_ENTRY = "lambdas/deploy-runner/handler.ts";
/** Minutes a deploy's lease outlasts its deadline (the execution's own timeout is two minutes past it). */
const RUNNER_LEASE_MARGIN_MINUTES = 15;

/** One app's allowlist entry: its repository by name and ids, the caller workflow, and where the deploy goes. */
function runnerApp(inputs: StackInputs, key: DeployRepositoryKey, d: CodeDeploy): DeployRunnerApp {
  const { config, ctx } = inputs;
  const cfg = deployRepositoryConfig(config, key);
  const configKey = key === "proxy-router" ? "proxyRouter" : "futures";
  // The config check refuses an enabled runner without these; a missing one here is a program error.
  const given = <T>(value: T | undefined, field: string): T => {
    if (value === undefined)
      throw new ConfigError([
        { key: `${config.project}:${field}`, message: "required while deployRunner.enabled is true" },
      ]);
    return value;
  };
  const branch = `refs/heads/${config.env.branch}`;
  const ecrRepositoryArn = ecrRepositoryArnOf(d.imageRepository, ctx.partition);
  return {
    entry: {
      app: d.app,
      environment: config.env.name,
      repository: cfg.repository,
      repositoryId: String(given(cfg.repositoryId, `deployIdentity.${configKey}.repositoryId`)),
      repositoryOwnerId: String(given(cfg.ownerId, `deployIdentity.${configKey}.ownerId`)),
      ref: branch,
      githubEnvironment: config.env.githubEnvironment,
      workflowRef: `${cfg.repository}/${given(config.deployRunner.callers[configKey].workflow, `deployRunner.callers.${configKey}.workflow`)}@${branch}`,
      // Callers use this repository's reusable workflow at main (`uses: .../image-deploy.yml@main`).
      jobWorkflowRef: `${config.github.infraRepository}/${IMAGE_DEPLOY_WORKFLOW}@refs/heads/main`,
      tagPrefix: d.tagPrefix,
      target: {
        cluster: d.cluster,
        service: d.service,
        container: d.container,
        imageRepository: d.imageRepository,
        tagParameter: d.tagParameter,
      },
    },
    service: d.deployable,
    ...(ecrRepositoryArn ? { ecrRepositoryArn } : {}),
  };
}

/** The reusable code-deploy workflow of this repository, which the application repositories call. */
const IMAGE_DEPLOY_WORKFLOW = ".github/workflows/image-deploy.yml";

function deployRepositoryConfig(config: StackConfig, key: DeployRepositoryKey) {
  return key === "proxy-router" ? config.deployIdentity.proxyRouter : config.deployIdentity.futures;
}

function deployRoleName(key: DeployRepositoryKey, env: EnvironmentName): string {
  return key === "proxy-router" ? proxyRouterDeployRoleName(env) : futuresNames(env).deployRole;
}

/** This repository's CI roles: the preview's and the deployer's, with what a refresh reads. */
function infraCiRoles(
  inputs: StackInputs,
  base: Foundations,
  systems: Systems,
  monitoring: Monitoring | undefined,
): InfraCiRoles {
  const { config, ctx } = inputs;
  const infra = config.deployIdentity.infra;
  const dnsRoleArn = config.dns.assumeRoleArn;
  return {
    repository: config.github.infraRepository,
    ...githubIds(infra),
    ...infraRoleNames(config),
    driftCheckBranch: infra.driftCheckBranch,
    ...(infra.stateBucket
      ? {
          state: {
            partition: ctx.partition,
            bucket: infra.stateBucket,
            prefix: infra.stateKeyPrefix,
            ...(infra.stateBucket === TITANIO_STATE_BUCKET.bucket
              ? { foreignPrefixes: [TITANIO_STATE_BUCKET.terraformPrefix] }
              : {}),
            project: config.project,
            stack: config.stack,
            ...(infra.stateBucketKeyArn ? { bucketKeyArn: infra.stateBucketKeyArn } : {}),
          },
        }
      : {}),
    ...(infra.secretsProviderKeyArn ? { secretsProviderKeyArn: infra.secretsProviderKeyArn } : {}),
    ...(dnsRoleArn && dnsRoleArn !== DNS_ROLE_PENDING ? { dnsRoleArn } : {}),
    refreshReads: {
      // Only the secrets this stack writes a value into; the ones filled out of band stay unreadable.
      secretArns: systems.all.flatMap((system) => system.writtenSecretArns),
      secretsKmsKeyArn: base.key.arn,
      objectArns: monitoring?.canary
        ? [pulumi.interpolate`arn:${ctx.partition}:s3:::${monitoring.canary.code.bucket}/${monitoring.canary.code.key}`]
        : [],
    },
  };
}

/** Each stack manages its own GitHub environment (dev, stg or main) in every repository. */
function githubEnvironments(
  inputs: StackInputs,
  systems: Systems,
  deploy: DeployIdentity | undefined,
  runner: DeployRunner | undefined,
): GitHubEnvironments {
  const { config } = inputs;
  const repositories: EnvironmentRepository[] = systems.all.flatMap((system) => {
    const role = deploy?.roleArns[system.repository];
    const viaRunner = runner && system.codeDeploys.length > 0 ? runnerVariable(inputs, system, runner) : undefined;
    return role || viaRunner
      ? [
          {
            key: system.repository,
            repository: deployRepositoryConfig(config, system.repository).repository,
            variables: {
              ...(role ? { AWS_ROLE_ARN: role } : {}),
              AWS_REGION: config.region,
              ...system.githubVariables,
              ...(viaRunner ? { DEPLOY_RUNNER: viaRunner } : {}),
            },
          },
        ]
      : [];
  });
  const infraPreview = deploy?.roleArns["infra-preview"];
  const infraDeployer = deploy?.roleArns["infra-deployer"];
  repositories.push({
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
  return new GitHubEnvironments("github", {
    env: config.env,
    owner: config.github.owner,
    repositories,
    productionReviewers: { users: config.github.productionReviewerUsers, teams: config.github.productionReviewerTeams },
    productionWaitTimerMinutes: config.github.productionWaitTimerMinutes,
    ...(config.githubToken ? { token: config.githubToken } : {}),
  });
}

/**
 * `DEPLOY_RUNNER`: what image-deploy's runner path needs (JSON): the role it assumes, the
 * invoker and its audience, the logs it follows, the stack's environment, the repository's
 * services by app, and the deadline. None of it is a credential.
 */
function runnerVariable(inputs: StackInputs, system: SystemFacets, runner: DeployRunner): pulumi.Output<string> {
  return pulumi
    .all([runner.githubRoleArn, runner.invokerFunctionName, runner.runnerLogGroupNames])
    .apply(([roleArn, invokerFunction, [runnerLogGroup, stateMachineLogGroup]]) =>
      JSON.stringify({
        roleArn,
        region: inputs.config.region,
        invokerFunction,
        audience: runner.invokerAudience,
        runnerLogGroup,
        stateMachineLogGroup,
        environment: inputs.config.env.name,
        apps: Object.fromEntries(system.codeDeploys.map((d) => [d.service, d.app])),
        deadlineMinutes: inputs.rolloutDeadlineMinutes,
      }),
    );
}

function dnsBlocker(config: StackConfig, withheld: readonly string[]): DeployBlocker {
  return pendingDnsBlocker(config.env, config.stack, config.dns.zoneName, `${config.project}:`, withheld);
}

/** A service's stack output: what runs (image and where its tag came from) and where to find it. */
export interface ServiceOutputs {
  readonly serviceName: pulumi.Output<string>;
  readonly serviceArn: pulumi.Output<string>;
  readonly image: string;
  readonly imageTag: string;
  readonly imageTagOrigin: ResolvedImage["origin"];
  readonly imageTagParameter: string;
  readonly secretArn: pulumi.Output<string>;
  readonly hostName?: string;
}

/** The stack's outputs; none is a secret. */
export type StackOutputs = {
  readonly environment: EnvironmentName;
  readonly region: string;
  readonly accountId: string;
  readonly vpcId: pulumi.Output<string>;
  readonly clusterName: pulumi.Output<string>;
  readonly clusterArn: pulumi.Output<string>;
  readonly platformKeyAlias: string;
  readonly proxyRouter: ServiceOutputs | undefined;
  readonly proxyValidator: ServiceOutputs | undefined;
  /** The market maker's service, or its function when it runs as a Lambda. */
  readonly marketMaker:
    | ServiceOutputs
    | { readonly functionName: pulumi.Output<string>; readonly secretArn: pulumi.Output<string> }
    | undefined;
  readonly futuresNotifications: ServiceOutputs | undefined;
  /** Deployment facts of the futures marketplace (also its GitHub environment's variables). */
  readonly futures: FuturesOutputs | undefined;
  /** Role ARNs by key; they belong in GitHub environment variables (AWS_ROLE_ARN). */
  readonly deployRoles: Readonly<Record<string, pulumi.Output<string>>>;
  readonly oidcProviderArn: pulumi.Output<string> | undefined;
  /** The deploy runner, when the stack uses it: what a workflow invokes and the role it assumes for that. */
  readonly deployRunner?: {
    readonly invokerFunctionName: pulumi.Output<string>;
    readonly githubRoleArn: pulumi.Output<string>;
    readonly stateMachineArn: pulumi.Output<string>;
  };
  readonly alertTopicArn?: pulumi.Output<string>;
  /** Alarm names by service key. */
  readonly alarms: Monitoring["alarmNames"] | Record<string, never>;
  /** What an operator still has to do by hand: each secret declared pending out of band. */
  readonly operatorToDo: SecretToDo[];
};

export interface FuturesOutputs {
  readonly clusterName: pulumi.Output<string> | undefined;
  readonly siteUrl: string | undefined;
  readonly uiBucket: pulumi.Output<string> | undefined;
  readonly cloudFrontDistributionId: pulumi.Output<string> | undefined;
  readonly notificationsUrl: string | undefined;
  readonly databaseIdentifier: pulumi.Output<string> | undefined;
  readonly marginCallFunction: pulumi.Output<string> | undefined;
  readonly marketMakerFunction: pulumi.Output<string> | undefined;
  readonly marginCallFailureQueue: pulumi.Output<string> | undefined;
}

function stackOutputs(inputs: StackInputs, base: Foundations, systems: Systems, ops: Operations): StackOutputs {
  const { config, images } = inputs;
  const { proxy, futures } = systems;
  return withoutUndefined({
    environment: config.env.name,
    region: config.region,
    accountId: inputs.ctx.accountId,
    vpcId: base.network.vpcId,
    clusterName: base.cluster.cluster.name,
    clusterArn: base.cluster.cluster.arn,
    platformKeyAlias: base.key.aliasName,
    proxyRouter: serviceOutputs(proxy.refs.router, images.get("proxy-router")),
    proxyValidator: serviceOutputs(proxy.refs.validator, images.get("proxy-validator")),
    marketMaker:
      serviceOutputs(futures?.refs.marketMaker, images.get("market-maker")) ??
      (futures?.marketMaker?.function
        ? { functionName: futures.marketMaker.function.functionName, secretArn: futures.marketMaker.secret.arn }
        : undefined),
    futuresNotifications: serviceOutputs(futures?.refs.notifications, images.get("futures-notifications")),
    futures: futures ? futuresOutputs(futures) : undefined,
    deployRoles: ops.deploy ? ops.deploy.roleArns : {},
    oidcProviderArn: ops.deploy?.oidcProviderArn,
    ...(ops.runner
      ? {
          deployRunner: {
            invokerFunctionName: ops.runner.invokerFunctionName,
            githubRoleArn: ops.runner.githubRoleArn,
            stateMachineArn: ops.runner.stateMachineArn,
          },
        }
      : {}),
    ...(ops.monitoring?.topicArn ? { alertTopicArn: ops.monitoring.topicArn } : {}),
    alarms: ops.monitoring ? ops.monitoring.alarmNames : {},
    operatorToDo: operatorToDo(config),
  });
}

/** The outputs without the parts the stack does not run (Pulumi would warn about each undefined output). */
function withoutUndefined(outputs: StackOutputs): StackOutputs {
  return Object.fromEntries(Object.entries(outputs).filter(([, value]) => value !== undefined)) as StackOutputs;
}

function futuresOutputs(futures: Futures): FuturesOutputs {
  return {
    clusterName: futures.cluster?.cluster.name,
    siteUrl: futures.ui?.siteUrl,
    uiBucket: futures.ui?.bucketName,
    cloudFrontDistributionId: futures.ui?.distributionId,
    notificationsUrl: futures.notifications?.url,
    databaseIdentifier: futures.notifications?.databaseIdentifier,
    marginCallFunction: futures.marginCall?.functionName,
    marketMakerFunction: futures.marketMaker?.function?.functionName,
    marginCallFailureQueue: futures.marginCall?.failureQueue.name,
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

function serviceOutputs(
  ref: DeployedServiceRef | undefined,
  image: ResolvedImage | undefined,
): ServiceOutputs | undefined {
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
