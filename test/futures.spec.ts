/**
 * The futures marketplace as the stacks compose it: every part planned in every
 * stack, each toggle removing exactly its part, the futures deploy role granting
 * exactly what its deploys need, and the GitHub variables its workflows read.
 */
import { strict as assert } from "node:assert";
import { runSimulation } from "@cloud-copilot/iam-simulate";
import type { Plan } from "../tools/harness";
import { STACK_ACCOUNTS } from "./support/fixtures";
import {
  GITHUB_ADMIN_ENV,
  doc,
  freshEstateConfig,
  freshEstatePlan,
  planWith,
  resource,
  resourcesOfType,
} from "./support/plan";

const STACKS = ["dev", "stg", "lmn"] as const;
type Stack = (typeof STACKS)[number];
const ACCOUNTS: Record<Stack, string> = STACK_ACCOUNTS;
const FUTURES = "lumerin-infra:futures";

/** The committed stack's futures section with one change, as an override. */
function futuresWith(
  stack: Stack,
  edit: (cfg: Record<string, Record<string, unknown>>) => void,
): Record<string, string> {
  const cfg = JSON.parse(freshEstateConfig(stack)[FUTURES]) as Record<string, Record<string, unknown>>;
  edit(cfg);
  return { ...freshEstateConfig(stack), [FUTURES]: JSON.stringify(cfg) };
}

const PARTS = {
  ui: "lumerin:futures:FuturesUi",
  marketMaker: "lumerin:futures:MarketMaker",
  notifications: "lumerin:futures:Notifications",
  marginCall: "lumerin:futures:MarginCall",
} as const;

