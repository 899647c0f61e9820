import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { AwsContext } from "../../lib/iam";
import type { ClusterRef } from "../cluster";
import { ContainerService } from "../container-service";
import type { FuturesConfig, MarketMakerConfig } from "../../config/futures";
import { AppSecretArgs, AppServiceArgs, DeployedServiceRef, appSecret, appService } from "../service-parts";
import { MarketMakerFunction, MarketMakerFunctionNames } from "./market-maker-function";

/** Physical names (docs/estate.md: the market maker as it last ran on ECS); `futuresNames(env).marketMaker`. */
export interface MarketMakerNames {
  /** `svc-market-maker-{env}`. */
  readonly service: string;
  /** `tsk-market-maker`. */
  readonly taskFamily: string;
  /** `market-maker-container`. */
  readonly container: string;
  /** `/ecs/market-maker-{env}`. */
  readonly logGroup: string;
  /** `market-maker-secrets-v3-{env}`. */
  readonly secret: string;
  /** `/market-maker/{env}/image-tag`. */
  readonly imageTagParameter: string;
  /** `market-maker-ecs-svc-{env}`. */
  readonly securityGroup: string;
  /** The role ECS starts the task with. */
  readonly executionRole: string;
  /** The bot's own role (it needs no AWS API; ECS Exec when enabled). */
  readonly taskRole: string;
}

/** The bot's trading parameters (`futures.marketMaker`), passed to it as environment (integers in the token's smallest unit). */
export type MarketMakerTrading = Pick<
  MarketMakerConfig,
  | "floatAmount"
  | "spreadAmount"
  | "gridLevels"
  | "activeQuotingAmountRatio"
  | "riskAversion"
  | "maxPosition"
  | "minEthBalance"
  | "minUsdcBalance"
  | "loopIntervalMs"
>;

/** The contracts the bot reads and trades on (`futures.contracts`). */
export type MarketMakerContracts = Pick<FuturesConfig["contracts"], "futures" | "hashrateOracle" | "multicall">;

/** JSON keys of `market-maker-secrets-v3-{env}` and the variables the bot reads them into. */
export const MARKET_MAKER_SECRET_KEYS = [
  { env: "PRIVATE_KEY", jsonKey: "private_key" },
  { env: "ETH_NODE_URL", jsonKey: "eth_node_url" },
  // Both subgraph URLs carry the Graph gateway API key in their path.
  { env: "FUTURES_SUBGRAPH_URL", jsonKey: "futures_subgraph_url" },
  { env: "ORACLES_SUBGRAPH_URL", jsonKey: "oracles_subgraph_url" },
] as const;

export type MarketMakerSecretKey = (typeof MARKET_MAKER_SECRET_KEYS)[number]["jsonKey"];

/** What both runtimes take: where, what it trades, its secret. */
interface MarketMakerCommonArgs {
  /** The account and region. */
  readonly aws: AwsContext;
  /** The VPC and the private subnets the bot runs in. */
  readonly network: { readonly vpcId: pulumi.Input<string>; readonly privateSubnetIds: pulumi.Input<string[]> };
  /** The secret's name (`names.secret`) serves both runtimes; the rest names the ECS service. */
  readonly names: MarketMakerNames;
  /** `CHAIN_ID`, e.g. 421614 (Arbitrum Sepolia) or 42161 (Arbitrum One). */
  readonly chainId: FuturesConfig["chainId"];
  /** The contracts it reads and trades on. */
  readonly contracts: MarketMakerContracts;
  /** Its trading parameters. */
  readonly trading: MarketMakerTrading;
  /** `LOG_LEVEL`. */
  readonly logLevel: MarketMakerConfig["logLevel"];
  /** Days CloudWatch Logs keeps its logs. */
  readonly logRetentionDays: MarketMakerConfig["logRetentionDays"];
  /** Encrypts the secret; the execution role (or the function's role) may decrypt with it only through Secrets Manager. */
  readonly secretsKmsKeyArn: pulumi.Input<string>;
  /** Values from `pulumi config set --secret`. @default none: the secret is filled out of band */
  readonly secretValues?: Readonly<Record<MarketMakerSecretKey, pulumi.Input<string>>>;
  /** Production: the secret is `protect`ed with a 30-day recovery window. */
  readonly protect: boolean;
}

