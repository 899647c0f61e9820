/**
 * The deploy invoker's decision, with tokens signed by a local key: every
 * denial, and the allow case with the exact order. Each denial test changes one
 * thing of a request that the allow case shows is admitted.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { createLocalJWKSet, generateKeyPair, SignJWT, type CryptoKey, type JWK } from "jose";
import { authorize, type AuthorizeDeps, type Decision, type RecordedTags } from "../lambdas/deploy-invoker/authorize";
import { parseRequest } from "../lambdas/deploy-invoker/request";
import type { ReplayStore } from "../lambdas/deploy-invoker/verify";
import type { AllowlistEntry, DeployTarget } from "../lambdas/deploy-invoker/allowlist";
import {
  AUDIENCE,
  DIGEST,
  ENTRY,
  KID,
  NOW,
  NOW_S,
  REQUEST_ID,
  TARGET,
  goodClaims,
  key,
  token,
} from "./support/deploy-invoker";

class MemoryReplayStore implements ReplayStore {
  readonly seen = new Map<string, Date>();
  async claimOnce(jti: string, expiresAt: Date): Promise<boolean> {
    if (this.seen.has(jti)) return false;
    this.seen.set(jti, expiresAt);
    return true;
  }
}

/** Recorded deploys of the target: v1.3.0 then v1.4.0 (running). */
function recordedTags(current: string | undefined): RecordedTags {
  const history = ["proxy-router-v1.3.0", "proxy-router-v1.4.0"];
  return {
    current: async (target) => (target.service === TARGET.service ? current : undefined),
    wasRecorded: async (target, tag) => target.service === TARGET.service && history.includes(tag),
  };
}

let otherKey: CryptoKey;
let publicJwk: JWK;

before(async () => {
  publicJwk = (await key()).publicJwk;
  otherKey = (await generateKeyPair("RS256")).privateKey;
});

function deps(over: Partial<AuthorizeDeps> = {}): AuthorizeDeps {
  return {
    environment: "lmn",
    audience: AUDIENCE,
    keys: createLocalJWKSet({ keys: [publicJwk] }),
    replay: new MemoryReplayStore(),
    allowlist: [ENTRY],
    recordedTags: recordedTags("proxy-router-v1.4.0"),
    registry: {
      tagsOf: async (repo, digest) =>
        repo === TARGET.imageRepository && digest === DIGEST ? ["latest", "proxy-router-v1.5.0"] : [],
    },
    now: () => NOW,
    ...over,
  };
}

async function request(
  over: Record<string, unknown> = {},
  tokenChange: Record<string, unknown> = {},
): Promise<Record<string, unknown>> {
  return {
    app: "proxy-router",
    environment: "lmn",
    imageTag: "proxy-router-v1.5.0",
    requestId: REQUEST_ID,
    oidcToken: await token(tokenChange),
    ...over,
  };
}

function denied(decision: Decision, reason: RegExp): void {
  assert.equal(decision.decision, "deny", `expected a denial, got ${JSON.stringify(decision)}`);
  if (decision.decision === "deny") assert.match(decision.reason, reason);
}

