/**
 * tools/stack-files.ts reads Pulumi.yaml and a stack file the way the Pulumi CLI
 * hands configuration to a program: project defaults, required declarations,
 * values as strings (objects as JSON), and secrecy per top-level key.
 */
import { strict as assert } from "node:assert";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { ConfigError } from "../config/load";
import { readStackConfig } from "../tools/stack-files";

const PROJECT = `name: demo
runtime: nodejs
config:
  aws:region: eu-central-1
  greeting:
    type: string
    default: hello
  demo:retries:
    type: integer
    default: 3
  verbose:
    type: boolean
    default: false
  color: blue
  environment:
    type: string
`;

describe("stack files (readStackConfig)", () => {
  let root: string;

  /** Writes `files` (name → content) into a fresh project directory. */
  function project(files: Record<string, string>): string {
    const dir = mkdtempSync(path.join(root, "project-"));
    for (const [name, content] of Object.entries(files)) writeFileSync(path.join(dir, name), content);
    return dir;
  }

  function configErrorOf(fn: () => unknown): ConfigError {
    try {
      fn();
    } catch (err) {
      assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
      return err;
    }
    return assert.fail("expected a ConfigError");
  }

  before(() => {
    root = mkdtempSync(path.join(tmpdir(), "stack-files-spec-"));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it("applies Pulumi.yaml defaults (declared with or without the namespace, long or short form) and other namespaces' values", () => {
    const dir = project({ "Pulumi.yaml": PROJECT, "Pulumi.dev.yaml": "config:\n  demo:environment: dev\n" });
    const files = readStackConfig(dir, "dev");
    assert.equal(files.project, "demo");
    assert.equal(files.stack, "dev");
    assert.deepEqual(files.config, {
      "aws:region": "eu-central-1",
      "demo:greeting": "hello",
      "demo:retries": "3",
      "demo:verbose": "false",
      "demo:color": "blue",
      "demo:environment": "dev",
    });
    assert.deepEqual(files.secretKeys, []);
  });

  it("lets the stack file override defaults, and namespaces bare keys with the project name", () => {
    const dir = project({
      "Pulumi.yaml": PROJECT,
      "Pulumi.dev.yaml": "config:\n  environment: dev\n  demo:greeting: hi\n  retries: 5\n  aws:region: us-east-1\n",
    });
    const { config } = readStackConfig(dir, "dev");
    assert.equal(config["demo:environment"], "dev");
    assert.equal(config["demo:greeting"], "hi");
    assert.equal(config["demo:retries"], "5");
    assert.equal(config["aws:region"], "us-east-1");
  });

  it("refuses a declared key without a default that the stack does not set, naming it and the stack file", () => {
    const dir = project({ "Pulumi.yaml": PROJECT, "Pulumi.dev.yaml": "config:\n  demo:greeting: hi\n" });
    const error = configErrorOf(() => readStackConfig(dir, "dev"));
    assert.equal(error.issues.length, 1);
    assert.equal(error.issues[0].key, "demo:environment");
    assert.match(
      error.issues[0].message,
      /^required: Pulumi\.yaml declares it without a default \(set it in Pulumi\.dev\.yaml\)$/,
    );
  });

  it("checks declared integer and boolean types, reporting every bad key at once", () => {
    const dir = project({
      "Pulumi.yaml": PROJECT,
      "Pulumi.dev.yaml": "config:\n  environment: dev\n  retries: many\n  verbose: maybe\n",
    });
    const error = configErrorOf(() => readStackConfig(dir, "dev"));
    assert.deepEqual(
      error.issues.map((i) => i.key),
      ["demo:retries", "demo:verbose"],
    );
    assert.match(error.issues[0].message, /expected an integer \(Pulumi\.yaml\), got many/);
    assert.match(error.issues[1].message, /expected a boolean \(Pulumi\.yaml\), got maybe/);
  });

  it("turns a top-level `secure:` value into a placeholder and marks the key secret", () => {
    const dir = project({
      "Pulumi.yaml": PROJECT,
      "Pulumi.dev.yaml":
        "config:\n  environment: dev\n  demo:apiKey:\n    secure: v1:c2FsdA==:Y2lwaGVydGV4dA==\n  aws:secretKey:\n    secure: v1:abc\n",
    });
    const files = readStackConfig(dir, "dev");
    assert.equal(files.config["demo:apiKey"], "offline-placeholder-for-apiKey");
    assert.equal(files.config["aws:secretKey"], "offline-placeholder-for-secretKey");
    assert.deepEqual(files.secretKeys, ["aws:secretKey", "demo:apiKey"]);
    assert.equal(JSON.stringify(files).includes("Y2lwaGVydGV4dA"), false, "the ciphertext is not passed on");
  });

  it("marks the whole top-level key secret when a `secure:` value is nested in an object or a list (as the CLI does)", () => {
    const dir = project({
      "Pulumi.yaml": PROJECT,
      "Pulumi.dev.yaml": [
        "config:",
        "  environment: dev",
        "  demo:db:",
        "    host: db.internal",
        "    port: 5432",
        "    password:",
        "      secure: v1:xyz",
        "  demo:tokens:",
        "    - plain",
        "    - secure: v1:abc",
        "",
      ].join("\n"),
    });
    const files = readStackConfig(dir, "dev");
    assert.deepEqual(JSON.parse(files.config["demo:db"]), {
      host: "db.internal",
      port: 5432,
      password: "offline-placeholder-for-db",
    });
    assert.deepEqual(JSON.parse(files.config["demo:tokens"]), ["plain", "offline-placeholder-for-tokens"]);
    assert.deepEqual(files.secretKeys, ["demo:db", "demo:tokens"]);
  });

  it("passes objects and lists as JSON, booleans and numbers as their text, strings unchanged", () => {
    const dir = project({
      "Pulumi.yaml": PROJECT,
      "Pulumi.dev.yaml": [
        "config:",
        "  environment: dev",
        "  demo:network:",
        "    mode: existing",
        "    subnets: [a, b]",
        "    nat: false",
        "  demo:enabled: true",
        "  demo:count: 7",
        "  demo:ratio: 0.5",
        '  demo:quoted: "0012"',
        "  demo:list: [1, two]",
        "",
      ].join("\n"),
    });
    const { config } = readStackConfig(dir, "dev");
    assert.equal(config["demo:network"], '{"mode":"existing","subnets":["a","b"],"nat":false}');
    assert.equal(config["demo:enabled"], "true");
    assert.equal(config["demo:count"], "7");
    assert.equal(config["demo:ratio"], "0.5");
    assert.equal(config["demo:quoted"], "0012");
    assert.equal(config["demo:list"], '[1,"two"]');
  });

  it("reads the --config-file path instead of Pulumi.<stack>.yaml", () => {
    const dir = project({
      "Pulumi.yaml": PROJECT,
      "Pulumi.dev.yaml": "config:\n  environment: dev\n  greeting: from-stack-file\n",
    });
    const other = path.join(root, "elsewhere");
    mkdirSync(other, { recursive: true });
    const file = path.join(other, "custom.yaml");
    writeFileSync(file, "config:\n  environment: stg\n  greeting: from-config-file\n");
    const files = readStackConfig(dir, "dev", file);
    assert.equal(files.configFile, file);
    assert.equal(files.config["demo:greeting"], "from-config-file");
    assert.equal(files.config["demo:environment"], "stg");
    assert.equal(
      readStackConfig(dir, "dev").configFile,
      path.join(dir, "Pulumi.dev.yaml"),
      "without it: the stack's own file",
    );

    // A relative --config-file is taken from the working directory, as the CLI does.
    const relative = path.relative(process.cwd(), file);
    assert.equal(readStackConfig(dir, "dev", relative).configFile, file);

    // Errors name the file that was read.
    writeFileSync(file, "config:\n  greeting: x\n");
    assert.match(configErrorOf(() => readStackConfig(dir, "dev", file)).issues[0].message, /set it in custom\.yaml/);
  });

  it("accepts an empty stack file (defaults only)", () => {
    const dir = project({ "Pulumi.yaml": "name: demo\nconfig:\n  greeting: hello\n", "Pulumi.dev.yaml": "" });
    assert.deepEqual(readStackConfig(dir, "dev").config, { "demo:greeting": "hello" });
  });

  it("names the file and the stack when the stack file is missing, a directory, or not YAML", () => {
    const dir = project({ "Pulumi.yaml": PROJECT, "Pulumi.broken.yaml": "config:\n  environment: [dev\n" });
    mkdirSync(path.join(dir, "Pulumi.folder.yaml"));
    const missing = path.join(dir, "Pulumi.qa.yaml");
    assert.throws(
      () => readStackConfig(dir, "qa"),
      (err: Error) => {
        assert.ok(err.message.startsWith(`cannot read the config of stack "qa" from ${missing}: `), err.message);
        assert.match(err.message, /ENOENT/);
        return true;
      },
    );
    assert.throws(
      () => readStackConfig(dir, "folder"),
      (err: Error) => err.message.includes(path.join(dir, "Pulumi.folder.yaml")) && /EISDIR/.test(err.message),
    );
    assert.throws(
      () => readStackConfig(dir, "broken"),
      (err: Error) => err.message.includes(`stack "broken" from ${path.join(dir, "Pulumi.broken.yaml")}`),
    );
    const nowhere = path.join(root, "no-such-dir", "x.yaml");
    assert.throws(
      () => readStackConfig(dir, "dev", nowhere),
      (err: Error) => err.message.includes(nowhere),
    );
  });

  it("refuses a Pulumi.yaml without a project name", () => {
    const dir = project({ "Pulumi.yaml": "runtime: nodejs\n", "Pulumi.dev.yaml": "config: {}\n" });
    assert.throws(
      () => readStackConfig(dir, "dev"),
      (err: Error) => err.message === `${path.join(dir, "Pulumi.yaml")} has no project name`,
    );
  });
});
