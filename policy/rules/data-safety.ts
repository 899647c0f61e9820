/** Data safety and reliability: mandatory in production stacks, advisory elsewhere. */
import * as aws from "@pulumi/aws";
import { PROTECTED_BACKUP_RETENTION_DAYS, STATEFUL_TYPES } from "./stateful-types";
import { Finding, ResourceView, Rule, optionsOf, policyExceptionOf, propsOf, str, typeToken } from "./model";

export const statefulProtected: Rule = {
  name: "stateful-resources-protected",
  description: "Databases, buckets, secrets and KMS keys are protected from deletion by `pulumi up`/`destroy`.",
  enforcement: "production-only",
  remediation: "Set protect: true on the resource (the components do so when the stack's protect is on).",
  equivalents: [],
  checkResource: (r) =>
    STATEFUL_TYPES[r.type]?.protectRequired && !r.protect
      ? [{ message: `${r.type.split(":").pop()} ${r.name} is not protected` }]
      : [],
};

const RDS_OPTIONS = {
  minimumBackupRetentionDays: {
    description: "Days of automated backups every database keeps (the rule is advisory outside production).",
    schema: { type: "integer", minimum: 1, maximum: 35 },
    default: 7,
  },
  productionMinimumBackupRetentionDays: {
    description: "Days of automated backups a production database keeps (the configuration refuses fewer than 14).",
    schema: { type: "integer", minimum: 1, maximum: 35 },
    default: PROTECTED_BACKUP_RETENTION_DAYS,
  },
};

