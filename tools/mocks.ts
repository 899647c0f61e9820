/**
 * Deterministic, realistic mocks for the offline plan and the tests: ids and
 * ARNs follow each resource type's real format, in the stack's region and one
 * account, so that an IAM statement naming another resource can be checked
 * against that resource's ARN. Same inputs → same ids, run after run.
 */
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";

export interface MockSettings {
  readonly accountId: string;
  readonly region: string;
  /** SSM parameters the "account" already holds (deployed image tags), name → value. */
  readonly ssmParameters?: Readonly<Record<string, string>>;
  /** Public hosted zones per account id (default: `ACCOUNT_HOSTED_ZONES`); an account not listed has none. */
  readonly hostedZones?: Readonly<Record<string, readonly HostedZone[]>>;
}

export interface HostedZone {
  /** Lower case, no trailing dot. */
  readonly name: string;
  readonly id: string;
}

/** A zone's id as the mocks give it (deterministic per name). */
export function mockZoneId(name: string): string {
  return `Z${hex(`zone:${name}`, 13).toUpperCase()}`;
}

/** The estate's workload accounts and the public zones each hosts: each its own `<env>.lumerin.io`. */
export const ACCOUNT_HOSTED_ZONES: Readonly<Record<string, readonly HostedZone[]>> = Object.freeze({
  "434960487817": [{ name: "dev.lumerin.io", id: mockZoneId("dev.lumerin.io") }],
  "464450398935": [{ name: "stg.lumerin.io", id: mockZoneId("stg.lumerin.io") }],
  "330280307271": [{ name: "lmn.lumerin.io", id: mockZoneId("lmn.lumerin.io") }],
});

/** `lumerin.io` itself, which titanio-prd hosts. */
export const TITANIO_PRD_ZONE = "lumerin.io";

/**
 * The zone table for a stack's config: the estate's accounts, and titanio-prd.
 * titanio-prd's account id (and its zone's id) are not known to this repository;
 * the stack file names them once configured (`dns.assumeRoleArn`, `dns.zoneId`).
 * So the account of that role plays titanio-prd, hosting only `lumerin.io`, when
 * it is none of the workload accounts: a role in dev's account finds no
 * `lumerin.io`, and no provider without a role finds it at all.
 */
export function estateHostedZones(
  config: Readonly<Record<string, string>>,
  key = "lumerin-infra:dns",
): Record<string, readonly HostedZone[]> {
  const table: Record<string, readonly HostedZone[]> = { ...ACCOUNT_HOSTED_ZONES };
  let dns: { assumeRoleArn?: unknown; zoneId?: unknown } = {};
  try {
    dns = JSON.parse(config[key] ?? "{}") as typeof dns;
  } catch {
    // Malformed: the program's config check reports it.
  }
  const account = typeof dns.assumeRoleArn === "string" ? accountOfArn(dns.assumeRoleArn) : undefined;
  if (account && !(account in ACCOUNT_HOSTED_ZONES)) {
    table[account] = [
      { name: TITANIO_PRD_ZONE, id: typeof dns.zoneId === "string" ? dns.zoneId : mockZoneId(TITANIO_PRD_ZONE) },
    ];
  }
  return table;
}

function accountOfArn(arn: string): string | undefined {
  return /^arn:aws[a-z-]*:iam::(\d{12}):/.exec(arn)?.[1];
}

/** A name as Route 53 compares it: lower case, without the trailing dot. */
function normalName(name: string): string {
  return name.replace(/\.$/, "").toLowerCase();
}

export interface MockRecord {
  readonly type: string;
  readonly name: string;
  readonly id: string;
  readonly inputs: Record<string, unknown>;
  readonly state: Record<string, unknown>;
}

type State = Record<string, unknown>;

/** Hosted zone ids of load balancers per region (AWS publishes these). */
const NLB_ZONE: Readonly<Record<string, string>> = {
  "us-east-1": "Z26RNL4JYFTOTI",
  "us-east-2": "ZLMOA37VPKANP",
  "eu-central-1": "Z3F0SRJ5LGBH90",
};
/** CloudFront's alias hosted zone (the same everywhere in the aws partition). */
const CLOUDFRONT_ZONE = "Z2FDTNDATAQYW2";
const ALB_ZONE: Readonly<Record<string, string>> = {
  "us-east-1": "Z35SXDOTRQ7X7K",
  "us-east-2": "Z3AADJGX6KTTL2",
  "eu-central-1": "Z215JYRZR1TBD5",
};

