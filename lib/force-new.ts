/**
 * Which input changes replace a resource instead of updating it, per Pulumi AWS type.
 *
 * The facts come from terraform-provider-aws v6 (the provider pulumi-aws 7 bridges):
 * attributes marked `ForceNew: true` (or `RequiresReplace` in plugin-framework resources)
 * in the resource's schema, plus the rules the schema does not mark (a CustomizeDiff, or
 * an AWS API limit the bridge turns into a replacement). Each fact without a `why` is a
 * schema fact; each with one says where it comes from.
 *
 * Paths use the Pulumi input names (camelCase, as in the plan JSON's `inputs`):
 * - `a.b` is key `b` of the object at key `a` (a block with at most one item is an object);
 * - `a[*].b` is key `b` of every element of the array at `a` (a list or set of blocks);
 * - values under `[*]` are compared as a multiset (order ignored: most such blocks are sets).
 * An absent value and `undefined` are the same; `null` counts as absent.
 */
import { STATEFUL_TYPES } from "./stateful-types";

/** When a fact applies, beyond "the value changed". */
export type ForceNewCondition =
  /** The value went from empty (absent, `[]`) to non-empty, or back. */
  | "emptiness-changed"
  /** An element of the array was removed (adding elements updates in place). */
  | "element-removed";

export interface ForceNewFact {
  /** The input path (syntax in the module comment). */
  readonly path: string;
  /** Why, when it is not a plain schema fact. */
  readonly why?: string;
  /** Replacement only on this kind of change; default: any change of the value. */
  readonly when?: ForceNewCondition;
  /** Applies only when the input at `path` (after the change) has `equals` as its value. */
  readonly onlyIf?: { readonly path: string; readonly equals: unknown };
}

export interface ReplacementReason {
  readonly path: string;
  readonly before: unknown;
  readonly after: unknown;
  readonly why?: string;
}

const NAME = "the physical name is the resource's identity: a new name is a new resource";
const NLB = { path: "loadBalancerType", equals: "network" } as const;

/** Every AWS resource of provider v6 takes a `region`; another region is another resource. */
const REGION: ForceNewFact = { path: "region", why: "a resource cannot move between regions" };

const named = (...paths: string[]): ForceNewFact[] => paths.map((path) => ({ path, why: NAME }));
const schema = (...paths: string[]): ForceNewFact[] => paths.map((path) => ({ path }));

