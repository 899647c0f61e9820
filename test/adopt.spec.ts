import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { AdoptReport, adopt, stackTarget } from "../tools/adopt/adopt";
import { sameMeaning } from "../tools/adopt/compare";
import { buildImportFile, importedUrns } from "../tools/adopt/import-file";
import { renderReportMarkdown, renderSummary, scrubber } from "../tools/adopt/render";
import { TfSource, TfStateError, parseTfState, readTfState, sensitiveValues } from "../tools/adopt/tfstate";
import { RULE_BY_PULUMI_TYPE } from "../tools/adopt/types";
import { STACK_ACCOUNTS } from "./support/fixtures";
import type { Plan } from "../tools/harness";
import { REPO_ROOT, planFiles } from "../tools/plan-stack";
import { LMN_DNS_ROLE_ARN, committedPlan, freshEstateConfig, freshEstatePlan, planWith } from "./support/plan";

const run = promisify(execFile);
const STACKS = ["dev", "stg", "lmn"] as const;
type Stack = (typeof STACKS)[number];
const FIXTURES = path.join(REPO_ROOT, "test/fixtures/tfstate");
const ACCOUNT: Record<Stack, string> = STACK_ACCOUNTS;
const ZONE: Record<Stack, string> = { dev: "dev.lumerin.io", stg: "stg.lumerin.io", lmn: "lumerin.io" };
const PLANTED = readFileSync(path.join(FIXTURES, "PLANTED_SECRETS.txt"), "utf8").split("\n").filter(Boolean);

const stateFiles = (stack: Stack): string[] =>
  ["proxy-router", "futures-marketplace"].map((root) => path.join(FIXTURES, stack, `${root}.tfstate.json`));
const sourcesOf = (stack: Stack): TfSource[] => stateFiles(stack).map(readTfState);
const attributesAt = (stack: Stack, address: string): Record<string, unknown> => {
  for (const source of sourcesOf(stack)) {
    const found = source.managed.find((i) => i.address === address);
    if (found) return found.attributes as Record<string, unknown>;
  }
  throw new Error(`no ${address} in the ${stack} fixtures`);
};

const reports = new Map<Stack, Promise<{ plan: Plan; report: AdoptReport }>>();
/** lmn's DNS role configured, with dns.zoneId the live zone's id (as the operator sets it). */
const liveDns = (stack: Stack): string =>
  JSON.stringify({
    assumeRoleArn: LMN_DNS_ROLE_ARN,
    zoneId: attributesAt(stack, "aws_route53_record.proxy_router_ext_use1_1[0]").zone_id,
  });

function adoption(stack: Stack): Promise<{ plan: Plan; report: AdoptReport }> {
  let found = reports.get(stack);
  if (!found) {
    // lmn's records exist only once its DNS role in titanio-prd is configured (the committed file has it pending),
    // with dns.zoneId set to the live zone's id, as the operator sets it.
    const planned =
      stack === "lmn"
        ? planWith(stack, {
            environment: {},
            overrides: { "lumerin-infra:dns": liveDns(stack) },
          })
        : committedPlan(stack);
    found = planned.then((plan) => ({
      plan,
      report: adopt(plan, sourcesOf(stack), stackTarget(plan, planFiles(stack).config)),
    }));
    reports.set(stack, found);
  }
  return found;
}

/** The same, for the program's defaults (no adoption switches: docs/adoption-switches.md). */
const freshReports = new Map<Stack, Promise<{ plan: Plan; report: AdoptReport }>>();
function freshAdoption(stack: Stack): Promise<{ plan: Plan; report: AdoptReport }> {
  let found = freshReports.get(stack);
  if (!found) {
    // lmn's zone by the live zone's id, as for the committed file: the defaults under test are the adoption switches.
    const planned =
      stack === "lmn"
        ? planWith(stack, {
            environment: {},
            overrides: { ...freshEstateConfig(stack), "lumerin-infra:dns": liveDns(stack) },
          })
        : freshEstatePlan(stack);
    found = planned.then((plan) => ({
      plan,
      report: adopt(plan, sourcesOf(stack), stackTarget(plan, planFiles(stack).config)),
    }));
    freshReports.set(stack, found);
  }
  return found;
}

function match(report: AdoptReport, name: string) {
  const found = report.matches.find((m) => m.name === name);
  assert.ok(found, `${name} is not matched; planned only: ${report.plannedOnly.some((p) => p.name === name)}`);
  return found;
}

async function adoptCli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      [require.resolve("ts-node/dist/bin"), "--transpile-only", "tools/adopt.ts", ...args],
      { cwd: REPO_ROOT },
    );
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** A minimal v4 state holding the given managed instances (type, name, attributes). */
function state(
  resources: { type: string; name: string; attributes: Record<string, unknown>; sensitive?: string[] }[],
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    version: 4,
    terraform_version: "1.9.8",
    serial: 3,
    lineage: "5e0c3f9e-0000-4000-8000-000000000001",
    outputs: {},
    resources: resources.map((r) => ({
      mode: "managed",
      type: r.type,
      name: r.name,
      provider: 'provider["registry.terraform.io/hashicorp/aws"]',
      instances: [
        {
          schema_version: 0,
          attributes: r.attributes,
          sensitive_attributes: (r.sensitive ?? []).map((a) => [{ type: "get_attr", value: a }]),
        },
      ],
    })),
    ...extra,
  };
}

