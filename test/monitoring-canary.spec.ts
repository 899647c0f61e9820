/**
 * The futures UI canary as a component: its bucket, its role as IAM
 * evaluates it, the canary's inputs, the archive the program uploads, the page
 * check of the script itself (run against a fake page), and the policy pack.
 */
import { strict as assert } from "node:assert";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { runSimulation } from "@cloud-copilot/iam-simulate";
import {
  CANARY_FILE_NAME,
  CANARY_HANDLER,
  CANARY_RUNTIME_VERSION,
  CANARY_SCRIPT_PATH,
  CANARY_URL_VARIABLE,
  UiCanary,
  UiCanaryArgs,
  canaryArchiveHash,
  canaryScheduleExpression,
} from "../components/monitoring/canary";
import * as script from "../components/monitoring/canary-script/index.js";
import type { CanaryRuntime, CheckLog, CheckedPage } from "../components/monitoring/canary-script/index.js";
import { RULES } from "../policy/rules";
import type { PolicyViolation, Rule } from "../policy/rules/model";
import type { Plan } from "../tools/harness";
import { ACCOUNT, REGION, evaluateProgram } from "./support/policy";
import { doc, resource, resourcesOfType } from "./support/plan";

type Stack = "dev" | "lmn";

const T = {
  component: "lumerin:monitoring:UiCanary",
  bucket: "aws:s3/bucket:Bucket",
  publicAccess: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
  ownership: "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
  versioning: "aws:s3/bucketVersioning:BucketVersioning",
  encryption: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  lifecycle: "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
  bucketPolicy: "aws:s3/bucketPolicy:BucketPolicy",
  object: "aws:s3/bucketObjectv2:BucketObjectv2",
  role: "aws:iam/role:Role",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  canary: "aws:synthetics/canary:Canary",
  provider: "pulumi:providers:aws",
} as const;

const URL_OF: Record<Stack, string> = { dev: "https://futures.dev.lumerin.io", lmn: "https://futures.lumerin.io" };
const names = (stack: Stack = "lmn") => ({
  canary: `futures-ui-${stack}`,
  role: `futures-synthetics-canary-role-${stack}`,
  bucket: `futures-synthetics-${ACCOUNT}-${stack}`,
});
/** sha256 over the archive's one entry, its path in the zip, NUL, the script's bytes; 16 hex digits. */
const ARCHIVE_HASH = createHash("sha256")
  .update("nodejs/node_modules/futuresUiCanary.js\0")
  .update(readFileSync(path.join(__dirname, "..", "components", "monitoring", "canary-script", "index.js")))
  .digest("hex")
  .slice(0, 16);

function args(stack: Stack, overrides: Partial<UiCanaryArgs> = {}): UiCanaryArgs {
  return {
    aws: { accountId: ACCOUNT, region: REGION, partition: "aws" },
    env: stack,
    url: URL_OF[stack],
    rateMinutes: stack === "lmn" ? 15 : 60,
    names: names(stack),
    ...overrides,
  };
}

interface Planned {
  readonly plan: Plan;
  readonly violations: PolicyViolation[];
  readonly component: UiCanary;
  readonly provider: aws.Provider;
  /** The `source` the program gave the code object (the plan keeps only its serialised form). */
  readonly archive: pulumi.asset.AssetArchive;
}

/** The component alone, with a us-east-1 provider as the stack gives it, its outputs as the stack's, under `rules`. */
async function planOf(
  stack: Stack,
  overrides: Partial<UiCanaryArgs> = {},
  rules: readonly Rule[] = RULES,
): Promise<Planned> {
  let component: UiCanary | undefined;
  let provider: aws.Provider | undefined;
  let archive: pulumi.asset.AssetArchive | undefined;
  const evaluated = await evaluateProgram(
    rules,
    () => {
      pulumi.runtime.registerStackTransformation((t) => {
        if (t.type === T.object) archive = t.props.source as pulumi.asset.AssetArchive;
        return undefined;
      });
      provider = new aws.Provider("us-east-1", { region: "us-east-1" });
      component = new UiCanary("futures-ui-canary", args(stack, overrides), { provider });
      return {
        canaryName: component.canaryName,
        canaryArn: component.canaryArn,
        bucketName: component.bucketName,
        bucketArn: component.bucketArn,
        roleArn: component.roleArn,
        rateMinutes: component.rateMinutes,
        periodSeconds: component.periodSeconds,
        scheduleExpression: component.scheduleExpression,
        codeKey: component.codeKey,
      };
    },
    { stack },
  );
  assert.ok(component && provider && archive, "the program ran");
  return { ...evaluated, component, provider, archive };
}