/** The bot as a singleton Fargate service. */
export interface MarketMakerEcsArgs extends MarketMakerCommonArgs {
  /** @default "ecs" */
  readonly runtime?: "ecs";
  /** The futures cluster. */
  readonly cluster: ClusterRef;
  /** Full image reference `repository:tag`, e.g. `ghcr.io/lumerin-protocol/market-maker:market-maker-v1.4.0-dev`. */
  readonly image: string;
  /** The tag alone, recorded in SSM. */
  readonly imageTag: string;
  /** Fargate CPU units, e.g. 256. */
  readonly cpu: MarketMakerConfig["cpu"];
  /** Fargate memory (MiB), e.g. 512. */
  readonly memory: MarketMakerConfig["memory"];
  /** 1 to trade, 0 to pause; never more (two bots would trade against each other). */
  readonly desiredCount: 0 | 1;
  /** Allow `aws ecs execute-command` into the task (sessions logged and encrypted by the cluster). */
  readonly enableExecuteCommand: MarketMakerConfig["enableExecuteCommand"];
  /** Alarms that roll a deployment back (the monitoring's, by name). @default none */
  readonly deploymentAlarmNames?: readonly string[];
}

/** The bot as the scheduled Lambda the live estate runs since February 2026. */
export interface MarketMakerLambdaArgs extends MarketMakerCommonArgs {
  /** The scheduled Lambda the live estate runs. */
  readonly runtime: "lambda";
  /** The function's names and settings (`futures.marketMaker.lambda`). */
  readonly lambda: Pick<MarketMakerConfig["lambda"], "scheduleMinutes" | "timeoutSeconds" | "memoryMb"> & {
    /** `futuresNames(env).marketMakerLambda`. */
    readonly names: MarketMakerFunctionNames;
    /** @default "<function>: no inbound; HTTPS out" */
    readonly securityGroupDescription?: string;
    /** First code in S3. @default none: a placeholder that fails every run */
    readonly artifact?: { readonly s3Bucket: string; readonly s3Key: string };
    /** Nothing runs the function (its secret's value is still pending out of band). @default false */
    readonly paused?: boolean;
  };
}

export type MarketMakerArgs = MarketMakerEcsArgs | MarketMakerLambdaArgs;

/**
 * The market-making bot, in one of two runtimes, never
 * both (they would trade with the same wallet key):
 * - `ecs`: a singleton Fargate service: never two tasks at once, no inbound
 *   traffic at all, outbound HTTPS only (RPC, subgraphs, AWS APIs). Its wallet
 *   key, RPC URL and both subgraph URLs reach the container as secrets by JSON
 *   key; everything else is plain environment.
 * - `lambda`: the scheduled function of {@link MarketMakerFunction}, which reads
 *   the same secret at run time.
 * The secret keeps its logical name in both, so switching runtimes keeps the wallet key.
 */
export class MarketMaker extends pulumi.ComponentResource {
  readonly secret: aws.secretsmanager.Secret;
  /** `ecs` only. */
  readonly imageTagParameter?: aws.ssm.Parameter;
  /** `ecs` only. */
  readonly containerService?: ContainerService;
  /** What the deploy role, the GitHub variables and the monitoring need of the ECS service (`ecs` only). */
  readonly ref?: DeployedServiceRef;
  /** `lambda` only. */
  readonly function?: MarketMakerFunction;

  constructor(name: string, args: MarketMakerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lumerin:futures:MarketMaker", name, {}, opts);
    if (args.runtime === "lambda") {
      this.secret = appSecret(name, { secretName: args.names.secret, ...marketMakerSecret(args) }, this);
      this.function = marketMakerFunction(name, args, this.secret.arn, this);
      this.registerOutputs({ secretArn: this.secret.arn, functionName: this.function.functionName });
      return;
    }
    const app = appService(name, marketMakerServiceArgs(args), this);
    this.secret = app.secret;
    this.imageTagParameter = app.imageTagParameter;
    this.containerService = app.service;
    this.ref = app.ref;
    this.registerOutputs({
      serviceArn: app.service.serviceArn,
      serviceName: app.service.serviceName,
      secretArn: app.secret.arn,
      imageTagParameter: app.imageTagParameter.name,
    });
  }
}

/** The secret both runtimes read, described by who reads it when. */
export function marketMakerSecret(args: MarketMakerArgs): Omit<AppSecretArgs, "secretName"> {
  const reader = args.runtime === "lambda" ? "read by the function at run time" : "read by ECS at task start only";
  return {
    description: `market maker: ${MARKET_MAKER_SECRET_KEYS.map((k) => k.jsonKey).join(", ")} (${reader})`,
    kmsKeyArn: args.secretsKmsKeyArn,
    ...(args.secretValues ? { values: args.secretValues } : {}),
    protect: args.protect,
  };
}

