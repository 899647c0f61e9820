/**
 * lib/force-new.ts: per resource type, a change of a force-new input predicts a
 * replacement (naming the path) and a change of an updatable input does not; the
 * special rules (NLB security groups and subnets, RDS encryption) both ways; and every
 * type the three stacks plan is known, so a new type cannot slip by unjudged.
 */
import { strict as assert } from "node:assert";
import { FORCE_NEW, STATEFUL, isStateful, knowsType, replacementReasons, valuesAt } from "../lib/force-new";
import { STATEFUL_TYPES } from "../lib/stateful-types";
import { committedPlan } from "./support/plan";

type Inputs = Record<string, unknown>;
interface Case {
  /** Inputs before (a minimal resource of the type). */
  readonly base: Inputs;
  /** A change that replaces: [path as reported, the new inputs]. */
  readonly replace: readonly [string, Inputs];
  /** A change that updates in place. */
  readonly update: Inputs;
}

const arn = (s: string) => `arn:aws:${s}`;

/** Written by hand from the provider's schema, independent of the table under test. */
const CASES: Record<string, Case> = {
  "aws:acm/certificate:Certificate": {
    base: { domainName: "a.example.com", validationMethod: "DNS" },
    replace: ["domainName", { domainName: "b.example.com" }],
    update: { tags: { team: "x" } },
  },
  "aws:acm/certificateValidation:CertificateValidation": {
    base: { certificateArn: arn("acm:c/1"), validationRecordFqdns: ["x."] },
    replace: ["validationRecordFqdns", { validationRecordFqdns: ["y."] }],
    update: {},
  },
  "aws:cloudfront/distribution:Distribution": {
    base: { enabled: true, comment: "ui" },
    replace: ["", {}],
    update: { comment: "ui2", aliases: ["b.example.com"] },
  },
  "aws:cloudfront/monitoringSubscription:MonitoringSubscription": {
    base: { distributionId: "E1" },
    replace: ["distributionId", { distributionId: "E2" }],
    update: {
      monitoringSubscription: { realtimeMetricsSubscriptionConfig: { realtimeMetricsSubscriptionStatus: "Disabled" } },
    },
  },
  "aws:cloudfront/originAccessControl:OriginAccessControl": {
    base: { name: "oac" },
    replace: ["", {}],
    update: { name: "oac2", signingBehavior: "never" },
  },
  "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy": {
    base: { name: "p" },
    replace: ["", {}],
    update: { name: "p2", comment: "c" },
  },
  "aws:cloudwatch/compositeAlarm:CompositeAlarm": {
    base: { alarmName: "a", alarmRule: "ALARM(x)" },
    replace: ["alarmName", { alarmName: "b" }],
    update: { alarmRule: "ALARM(y)" },
  },
  "aws:cloudwatch/dashboard:Dashboard": {
    base: { dashboardName: "d", dashboardBody: "{}" },
    replace: ["dashboardName", { dashboardName: "e" }],
    update: { dashboardBody: '{"widgets":[]}' },
  },
  "aws:cloudwatch/eventRule:EventRule": {
    base: { name: "r", scheduleExpression: "rate(1 minute)" },
    replace: ["name", { name: "r2" }],
    update: { scheduleExpression: "rate(5 minutes)" },
  },
  "aws:cloudwatch/eventTarget:EventTarget": {
    base: { rule: "r", targetId: "t", arn: arn("lambda:f") },
    replace: ["targetId", { targetId: "t2" }],
    update: { arn: arn("lambda:g"), input: "{}" },
  },
  "aws:cloudwatch/logGroup:LogGroup": {
    base: { name: "/app/x", retentionInDays: 30 },
    replace: ["name", { name: "/app/y" }],
    update: { retentionInDays: 90, kmsKeyId: arn("kms:k") },
  },
  "aws:cloudwatch/logMetricFilter:LogMetricFilter": {
    base: { name: "f", logGroupName: "/app/x", pattern: "ERROR" },
    replace: ["logGroupName", { logGroupName: "/app/y" }],
    update: { pattern: "FATAL" },
  },
  "aws:cloudwatch/metricAlarm:MetricAlarm": {
    base: { name: "a", threshold: 1 },
    replace: ["name", { name: "b" }],
    update: { threshold: 2, evaluationPeriods: 3 },
  },
  "aws:ec2/securityGroup:SecurityGroup": {
    base: { name: "sg", description: "d", vpcId: "vpc-1" },
    replace: ["description", { description: "e" }],
    update: { tags: { Name: "x" } },
  },
  "aws:ecs/cluster:Cluster": {
    base: { name: "c" },
    replace: ["name", { name: "d" }],
    update: { settings: [{ name: "containerInsights", value: "enabled" }] },
  },
  "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders": {
    base: { clusterName: "c", capacityProviders: ["FARGATE"] },
    replace: ["clusterName", { clusterName: "d" }],
    update: { capacityProviders: ["FARGATE", "FARGATE_SPOT"] },
  },
  "aws:ecs/service:Service": {
    base: {
      name: "s",
      cluster: "c",
      launchType: "FARGATE",
      deploymentController: { type: "ECS" },
      taskDefinition: "t:1",
    },
    replace: ["deploymentController.type", { deploymentController: { type: "CODE_DEPLOY" } }],
    update: {
      taskDefinition: "t:2",
      desiredCount: 3,
      loadBalancers: [{ containerName: "c", containerPort: 80, targetGroupArn: arn("tg") }],
    },
  },
  "aws:ecs/taskDefinition:TaskDefinition": {
    base: { family: "f", containerDefinitions: "[]", cpu: "256" },
    replace: ["containerDefinitions", { containerDefinitions: '[{"name":"x"}]' }],
    update: { skipDestroy: true, tags: { a: "b" } },
  },
  "aws:iam/openIdConnectProvider:OpenIdConnectProvider": {
    base: { url: "https://token.actions.githubusercontent.com", clientIdLists: ["sts.amazonaws.com"] },
    replace: ["url", { url: "https://other.example.com" }],
    update: { clientIdLists: ["sts.amazonaws.com", "x"] },
  },
  "aws:iam/role:Role": {
    base: { name: "r", assumeRolePolicy: "{}" },
    replace: ["name", { name: "r2" }],
    update: { assumeRolePolicy: '{"Version":"2012-10-17"}', maxSessionDuration: 7200 },
  },
  "aws:iam/rolePolicy:RolePolicy": {
    base: { name: "p", role: "r", policy: "{}" },
    replace: ["role", { role: "r2" }],
    update: { policy: '{"Statement":[]}' },
  },
  "aws:iam/rolePolicyAttachment:RolePolicyAttachment": {
    base: { role: "r", policyArn: arn("iam::aws:policy/A") },
    replace: ["policyArn", { policyArn: arn("iam::aws:policy/B") }],
    update: {},
  },
  "aws:iam/policy:Policy": {
    base: { name: "p", policy: "{}" },
    replace: ["name", { name: "p2" }],
    update: { policy: '{"Statement":[]}' },
  },
  "aws:kms/alias:Alias": {
    base: { name: "alias/a", targetKeyId: "k1" },
    replace: ["name", { name: "alias/b" }],
    update: { targetKeyId: "k2" },
  },
  "aws:kms/key:Key": {
    base: { description: "k", enableKeyRotation: true },
    replace: ["keyUsage", { keyUsage: "SIGN_VERIFY" }],
    update: { description: "k2", enableKeyRotation: false, policy: "{}" },
  },
  "aws:lambda/function:Function": {
    base: { name: "f", runtime: "nodejs22.x", memorySize: 128 },
    replace: ["name", { name: "g" }],
    update: { runtime: "nodejs24.x", memorySize: 256, role: arn("iam::1:role/x") },
  },
  "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig": {
    base: { functionName: "f", maximumRetryAttempts: 0 },
    replace: ["functionName", { functionName: "g" }],
    update: { maximumRetryAttempts: 2 },
  },
  "aws:lambda/permission:Permission": {
    base: { action: "lambda:InvokeFunction", function: "f", principal: "events.amazonaws.com" },
    replace: ["principal", { principal: "sns.amazonaws.com" }],
    update: {},
  },
  "aws:lb/listener:Listener": {
    base: { loadBalancerArn: arn("lb/1"), port: 443, protocol: "TLS" },
    replace: ["loadBalancerArn", { loadBalancerArn: arn("lb/2") }],
    update: { port: 7301, protocol: "TCP" },
  },
  "aws:lb/loadBalancer:LoadBalancer": {
    base: { name: "nlb", loadBalancerType: "network", internal: false, subnets: ["a", "b"] },
    replace: ["internal", { internal: true }],
    update: { subnets: ["a", "b", "c"], enableDeletionProtection: true },
  },
  "aws:lb/targetGroup:TargetGroup": {
    base: { name: "tg", port: 3333, protocol: "TCP", vpcId: "vpc-1" },
    replace: ["port", { port: 3334 }],
    update: { deregistrationDelay: 30, healthCheck: { port: "8080" } },
  },
  "aws:rds/instance:Instance": {
    base: { identifier: "db", storageEncrypted: true, instanceClass: "db.t4g.micro" },
    replace: ["storageEncrypted", { storageEncrypted: false }],
    update: { instanceClass: "db.t4g.small", allocatedStorage: 40, deletionProtection: false },
  },
  "aws:rds/parameterGroup:ParameterGroup": {
    base: { name: "pg", family: "postgres16" },
    replace: ["family", { family: "postgres17" }],
    update: { parameters: [{ name: "log_min_duration_statement", value: "500" }] },
  },
  "aws:rds/subnetGroup:SubnetGroup": {
    base: { name: "sn", subnetIds: ["a"] },
    replace: ["name", { name: "sn2" }],
    update: { subnetIds: ["a", "b"], description: "d" },
  },
  "aws:route53/healthCheck:HealthCheck": {
    base: { type: "HTTPS", fqdn: "a.example.com", requestInterval: 30 },
    replace: ["requestInterval", { requestInterval: 10 }],
    update: { fqdn: "b.example.com", failureThreshold: 5 },
  },
  "aws:route53/record:Record": {
    base: { name: "proxy.example.com", zoneId: "Z1", type: "A" },
    replace: ["name", { name: "proxy2.example.com" }],
    update: { aliases: [{ name: "lb2", zoneId: "Z2", evaluateTargetHealth: true }] },
  },
  "aws:s3/bucket:Bucket": {
    base: { bucket: "b" },
    replace: ["bucket", { bucket: "c" }],
    update: { forceDestroy: true, tags: { a: "b" } },
  },
  "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": {
    base: { bucket: "b", rules: [] },
    replace: ["bucket", { bucket: "c" }],
    update: { rules: [{ id: "x", status: "Enabled" }] },
  },
  "aws:s3/bucketObjectv2:BucketObjectv2": {
    base: { bucket: "b", key: "k", contentType: "text/plain" },
    replace: ["key", { key: "k2" }],
    update: { contentType: "text/html" },
  },
  "aws:s3/bucketOwnershipControls:BucketOwnershipControls": {
    base: { bucket: "b", rule: { objectOwnership: "BucketOwnerEnforced" } },
    replace: ["bucket", { bucket: "c" }],
    update: { rule: { objectOwnership: "ObjectWriter" } },
  },
  "aws:s3/bucketPolicy:BucketPolicy": {
    base: { bucket: "b", policy: "{}" },
    replace: ["bucket", { bucket: "c" }],
    update: { policy: '{"Statement":[]}' },
  },
  "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": {
    base: { bucket: "b", blockPublicAcls: true },
    replace: ["bucket", { bucket: "c" }],
    update: { blockPublicAcls: false },
  },
  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": {
    base: { bucket: "b", rules: [] },
    replace: ["bucket", { bucket: "c" }],
    update: { rules: [{ bucketKeyEnabled: true }] },
  },
  "aws:s3/bucketVersioning:BucketVersioning": {
    base: { bucket: "b", versioningConfiguration: { status: "Enabled" } },
    replace: ["bucket", { bucket: "c" }],
    update: { versioningConfiguration: { status: "Suspended" } },
  },
  "aws:secretsmanager/secret:Secret": {
    base: { name: "/app/dev/config", recoveryWindowInDays: 30 },
    replace: ["name", { name: "/app/dev/other" }],
    update: { kmsKeyId: arn("kms:k"), recoveryWindowInDays: 7, description: "d" },
  },
  "aws:secretsmanager/secretVersion:SecretVersion": {
    base: { secretId: "s", secretString: "[secret]" },
    replace: ["secretId", { secretId: "t" }],
    update: { versionStages: ["AWSCURRENT"] },
  },
  "aws:sns/topic:Topic": {
    base: { name: "alerts" },
    replace: ["name", { name: "alerts2" }],
    update: { kmsMasterKeyId: "alias/aws/sns", displayName: "x" },
  },
  "aws:sns/topicPolicy:TopicPolicy": {
    base: { arn: arn("sns:t"), policy: "{}" },
    replace: ["arn", { arn: arn("sns:u") }],
    update: { policy: '{"Statement":[]}' },
  },
  "aws:sfn/stateMachine:StateMachine": {
    base: { name: "m", type: "STANDARD", definition: "{}" },
    replace: ["type", { type: "EXPRESS" }],
    update: { definition: '{"StartAt":"A"}' },
  },
  "aws:sqs/queue:Queue": {
    base: { name: "q", messageRetentionSeconds: 345600 },
    replace: ["fifoQueue", { fifoQueue: true }],
    update: { messageRetentionSeconds: 1209600, sqsManagedSseEnabled: true },
  },
  "aws:sqs/queuePolicy:QueuePolicy": {
    base: { queueUrl: "https://q/1", policy: "{}" },
    replace: ["queueUrl", { queueUrl: "https://q/2" }],
    update: { policy: '{"Statement":[]}' },
  },
  "aws:ssm/parameter:Parameter": {
    base: { name: "/app/dev/image-tag", type: "String", insecureValue: "v1" },
    replace: ["name", { name: "/app/stg/image-tag" }],
    update: { insecureValue: "v2", description: "d" },
  },
  "aws:synthetics/canary:Canary": {
    base: { name: "ui", schedule: { expression: "rate(5 minutes)" } },
    replace: ["name", { name: "ui2" }],
    update: { schedule: { expression: "rate(10 minutes)" }, runtimeVersion: "syn-nodejs-puppeteer-15.0" },
  },
  "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": {
    base: { securityGroupId: "sg-1", cidrIpv4: "10.0.0.0/8", ipProtocol: "tcp", fromPort: 443, toPort: 443 },
    replace: ["securityGroupId", { securityGroupId: "sg-2" }],
    update: { cidrIpv4: "0.0.0.0/0", fromPort: 80, toPort: 80 },
  },
  "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": {
    base: { securityGroupId: "sg-1", cidrIpv4: "10.0.0.0/8", ipProtocol: "tcp", fromPort: 8080, toPort: 8080 },
    replace: ["securityGroupId", { securityGroupId: "sg-2" }],
    update: { cidrIpv4: "10.1.0.0/16", description: "vpn" },
  },
  "aws:wafv2/webAcl:WebAcl": {
    base: { name: "acl", scope: "CLOUDFRONT" },
    replace: ["scope", { scope: "REGIONAL" }],
    update: { rules: [{ name: "r", priority: 1 }], description: "d" },
  },
  "aws:ec2/vpc:Vpc": {
    base: { cidrBlock: "10.0.0.0/16" },
    replace: ["cidrBlock", { cidrBlock: "10.1.0.0/16" }],
    update: { enableDnsHostnames: true },
  },
  "aws:ec2/subnet:Subnet": {
    base: { vpcId: "vpc-1", cidrBlock: "10.0.1.0/24", availabilityZone: "us-east-1a" },
    replace: ["availabilityZone", { availabilityZone: "us-east-1b" }],
    update: { mapPublicIpOnLaunch: true },
  },
  "aws:ec2/routeTable:RouteTable": {
    base: { vpcId: "vpc-1" },
    replace: ["vpcId", { vpcId: "vpc-2" }],
    update: { tags: { a: "b" } },
  },
  "aws:ec2/routeTableAssociation:RouteTableAssociation": {
    base: { subnetId: "s-1", routeTableId: "rt-1" },
    replace: ["subnetId", { subnetId: "s-2" }],
    update: { routeTableId: "rt-2" },
  },
  "aws:ec2/route:Route": {
    base: { routeTableId: "rt-1", destinationCidrBlock: "0.0.0.0/0", natGatewayId: "nat-1" },
    replace: ["destinationCidrBlock", { destinationCidrBlock: "10.0.0.0/8" }],
    update: { natGatewayId: "nat-2" },
  },
  "aws:ec2/internetGateway:InternetGateway": {
    base: { vpcId: "vpc-1" },
    replace: ["", {}],
    update: { vpcId: "vpc-2" },
  },
  "aws:ec2/natGateway:NatGateway": {
    base: { subnetId: "s-1", allocationId: "eip-1" },
    replace: ["subnetId", { subnetId: "s-2" }],
    update: { tags: { a: "b" } },
  },
  "aws:ec2/eip:Eip": {
    base: { domain: "vpc" },
    replace: ["networkBorderGroup", { networkBorderGroup: "us-east-1-wl1" }],
    update: { tags: { a: "b" } },
  },
  "pulumi:providers:aws": {
    base: { region: "us-east-1" },
    replace: ["region", { region: "us-west-2" }],
    update: { defaultTags: { tags: { a: "b" } } },
  },
};

