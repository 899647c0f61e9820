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
  const cipher = (value: unknown) => (value === "[secret]" ? { [SIG_KEY]: SECRET_SIG, ciphertext: "AAABAKc0...==" } : value);
  const resources: ExportResource[] = [
    { urn: `urn:pulumi:${plan.stack}::${plan.project}::pulumi:pulumi:Stack::${plan.project}-${plan.stack}`, custom: false, type: "pulumi:pulumi:Stack", inputs: {}, outputs: plan.outputs },
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
    // The configured exceptions, and the three the stack file's adoption switches chose (both NLBs, the database's key).
    assert.match(output.join("\n"), /Policy lumerin-guard: 0 mandatory, 6 advisory/);
    const report = JSON.parse(readFileSync(json, "utf8")) as { stack: string; violations: { level: string; message: string }[] };
    assert.equal(report.stack, "lmn");
    for (const v of report.violations) {
      assert.equal(v.level, "advisory");
      assert.match(v.message, /^allowed exception \((privilegedRoles|previewRoles|adopted, [a-zA-Z.]+)\)/, "only the configured exceptions");
    }
  });

  it("fails (exit 1) when the live state has drifted into a bad pattern, naming each problem", async () => {
    const exported = exportOf(await committedPlan("lmn"));
    const key = exported.deployment.resources.find((r) => r.type === "aws:kms/key:Key");
    if (key) delete key.protect;
    const task = exported.deployment.resources.find((r) => r.urn.endsWith("::proxy-router-svc-task"));
    if (task) {
      const defs = JSON.parse(String(task.inputs.containerDefinitions)) as { environment: { name: string; value: string }[] }[];
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
