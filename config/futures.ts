/**
 * The `futures` section of the stack configuration: the
 * futures marketplace's UI, market maker, notifications service with its
 * database, and margin-call Lambda. Each part has its own `enabled` toggle; a
 * disabled part registers nothing. Secret values never live here: they are the
 * flat `futures*` keys of the stack config (see `SECRET_KEYS` in schema.ts).
 */
import { z } from "zod";
import {
  FARGATE_SIZES,
  GITHUB_OWNER,
  MULTICALL3,
  cidr,
  ecsName,
  cpu,
  dnsLabel,
  ethAddress,
  githubName,
  imageRepository,
  imageTag,
  retentionDays,
} from "./primitives";

const logLevel = z.enum(["debug", "info", "warn", "error"]);
/** An unsigned integer as a string: token amounts exceed JavaScript's safe integers. */
const uintString = z
  .union([z.string(), z.number().int().nonnegative()])
  .transform((v) => String(v))
  .refine((v) => /^(0|[1-9][0-9]*)$/.test(v), "expected a non-negative integer (token amounts in the smallest unit)");
const rdsWindow = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$/, "expected hh:mm-hh:mm (UTC), such as 03:00-04:00");
const rdsMaintenanceWindow = z
  .string()
  .regex(
    /^(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):[0-5]\d-(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):[0-5]\d$/,
    "expected ddd:hh:mm-ddd:hh:mm (UTC), such as sun:04:00-sun:05:00",
  );
/** What EC2 accepts as a security group description (it cannot be changed later). */
const sgDescription = z
  .string()
  .regex(
    /^[A-Za-z0-9 ._\-:/()#,@[\]+=&;{}!$*]{1,255}$/,
    "expected at most 255 characters EC2 accepts in a security group description",
  );
/** A KMS key by ARN, exactly as RDS reports it (an alias would differ from the ARN RDS stores, and differ means a new database). */
const kmsKeyArn = z
  .string()
  .regex(
    /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[0-9a-f-]{36}$/,
    "expected a KMS key ARN (arn:aws:kms:<region>:<account>:key/<uuid>), not an alias: RDS reports the key ARN",
  );
const s3BucketName = z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "expected an S3 bucket name");

/** The futures-marketplace repository tags each image `<prefix>vX.Y.Z[-env]`. */
const tagPrefix = z
  .string()
  .regex(/^([a-z0-9][a-z0-9-]*-)?$/, 'expected a lower-case prefix ending in "-" (such as market-maker-), or ""');

function fargateSize<T extends { cpu: number; memory: number }>(service: T, ctx: z.RefinementCtx): void {
  const allowed = FARGATE_SIZES[service.cpu];
  if (allowed && !allowed.includes(service.memory)) {
    ctx.addIssue({
      code: "custom",
      path: ["memory"],
      message: `${service.memory} MiB is not a Fargate size for cpu ${service.cpu}; expected one of ${allowed.join(", ")}`,
    });
  }
}

export const FuturesUiSchema = z.strictObject({
  enabled: z.boolean().default(true).describe("Build the trading UI (bucket, CloudFront, WAF, certificate, DNS)."),
  hostLabel: dnsLabel
    .default("futures")
    .describe("Site label: `futures` → `futures.dev.lumerin.io` (`futures.lumerin.io` in lmn)."),
  bucketHostLabel: dnsLabel
    .default("s3futures")
    .describe("Bucket label: `s3futures` → bucket and second alias `s3futures.dev.lumerin.io`."),
  priceClass: z
    .enum(["PriceClass_100", "PriceClass_200", "PriceClass_All"])
    .default("PriceClass_200")
    .describe("CloudFront price class (edge locations served)."),
  rateLimitPer5Minutes: z
    .number()
    .int()
    .min(10)
    .max(2_000_000_000)
    .default(2000)
    .describe("WAF: requests one IP may make in 5 minutes before it is blocked (WAF accepts 10 to 2,000,000,000)."),
});

