/**
 * The stack configuration schema: the single reference for every key under the
 * `lumerin-infra:` namespace. docs/configuration.md's tables are generated from it
 * (`npm run config-doc`). Objects are strict: an unknown key is an error, so a
 * typo never silently falls back to a default.
 *
 * Zod 4 note: `.default(x)` returns `x` without parsing it, so nested objects
 * whose fields carry their own defaults use `.prefault({})`.
 */
import { z } from "zod";
import { ENVIRONMENT_NAMES } from "../lib/environments";

import {
  FARGATE_SIZES,
  MULTICALL3,
  ecsName,
  elbName,
  iamRoleName,
  logGroupName,
  secretName,
  ssmParameterPath,
  cidr,
  cpu,
  dnsLabel,
  dnsName,
  ethAddress,
  GITHUB_OWNER,
  githubName,
  goDuration,
  imageRepository,
  imageTag,
  plainEnvironment,
  port,
  retentionDays,
  roleArn,
  secretArn,
} from "./primitives";

import { FuturesSchema } from "./futures";
import { MonitoringSchema } from "./monitoring";

export { FARGATE_CPUS, FARGATE_SIZES, LOG_RETENTION_DAYS } from "./primitives";

// ---------------------------------------------------------------- sections

const subnetRef = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,255}$/, "expected a subnet id (subnet-...) or the subnet's Name tag");

export const NetworkSchema = z.discriminatedUnion("mode", [
  z.strictObject({
    mode: z.literal("existing").describe("Use the VPC the account already has (the estate's foundation VPC)."),
    vpc: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,255}$/, "expected a VPC id (vpc-...) or the VPC's Name tag")
      .describe("VPC id (`vpc-...`) or its Name tag (`vpc-use1-1-titanio-dev`)."),
    publicSubnets: z
      .array(subnetRef)
      .min(2, "expected at least 2 subnets (two availability zones)")
      .describe("Internet-facing subnets (load balancers): ids or Name tags, at least two AZs."),
    privateSubnets: z
      .array(subnetRef)
      .min(2, "expected at least 2 subnets (two availability zones)")
      .describe("Private subnets (tasks, databases): ids or Name tags, at least two AZs."),
  }),
  z.strictObject({
    mode: z.literal("create").describe("Create a VPC with @pulumi/awsx (public + private subnets, NAT)."),
    cidrBlock: cidr.default("10.40.0.0/16").describe("IPv4 CIDR block of the new VPC."),
    availabilityZones: z
      .number()
      .int()
      .min(2)
      .max(3)
      .default(2)
      .describe("Availability zones the new VPC spans (2 or 3)."),
    natGateways: z
      .enum(["single", "onePerAz"])
      .default("single")
      .describe("`single` (cheap, one NAT for all AZs) or `onePerAz` (no cross-AZ dependency)."),
  }),
]);

/** `dns.assumeRoleArn` while the role in the zone's account is still to be created. */
export const DNS_ROLE_PENDING = "pending";

export const DnsSchema = z.strictObject({
  zoneName: dnsName
    .optional()
    .describe("Public hosted zone for this stack's names. Default: the environment table's zone."),
  zoneId: z
    .string()
    .regex(/^Z[A-Z0-9]{4,31}$/, "expected a Route53 hosted zone id such as Z0123456789ABC")
    .optional()
    .describe("Hosted zone id; when absent the zone is looked up by name."),
  assumeRoleArn: z
    .union([roleArn, z.literal(DNS_ROLE_PENDING)])
    .optional()
    .describe(
      "Role to assume for the zone's lookup and records when the zone lives in another account (lmn: titanio-prd owns lumerin.io; `npm run dns-role` prints it). `pending`: that role does not exist yet; the stack registers no record in the zone, the offline plan lists the blocker and `pulumi up` refuses to run.",
    ),
});