describe("deploy invoker", () => {
  describe("allow", () => {
    it("admits the allowlisted caller's forward release and sends it only to the allowlist's target", async () => {
      const decision = await authorize(await request(), deps());
      assert.deepEqual(decision, {
        decision: "allow",
        order: {
          requestId: REQUEST_ID,
          app: "proxy-router",
          environment: "lmn",
          imageTag: "proxy-router-v1.5.0",
          rollback: false,
          caller: { repository: ENTRY.repository, workflowRef: ENTRY.workflowRef, ref: "refs/heads/main" },
        },
        target: {
          cluster: "ecs-lumerin-lmn",
          service: "svc-proxy-router-lmn",
          container: "proxy-router",
          imageRepository: "ghcr.io/lumerin-protocol/proxy-router",
          tagParameter: "/lmn/proxy-router/image-tag",
        },
      });
    });

    it("sends each app to its own entry's target", async () => {
      const validatorTarget: DeployTarget = {
        ...TARGET,
        service: "svc-validator-lmn",
        container: "validator",
        tagParameter: "/lmn/validator/image-tag",
      };
      const validator: AllowlistEntry = {
        ...ENTRY,
        app: "validator",
        tagPrefix: "validator-",
        target: validatorTarget,
      };
      const decision = await authorize(
        await request({ app: "validator", imageTag: "validator-v2.0.0" }),
        deps({ allowlist: [ENTRY, validator] }),
      );
      assert.equal(decision.decision, "allow");
      if (decision.decision === "allow") assert.deepEqual(decision.target, validatorTarget);
    });

    it("admits a digest whose tags include a release of the environment, deploying that release", async () => {
      const { imageTag: _unused, ...rest } = await request();
      const decision = await authorize({ ...rest, imageDigest: DIGEST }, deps());
      assert.equal(decision.decision, "allow");
      if (decision.decision === "allow") {
        assert.equal(decision.order.imageTag, "proxy-router-v1.5.0");
        assert.equal(decision.order.imageDigest, DIGEST);
      }
    });

    it("admits a token that expired within the clock skew (30 s)", async () => {
      const decision = await authorize(await request({}, { exp: NOW_S - 20 }), deps());
      assert.equal(decision.decision, "allow");
    });

    it("admits a redeploy of the running version and a rollback to a recorded tag", async () => {
      assert.equal((await authorize(await request({ imageTag: "proxy-router-v1.4.0" }), deps())).decision, "allow");
      const back = await authorize(await request({ imageTag: "proxy-router-v1.3.0", rollback: true }), deps());
      assert.equal(back.decision, "allow");
      if (back.decision === "allow") assert.equal(back.order.rollback, true);
    });

    it("admits a lower version outside production (dev moves either way)", async () => {
      const dev: AllowlistEntry = { ...ENTRY, environment: "dev", ref: "refs/heads/dev", githubEnvironment: "dev" };
      const decision = await authorize(
        await request(
          { environment: "dev", imageTag: "proxy-router-v0.1.0-dev" },
          { ref: "refs/heads/dev", environment: "dev" },
        ),
        deps({ environment: "dev", allowlist: [dev], recordedTags: recordedTags("proxy-router-v9.9.9-dev") }),
      );
      assert.equal(decision.decision, "allow");
    });
  });

  describe("the request", () => {
    it("refuses an unknown field, naming it (the caller cannot choose a cluster)", async () => {
      denied(await authorize(await request({ cluster: "ecs-other" }), deps()), /^request: Unrecognized key: "cluster"/);
    });

    it("refuses both imageTag and imageDigest, and neither", async () => {
      denied(
        await authorize(await request({ imageDigest: DIGEST }), deps()),
        /request\.imageDigest: exactly one of imageTag and imageDigest is allowed; both were given/,
      );
      denied(
        await authorize(await request({ imageTag: undefined }), deps()),
        /request\.imageTag: exactly one of imageTag and imageDigest is required/,
      );
    });

    it("names each malformed field", async () => {
      denied(await authorize(await request({ requestId: "not-a-uuid" }), deps()), /^request\.requestId: /);
      denied(
        await authorize(await request({ imageDigest: "sha256:xyz", imageTag: undefined }), deps()),
        /^request\.imageDigest: expected sha256:<64 hex digits>/,
      );
      denied(await authorize(await request({ environment: "prod" }), deps()), /^request\.environment: /);
      denied(
        await authorize(await request({ oidcToken: "abc" }), deps()),
        /^request\.oidcToken: expected a compact JWT/,
      );
      denied(await authorize(await request({ rollback: "yes" }), deps()), /^request\.rollback: /);
    });

    it("refuses a request for another environment than the invoker's", async () => {
      denied(
        await authorize(await request({ environment: "stg", imageTag: "proxy-router-v1.5.0-stg" }), deps()),
        /this invoker deploys to lmn, not stg/,
      );
    });

    it("parseRequest keeps only the declared fields", () => {
      const parsed = parseRequest({
        app: "proxy-router",
        environment: "dev",
        imageTag: "v1.0.0-dev",
        requestId: REQUEST_ID,
        oidcToken: "a.b.c",
      });
      assert.deepEqual(parsed, {
        ok: true,
        value: {
          app: "proxy-router",
          environment: "dev",
          imageTag: "v1.0.0-dev",
          requestId: REQUEST_ID,
          oidcToken: "a.b.c",
        },
      });
    });
  });

  describe("the token", () => {
    it("refuses a wrong audience (e.g. the STS audience of the deploy role)", async () => {
      denied(await authorize(await request({}, { aud: "sts.amazonaws.com" }), deps()), /^token: claim aud /);
    });

    it("refuses to run with the STS audience or none as its own", async () => {
      for (const audience of ["sts.amazonaws.com", ""]) {
        denied(
          await authorize(await request({}, { aud: audience }), deps({ audience })),
          /^the invoker's audience must be its own, not /,
        );
      }
    });

    it("refuses a token signed with another algorithm than RS256", async () => {
      const hs = await new SignJWT(goodClaims())
        .setProtectedHeader({ alg: "HS256", kid: KID })
        .sign(new TextEncoder().encode("a shared secret of enough length!"));
      denied(await authorize(await request({ oidcToken: hs }), deps()), /^token: signing algorithm not allowed$/);
    });

    it("refuses a wrong issuer", async () => {
      denied(
        await authorize(await request({}, { iss: "https://token.actions.example.com" }), deps()),
        /^token: claim iss /,
      );
    });

    it("refuses an expired token (beyond the skew)", async () => {
      denied(await authorize(await request({}, { exp: NOW_S - 31 }), deps()), /^token: expired$/);
    });

    it("refuses a token not valid yet (nbf beyond the skew)", async () => {
      denied(await authorize(await request({}, { nbf: NOW_S + 60 }), deps()), /^token: claim nbf /);
    });

    it("refuses a bad signature (another key under the issuer's key id)", async () => {
      const bad = await token({}, otherKey);
      denied(await authorize(await request({ oidcToken: bad }), deps()), /^token: signature does not verify$/);
    });

    it("refuses a token signed with a key id the issuer does not publish", async () => {
      const foreign = await new SignJWT(goodClaims())
        .setProtectedHeader({ alg: "RS256", kid: "elsewhere" })
        .sign((await key()).signingKey);
      denied(await authorize(await request({ oidcToken: foreign }), deps()), /^token: signed by no key of the issuer$/);
    });

    it("refuses a token without jti", async () => {
      denied(await authorize(await request({}, { jti: undefined }), deps()), /^token: claim jti /);
    });

    it("refuses a replayed token", async () => {
      const shared = deps();
      const req = await request();
      assert.equal((await authorize(req, shared)).decision, "allow");
      denied(await authorize(req, shared), /^token: already used \(jti [0-9a-f-]+\); request a new token$/);
    });

    it("a forged token does not use up its jti", async () => {
      const shared = deps();
      const jti = randomUUID();
      denied(await authorize(await request({ oidcToken: await token({ jti }, otherKey) }), shared), /signature/);
      assert.equal((await authorize(await request({}, { jti }), shared)).decision, "allow");
    });
  });

  describe("binding the claims to the allowlist", () => {
    const mismatches: ReadonlyArray<readonly [string, unknown, RegExp]> = [
      [
        "repository",
        "someone/proxy-router",
        /token claim repository is "someone\/proxy-router"; app proxy-router in lmn admits only "Lumerin-protocol\/proxy-router"/,
      ],
      ["repository_id", "111", /token claim repository_id is "111"/],
      ["repository_owner_id", "222", /token claim repository_owner_id is "222"/],
      ["ref", "refs/heads/feature", /token claim ref is "refs\/heads\/feature"/],
      ["environment", "dev", /token claim environment is "dev"/],
      ["environment", undefined, /token claim environment is absent/],
      [
        "workflow_ref",
        "Lumerin-protocol/proxy-router/.github/workflows/other.yml@refs/heads/main",
        /token claim workflow_ref is /,
      ],
      [
        "job_workflow_ref",
        "Lumerin-protocol/proxy-router/.github/workflows/deploy.yml@refs/heads/main",
        /token claim job_workflow_ref is /,
      ],
    ];
    for (const [claim, value, reason] of mismatches) {
      it(`refuses ${claim} ${value === undefined ? "absent" : `= ${String(value)}`}`, async () => {
        denied(await authorize(await request({}, { [claim]: value }), deps()), reason);
      });
    }

    for (const event of ["pull_request", "pull_request_target", "workflow_run", "issue_comment", "schedule"]) {
      it(`refuses the ${event} event`, async () => {
        denied(
          await authorize(await request({}, { event_name: event }), deps()),
          new RegExp(`token claim event_name is ${event}: only push and workflow_dispatch runs deploy`),
        );
      });
    }

    it("admits a manual dispatch on the bound branch as it admits a push", async () => {
      const decision = await authorize(await request({}, { event_name: "workflow_dispatch" }), deps());
      assert.equal(decision.decision, "allow");
    });

    it("refuses an app the allowlist does not have", async () => {
      denied(
        await authorize(await request({ app: "validator" }), deps()),
        /^app validator is not in the allowlist of lmn$/,
      );
    });

    it("refuses an app allowlisted only for another repository", async () => {
      const other: AllowlistEntry = {
        ...ENTRY,
        app: "market-maker",
        repository: "Lumerin-protocol/futures-marketplace",
        repositoryId: "555",
        tagPrefix: "market-maker-",
      };
      denied(
        await authorize(
          await request({ app: "market-maker", imageTag: "market-maker-v1.0.0" }),
          deps({ allowlist: [ENTRY, other] }),
        ),
        /token claim repository is "Lumerin-protocol\/proxy-router"; app market-maker in lmn admits only "Lumerin-protocol\/futures-marketplace"/,
      );
    });

    it("refuses when the app has two entries", async () => {
      denied(
        await authorize(await request(), deps({ allowlist: [ENTRY, { ...ENTRY }] })),
        /has 2 allowlist entries in lmn; exactly one is allowed/,
      );
    });

    const required = [
      "repository",
      "repositoryId",
      "repositoryOwnerId",
      "ref",
      "githubEnvironment",
      "workflowRef",
      "jobWorkflowRef",
      "tagPrefix",
    ] as const;
    for (const field of required) {
      it(`an entry without ${field} denies, naming it`, async () => {
        const partial: Record<string, unknown> = { ...ENTRY };
        delete partial[field];
        denied(
          await authorize(await request(), deps({ allowlist: [partial] })),
          new RegExp(`allowlist entry of proxy-router in lmn is incomplete: allowlist\\.${field}: `),
        );
      });
    }

    it("an entry with an empty setting denies (it never matches an empty claim)", async () => {
      denied(
        await authorize(
          await request({}, { repository_owner_id: "" }),
          deps({ allowlist: [{ ...ENTRY, repositoryOwnerId: "" }] }),
        ),
        /^token\.repository_owner_id: /,
      );
      denied(
        await authorize(await request(), deps({ allowlist: [{ ...ENTRY, githubEnvironment: "" }] })),
        /allowlist\.githubEnvironment: githubEnvironment is required/,
      );
    });

    for (const field of ["cluster", "service", "container", "imageRepository", "tagParameter"] as const) {
      it(`an entry whose target lacks ${field} denies, naming it`, async () => {
        const target: Record<string, unknown> = { ...TARGET };
        delete target[field];
        denied(
          await authorize(await request(), deps({ allowlist: [{ ...ENTRY, target }] })),
          new RegExp(`allowlist\\.target\\.${field}: `),
        );
      });
    }
  });

  describe("the image", () => {
    it("refuses another environment's tag", async () => {
      denied(
        await authorize(await request({ imageTag: "proxy-router-v1.5.0-dev" }), deps()),
        /^imageTag proxy-router-v1\.5\.0-dev is not a release of lmn \(expected proxy-router-vX\.Y\.Z\)$/,
      );
    });

    it("refuses a production tag in dev", async () => {
      const dev: AllowlistEntry = { ...ENTRY, environment: "dev", ref: "refs/heads/dev", githubEnvironment: "dev" };
      denied(
        await authorize(
          await request(
            { environment: "dev", imageTag: "proxy-router-v1.5.0" },
            { ref: "refs/heads/dev", environment: "dev" },
          ),
          deps({ environment: "dev", allowlist: [dev] }),
        ),
        /^imageTag proxy-router-v1\.5\.0 is not a release of dev \(expected proxy-router-vX\.Y\.Z-dev\)$/,
      );
    });

    it("refuses another app's tag and a moving tag", async () => {
      denied(await authorize(await request({ imageTag: "market-maker-v1.5.0" }), deps()), /is not a release of lmn/);
      denied(await authorize(await request({ imageTag: "latest" }), deps()), /is not a release of lmn/);
    });

    it("refuses a digest that carries no release tag of the environment", async () => {
      const { imageTag: _unused, ...rest } = await request();
      const other = `sha256:${"cd".repeat(32)}`;
      denied(
        await authorize({ ...rest, imageDigest: other }, deps()),
        /^imageDigest sha256:(cd){32} carries no release tag of lmn in ghcr\.io\/lumerin-protocol\/proxy-router/,
      );
    });
  });

  describe("production moves forward only", () => {
    it("refuses a lower version without rollback", async () => {
      denied(
        await authorize(await request({ imageTag: "proxy-router-v1.3.0" }), deps()),
        /^proxy-router-v1\.3\.0 is older than the running proxy-router-v1\.4\.0; production moves forward only/,
      );
    });

    it("refuses a rollback to a tag never recorded", async () => {
      denied(
        await authorize(await request({ imageTag: "proxy-router-v1.2.0", rollback: true }), deps()),
        /^rollback to proxy-router-v1\.2\.0 refused: it was never recorded as deployed to proxy-router in lmn$/,
      );
    });

    it("refuses when the running tag cannot be ordered", async () => {
      denied(
        await authorize(await request(), deps({ recordedTags: recordedTags("latest") })),
        /the recorded tag latest of proxy-router is not a release/,
      );
    });

    it("admits the first deploy (nothing recorded yet)", async () => {
      assert.equal(
        (
          await authorize(
            await request({ imageTag: "proxy-router-v0.0.1" }),
            deps({ recordedTags: recordedTags(undefined) }),
          )
        ).decision,
        "allow",
      );
    });
  });
});
