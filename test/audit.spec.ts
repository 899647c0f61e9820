import { strict as assert } from "node:assert";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { viewsFromExport } from "../policy/views";
import type { Plan } from "../tools/harness";
import { audit } from "../tools/audit";
import { committedPlan } from "./support/plan";

const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

interface ExportResource {
  urn: string;
  custom: boolean;
  type: string;
  inputs: Record<string, unknown>;
  outputs: Record<string, unknown>;
  protect?: boolean;
  parent?: string;
}

/** What `pulumi stack export` would hold after `pulumi up` of this plan (secrets as ciphertext). */
function exportOf(plan: Plan): { version: 3; deployment: { manifest: object; resources: ExportResource[] } } {
  const cipher = (value: unknown) =>
    value === "[secret]" ? { [SIG_KEY]: SECRET_SIG, ciphertext: "AAABAKc0...==" } : value;
  const resources: ExportResource[] = [
    {
      urn: `urn:pulumi:${plan.stack}::${plan.project}::pulumi:pulumi:Stack::${plan.project}-${plan.stack}`,
      custom: false,
      type: "pulumi:pulumi:Stack",
      inputs: {},
      outputs: plan.outputs,
    },
    ...plan.resources.map((r) => ({
      urn: r.urn,
      custom: r.custom,
      type: r.type,
      inputs: Object.fromEntries(Object.entries(r.inputs).map(([k, v]) => [k, cipher(v)])),
      outputs: Object.fromEntries(Object.entries(r.outputs).map(([k, v]) => [k, cipher(v)])),
      ...(r.options.protect ? { protect: true } : {}),
      parent: r.parent,
    })),
  ];
  return { version: 3, deployment: { manifest: { time: "2026-11-22T00:00:00Z" }, resources } };
}

describe("npm run audit (a live stack's export, offline)", () => {
  let dir: string;
  let output: string[];
  let saved: typeof console.log;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), "audit-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  beforeEach(() => {
    output = [];
    saved = console.log;
    console.log = (...args: unknown[]) => void output.push(args.join(" "));
  });
  afterEach(() => {
    console.log = saved;
  });

  it("passes the export of a correctly deployed lmn stack", async () => {
    const file = path.join(dir, "lmn.json");
    writeFileSync(file, JSON.stringify(exportOf(await committedPlan("lmn"))));
    const json = path.join(dir, "lmn-report.json");
    assert.equal(await audit([file, "--json", json]), 0);
    // The configured exceptions (the deployer's admin rights twice, the lmn preview role's pull_request trust and
    // refresh reads), and the five the stack file's adoption switches chose (both NLBs and the stratum
    // rules behind them, the database's key).
    assert.match(output.join("\n"), /Policy lumerin-guard: 0 mandatory, 9 advisory/);
    const report = JSON.parse(readFileSync(json, "utf8")) as {
      stack: string;
      violations: { level: string; message: string }[];
    };
    assert.equal(report.stack, "lmn");
    for (const v of report.violations) {
      assert.equal(v.level, "advisory");
      assert.match(
        v.message,
        /^allowed exception \((privilegedRoles|previewRoles|adopted, [a-zA-Z.]+)\)/,
        "only the configured exceptions",
      );
    }
  });

  it("fails (exit 1) when the live state has drifted into a bad pattern, naming each problem", async () => {
    const exported = exportOf(await committedPlan("lmn"));
    const key = exported.deployment.resources.find((r) => r.type === "aws:kms/key:Key");
    if (key) delete key.protect;
    const task = exported.deployment.resources.find((r) => r.urn.endsWith("::proxy-router-svc-task"));
    if (task) {
      const defs = JSON.parse(String(task.inputs.containerDefinitions)) as {
        environment: { name: string; value: string }[];
      }[];
      defs[0].environment.push({ name: "WALLET_PRIVATE_KEY", value: "0x" + "1f".repeat(32) });
      task.inputs.containerDefinitions = JSON.stringify(defs);
    }
    exported.deployment.resources.push({
      urn: "urn:pulumi:lmn::lumerin-infra::aws:iam/user:User::ci-bot",
      custom: true,
      type: "aws:iam/user:User",
      inputs: { name: "ci-bot" },
      outputs: {},
    });
    const file = path.join(dir, "drifted.json");
    writeFileSync(file, JSON.stringify(exported));
    assert.equal(await audit([file]), 1);
    const report = output.join("\n");
    assert.match(report, /\[mandatory\] stateful-resources-protected {2}platform-key/);
    assert.match(report, /\[mandatory\] no-secrets-in-plain-environment {2}proxy-router-svc-task/);
    assert.match(report, /WALLET_PRIVATE_KEY is named like a secret/);
    assert.match(report, /\[mandatory\] iam-no-users-or-access-keys {2}ci-bot/);
  });

  it("reads secrets from the export's ciphertext markers", () => {
    const { views } = viewsFromExport({
      version: 3,
      deployment: {
        resources: [
          {
            urn: "urn:pulumi:dev::lumerin-infra::aws:secretsmanager/secretVersion:SecretVersion::v",
            custom: true,
            type: "aws:secretsmanager/secretVersion:SecretVersion",
            inputs: { secretId: "arn:...", secretString: { [SIG_KEY]: SECRET_SIG, ciphertext: "AAAB" } },
          },
        ],
      },
    });
    assert.deepEqual([...(views[0].secretPaths ?? [])], ["secretString"]);
    assert.equal(views[0].props.secretString, "[secret]");
  });

  it("exits 2 on a file that is not a version-3 export, or without a file", async () => {
    const file = path.join(dir, "v2.json");
    writeFileSync(file, JSON.stringify({ version: 2, deployment: {} }));
    const errors: string[] = [];
    const savedError = console.error;
    console.error = (...args: unknown[]) => void errors.push(args.join(" "));
    try {
      assert.equal(await audit([file]), 2);
      assert.equal(await audit([]), 2);
    } finally {
      console.error = savedError;
    }
    assert.match(errors.join("\n"), /not a Pulumi stack export of deployment version 3/);
    assert.match(errors.join("\n"), /expected one stack export file/);
  });
});

