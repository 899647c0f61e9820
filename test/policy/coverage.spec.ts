/**
 * The committed stacks under every rule, and the coverage check. The rule specs are imported first so
 * that their cases have run (and recorded what they covered) before the coverage case, whether this
 * file runs alone or in the whole suite.
 */
import "./data-safety.spec";
import "./encryption-logging.spec";
import "./least-privilege.spec";
import "./network.spec";
import "./resource-policies.spec";
import "./secrets.spec";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { REPO_ROOT } from "../../tools/plan-stack";
import { committedPlan } from "../support/plan";
import { strict as assert } from "node:assert";
import { statefulProtected } from "../../policy/rules/data-safety";
import { RULES } from "../../policy/rules/index";
import { nameOf } from "../support/policy";
import { coverage, show } from "./support";

describe("policy rules", () => {
  // ------------------------------------------------------------------ the committed stacks

  describe("the committed stacks", () => {
    for (const stack of ["dev", "stg", "lmn"] as const) {
      it(`${stack} plans with no mandatory violation`, async function () {
        this.timeout(60_000);
        const plan = await committedPlan(stack);
        assert.deepEqual(
          plan.violations.filter((v) => v.level === "mandatory"),
          [],
        );
        // The configured exceptions, reported and never blocking: the infrastructure deployer's
        // administrator rights, and (in production) the preview role's pull_request trust.
        const exceptions = plan.violations.filter((v) => v.message.startsWith("allowed exception"));
        assert.deepEqual(
          exceptions.map((v) => `${v.policy} ${nameOf(v.urn)}`).sort(),
          [
            ...(stack === "lmn" ? ["github-oidc-trust-pinned deploy-infra-preview-role"] : []),
            "github-roles-no-iam-escalation deploy-infra-deployer-admin",
            "github-roles-read-no-secrets deploy-infra-deployer-admin",
            "iam-no-wildcard-actions deploy-infra-deployer-admin",
            // The adoption switches of the stack file: the live NLBs have no security group, the live database the aws/rds key.
            "nlb-security-groups proxy-router-nlb",
            "nlb-security-groups proxy-validator-nlb",
            "rds-storage-stack-key futures-notifications-db",
            // Behind an NLB without security groups the tasks admit the miners themselves.
            "security-groups-not-open-to-the-world proxy-router-svc-in-stratum-from-miners",
            "security-groups-not-open-to-the-world proxy-validator-svc-in-stratum-from-miners",
          ].sort(),
        );
        const advisory = plan.violations.filter((v) => v.level === "advisory" && !exceptions.includes(v));
        // Outside production only: unprotected state, a database that may be deleted without a snapshot (cheap to
        // tear down), and load balancers without deletion protection.
        const nonProduction =
          stack === "lmn" ? [] : [statefulProtected.name, "rds-hardened", "load-balancers-deletion-protected"];
        assert.deepEqual(
          [...new Set(advisory.map((v) => v.policy))].filter((p) => !nonProduction.includes(p)),
          [],
          show(advisory),
        );
      });
    }
  });

  // ------------------------------------------------------------------ coverage

  describe("coverage", () => {
    it("exercises every rule in RULES with at least one firing and one passing case", () => {
      const missing = RULES.flatMap((rule) => {
        const c = coverage.get(rule.name) ?? { fires: 0, passes: 0 };
        return [
          ...(c.fires ? [] : [`${rule.name}: no firing case`]),
          ...(c.passes ? [] : [`${rule.name}: no passing case`]),
        ];
      });
      assert.deepEqual(missing, []);
      assert.equal(new Set(RULES.map((r) => r.name)).size, RULES.length, "rule names are unique");
    });

    it("policy/README.md lists every rule once, with its description and level, exactly its peers' ids, and its options' defaults", () => {
      const readme = readFileSync(path.join(REPO_ROOT, "policy", "README.md"), "utf8");
      const rows = new Map<string, string[]>();
      for (const line of readme.split("\n")) {
        const m = /^\| `([a-z0-9-]+)` \| (?!`)(.*) \| (mandatory|advisory|production-only) \| (.*) \|$/.exec(line);
        if (m) {
          assert.ok(!rows.has(m[1]), `${m[1]} is listed twice`);
          rows.set(m[1], [m[3], m[4], m[2]]);
        }
      }
      assert.deepEqual([...rows.keys()].sort(), RULES.map((r) => r.name).sort());
      for (const rule of RULES) {
        const [level, peers, description] = rows.get(rule.name) as string[];
        assert.equal(level, rule.enforcement, rule.name);
        assert.equal(
          description,
          rule.description.replace(/\|/g, "\\|"),
          `${rule.name}: the README says what the rule says`,
        );
        assert.deepEqual(peers === "none" ? [] : peers.split(", "), [...(rule.equivalents ?? [])], rule.name);
        for (const [key, option] of Object.entries(rule.options ?? {})) {
          assert.ok(
            readme.includes(`| \`${rule.name}\` | \`${key}\` | \`${JSON.stringify(option.default)}\` |`),
            `${rule.name}.${key} and its default are documented`,
          );
        }
      }
    });
  });
});
