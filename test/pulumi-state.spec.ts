/**
 * The S3 state backend end to end, offline: the stack files' secrets provider
 * and the plan's blockers for what does not exist yet; the CI roles' grants on
 * the state in titanio-mst, evaluated cross-account by @cloud-copilot/iam-simulate
 * together with the bucket and key policies `npm run bootstrap-state` prints;
 * and what a preview's refresh reads (the canary's code, the secret values the
 * stack itself writes) and nothing else.
 */
import { strict as assert } from "node:assert";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { runSimulation } from "@cloud-copilot/iam-simulate";
import { parse } from "yaml";
import { pulumiSecretsProviderUrl } from "../lib/naming";
import { TITANIO_STATE_BUCKET, backendUrl } from "../lib/pulumi-state";
import { stateBootstrap } from "../tools/bootstrap-state";
import { renderMarkdown, renderTree } from "../tools/render";
import type { Plan } from "../tools/harness";
import { STACK_ACCOUNTS } from "./support/fixtures";
import { REPO_ROOT, planFiles, planStack } from "../tools/plan-stack";
import { committedPlan, doc, planWith, resource } from "./support/plan";

const ACCOUNTS = STACK_ACCOUNTS;
const STACKS = ["dev", "stg", "lmn"] as const;
type Stack = (typeof STACKS)[number];
const MST = TITANIO_STATE_BUCKET.accountId;
const BUCKET = "arn:aws:s3:::titanio-terraform-states";
const ROOT = `${BUCKET}/pulumi/lumerin-infra/.pulumi`;
/** Test stand-ins for the two key ARNs the stack files cannot know yet. */
const STATE_KEY = `arn:aws:kms:us-east-1:${MST}:key/0b0b0b0b-1111-2222-3333-444444444444`;
const secretsKey = (stack: Stack) =>
  `arn:aws:kms:us-east-1:${ACCOUNTS[stack]}:key/0a0a0a0a-1111-2222-3333-44444444444${STACKS.indexOf(stack)}`;
const HOST = "token.actions.githubusercontent.com";

type Doc = { Version: string; Statement: unknown[] };

/** One request, evaluated as AWS does: identity policies of the role, the resource's own policy, cross-account when the accounts differ. */
async function allowed(args: {
  role: string;
  account: string;
  identity: readonly { name: string; policy: unknown }[];
  action: string;
  resource: string;
  resourceAccount: string;
  resourcePolicy?: Doc;
  context?: Record<string, string | string[]>;
}): Promise<boolean> {
  const principal = `arn:aws:iam::${args.account}:role/${args.role}`;
  const result = await runSimulation(
    {
      request: {
        principal,
        action: args.action,
        resource: { resource: args.resource, accountId: args.resourceAccount },
        // AWS sets aws:PrincipalArn on every request (the role's ARN, path included); the simulator needs it given.
        contextVariables: { "aws:PrincipalArn": principal, ...args.context },
      },
      ...(args.resourcePolicy ? { resourcePolicy: args.resourcePolicy } : {}),
      identityPolicies: args.identity.map((p) => ({ name: p.name, policy: p.policy as never })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    {},
  );
  assert.equal(result.resultType, "single", JSON.stringify(result).slice(0, 400));
  return result.resultType === "single" && result.overallResult === "Allowed";
}

/** A stand-in for AWS's ReadOnlyAccess on what matters here (it allows every read): the explicit denies must still win. */
const READ_ONLY = {
  Version: "2012-10-17",
  Statement: [
    { Effect: "Allow", Action: ["s3:Get*", "s3:List*", "secretsmanager:GetSecretValue", "kms:Decrypt"], Resource: "*" },
  ],
};
/** AdministratorAccess. */
const ADMIN = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] };
/** An env account's key with the default key policy, which lets the account's IAM policies decide. */
const defaultKeyPolicy = (account: string): Doc => ({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: "kms:*", Resource: "*" }],
});

function withStateKeys(stack: Stack, extra: Record<string, unknown> = {}): Record<string, string> {
  const current = JSON.parse(planFiles(stack).config["lumerin-infra:deployIdentity"]) as {
    infra: Record<string, unknown>;
  };
  return {
    "lumerin-infra:deployIdentity": JSON.stringify({
      ...current,
      // The ids a real repository has (`gh api repos/<owner>/lumerin-infra --jq .id,.owner.id`); stand-ins here.
      infra: {
        ...current.infra,
        stateBucketKeyArn: STATE_KEY,
        secretsProviderKeyArn: secretsKey(stack),
        ownerId: 100001,
        repositoryId: 900001,
        ...extra,
      },
    }),
  };
}

