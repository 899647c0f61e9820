/** The offline EventBridge pattern evaluator the rule specs use (test/support/event-pattern.ts), on EventBridge's own rules. */
import { strict as assert } from "node:assert";
import { eventMatches } from "./support/event-pattern";

describe("EventBridge event patterns, offline (the subset the program writes)", () => {
  const event = {
    source: "aws.ec2",
    "detail-type": "EC2 Instance State-change Notification",
    detail: { state: "running", tags: ["a", "b"], nested: { id: "i-1" } },
  };

  it("matches when every named field has one of the listed values, ignoring fields the pattern does not name", () => {
    assert.equal(eventMatches({ source: ["aws.ec2"] }, event), true);
    assert.equal(eventMatches({ source: ["aws.s3", "aws.ec2"], detail: { state: ["running"] } }, event), true);
    assert.equal(eventMatches(JSON.stringify({ detail: { nested: { id: ["i-1"] } } }), event), true);
  });

  it("does not match a missing field, another value, another case, or a value of another type", () => {
    assert.equal(eventMatches({ detail: { reason: ["x"] } }, event), false);
    assert.equal(eventMatches({ detail: { state: ["stopped"] } }, event), false);
    assert.equal(eventMatches({ source: ["AWS.EC2"] }, event), false);
    assert.equal(eventMatches({ detail: { nested: { id: ["i-1"] } } }, { detail: { nested: "i-1" } }), false);
    assert.equal(eventMatches({ detail: { count: [1] } }, { detail: { count: "1" } }), false);
  });

  it("matches a list in the event when any element is a listed value", () => {
    assert.equal(eventMatches({ detail: { tags: ["b"] } }, event), true);
    assert.equal(eventMatches({ detail: { tags: ["c"] } }, event), false);
  });

  it("refuses what it does not evaluate, rather than guessing", () => {
    assert.throws(() => eventMatches({ source: [{ prefix: "aws." }] }, event), /content filter .* is not supported/);
    assert.throws(() => eventMatches({ $or: [{ source: ["aws.ec2"] }] }, event), /operator \$or is not supported/);
    assert.throws(() => eventMatches({ source: "aws.ec2" }, event), /a list of values or an object/);
    assert.throws(() => eventMatches({ source: [] }, event), /empty list/);
    assert.throws(() => eventMatches([], event), /a JSON object/);
  });
});
