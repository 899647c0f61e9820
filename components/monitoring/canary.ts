import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import type { UiCanaryNames } from "../../lib/naming";
import { Environment, EnvironmentName, environment } from "../../lib/environments";
import type { MonitoringConfig } from "../../config/monitoring";
import { PrivateBucket, privateBucket } from "../private-bucket";
import {
  AwsContext,
  Statement,
  denyWithoutTls,
  logGroupArn,
  policyDocument,
  resourcePolicyDocument,
  serviceTrust,
} from "../../lib/iam";

/**
 * The Synthetics runtime: Node.js 22 with Puppeteer and Chromium, the most recent
 * Node.js runtime in the CloudWatch guide ("Runtime versions using Node.js and
 * Puppeteer"). Node.js rather than the live `syn-python-selenium-8.0`: the page
 * check is plain JavaScript the repository's tests run against a fake page.
 */
export const CANARY_RUNTIME_VERSION = "syn-nodejs-puppeteer-15.0";

/** The script, a real file of the repository, packaged by the program. */
export const CANARY_SCRIPT_PATH = path.join(__dirname, "canary-script", "index.js");

/**
 * The file name the script has inside the zip (and so in the canary's Lambda layer,
 * under `/opt/nodejs/node_modules/`). Specific rather than `index`, so that it can
 * never shadow a module of the Synthetics runtime's own layer, which shares that folder.
 */
export const CANARY_FILE_NAME = "futuresUiCanary";

/**
 * The zip's layout: archive path → repository file. Synthetics' Node.js Puppeteer
 * runtimes load the script from `nodejs/node_modules/<file>.js` in the zip: the layout
 * the Synthetics API reference (`CanaryCodeInput`) requires for Node.js canaries and
 * every Puppeteer runtime accepts (11.0 and later also take a file at the root).
 */
export const CANARY_ARCHIVE_LAYOUT: Readonly<Record<string, string>> = {
  [`nodejs/node_modules/${CANARY_FILE_NAME}.js`]: CANARY_SCRIPT_PATH,
};

/** `<file>.<function>`: Synthetics resolves `<file>` under `nodejs/node_modules/` and calls the script's exported `handler`. */
export const CANARY_HANDLER = `${CANARY_FILE_NAME}.handler`;

/** The environment variable the script reads the site's URL from (the script's `URL_VARIABLE`). */
export const CANARY_URL_VARIABLE = "TARGET_URL";

/** Where runs write screenshots, HAR files and reports: the role may write here and nowhere else. */
export const ARTIFACT_PREFIX = "canary/";
/** Where the program uploads the script's zip: the role may read its own object, never write. */
export const CODE_PREFIX = "code/";

/** Per run (AWS's guidance: at least 15 s for a cold start); at most the shortest rate, one minute. */
export const CANARY_TIMEOUT_SECONDS = 60;
/** Chromium needs the memory; a multiple of 64 MB, at least 960. */
export const CANARY_MEMORY_MB = 1024;

export interface UiCanaryArgs {
  /**
   * Account and partition for the ARNs in the role's policy, and the region the
   * canary runs in (its Lambda's log group is there): the region of the provider
   * the component is given, us-east-1 in this program.
   */
  readonly aws: AwsContext;
  /** The environment (or its name): production protects the artifact bucket. */
  readonly env: EnvironmentName | Environment;
  /**
   * The page the canary loads: https only, without credentials.
   * @example "https://futures.dev.lumerin.io"
   */
  readonly url: string;
  /**
   * Minutes between runs, a whole number from 1 to 60 (`rate(1 minute)` … `rate(1 hour)`):
   * the monitoring's `canaryRateMinutes`. The success alarm's period is this many minutes.
   * @example 15
   */
  readonly rateMinutes: MonitoringConfig["canaryRateMinutes"];
  /** The canary's, its role's and its bucket's physical names. */
  readonly names: UiCanaryNames;
  /**
   * Days S3 keeps a run's screenshots and reports, and Synthetics its record of
   * the run (successful and failed alike), 1 to 455.
   * @default 30
   */
  readonly artifactRetentionDays?: number;
}