describe("the S3 state backend", () => {
  describe("stack files and the plan's blockers", () => {
    for (const stack of STACKS) {
      it(`${stack}: the stack file names its own awskms key, says that encryptedkey is not written yet, and sets the state bucket`, () => {
        const files = planFiles(stack);
        assert.equal(files.secretsProvider, pulumiSecretsProviderUrl(stack, "us-east-1"));
        assert.equal(files.secretsProvider, `awskms://alias/lumerin-infra-pulumi-${stack}?region=us-east-1&awssdk=v2`);
        assert.equal(files.hasEncryptedKey, false);
        const text = readFileSync(path.join(REPO_ROOT, `Pulumi.${stack}.yaml`), "utf8");
        assert.match(
          text,
          new RegExp(`# encryptedkey: NOT WRITTEN YET\\. \`pulumi stack init ${stack} --secrets-provider`),
        );
        assert.doesNotMatch(text, /^encryptedkey:/m, "an encryptedkey is written by pulumi stack init, never invented");
        assert.doesNotMatch(text, /PULUMI_CONFIG_PASSPHRASE|passphrase:/i);
        const infra = (JSON.parse(files.config["lumerin-infra:deployIdentity"]) as { infra: Record<string, unknown> })
          .infra;
        assert.equal(infra.stateBucket, "titanio-terraform-states");
        assert.equal(infra.stateBucketKeyArn, undefined, "the state key's ARN is not known yet: never invented");
        assert.equal(infra.secretsProviderKeyArn, undefined, "the secrets key does not exist yet: never invented");
      });

      it(`${stack}: the committed plan reports the four missing facts with the commands that yield them, and still succeeds`, async () => {
        const plan = await committedPlan(stack);
        assert.deepEqual(
          plan.blockers.map((b) => b.key),
          [
            `Pulumi.${stack}.yaml: encryptedkey`,
            "lumerin-infra:deployIdentity.infra.stateBucketKeyArn",
            "lumerin-infra:deployIdentity.infra.secretsProviderKeyArn",
            "lumerin-infra:deployIdentity.infra.ownerId / repositoryId",
            // lmn's zone role in titanio-prd (docs/dns.md), after the stack files' facts.
            ...(stack === "lmn" ? ["lumerin-infra:dns.assumeRoleArn"] : []),
          ],
        );
        assert.match(
          plan.blockers[0].message,
          new RegExp(
            `pulumi stack init ${stack} --secrets-provider 'awskms://alias/lumerin-infra-pulumi-${stack}\\?region=us-east-1&awssdk=v2'`,
          ),
        );
        assert.match(
          plan.blockers[1].message,
          /aws kms describe-key --key-id alias\/foundation-cmk-s3 --query KeyMetadata\.Arn/,
        );
        assert.match(plan.blockers[2].message, new RegExp(`npm run bootstrap-state -- --stack ${stack}`));
        assert.match(
          plan.blockers[3].message,
          /refuse every token until both are set; read them with `gh api repos\/<owner>\/lumerin-infra --jq \.id,\.owner\.id`/,
        );
        assert.deepEqual(
          plan.violations.filter((v) => v.level === "mandatory"),
          [],
        );
      });
    }

    it("no blocker once the stack is initialised and both key ARNs are set; a stack file without secretsprovider is one", async () => {
      const files = { ...planFiles("stg"), hasEncryptedKey: true };
      const ready = await planStack(files, { overrides: withStateKeys("stg") });
      assert.deepEqual(ready.blockers, []);
      const bare = await planStack({ ...files, secretsProvider: undefined }, { overrides: withStateKeys("stg") });
      assert.deepEqual(
        bare.blockers.map((b) => b.key),
        ["Pulumi.stg.yaml: secretsprovider"],
      );
      assert.match(
        bare.blockers[0].message,
        /asks for a passphrase, which CI does not have; add `secretsprovider: awskms:\/\/alias\/lumerin-infra-pulumi-stg/,
      );
    });

    it("the plan prints the blockers in its report and its pull-request summary", async () => {
      const plan = await committedPlan("dev");
      const tree = renderTree(plan, "Pulumi.dev.yaml");
      assert.match(
        tree,
        /\nBefore the first pulumi up: 4 missing \(docs\/deploying\.md\)\n  ✗ Pulumi\.dev\.yaml: encryptedkey\n/,
      );
      const md = renderMarkdown(plan);
      assert.match(md, /\*\*Before the first `pulumi up`: 4 missing\*\*/);
      assert.match(md, /- `Pulumi\.dev\.yaml: encryptedkey`: not written yet/);
    });
  });

  describe("the workflows reach the backend", () => {
    interface Step {
      uses?: string;
      with?: Record<string, unknown>;
      env?: Record<string, unknown>;
      run?: string;
    }
    interface Workflow {
      env?: Record<string, string>;
      jobs: Record<string, { steps?: Step[]; env?: Record<string, unknown> }>;
    }
    for (const name of ["pull-request", "deploy", "drift"]) {
      it(`${name}.yml logs in to the stacks' S3 backend with the assumed role's credentials, and passes no passphrase or Pulumi token`, () => {
        const text = readFileSync(path.join(REPO_ROOT, ".github", "workflows", `${name}.yml`), "utf8");
        const wf = parse(text) as Workflow;
        for (const stack of STACKS) {
          const infra = (
            JSON.parse(planFiles(stack).config["lumerin-infra:deployIdentity"]) as {
              infra: { stateBucket: string; stateKeyPrefix?: string };
            }
          ).infra;
          assert.equal(
            wf.env?.PULUMI_BACKEND_URL,
            backendUrl(
              { bucket: infra.stateBucket, prefix: infra.stateKeyPrefix ?? "pulumi/lumerin-infra" },
              TITANIO_STATE_BUCKET.region,
            ),
            stack,
          );
        }
        assert.doesNotMatch(text, /PULUMI_CONFIG_PASSPHRASE|PULUMI_ACCESS_TOKEN|vars\.PULUMI_BACKEND_URL/);
        const pulumiSteps = Object.values(wf.jobs).flatMap((job) => {
          const steps = job.steps ?? [];
          return steps.flatMap((step, i) =>
            step.uses?.startsWith("pulumi/actions@") ? [{ step, before: steps.slice(0, i) }] : [],
          );
        });
        assert.ok(pulumiSteps.length > 0);
        for (const { step, before } of pulumiSteps) {
          assert.equal(step.with?.["cloud-url"], "${{ env.PULUMI_BACKEND_URL }}");
          assert.ok(
            before.some((s) => s.uses?.startsWith("aws-actions/configure-aws-credentials@")),
            "the role is assumed before pulumi runs",
          );
        }
      });
    }
  });

  it("docs/deploying.md gives the real backend URL, the stacks' secrets provider and the one-time commands", () => {
    const docs = readFileSync(path.join(REPO_ROOT, "docs", "deploying.md"), "utf8");
    assert.ok(
      docs.includes(
        `pulumi login '${backendUrl({ bucket: "titanio-terraform-states", prefix: "pulumi/lumerin-infra" }, "us-east-1")}'`,
      ),
    );
    assert.ok(
      docs.includes(
        'pulumi stack init $STACK --secrets-provider "awskms://alias/lumerin-infra-pulumi-$STACK?region=us-east-1&awssdk=v2"',
      ),
    );
    assert.equal(
      pulumiSecretsProviderUrl("dev", "us-east-1"),
      "awskms://alias/lumerin-infra-pulumi-dev?region=us-east-1&awssdk=v2",
    );
    for (const text of [
      "npm run bootstrap-state -- --stack $STACK",
      "gh api repos/Lumerin-protocol/lumerin-infra --jq .id,.owner.id",
      "see docs/secrets.md",
      "see docs/dns.md",
    ]) {
      assert.ok(docs.includes(text), text);
    }
  });

  describe("the CI roles on the state (cross-account, identity and bucket policies together)", () => {
    const stack: Stack = "stg";
    const acct = ACCOUNTS[stack];
    let plan: Plan;
    let previewInline: unknown;
    let deployerState: unknown;
    const boot = stateBootstrap(stack);
    const bucketPolicy: Doc = { Version: "2012-10-17", Statement: [...boot.bucketPolicyStatements] };
    const keyPolicy: Doc = { Version: "2012-10-17", Statement: [...boot.bucketKeyPolicyStatements] };
    before(async () => {
      plan = await planWith(stack, { overrides: withStateKeys(stack) });
      previewInline = doc(resource(plan, "aws:iam/rolePolicy:RolePolicy", "deploy-infra-preview-policy").inputs.policy);
      deployerState = doc(resource(plan, "aws:iam/rolePolicy:RolePolicy", "deploy-infra-deployer-state").inputs.policy);
    });
    const s3 = (role: "preview" | "deployer") => (action: string, key: string) =>
      allowed({
        role: `lumerin-infra-${role}-${stack}`,
        account: acct,
        identity:
          role === "preview"
            ? [
                { name: "preview", policy: previewInline },
                { name: "read-only", policy: READ_ONLY },
              ]
            : [
                { name: "state", policy: deployerState },
                { name: "admin", policy: ADMIN },
              ],
        action,
        resource: key.startsWith("arn:") ? key : `${BUCKET}/${key}`,
        resourceAccount: MST,
        resourcePolicy: bucketPolicy,
      });
    const kms =
      (role: "preview" | "deployer") =>
      (action: string, keyArn: string, context: Record<string, string> = {}) =>
        allowed({
          role: `lumerin-infra-${role}-${stack}`,
          account: acct,
          identity:
            role === "preview"
              ? [
                  { name: "preview", policy: previewInline },
                  { name: "read-only", policy: READ_ONLY },
                ]
              : [
                  { name: "state", policy: deployerState },
                  { name: "admin", policy: ADMIN },
                ],
          action,
          resource: keyArn,
          resourceAccount: keyArn.split(":")[4],
          resourcePolicy: keyArn === STATE_KEY ? keyPolicy : defaultKeyPolicy(keyArn.split(":")[4]),
          context,
        });
    const own = "pulumi/lumerin-infra/.pulumi";
    const viaS3 = { "kms:ViaService": "s3.us-east-1.amazonaws.com" };

    const previewCan: [string, string][] = [
      ["s3:ListBucket", BUCKET],
      ["s3:GetObject", `${own}/meta.yaml`],
      ["s3:GetObject", `${own}/stacks/lumerin-infra/stg.json`],
      ["s3:GetObject", `${own}/stacks/lumerin-infra/stg.pulumi-tags`],
      ["s3:GetObject", `${own}/history/lumerin-infra/stg/stg-1733000000.history.json`],
    ];
    const previewCannot: [string, string][] = [
      // Read-only: a preview takes no lock and writes nothing.
      ["s3:PutObject", `${own}/stacks/lumerin-infra/stg.json`],
      ["s3:PutObject", `${own}/locks/organization/lumerin-infra/stg/3f1c.json`],
      ["s3:DeleteObject", `${own}/stacks/lumerin-infra/stg.json`],
      ["s3:PutObject", `${own}/meta.yaml`],
      // Another stack's state, and a look-alike stack name.
      ["s3:GetObject", `${own}/stacks/lumerin-infra/lmn.json`],
      ["s3:GetObject", `${own}/stacks/lumerin-infra/stg2.json`],
      ["s3:GetObject", `${own}/backups/lumerin-infra/lmn/lmn.1733000000.json`],
      // Terraform's state beside it.
      ["s3:GetObject", "state/titanio/afs/terraform.tfstate"],
      ["s3:GetObject", "state/titanio/afs/stg/us-east-1/network/terraform.tfstate"],
    ];
    for (const [action, key] of previewCan)
      it(`preview may ${action} ${key.replace(/^arn:aws:s3:::/, "")}`, async () =>
        assert.equal(await s3("preview")(action, key), true));
    for (const [action, key] of previewCannot)
      it(`preview may not ${action} ${key}`, async () => assert.equal(await s3("preview")(action, key), false));

    const deployerCan: [string, string][] = [
      ["s3:GetObject", `${own}/meta.yaml`],
      ["s3:PutObject", `${own}/stacks/lumerin-infra/stg.json`],
      ["s3:PutObject", `${own}/stacks/lumerin-infra/stg.json.bak`],
      ["s3:DeleteObject", `${own}/stacks/lumerin-infra/stg.json.bak`],
      ["s3:PutObject", `${own}/locks/organization/lumerin-infra/stg/3f1c.json`],
      ["s3:DeleteObject", `${own}/locks/organization/lumerin-infra/stg/3f1c.json`],
      ["s3:PutObject", `${own}/history/lumerin-infra/stg/stg-1733000000.checkpoint.json`],
      ["s3:PutObject", `${own}/backups/lumerin-infra/stg/stg.1733000000.json`],
    ];
    const deployerCannot: [string, string][] = [
      ["s3:PutObject", `${own}/meta.yaml`],
      ["s3:PutObject", `${own}/stacks/lumerin-infra/lmn.json`],
      ["s3:GetObject", `${own}/stacks/lumerin-infra/dev.json`],
      ["s3:DeleteObject", `${own}/locks/organization/lumerin-infra/lmn/9a9a.json`],
      ["s3:GetObject", "state/titanio/afs/terraform.tfstate"],
      ["s3:PutObject", "state/titanio/afs/terraform.tfstate"],
      ["s3:DeleteObject", "state/titanio/afs/stg/us-east-1/network/terraform.tfstate"],
    ];
    for (const [action, key] of deployerCan)
      it(`deployer may ${action} ${key}`, async () => assert.equal(await s3("deployer")(action, key), true));
    for (const [action, key] of deployerCannot)
      it(`deployer may not ${action} ${key}`, async () => assert.equal(await s3("deployer")(action, key), false));

    it("preview: decrypts the state through S3 and its own secrets key; no other key, no direct call on the state key", async () => {
      assert.equal(await kms("preview")("kms:Decrypt", STATE_KEY, viaS3), true);
      assert.equal(await kms("preview")("kms:Decrypt", STATE_KEY), false, "not outside S3");
      assert.equal(await kms("preview")("kms:GenerateDataKey", STATE_KEY, viaS3), false, "it writes nothing");
      assert.equal(await kms("preview")("kms:Decrypt", secretsKey(stack)), true);
      assert.equal(await kms("preview")("kms:Encrypt", secretsKey(stack)), false);
      assert.equal(
        await kms("preview")("kms:Decrypt", `arn:aws:kms:us-east-1:${acct}:key/1234abcd-12ab-34cd-56ef-1234567890ab`),
        false,
        "another key of its account",
      );
      assert.equal(await kms("preview")("kms:Decrypt", secretsKey("lmn")), false, "another stack's secrets key");
    });

    it("deployer: encrypts and decrypts the state through S3 and its stack's secrets; not the state key directly, not another stack's key", async () => {
      assert.equal(await kms("deployer")("kms:GenerateDataKey", STATE_KEY, viaS3), true);
      assert.equal(await kms("deployer")("kms:Decrypt", STATE_KEY, viaS3), true);
      assert.equal(await kms("deployer")("kms:Decrypt", STATE_KEY), false, "the key policy admits S3's calls only");
      assert.equal(await kms("deployer")("kms:Encrypt", secretsKey(stack)), true);
      assert.equal(
        await kms("deployer")("kms:Decrypt", secretsKey("lmn")),
        false,
        "another account's key has no grant for it",
      );
    });

    it("even under a bucket policy that admits the whole account, neither role touches Terraform's state; the preview reads no other stack", async () => {
      const broad: Doc = {
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Principal: { AWS: `arn:aws:iam::${acct}:root` },
            Action: "s3:*",
            Resource: [`${BUCKET}/*`],
          },
        ],
      };
      const under = (role: "preview" | "deployer", action: string, key: string) =>
        allowed({
          role: `lumerin-infra-${role}-${stack}`,
          account: acct,
          identity:
            role === "preview"
              ? [
                  { name: "preview", policy: previewInline },
                  { name: "read-only", policy: READ_ONLY },
                ]
              : [
                  { name: "state", policy: deployerState },
                  { name: "admin", policy: ADMIN },
                ],
          action,
          resource: `${BUCKET}/${key}`,
          resourceAccount: MST,
          resourcePolicy: broad,
        });
      assert.equal(
        await under("deployer", "s3:PutObject", `${own}/stacks/lumerin-infra/stg.json`),
        true,
        "the broad policy admits its own state",
      );
      for (const role of ["preview", "deployer"] as const) {
        for (const action of ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]) {
          assert.equal(await under(role, action, "state/titanio/afs/terraform.tfstate"), false, `${role} ${action}`);
        }
      }
      assert.equal(await under("preview", "s3:GetObject", `${own}/stacks/lumerin-infra/lmn.json`), false);
      assert.equal(await under("preview", "s3:GetObject", `${own}/stacks/lumerin-infra/stg.json`), true);
    });

    it("the roles' own statements name exactly this stack's objects and keys", () => {
      const statements = (d: unknown) =>
        (d as { Statement: { Sid: string; Action: string[]; Resource?: unknown; Condition?: unknown }[] }).Statement;
      const preview = statements(previewInline);
      assert.deepEqual(preview.find((s) => s.Sid === "ReadOwnStackStateOnly")?.Resource, [
        `${ROOT}/meta.yaml`,
        `${ROOT}/stacks/lumerin-infra/stg.*`,
        `${ROOT}/history/lumerin-infra/stg/*`,
      ]);
      assert.deepEqual(
        preview.find((s) => s.Sid === "DecryptStateThroughS3Only"),
        {
          Sid: "DecryptStateThroughS3Only",
          Effect: "Allow",
          Action: ["kms:Decrypt"],
          Resource: [STATE_KEY],
          Condition: { StringEquals: { "kms:ViaService": "s3.us-east-1.amazonaws.com" } },
        },
      );
      assert.equal(
        preview.some(
          (s) =>
            s.Action.some((a: string) => /Put|Delete|GenerateDataKey|Encrypt/.test(a)) &&
            (s as { Effect?: string }).Effect !== "Deny",
        ),
        false,
      );
      const deployer = statements(deployerState);
      assert.deepEqual(deployer.find((s) => s.Sid === "EncryptAndDecryptStackSecrets")?.Resource, [secretsKey(stack)]);
      assert.deepEqual(deployer.find((s) => s.Sid === "WriteOwnStackStateOnly")?.Resource, [
        `${ROOT}/stacks/lumerin-infra/stg.*`,
        `${ROOT}/history/lumerin-infra/stg/*`,
        `${ROOT}/backups/lumerin-infra/stg/*`,
        `${ROOT}/journal/lumerin-infra/stg/*`,
        `${ROOT}/locks/organization/lumerin-infra/stg/*`,
      ]);
    });
  });

  describe("npm run bootstrap-state", () => {
    it("grants through aws:PrincipalArn on the stack's account (the roles may not exist yet), bootstrap admins only when named", () => {
      const admin = `arn:aws:iam::${ACCOUNTS.dev}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_AdministratorAccess_0123456789abcdef`;
      const plain = stateBootstrap("dev");
      const withAdmin = stateBootstrap("dev", [admin]);
      assert.equal(plain.backendUrl, "s3://titanio-terraform-states/pulumi/lumerin-infra?region=us-east-1&awssdk=v2");
      const sids = (b: typeof plain) => (b.bucketPolicyStatements as { Sid: string }[]).map((s) => s.Sid);
      assert.deepEqual(sids(plain), [
        "LumerinInfraDevCiListsStateKeys",
        "LumerinInfraDevCiReadsOwnState",
        "LumerinInfraDevDeployerWritesOwnState",
      ]);
      assert.deepEqual(sids(withAdmin), [...sids(plain), "LumerinInfraDevBootstrapWritesLayoutVersion"]);
      for (const s of plain.bucketPolicyStatements as { Principal: unknown }[])
        assert.deepEqual(s.Principal, { AWS: `arn:aws:iam::${ACCOUNTS.dev}:root` });
      const keySids = (
        plain.bucketKeyPolicyStatements as { Sid: string; Condition: Record<string, Record<string, unknown>> }[]
      ).map((s) => [s.Sid, s.Condition.StringEquals["kms:ViaService"]]);
      assert.deepEqual(keySids, [
        ["LumerinInfraDevPreviewDecryptsStateThroughS3", "s3.us-east-1.amazonaws.com"],
        ["LumerinInfraDevDeployerEncryptsStateThroughS3", "s3.us-east-1.amazonaws.com"],
      ]);
      assert.match(
        plain.commands,
        /aws kms create-alias --region us-east-1 --alias-name alias\/lumerin-infra-pulumi-dev/,
      );
      assert.match(
        plain.commands,
        /pulumi stack init dev --secrets-provider 'awskms:\/\/alias\/lumerin-infra-pulumi-dev\?region=us-east-1&awssdk=v2'/,
      );
      assert.match(
        plain.commands,
        /pulumi login 's3:\/\/titanio-terraform-states\/pulumi\/lumerin-infra\?region=us-east-1&awssdk=v2'/,
      );
    });

    it("its admin may bootstrap (write the layout version and the state) until it is rerun without --admin-role-arn", async () => {
      const admin = `arn:aws:iam::${ACCOUNTS.dev}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_AdministratorAccess_0123456789abcdef`;
      const can = (b: ReturnType<typeof stateBootstrap>, action: string, key: string) =>
        allowed({
          role: "aws-reserved/sso.amazonaws.com/AWSReservedSSO_AdministratorAccess_0123456789abcdef",
          account: ACCOUNTS.dev,
          identity: [{ name: "admin", policy: ADMIN }],
          action,
          resource: `${BUCKET}/${key}`,
          resourceAccount: MST,
          resourcePolicy: { Version: "2012-10-17", Statement: [...b.bucketPolicyStatements] },
        });
      const boot = stateBootstrap("dev", [admin]);
      assert.equal(await can(boot, "s3:PutObject", "pulumi/lumerin-infra/.pulumi/meta.yaml"), true);
      assert.equal(await can(boot, "s3:PutObject", "pulumi/lumerin-infra/.pulumi/stacks/lumerin-infra/dev.json"), true);
      assert.equal(await can(boot, "s3:GetObject", "state/titanio/afs/terraform.tfstate"), false);
      assert.equal(
        await can(stateBootstrap("dev"), "s3:PutObject", "pulumi/lumerin-infra/.pulumi/stacks/lumerin-infra/dev.json"),
        false,
      );
    });

    it("its jq merge replaces its own statements by Sid and keeps every other statement of the policy", () => {
      const boot = stateBootstrap("dev");
      const dir = mkdtempSync(path.join(tmpdir(), "identity-merge-"));
      try {
        const existing = {
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "TerraformStateAccess",
              Effect: "Allow",
              Principal: { AWS: "arn:aws:iam::228930573471:root" },
              Action: "s3:*",
              Resource: "*",
            },
            { Sid: "LumerinInfraDevCiReadsOwnState", Effect: "Allow", Action: "s3:GetObject", Resource: "old" },
          ],
        };
        writeFileSync(path.join(dir, "titanio-terraform-states-policy.json"), JSON.stringify(existing));
        writeFileSync(
          path.join(dir, "lumerin-infra-dev-bucket-statements.json"),
          JSON.stringify(boot.bucketPolicyStatements),
        );
        const line = boot.commands
          .split("\n")
          .findIndex((l) => l.startsWith("jq -n --slurpfile new lumerin-infra-dev-bucket-statements.json"));
        const command = `${boot.commands.split("\n")[line].replace(/\\$/, "")} ${boot.commands
          .split("\n")
          [line + 1].trim()
          .replace(/ > .*$/, "")}`;
        const merged = JSON.parse(execFileSync("bash", ["-c", command], { cwd: dir, encoding: "utf8" })) as {
          Statement: { Sid: string; Resource: unknown }[];
        };
        assert.deepEqual(
          merged.Statement.map((s) => s.Sid),
          [
            "TerraformStateAccess",
            "LumerinInfraDevCiListsStateKeys",
            "LumerinInfraDevCiReadsOwnState",
            "LumerinInfraDevDeployerWritesOwnState",
          ],
        );
        assert.notEqual(merged.Statement[2].Resource, "old");
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it("refuses a session ARN for --admin-role-arn and a stack file it cannot read", () => {
      assert.throws(
        () => stateBootstrap("lmn", ["arn:aws:sts::330280307271:assumed-role/Admin/alice"]),
        /is not an IAM role ARN .*use the role's ARN/,
      );
      assert.throws(() => stateBootstrap("qa"), /cannot read the config of stack "qa"/);
    });

    it("the CLI prints the commands (exit 0) and exits 2 on bad input", function () {
      this.timeout(60000);
      const run = (...args: string[]) =>
        spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", "tools/bootstrap-state.ts", ...args], {
          cwd: REPO_ROOT,
          encoding: "utf8",
        });
      const ok = run("--stack", "lmn");
      assert.equal(ok.status, 0, ok.stderr);
      assert.equal(ok.stdout, `${stateBootstrap("lmn").commands}\n`);
      assert.match(ok.stdout, /aws s3api put-bucket-policy --bucket titanio-terraform-states/);
      const session = run("--stack", "lmn", "--admin-role-arn", "arn:aws:sts::330280307271:assumed-role/Admin/alice");
      assert.equal(session.status, 2);
      assert.match(session.stderr, /✗ stack "lmn": --admin-role-arn .* is not an IAM role ARN/);
    });
  });

  describe("what pulumi preview --refresh reads besides the state", () => {
    const ROUTER_SECRETS = {
      "lumerin-infra:proxyRouterWalletPrivateKey": "0x" + "ab".repeat(32),
      "lumerin-infra:proxyRouterEthNodeAddress": "https://arb.example/rpc",
      "lumerin-infra:proxyRouterFuturesSubgraphUrl": "https://gateway.example/api/key/subgraphs/id/Qm",
    };
    let plan: Plan;
    let inline: unknown;
    before(async () => {
      // lmn runs the canary; the router's secret values come through Pulumi, every other secret is filled out of band.
      const outOfBand = {
        "lumerin-infra:outOfBandSecrets": JSON.stringify({
          proxyValidator: "filled",
          marketMaker: "filled",
          notifications: "filled",
          marginCall: "filled",
        }),
      };
      plan = await planWith("lmn", {
        overrides: { ...withStateKeys("lmn"), ...ROUTER_SECRETS, ...outOfBand },
        extraSecretKeys: Object.keys(ROUTER_SECRETS),
      });
      inline = doc(resource(plan, "aws:iam/rolePolicy:RolePolicy", "deploy-infra-preview-policy").inputs.policy);
    });
    const secretArn = (name: string) => String(resource(plan, "aws:secretsmanager/secret:Secret", name).outputs.arn);
    const platformKey = () => String(resource(plan, "aws:kms/key:Key", "platform-key").outputs.arn);
    const can = (action: string, target: string, context: Record<string, string> = {}) =>
      allowed({
        role: "lumerin-infra-preview-lmn",
        account: ACCOUNTS.lmn,
        identity: [
          { name: "preview", policy: inline },
          { name: "read-only", policy: READ_ONLY },
        ],
        action,
        resource: target,
        resourceAccount: ACCOUNTS.lmn,
        ...(action.startsWith("kms:") ? { resourcePolicy: defaultKeyPolicy(ACCOUNTS.lmn) } : {}),
        context,
      });

    it("reads the canary's code object, and no other object of its bucket", async () => {
      const code = resource(plan, "aws:s3/bucketObjectv2:BucketObjectv2", "monitoring-futures-ui-canary-code");
      const bucket = String(code.inputs.bucket);
      assert.equal(await can("s3:GetObject", `arn:aws:s3:::${bucket}/${String(code.inputs.key)}`), true);
      assert.equal(
        await can("s3:GetObject", `arn:aws:s3:::${bucket}/canary/us-east-1/futures-ui-lmn/2026/12/01/screenshot.png`),
        false,
      );
      assert.equal(await can("s3:GetObject", "arn:aws:s3:::s3futures.lumerin.io/index.html"), false);
    });

    it("reads the values the stack writes itself (they are in its state), and not the secrets filled out of band", async () => {
      const router = secretArn("proxy-router-secret");
      assert.equal(await can("secretsmanager:GetSecretValue", router), true);
      for (const outOfBand of [
        "proxy-validator-secret",
        "futures-market-maker-secret",
        "futures-notifications-secret",
        "futures-margin-call-secret",
      ]) {
        assert.equal(await can("secretsmanager:GetSecretValue", secretArn(outOfBand)), false, outOfBand);
      }
      // Secrets Manager decrypts on the role's behalf only for a GetSecretValue the role may make (above).
      assert.equal(
        await can("kms:Decrypt", platformKey(), { "kms:ViaService": "secretsmanager.us-east-1.amazonaws.com" }),
        true,
      );
      assert.equal(
        await can("kms:Decrypt", platformKey()),
        false,
        "no direct decrypt with the platform key (exec logs, other secrets)",
      );
      assert.equal(
        await can("kms:Decrypt", platformKey(), { "kms:ViaService": "logs.us-east-1.amazonaws.com" }),
        false,
      );
      assert.equal(await can("secretsmanager:BatchGetSecretValue", "*"), false);
    });

    it("with no value set through Pulumi it reads no secret at all", async () => {
      const committed = doc(
        resource(await committedPlan("lmn"), "aws:iam/rolePolicy:RolePolicy", "deploy-infra-preview-policy").inputs
          .policy,
      );
      const sids = (committed as { Statement: { Sid: string }[] }).Statement.map((s) => s.Sid);
      assert.ok(sids.includes("NeverReadSecretValues"));
      assert.ok(!sids.includes("RefreshReadsSecretValuesItsStateAlreadyHolds"));
      assert.ok(sids.includes("RefreshReadsObjectsTheStackUploads"), "the canary runs in lmn");
    });

    it("the policy pack reports the reads as the preview role's allowed exception, never silently, and nothing mandatory", () => {
      const reported = plan.violations.filter(
        (v) => v.policy === "github-roles-read-no-secrets" && v.message.includes("lumerin-infra-preview-lmn"),
      );
      assert.ok(reported.length >= 2, JSON.stringify(reported, null, 1));
      for (const v of reported) {
        assert.equal(v.level, "advisory");
        assert.match(
          v.message,
          /^allowed exception \(previewRoles\): .*only those whose values its stack's state already holds$/,
        );
      }
      assert.deepEqual(
        plan.violations.filter((v) => v.level === "mandatory"),
        [],
      );
      assert.ok(HOST);
    });
  });
});