/** A resource of the export by logical name; a failing assertion when absent. */
type Exported = ReturnType<typeof exportOf>;
type Resource = Exported["deployment"]["resources"][number];

function named(exported: Exported, name: string): Resource {
  const found = exported.deployment.resources.find((r) => r.urn.endsWith(`::${name}`));
  if (!found) throw new Error(`no resource ${name} in the export`);
  return found;
}

/** A JSON-or-object policy document input, parsed; `edit` changes it in place and it is stored back as given. */
function editDocument(r: Resource, key: string, edit: (statements: Record<string, unknown>[]) => void): void {
  const raw = r.inputs[key];
  const parsed = (typeof raw === "string" ? JSON.parse(raw) : structuredClone(raw)) as {
    Statement: Record<string, unknown>[];
  };
  edit(parsed.Statement);
  r.inputs[key] = typeof raw === "string" ? JSON.stringify(parsed) : parsed;
}

function editContainers(r: Resource, edit: (containers: Record<string, unknown>[]) => void): void {
  const containers = JSON.parse(String(r.inputs.containerDefinitions)) as Record<string, unknown>[];
  edit(containers);
  r.inputs.containerDefinitions = JSON.stringify(containers);
}

interface AreaCase {
  readonly area: string;
  readonly what: string;
  readonly rule: string;
  /** The resource the report names. */
  readonly resource: string;
  /** Puts the insecure pattern into the export. */
  readonly insecure: (e: Exported) => void;
  /** The same change made securely (or `undefined`: the committed state is the secure twin). */
  readonly secure?: (e: Exported) => void;
}

const LMN = "urn:pulumi:lmn::lumerin-infra";