export class RealisticMocks implements pulumi.runtime.Mocks {
  /** Every resource the program registered, keyed by `type::name`. */
  readonly records = new Map<string, MockRecord>();
  /** Every invoke, in order, with the explicit provider it went through (`<urn>::<id>`; absent: the default). */
  readonly invokes: { readonly token: string; readonly provider?: string }[] = [];
  /** Explicit providers' ids → the account their calls reach (the assumed role's, else the stack's). */
  private readonly providerAccounts = new Map<string, string>();

  constructor(private readonly settings: MockSettings) {}

  /** The account a call or resource with this provider reference (`<urn>::<id>`) reaches. */
  accountOf(providerRef: string | undefined): string {
    const id = providerRef?.split("::").pop();
    return (id && this.providerAccounts.get(id)) || this.settings.accountId;
  }

  private zones(account: string): readonly HostedZone[] {
    return (this.settings.hostedZones ?? ACCOUNT_HOSTED_ZONES)[account] ?? [];
  }

  newResource(args: pulumi.runtime.MockResourceArgs): pulumi.runtime.MockResourceResult {
    const key = `${args.type}::${args.name}`;
    if (this.records.has(key)) {
      throw new Error(
        `two resources of type ${args.type} share the logical name "${args.name}"; logical names must be unique per type`,
      );
    }
    const inputs = (args.inputs ?? {}) as State;
    if (args.type === "aws:route53/record:Record") this.checkRecord(inputs, this.accountOf(args.provider));
    refuse(args.type, args.name, inputs);
    const { id, state } = this.make(args.type, args.name, inputs);
    if (args.type === "pulumi:providers:aws")
      this.providerAccounts.set(id, assumedAccount(inputs) ?? this.settings.accountId);
    const full = { ...inputs, ...state };
    this.records.set(key, { type: args.type, name: args.name, id, inputs, state: full });
    return { id, state: full };
  }

  call(args: pulumi.runtime.MockCallArgs): pulumi.runtime.MockCallResult {
    this.invokes.push({ token: args.token, ...(args.provider ? { provider: args.provider } : {}) });
    try {
      return this.answer(args);
    } catch (err) {
      // The SDK reports a failed invoke by its gRPC `details`, as the engine passes the provider's error.
      throw Object.assign(err as Error, { details: (err as Error).message });
    }
  }