export const ClusterSchema = z.strictObject({
  name: ecsName
    .optional()
    .describe(
      "ECS cluster name. Default `ecs-proxy-router-{env}-{region short}`, e.g. `ecs-proxy-router-dev-use1` (the live name).",
    ),
  execLogGroupName: logGroupName.optional().describe("Log group for ECS Exec session transcripts."),
  execLogRetentionDays: retentionDays
    .default(90)
    .describe("Days CloudWatch Logs keeps the ECS Exec session transcripts."),
  containerInsights: z
    .enum(["enabled", "enhanced"])
    .default("enabled")
    .describe("Container Insights level (`enhanced` adds per-task metrics at extra cost)."),
});

const NamesSchema = z
  .strictObject({
    service: ecsName.describe("ECS service name. Default `svc-{app}-{env}-{region short}`."),
    taskFamily: ecsName.describe("Task definition family. Default `tsk-{app}`."),
    container: ecsName.describe(
      "Container name in the task definition. Default `proxy-router-container` (both services).",
    ),
    logGroup: logGroupName.describe("Log group of the service's containers. Default `bedrock-{env}-{app}-log-group`."),
    secret: secretName.describe("Secrets Manager secret the containers read. Default `/{app}/{env}/config`."),
    loadBalancer: elbName
      .refine((v) => !v.startsWith("internal-"), 'a load balancer name may not begin with "internal-"')
      .describe("Network load balancer name. Default `alb-{app}-ext-{region short}`."),
    targetGroup: elbName.describe(
      "Target group name. Default `alb-tg-{app}-{stratumPort}-{region short}` (`alb-tg-proxy-router-3333-use1` live): the port in the name lets a port change create the new group before the old one goes.",
    ),
    imageTagParameter: ssmParameterPath.describe(
      "SSM parameter holding the deployed image tag. Default `/{app}/{env}/image-tag`.",
    ),
    executionRole: iamRoleName.describe("Task execution role name. Default `{app}-{env}-execution`."),
    taskRole: iamRoleName.describe("Task role name. Default `{app}-{env}-task`."),
  })
  .partial();

