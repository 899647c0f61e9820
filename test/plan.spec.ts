import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { capture, Plan } from "../tools/harness";
import { REPO_ROOT, planFiles } from "../tools/plan-stack";
import { renderMarkdown } from "../tools/render";
import { startFakeGitHub, releasesOf } from "./support/fake-github";
import { committedPlan, planWith, registeredInLastRun } from "./support/plan";

const run = promisify(execFile);
const STACKS = ["dev", "stg", "lmn"] as const;

/** Runs the plan CLI as a newcomer would, returning exit code and output. */
async function planCli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      [require.resolve("ts-node/dist/bin"), "--transpile-only", "tools/plan.ts", ...args],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, GITHUB_TOKEN: "" },
      },
    );
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe("the offline plan", () => {
  for (const stack of STACKS) {
    it(`${stack}: plans both services with every child under a component`, async () => {
      const plan = await committedPlan(stack);
      assert.equal(plan.stack, stack);
      for (const name of ["proxy-router-svc-service", "proxy-validator-svc-service"]) {
        assert.ok(plan.resources.some((r) => r.type === "aws:ecs/service:Service" && r.name === name));
      }
      const stackUrn = `urn:pulumi:${stack}::lumerin-infra::pulumi:pulumi:Stack::lumerin-infra-${stack}`;
      // Explicit providers (us-east-1, another account's zone) are the only top-level custom resources.
      const loose = plan.resources.filter(
        (r) => r.custom && r.parent === stackUrn && !r.type.startsWith("pulumi:providers:"),
      );
      assert.deepEqual(
        loose.map((r) => r.name),
        [],
        "custom resources belong to a component",
      );
    });
  }

  it("captures exactly what the engine registers: every resource, plus the stack itself", async () => {
    const plan = await planWith("dev");
    assert.equal(registeredInLastRun().length, plan.resources.length + 1);
  });

  it("writes URNs in the engine's form (the whole component type chain), so plans line up with stack exports", async () => {
    const plan = await committedPlan("dev");
    const service = plan.resources.find((r) => r.name === "proxy-router-svc-service");
    assert.equal(
      service?.urn,
      "urn:pulumi:dev::lumerin-infra::lumerin:proxy:ProxyRouter$lumerin:proxy:ProxyService$lumerin:ecs:ContainerService$aws:ecs/service:Service::proxy-router-svc-service",
    );
    assert.equal(
      service?.parent,
      "urn:pulumi:dev::lumerin-infra::lumerin:proxy:ProxyRouter$lumerin:proxy:ProxyService$lumerin:ecs:ContainerService::proxy-router-svc",
    );
  });

  it("keeps the logical names of stateful resources: renaming one would replace a key or a secret", async () => {
    // Changing this list means a resource would be deleted and recreated. Add an alias instead.
    const expected = [
      "urn:pulumi:lmn::lumerin-infra::lumerin:futures:Futures$lumerin:futures:FuturesUi$aws:s3/bucket:Bucket::futures-ui-bucket",
      "urn:pulumi:lmn::lumerin-infra::lumerin:futures:Futures$lumerin:futures:MarginCall$aws:secretsmanager/secret:Secret::futures-margin-call-secret",
      "urn:pulumi:lmn::lumerin-infra::lumerin:futures:Futures$lumerin:futures:MarketMaker$aws:secretsmanager/secret:Secret::futures-market-maker-secret",
      "urn:pulumi:lmn::lumerin-infra::lumerin:futures:Futures$lumerin:futures:Notifications$aws:rds/instance:Instance::futures-notifications-db",
      "urn:pulumi:lmn::lumerin-infra::lumerin:futures:Futures$lumerin:futures:Notifications$aws:secretsmanager/secret:Secret::futures-notifications-secret",
      "urn:pulumi:lmn::lumerin-infra::lumerin:kms:PlatformKey$aws:kms/key:Key::platform-key",
      "urn:pulumi:lmn::lumerin-infra::lumerin:monitoring:Monitoring$lumerin:monitoring:UiCanary$aws:s3/bucket:Bucket::monitoring-futures-ui-canary-bucket",
      "urn:pulumi:lmn::lumerin-infra::lumerin:proxy:ProxyRouter$lumerin:proxy:ProxyService$aws:secretsmanager/secret:Secret::proxy-router-secret",
      "urn:pulumi:lmn::lumerin-infra::lumerin:proxy:ProxyRouter$lumerin:proxy:ProxyService$aws:secretsmanager/secret:Secret::proxy-validator-secret",
    ];
    const plan = await committedPlan("lmn");
    const stateful = plan.resources
      .filter((r) => r.options.protect)
      .map((r) => r.urn)
      .sort();
    assert.deepEqual(stateful, expected);
  });

  it("is deterministic: the same stack plans to the same JSON twice", async () => {
    const again = await planWith("stg");
    assert.equal(JSON.stringify(again), JSON.stringify(await committedPlan("stg")));
  });

  it("has the documented JSON shape", async () => {
    const plan: Plan = await committedPlan("dev");
    assert.deepEqual(Object.keys(plan), [
      "stack",
      "project",
      "resources",
      "outputs",
      "invokes",
      "violations",
      "blockers",
    ]);
    const r = plan.resources.find((x) => x.name === "proxy-router-svc-service");
    assert.deepEqual(Object.keys(r ?? {}), [
      "urn",
      "type",
      "name",
      "id",
      "parent",
      "custom",
      "inputs",
      "outputs",
      "secretInputs",
      "options",
    ]);
    assert.deepEqual(Object.keys(r?.options ?? {}), [
      "protect",
      "ignoreChanges",
      "retainOnDelete",
      "deleteBeforeReplace",
      "dependsOn",
      "aliases",
    ]);
    assert.ok(plan.violations.length > 0, "dev carries advisory findings");
    for (const v of plan.violations) assert.deepEqual(Object.keys(v), ["policy", "level", "urn", "message"]);
    assert.deepEqual(
      plan.violations.filter((v) => v.level === "mandatory"),
      [],
    );
  });

  it("records explicit dependencies by URN", async () => {
    const plan = await committedPlan("dev");
    const component = plan.resources.find((r) => r.name === "proxy-router-svc");
    assert.deepEqual(component?.options.dependsOn, [
      plan.resources.find((r) => r.name === "proxy-router-listener")?.urn,
    ]);
  });

  it("masks secret inputs and lists their paths", async () => {
    const plan = await planWith("dev", {
      overrides: {
        "lumerin-infra:proxyRouterWalletPrivateKey": "0x" + "ab".repeat(32),
        "lumerin-infra:proxyRouterEthNodeAddress": "https://arb-sepolia.example/v2/key",
        "lumerin-infra:proxyRouterFuturesSubgraphUrl": "https://gateway.thegraph.com/api/k/subgraphs/id/x",
        // The router's value comes from Pulumi here, so it is not declared out of band.
        "lumerin-infra:outOfBandSecrets": JSON.stringify({
          proxyValidator: "pending",
          marketMaker: "pending",
          notifications: "pending",
          marginCall: "pending",
        }),
      },
      extraSecretKeys: [
        "lumerin-infra:proxyRouterWalletPrivateKey",
        "lumerin-infra:proxyRouterEthNodeAddress",
        "lumerin-infra:proxyRouterFuturesSubgraphUrl",
      ],
    });
    const version = plan.resources.find((r) => r.type === "aws:secretsmanager/secretVersion:SecretVersion");
    assert.deepEqual(version?.secretInputs, ["secretString"]);
    assert.equal(version?.inputs.secretString, "[secret]");
    assert.equal(JSON.stringify(plan).includes("ab".repeat(32)), false, "the value appears nowhere in the plan");
  });

  it("renders a pull-request summary with images and protected resources", async () => {
    const md = renderMarkdown(await committedPlan("lmn"));
    assert.match(md, /### Offline plan: `lumerin-infra\/lmn`/);
    assert.match(
      md,
      /\| proxyRouter \| `ghcr\.io\/lumerin-protocol\/proxy-router:unresolved-auto` \| auto: UNRESOLVED offline/,
    );
    assert.match(md, /\| `aws:kms\/key:Key` platform-key \| yes \|/);
  });

  it("runs index.ts itself, the CLI's entry, under the same mocks (GITHUB_API_URL honoured)", async () => {
    const github = await startFakeGitHub({
      repos: {
        "lumerin-protocol/proxy-router": { releases: releasesOf(["proxy-router-v3.4.5-stg"]) },
        "lumerin-protocol/futures-marketplace": {
          releases: releasesOf(["market-maker-v1.3.0-stg", "notifications-v2.0.0-stg"]),
        },
      },
    });
    const saved = process.env.GITHUB_API_URL;
    process.env.GITHUB_API_URL = github.baseUrl;
    try {
      const files = planFiles("stg");
      const plan = await capture({
        ...files,
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        program: () => require("../index") as Promise<Record<string, unknown>>,
      });
      assert.equal((plan.outputs.proxyValidator as { imageTag: string }).imageTag, "proxy-router-v3.4.5-stg");
      assert.deepEqual(github.requests.map((r) => r.path).sort(), [
        "/repos/Lumerin-protocol/futures-marketplace/releases",
        "/repos/Lumerin-protocol/proxy-router/releases",
      ]);
    } finally {
      if (saved === undefined) delete process.env.GITHUB_API_URL;
      else process.env.GITHUB_API_URL = saved;
      await github.close();
    }
  });

  describe("CLI", function () {
    this.timeout(60_000);
    let dir: string;
    before(() => {
      dir = mkdtempSync(path.join(tmpdir(), "plan-cli-"));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it("plans dev, prints the tree and writes JSON and Markdown", async () => {
      const json = path.join(dir, "dev.json");
      const md = path.join(dir, "dev.md");
      const result = await planCli("--stack", "dev", "--json", json, "--markdown", md);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /Plan of lumerin-infra\/dev \(Pulumi\.dev\.yaml\): \d+ resources/);
      assert.match(
        result.stdout,
        /aws:ecs\/service:Service proxy-validator-svc-service {2}\(svc-proxy-validator-dev-use1\)/,
      );
      const written = JSON.parse(readFileSync(json, "utf8")) as Plan;
      assert.equal(written.stack, "dev");
      assert.match(readFileSync(md, "utf8"), /Offline plan/);
    });

    it("exits 2 on bad config, naming every bad key, without a stack trace", async () => {
      const file = path.join(dir, "bad.yaml");
      const good = readFileSync(path.join(REPO_ROOT, "Pulumi.dev.yaml"), "utf8");
      writeFileSync(
        file,
        good.replace("cpu: 256", "cpu: 300").replace("lumerin-infra:cluster:", "lumerin-infra:clustr:"),
      );
      const result = await planCli("--stack", "dev", "--config-file", file);
      assert.equal(result.code, 2);
      assert.match(result.stderr, /lumerin-infra:proxyRouter\.router\.cpu: expected one of 256, 512, 1024/);
      assert.match(result.stderr, /lumerin-infra:clustr: unknown key \(did you mean "cluster"\?\)/);
      assert.doesNotMatch(result.stderr, /\n\s+at /, "no stack trace");
    });

    it("exits 2 with a usage line when --stack is missing or the stack file does not exist", async () => {
      const missing = await planCli();
      assert.equal(missing.code, 2);
      assert.match(missing.stderr, /--stack is required/);
      const unknown = await planCli("--stack", "qa");
      assert.equal(unknown.code, 2);
      assert.match(unknown.stderr, /Pulumi\.qa\.yaml/);
    });
  });
});
