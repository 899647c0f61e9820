/**
 * Physical names, derived in one place. Defaults follow the names the existing
 * Terraform gave the live resources (docs/estate.md) so that a stack
 * can adopt them (`pulumi import`) instead of recreating them; new resources
 * follow `{app}-{env}`. Every default here can be overridden per stack.
 */
import type { EnvironmentName } from "./environments";

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

/**
 * `stratumPort` is part of the target group's name (3333 live): the port is the one property of the group
 * a config change would replace it for, and with the port in its name the new group gets a new name, so it
 * is created, the listener and the service move to it, and only then the old one is deleted. With a fixed
 * name the new group could not be created while the old one exists, and the old one cannot be deleted
 * first while the listener forwards to it.
 */
export function proxyServiceNames(
  kind: ProxyServiceKind,
  env: EnvironmentName,
  region: string,
  stratumPort: number,
): ProxyServiceNames {
  const app = kind === "router" ? "proxy-router" : "proxy-validator";
  const short = regionShort(region);
  return {
    service: `svc-${app}-${env}-${short}`,
    taskFamily: `tsk-${app}`,
    // The live task definitions call the container `proxy-router-container` in both services.
    container: "proxy-router-container",
    logGroup: `bedrock-${env}-${app}-log-group`,
    // The design's names; the live secrets are `{dev|stg|prd}-<app>-config` (override to adopt).
    secret: `/${app}/${env}/config`,
    loadBalancer: `alb-${app}-ext-${short}`,
    targetGroup: `alb-tg-${app}-${stratumPort}-${short}`,
    // The tag a code deploy last rolled out, `/{app}/{env}/image-tag`.
    imageTagParameter: `/${app}/${env}/image-tag`,
    executionRole: `${appEnv(app, env)}-execution`,
    taskRole: `${appEnv(app, env)}-task`,
    serviceSecurityGroup: `${appEnv(app, env)}-service`,
    loadBalancerSecurityGroup: `${appEnv(app, env)}-nlb`,
  };
}