/** The market maker as the scheduled Lambda the live estate runs (`runtime: lambda`). */
export const MarketMakerLambdaSchema = z.strictObject({
  scheduleMinutes: z
    .number()
    .int()
    .min(1)
    .max(1440)
    .default(1)
    .describe(
      "Minutes between runs (`rate(N minutes)`); the live estate runs every 5 minutes in dev, every minute in stg and lmn.",
    ),
  timeoutSeconds: z
    .number()
    .int()
    .min(1)
    .max(900)
    .default(60)
    .describe("Lambda timeout in seconds; at most the interval, so a run ends before the next is due."),
  memoryMb: z.number().int().min(128).max(10240).default(1024).describe("Lambda memory (MB)."),
  securityGroupDescription: sgDescription
    .optional()
    .describe(
      "The function's security group description. EC2 cannot change a description: adopting a live group needs its own text.",
    ),
  artifact: z
    .strictObject({
      s3Bucket: s3BucketName.describe("Bucket holding the zip."),
      s3Key: z.string().min(1).describe("Key of the zip."),
    })
    .optional()
    .describe(
      "The function's first code (the application's pipeline updates it later); absent: a placeholder that fails loudly.",
    ),
});

/** Keys of `futures.marketMaker` that only the ECS service reads: with `runtime: lambda` they would describe a second bot. */
export const MARKET_MAKER_ECS_ONLY_KEYS = [
  "image",
  "imageTag",
  "tagPrefix",
  "cpu",
  "memory",
  "workerQuantity",
  "loopIntervalMs",
  "enableExecuteCommand",
] as const;

export const MarketMakerSchema = z
  .strictObject({
    enabled: z
      .boolean()
      .default(true)
      .describe("Run the market maker (a singleton Fargate service, or the scheduled Lambda: see `runtime`)."),
    runtime: z
      .enum(["ecs", "lambda"])
      .default("ecs")
      .describe(
        "`ecs`: a singleton Fargate service. `lambda`: the scheduled function the live estate runs since February 2026 (settings under `lambda`). One or the other, never both: they would trade with the same wallet key.",
      ),
    lambda: MarketMakerLambdaSchema.prefault({}).describe("The scheduled function (`runtime: lambda` only)."),
    image: imageRepository.default("ghcr.io/lumerin-protocol/market-maker").describe("Image repository (no tag)."),
    imageTag: imageTag
      .default("auto")
      .describe("`auto` (newest release for this environment) or a pinned tag (rollback)."),
    tagPrefix: tagPrefix
      .default("market-maker-")
      .describe("Release tags are `<prefix>vX.Y.Z[-env]`; default `market-maker-`."),
    cpu: cpu.default(256).describe("Fargate CPU units."),
    memory: z.number().int().default(512).describe("Fargate memory (MiB); must be a size AWS accepts with `cpu`."),
    workerQuantity: z
      .union([z.literal(0), z.literal(1)], { message: "expected 0 or 1: the market maker is a singleton" })
      .default(1)
      .describe("Tasks: 1 trades, 0 pauses the bot; never more (two bots would trade against each other)."),
    floatAmount: uintString.describe("`FLOAT_AMOUNT` (smallest unit)."),
    spreadAmount: uintString.default("10000").describe("`SPREAD_AMOUNT` (smallest unit)."),
    gridLevels: z.number().int().min(1).max(100).default(5).describe("`GRID_LEVELS`."),
    activeQuotingAmountRatio: z
      .number()
      .gt(0)
      .max(1)
      .default(0.4)
      .describe("`ACTIVE_QUOTING_AMOUNT_RATIO`, between 0 and 1."),
    riskAversion: uintString.default("15000").describe("`RISK_AVERSION`."),
    maxPosition: z.number().int().min(0).default(10).describe("`MAX_POSITION`."),
    minEthBalance: uintString.default("100000000000000").describe("`MIN_ETH_BALANCE` in wei."),
    minUsdcBalance: uintString.default("10000000").describe("`MIN_USDC_BALANCE` (6 decimals)."),
    loopIntervalMs: z
      .number()
      .int()
      .min(1000)
      .max(3_600_000)
      .default(60000)
      .describe("`LOOP_INTERVAL_MS`: milliseconds between trading loops."),
    logLevel: logLevel.default("info").describe("`LOG_LEVEL`."),
    logRetentionDays: retentionDays.default(30).describe("Days CloudWatch Logs keeps the bot's logs."),
    enableExecuteCommand: z
      .boolean()
      .default(false)
      .describe("Allow `aws ecs execute-command` into the task (sessions are logged and encrypted)."),
  })
  .superRefine(fargateSize);

