import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { validationOptionFor } from "../components/dns-certificate";
import {
  CACHING_OPTIMIZED_POLICY_ID,
  CLOUDFRONT_HOSTED_ZONE_ID,
  FuturesUi,
  FuturesUiArgs,
  siteRecords,
} from "../components/futures/ui";
import { futuresNames } from "../lib/naming";
import { RULES } from "../policy/rules";
import type { CapturedResource, Plan } from "../tools/harness";
import { ACCOUNT, REGION, evaluateProgram } from "./support/policy";
import { doc, resource, resourcesOfType } from "./support/plan";

type Stack = "dev" | "lmn";
const STACKS = ["dev", "lmn"] as const;
/** What the environment table gives each stack (docs/estate.md). */
const SITE = {
  dev: {
    zone: "dev.lumerin.io",
    zoneId: "Z0DEVLUMERINIO",
    site: "futures.dev.lumerin.io",
    bucket: "s3futures.dev.lumerin.io",
  },
  lmn: { zone: "lumerin.io", zoneId: "Z0LUMERINIO", site: "futures.lumerin.io", bucket: "s3futures.lumerin.io" },
} as const;
const DNS_ACCOUNT = "999988887777";

const T = {
  bucket: "aws:s3/bucket:Bucket",
  policy: "aws:s3/bucketPolicy:BucketPolicy",
  block: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
  ownership: "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
  versioning: "aws:s3/bucketVersioning:BucketVersioning",
  encryption: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  lifecycle: "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
  distribution: "aws:cloudfront/distribution:Distribution",
  oac: "aws:cloudfront/originAccessControl:OriginAccessControl",
  headers: "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy",
  waf: "aws:wafv2/webAcl:WebAcl",
  certificate: "aws:acm/certificate:Certificate",
  validation: "aws:acm/certificateValidation:CertificateValidation",
  record: "aws:route53/record:Record",
  provider: "pulumi:providers:aws",
} as const;

function args(
  stack: Stack,
  globalProvider: aws.Provider,
  dnsProvider: aws.Provider | undefined,
  overrides: Partial<FuturesUiArgs> = {},
): FuturesUiArgs {
  const s = SITE[stack];
  const names = futuresNames(stack).ui;
  return {
    aws: { accountId: ACCOUNT, region: REGION, partition: "aws" },
    globalProvider,
    dns: { zoneId: s.zoneId, zoneName: s.zone, ...(dnsProvider ? { provider: dnsProvider } : {}) },
    siteName: s.site,
    bucketName: s.bucket,
    originAccessControlName: names.originAccessControl,
    webAclName: names.webAcl,
    responseHeadersPolicyName: names.responseHeadersPolicy,
    priceClass: "PriceClass_200",
    rateLimitPer5Minutes: 2000,
    protect: stack === "lmn",
    ...overrides,
  };
}

/** The stack's program: a us-east-1 provider, in lmn a provider for the zone's account, and the component. */
function program(stack: Stack, overrides: Partial<FuturesUiArgs> = {}) {
  return () => {
    const globalProvider = new aws.Provider("us-east-1", { region: "us-east-1" });
    // lmn's zone (lumerin.io) lives in titanio-prd.
    const dnsProvider =
      stack === "lmn"
        ? new aws.Provider("lumerin-io-zone", {
            region: REGION,
            assumeRoles: [{ roleArn: `arn:aws:iam::${DNS_ACCOUNT}:role/route53-records` }],
          })
        : undefined;
    const ui = new FuturesUi("futures-ui", args(stack, globalProvider, dnsProvider, overrides));
    return {
      bucketName: ui.bucketName,
      bucketArn: ui.bucketArn,
      distributionId: ui.distributionId,
      distributionArn: ui.distributionArn,
      webAclArn: ui.webAclArn,
      certificateArn: ui.certificateArn,
      siteUrl: ui.siteUrl,
      deployBucketArn: ui.deployable.bucketArn,
      deployDistributionArn: ui.deployable.distributionArn,
    };
  };
}

const urnOf = (plan: Plan, type: string, name: string) => resource(plan, type, name).urn;
const onlyOne = (plan: Plan, type: string): CapturedResource => {
  const all = resourcesOfType(plan, type);
  assert.equal(all.length, 1, `one ${type}, found ${all.map((r) => r.name).join(", ")}`);
  return all[0];
};

