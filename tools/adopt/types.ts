/**
 * The Terraform ↔ Pulumi type table for adoption: per Pulumi type, the Terraform types
 * that hold the same AWS object, how each side names it (its physical identity: names,
 * ARNs, the values the provider imports by; never the offline plan's mock ids), and
 * the id `pulumi import` takes for it (the "Import" section of each @pulumi/aws v7
 * resource; composite ids included).
 */
import type { CapturedResource } from "../harness";
import type { Attributes, TfInstance } from "./tfstate";

/** What the rules may ask about the live state beyond one instance. */
export interface LiveIndex {
  /** Security group id → name. */
  readonly securityGroupName: ReadonlyMap<string, string>;
  /** KMS key id → the alias names that target it. */
  readonly keyAliases: ReadonlyMap<string, readonly string[]>;
  /** Secret ARN → name. */
  readonly secretName: ReadonlyMap<string, string>;
  /** CloudFront distribution id → its identity (aliases). */
  readonly distributionAliases: ReadonlyMap<string, string>;
}

/** What the rules may ask about the plan beyond one resource (lookups by the mock ids the plan holds). */
export interface PlanIndex {
  readonly byId: ReadonlyMap<string, CapturedResource>;
  readonly byType: ReadonlyMap<string, readonly CapturedResource[]>;
}

export interface TypeRule {
  readonly pulumiType: string;
  readonly tfTypes: readonly string[];
  /** False for Pulumi types that hold no AWS object of their own (a certificate validation is a wait). */
  readonly importable: boolean;
  /** The live instance's identity; undefined when it has none this rule knows (then it stays unmatched). */
  live(a: Attributes, live: LiveIndex): string | undefined;
  /** The planned resource's identity, from the names the program gives it. */
  planned(r: CapturedResource, plan: PlanIndex): string | undefined;
  /** The id `pulumi import` takes for this type, from the live attributes. */
  importId(a: Attributes): string | undefined;
}

const s = (v: unknown): string | undefined =>
  typeof v === "string" && v !== "" ? v : typeof v === "number" ? String(v) : undefined;
const last = (v: unknown, sep = "/"): string | undefined => s(v)?.split(sep).pop();
/** The unqualified function in an identity (`join` drops a part that is empty, so "" would match nothing). */
const NO_QUALIFIER = "$LATEST-or-unqualified";
const join = (...parts: unknown[]): string | undefined =>
  parts.every((p) => s(p) !== undefined) ? parts.map((p) => s(p)).join("|") : undefined;
/** `arn:...:loadbalancer/net/<name>/<hash>` → name. */
const lbName = (arn: unknown): string | undefined =>
  /:loadbalancer\/(?:net|app|gwy)\/([^/]+)\//.exec(s(arn) ?? "")?.[1];
/** A function given by name or ARN → name. */
const functionName = (v: unknown): string | undefined => {
  const text = s(v);
  if (!text) return undefined;
  return text.startsWith("arn:") ? /:function:([^:]+)/.exec(text)?.[1] : text.split(":")[0];
};
const dnsName = (v: unknown): string | undefined => s(v)?.toLowerCase().replace(/\.$/, "");
const inputs = (r: CapturedResource): Record<string, unknown> => r.inputs;

/** A type named by one attribute on both sides, imported by that name or another attribute. */
function byName(
  pulumiType: string,
  tfTypes: string[],
  tfName: string,
  pulumiName: string,
  importBy: string = tfName,
): TypeRule {
  return {
    pulumiType,
    tfTypes,
    importable: true,
    live: (a) => s(a[tfName]),
    planned: (r) => s(inputs(r)[pulumiName]),
    importId: (a) => s(a[importBy]),
  };
}

/** S3 bucket configuration resources: one per bucket, imported by the bucket (and the expected owner, when set). */
function bucketPart(pulumiType: string, tfType: string): TypeRule {
  return {
    pulumiType,
    tfTypes: [tfType],
    importable: true,
    live: (a) => s(a.bucket),
    planned: (r) => s(inputs(r).bucket),
    importId: (a) => (s(a.expected_bucket_owner) ? `${s(a.bucket)},${s(a.expected_bucket_owner)}` : s(a.bucket)),
  };
}

