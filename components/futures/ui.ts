import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { AwsContext, denyWithoutTls, resourcePolicyDocument } from "../../lib/iam";
import type { DeployableSite } from "../deploy-identity";
import { privateBucket } from "../private-bucket";
import { dnsValidatedCertificate } from "../dns-certificate";
import { DnsTarget, zoneRecord } from "../dns-zone";

/**
 * CloudFront's managed cache policy "Managed-CachingOptimized" (no cookies,
 * headers or query strings in the cache key; gzip and brotli; TTL 1 s / 1 day /
 * 1 year). The id is the one AWS documents ("Use managed cache policies") and is
 * the same in every account, so no lookup is needed.
 */
export const CACHING_OPTIMIZED_POLICY_ID = "658327ea-f89d-4fab-a63d-7e88639e58f6";

/**
 * The hosted zone of every CloudFront distribution in the `aws` partition, as the
 * Route 53 API reference documents for alias targets; the distribution's
 * `hostedZoneId` output always has this value. Spelled so a reviewer (and the
 * spec) can see where the alias points.
 */
export const CLOUDFRONT_HOSTED_ZONE_ID = "Z2FDTNDATAQYW2";

/** The AWS managed rule groups the web ACL evaluates, in priority order after the IP reputation list and the rate rule. */
export const FUTURES_UI_WAF_RULES = [
  // Known bad actors first: the cheapest rule (25 WCU), and what it blocks never counts towards a rate.
  { priority: 0, name: "AWSManagedRulesAmazonIpReputationList" },
  { priority: 1, name: "RateLimitPerIp" },
  { priority: 2, name: "AWSManagedRulesCommonRuleSet" },
  { priority: 3, name: "AWSManagedRulesKnownBadInputsRuleSet" },
] as const;

export type CloudFrontPriceClass = "PriceClass_100" | "PriceClass_200" | "PriceClass_All";

export interface FuturesUiArgs {
  /** Account, region and partition of the stack (the default provider's). */
  readonly aws: AwsContext;
  /**
   * A provider in us-east-1. CloudFront accepts only certificates from ACM in
   * us-east-1 and web ACLs of scope CLOUDFRONT created there; both are made with
   * it. Everything else uses the stack's default provider.
   */
  readonly globalProvider: aws.Provider;
  /**
   * The public zone the site's names live in: the certificate's DNS-validation
   * records and the alias records go there, with `dns.provider` when the zone is
   * in another account (lmn: `lumerin.io` in titanio-prd).
   */
  readonly dns: DnsTarget;
  /** The site's host name: `futures.dev.lumerin.io`; `futures.lumerin.io` in lmn. Must be inside `dns.zoneName`. */
  readonly siteName: string;
  /**
   * The bucket's name, also the distribution's second alias, as the live estate
   * has it (docs/estate.md): `s3futures.dev.lumerin.io`; `s3futures.lumerin.io`
   * in lmn. Must be inside `dns.zoneName`.
   */
  readonly bucketName: string;
  /** Origin access control name, also the origin id: `titanio-<env>-s3futures` (docs/estate.md). */
  readonly originAccessControlName: string;
  /** WAFv2 web ACL name, also its CloudWatch metric name: `futures-ui-<env>`. */
  readonly webAclName: string;
  /** Response-headers policy name (unique per account): e.g. `futures-ui-<env>-security-headers`. */
  readonly responseHeadersPolicyName: string;
  /** Edge locations served. Default `PriceClass_200` (as today). */
  readonly priceClass?: CloudFrontPriceClass;
  /** WAF: requests one client IP may make in any 5 minutes before it is blocked. Example: 2000. */
  readonly rateLimitPer5Minutes: number;
  /**
   * Cache policy of the default behaviour. Default: the managed CachingOptimized
   * ({@link CACHING_OPTIMIZED_POLICY_ID}); TTLs come from the policy, not from
   * legacy `forwardedValues`. The deploy invalidates after each sync, so the long
   * default TTL never serves a stale `index.html` beyond an invalidation.
   */
  readonly cachePolicyId?: pulumi.Input<string>;
  /** Seconds CloudFront caches the SPA's `/index.html` answer to an origin 403/404. Default 10. */
  readonly errorCachingMinTtl?: number;
  /** Days a replaced or deleted object version is kept (rollback window) before S3 expires it. Default 30. */
  readonly noncurrentVersionDays?: number;
  /**
   * CloudFront standard access logs, off when absent. The target bucket must
   * allow ACLs (legacy CloudFront logging writes with the awslogsdelivery ACL).
   * Example: `{ bucketDomainName: "titanio-dev-devops.s3.amazonaws.com", prefix: "s3futures.dev.lumerin.io/" }`.
   */
  readonly accessLogs?: { readonly bucketDomainName: pulumi.Input<string>; readonly prefix: string };
  /**
   * Production: `protect` on the bucket (the published site and its versions),
   * and the distribution is disabled rather than deleted if it is ever removed
   * from the program (its `retainOnDelete`, as the live Terraform sets).
   */
  readonly protect: boolean;
}