export const NotificationsDatabaseSchema = z.strictObject({
  instanceClass: z
    .string()
    .regex(/^db\.[a-z0-9]+\.[a-z0-9]+$/, "expected an RDS instance class such as db.t4g.micro")
    .default("db.t4g.micro")
    .describe("RDS instance class."),
  allocatedStorage: z.number().int().min(20).max(65536).default(20).describe("Storage (GiB) at creation."),
  maxAllocatedStorage: z
    .number()
    .int()
    .min(21)
    .max(65536)
    .default(50)
    .describe("Storage autoscaling ceiling (GiB); must exceed `allocatedStorage`."),
  engineVersion: z
    .literal("17")
    .default("17")
    .describe("PostgreSQL major version; minor versions upgrade automatically in the maintenance window."),
  backupRetentionDays: z
    .number()
    .int()
    .min(1)
    .max(35)
    .default(7)
    .describe("Days of automated backups (at least 14 in production)."),
  backupWindow: rdsWindow.default("03:00-04:00").describe("Daily backup window, UTC."),
  maintenanceWindow: rdsMaintenanceWindow
    .default("sun:04:00-sun:05:00")
    .describe("Weekly maintenance window, UTC; must not overlap the backup window."),
  multiAz: z.boolean().optional().describe("Standby in a second AZ. Default: on in production."),
  maxConnections: z.number().int().min(10).max(5000).default(100).describe("`max_connections` in the parameter group."),
  kmsKeyArn: kmsKeyArn
    .optional()
    .describe(
      "The key that encrypts the instance's storage and Performance Insights. Absent: the stack's own key (new estates). RDS cannot re-encrypt an instance: a different key than the live instance's is a new, empty database. Adopting one encrypted with the account's `aws/rds` key sets that key's ARN here; moving to the stack's key later is a snapshot copy and a restore.",
    ),
  parameterGroupDescription: z
    .string()
    .min(1)
    .max(255)
    .optional()
    .describe(
      "The parameter group's description. RDS cannot change it: adopting the live group (`Managed by Terraform`) needs its text.",
    ),
  performanceInsightsRetentionDays: z
    .union(
      [z.literal(7), z.literal(31), z.literal(62), z.literal(93), z.literal(186), z.literal(372), z.literal(731)],
      {
        message: "expected 7, 31, 62, 93, 186, 372 or 731 (days Performance Insights accepts)",
      },
    )
    .default(7)
    .describe("Days Performance Insights keeps its data (7 is free)."),
});

export const NotificationsSchema = z
  .strictObject({
    enabled: z
      .boolean()
      .default(true)
      .describe("Run the notifications service with its database and internal load balancer."),
    image: imageRepository
      .default("ghcr.io/lumerin-protocol/futures-notifications")
      .describe("Image repository (no tag)."),
    imageTag: imageTag
      .default("auto")
      .describe("`auto` (newest release for this environment) or a pinned tag (rollback)."),
    tagPrefix: tagPrefix
      .default("notifications-")
      .describe("Release tags are `<prefix>vX.Y.Z[-env]`; default `notifications-`."),
    cpu: cpu.default(256).describe("Fargate CPU units."),
    memory: z.number().int().default(512).describe("Fargate memory (MiB); must be a size AWS accepts with `cpu`."),
    hostLabel: dnsLabel
      .default("notifyint")
      .describe("Internal host label: `notifyint` → `notifyint.dev.lumerin.io` (`notifyint.lumerin.io` in lmn)."),
    albIngressCidrs: z
      .array(cidr)
      .default([])
      .describe("CIDRs (VPN) that may call the internal HTTPS endpoint, besides the margin-call Lambda."),
    logLevel: logLevel.default("info").describe("`LOG_LEVEL`."),
    logRetentionDays: retentionDays.default(30).describe("Days CloudWatch Logs keeps the service's logs."),
    enableExecuteCommand: z
      .boolean()
      .default(false)
      .describe("Allow `aws ecs execute-command` into the task (sessions are logged and encrypted)."),
    database: NotificationsDatabaseSchema.prefault({}).describe("The PostgreSQL database (RDS)."),
    securityGroupDescriptions: z
      .strictObject({
        alb: sgDescription.optional().describe("The internal ALB's group."),
        service: sgDescription.optional().describe("The tasks' group."),
        database: sgDescription.optional().describe("The database's group."),
      })
      .prefault({})
      .describe(
        "Descriptions of the three security groups. EC2 cannot change a description (a new one is a new group), so adopting the live groups needs their text; absent: the program's own.",
      ),
  })
  .superRefine((n, ctx) => {
    fargateSize(n, ctx);
    if (n.database.maxAllocatedStorage <= n.database.allocatedStorage) {
      ctx.addIssue({
        code: "custom",
        path: ["database", "maxAllocatedStorage"],
        message: "must exceed allocatedStorage (storage autoscaling ceiling)",
      });
    }
  });

