/** Encryption in transit and at rest, and the logs an incident needs. */
import * as aws from "@pulumi/aws";
import { Finding, ResourceView, Rule, ofClass, parseDocument, propsOf, str, wildcardRegExp } from "./model";

export const queuesAndTopicsEncrypted: Rule = {
  name: "queues-and-topics-encrypted",
  description: "SQS queues are encrypted at rest (SQS-managed SSE or a KMS key); SNS topics have a KMS key.",
  enforcement: "mandatory",
  remediation:
    "On aws.sqs.Queue set sqsManagedSseEnabled: true or kmsMasterKeyId; on aws.sns.Topic set kmsMasterKeyId.",
  equivalents: ["CKV_AWS_27", "CKV_AWS_26", "AwsSolutions-SQS2", "AVD-AWS-0096", "AVD-AWS-0095", "[SQS.1]", "[SNS.1]"],
  resourceClasses: [aws.sqs.Queue, aws.sns.Topic],
  checkResource: (r) => {
    const queue = propsOf(r, aws.sqs.Queue);
    if (queue) {
      if (queue.sqsManagedSseEnabled === true || str(queue.kmsMasterKeyId)) return [];
      const why =
        queue.sqsManagedSseEnabled === false
          ? "is not encrypted at rest"
          : "does not say how it is encrypted at rest (set sqsManagedSseEnabled or kmsMasterKeyId)";
      return [{ message: `queue ${str(queue.name) ?? r.name} ${why}` }];
    }
    const topic = propsOf(r, aws.sns.Topic);
    if (topic)
      return str(topic.kmsMasterKeyId)
        ? []
        : [{ message: `topic ${str(topic.name) ?? r.name} is not encrypted at rest` }];
    return [];
  },
};

export const kmsKeysRotate: Rule = {
  name: "kms-keys-rotate",
  description: "Symmetric customer-managed KMS keys rotate their key material.",
  enforcement: "mandatory",
  remediation: "Set enableKeyRotation: true (and rotationPeriodInDays if a year is too long).",
  equivalents: [
    "CKV_AWS_7",
    "awsguard:cmk-backing-key-rotation-enabled",
    "AwsSolutions-KMS5",
    "AVD-AWS-0065",
    "[KMS.4]",
  ],
  resourceClasses: [aws.kms.Key],
  checkResource: (r) => {
    const key = propsOf(r, aws.kms.Key);
    if (!key) return [];
    const spec = str(key.customerMasterKeySpec) ?? "SYMMETRIC_DEFAULT";
    const usage = str(key.keyUsage) ?? "ENCRYPT_DECRYPT";
    // Only symmetric encryption keys can rotate automatically.
    if (spec !== "SYMMETRIC_DEFAULT" || usage !== "ENCRYPT_DECRYPT") return [];
    return key.enableKeyRotation === true ? [] : [{ message: `key ${str(key.description) ?? r.name} does not rotate` }];
  },
};

export const ecsExecLogged: Rule = {
  name: "ecs-exec-sessions-encrypted-and-logged",
  description:
    "Every ECS cluster encrypts ECS Exec sessions with a KMS key and logs them (logging OVERRIDE to an encrypted CloudWatch log group or S3 prefix), so a session a later deploy turns on is never unrecorded.",
  enforcement: "mandatory",
  remediation:
    'Set configuration.executeCommandConfiguration: { kmsKeyId, logging: "OVERRIDE", logConfiguration: { cloudWatchLogGroupName, cloudWatchEncryptionEnabled: true } } (the Cluster component does).',
  equivalents: ["CKV_AWS_224"],
  resourceClasses: [aws.ecs.Cluster],
  checkResource: (r) => {
    const cluster = propsOf(r, aws.ecs.Cluster);
    if (!cluster) return [];
    const exec = cluster.configuration?.executeCommandConfiguration;
    const problems: string[] = [];
    if (!str(exec?.kmsKeyId)) problems.push("ECS Exec sessions are not encrypted with a KMS key");
    const log = exec?.logConfiguration;
    const logged =
      exec?.logging === "OVERRIDE" &&
      ((str(log?.cloudWatchLogGroupName) && log?.cloudWatchEncryptionEnabled === true) ||
        (str(log?.s3BucketName) && log?.s3BucketEncryptionEnabled === true));
    if (!logged) problems.push("ECS Exec sessions are not logged to an encrypted destination (logging OVERRIDE)");
    return problems.map((p) => ({ message: `cluster ${str(cluster.name) ?? r.name}: ${p}` }));
  },
};

interface LoggedContainer {
  name?: string;
  logConfiguration?: { logDriver?: string };
}