/**
 * The futures trading UI: a private, versioned S3 bucket
 * that only this CloudFront distribution can read (Origin Access Control,
 * SigV4), served over HTTPS only (TLS 1.2+, HTTP/2 and HTTP/3) with security
 * headers and SPA routing, behind a WAFv2 web ACL (AWS managed rules and a
 * per-IP rate limit), with a DNS-validated ACM certificate from us-east-1 and
 * A/AAAA alias records for the site and bucket names.
 *
 * Departures from the live Terraform (docs/estate.md): GET/HEAD only (a static
 * site takes no POST/PUT/DELETE), a managed cache policy instead of legacy
 * `forwardedValues`, 403 and 404 map to `/index.html` (not 400 and 403), a
 * response-headers policy, TLS-only bucket access, its own certificate for
 * exactly its two names instead of the zone's, its own web ACL, and
 * `evaluateTargetHealth: false` on the aliases (Route 53 refuses true for a
 * CloudFront target).
 */
export class FuturesUi extends pulumi.ComponentResource {
  readonly bucket: aws.s3.Bucket;
  readonly distribution: aws.cloudfront.Distribution;
  readonly webAcl: aws.wafv2.WebAcl;
  readonly certificate: aws.acm.Certificate;
  readonly responseHeadersPolicy: aws.cloudfront.ResponseHeadersPolicy;

  readonly bucketName: pulumi.Output<string>;
  readonly bucketArn: pulumi.Output<string>;
  readonly distributionId: pulumi.Output<string>;
  readonly distributionArn: pulumi.Output<string>;
  /** `dxxxxxxxx.cloudfront.net`. */
  readonly distributionDomainName: pulumi.Output<string>;
  readonly webAclArn: pulumi.Output<string>;
  /** The validated certificate's ARN (us-east-1). */
  readonly certificateArn: pulumi.Output<string>;
  /** The site's host name (`futures.dev.lumerin.io`), which the monitoring checks. */
  readonly siteName: string;
  /** `https://<siteName>`. */
  readonly siteUrl: string;
  /**
   * What the UI's deploy role needs, in the deploy-identity's shape: it grants
   * `s3:ListBucket` on the bucket, `s3:PutObject`/`s3:DeleteObject` on its
   * objects and `cloudfront:CreateInvalidation`/`GetInvalidation` on this
   * distribution, nothing more.
   */
  readonly deployable: DeployableSite;