export const ProxyServiceSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe("Switch the service off in this stack (registers nothing)."),
    imageTag: imageTag
      .default("auto")
      .describe(
        "This service's image tag: `auto` (newest release for this environment) or a pinned tag (rolls back or holds this service alone).",
      ),
    cpu: cpu.default(256).describe("Fargate CPU units. lmn runs 2048."),
    memory: z
      .number()
      .int()
      .default(512)
      .describe("Fargate memory (MiB); must be a size AWS accepts with `cpu`. lmn runs 4096."),
    desiredCount: z
      .number()
      .int()
      .min(0)
      .max(20)
      .default(1)
      .describe("Initial task count; later drift (manual scaling) is left alone."),
    poolAddress: z
      .string()
      .regex(/^\/\/[^\s@]*@[A-Za-z0-9.-]+:\d{1,5}$/, "expected //user.worker:@host:port")
      .describe("Default pool the proxy forwards to, `//account.worker:@host:port`."),
    webPublicUrl: z
      .url({ message: "expected a URL" })
      .optional()
      .describe("URL the web API advertises (`WEB_PUBLIC_URL`)."),
    stratumPort: port.default(3333).describe("Stratum port the proxy listens on (`PROXY_ADDRESS`)."),
    webPort: port.default(8080).describe("Web API port (`WEB_ADDRESS`), also the container health check's port."),
    hashrateShareTimeout: goDuration.default("20m").describe("`HASHRATE_SHARE_TIMEOUT`."),
    environmentName: z.string().min(1).default("production").describe("`ENVIRONMENT` as the application reads it."),
    log: z
      .strictObject({
        level: z
          .enum(["debug", "info", "warn", "error"])
          .default("info")
          .describe("`LOG_LEVEL_APP` (the app ignores `LOG_LEVEL`, docs/estate.md)."),
        json: z.boolean().default(true).describe("`LOG_JSON`: JSON lines, which the metric filters parse."),
        isProd: z.boolean().default(true).describe("`LOG_IS_PROD`."),
      })
      .prefault({})
      .describe("Application logging (`LOG_*` variables)."),
    extraEnvironment: plainEnvironment
      .default({})
      .describe("More plain environment; names or values that look like secrets are refused."),
    ulimitNofile: z
      .number()
      .int()
      .min(1024)
      .max(1048576)
      .default(15000)
      .describe("`nofile` soft and hard limit (many miner connections)."),
    logRetentionDays: retentionDays.default(90).describe("Days CloudWatch Logs keeps the service's container logs."),
    enableExecuteCommand: z
      .boolean()
      .default(false)
      .describe(
        "Allow `aws ecs execute-command` into the task (sessions are logged and encrypted). Needs `imageHasShell`: ECS Exec runs a command in the container, and a shell is the one that makes it useful.",
      ),
    imageHasShell: z
      .boolean()
      .default(false)
      .describe(
        "The image has `/bin/sh`. proxy-router's image is built `FROM scratch` (one static binary, no shell), so ECS Exec would only open sessions that cannot run anything.",
      ),
    healthCheck: z
      .strictObject({
        enabled: z
          .boolean()
          .default(true)
          .describe("Container health check: `GET <path>` on the web port from inside the task."),
        path: z
          .string()
          .regex(/^\/\S*$/, "expected a path starting with /")
          .default("/healthcheck")
          .describe("Path requested on the web port."),
        intervalSeconds: z.number().int().min(5).max(300).default(30).describe("Seconds between checks."),
        timeoutSeconds: z
          .number()
          .int()
          .min(2)
          .max(60)
          .default(5)
          .describe("Seconds before one check counts as failed."),
        retries: z
          .number()
          .int()
          .min(1)
          .max(10)
          .default(3)
          .describe("Consecutive failures that make the task unhealthy."),
        startPeriodSeconds: z
          .number()
          .int()
          .min(0)
          .max(300)
          .default(60)
          .describe("Seconds after start during which failures do not count."),
      })
      .prefault({})
      .describe("The container's own health check (ECS restarts an unhealthy task)."),
    publicEndpoint: z
      .strictObject({
        enabled: z
          .boolean()
          .default(true)
          .describe("Create the load balancer and its DNS record; false: miners cannot reach the service."),
        listenerPort: port.default(7301).describe("The port miners connect to (7301 today)."),
        hostLabel: dnsLabel
          .optional()
          .describe("DNS label: `proxy` / `validator` by default → `proxy.dev.lumerin.io`."),
        deletionProtection: z.boolean().optional().describe("Default: on in production."),
        allowedCidrs: z
          .array(cidr)
          .min(1)
          .default(["0.0.0.0/0"])
          .describe("Who may connect; default the whole internet."),
        securityGroups: z
          .boolean()
          .default(true)
          .describe(
            "Give the NLB its own security group (miners in, stratum to the tasks only). An NLB takes security groups only at creation, so the live NLBs (made without) would be replaced, with a new DNS name and new addresses. `false` adopts them as they are: the tasks then admit stratum from `allowedCidrs` directly (the NLB's health checks come from inside the VPC, which `0.0.0.0/0` covers). The later migration is a new NLB behind the same DNS name.",
          ),
      })
      .prefault({})
      .describe("Internet-facing network load balancer for miners (stratum) and its DNS name."),
    apiIngressCidrs: z
      .array(cidr)
      .default([])
      .describe("CIDRs (VPN, VPC) that may reach the web API port. Empty: nobody outside the task."),
    names: NamesSchema.prefault({}).describe("Physical-name overrides, for adopting live resources."),
  })
  .superRefine((service, ctx) => {
    const allowed = FARGATE_SIZES[service.cpu];
    if (allowed && !allowed.includes(service.memory)) {
      ctx.addIssue({
        code: "custom",
        path: ["memory"],
        message: `${service.memory} MiB is not a Fargate size for cpu ${service.cpu}; expected one of ${allowed.join(", ")}`,
      });
    }
    if (service.stratumPort === service.webPort) {
      ctx.addIssue({ code: "custom", path: ["webPort"], message: "must differ from stratumPort" });
    }
    if (service.enableExecuteCommand && !service.imageHasShell) {
      ctx.addIssue({
        code: "custom",
        path: ["enableExecuteCommand"],
        message:
          "ECS Exec needs a shell (/bin/sh) in the container, and this image has none (proxy-router is built FROM scratch); " +
          "leave it off, or set imageHasShell: true for an image that ships one",
      });
    }
  });

