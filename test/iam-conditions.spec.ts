import { strict as assert } from "node:assert";
import { conditionsMatch } from "../lib/iam-conditions";

describe("IAM condition evaluator", () => {
  const sub = "token.actions.githubusercontent.com:sub";
  const aud = "token.actions.githubusercontent.com:aud";
  const cases: [string, Parameters<typeof conditionsMatch>[0], Record<string, string | undefined>, boolean][] = [
    [
      "StringEquals matches exactly",
      { StringEquals: { [sub]: "repo:o/r:environment:dev" } },
      { [sub]: "repo:o/r:environment:dev" },
      true,
    ],
    [
      "StringEquals is case-sensitive in the value",
      { StringEquals: { [sub]: "repo:o/r:environment:dev" } },
      { [sub]: "repo:O/r:environment:dev" },
      false,
    ],
    [
      "StringEquals does not treat * as a wildcard",
      { StringEquals: { [sub]: "repo:o/*" } },
      { [sub]: "repo:o/r" },
      false,
    ],
    [
      "keys are case-insensitive",
      { StringEquals: { "Token.Actions.GitHubUserContent.com:SUB": "x" } },
      { [sub]: "x" },
      true,
    ],
    ["several values of one key are OR-ed", { StringEquals: { [sub]: ["a", "b"] } }, { [sub]: "b" }, true],
    [
      "several keys are AND-ed",
      { StringEquals: { [sub]: "a", [aud]: "sts.amazonaws.com" } },
      { [sub]: "a", [aud]: "other" },
      false,
    ],
    [
      "several operators are AND-ed",
      { StringEquals: { [aud]: "sts.amazonaws.com" }, StringLike: { [sub]: "repo:o/*" } },
      { [sub]: "repo:o/r", [aud]: "sts.amazonaws.com" },
      true,
    ],
    ["StringLike * spans any run", { StringLike: { [sub]: "repo:o/r:*" } }, { [sub]: "repo:o/r:pull_request" }, true],
    ["StringLike ? is one character", { StringLike: { [sub]: "repo:o/r?" } }, { [sub]: "repo:o/rx" }, true],
    ["StringLike anchors both ends", { StringLike: { [sub]: "repo:o/r" } }, { [sub]: "repo:o/r-fork" }, false],
    ["StringLike escapes regex characters", { StringLike: { [sub]: "repo:o/r.x" } }, { [sub]: "repo:o/rXx" }, false],
    ["a missing key fails", { StringEquals: { [aud]: "sts.amazonaws.com" } }, { [sub]: "a" }, false],
    ["a missing key passes IfExists", { StringEqualsIfExists: { [aud]: "sts.amazonaws.com" } }, { [sub]: "a" }, true],
    ["StringNotEquals negates", { StringNotEquals: { [sub]: "a" } }, { [sub]: "b" }, true],
    ["no conditions: satisfied", undefined, {}, true],
  ];
  for (const [name, block, context, expected] of cases)
    it(name, () => assert.equal(conditionsMatch(block, context), expected));

  it("refuses operators it does not implement rather than guessing", () => {
    assert.throws(() => conditionsMatch({ ArnLike: { "aws:SourceArn": "x" } }, {}), /ArnLike is not supported/);
  });
});
