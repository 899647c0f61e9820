import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  compareVersions,
  describePattern,
  highestRelease,
  parsePinnedTag,
  parseReleaseTag,
  pinnedTagPattern,
  type ReleaseVersion,
  type TagPattern,
} from "../lib/image-tags";

const DEV: TagPattern = { prefix: "", suffix: "-dev" };
const STG: TagPattern = { prefix: "", suffix: "-stg" };
const LMN: TagPattern = { prefix: "", suffix: "" };
const ROUTER_DEV: TagPattern = { prefix: "proxy-router-", suffix: "-dev" };
const ROUTER_LMN: TagPattern = { prefix: "proxy-router-", suffix: "" };
const MM_LMN: TagPattern = { prefix: "market-maker-", suffix: "" };

function v(tag: string, major: number, minor: number, patch: number): ReleaseVersion {
  return { tag, major, minor, patch };
}

describe("image-tags", () => {
  describe("describePattern", () => {
    const cases: ReadonlyArray<readonly [TagPattern, string]> = [
      [ROUTER_DEV, "proxy-router-vX.Y.Z-dev"],
      [STG, "vX.Y.Z-stg"],
      [LMN, "vX.Y.Z"],
      [MM_LMN, "market-maker-vX.Y.Z"],
    ];
    for (const [pattern, expected] of cases) {
      it(`${JSON.stringify(pattern)} → ${expected}`, () => {
        assert.equal(describePattern(pattern), expected);
      });
    }
  });

  describe("parseReleaseTag", () => {
    const cases: ReadonlyArray<readonly [string, TagPattern, ReleaseVersion | undefined]> = [
      // environment suffixes
      ["v1.7.5-dev", DEV, v("v1.7.5-dev", 1, 7, 5)],
      ["v1.7.5-stg", STG, v("v1.7.5-stg", 1, 7, 5)],
      ["v1.7.5", LMN, v("v1.7.5", 1, 7, 5)],
      ["v1.7.5-stg", DEV, undefined],
      ["v1.7.5-dev", STG, undefined],
      ["v1.7.5", DEV, undefined],
      ["v1.7.5", STG, undefined],
      // lmn has no suffix at all: anything after the version disqualifies
      ["v1.7.5-dev", LMN, undefined],
      ["v1.7.5-stg", LMN, undefined],
      ["v1.2.3-rc1", LMN, undefined],
      ["v1.2.3+build.5", LMN, undefined],
      ["v1.2.3-dev-stg", DEV, undefined],
      ["v1.2.3-dev2", DEV, undefined],
      ["v1.2.3-DEV", DEV, undefined],
      // prefixes
      ["proxy-router-v3.2.1-dev", ROUTER_DEV, v("proxy-router-v3.2.1-dev", 3, 2, 1)],
      ["market-maker-v4.0.1", MM_LMN, v("market-maker-v4.0.1", 4, 0, 1)],
      ["proxy-router-v3.2.1-dev", DEV, undefined], // prefix required to be absent
      ["v3.2.1-dev", ROUTER_DEV, undefined], // prefix required
      ["market-maker-v4.0.1", ROUTER_LMN, undefined],
      ["xproxy-router-v3.2.1-dev", ROUTER_DEV, undefined],
      ["proxy-router-v4.0.1", MM_LMN, undefined],
      ["proxy-router-v3.2.1", ROUTER_LMN, v("proxy-router-v3.2.1", 3, 2, 1)],
      // the prefix is literal, not a regular expression
      ["a.b-v1.0.0", { prefix: "a.b-", suffix: "" }, v("a.b-v1.0.0", 1, 0, 0)],
      ["axb-v1.0.0", { prefix: "a.b-", suffix: "" }, undefined],
      ["svc+1-v1.0.0", { prefix: "svc+1-", suffix: "" }, v("svc+1-v1.0.0", 1, 0, 0)],
      ["v1.0.0-dev", { prefix: ".*", suffix: "-dev" }, undefined],
      ["v1.0.0x", { prefix: "", suffix: "." }, undefined],
      // zero parts and big numbers
      ["v0.0.0", LMN, v("v0.0.0", 0, 0, 0)],
      ["v10.20.30", LMN, v("v10.20.30", 10, 20, 30)],
      ["v1.0.1000000", LMN, v("v1.0.1000000", 1, 0, 1000000)],
      ["v1.2.99999999999999999999", LMN, undefined], // not a safe integer
      // malformed: ignored
      ["v1.2", LMN, undefined],
      ["v1.2.3.4", LMN, undefined],
      ["1.2.3", LMN, undefined],
      ["V1.2.3", LMN, undefined],
      ["v01.2.3", LMN, undefined], // leading zeros are rejected (semver)
      ["v1.02.3", LMN, undefined],
      ["v1.2.03-dev", DEV, undefined],
      ["v-1.2.3", LMN, undefined],
      ["v1.2.x", LMN, undefined],
      ["v1..3", LMN, undefined],
      [" v1.2.3", LMN, undefined],
      ["v1.2.3 ", LMN, undefined],
      ["v1.2.3\n", LMN, undefined],
      ["latest", LMN, undefined],
      ["dev-latest", DEV, undefined],
      ["latest-dev", DEV, undefined],
      ["", LMN, undefined],
    ];
    for (const [tag, pattern, expected] of cases) {
      it(`${JSON.stringify(tag)} with ${describePattern(pattern)} → ${expected ? "match" : "no match"}`, () => {
        assert.deepEqual(parseReleaseTag(tag, pattern), expected);
      });
    }
  });

  describe("parsePinnedTag", () => {
    const cases: ReadonlyArray<readonly [string, TagPattern, ReleaseVersion | undefined]> = [
      ["proxy-router-v3.2.1-dev", ROUTER_DEV, v("proxy-router-v3.2.1-dev", 3, 2, 1)],
      ["v1.7.5-dev", ROUTER_DEV, v("v1.7.5-dev", 1, 7, 5)], // old, unprefixed image
      ["v1.7.5", ROUTER_LMN, v("v1.7.5", 1, 7, 5)],
      ["market-maker-v4.0.1", MM_LMN, v("market-maker-v4.0.1", 4, 0, 1)],
      ["v1.7.5-dev", DEV, v("v1.7.5-dev", 1, 7, 5)],
      // the suffix is still required exactly
      ["v1.7.5-dev", ROUTER_LMN, undefined],
      ["proxy-router-v3.2.1-stg", ROUTER_DEV, undefined],
      ["v1.7.5", ROUTER_DEV, undefined],
      // another service's prefix is not "no prefix"
      ["market-maker-v4.0.1", ROUTER_LMN, undefined],
      ["proxy-router-proxy-router-v1.0.0", ROUTER_LMN, undefined],
      // malformed
      ["proxy-router-v01.2.3", ROUTER_LMN, undefined],
      ["proxy-router-latest", ROUTER_LMN, undefined],
      ["latest", ROUTER_LMN, undefined],
    ];
    for (const [tag, pattern, expected] of cases) {
      it(`${JSON.stringify(tag)} with ${describePattern(pattern)} → ${expected ? "match" : "no match"}`, () => {
        assert.deepEqual(parsePinnedTag(tag, pattern), expected);
      });
    }

    it("pinnedTagPattern means the same to bash's [[ =~ ]] as to the program (the image-deploy workflow checks tags with it)", () => {
      const extra: ReadonlyArray<readonly [string, TagPattern]> = [
        ["proxy-router-v3.2.1-dev; echo hi", ROUTER_DEV],
        ["xproxy-router-v3.2.1-dev", ROUTER_DEV],
        ["proxy-routerXv3.2.1-dev", ROUTER_DEV],
        ["v3.2.1-dev-rc1", ROUTER_DEV],
        ["v3x2.1-dev", DEV],
      ];
      const all = [...cases.map(([tag, pattern]) => [tag, pattern] as const), ...extra];
      const script =
        "while IFS=$'\\t' read -r tag pattern; do if [[ \"$tag\" =~ $pattern ]]; then echo 1; else echo 0; fi; done";
      const input = all.map(([tag, pattern]) => `${tag}\t${pinnedTagPattern(pattern)}`).join("\n") + "\n";
      const result = spawnSync("bash", ["-c", script], { input, encoding: "utf8" });
      assert.equal(result.status, 0, result.stderr);
      const bash = result.stdout
        .trim()
        .split("\n")
        .map((line) => line === "1");
      assert.deepEqual(
        bash,
        all.map(([tag, pattern]) => parsePinnedTag(tag, pattern) !== undefined),
      );
      assert.equal(
        bash.filter(Boolean).length,
        cases.filter(([, , expected]) => expected).length,
        "none of the extra look-alikes matches",
      );
    });
  });

  describe("compareVersions", () => {
    // Each pair: a < b.
    const ascending: ReadonlyArray<readonly [ReleaseVersion, ReleaseVersion]> = [
      [v("v1.9.0", 1, 9, 0), v("v1.10.0", 1, 10, 0)],
      [v("v1.9.9", 1, 9, 9), v("v1.10.0", 1, 10, 0)],
      [v("v1.99.99", 1, 99, 99), v("v2.0.0", 2, 0, 0)],
      [v("v1.2.9", 1, 2, 9), v("v1.2.10", 1, 2, 10)],
      [v("v9.0.0", 9, 0, 0), v("v10.0.0", 10, 0, 0)],
      [v("z-v1.0.0", 1, 0, 0), v("a-v1.0.1", 1, 0, 1)], // numbers before text
      // ties: the prefixed (longer) tag wins, then code-unit order
      [v("v1.2.3", 1, 2, 3), v("proxy-router-v1.2.3", 1, 2, 3)],
      [v("a-v1.2.3", 1, 2, 3), v("b-v1.2.3", 1, 2, 3)],
    ];
    for (const [a, b] of ascending) {
      it(`${a.tag} < ${b.tag}`, () => {
        assert.ok(compareVersions(a, b) < 0);
        assert.ok(compareVersions(b, a) > 0);
      });
    }

    it("is 0 only for the same tag", () => {
      assert.equal(compareVersions(v("v1.2.3", 1, 2, 3), v("v1.2.3", 1, 2, 3)), 0);
    });

    it("sorts deterministically whatever the input order", () => {
      const versions = [
        v("v1.10.0", 1, 10, 0),
        v("b-v1.2.3", 1, 2, 3),
        v("v1.2.3", 1, 2, 3),
        v("v2.0.0", 2, 0, 0),
        v("a-v1.2.3", 1, 2, 3),
        v("v1.9.9", 1, 9, 9),
      ];
      const expected = ["v1.2.3", "a-v1.2.3", "b-v1.2.3", "v1.9.9", "v1.10.0", "v2.0.0"];
      for (let shift = 0; shift < versions.length; shift++) {
        const rotated = [...versions.slice(shift), ...versions.slice(0, shift)];
        assert.deepEqual(
          rotated.sort(compareVersions).map((x) => x.tag),
          expected,
        );
        assert.deepEqual(
          rotated
            .reverse()
            .sort(compareVersions)
            .map((x) => x.tag),
          expected,
        );
      }
    });
  });

  describe("highestRelease", () => {
    const mixed = [
      "v1.9.0-dev",
      "v1.10.0-stg",
      "v1.10.0-dev",
      "v1.2.0",
      "latest",
      "v2.0.0-rc1",
      "v1.9.9",
      "dev-latest",
      "v01.99.0-dev", // malformed, would win lexically and numerically
      "v1.2",
      "v1.11.0-dev-hotfix",
    ];
    const cases: ReadonlyArray<readonly [string, readonly string[], TagPattern, string | undefined]> = [
      ["numeric, not lexical (dev)", mixed, DEV, "v1.10.0-dev"],
      ["stg", mixed, STG, "v1.10.0-stg"],
      ["lmn ignores -dev, -stg and -rc", mixed, LMN, "v1.9.9"],
      ["v2.0.0 beats v1.99.99", ["v1.99.99", "v2.0.0", "v1.100.0"], LMN, "v2.0.0"],
      ["order of the input does not matter", ["v1.0.0", "v3.0.0", "v2.0.0"], LMN, "v3.0.0"],
      ["the first listed is not the answer", ["v1.0.1", "v1.0.10", "v1.0.9"], LMN, "v1.0.10"],
      [
        "prefix selects the service",
        ["market-maker-v9.0.0-dev", "proxy-router-v3.2.1-dev", "proxy-router-v3.10.0-dev", "v9.9.9-dev"],
        ROUTER_DEV,
        "proxy-router-v3.10.0-dev",
      ],
      ["unprefixed pattern ignores prefixed tags", ["proxy-router-v9.0.0", "v1.0.0"], LMN, "v1.0.0"],
      ["duplicates are harmless", ["v1.0.0", "v1.0.0"], LMN, "v1.0.0"],
      ["nothing matches", ["latest", "v1.0.0-dev", "v1.2"], LMN, undefined],
      ["empty list", [], DEV, undefined],
    ];
    for (const [title, tags, pattern, expected] of cases) {
      it(title, () => {
        assert.equal(highestRelease(tags, pattern)?.tag, expected);
      });
    }

    it("returns the parsed numbers", () => {
      assert.deepEqual(highestRelease(["v1.2.3-dev", "v1.10.0-dev"], DEV), v("v1.10.0-dev", 1, 10, 0));
    });
  });
});