  private answer(args: pulumi.runtime.MockCallArgs): pulumi.runtime.MockCallResult {
    const { accountId, region } = this.settings;
    const inputs = (args.inputs ?? {}) as State;
    switch (args.token) {
      case "aws:index/getCallerIdentity:getCallerIdentity":
        return {
          accountId,
          arn: `arn:aws:sts::${accountId}:assumed-role/offline-plan/lumerin-infra`,
          userId: "AROAOFFLINEPLAN:lumerin-infra",
          id: accountId,
        };
      case "aws:index/getPartition:getPartition":
        return { partition: "aws", dnsSuffix: "amazonaws.com", reverseDnsPrefix: "com.amazonaws", id: "aws" };
      case "aws:index/getRegion:getRegion":
        return { name: region, region, id: region, endpoint: `ec2.${region}.amazonaws.com`, description: region };
      case "aws:route53/getZone:getZone": {
        // Only the zones the provider's account hosts (all public), by id and/or name, as the provider matches them.
        const zone = this.zones(this.accountOf(args.provider)).find(
          (z) =>
            (inputs.zoneId === undefined || z.id === inputs.zoneId) &&
            (inputs.name === undefined || z.name === normalName(String(inputs.name))) &&
            inputs.privateZone !== true,
        );
        if (!zone) throw new Error("no matching Route 53 Hosted Zone found");
        return {
          id: zone.id,
          zoneId: zone.id,
          name: zone.name,
          arn: `arn:aws:route53:::hostedzone/${zone.id}`,
          privateZone: false,
          nameServers: [],
          resourceRecordSetCount: 10,
        };
      }
      case "aws:ec2/getVpc:getVpc": {
        const tag = tagName(inputs) ?? String(inputs.id ?? "default");
        const id = String(inputs.id ?? mockVpcId(tag));
        return {
          id,
          cidrBlock: "10.1.0.0/16",
          arn: `arn:aws:ec2:${region}:${accountId}:vpc/${id}`,
          tags: inputs.tags ?? {},
          default: false,
          state: "available",
        };
      }
      case "aws:ec2/getSubnet:getSubnet": {
        const tag = tagName(inputs) ?? String(inputs.id ?? "subnet");
        const id = String(inputs.id ?? mockSubnetId(tag));
        const azIndex = Number(/(\d+)$/.exec(tag)?.[1] ?? "1") - 1;
        return {
          id,
          vpcId: inputs.vpcId ?? `vpc-${hex("vpc", 17)}`,
          availabilityZone: `${region}${"abcdef"[azIndex % 6]}`,
          cidrBlock: `10.1.${azIndex * 16}.0/20`,
          arn: `arn:aws:ec2:${region}:${accountId}:subnet/${id}`,
          tags: inputs.tags ?? {},
        };
      }
      case "aws:ssm/getParametersByPath:getParametersByPath": {
        const path = String(inputs.path ?? "/").replace(/\/$/, "");
        const entries = Object.entries(this.settings.ssmParameters ?? {}).filter(
          ([name]) => name.startsWith(`${path}/`) && (inputs.recursive || !name.slice(path.length + 1).includes("/")),
        );
        return {
          id: path,
          path,
          names: entries.map(([n]) => n),
          values: entries.map(([, v]) => v),
          types: entries.map(() => "String"),
          arns: entries.map(([n]) => `arn:aws:ssm:${region}:${accountId}:parameter${n}`),
          withDecryption: false,
        };
      }
      case "aws:cloudfront/getCachePolicy:getCachePolicy": {
        // The AWS-managed policies' published ids.
        const managed: Record<string, string> = {
          "Managed-CachingOptimized": "658327ea-f89d-4fab-a63d-7e88639e58f6",
          "Managed-CachingDisabled": "4135ea2d-6df8-44a3-9df3-4b5a84be39ad",
        };
        const name = String(inputs.name ?? "");
        const id = managed[name];
        if (!id) throw new Error(`no managed cache policy named "${name}" in the offline plan`);
        return { id, name, etag: "E23ZP02F085DFQ" };
      }
      default:
        throw new Error(`the offline plan has no answer for the invoke ${args.token}; add one to tools/mocks.ts`);
    }
  }

  /** Route 53 refuses a record in a zone the caller's account does not host, or outside the zone's name. */
  private checkRecord(inputs: State, account: string): void {
    const zoneId = String(inputs.zoneId);
    const table = this.settings.hostedZones ?? ACCOUNT_HOSTED_ZONES;
    const owner = Object.keys(table).find((acct) => table[acct].some((z) => z.id === zoneId));
    // A zone id the table does not know (a component spec's literal) is taken as the caller's.
    if (owner === undefined) return;
    if (owner !== account) throw new Error(`NoSuchHostedZone: No hosted zone found with ID: ${zoneId}`);
    const zone = table[owner].find((z) => z.id === zoneId) as HostedZone;
    const name = normalName(String(inputs.name));
    if (name !== zone.name && !name.endsWith(`.${zone.name}`)) {
      throw new Error(`InvalidChangeBatch: [RRSet with DNS name ${name}. is not permitted in zone ${zone.name}.]`);
    }
  }

