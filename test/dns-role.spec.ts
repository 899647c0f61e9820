/**
 * The role in titanio-prd that lmn's records go through (`npm run dns-role`),
 * evaluated with IAM's logic offline (@cloud-copilot/iam-simulate): it may change
 * exactly the records the lmn plan registers, with their types, in the one zone,
 * read that zone and watch its changes, and nothing else; only the lmn deployer
 * may assume it as a writer, the preview only as a reader. The lmn deployer and
 * preview roles may assume exactly that role.
 */
import { strict as assert } from "node:assert";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { runSimulation } from "@cloud-copilot/iam-simulate";
import { normalizedRecordName } from "../tools/dns-role-policy";
import { DnsRoleInputError, DnsRoleSetup, dnsRoleSetup, runDnsRole } from "../tools/dns-role";
import {
  LMN_DNS_ROLE_ARN,
  LUMERIN_IO_ZONE_ID,
  TITANIO_PRD_STAND_IN,
  committedPlan,
  deployablePlan,
  doc,
  resource,
  resourcesOfType,
} from "./support/plan";

const LMN = "330280307271";
const ZONE_ARN = `arn:aws:route53:::hostedzone/${LUMERIN_IO_ZONE_ID}`;
const OTHER_ZONE_ARN = "arn:aws:route53:::hostedzone/Z0OTHERZONE0001";
const TAG = "lumerin-infra-dns-access";
const SESSION = `arn:aws:sts::${TITANIO_PRD_STAND_IN}:assumed-role/lumerin-infra-dns-lmn/lumerin-infra-lmn-dns`;

type Context = Record<string, string | string[]>;

