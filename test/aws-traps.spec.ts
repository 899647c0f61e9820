/**
 * Races and traps that mocks hide and AWS does not: the order in which ECS
 * services and their roles' rights appear, and what a replacement of a resource
 * with a fixed physical name does. Checked on the plans of all three stacks.
 */
import { strict as assert } from "node:assert";
import type { Plan } from "../tools/harness";
import { planFiles } from "../tools/plan-stack";
import { committedPlan, planWith, resourcesOfType } from "./support/plan";

const STACKS = ["dev", "stg", "lmn"] as const;

/**
 * What a replacement does to each resource type the program registers, decided per type.
 *
 * - `deleteBeforeReplace`: a fixed name that a replacement keeps, nothing that refers to it blocks
 *   deleting it first: the old one goes, then the new one is created.
 * - `protected`: state that must not be deleted to make room (a database, secrets, keys, buckets);
 *   never delete-first, `protect`ed in production. Its replacement is planned by a person.
 * - `newName`: only the name itself (or the container it lives in: a cluster, a role, a log group,
 *   a bucket) forces a replacement, so a replacement always has a new name or a new home and is
 *   created before the old one is deleted; the other properties that would force one are fixed in
 *   code (listed in `fixed`, checked against every plan).
 * - `inUse`: the name is fixed and a property other than the name can replace it, but others use
 *   it while it exists (ENIs, listeners); deleting first would strip its dependents and then fail.
 *   A replacement under the same name fails at creation ("already exists") before anything changes;
 *   the way through is a new name (`fixed` lists what makes that unnecessary in practice).
 * - `unnamed`: no physical name that must be unique.
 */
type Decision = {
  readonly kind: "deleteBeforeReplace" | "protected" | "newName" | "inUse" | "unnamed";
  readonly why: string;
  /** Inputs that would force a replacement besides the name, and the one value the program gives them. */
  readonly fixed?: Readonly<Record<string, unknown>>;
};

