/** Network exposure: what the internet can reach, and what stands in front of it. */
import * as aws from "@pulumi/aws";
import {
  Finding,
  ResourceView,
  Rule,
  ofClass,
  optionsOf,
  policyExceptionOf,
  propsOf,
  str,
  typeToken,
  wildcardRegExp,
} from "./model";

const WORLD = ["0.0.0.0/0", "::/0"];
const ALL_PROTOCOLS = ["-1", "all"];

/** One ingress permission, wherever it is declared. */
interface Ingress {
  readonly source: ResourceView;
  /** The security group it opens (`undefined` while unknown). */
  readonly groupId: string | undefined;
  /** The group's name, for inline rules (the group itself). */
  readonly groupName?: string;
  readonly protocol: string;
  readonly fromPort: number | undefined;
  readonly toPort: number | undefined;
  readonly cidrs: readonly string[];
  readonly label: string;
}

const strings = (v: unknown): string[] =>
  Array.isArray(v) ? v.map(str).filter((x): x is string => !!x) : str(v) ? [str(v) as string] : [];
const num = (v: unknown): number | undefined => (typeof v === "number" ? v : undefined);

/** Every ingress permission of the stack: separate rules of both kinds, and inline `ingress` blocks. */
function ingressOf(resources: readonly ResourceView[]): Ingress[] {
  const out: Ingress[] = [];
  for (const { view, props } of ofClass(resources, aws.ec2.SecurityGroupRule)) {
    if (props.type !== "ingress") continue;
    out.push({
      source: view,
      groupId: str(props.securityGroupId),
      protocol: String(props.protocol ?? ""),
      fromPort: num(props.fromPort),
      toPort: num(props.toPort),
      cidrs: [...strings(props.cidrBlocks), ...strings(props.ipv6CidrBlocks)],
      label: `rule ${view.name}`,
    });
  }
  for (const { view, props } of ofClass(resources, aws.vpc.SecurityGroupIngressRule)) {
    out.push({
      source: view,
      groupId: str(props.securityGroupId),
      protocol: String(props.ipProtocol ?? ""),
      fromPort: num(props.fromPort),
      toPort: num(props.toPort),
      cidrs: [...strings(props.cidrIpv4), ...strings(props.cidrIpv6)],
      label: `rule ${view.name}`,
    });
  }
  for (const { view, props } of ofClass(resources, aws.ec2.SecurityGroup)) {
    for (const [i, block] of (props.ingress ?? []).entries()) {
      out.push({
        source: view,
        groupId: str(view.outputs.id),
        groupName: str(props.name) ?? view.name,
        protocol: String(block.protocol ?? ""),
        fromPort: num(block.fromPort),
        toPort: num(block.toPort),
        cidrs: [...strings(block.cidrBlocks), ...strings(block.ipv6CidrBlocks)],
        label: `inline ingress ${i}`,
      });
    }
  }
  return out;
}

const OPEN_PORTS_OPTIONS = {
  publicIngressPorts: {
    description:
      "Ports each security group (by name; IAM-style wildcards) may open to the internet (0.0.0.0/0, ::/0). Default: the stratum listener port 7301 on the proxy router's and validator's network load balancers.",
    schema: { type: "object", additionalProperties: { type: "array", items: { type: "integer" } } },
    default: { "proxy-router-*-nlb": [7301], "proxy-validator-*-nlb": [7301] } as Readonly<
      Record<string, readonly number[]>
    >,
  },
};