async function allowed(
  request: { principal: string; action: string; resource: string; account: string; context: Context },
  policies: { identity: unknown[]; resource?: unknown },
): Promise<boolean> {
  const result = await runSimulation(
    {
      request: {
        principal: request.principal,
        action: request.action,
        resource: { resource: request.resource, accountId: request.account },
        contextVariables: request.context,
      },
      identityPolicies: policies.identity.map((policy, i) => ({ name: `p${i}`, policy })),
      ...(policies.resource ? { resourcePolicy: policies.resource } : {}),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    {},
  );
  // On "*" the simulator may answer for every resource at once ("wildcard"); on an ARN, for that one.
  if (request.resource !== "*") assert.equal(result.resultType, "single", JSON.stringify(result).slice(0, 400));
  return result.resultType !== "error" && result.overallResult === "Allowed";
}

/** One change batch: every change's normalized name, type and action, as Route 53 gives them to IAM. */
function batch(changes: [name: string, type: string, action: string][], access: string | null): Context {
  return {
    "route53:ChangeResourceRecordSetsNormalizedRecordNames": changes.map(([n]) => n),
    "route53:ChangeResourceRecordSetsRecordTypes": changes.map(([, t]) => t),
    "route53:ChangeResourceRecordSetsActions": changes.map(([, , a]) => a),
    ...(access ? { [`aws:PrincipalTag/${TAG}`]: access } : {}),
  };
}

describe("the DNS role in titanio-prd (npm run dns-role)", function () {
  this.timeout(60_000);
  let setup: DnsRoleSetup;
  const out = mkdtempSync(path.join(tmpdir(), "dns-role-"));
  before(async () => {
    setup = await dnsRoleSetup({ stack: "lmn", zoneId: LUMERIN_IO_ZONE_ID, account: TITANIO_PRD_STAND_IN, out });
  });
  after(() => rmSync(out, { recursive: true, force: true }));

  const session = (action: string, target: string, context: Context = {}) =>
    allowed(
      { principal: SESSION, action, resource: target, account: TITANIO_PRD_STAND_IN, context },
      { identity: [setup.permissions] },
    );
  /** A change batch from a session tagged `access` (null: untagged). */
  const change = (changes: [string, string, string][], access: string | null = "write", zone = ZONE_ARN) =>
    session("route53:ChangeResourceRecordSets", zone, batch(changes, access));

  it("names exactly the records and types the lmn plan registers (derived from the plan, validation CNAMEs as _*.<name>)", () => {
    assert.equal(setup.roleArn, LMN_DNS_ROLE_ARN);
    assert.deepEqual(setup.args.records, {
      exact: {
        A: [
          "futures.lumerin.io",
          "notifyint.lumerin.io",
          "proxy.lumerin.io",
          "s3futures.lumerin.io",
          "validator.lumerin.io",
        ],
        AAAA: ["futures.lumerin.io", "s3futures.lumerin.io"],
      },
      validation: { CNAME: ["_*.futures.lumerin.io", "_*.notifyint.lumerin.io", "_*.s3futures.lumerin.io"] },
    });
    assert.deepEqual(
      [setup.args.deployerRoleName, setup.args.previewRoleName, setup.args.stackAccountId],
      ["lumerin-infra-deployer-lmn", "lumerin-infra-preview-lmn", LMN],
    );
  });

  it("may change every record the lmn plan registers, by its own name and type", async () => {
    const plan = await deployablePlan("lmn");
    const records = resourcesOfType(plan, "aws:route53/record:Record");
    assert.equal(records.length, 10);
    for (const r of records) {
      const name = normalizedRecordName(String(r.inputs.name));
      for (const action of ["CREATE", "UPSERT", "DELETE"])
        assert.equal(await change([[name, String(r.inputs.type), action]]), true, `${action} ${name} ${r.inputs.type}`);
    }
  });

  const allowedCases: [string, [string, string, string][]][] = [
    [
      "a new validation CNAME of futures (a replaced certificate's token)",
      [["_0123456789abcdef0123456789abcdef.futures.lumerin.io", "CNAME", "UPSERT"]],
    ],
    [
      "a batch of two own A records",
      [
        ["proxy.lumerin.io", "A", "DELETE"],
        ["proxy.lumerin.io", "A", "CREATE"],
      ],
    ],
  ];
  for (const [what, changes] of allowedCases)
    it(`allows ${what}`, async () => assert.equal(await change(changes), true));

  const deniedCases: [string, [string, string, string][]][] = [
    ["another name (www)", [["www.lumerin.io", "A", "UPSERT"]]],
    ["the apex", [["lumerin.io", "A", "UPSERT"]]],
    ["the apex MX, deleted", [["lumerin.io", "MX", "DELETE"]]],
    ["deleting a record it does not manage (mail A)", [["mail.lumerin.io", "A", "DELETE"]]],
    ["a look-alike name (proxy.lumerin.io.evil.com)", [["proxy.lumerin.io.evil.com", "A", "UPSERT"]]],
    ["a name below a managed one (x.proxy.lumerin.io)", [["x.proxy.lumerin.io", "A", "UPSERT"]]],
    ["another type on a managed name (proxy CNAME)", [["proxy.lumerin.io", "CNAME", "UPSERT"]]],
    ["AAAA where only A is managed (proxy AAAA)", [["proxy.lumerin.io", "AAAA", "UPSERT"]]],
    ["a TXT record on futures", [["futures.lumerin.io", "TXT", "UPSERT"]]],
    ["an NS delegation of a managed name", [["futures.lumerin.io", "NS", "CREATE"]]],
    [
      "a validation-like CNAME under a name it does not manage",
      [["_0123456789abcdef0123456789abcdef.www.lumerin.io", "CNAME", "UPSERT"]],
    ],
    [
      "a validation-like name as an A record",
      [["_0123456789abcdef0123456789abcdef.futures.lumerin.io", "A", "UPSERT"]],
    ],
    [
      "a TXT record at a validation-like name",
      [["_0123456789abcdef0123456789abcdef.futures.lumerin.io", "TXT", "UPSERT"]],
    ],
    [
      "a batch that smuggles an unmanaged name beside a managed one",
      [
        ["proxy.lumerin.io", "A", "UPSERT"],
        ["www.lumerin.io", "A", "UPSERT"],
      ],
    ],
    [
      "a batch that mixes types (one statement per type)",
      [
        ["futures.lumerin.io", "A", "UPSERT"],
        ["proxy.lumerin.io", "CNAME", "UPSERT"],
      ],
    ],
  ];
  for (const [what, changes] of deniedCases)
    it(`denies ${what}`, async () => assert.equal(await change(changes), false));

  it("denies every change to a reader's session, to an untagged session and to a batch without Route 53's keys", async () => {
    assert.equal(await change([["proxy.lumerin.io", "A", "UPSERT"]], "read"), false);
    assert.equal(await change([["proxy.lumerin.io", "A", "UPSERT"]], null), false);
    assert.equal(
      await session("route53:ChangeResourceRecordSets", ZONE_ARN, { [`aws:PrincipalTag/${TAG}`]: "write" }),
      false,
    );
  });

  it("denies the same records in another zone", async () =>
    assert.equal(await change([["proxy.lumerin.io", "A", "UPSERT"]], "write", OTHER_ZONE_ARN), false));

  it("reads the zone, its records and tags, and watches changes; any session", async () => {
    for (const access of ["read", "write"]) {
      for (const action of ["route53:GetHostedZone", "route53:ListResourceRecordSets", "route53:ListTagsForResource"]) {
        assert.equal(
          await session(action, ZONE_ARN, { [`aws:PrincipalTag/${TAG}`]: access }),
          true,
          `${access}: ${action}`,
        );
      }
      assert.equal(
        await session("route53:GetChange", "arn:aws:route53:::change/C2682N5HXP0BZ4", {
          [`aws:PrincipalTag/${TAG}`]: access,
        }),
        true,
      );
    }
  });

  it("may do nothing else: other zones, zone-wide or account-wide actions", async () => {
    const denied: [string, string][] = [
      ["route53:GetHostedZone", OTHER_ZONE_ARN],
      ["route53:ListResourceRecordSets", OTHER_ZONE_ARN],
      ["route53:DeleteHostedZone", ZONE_ARN],
      ["route53:UpdateHostedZoneComment", ZONE_ARN],
      ["route53:ChangeTagsForResource", ZONE_ARN],
      ["route53:AssociateVPCWithHostedZone", ZONE_ARN],
      ["route53:CreateHostedZone", "*"],
      ["route53:ListHostedZones", "*"],
      ["route53:ChangeResourceRecordSets", "*"],
      ["route53:CreateHealthCheck", "*"],
      ["iam:PassRole", `arn:aws:iam::${TITANIO_PRD_STAND_IN}:role/OrganizationAccountAccessRole`],
      ["sts:AssumeRole", `arn:aws:iam::${TITANIO_PRD_STAND_IN}:role/OrganizationAccountAccessRole`],
    ];
    for (const [action, target] of denied)
      assert.equal(
        await session(action, target, { [`aws:PrincipalTag/${TAG}`]: "write" }),
        false,
        `${action} on ${target}`,
      );
  });

  describe("who may assume it: the lmn deployer as writer, the preview as reader", () => {
    const role = (name: string, account = LMN) => `arn:aws:iam::${account}:role/${name}`;
    /** The identity policies the lmn plan gives a role: what it may ask STS for, besides the zone role's trust. */
    const identityOf = async (name: "deployer" | "preview"): Promise<unknown[]> => {
      const plan = await deployablePlan("lmn");
      return name === "preview"
        ? [doc(resource(plan, "aws:iam/rolePolicy:RolePolicy", "deploy-infra-preview-policy").inputs.policy)]
        : [doc(resource(plan, "aws:iam/rolePolicy:RolePolicy", "deploy-infra-deployer-dns").inputs.policy)];
    };
    const assume = async (
      principal: string,
      identity: unknown[],
      action: "sts:AssumeRole" | "sts:TagSession",
      tags: Record<string, string>,
      target = LMN_DNS_ROLE_ARN,
    ) =>
      allowed(
        {
          principal,
          action,
          resource: target,
          account: TITANIO_PRD_STAND_IN,
          context: {
            "aws:PrincipalArn": principal,
            "aws:PrincipalAccount": principal.split(":")[4],
            ...Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:RequestTag/${k}`, v])),
            "aws:TagKeys": Object.keys(tags),
          },
        },
        { identity, resource: setup.trust },
      );
    const adminEverything = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] };

    it("the deployer, tagged write: allowed (its own statement and the trust, across accounts)", async () => {
      const identity = await identityOf("deployer");
      for (const action of ["sts:AssumeRole", "sts:TagSession"] as const)
        assert.equal(
          await assume(role("lumerin-infra-deployer-lmn"), identity, action, { [TAG]: "write" }),
          true,
          action,
        );
    });

    it("the preview, tagged read: allowed; tagged write, untagged or with another tag: denied", async () => {
      const identity = await identityOf("preview");
      const preview = role("lumerin-infra-preview-lmn");
      for (const action of ["sts:AssumeRole", "sts:TagSession"] as const)
        assert.equal(await assume(preview, identity, action, { [TAG]: "read" }), true, action);
      assert.equal(
        await assume(preview, identity, "sts:TagSession", { [TAG]: "write" }),
        false,
        "a pull request cannot make itself a writer",
      );
      // Even with every permission of its own, the zone role's trust refuses it as a writer.
      assert.equal(await assume(preview, [adminEverything], "sts:TagSession", { [TAG]: "write" }), false);
      assert.equal(await assume(preview, [adminEverything], "sts:AssumeRole", {}), false, "untagged");
      assert.equal(
        await assume(preview, [adminEverything], "sts:TagSession", { [TAG]: "read", team: "x" }),
        false,
        "another tag key",
      );
    });

    it("nobody else: other roles of lmn, the same names in another account, the account itself", async () => {
      for (const principal of [
        role("github-actions-proxy-router-deploy-lmn"),
        role("lumerin-infra-deployer-lmn-old"),
        role("lumerin-infra-deployer-lmn", "434960487817"),
        role("lumerin-infra-preview-lmn", "464450398935"),
        `arn:aws:iam::${LMN}:user/admin`,
      ]) {
        for (const access of ["write", "read"])
          assert.equal(
            await assume(principal, [adminEverything], "sts:TagSession", { [TAG]: access }),
            false,
            `${principal} as ${access}`,
          );
      }
    });

    it("an administrator's role for the first pulumi up only when given (--bootstrap-principal), and only as writer", async () => {
      const admin = `arn:aws:iam::${LMN}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_AdministratorAccess_0123456789abcdef`;
      assert.equal(
        await assume(admin, [adminEverything], "sts:TagSession", { [TAG]: "write" }),
        false,
        "not without the option",
      );
      const first = await dnsRoleSetup({
        stack: "lmn",
        zoneId: LUMERIN_IO_ZONE_ID,
        account: TITANIO_PRD_STAND_IN,
        out,
        bootstrapPrincipals: [admin],
      });
      const withAdmin = (principal: string, tag: string) =>
        allowed(
          {
            principal,
            action: "sts:TagSession",
            resource: LMN_DNS_ROLE_ARN,
            account: TITANIO_PRD_STAND_IN,
            context: { "aws:PrincipalArn": principal, [`aws:RequestTag/${TAG}`]: tag, "aws:TagKeys": [TAG] },
          },
          { identity: [adminEverything], resource: first.trust },
        );
      assert.equal(await withAdmin(admin, "write"), true);
      assert.equal(await withAdmin(admin, "admin"), false);
      assert.equal(await withAdmin(role("lumerin-infra-preview-lmn"), "write"), false, "the preview stays a reader");
      await assert.rejects(
        dnsRoleSetup({
          stack: "lmn",
          zoneId: LUMERIN_IO_ZONE_ID,
          account: TITANIO_PRD_STAND_IN,
          out,
          bootstrapPrincipals: [`arn:aws:iam::434960487817:role/admin`],
        }),
        /--bootstrap-principal: expected a role ARN of the stack's account 330280307271/,
      );
    });

    it("the deployer and preview may assume exactly that role, no other in titanio-prd", async () => {
      for (const [name, tag] of [
        ["deployer", "write"],
        ["preview", "read"],
      ] as const) {
        const identity = await identityOf(name);
        const principal = role(`lumerin-infra-${name}-lmn`);
        const anyTrust = {
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Principal: { AWS: `arn:aws:iam::${LMN}:root` },
              Action: ["sts:AssumeRole", "sts:TagSession"],
              Resource: "*",
            },
          ],
        };
        const other = `arn:aws:iam::${TITANIO_PRD_STAND_IN}:role/OrganizationAccountAccessRole`;
        const result = await allowed(
          {
            principal,
            action: "sts:AssumeRole",
            resource: other,
            account: TITANIO_PRD_STAND_IN,
            context: { [`aws:RequestTag/${TAG}`]: tag, "aws:TagKeys": [TAG] },
          },
          { identity, resource: anyTrust },
        );
        assert.equal(result, false, `${name} may assume ${other}`);
      }
    });

    it("states the statements exactly, and has none while the role is pending", async () => {
      const plan = await deployablePlan("lmn");
      const condition = (access: string) => ({
        StringEquals: { [`aws:RequestTag/${TAG}`]: access },
        "ForAllValues:StringEquals": { "aws:TagKeys": [TAG] },
      });
      const zoneStatements = (name: string) =>
        doc(resource(plan, "aws:iam/rolePolicy:RolePolicy", name).inputs.policy)
          .Statement.filter((s) => String(s.Sid).includes("Zone"))
          .map((s) => [s.Sid, s.Action, s.Resource, s.Condition]);
      assert.deepEqual(zoneStatements("deploy-infra-preview-policy"), [
        ["AssumeTheZoneRoleToReadRecords", ["sts:AssumeRole"], [LMN_DNS_ROLE_ARN], undefined],
        ["TagZoneSessionsAsReadOnly", ["sts:TagSession"], [LMN_DNS_ROLE_ARN], condition("read")],
      ]);
      assert.deepEqual(zoneStatements("deploy-infra-deployer-dns"), [
        ["AssumeTheZoneRoleToChangeRecords", ["sts:AssumeRole"], [LMN_DNS_ROLE_ARN], undefined],
        ["TagZoneSessionsAsWriteOnly", ["sts:TagSession"], [LMN_DNS_ROLE_ARN], condition("write")],
      ]);
      const pending = await committedPlan("lmn");
      assert.deepEqual(
        resourcesOfType(pending, "aws:iam/rolePolicy:RolePolicy").filter((r) => r.name === "deploy-infra-deployer-dns"),
        [],
      );
      const previewPending = doc(
        resource(pending, "aws:iam/rolePolicy:RolePolicy", "deploy-infra-preview-policy").inputs.policy,
      );
      assert.equal(
        previewPending.Statement.some((s) => [s.Action].flat().some((a) => a.startsWith("sts:"))),
        false,
      );
    });
  });

  describe("the command", () => {
    it("prints both policies and the exact commands, and writes the files the commands read", async () => {
      const dir = mkdtempSync(path.join(tmpdir(), "dns-role-cli-"));
      try {
        const printed: string[] = [];
        const errors: string[] = [];
        const code = await runDnsRole(
          ["--stack", "lmn", "--zone-id", LUMERIN_IO_ZONE_ID, "--account", TITANIO_PRD_STAND_IN, "--out", dir],
          { out: (t) => printed.push(t), err: (t) => errors.push(t) },
        );
        assert.equal(code, 0, errors.join("\n"));
        const stdout = printed.join("\n");
        const trust = path.join(dir, "trust.json");
        const permissions = path.join(dir, "permissions.json");
        assert.deepEqual(JSON.parse(readFileSync(trust, "utf8")), setup.trust);
        assert.deepEqual(JSON.parse(readFileSync(permissions, "utf8")), setup.permissions);
        assert.ok(stdout.includes(JSON.stringify(setup.permissions, null, 2)), "prints the permission policy");
        assert.ok(stdout.includes(JSON.stringify(setup.trust, null, 2)), "prints the trust policy");
        assert.ok(
          stdout.includes(`aws iam create-role --role-name lumerin-infra-dns-lmn --max-session-duration 3600 `),
          "create-role",
        );
        assert.ok(stdout.includes(`--assume-role-policy-document file://${trust}`));
        assert.ok(
          stdout.includes(
            `aws iam put-role-policy --role-name lumerin-infra-dns-lmn --policy-name zone-records --policy-document file://${permissions}`,
          ),
        );
        assert.ok(stdout.includes(`pulumi config set --stack lmn --path dns.assumeRoleArn ${LMN_DNS_ROLE_ARN}`));
        assert.ok(stdout.includes(`pulumi config set --stack lmn --path dns.zoneId ${LUMERIN_IO_ZONE_ID}`));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it("exits 2 on missing options and on bad input, naming the option", async () => {
      const errors: string[] = [];
      const print = { out: () => undefined, err: (t: string) => errors.push(t) };
      assert.equal(await runDnsRole(["--stack", "lmn"], print), 2);
      assert.match(errors.join("\n"), /--zone-id, --account required/);
      assert.equal(
        await runDnsRole(["--stack", "lmn", "--zone-id", "Z04LUMERINIOTITANIOPRD", "--account", "12"], print),
        2,
      );
      assert.match(errors.join("\n"), /--account: expected the 12-digit id/);
    });

    it("refuses a bad zone id, a bad account, and the stack's own account", async () => {
      await assert.rejects(
        dnsRoleSetup({ stack: "lmn", zoneId: "lumerin.io", account: TITANIO_PRD_STAND_IN, out }),
        (e: Error) => e instanceof DnsRoleInputError && /--zone-id: expected a Route53 hosted zone id/.test(e.message),
      );
      await assert.rejects(
        dnsRoleSetup({ stack: "lmn", zoneId: LUMERIN_IO_ZONE_ID, account: "titanio-prd", out }),
        /--account: expected the 12-digit id/,
      );
      await assert.rejects(
        dnsRoleSetup({ stack: "lmn", zoneId: LUMERIN_IO_ZONE_ID, account: LMN, out }),
        /--account: 330280307271 is the stack's own account/,
      );
    });
  });
});
