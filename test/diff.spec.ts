/**
 * tools/diff-plans.ts on pairs of plans: the committed dev/lmn plans, and copies
 * edited the way a change would edit them. Each kind of change and each risk, the
 * IAM edits that look harmless as text but grant more (and a reordering that grants
 * nothing), a replacement hidden in a nested property, renames and aliases.
 */
import { strict as assert } from "node:assert";
import { diffJson, diffPlans, type PlanDiff } from "../tools/diff-plans";
import { renderMarkdown, renderSummary } from "../tools/diff-render";
import type { CapturedResource, Plan } from "../tools/harness";
import { committedPlan, deployablePlan } from "./support/plan";

type Mutable<T> = { -readonly [K in keyof T]: T[K] extends object ? Mutable<T[K]> : T[K] };
type EditablePlan = Mutable<Plan> & { resources: Mutable<CapturedResource>[] };

const clone = (p: Plan): EditablePlan => JSON.parse(JSON.stringify(p)) as EditablePlan;
function named(plan: EditablePlan, name: string): Mutable<CapturedResource> {
  const found = plan.resources.find((r) => r.name === name);
  assert.ok(found, `no resource ${name}`);
  return found;
}
const kinds = (d: PlanDiff) => d.changes.map((c) => [c.change, c.urn.slice(c.urn.lastIndexOf("::") + 2)]);
const risks = (d: PlanDiff, kind?: string) => d.risks.filter((r) => !kind || r.kind === kind).map((r) => r.detail);

const ACCOUNT = "434960487817";
const bucketObjects = (bucket: string) => `arn:aws:s3:::${bucket}`;

/** A plan with one role and its inline policy, the base of the IAM cases. */
function withInlinePolicy(base: EditablePlan, statements: unknown[]): EditablePlan {
  const p = clone(base);
  named(p, "deploy-proxy-router-policy").inputs.policy = JSON.stringify({
    Version: "2012-10-17",
    Statement: statements,
  });
  return p;
}