const CASES: readonly AreaCase[] = [
  {
    area: "network exposure",
    what: "the operators' web API opened to 0.0.0.0/0",
    rule: "security-groups-not-open-to-the-world",
    resource: "proxy-router-svc-in-api-from-operators",
    insecure: (e) => void (named(e, "proxy-router-svc-in-api-from-operators").inputs.cidrIpv4 = "0.0.0.0/0"),
    secure: (e) => void (named(e, "proxy-router-svc-in-api-from-operators").inputs.cidrIpv4 = "10.0.0.0/8"),
  },
  {
    area: "network exposure",
    what: "a publicly accessible database",
    rule: "rds-not-publicly-accessible",
    resource: "futures-notifications-db",
    insecure: (e) => void (named(e, "futures-notifications-db").inputs.publiclyAccessible = true),
  },
  {
    area: "network exposure",
    what: "an ALB that keeps invalid header fields",
    rule: "alb-drops-invalid-headers",
    resource: "futures-notifications-alb",
    insecure: (e) => void (named(e, "futures-notifications-alb").inputs.dropInvalidHeaderFields = false),
  },
  {
    area: "network exposure",
    what: "a distribution without its web ACL",
    rule: "cloudfront-has-waf",
    resource: "futures-ui-distribution",
    insecure: (e) => void delete named(e, "futures-ui-distribution").inputs.webAclId,
  },
  {
    area: "resource policies",
    what: "the site bucket readable by any CloudFront distribution (the OAC's SourceArn dropped)",
    rule: "resource-policies-pin-the-caller",
    resource: "futures-ui-bucket-policy",
    insecure: (e) => editDocument(named(e, "futures-ui-bucket-policy"), "policy", (s) => void delete s[0].Condition),
  },
  {
    area: "resource policies",
    what: "a Lambda permission for any EventBridge rule of any account",
    rule: "resource-policies-pin-the-caller",
    resource: "futures-margin-call-schedule-invoke",
    insecure: (e) => {
      const p = named(e, "futures-margin-call-schedule-invoke");
      delete p.inputs.sourceArn;
      delete p.inputs.sourceAccount;
    },
    secure: (e) => void delete named(e, "futures-margin-call-schedule-invoke").inputs.sourceAccount,
  },
  {
    area: "least privilege",
    what: "a deploy role that may attach policies to roles",
    rule: "github-roles-no-iam-escalation",
    resource: "deploy-futures-policy",
    insecure: (e) =>
      editDocument(
        named(e, "deploy-futures-policy"),
        "policy",
        (s) =>
          void s.push({
            Sid: "AttachPolicies",
            Effect: "Allow",
            Action: ["iam:AttachRolePolicy"],
            Resource: ["arn:aws:iam::330280307271:role/market-maker-lmn-task"],
          }),
      ),
    secure: (e) =>
      editDocument(
        named(e, "deploy-futures-policy"),
        "policy",
        (s) =>
          void s.push({
            Sid: "ReadRole",
            Effect: "Allow",
            Action: ["iam:GetRole"],
            Resource: ["arn:aws:iam::330280307271:role/market-maker-lmn-task"],
          }),
      ),
  },
  {
    area: "least privilege",
    what: "a task that runs as its execution role",
    rule: "ecs-task-role-is-not-execution-role",
    resource: "futures-notifications-svc-task",
    insecure: (e) => {
      const task = named(e, "futures-notifications-svc-task");
      task.inputs.taskRoleArn = task.inputs.executionRoleArn;
    },
  },
  {
    area: "secret handling",
    what: "a database password in a plain String parameter",
    rule: "ssm-secrets-are-secure-strings",
    resource: "db-password",
    insecure: (e) =>
      void e.deployment.resources.push({
        urn: `${LMN}::aws:ssm/parameter:Parameter::db-password`,
        custom: true,
        type: "aws:ssm/parameter:Parameter",
        inputs: { name: "/notifications/lmn/db-password", type: "String", insecureValue: "hunter2" },
        outputs: {},
      }),
    secure: (e) =>
      void e.deployment.resources.push({
        urn: `${LMN}::aws:ssm/parameter:Parameter::db-password`,
        custom: true,
        type: "aws:ssm/parameter:Parameter",
        inputs: { name: "/notifications/lmn/db-host", type: "String", insecureValue: "db.internal" },
        outputs: {},
      }),
  },
  {
    area: "secret handling",
    what: "a private key on a container's command line",
    rule: "no-secrets-in-plain-environment",
    resource: "futures-notifications-svc-task",
    insecure: (e) =>
      editContainers(
        named(e, "futures-notifications-svc-task"),
        (c) => void (c[0].command = ["node", "bot.js", `--private-key=0x${"1f".repeat(32)}`]),
      ),
    secure: (e) =>
      editContainers(
        named(e, "futures-notifications-svc-task"),
        (c) => void (c[0].command = ["node", "bot.js", "--log-level=info"]),
      ),
  },
  {
    area: "secret handling",
    what: "a production secret on the AWS-managed key",
    rule: "secrets-use-customer-managed-keys",
    resource: "futures-notifications-secret",
    insecure: (e) => void delete named(e, "futures-notifications-secret").inputs.kmsKeyId,
  },
  {
    area: "encryption and logging",
    what: "the failure queue unencrypted",
    rule: "queues-and-topics-encrypted",
    resource: "futures-margin-call-failures",
    insecure: (e) => void (named(e, "futures-margin-call-failures").inputs.sqsManagedSseEnabled = false),
  },
  {
    area: "encryption and logging",
    what: "the platform key no longer rotating",
    rule: "kms-keys-rotate",
    resource: "platform-key",
    insecure: (e) => void (named(e, "platform-key").inputs.enableKeyRotation = false),
  },
  {
    area: "encryption and logging",
    what: "ECS Exec sessions unlogged",
    rule: "ecs-exec-sessions-encrypted-and-logged",
    resource: "futures-cluster-cluster",
    insecure: (e) => void delete named(e, "futures-cluster-cluster").inputs.configuration,
  },
  {
    area: "encryption and logging",
    what: "a container without a log configuration",
    rule: "containers-have-log-configuration",
    resource: "proxy-router-svc-task",
    insecure: (e) => editContainers(named(e, "proxy-router-svc-task"), (c) => void delete c[0].logConfiguration),
  },
  {
    area: "encryption and logging",
    what: "the database's engine log not exported",
    rule: "rds-exports-logs",
    resource: "futures-notifications-db",
    insecure: (e) => void (named(e, "futures-notifications-db").inputs.enabledCloudwatchLogsExports = ["upgrade"]),
  },
  {
    area: "encryption and logging",
    what: "rds.force_ssl dropped from the parameter group",
    rule: "rds-requires-tls",
    resource: "futures-notifications-db",
    insecure: (e) => {
      const group = named(e, "futures-notifications-db-parameters");
      group.inputs.parameters = (group.inputs.parameters as { name: string }[]).filter(
        (p) => p.name !== "rds.force_ssl",
      );
    },
  },
  {
    area: "encryption and logging",
    what: "the canary bucket's TLS-only deny removed",
    rule: "buckets-require-tls",
    resource: "monitoring-futures-ui-canary-bucket",
    insecure: (e) =>
      editDocument(
        named(e, "monitoring-futures-ui-canary-bucket-policy"),
        "policy",
        (s) =>
          void s.splice(0, 1, {
            Sid: "Nothing",
            Effect: "Deny",
            Principal: "*",
            Action: ["s3:DeleteBucket"],
            Resource: ["arn:aws:s3:::futures-synthetics-330280307271-lmn"],
          }),
      ),
  },
  {
    area: "encryption and logging",
    what: "a custom origin over plain HTTP",
    rule: "cloudfront-origins-https",
    resource: "futures-ui-distribution",
    insecure: (e) => {
      const d = named(e, "futures-ui-distribution");
      (d.inputs.origins as Record<string, unknown>[]).push({
        originId: "api",
        domainName: "api.lumerin.io",
        customOriginConfig: {
          httpPort: 80,
          httpsPort: 443,
          originProtocolPolicy: "http-only",
          originSslProtocols: ["TLSv1.2"],
        },
      });
    },
    secure: (e) => {
      const d = named(e, "futures-ui-distribution");
      (d.inputs.origins as Record<string, unknown>[]).push({
        originId: "api",
        domainName: "api.lumerin.io",
        customOriginConfig: {
          httpPort: 80,
          httpsPort: 443,
          originProtocolPolicy: "https-only",
          originSslProtocols: ["TLSv1.2"],
        },
      });
    },
  },
  {
    area: "data safety",
    what: "the production database single-AZ",
    rule: "rds-hardened",
    resource: "futures-notifications-db",
    insecure: (e) => void (named(e, "futures-notifications-db").inputs.multiAz = false),
  },
  {
    area: "data safety",
    what: "a production secret deleted after 3 days",
    rule: "secrets-have-recovery-window",
    resource: "proxy-router-secret",
    insecure: (e) => void (named(e, "proxy-router-secret").inputs.recoveryWindowInDays = 3),
    secure: (e) => void (named(e, "proxy-router-secret").inputs.recoveryWindowInDays = 7),
  },
  {
    area: "data safety",
    what: "the stratum NLB without deletion protection",
    rule: "load-balancers-deletion-protected",
    resource: "proxy-router-nlb",
    insecure: (e) => void (named(e, "proxy-router-nlb").inputs.enableDeletionProtection = false),
  },
];

