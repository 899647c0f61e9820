/** Network exposure rules (policy/rules/network.ts). */
import { strict as assert } from "node:assert";
import * as aws from "@pulumi/aws";
import {
  albDropsInvalidHeaders,
  cloudfrontHasWaf,
  ecsNoPublicIp,
  internetFacingAlbsHaveWaf,
  rdsNotPublic,
  securityGroupsNotOpenToTheWorld,
  wafAclsHaveRules,
} from "../../policy/rules/network";
import type { PolicyViolation, ResourceView } from "../../policy/rules/model";
import { evaluate } from "../../policy/evaluate";
import { viewsFromPlan } from "../../policy/views";
import { evaluateProgram, nameOf, violations } from "../support/policy";
import { CERT_ARN, T, fires, ofRule, passes, show } from "./support";

const VPC = "vpc-0123456789abcdef0";
const SUBNETS = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"];
const N = {
  sg: "aws:ec2/securityGroup:SecurityGroup",
  sgRule: "aws:ec2/securityGroupRule:SecurityGroupRule",
  ingress: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
  service: "aws:ecs/service:Service",
  webAcl: "aws:wafv2/webAcl:WebAcl",
} as const;

const visibility = { cloudwatchMetricsEnabled: true, metricName: "m", sampledRequestsEnabled: true };