/** A security group rule's identity: direction, group, protocol, ports and the one peer. */
export function ruleKey(
  direction: "ingress" | "egress",
  group: string | undefined,
  protocol: unknown,
  from: unknown,
  to: unknown,
  peer: string | undefined,
): string | undefined {
  if (!group || !peer) return undefined;
  const proto = normalizeProtocol(s(protocol));
  const all = proto === "-1";
  return [direction, group, proto, all ? "" : (s(from) ?? ""), all ? "" : (s(to) ?? ""), peer].join("|");
}

export function normalizeProtocol(p: string | undefined): string {
  const map: Record<string, string> = { "6": "tcp", "17": "udp", "1": "icmp", all: "-1" };
  return p === undefined ? "-1" : (map[p.toLowerCase()] ?? p.toLowerCase());
}

function vpcRule(direction: "ingress" | "egress"): TypeRule {
  const pulumiType =
    direction === "ingress"
      ? "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
      : "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule";
  return {
    pulumiType,
    tfTypes: [`aws_vpc_security_group_${direction}_rule`, "aws_security_group_rule"],
    importable: true,
    live: (a, live) => {
      if (a.type !== undefined && a.type !== direction) return undefined; // aws_security_group_rule has both directions
      const group = live.securityGroupName.get(s(a.security_group_id) ?? "");
      if (a.type !== undefined) {
        // aws_security_group_rule: one AWS rule only when it has one peer.
        const peers = [...list(a.cidr_blocks), ...list(a.ipv6_cidr_blocks), ...list(a.prefix_list_ids)];
        const sg = s(a.source_security_group_id);
        if (a.self === true || peers.length + (sg ? 1 : 0) !== 1) return undefined;
        const peer = sg ? `sg:${live.securityGroupName.get(sg) ?? sg}` : peerOf(peers[0]);
        return ruleKey(direction, group, a.protocol, a.from_port, a.to_port, peer);
      }
      const ref = s(a.referenced_security_group_id);
      const peer = ref
        ? `sg:${live.securityGroupName.get(ref) ?? ref}`
        : peerOf(s(a.cidr_ipv4) ?? s(a.cidr_ipv6) ?? s(a.prefix_list_id));
      return ruleKey(direction, group, a.ip_protocol, a.from_port, a.to_port, peer);
    },
    planned: (r, plan) => {
      const i = inputs(r);
      const group = s(plan.byId.get(s(i.securityGroupId) ?? "")?.inputs.name);
      const ref = s(i.referencedSecurityGroupId);
      const peer = ref
        ? `sg:${s(plan.byId.get(ref)?.inputs.name) ?? ref}`
        : peerOf(s(i.cidrIpv4) ?? s(i.cidrIpv6) ?? s(i.prefixListId));
      return ruleKey(direction, group, i.ipProtocol, i.fromPort, i.toPort, peer);
    },
    importId: (a) => s(a.security_group_rule_id),
  };
}

export function peerOf(value: string | undefined): string | undefined {
  if (!value) return undefined;
  return value.startsWith("pl-") ? `pl:${value}` : `cidr:${value}`;
}

function list(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
}

function certificateKey(domain: unknown, sans: unknown): string | undefined {
  const d = dnsName(domain);
  if (!d) return undefined;
  const rest = [...new Set(list(sans).map((n) => dnsName(n) as string))].filter((n) => n !== d).sort();
  return [d, ...rest].join(",");
}

function recordKey(name: unknown, type: unknown, setIdentifier: unknown): string | undefined {
  const n = dnsName(name);
  return n && s(type) ? `${n}|${s(type)}|${s(setIdentifier) ?? ""}` : undefined;
}

const bus = (v: unknown): string => s(v) ?? "default";

