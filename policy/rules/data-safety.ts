/** Data safety and reliability: mandatory in production stacks, advisory elsewhere. */
import { Finding, ResourceView, Rule, str } from "./model";

/**
 * Resource types that hold data which a replacement or a deletion loses: the one list of
 * stateful types, for this pack and for `npm run diff`. `protectRequired`: the
 * stateful-resources-protected rule requires `protect` on it (the data cannot be rebuilt
 * from the program); the others lose data too (log events, queued messages, a deployed
 * image tag) but are not required to be protected.
 */
export const STATEFUL_TYPES: Readonly<Record<string, { readonly holds: string; readonly protectRequired: boolean }>> = {
  "aws:rds/instance:Instance": { holds: "database", protectRequired: true },
  "aws:rds/cluster:Cluster": { holds: "database", protectRequired: true },
  "aws:s3/bucket:Bucket": { holds: "objects", protectRequired: true },
  "aws:s3/bucketV2:BucketV2": { holds: "objects", protectRequired: true },
  "aws:secretsmanager/secret:Secret": { holds: "secret values", protectRequired: true },
  "aws:kms/key:Key": { holds: "key material (what it encrypted becomes unreadable)", protectRequired: true },
  "aws:dynamodb/table:Table": { holds: "items", protectRequired: true },
  "aws:cloudwatch/logGroup:LogGroup": { holds: "log events", protectRequired: false },
  "aws:sqs/queue:Queue": { holds: "queued messages", protectRequired: false },
  "aws:ecr/repository:Repository": { holds: "images", protectRequired: false },
  "aws:efs/fileSystem:FileSystem": { holds: "files", protectRequired: false },
  "aws:ssm/parameter:Parameter": { holds: "a value deploys may write (e.g. the deployed image tag)", protectRequired: false },
};

export const statefulProtected: Rule = {
  name: "stateful-resources-protected",
  description: "Databases, buckets, secrets and KMS keys are protected from deletion by `pulumi up`/`destroy`.",
  enforcement: "production-only",
  remediation: "Set protect: true on the resource (the components do so when the stack's protect is on).",
  equivalents: ["Pulumi protect (no scanner equivalent)"],
  checkResource: (r) => (STATEFUL_TYPES[r.type]?.protectRequired && !r.protect ? [{ message: `${r.type.split(":").pop()} ${r.name} is not protected` }] : []),
};

export const rdsHardened: Rule = {
  name: "rds-hardened",
  description: "RDS is encrypted, has deletion protection, takes a final snapshot and keeps backups for at least 7 days.",
  enforcement: "production-only",
  remediation: "Set storageEncrypted, deletionProtection, skipFinalSnapshot: false with a finalSnapshotIdentifier, and backupRetentionPeriod >= 7.",
  equivalents: ["CKV_AWS_16", "CKV_AWS_293", "CKV_AWS_133", "awsguard:rds-instance-storage-encrypted", "AwsSolutions-RDS10", "AwsSolutions-RDS11"],
  checkResource: (r) => {
    if (r.type !== "aws:rds/instance:Instance" && r.type !== "aws:rds/cluster:Cluster") return [];
    const p = r.props;
    const problems: string[] = [];
    if (p.storageEncrypted !== true) problems.push("storage is not encrypted");
    if (p.deletionProtection !== true) problems.push("deletion protection is off");
    if (p.skipFinalSnapshot === true || !str(p.finalSnapshotIdentifier)) problems.push("no final snapshot");
    if (typeof p.backupRetentionPeriod !== "number" || p.backupRetentionPeriod < 7) problems.push(`backups kept ${String(p.backupRetentionPeriod ?? "default 1")} days (< 7)`);
    return problems.map((message) => ({ message }));
  },
};

function bucketRef(r: ResourceView): string | undefined {
  return str(r.props.bucket);
}

export const s3Hardened: Rule = {
  name: "s3-hardened",
  description: "Every bucket is versioned, encrypted by explicit configuration, and blocks all public access.",
  enforcement: "production-only",
  remediation: "Add BucketVersioning (Enabled), BucketServerSideEncryptionConfiguration and BucketPublicAccessBlock with all four settings true.",
  equivalents: ["CKV_AWS_21", "CKV_AWS_145", "CKV_AWS_53..56", "awsguard:s3-bucket-*", "AwsSolutions-S1/S2/S10"],
  checkStack: (resources) => {
    const findings: Finding[] = [];
    const byBucket = (type: RegExp) => resources.filter((r) => type.test(r.type));
    const versioning = byBucket(/^aws:s3\/bucketVersioning(V2)?:/);
    const encryption = byBucket(/^aws:s3\/bucketServerSideEncryptionConfiguration(V2)?:/);
    const blocks = byBucket(/^aws:s3\/bucketPublicAccessBlock:/);
    for (const bucket of resources.filter((r) => r.type === "aws:s3/bucket:Bucket" || r.type === "aws:s3/bucketV2:BucketV2")) {
      const refs = [str(bucket.outputs.id), str(bucket.outputs.bucket), str(bucket.props.bucket)].filter(Boolean);
      const mine = (rs: ResourceView[]) => rs.filter((x) => refs.includes(bucketRef(x)));
      const v = mine(versioning);
      if (!v.some((x) => (x.props.versioningConfiguration as { status?: string } | undefined)?.status === "Enabled")) findings.push({ urn: bucket.urn, message: `bucket ${bucket.name} is not versioned` });
      if (mine(encryption).length === 0) findings.push({ urn: bucket.urn, message: `bucket ${bucket.name} has no explicit server-side encryption configuration` });
      const block = mine(blocks)[0];
      const all = ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"];
      if (!block || !all.every((k) => block.props[k] === true)) findings.push({ urn: bucket.urn, message: `bucket ${bucket.name} does not block all public access` });
    }
    return findings;
  },
};