  private make(type: string, logical: string, inputs: State): { id: string; state: State } {
    const { accountId } = this.settings;
    const region = typeof inputs.region === "string" ? inputs.region : this.settings.region;
    const seed = `${type}::${logical}`;
    const named = (fallback = `${logical}-${hex(seed, 7)}`): string =>
      typeof inputs.name === "string"
        ? inputs.name
        : typeof inputs.namePrefix === "string"
          ? `${inputs.namePrefix}${hex(seed, 26)}`
          : fallback;
    const arnOf = (service: string, resource: string, withRegion = true, withAccount = true) =>
      `arn:aws:${service}:${withRegion ? region : ""}:${withAccount ? accountId : ""}:${resource}`;

    switch (type) {
      case "aws:ecs/cluster:Cluster": {
        const arn = arnOf("ecs", `cluster/${named()}`);
        return { id: arn, state: { arn, name: named() } };
      }
      case "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders":
        return { id: String(inputs.clusterName), state: {} };
      case "aws:ecs/service:Service": {
        const cluster = String(inputs.cluster ?? "default")
          .split("/")
          .pop();
        const arn = arnOf("ecs", `service/${cluster}/${named()}`);
        return { id: arn, state: { arn, name: named() } };
      }
      case "aws:ecs/taskDefinition:TaskDefinition": {
        const family = String(inputs.family);
        const arnWithoutRevision = arnOf("ecs", `task-definition/${family}`);
        return { id: family, state: { arn: `${arnWithoutRevision}:1`, arnWithoutRevision, revision: 1 } };
      }
      case "aws:iam/role:Role": {
        const name = named();
        return {
          id: name,
          state: {
            name,
            arn: arnOf("iam", `role${inputs.path ?? "/"}${name}`, false),
            uniqueId: `AROA${hex(seed, 17).toUpperCase()}`,
          },
        };
      }
      case "aws:iam/rolePolicy:RolePolicy":
        return { id: `${inputs.role}:${named()}`, state: { name: named() } };
      case "aws:iam/policy:Policy": {
        const name = named();
        const arn = arnOf("iam", `policy${inputs.path ?? "/"}${name}`, false);
        return { id: arn, state: { name, arn, policyId: `ANPA${hex(seed, 17).toUpperCase()}` } };
      }
      case "aws:iam/rolePolicyAttachment:RolePolicyAttachment":
        return { id: `${inputs.role}-${hex(seed, 8)}`, state: {} };
      case "aws:iam/openIdConnectProvider:OpenIdConnectProvider": {
        const arn = arnOf("iam", `oidc-provider/${String(inputs.url).replace(/^https:\/\//, "")}`, false);
        return { id: arn, state: { arn } };
      }
      case "aws:secretsmanager/secret:Secret": {
        const arn = arnOf("secretsmanager", `secret:${named()}-${alnum(seed, 6)}`);
        return { id: arn, state: { arn, name: named() } };
      }
      case "aws:secretsmanager/secretVersion:SecretVersion": {
        const versionId = uuid(seed);
        return {
          id: `${inputs.secretId}|${versionId}`,
          state: { arn: inputs.secretId, versionId, versionStages: ["AWSCURRENT"] },
        };
      }
      case "aws:cloudwatch/logGroup:LogGroup":
        return { id: named(), state: { name: named(), arn: arnOf("logs", `log-group:${named()}`) } };
      case "aws:kms/key:Key": {
        const keyId = uuid(seed);
        return { id: keyId, state: { keyId, arn: arnOf("kms", `key/${keyId}`) } };
      }
      case "aws:kms/alias:Alias":
        return {
          id: named(),
          state: { arn: arnOf("kms", named()), targetKeyArn: arnOf("kms", `key/${inputs.targetKeyId}`) },
        };
      case "aws:ec2/securityGroup:SecurityGroup": {
        const id = `sg-${hex(seed, 17)}`;
        return { id, state: { arn: arnOf("ec2", `security-group/${id}`), name: named(), ownerId: accountId } };
      }
      case "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule":
      case "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": {
        const id = `sgr-${hex(seed, 17)}`;
        return { id, state: { arn: arnOf("ec2", `security-group-rule/${id}`), securityGroupRuleId: id } };
      }
      case "aws:lb/loadBalancer:LoadBalancer": {
        const network = inputs.loadBalancerType === "network";
        const name = named();
        const suffix = `${network ? "net" : "app"}/${name}/${hex(seed, 16)}`;
        const dnsName = network
          ? `${name}-${hex(seed, 16)}.elb.${region}.amazonaws.com`
          : `${inputs.internal ? "internal-" : ""}${name}-${hex(seed, 10)}.${region}.elb.amazonaws.com`;
        const arn = arnOf("elasticloadbalancing", `loadbalancer/${suffix}`);
        return {
          id: arn,
          state: {
            arn,
            arnSuffix: suffix,
            dnsName,
            zoneId: (network ? NLB_ZONE : ALB_ZONE)[region] ?? "Z26RNL4JYFTOTI",
          },
        };
      }
      case "aws:lb/targetGroup:TargetGroup": {
        const suffix = `targetgroup/${named()}/${hex(seed, 16)}`;
        const arn = arnOf("elasticloadbalancing", suffix);
        return { id: arn, state: { arn, arnSuffix: suffix } };
      }
      case "aws:lb/listener:Listener": {
        const lb = String(inputs.loadBalancerArn ?? arnOf("elasticloadbalancing", "loadbalancer/net/unknown/0"));
        const arn = `${lb.replace(":loadbalancer/", ":listener/")}/${hex(seed, 16)}`;
        return { id: arn, state: { arn } };
      }
      case "aws:s3/bucket:Bucket":
      case "aws:s3/bucketV2:BucketV2": {
        const bucket = typeof inputs.bucket === "string" ? inputs.bucket : `${logical}-${hex(seed, 7)}`;
        return {
          id: bucket,
          state: {
            bucket,
            arn: `arn:aws:s3:::${bucket}`,
            bucketDomainName: `${bucket}.s3.amazonaws.com`,
            bucketRegionalDomainName: `${bucket}.s3.${region}.amazonaws.com`,
          },
        };
      }
      case "aws:s3/bucketObjectv2:BucketObjectv2": {
        // The provider's id is `<bucket>/<key>`; S3 answers with the object's ETag and, in a versioned bucket, a version.
        const bucket = String(inputs.bucket);
        const key = typeof inputs.key === "string" ? inputs.key : logical;
        return {
          id: `${bucket}/${key}`,
          state: {
            bucket,
            key,
            arn: `arn:aws:s3:::${bucket}/${key}`,
            etag: hex(seed, 32),
            versionId: alnum(`${seed}:version`, 32),
            serverSideEncryption:
              typeof inputs.serverSideEncryption === "string" ? inputs.serverSideEncryption : "AES256",
            storageClass: "STANDARD",
          },
        };
      }
      case "aws:cloudfront/distribution:Distribution": {
        const id = `E${hex(seed, 13).toUpperCase()}`;
        return {
          id,
          state: {
            arn: arnOf("cloudfront", `distribution/${id}`, false),
            domainName: `d${hex(seed, 13)}.cloudfront.net`,
            hostedZoneId: CLOUDFRONT_ZONE,
            status: "Deployed",
            etag: `E${hex(`${seed}:etag`, 13).toUpperCase()}`,
          },
        };
      }
      case "aws:cloudfront/originAccessControl:OriginAccessControl":
      case "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy":
        return {
          id: `${hex(seed, 8)}-${hex(`${seed}:b`, 4)}-${hex(`${seed}:c`, 4)}-${hex(`${seed}:d`, 4)}-${hex(`${seed}:e`, 12)}`,
          state: { etag: `E${hex(seed, 13).toUpperCase()}` },
        };
      case "aws:wafv2/webAcl:WebAcl": {
        const id = uuid(seed);
        const scope = inputs.scope === "CLOUDFRONT" ? "global" : "regional";
        return {
          id,
          state: {
            arn: arnOf("wafv2", `${scope}/webacl/${named()}/${id}`),
            capacity: 0,
            lockToken: uuid(`${seed}:lock`),
          },
        };
      }
      case "aws:acm/certificate:Certificate": {
        const arn = arnOf("acm", `certificate/${uuid(seed)}`);
        const names = [inputs.domainName, ...((inputs.subjectAlternativeNames as unknown[]) ?? [])].filter(
          (n): n is string => typeof n === "string",
        );
        // ACM's DNS validation answer: one CNAME per name, under that name.
        const domainValidationOptions = [...new Set(names)].map((domainName) => ({
          domainName,
          resourceRecordName: `_${hex(`${arn}:${domainName}`, 32)}.${domainName}.`,
          resourceRecordType: "CNAME",
          resourceRecordValue: `_${hex(`${arn}:${domainName}:value`, 32)}.acm-validations.aws.`,
        }));
        return { id: arn, state: { arn, domainValidationOptions, status: "PENDING_VALIDATION" } };
      }
      case "aws:acm/certificateValidation:CertificateValidation":
        return { id: String(inputs.certificateArn), state: { certificateArn: inputs.certificateArn } };
      case "aws:rds/instance:Instance": {
        const identifier = typeof inputs.identifier === "string" ? inputs.identifier : `${logical}-${hex(seed, 7)}`;
        const address = `${identifier}.c${hex(`${accountId}:${region}`, 11)}.${region}.rds.amazonaws.com`;
        const port = typeof inputs.port === "number" ? inputs.port : 5432;
        const masterUserSecrets = inputs.manageMasterUserPassword
          ? [
              {
                secretArn: arnOf("secretsmanager", `secret:rds!db-${uuid(seed)}-${alnum(seed, 6)}`),
                secretStatus: "active",
                kmsKeyId: inputs.masterUserSecretKmsKeyId ?? "",
              },
            ]
          : [];
        return {
          id: identifier,
          state: {
            identifier,
            arn: arnOf("rds", `db:${identifier}`),
            address,
            endpoint: `${address}:${port}`,
            port,
            resourceId: `db-${hex(seed, 26).toUpperCase()}`,
            masterUserSecrets,
            hostedZoneId: "Z2R2ITUGPM61AM",
          },
        };
      }
      case "aws:rds/parameterGroup:ParameterGroup":
        return { id: named(), state: { name: named(), arn: arnOf("rds", `pg:${named()}`) } };
      case "aws:rds/subnetGroup:SubnetGroup":
        return { id: named(), state: { name: named(), arn: arnOf("rds", `subgrp:${named()}`) } };
      case "aws:lambda/function:Function": {
        const name = named();
        const arn = arnOf("lambda", `function:${name}`);
        return {
          id: name,
          state: {
            arn,
            name,
            qualifiedArn: `${arn}:$LATEST`,
            invokeArn: `arn:aws:apigateway:${region}:lambda:path/2015-03-31/functions/${arn}/invocations`,
            version: "$LATEST",
          },
        };
      }
      case "aws:cloudwatch/eventRule:EventRule":
        return { id: named(), state: { name: named(), arn: arnOf("events", `rule/${named()}`) } };
      case "aws:sfn/stateMachine:StateMachine": {
        const arn = arnOf("states", `stateMachine:${named()}`);
        return { id: arn, state: { arn, name: named(), status: "ACTIVE" } };
      }
      case "aws:cloudwatch/eventTarget:EventTarget":
        return { id: `${inputs.rule}-${inputs.targetId ?? hex(seed, 8)}`, state: {} };
      case "aws:sqs/queue:Queue": {
        const name = named();
        return {
          id: `https://sqs.${region}.amazonaws.com/${accountId}/${name}`,
          state: { name, arn: arnOf("sqs", name), url: `https://sqs.${region}.amazonaws.com/${accountId}/${name}` },
        };
      }
      case "aws:synthetics/canary:Canary": {
        // Synthetics makes a function and a layer `cwsyn-<canary>-<uuid>` (64 characters at most: hence 21 for the name).
        const name = named();
        const engine = `cwsyn-${name}-${uuid(seed)}`;
        return {
          id: name,
          state: {
            name,
            arn: arnOf("synthetics", `canary:${name}`),
            engineArn: arnOf("lambda", `function:${engine}:1`),
            sourceLocationArn: arnOf("lambda", `layer:${engine}:1`),
            status: inputs.startCanary === true ? "RUNNING" : "READY",
            timelines: [],
          },
        };
      }
      case "aws:route53/record:Record":
        return { id: `${inputs.zoneId}_${inputs.name}_${inputs.type}`, state: { fqdn: inputs.name } };
      case "aws:ssm/parameter:Parameter": {
        const name = named();
        return {
          id: name,
          state: {
            arn: arnOf("ssm", `parameter${name.startsWith("/") ? name : `/${name}`}`),
            version: 1,
            tier: "Standard",
          },
        };
      }
      case "awsx:ec2:Vpc": {
        const azs = Number(inputs.numberOfAvailabilityZones ?? 2);
        const subnets = (kind: string) =>
          Array.from({ length: azs }, (_, i) => `subnet-${hex(`${seed}:${kind}:${i}`, 17)}`);
        return {
          id: `vpc-${hex(seed, 17)}`,
          state: {
            vpcId: `vpc-${hex(seed, 17)}`,
            publicSubnetIds: subnets("public"),
            privateSubnetIds: subnets("private"),
            isolatedSubnetIds: [],
            natGateways: [],
            eips: [],
          },
        };
      }
      default: {
        // A type without its own entry: an ARN of the common `service:region:account:resource/name` shape.
        const service = /^aws:([a-z0-9]+)\//.exec(type)?.[1];
        const id = `${named()}`;
        return { id, state: service ? { arn: arnOf(service, `${type.split(":").pop()?.toLowerCase()}/${id}`) } : {} };
      }
    }
  }
}

