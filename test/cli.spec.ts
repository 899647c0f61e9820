import { strict as assert } from "node:assert";
import { parseCli } from "../tools/cli";

const USAGE = "usage: tool --stack <s> --base <b> [--json <file>]";
const OPTIONS = {
  stack: { type: "string" },
  base: { type: "string" },
  json: { type: "string" },
  help: { type: "boolean", default: false },
} as const;

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, print: { out: (t: string) => void out.push(t), err: (t: string) => void err.push(t) } };
}

describe("the command lines' shared flag handling (tools/cli.ts)", () => {
  it("gives the typed values when every required flag is there", () => {
    const { print, err } = capture();
    const parsed = parseCli(["--stack", "dev", "--base", "HEAD~1"], OPTIONS, USAGE, ["stack", "base"], print);
    assert.equal(parsed.exit, undefined);
    if (parsed.exit === undefined)
      assert.deepEqual([parsed.values.stack, parsed.values.base, parsed.values.json], ["dev", "HEAD~1", undefined]);
    assert.deepEqual(err, []);
  });

  it("names every missing or empty required flag, with the usage, exit 2", () => {
    const { print, err } = capture();
    assert.equal(parseCli(["--stack", ""], OPTIONS, USAGE, ["stack", "base"], print).exit, 2);
    assert.deepEqual(err, [`--stack and --base are required\n${USAGE}`]);
  });

  it("refuses an unknown flag and a positional argument, with the usage, exit 2", () => {
    for (const argv of [["--stak", "dev"], ["dev"]]) {
      const { print, err } = capture();
      assert.equal(parseCli(argv, OPTIONS, USAGE, ["stack"], print).exit, 2, argv.join(" "));
      assert.ok(err[0].endsWith(`\n${USAGE}`) && err[0].length > USAGE.length + 1, err[0]);
    }
  });

  it("--help prints the usage and stops with exit 0, before the required flags are checked", () => {
    const { print, out, err } = capture();
    assert.equal(parseCli(["--help"], OPTIONS, USAGE, ["stack", "base"], print).exit, 0);
    assert.deepEqual([out, err], [[USAGE], []]);
  });
});