/** `<name>-lambda`: the scheduled function, reading the secret at run time. */
function marketMakerFunction(
  name: string,
  args: MarketMakerLambdaArgs,
  secretArn: pulumi.Input<string>,
  parent: pulumi.Resource,
): MarketMakerFunction {
  const { lambda } = args;
  return new MarketMakerFunction(
    `${name}-lambda`,
    {
      aws: args.aws,
      network: args.network,
      names: lambda.names,
      scheduleMinutes: lambda.scheduleMinutes,
      timeoutSeconds: lambda.timeoutSeconds,
      memoryMb: lambda.memoryMb,
      environment: marketMakerFunctionEnvironment(args),
      logLevel: args.logLevel,
      logRetentionDays: args.logRetentionDays,
      secretArn,
      secretsKmsKeyArn: args.secretsKmsKeyArn,
      ...(lambda.securityGroupDescription ? { securityGroupDescription: lambda.securityGroupDescription } : {}),
      ...(lambda.artifact ? { artifact: lambda.artifact } : {}),
      ...(lambda.paused ? { paused: true } : {}),
    },
    { parent },
  );
}

/** The bot as a singleton service: no inbound, HTTPS out only (the ContainerService default), its secret by JSON key. */
export function marketMakerServiceArgs(args: MarketMakerEcsArgs): AppServiceArgs {
  const { names } = args;
  return {
    aws: args.aws,
    cluster: args.cluster,
    names,
    secret: marketMakerSecret(args),
    imageTag: args.imageTag,
    network: { vpcId: args.network.vpcId, subnetIds: args.network.privateSubnetIds },
    container: {
      image: args.image,
      cpu: args.cpu,
      memory: args.memory,
      environment: marketMakerEnvironment(args),
      secrets: MARKET_MAKER_SECRET_KEYS.map((k) => ({ name: k.env, jsonKey: k.jsonKey })),
    },
    logging: { retentionDays: args.logRetentionDays, streamPrefix: "market-maker-tsk" },
    deployment: {
      desiredCount: args.desiredCount,
      singleton: true,
      ...(args.deploymentAlarmNames ? { alarmNames: args.deploymentAlarmNames } : {}),
    },
    ingress: {},
    enableExecuteCommand: args.enableExecuteCommand,
  };
}

/**
 * The function's plain environment, as the live function has it: chain, futures
 * contract and trading parameters. No loop interval (the schedule is the loop),
 * and no key: the function reads the secret named by `SECRETS_ARN`.
 */
export function marketMakerFunctionEnvironment(
  args: Pick<MarketMakerCommonArgs, "chainId" | "contracts" | "trading" | "logLevel">,
): Record<string, string> {
  const t = args.trading;
  return {
    CHAIN_ID: String(args.chainId),
    FUTURES_ADDRESS: args.contracts.futures,
    FLOAT_AMOUNT: t.floatAmount,
    SPREAD_AMOUNT: t.spreadAmount,
    GRID_LEVELS: String(t.gridLevels),
    ACTIVE_QUOTING_AMOUNT_RATIO: String(t.activeQuotingAmountRatio),
    RISK_AVERSION: t.riskAversion,
    MAX_POSITION: String(t.maxPosition),
    MIN_ETH_BALANCE: t.minEthBalance,
    MIN_USDC_BALANCE: t.minUsdcBalance,
    LOG_LEVEL: args.logLevel,
  };
}

/** The bot's plain environment: chain, contracts and trading parameters (docs/estate.md). */
export function marketMakerEnvironment(
  args: Pick<MarketMakerCommonArgs, "chainId" | "contracts" | "trading" | "logLevel">,
): Record<string, string> {
  const t = args.trading;
  return {
    CHAIN_ID: String(args.chainId),
    FUTURES_ADDRESS: args.contracts.futures,
    HASHRATE_ORACLE_ADDRESS: args.contracts.hashrateOracle,
    MULTICALL_ADDRESS: args.contracts.multicall,
    FLOAT_AMOUNT: t.floatAmount,
    SPREAD_AMOUNT: t.spreadAmount,
    GRID_LEVELS: String(t.gridLevels),
    ACTIVE_QUOTING_AMOUNT_RATIO: String(t.activeQuotingAmountRatio),
    RISK_AVERSION: t.riskAversion,
    MAX_POSITION: String(t.maxPosition),
    MIN_ETH_BALANCE: t.minEthBalance,
    MIN_USDC_BALANCE: t.minUsdcBalance,
    LOOP_INTERVAL_MS: String(t.loopIntervalMs),
    LOG_LEVEL: args.logLevel,
  };
}