describe("npm run adopt: matching the Terraform estate to the plan", () => {
  for (const stack of STACKS) {
    describe(stack, () => {
      const acct = ACCOUNT[stack];
      const zone = ZONE[stack];

      it("matches the database, its parameter and subnet groups, by identifier and name", async () => {
        const { report } = await adoption(stack);
        const db = match(report, "futures-notifications-db");
        assert.equal(db.address, "aws_db_instance.notifications_use1[0]");
        assert.equal(
          db.importId,
          `notifications-v2-${stack}`,
          "RDS imports by identifier, not by the resource id db-…",
        );
        assert.equal(match(report, "futures-notifications-db-parameters").importId, `notifications-pg17-v2-${stack}`);
        assert.equal(match(report, "futures-notifications-db-subnets").importId, `notifications-db-subnet-v2-${stack}`);
      });

      it("matches the futures secrets by name and imports each by its ARN", async () => {
        const { report } = await adoption(stack);
        for (const [name, address, secret] of [
          ["futures-market-maker-secret", "aws_secretsmanager_secret.market_maker", "market-maker-secrets-v3"],
          ["futures-notifications-secret", "aws_secretsmanager_secret.notifications", "notifications-secrets-v3"],
          ["futures-margin-call-secret", "aws_secretsmanager_secret.margin_call", "margin-call-secrets-v3"],
        ]) {
          const m = match(report, name);
          assert.equal(m.address, address);
          assert.match(
            m.importId,
            new RegExp(`^arn:aws:secretsmanager:us-east-1:${acct}:secret:${secret}-${stack}-[A-Za-z0-9]{6}$`),
          );
          assert.equal(m.importId, attributesAt(stack, address).arn);
        }
      });

      it("matches the UI bucket and its configuration resources, all imported by the bucket name", async () => {
        const { report } = await adoption(stack);
        const bucket = `s3futures.${zone}`;
        for (const name of [
          "futures-ui-bucket",
          "futures-ui-bucket-policy",
          "futures-ui-bucket-public-access",
          "futures-ui-bucket-ownership",
        ]) {
          assert.equal(match(report, name).importId, bucket, name);
        }
      });

      it("matches the log groups by name and finds RDS's export log groups outside Terraform, with their ids", async () => {
        const { report } = await adoption(stack);
        assert.equal(match(report, "proxy-router-svc-logs").importId, `bedrock-${stack}-proxy-router-log-group`);
        assert.equal(match(report, "proxy-validator-svc-logs").importId, `bedrock-${stack}-proxy-validator-log-group`);
        assert.equal(match(report, "futures-notifications-svc-logs").importId, `/ecs/futures-notifications-${stack}`);
        assert.equal(match(report, "futures-margin-call-logs").importId, `/aws/lambda/margin-call-v2-${stack}`);
        assert.equal(
          match(report, "futures-cluster-exec-logs").importId,
          `bedrock-futures-marketplace-ecs-cluster-${stack}`,
        );
        for (const log of ["postgresql", "upgrade"]) {
          const outside = report.plannedOnly.find((p) => p.name === `futures-notifications-db-logs-${log}`);
          assert.equal(outside?.status, "exists outside Terraform");
          assert.equal(outside?.importId, `/aws/rds/instance/notifications-v2-${stack}/${log}`);
        }
      });

      it("matches the load balancers, listeners and target groups, imported by their live ARNs", async () => {
        const { report } = await adoption(stack);
        for (const [name, address] of [
          ["proxy-router-nlb", "aws_alb.proxy_router_ext_use1_1[0]"],
          ["proxy-validator-nlb", "aws_alb.proxy_validator_ext_use1_1[0]"],
          ["futures-notifications-alb", "aws_alb.notifications_int_use1[0]"],
          ["proxy-router-listener", "aws_alb_listener.proxy_router_ext_svca_use1_1[0]"],
          ["futures-notifications-https", "aws_alb_listener.notifications_int_443_use1[0]"],
          ["proxy-router-tg", "aws_alb_target_group.proxy_router_svca_use1_1[0]"],
        ]) {
          const m = match(report, name);
          assert.equal(m.address, address, name);
          assert.equal(m.importId, attributesAt(stack, address).arn, name);
          assert.match(m.importId, new RegExp(`^arn:aws:elasticloadbalancing:us-east-1:${acct}:`));
        }
      });

      it("gives composite import ids in the provider's form", async () => {
        const { report } = await adoption(stack);
        assert.equal(
          match(report, "proxy-router-svc-service").importId,
          `ecs-proxy-router-${stack}-use1/svc-proxy-router-${stack}-use1`,
          "cluster/service",
        );
        assert.equal(
          match(report, "futures-margin-call-schedule-target").importId,
          `margin-call-schedule-v2-${stack}/margin-call-lambda-v2`,
          "rule/targetId",
        );
        // An unqualified permission (no alias or version) is matched too, by function and statement id.
        assert.equal(
          match(report, "futures-margin-call-schedule-invoke").importId,
          `margin-call-v2-${stack}/AllowExecutionFromCloudWatch`,
          "function/statementId",
        );
        assert.equal(
          match(report, "futures-margin-call-daily-invoke").importId,
          `margin-call-v2-${stack}/AllowExecutionFromCloudWatchDaily`,
          "function/statementId",
        );
        assert.deepEqual(
          match(report, "futures-margin-call-schedule-invoke").changes,
          [],
          "the live statement is the program's",
        );
        const zoneId = attributesAt(stack, "aws_route53_record.proxy_router_ext_use1_1[0]").zone_id;
        assert.equal(match(report, "proxy-router-dns").importId, `${zoneId}_proxy.${zone}_A`, "ZONE_name_type");
        assert.equal(
          match(report, "proxy-router-svc-task").importId,
          attributesAt(stack, "aws_ecs_task_definition.proxy_router_use1_1[0]").arn,
          "task definitions import by ARN with revision",
        );
        assert.equal(
          match(report, "cluster-cluster").importId,
          `ecs-proxy-router-${stack}-use1`,
          "clusters import by name, not ARN",
        );
      });

      it("lists the platform key as created: no key of the state is the stack's", async () => {
        const { report } = await adoption(stack);
        const key = report.plannedOnly.find((p) => p.name === "platform-key");
        assert.equal(key?.status, "created");
        assert.ok(!report.unmatchedLive.some((u) => u.tfType === "aws_kms_key"));
      });

      it("has no blocker with the committed stack files (their adoption switches choose the live values)", async () => {
        const { report } = await adoption(stack);
        assert.deepEqual(
          report.blockers.map((b) => b.problem),
          [],
        );
      });

      if (stack === "lmn") {
        it("with the committed file's DNS role still pending: one blocker, the records the plan withholds, never a silent leave-in-Terraform", async () => {
          const plan = await committedPlan("lmn");
          const report = adopt(plan, sourcesOf("lmn"), stackTarget(plan, planFiles("lmn").config));
          assert.deepEqual(
            report.blockers.map((b) => b.problem.replace(/ \(.*\), so/, ", so")),
            [
              "the plan withholds 10 resources until lumerin-infra:dns.assumeRoleArn is set, so their live twins cannot be adopted",
            ],
          );
          assert.match(report.blockers[0].fix, /^set lumerin-infra:dns\.assumeRoleArn /);
        });
      }

      it("exits 1 with exactly the blockers of the program's defaults (the to-do list the adoption switches resolve)", async () => {
        const { report } = await freshAdoption(stack);
        const secretPrefix = stack === "lmn" ? "prd" : stack;
        const problems = report.blockers.map((b) => b.problem);
        assert.equal(problems.length, 6, problems.join("\n"));
        for (const nlb of ["proxy-router-nlb", "proxy-validator-nlb"]) {
          assert.ok(
            problems.some(
              (p) =>
                p.startsWith(`${nlb} (aws:lb/loadBalancer:LoadBalancer) would be replaced`) &&
                p.includes("securityGroups: live []"),
            ),
            nlb,
          );
        }
        assert.ok(
          problems.some(
            (p) =>
              p.startsWith(
                "futures-notifications-db (aws:rds/instance:Instance) would be replaced, and its database would be lost",
              ) &&
              p.includes("kmsKeyId") &&
              p.includes("(created: platform-key)"),
          ),
        );
        for (const service of ["router", "validator"]) {
          assert.ok(
            problems.some((p) =>
              p.includes(
                `creates /proxy-${service}/${stack}/config (Secret) while the live ${secretPrefix}-proxy-${service}-config`,
              ),
            ),
            service,
          );
        }
        assert.ok(
          problems.some((p) =>
            p.includes(
              `runs svc-market-maker-${stack} (Service) while the live market-maker-${stack} (Function, aws_lambda_function.market_maker[0])`,
            ),
          ),
        );
      });

      it("leaves what it does not know in Terraform, and reports it; data sources are no part of the report", async () => {
        const { report } = await adoption(stack);
        const ns = report.unmatchedLive.find(
          (u) => u.address === "aws_service_discovery_public_dns_namespace.proxy_router_use1_1[0]",
        );
        assert.equal(ns?.action, "leave in Terraform");
        assert.match(ns?.reason ?? "", /unknown to the adoption table/);
        const all = [...report.matches.map((m) => m.address), ...report.unmatchedLive.map((u) => u.address)];
        assert.ok(all.length > 150);
        assert.ok(!all.some((a) => a.startsWith("data.")), "data sources are skipped");
        assert.equal(
          report.unmatchedLive.find((u) => u.address === "aws_secretsmanager_secret.futures")?.action,
          "terraform state rm and keep",
          "a secret nothing adopts is kept",
        );
      });

      it("writes an import file the CLI accepts: known types, the program's names and URNs, resolvable parents and providers", async () => {
        const { plan, report } = await adoption(stack);
        const file = buildImportFile(plan, report, { awsVersion: "7.48.0" });
        const allowed = new Set([
          "type",
          "name",
          "id",
          "parent",
          "provider",
          "version",
          "component",
          "logicalName",
          "inputs",
        ]);
        const names = new Set<string>();
        const byUrn = new Map(plan.resources.map((r) => [r.urn, r]));
        const urns = importedUrns(file, plan.stack, plan.project);
        assert.deepEqual(Object.keys(file), ["nameTable", "resources"]);
        for (const spec of file.resources) {
          for (const key of Object.keys(spec))
            assert.ok(allowed.has(key), `field ${key} is not in the CLI's import schema`);
          assert.ok(!names.has(spec.name), `duplicate name ${spec.name}`);
          names.add(spec.name);
          const urn = urns.get(spec.name) as string;
          const planned = byUrn.get(urn);
          assert.ok(planned, `${spec.name} would get ${urn}, which the program does not register`);
          assert.equal(planned.type, spec.type);
          assert.equal(spec.logicalName ?? spec.name, planned.name);
          if (spec.type.startsWith("pulumi:providers:")) {
            assert.equal(spec.id, undefined, "providers are created, not read");
            assert.equal(spec.inputs?.region, planned.inputs.region);
          } else if (spec.component) assert.equal(spec.id, undefined);
          else {
            assert.ok(spec.id, `${spec.name} has an id`);
            assert.ok(RULE_BY_PULUMI_TYPE.get(spec.type)?.importable, `${spec.type} is a type the table imports`);
            assert.equal(
              spec.provider ? urns.get(spec.provider) : undefined,
              planned.provider,
              `${spec.name}'s provider`,
            );
          }
        }
        assert.equal(new Set(urns.values()).size, urns.size, "every URN once");
        const ids = new Map(file.resources.map((r) => [r.name, r.id]));
        assert.equal(ids.get("futures-notifications-db"), `notifications-v2-${stack}`);
        assert.equal(
          ids.get("futures-notifications-db-logs-postgresql"),
          `/aws/rds/instance/notifications-v2-${stack}/postgresql`,
          "outside-Terraform resources with a known id are imported too",
        );
        const alarm = file.resources.find((r) => r.name === "monitoring-futures-ui-5xx-errors");
        assert.equal(
          alarm?.provider,
          "us-east-1",
          "the UI's alarms are imported through the program's us-east-1 provider",
        );
      });

      it("puts no secret of the states into any rendering, even before the scrubber", async () => {
        const { plan, report } = await adoption(stack);
        const texts = [
          JSON.stringify(report),
          renderReportMarkdown(report),
          renderSummary(report),
          JSON.stringify(buildImportFile(plan, report, { awsVersion: "7.48.0" })),
        ];
        for (const secret of PLANTED)
          for (const text of texts)
            assert.ok(!text.includes(secret), `a planted secret reached the output: ${secret.slice(0, 12)}…`);
        const seen = sensitiveValues(sourcesOf(stack));
        const raw = stateFiles(stack)
          .map((f) => readFileSync(f, "utf8"))
          .join("\n");
        const here = PLANTED.filter((secret) => raw.includes(JSON.stringify(secret).slice(1, -1)));
        assert.equal(here.length, 15, "the fixtures plant 15 secrets per environment");
        for (const secret of here)
          assert.ok(
            [...seen].some((s) => s.includes(secret)),
            `the scrubber knows ${secret.slice(0, 12)}…`,
          );
      });
    });
  }

  it("warns about matches Terraform made through a provider alias whose account the state does not show (lmn's records in the root zone)", async () => {
    const { report } = await adoption("lmn");
    assert.deepEqual(report.warnings.map((w) => w.address).sort(), [
      "aws_route53_record.marketplace[0]",
      "aws_route53_record.marketplace_origin_alias[0]",
      "aws_route53_record.proxy_router_ext_use1_1[0]",
      "aws_route53_record.proxy_validator_ext_use1_1[0]",
    ]);
    assert.match(
      report.warnings[0].message,
      /through provider\["registry\.terraform\.io\/hashicorp\/aws"\]\.special-dns, whose account the state does not show/,
    );
  });

  it("adopts the live proxy secrets once the stack names them as the live ones (their blockers go, and they import by ARN)", async () => {
    const fresh = freshEstateConfig("dev");
    const proxy = JSON.parse(fresh["lumerin-infra:proxyRouter"]) as Record<string, Record<string, unknown>>;
    const plan = await planWith("dev", {
      overrides: {
        ...fresh,
        "lumerin-infra:proxyRouter": JSON.stringify({
          ...proxy,
          router: { ...proxy.router, names: { secret: "dev-proxy-router-config" } },
        }),
      },
    });
    const report = adopt(plan, sourcesOf("dev"), stackTarget(plan, planFiles("dev").config));
    assert.equal(
      match(report, "proxy-router-secret").importId,
      attributesAt("dev", "aws_secretsmanager_secret.proxy_router[0]").arn,
    );
    assert.ok(!report.blockers.some((b) => b.problem.includes("dev-proxy-router-config")));
    assert.ok(
      report.blockers.some((b) => b.problem.includes("dev-proxy-validator-config")),
      "the validator's is still a blocker",
    );
  });
});

