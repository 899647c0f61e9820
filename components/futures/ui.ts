import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { AwsContext, denyWithoutTls, resourcePolicyDocument } from "../../lib/iam";
import type { DeployableSite } from "../../lib/deployables";
import type { FuturesUiConfig } from "../../config/futures";
import { PrivateBucket, privateBucket } from "../private-bucket";
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

/** CloudFront's price classes (the edge locations a distribution serves from), as config spells them. */
export type CloudFrontPriceClass = FuturesUiConfig["priceClass"];

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
  /**
   * The site's host name, inside `dns.zoneName`.
   * @example "futures.dev.lumerin.io" // "futures.lumerin.io" in lmn
   */
  readonly siteName: string;
  /**
   * The bucket's name, also the distribution's second alias, as the live estate
   * has it (docs/estate.md). Must be inside `dns.zoneName` and differ from `siteName`.
   * @example "s3futures.dev.lumerin.io" // "s3futures.lumerin.io" in lmn
   */
  readonly bucketName: string;
  /**
   * Origin access control name, also the distribution's origin id (docs/estate.md).
   * @example "titanio-dev-s3futures" // `futuresNames(env).ui.originAccessControl`
   */
  readonly originAccessControlName: string;
  /**
   * WAFv2 web ACL name, also its CloudWatch metric name and the prefix of its rules' metric names:
   * 1-128 of `[A-Za-z0-9_-]`.
   * @example "futures-ui-dev" // `futuresNames(env).ui.webAcl`
   */
  readonly webAclName: string;
  /**
   * Response-headers policy name (unique per account).
   * @example "futures-ui-dev-security-headers" // `futuresNames(env).ui.responseHeadersPolicy`
   */
  readonly responseHeadersPolicyName: string;
  /**
   * Edge locations served.
   * @default "PriceClass_200"
   */
  readonly priceClass?: FuturesUiConfig["priceClass"];
  /**
   * WAF: requests one client IP may make in any 5 minutes before it is blocked; a whole
   * number from 10 to 2,000,000,000 (WAF's range; config allows 100 and up).
   * @example 2000
   */
  readonly rateLimitPer5Minutes: FuturesUiConfig["rateLimitPer5Minutes"];
  /**
   * Cache policy of the default behaviour. TTLs come from the policy, not from
   * legacy `forwardedValues`. The deploy invalidates after each sync, so the long
   * default TTL never serves a stale `index.html` beyond an invalidation.
   * @default CACHING_OPTIMIZED_POLICY_ID (the managed CachingOptimized policy)
   */
  readonly cachePolicyId?: pulumi.Input<string>;
  /**
   * Seconds CloudFront caches the SPA's `/index.html` answer to an origin 403/404.
   * @default 10
   */
  readonly errorCachingMinTtl?: number;
  /**
   * Days a replaced or deleted object version is kept (rollback window) before S3 expires it.
   * @default 30
   */
  readonly noncurrentVersionDays?: number;
  /**
   * CloudFront standard access logs. The target bucket must allow ACLs (legacy
   * CloudFront logging writes with the awslogsdelivery ACL).
   * @default undefined (no access logs)
   * @example { bucketDomainName: "titanio-dev-devops.s3.amazonaws.com", prefix: "s3futures.dev.lumerin.io/" }
   */
  readonly accessLogs?: {
    /** The log bucket's domain name (`<bucket>.s3.amazonaws.com`). */
    readonly bucketDomainName: pulumi.Input<string>;
    /** Key prefix of the log files, ending in `/`. */
    readonly prefix: string;
  };
  /**
   * Production: `protect` on the bucket (the published site and its versions),
   * and the distribution is disabled rather than deleted if it is ever removed
   * from the program (its `retainOnDelete`, as the live Terraform sets).
   */
  readonly protect: boolean;
}