/** The account of a provider's first assumed role (the engine passes nested provider inputs as JSON). */
function assumedAccount(inputs: State): string | undefined {
  const raw = inputs.assumeRoles;
  let roles: unknown = raw;
  if (typeof raw === "string") {
    try {
      roles = JSON.parse(raw);
    } catch {
      return undefined;
    }
  }
  const first = Array.isArray(roles) ? (roles[0] as { roleArn?: unknown } | undefined) : undefined;
  return typeof first?.roleArn === "string" ? accountOfArn(first.roleArn) : undefined;
}

/** What the AWS APIs refuse at creation, for the resources whose mistakes the plan would otherwise hide. */
function refuse(type: string, name: string, inputs: State): void {
  const fail = (why: string) => {
    throw new Error(`${type} ${name}: ${why}`);
  };
  const json = (value: unknown): unknown => {
    try {
      return typeof value === "string" ? JSON.parse(value) : undefined;
    } catch {
      return undefined;
    }
  };
  const isObject = (value: unknown): value is Record<string, unknown> =>
    typeof value === "object" && value !== null && !Array.isArray(value);
  switch (type) {
    case "aws:sfn/stateMachine:StateMachine": {
      // CreateStateMachine: InvalidDefinition, and a role is required.
      const definition = json(inputs.definition);
      if (
        !isObject(definition) ||
        !isObject(definition.States) ||
        typeof definition.StartAt !== "string" ||
        !(definition.StartAt in definition.States)
      ) {
        fail("InvalidDefinition: the definition must be JSON whose StartAt names one of its States");
      }
      if (typeof inputs.roleArn !== "string" || inputs.roleArn === "") fail("roleArn is required");
      return;
    }
    case "aws:cloudwatch/eventRule:EventRule": {
      // PutRule: a rule has an event pattern (a JSON object) or a schedule, and a known state.
      if (inputs.eventPattern === undefined && inputs.scheduleExpression === undefined)
        fail("ValidationException: a rule needs an event pattern or a schedule expression");
      if (inputs.eventPattern !== undefined && !isObject(json(inputs.eventPattern)))
        fail("InvalidEventPatternException: the event pattern must be a JSON object");
      if (
        inputs.state !== undefined &&
        !["ENABLED", "DISABLED", "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"].includes(String(inputs.state))
      )
        fail(`ValidationException: state "${String(inputs.state)}"`);
      return;
    }
    case "aws:cloudwatch/eventTarget:EventTarget": {
      // PutTargets: EventBridge needs a role to start a Step Functions execution (or run an ECS task).
      if (/^arn:aws[a-z-]*:(states|ecs):/.test(String(inputs.arn)) && typeof inputs.roleArn !== "string")
        fail(`ValidationException: RoleArn is required for target ${String(inputs.arn)}`);
      return;
    }
    default:
      return;
  }
}

/** The ids the mocks answer for a VPC, a subnet (by Name tag) and a hosted zone (by name) that the program looks up. */
export const mockVpcId = (nameTag: string): string => `vpc-${hex(`vpc:${nameTag}`, 17)}`;
export const mockSubnetId = (nameTag: string): string => `subnet-${hex(`subnet:${nameTag}`, 17)}`;

function tagName(inputs: State): string | undefined {
  const tags = inputs.tags as Record<string, unknown> | undefined;
  return typeof tags?.Name === "string" ? tags.Name : undefined;
}

function digest(seed: string): string {
  return createHash("sha256").update(seed).digest("hex");
}

export function hex(seed: string, length: number): string {
  let out = "";
  for (let i = 0; out.length < length; i++) out += digest(`${seed}#${i}`);
  return out.slice(0, length);
}

function alnum(seed: string, length: number): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  const bytes = Buffer.from(digest(seed), "hex");
  return Array.from(bytes.subarray(0, length), (b) => alphabet[b % alphabet.length]).join("");
}

function uuid(seed: string): string {
  const h = hex(seed, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
