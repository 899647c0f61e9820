/**
 * The market maker as the scheduled Lambda (`futures.marketMaker.runtime: lambda`), as the
 * committed stacks run it (the live estate's function since February 2026), against the ECS
 * service of the program's default: what each runtime plans, what the futures deploy role may
 * do in each (IAM simulator), the GitHub variables, and the refusal of a config for both.
 */
import { strict as assert } from "node:assert";
import { runSimulation } from "@cloud-copilot/iam-simulate";
import { ConfigError } from "../config/load";
import type { CapturedResource, Plan } from "../tools/harness";
import {
  GITHUB_ADMIN_ENV,
  configError,
  doc,
  freshEstatePlan,
  committedPlan,
  planWith,
  resource,
  resourcesOfType,
} from "./support/plan";
import { planFiles } from "../tools/plan-stack";
import type { SecretToDo } from "../stack";
import { STACK_ACCOUNTS } from "./support/fixtures";

const ACCOUNTS = STACK_ACCOUNTS;
const STACKS = ["dev", "stg", "lmn"] as const;
type Stack = (typeof STACKS)[number];
const FUTURES = "lumerin-infra:futures";
const PRIVATE_KEY = "0x" + "5e".repeat(32);

const fn = (plan: Plan) => resource(plan, "aws:lambda/function:Function", "futures-market-maker-lambda-function");
const byName = (plan: Plan, type: string, name: string): CapturedResource | undefined =>
  resourcesOfType(plan, type).find((r) => r.inputs.name === name);