describe("npm run diff: comparing two plans", function () {
  this.timeout(60000);
  let dev: EditablePlan;
  let lmn: EditablePlan;
  before(async () => {
    dev = clone(await committedPlan("dev"));
    lmn = clone(await deployablePlan("lmn")); // lmn with its DNS role, so its records are planned
  });

  it("the same plan, resources registered in another order (code reordered): no change, and the summary says so", async () => {
    const reordered = clone(dev);
    reordered.resources.reverse();
    const d = await diffPlans(dev, reordered, "main");
    assert.deepEqual(d.changes, []);
    assert.deepEqual(d.risks, []);
    assert.deepEqual(renderSummary(d), ["**dev**: no changes against `main`."]);
    assert.deepEqual(diffJson(d), { stack: "dev", base: "main", changes: [], risks: [] });
  });

  it("refuses plans of two stacks", async () => {
    await assert.rejects(diffPlans(dev, lmn, "main"), /the base plan is of stack dev, not lmn/);
  });

  it("an update lists the changed paths with old and new values; JSON text is compared as JSON", async () => {
    const head = clone(dev);
    named(head, "proxy-router-svc-logs").inputs.retentionInDays = 90;
    const d = await diffPlans(dev, head, "main");
    assert.deepEqual(kinds(d), [["update", "proxy-router-svc-logs"]]);
    assert.deepEqual(d.changes[0].details, [
      { path: "retentionInDays", before: named(dev, "proxy-router-svc-logs").inputs.retentionInDays, after: 90 },
    ]);
    assert.deepEqual(d.risks, []);
  });

  it("ignoreChanges paths are not changes (Pulumi will not apply them)", async () => {
    const head = clone(dev);
    const service = head.resources.find(
      (r) => r.type === "aws:ecs/service:Service" && r.options.ignoreChanges.includes("desiredCount"),
    );
    assert.ok(service);
    service.inputs.desiredCount = 7;
    assert.deepEqual((await diffPlans(dev, head, "main")).changes, []);
  });

  it("secret inputs show as [secret], never their values", async () => {
    const base = clone(dev);
    const head = clone(dev);
    for (const [p, value] of [
      [base, "old-password"],
      [head, "new-password"],
    ] as const) {
      const r = named(p, "proxy-router-secret");
      r.inputs.secretString = value;
      r.secretInputs = ["secretString"];
    }
    const d = await diffPlans(base, head, "main");
    assert.deepEqual(d.changes[0].details, [{ path: "secretString", before: "[secret]", after: "[secret]" }]);
    assert.doesNotMatch(renderMarkdown(d) + JSON.stringify(diffJson(d)), /password/);
  });

  it("create and delete", async () => {
    const head = clone(dev);
    const gone = head.resources.findIndex((r) => r.name === "monitoring-proxy-router-cpu-high");
    assert.ok(gone >= 0);
    const [removed] = head.resources.splice(gone, 1);
    head.resources.push({
      ...removed,
      urn: removed.urn.replace("monitoring-proxy-router-cpu-high", "extra-alarm"),
      name: "extra-alarm",
      inputs: { ...removed.inputs, name: "extra-alarm" },
    });
    const d = await diffPlans(dev, head, "main");
    assert.deepEqual(kinds(d), [
      ["delete", "monitoring-proxy-router-cpu-high"],
      ["create", "extra-alarm"],
    ]);
    assert.equal(d.changes[1].renamed, undefined, "another physical name: not a rename");
    assert.deepEqual(d.risks, [], "an alarm holds no data");
  });

  describe("replacements, predicted from lib/force-new.ts", () => {
    it("a log group's new name replaces it: data loss (its events), and the markdown's first lines say so", async () => {
      const head = clone(dev);
      named(head, "proxy-router-svc-logs").inputs.name = "/short";
      const d = await diffPlans(dev, head, "main");
      assert.deepEqual(kinds(d), [["replace", "proxy-router-svc-logs"]]);
      assert.deepEqual(
        d.changes[0].reasons.map((r) => r.path),
        ["name"],
      );
      assert.equal(d.risks[0].kind, "data-loss");
      assert.match(d.risks[0].detail, /LogGroup .* is replaced \(name: .* → \/short\): its log events are lost/);
      assert.equal(d.blocking, false, "an unprotected log group does not block");
      assert.match(renderMarkdown(d).split("\n").slice(0, 4).join("\n"), /\*\*data loss\*\*: LogGroup/);
    });

    it("a replacement hidden in a nested property (ECS deployment controller type)", async () => {
      const head = clone(dev);
      const service = head.resources.find((r) => r.type === "aws:ecs/service:Service")!;
      service.inputs.deploymentController = { type: "CODE_DEPLOY" };
      const d = await diffPlans(dev, head, "main");
      assert.deepEqual(
        d.changes.map((c) => [c.change, c.reasons.map((r) => r.path)]),
        [["replace", ["deploymentController.type"]]],
      );
    });

    it("a provider moved to another region replaces the provider and every resource it manages", async () => {
      const head = clone(lmn);
      const provider = head.resources.find((r) => r.type === "pulumi:providers:aws")!;
      provider.inputs.region = "us-west-2";
      const managed = head.resources.filter((r) => r.provider === provider.urn).map((r) => r.urn);
      assert.ok(managed.length > 0);
      const d = await diffPlans(lmn, head, "main");
      assert.deepEqual(
        d.changes.map((c) => [c.change, c.urn]).sort(),
        [["replace", provider.urn], ...managed.map((u) => ["replace", u])].sort(),
      );
      const record = d.changes.find((c) => c.urn === managed[0])!;
      assert.deepEqual(
        record.reasons.map((r) => [r.path, r.why]),
        [["(provider)", "its provider is replaced"]],
      );
    });

    it("replacing a protected stateful resource (lmn's RDS, a new KMS key) blocks: exit 1", async () => {
      const head = clone(lmn);
      named(head, "futures-notifications-db").inputs.kmsKeyId = `arn:aws:kms:us-east-1:${ACCOUNT}:key/other`;
      const d = await diffPlans(lmn, head, "main");
      assert.equal(d.blocking, true);
      assert.match(
        risks(d, "data-loss")[0],
        /futures-notifications-db\)? is replaced \(kmsKeyId: .*\): its database are protected/,
      );
      assert.match(renderSummary(d)[1], /blocked/);
    });

    it("deleting a protected secret blocks", async () => {
      const head = clone(lmn);
      head.resources = head.resources.filter((r) => r.name !== "proxy-router-secret");
      const d = await diffPlans(lmn, head, "main");
      assert.equal(d.blocking, true);
      assert.match(risks(d, "data-loss")[0], /Secret .* is deleted/);
    });

    it("deleting a stateful resource that has retainOnDelete only forgets it: no data loss", async () => {
      const base = clone(dev);
      named(base, "proxy-router-svc-logs").options.retainOnDelete = true;
      const head = clone(dev);
      head.resources = head.resources.filter((r) => r.name !== "proxy-router-svc-logs");
      const d = await diffPlans(base, head, "main");
      assert.deepEqual(kinds(d), [["delete", "proxy-router-svc-logs"]]);
      assert.deepEqual(risks(d, "data-loss"), []);
      named(base, "proxy-router-svc-logs").options.retainOnDelete = false;
      assert.match(
        risks(await diffPlans(base, head, "main"), "data-loss")[0],
        /LogGroup .* is deleted: its log events are lost/,
      );
    });
  });

  describe("logical names", () => {
    it("a rename without an alias is a delete and a create of the same physical resource, and says so", async () => {
      const head = clone(dev);
      const r = named(head, "proxy-router-svc-logs");
      r.urn = r.urn.replace("::proxy-router-svc-logs", "::router-logs");
      r.name = "router-logs";
      const d = await diffPlans(dev, head, "main");
      assert.deepEqual(kinds(d), [
        ["delete", "proxy-router-svc-logs"],
        ["create", "router-logs"],
      ]);
      assert.ok(d.changes[1].renamed?.from?.endsWith("::proxy-router-svc-logs"));
      assert.match(
        risks(d, "data-loss")[0],
        /deleted and created again under the logical name router-logs \(add an alias to keep it\)/,
      );
      assert.match(renderMarkdown(d), /a logical rename/);
    });

    it("with an alias to the old name, it is the same resource: no change", async () => {
      const head = clone(dev);
      const r = named(head, "proxy-router-svc-logs");
      r.urn = r.urn.replace("::proxy-router-svc-logs", "::router-logs");
      r.name = "router-logs";
      r.options.aliases = [{ name: "proxy-router-svc-logs" }];
      assert.deepEqual((await diffPlans(dev, head, "main")).changes, []);
      r.options.aliases = [named(dev, "proxy-router-svc-logs").urn];
      assert.deepEqual((await diffPlans(dev, head, "main")).changes, []);
    });
  });

  describe("access widened, decided by the IAM simulator", () => {
    const role = "github-actions-proxy-router-deploy-dev";
    const stmt = (Action: string | string[], Resource: string | string[], Sid?: string) => ({
      ...(Sid ? { Sid } : {}),
      Effect: "Allow",
      Action,
      Resource,
    });

    it("s3:GetObject → s3:Get* (text barely changed) grants the other Get actions", async () => {
      const obj = `${bucketObjects("site")}/*`;
      const d = await diffPlans(
        withInlinePolicy(dev, [stmt("s3:GetObject", obj)]),
        withInlinePolicy(dev, [stmt("s3:Get*", obj)]),
        "main",
      );
      const [widened] = risks(d, "access-widened");
      assert.match(widened, new RegExp(`^role ${role} \\(inline policy code-deploy\\) may now s3:GetObjectAcl, `));
      assert.match(widened, /on arn:aws:s3:::site\/\*$/);
      assert.doesNotMatch(widened, /s3:GetObject,/, "GetObject was allowed before");
    });

    it("a resource …/a → …/* grants the action on every object", async () => {
      const d = await diffPlans(
        withInlinePolicy(dev, [stmt("s3:GetObject", `${bucketObjects("site")}/a`)]),
        withInlinePolicy(dev, [stmt("s3:GetObject", `${bucketObjects("site")}/*`)]),
        "main",
      );
      assert.deepEqual(risks(d, "access-widened"), [
        `role ${role} (inline policy code-deploy) may now s3:GetObject on arn:aws:s3:::site/*`,
      ]);
    });

    it("s3:PutObject on * added to a deploy role is named: role, action, resource", async () => {
      const base = [stmt("ecs:UpdateService", `arn:aws:ecs:us-east-1:${ACCOUNT}:service/c/s`)];
      const d = await diffPlans(
        withInlinePolicy(dev, base),
        withInlinePolicy(dev, [...base, stmt("s3:PutObject", "*", "Extra")]),
        "main",
      );
      assert.deepEqual(risks(d, "access-widened"), [
        `role ${role} (inline policy code-deploy) may now s3:PutObject on *`,
      ]);
    });

    it("statements reordered (and Sids renamed) grant nothing new: an update, no access risk", async () => {
      const a = stmt("s3:GetObject", `${bucketObjects("site")}/*`, "One");
      const b = stmt("ecs:UpdateService", `arn:aws:ecs:us-east-1:${ACCOUNT}:service/c/s`, "Two");
      const d = await diffPlans(
        withInlinePolicy(dev, [a, b]),
        withInlinePolicy(dev, [{ ...b, Sid: "Deploy" }, a]),
        "main",
      );
      assert.deepEqual(kinds(d), [["update", "deploy-proxy-router-policy"]]);
      assert.deepEqual(d.risks, []);
      assert.deepEqual(d.narrowed, []);
    });

    it("a narrowing is reported as access taken away, not as a risk", async () => {
      const d = await diffPlans(
        withInlinePolicy(dev, [stmt(["s3:GetObject", "s3:PutObject"], "arn:aws:s3:::site/*")]),
        withInlinePolicy(dev, [stmt("s3:GetObject", "arn:aws:s3:::site/*")]),
        "main",
      );
      assert.deepEqual(d.risks, []);
      assert.deepEqual(
        d.narrowed.map((n) => n.detail),
        [`role ${role} (inline policy code-deploy) may no longer s3:PutObject on arn:aws:s3:::site/*`],
      );
    });

    it("a condition removed widens (what needed the condition no longer does)", async () => {
      const conditioned = {
        ...stmt("ecs:TagResource", `arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/t:*`),
        Condition: { StringEquals: { "ecs:CreateAction": "RegisterTaskDefinition" } },
      };
      const d = await diffPlans(
        withInlinePolicy(dev, [conditioned]),
        withInlinePolicy(dev, [stmt("ecs:TagResource", `arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/t:*`)]),
        "main",
      );
      assert.deepEqual(risks(d, "access-widened"), [
        `role ${role} (inline policy code-deploy) may now ecs:TagResource on arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/t:*`,
      ]);
    });

    it("a trust that admits a new subject (sub pattern widened), by the trust's own conditions", async () => {
      const head = clone(dev);
      const r = named(head, "deploy-proxy-router-role");
      const trust = JSON.parse(JSON.stringify(r.inputs.assumeRolePolicy)) as {
        Statement: { Condition: { StringEquals: Record<string, unknown>; StringLike?: Record<string, unknown> } }[];
      };
      const cond = trust.Statement[0].Condition;
      delete cond.StringEquals["token.actions.githubusercontent.com:sub"];
      cond.StringLike = { "token.actions.githubusercontent.com:sub": "repo:lumerin-protocol/proxy-router:*" };
      r.inputs.assumeRolePolicy = trust;
      const d = await diffPlans(dev, head, "main");
      assert.deepEqual(risks(d, "access-widened"), [
        `role ${role} now trusts subject repo:lumerin-protocol/proxy-router:x-any (as repo:lumerin-protocol/proxy-router:* admits) through Federated:arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com`,
      ]);
    });

    it("a new role's trust names its principal and subjects", async () => {
      const head = clone(dev);
      const role = named(head, "deploy-proxy-router-role");
      const base = clone(dev);
      base.resources = base.resources.filter((r) => r.urn !== role.urn);
      const d = await diffPlans(base, head, "main");
      assert.deepEqual(risks(d, "access-widened"), [
        `role ${"github-actions-proxy-router-deploy-dev"} now trusts principal Federated:arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com for subject repo:Lumerin-protocol/proxy-router:environment:dev`,
      ]);
    });

    it("a bucket policy that lets anyone read", async () => {
      const head = clone(dev);
      const r = named(head, "futures-ui-bucket-policy");
      const policy = JSON.parse(JSON.stringify(r.inputs.policy)) as { Statement: unknown[] };
      policy.Statement.push({
        Sid: "Public",
        Effect: "Allow",
        Principal: "*",
        Action: "s3:GetObject",
        Resource: "arn:aws:s3:::s3futures.dev.lumerin.io/*",
      });
      r.inputs.policy = policy;
      const d = await diffPlans(dev, head, "main");
      const [widened] = risks(d, "access-widened");
      assert.match(
        widened,
        /anyone \(Principal \*\) may now s3:GetObject on arn:aws:s3:::s3futures\.dev\.lumerin\.io\/\*/,
      );
    });

    it("a managed policy attached to a role", async () => {
      const head = clone(dev);
      const r = head.resources.find((x) => x.type === "aws:iam/rolePolicyAttachment:RolePolicyAttachment")!;
      r.inputs.policyArn = "arn:aws:iam::aws:policy/AdministratorAccess";
      const d = await diffPlans(dev, head, "main");
      assert.match(
        risks(d, "access-widened")[0],
        /is given the managed policy arn:aws:iam::aws:policy\/AdministratorAccess/,
      );
    });
  });

  describe("exposure widened", () => {
    it("a security-group rule newly open to the internet", async () => {
      const head = clone(dev);
      named(head, "proxy-router-svc-in-api-from-operators").inputs.cidrIpv4 = "0.0.0.0/0";
      assert.match(
        risks(await diffPlans(dev, head, "main"), "exposure-widened")[0],
        /ingress tcp 8080-8080 newly open to the internet \(0\.0\.0\.0\/0\)/,
      );
    });

    it("TLS weakened on a listener (HTTPS → HTTP, an older ssl policy)", async () => {
      const head = clone(dev);
      const l = named(head, "futures-notifications-https");
      l.inputs.protocol = "HTTP";
      let found = risks(await diffPlans(dev, head, "main"), "exposure-widened");
      assert.match(found[0], /listener protocol HTTPS → HTTP \(no TLS\)/);
      l.inputs.protocol = "HTTPS";
      l.inputs.sslPolicy = "ELBSecurityPolicy-2016-08";
      found = risks(await diffPlans(dev, head, "main"), "exposure-widened");
      assert.match(
        found[0],
        /ssl policy ELBSecurityPolicy-TLS13-1-2-2021-06 → ELBSecurityPolicy-2016-08 \(admits older TLS\)/,
      );
    });

    it("a database made public, and a public access block switched off", async () => {
      const head = clone(dev);
      named(head, "futures-notifications-db").inputs.publiclyAccessible = true;
      const pab = head.resources.find((r) => r.type === "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")!;
      pab.inputs.blockPublicPolicy = false;
      const found = risks(await diffPlans(dev, head, "main"), "exposure-widened");
      assert.equal(found.length, 2);
      assert.ok(found.some((f) => /publiclyAccessible turned on/.test(f)));
      assert.ok(found.some((f) => /blockPublicPolicy turned off/.test(f)));
    });
  });

  it("client-facing names changed (a DNS record), and protection weakened", async () => {
    const head = clone(lmn);
    named(head, "proxy-router-dns").inputs.name = "router.lumerin.io";
    named(head, "futures-notifications-db").inputs.deletionProtection = false;
    named(head, "proxy-router-secret").options.protect = false;
    const d = await diffPlans(lmn, head, "main");
    assert.deepEqual(risks(d, "name-changed"), ["DNS name: proxy.lumerin.io → router.lumerin.io"]);
    const loss = risks(d, "data-loss");
    assert.ok(
      loss.some((l) => /deletionProtection turned off/.test(l)),
      loss.join("\n"),
    );
    assert.ok(
      loss.some((l) => /proxy-router-secret.*protect removed/.test(l)),
      loss.join("\n"),
    );
  });

  it("policy violations new in the change, and the ones it fixes", async () => {
    const base = clone(dev);
    const head = clone(dev);
    base.violations = [{ policy: "old-rule", level: "advisory", urn: "urn:x::a", message: "Was wrong. Fix it." }];
    head.violations = [{ policy: "new-rule", level: "mandatory", urn: "urn:x::b", message: "Is wrong. Do this." }];
    const d = await diffPlans(base, head, "main");
    assert.equal(renderSummary(d)[0], "**dev** against `main`: no resource changes.");
    assert.deepEqual(
      d.risks.map((r) => [r.kind, r.detail]),
      [
        ["policy-new", "mandatory new-rule on b: Is wrong."],
        ["policy-fixed", "advisory old-rule on a: Was wrong."],
      ],
    );
  });
});