/** The two names the distribution answers for; each `key` is part of its records' logical names. */
export function siteHosts(args: Pick<FuturesUiArgs, "siteName" | "bucketName">) {
  return [
    { key: "site", host: args.siteName },
    { key: "bucket", host: args.bucketName },
  ] as const;
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
    const site = siteBucket(name, args, this);
    this.bucket = site.bucket;
    const issued = dnsValidatedCertificate(name, {
      names: siteHosts(args),
      dns: args.dns,
      provider: args.globalProvider,
      parent: this,
    });
    this.certificate = issued.certificate;
    this.webAcl = webAcl(name, args, this);
    const originAccessControl = siteOriginAccessControl(name, args, this);
    this.responseHeadersPolicy = securityHeadersPolicy(name, args, this);
    this.distribution = distribution(
      name,
      args,
      {
        bucketRegionalDomainName: this.bucket.bucketRegionalDomainName,
        originAccessControlId: originAccessControl.id,
        webAclArn: this.webAcl.arn,
        responseHeadersPolicyId: this.responseHeadersPolicy.id,
        certificateArn: issued.validatedArn,
      },
      this,
    );
    siteBucketPolicy(name, site, this.distribution.arn, this);
    siteRecords(name, args, this.distribution, this);

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
 * The site's private, versioned bucket (`<name>-bucket` and its settings), expiring
 * replaced versions after the rollback window. SSE-S3, not a CMK: the objects are the
 * public site's assets (no confidentiality to add), and OAC reads SSE-KMS objects only
 * if the key policy also lets cloudfront.amazonaws.com decrypt; SSE-S3 needs no
 * cross-service key grant.
 */
export function siteBucket(
  name: string,
  args: Pick<FuturesUiArgs, "bucketName" | "protect" | "noncurrentVersionDays">,
  parent: pulumi.Resource,
): PrivateBucket {
  return privateBucket(
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
    parent,
  );
}

/** A web ACL rule's metrics and samples, under `metricName`. */
function visibility(metricName: string) {
  return { cloudwatchMetricsEnabled: true, sampledRequestsEnabled: true, metricName };
}

/** One AWS managed rule group, its own actions applying. */
function managedRuleGroup(webAclName: string, rule: (typeof FUTURES_UI_WAF_RULES)[number]) {
  return {
    name: rule.name,
    priority: rule.priority,
    // "none": the group's own actions (block) apply; "count" would only observe.
    overrideAction: { none: {} },
    statement: { managedRuleGroupStatement: { vendorName: "AWS", name: rule.name } },
    visibilityConfig: visibility(`${webAclName}-${rule.name}`),
  };
}

/**
 * `<name>-waf`: the CLOUDFRONT-scope web ACL (made in us-east-1 with `globalProvider`):
 * the rules of {@link FUTURES_UI_WAF_RULES}, the rate rule blocking an IP over
 * `rateLimitPer5Minutes`, everything else allowed.
 */
export function webAcl(
  name: string,
  args: Pick<FuturesUiArgs, "globalProvider" | "webAclName" | "siteName" | "rateLimitPer5Minutes">,
  parent: pulumi.Resource,
): aws.wafv2.WebAcl {
  const [ipReputation, rateRule, common, knownBadInputs] = FUTURES_UI_WAF_RULES;
  return new aws.wafv2.WebAcl(
    `${name}-waf`,
    {
      name: args.webAclName,
      description: `${args.siteName}: AWS managed rules and a per-IP rate limit`,
      scope: "CLOUDFRONT",
      defaultAction: { allow: {} },
      rules: [
        managedRuleGroup(args.webAclName, ipReputation),
        {
          name: rateRule.name,
          priority: rateRule.priority,
          action: { block: {} },
          statement: {
            rateBasedStatement: { aggregateKeyType: "IP", limit: args.rateLimitPer5Minutes, evaluationWindowSec: 300 },
          },
          visibilityConfig: visibility(`${args.webAclName}-${rateRule.name}`),
        },
        managedRuleGroup(args.webAclName, common),
        managedRuleGroup(args.webAclName, knownBadInputs),
      ],
      visibilityConfig: visibility(args.webAclName),
    },
    { parent, provider: args.globalProvider },
  );
}

/** `<name>-oac`: the distribution signs its reads of the bucket (s3, always, SigV4). */
export function siteOriginAccessControl(
  name: string,
  args: Pick<FuturesUiArgs, "originAccessControlName" | "siteName" | "bucketName">,
  parent: pulumi.Resource,
): aws.cloudfront.OriginAccessControl {
  return new aws.cloudfront.OriginAccessControl(
    `${name}-oac`,
    {
      name: args.originAccessControlName,
      description: `${args.siteName} reads ${args.bucketName}`,
      originAccessControlOriginType: "s3",
      signingBehavior: "always",
      signingProtocol: "sigv4",
    },
    { parent },
  );
}

const YEAR_SECONDS = 365 * 24 * 60 * 60;

/**
 * `<name>-security-headers`: HSTS (2 years, subdomains, preload), nosniff, frame DENY
 * and a strict referrer policy. No Content-Security-Policy: the app's script, RPC,
 * subgraph and wallet origins are the application's to list; a guessed CSP would break
 * the trading UI.
 */
export function securityHeadersPolicy(
  name: string,
  args: Pick<FuturesUiArgs, "responseHeadersPolicyName" | "siteName">,
  parent: pulumi.Resource,
): aws.cloudfront.ResponseHeadersPolicy {
  return new aws.cloudfront.ResponseHeadersPolicy(
    `${name}-security-headers`,
    {
      name: args.responseHeadersPolicyName,
      comment: `${args.siteName}: HSTS, nosniff, frame DENY, referrer policy`,
      securityHeadersConfig: {
        strictTransportSecurity: {
          accessControlMaxAgeSec: 2 * YEAR_SECONDS,
          includeSubdomains: true,
          preload: true,
          override: true,
        },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: "DENY", override: true },
        referrerPolicy: { referrerPolicy: "strict-origin-when-cross-origin", override: true },
      },
    },
    { parent },
  );
}