describe("FuturesUi", () => {
  const evaluated = {} as Record<Stack, { plan: Plan; mandatory: string[]; advisory: string[] }>;
  before(async () => {
    for (const stack of STACKS) {
      const { plan, violations } = await evaluateProgram(RULES, program(stack), { stack });
      const show = (level: string) =>
        violations.filter((v) => v.level === level).map((v) => `${v.policy}: ${v.message}`);
      evaluated[stack] = { plan, mandatory: show("mandatory"), advisory: show("advisory") };
    }
  });

  describe("bucket", () => {
    it("is named as the live bucket, and protected in lmn only", () => {
      for (const stack of STACKS) {
        const bucket = resource(evaluated[stack].plan, T.bucket, "futures-ui-bucket");
        assert.equal(bucket.inputs.bucket, SITE[stack].bucket);
        assert.equal(bucket.options.protect, stack === "lmn", stack);
      }
    });

    it("blocks all public access and disables ACLs (bucket owner enforced)", () => {
      const plan = evaluated.dev.plan;
      const block = onlyOne(plan, T.block);
      assert.deepEqual(
        [
          block.inputs.bucket,
          block.inputs.blockPublicAcls,
          block.inputs.blockPublicPolicy,
          block.inputs.ignorePublicAcls,
          block.inputs.restrictPublicBuckets,
        ],
        [SITE.dev.bucket, true, true, true, true],
      );
      const ownership = onlyOne(plan, T.ownership);
      assert.deepEqual(
        [ownership.inputs.bucket, ownership.inputs.rule],
        [SITE.dev.bucket, { objectOwnership: "BucketOwnerEnforced" }],
      );
    });

    it("is versioned, encrypted, and expires noncurrent versions after the rollback window", () => {
      const plan = evaluated.dev.plan;
      const versioning = onlyOne(plan, T.versioning);
      assert.deepEqual(
        [versioning.inputs.bucket, versioning.inputs.versioningConfiguration],
        [SITE.dev.bucket, { status: "Enabled" }],
      );
      const encryption = onlyOne(plan, T.encryption);
      assert.deepEqual(encryption.inputs.rules, [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }]);
      const lifecycle = onlyOne(plan, T.lifecycle);
      const [rule] = lifecycle.inputs.rules as Record<string, unknown>[];
      assert.deepEqual(
        [rule.status, rule.noncurrentVersionExpiration, rule.abortIncompleteMultipartUpload, rule.expiration],
        ["Enabled", { noncurrentDays: 30 }, { daysAfterInitiation: 7 }, { expiredObjectDeleteMarker: true }],
      );
      assert.deepEqual(lifecycle.options.dependsOn, [versioning.urn]);
    });

    it("lets only this distribution read objects (OAC), and denies every request without TLS", () => {
      for (const stack of STACKS) {
        const plan = evaluated[stack].plan;
        const bucketArn = `arn:aws:s3:::${SITE[stack].bucket}`;
        const distributionArn = resource(plan, T.distribution, "futures-ui-distribution").outputs.arn as string;
        assert.match(distributionArn, /^arn:aws:cloudfront:/);
        const policy = onlyOne(plan, T.policy);
        assert.equal(policy.inputs.bucket, SITE[stack].bucket);
        const parsed = doc(
          typeof policy.inputs.policy === "string" ? policy.inputs.policy : JSON.stringify(policy.inputs.policy),
        );
        assert.deepEqual(parsed.Statement, [
          {
            Sid: "CloudFrontReadsObjectsForThisDistributionOnly",
            Effect: "Allow",
            Principal: { Service: "cloudfront.amazonaws.com" },
            Action: ["s3:GetObject"],
            Resource: [`${bucketArn}/*`],
            Condition: { StringEquals: { "AWS:SourceArn": distributionArn } },
          },
          {
            Sid: "DenyRequestsWithoutTls",
            Effect: "Deny",
            Principal: "*",
            Action: ["s3:*"],
            Resource: [bucketArn, `${bucketArn}/*`],
            Condition: { Bool: { "aws:SecureTransport": "false" } },
          },
        ]);
        // No listing: a missing key is a 403, which the SPA routing answers.
        assert.ok(!JSON.stringify(parsed).includes("s3:ListBucket"));
        assert.deepEqual(policy.options.dependsOn, [
          urnOf(plan, T.block, "futures-ui-bucket-public-access"),
          urnOf(plan, T.ownership, "futures-ui-bucket-ownership"),
        ]);
      }
    });
  });

  describe("distribution", () => {
    it("serves HTTPS only, TLS 1.2+ with SNI, HTTP/2 and HTTP/3, IPv6, with the validated certificate", () => {
      const plan = evaluated.dev.plan;
      const d = resource(plan, T.distribution, "futures-ui-distribution").inputs;
      const cert = resource(plan, T.certificate, "futures-ui-certificate");
      assert.deepEqual(d.viewerCertificate, {
        acmCertificateArn: cert.outputs.arn,
        sslSupportMethod: "sni-only",
        minimumProtocolVersion: "TLSv1.2_2021",
      });
      assert.equal(
        (d.viewerCertificate as { cloudfrontDefaultCertificate?: boolean }).cloudfrontDefaultCertificate,
        undefined,
      );
      assert.deepEqual([d.httpVersion, d.isIpv6Enabled, d.enabled], ["http2and3", true, true]);
      assert.deepEqual(d.aliases, ["futures.dev.lumerin.io", "s3futures.dev.lumerin.io"]);
      assert.deepEqual([d.defaultRootObject, d.priceClass], ["index.html", "PriceClass_200"]);
      assert.deepEqual(d.restrictions, { geoRestriction: { restrictionType: "none" } });
      assert.equal(d.loggingConfig, undefined, "no access logs unless a log bucket is given");
    });

    it("reads the bucket through its origin access control (s3, always, sigv4)", () => {
      const plan = evaluated.dev.plan;
      const d = resource(plan, T.distribution, "futures-ui-distribution").inputs;
      const oac = onlyOne(plan, T.oac);
      assert.deepEqual(
        [
          oac.inputs.name,
          oac.inputs.originAccessControlOriginType,
          oac.inputs.signingBehavior,
          oac.inputs.signingProtocol,
        ],
        ["titanio-dev-s3futures", "s3", "always", "sigv4"],
      );
      assert.deepEqual(d.origins, [
        {
          originId: "titanio-dev-s3futures",
          domainName: `${SITE.dev.bucket}.s3.${REGION}.amazonaws.com`,
          originAccessControlId: oac.id,
        },
      ]);
    });

    it("caches GET/HEAD only, by the managed CachingOptimized policy (no legacy forwarded values), with the security headers", () => {
      const plan = evaluated.dev.plan;
      const d = resource(plan, T.distribution, "futures-ui-distribution").inputs;
      const headers = onlyOne(plan, T.headers);
      assert.deepEqual(d.defaultCacheBehavior, {
        targetOriginId: "titanio-dev-s3futures",
        viewerProtocolPolicy: "redirect-to-https",
        allowedMethods: ["GET", "HEAD"],
        cachedMethods: ["GET", "HEAD"],
        compress: true,
        cachePolicyId: CACHING_OPTIMIZED_POLICY_ID,
        responseHeadersPolicyId: headers.id,
      });
      assert.equal(CACHING_OPTIMIZED_POLICY_ID, "658327ea-f89d-4fab-a63d-7e88639e58f6");
      assert.equal(d.orderedCacheBehaviors, undefined);
    });

    it("answers the origin's 403 and 404 with /index.html and 200 (SPA routing)", () => {
      const d = resource(evaluated.dev.plan, T.distribution, "futures-ui-distribution").inputs;
      assert.deepEqual(d.customErrorResponses, [
        { errorCode: 403, responseCode: 200, responsePagePath: "/index.html", errorCachingMinTtl: 10 },
        { errorCode: 404, responseCode: 200, responsePagePath: "/index.html", errorCachingMinTtl: 10 },
      ]);
    });

    it("sends HSTS (2 years, subdomains, preload), nosniff, frame DENY and a strict referrer policy", () => {
      const headers = onlyOne(evaluated.dev.plan, T.headers);
      assert.equal(headers.inputs.name, "futures-ui-dev-security-headers");
      assert.deepEqual(headers.inputs.securityHeadersConfig, {
        strictTransportSecurity: {
          accessControlMaxAgeSec: 63072000,
          includeSubdomains: true,
          preload: true,
          override: true,
        },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: "DENY", override: true },
        referrerPolicy: { referrerPolicy: "strict-origin-when-cross-origin", override: true },
      });
      const hsts = (
        headers.inputs.securityHeadersConfig as { strictTransportSecurity: { accessControlMaxAgeSec: number } }
      ).strictTransportSecurity;
      assert.ok(hsts.accessControlMaxAgeSec >= 31536000, "HSTS max-age is at least a year");
    });

    it("is disabled rather than deleted if removed in lmn (retainOnDelete), deleted in dev", () => {
      assert.equal(resource(evaluated.lmn.plan, T.distribution, "futures-ui-distribution").inputs.retainOnDelete, true);
      assert.equal(
        resource(evaluated.dev.plan, T.distribution, "futures-ui-distribution").inputs.retainOnDelete,
        false,
      );
    });

    it("writes access logs only where a log bucket is given", async () => {
      const { plan } = await evaluateProgram(
        [],
        program("dev", {
          accessLogs: { bucketDomainName: "titanio-dev-devops.s3.amazonaws.com", prefix: "s3futures.dev.lumerin.io/" },
        }),
      );
      assert.deepEqual(resource(plan, T.distribution, "futures-ui-distribution").inputs.loggingConfig, {
        bucket: "titanio-dev-devops.s3.amazonaws.com",
        prefix: "s3futures.dev.lumerin.io/",
        includeCookies: false,
      });
    });
  });

  describe("WAF", () => {
    it("is a CLOUDFRONT web ACL made in us-east-1 and attached to the distribution", () => {
      for (const stack of STACKS) {
        const plan = evaluated[stack].plan;
        const waf = onlyOne(plan, T.waf);
        assert.deepEqual(
          [waf.inputs.name, waf.inputs.scope, waf.inputs.defaultAction],
          [`futures-ui-${stack}`, "CLOUDFRONT", { allow: {} }],
        );
        assert.equal(waf.provider, urnOf(plan, T.provider, "us-east-1"));
        assert.equal(resource(plan, T.distribution, "futures-ui-distribution").inputs.webAclId, waf.outputs.arn);
        assert.match(String(waf.outputs.arn), /^arn:aws:wafv2:/);
      }
    });

    it("runs the IP reputation list, a per-IP rate limit, the common and the known-bad-inputs rule sets, each with metrics", () => {
      const waf = onlyOne(evaluated.dev.plan, T.waf).inputs;
      const rules = waf.rules as {
        name: string;
        priority: number;
        action?: unknown;
        overrideAction?: unknown;
        statement: { managedRuleGroupStatement?: { vendorName: string; name: string }; rateBasedStatement?: unknown };
        visibilityConfig: unknown;
      }[];
      assert.deepEqual(
        rules.map((r) => [r.priority, r.name]),
        [
          [0, "AWSManagedRulesAmazonIpReputationList"],
          [1, "RateLimitPerIp"],
          [2, "AWSManagedRulesCommonRuleSet"],
          [3, "AWSManagedRulesKnownBadInputsRuleSet"],
        ],
      );
      for (const r of rules.filter((x) => x.statement.managedRuleGroupStatement)) {
        assert.deepEqual(r.statement.managedRuleGroupStatement, { vendorName: "AWS", name: r.name });
        assert.deepEqual(r.overrideAction, { none: {} }, `${r.name} enforces its own actions (not count)`);
        assert.equal(r.action, undefined);
      }
      const rate = rules[1];
      assert.deepEqual(rate.statement.rateBasedStatement, {
        aggregateKeyType: "IP",
        limit: 2000,
        evaluationWindowSec: 300,
      });
      assert.deepEqual(rate.action, { block: {} });
      for (const r of rules) {
        assert.deepEqual(r.visibilityConfig, {
          cloudwatchMetricsEnabled: true,
          sampledRequestsEnabled: true,
          metricName: `futures-ui-dev-${r.name}`,
        });
      }
      assert.deepEqual(waf.visibilityConfig, {
        cloudwatchMetricsEnabled: true,
        sampledRequestsEnabled: true,
        metricName: "futures-ui-dev",
      });
    });
  });

  describe("certificate", () => {
    it("is issued in us-east-1 for exactly the two names, and validated by DNS in the zone", () => {
      for (const stack of STACKS) {
        const plan = evaluated[stack].plan;
        const global = urnOf(plan, T.provider, "us-east-1");
        const cert = onlyOne(plan, T.certificate);
        assert.equal(cert.provider, global, "CloudFront takes certificates from us-east-1 only");
        assert.deepEqual(
          [cert.inputs.domainName, cert.inputs.subjectAlternativeNames, cert.inputs.validationMethod],
          [SITE[stack].site, [SITE[stack].bucket], "DNS"],
        );

        const records = ["site", "bucket"].map((key) =>
          resource(plan, T.record, `futures-ui-certificate-validation-${key}`),
        );
        const zoneProvider = stack === "lmn" ? urnOf(plan, T.provider, "lumerin-io-zone") : undefined;
        const options = cert.outputs.domainValidationOptions as {
          domainName: string;
          resourceRecordName: string;
          resourceRecordType: string;
          resourceRecordValue: string;
        }[];
        records.forEach((r, i) => {
          assert.deepEqual(
            [r.inputs.zoneId, r.inputs.ttl, r.inputs.allowOverwrite, r.provider],
            [SITE[stack].zoneId, 300, true, zoneProvider],
          );
          // Each record is ACM's answer for its own name (site first, then bucket).
          const option = options.find((o) => o.domainName === [SITE[stack].site, SITE[stack].bucket][i]);
          assert.deepEqual(
            [r.inputs.name, r.inputs.type, r.inputs.records],
            [option?.resourceRecordName, "CNAME", [option?.resourceRecordValue]],
          );
        });
        const validation = onlyOne(plan, T.validation);
        assert.equal(validation.provider, global);
        assert.equal(validation.inputs.certificateArn, cert.outputs.arn);
        assert.deepEqual(
          validation.options.dependsOn,
          records.map((r) => r.urn),
        );
      }
    });

    it("takes each name's validation record from ACM's answer for that name", () => {
      const options = [
        {
          domainName: "futures.lumerin.io",
          resourceRecordName: "_a1.futures.lumerin.io.",
          resourceRecordType: "CNAME",
          resourceRecordValue: "_b1.acm-validations.aws.",
        },
        {
          domainName: "s3futures.lumerin.io",
          resourceRecordName: "_a2.s3futures.lumerin.io.",
          resourceRecordType: "CNAME",
          resourceRecordValue: "_b2.acm-validations.aws.",
        },
      ];
      assert.equal(
        validationOptionFor(options, "s3futures.lumerin.io")?.resourceRecordName,
        "_a2.s3futures.lumerin.io.",
      );
      assert.equal(validationOptionFor(options, "futures.lumerin.io")?.resourceRecordValue, "_b1.acm-validations.aws.");
      assert.equal(validationOptionFor(undefined, "futures.lumerin.io"), undefined);
    });
  });

  describe("DNS", () => {
    it("points A and AAAA aliases for the site and bucket names at the distribution, in the zone's account", () => {
      for (const stack of STACKS) {
        const plan = evaluated[stack].plan;
        const distribution = resource(plan, T.distribution, "futures-ui-distribution");
        const zoneProvider = stack === "lmn" ? urnOf(plan, T.provider, "lumerin-io-zone") : undefined;
        const aliases = ["site-a", "site-aaaa", "bucket-a", "bucket-aaaa"].map((key) =>
          resource(plan, T.record, `futures-ui-${key}`),
        );
        assert.deepEqual(
          aliases.map((r) => [r.inputs.name, r.inputs.type, r.inputs.zoneId, r.provider]),
          [
            [SITE[stack].site, "A", SITE[stack].zoneId, zoneProvider],
            [SITE[stack].site, "AAAA", SITE[stack].zoneId, zoneProvider],
            [SITE[stack].bucket, "A", SITE[stack].zoneId, zoneProvider],
            [SITE[stack].bucket, "AAAA", SITE[stack].zoneId, zoneProvider],
          ],
        );
        const target = { name: distribution.outputs.domainName };
        assert.match(String(target.name), /^d[0-9a-f]+\.cloudfront\.net$/);
        for (const r of aliases) {
          // Route 53 refuses EvaluateTargetHealth=true for a CloudFront target.
          assert.deepEqual(r.inputs.aliases, [
            { ...target, zoneId: CLOUDFRONT_HOSTED_ZONE_ID, evaluateTargetHealth: false },
          ]);
          assert.equal(r.inputs.records, undefined);
        }
        assert.equal(
          resourcesOfType(plan, T.record).length,
          6,
          "four aliases and two validation records, nothing else",
        );
      }
    });

    it("refuses names outside the zone their records go to", async () => {
      await assert.rejects(
        evaluateProgram([], program("dev", { siteName: "futures.lumerin.io" })),
        /siteName "futures\.lumerin\.io" is not inside the zone dev\.lumerin\.io/,
      );
    });
  });

  it("exposes what the deploy role and the GitHub variables need", () => {
    for (const stack of STACKS) {
      const plan = evaluated[stack].plan;
      const distribution = resource(plan, T.distribution, "futures-ui-distribution");
      assert.deepEqual(plan.outputs, {
        bucketName: SITE[stack].bucket,
        bucketArn: `arn:aws:s3:::${SITE[stack].bucket}`,
        distributionId: distribution.id,
        distributionArn: distribution.outputs.arn,
        webAclArn: onlyOne(plan, T.waf).outputs.arn,
        certificateArn: onlyOne(plan, T.certificate).outputs.arn,
        siteUrl: `https://${SITE[stack].site}`,
        deployBucketArn: `arn:aws:s3:::${SITE[stack].bucket}`,
        deployDistributionArn: distribution.outputs.arn,
      });
    }
  });

  it("keeps every child under the component", () => {
    const plan = evaluated.dev.plan;
    const component = resource(plan, "lumerin:futures:FuturesUi", "futures-ui");
    for (const r of plan.resources.filter((x) => x.type !== T.provider && x !== component))
      assert.equal(r.parent, component.urn, r.name);
  });

  for (const stack of STACKS) {
    it(`${stack}: passes the whole policy pack (no mandatory violation)`, () =>
      assert.deepEqual(evaluated[stack].mandatory, []));
  }

  it("reports as advisory only that dev does not protect its bucket", () => {
    assert.deepEqual(evaluated.lmn.advisory, []);
    assert.equal(evaluated.dev.advisory.length, 1, evaluated.dev.advisory.join("\n"));
    assert.match(
      evaluated.dev.advisory[0],
      /^stateful-resources-protected: Bucket futures-ui-bucket is not protected\b/,
    );
  });
});