/** The DNS label of a proxy service's public endpoint when config names none: `proxy.<zone>`, `validator.<zone>`. */
export function defaultProxyHostLabel(kind: ProxyServiceKind): string {
  return kind === "router" ? "proxy" : "validator";
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

/** This repository's read-only CI role of a stack (previews and drift checks). */
export function infraPreviewRoleName(stack: string): string {
  return `lumerin-infra-preview-${stack}`;
}

/** This repository's deploying CI role of a stack (`pulumi up`). */
export function infraDeployerRoleName(stack: string): string {
  return `lumerin-infra-deployer-${stack}`;
}

/** The KMS key alias of a stack's Pulumi secrets provider, in the stack's own account: `alias/lumerin-infra-pulumi-<stack>`. */
export function pulumiSecretsKeyAlias(stack: string): string {
  return `alias/lumerin-infra-pulumi-${stack}`;
}

/** The `secretsprovider:` of a stack file: the stack's own KMS key by alias, in `region`. */
export function pulumiSecretsProviderUrl(stack: string, region: string): string {
  return `awskms://${pulumiSecretsKeyAlias(stack)}?region=${region}&awssdk=v2`;
}

/** The physical names of one futures ECS service and its parts. */
export interface FuturesServiceNames {
  readonly service: string;
  readonly taskFamily: string;
  readonly container: string;
  readonly logGroup: string;
  readonly secret: string;
  readonly imageTagParameter: string;
  readonly executionRole: string;
  readonly taskRole: string;
}

export interface MarketMakerNames extends FuturesServiceNames {
  readonly securityGroup: string;
}

export interface NotificationsNames extends FuturesServiceNames {
  readonly loadBalancer: string;
  readonly targetGroup: string;
  readonly albSecurityGroup: string;
  readonly serviceSecurityGroup: string;
  readonly databaseSecurityGroup: string;
  readonly database: string;
  readonly databaseSubnetGroup: string;
  readonly databaseParameterGroup: string;
  readonly rotationRule: string;
  readonly rotationRuleRole: string;
  readonly redeployStateMachine: string;
  readonly redeployRole: string;
}

/** The physical names of a scheduled futures Lambda (the margin call, the market maker's Lambda runtime). */
export interface ScheduledFunctionNames {
  readonly function: string;
  readonly role: string;
  /** The role's inline policy (the live one's name, so adopting it changes its content only). */
  readonly rolePolicy: string;
  readonly securityGroup: string;
  readonly logGroup: string;
  readonly scheduleRule: string;
  readonly scheduleTargetId: string;
  readonly scheduleStatementId: string;
  readonly failureQueue: string;
}

export interface MarginCallNames extends ScheduledFunctionNames {
  readonly secret: string;
  readonly dailyRule: string;
  readonly dailyTargetId: string;
  readonly dailyStatementId: string;
}

export interface FuturesUiNames {
  readonly originAccessControl: string;
  readonly webAcl: string;
  readonly responseHeadersPolicy: string;
}

export interface FuturesNames {
  readonly cluster: string;
  readonly clusterExecLogGroup: string;
  readonly ui: FuturesUiNames;
  readonly marketMaker: MarketMakerNames;
  readonly notifications: NotificationsNames;
  readonly marginCall: MarginCallNames;
  /** The market maker as the scheduled Lambda the live estate runs since February 2026. */
  readonly marketMakerLambda: ScheduledFunctionNames;
  /** The futures repository's deploy role. */
  readonly deployRole: string;
}

/**
 * The futures marketplace's names as the live deployment has them (docs/estate.md),
 * so a stack can adopt them; new resources follow `{app}-{env}`.
 */
export function futuresNames(env: EnvironmentName): FuturesNames {
  return {
    cluster: `ecs-futures-marketplace-${env}`,
    clusterExecLogGroup: `bedrock-futures-marketplace-ecs-cluster-${env}`,
    ui: {
      originAccessControl: `titanio-${env}-s3futures`,
      webAcl: appEnv("futures-ui", env),
      responseHeadersPolicy: `${appEnv("futures-ui", env)}-security-headers`,
    },
    marketMaker: {
      service: `svc-market-maker-${env}`,
      taskFamily: "tsk-market-maker",
      container: "market-maker-container",
      logGroup: `/ecs/market-maker-${env}`,
      secret: `market-maker-secrets-v3-${env}`,
      imageTagParameter: `/market-maker/${env}/image-tag`,
      securityGroup: `market-maker-ecs-svc-${env}`,
      executionRole: appEnv("market-maker", env) + "-execution",
      taskRole: appEnv("market-maker", env) + "-task",
    },
    notifications: {
      service: `svc-futures-notifications-${env}`,
      taskFamily: "tsk-futures-notifications",
      container: "futures-notifications-container",
      logGroup: `/ecs/futures-notifications-${env}`,
      secret: `notifications-secrets-v3-${env}`,
      imageTagParameter: `/futures-notifications/${env}/image-tag`,
      loadBalancer: `alb-futures-notifications-${env}`,
      // The live target group's name (one per account, so it carries no environment).
      targetGroup: "tg-notification-v2-3000",
      albSecurityGroup: `notifications-alb-int-v2-${env}`,
      serviceSecurityGroup: `notifications-ecs-v2-${env}`,
      databaseSecurityGroup: `notifications-rds-v2-${env}`,
      database: `notifications-v2-${env}`,
      databaseSubnetGroup: `notifications-db-subnet-v2-${env}`,
      databaseParameterGroup: `notifications-pg17-v2-${env}`,
      executionRole: appEnv("futures-notifications", env) + "-execution",
      taskRole: appEnv("futures-notifications", env) + "-task",
      rotationRule: appEnv("futures-notifications-db-rotated", env),
      rotationRuleRole: appEnv("futures-notifications-db-rotated", env) + "-events",
      redeployStateMachine: appEnv("futures-notifications-redeploy", env),
      redeployRole: appEnv("futures-notifications-redeploy", env) + "-sfn",
    },
    marginCall: {
      function: `margin-call-v2-${env}`,
      role: `margin-call-lambda-role-v2-${env}`,
      securityGroup: `margin-call-lambda-v2-${env}`,
      logGroup: `/aws/lambda/margin-call-v2-${env}`,
      secret: `margin-call-secrets-v3-${env}`,
      scheduleRule: `margin-call-schedule-v2-${env}`,
      scheduleTargetId: "margin-call-lambda-v2",
      dailyRule: `margin-call-daily-schedule-v2-${env}`,
      dailyTargetId: "margin-call-lambda-daily-v2",
      failureQueue: appEnv("margin-call-failures", env),
      // The live inline policy and invoke statements, so adopting them changes their content only.
      rolePolicy: "margin-call-secrets-access",
      scheduleStatementId: "AllowExecutionFromCloudWatch",
      dailyStatementId: "AllowExecutionFromCloudWatchDaily",
    },
    marketMakerLambda: {
      function: `market-maker-${env}`,
      role: `market-maker-lambda-role-${env}`,
      rolePolicy: "market-maker-secrets-access",
      securityGroup: `market-maker-lambda-${env}`,
      logGroup: `/aws/lambda/market-maker-${env}`,
      scheduleRule: `market-maker-schedule-${env}`,
      scheduleTargetId: "market-maker-lambda",
      scheduleStatementId: "AllowExecutionFromCloudWatch",
      // New (`{app}-{env}`): the live function keeps no failed runs.
      failureQueue: appEnv("market-maker-failures", env),
    },
    deployRole: `github-actions-futures-v3-${env}`,
  };
}

/** The proxy services' keys in logical names, images, monitoring and outputs. */
export const PROXY_SERVICE_KEY = { router: "proxy-router", validator: "proxy-validator" } as const;

/** The proxy-router repository's deploy role. */
export function proxyRouterDeployRoleName(env: EnvironmentName): string {
  return `github-actions-proxy-router-deploy-${env}`;
}

/** The futures UI canary's physical names. */
export interface UiCanaryNames {
  /**
   * The canary, at most 21 characters of `[a-z0-9_-]`.
   * @example "futures-ui-dev"
   */
  readonly canary: string;
  /**
   * Its execution role.
   * @example "futures-synthetics-canary-role-dev"
   */
  readonly role: string;
  /**
   * The artifact (and code) bucket; it carries the account.
   * @example "futures-synthetics-123456789012-dev"
   */
  readonly bucket: string;
}

/** The futures UI canary's names as the live estate has them (docs/estate.md): the bucket carries the account. */
export function uiCanaryNames(env: EnvironmentName, accountId: string): UiCanaryNames {
  return {
    canary: `futures-ui-${env}`,
    role: `futures-synthetics-canary-role-${env}`,
    bucket: `futures-synthetics-${accountId}-${env}`,
  };
}

/** A component alarm's name: `<service>-<what>-<env>` (the seed's names, suffixed by stack). */
export function alarmName(service: string, suffix: AlarmSuffix, env: EnvironmentName): string {
  return `${service}-${suffix}-${env}`;
}

/**
 * The alarms that roll a service's deployment back: CPU, memory,
 * running tasks (when the service should run any) and, behind a load balancer,
 * its 5xx. The monitoring creates them under these names.
 */
export function deploymentAlarmNames(
  service: string,
  env: EnvironmentName,
  has: { readonly runningTasks: boolean; readonly loadBalancer5xx: boolean },
): string[] {
  return [
    alarmName(service, ALARM_SUFFIX.cpuHigh, env),
    alarmName(service, ALARM_SUFFIX.memoryHigh, env),
    ...(has.runningTasks ? [alarmName(service, ALARM_SUFFIX.runningTasks, env)] : []),
    ...(has.loadBalancer5xx ? [alarmName(service, ALARM_SUFFIX.alb5xx, env)] : []),
  ];
}

/** The role in the account that hosts the stack's zone (lmn: titanio-prd) that its deployer and preview assume for the zone. */
export function dnsZoneRoleName(env: EnvironmentName): string {
  return `lumerin-infra-dns-${env}`;
}

// Monitoring: the alert topic, the alarm names and their suffixes, composites, the overview
// dashboard and the log metrics' namespace. `alarmName` and `deploymentAlarmNames` above use the
// suffixes below.

/**
 * The suffix of each alarm on an AWS metric: the alarm is `<service>-<suffix>-<env>` (`alarmName`).
 * A deployment rolls back on `cpuHigh`, `memoryHigh`, `runningTasks` and `alb5xx` (`deploymentAlarmNames`).
 */
export const ALARM_SUFFIX = {
  /** An ECS service's average CPU. */
  cpuHigh: "cpu-high",
  /** An ECS service's average memory. */
  memoryHigh: "memory-high",
  /** An ECS service runs fewer tasks than one. */
  runningTasks: "running-tasks",
  /** A database's CPU. */
  rdsCpu: "rds-cpu",
  /** A database's free storage. */
  rdsStorage: "rds-storage",
  /** A database's connections. */
  rdsConnections: "rds-connections",
  /** An application load balancer's own 5xx responses. */
  alb5xx: "alb-5xx",
  /** An unhealthy target behind an application load balancer. */
  albUnhealthy: "alb-unhealthy",
  /** A Lambda function's errors. */
  lambdaErrors: "errors",
  /** A Lambda function's average duration. */
  lambdaDuration: "duration",
  /** A Lambda function's throttles. */
  lambdaThrottles: "throttles",
  /** A message in a function's failure queue (a run lost after its retries). */
  failedRuns: "failed-runs",
  /** A scheduled function not invoked for twice its interval. */
  notRunning: "not-running",
  /** A site's CloudFront 5xx error rate. */
  site5xx: "5xx-errors",
  /** A site's CloudFront 4xx error rate. */
  site4xx: "4xx-errors",
  /** A site's Route53 HTTPS health check. */
  unreachable: "unreachable",
  /** A site's Synthetics canary run. */
  canaryFailed: "canary-failed",
} as const;

/** The suffix of each log metric filter and of its alarm: both are `<service>-<suffix>-<env>`. */
export const LOG_ALARM_SUFFIX = {
  /** Error or fatal log lines, in the service's own log format. */
  errorLines: "error-lines",
  /** A Go runtime panic. */
  crashes: "crashes",
  /** A market-making run that failed. */
  orderFailures: "order-failures",
  /** The market maker's wallet cannot pay. */
  insufficientFunds: "insufficient-funds",
  /** A Telegram notification not delivered. */
  sendFailures: "send-failures",
  /** A margin-call run that failed. */
  failedCalls: "failed-calls",
  /** Deficit alerts not sent to the notifications service. */
  failedAlerts: "failed-alerts",
} as const;

export type MetricAlarmSuffix = (typeof ALARM_SUFFIX)[keyof typeof ALARM_SUFFIX];
export type LogAlarmSuffix = (typeof LOG_ALARM_SUFFIX)[keyof typeof LOG_ALARM_SUFFIX];
/** A workflow's failed executions: `redeploy-failed`. */
export type WorkflowAlarmSuffix = `${string}-failed`;
/** Every suffix a component alarm (or log metric filter) name may carry. */
export type AlarmSuffix = MetricAlarmSuffix | LogAlarmSuffix | WorkflowAlarmSuffix;

/** The alarm suffix of a workflow's failed executions: `redeploy` → `redeploy-failed`. */
export function workflowAlarmSuffix(workflow: string): WorkflowAlarmSuffix {
  return `${workflow}-failed`;
}

/** The SNS topic the stack creates for its composites when config names none: `lumerin-alerts-<env>`. */
export function alertTopicName(env: EnvironmentName): string {
  return appEnv("lumerin-alerts", env);
}

/** A service's composite alarm (the OR of its component alarms): `<service>-<env>`. */
export function compositeAlarmName(service: string, env: EnvironmentName): string {
  return appEnv(service, env);
}

/** The `Name` tag of a site's Route53 health check: `<site>-<env>`. */
export function healthCheckName(site: string, env: EnvironmentName): string {
  return appEnv(site, env);
}

/** The overview dashboard: `lumerin-overview-<env>`. */
export function overviewDashboardName(env: EnvironmentName): string {
  return appEnv("lumerin-overview", env);
}

/** Where a service's log metrics are published: one namespace per stack and service, `Lumerin/<env>/<service>`. */
export function logMetricNamespace(env: EnvironmentName, service: string): string {
  return `Lumerin/${env}/${service}`;
}

/** The deploy runner's physical names in one environment. */
export interface DeployRunnerNames {
  /** The lease and replay table. */
  readonly table: string;
  readonly invokerFunction: string;
  readonly invokerRole: string;
  readonly invokerLogGroup: string;
  readonly runnerFunction: string;
  readonly runnerRole: string;
  readonly runnerSecurityGroup: string;
  readonly runnerLogGroup: string;
  readonly stateMachine: string;
  readonly stateMachineRole: string;
  readonly stateMachineLogGroup: string;
  /** The role the application repositories' workflows assume to ask for a deploy. */
  readonly githubRole: string;
  /** The audience the workflow requests its token for; never `sts.amazonaws.com`. */
  readonly invokerAudience: string;
}

/** The deploy runner's names in one environment (new resources: `{app}-{env}`). */
export function deployRunnerNames(env: EnvironmentName): DeployRunnerNames {
  return {
    table: appEnv("deploy-runner", env),
    invokerFunction: appEnv("deploy-invoker", env),
    invokerRole: appEnv("deploy-invoker", env) + "-lambda",
    invokerLogGroup: `/aws/lambda/${appEnv("deploy-invoker", env)}`,
    runnerFunction: appEnv("deploy-runner", env),
    runnerRole: appEnv("deploy-runner", env) + "-lambda",
    runnerSecurityGroup: appEnv("deploy-runner", env) + "-lambda",
    runnerLogGroup: `/aws/lambda/${appEnv("deploy-runner", env)}`,
    stateMachine: appEnv("deploy-runner", env),
    stateMachineRole: appEnv("deploy-runner", env) + "-sfn",
    // Step Functions' log delivery writes to /aws/vendedlogs/ without a size-limited resource policy.
    stateMachineLogGroup: `/aws/vendedlogs/states/${appEnv("deploy-runner", env)}`,
    githubRole: `github-actions-deploy-runner-${env}`,
    invokerAudience: `lumerin-deploy-invoker-${env}`,
  };
}
