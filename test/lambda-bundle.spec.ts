/**
 * The Lambda bundler: deterministic output with no absolute path in it, the
 * archive Pulumi uploads, and a bundle that runs: the invoker's bundle is
 * loaded by a separate Node process from a temporary directory (no
 * node_modules beside it) and answers a request.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { INVOKER_VARIABLES } from "../lambdas/deploy-invoker/config";
import { buildLambdaCode, bundleLambda, bundleLambdaCode, LAMBDA_NODE_RUNTIME } from "../lib/lambda-bundle";
import { environmentOf, REQUEST_ID } from "./support/deploy-invoker";

const ENTRY = "lambdas/deploy-invoker/index.ts";
const ROOT = path.resolve(__dirname, "..");

let dir: string;
let code: string;

before(() => {
  code = bundleLambdaCode(ENTRY);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "lambda-bundle-"));
  fs.writeFileSync(path.join(dir, "index.js"), code);
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Loads the bundle in a fresh Node with `env` only, runs `script` (with `handler` bound), prints its JSON. */
function runBundle(env: Record<string, string | undefined>, script: string): { status: number | null; out: string } {
  const program = `
    let handler;
    try { ({ handler } = require(${JSON.stringify(path.join(dir, "index.js"))})); }
    catch (e) { console.log(JSON.stringify({ coldStart: e.message })); process.exit(0); }
    (async () => { ${script} })().catch((e) => { console.log(JSON.stringify({ error: e.message })); });
  `;
  const cleanEnv = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
  const result = spawnSync(process.execPath, ["-e", program], {
    cwd: dir,
    env: { ...cleanEnv, AWS_REGION: "us-east-1", PATH: process.env.PATH ?? "" },
    encoding: "utf8",
    timeout: 20_000,
  });
  return { status: result.status, out: result.stdout.trim().split("\n").pop() ?? "" };
}

describe("lambda bundle", () => {
  it("builds the same bytes twice from the same sources", () => {
    const again = buildLambdaCode(ENTRY);
    assert.ok(code.length > 10_000, "a bundle, with its dependencies");
    assert.equal(Buffer.compare(Buffer.from(again), Buffer.from(code)), 0);
  });

  it("has no absolute path of the build machine in it", () => {
    assert.ok(!code.includes(ROOT), `the bundle names ${ROOT}`);
    assert.ok(!code.includes(os.homedir() + "/"), "the bundle names the home directory");
    assert.ok(!code.includes(os.tmpdir() + "/"), "the bundle names the temporary directory");
    assert.match(code, /\/\/ lambdas\/deploy-invoker\/handler\.ts\n/, "module paths are relative to the repository");
  });

  it("is the archive Pulumi uploads: index.js only, the bundle's text", async () => {
    const archive = bundleLambda(ENTRY);
    assert.ok(archive instanceof pulumi.asset.AssetArchive);
    const assets = await archive.assets;
    assert.deepEqual(Object.keys(assets), ["index.js"]);
    const asset = assets["index.js"];
    assert.ok(asset instanceof pulumi.asset.StringAsset);
    assert.equal(await asset.text, code);
  });

  it("targets a runtime the AWS provider knows (Node 24)", () => {
    assert.equal(LAMBDA_NODE_RUNTIME, "nodejs24.x");
    assert.ok((Object.values(aws.lambda.Runtime) as string[]).includes(LAMBDA_NODE_RUNTIME));
  });

  it("refuses an entry that does not exist, naming it", () => {
    assert.throws(
      () => buildLambdaCode("lambdas/nothing/index.ts"),
      /bundleLambda: entry lambdas\/nothing\/index\.ts does not exist/,
    );
  });

  it("runs: the bundled invoker starts from its environment alone and answers a request", () => {
    const run = runBundle(
      environmentOf(),
      `const r = await handler({ requestId: ${JSON.stringify(REQUEST_ID)}, app: "proxy-router" });
       console.log(JSON.stringify({ type: typeof handler, response: r }));`,
    );
    assert.equal(run.status, 0);
    const { type, response } = JSON.parse(run.out) as { type: string; response: { decision: string; reason: string } };
    assert.equal(type, "function");
    assert.equal(response.decision, "denied");
    assert.match(response.reason, /^request\.environment: /);
  });

  it("runs: the bundled invoker does not start with a variable missing, naming it", () => {
    const run = runBundle(environmentOf({ [INVOKER_VARIABLES.stateMachineArn]: undefined }), "");
    assert.deepEqual(JSON.parse(run.out), {
      coldStart: "deploy invoker configuration: STATE_MACHINE_ARN is not set",
    });
  });
});