describe("FuturesUi's steps", () => {
  const target = {
    domainName: pulumi.output("d111.cloudfront.net"),
    hostedZoneId: pulumi.output(CLOUDFRONT_HOSTED_ZONE_ID),
  };
  const hosts = { siteName: SITE.dev.site, bucketName: SITE.dev.bucket };

  it("siteRecords: A and AAAA aliases of both names to the distribution, named <name>-<site|bucket>-<a|aaaa>, in the zone", async () => {
    let returned = -1;
    const { plan } = await evaluateProgram([], () => {
      const parent = new pulumi.ComponentResource("test:index:Parent", "parent");
      const dns = { zoneId: SITE.dev.zoneId, zoneName: SITE.dev.zone };
      returned = siteRecords("ui", { dns, ...hosts }, target, parent).length;
    });
    assert.equal(returned, 4);
    const records = resourcesOfType(plan, T.record);
    assert.deepEqual(
      records.map((r) => [r.name, r.inputs.name, r.inputs.type, r.inputs.zoneId]),
      [
        ["ui-site-a", SITE.dev.site, "A", SITE.dev.zoneId],
        ["ui-site-aaaa", SITE.dev.site, "AAAA", SITE.dev.zoneId],
        ["ui-bucket-a", SITE.dev.bucket, "A", SITE.dev.zoneId],
        ["ui-bucket-aaaa", SITE.dev.bucket, "AAAA", SITE.dev.zoneId],
      ],
    );
    for (const r of records)
      assert.deepEqual(r.inputs.aliases, [
        { name: "d111.cloudfront.net", zoneId: CLOUDFRONT_HOSTED_ZONE_ID, evaluateTargetHealth: false },
      ]);
  });

  it("siteRecords: while the zone's role is pending, registers none and lists each one withheld", async () => {
    const withheld: string[] = [];
    let returned = -1;
    const { plan } = await evaluateProgram([], () => {
      const parent = new pulumi.ComponentResource("test:index:Parent", "parent");
      returned = siteRecords("ui", { dns: { zoneName: SITE.dev.zone, withheld }, ...hosts }, target, parent).length;
    });
    assert.equal(returned, 0);
    assert.deepEqual(resourcesOfType(plan, T.record), []);
    assert.deepEqual(withheld, [
      `${SITE.dev.site} A`,
      `${SITE.dev.site} AAAA`,
      `${SITE.dev.bucket} A`,
      `${SITE.dev.bucket} AAAA`,
    ]);
  });
});