describe("force-new facts (lib/force-new.ts)", () => {
  for (const [type, c] of Object.entries(CASES)) {
    describe(type, () => {
      if (c.replace[0]) {
        it(`replaces on a change of ${c.replace[0]}`, () => {
          const after = { ...c.base, ...c.replace[1] };
          const reasons = replacementReasons(type, c.base, after);
          assert.deepEqual(
            reasons.map((r) => r.path),
            [c.replace[0]],
          );
          assert.deepEqual(
            [reasons[0].before, reasons[0].after],
            [valuesAt(c.base, c.replace[0])[0], valuesAt(after, c.replace[0])[0]],
          );
        });
      } else {
        it("has no force-new input but region (the provider updates everything in place)", () => {
          assert.deepEqual(
            FORCE_NEW[type].map((f) => f.path),
            ["region"],
          );
        });
      }
      it(`updates in place on a change of ${Object.keys(c.update).join(", ") || "nothing"}`, () => {
        assert.deepEqual(replacementReasons(type, c.base, { ...c.base, ...c.update }), []);
      });
    });
  }

  it("every type with facts has a case here (a type added to the facts is tested)", () => {
    assert.deepEqual(Object.keys(FORCE_NEW).sort(), Object.keys(CASES).sort());
  });

  it("every resource type the three stacks plan is known", async () => {
    for (const stack of ["dev", "stg", "lmn"] as const) {
      const plan = await committedPlan(stack);
      const unknown = [...new Set(plan.resources.filter((r) => r.custom && !knowsType(r.type)).map((r) => r.type))];
      assert.deepEqual(unknown, [], `${stack} plans types lib/force-new.ts does not know`);
    }
  });

  it("refuses to judge a type it does not know", () => {
    assert.equal(knowsType("aws:ec2/instance:Instance"), false);
    assert.throws(
      () => replacementReasons("aws:ec2/instance:Instance", {}, {}),
      /unknown resource type aws:ec2\/instance:Instance/,
    );
  });

  it("every AWS type is replaced by a change of region", () => {
    const reasons = replacementReasons(
      "aws:s3/bucket:Bucket",
      { bucket: "b", region: "us-east-1" },
      { bucket: "b", region: "eu-west-1" },
    );
    assert.deepEqual(reasons, [
      { path: "region", before: "us-east-1", after: "eu-west-1", why: "a resource cannot move between regions" },
    ]);
  });

  describe("a Network Load Balancer's security groups and subnets", () => {
    const LB = "aws:lb/loadBalancer:LoadBalancer";
    const nlb = { name: "nlb", loadBalancerType: "network", subnets: ["a", "b"] };
    it("adding security groups to an NLB created without any replaces it", () => {
      const reasons = replacementReasons(LB, nlb, { ...nlb, securityGroups: ["sg-1"] });
      assert.deepEqual(
        reasons.map((r) => [r.path, r.before, r.after]),
        [["securityGroups", undefined, ["sg-1"]]],
      );
      assert.match(reasons[0].why ?? "", /only at creation/);
    });
    it("removing all of them replaces it; changing a non-empty set does not", () => {
      assert.deepEqual(
        replacementReasons(LB, { ...nlb, securityGroups: ["sg-1"] }, { ...nlb, securityGroups: [] }).map((r) => r.path),
        ["securityGroups"],
      );
      assert.deepEqual(
        replacementReasons(LB, { ...nlb, securityGroups: ["sg-1"] }, { ...nlb, securityGroups: ["sg-1", "sg-2"] }),
        [],
      );
      assert.deepEqual(
        replacementReasons(LB, { ...nlb, securityGroups: ["sg-1"] }, { ...nlb, securityGroups: ["sg-2"] }),
        [],
      );
    });
    it("an Application Load Balancer takes security groups in place", () => {
      const alb = { ...nlb, loadBalancerType: "application" };
      assert.deepEqual(replacementReasons(LB, alb, { ...alb, securityGroups: ["sg-1"] }), []);
    });
    it("an NLB leaving a subnet is replaced; joining one is not", () => {
      assert.deepEqual(
        replacementReasons(LB, nlb, { ...nlb, subnets: ["a"] }).map((r) => [r.path, r.why]),
        [["subnets", "a Network Load Balancer cannot leave a subnet (it can join one)"]],
      );
      assert.deepEqual(replacementReasons(LB, nlb, { ...nlb, subnets: ["b", "a", "c"] }), []);
      const mapped = { ...nlb, subnets: undefined, subnetMappings: [{ subnetId: "a" }, { subnetId: "b" }] };
      assert.deepEqual(
        replacementReasons(LB, mapped, { ...mapped, subnetMappings: [{ subnetId: "b" }] }).map((r) => r.path),
        ["subnetMappings[*].subnetId"],
      );
    });
  });

  it("RDS: a new KMS key replaces the instance, and says why", () => {
    const reasons = replacementReasons(
      "aws:rds/instance:Instance",
      { identifier: "db", kmsKeyId: arn("kms:a") },
      { identifier: "db", kmsKeyId: arn("kms:b") },
    );
    assert.deepEqual(
      reasons.map((r) => [r.path, r.before, r.after]),
      [["kmsKeyId", arn("kms:a"), arn("kms:b")]],
    );
    assert.match(reasons[0].why ?? "", /cannot re-encrypt/);
  });

  it("a nested force-new input is found inside its block (ECS deployment controller)", () => {
    const before = { name: "s", deploymentController: { type: "ECS" }, networkConfiguration: { subnets: ["a"] } };
    const after = { name: "s", deploymentController: { type: "EXTERNAL" }, networkConfiguration: { subnets: ["a"] } };
    assert.deepEqual(
      replacementReasons("aws:ecs/service:Service", before, after).map((r) => [r.path, r.before, r.after]),
      [["deploymentController.type", "ECS", "EXTERNAL"]],
    );
  });

  it("key order inside a value is not a change", () => {
    assert.deepEqual(
      replacementReasons(
        "aws:ecs/service:Service",
        { name: "s", deploymentController: { type: "ECS", x: 1 } },
        { name: "s", deploymentController: { x: 1, type: "ECS" } },
      ),
      [],
    );
  });

  it("the stateful types are the policy pack's list (one source), log groups included", () => {
    assert.deepEqual([...STATEFUL].sort(), Object.keys(STATEFUL_TYPES).sort());
    assert.ok(
      isStateful("aws:rds/instance:Instance") &&
        isStateful("aws:cloudwatch/logGroup:LogGroup") &&
        isStateful("aws:kms/key:Key"),
    );
    assert.equal(isStateful("aws:cloudwatch/metricAlarm:MetricAlarm"), false);
  });
});