describe("policy rules: network exposure", () => {
  describe("security-groups-not-open-to-the-world", () => {
    let vs: PolicyViolation[];
    before(async () => {
      vs = await violations(securityGroupsNotOpenToTheWorld, () => {
        // The proxy router's NLB group, as ProxyService builds it: stratum 7301 from anywhere is its purpose.
        const nlb = new aws.ec2.SecurityGroup("router-nlb-sg", { name: "proxy-router-dev-nlb", vpcId: VPC });
        new aws.vpc.SecurityGroupIngressRule("router-nlb-in-miners", {
          securityGroupId: nlb.id,
          ipProtocol: "tcp",
          fromPort: 7301,
          toPort: 7301,
          cidrIpv4: "0.0.0.0/0",
        });
        new aws.vpc.SecurityGroupIngressRule("router-nlb-in-miners-v6", {
          securityGroupId: nlb.id,
          ipProtocol: "tcp",
          fromPort: 7301,
          toPort: 7301,
          cidrIpv6: "::/0",
        });
        // ...but not SSH, and not on a group the allow-list does not name.
        new aws.vpc.SecurityGroupIngressRule("router-nlb-in-ssh", {
          securityGroupId: nlb.id,
          ipProtocol: "tcp",
          fromPort: 22,
          toPort: 22,
          cidrIpv4: "0.0.0.0/0",
        });
        const svc = new aws.ec2.SecurityGroup("svc-sg", { name: "proxy-router-dev-service", vpcId: VPC });
        new aws.vpc.SecurityGroupIngressRule("svc-in-stratum-v6", {
          securityGroupId: svc.id,
          ipProtocol: "tcp",
          fromPort: 7301,
          toPort: 7301,
          cidrIpv6: "::/0",
        });
        new aws.vpc.SecurityGroupIngressRule("svc-in-all", {
          securityGroupId: svc.id,
          ipProtocol: "-1",
          cidrIpv4: "0.0.0.0/0",
        });
        new aws.vpc.SecurityGroupIngressRule("svc-in-api-from-vpn", {
          securityGroupId: svc.id,
          ipProtocol: "tcp",
          fromPort: 8080,
          toPort: 8080,
          cidrIpv4: "172.18.0.0/19",
        });
        new aws.vpc.SecurityGroupIngressRule("svc-in-from-nlb", {
          securityGroupId: svc.id,
          ipProtocol: "tcp",
          fromPort: 3333,
          toPort: 3333,
          referencedSecurityGroupId: nlb.id,
        });
        // The older separate-rule resource, and every port.
        new aws.ec2.SecurityGroupRule("svc-rule-all-ports", {
          type: "ingress",
          securityGroupId: svc.id,
          protocol: "tcp",
          fromPort: 0,
          toPort: 65535,
          cidrBlocks: ["0.0.0.0/0"],
        });
        new aws.ec2.SecurityGroupRule("svc-rule-egress", {
          type: "egress",
          securityGroupId: svc.id,
          protocol: "tcp",
          fromPort: 1,
          toPort: 65535,
          cidrBlocks: ["0.0.0.0/0"],
        });
        // Inline ingress blocks.
        new aws.ec2.SecurityGroup("inline-open", {
          name: "inline-open",
          vpcId: VPC,
          ingress: [{ protocol: "tcp", fromPort: 5432, toPort: 5432, ipv6CidrBlocks: ["::/0"] }],
        });
        new aws.ec2.SecurityGroup("inline-private", {
          name: "inline-private",
          vpcId: VPC,
          ingress: [{ protocol: "tcp", fromPort: 5432, toPort: 5432, cidrBlocks: ["10.0.0.0/16"] }],
        });
      });
    });

    it("passes the NLB's public stratum port (IPv4 and IPv6), private CIDRs, group references and egress", () => {
      passes(
        vs,
        securityGroupsNotOpenToTheWorld,
        "router-nlb-in-miners",
        "router-nlb-in-miners-v6",
        "svc-in-api-from-vpn",
        "svc-in-from-nlb",
        "svc-rule-egress",
        "inline-private",
      );
    });

    it("fires on a port the allow-list does not name for that group, IPv4 or IPv6, in separate rules of both kinds and inline", () => {
      fires(vs, securityGroupsNotOpenToTheWorld, {
        type: N.ingress,
        name: "router-nlb-in-ssh",
        level: "mandatory",
        message:
          "rule router-nlb-in-ssh of security group proxy-router-dev-nlb admits 0.0.0.0/0 on tcp port 22, which publicIngressPorts does not list for it",
      });
      fires(vs, securityGroupsNotOpenToTheWorld, {
        type: N.ingress,
        name: "svc-in-stratum-v6",
        level: "mandatory",
        message: "security group proxy-router-dev-service admits ::/0 on tcp port 7301",
      });
      fires(vs, securityGroupsNotOpenToTheWorld, {
        type: N.sg,
        name: "inline-open",
        level: "mandatory",
        message: "inline ingress 0 of security group inline-open admits ::/0 on tcp port 5432",
      });
    });

    it("fires on all traffic (protocol -1) and on every port from anywhere, whatever the allow-list", () => {
      fires(vs, securityGroupsNotOpenToTheWorld, {
        type: N.ingress,
        name: "svc-in-all",
        level: "mandatory",
        message: "admits all traffic (protocol -1) from 0.0.0.0/0",
      });
      fires(vs, securityGroupsNotOpenToTheWorld, {
        type: N.sgRule,
        name: "svc-rule-all-ports",
        level: "mandatory",
        message: "admits every tcp port from 0.0.0.0/0",
      });
      assert.equal(ofRule(vs, securityGroupsNotOpenToTheWorld).length, 5, show(vs));
    });

    it("takes the allow-list from its publicIngressPorts option", async () => {
      const program = () => {
        const web = new aws.ec2.SecurityGroup("web-sg", { name: "web-public", vpcId: VPC });
        new aws.vpc.SecurityGroupIngressRule("web-in-https", {
          securityGroupId: web.id,
          ipProtocol: "tcp",
          fromPort: 443,
          toPort: 443,
          cidrIpv4: "0.0.0.0/0",
        });
      };
      fires(await violations(securityGroupsNotOpenToTheWorld, program), securityGroupsNotOpenToTheWorld, {
        type: N.ingress,
        name: "web-in-https",
        level: "mandatory",
        message: "port 443",
      });
      const { plan } = await evaluateProgram(securityGroupsNotOpenToTheWorld, program);
      const allowed = await evaluate(viewsFromPlan(plan), {
        stack: "dev",
        rules: [securityGroupsNotOpenToTheWorld],
        ruleOptions: { [securityGroupsNotOpenToTheWorld.name]: { publicIngressPorts: { "web-*": [443] } } },
      });
      assert.deepEqual(allowed, []);
      await assert.rejects(
        evaluate(viewsFromPlan(plan), {
          stack: "dev",
          rules: [securityGroupsNotOpenToTheWorld],
          ruleOptions: { [securityGroupsNotOpenToTheWorld.name]: { publicIngressPorts: { "web-*": ["443"] } } },
        }),
        /policy config security-groups-not-open-to-the-world\.publicIngressPorts\.web-\*\[0\]: expected integer, got string/,
      );
    });

    it("where no group of the stack shows the rule's group id (the CLI passes no ids), allows only ports some allow-listed group may open", async () => {
      const rule = (name: string, port: number): ResourceView => ({
        type: N.ingress,
        name,
        urn: `urn:pulumi:dev::lumerin-infra::${N.ingress}::${name}`,
        props: {
          securityGroupId: "sg-0123456789abcdef0",
          ipProtocol: "tcp",
          fromPort: port,
          toPort: port,
          cidrIpv4: "0.0.0.0/0",
        },
        outputs: {},
        secretPaths: undefined,
        protect: false,
      });
      const found = await evaluate([rule("miners", 7301), rule("ssh", 22)], {
        stack: "dev",
        rules: [securityGroupsNotOpenToTheWorld],
      });
      assert.deepEqual(
        found.map((v) => [nameOf(v.urn), v.message.split(". ")[0]]),
        [
          [
            "ssh",
            "rule ssh of security group sg-0123456789abcdef0 admits 0.0.0.0/0 on tcp port 22, which publicIngressPorts does not list for it",
          ],
        ],
      );
    });
  });

  describe("rds-not-publicly-accessible, ecs-services-no-public-ip", () => {
    let vs: PolicyViolation[];
    before(async () => {
      vs = await violations([rdsNotPublic, ecsNoPublicIp], () => {
        const db = {
          engine: "postgres",
          instanceClass: "db.t4g.micro",
          allocatedStorage: 20,
          username: "app",
          manageMasterUserPassword: true,
        };
        new aws.rds.Instance("db-public", { identifier: "db-public", publiclyAccessible: true, ...db });
        new aws.rds.Instance("db-private", { identifier: "db-private", publiclyAccessible: false, ...db });
        const svc = (name: string, assignPublicIp: boolean) =>
          new aws.ecs.Service(name, {
            name,
            cluster: "arn:aws:ecs:us-east-1:111122223333:cluster/c",
            taskDefinition: "arn:aws:ecs:us-east-1:111122223333:task-definition/t:1",
            networkConfiguration: { subnets: SUBNETS, assignPublicIp },
          });
        svc("svc-public-ip", true);
        svc("svc-private", false);
      });
    });

    it("fires on a publicly accessible database and a service assigning public IPs", () => {
      fires(vs, rdsNotPublic, {
        type: T.rdsInstance,
        name: "db-public",
        level: "mandatory",
        message: "database db-public is publicly accessible",
      });
      fires(vs, ecsNoPublicIp, {
        type: N.service,
        name: "svc-public-ip",
        level: "mandatory",
        message: "service svc-public-ip assigns public IPs to its tasks",
      });
    });

    it("passes a private database and a service without public IPs", () => {
      passes(vs, rdsNotPublic, "db-private");
      passes(vs, ecsNoPublicIp, "svc-private");
    });
  });

  describe("alb-drops-invalid-headers, internet-facing-albs-have-waf", () => {
    let vs: PolicyViolation[];
    before(async () => {
      vs = await violations([albDropsInvalidHeaders, internetFacingAlbsHaveWaf], () => {
        const acl = new aws.wafv2.WebAcl("alb-acl", {
          name: "alb-acl",
          scope: "REGIONAL",
          defaultAction: { allow: {} },
          rules: [
            {
              name: "common",
              priority: 0,
              overrideAction: { none: {} },
              statement: { managedRuleGroupStatement: { name: "AWSManagedRulesCommonRuleSet", vendorName: "AWS" } },
              visibilityConfig: visibility,
            },
          ],
          visibilityConfig: visibility,
        });
        new aws.lb.LoadBalancer("public-bare", {
          name: "public-bare",
          loadBalancerType: "application",
          internal: false,
          subnets: SUBNETS,
        });
        const guarded = new aws.lb.LoadBalancer("public-guarded", {
          name: "public-guarded",
          loadBalancerType: "application",
          internal: false,
          subnets: SUBNETS,
          dropInvalidHeaderFields: true,
        });
        new aws.wafv2.WebAclAssociation("public-guarded-waf", { resourceArn: guarded.arn, webAclArn: acl.arn });
        new aws.lb.LoadBalancer("internal", {
          name: "internal",
          loadBalancerType: "application",
          internal: true,
          subnets: SUBNETS,
          dropInvalidHeaderFields: true,
        });
        new aws.lb.LoadBalancer("stratum", {
          name: "stratum",
          loadBalancerType: "network",
          internal: false,
          subnets: SUBNETS,
        });
      });
    });

    it("fires on an internet-facing ALB without a web ACL that keeps invalid headers", () => {
      fires(vs, albDropsInvalidHeaders, {
        type: T.loadBalancer,
        name: "public-bare",
        level: "mandatory",
        message: "application load balancer public-bare does not drop invalid header fields",
      });
      fires(vs, internetFacingAlbsHaveWaf, {
        type: T.loadBalancer,
        name: "public-bare",
        level: "mandatory",
        message: "internet-facing application load balancer public-bare has no WAF web ACL",
      });
    });

    it("passes an associated, header-dropping ALB, an internal ALB without WAF, and a network load balancer", () => {
      passes(vs, albDropsInvalidHeaders, "public-guarded", "internal", "stratum");
      passes(vs, internetFacingAlbsHaveWaf, "public-guarded", "internal", "stratum");
    });
  });

  describe("cloudfront-has-waf, waf-acls-have-rules", () => {
    let vs: PolicyViolation[];
    before(async () => {
      vs = await violations([cloudfrontHasWaf, wafAclsHaveRules], () => {
        new aws.wafv2.WebAcl("empty-acl", {
          name: "empty-acl",
          scope: "CLOUDFRONT",
          defaultAction: { allow: {} },
          visibilityConfig: visibility,
        });
        new aws.wafv2.WebAcl("deny-by-default", {
          name: "deny-by-default",
          scope: "CLOUDFRONT",
          defaultAction: { block: {} },
          visibilityConfig: visibility,
        });
        const ruled = new aws.wafv2.WebAcl("ruled-acl", {
          name: "ruled-acl",
          scope: "CLOUDFRONT",
          defaultAction: { allow: {} },
          rules: [
            {
              name: "rate",
              priority: 0,
              action: { block: {} },
              statement: { rateBasedStatement: { aggregateKeyType: "IP", limit: 2000 } },
              visibilityConfig: visibility,
            },
          ],
          visibilityConfig: visibility,
        });
        const site = (name: string, webAclId?: typeof ruled.arn) =>
          new aws.cloudfront.Distribution(name, {
            enabled: true,
            comment: name,
            origins: [
              { originId: "s3", domainName: "bucket.s3.us-east-1.amazonaws.com", originAccessControlId: "oac" },
            ],
            defaultCacheBehavior: {
              targetOriginId: "s3",
              viewerProtocolPolicy: "redirect-to-https",
              allowedMethods: ["GET", "HEAD"],
              cachedMethods: ["GET", "HEAD"],
              cachePolicyId: "658327ea-f89d-4fab-a63d-7e88639e58f6",
            },
            restrictions: { geoRestriction: { restrictionType: "none" } },
            viewerCertificate: {
              acmCertificateArn: CERT_ARN,
              sslSupportMethod: "sni-only",
              minimumProtocolVersion: "TLSv1.2_2021",
            },
            ...(webAclId ? { webAclId } : {}),
          });
        site("site-bare");
        site("site-guarded", ruled.arn);
      });
    });

    it("fires on a distribution without a web ACL and on an allow-by-default ACL without rules", () => {
      fires(vs, cloudfrontHasWaf, {
        type: T.distribution,
        name: "site-bare",
        level: "mandatory",
        message: "distribution site-bare has no WAF web ACL",
      });
      fires(vs, wafAclsHaveRules, {
        type: N.webAcl,
        name: "empty-acl",
        level: "mandatory",
        message: "web ACL empty-acl allows by default and has no rules",
      });
    });

    it("passes a distribution with a web ACL, an ACL with rules, and a block-by-default ACL", () => {
      passes(vs, cloudfrontHasWaf, "site-guarded");
      passes(vs, wafAclsHaveRules, "ruled-acl", "deny-by-default");
    });
  });
});