/** What the distribution serves from and with: the other steps' resources. */
export interface DistributionParts {
  /** The bucket's regional domain name (the S3 origin). */
  readonly bucketRegionalDomainName: pulumi.Input<string>;
  /** The origin access control the origin signs with. */
  readonly originAccessControlId: pulumi.Input<string>;
  /** The web ACL (its ARN: WAFv2 web ACLs attach by ARN). */
  readonly webAclArn: pulumi.Input<string>;
  /** The security-headers policy of the default behaviour. */
  readonly responseHeadersPolicyId: pulumi.Input<string>;
  /** The certificate's ARN once validated, so the distribution waits until ACM has issued it. */
  readonly certificateArn: pulumi.Input<string>;
}

/**
 * `<name>-distribution`: both names as aliases, HTTPS only (TLS 1.2+, SNI), HTTP/2 and 3,
 * IPv6, GET/HEAD only, the cache policy, SPA routing of 403/404 to `/index.html`, and
 * `retainOnDelete` when protected.
 */
export function distribution(
  name: string,
  args: Pick<
    FuturesUiArgs,
    | "siteName"
    | "bucketName"
    | "originAccessControlName"
    | "priceClass"
    | "cachePolicyId"
    | "errorCachingMinTtl"
    | "accessLogs"
    | "protect"
  >,
  parts: DistributionParts,
  parent: pulumi.Resource,
): aws.cloudfront.Distribution {
  const originId = args.originAccessControlName;
  return new aws.cloudfront.Distribution(
    `${name}-distribution`,
    {
      enabled: true,
      comment: `${args.siteName} (futures trading UI)`,
      aliases: [args.siteName, args.bucketName],
      defaultRootObject: "index.html",
      httpVersion: "http2and3",
      isIpv6Enabled: true,
      priceClass: args.priceClass ?? "PriceClass_200",
      webAclId: parts.webAclArn,
      origins: [
        {
          originId,
          domainName: parts.bucketRegionalDomainName,
          originAccessControlId: parts.originAccessControlId,
        },
      ],
      defaultCacheBehavior: {
        targetOriginId: originId,
        viewerProtocolPolicy: "redirect-to-https",
        allowedMethods: ["GET", "HEAD"],
        cachedMethods: ["GET", "HEAD"],
        compress: true,
        cachePolicyId: args.cachePolicyId ?? CACHING_OPTIMIZED_POLICY_ID,
        responseHeadersPolicyId: parts.responseHeadersPolicyId,
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
        acmCertificateArn: parts.certificateArn,
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
    { parent },
  );
}

/**
 * `<name>-bucket-policy`: {@link bucketPolicy}, landing only after public access is
 * blocked and ACLs are off, so nothing is ever public.
 */
export function siteBucketPolicy(
  name: string,
  site: PrivateBucket,
  distributionArn: pulumi.Input<string>,
  parent: pulumi.Resource,
): aws.s3.BucketPolicy {
  return new aws.s3.BucketPolicy(
    `${name}-bucket-policy`,
    { bucket: site.bucket.id, policy: bucketPolicy(site.bucket.arn, distributionArn) },
    { parent, dependsOn: [...site.lockedDown] },
  );
}

/**
 * `<name>-<site|bucket>-<a|aaaa>`: A and AAAA aliases of both names to the distribution,
 * through the zone's provider (none while the zone's role is pending: listed as withheld).
 */
export function siteRecords(
  name: string,
  args: Pick<FuturesUiArgs, "dns" | "siteName" | "bucketName">,
  target: Pick<aws.cloudfront.Distribution, "domainName" | "hostedZoneId">,
  parent: pulumi.Resource,
): aws.route53.Record[] {
  const records: aws.route53.Record[] = [];
  for (const { key, host } of siteHosts(args)) {
    for (const type of ["A", "AAAA"] as const) {
      const record = zoneRecord(
        `${name}-${key}-${type.toLowerCase()}`,
        args.dns,
        {
          name: host,
          type,
          // Route 53 refuses EvaluateTargetHealth=true for a CloudFront target (the live Terraform sets true).
          aliases: [{ name: target.domainName, zoneId: target.hostedZoneId, evaluateTargetHealth: false }],
        },
        { parent },
        `${host} ${type}`,
      );
      if (record) records.push(record);
    }
  }
  return records;
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
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(args.webAclName))
    throw new Error(`FuturesUi: webAclName "${args.webAclName}" must be 1-128 of [A-Za-z0-9_-]`);
}
