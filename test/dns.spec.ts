/**
 * lmn's zone, lumerin.io, is hosted in titanio-prd, not in lmn's account. These
 * specs hold the program to that: the mocks answer only the zones each account
 * hosts (by the account the provider's assumed role is in), a production zone
 * without a role is an error naming `lumerin-infra:dns.assumeRoleArn`, a pending
 * role is a blocker (reported by the plan, refused by the CLI's entry), and once
 * the role is set every record and the zone's lookup go through its provider.
 */
import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import { readFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { DeployBlockedError } from "../config/dns";
import { ConfigError, pulumiConfigSource } from "../config/load";
import { dnsAccessOf } from "../lib/dns-access";
import { lumerinStack } from "../stack";
import { STACK_ACCOUNTS } from "./support/fixtures";
import { capture, type Plan } from "../tools/harness";
import { ACCOUNT_HOSTED_ZONES, RealisticMocks, mockZoneId } from "../tools/mocks";
import { REPO_ROOT, planFiles } from "../tools/plan-stack";
import {
  LMN_DNS_CONFIGURED,
  LMN_DNS_ROLE_ARN,
  LUMERIN_IO_ZONE_ID,
  TITANIO_PRD_STAND_IN,
  committedPlan,
  deployablePlan,
  planWith,
  registeredAfterFailure,
  resource,
  resourcesOfType,
} from "./support/plan";

const ACCOUNTS = STACK_ACCOUNTS;
const DNS_KEY = "lumerin-infra:dns";
const RECORD = "aws:route53/record:Record";
const GET_ZONE = "aws:route53/getZone:getZone";
const DNS_PROVIDER = "urn:pulumi:lmn::lumerin-infra::pulumi:providers:aws::dns";
const DNS_BLOCKER = "lumerin-infra:dns.assumeRoleArn";
/** The plan's blockers about the DNS role (the stack files may list others: docs/deploying.md). */
const dnsBlockers = (plan: Plan) => plan.blockers.filter((b) => b.key === DNS_BLOCKER);
const run = promisify(execFile);

/** The records the lmn program registers in lumerin.io (the ones a pending role withholds). */
const LMN_RECORDS = [
  "proxy.lumerin.io A",
  "validator.lumerin.io A",
  "ACM's validation CNAME of notifyint.lumerin.io",
  "notifyint.lumerin.io A",
  "ACM's validation CNAME of futures.lumerin.io",
  "ACM's validation CNAME of s3futures.lumerin.io",
  "futures.lumerin.io A",
  "futures.lumerin.io AAAA",
  "s3futures.lumerin.io A",
  "s3futures.lumerin.io AAAA",
];

async function failure(plan: Promise<Plan>): Promise<Error> {
  return plan.then(
    (p) => assert.fail(`the ${p.stack} plan should have failed; it registered ${p.resources.length} resources`),
    (err: unknown) => err as Error,
  );
}

describe("DNS: each stack's zone, in the account that hosts it", () => {
  describe("the mocks answer only the zones an account hosts", () => {
    const provider = (mocks: RealisticMocks, name: string, roleArn?: string): string => {
      const { id } = mocks.newResource({
        type: "pulumi:providers:aws",
        name,
        inputs: roleArn ? { assumeRoles: JSON.stringify([{ roleArn }]) } : {},
        custom: true,
      });
      return `urn:pulumi:lmn::lumerin-infra::pulumi:providers:aws::${name}::${id}`;
    };
    const lookup = (mocks: RealisticMocks, inputs: Record<string, unknown>, providerRef?: string) =>
      mocks.call({ token: GET_ZONE, inputs, ...(providerRef ? { provider: providerRef } : {}) }) as {
        zoneId: string;
        name: string;
      };
    const table = { ...ACCOUNT_HOSTED_ZONES, [TITANIO_PRD_STAND_IN]: [{ name: "lumerin.io", id: LUMERIN_IO_ZONE_ID }] };

    it("each workload account has its own <env>.lumerin.io, and no lumerin.io", () => {
      for (const [env, account] of Object.entries(ACCOUNTS)) {
        const mocks = new RealisticMocks({ accountId: account, region: "us-east-1", hostedZones: table });
        assert.deepEqual(lookup(mocks, { name: `${env}.lumerin.io`, privateZone: false }), {
          ...lookup(mocks, { name: `${env}.lumerin.io`, privateZone: false }),
          zoneId: mockZoneId(`${env}.lumerin.io`),
          name: `${env}.lumerin.io`,
        });
        assert.throws(
          () => lookup(mocks, { name: "lumerin.io", privateZone: false }),
          /^Error: no matching Route 53 Hosted Zone found$/,
        );
        const other = env === "dev" ? "stg.lumerin.io" : "dev.lumerin.io";
        assert.throws(
          () => lookup(mocks, { name: other }),
          /no matching Route 53 Hosted Zone found/,
          `${env} does not host ${other}`,
        );
      }
    });

    it("lumerin.io only through a provider whose role is in titanio-prd, by name or by its id", () => {
      const mocks = new RealisticMocks({ accountId: ACCOUNTS.lmn, region: "us-east-1", hostedZones: table });
      const titanio = provider(mocks, "dns", `arn:aws:iam::${TITANIO_PRD_STAND_IN}:role/lumerin-infra-dns-lmn`);
      assert.equal(mocks.accountOf(titanio), TITANIO_PRD_STAND_IN);
      assert.equal(lookup(mocks, { name: "lumerin.io", privateZone: false }, titanio).zoneId, LUMERIN_IO_ZONE_ID);
      assert.equal(lookup(mocks, { zoneId: LUMERIN_IO_ZONE_ID }, titanio).name, "lumerin.io");
      // titanio-prd does not host lmn's own zone, nor a zone by another id; a private lookup finds no public zone.
      assert.throws(() => lookup(mocks, { name: "lmn.lumerin.io" }, titanio), /no matching Route 53 Hosted Zone found/);
      assert.throws(
        () => lookup(mocks, { zoneId: mockZoneId("dev.lumerin.io") }, titanio),
        /no matching Route 53 Hosted Zone found/,
      );
      assert.throws(
        () => lookup(mocks, { name: "lumerin.io", privateZone: true }, titanio),
        /no matching Route 53 Hosted Zone found/,
      );
      // A role in dev's account, or a provider without a role, reaches no lumerin.io.
      const dev = provider(mocks, "dev-role", `arn:aws:iam::${ACCOUNTS.dev}:role/anything`);
      assert.throws(() => lookup(mocks, { name: "lumerin.io" }, dev), /no matching Route 53 Hosted Zone found/);
      assert.equal(lookup(mocks, { name: "dev.lumerin.io" }, dev).zoneId, mockZoneId("dev.lumerin.io"));
      const plain = provider(mocks, "us-east-1");
      assert.throws(() => lookup(mocks, { name: "lumerin.io" }, plain), /no matching Route 53 Hosted Zone found/);
    });

    it("Route 53 refuses a record in a zone of another account, or outside the zone's name", () => {
      const mocks = new RealisticMocks({ accountId: ACCOUNTS.lmn, region: "us-east-1", hostedZones: table });
      const record = (name: string, inputs: Record<string, unknown>, providerRef?: string) =>
        mocks.newResource({
          type: RECORD,
          name,
          inputs: { type: "A", ...inputs },
          custom: true,
          ...(providerRef ? { provider: providerRef } : {}),
        });
      assert.throws(
        () => record("wrong-account", { zoneId: LUMERIN_IO_ZONE_ID, name: "proxy.lumerin.io" }),
        new RegExp(`^Error: NoSuchHostedZone: No hosted zone found with ID: ${LUMERIN_IO_ZONE_ID}$`),
      );
      const titanio = provider(mocks, "dns", LMN_DNS_ROLE_ARN);
      assert.throws(
        () => record("outside", { zoneId: LUMERIN_IO_ZONE_ID, name: "proxy.lumerin.com" }, titanio),
        /InvalidChangeBatch: \[RRSet with DNS name proxy\.lumerin\.com\. is not permitted in zone lumerin\.io\.\]/,
      );
      assert.equal(
        record("right", { zoneId: LUMERIN_IO_ZONE_ID, name: "proxy.lumerin.io" }, titanio).id,
        `${LUMERIN_IO_ZONE_ID}_proxy.lumerin.io_A`,
      );
    });
  });

  describe("a production zone in another account needs a way into it", () => {
    it("lmn without dns.assumeRoleArn: an error naming the key, before any resource is registered", async () => {
      const error = await failure(planWith("lmn", { overrides: { [DNS_KEY]: undefined } }));
      assert.ok(error instanceof ConfigError, String(error));
      assert.deepEqual(
        error.issues.map((i) => i.key),
        ["lumerin-infra:dns.assumeRoleArn"],
      );
      assert.match(error.message, /the zone lumerin\.io is hosted in the titanio-prd account, not in this stack's/);
      assert.match(error.message, /set "pending" to plan without the zone's records/);
      const registered = await registeredAfterFailure("lmn");
      assert.deepEqual(
        registered.filter((urn) => !urn.includes("pulumi:pulumi:Stack")),
        [],
      );
    });

    it("a role without the zone's id: an error naming dns.zoneId (the role may read only its one zone)", async () => {
      const error = await failure(
        planWith("lmn", { overrides: { [DNS_KEY]: JSON.stringify({ assumeRoleArn: LMN_DNS_ROLE_ARN }) } }),
      );
      assert.ok(error instanceof ConfigError, String(error));
      assert.deepEqual(
        error.issues.map((i) => i.key),
        ["lumerin-infra:dns.zoneId"],
      );
      assert.match(error.message, /aws route53 list-hosted-zones-by-name --dns-name lumerin\.io/);
    });

    it('"pending" where the zone is the stack\'s own: refused', async () => {
      const error = await failure(
        planWith("dev", { overrides: { [DNS_KEY]: JSON.stringify({ assumeRoleArn: "pending" }) } }),
      );
      assert.ok(error instanceof ConfigError, String(error));
      assert.deepEqual(
        error.issues.map((i) => [i.key, i.message]),
        [
          [
            "lumerin-infra:dns.assumeRoleArn",
            '"pending" is only for a zone hosted in another account; dev.lumerin.io is looked up in this stack\'s account',
          ],
        ],
      );
    });

    it("a role in the wrong account finds no lumerin.io there: the plan fails at the zone lookup", async () => {
      const error = await failure(
        planWith("lmn", {
          overrides: {
            [DNS_KEY]: JSON.stringify({
              assumeRoleArn: `arn:aws:iam::${ACCOUNTS.dev}:role/lumerin-infra-dns-lmn`,
              zoneId: LUMERIN_IO_ZONE_ID,
            }),
          },
        }),
      );
      assert.match(error.message, /no matching Route 53 Hosted Zone found/);
    });

    it("a zone id that is another zone's: an error naming dns.zoneId", async () => {
      const hostedZones = {
        ...ACCOUNT_HOSTED_ZONES,
        [TITANIO_PRD_STAND_IN]: [
          { name: "lumerin.io", id: LUMERIN_IO_ZONE_ID },
          { name: "titanio.io", id: "Z0TITANIOIO000" },
        ],
      };
      const error = await failure(
        planWith("lmn", {
          hostedZones,
          overrides: { [DNS_KEY]: JSON.stringify({ assumeRoleArn: LMN_DNS_ROLE_ARN, zoneId: "Z0TITANIOIO000" }) },
        }),
      );
      assert.ok(error instanceof ConfigError, String(error));
      assert.deepEqual(
        error.issues.map((i) => [i.key, i.message]),
        [["lumerin-infra:dns.zoneId", "Z0TITANIOIO000 is the hosted zone titanio.io, not lumerin.io"]],
      );
    });

    it("lmn in a zone of its own account (lmn.lumerin.io) needs no role", async () => {
      const plan = await planWith("lmn", { overrides: { [DNS_KEY]: JSON.stringify({ zoneName: "lmn.lumerin.io" }) } });
      const records = resourcesOfType(plan, RECORD);
      assert.equal(records.length, LMN_RECORDS.length);
      for (const r of records) {
        assert.equal(r.provider, undefined, r.name);
        assert.equal(r.inputs.zoneId, mockZoneId("lmn.lumerin.io"), r.name);
      }
      assert.deepEqual(dnsBlockers(plan), []);
    });
  });

  describe("the committed lmn stack: the role is pending", () => {
    it("registers no record and looks up no zone, and lists the blocker with every record it withholds", async () => {
      const plan = await committedPlan("lmn");
      assert.deepEqual(resourcesOfType(plan, RECORD), []);
      assert.equal(
        plan.invokes.some((i) => i.token === GET_ZONE),
        false,
      );
      assert.deepEqual(
        resourcesOfType(plan, "pulumi:providers:aws").map((p) => p.name),
        ["us-east-1"],
      );
      assert.equal(dnsBlockers(plan).length, 1);
      const [blocker] = dnsBlockers(plan);
      assert.equal(blocker.key, "lumerin-infra:dns.assumeRoleArn");
      assert.match(
        blocker.message,
        /hosted in the titanio-prd account and no role there is configured yet, so no record is registered in it and pulumi up refuses to run/,
      );
      assert.match(
        blocker.message,
        /npm run dns-role -- --stack lmn --zone-id <id> --account <titanio-prd account id>/,
      );
      assert.deepEqual(blocker.withheld, LMN_RECORDS);
      assert.deepEqual(
        plan.violations.filter((v) => v.level === "mandatory"),
        [],
      );
    });

    it("dev and stg have no blocker", async () => {
      for (const stack of ["dev", "stg"] as const) assert.deepEqual(dnsBlockers(await committedPlan(stack)), []);
    });

    it("the CLI entry (index.ts) refuses it before any resource is registered, naming the key", async () => {
      const files = planFiles("lmn");
      const error = await capture({
        project: files.project,
        stack: files.stack,
        config: files.config,
        secretKeys: files.secretKeys,
        program: async () => {
          // index.ts runs the program when it is loaded, as the Pulumi CLI loads it.
          delete require.cache[require.resolve("../index")];
          return (await (require("../index") as Promise<Record<string, unknown>>)) ?? {};
        },
      })
        .then(
          () => assert.fail("index.ts should have refused the pending stack"),
          (err: unknown) => err as Error,
        )
        // Whoever loads index.ts next must run it afresh, not get this run's rejection.
        .finally(() => delete require.cache[require.resolve("../index")]);
      // A RunError: the CLI prints its message alone.
      assert.equal(error.constructor.name, "RunError");
      assert.match(
        error.message,
        /^the stack cannot be deployed yet \(1 blocker\):\n {2}- lumerin-infra:dns\.assumeRoleArn: "pending": the zone lumerin\.io is hosted in the titanio-prd account/,
      );
      const registered = await registeredAfterFailure("lmn");
      assert.deepEqual(
        registered.filter((urn) => !urn.includes("pulumi:pulumi:Stack")),
        [],
      );
    });

    it("refusing is the program's own: lumerinStack with `refuse` throws DeployBlockedError, nothing registered", async () => {
      const files = planFiles("lmn");
      const error = await capture({
        project: files.project,
        stack: files.stack,
        config: files.config,
        secretKeys: files.secretKeys,
        program: () => lumerinStack({ config: pulumiConfigSource(), releases: undefined, blockers: "refuse" }),
      }).then(
        () => assert.fail("should have refused"),
        (err: unknown) => err,
      );
      assert.ok(error instanceof DeployBlockedError, String(error));
      assert.deepEqual(
        error.blockers.map((b) => b.key),
        ["lumerin-infra:dns.assumeRoleArn"],
      );
      assert.deepEqual(
        (await registeredAfterFailure("lmn")).filter((urn) => !urn.includes("pulumi:pulumi:Stack")),
        [],
      );
    });

    it("`npm run plan -- --stack lmn` exits 0 and shows the blocker first, in the tree, the JSON and the Markdown", async function () {
      this.timeout(60_000);
      const dir = mkdtempSync(path.join(tmpdir(), "dns-plan-"));
      try {
        const json = path.join(dir, "lmn.json");
        const md = path.join(dir, "lmn.md");
        const { stdout } = await run(
          process.execPath,
          [
            require.resolve("ts-node/dist/bin"),
            "--transpile-only",
            "tools/plan.ts",
            "--stack",
            "lmn",
            "--json",
            json,
            "--markdown",
            md,
          ],
          {
            cwd: REPO_ROOT,
            env: { ...process.env, GITHUB_TOKEN: "" },
          },
        );
        const lines = stdout.split("\n");
        assert.match(lines[0], /^Plan of lumerin-infra\/lmn/);
        // First after the header: the one-time steps, the DNS role among them, with what it withholds.
        assert.match(lines[2], /^Before the first pulumi up: \d+ missing/);
        const at = lines.indexOf(`  ✗ ${DNS_BLOCKER}`);
        assert.ok(at > 2 && at < lines.indexOf("Images"), stdout.slice(0, 2000));
        assert.match(lines[at + 1], /"pending": the zone lumerin\.io is hosted in the titanio-prd account/);
        assert.match(
          lines[at + 2],
          /^ {6}not in this plan meanwhile \(10\): proxy\.lumerin\.io A, validator\.lumerin\.io A/,
        );
        const written = JSON.parse(readFileSync(json, "utf8")) as Plan;
        assert.deepEqual(
          dnsBlockers(written).map((b) => [b.key, b.withheld?.length]),
          [[DNS_BLOCKER, 10]],
        );
        assert.match(
          readFileSync(md, "utf8"),
          /\n- `lumerin-infra:dns\.assumeRoleArn`: "pending": .*\n {2}Not in this plan meanwhile: `proxy\.lumerin\.io A`, /,
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe("lmn with the role configured: every lumerin.io record through the zone's provider", () => {
    it("the provider assumes exactly the configured role, as a writer (the offline caller is no preview)", async () => {
      const plan = await deployablePlan("lmn");
      const provider = resource(plan, "pulumi:providers:aws", "dns");
      assert.equal(provider.urn, DNS_PROVIDER);
      assert.deepEqual(JSON.parse(String(provider.inputs.assumeRoles)), [
        {
          roleArn: LMN_DNS_ROLE_ARN,
          sessionName: "lumerin-infra-lmn-dns",
          tags: { "lumerin-infra-dns-access": "write" },
        },
      ]);
      // The zone's account is another: the stack's allowedAccountIds must not apply to it.
      assert.equal(provider.inputs.allowedAccountIds, undefined);
      assert.deepEqual(dnsBlockers(plan), []);
    });

    it("every aws:route53/record and the zone lookup use it; none the default provider", async () => {
      const plan = await deployablePlan("lmn");
      const records = resourcesOfType(plan, RECORD);
      assert.equal(records.length, LMN_RECORDS.length);
      for (const r of records) {
        assert.equal(r.provider, DNS_PROVIDER, `${r.name} goes through the default provider`);
        assert.equal(r.inputs.zoneId, LUMERIN_IO_ZONE_ID, r.name);
        assert.match(String(r.inputs.name), /(^|\.)lumerin\.io\.?$/, r.name);
      }
      assert.deepEqual(records.map((r) => r.name).sort(), [
        "futures-notifications-certificate-validation-host",
        "futures-notifications-dns",
        "futures-ui-bucket-a",
        "futures-ui-bucket-aaaa",
        "futures-ui-certificate-validation-bucket",
        "futures-ui-certificate-validation-site",
        "futures-ui-site-a",
        "futures-ui-site-aaaa",
        "proxy-router-dns",
        "proxy-validator-dns",
      ]);
      const lookups = plan.invokes.filter((i) => i.token === GET_ZONE);
      assert.deepEqual(lookups, [{ token: GET_ZONE, provider: DNS_PROVIDER }]);
      // Every other aws:route53/* resource is account-level, not in the zone: the UI's health check,
      // whose metric CloudWatch publishes in the account that owns it, where the UI's alarm is.
      const others = plan.resources.filter((r) => r.type.startsWith("aws:route53/") && r.type !== RECORD);
      assert.deepEqual(
        others.map((r) => [r.type, r.name, r.provider]),
        [["aws:route53/healthCheck:HealthCheck", "monitoring-futures-ui-health", undefined]],
      );
    });

    it("ACM's validation records are the certificates' own, in the zone, through the provider; the validations wait for them", async () => {
      const plan = await deployablePlan("lmn");
      for (const [cert, records] of [
        [
          "futures-ui-certificate",
          ["futures-ui-certificate-validation-site", "futures-ui-certificate-validation-bucket"],
        ],
        ["futures-notifications-certificate", ["futures-notifications-certificate-validation-host"]],
      ] as const) {
        const options = resource(plan, "aws:acm/certificate:Certificate", cert).outputs.domainValidationOptions as {
          resourceRecordName: string;
        }[];
        const names = records.map((n) => resource(plan, RECORD, n).inputs.name);
        assert.deepEqual(
          names,
          options.map((o) => o.resourceRecordName),
        );
        const validation = resource(plan, "aws:acm/certificateValidation:CertificateValidation", `${cert}-validation`);
        assert.deepEqual(validation.inputs.validationRecordFqdns, names);
      }
    });

    it("the preview role's session asks for read, any other caller for write", () => {
      assert.equal(
        dnsAccessOf(
          `arn:aws:sts::${ACCOUNTS.lmn}:assumed-role/lumerin-infra-preview-lmn/GitHubActions`,
          "lumerin-infra-preview-lmn",
        ),
        "read",
      );
      assert.equal(
        dnsAccessOf(
          `arn:aws:sts::${ACCOUNTS.lmn}:assumed-role/lumerin-infra-deployer-lmn/GitHubActions`,
          "lumerin-infra-preview-lmn",
        ),
        "write",
      );
      assert.equal(
        dnsAccessOf(
          `arn:aws:sts::${ACCOUNTS.lmn}:assumed-role/lumerin-infra-preview-lmn-old/x`,
          "lumerin-infra-preview-lmn",
        ),
        "write",
      );
      assert.equal(dnsAccessOf(`arn:aws:iam::${ACCOUNTS.lmn}:user/admin`, "lumerin-infra-preview-lmn"), "write");
    });

    it("the URNs are those of today's plan plus the provider; only the records' zone changes", async () => {
      const pending = await committedPlan("lmn");
      const configured = await deployablePlan("lmn");
      const pendingUrns = new Set(pending.resources.map((r) => r.urn));
      const added = configured.resources.filter((r) => !pendingUrns.has(r.urn));
      assert.deepEqual(
        added.map((r) => r.type).sort(),
        ["aws:iam/rolePolicy:RolePolicy", "pulumi:providers:aws", ...LMN_RECORDS.map(() => RECORD)].sort(),
      );
      assert.deepEqual(
        configured.resources
          .filter((r) => !pendingUrns.has(r.urn) && r.type === "aws:iam/rolePolicy:RolePolicy")
          .map((r) => r.name),
        ["deploy-infra-deployer-dns"],
      );
      assert.equal(JSON.parse(LMN_DNS_CONFIGURED).zoneId, LUMERIN_IO_ZONE_ID);
    });
  });
});
