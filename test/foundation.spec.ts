import { strict as assert } from "node:assert";
import { committedPlan, planWith, resource, resourcesOfType } from "./support/plan";

describe("PlatformKey", () => {
  it("rotates, waits 30 days before deletion, and lets CloudWatch Logs use it only for the two clusters' exec log groups", async () => {
    const plan = await committedPlan("stg");
    const key = resource(plan, "aws:kms/key:Key", "platform-key");
    assert.equal(key.inputs.enableKeyRotation, true);
    assert.equal(key.inputs.deletionWindowInDays, 30);
    const policy = JSON.parse(String(key.inputs.policy)) as {
      Statement: { Sid: string; Principal: unknown; Condition?: unknown }[];
    };
    assert.deepEqual(
      policy.Statement.map((s) => [s.Sid, s.Principal]),
      [
        ["AccountAdministersKeyThroughIam", { AWS: "arn:aws:iam::464450398935:root" }],
        ["CloudWatchLogsEncryptsOwnLogGroups", { Service: "logs.us-east-1.amazonaws.com" }],
      ],
    );
    assert.deepEqual(policy.Statement[1].Condition, {
      ArnEquals: {
        "kms:EncryptionContext:aws:logs:arn": [
          "arn:aws:logs:us-east-1:464450398935:log-group:bedrock-stg-proxy-router-ecs-exec",
          "arn:aws:logs:us-east-1:464450398935:log-group:bedrock-futures-marketplace-ecs-cluster-stg",
        ],
      },
    });
    assert.equal(resource(plan, "aws:kms/alias:Alias", "platform-alias").inputs.name, "alias/lumerin-platform-stg");
  });

  it("encrypts every service's secret", async () => {
    const plan = await committedPlan("stg");
    const keyArn = resource(plan, "aws:kms/key:Key", "platform-key").outputs.arn;
    for (const secret of resourcesOfType(plan, "aws:secretsmanager/secret:Secret"))
      assert.equal(secret.inputs.kmsKeyId, keyArn, secret.name);
  });
});

describe("Cluster", () => {
  it("runs Fargate with Container Insights and logs every exec session, encrypted with the stack key", async () => {
    const plan = await committedPlan("lmn");
    const cluster = resource(plan, "aws:ecs/cluster:Cluster", "cluster-cluster");
    const keyArn = resource(plan, "aws:kms/key:Key", "platform-key").outputs.arn;
    assert.equal(cluster.inputs.name, "ecs-proxy-router-lmn-use1");
    assert.deepEqual(cluster.inputs.settings, [{ name: "containerInsights", value: "enabled" }]);
    assert.deepEqual(cluster.inputs.configuration, {
      executeCommandConfiguration: {
        kmsKeyId: keyArn,
        logging: "OVERRIDE",
        logConfiguration: {
          cloudWatchLogGroupName: "bedrock-lmn-proxy-router-ecs-exec",
          cloudWatchEncryptionEnabled: true,
        },
      },
    });
    const logs = resource(plan, "aws:cloudwatch/logGroup:LogGroup", "cluster-exec-logs");
    assert.deepEqual([logs.inputs.retentionInDays, logs.inputs.kmsKeyId], [365, keyArn]);
    const capacity = resource(plan, "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders", "cluster-capacity");
    assert.deepEqual(capacity.inputs.capacityProviders, ["FARGATE"]);
  });
});

describe("Network", () => {
  const privateIds = ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2"];
  const publicIds = ["subnet-0bbbbbbbbbbbbbbb1", "subnet-0bbbbbbbbbbbbbbb2"];

  it("existing, by Name tag: the foundation's VPC and subnets are looked up, and tasks land in the middle tier", async () => {
    const plan = await committedPlan("dev");
    const service = resource(plan, "aws:ecs/service:Service", "proxy-router-svc-service");
    const subnets = (service.inputs.networkConfiguration as { subnets: string[] }).subnets;
    assert.equal(subnets.length, 3);
    for (const id of subnets) assert.match(id, /^subnet-[0-9a-f]{17}$/);
    const nlb = resource(plan, "aws:lb/loadBalancer:LoadBalancer", "proxy-router-nlb");
    const nlbSubnets = nlb.inputs.subnets as string[];
    assert.equal(
      nlbSubnets.filter((s) => subnets.includes(s)).length,
      0,
      "load balancers use the edge tier, not the tasks' subnets",
    );
    assert.equal(
      plan.outputs.vpcId,
      resource(plan, "aws:ec2/securityGroup:SecurityGroup", "proxy-router-svc-sg").inputs.vpcId,
    );
  });

  it("existing, by id: ids are used as given, nothing is created", async () => {
    const plan = await planWith("dev", {
      overrides: {
        "lumerin-infra:network": JSON.stringify({
          mode: "existing",
          vpc: "vpc-0123456789abcdef0",
          publicSubnets: publicIds,
          privateSubnets: privateIds,
        }),
      },
    });
    const service = resource(plan, "aws:ecs/service:Service", "proxy-validator-svc-service");
    assert.deepEqual((service.inputs.networkConfiguration as { subnets: string[] }).subnets, privateIds);
    assert.deepEqual(
      resource(plan, "aws:lb/loadBalancer:LoadBalancer", "proxy-validator-nlb").inputs.subnets,
      publicIds,
    );
    assert.equal(plan.outputs.vpcId, "vpc-0123456789abcdef0");
    assert.equal(
      plan.resources.some((r) => r.type.startsWith("awsx:")),
      false,
    );
  });

  it("create: an awsx VPC with public and private subnets feeds the services", async () => {
    const plan = await planWith("dev", {
      overrides: {
        "lumerin-infra:network": JSON.stringify({
          mode: "create",
          cidrBlock: "10.50.0.0/16",
          availabilityZones: 3,
          natGateways: "onePerAz",
        }),
      },
    });
    const vpc = resource(plan, "awsx:ec2:Vpc", "network-vpc");
    assert.equal(vpc.inputs.cidrBlock, "10.50.0.0/16");
    assert.equal(vpc.inputs.numberOfAvailabilityZones, 3);
    assert.deepEqual(vpc.inputs.natGateways, { strategy: "OnePerAz" });
    assert.deepEqual(vpc.inputs.tags, { Name: "lumerin-dev" });
    const service = resource(plan, "aws:ecs/service:Service", "proxy-router-svc-service");
    assert.deepEqual(
      (service.inputs.networkConfiguration as { subnets: string[] }).subnets,
      vpc.outputs.privateSubnetIds,
    );
    assert.deepEqual(
      resource(plan, "aws:lb/loadBalancer:LoadBalancer", "proxy-router-nlb").inputs.subnets,
      vpc.outputs.publicSubnetIds,
    );
    assert.equal(plan.outputs.vpcId, vpc.outputs.vpcId);
  });
});