/**
 * The futures UI canary: a CloudWatch Synthetics canary that opens
 * the site in Chrome every `rateMinutes`, checks that it answers 2xx with a title
 * and a rendered app (#root, #app, else body, has children), and keeps screenshots
 * of passing and failing runs. Its script is `canary-script/index.js`, zipped by
 * the program as `nodejs/node_modules/futuresUiCanary.js` and uploaded under a key
 * with the archive's hash, so a changed script redeploys the canary. Artifacts go to a private, TLS-only, SSE-S3 bucket that
 * expires them; the run's role writes only there, its own log group and the
 * `CloudWatchSynthetics` metrics, and cannot touch its code. No X-Ray.
 *
 * Construct it with the provider of the region whose alarms watch it (us-east-1):
 * every child inherits it. SSE-S3, not the platform CMK, because that key lives in
 * the stack's region, which need not be the canary's.
 */
export class UiCanary extends pulumi.ComponentResource {
  readonly bucket: aws.s3.Bucket;
  readonly role: aws.iam.Role;
  readonly code: aws.s3.BucketObjectv2;
  readonly canary: aws.synthetics.Canary;

  /** The `CanaryName` dimension of the `CloudWatchSynthetics` metrics (`SuccessPercent`). */
  readonly canaryName: pulumi.Output<string>;
  readonly canaryArn: pulumi.Output<string>;
  readonly bucketName: pulumi.Output<string>;
  readonly bucketArn: pulumi.Output<string>;
  readonly roleArn: pulumi.Output<string>;
  /** Minutes between runs. */
  readonly rateMinutes: number;
  /** One run's interval in seconds: the period of an alarm on `SuccessPercent` (one datapoint per run). */
  readonly periodSeconds: number;
  readonly scheduleExpression: string;
  /** `code/<canary>/<first 16 hex digits of the archive's sha256>.zip` ({@link canaryArchiveHash}). */
  readonly codeKey: string;

  constructor(name: string, args: UiCanaryArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lumerin:monitoring:UiCanary", name, {}, opts);
    validate(args);
    const env = typeof args.env === "string" ? environment(args.env) : args.env;
    const retentionDays = args.artifactRetentionDays ?? 30;

    this.rateMinutes = args.rateMinutes;
    this.periodSeconds = args.rateMinutes * 60;
    this.scheduleExpression = canaryScheduleExpression(args.rateMinutes);
    this.codeKey = canaryCodeKey(args.names.canary, canaryArchiveHash());

    const artifacts = artifactsBucket(
      name,
      { bucketName: args.names.bucket, protect: env.production, retentionDays },
      this,
    );
    this.bucket = artifacts.bucket;
    const bucketPolicy = artifactsBucketPolicy(name, artifacts, this);
    // Written once the bucket is private and TLS-only.
    this.code = canaryCode(name, this.bucket.id, this.codeKey, bucketPolicy, this);
    const { role, policy } = canaryRole(name, args.aws, args.names, this.bucket.arn, this.codeKey, this);
    this.role = role;
    this.canary = canary(
      name,
      { ...args, retentionDays, scheduleExpression: this.scheduleExpression },
      { bucketId: this.bucket.id, code: this.code, roleArn: this.role.arn, rolePolicy: policy },
      this,
    );

    this.canaryName = this.canary.name;
    this.canaryArn = this.canary.arn;
    this.bucketName = this.bucket.bucket;
    this.bucketArn = this.bucket.arn;
    this.roleArn = this.role.arn;

    this.registerOutputs({
      canaryName: this.canaryName,
      canaryArn: this.canaryArn,
      bucketName: this.bucketName,
      bucketArn: this.bucketArn,
      roleArn: this.roleArn,
      rateMinutes: this.rateMinutes,
      periodSeconds: this.periodSeconds,
      scheduleExpression: this.scheduleExpression,
      codeKey: this.codeKey,
    });
  }
}

/**
 * `<name>-bucket` and its settings: where runs write artifacts and the program uploads
 * the code. SSE-S3: the canary may run in another region than the platform CMK (a key
 * serves its own region only), and the run's role then needs no KMS grant. Versioned
 * (the policy pack's s3-hardened, mandatory in production); old versions last a day.
 */
