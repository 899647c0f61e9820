/**
 * Stack configuration as a reviewer sees it: every bad value is refused by the
 * real program (stack.ts under the capture harness), before any resource is
 * registered, with the full key (`lumerin-infra:proxyRouter.router.cpu`) and a
 * message that says what was expected.
 */
import { strict as assert } from "node:assert";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { ConfigError, ConfigIssue, knownKeys, loadStackConfig } from "../config/load";
import { SECRET_KEYS, StackConfigSchema } from "../config/schema";
import { REPO_ROOT, planFiles } from "../tools/plan-stack";
import {
  END_MARKER,
  START_MARKER,
  STALE_MESSAGE,
  configRows,
  main as configDoc,
  renderConfigReference,
  replaceConfigBlock,
} from "../tools/config-doc";
import { configError, planWith } from "./support/plan";

type StackName = "dev" | "stg" | "lmn";
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const NS = "lumerin-infra";
const PROXY = `${NS}:proxyRouter`;
const FUTURES = `${NS}:futures`;
const ROUTER_SECRETS = [
  "proxyRouterWalletPrivateKey",
  "proxyRouterEthNodeAddress",
  "proxyRouterFuturesSubgraphUrl",
].map((k) => `${NS}:${k}`);
/** 32 bytes of hex: the shape of a wallet private key (not a real one). */
const PRIVATE_KEY = "0x" + "c0ffee".repeat(10) + "c0ff";
const SUBGRAPH_URL = "https://gateway.thegraph.com/api/0123456789abcdef0123456789abcdef/subgraphs/id/QmX";

/** The committed stack's `proxyRouter` object, changed by `edit`, as an override. */
function proxyRouter(stack: StackName, edit: (cfg: Json) => void): Record<string, string> {
  const cfg = JSON.parse(planFiles(stack).config[PROXY]) as Json;
  edit(cfg);
  return { [PROXY]: JSON.stringify(cfg) };
}

/** The committed stack's `futures` object, changed by `edit`, as an override. */
function futures(stack: StackName, edit: (cfg: Json) => void): Record<string, string> {
  const cfg = JSON.parse(planFiles(stack).config[FUTURES]) as Json;
  edit(cfg);
  return { [FUTURES]: JSON.stringify(cfg) };
}

/** `values` with `changes` applied (`undefined` removes a key). */
function withValues(
  values: Readonly<Record<string, string>>,
  changes: Record<string, string | undefined>,
): Record<string, string> {
  const out: Record<string, string> = { ...values };
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) delete out[key];
    else out[key] = value;
  }
  return out;
}

function issueFor(error: ConfigError, key: string): ConfigIssue {
  const issue = error.issues.find((i) => i.key === key);
  assert.ok(issue, `no issue for ${key}; issues: ${JSON.stringify(error.issues, null, 1)}`);
  return issue;
}

interface BadCase {
  readonly name: string;
  readonly stack?: StackName;
  readonly overrides: () => Record<string, string | undefined>;
  readonly secret?: readonly string[];
  readonly key: string;
  readonly message: RegExp;
}