export const TYPE_RULES: readonly TypeRule[] = [
  byName("aws:ecs/cluster:Cluster", ["aws_ecs_cluster"], "name", "name"),
  byName(
    "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders",
    ["aws_ecs_cluster_capacity_providers"],
    "cluster_name",
    "clusterName",
  ),
  {
    pulumiType: "aws:ecs/service:Service",
    tfTypes: ["aws_ecs_service"],
    importable: true,
    live: (a) => (last(a.cluster) && s(a.name) ? `${last(a.cluster)}/${s(a.name)}` : undefined),
    planned: (r) =>
      last(inputs(r).cluster) && s(inputs(r).name) ? `${last(inputs(r).cluster)}/${s(inputs(r).name)}` : undefined,
    importId: (a) => (last(a.cluster) && s(a.name) ? `${last(a.cluster)}/${s(a.name)}` : undefined),
  },
  byName("aws:ecs/taskDefinition:TaskDefinition", ["aws_ecs_task_definition"], "family", "family", "arn"),
  byName("aws:iam/role:Role", ["aws_iam_role"], "name", "name"),
  {
    pulumiType: "aws:iam/rolePolicy:RolePolicy",
    tfTypes: ["aws_iam_role_policy"],
    importable: true,
    live: (a) => (s(a.role) && s(a.name) ? `${last(a.role)}:${s(a.name)}` : undefined),
    planned: (r) =>
      s(inputs(r).role) && s(inputs(r).name) ? `${last(inputs(r).role)}:${s(inputs(r).name)}` : undefined,
    importId: (a) => (s(a.role) && s(a.name) ? `${last(a.role)}:${s(a.name)}` : undefined),
  },
  {
    pulumiType: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    tfTypes: ["aws_iam_role_policy_attachment"],
    importable: true,
    live: (a) => (s(a.role) && s(a.policy_arn) ? `${last(a.role)}/${s(a.policy_arn)}` : undefined),
    planned: (r) =>
      s(inputs(r).role) && s(inputs(r).policyArn) ? `${last(inputs(r).role)}/${s(inputs(r).policyArn)}` : undefined,
    importId: (a) => (s(a.role) && s(a.policy_arn) ? `${last(a.role)}/${s(a.policy_arn)}` : undefined),
  },
  byName("aws:iam/policy:Policy", ["aws_iam_policy"], "name", "name", "arn"),
  {
    pulumiType: "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
    tfTypes: ["aws_iam_openid_connect_provider"],
    importable: true,
    live: (a) => s(a.url)?.replace(/^https:\/\//, ""),
    planned: (r) => s(inputs(r).url)?.replace(/^https:\/\//, ""),
    importId: (a) => s(a.arn),
  },
  {
    // A key has no name: it is known by the aliases that target it.
    pulumiType: "aws:kms/key:Key",
    tfTypes: ["aws_kms_key"],
    importable: true,
    live: (a, live) =>
      live.keyAliases
        .get(s(a.key_id) ?? s(a.id) ?? "")
        ?.slice()
        .sort()
        .join(",") || undefined,
    planned: (r, plan) =>
      (plan.byType.get("aws:kms/alias:Alias") ?? [])
        .filter((alias) => alias.inputs.targetKeyId === r.id || alias.inputs.targetKeyId === r.outputs.arn)
        .map((alias) => s(alias.inputs.name) as string)
        .sort()
        .join(",") || undefined,
    importId: (a) => s(a.key_id) ?? s(a.id),
  },
  byName("aws:kms/alias:Alias", ["aws_kms_alias"], "name", "name"),
  byName("aws:lambda/function:Function", ["aws_lambda_function"], "function_name", "name"),
  {
    pulumiType: "aws:lambda/permission:Permission",
    tfTypes: ["aws_lambda_permission"],
    importable: true,
    live: (a) => join(functionName(a.function_name), s(a.qualifier) ?? NO_QUALIFIER, a.statement_id),
    planned: (r) =>
      join(functionName(inputs(r).function), s(inputs(r).qualifier) ?? NO_QUALIFIER, inputs(r).statementId),
    importId: (a) => {
      const fn = functionName(a.function_name);
      return fn && s(a.statement_id)
        ? `${fn}${s(a.qualifier) ? `:${s(a.qualifier)}` : ""}/${s(a.statement_id)}`
        : undefined;
    },
  },
  {
    pulumiType: "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig",
    tfTypes: ["aws_lambda_function_event_invoke_config"],
    importable: true,
    live: (a) => join(functionName(a.function_name), s(a.qualifier) ?? NO_QUALIFIER),
    planned: (r) => join(functionName(inputs(r).functionName), s(inputs(r).qualifier) ?? NO_QUALIFIER),
    importId: (a) => {
      const fn = functionName(a.function_name);
      return fn ? `${fn}${s(a.qualifier) ? `:${s(a.qualifier)}` : ""}` : undefined;
    },
  },
  {
    pulumiType: "aws:cloudwatch/eventRule:EventRule",
    tfTypes: ["aws_cloudwatch_event_rule"],
    importable: true,
    live: (a) => join(bus(a.event_bus_name), a.name),
    planned: (r) => join(bus(inputs(r).eventBusName), inputs(r).name),
    importId: (a) => (bus(a.event_bus_name) === "default" ? s(a.name) : `${bus(a.event_bus_name)}/${s(a.name)}`),
  },
  {
    pulumiType: "aws:cloudwatch/eventTarget:EventTarget",
    tfTypes: ["aws_cloudwatch_event_target"],
    importable: true,
    live: (a) => join(bus(a.event_bus_name), a.rule, a.target_id),
    planned: (r) => join(bus(inputs(r).eventBusName), inputs(r).rule, inputs(r).targetId),
    importId: (a) =>
      s(a.rule) && s(a.target_id)
        ? `${bus(a.event_bus_name) === "default" ? "" : `${bus(a.event_bus_name)}/`}${s(a.rule)}/${s(a.target_id)}`
        : undefined,
  },
  byName("aws:cloudwatch/logGroup:LogGroup", ["aws_cloudwatch_log_group"], "name", "name"),
  {
    pulumiType: "aws:cloudwatch/logMetricFilter:LogMetricFilter",
    tfTypes: ["aws_cloudwatch_log_metric_filter"],
    importable: true,
    live: (a) => join(a.log_group_name, a.name),
    planned: (r) => join(inputs(r).logGroupName, inputs(r).name),
    importId: (a) => (s(a.log_group_name) && s(a.name) ? `${s(a.log_group_name)}:${s(a.name)}` : undefined),
  },
  byName("aws:cloudwatch/metricAlarm:MetricAlarm", ["aws_cloudwatch_metric_alarm"], "alarm_name", "name"),
  byName("aws:cloudwatch/compositeAlarm:CompositeAlarm", ["aws_cloudwatch_composite_alarm"], "alarm_name", "alarmName"),
  byName("aws:cloudwatch/dashboard:Dashboard", ["aws_cloudwatch_dashboard"], "dashboard_name", "dashboardName"),
  byName("aws:sqs/queue:Queue", ["aws_sqs_queue"], "name", "name", "url"),
  {
    pulumiType: "aws:sqs/queuePolicy:QueuePolicy",
    tfTypes: ["aws_sqs_queue_policy"],
    importable: true,
    live: (a) => last(a.queue_url),
    planned: (r) => last(inputs(r).queueUrl),
    importId: (a) => s(a.queue_url),
  },
  byName("aws:ssm/parameter:Parameter", ["aws_ssm_parameter"], "name", "name"),
  byName("aws:secretsmanager/secret:Secret", ["aws_secretsmanager_secret"], "name", "name", "arn"),
  {
    pulumiType: "aws:secretsmanager/secretVersion:SecretVersion",
    tfTypes: ["aws_secretsmanager_secret_version"],
    importable: true,
    live: (a, live) =>
      live.secretName.get(s(a.secret_id) ?? "") ?? s(a.secret_id)?.replace(/^arn:.*:secret:(.+)-[A-Za-z0-9]{6}$/, "$1"),
    planned: (r, plan) => s(plan.byId.get(s(inputs(r).secretId) ?? "")?.inputs.name) ?? s(inputs(r).secretId),
    importId: (a) =>
      s(a.id)?.includes("|")
        ? s(a.id)
        : s(a.secret_id) && s(a.version_id)
          ? `${s(a.secret_id)}|${s(a.version_id)}`
          : undefined,
  },
  byName("aws:s3/bucket:Bucket", ["aws_s3_bucket"], "bucket", "bucket"),
  bucketPart("aws:s3/bucketPolicy:BucketPolicy", "aws_s3_bucket_policy"),
  bucketPart("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "aws_s3_bucket_public_access_block"),
  bucketPart("aws:s3/bucketOwnershipControls:BucketOwnershipControls", "aws_s3_bucket_ownership_controls"),
  bucketPart("aws:s3/bucketVersioning:BucketVersioning", "aws_s3_bucket_versioning"),
  bucketPart(
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws_s3_bucket_server_side_encryption_configuration",
  ),
  bucketPart(
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws_s3_bucket_lifecycle_configuration",
  ),
  {
    pulumiType: "aws:s3/bucketObjectv2:BucketObjectv2",
    tfTypes: ["aws_s3_object"],
    importable: true,
    live: (a) => (s(a.bucket) && s(a.key) ? `${s(a.bucket)}/${s(a.key)}` : undefined),
    planned: (r) =>
      s(inputs(r).bucket) && s(inputs(r).key) ? `${s(inputs(r).bucket)}/${s(inputs(r).key)}` : undefined,
    importId: (a) => (s(a.bucket) && s(a.key) ? `${s(a.bucket)}/${s(a.key)}` : undefined),
  },
  byName("aws:lb/loadBalancer:LoadBalancer", ["aws_lb", "aws_alb"], "name", "name", "arn"),
  byName("aws:lb/targetGroup:TargetGroup", ["aws_lb_target_group", "aws_alb_target_group"], "name", "name", "arn"),
  {
    pulumiType: "aws:lb/listener:Listener",
    tfTypes: ["aws_lb_listener", "aws_alb_listener"],
    importable: true,
    live: (a) => join(lbName(a.load_balancer_arn), a.port),
    planned: (r) => join(lbName(inputs(r).loadBalancerArn), inputs(r).port),
    importId: (a) => s(a.arn),
  },
  {
    pulumiType: "aws:route53/record:Record",
    tfTypes: ["aws_route53_record"],
    importable: true,
    live: (a) => recordKey(a.fqdn ?? a.name, a.type, a.set_identifier),
    planned: (r) => recordKey(inputs(r).name, inputs(r).type, inputs(r).setIdentifier),
    importId: (a) => {
      if (/^Z[A-Z0-9]+_/.test(s(a.id) ?? "")) return s(a.id);
      const name = dnsName(a.fqdn ?? a.name);
      return s(a.zone_id) && name && s(a.type)
        ? [a.zone_id, name, a.type, ...(s(a.set_identifier) ? [a.set_identifier] : [])].join("_")
        : undefined;
    },
  },
  {
    pulumiType: "aws:route53/healthCheck:HealthCheck",
    tfTypes: ["aws_route53_health_check"],
    importable: true,
    live: (a) => join(a.type, dnsName(a.fqdn) ?? a.ip_address, a.port ?? "", a.resource_path ?? ""),
    planned: (r) =>
      join(
        inputs(r).type,
        dnsName(inputs(r).fqdn) ?? inputs(r).ipAddress,
        inputs(r).port ?? "",
        inputs(r).resourcePath ?? "",
      ),
    importId: (a) => s(a.id),
  },
  byName("aws:rds/instance:Instance", ["aws_db_instance"], "identifier", "identifier"),
  byName("aws:rds/parameterGroup:ParameterGroup", ["aws_db_parameter_group"], "name", "name"),
  byName("aws:rds/subnetGroup:SubnetGroup", ["aws_db_subnet_group"], "name", "name"),
  {
    pulumiType: "aws:acm/certificate:Certificate",
    tfTypes: ["aws_acm_certificate"],
    importable: true,
    live: (a) => certificateKey(a.domain_name, a.subject_alternative_names),
    planned: (r) => certificateKey(inputs(r).domainName, inputs(r).subjectAlternativeNames),
    importId: (a) => s(a.arn),
  },
  {
    pulumiType: "aws:acm/certificateValidation:CertificateValidation",
    tfTypes: ["aws_acm_certificate_validation"],
    importable: false,
    live: () => undefined,
    planned: () => undefined,
    importId: () => undefined,
  },
  {
    pulumiType: "aws:cloudfront/distribution:Distribution",
    tfTypes: ["aws_cloudfront_distribution"],
    importable: true,
    live: (a) =>
      list(a.aliases)
        .map((n) => dnsName(n))
        .sort()
        .join(",") || undefined,
    planned: (r) =>
      list(inputs(r).aliases)
        .map((n) => dnsName(n))
        .sort()
        .join(",") || undefined,
    importId: (a) => s(a.id),
  },
  byName(
    "aws:cloudfront/originAccessControl:OriginAccessControl",
    ["aws_cloudfront_origin_access_control"],
    "name",
    "name",
    "id",
  ),
  byName(
    "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy",
    ["aws_cloudfront_response_headers_policy"],
    "name",
    "name",
    "id",
  ),
  {
    pulumiType: "aws:cloudfront/monitoringSubscription:MonitoringSubscription",
    tfTypes: ["aws_cloudfront_monitoring_subscription"],
    importable: true,
    live: (a, live) => live.distributionAliases.get(s(a.distribution_id) ?? ""),
    planned: (r, plan) => {
      const d = plan.byId.get(s(inputs(r).distributionId) ?? "");
      return d
        ? list(d.inputs.aliases)
            .map((n) => dnsName(n))
            .sort()
            .join(",") || undefined
        : undefined;
    },
    importId: (a) => s(a.distribution_id),
  },
  {
    pulumiType: "aws:wafv2/webAcl:WebAcl",
    tfTypes: ["aws_wafv2_web_acl"],
    importable: true,
    live: (a) => join(a.scope, a.name),
    planned: (r) => join(inputs(r).scope, inputs(r).name),
    importId: (a) => (s(a.id) && s(a.name) && s(a.scope) ? `${s(a.id)}/${s(a.name)}/${s(a.scope)}` : undefined),
  },
  byName("aws:ec2/securityGroup:SecurityGroup", ["aws_security_group"], "name", "name", "id"),
  vpcRule("ingress"),
  vpcRule("egress"),
  byName("aws:synthetics/canary:Canary", ["aws_synthetics_canary"], "name", "name"),
];

export const RULE_BY_PULUMI_TYPE: ReadonlyMap<string, TypeRule> = new Map(TYPE_RULES.map((r) => [r.pulumiType, r]));

/** The rules a Terraform type may match (aws_security_group_rule: ingress or egress). */
export function rulesForTfType(tfType: string): TypeRule[] {
  return TYPE_RULES.filter((r) => r.tfTypes.includes(tfType));
}

/** Terraform types that hold no AWS object to adopt, with why (they are dropped from Terraform's state only). */
export const NOTHING_TO_ADOPT: Readonly<Record<string, string>> = {
  aws_acm_certificate_validation: "a wait for DNS validation, not an AWS object",
  null_resource: "not an AWS object",
  terraform_data: "not an AWS object",
  random_id: "not an AWS object",
  random_string: "not an AWS object",
  local_file: "a file on the machine that ran Terraform",
  archive_file: "a file on the machine that ran Terraform",
};

export type { TfInstance };