describe("UiCanary (the futures UI's Synthetics canary)", () => {
  const plans = {} as Record<Stack, Planned>;
  before(async () => {
    // One capture at a time: the Pulumi runtime is process-global.
    plans.dev = await planOf("dev");
    plans.lmn = await planOf("lmn");
  });
  const get = (type: string, name: string, stack: Stack = "lmn") => resource(plans[stack].plan, type, name);
  const bucketArn = (stack: Stack = "lmn") => `arn:aws:s3:::${names(stack).bucket}`;
  const codeKey = (stack: Stack = "lmn") => `code/${names(stack).canary}/${ARCHIVE_HASH}.zip`;
  const canary = (stack: Stack = "lmn") => get(T.canary, "futures-ui-canary-canary", stack);
  const statements = (stack: Stack = "lmn") =>
    doc(get(T.rolePolicy, "futures-ui-canary-policy", stack).inputs.policy).Statement;

  describe("its artifact bucket", () => {
    it("is futures-synthetics-<acct>-<env>, force-destroyable, protected in production only", () => {
      for (const stack of ["dev", "lmn"] as const) {
        const bucket = get(T.bucket, "futures-ui-canary-bucket", stack);
        assert.deepEqual(
          [bucket.inputs.bucket, bucket.inputs.forceDestroy, bucket.options.protect],
          [names(stack).bucket, true, stack === "lmn"],
        );
      }
    });

    it("blocks all public access, enforces the owner, encrypts with SSE-S3 and is versioned", () => {
      const bucket = names().bucket;
      const pab = get(T.publicAccess, "futures-ui-canary-bucket-public-access").inputs;
      assert.deepEqual(pab, {
        bucket,
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      });
      assert.deepEqual(get(T.ownership, "futures-ui-canary-bucket-ownership").inputs, {
        bucket,
        rule: { objectOwnership: "BucketOwnerEnforced" },
      });
      assert.deepEqual(get(T.encryption, "futures-ui-canary-bucket-encryption").inputs, {
        bucket,
        rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
      });
      assert.deepEqual(get(T.versioning, "futures-ui-canary-bucket-versioning").inputs, {
        bucket,
        versioningConfiguration: { status: "Enabled" },
      });
    });

    it("expires run artifacts (canary/ only, never the code) after artifactRetentionDays, default 30, and cleans up versions and uploads", async () => {
      const rules = (lifecycle: Record<string, unknown>) => lifecycle.rules;
      const expected = (days: number) => [
        { id: "expire-run-artifacts", status: "Enabled", filter: { prefix: "canary/" }, expiration: { days } },
        {
          id: "remove-old-versions",
          status: "Enabled",
          filter: {},
          noncurrentVersionExpiration: { noncurrentDays: 1 },
          expiration: { expiredObjectDeleteMarker: true },
          abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
        },
      ];
      const lifecycle = get(T.lifecycle, "futures-ui-canary-bucket-lifecycle");
      assert.deepEqual(rules(lifecycle.inputs), expected(30));
      assert.ok(
        lifecycle.options.dependsOn.includes(get(T.versioning, "futures-ui-canary-bucket-versioning").urn),
        "S3 takes noncurrent-version rules only once versioning is set",
      );
      const { plan } = await planOf("dev", { artifactRetentionDays: 7 }, []);
      assert.deepEqual(rules(resource(plan, T.lifecycle, "futures-ui-canary-bucket-lifecycle").inputs), expected(7));
      const c = resource(plan, T.canary, "futures-ui-canary-canary").inputs;
      assert.deepEqual(
        [c.successRetentionPeriod, c.failureRetentionPeriod],
        [7, 7],
        "Synthetics keeps its run records as long as S3 keeps their screenshots",
      );
    });

    it("denies every request without TLS, and says nothing else", () => {
      const policy = get(T.bucketPolicy, "futures-ui-canary-bucket-policy");
      assert.equal(policy.inputs.bucket, names().bucket);
      assert.deepEqual(doc(policy.inputs.policy).Statement, [
        {
          Sid: "DenyRequestsWithoutTls",
          Effect: "Deny",
          Principal: "*",
          Action: ["s3:*"],
          Resource: [bucketArn(), `${bucketArn()}/*`],
          Condition: { Bool: { "aws:SecureTransport": "false" } },
        },
      ]);
      assert.ok(policy.options.dependsOn.includes(get(T.publicAccess, "futures-ui-canary-bucket-public-access").urn));
    });
  });

  describe("its code", () => {
    it("is the repository's script, zipped as exactly nodejs/node_modules/futuresUiCanary.js (where the Puppeteer runtimes load it), for handler futuresUiCanary.handler", async () => {
      const assets = (await plans.lmn.archive.assets) as Record<string, pulumi.asset.FileAsset>;
      assert.deepEqual(Object.keys(assets), ["nodejs/node_modules/futuresUiCanary.js"]);
      assert.equal(await assets["nodejs/node_modules/futuresUiCanary.js"].path, CANARY_SCRIPT_PATH);
      assert.equal(
        CANARY_SCRIPT_PATH,
        path.resolve(__dirname, "..", "components", "monitoring", "canary-script", "index.js"),
      );
      assert.ok(existsSync(CANARY_SCRIPT_PATH));
      assert.equal(CANARY_HANDLER, "futuresUiCanary.handler");
      assert.equal(canary().inputs.handler, "futuresUiCanary.handler");
    });

    it("has a handler that Synthetics' loader resolves in the unpacked archive: <file> under nodejs/node_modules, exporting the function", async () => {
      // Unpack the archive as the runtime's layer does (under /opt), then load the handler the
      // way the runtime names it: require("<layer>/nodejs/node_modules/<file>")[<function>].
      const assets = (await plans.lmn.archive.assets) as Record<string, pulumi.asset.FileAsset>;
      const layer = mkdtempSync(path.join(tmpdir(), "canary-layer-"));
      try {
        for (const [inZip, asset] of Object.entries(assets)) {
          const target = path.join(layer, inZip);
          mkdirSync(path.dirname(target), { recursive: true });
          copyFileSync(await asset.path, target);
        }
        const handler = String(canary().inputs.handler);
        const dot = handler.lastIndexOf(".");
        const [file, fn] = [handler.slice(0, dot), handler.slice(dot + 1)];
        const loaded = require(path.join(layer, "nodejs", "node_modules", file)) as Record<string, unknown>;
        assert.equal(typeof loaded[fn], "function", `${handler} is a function of nodejs/node_modules/${file}.js`);
        // A root-level file (the old layout) would not be found there.
        assert.ok(!existsSync(path.join(layer, `${file}.js`)));
      } finally {
        rmSync(layer, { recursive: true, force: true });
      }
    });

    it("names its code by the archive's hash: a moved file is a new key, like a changed script", () => {
      assert.equal(canaryArchiveHash(), ARCHIVE_HASH);
      assert.notEqual(canaryArchiveHash({ [`${CANARY_FILE_NAME}.js`]: CANARY_SCRIPT_PATH }), ARCHIVE_HASH);
    });

    it("goes to code/<canary>/<sha256 of the script, 16 hex digits>.zip in the artifact bucket, so a changed script is a new key and redeploys the canary", () => {
      const object = get(T.object, "futures-ui-canary-code");
      assert.deepEqual(
        [object.inputs.bucket, object.inputs.key, object.inputs.contentType],
        [names().bucket, codeKey(), "application/zip"],
      );
      assert.equal(plans.lmn.component.codeKey, codeKey());
      const c = canary().inputs;
      assert.deepEqual(
        [c.s3Bucket, c.s3Key, c.s3Version, c.zipFile],
        [names().bucket, codeKey(), undefined, undefined],
      );
      assert.ok(canary().options.dependsOn.includes(object.urn), "the canary waits for its code");
    });

    it("needs the Synthetics modules only when it runs (the namespaces of 13.1+), so it loads anywhere", async () => {
      await assert.rejects(script.handler(), /Cannot find module '@aws\/synthetics-puppeteer'/);
    });
  });

  describe("its role", () => {
    it("is futures-synthetics-canary-role-<env>, assumed by Lambda for this account only", () => {
      const role = get(T.role, "futures-ui-canary-role").inputs;
      assert.equal(role.name, "futures-synthetics-canary-role-lmn");
      assert.deepEqual(doc(role.assumeRolePolicy).Statement, [
        {
          Sid: "LambdaAssumesForThisAccountOnly",
          Effect: "Allow",
          Principal: { Service: "lambda.amazonaws.com" },
          Action: "sts:AssumeRole",
          Condition: { StringEquals: { "aws:SourceAccount": ACCOUNT } },
        },
      ]);
      assert.deepEqual(
        resourcesOfType(plans.lmn.plan, T.rolePolicy).map((p) => [p.name, p.inputs.role]),
        [["futures-ui-canary-policy", "futures-synthetics-canary-role-lmn"]],
      );
      assert.equal(role.managedPolicyArns, undefined);
    });

    it("may write only run artifacts, read them and its own code, locate the bucket, write its own logs and Synthetics metrics: exactly", () => {
      const logGroup = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/cwsyn-futures-ui-lmn-*`;
      assert.deepEqual(statements(), [
        {
          Sid: "WriteRunArtifactsUnderArtifactPrefixOnly",
          Effect: "Allow",
          Action: ["s3:PutObject"],
          Resource: [`${bucketArn()}/canary/*`],
        },
        {
          Sid: "ReadRunArtifactsAndOwnCode",
          Effect: "Allow",
          Action: ["s3:GetObject"],
          Resource: [`${bucketArn()}/canary/*`, `${bucketArn()}/${codeKey()}`],
        },
        { Sid: "FindArtifactBucketRegion", Effect: "Allow", Action: ["s3:GetBucketLocation"], Resource: [bucketArn()] },
        {
          Sid: "WriteOwnLogGroupAndStreams",
          Effect: "Allow",
          Action: ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
          Resource: [logGroup, `${logGroup}:log-stream:*`],
        },
        {
          Sid: "PutSyntheticsMetricsTakesNoResourceArn",
          Effect: "Allow",
          Action: ["cloudwatch:PutMetricData"],
          Resource: "*",
          Condition: { StringEquals: { "cloudwatch:namespace": "CloudWatchSynthetics" } },
        },
      ]);
      assert.ok(
        canary().options.dependsOn.includes(get(T.rolePolicy, "futures-ui-canary-policy").urn),
        "its rights exist before its first run",
      );
    });

    describe("evaluated as IAM and S3 do (@cloud-copilot/iam-simulate)", () => {
      const principal = `arn:aws:iam::${ACCOUNT}:role/futures-synthetics-canary-role-lmn`;
      const inBucket = (target: string) => target.startsWith(`${bucketArn()}/`) || target === bucketArn();
      const can = async (action: string, target: string, context: Record<string, string> = {}) => {
        const resourcePolicy = inBucket(target)
          ? doc(get(T.bucketPolicy, "futures-ui-canary-bucket-policy").inputs.policy)
          : undefined;
        const result = await runSimulation(
          {
            request: {
              principal,
              action,
              resource: { resource: target, accountId: ACCOUNT },
              contextVariables: { "aws:SecureTransport": "true", ...context },
            },
            identityPolicies: [
              { name: "synthetics-canary", policy: doc(get(T.rolePolicy, "futures-ui-canary-policy").inputs.policy) },
            ],
            serviceControlPolicies: [],
            resourceControlPolicies: [],
            ...(resourcePolicy ? { resourcePolicy } : {}),
          },
          {},
        );
        // A request that names no resource ("*") may be evaluated as a wildcard one (an action with optional resource types).
        if (target !== "*") assert.equal(result.resultType, "single", JSON.stringify(result).slice(0, 300));
        return result.resultType !== "error" && result.overallResult === "Allowed";
      };
      const artifact = () =>
        `${bucketArn()}/canary/us-east-1/futures-ui-lmn/2026/01/01/00-00-00-000/01-loadFuturesUi-succeeded.png`;
      const logGroup = (fn: string) => `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/${fn}`;
      const FN = "cwsyn-futures-ui-lmn-0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d";
      const cases: [string, string, () => string, Record<string, string>, boolean][] = [
        ["s3:PutObject", "a run artifact", artifact, {}, true],
        ["s3:PutObject", "a run artifact over plain HTTP", artifact, { "aws:SecureTransport": "false" }, false],
        ["s3:PutObject", "its own code", () => `${bucketArn()}/${codeKey()}`, {}, false],
        ["s3:PutObject", "new code beside it", () => `${bucketArn()}/code/futures-ui-lmn/other.zip`, {}, false],
        ["s3:PutObject", "the bucket's root", () => `${bucketArn()}/index.html`, {}, false],
        [
          "s3:PutObject",
          "another environment's artifacts",
          () => `arn:aws:s3:::${names("dev").bucket}/canary/x.png`,
          {},
          false,
        ],
        ["s3:GetObject", "a run artifact", artifact, {}, true],
        ["s3:GetObject", "its own code", () => `${bucketArn()}/${codeKey()}`, {}, true],
        ["s3:GetObject", "other code", () => `${bucketArn()}/code/futures-ui-lmn/other.zip`, {}, false],
        ["s3:DeleteObject", "a run artifact", artifact, {}, false],
        ["s3:GetBucketLocation", "the artifact bucket", () => bucketArn(), {}, true],
        ["s3:ListBucket", "the artifact bucket", () => bucketArn(), {}, false],
        ["s3:ListAllMyBuckets", "*", () => "*", {}, false],
        ["logs:CreateLogGroup", "its function's log group", () => logGroup(FN), {}, true],
        [
          "logs:PutLogEvents",
          "its function's log stream",
          () => `${logGroup(FN)}:log-stream:2026/01/01/[$LATEST]abc`,
          {},
          true,
        ],
        [
          "logs:PutLogEvents",
          "another function's log stream",
          () => `${logGroup("margin-call-v2-lmn")}:log-stream:x`,
          {},
          false,
        ],
        [
          "logs:CreateLogGroup",
          "another canary's log group",
          () => logGroup("cwsyn-futures-ui-dev-0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d"),
          {},
          false,
        ],
        [
          "cloudwatch:PutMetricData",
          "the CloudWatchSynthetics namespace",
          () => "*",
          { "cloudwatch:namespace": "CloudWatchSynthetics" },
          true,
        ],
        [
          "cloudwatch:PutMetricData",
          "another namespace",
          () => "*",
          { "cloudwatch:namespace": "FuturesMarketplace/lmn" },
          false,
        ],
        ["xray:PutTraceSegments", "*", () => "*", {}, false],
        [
          "lambda:UpdateFunctionCode",
          "its function",
          () => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${FN}`,
          {},
          false,
        ],
      ];
      for (const [action, what, target, context, expected] of cases) {
        it(`${expected ? "may" : "may not"} ${action} on ${what}`, async () =>
          assert.equal(await can(action, target(), context), expected));
      }
    });
  });

  describe("the canary", () => {
    it(`runs ${CANARY_RUNTIME_VERSION} (Node.js 22, Puppeteer) with handler futuresUiCanary.handler, 60 s and 1024 MB a run, no tracing, the site's URL as TARGET_URL`, () => {
      const c = canary().inputs;
      assert.deepEqual(
        [c.name, c.runtimeVersion, c.handler, c.executionRoleArn],
        [
          "futures-ui-lmn",
          "syn-nodejs-puppeteer-15.0",
          "futuresUiCanary.handler",
          String(get(T.role, "futures-ui-canary-role").outputs.arn),
        ],
      );
      assert.deepEqual(c.runConfig, {
        timeoutInSeconds: 60,
        memoryInMb: 1024,
        activeTracing: false,
        environmentVariables: { TARGET_URL: "https://futures.lumerin.io" },
      });
      assert.equal(CANARY_URL_VARIABLE, script.URL_VARIABLE, "the component sets the variable the script reads");
      assert.equal(canary("dev").inputs.name, "futures-ui-dev");
    });

    it("writes SSE-S3 artifacts to s3://<bucket>/canary/, keeps run records 30 days, starts at once and takes its Lambda with it when removed", () => {
      const c = canary().inputs;
      assert.deepEqual(
        [
          c.artifactS3Location,
          c.artifactConfig,
          c.successRetentionPeriod,
          c.failureRetentionPeriod,
          c.startCanary,
          c.deleteLambda,
          c.vpcConfig,
        ],
        [
          `s3://${names().bucket}/canary/`,
          { s3Encryption: { encryptionMode: "SSE_S3" } },
          30,
          30,
          true,
          true,
          undefined,
        ],
      );
    });

    it("runs every rateMinutes: rate(15 minutes) in lmn, rate(1 hour) in dev", () => {
      assert.deepEqual((canary().inputs.schedule as { expression: string }).expression, "rate(15 minutes)");
      assert.deepEqual((canary("dev").inputs.schedule as { expression: string }).expression, "rate(1 hour)");
      assert.deepEqual([plans.lmn.component.rateMinutes, plans.lmn.component.periodSeconds], [15, 900]);
      assert.deepEqual([plans.dev.component.rateMinutes, plans.dev.component.periodSeconds], [60, 3600]);
    });

    it("writes Synthetics' rate syntax: singular for one minute, an hour for sixty", () => {
      const table: [number, string][] = [
        [1, "rate(1 minute)"],
        [2, "rate(2 minutes)"],
        [5, "rate(5 minutes)"],
        [30, "rate(30 minutes)"],
        [59, "rate(59 minutes)"],
        [60, "rate(1 hour)"],
      ];
      assert.deepEqual(
        table.map(([n]) => [n, canaryScheduleExpression(n)]),
        table,
      );
    });

    for (const [minutes, expression] of [
      [1, "rate(1 minute)"],
      [60, "rate(1 hour)"],
    ] as const) {
      it(`with rateMinutes ${minutes}: ${expression}, a ${minutes * 60} s period, and a timeout within it`, async () => {
        const { plan, component } = await planOf("dev", { rateMinutes: minutes }, []);
        const c = resource(plan, T.canary, "futures-ui-canary-canary").inputs;
        assert.equal((c.schedule as { expression: string }).expression, expression);
        assert.deepEqual([component.scheduleExpression, component.periodSeconds], [expression, minutes * 60]);
        assert.ok(
          (c.runConfig as { timeoutInSeconds: number }).timeoutInSeconds <= minutes * 60,
          "a run ends before the next starts",
        );
      });
    }
  });

  describe("as a component", () => {
    it("exposes what the alarm and the dashboard need, equal to what it made", () => {
      assert.deepEqual(plans.lmn.plan.outputs, {
        canaryName: "futures-ui-lmn",
        canaryArn: `arn:aws:synthetics:${REGION}:${ACCOUNT}:canary:futures-ui-lmn`,
        bucketName: names().bucket,
        bucketArn: bucketArn(),
        roleArn: `arn:aws:iam::${ACCOUNT}:role/futures-synthetics-canary-role-lmn`,
        rateMinutes: 15,
        periodSeconds: 900,
        scheduleExpression: "rate(15 minutes)",
        codeKey: codeKey(),
      });
      assert.equal(canary().outputs.arn, plans.lmn.plan.outputs.canaryArn);
    });

    it("parents every child, and leaves the region to the provider it is given (every child runs on it, inherited)", () => {
      const { plan, component, provider } = plans.lmn;
      const providerUrn = plan.resources.find((r) => r.type === T.provider && r.name === "us-east-1")?.urn;
      assert.ok(providerUrn);
      const node = plan.resources.find((r) => r.type === T.component);
      assert.ok(node);
      const children = plan.resources.filter((r) => r !== node && r.type !== T.provider);
      assert.equal(children.length, 11);
      for (const r of children) {
        assert.equal(r.parent, node.urn, r.urn);
        assert.equal(r.provider, providerUrn, `${r.urn} runs on the us-east-1 provider`);
      }
      for (const child of [component.canary, component.bucket, component.role, component.code]) {
        assert.equal(child.getProvider("aws:synthetics/canary:Canary"), provider, "inherited from the component");
      }
    });

    describe("refuses bad arguments, naming them", () => {
      const refused: [string, Partial<UiCanaryArgs>, RegExp][] = [
        [
          "a canary name over 21 characters",
          { names: { ...names("dev"), canary: "futures-ui-canary-devx" } },
          /canary name "futures-ui-canary-devx" must be 1-21/,
        ],
        ["an upper-case canary name", { names: { ...names("dev"), canary: "Futures-UI" } }, /canary name "Futures-UI"/],
        [
          "an invalid bucket name",
          { names: { ...names("dev"), bucket: "Futures_Synthetics" } },
          /bucket name "Futures_Synthetics"/,
        ],
        ["a plain-HTTP URL", { url: "http://futures.dev.lumerin.io" }, /must be https/],
        ["no URL at all", { url: "futures.dev.lumerin.io" }, /is not a URL/],
        ["credentials in the URL", { url: "https://user:pass@futures.dev.lumerin.io" }, /must not carry credentials/],
        ["retention beyond Synthetics' 455 days", { artifactRetentionDays: 456 }, /artifactRetentionDays 456/],
        ["no retention", { artifactRetentionDays: 0 }, /artifactRetentionDays 0/],
      ];
      for (const [what, overrides, message] of refused) {
        it(what, async () => assert.rejects(planOf("dev", overrides, []), message));
      }
    });
  });

  describe("the policy pack", () => {
    const shown = (vs: readonly PolicyViolation[]) =>
      vs.map((v) => `${v.level} ${v.policy} ${v.urn.split("::").pop()}: ${v.message}`);

    it("lmn: no violation at all; dev: only its unprotected bucket (protect is production's)", () => {
      assert.deepEqual(shown(plans.lmn.violations), []);
      assert.deepEqual(
        plans.dev.violations.map((v) => [v.level, v.policy, v.urn.split("::").pop()]),
        [["advisory", "stateful-resources-protected", "futures-ui-canary-bucket"]],
      );
    });

    it('its one "*" is PutMetricData, which names no resource, bounded to the CloudWatchSynthetics namespace (the pack accepts exactly that)', () => {
      assert.deepEqual(
        statements().filter((s) => s.Resource === "*"),
        [
          {
            Sid: "PutSyntheticsMetricsTakesNoResourceArn",
            Effect: "Allow",
            Action: ["cloudwatch:PutMetricData"],
            Resource: "*",
            Condition: { StringEquals: { "cloudwatch:namespace": "CloudWatchSynthetics" } },
          },
        ],
      );
    });
  });
});

// ---------------------------------------------------------------- the script's check, with a fake page

/** Child element counts by selector: what `document.querySelector` finds on the fake page. */
type Dom = Readonly<Record<string, number>>;

/** Runs a function written for the browser with a fake `document` in scope. */
function inBrowser<R>(dom: Dom, run: () => R): R {
  const global = globalThis as { document?: unknown };
  const before = global.document;
  global.document = {
    querySelector: (selector: string) => (selector in dom ? { childElementCount: dom[selector] } : null),
  };
  try {
    return run();
  } finally {
    if (before === undefined) delete global.document;
    else global.document = before;
  }
}

interface FakePage extends CheckedPage {
  readonly visits: { url: string; options: unknown }[];
}

function fakePage(dom: Dom, title = "Lumerin Futures", status: number | null = 200): FakePage {
  const visits: { url: string; options: unknown }[] = [];
  return {
    visits,
    goto: async (url, options) => {
      visits.push({ url, options });
      return status === null ? null : { status: () => status };
    },
    waitForFunction: async (fn, _options, selectors) => {
      if (!inBrowser(dom, () => fn(selectors))) throw new Error("Waiting failed: 15000ms exceeded");
      return true;
    },
    title: async () => title,
    evaluate: async (fn, selectors) => inBrowser(dom, () => fn(selectors)),
  };
}

function quietLog(): CheckLog & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, info: () => undefined, warn: (m) => warnings.push(m) };
}

describe("the canary script's page check (canary-script/index.js)", () => {
  const URL = "https://futures.dev.lumerin.io";

  it("passes a page with a title and a populated #root, after loading it with waitUntil load", async () => {
    const page = fakePage({ "#root": 3, body: 1 });
    const log = quietLog();
    assert.deepEqual(await script.checkPage(page, URL, { log }), {
      status: 200,
      title: "Lumerin Futures",
      selector: "#root",
      children: 3,
    });
    assert.deepEqual(page.visits, [{ url: URL, options: { waitUntil: "load", timeout: 30000 } }]);
    assert.deepEqual(log.warnings, []);
  });

  it("looks for #root, else #app, else body", async () => {
    assert.deepEqual(script.ROOT_SELECTORS, ["#root", "#app", "body"]);
    assert.equal((await script.checkPage(fakePage({ "#app": 2, body: 1 }), URL, { log: quietLog() })).selector, "#app");
    assert.equal((await script.checkPage(fakePage({ body: 4 }), URL, { log: quietLog() })).selector, "body");
  });

  const failing: [string, FakePage, RegExp][] = [
    ["an empty title", fakePage({ "#root": 3, body: 1 }, ""), /has no title/],
    ["a blank title", fakePage({ "#root": 3, body: 1 }, "  \n"), /has no title/],
    [
      "an empty #root (body's children do not count: it holds #root)",
      fakePage({ "#root": 0, body: 1 }),
      /#root has no child elements/,
    ],
    ["an empty #app", fakePage({ "#app": 0, body: 2 }), /#app has no child elements/],
    ["an empty body", fakePage({ body: 0 }), /body has no child elements/],
    ["no mount point at all", fakePage({}), /none of #root, #app, body is on the page/],
    ["an HTTP error", fakePage({ "#root": 3, body: 1 }, "Error", 503), /HTTP 503/],
    ["a redirect it could not follow", fakePage({ "#root": 3, body: 1 }, "Moved", 301), /HTTP 301/],
    ["no response", fakePage({ "#root": 3, body: 1 }, "x", null), /no response/],
  ];
  for (const [what, page, message] of failing) {
    it(`fails (throws) for ${what}`, async () =>
      assert.rejects(script.checkPage(page, URL, { log: quietLog() }), message));
  }

  it("says when the app did not mount in time, then judges the page", async () => {
    const log = quietLog();
    await assert.rejects(
      script.checkPage(fakePage({ "#root": 0, body: 1 }), URL, { log, renderTimeoutMs: 10 }),
      /#root has no child elements/,
    );
    assert.equal(log.warnings.length, 1);
    assert.match(log.warnings[0], /did not mount within 10 ms/);
  });

  it("its browser-side functions read the document they run in", () => {
    assert.equal(
      inBrowser({ "#root": 2, body: 1 }, () => script.rootHasChildren(script.ROOT_SELECTORS)),
      true,
    );
    assert.equal(
      inBrowser({ "#root": 0, body: 1 }, () => script.rootHasChildren(script.ROOT_SELECTORS)),
      false,
    );
    assert.equal(
      inBrowser({}, () => script.rootHasChildren(script.ROOT_SELECTORS)),
      false,
    );
    assert.deepEqual(
      inBrowser({ "#app": 5, body: 1 }, () => script.rootState(script.ROOT_SELECTORS)),
      { selector: "#app", children: 5 },
    );
    assert.equal(
      inBrowser({}, () => script.rootState(script.ROOT_SELECTORS)),
      null,
    );
  });

  describe("a run (runCanary, with fake Synthetics modules)", () => {
    const runtimeFor = (page: CheckedPage) => {
      const configs: Record<string, boolean>[] = [];
      const steps: string[] = [];
      const runtime: CanaryRuntime = {
        synthetics: {
          getConfiguration: () => ({ setConfig: (c: Record<string, boolean>) => configs.push(c) }),
          getPage: async () => page,
          executeStep: async <R>(name: string, step: () => Promise<R>) => {
            steps.push(name);
            return step();
          },
        },
        log: quietLog(),
      };
      return { runtime, configs, steps };
    };

    it("checks the URL from TARGET_URL in one step, with screenshots when it passes and when it fails", async () => {
      const page = fakePage({ "#root": 3, body: 1 });
      const { runtime, configs, steps } = runtimeFor(page);
      await script.runCanary(runtime, { TARGET_URL: URL });
      assert.deepEqual(configs, [
        { screenshotOnStepStart: false, screenshotOnStepSuccess: true, screenshotOnStepFailure: true },
      ]);
      assert.deepEqual(steps, ["loadFuturesUi"]);
      assert.deepEqual(
        page.visits.map((v) => v.url),
        [URL],
      );
    });

    it("fails the run when the page fails the check", async () => {
      const { runtime, steps } = runtimeFor(fakePage({ "#root": 0, body: 1 }));
      await assert.rejects(script.runCanary(runtime, { TARGET_URL: URL }), /#root has no child elements/);
      assert.deepEqual(steps, ["loadFuturesUi"]);
    });

    const badUrls: [string, Record<string, string>, RegExp][] = [
      ["no TARGET_URL", {}, /TARGET_URL is not set/],
      ["a plain-HTTP URL", { TARGET_URL: "http://futures.dev.lumerin.io" }, /is not https/],
      ["something that is no URL", { TARGET_URL: "futures.dev.lumerin.io" }, /is not a URL/],
    ];
    for (const [what, env, message] of badUrls) {
      it(`fails the run for ${what}, before opening a page`, async () => {
        const page = fakePage({ "#root": 3 });
        await assert.rejects(script.runCanary(runtimeFor(page).runtime, env), message);
        assert.deepEqual(page.visits, []);
      });
    }
  });
});