export function artifactsBucket(
  name: string,
  args: {
    /** The bucket's name ({@link UiCanaryNames.bucket}). */
    readonly bucketName: string;
    /** Production protects it (the policy pack's stateful-resources-protected). */
    readonly protect: boolean;
    /** Days a run's artifacts are kept under {@link ARTIFACT_PREFIX}. */
    readonly retentionDays: number;
  },
  parent: pulumi.Resource,
): PrivateBucket {
  return privateBucket(
    name,
    {
      bucketName: args.bucketName,
      // Screenshots and reports are disposable, and the code is rebuilt from the repository:
      // removing the canary may empty the bucket. Production still protects it: unprotect
      // first, deliberately.
      forceDestroy: true,
      protect: args.protect,
      lifecycleRules: [
        {
          // Only the runs' artifacts: the code object under code/ must outlive them (an update
          // of the canary reads it again).
          id: "expire-run-artifacts",
          status: "Enabled",
          filter: { prefix: ARTIFACT_PREFIX },
          expiration: { days: args.retentionDays },
        },
        {
          // What expiry and replaced code leave behind: old versions, empty delete markers, and
          // uploads that never completed.
          id: "remove-old-versions",
          status: "Enabled",
          filter: {},
          noncurrentVersionExpiration: { noncurrentDays: 1 },
          expiration: { expiredObjectDeleteMarker: true },
          abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
        },
      ],
    },
    parent,
  );
}

/**
 * `<name>-bucket-policy`: every request without TLS denied. It lands after public access
 * is blocked and ACLs are off, so nothing is ever public.
 */
export function artifactsBucketPolicy(
  name: string,
  artifacts: PrivateBucket,
  parent: pulumi.Resource,
): aws.s3.BucketPolicy {
  const { bucket } = artifacts;
  return new aws.s3.BucketPolicy(
    `${name}-bucket-policy`,
    {
      bucket: bucket.id,
      policy: resourcePolicyDocument([denyWithoutTls("s3", [bucket.arn, pulumi.interpolate`${bucket.arn}/*`])]),
    },
    { parent, dependsOn: [...artifacts.lockedDown] },
  );
}

/** `<name>-code`: the script's zip ({@link canaryArchive}) at `codeKey`, written after `after`. */
export function canaryCode(
  name: string,
  bucketId: pulumi.Input<string>,
  codeKey: string,
  after: pulumi.Resource,
  parent: pulumi.Resource,
): aws.s3.BucketObjectv2 {
  return new aws.s3.BucketObjectv2(
    `${name}-code`,
    {
      bucket: bucketId,
      key: codeKey,
      // The provider zips an archive given as an object's source.
      source: canaryArchive(),
      contentType: "application/zip",
    },
    { parent, dependsOn: [after] },
  );
}

/** The inline policy's name on the canary's role. */
export const CANARY_ROLE_POLICY_NAME = "synthetics-canary";

/**
 * `<name>-role`, assumed by Lambda for this account only, and `<name>-policy`, its
 * {@link canaryStatements}.
 */
export function canaryRole(
  name: string,
  ctx: AwsContext,
  names: UiCanaryNames,
  bucketArn: pulumi.Input<string>,
  codeKey: string,
  parent: pulumi.Resource,
): {
  /** The execution role. */
  readonly role: aws.iam.Role;
  /** Its inline policy. */
  readonly policy: aws.iam.RolePolicy;
} {
  const role = new aws.iam.Role(
    `${name}-role`,
    {
      name: names.role,
      description: `${names.canary}: writes its run artifacts, its own logs and the CloudWatchSynthetics metrics`,
      assumeRolePolicy: serviceTrust("lambda.amazonaws.com", ctx.accountId, "LambdaAssumesForThisAccountOnly"),
      maxSessionDuration: 3600,
    },
    { parent },
  );
  const policy = new aws.iam.RolePolicy(
    `${name}-policy`,
    {
      role: role.id,
      name: CANARY_ROLE_POLICY_NAME,
      policy: policyDocument(canaryStatements(ctx, names.canary, bucketArn, codeKey)),
    },
    { parent },
  );
  return { role, policy };
}