const FACTS: Record<string, readonly ForceNewFact[]> = {
  "aws:acm/certificate:Certificate": [
    ...schema(
      "domainName",
      "subjectAlternativeNames",
      "validationMethod",
      "keyAlgorithm",
      "certificateAuthorityArn",
      "validationOptions[*].domainName",
      "validationOptions[*].validationDomain",
    ),
  ],
  "aws:acm/certificateValidation:CertificateValidation": schema("certificateArn", "validationRecordFqdns"),
  "aws:cloudfront/distribution:Distribution": [],
  "aws:cloudfront/monitoringSubscription:MonitoringSubscription": schema("distributionId"),
  "aws:cloudfront/originAccessControl:OriginAccessControl": [],
  "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy": [],
  "aws:cloudwatch/compositeAlarm:CompositeAlarm": named("alarmName"),
  "aws:cloudwatch/dashboard:Dashboard": named("dashboardName"),
  "aws:cloudwatch/eventRule:EventRule": [...named("name", "namePrefix"), ...schema("eventBusName")],
  "aws:cloudwatch/eventTarget:EventTarget": schema("rule", "targetId", "eventBusName"),
  "aws:cloudwatch/logGroup:LogGroup": [...named("name", "namePrefix"), ...schema("logGroupClass")],
  "aws:cloudwatch/logMetricFilter:LogMetricFilter": [...named("name"), ...schema("logGroupName")],
  "aws:cloudwatch/metricAlarm:MetricAlarm": named("name"),
  "aws:ec2/securityGroup:SecurityGroup": [
    ...named("name", "namePrefix"),
    { path: "description", why: "EC2 has no call to change a security group's description" },
    ...schema("vpcId"),
  ],
  "aws:ecs/cluster:Cluster": named("name"),
  "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders": schema("clusterName"),
  "aws:ecs/service:Service": [
    ...named("name"),
    ...schema("cluster", "iamRole", "launchType", "schedulingStrategy", "deploymentController.type"),
  ],
  "aws:ecs/taskDefinition:TaskDefinition": [
    // A task definition revision is immutable: a "replacement" registers a new revision
    // (and, with skipDestroy, keeps the old one for rollbacks).
    ...schema(
      "family",
      "containerDefinitions",
      "taskRoleArn",
      "executionRoleArn",
      "networkMode",
      "cpu",
      "memory",
      "volumes",
      "requiresCompatibilities",
      "runtimePlatform",
      "ephemeralStorage",
      "proxyConfiguration",
      "placementConstraints",
      "inferenceAccelerators",
      "ipcMode",
      "pidMode",
      "enableFaultInjection",
    ),
  ],
  "aws:iam/openIdConnectProvider:OpenIdConnectProvider": schema("url"),
  "aws:iam/role:Role": [...named("name", "namePrefix"), ...schema("path")],
  "aws:iam/rolePolicy:RolePolicy": [...named("name", "namePrefix"), ...schema("role")],
  "aws:iam/rolePolicyAttachment:RolePolicyAttachment": schema("role", "policyArn"),
  "aws:iam/policy:Policy": [...named("name", "namePrefix"), ...schema("path", "description")],
  "aws:kms/alias:Alias": named("name", "namePrefix"),
  "aws:kms/key:Key": schema("customerMasterKeySpec", "keyUsage", "multiRegion", "customKeyStoreId", "xksKeyId"),
  "aws:lambda/function:Function": [...named("name"), ...schema("packageType")],
  "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig": schema("functionName", "qualifier"),
  "aws:lambda/permission:Permission": [
    // Lambda has no call to change a statement of a function's policy: every argument is ForceNew.
    ...schema(
      "action",
      "eventSourceToken",
      "function",
      "functionUrlAuthType",
      "principal",
      "principalOrgId",
      "qualifier",
      "sourceAccount",
      "sourceArn",
      "statementId",
      "statementIdPrefix",
    ),
  ],
  "aws:lb/listener:Listener": schema("loadBalancerArn"),
  "aws:lb/loadBalancer:LoadBalancer": [
    ...named("name", "namePrefix"),
    ...schema("internal", "loadBalancerType", "customerOwnedIpv4Pool"),
    {
      path: "securityGroups",
      when: "emptiness-changed",
      onlyIf: NLB,
      why: "a Network Load Balancer takes security groups only at creation: adding them to one created without, or removing all, makes a new NLB (changing a non-empty set updates in place)",
    },
    {
      path: "subnets",
      when: "element-removed",
      onlyIf: NLB,
      why: "a Network Load Balancer cannot leave a subnet (it can join one)",
    },
    {
      path: "subnetMappings[*].subnetId",
      when: "element-removed",
      onlyIf: NLB,
      why: "a Network Load Balancer cannot leave a subnet (it can join one)",
    },
  ],
  "aws:lb/targetGroup:TargetGroup": [
    ...named("name", "namePrefix"),
    ...schema("port", "protocol", "protocolVersion", "targetType", "vpcId", "ipAddressType"),
  ],
  "aws:rds/instance:Instance": [
    ...named("identifier", "identifierPrefix"),
    ...schema(
      "availabilityZone",
      "characterSetName",
      "ncharCharacterSetName",
      "customIamInstanceProfile",
      "dbName",
      "engine",
      "restoreToPointInTime",
      "s3Import",
      "snapshotIdentifier",
      "timezone",
      "username",
    ),
    {
      path: "kmsKeyId",
      why: "RDS cannot re-encrypt an instance in place: a new key is a new instance (restored from a snapshot copy, or empty)",
    },
    { path: "storageEncrypted", why: "RDS cannot encrypt or decrypt an instance in place" },
  ],
  "aws:rds/parameterGroup:ParameterGroup": [...named("name", "namePrefix"), ...schema("family", "description")],
  "aws:rds/subnetGroup:SubnetGroup": named("name", "namePrefix"),
  "aws:route53/healthCheck:HealthCheck": schema(
    "type",
    "requestInterval",
    "measureLatency",
    "referenceName",
    "routingControlArn",
  ),
  "aws:route53/record:Record": [...named("name"), ...schema("zoneId")],
  "aws:s3/bucket:Bucket": [...named("bucket", "bucketPrefix"), ...schema("objectLockEnabled")],
  "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": schema("bucket", "expectedBucketOwner"),
  "aws:s3/bucketObjectv2:BucketObjectv2": schema("bucket", "key"),
  "aws:s3/bucketOwnershipControls:BucketOwnershipControls": schema("bucket"),
  "aws:s3/bucketPolicy:BucketPolicy": schema("bucket"),
  "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": schema("bucket"),
  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": schema(
    "bucket",
    "expectedBucketOwner",
  ),
  "aws:s3/bucketVersioning:BucketVersioning": schema("bucket", "expectedBucketOwner"),
  "aws:secretsmanager/secret:Secret": named("name", "namePrefix"),
  "aws:secretsmanager/secretVersion:SecretVersion": schema("secretId", "secretString", "secretBinary"),
  "aws:sfn/stateMachine:StateMachine": [...named("name", "namePrefix"), ...schema("type")],
  "aws:sns/topic:Topic": [...named("name", "namePrefix"), ...schema("fifoTopic")],
  "aws:sns/topicPolicy:TopicPolicy": schema("arn"),
  "aws:sqs/queue:Queue": [...named("name", "namePrefix"), ...schema("fifoQueue")],
  "aws:sqs/queuePolicy:QueuePolicy": schema("queueUrl"),
  "aws:ssm/parameter:Parameter": named("name"),
  "aws:synthetics/canary:Canary": named("name"),
  "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": schema("securityGroupId"),
  "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": schema("securityGroupId"),
  "aws:wafv2/webAcl:WebAcl": [...named("name", "namePrefix"), ...schema("scope")],
  // What awsx.ec2.Vpc registers when the stack makes its own VPC.
  "aws:ec2/vpc:Vpc": schema("cidrBlock", "ipv4IpamPoolId", "ipv4NetmaskLength"),
  "aws:ec2/subnet:Subnet": schema("vpcId", "cidrBlock", "availabilityZone", "availabilityZoneId", "outpostArn"),
  "aws:ec2/routeTable:RouteTable": schema("vpcId"),
  "aws:ec2/routeTableAssociation:RouteTableAssociation": schema("subnetId", "gatewayId"),
  "aws:ec2/route:Route": schema(
    "routeTableId",
    "destinationCidrBlock",
    "destinationIpv6CidrBlock",
    "destinationPrefixListId",
  ),
  "aws:ec2/internetGateway:InternetGateway": [],
  "aws:ec2/natGateway:NatGateway": schema("allocationId", "subnetId", "connectivityType", "privateIp"),
  "aws:ec2/eip:Eip": schema("address", "customerOwnedIpv4Pool", "domain", "networkBorderGroup", "publicIpv4Pool"),
};

