import { strict as assert } from "node:assert";
import { GitHubReleaseSource, ImageTagLookupError, ReleaseSource } from "../lib/github-releases";
import { ImageRequest, UNRESOLVED_TAG, resolveImages } from "../lib/image-resolution";
import { FakeGitHub, releasesOf, startFakeGitHub } from "./support/fake-github";
import { containers, planWith, registeredInLastRun, resource } from "./support/plan";

const REQUEST: ImageRequest = {
  key: "proxy-router",
  repository: "ghcr.io/lumerin-protocol/proxy-router",
  imageTag: "auto",
  github: { owner: "lumerin-protocol", repo: "proxy-router" },
  pattern: { prefix: "proxy-router-", suffix: "-dev" },
  deployedTagParameter: "/proxy-router/dev/image-tag",
};

const releases = (...tags: string[]): ReleaseSource => ({ listReleaseTags: async () => tags });
const deployed = (tag?: string) => async () => new Map(tag ? [[REQUEST.deployedTagParameter, tag]] : []);

describe("image tag resolution order", () => {
  const cases: { name: string; request?: Partial<ImageRequest>; releases?: ReleaseSource; deployed?: string; tag: string; origin: string }[] = [
    { name: "auto, first deploy: newest release", releases: releases("proxy-router-v3.1.0-dev", "proxy-router-v3.10.0-dev", "proxy-router-v3.9.9-dev"), tag: "proxy-router-v3.10.0-dev", origin: "latest-release" },
    { name: "auto, a newer release than the deployed one: roll forward", releases: releases("proxy-router-v3.2.0-dev"), deployed: "proxy-router-v3.1.0-dev", tag: "proxy-router-v3.2.0-dev", origin: "latest-release" },
    { name: "auto, the deployed tag is newer (release deleted, or not yet listed): never roll back", releases: releases("proxy-router-v3.2.0-dev"), deployed: "proxy-router-v3.3.0-dev", tag: "proxy-router-v3.3.0-dev", origin: "deployed" },
    { name: "auto, a deployed tag that is not a release of this env is kept, not guessed over", releases: releases("proxy-router-v3.2.0-dev"), deployed: "sha-1a2b3c", tag: "sha-1a2b3c", origin: "deployed" },
    { name: "auto, a deployed old-style tag without prefix still compares by semver", releases: releases("proxy-router-v1.7.4-dev"), deployed: "v1.7.5-dev", tag: "v1.7.5-dev", origin: "deployed" },
    { name: "pinned wins over everything (deliberate rollback)", request: { imageTag: "proxy-router-v3.0.0-dev" }, releases: releases("proxy-router-v3.2.0-dev"), deployed: "proxy-router-v3.2.0-dev", tag: "proxy-router-v3.0.0-dev", origin: "pinned" },
    { name: "offline: auto stays visibly unresolved even with a deployed tag", releases: undefined, deployed: "proxy-router-v3.2.0-dev", tag: UNRESOLVED_TAG, origin: "unresolved" },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const result = await resolveImages([{ ...REQUEST, ...c.request }], { environment: "dev", releases: c.releases, readDeployedTags: deployed(c.deployed) });
      const image = result.get("proxy-router");
      assert.equal(image?.tag, c.tag);
      assert.equal(image?.origin, c.origin);
      assert.equal(image?.image, `ghcr.io/lumerin-protocol/proxy-router:${c.tag}`);
    });
  }

  it("does not ask GitHub when every tag is pinned", async () => {
    let asked = 0;
    const counting: ReleaseSource = { listReleaseTags: async () => (asked++, []) };
    await resolveImages([{ ...REQUEST, imageTag: "v1.7.5-dev" }], { environment: "dev", releases: counting, readDeployedTags: deployed() });
    assert.equal(asked, 0);
  });
});