const DECISIONS: Readonly<Record<string, Decision>> = {
  "aws:lambda/permission:Permission": {
    kind: "deleteBeforeReplace",
    why: "statement ids are unique per function; a new rule ARN replaces the statement under the same id",
  },

  "aws:rds/instance:Instance": { kind: "protected", why: "the notifications database" },
  "aws:secretsmanager/secret:Secret": {
    kind: "protected",
    why: "secret values; a deleted name stays reserved through its recovery window",
  },
  "aws:kms/key:Key": {
    kind: "protected",
    why: "encrypts the secrets and exec logs; deletion is scheduled, never immediate",
  },
  "aws:s3/bucket:Bucket": {
    kind: "protected",
    why: "the UI's objects and the canary's artifacts; bucket names are global",
  },

  "aws:ec2/securityGroup:SecurityGroup": {
    kind: "inUse",
    why: "task, function, database and load balancer ENIs use it: deleting it first would delete its rules, then wait on DependencyViolation",
  },
  "aws:lb/loadBalancer:LoadBalancer": {
    kind: "inUse",
    why: "its listeners would be deleted first, and then deletion protection (production) refuses the balancer: an outage for nothing; its type and scheme are fixed per balancer in code, its subnets come from config",
  },
  "aws:lb/targetGroup:TargetGroup": {
    kind: "inUse",
    why: "a listener forwards to it, so it cannot be deleted first (ResourceInUse); the proxy groups carry their port, the one replacing property config sets, in their name",
    fixed: { targetType: "ip" },
  },

  "aws:ecs/cluster:Cluster": { kind: "newName", why: "only the name forces a replacement" },
  "aws:ecs/service:Service": {
    kind: "newName",
    why: "the name, or a move to another cluster, where the name is free",
    fixed: { launchType: "FARGATE" },
  },
  "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders": {
    kind: "newName",
    why: "one per cluster, replaced only with the cluster",
  },
  "aws:iam/role:Role": {
    kind: "newName",
    why: "only the name (and the path, never set) forces a replacement",
    fixed: { path: undefined },
  },
  "aws:iam/rolePolicy:RolePolicy": {
    kind: "newName",
    why: "named within its role; replaced only with the role or by its name",
  },
  "aws:iam/rolePolicyAttachment:RolePolicyAttachment": {
    kind: "newName",
    why: "replaced only for another role or another policy",
  },
  "aws:kms/alias:Alias": {
    kind: "newName",
    why: "only the name forces a replacement; the target key is updated in place",
  },
  "aws:lambda/function:Function": {
    kind: "newName",
    why: "the name, or the package type, which is always a zip",
    fixed: { packageType: undefined },
  },
  "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig": {
    kind: "newName",
    why: "one per function, replaced only with the function",
  },
  "aws:cloudwatch/eventRule:EventRule": {
    kind: "newName",
    why: "the name, or the event bus, always the default",
    fixed: { eventBusName: undefined },
  },
  "aws:cloudwatch/eventTarget:EventTarget": {
    kind: "newName",
    why: "ids are unique per rule; replaced only with the rule or by its id",
  },
  "aws:cloudwatch/logGroup:LogGroup": {
    kind: "newName",
    why: "only the name forces a replacement (the class is never set); its logs stay until the old group is deleted",
    fixed: { logGroupClass: undefined },
  },
  "aws:cloudwatch/logMetricFilter:LogMetricFilter": {
    kind: "newName",
    why: "named within its log group; replaced only with the group or by its name",
  },
  "aws:cloudwatch/metricAlarm:MetricAlarm": { kind: "newName", why: "only the name forces a replacement" },
  "aws:cloudwatch/compositeAlarm:CompositeAlarm": { kind: "newName", why: "only the name forces a replacement" },
  "aws:cloudwatch/dashboard:Dashboard": { kind: "newName", why: "only the name forces a replacement" },
  "aws:sfn/stateMachine:StateMachine": {
    kind: "newName",
    why: "the name, or the workflow type, always STANDARD",
    fixed: { type: "STANDARD" },
  },
  "aws:rds/parameterGroup:ParameterGroup": {
    kind: "newName",
    why: "the family is the config's one major version (17), which the name carries",
    fixed: { family: "postgres17" },
  },
  "aws:rds/subnetGroup:SubnetGroup": {
    kind: "newName",
    why: "only the name forces a replacement; its subnets are updated in place",
  },
  "aws:route53/record:Record": { kind: "newName", why: "the name or the zone; each record's type is fixed in code" },
  "aws:sqs/queue:Queue": { kind: "newName", why: "the name, or FIFO, never set", fixed: { fifoQueue: undefined } },
  "aws:sns/topic:Topic": { kind: "newName", why: "the name, or FIFO, never set", fixed: { fifoTopic: undefined } },
  "aws:ssm/parameter:Parameter": {
    kind: "newName",
    why: "only the name forces a replacement (the data type is never set)",
    fixed: { dataType: undefined },
  },
  "aws:synthetics/canary:Canary": { kind: "newName", why: "only the name forces a replacement" },
  "aws:wafv2/webAcl:WebAcl": {
    kind: "newName",
    why: "the name, or the scope, always CLOUDFRONT",
    fixed: { scope: "CLOUDFRONT" },
  },
  "aws:cloudfront/originAccessControl:OriginAccessControl": { kind: "newName", why: "its name is updated in place" },
  "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy": {
    kind: "newName",
    why: "its name is updated in place",
  },
  "aws:cloudfront/monitoringSubscription:MonitoringSubscription": {
    kind: "newName",
    why: "one per distribution, replaced only with it",
  },
  "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": {
    kind: "newName",
    why: "one per bucket, replaced only with the bucket",
  },
  "aws:s3/bucketOwnershipControls:BucketOwnershipControls": {
    kind: "newName",
    why: "one per bucket, replaced only with the bucket",
  },
  "aws:s3/bucketPolicy:BucketPolicy": { kind: "newName", why: "one per bucket, replaced only with the bucket" },
  "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": {
    kind: "newName",
    why: "one per bucket, replaced only with the bucket",
  },
  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": {
    kind: "newName",
    why: "one per bucket, replaced only with the bucket",
  },
  "aws:s3/bucketVersioning:BucketVersioning": { kind: "newName", why: "one per bucket, replaced only with the bucket" },
  "aws:s3/bucketObjectv2:BucketObjectv2": { kind: "newName", why: "replaced only for another bucket or key" },
  "aws:sqs/queuePolicy:QueuePolicy": { kind: "newName", why: "one per queue, replaced only with the queue" },
  "aws:sns/topicPolicy:TopicPolicy": { kind: "newName", why: "one per topic, replaced only with the topic" },
  "aws:lb/listener:Listener": {
    kind: "newName",
    why: "its port is unique within its load balancer, and only a new load balancer replaces it",
  },
  "github:index/repositoryEnvironment:RepositoryEnvironment": {
    kind: "newName",
    why: "named within its repository; replaced only for another repository or environment",
  },
  "github:index/repositoryEnvironmentDeploymentPolicy:RepositoryEnvironmentDeploymentPolicy": {
    kind: "newName",
    why: "replaced only for another environment or branch pattern",
  },
  "github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable": {
    kind: "newName",
    why: "named within its environment; replaced only for another one or by its name",
  },
  "github:index/actionsVariable:ActionsVariable": {
    kind: "newName",
    why: "named within its repository; replaced only for another one or by its name",
  },

  "aws:ecs/taskDefinition:TaskDefinition": { kind: "unnamed", why: "a family takes any number of revisions" },
  "aws:acm/certificate:Certificate": { kind: "unnamed", why: "ACM allows several certificates for one domain" },
  "aws:acm/certificateValidation:CertificateValidation": { kind: "unnamed", why: "no AWS resource: a wait" },
  "aws:cloudfront/distribution:Distribution": {
    kind: "unnamed",
    why: "no name, and nothing of it forces a replacement",
  },
  "aws:route53/healthCheck:HealthCheck": { kind: "unnamed", why: "identified by a generated caller reference" },
  "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": { kind: "unnamed", why: "replaced only with its group" },
  "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": { kind: "unnamed", why: "replaced only with its group" },
};