/** Facts per Pulumi type token; AWS resource types also carry `region`. */
export const FORCE_NEW: Readonly<Record<string, readonly ForceNewFact[]>> = Object.freeze(
  Object.fromEntries([
    ...Object.entries(FACTS).map(([type, facts]) => [type, Object.freeze([...facts, REGION])] as const),
    // The explicit AWS provider: another region (or account) makes the engine replace every resource it manages.
    [
      "pulumi:providers:aws",
      Object.freeze([{ path: "region", why: "a provider for another region replaces every resource it manages" }]),
    ],
  ]),
);

/** True when the facts cover `type` (a type with no facts at all is unknown, not "never replaced"). */
export function knowsType(type: string): boolean {
  return Object.prototype.hasOwnProperty.call(FORCE_NEW, type);
}

/** Types that hold data: a replacement or deletion loses it. One list, shared with the policy pack. */
export const STATEFUL: ReadonlySet<string> = new Set(Object.keys(STATEFUL_TYPES));

export function isStateful(type: string): boolean {
  return STATEFUL.has(type);
}

/** What a stateful type holds ("database", "log events"), or undefined. */
export function statefulHolds(type: string): string | undefined {
  return STATEFUL_TYPES[type]?.holds;
}

/**
 * The input changes from `before` to `after` that replace a resource of `type`.
 * Empty: an update in place (or no change). Throws for a type the facts do not know,
 * so a new type cannot be judged "updatable" by omission.
 */