export const rdsHardened: Rule = {
  name: "rds-hardened",
  description:
    "RDS is encrypted, has deletion protection, takes a final snapshot, keeps backups (7 days, 14 in production: options minimumBackupRetentionDays and productionMinimumBackupRetentionDays) and, in production, runs Multi-AZ.",
  enforcement: "production-only",
  remediation:
    "Set storageEncrypted, deletionProtection, skipFinalSnapshot: false with a finalSnapshotIdentifier, backupRetentionPeriod at or above the threshold, and multiAz in production.",
  equivalents: [
    "CKV_AWS_16",
    "CKV_AWS_293",
    "CKV_AWS_157",
    "CKV_AWS_133",
    "awsguard:rds-storage-encrypted",
    "awsguard:rds-instance-multi-az-enabled",
    "awsguard:rds-instance-backup-enabled",
    "AwsSolutions-RDS2",
    "AwsSolutions-RDS3",
    "AwsSolutions-RDS10",
    "AwsSolutions-RDS13",
    "AVD-AWS-0080",
    "AVD-AWS-0077",
    "AVD-AWS-0177",
    "[RDS.3]",
    "[RDS.5]",
    "[RDS.8]",
    "[RDS.11]",
  ],
  options: RDS_OPTIONS,
  resourceClasses: [aws.rds.Instance, aws.rds.Cluster],
  checkResource: (r, ctx) => {
    const instance = propsOf(r, aws.rds.Instance);
    const cluster = propsOf(r, aws.rds.Cluster);
    const p = instance ?? cluster;
    if (!p) return [];
    const options = optionsOf(ctx, RDS_OPTIONS);
    const minimum = ctx.production ? options.productionMinimumBackupRetentionDays : options.minimumBackupRetentionDays;
    const problems: string[] = [];
    if (p.storageEncrypted !== true) problems.push("storage is not encrypted");
    if (p.deletionProtection !== true) problems.push("deletion protection is off");
    if (p.skipFinalSnapshot === true || !str(p.finalSnapshotIdentifier)) problems.push("no final snapshot");
    const days = p.backupRetentionPeriod;
    if (typeof days !== "number" || days < minimum)
      problems.push(`backups kept ${String(days ?? "default 1")} days (< ${minimum})`);
    // A cluster spreads its storage over three AZs; an instance needs a standby.
    if (ctx.production && instance && instance.multiAz !== true) problems.push("not Multi-AZ");
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
  remediation:
    "Add BucketVersioning (Enabled), BucketServerSideEncryptionConfiguration and BucketPublicAccessBlock with all four settings true.",
  equivalents: [
    "CKV_AWS_21",
    "CKV_AWS_145 (stricter: KMS)",
    "CKV_AWS_53",
    "CKV_AWS_54",
    "CKV_AWS_55",
    "CKV_AWS_56",
    "CKV2_AWS_6",
    "AwsSolutions-S2",
    "AVD-AWS-0088",
    "AVD-AWS-0090",
    "AVD-AWS-0086",
    "AVD-AWS-0087",
    "AVD-AWS-0091",
    "AVD-AWS-0093",
    "[S3.8]",
    "[S3.14]",
  ],
  checkStack: (resources) => {
    const findings: Finding[] = [];
    const byBucket = (type: RegExp) => resources.filter((r) => type.test(r.type));
    const versioning = byBucket(/^aws:s3\/bucketVersioning(V2)?:/);
    const encryption = byBucket(/^aws:s3\/bucketServerSideEncryptionConfiguration(V2)?:/);
    const blocks = byBucket(/^aws:s3\/bucketPublicAccessBlock:/);
    for (const bucket of resources.filter(
      (r) => r.type === "aws:s3/bucket:Bucket" || r.type === "aws:s3/bucketV2:BucketV2",
    )) {
      const refs = [str(bucket.outputs.id), str(bucket.outputs.bucket), str(bucket.props.bucket)].filter(Boolean);
      const mine = (rs: ResourceView[]) => rs.filter((x) => refs.includes(bucketRef(x)));
      const v = mine(versioning);
      if (!v.some((x) => (x.props.versioningConfiguration as { status?: string } | undefined)?.status === "Enabled"))
        findings.push({ urn: bucket.urn, message: `bucket ${bucket.name} is not versioned` });
      if (mine(encryption).length === 0)
        findings.push({
          urn: bucket.urn,
          message: `bucket ${bucket.name} has no explicit server-side encryption configuration`,
        });
      const block = mine(blocks)[0];
      const all = ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"];
      if (!block || !all.every((k) => block.props[k] === true))
        findings.push({ urn: bucket.urn, message: `bucket ${bucket.name} does not block all public access` });
    }
    return findings;
  },
};

export const logGroupsRetained: Rule = {
  name: "log-groups-have-retention",
  description: "Every log group has a retention period (none would keep logs, and cost, forever).",
  enforcement: "production-only",
  remediation: "Set retentionInDays.",
  equivalents: ["CKV_AWS_338 (stricter: a year)", "[CloudWatch.16]"],
  checkResource: (r) =>
    r.type === "aws:cloudwatch/logGroup:LogGroup" &&
    !(typeof r.props.retentionInDays === "number" && r.props.retentionInDays > 0)
      ? [{ message: `log group ${str(r.props.name) ?? r.name} keeps logs forever` }]
      : [],
};

export const ecsCircuitBreaker: Rule = {
  name: "ecs-circuit-breaker-rollback",
  description: "ECS services deploy with the circuit breaker and automatic rollback.",
  enforcement: "production-only",
  remediation: "Set deploymentCircuitBreaker: { enable: true, rollback: true }.",
  equivalents: [],
  checkResource: (r) => {
    if (r.type !== "aws:ecs/service:Service") return [];
    const cb = r.props.deploymentCircuitBreaker as { enable?: boolean; rollback?: boolean } | undefined;
    return cb?.enable === true && cb.rollback === true
      ? []
      : [{ message: "deployment circuit breaker with rollback is not on" }];
  },
};

const TLS12_VIEWER = /^TLSv1\.(2_\d{4}|3)/;

export const cloudfrontTls: Rule = {
  name: "cloudfront-https-tls12",
  description: "CloudFront serves HTTPS only (redirect or https-only) with TLS 1.2 or newer.",
  enforcement: "production-only",
  remediation:
    "Set viewerProtocolPolicy to redirect-to-https in every cache behaviour and minimumProtocolVersion to TLSv1.2_2021.",
  equivalents: ["CKV_AWS_34", "CKV_AWS_174", "AwsSolutions-CFR4", "AVD-AWS-0012", "AVD-AWS-0013", "[CloudFront.3]"],
  checkResource: (r) => {
    if (r.type !== "aws:cloudfront/distribution:Distribution") return [];
    const p = r.props;
    const findings: Finding[] = [];
    const behaviours = [
      p.defaultCacheBehavior,
      ...(Array.isArray(p.orderedCacheBehaviors) ? p.orderedCacheBehaviors : []),
    ] as { viewerProtocolPolicy?: string; pathPattern?: string }[];
    for (const b of behaviours.filter(Boolean)) {
      if (!["redirect-to-https", "https-only"].includes(b.viewerProtocolPolicy ?? ""))
        findings.push({ message: `cache behaviour ${b.pathPattern ?? "default"} allows plain HTTP` });
    }
    const cert = p.viewerCertificate as
      { minimumProtocolVersion?: string; cloudfrontDefaultCertificate?: boolean } | undefined;
    if (cert?.cloudfrontDefaultCertificate === true) {
      findings.push({ message: "uses the default *.cloudfront.net certificate, which always accepts TLSv1" });
    } else if (!TLS12_VIEWER.test(cert?.minimumProtocolVersion ?? ""))
      findings.push({ message: `minimum TLS is ${cert?.minimumProtocolVersion ?? "the default (TLSv1)"}` });
    return findings;
  },
};

const TLS12_ELB = /^ELBSecurityPolicy-(TLS13-1-2|TLS13-1-3|FS-1-2|TLS-1-2)/;

const LISTENER_TYPES = [typeToken(aws.lb.Listener), typeToken(aws.alb.Listener)];
const LISTENER_RULE_TYPES = [typeToken(aws.lb.ListenerRule), typeToken(aws.alb.ListenerRule)];

type Action = { type?: string; redirect?: { protocol?: string } };
const actionsOf = (v: unknown): Action[] => (Array.isArray(v) ? (v as Action[]) : []);
const redirectsToHttps = (actions: Action[]) =>
  actions.length > 0 && actions.every((a) => a.type === "redirect" && a.redirect?.protocol === "HTTPS");

export const loadBalancersHttpsOnly: Rule = {
  name: "load-balancers-https-only",
  description:
    "Application load balancers listen on HTTPS (TLS 1.2+) or redirect HTTP to HTTPS, and no listener rule on an HTTP listener serves instead of redirecting; TLS listeners use a TLS 1.2+ policy. Plain TCP on network load balancers (stratum) is not HTTP and is allowed.",
  enforcement: "production-only",
  remediation:
    "Use protocol HTTPS with an ELBSecurityPolicy-TLS13-1-2-* policy, or make the HTTP listener's default action and every rule on it a redirect to HTTPS.",
  equivalents: [
    "CKV_AWS_2",
    "CKV_AWS_103",
    "CKV2_AWS_20",
    "awsguard:alb-http-to-https-redirection",
    "AVD-AWS-0054",
    "AVD-AWS-0047",
    "[ELB.1]",
    "[ELB.17]",
  ],
  checkStack: (resources) => {
    const findings: Finding[] = [];
    const httpListeners = new Set<string>();
    for (const r of resources.filter((x) => LISTENER_TYPES.includes(x.type))) {
      const protocol = String(r.props.protocol ?? "HTTP").toUpperCase();
      if (protocol === "HTTP") {
        const arn = str(r.outputs.arn);
        if (arn) httpListeners.add(arn);
        if (!redirectsToHttps(actionsOf(r.props.defaultActions)))
          findings.push({ urn: r.urn, message: "HTTP listener serves traffic instead of redirecting to HTTPS" });
      } else if (protocol === "HTTPS" || protocol === "TLS") {
        const policy = str(r.props.sslPolicy);
        if (!policy || !TLS12_ELB.test(policy))
          findings.push({
            urn: r.urn,
            message: `${protocol} listener uses ${policy ?? "the default"} security policy; expected TLS 1.2 or newer`,
          });
      }
    }
    for (const rule of resources.filter((x) => LISTENER_RULE_TYPES.includes(x.type))) {
      const listener = str(rule.props.listenerArn);
      if (listener && httpListeners.has(listener) && !redirectsToHttps(actionsOf(rule.props.actions))) {
        findings.push({
          urn: rule.urn,
          message: `listener rule ${rule.name} on an HTTP listener serves traffic instead of redirecting to HTTPS`,
        });
      }
    }
    return findings;
  },
};

const RECOVERY_OPTIONS = {
  productionMinimumRecoveryWindowDays: {
    description: "Days a deleted production secret can still be restored (7 to 30; 0 would delete at once).",
    schema: { type: "integer", minimum: 7, maximum: 30 },
    default: 7,
  },
};

export const secretsRecoverable: Rule = {
  name: "secrets-have-recovery-window",
  description:
    "A deleted secret stays recoverable: recoveryWindowInDays is at least productionMinimumRecoveryWindowDays (7) in production; elsewhere (advisory) only 0, immediate deletion, is reported.",
  enforcement: "production-only",
  remediation: "Set recoveryWindowInDays to 7 or more (30 is the AWS default).",
  equivalents: [],
  options: RECOVERY_OPTIONS,
  resourceClasses: [aws.secretsmanager.Secret],
  checkResource: (r, ctx) => {
    const p = propsOf(r, aws.secretsmanager.Secret);
    if (!p) return [];
    const minimum = ctx.production ? optionsOf(ctx, RECOVERY_OPTIONS).productionMinimumRecoveryWindowDays : 1;
    // Unset means the AWS default, 30 days.
    const days = typeof p.recoveryWindowInDays === "number" ? p.recoveryWindowInDays : 30;
    return days < minimum
      ? [
          {
            message: `secret ${str(p.name) ?? r.name} has a recovery window of ${days} days (< ${minimum})${days === 0 ? ": deleting it deletes it at once" : ""}`,
          },
        ]
      : [];
  },
};

const LOAD_BALANCERS = [typeToken(aws.lb.LoadBalancer), typeToken(aws.alb.LoadBalancer)];

export const loadBalancersDeletionProtected: Rule = {
  name: "load-balancers-deletion-protected",
  description: "Production load balancers have deletion protection (their DNS names are what miners and callers use).",
  enforcement: "production-only",
  remediation: "Set enableDeletionProtection: true.",
  equivalents: ["CKV_AWS_150", "awsguard:elb-deletion-protection-enabled", "[ELB.6]"],
  resourceClasses: [aws.lb.LoadBalancer, aws.alb.LoadBalancer],
  checkResource: (r) => {
    if (!LOAD_BALANCERS.includes(r.type)) return [];
    return r.props.enableDeletionProtection === true
      ? []
      : [{ message: `load balancer ${str(r.props.name) ?? r.name} has no deletion protection` }];
  },
};

/** A finding that a resource's exception tag allows: reported as such, naming the config key that chose it. */
function allowedBy(resource: ResourceView, rule: string, message: string): Finding {
  const key = policyExceptionOf(resource, rule);
  return key ? { message: `allowed exception (adopted, ${key}): ${message}`, exception: true } : { message };
}

const RDS_STACK_KEY = "rds-storage-stack-key";

export const rdsStorageStackKey: Rule = {
  name: RDS_STACK_KEY,
  description:
    "RDS storage is encrypted with a KMS key this stack manages (its policy, rotation and grants are the stack's), not the account's AWS-managed aws/rds key that every principal with RDS access can use.",
  enforcement: "production-only",
  remediation:
    "Leave futures.notifications.database.kmsKeyArn unset (the stack's key). An adopted instance on another key moves by a snapshot copy with the stack's key and a restore (RDS cannot re-encrypt in place).",
  equivalents: [],
  checkStack: (resources) => {
    const keyArns = new Set(
      resources
        .filter((r) => r.type === "aws:kms/key:Key")
        .map((r) => str(r.outputs.arn))
        .filter((a): a is string => !!a),
    );
    const findings: Finding[] = [];
    for (const db of resources.filter(
      (r) => r.type === "aws:rds/instance:Instance" || r.type === "aws:rds/cluster:Cluster",
    )) {
      if (db.props.storageEncrypted !== true) continue; // rds-hardened reports unencrypted storage
      const key = str(db.props.kmsKeyId);
      // Without kmsKeyId RDS picks aws/rds; a key ARN is known in the plan, unknown in a first preview (nothing to tell then).
      const problem = !key
        ? `${db.name} is encrypted with the account's aws/rds key (no kmsKeyId)`
        : keyArns.size > 0 && /^arn:aws[a-z-]*:kms:/.test(key) && !keyArns.has(key)
          ? `${db.name} is encrypted with ${key}, which is not a key this stack manages`
          : undefined;
      if (problem) findings.push({ urn: db.urn, ...allowedBy(db, RDS_STACK_KEY, problem) });
    }
    return findings;
  },
};

const NLB_SECURITY_GROUPS = "nlb-security-groups";

export const nlbSecurityGroups: Rule = {
  name: NLB_SECURITY_GROUPS,
  description:
    "Network load balancers have security groups, so that the tasks behind them admit the load balancer alone and who may connect is filtered before the tasks.",
  enforcement: "production-only",
  remediation:
    "Leave publicEndpoint.securityGroups on. An adopted NLB made without them gets them only by a new NLB behind the same DNS name (an NLB takes security groups only at creation).",
  equivalents: [],
  checkResource: (r) => {
    if (r.type !== "aws:lb/loadBalancer:LoadBalancer" || r.props.loadBalancerType !== "network") return [];
    const groups = r.props.securityGroups;
    if (Array.isArray(groups) && groups.length > 0) return [];
    return [
      allowedBy(r, NLB_SECURITY_GROUPS, `network load balancer ${str(r.props.name) ?? r.name} has no security group`),
    ];
  },
};

export const DATA_SAFETY_RULES: readonly Rule[] = [
  statefulProtected,
  rdsHardened,
  rdsStorageStackKey,
  s3Hardened,
  logGroupsRetained,
  ecsCircuitBreaker,
  cloudfrontTls,
  loadBalancersHttpsOnly,
  secretsRecoverable,
  loadBalancersDeletionProtected,
  nlbSecurityGroups,
];