  constructor(name: string, args: FuturesUiArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lumerin:futures:FuturesUi", name, {}, opts);
    validate(args);
    const parent = { parent: this };
    const global = { parent: this, provider: args.globalProvider };

    // ---------------------------------------------------------------- bucket
    // SSE-S3, not a CMK: the objects are the public site's assets (no confidentiality
    // to add), and OAC reads SSE-KMS objects only if the key policy also lets
    // cloudfront.amazonaws.com decrypt; SSE-S3 needs no cross-service key grant.
    const site = privateBucket(
      name,
      {
        bucketName: args.bucketName,
        protect: args.protect,
        lifecycleRules: [
          {
            id: "expire-noncurrent-versions",
            status: "Enabled",
            filter: {},
            // Every sync replaces the hashed bundles; old versions are the rollback window, not an archive.
            noncurrentVersionExpiration: { noncurrentDays: args.noncurrentVersionDays ?? 30 },
            expiration: { expiredObjectDeleteMarker: true },
            abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
          },
        ],
      },
      this,
    );
    this.bucket = site.bucket;
    const bucketId = this.bucket.id;

    // ---------------------------------------------------------------- certificate (us-east-1, DNS-validated)
    const names = [
      { key: "site", host: args.siteName },
      { key: "bucket", host: args.bucketName },
    ] as const;
    const issued = dnsValidatedCertificate(name, {
      names,
      dns: args.dns,
      provider: args.globalProvider,
      parent: this,
    });
    this.certificate = issued.certificate;

    // ---------------------------------------------------------------- WAF (scope CLOUDFRONT lives in us-east-1)
    const visibility = (metricName: string) => ({
      cloudwatchMetricsEnabled: true,
      sampledRequestsEnabled: true,
      metricName,
    });
    const managed = (rule: (typeof FUTURES_UI_WAF_RULES)[number]) => ({
      name: rule.name,
      priority: rule.priority,
      // "none": the group's own actions (block) apply; "count" would only observe.
      overrideAction: { none: {} },
      statement: { managedRuleGroupStatement: { vendorName: "AWS", name: rule.name } },
      visibilityConfig: visibility(`${args.webAclName}-${rule.name}`),
    });
    const [ipReputation, rateRule, common, knownBadInputs] = FUTURES_UI_WAF_RULES;
    this.webAcl = new aws.wafv2.WebAcl(
      `${name}-waf`,
      {
        name: args.webAclName,
        description: `${args.siteName}: AWS managed rules and a per-IP rate limit`,
        scope: "CLOUDFRONT",
        defaultAction: { allow: {} },
        rules: [
          managed(ipReputation),
          {
            name: rateRule.name,
            priority: rateRule.priority,
            action: { block: {} },
            statement: {
              rateBasedStatement: {
                aggregateKeyType: "IP",
                limit: args.rateLimitPer5Minutes,
                evaluationWindowSec: 300,
              },
            },
            visibilityConfig: visibility(`${args.webAclName}-${rateRule.name}`),
          },
          managed(common),
          managed(knownBadInputs),
        ],
        visibilityConfig: visibility(args.webAclName),
      },
      global,
    );

    // ---------------------------------------------------------------- distribution
    const originAccessControl = new aws.cloudfront.OriginAccessControl(
      `${name}-oac`,
      {
        name: args.originAccessControlName,
        description: `${args.siteName} reads ${args.bucketName}`,
        originAccessControlOriginType: "s3",
        signingBehavior: "always",
        signingProtocol: "sigv4",
      },
      parent,
    );
    const year = 365 * 24 * 60 * 60;
    this.responseHeadersPolicy = new aws.cloudfront.ResponseHeadersPolicy(
      `${name}-security-headers`,
      {
        name: args.responseHeadersPolicyName,
        comment: `${args.siteName}: HSTS, nosniff, frame DENY, referrer policy`,
        // No Content-Security-Policy: the app's script, RPC, subgraph and wallet origins
        // are the application's to list; a guessed CSP would break the trading UI.
        securityHeadersConfig: {
          strictTransportSecurity: {
            accessControlMaxAgeSec: 2 * year,
            includeSubdomains: true,
            preload: true,
            override: true,
          },
          contentTypeOptions: { override: true },
          frameOptions: { frameOption: "DENY", override: true },
          referrerPolicy: { referrerPolicy: "strict-origin-when-cross-origin", override: true },
        },
      },
      parent,
    );

    const originId = args.originAccessControlName;
    this.distribution = new aws.cloudfront.Distribution(
      `${name}-distribution`,
      {
        enabled: true,
        comment: `${args.siteName} (futures trading UI)`,
        aliases: [args.siteName, args.bucketName],
        defaultRootObject: "index.html",
        httpVersion: "http2and3",
        isIpv6Enabled: true,
        priceClass: args.priceClass ?? "PriceClass_200",
        webAclId: this.webAcl.arn,
        origins: [
          { originId, domainName: this.bucket.bucketRegionalDomainName, originAccessControlId: originAccessControl.id },
        ],
        defaultCacheBehavior: {
          targetOriginId: originId,
          viewerProtocolPolicy: "redirect-to-https",
          allowedMethods: ["GET", "HEAD"],
          cachedMethods: ["GET", "HEAD"],
          compress: true,
          cachePolicyId: args.cachePolicyId ?? CACHING_OPTIMIZED_POLICY_ID,
          responseHeadersPolicyId: this.responseHeadersPolicy.id,
        },
        // SPA routing: a client-side route is no object in the bucket. Without
        // s3:ListBucket, S3 answers a missing key with 403 (not 404): both serve the app.
        customErrorResponses: [403, 404].map((errorCode) => ({
          errorCode,
          responseCode: 200,
          responsePagePath: "/index.html",
          errorCachingMinTtl: args.errorCachingMinTtl ?? 10,
        })),
        restrictions: { geoRestriction: { restrictionType: "none" } },
        viewerCertificate: {
          // The validation's ARN, so the distribution waits until ACM has issued it.
          acmCertificateArn: issued.validatedArn,
          sslSupportMethod: "sni-only",
          minimumProtocolVersion: "TLSv1.2_2021",
        },
        ...(args.accessLogs
          ? {
              loggingConfig: {
                bucket: args.accessLogs.bucketDomainName,
                prefix: args.accessLogs.prefix,
                includeCookies: false,
              },
            }
          : {}),
        retainOnDelete: args.protect,
      },
      parent,
    );

    // ---------------------------------------------------------------- bucket policy: this distribution only, TLS only
    new aws.s3.BucketPolicy(
      `${name}-bucket-policy`,
      { bucket: bucketId, policy: bucketPolicy(this.bucket.arn, this.distribution.arn) },
      // With BlockPublicPolicy on and ACLs off before the policy lands, nothing is ever public.
      { ...parent, dependsOn: [...site.lockedDown] },
    );

    // ---------------------------------------------------------------- DNS: A and AAAA aliases for both names
    const zoneIdOfTarget = this.distribution.hostedZoneId;
    for (const { key, host } of names) {
      for (const type of ["A", "AAAA"] as const) {
        zoneRecord(
          `${name}-${key}-${type.toLowerCase()}`,
          args.dns,
          {
            name: host,
            type,
            // Route 53 refuses EvaluateTargetHealth=true for a CloudFront target (the live Terraform sets true).
            aliases: [{ name: this.distribution.domainName, zoneId: zoneIdOfTarget, evaluateTargetHealth: false }],
          },
          parent,
          `${host} ${type}`,
        );
      }
    }

    this.bucketName = this.bucket.bucket;
    this.bucketArn = this.bucket.arn;
    this.distributionId = this.distribution.id;
    this.distributionArn = this.distribution.arn;
    this.distributionDomainName = this.distribution.domainName;
    this.webAclArn = this.webAcl.arn;
    this.certificateArn = issued.validatedArn;
    this.siteName = args.siteName;
    this.siteUrl = `https://${args.siteName}`;
    this.deployable = { bucketArn: this.bucketArn, distributionArn: this.distributionArn };

    this.registerOutputs({
      bucketName: this.bucketName,
      bucketArn: this.bucketArn,
      distributionId: this.distributionId,
      distributionArn: this.distributionArn,
      distributionDomainName: this.distributionDomainName,
      webAclArn: this.webAclArn,
      certificateArn: this.certificateArn,
      siteUrl: this.siteUrl,
    });
  }
}