/** Variables the proxy services set from typed config or secrets; `extraEnvironment` may not redefine them. */
export const PROXY_RESERVED_ENV = [
  "PROXY_ADDRESS",
  "WEB_ADDRESS",
  "WEB_PUBLIC_URL",
  "POOL_ADDRESS",
  "FUTURES_ADDRESS",
  "CLONE_FACTORY_ADDRESS",
  "VALIDATOR_REGISTRY_ADDRESS",
  "MULTICALL_ADDRESS",
  "HASHRATE_SHARE_TIMEOUT",
  "ENVIRONMENT",
  "LOG_LEVEL_APP",
  "LOG_JSON",
  "LOG_IS_PROD",
  "WALLET_PRIVATE_KEY",
  "ETH_NODE_ADDRESS",
  "FUTURES_SUBGRAPH_URL",
] as const;

export { MULTICALL3 } from "./primitives";

export const ProxyRouterSchema = z.strictObject({
  image: imageRepository
    .default("ghcr.io/lumerin-protocol/proxy-router")
    .describe("Image repository (no tag) of both services; each service sets its own `imageTag`."),
  github: z
    .strictObject({
      owner: githubName
        .default(GITHUB_OWNER)
        .describe("Owner of the repository whose releases `auto` follows, spelled as GitHub spells it."),
      repo: githubName.default("proxy-router").describe("Repository whose releases `auto` follows."),
      tagPrefix: z
        .string()
        .regex(/^[a-z0-9-]*$/, "expected lower-case letters, digits and -")
        .default("proxy-router-")
        .describe("Release tags are `<prefix>vX.Y.Z[-env]`; the image tag is the whole git tag."),
    })
    .prefault({})
    .describe("Where releases are looked up for `auto`, and the tag prefix this repository uses."),
  repositoryCredentialsSecretArn: secretArn
    .optional()
    .describe('Secret (`{"username","password"}`) for a private registry; omit for public GHCR images.'),
  contracts: z
    .strictObject({
      futures: ethAddress.describe("`FUTURES_ADDRESS`: the futures contract."),
      cloneFactory: ethAddress.describe("`CLONE_FACTORY_ADDRESS`: the clone factory contract."),
      validatorRegistry: ethAddress.describe("`VALIDATOR_REGISTRY_ADDRESS`: the validator registry contract."),
      multicall: ethAddress
        .default(MULTICALL3)
        .describe("`MULTICALL_ADDRESS`: Multicall3, at the same address on every chain."),
    })
    .describe("Contract addresses both services read."),
  router: ProxyServiceSchema.describe("The seller's router (names `proxy-router-*`, host `proxy.<zone>`)."),
  validator: ProxyServiceSchema.describe(
    "The validator, from the same image repository (names `proxy-validator-*`, host `validator.<zone>`).",
  ),
});

// ---------------------------------------------------------------- deploy identity

const oidcProviderArn = z
  .string()
  .regex(
    /^arn:aws[a-z-]*:iam::\d{12}:oidc-provider\/token\.actions\.githubusercontent\.com$/,
    "expected the ARN of the GitHub OIDC provider (arn:aws:iam::<account>:oidc-provider/token.actions.githubusercontent.com)",
  );