export function replacementReasons(
  type: string,
  before: Readonly<Record<string, unknown>>,
  after: Readonly<Record<string, unknown>>,
): readonly ReplacementReason[] {
  const facts = FORCE_NEW[type];
  if (!facts) throw new Error(`force-new facts: unknown resource type ${type} (add it to lib/force-new.ts)`);
  const reasons: ReplacementReason[] = [];
  for (const fact of facts) {
    if (fact.onlyIf && !sameValue(valuesAt(after, fact.onlyIf.path)[0], fact.onlyIf.equals)) continue;
    const old = valuesAt(before, fact.path);
    const now = valuesAt(after, fact.path);
    if (!changed(old, now, fact)) continue;
    const wildcard = fact.path.includes("[*]");
    reasons.push({
      path: fact.path,
      before: wildcard ? old : old[0],
      after: wildcard ? now : now[0],
      ...(fact.why ? { why: fact.why } : {}),
    });
  }
  return reasons;
}

function changed(old: readonly unknown[], now: readonly unknown[], fact: ForceNewFact): boolean {
  const wildcard = fact.path.includes("[*]");
  switch (fact.when) {
    case "emptiness-changed":
      return isEmpty(old[0]) !== isEmpty(now[0]);
    case "element-removed": {
      const after = new Set(elements(now, wildcard).map(canonical));
      return elements(old, wildcard).some((v) => !after.has(canonical(v)));
    }
    default:
      if (wildcard) return canonicalMultiset(old) !== canonicalMultiset(now);
      return !sameValue(old[0], now[0]);
  }
}

/** The array's elements: the values themselves under `[*]`, else the one value's items. */
function elements(values: readonly unknown[], wildcard: boolean): unknown[] {
  if (wildcard) return values.filter((v) => !isAbsent(v));
  const value = values[0];
  return Array.isArray(value) ? value : isAbsent(value) ? [] : [value];
}

function isAbsent(value: unknown): boolean {
  return value === undefined || value === null;
}

function isEmpty(value: unknown): boolean {
  return isAbsent(value) || (Array.isArray(value) && value.length === 0);
}

/**
 * Values at `path` in `root`: one value (maybe undefined) for a path without `[*]`,
 * else one per matched element.
 */
export function valuesAt(root: unknown, path: string): unknown[] {
  let current: unknown[] = [root];
  for (const segment of path.split(".")) {
    const all = segment.endsWith("[*]");
    const key = all ? segment.slice(0, -3) : segment;
    const next: unknown[] = [];
    for (const node of current) {
      const value =
        node && typeof node === "object" && !Array.isArray(node) ? (node as Record<string, unknown>)[key] : undefined;
      if (all) {
        if (Array.isArray(value)) next.push(...value);
      } else next.push(value);
    }
    current = next;
  }
  return current;
}

function sameValue(a: unknown, b: unknown): boolean {
  return canonical(isAbsent(a) ? undefined : a) === canonical(isAbsent(b) ? undefined : b);
}

function canonicalMultiset(values: readonly unknown[]): string {
  return JSON.stringify(
    values
      .filter((v) => !isAbsent(v))
      .map(canonical)
      .sort(),
  );
}

/** JSON with object keys sorted, so key order never reads as a change. */
export function canonical(value: unknown): string {
  if (value === undefined) return "undefined";
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value as Record<string, unknown>)
        .sort()
        .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}