/** A physical name's limits as AWS enforces them (terraform-provider-aws validates the same). */
interface NameLimit {
  readonly input: string;
  readonly pattern: RegExp;
  readonly max: number;
  readonly refused?: RegExp;
}
const ecs: Omit<NameLimit, "input"> = { pattern: /^[A-Za-z0-9_-]+$/, max: 255 };
const NAME_LIMITS: Readonly<Record<string, NameLimit>> = {
  "aws:lb/loadBalancer:LoadBalancer": {
    input: "name",
    pattern: /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/,
    max: 32,
    refused: /^internal-/,
  },
  "aws:lb/targetGroup:TargetGroup": { input: "name", pattern: /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/, max: 32 },
  "aws:iam/role:Role": { input: "name", pattern: /^[\w+=,.@-]+$/, max: 64 },
  "aws:iam/rolePolicy:RolePolicy": { input: "name", pattern: /^[\w+=,.@-]+$/, max: 128 },
  "aws:cloudwatch/logGroup:LogGroup": { input: "name", pattern: /^[.\-_/#A-Za-z0-9]+$/, max: 512 },
  "aws:cloudwatch/logMetricFilter:LogMetricFilter": { input: "name", pattern: /^[^:*]+$/, max: 512 },
  "aws:cloudwatch/metricAlarm:MetricAlarm": { input: "name", pattern: /^\S(.*\S)?$/, max: 255 },
  "aws:cloudwatch/compositeAlarm:CompositeAlarm": { input: "alarmName", pattern: /^\S(.*\S)?$/, max: 255 },
  "aws:cloudwatch/dashboard:Dashboard": { input: "dashboardName", pattern: /^[A-Za-z0-9_-]+$/, max: 255 },
  "aws:cloudwatch/eventRule:EventRule": { input: "name", pattern: /^[.\-_A-Za-z0-9]+$/, max: 64 },
  "aws:cloudwatch/eventTarget:EventTarget": { input: "targetId", pattern: /^[.\-_A-Za-z0-9]+$/, max: 64 },
  "aws:ssm/parameter:Parameter": {
    input: "name",
    pattern: /^\/[A-Za-z0-9_.\-/]+$/,
    max: 1011,
    refused: /^\/?(aws|ssm)/i,
  },
  "aws:secretsmanager/secret:Secret": { input: "name", pattern: /^[A-Za-z0-9/_+=.@-]+$/, max: 512 },
  "aws:s3/bucket:Bucket": { input: "bucket", pattern: /^[a-z0-9][a-z0-9.-]*[a-z0-9]$/, max: 63, refused: /\.\./ },
  "aws:ecs/cluster:Cluster": { input: "name", ...ecs },
  "aws:ecs/service:Service": { input: "name", ...ecs },
  "aws:ecs/taskDefinition:TaskDefinition": { input: "family", ...ecs },
  "aws:lambda/function:Function": { input: "name", pattern: /^[A-Za-z0-9_-]+$/, max: 64 },
  "aws:lambda/permission:Permission": { input: "statementId", pattern: /^[A-Za-z0-9_-]+$/, max: 100 },
  "aws:ec2/securityGroup:SecurityGroup": { input: "name", pattern: /^[\x20-\x7E]+$/, max: 255, refused: /^sg-/i },
  "aws:sqs/queue:Queue": { input: "name", pattern: /^[A-Za-z0-9_-]+$/, max: 80 },
  "aws:sns/topic:Topic": { input: "name", pattern: /^[A-Za-z0-9_-]+$/, max: 256 },
  "aws:rds/instance:Instance": {
    input: "identifier",
    pattern: /^[a-z](?:[a-z0-9-]*[a-z0-9])?$/,
    max: 63,
    refused: /--/,
  },
  "aws:rds/parameterGroup:ParameterGroup": {
    input: "name",
    pattern: /^[a-z](?:[a-z0-9-]*[a-z0-9])?$/,
    max: 255,
    refused: /--/,
  },
  "aws:rds/subnetGroup:SubnetGroup": { input: "name", pattern: /^[a-z0-9 ._-]+$/, max: 255 },
  "aws:synthetics/canary:Canary": { input: "name", pattern: /^[0-9a-z_-]+$/, max: 255 },
  "aws:wafv2/webAcl:WebAcl": { input: "name", pattern: /^[\w-]+$/, max: 128 },
  "aws:cloudfront/originAccessControl:OriginAccessControl": { input: "name", pattern: /^\S+$/, max: 64 },
  "aws:kms/alias:Alias": { input: "name", pattern: /^alias\/[A-Za-z0-9/_-]+$/, max: 256, refused: /^alias\/aws\// },
  "aws:route53/record:Record": { input: "name", pattern: /^[A-Za-z0-9.*_-]+$/, max: 253 },
};

const custom = (plan: Plan) => plan.resources.filter((r) => r.custom && !r.type.startsWith("pulumi:providers:"));
const byOutput = (plan: Plan, type: string, key: string, value: unknown) =>
  resourcesOfType(plan, type).find((r) => r.outputs[key] === value);

describe("replacements and ordering (every stack's plan)", () => {
  const plans: Partial<Record<(typeof STACKS)[number] | "github" | "topic", Plan>> = {};
  before(async () => {
    for (const stack of STACKS) plans[stack] = await committedPlan(stack);
    // The GitHub side too, as a stack that manages its environments plans it.
    plans.github = await planWith("stg", {
      overrides: {
        "lumerin-infra:github": JSON.stringify({ manageEnvironments: true }),
        "github:token": "github_pat_offline",
      },
      extraSecretKeys: ["github:token"],
    });
    // And the alert topic a stack creates when it names none.
    plans.topic = await planWith("dev", { overrides: { "lumerin-infra:monitoring": JSON.stringify({}) } });
  });
  const all = () => Object.entries(plans) as [string, Plan][];

  it("every ECS service waits for the inline policies of its execution role (and task role): no task starts before the role may pull, read its secrets and log", () => {
    let services = 0;
    for (const [stack, plan] of all()) {
      for (const service of resourcesOfType(plan, "aws:ecs/service:Service")) {
        services++;
        const task = byOutput(plan, "aws:ecs/taskDefinition:TaskDefinition", "arn", service.inputs.taskDefinition);
        assert.ok(task, `${stack}: ${service.name} runs a task definition of this plan`);
        for (const roleKey of ["executionRoleArn", "taskRoleArn"]) {
          const role = byOutput(plan, "aws:iam/role:Role", "arn", task.inputs[roleKey]);
          assert.ok(role, `${stack}: ${task.name}'s ${roleKey}`);
          const policies = resourcesOfType(plan, "aws:iam/rolePolicy:RolePolicy").filter(
            (p) => p.inputs.role === role.outputs.id || p.inputs.role === role.inputs.name,
          );
          if (roleKey === "executionRoleArn") assert.ok(policies.length > 0, `${stack}: ${role.name} has its policy`);
          for (const policy of policies)
            assert.ok(
              service.options.dependsOn.includes(policy.urn),
              `${stack}: ${service.name} depends on ${policy.name}`,
            );
        }
      }
    }
    assert.ok(services >= 12, `services checked: ${services}`);
  });

  it("every resource type has a decision about replacement, and the plans keep it", () => {
    const seen = new Set<string>();
    for (const [stack, plan] of all()) {
      for (const r of custom(plan)) {
        seen.add(r.type);
        const decision = DECISIONS[r.type];
        assert.ok(
          decision,
          `${r.type} (${r.name}) has no replacement decision: decide deleteBeforeReplace, protected, newName, inUse or unnamed`,
        );
        const where = `${stack}: ${r.type} ${r.name}`;
        assert.equal(
          r.options.deleteBeforeReplace,
          decision.kind === "deleteBeforeReplace",
          `${where}: deleteBeforeReplace (${decision.why})`,
        );
        if (decision.kind === "protected" && stack === "lmn")
          assert.equal(r.options.protect, true, `${where} is protected in production`);
        for (const [key, value] of Object.entries(decision.fixed ?? {}))
          assert.deepEqual(r.inputs[key], value, `${where}: ${key} is fixed in code (${decision.why})`);
      }
    }
    // No stale entries: each decision is about something the program registers.
    assert.deepEqual(
      Object.keys(DECISIONS).filter((t) => !seen.has(t)),
      [],
    );
  });

  it("every physical name in every plan is inside the limits AWS enforces for it", () => {
    let checked = 0;
    for (const [stack, plan] of all()) {
      for (const r of custom(plan)) {
        const limit = NAME_LIMITS[r.type];
        const name = limit ? r.inputs[limit.input] : undefined;
        if (!limit || typeof name !== "string") continue;
        checked++;
        const where = `${stack}: ${r.type} ${r.name} ${limit.input} "${name}"`;
        assert.ok(name.length <= limit.max, `${where} is longer than ${limit.max}`);
        assert.match(name, limit.pattern, where);
        if (limit.refused) assert.doesNotMatch(name, limit.refused, where);
      }
    }
    assert.ok(checked > 400, `names checked: ${checked}`);
  });

  it("every IAM document fits IAM's size quotas: a role's inline policies 10,240 characters together, its trust policy 2,048 (without whitespace)", () => {
    const size = (document: unknown) =>
      (typeof document === "string" ? document : JSON.stringify(document)).replace(/\s+/g, "").length;
    let roles = 0;
    for (const [stack, plan] of all()) {
      for (const role of resourcesOfType(plan, "aws:iam/role:Role")) {
        roles++;
        assert.ok(
          size(role.inputs.assumeRolePolicy) <= 2048,
          `${stack}: ${role.name}'s trust policy is ${size(role.inputs.assumeRolePolicy)} characters`,
        );
        const inline = resourcesOfType(plan, "aws:iam/rolePolicy:RolePolicy").filter(
          (p) => p.inputs.role === role.outputs.id || p.inputs.role === role.inputs.name,
        );
        const total = inline.reduce((n, p) => n + size(p.inputs.policy), 0);
        assert.ok(total <= 10240, `${stack}: ${role.name}'s inline policies are ${total} characters`);
      }
    }
    assert.ok(roles > 30, `roles checked: ${roles}`);
  });

  it("a proxy target group's port is in its name, so a port change creates the new group before the old one goes", async () => {
    const committed = resourcesOfType(plans.stg as Plan, "aws:lb/targetGroup:TargetGroup").map((r) => [
      r.name,
      r.inputs.name,
      r.inputs.port,
    ]);
    assert.deepEqual(
      committed.filter(([name]) => String(name).startsWith("proxy")),
      [
        ["proxy-router-tg", "alb-tg-proxy-router-3333-use1", 3333],
        ["proxy-validator-tg", "alb-tg-proxy-validator-3333-use1", 3333],
      ],
    );
    const cfg = JSON.parse(planFiles("stg").config["lumerin-infra:proxyRouter"]) as { router: Record<string, unknown> };
    cfg.router.stratumPort = 4444;
    const moved = await planWith("stg", { overrides: { "lumerin-infra:proxyRouter": JSON.stringify(cfg) } });
    const group = resourcesOfType(moved, "aws:lb/targetGroup:TargetGroup").find((r) => r.name === "proxy-router-tg");
    assert.deepEqual([group?.inputs.name, group?.inputs.port], ["alb-tg-proxy-router-4444-use1", 4444]);
  });
});

describe("ECS Exec and shell-less images", () => {
  it("is off for both proxy services in every stack: their image is built FROM scratch and has no shell", async () => {
    for (const stack of STACKS) {
      const plan = await committedPlan(stack);
      for (const name of ["proxy-router-svc-service", "proxy-validator-svc-service"]) {
        const service = resourcesOfType(plan, "aws:ecs/service:Service").find((r) => r.name === name);
        assert.equal(service?.inputs.enableExecuteCommand, false, `${stack}: ${name}`);
      }
    }
  });

  it("is allowed for an image that ships a shell (imageHasShell), with the task role's session rights", async () => {
    const cfg = JSON.parse(planFiles("dev").config["lumerin-infra:proxyRouter"]) as { router: Record<string, unknown> };
    Object.assign(cfg.router, { enableExecuteCommand: true, imageHasShell: true });
    const plan = await planWith("dev", { overrides: { "lumerin-infra:proxyRouter": JSON.stringify(cfg) } });
    const service = resourcesOfType(plan, "aws:ecs/service:Service").find((r) => r.name === "proxy-router-svc-service");
    assert.equal(service?.inputs.enableExecuteCommand, true);
    assert.ok(
      resourcesOfType(plan, "aws:iam/rolePolicy:RolePolicy").some((r) => r.name === "proxy-router-svc-task-policy"),
    );
  });
});

describe("Lambda reserved concurrency (new accounts allow none)", () => {
  const marginCall = (reservedConcurrency: number | null | undefined) => {
    const cfg = JSON.parse(planFiles("dev").config["lumerin-infra:futures"]) as {
      marginCall?: Record<string, unknown>;
    };
    cfg.marginCall = { ...cfg.marginCall, ...(reservedConcurrency === undefined ? {} : { reservedConcurrency }) };
    return planWith("dev", { overrides: { "lumerin-infra:futures": JSON.stringify(cfg) } }).then(
      (plan) =>
        resourcesOfType(plan, "aws:lambda/function:Function").find((r) => r.name.endsWith("margin-call-function"))
          ?.inputs,
    );
  };

  it("reserves one execution by default (runs never overlap), any number when configured, and none with null", async () => {
    assert.equal((await marginCall(undefined))?.reservedConcurrentExecutions, 1);
    assert.equal((await marginCall(3))?.reservedConcurrentExecutions, 3);
    const none = await marginCall(null);
    assert.ok(none, "the function is planned");
    assert.equal(Object.hasOwn(none, "reservedConcurrentExecutions"), false, "null leaves the function unreserved");
  });
});