describe("market maker as the scheduled Lambda (runtime: lambda)", () => {
  const plans = {} as Record<Stack, Plan>;
  before(async () => {
    for (const stack of STACKS) plans[stack] = await committedPlan(stack);
  });

  for (const stack of STACKS) {
    it(`${stack}: the live function: market-maker-${stack}, nodejs22.x index.handler, 60 s, 1024 MB, one run at a time, in the private subnets`, () => {
      const f = fn(plans[stack]);
      const i = f.inputs;
      assert.deepEqual(
        [i.name, i.runtime, i.handler, i.timeout, i.memorySize, i.reservedConcurrentExecutions, i.role],
        [
          `market-maker-${stack}`,
          "nodejs22.x",
          "index.handler",
          60,
          1024,
          1,
          `arn:aws:iam::${ACCOUNTS[stack]}:role/market-maker-lambda-role-${stack}`,
        ],
      );
      const privateSubnets = resource(plans[stack], "aws:lambda/function:Function", "futures-margin-call-function")
        .inputs.vpcConfig as { subnetIds: string[] };
      const vpc = i.vpcConfig as { subnetIds: string[]; securityGroupIds: string[] };
      assert.deepEqual(vpc.subnetIds, privateSubnets.subnetIds, "the same middle subnets as the margin call");
      const sg = resource(plans[stack], "aws:ec2/securityGroup:SecurityGroup", "futures-market-maker-lambda-sg");
      assert.deepEqual(vpc.securityGroupIds, [sg.id]);
      // The pipeline owns the code: pulumi up never reverts an upload.
      for (const p of ["code", "s3Bucket", "s3Key", "sourceCodeHash"])
        assert.ok((f.options.ignoreChanges as string[]).includes(p), `ignores ${p}`);
      assert.equal(i.s3Bucket, undefined, "a placeholder, not an artifact");
    });

    it(`${stack}: the environment of the live function, the private key read at run time through SECRETS_ARN only`, () => {
      const env = (fn(plans[stack]).inputs.environment as { variables: Record<string, string> }).variables;
      const secret = resource(plans[stack], "aws:secretsmanager/secret:Secret", "futures-market-maker-secret");
      assert.deepEqual(Object.keys(env).sort(), [
        "ACTIVE_QUOTING_AMOUNT_RATIO",
        "CHAIN_ID",
        "FLOAT_AMOUNT",
        "FUTURES_ADDRESS",
        "GRID_LEVELS",
        "LOG_LEVEL",
        "MAX_POSITION",
        "MIN_ETH_BALANCE",
        "MIN_USDC_BALANCE",
        "RISK_AVERSION",
        "SECRETS_ARN",
        "SPREAD_AMOUNT",
      ]);
      assert.equal(env.SECRETS_ARN, secret.outputs.arn);
      assert.equal(
        secret.inputs.name,
        `market-maker-secrets-v3-${stack}`,
        "the live secret, the same one the ECS runtime reads",
      );
      const live = {
        dev: ["421614", "300000000", "3000000", "0.4"],
        stg: ["42161", "450000000", "15000", "0.6"],
        lmn: ["42161", "1000000000", "15000", "0.4"],
      }[stack];
      assert.deepEqual([env.CHAIN_ID, env.FLOAT_AMOUNT, env.RISK_AVERSION, env.ACTIVE_QUOTING_AMOUNT_RATIO], live);
      assert.deepEqual(
        [
          env.SPREAD_AMOUNT,
          env.GRID_LEVELS,
          env.MAX_POSITION,
          env.MIN_ETH_BALANCE,
          env.MIN_USDC_BALANCE,
          env.LOG_LEVEL,
        ],
        ["10000", "5", "10", "100000000000000", "10000000", "info"],
      );
    });

    it(`${stack}: the live schedule, target id, statement id, log group and security group; no ECS service, task or image tag`, () => {
      const p = plans[stack];
      const rule = resource(p, "aws:cloudwatch/eventRule:EventRule", "futures-market-maker-lambda-schedule");
      assert.deepEqual(
        [rule.inputs.name, rule.inputs.scheduleExpression],
        [`market-maker-schedule-${stack}`, stack === "dev" ? "rate(5 minutes)" : "rate(1 minute)"],
      );
      const target = resource(
        p,
        "aws:cloudwatch/eventTarget:EventTarget",
        "futures-market-maker-lambda-schedule-target",
      );
      assert.deepEqual(
        [target.inputs.rule, target.inputs.targetId, target.inputs.arn],
        [rule.inputs.name, "market-maker-lambda", fn(p).outputs.arn],
      );
      const permission = resource(p, "aws:lambda/permission:Permission", "futures-market-maker-lambda-schedule-invoke");
      assert.deepEqual(
        [
          permission.inputs.statementId,
          permission.inputs.principal,
          permission.inputs.sourceArn,
          permission.inputs.function,
        ],
        ["AllowExecutionFromCloudWatch", "events.amazonaws.com", rule.outputs.arn, `market-maker-${stack}`],
      );
      assert.equal(
        resource(p, "aws:cloudwatch/logGroup:LogGroup", "futures-market-maker-lambda-logs").inputs.name,
        `/aws/lambda/market-maker-${stack}`,
      );
      const sg = resource(p, "aws:ec2/securityGroup:SecurityGroup", "futures-market-maker-lambda-sg").inputs;
      assert.deepEqual(
        [sg.name, sg.description],
        [`market-maker-lambda-${stack}`, "Security group for Market Maker Lambda"],
      );
      assert.equal(
        resource(p, "aws:iam/rolePolicy:RolePolicy", "futures-market-maker-lambda-policy").inputs.name,
        "market-maker-secrets-access",
      );
      for (const type of ["aws:ecs/service:Service", "aws:ecs/taskDefinition:TaskDefinition"]) {
        assert.deepEqual(
          resourcesOfType(p, type).filter((r) => r.name.startsWith("futures-market-maker")),
          [],
          `no ${type}`,
        );
      }
      assert.equal(
        byName(p, "aws:ssm/parameter:Parameter", `/market-maker/${stack}/image-tag`),
        undefined,
        "no image, no image tag",
      );
      const output = p.outputs.marketMaker as { functionName: string; secretArn: string };
      assert.deepEqual(output, {
        functionName: `market-maker-${stack}`,
        secretArn: resource(p, "aws:secretsmanager/secret:Secret", "futures-market-maker-secret").outputs.arn,
      });
    });

    it(`${stack}: Lambda alarms (errors, duration, throttles, failed runs, not running) and its log filters in the market-maker-${stack} composite`, () => {
      const p = plans[stack];
      const composite = resource(p, "aws:cloudwatch/compositeAlarm:CompositeAlarm", "monitoring-market-maker");
      const suffixes = [
        "errors",
        "duration",
        "throttles",
        "failed-runs",
        "not-running",
        "error-lines",
        "order-failures",
        "insufficient-funds",
      ];
      assert.equal(composite.inputs.alarmName, `market-maker-${stack}`);
      assert.equal(composite.inputs.alarmRule, suffixes.map((s) => `ALARM("market-maker-${s}-${stack}")`).join(" OR "));
      for (const s of ["errors", "duration", "throttles", "not-running"]) {
        assert.deepEqual(
          resource(p, "aws:cloudwatch/metricAlarm:MetricAlarm", `monitoring-market-maker-${s}`).inputs.dimensions,
          { FunctionName: `market-maker-${stack}` },
        );
      }
      assert.equal(
        resource(p, "aws:cloudwatch/metricAlarm:MetricAlarm", "monitoring-market-maker-duration").inputs.threshold,
        48000,
        "80 % of the 60 s timeout",
      );
      const failed = resource(
        p,
        "aws:cloudwatch/metricAlarm:MetricAlarm",
        "monitoring-market-maker-failed-runs",
      ).inputs;
      assert.deepEqual(failed.dimensions, { QueueName: `market-maker-failures-${stack}` });
      for (const s of ["cpu-high", "memory-high", "running-tasks"])
        assert.equal(
          p.resources.some((r) => r.name === `monitoring-market-maker-${s}`),
          false,
          `no ECS ${s} alarm`,
        );
      const filters = resourcesOfType(p, "aws:cloudwatch/logMetricFilter:LogMetricFilter").filter((r) =>
        r.name.startsWith("monitoring-market-maker-"),
      );
      assert.deepEqual(
        filters.map((f) => [f.inputs.name, f.inputs.logGroupName]),
        ["error-lines", "order-failures", "insufficient-funds"].map((s) => [
          `market-maker-${s}-${stack}`,
          `/aws/lambda/market-maker-${stack}`,
        ]),
      );
      // Lambda's JSON log format: console.error lines are "level": "ERROR".
      assert.match(String(filters[0].inputs.pattern), /\$\.level = "ERROR"/);
    });
  }

  it("lmn: the function's role reads its own secret (decrypted only through Secrets Manager) and writes its own logs, nothing else (IAM simulator)", async () => {
    const p = plans.lmn;
    const acct = ACCOUNTS.lmn;
    const policy = doc(
      resource(p, "aws:iam/rolePolicy:RolePolicy", "futures-market-maker-lambda-policy").inputs.policy,
    );
    const keyArn = resource(p, "aws:kms/key:Key", "platform-key").outputs.arn as string;
    // A key's own policy must admit the account's IAM policies (the platform key's does).
    const keyPolicy = {
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "AccountAdministersKeyThroughIam",
          Effect: "Allow",
          Principal: { AWS: `arn:aws:iam::${acct}:root` },
          Action: "kms:*",
          Resource: "*",
        },
      ],
    };
    const can = async (action: string, target: string, context: Record<string, string> = {}) => {
      const result = await runSimulation(
        {
          request: {
            principal: `arn:aws:iam::${acct}:role/market-maker-lambda-role-lmn`,
            action,
            resource: { resource: target, accountId: acct },
            contextVariables: context,
          },
          identityPolicies: [{ name: "market-maker-secrets-access", policy }],
          serviceControlPolicies: [],
          resourceControlPolicies: [],
          ...(target === keyArn ? { resourcePolicy: keyPolicy } : {}),
        },
        {},
      );
      return result.resultType === "single" && result.overallResult === "Allowed";
    };
    const own = resource(p, "aws:secretsmanager/secret:Secret", "futures-market-maker-secret").outputs.arn as string;
    const marginCall = resource(p, "aws:secretsmanager/secret:Secret", "futures-margin-call-secret").outputs
      .arn as string;
    assert.equal(await can("secretsmanager:GetSecretValue", own), true);
    assert.equal(await can("secretsmanager:GetSecretValue", marginCall), false);
    assert.equal(
      await can("kms:Decrypt", keyArn, { "kms:ViaService": "secretsmanager.us-east-1.amazonaws.com" }),
      true,
    );
    assert.equal(await can("kms:Decrypt", keyArn), false, "not directly");
    assert.equal(
      await can(
        "logs:PutLogEvents",
        `arn:aws:logs:us-east-1:${acct}:log-group:/aws/lambda/market-maker-lmn:log-stream:2026/01/01/x`,
      ),
      true,
    );
    assert.equal(
      await can(
        "logs:PutLogEvents",
        `arn:aws:logs:us-east-1:${acct}:log-group:/aws/lambda/margin-call-v2-lmn:log-stream:x`,
      ),
      false,
    );
    assert.equal(
      await can(
        "sqs:SendMessage",
        resource(p, "aws:sqs/queue:Queue", "futures-market-maker-lambda-failures").outputs.arn as string,
      ),
      true,
    );
  });

  describe("the futures deploy role follows the runtime (IAM simulator)", () => {
    const policyOf = (plan: Plan) =>
      doc(resource(plan, "aws:iam/rolePolicy:RolePolicy", "deploy-futures-policy").inputs.policy);
    const can = async (plan: Plan, stack: Stack, action: string, target: string) => {
      const acct = ACCOUNTS[stack];
      const result = await runSimulation(
        {
          request: {
            principal: `arn:aws:iam::${acct}:role/github-actions-futures-v3-${stack}`,
            action,
            resource: { resource: target, accountId: acct },
            contextVariables: {},
          },
          identityPolicies: [{ name: "code-deploy", policy: policyOf(plan) }],
          serviceControlPolicies: [],
          resourceControlPolicies: [],
        },
        {},
      );
      assert.equal(result.resultType, "single");
      return result.resultType === "single" && result.overallResult === "Allowed";
    };
    const arns = (stack: Stack) => {
      const acct = ACCOUNTS[stack];
      return {
        fn: `arn:aws:lambda:us-east-1:${acct}:function:market-maker-${stack}`,
        service: `arn:aws:ecs:us-east-1:${acct}:service/ecs-futures-marketplace-${stack}/svc-market-maker-${stack}`,
        task: `arn:aws:ecs:us-east-1:${acct}:task-definition/tsk-market-maker:3`,
        marginCall: `arn:aws:lambda:us-east-1:${acct}:function:margin-call-v2-${stack}`,
      };
    };

    for (const stack of ["dev", "lmn"] as const) {
      it(`${stack} lambda: may upload the market maker's code, not deploy an ECS market maker`, async () => {
        const a = arns(stack);
        const p = plans[stack];
        assert.equal(await can(p, stack, "lambda:UpdateFunctionCode", a.fn), true);
        assert.equal(await can(p, stack, "lambda:GetFunction", a.fn), true);
        assert.equal(
          await can(p, stack, "lambda:UpdateFunctionCode", a.marginCall),
          true,
          "the margin call stays deployable",
        );
        assert.equal(
          await can(p, stack, "lambda:UpdateFunctionConfiguration", a.fn),
          false,
          "code only: its settings are the program's",
        );
        assert.equal(await can(p, stack, "lambda:InvokeFunction", a.fn), false, "a deploy never trades");
        assert.equal(await can(p, stack, "ecs:UpdateService", a.service), false);
        assert.equal(await can(p, stack, "ecs:RegisterTaskDefinition", a.task), false);
      });

      it(`${stack} ecs: may deploy the ECS service, not upload code to a market-maker function`, async () => {
        const a = arns(stack);
        const p = await freshEstatePlan(stack);
        assert.equal(await can(p, stack, "ecs:UpdateService", a.service), true);
        assert.equal(await can(p, stack, "ecs:RegisterTaskDefinition", a.task), true);
        assert.equal(await can(p, stack, "lambda:UpdateFunctionCode", a.fn), false);
        assert.equal(await can(p, stack, "lambda:UpdateFunctionCode", a.marginCall), true);
      });
    }
  });

  it("GitHub variables: ECS_DEPLOY_TARGETS without the market maker and MARKET_MAKER_FUNCTION (lambda); the ECS target and no function (ecs)", async () => {
    const github = { "lumerin-infra:github": JSON.stringify({ manageEnvironments: true }) };
    const variables = (plan: Plan) =>
      Object.fromEntries(
        resourcesOfType(plan, "github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable")
          .filter((r) => r.name.startsWith("github-futures-"))
          .map((r) => [r.inputs.variableName as string, r.inputs.value as string]),
      );
    const lambda = variables(await planWith("stg", { overrides: github, environment: GITHUB_ADMIN_ENV }));
    assert.equal(lambda.MARKET_MAKER_FUNCTION, "market-maker-stg");
    assert.equal(lambda.ECS_SERVICES, "svc-futures-notifications-stg");
    const targets = JSON.parse(lambda.ECS_DEPLOY_TARGETS) as { service: string }[];
    assert.deepEqual(
      targets.map((t) => t.service),
      ["svc-futures-notifications-stg"],
    );

    const files = planFiles("stg");
    const futures = JSON.parse(files.config[FUTURES]) as { marketMaker: Record<string, unknown> };
    delete futures.marketMaker.runtime;
    delete futures.marketMaker.lambda;
    const ecs = variables(
      await planWith("stg", {
        overrides: { ...github, [FUTURES]: JSON.stringify(futures) },
        environment: GITHUB_ADMIN_ENV,
      }),
    );
    assert.equal(ecs.MARKET_MAKER_FUNCTION, undefined);
    assert.deepEqual(
      (JSON.parse(ecs.ECS_DEPLOY_TARGETS) as { service: string }[]).map((t) => t.service),
      ["svc-market-maker-stg", "svc-futures-notifications-stg"],
    );
  });

  it("with the private key set in config, it reaches the secret's version as a Pulumi secret, never the function", async () => {
    const secrets = {
      "lumerin-infra:futuresMarketMakerPrivateKey": PRIVATE_KEY,
      "lumerin-infra:futuresMarketMakerEthNodeUrl": "https://arb-sepolia.example/v2/k",
      "lumerin-infra:futuresMarketMakerFuturesSubgraphUrl": "https://gateway.thegraph.com/api/k/subgraphs/id/a",
      "lumerin-infra:futuresMarketMakerOraclesSubgraphUrl": "https://gateway.thegraph.com/api/k/subgraphs/id/b",
    };
    // The value comes through Pulumi, so the secret is no longer declared out of band.
    const outOfBand = {
      "lumerin-infra:outOfBandSecrets": JSON.stringify({
        proxyRouter: "filled",
        proxyValidator: "filled",
        notifications: "filled",
        marginCall: "filled",
      }),
    };
    const plan = await planWith("dev", {
      overrides: { ...secrets, ...outOfBand },
      extraSecretKeys: Object.keys(secrets),
    });
    assert.ok(!JSON.stringify(fn(plan).inputs).includes(PRIVATE_KEY), "not in the function's inputs");
    const version = resource(
      plan,
      "aws:secretsmanager/secretVersion:SecretVersion",
      "futures-market-maker-secret-value",
    );
    assert.ok(version.secretInputs.includes("secretString"), "the secret string is a Pulumi secret");
  });

  describe("its secret declared pending out of band: nothing runs the function until it is filled", () => {
    const declared = (marketMaker: "pending" | "filled") => ({
      "lumerin-infra:outOfBandSecrets": JSON.stringify({
        proxyRouter: "filled",
        proxyValidator: "filled",
        marketMaker,
        notifications: "filled",
        marginCall: "filled",
      }),
    });
    const TARGET = "futures-market-maker-lambda-schedule-target";
    const INVOKE = "futures-market-maker-lambda-schedule-invoke";
    const has = (plan: Plan, name: string) => plan.resources.some((r) => r.name === name);

    it("pending: no execution reserved (Lambda throttles any invocation), and the rule invokes nothing", async () => {
      const plan = await planWith("stg", { overrides: declared("pending") });
      assert.equal(fn(plan).inputs.reservedConcurrentExecutions, 0);
      assert.equal(has(plan, TARGET), false, "no target: no throttled event reaches the failure queue");
      assert.equal(has(plan, INVOKE), false, "no invoke permission");
      const rule = resource(plan, "aws:cloudwatch/eventRule:EventRule", "futures-market-maker-lambda-schedule");
      assert.equal(rule.inputs.state, undefined, "the rule's state is left alone (a stated state sticks)");
      // The margin call, filled, keeps running.
      assert.equal(
        resource(plan, "aws:cloudwatch/eventRule:EventRule", "futures-margin-call-schedule").inputs.state,
        "ENABLED",
      );
      assert.deepEqual(
        resourcesOfType(plan, "aws:cloudwatch/metricAlarm:MetricAlarm")
          .map((a) => String(a.inputs.name))
          .filter((n) => n.startsWith("market-maker-not-running")),
        [],
        "no alarm for a function that is not meant to run yet",
      );
      const todo = (plan.outputs.operatorToDo as SecretToDo[]).find(
        (t) => t.secretName === "market-maker-secrets-v3-stg",
      );
      assert.ok(todo, "the operator's to-do names the secret");
      assert.equal(todo.steps.length, 2, "fill the secret, then declare it filled: no ECS service to start");
      assert.match(todo.steps[0], /^aws secretsmanager put-secret-value .*--secret-id market-maker-secrets-v3-stg /);
      assert.match(todo.steps[1], /outOfBandSecrets\.marketMaker to filled in Pulumi\.stg\.yaml, then pulumi up$/);
    });

    it("filled (as the committed stacks declare it): one run at a time, the target and the permission", async () => {
      const plan = await planWith("stg", { overrides: declared("filled") });
      assert.equal(fn(plan).inputs.reservedConcurrentExecutions, 1);
      assert.equal(has(plan, TARGET), true);
      assert.equal(has(plan, INVOKE), true);
      assert.ok(
        resourcesOfType(plan, "aws:cloudwatch/metricAlarm:MetricAlarm").some(
          (a) => a.inputs.name === "market-maker-not-running-stg",
        ),
      );
    });
  });

  describe("the config refuses the function's timing and memory out of range, naming the key, before any resource", () => {
    const refused: [string, Record<string, number>, string, RegExp][] = [
      ["no minutes between runs", { scheduleMinutes: 0 }, "scheduleMinutes", />=1/],
      ["more than a day between runs", { scheduleMinutes: 1441 }, "scheduleMinutes", /<=1440/],
      ["a timeout over 900 s", { scheduleMinutes: 60, timeoutSeconds: 901 }, "timeoutSeconds", /<=900/],
      ["memory under 128 MB", { memoryMb: 64 }, "memoryMb", />=128/],
    ];
    for (const [what, edit, key, message] of refused) {
      it(what, async () => {
        const futures = JSON.parse(planFiles("dev").config[FUTURES]) as {
          marketMaker: { lambda: Record<string, unknown> };
        };
        Object.assign(futures.marketMaker.lambda, edit);
        const error = await configError("dev", { [FUTURES]: JSON.stringify(futures) });
        const issue = error.issues.find((i) => i.key === `${FUTURES}.marketMaker.lambda.${key}`);
        assert.ok(issue, `names ${key}: ${error.message}`);
        assert.match(issue.message, message);
      });
    }
  });

  describe("one runtime per stack: a config for both is refused before any resource", () => {
    const refused = async (edit: (mm: Record<string, unknown>) => void): Promise<ConfigError> => {
      const futures = JSON.parse(planFiles("dev").config[FUTURES]) as { marketMaker: Record<string, unknown> };
      edit(futures.marketMaker);
      const error = await planWith("dev", { overrides: { [FUTURES]: JSON.stringify(futures) } }).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
      return error;
    };

    it("runtime lambda with ECS settings (workerQuantity, cpu) names each key and the runtime", async () => {
      const error = await refused((mm) => Object.assign(mm, { workerQuantity: 1, cpu: 512, memory: 1024 }));
      const keys = error.issues.map((i) => i.key).sort();
      assert.deepEqual(keys, [
        "lumerin-infra:futures.marketMaker.cpu",
        "lumerin-infra:futures.marketMaker.memory",
        "lumerin-infra:futures.marketMaker.workerQuantity",
      ]);
      for (const issue of error.issues)
        assert.match(issue.message, /lumerin-infra:futures\.marketMaker\.runtime is "lambda".*one wallet key/);
    });

    it("runtime ecs with a lambda block names futures.marketMaker.lambda", async () => {
      const error = await refused((mm) => (mm.runtime = "ecs"));
      assert.deepEqual(
        error.issues.map((i) => i.key),
        ["lumerin-infra:futures.marketMaker.lambda"],
      );
      assert.match(error.issues[0].message, /runtime is "ecs".*one wallet key/);
    });

    it("a timeout longer than the interval is refused by the component, naming the function and both values", async () => {
      const futures = JSON.parse(planFiles("dev").config[FUTURES]) as {
        marketMaker: { lambda: Record<string, unknown> };
      };
      futures.marketMaker.lambda.timeoutSeconds = 400;
      const error = await planWith("dev", { overrides: { [FUTURES]: JSON.stringify(futures) } }).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.match(String(error), /market-maker-dev: timeoutSeconds 400 exceeds the 5-minute interval/);
    });
  });
});