export const logGroupsRetained: Rule = {
  name: "log-groups-have-retention",
  description: "Every log group has a retention period (none would keep logs, and cost, forever).",
  enforcement: "production-only",
  remediation: "Set retentionInDays.",
  equivalents: ["CKV_AWS_338", "awsguard: none"],
  checkResource: (r) =>
    r.type === "aws:cloudwatch/logGroup:LogGroup" && !(typeof r.props.retentionInDays === "number" && r.props.retentionInDays > 0)
      ? [{ message: `log group ${str(r.props.name) ?? r.name} keeps logs forever` }]
      : [],
};

export const ecsCircuitBreaker: Rule = {
  name: "ecs-circuit-breaker-rollback",
  description: "ECS services deploy with the circuit breaker and automatic rollback.",
  enforcement: "production-only",
  remediation: "Set deploymentCircuitBreaker: { enable: true, rollback: true }.",
  equivalents: ["terraform-aws-modules/ecs default", "AwsSolutions: none"],
  checkResource: (r) => {
    if (r.type !== "aws:ecs/service:Service") return [];
    const cb = r.props.deploymentCircuitBreaker as { enable?: boolean; rollback?: boolean } | undefined;
    return cb?.enable === true && cb.rollback === true ? [] : [{ message: "deployment circuit breaker with rollback is not on" }];
  },
};

const TLS12_VIEWER = /^TLSv1\.(2_\d{4}|3)/;

export const cloudfrontTls: Rule = {
  name: "cloudfront-https-tls12",
  description: "CloudFront serves HTTPS only (redirect or https-only) with TLS 1.2 or newer.",
  enforcement: "production-only",
  remediation: "Set viewerProtocolPolicy to redirect-to-https in every cache behaviour and minimumProtocolVersion to TLSv1.2_2021.",
  equivalents: ["CKV_AWS_34", "CKV_AWS_174", "awsguard:cloudfront-distribution-https-only", "AwsSolutions-CFR4"],
  checkResource: (r) => {
    if (r.type !== "aws:cloudfront/distribution:Distribution") return [];
    const p = r.props;
    const findings: Finding[] = [];
    const behaviours = [p.defaultCacheBehavior, ...(Array.isArray(p.orderedCacheBehaviors) ? p.orderedCacheBehaviors : [])] as { viewerProtocolPolicy?: string; pathPattern?: string }[];
    for (const b of behaviours.filter(Boolean)) {
      if (!["redirect-to-https", "https-only"].includes(b.viewerProtocolPolicy ?? "")) findings.push({ message: `cache behaviour ${b.pathPattern ?? "default"} allows plain HTTP` });
    }
    const cert = p.viewerCertificate as { minimumProtocolVersion?: string; cloudfrontDefaultCertificate?: boolean } | undefined;
    if (cert?.cloudfrontDefaultCertificate === true) {
      findings.push({ message: "uses the default *.cloudfront.net certificate, which always accepts TLSv1" });
    } else if (!TLS12_VIEWER.test(cert?.minimumProtocolVersion ?? "")) findings.push({ message: `minimum TLS is ${cert?.minimumProtocolVersion ?? "the default (TLSv1)"}` });
    return findings;
  },
};

const TLS12_ELB = /^ELBSecurityPolicy-(TLS13-1-2|TLS13-1-3|FS-1-2|TLS-1-2)/;

export const loadBalancersHttpsOnly: Rule = {
  name: "load-balancers-https-only",
  description: "Application load balancers listen on HTTPS (TLS 1.2+) or redirect HTTP to HTTPS; TLS listeners use a TLS 1.2+ policy. Plain TCP on network load balancers (stratum) is not HTTP and is allowed.",
  enforcement: "production-only",
  remediation: "Use protocol HTTPS with an ELBSecurityPolicy-TLS13-1-2-* policy, or make the HTTP listener's default action a redirect to HTTPS.",
  equivalents: ["CKV_AWS_2", "CKV_AWS_103", "awsguard:elb-*", "AwsSolutions-ELB2 (related)"],
  checkResource: (r) => {
    if (r.type !== "aws:lb/listener:Listener" && r.type !== "aws:alb/listener:Listener") return [];
    const protocol = String(r.props.protocol ?? "HTTP").toUpperCase();
    const actions = (Array.isArray(r.props.defaultActions) ? r.props.defaultActions : []) as { type?: string; redirect?: { protocol?: string } }[];
    if (protocol === "HTTP") {
      const redirects = actions.length > 0 && actions.every((a) => a.type === "redirect" && a.redirect?.protocol === "HTTPS");
      return redirects ? [] : [{ message: "HTTP listener serves traffic instead of redirecting to HTTPS" }];
    }
    if (protocol === "HTTPS" || protocol === "TLS") {
      const policy = str(r.props.sslPolicy);
      return policy && TLS12_ELB.test(policy) ? [] : [{ message: `${protocol} listener uses ${policy ?? "the default"} security policy; expected TLS 1.2 or newer` }];
    }
    return [];
  },
};

export const DATA_SAFETY_RULES: readonly Rule[] = [statefulProtected, rdsHardened, s3Hardened, logGroupsRetained, ecsCircuitBreaker, cloudfrontTls, loadBalancersHttpsOnly];