describe("npm run audit: each area's insecure pattern fails, naming the resource; its secure twin passes", () => {
  let dir: string;
  let output: string[];
  let saved: typeof console.log;
  let base: string;
  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "audit-areas-"));
    base = JSON.stringify(exportOf(await committedPlan("lmn")));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  beforeEach(() => {
    output = [];
    saved = console.log;
    console.log = (...args: unknown[]) => void output.push(args.join(" "));
  });
  afterEach(() => {
    console.log = saved;
  });

  const run = async (edit: ((e: Exported) => void) | undefined, file: string) => {
    const exported = JSON.parse(base) as Exported;
    edit?.(exported);
    writeFileSync(path.join(dir, file), JSON.stringify(exported));
    output = [];
    return audit([path.join(dir, file)]);
  };

  it("covers every area of the pack", () => {
    assert.deepEqual(
      [...new Set(CASES.map((c) => c.area))],
      [
        "network exposure",
        "resource policies",
        "least privilege",
        "secret handling",
        "encryption and logging",
        "data safety",
      ],
    );
  });

  for (const [i, c] of CASES.entries()) {
    it(`${c.area}: ${c.what} → ${c.rule} on ${c.resource}; the secure twin passes`, async () => {
      assert.equal(await run(c.insecure, `insecure-${i}.json`), 1, output.join("\n"));
      const report = output.join("\n");
      assert.match(report, new RegExp(`\\[mandatory\\] ${c.rule} {2}${c.resource}\\n`), report);
      assert.equal(await run(c.secure, `secure-${i}.json`), 0, output.join("\n"));
      assert.match(output.join("\n"), /Policy lumerin-guard: 0 mandatory/);
    });
  }

  it("takes per-rule options from --policy-config, and refuses an unknown key or option (exit 2, naming it)", async () => {
    const file = path.join(dir, "lmn.json");
    writeFileSync(file, base);
    const strict = path.join(dir, "strict.json");
    writeFileSync(strict, JSON.stringify({ "rds-hardened": { productionMinimumBackupRetentionDays: 35 } }));
    assert.equal(await audit([file, "--policy-config", strict]), 1);
    assert.match(
      output.join("\n"),
      /\[mandatory\] rds-hardened {2}futures-notifications-db\n\s+backups kept 30 days \(< 35\)/,
    );
    const errors: string[] = [];
    const savedError = console.error;
    console.error = (...args: unknown[]) => void errors.push(args.join(" "));
    try {
      for (const [content, message] of [
        [{ "rds-hardend": {} }, /policy config rds-hardend: neither a shared key/],
        [
          { "rds-hardened": { backupDays: 30 } },
          /policy config rds-hardened\.backupDays: rds-hardened has no option backupDays/,
        ],
        [{ productionStacks: "lmn" }, /policy config productionStacks: expected an array/],
      ] as const) {
        const bad = path.join(dir, "bad.json");
        writeFileSync(bad, JSON.stringify(content));
        assert.equal(await audit([file, "--policy-config", bad]), 2);
        assert.match(errors.join("\n"), message);
      }
    } finally {
      console.error = savedError;
    }
  });
});