const githubRepository = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,100}\/[A-Za-z0-9_.-]{1,100}$/, "expected owner/repository");
const oidcSubject = z
  .string()
  .regex(
    /^repo:[A-Za-z0-9_.-]+(@\d+)?\/[A-Za-z0-9_.-]+(@\d+)?:(environment:[A-Za-z0-9_.-]+|ref:refs\/(heads|tags)\/[^*?\s]+)$/,
    "expected an exact OIDC subject such as repo:Lumerin-protocol/proxy-router:environment:dev or repo:Lumerin-protocol@<owner-id>/proxy-router@<repo-id>:environment:dev (no wildcards, no pull_request)",
  );
const githubId = z.number().int().positive();
/** GitHub's numeric ids of a repository and its owner: set both, and the role trusts the immutable subject form only. */
const GITHUB_IDS = {
  ownerId: githubId
    .optional()
    .describe(
      "Numeric id of the repository's owner (`gh api repos/OWNER/REPO --jq .owner.id`). With `repositoryId`, the role trusts only GitHub's immutable subject `repo:OWNER@<ownerId>/REPO@<repositoryId>:...` (the default for repositories created or renamed since mid-2026, and for any repository or organisation that opts in), and no longer `repo:OWNER/REPO:...`.",
    ),
  repositoryId: githubId
    .optional()
    .describe("Numeric id of the repository (`gh api repos/OWNER/REPO --jq .id`); set together with `ownerId`."),
};

const callerWorkflow = z
  .string()
  .regex(/^\.github\/workflows\/[A-Za-z0-9._-]+\.ya?ml$/, "expected a workflow file, .github/workflows/<name>.yml");

const DeployRunnerCallerSchema = z.strictObject({
  workflow: callerWorkflow
    .optional()
    .describe(
      "The application repository's workflow that calls image-deploy (`.github/workflows/deploy.yml`). Required while the runner is enabled: the invoker admits runs of this workflow only, on the environment's branch.",
    ),
});

export const DeployRunnerSchema = z.strictObject({
  enabled: z
    .boolean()
    .default(false)
    .describe(
      "Deploy the ECS services' code through the deploy runner: the application repositories' workflows may only ask the invoker Lambda, which checks the request and starts the runner that deploys (docs/deploy-runner.md). Off: image-deploy deploys with each repository's deploy role.",
    ),
  callers: z
    .strictObject({
      proxyRouter: DeployRunnerCallerSchema.prefault({}).describe("The proxy-router repository's caller workflow."),
      futures: DeployRunnerCallerSchema.prefault({}).describe("The futures-marketplace repository's caller workflow."),
    })
    .prefault({})
    .describe("Per application repository, the one workflow whose runs may ask for a deploy."),
});