export const containersLog: Rule = {
  name: "containers-have-log-configuration",
  description: "Every container of every task definition sends its output to a log driver.",
  enforcement: "mandatory",
  remediation:
    'Give each container a logConfiguration (logDriver "awslogs" with its log group), as ContainerService does.',
  equivalents: ["AwsSolutions-ECS7", "[ECS.9]"],
  resourceClasses: [aws.ecs.TaskDefinition],
  checkResource: (r) => {
    if (!propsOf(r, aws.ecs.TaskDefinition)) return [];
    if (r.secretPaths?.has("containerDefinitions")) return []; // no-secrets-in-plain-environment reports it; it cannot be read
    let containers: LoggedContainer[];
    try {
      containers = JSON.parse(String(r.props.containerDefinitions ?? "[]")) as LoggedContainer[];
    } catch {
      return [];
    }
    return containers
      .filter((c) => !str(c.logConfiguration?.logDriver))
      .map((c) => ({ message: `container ${c.name ?? "?"} has no log configuration` }));
  },
};

/** The log types each engine can export; the first is the one an incident needs. */
const ENGINE_LOGS: readonly [RegExp, readonly string[]][] = [
  [/postgres/, ["postgresql"]],
  [/mysql|mariadb/, ["error", "audit"]],
];

export const rdsExportsLogs: Rule = {
  name: "rds-exports-logs",
  description:
    "Databases export their engine log to CloudWatch Logs (PostgreSQL: postgresql; MySQL/MariaDB: error and audit).",
  enforcement: "mandatory",
  remediation: 'Set enabledCloudwatchLogsExports (for PostgreSQL ["postgresql", "upgrade"]).',
  equivalents: ["CKV_AWS_129", "CKV_AWS_324", "[RDS.9]"],
  resourceClasses: [aws.rds.Instance, aws.rds.Cluster],
  checkResource: (r) => {
    const p = propsOf(r, aws.rds.Instance) ?? propsOf(r, aws.rds.Cluster);
    if (!p) return [];
    const engine = String(p.engine ?? "");
    const wanted = ENGINE_LOGS.find(([re]) => re.test(engine))?.[1];
    if (!wanted) return [];
    const exported = (p.enabledCloudwatchLogsExports ?? []).map(String);
    const missing = wanted.filter((w) => !exported.includes(w));
    return missing.length
      ? [
          {
            message: `database ${str(r.props.identifier) ?? str(r.props.clusterIdentifier) ?? r.name} does not export ${missing.join(", ")} logs`,
          },
        ]
      : [];
  },
};

export const cloudfrontOriginsHttps: Rule = {
  name: "cloudfront-origins-https",
  description: "CloudFront reaches custom origins over HTTPS only, with TLS 1.2 (no SSLv3, TLSv1, TLSv1.1).",
  enforcement: "mandatory",
  remediation:
    'Set customOriginConfig.originProtocolPolicy "https-only" and originSslProtocols ["TLSv1.2"]; S3 origins use an origin access control.',
  equivalents: ["AwsSolutions-CFR5", "[CloudFront.9]", "[CloudFront.10]"],
  resourceClasses: [aws.cloudfront.Distribution],
  checkResource: (r) => {
    const p = propsOf(r, aws.cloudfront.Distribution);
    if (!p) return [];
    const findings: Finding[] = [];
    for (const origin of p.origins ?? []) {
      const custom = origin.customOriginConfig;
      if (!custom) continue;
      if (custom.originProtocolPolicy !== "https-only")
        findings.push({ message: `origin ${origin.originId} is reached over ${custom.originProtocolPolicy}` });
      const weak = (custom.originSslProtocols ?? []).filter((v) => v !== "TLSv1.2");
      if (weak.length) findings.push({ message: `origin ${origin.originId} allows ${weak.join(", ")}` });
    }
    return findings;
  },
};

/** Whether a parameter list sets `name` to one of the accepted values. */
const sets = (
  parameters: readonly { name?: string; value?: string }[] | undefined,
  name: string,
  values: readonly string[],
) => (parameters ?? []).some((x) => x.name === name && values.includes(String(x.value).toLowerCase()));

