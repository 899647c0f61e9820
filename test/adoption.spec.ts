/**
 * The committed stack files adopt the live estate in place: each switch that would otherwise
 * collide with a live name or replace a live resource is set to the live value, and the same
 * config without the switches (a new estate) gets the program's improved settings. The live
 * values are those of the Terraform-managed estate (docs/estate.md).
 */
import { strict as assert } from "node:assert";
import type { Plan } from "../tools/harness";
import { ConfigError } from "../config/load";
import { planFiles } from "../tools/plan-stack";
import { deployablePlan, freshEstatePlan, planWith, resource } from "./support/plan";
import { policyExceptionTag } from "../policy/rules/model";

const STACKS = ["dev", "stg", "lmn"] as const;
type Stack = (typeof STACKS)[number];
/** The account's AWS-managed `aws/rds` key, which encrypts each live notifications database. */
const AWS_RDS_KEY: Record<Stack, string> = {
  dev: "arn:aws:kms:us-east-1:434960487817:key/ffc0ce60-2f14-4abc-98a9-8bd464109acb",
  stg: "arn:aws:kms:us-east-1:464450398935:key/6e688161-c08b-4d7d-84c9-fac264eca52a",
  lmn: "arn:aws:kms:us-east-1:330280307271:key/809a6e00-cb75-4098-9f43-f886771ba525",
};
/** lmn's secrets carry the account lifecycle `prd`. */
const SECRET_PREFIX: Record<Stack, string> = { dev: "dev", stg: "stg", lmn: "prd" };

const input = (plan: Plan, type: string, name: string, key: string) => resource(plan, type, name).inputs[key];
const SG = "aws:ec2/securityGroup:SecurityGroup";