export const DeployIdentitySchema = z.strictObject({
  oidcProviderArn: oidcProviderArn
    .optional()
    .describe(
      "Reuse the account's GitHub OIDC provider by ARN; when absent this stack creates it (there is one per account).",
    ),
  proxyRouter: z
    .strictObject({
      enabled: z
        .boolean()
        .default(true)
        .describe("Create the deploy role (when at least one proxy service is enabled)."),
      repository: githubRepository
        .default(`${GITHUB_OWNER}/proxy-router`)
        .describe("The repository whose workflows deploy the proxy services."),
      roleName: iamRoleName
        .optional()
        .describe("Role name. Default `github-actions-proxy-router-deploy-{env}` (the live name)."),
      extraSubjects: z
        .array(oidcSubject)
        .default([])
        .describe(
          "More exact OIDC subjects the role trusts, beyond the environment's GitHub environment; only by explicit config.",
        ),
      ...GITHUB_IDS,
    })
    .prefault({})
    .describe("The proxy-router repository's deploy role."),
  futures: z
    .strictObject({
      enabled: z.boolean().default(true).describe("Create the deploy role (when any futures part is enabled)."),
      repository: githubRepository
        .default(`${GITHUB_OWNER}/futures-marketplace`)
        .describe("The repository whose workflows deploy the futures code."),
      roleName: iamRoleName
        .optional()
        .describe("Role name. Default `github-actions-futures-v3-{env}` (the live name)."),
      extraSubjects: z
        .array(oidcSubject)
        .default([])
        .describe(
          "More exact OIDC subjects the role trusts, beyond the environment's GitHub environment; only by explicit config.",
        ),
      ...GITHUB_IDS,
    })
    .prefault({})
    .describe("The futures-marketplace repository's deploy role (UI, both services, the margin-call code)."),
  infra: z
    .strictObject({
      enabled: z.boolean().default(true).describe("Create this repository's preview and deployer roles."),
      previewRoleName: iamRoleName.optional().describe("Preview role name. Default `lumerin-infra-preview-{env}`."),
      deployerRoleName: iamRoleName.optional().describe("Deployer role name. Default `lumerin-infra-deployer-{env}`."),
      stateBucket: z
        .string()
        .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "expected an S3 bucket name")
        .optional()
        .describe(
          "Pulumi state bucket (the S3 backend, `PULUMI_BACKEND_URL=s3://<stateBucket>/<stateKeyPrefix>?region=...`); the preview role reads and the deployer writes this stack's state objects in it, and nothing else. Leave out with Pulumi Cloud.",
        ),
      stateKeyPrefix: z
        .string()
        .regex(
          /^[a-z0-9][a-z0-9._-]*(\/[a-z0-9][a-z0-9._-]*)*$/,
          "expected a key prefix such as pulumi/lumerin-infra (no leading or trailing /)",
        )
        .default("pulumi/lumerin-infra")
        .describe(
          "Key prefix of the project's Pulumi state in the bucket (the path of the backend URL); Pulumi keeps everything under `<prefix>/.pulumi/`.",
        ),
      stateBucketKeyArn: z
        .string()
        .regex(
          /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[0-9a-f-]{36}$/,
          "expected a KMS key ARN (arn:aws:kms:<region>:<account>:key/<uuid>; an alias ARN cannot grant use of a key)",
        )
        .optional()
        .describe(
          "KMS key ARN of the state bucket's default encryption (SSE-KMS), through S3 only; absent, the roles cannot read the state and the plan reports it as a blocker. `aws kms describe-key --key-id alias/<alias> --query KeyMetadata.Arn --output text` in the bucket's account.",
        ),
      secretsProviderKeyArn: z
        .string()
        .regex(
          /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[0-9a-f-]{36}$/,
          "expected a KMS key ARN (arn:aws:kms:<region>:<account>:key/<uuid>; an alias ARN cannot grant use of a key)",
        )
        .optional()
        .describe(
          "KMS key ARN of the stack's secrets provider (`secretsprovider: awskms://...` in the stack file); the preview may decrypt with it and no other key, the deployer also encrypts. Absent, the plan reports a blocker. Created once per stack by `npm run bootstrap-state -- --stack <stack>`'s commands.",
        ),
      ...GITHUB_IDS,
      driftCheckBranch: z
        .string()
        .regex(/^[A-Za-z0-9._/-]+$/, "expected a branch name")
        .default("main")
        .describe(
          "This repository's default branch: its scheduled drift check (subject `ref:refs/heads/<branch>`) may use the preview role.",
        ),
    })
    .prefault({})
    .describe(
      "This repository's CI roles: a read-only preview role for pull requests and the deployer that runs `pulumi up`.",
    ),
});

// ---------------------------------------------------------------- GitHub environments