export const rdsRequiresTls: Rule = {
  name: "rds-requires-tls",
  description:
    "PostgreSQL databases refuse unencrypted connections (rds.force_ssl = 1 in their parameter group; MySQL/MariaDB: require_secure_transport = ON).",
  enforcement: "mandatory",
  remediation:
    "Give the database its own parameter group with rds.force_ssl = 1 (PostgreSQL) or require_secure_transport = ON (MySQL, MariaDB).",
  equivalents: ["CKV2_AWS_69"],
  checkStack: (resources) => {
    const groups = new Map<string, ResourceView>();
    for (const { view, props } of [
      ...ofClass(resources, aws.rds.ParameterGroup),
      ...ofClass(resources, aws.rds.ClusterParameterGroup),
    ]) {
      for (const ref of [str(props.name), str(view.outputs.id), str(view.outputs.name)]) if (ref) groups.set(ref, view);
    }
    const findings: Finding[] = [];
    const check = (view: ResourceView, engine: string, groupName: string | undefined, label: string) => {
      const [parameter, values] = /postgres/.test(engine)
        ? ["rds.force_ssl", ["1"]]
        : /mysql|mariadb/.test(engine)
          ? ["require_secure_transport", ["on", "1"]]
          : [undefined, []];
      if (!parameter) return;
      const group = groupName ? groups.get(groupName) : undefined;
      if (groupName && !group) return; // a group of another stack: cannot be read here
      const parameters = group?.props.parameters as { name?: string; value?: string }[] | undefined;
      if (!group || !sets(parameters, parameter, values))
        findings.push({
          urn: view.urn,
          message: `${label} does not set ${parameter} = ${values[0]} in ${groupName ? `parameter group ${groupName}` : "a parameter group of its own (the default group)"}`,
        });
    };
    for (const { view, props } of ofClass(resources, aws.rds.Instance)) {
      // An Aurora instance takes TLS settings from its cluster's parameter group.
      if (/aurora/.test(String(props.engine ?? ""))) continue;
      check(
        view,
        String(props.engine ?? ""),
        str(props.parameterGroupName),
        `database ${str(props.identifier) ?? view.name}`,
      );
    }
    for (const { view, props } of ofClass(resources, aws.rds.Cluster)) {
      check(
        view,
        String(props.engine ?? ""),
        str(props.dbClusterParameterGroupName),
        `cluster ${str(props.clusterIdentifier) ?? view.name}`,
      );
    }
    return findings;
  },
};

/** Whether a bucket policy denies every request without TLS on the bucket and its objects. */
function deniesPlainHttp(policy: unknown, bucket: string): boolean {
  return (parseDocument(policy) ?? []).some((s) => {
    if (s.effect !== "Deny") return false;
    const everyone =
      s.principal === "*" ||
      (typeof s.principal === "object" &&
        s.principal !== null &&
        [(s.principal as { AWS?: unknown }).AWS].flat().includes("*"));
    const insecure = Object.entries(s.condition).some(
      ([op, block]) =>
        /^Bool/i.test(op) &&
        Object.entries(block).some(([k, v]) => k.toLowerCase() === "aws:securetransport" && v.includes("false")),
    );
    const allActions = s.actions.some((a) => a === "*" || a === "s3:*");
    const covers = (arn: string) => s.resources.some((res) => wildcardRegExp(res).test(arn));
    return everyone && insecure && allActions && covers(`arn:aws:s3:::${bucket}`) && covers(`arn:aws:s3:::${bucket}/x`);
  });
}

export const bucketsRequireTls: Rule = {
  name: "buckets-require-tls",
  description:
    'Every bucket\'s policy denies all requests without TLS (Deny "*" s3:* on the bucket and its objects when aws:SecureTransport is false).',
  enforcement: "mandatory",
  remediation:
    'Add a BucketPolicy statement: Effect Deny, Principal "*", Action s3:*, Resource [bucket ARN, bucket ARN/*], Condition Bool aws:SecureTransport false (privateBucket does).',
  equivalents: ["AwsSolutions-S10", "[S3.5]"],
  checkStack: (resources) => {
    const policies = ofClass(resources, aws.s3.BucketPolicy);
    const findings: Finding[] = [];
    for (const bucket of resources.filter(
      (r) => r.type === "aws:s3/bucket:Bucket" || r.type === "aws:s3/bucketV2:BucketV2",
    )) {
      const name = str(bucket.outputs.bucket) ?? str(bucket.props.bucket) ?? str(bucket.outputs.id);
      if (!name) continue; // not known yet
      const refs = [name, str(bucket.outputs.id)].filter(Boolean);
      const own = policies.filter(({ props }) => refs.includes(str(props.bucket)));
      if (
        !own.some(({ props }) => deniesPlainHttp(props.policy, name)) &&
        !deniesPlainHttp(bucket.props.policy, name)
      ) {
        findings.push({ urn: bucket.urn, message: `bucket ${name} does not deny requests without TLS` });
      }
    }
    return findings;
  },
};

export const ENCRYPTION_LOGGING_RULES: readonly Rule[] = [
  queuesAndTopicsEncrypted,
  kmsKeysRotate,
  ecsExecLogged,
  containersLog,
  rdsExportsLogs,
  cloudfrontOriginsHttps,
  rdsRequiresTls,
  bucketsRequireTls,
];