describe("npm run adopt: what it refuses", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "lumerin-adopt-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, content: unknown): string => {
    const file = path.join(dir, name);
    writeFileSync(file, typeof content === "string" ? content : JSON.stringify(content));
    return file;
  };

  it("refuses a state of another format version, an unreadable file, a non-JSON file and a malformed resource, naming the file (exit 2)", async () => {
    const cases: [string, string, RegExp][] = [
      [
        write("v3.json", { version: 3, serial: 1, lineage: "x", modules: [] }),
        "v3.json",
        /unsupported state format: version 3; expected version 4/,
      ],
      [path.join(dir, "missing.json"), "missing.json", /cannot read the file \(ENOENT\)/],
      [write("text.json", "not json {"), "text.json", /not JSON/],
      [
        write("no-instances.json", {
          version: 4,
          serial: 1,
          lineage: "x",
          resources: [{ mode: "managed", type: "aws_s3_bucket", name: "b", provider: "p" }],
        }),
        "no-instances.json",
        /malformed resource resources\[0\] \(aws_s3_bucket\.b\): `instances` is not a list/,
      ],
      [
        write("no-type.json", {
          version: 4,
          serial: 1,
          lineage: "x",
          resources: [{ mode: "managed", name: "b", provider: "p", instances: [] }],
        }),
        "no-type.json",
        /malformed resource resources\[0\]: no type/,
      ],
      [
        write("no-attributes.json", {
          version: 4,
          serial: 1,
          lineage: "x",
          resources: [{ mode: "managed", type: "aws_s3_bucket", name: "b", provider: "p", instances: [{}] }],
        }),
        "no-attributes.json",
        /malformed resource aws_s3_bucket\.b \(instance 0\): no `attributes` object/,
      ],
    ];
    for (const [file, name, reason] of cases) {
      assert.throws(
        () => readTfState(file),
        (err: unknown) => err instanceof TfStateError && err.message.includes(name) && reason.test(err.message),
        name,
      );
    }
    const cli = await adoptCli("--stack", "dev", "--tfstate", stateFiles("dev")[0], "--tfstate", cases[0][0]);
    assert.equal(cli.code, 2);
    assert.match(cli.stderr, /refused .*v3\.json: unsupported state format: version 3/);
    assert.equal(cli.stdout, "");
  });

  it("refuses a state of another account, naming the file and both accounts", async () => {
    const plan = await committedPlan("dev");
    const target = stackTarget(plan, planFiles("dev").config);
    const stg = readTfState(stateFiles("stg")[0]);
    assert.throws(
      () => adopt(plan, [stg], target),
      (err: unknown) =>
        err instanceof TfStateError &&
        err.file === stg.file &&
        /a state of account 464450398935 .*stack dev runs in 434960487817 \(aws:allowedAccountIds\)/.test(err.message),
    );
  });

  it("refuses a state of another region, naming the file and the region", async () => {
    const plan = await committedPlan("dev");
    const text = readFileSync(stateFiles("dev")[0], "utf8").split(":us-east-1:").join(":eu-west-1:");
    const file = write("eu.json", text);
    assert.throws(
      () => adopt(plan, [readTfState(file)], stackTarget(plan, planFiles("dev").config)),
      (err: unknown) =>
        err instanceof TfStateError &&
        err.message.startsWith(file) &&
        /a state of region eu-west-1 .*stack dev runs in us-east-1/.test(err.message),
    );
  });

  it("exits 2 on another account's state through the CLI too", async () => {
    const cli = await adoptCli("--stack", "dev", "--tfstate", stateFiles("lmn")[1]);
    assert.equal(cli.code, 2);
    assert.match(cli.stderr, /refused .*lmn\/futures-marketplace\.tfstate\.json: a state of account 330280307271/);
  });
});

