/**
 * The scheduled-function steps alone (components/futures/scheduled-function.ts), under a bare
 * component: the parts and their logical names, the failure queue's policy per number of rules,
 * a rule that invokes nothing, the rule's state, the reservation, and the refusal of a function
 * without a schedule. The margin call's and the market maker's own specs cover what each makes
 * of these steps.
 */
import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import {
  FunctionSchedule,
  ScheduledFunctionArgs,
  plural,
  rateExpression,
  scheduledFunction,
} from "../components/futures/scheduled-function";
import type { Plan } from "../tools/harness";
import { ACCOUNT, REGION, evaluateProgram } from "./support/policy";
import { doc, resource, resourcesOfType } from "./support/plan";

class Host extends pulumi.ComponentResource {
  constructor(name: string, args: ScheduledFunctionArgs) {
    super("test:index:Host", name, {}, {});
    scheduledFunction(name, args, this);
    this.registerOutputs({});
  }
}

const schedule = (key: string, overrides: Partial<FunctionSchedule> = {}): FunctionSchedule => ({
  key,
  ruleName: `job-${key}-dev`,
  description: `the ${key} run`,
  expression: rateExpression(5),
  targetId: `job-${key}`,
  statementId: `AllowExecution${key}`,
  ...overrides,
});

function args(overrides: Partial<ScheduledFunctionArgs> = {}): ScheduledFunctionArgs {
  return {
    aws: { accountId: ACCOUNT, region: REGION, partition: "aws" },
    network: { vpcId: "vpc-0123456789abcdef0", privateSubnetIds: ["subnet-0123456789abcdef0"] },
    names: {
      function: "job-dev",
      role: "job-role-dev",
      rolePolicy: "job-access",
      securityGroup: "job-lambda-dev",
      logGroup: "/aws/lambda/job-dev",
      failureQueue: "job-failures-dev",
    },
    description: "a job",
    egressDescription: "HTTPS out",
    timeoutSeconds: 30,
    memoryMb: 256,
    reservedConcurrency: 1,
    environment: { MODE: "test" },
    logLevel: "info",
    logRetentionDays: 14,
    secretArn: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:job-AbCdEf`,
    secretsKmsKeyArn: `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
    placeholderHandler: __filename,
    runRetries: { maximumRetryAttempts: 0, maximumEventAgeInSeconds: 60 },
    deliveryRetries: { maximumRetryAttempts: 2, maximumEventAgeInSeconds: 60 },
    schedules: [schedule("schedule")],
    ...overrides,
  };
}

async function planOf(overrides: Partial<ScheduledFunctionArgs> = {}): Promise<Plan> {
  return (
    await evaluateProgram([], () => {
      new Host("job", args(overrides));
    })
  ).plan;
}

const ruleArn = (name: string) => `arn:aws:events:${REGION}:${ACCOUNT}:rule/${name}`;
const queuePolicy = (plan: Plan) =>
  doc(resource(plan, "aws:sqs/queuePolicy:QueuePolicy", "job-failures-policy").inputs.policy).Statement;
const fn = (plan: Plan) => resource(plan, "aws:lambda/function:Function", "job-function").inputs;