/**
 * The bucket's resource policy: CloudFront may read objects only on behalf of
 * this distribution (OAC signs with the distribution's ARN), and no request
 * without TLS is served, whoever makes it.
 */
export function bucketPolicy(
  bucketArn: pulumi.Input<string>,
  distributionArn: pulumi.Input<string>,
): aws.types.input.iam.PolicyDocument {
  return resourcePolicyDocument([
    {
      Sid: "CloudFrontReadsObjectsForThisDistributionOnly",
      Principal: { Service: "cloudfront.amazonaws.com" },
      Action: ["s3:GetObject"],
      Resource: [pulumi.interpolate`${bucketArn}/*`],
      Condition: { StringEquals: { "AWS:SourceArn": distributionArn } },
    },
    denyWithoutTls("s3", [bucketArn, pulumi.interpolate`${bucketArn}/*`]),
  ]);
}

/** The DNS record ACM asks for to prove control of `domain` (undefined until ACM has answered). */

function validate(args: FuturesUiArgs): void {
  const zone = args.dns.zoneName.replace(/\.$/, "");
  for (const [field, host] of [
    ["siteName", args.siteName],
    ["bucketName", args.bucketName],
  ] as const) {
    if (!host.endsWith(`.${zone}`))
      throw new Error(`FuturesUi: ${field} "${host}" is not inside the zone ${zone}, where its records go`);
  }
  if (args.siteName === args.bucketName)
    throw new Error("FuturesUi: siteName and bucketName must differ (each is an alias of the distribution)");
  if (
    !Number.isInteger(args.rateLimitPer5Minutes) ||
    args.rateLimitPer5Minutes < 10 ||
    args.rateLimitPer5Minutes > 2_000_000_000
  ) {
    throw new Error(`FuturesUi: rateLimitPer5Minutes ${args.rateLimitPer5Minutes} is outside WAF's 10..2,000,000,000`);
  }
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(args.webAclName))
    throw new Error(`FuturesUi: webAclName "${args.webAclName}" must be 1-128 of [A-Za-z0-9_-]`);
}