describe("npm run adopt: secrets never leave the states", () => {
  it("the whole CLI (stdout, stderr, JSON, Markdown, import file) shows no planted secret, and exits 0 for a committed stack file", async function () {
    this.timeout(120000);
    const dir = mkdtempSync(path.join(tmpdir(), "lumerin-adopt-cli-"));
    try {
      const out = { json: path.join(dir, "r.json"), md: path.join(dir, "r.md"), imp: path.join(dir, "i.json") };
      // dev: lmn's committed file withholds its DNS records until the zone account's role exists (exit 1).
      const files = stateFiles("dev").flatMap((f) => ["--tfstate", f]);
      const cli = await adoptCli(
        "--stack",
        "dev",
        ...files,
        "--json",
        out.json,
        "--markdown",
        out.md,
        "--import-file",
        out.imp,
      );
      assert.equal(cli.code, 0, cli.stderr);
      assert.match(cli.stdout, /OK: the stack adopts everything it plans/);
      const texts = {
        stdout: cli.stdout,
        stderr: cli.stderr,
        json: readFileSync(out.json, "utf8"),
        markdown: readFileSync(out.md, "utf8"),
        importFile: readFileSync(out.imp, "utf8"),
      };
      for (const [where, text] of Object.entries(texts))
        for (const secret of PLANTED) assert.ok(!text.includes(secret), `${where} holds ${secret.slice(0, 12)}…`);
      const imported = JSON.parse(texts.importFile) as { resources: { name: string; id?: string }[] };
      assert.ok(
        imported.resources.some(
          (r) =>
            r.name === "futures-market-maker-secret" &&
            r.id?.startsWith("arn:aws:secretsmanager:us-east-1:434960487817:secret:market-maker-secrets-v3-dev-"),
        ),
        "the scrubber leaves import ids alone",
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("masks a compared attribute Terraform marks sensitive, and scrubs its value everywhere", async () => {
    const plan = await committedPlan("dev");
    const planted = "PLANTED-in-a-description-7f3a9c";
    const source = parseTfState(
      "inline.tfstate.json",
      state([
        {
          type: "aws_cloudwatch_log_group",
          name: "svc",
          attributes: {
            name: "bedrock-dev-proxy-router-log-group",
            arn: "arn:aws:logs:us-east-1:434960487817:log-group:bedrock-dev-proxy-router-log-group",
            retention_in_days: planted,
            kms_key_id: "",
          },
          sensitive: ["retention_in_days"],
        },
      ]),
    );
    const report = adopt(plan, [source], stackTarget(plan, planFiles("dev").config));
    const change = match(report, "proxy-router-svc-logs").changes.find((c) => c.path === "retentionInDays");
    assert.deepEqual(change, { path: "retentionInDays", effect: "update", sensitive: true });
    const scrub = scrubber(sensitiveValues([source]));
    assert.equal(scrub(`x ${planted} ${JSON.stringify({ v: planted })}`), 'x [redacted] {"v":"[redacted]"}');
  });
});

describe("npm run adopt: comparing on Pulumi input paths", () => {
  it("reads Terraform's list-of-one blocks as Pulumi objects and judges replacement with the provider's facts", async () => {
    // The program's default NLB (with a security group), which a live NLB without one cannot become.
    const plan = await freshEstatePlan("dev");
    const cluster = plan.resources.find((r) => r.name === "cluster-cluster");
    assert.ok(cluster);
    const source = parseTfState(
      "inline.tfstate.json",
      state([
        {
          type: "aws_ecs_cluster",
          name: "c",
          attributes: {
            name: "ecs-proxy-router-dev-use1",
            arn: "arn:aws:ecs:us-east-1:434960487817:cluster/ecs-proxy-router-dev-use1",
            setting: [{ name: "containerInsights", value: "enabled" }],
            configuration: [
              { execute_command_configuration: [{ kms_key_id: "", logging: "DEFAULT", log_configuration: [] }] },
            ],
          },
        },
        {
          type: "aws_lb",
          name: "n",
          attributes: {
            name: "alb-proxy-router-ext-use1",
            arn: "arn:aws:elasticloadbalancing:us-east-1:434960487817:loadbalancer/net/alb-proxy-router-ext-use1/0123456789abcdef",
            load_balancer_type: "network",
            internal: false,
            security_groups: [],
            subnets: [],
          },
        },
      ]),
    );
    const report = adopt(plan, [source], stackTarget(plan, planFiles("dev").config));
    const logging = match(report, "cluster-cluster").changes.find(
      (c) => c.path === "configuration.executeCommandConfiguration.logging",
    );
    assert.deepEqual(logging, {
      path: "configuration.executeCommandConfiguration.logging",
      effect: "update",
      live: "DEFAULT",
      planned: "OVERRIDE",
    });
    const nlb = match(report, "proxy-router-nlb");
    assert.equal(nlb.changes.find((c) => c.path === "securityGroups")?.effect, "replace");
    assert.equal(
      nlb.changes.find((c) => c.path === "internal"),
      undefined,
      "equal values are no change",
    );
  });
});

describe("npm run adopt: the import id of each type, in the form the provider takes", () => {
  const id = (type: string, attributes: Record<string, unknown>): string | undefined =>
    RULE_BY_PULUMI_TYPE.get(type)?.importId(attributes);
  const cases: [string, Record<string, unknown>, string][] = [
    [
      "aws:iam/rolePolicy:RolePolicy",
      { role: "margin-call-lambda-role-v2-dev", name: "margin-call", id: "ignored" },
      "margin-call-lambda-role-v2-dev:margin-call",
    ],
    [
      "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
      {
        role: "lumerin-infra-preview-dev",
        policy_arn: "arn:aws:iam::aws:policy/ReadOnlyAccess",
        id: "lumerin-infra-preview-dev-20260101",
      },
      "lumerin-infra-preview-dev/arn:aws:iam::aws:policy/ReadOnlyAccess",
    ],
    [
      "aws:lambda/permission:Permission",
      { function_name: "margin-call-v2-dev", statement_id: "AllowEventBridge-schedule", qualifier: "" },
      "margin-call-v2-dev/AllowEventBridge-schedule",
    ],
    [
      "aws:lambda/permission:Permission",
      {
        function_name: "arn:aws:lambda:us-east-1:434960487817:function:margin-call-v2-dev",
        statement_id: "s",
        qualifier: "live",
      },
      "margin-call-v2-dev:live/s",
    ],
    [
      "aws:cloudwatch/eventTarget:EventTarget",
      { rule: "margin-call-schedule-v2-dev", target_id: "margin-call-lambda-v2", event_bus_name: "default", id: "x" },
      "margin-call-schedule-v2-dev/margin-call-lambda-v2",
    ],
    ["aws:cloudwatch/eventTarget:EventTarget", { rule: "r", target_id: "t", event_bus_name: "orders" }, "orders/r/t"],
    [
      "aws:cloudwatch/eventRule:EventRule",
      { name: "margin-call-schedule-v2-dev", event_bus_name: "default" },
      "margin-call-schedule-v2-dev",
    ],
    [
      "aws:ecs/service:Service",
      {
        cluster: "arn:aws:ecs:us-east-1:434960487817:cluster/ecs-proxy-router-dev-use1",
        name: "svc-proxy-router-dev-use1",
        id: "arn:aws:ecs:…",
      },
      "ecs-proxy-router-dev-use1/svc-proxy-router-dev-use1",
    ],
    [
      "aws:ecs/cluster:Cluster",
      { name: "ecs-proxy-router-dev-use1", id: "arn:aws:ecs:us-east-1:434960487817:cluster/ecs-proxy-router-dev-use1" },
      "ecs-proxy-router-dev-use1",
    ],
    [
      "aws:ecs/taskDefinition:TaskDefinition",
      {
        family: "tsk-proxy-router",
        arn: "arn:aws:ecs:us-east-1:434960487817:task-definition/tsk-proxy-router:14",
        id: "tsk-proxy-router",
      },
      "arn:aws:ecs:us-east-1:434960487817:task-definition/tsk-proxy-router:14",
    ],
    [
      "aws:route53/record:Record",
      { zone_id: "Z0QADW1INC7YKJ3XGM5LY", name: "proxy.dev.lumerin.io", type: "A", set_identifier: "", id: "" },
      "Z0QADW1INC7YKJ3XGM5LY_proxy.dev.lumerin.io_A",
    ],
    [
      "aws:route53/record:Record",
      { zone_id: "Z1", fqdn: "api.example.com", name: "api", type: "CNAME", set_identifier: "blue", id: "" },
      "Z1_api.example.com_CNAME_blue",
    ],
    [
      "aws:lb/listener:Listener",
      {
        arn: "arn:aws:elasticloadbalancing:us-east-1:434960487817:listener/net/n/0123456789abcdef/fedcba9876543210",
        port: 7301,
      },
      "arn:aws:elasticloadbalancing:us-east-1:434960487817:listener/net/n/0123456789abcdef/fedcba9876543210",
    ],
    [
      "aws:s3/bucketPolicy:BucketPolicy",
      { bucket: "s3futures.dev.lumerin.io", id: "s3futures.dev.lumerin.io" },
      "s3futures.dev.lumerin.io",
    ],
    [
      "aws:s3/bucketVersioning:BucketVersioning",
      { bucket: "b", expected_bucket_owner: "434960487817" },
      "b,434960487817",
    ],
    [
      "aws:secretsmanager/secretVersion:SecretVersion",
      {
        id: "arn:aws:secretsmanager:us-east-1:1:secret:s-AbCdEf|629a680f",
        secret_id: "arn:aws:secretsmanager:us-east-1:1:secret:s-AbCdEf",
        version_id: "629a680f",
      },
      "arn:aws:secretsmanager:us-east-1:1:secret:s-AbCdEf|629a680f",
    ],
    [
      "aws:secretsmanager/secretVersion:SecretVersion",
      { id: "other", secret_id: "arn:s", version_id: "v1" },
      "arn:s|v1",
    ],
    [
      "aws:secretsmanager/secret:Secret",
      {
        name: "market-maker-secrets-v3-dev",
        arn: "arn:aws:secretsmanager:us-east-1:434960487817:secret:market-maker-secrets-v3-dev-x7iBkw",
      },
      "arn:aws:secretsmanager:us-east-1:434960487817:secret:market-maker-secrets-v3-dev-x7iBkw",
    ],
    [
      "aws:wafv2/webAcl:WebAcl",
      { id: "a1b2", name: "futures-ui-dev", scope: "CLOUDFRONT" },
      "a1b2/futures-ui-dev/CLOUDFRONT",
    ],
    [
      "aws:cloudwatch/logMetricFilter:LogMetricFilter",
      { log_group_name: "bedrock-dev-proxy-router-log-group", name: "Seller-Error" },
      "bedrock-dev-proxy-router-log-group:Seller-Error",
    ],
    [
      "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig",
      { function_name: "margin-call-v2-dev", qualifier: "" },
      "margin-call-v2-dev",
    ],
    [
      "aws:cloudfront/monitoringSubscription:MonitoringSubscription",
      { distribution_id: "E5V2COABMDY61V", id: "E5V2COABMDY61V" },
      "E5V2COABMDY61V",
    ],
    [
      "aws:sqs/queue:Queue",
      {
        name: "q",
        url: "https://sqs.us-east-1.amazonaws.com/434960487817/q",
        id: "https://sqs.us-east-1.amazonaws.com/434960487817/q",
      },
      "https://sqs.us-east-1.amazonaws.com/434960487817/q",
    ],
    [
      "aws:kms/key:Key",
      { key_id: "ffc0ce60-2f14-4abc-98a9-8bd464109acb", arn: "arn:aws:kms:…" },
      "ffc0ce60-2f14-4abc-98a9-8bd464109acb",
    ],
    [
      "aws:rds/instance:Instance",
      { identifier: "notifications-v2-dev", id: "db-YSZPFM35XBUSVWWBLOP2VORJP3" },
      "notifications-v2-dev",
    ],
    [
      "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
      { security_group_rule_id: "sgr-0e130f1845ce9016e", id: "sgrule-8767906265" },
      "sgr-0e130f1845ce9016e",
    ],
  ];
  for (const [type, attributes, expected] of cases) {
    it(`${type.split(":").pop()}: ${expected}`, () => assert.equal(id(type, attributes), expected));
  }
});

describe("npm run adopt: a state the stack adopts without a blocker", () => {
  it("exits 0, says so, and imports the one match under its components", async function () {
    this.timeout(120000);
    const dir = mkdtempSync(path.join(tmpdir(), "lumerin-adopt-ok-"));
    try {
      const file = path.join(dir, "one.tfstate.json");
      const name = "bedrock-dev-proxy-router-log-group";
      writeFileSync(
        file,
        JSON.stringify(
          state([
            {
              type: "aws_cloudwatch_log_group",
              name: "proxy_router",
              attributes: {
                name,
                arn: `arn:aws:logs:us-east-1:434960487817:log-group:${name}`,
                id: name,
                retention_in_days: 30,
                kms_key_id: "",
              },
            },
          ]),
        ),
      );
      const out = path.join(dir, "import.json");
      const cli = await adoptCli("--stack", "dev", "--tfstate", file, "--import-file", out);
      assert.equal(cli.code, 0, cli.stdout + cli.stderr);
      assert.match(cli.stdout, /OK: the stack adopts everything it plans/);
      const imported = JSON.parse(readFileSync(out, "utf8")) as {
        resources: { type: string; name: string; id?: string; parent?: string; component?: boolean }[];
      };
      assert.deepEqual(
        imported.resources.map((r) => [r.type, r.name, r.parent ?? null, r.id ?? null, r.component ?? false]),
        [
          ["lumerin:proxy:ProxyRouter", "proxy", null, null, true],
          ["lumerin:proxy:ProxyService", "proxy-router", "proxy", null, true],
          ["lumerin:ecs:ContainerService", "proxy-router-svc", "proxy-router", null, true],
          ["aws:cloudwatch/logGroup:LogGroup", "proxy-router-svc-logs", "proxy-router-svc", name, false],
        ],
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("npm run adopt: reading what Terraform writes", () => {
  it("takes numbers as strings, a list of one as its scalar, JSON as the document it holds, and sets in any order", () => {
    assert.ok(sameMeaning(300, "300"));
    assert.ok(sameMeaning("0.0.0.0/0", ["0.0.0.0/0"]));
    assert.ok(sameMeaning({ Version: "2012-10-17", Statement: [] }, '{"Statement":[],"Version":"2012-10-17"}'));
    assert.ok(sameMeaning(["b", "a"], ["a", "b"]));
    assert.ok(sameMeaning("", null), "Terraform's zero value and an absent value are both empty");
    assert.ok(!sameMeaning("OVERRIDE", "DEFAULT"));
    assert.ok(!sameMeaning(["a"], ["a", "b"]));
    assert.ok(
      !sameMeaning({ a: 1 }, { a: 1, b: 2 }),
      "objects compare whole: the live side is shaped to the planned keys before",
    );
  });

  it("reports unknown types and instances without an identity, and does not crash on odd attributes", async () => {
    const plan = await committedPlan("dev");
    const source = parseTfState(
      "odd.tfstate.json",
      state([
        {
          type: "aws_fancy_new_thing",
          name: "x",
          attributes: { id: "x-1", arn: "arn:aws:fancy:us-east-1:434960487817:thing/x-1" },
        },
        {
          type: "aws_lb",
          name: "nameless",
          attributes: {
            id: "arn:aws:elasticloadbalancing:us-east-1:434960487817:loadbalancer/net/x/0123456789abcdef",
            name: null,
            security_groups: null,
          },
        },
        {
          type: "aws_security_group_rule",
          name: "two_peers",
          attributes: {
            type: "ingress",
            security_group_id: "sg-1",
            cidr_blocks: ["10.0.0.0/8", "172.16.0.0/12"],
            protocol: "tcp",
            from_port: 1,
            to_port: 2,
          },
        },
      ]),
    );
    const report = adopt(plan, [source], stackTarget(plan, planFiles("dev").config));
    const reasons = Object.fromEntries(report.unmatchedLive.map((u) => [u.address, [u.action, u.reason]]));
    assert.deepEqual(reasons["aws_fancy_new_thing.x"], [
      "leave in Terraform",
      "type aws_fancy_new_thing is unknown to the adoption table: the program does not manage it",
    ]);
    assert.deepEqual(reasons["aws_lb.nameless"], [
      "delete after cut-over",
      "no planned LoadBalancer has its identity: the program's own resources take its place",
    ]);
    assert.deepEqual(reasons["aws_security_group_rule.two_peers"], [
      "delete after cut-over",
      "no planned SecurityGroupIngressRule has its identity: the program's own resources take its place",
    ]);
    assert.equal(report.matches.length, 0);
  });

  it("keeps a Terraform rule with several peers when one of its AWS rules is one the program plans, and finds that rule outside Terraform", async () => {
    const plan = await committedPlan("dev");
    const source = parseTfState(
      "rules.tfstate.json",
      state([
        {
          type: "aws_security_group",
          name: "alb",
          attributes: {
            id: "sg-0aaa",
            arn: "arn:aws:ec2:us-east-1:434960487817:security-group/sg-0aaa",
            name: "notifications-alb-int-v2-dev",
            ingress: [],
            egress: [],
          },
        },
        {
          type: "aws_security_group_rule",
          name: "https",
          attributes: {
            type: "ingress",
            security_group_id: "sg-0aaa",
            cidr_blocks: ["10.12.0.0/16", "172.18.0.0/19"],
            protocol: "tcp",
            from_port: 443,
            to_port: 443,
            security_group_rule_id: "",
          },
        },
        {
          type: "aws_security_group_rule",
          name: "egress",
          attributes: {
            type: "egress",
            security_group_id: "sg-0aaa",
            cidr_blocks: ["0.0.0.0/0", "::/0"],
            protocol: "-1",
            from_port: 0,
            to_port: 0,
          },
        },
      ]),
    );
    const report = adopt(plan, [source], stackTarget(plan, planFiles("dev").config));
    const https = report.unmatchedLive.find((u) => u.address === "aws_security_group_rule.https");
    assert.equal(https?.action, "terraform state rm and keep");
    assert.match(https?.reason ?? "", /futures-notifications-alb-in-https-from-cidrs.*destroying it would revoke them/);
    assert.deepEqual(
      [
        report.unmatchedLive.find((u) => u.address === "aws_security_group_rule.egress")?.action,
        report.unmatchedLive.find((u) => u.address === "aws_security_group_rule.egress")?.reason,
      ],
      [
        "delete after cut-over",
        "no planned SecurityGroupEgressRule has its identity: the program's own resources take its place",
      ],
    );
    const outside = report.plannedOnly.find((p) => p.name === "futures-notifications-alb-in-https-from-cidrs");
    assert.equal(outside?.status, "exists outside Terraform");
    assert.match(outside?.note ?? "", /describe-security-group-rules --filters Name=group-id,Values=sg-0aaa/);
  });
});