/** What the canary runs with: the other steps' resources. */
export interface CanaryParts {
  /** The artifact bucket (also the code's). */
  readonly bucketId: pulumi.Input<string>;
  /** The code object; the canary waits for it. */
  readonly code: aws.s3.BucketObjectv2;
  /** The execution role's ARN. */
  readonly roleArn: pulumi.Input<string>;
  /** The role's policy; the canary waits for it, so its first run has its rights. */
  readonly rolePolicy: aws.iam.RolePolicy;
}

/**
 * `<name>-canary`: {@link CANARY_RUNTIME_VERSION} with the code at its key, on the
 * schedule, {@link CANARY_TIMEOUT_SECONDS} and {@link CANARY_MEMORY_MB} a run, no
 * tracing, SSE-S3 artifacts under {@link ARTIFACT_PREFIX}, started at once.
 */
export function canary(
  name: string,
  args: Pick<UiCanaryArgs, "names" | "url"> & {
    /** Days Synthetics keeps the record of a run. */
    readonly retentionDays: number;
    /** {@link canaryScheduleExpression} of the rate. */
    readonly scheduleExpression: string;
  },
  parts: CanaryParts,
  parent: pulumi.Resource,
): aws.synthetics.Canary {
  return new aws.synthetics.Canary(
    `${name}-canary`,
    {
      name: args.names.canary,
      runtimeVersion: CANARY_RUNTIME_VERSION,
      handler: CANARY_HANDLER,
      s3Bucket: parts.bucketId,
      s3Key: parts.code.key,
      executionRoleArn: parts.roleArn,
      artifactS3Location: pulumi.interpolate`s3://${parts.bucketId}/${ARTIFACT_PREFIX}`,
      artifactConfig: { s3Encryption: { encryptionMode: "SSE_S3" } },
      schedule: { expression: args.scheduleExpression },
      runConfig: {
        timeoutInSeconds: CANARY_TIMEOUT_SECONDS,
        memoryInMb: CANARY_MEMORY_MB,
        activeTracing: false,
        environmentVariables: { [CANARY_URL_VARIABLE]: args.url },
      },
      successRetentionPeriod: args.retentionDays,
      failureRetentionPeriod: args.retentionDays,
      startCanary: true,
      // Removing the canary removes the Lambda function and layer Synthetics made for it.
      deleteLambda: true,
    },
    // The first run starts at once: its code and its rights exist before it.
    { parent, dependsOn: [parts.code, parts.rolePolicy] },
  );
}

/** Synthetics' rate syntax: `rate(1 minute)` (singular), `rate(15 minutes)`, and `rate(1 hour)` for 60. */
export function canaryScheduleExpression(minutes: number): string {
  if (minutes === 60) return "rate(1 hour)";
  return `rate(${minutes} ${minutes === 1 ? "minute" : "minutes"})`;
}

/** The zip the canary runs: the repository's script files at the layout the runtime takes. */
export function canaryArchive(): pulumi.asset.AssetArchive {
  return new pulumi.asset.AssetArchive(
    Object.fromEntries(
      Object.entries(CANARY_ARCHIVE_LAYOUT).map(([inZip, file]) => [inZip, new pulumi.asset.FileAsset(file)]),
    ),
  );
}

/** How much of the script's sha256 names its code: 64 bits tell versions of one file apart. */
export const CODE_HASH_HEX_DIGITS = 16;

/**
 * The first {@link CODE_HASH_HEX_DIGITS} hex digits of the sha256 over the archive's
 * entries, each its path in the zip, a NUL byte, and the file's bytes, in path order.
 * A changed script or a moved file is a new hash. Not all 64 digits: a 64-digit hex
 * string in a key, an output or a tag reads as a private key to the policy pack's
 * secret checks.
 */
export function canaryArchiveHash(layout: Readonly<Record<string, string>> = CANARY_ARCHIVE_LAYOUT): string {
  const hash = createHash("sha256");
  for (const inZip of Object.keys(layout).sort()) {
    hash.update(inZip).update("\0").update(readFileSync(layout[inZip]));
  }
  return hash.digest("hex").slice(0, CODE_HASH_HEX_DIGITS);
}

