import { strict as assert } from "node:assert";
import * as aws from "@pulumi/aws";
import { AWS_CTX, STACK_ACCOUNTS, resourceOf, resourcesOf } from "./support/fixtures";
import { committedPlan } from "./support/plan";

describe("shared test fixtures", () => {
  it("takes each committed stack's account from its stack file", () => {
    assert.deepEqual(STACK_ACCOUNTS, { dev: "434960487817", stg: "464450398935", lmn: "330280307271" });
    assert.equal(AWS_CTX.partition, "aws");
  });

  it("looks a planned resource up by its class and gives its inputs typed as the class's args", async () => {
    const plan = await committedPlan("dev");
    const services = resourcesOf(plan, aws.ecs.Service);
    assert.ok(services.length >= 3, "the dev plan runs the proxy services and the notifications service");
    assert.ok(services.every((s) => s.type === "aws:ecs/service:Service"));
    const first = resourceOf(plan, aws.ecs.Service, services[0].name);
    // `desiredCount` is typed number | undefined here: a typo or a wrong type fails the typecheck.
    const count: number | undefined = first.inputs.desiredCount;
    assert.equal(typeof count, "number");
    assert.throws(
      () => resourceOf(plan, aws.ecs.Service, "no-such-service"),
      /no aws:ecs\/service:Service named no-such-service in the dev plan; there are: .+/,
    );
    assert.throws(() => resourceOf(plan, Object as never, "x"), /is not a provider resource class/);
  });
});