describe("scheduledFunction (the steps both scheduled Lambdas share)", () => {
  let one: Plan;
  before(async () => {
    one = await planOf();
  });

  it("registers its parts under <name>-<part>, every one a child of the caller", () => {
    const host = one.resources.find((r) => r.type === "test:index:Host");
    assert.ok(host);
    const parts = one.resources.filter((r) => r !== host);
    assert.deepEqual(parts.map((r) => r.name).sort(), [
      "job-async",
      "job-failures",
      "job-failures-policy",
      "job-function",
      "job-logs",
      "job-out-https",
      "job-policy",
      "job-role",
      "job-schedule",
      "job-schedule-invoke",
      "job-schedule-target",
      "job-sg",
    ]);
    for (const r of parts) assert.equal(r.parent, host.urn, r.name);
  });

  it("one rule: the queue takes undeliverable events from that rule only, under a singular Sid", () => {
    const allow = queuePolicy(one).find((s) => s.Effect === "Allow");
    assert.deepEqual(
      [allow?.Sid, allow?.Condition],
      ["KeepEventsThisRuleCouldNotDeliver", { ArnEquals: { "aws:SourceArn": [ruleArn("job-schedule-dev")] } }],
    );
  });

  it("two rules: one Sid for both, naming both rules' ARNs", async () => {
    const plan = await planOf({ schedules: [schedule("schedule"), schedule("daily")] });
    const allow = queuePolicy(plan).find((s) => s.Effect === "Allow");
    assert.deepEqual(
      [allow?.Sid, allow?.Condition],
      [
        "KeepEventsTheseRulesCouldNotDeliver",
        { ArnEquals: { "aws:SourceArn": [ruleArn("job-schedule-dev"), ruleArn("job-daily-dev")] } },
      ],
    );
  });

  it("a rule that does not invoke: the rule without its target and invoke permission, the other rule's kept", async () => {
    const plan = await planOf({ schedules: [schedule("schedule", { invokes: false }), schedule("daily")] });
    const names = plan.resources.map((r) => r.name);
    for (const absent of ["job-schedule-target", "job-schedule-invoke"]) assert.ok(!names.includes(absent), absent);
    for (const present of ["job-schedule", "job-daily", "job-daily-target", "job-daily-invoke"])
      assert.ok(names.includes(present), present);
    assert.deepEqual(
      resourcesOfType(plan, "aws:lambda/permission:Permission").map((p) => p.inputs.sourceArn),
      [ruleArn("job-daily-dev")],
    );
  });

  it("states a rule's state only when given (a stated state sticks once stated)", async () => {
    const rule = (plan: Plan) => resource(plan, "aws:cloudwatch/eventRule:EventRule", "job-schedule").inputs;
    assert.equal(Object.hasOwn(rule(one), "state"), false);
    assert.equal(rule(await planOf({ schedules: [schedule("schedule", { state: "DISABLED" })] })).state, "DISABLED");
    assert.deepEqual(
      [rule(one).name, rule(one).description, rule(one).scheduleExpression],
      ["job-schedule-dev", "the schedule run", "rate(5 minutes)"],
    );
  });

  it("reserves what it is given: 1, 0 (throttles everything), or nothing at all with null", async () => {
    assert.equal(fn(one).reservedConcurrentExecutions, 1);
    assert.equal(fn(await planOf({ reservedConcurrency: 0 })).reservedConcurrentExecutions, 0);
    assert.equal(Object.hasOwn(fn(await planOf({ reservedConcurrency: null })), "reservedConcurrentExecutions"), false);
  });

  it("adds SECRETS_ARN to the environment, and names its own security group by default", () => {
    assert.deepEqual((fn(one).environment as { variables: Record<string, string> }).variables, {
      MODE: "test",
      SECRETS_ARN: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:job-AbCdEf`,
    });
    assert.equal(
      resource(one, "aws:ec2/securityGroup:SecurityGroup", "job-sg").inputs.description,
      "job-dev: no inbound; HTTPS out",
    );
  });

  it("Lambda's retries of a run and EventBridge's of a delivery are each the ones given", () => {
    const invoke = resource(one, "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig", "job-async").inputs;
    const target = resource(one, "aws:cloudwatch/eventTarget:EventTarget", "job-schedule-target").inputs;
    assert.deepEqual(
      [invoke.maximumRetryAttempts, invoke.maximumEventAgeInSeconds, target.retryPolicy],
      [0, 60, { maximumEventAgeInSeconds: 60, maximumRetryAttempts: 2 }],
    );
  });

  it("refuses a function without a schedule, naming it", async () => {
    await assert.rejects(planOf({ schedules: [] }), /job-dev: a scheduled function needs a schedule/);
  });

  it("spells units as EventBridge wants them: singular for one", () => {
    assert.deepEqual([plural(1, "minute"), plural(5, "minute")], ["1 minute", "5 minutes"]);
  });
});
