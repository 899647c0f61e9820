import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { AwsContext } from "../../lib/iam";
import type { ClusterRef } from "../cluster";
import { ContainerService } from "../container-service";
import { DeployedServiceRef, appSecret, deployedServiceRef, imageTagParameter } from "../service-parts";
import { MarketMakerFunction, MarketMakerFunctionNames } from "./market-maker-function";

/** Physical names (docs/estate.md: the market maker as it last ran on ECS). */
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
  readonly executionRole: string;
  readonly taskRole: string;
}

/** The bot's trading parameters, passed to it as environment (integers in the token's smallest unit). */
export interface MarketMakerTrading {
  readonly floatAmount: string;
  readonly spreadAmount: string;
  readonly gridLevels: number;
  readonly activeQuotingAmountRatio: number;
  readonly riskAversion: string;
  readonly maxPosition: number;
  readonly minEthBalance: string;
  readonly minUsdcBalance: string;
  readonly loopIntervalMs: number;
}

export interface MarketMakerContracts {
  readonly futures: string;
  readonly hashrateOracle: string;
  readonly multicall: string;
}

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
  readonly aws: AwsContext;
  readonly network: { readonly vpcId: pulumi.Input<string>; readonly privateSubnetIds: pulumi.Input<string[]> };
  /** The secret's name (`names.secret`) serves both runtimes; the rest names the ECS service. */
  readonly names: MarketMakerNames;
  readonly chainId: number;
  readonly contracts: MarketMakerContracts;
  readonly trading: MarketMakerTrading;
  readonly logLevel: "debug" | "info" | "warn" | "error";
  readonly logRetentionDays: number;
  /** Encrypts the secret; the execution role (or the function's role) may decrypt with it only through Secrets Manager. */
  readonly secretsKmsKeyArn: pulumi.Input<string>;
  /** Values from `pulumi config set --secret`; absent when the secret is filled out of band. */
  readonly secretValues?: Readonly<Record<MarketMakerSecretKey, pulumi.Input<string>>>;
  readonly protect: boolean;
}

/** The bot as a singleton Fargate service. */
export interface MarketMakerEcsArgs extends MarketMakerCommonArgs {
  /** @default "ecs" */
  readonly runtime?: "ecs";
  readonly cluster: ClusterRef;
  /** Full image reference `repository:tag`, and the tag alone (recorded in SSM). */
  readonly image: string;
  readonly imageTag: string;
  readonly cpu: number;
  readonly memory: number;
  /** 1 to trade, 0 to pause; never more (two bots would trade against each other). */
  readonly desiredCount: 0 | 1;
  readonly enableExecuteCommand: boolean;
  /** Alarms that roll a deployment back (the monitoring's, by name). */
  readonly deploymentAlarmNames?: readonly string[];
}

/** The bot as the scheduled Lambda the live estate runs since February 2026. */
export interface MarketMakerLambdaArgs extends MarketMakerCommonArgs {
  readonly runtime: "lambda";
  readonly lambda: {
    readonly names: MarketMakerFunctionNames;
    /** Minutes between runs. */
    readonly scheduleMinutes: number;
    readonly timeoutSeconds: number;
    readonly memoryMb: number;
    /** @default "<function>: no inbound; HTTPS out" */
    readonly securityGroupDescription?: string;
    /** First code in S3; absent: a placeholder that fails every run. */
    readonly artifact?: { readonly s3Bucket: string; readonly s3Key: string };
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
    const { names } = args;

    this.secret = appSecret(
      name,
      {
        secretName: names.secret,
        description: `market maker: ${MARKET_MAKER_SECRET_KEYS.map((k) => k.jsonKey).join(", ")} (${args.runtime === "lambda" ? "read by the function at run time" : "read by ECS at task start only"})`,
        kmsKeyArn: args.secretsKmsKeyArn,
        values: args.secretValues,
        protect: args.protect,
      },
      this,
    );
    if (args.runtime === "lambda") {
      this.function = new MarketMakerFunction(
        `${name}-lambda`,
        {
          aws: args.aws,
          network: args.network,
          names: args.lambda.names,
          scheduleMinutes: args.lambda.scheduleMinutes,
          timeoutSeconds: args.lambda.timeoutSeconds,
          memoryMb: args.lambda.memoryMb,
          environment: marketMakerFunctionEnvironment(args),
          logLevel: args.logLevel,
          logRetentionDays: args.logRetentionDays,
          secretArn: this.secret.arn,
          secretsKmsKeyArn: args.secretsKmsKeyArn,
          ...(args.lambda.securityGroupDescription
            ? { securityGroupDescription: args.lambda.securityGroupDescription }
            : {}),
          ...(args.lambda.artifact ? { artifact: args.lambda.artifact } : {}),
        },
        { parent: this },
      );
      this.registerOutputs({ secretArn: this.secret.arn, functionName: this.function.functionName });
      return;
    }
    this.imageTagParameter = imageTagParameter(
      name,
      { parameterName: names.imageTagParameter, tag: args.imageTag, serviceName: names.service },
      this,
    );

    this.containerService = new ContainerService(
      `${name}-svc`,
      {
        aws: args.aws,
        cluster: args.cluster,
        names: {
          service: names.service,
          taskFamily: names.taskFamily,
          container: names.container,
          securityGroup: names.securityGroup,
          executionRole: names.executionRole,
          taskRole: names.taskRole,
          logGroup: names.logGroup,
        },
        network: { vpcId: args.network.vpcId, subnetIds: args.network.privateSubnetIds },
        container: {
          image: args.image,
          cpu: args.cpu,
          memory: args.memory,
          environment: marketMakerEnvironment(args),
          secrets: MARKET_MAKER_SECRET_KEYS.map((k) => ({
            name: k.env,
            secretArn: this.secret.arn,
            jsonKey: k.jsonKey,
            kmsKeyArn: args.secretsKmsKeyArn,
          })),
        },
        logging: { retentionDays: args.logRetentionDays, streamPrefix: "market-maker-tsk" },
        deployment: {
          desiredCount: args.desiredCount,
          singleton: true,
          ...(args.deploymentAlarmNames ? { alarmNames: args.deploymentAlarmNames } : {}),
        },
        ingress: {},
        // The ContainerService default: HTTPS anywhere, and nothing else.
        enableExecuteCommand: args.enableExecuteCommand,
      },
      { parent: this },
    );

    this.ref = deployedServiceRef(this.containerService, {
      taskFamily: names.taskFamily,
      containerName: names.container,
      imageTagParameter: this.imageTagParameter,
      imageTagParameterName: names.imageTagParameter,
      secret: this.secret,
    });
    this.registerOutputs({
      serviceArn: this.containerService.serviceArn,
      serviceName: this.containerService.serviceName,
      secretArn: this.secret.arn,
      imageTagParameter: this.imageTagParameter.name,
    });
  }
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