describe("adoption: the committed stacks take over the live estate in place", () => {
  const adopted = {} as Record<Stack, Plan>;
  const fresh = {} as Record<Stack, Plan>;
  before(async () => {
    for (const stack of STACKS) {
      // lmn with its DNS role configured, as the new estate is: the switches are what differs.
      adopted[stack] = await deployablePlan(stack);
      fresh[stack] = await freshEstatePlan(stack);
    }
  });

  for (const stack of STACKS) {
    it(`${stack}: the live secrets' names (a new name is a new, empty secret)`, () => {
      for (const app of ["proxy-router", "proxy-validator"]) {
        assert.equal(
          input(adopted[stack], "aws:secretsmanager/secret:Secret", `${app}-secret`, "name"),
          `${SECRET_PREFIX[stack]}-${app}-config`,
        );
        assert.equal(
          input(fresh[stack], "aws:secretsmanager/secret:Secret", `${app}-secret`, "name"),
          `/${app}/${stack}/config`,
          "a new estate: the program's own names",
        );
      }
    });

    it(`${stack}: the live NLBs as they are (no security group: adding one makes a new NLB), the exception tagged and the tasks open to miners`, () => {
      for (const app of ["proxy-router", "proxy-validator"]) {
        const nlb = resource(adopted[stack], "aws:lb/loadBalancer:LoadBalancer", `${app}-nlb`).inputs;
        assert.equal(nlb.securityGroups, undefined);
        assert.deepEqual(nlb.tags, {
          [policyExceptionTag("nlb-security-groups")]:
            `proxyRouter.${app === "proxy-router" ? "router" : "validator"}.publicEndpoint.securityGroups`,
        });
        const rule = resource(
          adopted[stack],
          "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
          `${app}-svc-in-stratum-from-miners`,
        ).inputs;
        assert.deepEqual([rule.fromPort, rule.toPort, rule.cidrIpv4], [3333, 3333, "0.0.0.0/0"]);
        assert.equal(
          adopted[stack].resources.some((r) => r.name === `${app}-nlb-sg`),
          false,
        );
        // A new estate: the NLB's own group, and the tasks admit that group only.
        const sg = resource(fresh[stack], SG, `${app}-nlb-sg`);
        assert.deepEqual(
          resource(fresh[stack], "aws:lb/loadBalancer:LoadBalancer", `${app}-nlb`).inputs.securityGroups,
          [sg.id],
        );
        assert.equal(
          fresh[stack].resources.some((r) => r.name === `${app}-svc-in-stratum-from-miners`),
          false,
        );
      }
    });

    it(`${stack}: the live database's key (aws/rds) and parameter group; a new estate uses the stack's key`, () => {
      const db = resource(adopted[stack], "aws:rds/instance:Instance", "futures-notifications-db").inputs;
      assert.deepEqual([db.kmsKeyId, db.performanceInsightsKmsKeyId], [AWS_RDS_KEY[stack], AWS_RDS_KEY[stack]]);
      assert.deepEqual(db.tags, {
        [policyExceptionTag("rds-storage-stack-key")]: "futures.notifications.database.kmsKeyArn",
      });
      const pg = resource(
        adopted[stack],
        "aws:rds/parameterGroup:ParameterGroup",
        "futures-notifications-db-parameters",
      ).inputs;
      assert.deepEqual(
        [pg.name, pg.family, pg.description],
        [`notifications-pg17-v2-${stack}`, "postgres17", "Managed by Terraform"],
      );
      const platformKey = resource(fresh[stack], "aws:kms/key:Key", "platform-key").outputs.arn;
      const freshDb = resource(fresh[stack], "aws:rds/instance:Instance", "futures-notifications-db").inputs;
      assert.deepEqual([freshDb.kmsKeyId, freshDb.tags], [platformKey, undefined]);
      assert.equal(
        input(
          fresh[stack],
          "aws:rds/parameterGroup:ParameterGroup",
          "futures-notifications-db-parameters",
          "description",
        ),
        `notifications-v2-${stack}: TLS required, connection limit`,
      );
    });

    it(`${stack}: the live security groups' names and descriptions (EC2 cannot change a description)`, () => {
      const live: [string, string, string][] = [
        [
          "futures-notifications-alb-sg",
          `notifications-alb-int-v2-${stack}`,
          "Security group for Notifications internal ALB",
        ],
        ["futures-notifications-svc-sg", `notifications-ecs-v2-${stack}`, "Security group for Notifications ECS tasks"],
        [
          "futures-notifications-db-sg",
          `notifications-rds-v2-${stack}`,
          "Security group for Notifications RDS PostgreSQL",
        ],
        ["futures-margin-call-sg", `margin-call-lambda-v2-${stack}`, "Security group for Margin Call Lambda"],
        ["futures-market-maker-lambda-sg", `market-maker-lambda-${stack}`, "Security group for Market Maker Lambda"],
      ];
      for (const [logical, name, description] of live) {
        const sg = resource(adopted[stack], SG, logical).inputs;
        assert.deepEqual([sg.name, sg.description], [name, description], logical);
      }
      assert.match(
        String(input(fresh[stack], SG, "futures-notifications-db-sg", "description")),
        /PostgreSQL from svc-futures-notifications-/,
      );
    });

    it(`${stack}: the live target group, inline policy, statement ids and the site's health check`, () => {
      const p = adopted[stack];
      assert.equal(
        input(p, "aws:lb/targetGroup:TargetGroup", "futures-notifications-tg", "name"),
        "tg-notification-v2-3000",
      );
      assert.equal(
        input(p, "aws:iam/rolePolicy:RolePolicy", "futures-margin-call-policy", "name"),
        "margin-call-secrets-access",
      );
      assert.equal(
        input(p, "aws:lambda/permission:Permission", "futures-margin-call-schedule-invoke", "statementId"),
        "AllowExecutionFromCloudWatch",
      );
      assert.equal(
        input(p, "aws:lambda/permission:Permission", "futures-margin-call-daily-invoke", "statementId"),
        "AllowExecutionFromCloudWatchDaily",
      );
      assert.equal(
        input(p, "aws:route53/healthCheck:HealthCheck", "monitoring-futures-ui-health", "measureLatency"),
        false,
      );
      assert.equal(
        input(fresh[stack], "aws:route53/healthCheck:HealthCheck", "monitoring-futures-ui-health", "measureLatency"),
        true,
      );
    });

    it(`${stack}: every switch keeps the URNs of what both plans have (only the switched parts differ)`, () => {
      const urns = (p: Plan) => new Set(p.resources.map((r) => r.urn));
      const a = urns(adopted[stack]);
      const f = urns(fresh[stack]);
      const onlyFresh = [...f]
        .filter((u) => !a.has(u))
        .map((u) => u.split("::").pop() as string)
        .sort();
      const onlyAdopted = [...a]
        .filter((u) => !f.has(u))
        .map((u) => u.split("::").pop() as string)
        .sort();
      // The NLBs' security groups and the ECS market maker exist only in a new estate; the Lambda and the
      // tasks' rule for miners only where the live estate is adopted.
      assert.ok(
        onlyFresh.every((n) =>
          /^(proxy-(router|validator)-(nlb-sg|nlb-in-miners|nlb-out-stratum-to-tasks|svc-in-stratum-from-nlb)|futures-market-maker-(svc|image-tag)|monitoring-market-maker-(cpu-high|memory-high|running-tasks))/.test(
            n,
          ),
        ),
        onlyFresh.join(", "),
      );
      assert.ok(
        onlyAdopted.every((n) =>
          /^(proxy-(router|validator)-svc-in-stratum-from-miners|futures-market-maker-lambda|monitoring-market-maker-(errors|duration|throttles|failed-runs|not-running))/.test(
            n,
          ),
        ),
        onlyAdopted.join(", "),
      );
      assert.ok(
        a.has(resource(fresh[stack], "aws:secretsmanager/secret:Secret", "futures-market-maker-secret").urn),
        "the wallet key's secret keeps its URN in both runtimes",
      );
    });
  }

  describe("bad switch values are refused before any resource, naming the key", () => {
    const refusal = async (edit: (futures: Record<string, Record<string, unknown>>) => void): Promise<ConfigError> => {
      const futures = JSON.parse(planFiles("dev").config["lumerin-infra:futures"]) as Record<
        string,
        Record<string, unknown>
      >;
      edit(futures);
      const error = await planWith("dev", { overrides: { "lumerin-infra:futures": JSON.stringify(futures) } }).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
      return error;
    };

    it("a key alias instead of the key ARN RDS reports (an alias would differ from it, and replace the database)", async () => {
      const error = await refusal(
        (f) => ((f.notifications.database as Record<string, unknown>).kmsKeyArn = "alias/aws/rds"),
      );
      assert.deepEqual(
        error.issues.map((i) => i.key),
        ["lumerin-infra:futures.notifications.database.kmsKeyArn"],
      );
      assert.match(error.issues[0].message, /not an alias: RDS reports the key ARN/);
    });

    it("a security group description EC2 would refuse", async () => {
      const error = await refusal(
        (f) => ((f.notifications.securityGroupDescriptions as Record<string, unknown>).alb = "caf\u00e9 <group>"),
      );
      assert.deepEqual(
        error.issues.map((i) => i.key),
        ["lumerin-infra:futures.notifications.securityGroupDescriptions.alb"],
      );
    });
  });
});