export const MarginCallSchema = z.strictObject({
  enabled: z.boolean().default(true).describe("Run the margin-call Lambda on its two schedules."),
  intervalMinutes: z.number().int().min(1).max(1440).default(15).describe("Minutes between regular runs."),
  dailyHour: z
    .number()
    .int()
    .min(0)
    .max(23)
    .default(0)
    .describe('Daily run with `{"executeMarginCall": true}`: hour (UTC).'),
  dailyMinute: z.number().int().min(0).max(59).default(0).describe("Daily run: minute."),
  timeoutSeconds: z.number().int().min(1).max(900).default(300).describe("Lambda timeout in seconds."),
  memoryMb: z.number().int().min(128).max(10240).default(512).describe("Lambda memory (MB)."),
  reservedConcurrency: z
    .number()
    .int()
    .min(1)
    .nullable()
    .default(1)
    .describe(
      "Executions reserved for the function; 1 (the default) means two runs never overlap. `null` reserves none, so runs may overlap. Lambda always leaves 10 executions of the account unreserved, so an account still at the default limit of 10 concurrent executions (a new account) refuses any reservation (\"decreases account's UnreservedConcurrentExecution below its minimum value of [10]\"): use `null` there, or raise the account's limit with a Service Quotas request first.",
    ),
  warningPercent: z.number().int().min(1).max(100).default(80).describe("`MARGIN_UTILIZATION_WARNING_PERCENT`."),
  logLevel: logLevel.default("info").describe("`LOG_LEVEL`."),
  logRetentionDays: retentionDays.default(30).describe("Days CloudWatch Logs keeps the function's logs."),
  artifact: z
    .strictObject({
      s3Bucket: s3BucketName.describe("Bucket holding the zip."),
      s3Key: z.string().min(1).describe("Key of the zip."),
    })
    .optional()
    .describe(
      "The function's first code (the application's pipeline updates it later); absent: a placeholder that fails loudly.",
    ),
  securityGroupDescription: sgDescription
    .optional()
    .describe(
      "The function's security group description. EC2 cannot change a description: adopting the live group needs its text.",
    ),
});

export const FuturesSchema = z.strictObject({
  chainId: z
    .number()
    .int()
    .positive()
    .describe("Chain id the bots trade on (`CHAIN_ID`): 421614 Arbitrum Sepolia, 42161 Arbitrum One."),
  contracts: z
    .strictObject({
      futures: ethAddress.describe("Futures contract (`FUTURES_ADDRESS`)."),
      hashrateOracle: ethAddress.describe("Hashrate oracle (`HASHRATE_ORACLE_ADDRESS`)."),
      multicall: ethAddress.default(MULTICALL3).describe("Multicall3 (`MULTICALL_ADDRESS`)."),
    })
    .describe("Contract addresses."),
  github: z
    .strictObject({
      owner: githubName.default(GITHUB_OWNER).describe("Owner of the repository, spelled as GitHub spells it."),
      repo: githubName.default("futures-marketplace").describe("The repository."),
    })
    .prefault({})
    .describe("The repository whose releases `imageTag: auto` follows and whose workflows deploy the futures code."),
  cluster: z
    .strictObject({
      name: ecsName.optional().describe("Cluster name. Default `ecs-futures-marketplace-{env}` (the live name)."),
      execLogRetentionDays: retentionDays
        .default(90)
        .describe("Days CloudWatch Logs keeps ECS Exec session transcripts."),
      containerInsights: z.enum(["enabled", "enhanced"]).default("enabled").describe("Container Insights level."),
    })
    .prefault({})
    .describe("The futures services' own ECS cluster."),
  ui: FuturesUiSchema.prefault({}).describe("The trading UI: S3 + CloudFront + WAF + DNS."),
  marketMaker: MarketMakerSchema.describe("The market-making bot."),
  notifications: NotificationsSchema.prefault({}).describe(
    "The Telegram notifications service, its PostgreSQL database and internal HTTPS endpoint.",
  ),
  marginCall: MarginCallSchema.prefault({}).describe("The scheduled margin-call Lambda."),
});

export type FuturesConfig = z.output<typeof FuturesSchema>;
export type MarketMakerConfig = z.output<typeof MarketMakerSchema>;
export type NotificationsConfig = z.output<typeof NotificationsSchema>;
export type MarginCallConfig = z.output<typeof MarginCallSchema>;
export type FuturesUiConfig = z.output<typeof FuturesUiSchema>;