describe("image tags in the planned stack (real Octokit against a local GitHub)", () => {
  let github: FakeGitHub;
  before(async () => {
    github = await startFakeGitHub({
      repos: {
        "lumerin-protocol/proxy-router": {
          releases: [
            ...releasesOf(["proxy-router-v3.2.1-dev", "proxy-router-v3.10.0-stg", "proxy-router-v3.9.0", "v1.8.0-dev"]),
            { tag_name: "proxy-router-v9.9.9-dev", draft: true },
            ...releasesOf(Array.from({ length: 60 }, (_, i) => `proxy-router-v3.${i}.0-dev`)),
          ],
        },
      },
    });
  });
  after(() => github.close());

  it("resolves auto for both services with one request sequence and puts the tag in the task definitions and SSM", async () => {
    const before = github.requests.length;
    const plan = await planWith("dev", { releases: new GitHubReleaseSource({ baseUrl: github.baseUrl, perPage: 30 }) });
    const pages = github.requests.slice(before);
    assert.deepEqual(pages.map((r) => r.query.page ?? "1"), ["1", "2", "3"], "one paginated sequence for the repository, not one per service");
    for (const logical of ["proxy-router", "proxy-validator"]) {
      const [c] = containers(resource(plan, "aws:ecs/taskDefinition:TaskDefinition", `${logical}-svc-task`));
      assert.equal(c.image, "ghcr.io/lumerin-protocol/proxy-router:proxy-router-v3.59.0-dev");
      assert.equal(resource(plan, "aws:ssm/parameter:Parameter", `${logical}-image-tag`).inputs.insecureValue, "proxy-router-v3.59.0-dev");
    }
    assert.equal((plan.outputs.proxyRouter as { imageTagOrigin: string }).imageTagOrigin, "latest-release");
  });

  it("lmn takes only plain vX.Y.Z releases", async () => {
    const plan = await planWith("lmn", { releases: new GitHubReleaseSource({ baseUrl: github.baseUrl }) });
    const [c] = containers(resource(plan, "aws:ecs/taskDefinition:TaskDefinition", "proxy-router-svc-task"));
    assert.equal(c.image, "ghcr.io/lumerin-protocol/proxy-router:proxy-router-v3.9.0");
  });

  it("keeps the tag a code deploy recorded when it is newer than the newest listed release", async () => {
    const plan = await planWith("dev", {
      releases: new GitHubReleaseSource({ baseUrl: github.baseUrl }),
      ssmParameters: { "/proxy-router/dev/image-tag": "proxy-router-v4.0.0-dev" },
    });
    const router = containers(resource(plan, "aws:ecs/taskDefinition:TaskDefinition", "proxy-router-svc-task"))[0];
    const validator = containers(resource(plan, "aws:ecs/taskDefinition:TaskDefinition", "proxy-validator-svc-task"))[0];
    assert.equal(router.image, "ghcr.io/lumerin-protocol/proxy-router:proxy-router-v4.0.0-dev");
    assert.equal(validator.image, "ghcr.io/lumerin-protocol/proxy-router:proxy-router-v3.59.0-dev", "each service keeps its own deployed tag");
  });

  it("the offline plan without a GitHub URL shows auto as unresolved, never a guess", async () => {
    const plan = await planWith("dev");
    const [c] = containers(resource(plan, "aws:ecs/taskDefinition:TaskDefinition", "proxy-router-svc-task"));
    assert.equal(c.image, `ghcr.io/lumerin-protocol/proxy-router:${UNRESOLVED_TAG}`);
    assert.equal((plan.outputs.proxyRouter as { imageTagOrigin: string }).imageTagOrigin, "unresolved");
  });

  it("a failed lookup stops the run before any resource is registered, naming repository, environment and cause", async () => {
    const broken = await startFakeGitHub({ repos: { "lumerin-protocol/proxy-router": { error: { status: 401, message: "Bad credentials" } } } });
    try {
      const error = await planWith("stg", { releases: new GitHubReleaseSource({ baseUrl: broken.baseUrl, token: "expired" }) }).then(
        () => assert.fail("the plan should have failed"),
        (err: unknown) => err,
      );
      assert.ok(error instanceof ImageTagLookupError);
      assert.match(error.message, /lumerin-protocol\/proxy-router/);
      assert.match(error.message, /"stg"/);
      assert.match(error.message, /401/);
      assert.deepEqual(registeredInLastRun(), ["urn:pulumi:stg::lumerin-infra::pulumi:pulumi:Stack::lumerin-infra-stg"], "only the stack itself");
    } finally {
      await broken.close();
    }
  });

  it("a repository with no release for the environment is an error, not a fallback", async () => {
    const empty = await startFakeGitHub({ repos: { "lumerin-protocol/proxy-router": { releases: releasesOf(["proxy-router-v1.0.0-dev"]) } } });
    try {
      await assert.rejects(
        planWith("stg", { releases: new GitHubReleaseSource({ baseUrl: empty.baseUrl }) }),
        (err: unknown) => err instanceof ImageTagLookupError && /no release matches proxy-router-vX\.Y\.Z-stg/.test(err.message),
      );
    } finally {
      await empty.close();
    }
  });
});