export const securityGroupsNotOpenToTheWorld: Rule = {
  name: "security-groups-not-open-to-the-world",
  description:
    "No security group admits the internet (0.0.0.0/0 or ::/0) on all traffic (protocol -1) or all ports, nor on any port that is not listed for that group in publicIngressPorts; separate rules (ec2.SecurityGroupRule, vpc.SecurityGroupIngressRule) and inline ingress blocks alike.",
  enforcement: "mandatory",
  remediation:
    "Admit the internet only on the ports meant to be public (list them for the group in this rule's publicIngressPorts option); reach everything else from a security group or a private CIDR.",
  equivalents: [
    "CKV_AWS_24",
    "CKV_AWS_25",
    "CKV_AWS_260",
    "CKV_AWS_277",
    "AwsSolutions-EC23",
    "AVD-AWS-0107",
    "[EC2.18]",
    "[EC2.19]",
  ],
  options: OPEN_PORTS_OPTIONS,
  checkStack: (resources, ctx) => {
    const { publicIngressPorts } = optionsOf(ctx, OPEN_PORTS_OPTIONS);
    const groupNames = new Map<string, string>();
    for (const { view, props } of ofClass(resources, aws.ec2.SecurityGroup)) {
      const id = str(view.outputs.id);
      if (id) groupNames.set(id, str(props.name) ?? view.name);
    }
    const allowedFor = (name: string | undefined): number[] => {
      // A group that cannot be named may open what some allow-listed group may.
      const entries = Object.entries(publicIngressPorts).filter(
        ([pattern]) => name === undefined || wildcardRegExp(pattern).test(name),
      );
      return entries.flatMap(([, ports]) => [...ports]);
    };
    const findings: Finding[] = [];
    for (const rule of ingressOf(resources)) {
      const world = rule.cidrs.filter((c) => WORLD.includes(c));
      if (world.length === 0) continue;
      // A group whose id is not known yet (a preview of a new one), or whose id no group of the stack shows
      // (the CLI's policy host passes no ids; a group of another stack) is matched by name as "any group".
      const name = rule.groupName ?? (rule.groupId ? groupNames.get(rule.groupId) : undefined);
      const where = `${rule.label} of security group ${name ?? rule.groupId ?? "(not known yet)"}`;
      const from = rule.fromPort ?? 0;
      const to = rule.toPort ?? 65535;
      if (ALL_PROTOCOLS.includes(rule.protocol)) {
        findings.push({
          urn: rule.source.urn,
          message: `${where} admits all traffic (protocol ${rule.protocol}) from ${world.join(", ")}`,
        });
        continue;
      }
      if (from <= 1 && to >= 65535) {
        findings.push({
          urn: rule.source.urn,
          message: `${where} admits every ${rule.protocol} port from ${world.join(", ")}`,
        });
        continue;
      }
      const allowed = allowedFor(name);
      const ports = from === to ? `port ${from}` : `ports ${from}-${to}`;
      const everyPortAllowed =
        to - from < 1024 && Array.from({ length: to - from + 1 }, (_, i) => from + i).every((p) => allowed.includes(p));
      if (everyPortAllowed) continue;
      const message = `${where} admits ${world.join(", ")} on ${rule.protocol} ${ports}, which publicIngressPorts does not list for it`;
      // A rule an adoption switch chose (its config key in the exception tag) is reported, never silent.
      const adoptedBy = policyExceptionOf(rule.source, "security-groups-not-open-to-the-world");
      findings.push(
        adoptedBy
          ? { urn: rule.source.urn, message: `allowed exception (adopted, ${adoptedBy}): ${message}`, exception: true }
          : { urn: rule.source.urn, message },
      );
    }
    return findings;
  },
};

export const rdsNotPublic: Rule = {
  name: "rds-not-publicly-accessible",
  description: "No database instance is publicly accessible.",
  enforcement: "mandatory",
  remediation:
    "Set publiclyAccessible: false; reach the database from the VPC (its security group admits the service only).",
  equivalents: ["CKV_AWS_17", "awsguard:rds-instance-public-access", "AVD-AWS-0180", "[RDS.2]"],
  resourceClasses: [aws.rds.Instance, aws.rds.ClusterInstance],
  checkResource: (r) => {
    const p = propsOf(r, aws.rds.Instance) ?? propsOf(r, aws.rds.ClusterInstance);
    return p?.publiclyAccessible === true
      ? [{ message: `database ${str(p.identifier) ?? r.name} is publicly accessible` }]
      : [];
  },
};

export const ecsNoPublicIp: Rule = {
  name: "ecs-services-no-public-ip",
  description: "ECS services do not assign public IP addresses to their tasks.",
  enforcement: "mandatory",
  remediation:
    "Set networkConfiguration.assignPublicIp: false and run tasks in private subnets (a load balancer or NAT reaches the internet).",
  equivalents: ["CKV_AWS_333", "[ECS.2]"],
  resourceClasses: [aws.ecs.Service],
  checkResource: (r) => {
    const p = propsOf(r, aws.ecs.Service);
    return p?.networkConfiguration?.assignPublicIp === true
      ? [{ message: `service ${str(p.name) ?? r.name} assigns public IPs to its tasks` }]
      : [];
  },
};