export const GitHubSchema = z.strictObject({
  manageEnvironments: z
    .boolean()
    .default(false)
    .describe(
      "Manage the GitHub environments of the application repositories and of this repository. Needs a token with admin rights on them (`github:token` as a secret, or GITHUB_ADMIN_TOKEN; never the workflow's GITHUB_TOKEN): a fine-grained PAT or GitHub App token with Administration, Environments and Variables read and write; a workflow's own GITHUB_TOKEN cannot.",
    ),
  owner: githubName
    .default(GITHUB_OWNER)
    .describe("The GitHub organisation every managed repository belongs to, spelled as GitHub spells it."),
  infraRepository: githubRepository
    .default(`${GITHUB_OWNER}/lumerin-infra`)
    .describe("This repository, whose own environments gate `pulumi up`."),
  productionReviewerUsers: z
    .array(z.number().int().positive())
    .default([])
    .describe("Required reviewers of production deployments: GitHub user ids (`gh api users/<login> --jq .id`)."),
  productionReviewerTeams: z
    .array(z.number().int().positive())
    .default([])
    .describe(
      "Required reviewer teams of production deployments: GitHub team ids (`gh api orgs/<org>/teams/<slug> --jq .id`).",
    ),
  productionWaitTimerMinutes: z
    .number()
    .int()
    .min(0)
    .max(43200)
    .default(0)
    .describe("Minutes a production deployment waits after approval."),
});

// ---------------------------------------------------------------- secrets

/**
 * Secret-bearing keys. Each is its own top-level string key so that the Pulumi
 * runtime can tell whether it arrived encrypted (`secure:`): the CLI marks
 * secrecy per top-level key only.
 */
export const SECRET_KEYS = {
  proxyRouterWalletPrivateKey: { secret: "proxyRouter", jsonKey: "wallet_private_key" },
  proxyRouterEthNodeAddress: { secret: "proxyRouter", jsonKey: "eth_node_address" },
  proxyRouterFuturesSubgraphUrl: { secret: "proxyRouter", jsonKey: "futures_subgraph_url" },
  proxyValidatorWalletPrivateKey: { secret: "proxyValidator", jsonKey: "wallet_private_key" },
  proxyValidatorEthNodeAddress: { secret: "proxyValidator", jsonKey: "eth_node_address" },
  proxyValidatorFuturesSubgraphUrl: { secret: "proxyValidator", jsonKey: "futures_subgraph_url" },
  futuresMarketMakerPrivateKey: { secret: "marketMaker", jsonKey: "private_key" },
  futuresMarketMakerEthNodeUrl: { secret: "marketMaker", jsonKey: "eth_node_url" },
  futuresMarketMakerFuturesSubgraphUrl: { secret: "marketMaker", jsonKey: "futures_subgraph_url" },
  futuresMarketMakerOraclesSubgraphUrl: { secret: "marketMaker", jsonKey: "oracles_subgraph_url" },
  futuresNotificationsTelegramBotToken: { secret: "notifications", jsonKey: "telegram_bot_token" },
  futuresMarginCallEthNodeUrl: { secret: "marginCall", jsonKey: "eth_node_url" },
  futuresMarginCallFuturesSubgraphUrl: { secret: "marginCall", jsonKey: "futures_subgraph_url" },
} as const;
export type SecretKey = keyof typeof SECRET_KEYS;
export type SecretGroup = (typeof SECRET_KEYS)[SecretKey]["secret"];

const secretString = z.string().min(1, "must not be empty");
const secretShape = Object.fromEntries(
  Object.entries(SECRET_KEYS).map(([key, { secret, jsonKey }]) => [
    key,
    secretString
      .optional()
      .describe(
        `\`${jsonKey}\` of the ${secret} secret (Secrets Manager JSON); set with \`pulumi config set --secret\`.`,
      ),
  ]),
) as Record<SecretKey, z.ZodOptional<typeof secretString>>;

/** The Secrets Manager secrets the program creates, by the name their keys use in `SECRET_KEYS`. */
export const SECRET_GROUPS = [
  "proxyRouter",
  "proxyValidator",
  "marketMaker",
  "notifications",
  "marginCall",
] as const satisfies readonly SecretGroup[];