// The program's defaults (the market maker on ECS); the committed stacks' Lambda runtime: test/futures-market-maker-lambda.spec.ts.
describe("futures in the stacks", () => {
  const plans = {} as Record<Stack, Plan>;
  before(async () => {
    for (const stack of STACKS) plans[stack] = await freshEstatePlan(stack);
  });

  for (const stack of STACKS) {
    it(`${stack}: plans the UI, the market maker, the notifications service with its database, and the margin-call Lambda`, () => {
      const plan = plans[stack];
      const suffix = stack;
      assert.equal(
        resource(plan, "aws:ecs/cluster:Cluster", "futures-cluster-cluster").inputs.name,
        `ecs-futures-marketplace-${suffix}`,
      );
      assert.equal(
        resource(plan, "aws:ecs/service:Service", "futures-market-maker-svc-service").inputs.name,
        `svc-market-maker-${suffix}`,
      );
      assert.equal(
        resource(plan, "aws:ecs/service:Service", "futures-notifications-svc-service").inputs.name,
        `svc-futures-notifications-${suffix}`,
      );
      assert.equal(
        resource(plan, "aws:rds/instance:Instance", "futures-notifications-db").inputs.identifier,
        `notifications-v2-${suffix}`,
      );
      const site = stack === "lmn" ? "futures.lumerin.io" : `futures.${stack}.lumerin.io`;
      assert.deepEqual(
        resource(plan, "aws:cloudfront/distribution:Distribution", "futures-ui-distribution").inputs.aliases,
        [site, site.replace(/^futures/, "s3futures")],
      );
      const notify = stack === "lmn" ? "notifyint.lumerin.io" : `notifyint.${stack}.lumerin.io`;
      assert.equal(
        resource(plan, "aws:acm/certificate:Certificate", "futures-notifications-certificate").inputs.domainName,
        notify,
      );
      assert.equal(
        resource(plan, "aws:lambda/function:Function", "futures-margin-call-function").inputs.name,
        `margin-call-v2-${suffix}`,
      );
      // The margin call reaches the notifications endpoint at the name its DNS record has.
      const env = resource(plan, "aws:lambda/function:Function", "futures-margin-call-function").inputs.environment as {
        variables: Record<string, string>;
      };
      assert.equal(env.variables.NOTIFICATIONS_SERVICE_URL, `https://${notify}/notifications`);
      assert.equal(resource(plan, "aws:route53/record:Record", "futures-notifications-dns").inputs.name, notify);
      const fromMarginCall = resource(
        plan,
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        "futures-notifications-alb-in-https-from-margin-call",
      ).inputs;
      assert.equal(
        fromMarginCall.referencedSecurityGroupId,
        resource(plan, "aws:ec2/securityGroup:SecurityGroup", "futures-margin-call-sg").id,
      );
      assert.deepEqual(
        plan.violations.filter((v) => v.level === "mandatory"),
        [],
      );
    });
  }

  it("exports the deployment facts and each service's image as stack outputs", () => {
    const outputs = plans.lmn.outputs;
    const facts = outputs.futures as Record<string, unknown>;
    assert.deepEqual(
      [
        facts.clusterName,
        facts.siteUrl,
        facts.uiBucket,
        facts.notificationsUrl,
        facts.databaseIdentifier,
        facts.marginCallFunction,
      ],
      [
        "ecs-futures-marketplace-lmn",
        "https://futures.lumerin.io",
        "s3futures.lumerin.io",
        "https://notifyint.lumerin.io",
        "notifications-v2-lmn",
        "margin-call-v2-lmn",
      ],
    );
    assert.equal(
      facts.cloudFrontDistributionId,
      resource(plans.lmn, "aws:cloudfront/distribution:Distribution", "futures-ui-distribution").id,
    );
    const mm = outputs.marketMaker as { serviceName: string; image: string; imageTagParameter: string };
    assert.deepEqual(
      [mm.serviceName, mm.image, mm.imageTagParameter],
      ["svc-market-maker-lmn", "ghcr.io/lumerin-protocol/market-maker:unresolved-auto", "/market-maker/lmn/image-tag"],
    );
    assert.equal(
      (outputs.futuresNotifications as { serviceName: string }).serviceName,
      "svc-futures-notifications-lmn",
    );
  });

  it("dev runs the cheap settings; lmn the production ones", () => {
    const db = (stack: Stack) => resource(plans[stack], "aws:rds/instance:Instance", "futures-notifications-db").inputs;
    assert.deepEqual(
      [db("dev").instanceClass, db("dev").multiAz, db("dev").backupRetentionPeriod],
      ["db.t4g.micro", false, 7],
    );
    assert.deepEqual(
      [db("lmn").instanceClass, db("lmn").multiAz, db("lmn").backupRetentionPeriod, db("lmn").deletionProtection],
      ["db.t4g.small", true, 30, true],
    );
    const protectedIn = (stack: Stack) =>
      plans[stack].resources
        .filter((r) => r.urn.includes("lumerin:futures:") && r.options.protect)
        .map((r) => r.name)
        .sort();
    assert.deepEqual(protectedIn("dev"), []);
    assert.deepEqual(protectedIn("lmn"), [
      "futures-margin-call-secret",
      "futures-market-maker-secret",
      "futures-notifications-db",
      "futures-notifications-secret",
      "futures-ui-bucket",
    ]);
  });

  describe("each toggle removes exactly its part", () => {
    for (const [part, type] of Object.entries(PARTS) as [keyof typeof PARTS, string][]) {
      it(`futures.${part}.enabled: false`, async () => {
        const off = await planWith("dev", {
          overrides: futuresWith("dev", (c) => (c[part] = { ...c[part], enabled: false })),
        });
        const urns = (p: Plan) => new Set(p.resources.filter((r) => r.custom).map((r) => r.urn));
        const before = urns(plans.dev);
        const after = urns(off);
        const removed = [...before].filter((u) => !after.has(u));
        const added = [...after].filter((u) => !before.has(u));
        assert.deepEqual(added, [], "nothing appears");
        assert.ok(removed.length > 0);
        // Everything removed was the part's own: its monitoring, the us-east-1 provider with the UI, which alone
        // needs it, and the notifications endpoint's rule admitting the margin call goes with the margin call.
        const watched = {
          ui: "futures-ui",
          marketMaker: "market-maker",
          notifications: "notifications",
          marginCall: "margin-call",
        }[part];
        const own = (u: string) =>
          u.includes(`${type}$`) ||
          // Its alarms and composite (and the UI's health check) go with it.
          new RegExp(`lumerin:monitoring:Monitoring\\$.*::monitoring-${watched}(-|$)`).test(u) ||
          (part === "ui" && u.endsWith("::us-east-1")) ||
          (part === "marginCall" && u.endsWith("::futures-notifications-alb-in-https-from-margin-call"));
        assert.deepEqual(
          removed.filter((u) => !own(u)),
          [],
          "only the part's own resources are removed",
        );
        assert.deepEqual(
          [...before].filter((u) => own(u) && after.has(u)),
          [],
          "and all of them",
        );
      });
    }

    it("without either container service there is no futures cluster, and without futures nothing at all", async () => {
      const noServices = await planWith("dev", {
        overrides: futuresWith("dev", (c) => {
          c.marketMaker = { ...c.marketMaker, enabled: false };
          c.notifications = { ...c.notifications, enabled: false };
        }),
      });
      assert.equal(resourcesOfType(noServices, "aws:ecs/cluster:Cluster").length, 1, "only the proxy cluster");
      const none = await planWith("dev", { overrides: { ...freshEstateConfig("dev"), [FUTURES]: undefined } });
      assert.equal(
        none.resources.some((r) => r.urn.includes("lumerin:futures:")),
        false,
      );
      assert.equal(
        none.resources.some((r) => r.name === "deploy-futures-role"),
        false,
      );
    });
  });

  describe("the futures deploy role", () => {
    const policyOf = (stack: Stack) =>
      doc(resource(plans[stack], "aws:iam/rolePolicy:RolePolicy", "deploy-futures-policy").inputs.policy);

    it("is github-actions-futures-v3-{env}, trusted by its repository's environment only", () => {
      const role = resource(plans.lmn, "aws:iam/role:Role", "deploy-futures-role");
      assert.equal(role.inputs.name, "github-actions-futures-v3-lmn");
      const trust = doc(role.inputs.assumeRolePolicy).Statement;
      assert.deepEqual(
        trust.map((s) => s.Condition?.StringEquals?.["token.actions.githubusercontent.com:sub"]),
        [["repo:Lumerin-protocol/futures-marketplace:environment:main"]],
      );
    });

    it("grants the UI's sync and invalidation, the two services' deploys, and nothing else", () => {
      const plan = plans.dev;
      const out = (type: string, name: string, key = "arn") => resource(plan, type, name).outputs[key];
      const bucket = out("aws:s3/bucket:Bucket", "futures-ui-bucket");
      const distribution = out("aws:cloudfront/distribution:Distribution", "futures-ui-distribution");
      const statements = policyOf("dev").Statement.map((s) => [s.Sid, s.Action, s.Resource]);
      assert.deepEqual(
        statements.map(([sid]) => sid),
        [
          "RegisterRevisionsOfOwnTaskFamilies",
          "TagOwnRevisionsOnlyWhileRegistering",
          "ReadTaskDefinitionsAcceptsNoResourceArn",
          "DeployAndWatchOwnServices",
          "PassOwnTaskRolesToEcsTasksOnly",
          "RecordDeployedImageTag",
          "ListOwnSiteBucket",
          "PublishAndPruneOwnSiteObjects",
          "InvalidateOwnDistribution",
          "UploadOwnFunctionCode",
        ],
      );
      assert.deepEqual(statements.slice(6), [
        ["ListOwnSiteBucket", ["s3:ListBucket"], [bucket]],
        ["PublishAndPruneOwnSiteObjects", ["s3:PutObject", "s3:DeleteObject"], [`${bucket}/*`]],
        ["InvalidateOwnDistribution", ["cloudfront:CreateInvalidation", "cloudfront:GetInvalidation"], [distribution]],
        [
          "UploadOwnFunctionCode",
          ["lambda:UpdateFunctionCode", "lambda:GetFunction"],
          [out("aws:lambda/function:Function", "futures-margin-call-function")],
        ],
      ]);
      assert.deepEqual(statements[3][2], [
        out("aws:ecs/service:Service", "futures-market-maker-svc-service"),
        out("aws:ecs/service:Service", "futures-notifications-svc-service"),
      ]);
      // PassRole on exactly the two services' execution and task roles, and the tag parameters they record.
      assert.deepEqual(statements[4][2], [
        out("aws:iam/role:Role", "futures-market-maker-svc-execution-role"),
        out("aws:iam/role:Role", "futures-market-maker-svc-task-role"),
        out("aws:iam/role:Role", "futures-notifications-svc-execution-role"),
        out("aws:iam/role:Role", "futures-notifications-svc-task-role"),
      ]);
      assert.deepEqual(statements[5][2], [
        out("aws:ssm/parameter:Parameter", "futures-market-maker-image-tag"),
        out("aws:ssm/parameter:Parameter", "futures-notifications-image-tag"),
      ]);
    });

    describe("permission matrix (IAM evaluation)", () => {
      const acct = ACCOUNTS.dev;
      const can = async (action: string, target: string) => {
        const result = await runSimulation(
          {
            request: {
              principal: `arn:aws:iam::${acct}:role/github-actions-futures-v3-dev`,
              action,
              resource: { resource: target, accountId: acct },
              contextVariables: {},
            },
            identityPolicies: [{ name: "code-deploy", policy: policyOf("dev") }],
            serviceControlPolicies: [],
            resourceControlPolicies: [],
          },
          {},
        );
        return result.resultType === "single" && result.overallResult === "Allowed";
      };
      const distribution = () =>
        String(resource(plans.dev, "aws:cloudfront/distribution:Distribution", "futures-ui-distribution").outputs.arn);
      const object = (bucket: string, key: string) => () => `arn:aws:s3:::${bucket}/${key}`;
      const cases: [string, string, () => string, boolean][] = [
        ["s3:PutObject", "its site's objects", object("s3futures.dev.lumerin.io", "index.html"), true],
        ["s3:DeleteObject", "its site's objects", object("s3futures.dev.lumerin.io", "assets/old.js"), true],
        ["s3:ListBucket", "its site's bucket", () => "arn:aws:s3:::s3futures.dev.lumerin.io", true],
        ["cloudfront:CreateInvalidation", "its distribution", distribution, true],
        ["s3:GetObject", "its site's objects", object("s3futures.dev.lumerin.io", "index.html"), false],
        ["s3:PutBucketPolicy", "its site's bucket", () => "arn:aws:s3:::s3futures.dev.lumerin.io", false],
        ["s3:PutObject", "another environment's site", object("s3futures.stg.lumerin.io", "index.html"), false],
        ["cloudfront:UpdateDistribution", "its distribution", distribution, false],
        [
          "cloudfront:CreateInvalidation",
          "another distribution",
          () => `arn:aws:cloudfront::${acct}:distribution/EOTHERDISTRIBUTION`,
          false,
        ],
        [
          "secretsmanager:GetSecretValue",
          "the market maker's secret",
          () => `arn:aws:secretsmanager:us-east-1:${acct}:secret:market-maker-secrets-v3-dev-AbCdEf`,
          false,
        ],
        [
          "ecs:UpdateService",
          "a proxy service",
          () => `arn:aws:ecs:us-east-1:${acct}:service/ecs-proxy-router-dev-use1/svc-proxy-router-dev-use1`,
          false,
        ],
        [
          "lambda:UpdateFunctionCode",
          "the margin-call function",
          () => `arn:aws:lambda:us-east-1:${acct}:function:margin-call-v2-dev`,
          true,
        ],
        [
          "lambda:UpdateFunctionConfiguration",
          "the margin-call function",
          () => `arn:aws:lambda:us-east-1:${acct}:function:margin-call-v2-dev`,
          false,
        ],
        [
          "lambda:InvokeFunction",
          "the margin-call function",
          () => `arn:aws:lambda:us-east-1:${acct}:function:margin-call-v2-dev`,
          false,
        ],
        [
          "lambda:UpdateFunctionCode",
          "another environment's function",
          () => `arn:aws:lambda:us-east-1:${acct}:function:margin-call-v2-stg`,
          false,
        ],
      ];
      for (const [action, label, target, allowed] of cases) {
        it(`${allowed ? "allows" : "denies"} ${action} on ${label}`, async () => {
          assert.equal(await can(action, target()), allowed, `${action} ${target()}`);
        });
      }
    });
  });

  it("gives the futures repository's GitHub environment its deployment facts as variables, never a secret", async () => {
    const plan = await planWith("stg", {
      overrides: { ...freshEstateConfig("stg"), "lumerin-infra:github": JSON.stringify({ manageEnvironments: true }) },
      environment: GITHUB_ADMIN_ENV,
    });
    const vars = Object.fromEntries(
      resourcesOfType(plan, "github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable")
        .filter((r) => r.name.startsWith("github-futures-"))
        .map((r) => [r.inputs.variableName, r.inputs.value]),
    );
    assert.equal(vars.AWS_ROLE_ARN, `arn:aws:iam::${ACCOUNTS.stg}:role/github-actions-futures-v3-stg`);
    assert.equal(vars.ECS_CLUSTER, "ecs-futures-marketplace-stg");
    assert.equal(vars.ECS_SERVICES, "svc-market-maker-stg,svc-futures-notifications-stg");
    assert.equal(vars.UI_BUCKET, "s3futures.stg.lumerin.io");
    assert.equal(
      vars.CLOUDFRONT_DISTRIBUTION_ID,
      resource(plan, "aws:cloudfront/distribution:Distribution", "futures-ui-distribution").id,
    );
    assert.equal(vars.SITE_URL, "https://futures.stg.lumerin.io");
    assert.equal(vars.MARGIN_CALL_FUNCTION, "margin-call-v2-stg");
    const targets = JSON.parse(String(vars.ECS_DEPLOY_TARGETS)) as {
      service: string;
      image: string;
      tagPattern: string;
    }[];
    assert.deepEqual(
      targets.map((t) => [
        t.service,
        t.image,
        new RegExp(t.tagPattern).test(
          `${t.image.split("/").pop() === "market-maker" ? "market-maker" : "notifications"}-v1.0.0-stg`,
        ),
      ]),
      [
        ["svc-market-maker-stg", "ghcr.io/lumerin-protocol/market-maker", true],
        ["svc-futures-notifications-stg", "ghcr.io/lumerin-protocol/futures-notifications", true],
      ],
    );
    assert.doesNotMatch(JSON.stringify(vars), /secret|password|token/i);
  });
});