/**
 * A key per archive content: a changed script or layout is a new key, so the canary
 * itself changes (`s3Key`) and Synthetics takes the new code.
 */
export function canaryCodeKey(canaryName: string, archiveHashHex: string): string {
  return `${CODE_PREFIX}${canaryName}/${archiveHashHex}.zip`;
}

/**
 * The run's rights, from "Required roles and permissions for canaries" (basic
 * canary, no KMS, no VPC), narrowed: objects only under the artifact prefix (the
 * code is readable, never writable), its own log group, and metrics only in the
 * `CloudWatchSynthetics` namespace.
 *
 * Left out of the guide's list: `xray:PutTraceSegments` (tracing is off), and
 * `s3:ListAllMyBuckets` (docs/estate.md#flaw-canary-role). The run writes to a named bucket and
 * asks its region with GetBucketLocation; listing every bucket of the account is
 * nothing this canary does (no visual monitoring, no bucket discovery). The policy
 * pack would accept it (on "*", an action that takes no resource ARN), so if a run
 * ever logs AccessDenied for ListBuckets, add it as its own statement.
 */
export function canaryStatements(
  ctx: AwsContext,
  canaryName: string,
  bucketArn: pulumi.Input<string>,
  codeKey: string,
): Statement[] {
  const artifacts = pulumi.interpolate`${bucketArn}/${ARTIFACT_PREFIX}*`;
  // Synthetics names the function `cwsyn-<canary>-<uuid>`; Lambda logs to /aws/lambda/<function>.
  const logGroup = logGroupArn(ctx, `/aws/lambda/cwsyn-${canaryName}-*`);
  return [
    { Sid: "WriteRunArtifactsUnderArtifactPrefixOnly", Action: ["s3:PutObject"], Resource: [artifacts] },
    {
      Sid: "ReadRunArtifactsAndOwnCode",
      Action: ["s3:GetObject"],
      Resource: [artifacts, pulumi.interpolate`${bucketArn}/${codeKey}`],
    },
    { Sid: "FindArtifactBucketRegion", Action: ["s3:GetBucketLocation"], Resource: [bucketArn] },
    {
      Sid: "WriteOwnLogGroupAndStreams",
      Action: ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
      Resource: [logGroup, pulumi.interpolate`${logGroup}:log-stream:*`],
    },
    {
      Sid: "PutSyntheticsMetricsTakesNoResourceArn",
      Action: ["cloudwatch:PutMetricData"],
      Resource: "*",
      Condition: { StringEquals: { "cloudwatch:namespace": "CloudWatchSynthetics" } },
    },
  ];
}

const CANARY_NAME = /^[0-9a-z_-]{1,21}$/;
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;

function validate(args: UiCanaryArgs): void {
  const problems: string[] = [];
  const { names } = args;
  if (!CANARY_NAME.test(names.canary))
    problems.push(`canary name "${names.canary}" must be 1-21 of [a-z0-9_-] (Synthetics' limit)`);
  if (!BUCKET_NAME.test(names.bucket) || names.bucket.includes(".."))
    problems.push(`bucket name "${names.bucket}" is not a valid S3 bucket name`);
  if (!ROLE_NAME.test(names.role)) problems.push(`role name "${names.role}" is not a valid IAM role name`);
  const days = args.artifactRetentionDays;
  if (days !== undefined && (!Number.isInteger(days) || days < 1 || days > 455))
    problems.push(`artifactRetentionDays ${days} must be a whole number from 1 to 455 (Synthetics' retention limit)`);
  let url: URL | undefined;
  try {
    url = new URL(args.url);
  } catch {
    problems.push(`url "${args.url}" is not a URL`);
  }
  if (url && url.protocol !== "https:") problems.push(`url "${args.url}" must be https`);
  if (url && (url.username || url.password))
    problems.push(`url "${args.url}" must not carry credentials (environment variables are not secret)`);
  if (problems.length > 0) throw new Error(`UiCanary ${names.canary}: ${problems.join("; ")}`);
}