/**
 * A secret whose value is put into Secrets Manager outside Pulumi
 * (`aws secretsmanager put-secret-value`): `pending` until it is there, then `filled`.
 */
export const OUT_OF_BAND_STATES = ["pending", "filled"] as const;
export type OutOfBandState = (typeof OUT_OF_BAND_STATES)[number];

const outOfBandState = z.enum(OUT_OF_BAND_STATES);
export const OutOfBandSecretsSchema = z.strictObject(
  Object.fromEntries(
    SECRET_GROUPS.map((group) => [
      group,
      outOfBandState
        .optional()
        .describe(
          `The ${group} secret's value is set outside Pulumi (keys ${secretKeysOf(group).join(", ")} unset): \`pending\` creates its workload without tasks (or schedules) until you fill it, \`filled\` runs it (docs/secrets.md).`,
        ),
    ]),
  ) as Record<SecretGroup, z.ZodOptional<typeof outOfBandState>>,
);
export type OutOfBandSecretsConfig = z.output<typeof OutOfBandSecretsSchema>;

/** The flat config keys of one secret, in `SECRET_KEYS` order. */
export function secretKeysOf(group: SecretGroup): SecretKey[] {
  return (Object.keys(SECRET_KEYS) as SecretKey[]).filter((key) => SECRET_KEYS[key].secret === group);
}

// ---------------------------------------------------------------- the stack

export const StackConfigSchema = z.strictObject({
  environment: z.enum(ENVIRONMENT_NAMES).describe("Which row of the environment table this stack is: dev, stg or lmn."),
  protect: z.boolean().optional().describe("Protect stateful resources from deletion. Default: on in production."),
  network: NetworkSchema.describe(
    "Where the stack's resources live: the account's existing VPC, or one this stack creates.",
  ),
  dns: DnsSchema.prefault({}).describe("Public DNS zone of the services' host names."),
  cluster: ClusterSchema.prefault({}).describe("The ECS cluster both services run on."),
  proxyRouter: ProxyRouterSchema.describe(
    "The proxy-router system: image, contracts, and the router and validator services.",
  ),
  futures: FuturesSchema.optional().describe(
    "The futures marketplace: UI, market maker, notifications with its database, margin-call Lambda. Absent: none of it.",
  ),
  monitoring: MonitoringSchema.prefault({}).describe(
    "Alarms, composites, notification (and, next, dashboards, log metrics and the canary).",
  ),
  github: GitHubSchema.prefault({}).describe(
    "GitHub environments: branch policies, production reviewers, deployment variables.",
  ),
  deployIdentity: DeployIdentitySchema.prefault({}).describe(
    "GitHub Actions' way into AWS: the OIDC provider and one least-privilege deploy role per application repository.",
  ),
  deployRunner: DeployRunnerSchema.prefault({}).describe(
    "The deploy runner: GitHub may only ask, AWS checks the request and deploys (off by default; each stack file says).",
  ),
  outOfBandSecrets: OutOfBandSecretsSchema.prefault({}).describe(
    "Secrets whose value you put into Secrets Manager yourself, per secret: `pending` or `filled` (docs/secrets.md).",
  ),
  ...secretShape,
});

export type StackConfigInput = z.input<typeof StackConfigSchema>;
export type ParsedStackConfig = z.output<typeof StackConfigSchema>;
export type NetworkConfig = z.output<typeof NetworkSchema>;
export type DnsConfig = z.output<typeof DnsSchema>;
export type ClusterConfig = z.output<typeof ClusterSchema>;
export type ProxyRouterConfig = z.output<typeof ProxyRouterSchema>;
export type ProxyServiceConfig = z.output<typeof ProxyServiceSchema>;
export type DeployIdentityConfig = z.output<typeof DeployIdentitySchema>;
export type DeployRunnerConfig = z.output<typeof DeployRunnerSchema>;
export type GitHubConfig = z.output<typeof GitHubSchema>;