const LOAD_BALANCER_TYPES = [typeToken(aws.lb.LoadBalancer), typeToken(aws.alb.LoadBalancer)];
const isApplication = (r: ResourceView) =>
  LOAD_BALANCER_TYPES.includes(r.type) && (str(r.props.loadBalancerType) ?? "application") === "application";

export const albDropsInvalidHeaders: Rule = {
  name: "alb-drops-invalid-headers",
  description: "Application load balancers drop HTTP headers with invalid fields (request smuggling).",
  enforcement: "mandatory",
  remediation: "Set dropInvalidHeaderFields: true on the application load balancer.",
  equivalents: ["CKV_AWS_131", "AVD-AWS-0052", "[ELB.4]"],
  resourceClasses: [aws.lb.LoadBalancer, aws.alb.LoadBalancer],
  checkResource: (r) =>
    isApplication(r) && r.props.dropInvalidHeaderFields !== true
      ? [{ message: `application load balancer ${str(r.props.name) ?? r.name} does not drop invalid header fields` }]
      : [],
};

export const internetFacingAlbsHaveWaf: Rule = {
  name: "internet-facing-albs-have-waf",
  description: "Every internet-facing application load balancer has a WAFv2 web ACL associated.",
  enforcement: "mandatory",
  remediation:
    "Associate a web ACL (aws.wafv2.WebAclAssociation with resourceArn = the load balancer's ARN), or make the load balancer internal.",
  equivalents: ["CKV2_AWS_28", "[ELB.16]"],
  checkStack: (resources) => {
    const associated = new Set(
      ofClass(resources, aws.wafv2.WebAclAssociation).map(({ props }) => str(props.resourceArn)),
    );
    const findings: Finding[] = [];
    for (const lb of resources.filter((r) => isApplication(r) && r.props.internal !== true)) {
      const arn = str(lb.outputs.arn);
      if (!arn) continue; // not known yet: the association cannot be matched either
      if (!associated.has(arn))
        findings.push({
          urn: lb.urn,
          message: `internet-facing application load balancer ${str(lb.props.name) ?? lb.name} has no WAF web ACL`,
        });
    }
    return findings;
  },
};

export const cloudfrontHasWaf: Rule = {
  name: "cloudfront-has-waf",
  description: "Every CloudFront distribution is associated with a WAFv2 web ACL.",
  enforcement: "mandatory",
  remediation: "Set webAclId to the ARN of a CLOUDFRONT-scope aws.wafv2.WebAcl.",
  equivalents: ["CKV_AWS_68", "AwsSolutions-CFR2", "AVD-AWS-0011", "[CloudFront.6]"],
  resourceClasses: [aws.cloudfront.Distribution],
  checkResource: (r) => {
    const p = propsOf(r, aws.cloudfront.Distribution);
    return p && !str(p.webAclId) ? [{ message: `distribution ${str(p.comment) ?? r.name} has no WAF web ACL` }] : [];
  },
};

export const wafAclsHaveRules: Rule = {
  name: "waf-acls-have-rules",
  description: "A WAFv2 web ACL that allows by default has at least one rule (an empty ACL filters nothing).",
  enforcement: "mandatory",
  remediation: "Add rules (AWS managed rule groups, a rate limit) or make the default action block.",
  equivalents: ["CKV_AWS_175", "[WAF.10]"],
  resourceClasses: [aws.wafv2.WebAcl],
  checkResource: (r) => {
    const p = propsOf(r, aws.wafv2.WebAcl);
    if (!p) return [];
    const blocks = !!(p.defaultAction as { block?: unknown } | undefined)?.block;
    const rules = (p.rules ?? []).length + (str(p.ruleJson) ? 1 : 0);
    return !blocks && rules === 0
      ? [{ message: `web ACL ${str(p.name) ?? r.name} allows by default and has no rules` }]
      : [];
  },
};

export const NETWORK_RULES: readonly Rule[] = [
  securityGroupsNotOpenToTheWorld,
  rdsNotPublic,
  ecsNoPublicIp,
  albDropsInvalidHeaders,
  internetFacingAlbsHaveWaf,
  cloudfrontHasWaf,
  wafAclsHaveRules,
];