const BAD: readonly BadCase[] = [
  // Names AWS refuses, given directly or made from other values (limits as terraform-provider-aws validates them).
  {
    name: "an ECS service name with a dot",
    overrides: () => proxyRouter("dev", (c) => (c.router.names = { service: "svc.proxy-router" })),
    key: `${PROXY}.router.names.service`,
    message: /expected 1 to 255 letters, digits, hyphens and underscores \(an ECS name\)/,
  },
  {
    name: "a task role name over IAM's 64 characters",
    overrides: () => proxyRouter("dev", (c) => (c.validator.names = { taskRole: "r".repeat(65) })),
    key: `${PROXY}.validator.names.taskRole`,
    message: /expected 1 to 64 letters, digits and \+ = , \. @ _ - \(an IAM role name\)/,
  },
  {
    name: "a deploy role name with a slash",
    overrides: () => ({
      [`${NS}:deployIdentity`]: JSON.stringify({
        ...JSON.parse(planFiles("dev").config[`${NS}:deployIdentity`]),
        proxyRouter: { roleName: "ci/deploy" },
      }),
    }),
    key: `${NS}:deployIdentity.proxyRouter.roleName`,
    message: /an IAM role name/,
  },
  {
    name: "a load balancer name that begins with internal-",
    overrides: () => proxyRouter("dev", (c) => (c.router.names = { loadBalancer: "internal-proxy" })),
    key: `${PROXY}.router.names.loadBalancer`,
    message: /may not begin with "internal-"/,
  },
  {
    name: "a target group name that ends with a hyphen",
    overrides: () => proxyRouter("dev", (c) => (c.router.names = { targetGroup: "tg-proxy-" })),
    key: `${PROXY}.router.names.targetGroup`,
    message: /with no hyphen at either end/,
  },
  {
    name: "a stratum port that makes the default target group name longer than 32",
    overrides: () => proxyRouter("dev", (c) => (c.validator.stratumPort = 65000)),
    key: `${PROXY}.validator.stratumPort`,
    message: /makes the default targetGroup name "alb-tg-proxy-validator-65000-use1": expected at most 32 letters/,
  },
  {
    name: "an image-tag parameter under the reserved /aws prefix",
    overrides: () => proxyRouter("dev", (c) => (c.router.names = { imageTagParameter: "/aws/proxy-router/image-tag" })),
    key: `${PROXY}.router.names.imageTagParameter`,
    message: /SSM refuses parameter names that begin with "aws" or "ssm"/,
  },
  {
    name: "a log group name with a space",
    overrides: () => proxyRouter("dev", (c) => (c.router.names = { logGroup: "proxy router" })),
    key: `${PROXY}.router.names.logGroup`,
    message: /\(a log group name\)/,
  },
  {
    name: "a secret name with a colon",
    overrides: () => proxyRouter("dev", (c) => (c.router.names = { secret: "proxy:config" })),
    key: `${PROXY}.router.names.secret`,
    message: /\(a secret name\)/,
  },
  {
    name: "a zone that makes the UI bucket name longer than S3's 63",
    overrides: () => ({ [`${NS}:dns`]: JSON.stringify({ zoneName: `${"a".repeat(50)}.lumerin.io` }) }),
    key: `${NS}:dns.zoneName`,
    message:
      /makes the UI bucket name "s3futures\.a{50}\.lumerin\.io": expected 3 to 63 lower-case letters, digits, dots and hyphens \(an S3 bucket name\)/,
  },
  // Ranges AWS sets, checked by the schema alone (the components take them as given).
  {
    name: "a WAF rate limit under WAF's 10 requests in 5 minutes",
    overrides: () => futures("dev", (c) => (c.ui = { ...c.ui, rateLimitPer5Minutes: 5 })),
    key: `${FUTURES}.ui.rateLimitPer5Minutes`,
    message: /expected number to be >=10|Too small|>=10/,
  },
  {
    name: "a canary run less often than hourly",
    overrides: () => ({ [`${NS}:monitoring`]: JSON.stringify({ canaryRateMinutes: 61 }) }),
    key: `${NS}:monitoring.canaryRateMinutes`,
    message: /<=60|Too big/,
  },
  {
    name: "a canary rate of 0 minutes",
    overrides: () => ({ [`${NS}:monitoring`]: JSON.stringify({ canaryRateMinutes: 0 }) }),
    key: `${NS}:monitoring.canaryRateMinutes`,
    message: />=1|Too small/,
  },
  {
    name: "no margin-call concurrency reserved as 0 (null means none)",
    overrides: () => futures("dev", (c) => (c.marginCall = { ...c.marginCall, reservedConcurrency: 0 })),
    key: `${FUTURES}.marginCall.reservedConcurrency`,
    message: /expected number to be >=1|Too small|>=1/,
  },
  {
    name: "ECS Exec into the shell-less (FROM scratch) proxy image",
    overrides: () => proxyRouter("dev", (c) => (c.router.enableExecuteCommand = true)),
    key: `${PROXY}.router.enableExecuteCommand`,
    message:
      /ECS Exec needs a shell \(\/bin\/sh\) in the container, and this image has none \(proxy-router is built FROM scratch\); leave it off, or set imageHasShell: true/,
  },
  {
    name: "an unhealthy window whose bake time no code deploy could wait out",
    // Two proxy services × (20 + 150 + 5) minutes + 10 = 360 > 350.
    overrides: () => ({ [`${NS}:monitoring`]: JSON.stringify({ unhealthyWindowMinutes: 150 }) }),
    key: `${NS}:monitoring.unhealthyWindowMinutes`,
    message:
      /150 minutes makes ECS's bake time so long that a code deploy of 2 service\(s\) \(175 minutes each: 20 to steady state \+ the alarm window \+ 5\) would take 360 minutes, more than image-deploy's 350-minute job/,
  },
  {
    name: "a trusted repository whose owner is spelled unlike the releases repository's (GitHub's sub is case-sensitive)",
    overrides: () => ({
      [`${NS}:deployIdentity`]: JSON.stringify({ proxyRouter: { repository: "lumerin-protocol/proxy-router" } }),
    }),
    key: `${NS}:deployIdentity.proxyRouter.repository`,
    message:
      /spells the owner "lumerin-protocol" but lumerin-infra:proxyRouter\.github\.owner spells it "Lumerin-protocol"; .*case-sensitively/,
  },
  {
    name: "a releases owner spelled unlike the trusted repository's",
    overrides: () => proxyRouter("dev", (c) => (c.github = { owner: "LUMERIN-PROTOCOL" })),
    key: `${NS}:deployIdentity.proxyRouter.repository`,
    message:
      /spells the owner "Lumerin-protocol" but lumerin-infra:proxyRouter\.github\.owner spells it "LUMERIN-PROTOCOL"/,
  },
  {
    name: "a trusted repository name in another case than the releases repository",
    overrides: () => ({
      [`${NS}:deployIdentity`]: JSON.stringify({ proxyRouter: { repository: "Lumerin-protocol/Proxy-Router" } }),
    }),
    key: `${NS}:deployIdentity.proxyRouter.repository`,
    message:
      /spells the repository "Proxy-Router" but lumerin-infra:proxyRouter\.github\.repo spells it "proxy-router"/,
  },
  {
    name: "the futures deploy repository's owner spelled unlike futures.github.owner",
    overrides: () => futures("dev", (c) => (c.github = { owner: "lumerin-protocol" })),
    key: `${NS}:deployIdentity.futures.repository`,
    message:
      /spells the owner "Lumerin-protocol" but lumerin-infra:futures\.github\.owner spells it "lumerin-protocol"/,
  },
  {
    name: "this repository spelled unlike github.owner",
    overrides: () => ({ [`${NS}:github`]: JSON.stringify({ infraRepository: "lumerin-protocol/lumerin-infra" }) }),
    key: `${NS}:github.infraRepository`,
    message: /spells the owner "lumerin-protocol" but lumerin-infra:github\.owner spells it "Lumerin-protocol"/,
  },
  {
    name: "an immutable owner id without the repository id",
    overrides: () => ({ [`${NS}:deployIdentity`]: JSON.stringify({ infra: { ownerId: 12345 } }) }),
    key: `${NS}:deployIdentity.infra.repositoryId`,
    message:
      /required because deployIdentity\.infra\.ownerId is set: the immutable subject .* needs both \(`gh api repos\/OWNER\/REPO --jq \.id,\.owner\.id`\)/,
  },
  {
    name: "a repository id that is not a number",
    overrides: () => ({
      [`${NS}:deployIdentity`]: JSON.stringify({ proxyRouter: { ownerId: 1, repositoryId: "proxy-router" } }),
    }),
    key: `${NS}:deployIdentity.proxyRouter.repositoryId`,
    message: /expected number/,
  },
  {
    name: "a state-bucket key given by alias (IAM cannot grant a key by alias)",
    overrides: () => ({
      [`${NS}:deployIdentity`]: JSON.stringify({
        infra: {
          stateBucket: "titanio-terraform-states",
          stateBucketKeyArn: "arn:aws:kms:us-east-1:228930573471:alias/foundation-cmk-s3",
        },
      }),
    }),
    key: `${NS}:deployIdentity.infra.stateBucketKeyArn`,
    message: /expected a KMS key ARN .*an alias ARN cannot grant use of a key/,
  },
  {
    name: "a futures contract address that is not 0x and 40 hex digits",
    overrides: () => futures("dev", (c) => (c.contracts.futures = "0xec76867e96d942282fc7aafe3f778de34d41a31")),
    key: `${FUTURES}.contracts.futures`,
    message: /expected an address: 0x followed by 40 hex digits/,
  },
  {
    name: "a second market maker",
    overrides: () => futures("dev", (c) => (c.marketMaker.workerQuantity = 2)),
    key: `${FUTURES}.marketMaker.workerQuantity`,
    message: /expected 0 or 1: the market maker is a singleton/,
  },
  {
    name: "a token amount that is not an integer",
    overrides: () => futures("dev", (c) => (c.marketMaker.floatAmount = "3e8")),
    key: `${FUTURES}.marketMaker.floatAmount`,
    message: /expected a non-negative integer/,
  },
  {
    name: "a dev market-maker pin in lmn",
    stack: "lmn",
    overrides: () => futures("lmn", (c) => (c.marketMaker.imageTag = "market-maker-v1.4.0-dev")),
    key: `${FUTURES}.marketMaker.imageTag`,
    message:
      /"market-maker-v1\.4\.0-dev" is not a lmn release tag; expected "auto" or market-maker-vX\.Y\.Z \(the "market-maker-" prefix is optional\)/,
  },
  {
    name: "a notifications pin from another environment",
    overrides: () => futures("dev", (c) => (c.notifications.imageTag = "notifications-v2.0.0-stg")),
    key: `${FUTURES}.notifications.imageTag`,
    message: /is not a dev release tag; expected "auto" or notifications-vX\.Y\.Z-dev/,
  },
  {
    name: "production backups under 14 days",
    stack: "lmn",
    overrides: () => futures("lmn", (c) => (c.notifications.database.backupRetentionDays = 7)),
    key: `${FUTURES}.notifications.database.backupRetentionDays`,
    message: /is 7; protected data \(production, or protect: true\) keeps at least 14 days of backups/,
  },
  {
    name: "protected backups under 14 days outside production (protect: true in dev)",
    overrides: () => ({
      ...futures("dev", (c) => (c.notifications.database.backupRetentionDays = 7)),
      [`${NS}:protect`]: "true",
    }),
    key: `${FUTURES}.notifications.database.backupRetentionDays`,
    message: /is 7; protected data \(production, or protect: true\) keeps at least 14 days/,
  },
  {
    name: "a protected database without its standby",
    stack: "lmn",
    overrides: () => futures("lmn", (c) => (c.notifications.database.multiAz = false)),
    key: `${FUTURES}.notifications.database.multiAz`,
    message: /cannot be false for protected data/,
  },
  {
    name: "a storage ceiling below the allocation",
    overrides: () => futures("dev", (c) => (c.notifications.database.allocatedStorage = 60)),
    key: `${FUTURES}.notifications.database.maxAllocatedStorage`,
    message: /must exceed allocatedStorage/,
  },
  {
    name: "a daily margin call at hour 24",
    overrides: () => futures("dev", (c) => (c.marginCall = { ...c.marginCall, dailyHour: 24 })),
    key: `${FUTURES}.marginCall.dailyHour`,
    message: /expected number to be <=23/,
  },
  {
    name: "a market-maker secret given in plain text",
    overrides: () => ({ [`${NS}:futuresMarketMakerPrivateKey`]: PRIVATE_KEY }),
    key: `${NS}:futuresMarketMakerPrivateKey`,
    message:
      /holds a secret but is stored in plain text; run `pulumi config set --secret futuresMarketMakerPrivateKey <value>`/,
  },
  {
    name: "cpu that is not a Fargate size",
    overrides: () => proxyRouter("dev", (c) => (c.router.cpu = 300)),
    key: `${PROXY}.router.cpu`,
    message: /expected one of 256, 512, 1024, 2048, 4096, 8192, 16384 \(Fargate CPU units\)/,
  },
  {
    name: "memory not valid for the cpu (lists the allowed sizes)",
    overrides: () => proxyRouter("dev", (c) => Object.assign(c.router, { cpu: 256, memory: 4096 })),
    key: `${PROXY}.router.memory`,
    message: /4096 MiB is not a Fargate size for cpu 256; expected one of 512, 1024, 2048$/,
  },
  {
    name: "memory not valid for the cpu, in the validator too",
    stack: "lmn",
    overrides: () => proxyRouter("lmn", (c) => (c.validator.memory = 2048)),
    key: `${PROXY}.validator.memory`,
    message: /2048 MiB is not a Fargate size for cpu 2048; expected one of 4096, 5120, .*, 16384$/,
  },
  {
    name: "cpu of the wrong type",
    overrides: () => proxyRouter("dev", (c) => (c.router.cpu = "big")),
    key: `${PROXY}.router.cpu`,
    // Not "required": the value is there, it is the wrong kind (and the value itself is never echoed).
    message: /^expected number, got a string$/,
  },
  {
    name: "unknown top-level key, with the close key suggested",
    overrides: () => ({ [`${NS}:proxyRuter`]: planFiles("dev").config[PROXY] }),
    key: `${NS}:proxyRuter`,
    message: /^unknown key \(did you mean "proxyRouter"\?\); known keys here: environment, protect, network/,
  },
  {
    name: "unknown nested key, with the close key suggested",
    overrides: () => proxyRouter("dev", (c) => (c.router.cpuu = 512)),
    key: `${PROXY}.router.cpuu`,
    message: /unknown key \(did you mean "cpu"\?\)/,
  },
  {
    name: "unknown key in dns",
    overrides: () => ({ [`${NS}:dns`]: JSON.stringify({ zoneld: "Z0123456789ABC" }) }),
    key: `${NS}:dns.zoneld`,
    message: /did you mean "zoneId"/,
  },
  {
    name: "contract address that is not 0x + 40 hex digits",
    overrides: () => proxyRouter("dev", (c) => (c.contracts.futures = "0xec76867e96d942282fc7aafe3f778de34d41a31")),
    key: `${PROXY}.contracts.futures`,
    message: /expected an address: 0x followed by 40 hex digits/,
  },
  {
    name: "missing contract address",
    overrides: () => proxyRouter("dev", (c) => delete c.contracts.cloneFactory),
    key: `${PROXY}.contracts.cloneFactory`,
    message: /required/,
  },
  {
    name: "CIDR with a prefix over 32",
    overrides: () => proxyRouter("dev", (c) => (c.router.apiIngressCidrs = ["172.18.0.0/19", "10.0.0.0/33"])),
    key: `${PROXY}.router.apiIngressCidrs.1`,
    message: /expected an IPv4 CIDR such as 10\.0\.0\.0\/16/,
  },
  {
    name: "CIDR with an octet over 255",
    overrides: () => proxyRouter("dev", (c) => (c.validator.publicEndpoint = { allowedCidrs: ["300.1.1.0/24"] })),
    key: `${PROXY}.validator.publicEndpoint.allowedCidrs.0`,
    message: /octets 0-255/,
  },
  {
    name: "network mode that does not exist",
    overrides: () => ({ [`${NS}:network`]: JSON.stringify({ mode: "shared", vpc: "vpc-use1-1-titanio-dev" }) }),
    key: `${NS}:network.mode`,
    message: /expected one of "existing", "create"/,
  },
  {
    name: "existing network with one public subnet",
    overrides: () => {
      const network = JSON.parse(planFiles("dev").config[`${NS}:network`]) as Json;
      network.publicSubnets = network.publicSubnets.slice(0, 1);
      return { [`${NS}:network`]: JSON.stringify(network) };
    },
    key: `${NS}:network.publicSubnets`,
    message: /expected at least 2 subnets \(two availability zones\)/,
  },
  {
    name: "created network with a bad CIDR block",
    overrides: () => ({ [`${NS}:network`]: JSON.stringify({ mode: "create", cidrBlock: "10.40.0.0" }) }),
    key: `${NS}:network.cidrBlock`,
    message: /IPv4 CIDR/,
  },
  {
    name: "log retention CloudWatch does not offer",
    overrides: () => proxyRouter("dev", (c) => (c.router.logRetentionDays = 45)),
    key: `${PROXY}.router.logRetentionDays`,
    message: /expected one of 1, 3, 5, 7, 14, 30, 60, 90, .* \(days CloudWatch Logs accepts\)/,
  },
  {
    name: "exec log retention CloudWatch does not offer",
    overrides: () => ({ [`${NS}:cluster`]: JSON.stringify({ execLogRetentionDays: 0 }) }),
    key: `${NS}:cluster.execLogRetentionDays`,
    message: /days CloudWatch Logs accepts/,
  },
  {
    name: "environment that does not match the stack name",
    overrides: () => ({ [`${NS}:environment`]: "stg" }),
    key: `${NS}:environment`,
    message: /is "stg" but the stack is "dev"/,
  },
  {
    name: "environment that is not in the table",
    overrides: () => ({ [`${NS}:environment`]: "prod" }),
    key: `${NS}:environment`,
    message: /"dev".*"stg".*"lmn"/,
  },
  {
    name: "production with protect false",
    stack: "lmn",
    overrides: () => ({ [`${NS}:protect`]: "false" }),
    key: `${NS}:protect`,
    message: /cannot be false in production/,
  },
  {
    name: "pinned image tag of another environment (a dev tag in lmn)",
    stack: "lmn",
    overrides: () => proxyRouter("lmn", (c) => (c.router.imageTag = "v1.7.5-dev")),
    key: `${PROXY}.router.imageTag`,
    message: /"v1\.7\.5-dev" is not a lmn release tag; expected "auto" or proxy-router-vX\.Y\.Z /,
  },
  {
    name: "validator pinned to a tag of another environment (named by the validator's key)",
    stack: "stg",
    overrides: () => proxyRouter("stg", (c) => (c.validator.imageTag = "proxy-router-v3.1.0-dev")),
    key: `${PROXY}.validator.imageTag`,
    message: /"proxy-router-v3\.1\.0-dev" is not a stg release tag; expected "auto" or proxy-router-vX\.Y\.Z-stg/,
  },
  {
    name: "pinned image tag that is not a release tag",
    overrides: () => proxyRouter("dev", (c) => (c.validator.imageTag = "latest")),
    key: `${PROXY}.validator.imageTag`,
    message: /"latest" is not a dev release tag; expected "auto" or proxy-router-vX\.Y\.Z-dev/,
  },
  {
    name: "pinned image tag that is not even a Docker tag",
    overrides: () => proxyRouter("dev", (c) => (c.router.imageTag = "v1.7.5 dev!")),
    key: `${PROXY}.router.imageTag`,
    message: /expected "auto" or a Docker tag/,
  },
  {
    name: "the old shared proxyRouter.imageTag, with where it moved",
    overrides: () => proxyRouter("dev", (c) => (c.imageTag = "auto")),
    key: `${PROXY}.imageTag`,
    message:
      /^unknown key: moved to proxyRouter\.router\.imageTag \/ proxyRouter\.validator\.imageTag \(each service takes its own tag/,
  },
  {
    name: "secret key stored in plain text",
    overrides: () => ({
      [ROUTER_SECRETS[0]]: PRIVATE_KEY,
      [ROUTER_SECRETS[1]]: "https://arb.example/rpc",
      [ROUTER_SECRETS[2]]: SUBGRAPH_URL,
    }),
    secret: ROUTER_SECRETS.slice(1),
    key: `${NS}:proxyRouterWalletPrivateKey`,
    message: /stored in plain text; run `pulumi config set --secret proxyRouterWalletPrivateKey <value>`/,
  },
  {
    name: "only one of a secret group's keys (the missing ones named)",
    overrides: () => ({ [`${NS}:proxyValidatorWalletPrivateKey`]: PRIVATE_KEY }),
    secret: [`${NS}:proxyValidatorWalletPrivateKey`],
    key: `${NS}:proxyValidatorEthNodeAddress`,
    message: /required because proxyValidatorWalletPrivateKey is set: the proxyValidator secret is written whole/,
  },
  {
    name: "empty secret",
    overrides: () => ({
      [ROUTER_SECRETS[0]]: "",
      [ROUTER_SECRETS[1]]: "https://arb.example/rpc",
      [ROUTER_SECRETS[2]]: SUBGRAPH_URL,
    }),
    secret: ROUTER_SECRETS,
    key: `${NS}:proxyRouterWalletPrivateKey`,
    message: /must not be empty/,
  },
  {
    name: "extraEnvironment with a secret-looking name",
    overrides: () => proxyRouter("dev", (c) => (c.router.extraEnvironment = { API_TOKEN: "abc" })),
    key: `${PROXY}.router.extraEnvironment.API_TOKEN`,
    message: /looks like a secret name; secrets go in Secrets Manager/,
  },
  {
    name: "extraEnvironment with a private key as value",
    overrides: () => proxyRouter("dev", (c) => (c.router.extraEnvironment = { SIGNER: PRIVATE_KEY })),
    key: `${PROXY}.router.extraEnvironment.SIGNER`,
    message: /value looks like a 32-byte hex private key/,
  },
  {
    name: "extraEnvironment with a Graph gateway URL carrying its API key",
    overrides: () => proxyRouter("dev", (c) => (c.validator.extraEnvironment = { SUBGRAPH: SUBGRAPH_URL })),
    key: `${PROXY}.validator.extraEnvironment.SUBGRAPH`,
    message: /value looks like a URL carrying an API key/,
  },
  {
    name: "extraEnvironment redefining a reserved variable",
    overrides: () =>
      proxyRouter("dev", (c) => (c.validator.extraEnvironment = { POOL_ADDRESS: "//x:@pool.example:3333" })),
    key: `${PROXY}.validator.extraEnvironment.POOL_ADDRESS`,
    message: /is set from typed config or a secret; set the typed key instead/,
  },
  {
    name: "extraEnvironment name that is not UPPER_SNAKE_CASE",
    overrides: () => proxyRouter("dev", (c) => (c.router.extraEnvironment = { "log-format": "json" })),
    key: `${PROXY}.router.extraEnvironment.log-format`,
    message: /invalid name: expected an environment variable name in UPPER_SNAKE_CASE/,
  },
  {
    name: "missing aws:region",
    overrides: () => ({ "aws:region": undefined }),
    key: "aws:region",
    message: /required; set it with `pulumi config set aws:region us-east-1`/,
  },
  {
    name: "aws:region that is not a region",
    overrides: () => ({ "aws:region": "virginia" }),
    key: "aws:region",
    message: /expected an AWS region such as us-east-1, got "virginia"/,
  },
  {
    name: "pool address without //user.worker:@host:port",
    overrides: () => proxyRouter("dev", (c) => (c.router.poolAddress = "btc.f2pool.com:1314")),
    key: `${PROXY}.router.poolAddress`,
    message: /expected \/\/user\.worker:@host:port/,
  },
  {
    name: "missing pool address",
    overrides: () => proxyRouter("dev", (c) => delete c.validator.poolAddress),
    key: `${PROXY}.validator.poolAddress`,
    message: /required/,
  },
  {
    name: "same stratum and web port",
    overrides: () => proxyRouter("dev", (c) => Object.assign(c.router, { stratumPort: 8080, webPort: 8080 })),
    key: `${PROXY}.router.webPort`,
    message: /must differ from stratumPort/,
  },
  {
    name: "port out of range",
    overrides: () => proxyRouter("dev", (c) => (c.router.publicEndpoint = { listenerPort: 70000 })),
    key: `${PROXY}.router.publicEndpoint.listenerPort`,
    message: /65535/,
  },
  {
    name: "web public URL that is not a URL",
    overrides: () => proxyRouter("dev", (c) => (c.router.webPublicUrl = "proxy.dev.lumerin.io")),
    key: `${PROXY}.router.webPublicUrl`,
    message: /expected a URL/,
  },
  {
    name: "log level that does not exist",
    overrides: () => proxyRouter("dev", (c) => (c.router.log = { level: "verbose" })),
    key: `${PROXY}.router.log.level`,
    message: /"debug".*"info".*"warn".*"error"/,
  },
];

describe("stack configuration", () => {
  describe("refuses bad config with the full key, before registering anything", () => {
    it(`has at least 20 cases (${BAD.length})`, () => assert.ok(BAD.length >= 20));

    for (const c of BAD) {
      const stack = c.stack ?? "dev";
      it(`${stack}: ${c.name} → ${c.key}`, async () => {
        const error = await configError(stack, c.overrides(), [...(c.secret ?? [])]);
        const issue = issueFor(error, c.key);
        assert.match(issue.message, c.message);
        assert.ok(error.message.includes(`  - ${c.key}: `), "the error's message lists the key too");
      });
    }

    it("reports several problems at once, each with its key", async () => {
      const overrides = {
        ...proxyRouter("dev", (c) => {
          c.router.cpu = 300;
          c.validator.logRetentionDays = 45;
          c.contracts.futures = "0x12";
        }),
        [`${NS}:clustr`]: JSON.stringify({ execLogRetentionDays: 30 }),
        "aws:region": undefined,
        [ROUTER_SECRETS[0]]: PRIVATE_KEY,
      };
      const error = await configError("dev", overrides);
      const keys = [
        "aws:region",
        `${NS}:proxyRouterWalletPrivateKey`,
        `${PROXY}.router.cpu`,
        `${PROXY}.validator.logRetentionDays`,
        `${PROXY}.contracts.futures`,
        `${NS}:clustr`,
      ];
      assert.ok(error.issues.length >= 3);
      for (const key of keys) issueFor(error, key);
      assert.match(issueFor(error, `${NS}:clustr`).message, /did you mean "cluster"/);
      assert.match(error.message, new RegExp(`^invalid stack configuration \\(${error.issues.length} problems\\)`));
    });

    it("reports the cross-checks together too (environment, protect, tag, reserved variable, secret group)", async () => {
      const overrides = {
        [`${NS}:environment`]: "stg",
        ...proxyRouter("dev", (c) => {
          c.validator.imageTag = "v1.2.3";
          c.router.extraEnvironment = { WEB_ADDRESS: "0.0.0.0:9" };
        }),
        [ROUTER_SECRETS[0]]: PRIVATE_KEY,
      };
      const error = await configError("dev", overrides, [ROUTER_SECRETS[0]]);
      for (const key of [
        `${NS}:environment`,
        `${PROXY}.validator.imageTag`,
        `${PROXY}.router.extraEnvironment.WEB_ADDRESS`,
        ROUTER_SECRETS[1],
        ROUTER_SECRETS[2],
      ]) {
        issueFor(error, key);
      }
      // The tag is judged against the environment the config claims (stg), not the stack's.
      assert.match(issueFor(error, `${PROXY}.validator.imageTag`).message, /not a stg release tag/);
      assert.equal(
        error.issues.some((i) => i.key === `${PROXY}.router.imageTag`),
        false,
        "the router stays on auto",
      );
    });

    it("reports schema errors and cross-key errors together, in one round", async () => {
      const overrides = {
        [`${NS}:cluster`]: JSON.stringify({ containerInsights: true, execLogRetentionDays: 30, insights: "on" }),
        ...proxyRouter("lmn", (c) => {
          c.validator.imageTag = "proxy-router-v3.1.0-dev";
          c.router.cpu = "big";
        }),
        [`${NS}:protect`]: "false",
      };
      const error = await configError("lmn", overrides);
      // Schema: a wrong type and an unknown key. Cross-key: a tag of another environment, protect off in production.
      assert.match(issueFor(error, `${NS}:cluster.containerInsights`).message, /expected one of "enabled", "enhanced"/);
      assert.match(issueFor(error, `${NS}:cluster.insights`).message, /^unknown key/);
      assert.match(issueFor(error, `${PROXY}.router.cpu`).message, /^expected number, got a string$/);
      assert.match(
        issueFor(error, `${PROXY}.validator.imageTag`).message,
        /"proxy-router-v3\.1\.0-dev" is not a lmn release tag/,
      );
      assert.match(issueFor(error, `${NS}:protect`).message, /cannot be false in production/);
      assert.equal(error.issues.length, 5, JSON.stringify(error.issues, null, 1));
    });

    it("never reports a key twice: a value the schema refused is not judged again by a cross-key check", async () => {
      const overrides = {
        ...proxyRouter("dev", (c) => {
          c.router.imageTag = "v1.7.5 dev!"; // not a Docker tag: the schema's error, not also "not a dev release tag"
          c.validator.extraEnvironment = { POOL_ADDRESS: SUBGRAPH_URL }; // reserved, and a secret-looking value
        }),
        [`${NS}:environment`]: "stg",
      };
      const error = await configError("dev", overrides);
      const keys = error.issues.map((i) => i.key);
      assert.deepEqual(
        keys.filter((k, i) => keys.indexOf(k) !== i),
        [],
        "no key twice",
      );
      assert.match(issueFor(error, `${PROXY}.router.imageTag`).message, /expected "auto" or a Docker tag/);
      assert.match(
        issueFor(error, `${PROXY}.validator.extraEnvironment.POOL_ADDRESS`).message,
        /value looks like a URL carrying an API key/,
      );
      assert.match(issueFor(error, `${NS}:environment`).message, /is "stg" but the stack is "dev"/);
    });

    it("runs the cross-key checks on whatever parsed, and never throws on malformed input", () => {
      const files = planFiles("dev");
      const load = (values: Record<string, string | undefined>) => () =>
        loadStackConfig({
          project: files.project,
          stack: "dev",
          values: withValues(files.config, values),
          isSecret: () => false,
        });
      const shapes: Record<string, string | undefined>[] = [
        { [PROXY]: "[1,2]" },
        { [PROXY]: '"text"' },
        { [PROXY]: "null" },
        { [PROXY]: JSON.stringify({ router: "x", validator: null, github: [1] }) },
        {
          [PROXY]: JSON.stringify({
            router: { extraEnvironment: [1] },
            validator: { imageTag: 7, extraEnvironment: "x" },
            github: { tagPrefix: 3 },
          }),
        },
        { [`${NS}:github`]: "true", [`${NS}:environment`]: "42" },
        {
          [`${NS}:github`]: JSON.stringify({ manageEnvironments: "yes", productionReviewerUsers: "none" }),
          [`${NS}:environment`]: undefined,
        },
      ];
      for (const shape of shapes) {
        assert.throws(load(shape), (err: unknown) => err instanceof ConfigError, JSON.stringify(shape));
      }
      // The validator's pin is judged though the router next to it is malformed and the contracts are missing.
      const broken = proxyRouter("dev", (c) => {
        c.router = 5;
        delete c.contracts;
        c.validator.imageTag = "proxy-router-v1.0.0";
      });
      try {
        load(broken)();
        assert.fail("expected a ConfigError");
      } catch (err) {
        assert.ok(err instanceof ConfigError);
        assert.match(issueFor(err, `${PROXY}.router`).message, /expected object/);
        assert.match(issueFor(err, `${PROXY}.contracts`).message, /required/);
        assert.match(issueFor(err, `${PROXY}.validator.imageTag`).message, /not a dev release tag/);
      }
    });
  });

  describe("accepts good config", () => {
    // The committed stacks' full plans are the subject of plan.spec.ts and proxy-router.spec.ts (committedPlan,
    // cached); here their config goes through loadStackConfig as the runtime would hand it over, which takes milliseconds.
    for (const stack of ["dev", "stg", "lmn"] as const) {
      it(`${stack}: the committed stack file loads`, () => {
        const files = planFiles(stack);
        const secret = new Set(files.secretKeys);
        const cfg = loadStackConfig({
          project: files.project,
          stack,
          values: files.config,
          isSecret: (key) => secret.has(key),
        });
        assert.equal(cfg.env.name, stack);
        assert.equal(cfg.region, "us-east-1");
        assert.equal(cfg.protect, stack === "lmn");
        assert.equal(cfg.dns.zoneName, stack === "lmn" ? "lumerin.io" : `${stack}.lumerin.io`);
        assert.equal(cfg.proxyRouter.router.cpu, stack === "lmn" ? 2048 : 256);
        assert.equal(cfg.proxyRouter.validator.healthCheck.path, "/healthcheck", "nested defaults applied");
        assert.deepEqual(cfg.secrets, {}, "no secret in the committed files: they are filled out of band");
        assert.ok(Object.isFrozen(cfg.proxyRouter.router));
      });
    }

    it("takes secrets given as secure values and keeps them secret in the plan", async () => {
      const values = [PRIVATE_KEY, "https://arb-mainnet.example/rpc/node-7", SUBGRAPH_URL];
      const plan = await planWith("dev", {
        overrides: {
          ...Object.fromEntries(ROUTER_SECRETS.map((key, i) => [key, values[i]])),
          // The router's value now comes from Pulumi: it is no longer declared out of band.
          [`${NS}:outOfBandSecrets`]: JSON.stringify({
            proxyValidator: "pending",
            marketMaker: "pending",
            notifications: "pending",
            marginCall: "pending",
          }),
        },
        extraSecretKeys: ROUTER_SECRETS,
      });
      const versions = plan.resources.filter((r) => r.type === "aws:secretsmanager/secretVersion:SecretVersion");
      assert.equal(versions.length, 1, "one secret version: the router's (the validator's keys are not set)");
      assert.match(versions[0].name, /^proxy-router/);
      assert.ok(versions[0].secretInputs.includes("secretString"));
      assert.equal(versions[0].inputs.secretString, "[secret]");
      const everything = JSON.stringify(plan);
      for (const value of values)
        assert.equal(everything.includes(value), false, `${value.slice(0, 12)}… appears nowhere in the plan`);
    });

    it("takes `secure:` values from a stack file (placeholders offline), as the CLI would pass them", async () => {
      const dir = mkdtempSync(path.join(tmpdir(), "config-spec-"));
      try {
        const file = path.join(dir, "Pulumi.dev.yaml");
        const secure = Object.keys(SECRET_KEYS)
          .filter((k) => k.startsWith("proxyValidator"))
          .map((k) => `  ${NS}:${k}:\n    secure: v1:AAAAAAAAAAAAAAAA:${k}`)
          .join("\n");
        // The validator's value now comes from Pulumi: its out-of-band declaration goes.
        const committed = readFileSync(path.join(REPO_ROOT, "Pulumi.dev.yaml"), "utf8");
        assert.ok(committed.includes("    proxyValidator: filled\n"));
        writeFileSync(file, `${committed.replace("    proxyValidator: filled\n", "").trimEnd()}\n${secure}\n`);
        const plan = await planWith("dev", {}, file);
        const versions = plan.resources.filter((r) => r.type === "aws:secretsmanager/secretVersion:SecretVersion");
        assert.deepEqual(
          versions.map((v) => [
            v.name.startsWith("proxy-validator"),
            v.inputs.secretString,
            v.secretInputs.includes("secretString"),
          ]),
          [[true, "[secret]", true]],
        );
        assert.equal(JSON.stringify(plan).includes("offline-placeholder"), false);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it("a disabled validator registers nothing of the validator (and is not in the outputs)", async () => {
      const plan = await planWith("dev", {
        overrides: proxyRouter("dev", (c) => (c.validator = { ...c.validator, enabled: false })),
      });
      const validator = plan.resources.filter(
        (r) => /validator/i.test(r.name) || /validator/i.test(r.urn.split("::").pop() ?? ""),
      );
      assert.deepEqual(
        validator.map((r) => r.name),
        [],
      );
      assert.equal(plan.outputs.proxyValidator, undefined);
      assert.ok(
        plan.resources.some((r) => r.name === "proxy-router-svc-service"),
        "the router is still there",
      );
    });
  });

  describe("knownKeys", () => {
    it("lists the top-level keys, the secrets included", () => {
      const keys = knownKeys(StackConfigSchema, []);
      const sections = [
        "environment",
        "protect",
        "network",
        "dns",
        "cluster",
        "proxyRouter",
        "futures",
        "monitoring",
        "github",
        "deployIdentity",
        "deployRunner",
        "outOfBandSecrets",
      ];
      for (const k of [...sections, ...Object.keys(SECRET_KEYS)]) assert.ok(keys.includes(k), k);
      assert.equal(keys.length, sections.length + Object.keys(SECRET_KEYS).length);
    });

    it("walks through defaults, prefaults and optionals to nested objects", () => {
      assert.deepEqual(knownKeys(StackConfigSchema, ["proxyRouter", "github"]), ["owner", "repo", "tagPrefix"]);
      assert.deepEqual(knownKeys(StackConfigSchema, ["proxyRouter", "router", "log"]), ["level", "json", "isProd"]);
      assert.ok(knownKeys(StackConfigSchema, ["proxyRouter", "validator"]).includes("extraEnvironment"));
      assert.ok(knownKeys(StackConfigSchema, ["proxyRouter", "router", "names"]).includes("imageTagParameter"));
    });

    it("gives the keys of every variant of a discriminated union", () => {
      assert.deepEqual(knownKeys(StackConfigSchema, ["network"]).sort(), [
        "availabilityZones",
        "cidrBlock",
        "mode",
        "natGateways",
        "privateSubnets",
        "publicSubnets",
        "vpc",
      ]);
    });

    it("gives nothing below a scalar or an unknown key", () => {
      assert.deepEqual(knownKeys(StackConfigSchema, ["proxyRouter", "router", "cpu"]), []);
      assert.deepEqual(knownKeys(StackConfigSchema, ["nope"]), []);
      assert.deepEqual(knownKeys(StackConfigSchema, ["network", "publicSubnets", "0"]), []);
    });
  });

  describe("reference (schema descriptions and the README table)", () => {
    it("describes every key at runtime", () => {
      const rows = configRows();
      const undescribed = rows.filter((r) => !r.description.trim()).map((r) => r.key);
      assert.deepEqual(undescribed, []);
      assert.ok(rows.some((r) => r.key === `${PROXY}.router.cpu` && r.default === "256" && r.required === "no"));
      assert.ok(rows.some((r) => r.key === `${PROXY}.validator.poolAddress` && r.required === "yes"));
      assert.ok(rows.some((r) => r.key === "aws:region" && r.required === "yes"));
      const secrets = rows.filter((r) => r.secret).map((r) => r.key);
      assert.deepEqual(
        secrets,
        Object.keys(SECRET_KEYS).map((k) => `${NS}:${k}`),
      );
      assert.equal(
        StackConfigSchema.shape.proxyRouter.description,
        "The proxy-router system: image, contracts, and the router and validator services.",
      );
    });

    it("docs/configuration.md holds the tables config-doc generates (npm run config-doc)", () => {
      const readme = readFileSync(path.join(REPO_ROOT, "docs", "configuration.md"), "utf8");
      assert.equal(replaceConfigBlock(readme, renderConfigReference()), readme, STALE_MESSAGE);
    });

    it("config-doc --check exits 1 on a stale table and 0 once regenerated; only the marked block changes", () => {
      const dir = mkdtempSync(path.join(tmpdir(), "config-doc-"));
      const errors: string[] = [];
      const saved = { error: console.error, log: console.log };
      console.error = (...args: unknown[]) => void errors.push(args.join(" "));
      console.log = () => undefined;
      try {
        const readme = path.join(dir, "README.md");
        const before = `# Title\n\nintro\n\n${START_MARKER}\n| old | table |\n${END_MARKER}\n\n## After\n`;
        writeFileSync(readme, before);
        assert.equal(configDoc(["--check"], readme), 1);
        assert.deepEqual(errors, [STALE_MESSAGE]);
        assert.equal(readFileSync(readme, "utf8"), before, "--check writes nothing");

        assert.equal(configDoc([], readme), 0);
        const after = readFileSync(readme, "utf8");
        assert.ok(after.startsWith(`# Title\n\nintro\n\n${START_MARKER}\n`));
        assert.ok(after.endsWith(`${END_MARKER}\n\n## After\n`));
        assert.ok(after.includes(`| \`${PROXY}.router.cpu\` |`));
        assert.equal(configDoc(["--check"], readme), 0);
        assert.equal(configDoc([], readme), 0);
        assert.equal(readFileSync(readme, "utf8"), after, "deterministic: a second run changes nothing");

        writeFileSync(readme, "# no markers\n");
        errors.length = 0;
        assert.equal(configDoc(["--check"], readme), 2);
        assert.match(errors[0], /config:start/);
      } finally {
        Object.assign(console, saved);
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
