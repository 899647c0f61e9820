import { strict as assert } from "node:assert";
import { GitHubReleaseSource, ImageTagLookupError, ReleaseSource } from "../lib/github-releases";
import { ImageRequest, UNRESOLVED_TAG, resolveImages } from "../lib/image-resolution";
import { FakeGitHub, releasesOf, startFakeGitHub } from "./support/fake-github";
import { containers, freshEstateConfig, planWith, registeredInLastRun, resource } from "./support/plan";
import { planFiles } from "../tools/plan-stack";

/** The committed stack's proxyRouter config with the validator pinned to `tag` (the router left on auto). */
function validatorPinned(stack: "dev" | "stg" | "lmn", tag: string): Record<string, string> {
  const key = "lumerin-infra:proxyRouter";
  const cfg = JSON.parse(planFiles(stack).config[key]) as {
    router: { imageTag?: string };
    validator: { imageTag?: string };
  };
  assert.equal(cfg.router.imageTag, "auto", "the committed router follows auto");
  cfg.validator.imageTag = tag;
  return { [key]: JSON.stringify(cfg) };
}

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
  const cases: {
    name: string;
    request?: Partial<ImageRequest>;
    releases?: ReleaseSource;
    deployed?: string;
    tag: string;
    origin: string;
  }[] = [
    {
      name: "auto, first deploy: newest release",
      releases: releases("proxy-router-v3.1.0-dev", "proxy-router-v3.10.0-dev", "proxy-router-v3.9.9-dev"),
      tag: "proxy-router-v3.10.0-dev",
      origin: "latest-release",
    },
    {
      name: "auto, a newer release than the deployed one: roll forward",
      releases: releases("proxy-router-v3.2.0-dev"),
      deployed: "proxy-router-v3.1.0-dev",
      tag: "proxy-router-v3.2.0-dev",
      origin: "latest-release",
    },
    {
      name: "auto, the deployed tag is newer (release deleted, or not yet listed): never roll back",
      releases: releases("proxy-router-v3.2.0-dev"),
      deployed: "proxy-router-v3.3.0-dev",
      tag: "proxy-router-v3.3.0-dev",
      origin: "deployed",
    },
    {
      name: "auto, a deployed tag that is not a release of this env is kept, not guessed over",
      releases: releases("proxy-router-v3.2.0-dev"),
      deployed: "sha-1a2b3c",
      tag: "sha-1a2b3c",
      origin: "deployed",
    },
    {
      name: "auto, a deployed old-style tag without prefix still compares by semver",
      releases: releases("proxy-router-v1.7.4-dev"),
      deployed: "v1.7.5-dev",
      tag: "v1.7.5-dev",
      origin: "deployed",
    },
    {
      name: "pinned wins over everything (deliberate rollback)",
      request: { imageTag: "proxy-router-v3.0.0-dev" },
      releases: releases("proxy-router-v3.2.0-dev"),
      deployed: "proxy-router-v3.2.0-dev",
      tag: "proxy-router-v3.0.0-dev",
      origin: "pinned",
    },
    {
      name: "offline: auto stays visibly unresolved even with a deployed tag",
      releases: undefined,
      deployed: "proxy-router-v3.2.0-dev",
      tag: UNRESOLVED_TAG,
      origin: "unresolved",
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const result = await resolveImages([{ ...REQUEST, ...c.request }], {
        environment: "dev",
        releases: c.releases,
        readDeployedTags: deployed(c.deployed),
      });
      const image = result.get("proxy-router");
      assert.equal(image?.tag, c.tag);
      assert.equal(image?.origin, c.origin);
      assert.equal(image?.image, `ghcr.io/lumerin-protocol/proxy-router:${c.tag}`);
    });
  }

  it("gives each service its own request: one pinned, one auto, one listing of the shared repository", async () => {
    const listed: string[] = [];
    const asked: string[][] = [];
    const source: ReleaseSource = {
      listReleaseTags: async (repo) => (listed.push(`${repo.owner}/${repo.repo}`), ["proxy-router-v3.2.0-dev"]),
    };
    const validator: ImageRequest = {
      ...REQUEST,
      key: "proxy-validator",
      imageTag: "proxy-router-v3.0.0-dev",
      deployedTagParameter: "/proxy-validator/dev/image-tag",
    };
    const result = await resolveImages([REQUEST, validator], {
      environment: "dev",
      releases: source,
      readDeployedTags: async (names) => (asked.push([...names]), new Map()),
    });
    assert.deepEqual(
      [result.get("proxy-router")?.tag, result.get("proxy-router")?.origin],
      ["proxy-router-v3.2.0-dev", "latest-release"],
    );
    assert.deepEqual(
      [result.get("proxy-validator")?.tag, result.get("proxy-validator")?.origin],
      ["proxy-router-v3.0.0-dev", "pinned"],
    );
    assert.deepEqual(listed, ["lumerin-protocol/proxy-router"]);
    assert.deepEqual(
      asked,
      [["/proxy-router/dev/image-tag", "/proxy-validator/dev/image-tag"]],
      "each service's own deployed-tag parameter, read once",
    );
  });

  it("lists a repository once when both services follow auto, and each keeps its own deployed tag", async () => {
    let listings = 0;
    const source: ReleaseSource = { listReleaseTags: async () => (listings++, ["proxy-router-v3.2.0-dev"]) };
    const validator: ImageRequest = {
      ...REQUEST,
      key: "proxy-validator",
      deployedTagParameter: "/proxy-validator/dev/image-tag",
    };
    const result = await resolveImages([REQUEST, validator], {
      environment: "dev",
      releases: source,
      readDeployedTags: async () => new Map([["/proxy-validator/dev/image-tag", "proxy-router-v3.3.0-dev"]]),
    });
    assert.equal(listings, 1);
    assert.deepEqual(
      [result.get("proxy-router")?.tag, result.get("proxy-router")?.origin],
      ["proxy-router-v3.2.0-dev", "latest-release"],
    );
    assert.deepEqual(
      [result.get("proxy-validator")?.tag, result.get("proxy-validator")?.origin],
      ["proxy-router-v3.3.0-dev", "deployed"],
    );
  });

  it("does not ask GitHub when every tag is pinned", async () => {
    let asked = 0;
    const counting: ReleaseSource = { listReleaseTags: async () => (asked++, []) };
    await resolveImages([{ ...REQUEST, imageTag: "v1.7.5-dev" }], {
      environment: "dev",
      releases: counting,
      readDeployedTags: deployed(),
    });
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
        // One repository, two images, told apart by their tag prefix.
        "lumerin-protocol/futures-marketplace": {
          releases: releasesOf([
            "notifications-v2.0.1-dev",
            "market-maker-v1.5.0-dev",
            "market-maker-v1.4.0-dev",
            "market-maker-v1.3.0-stg",
            "market-maker-v1.2.0",
            "notifications-v2.0.0",
            "ui-v9.0.0-dev",
          ]),
        },
      },
    });
  });
  after(() => github.close());

  it("resolves auto for both services with one request sequence and puts the tag in the task definitions and SSM", async () => {
    const before = github.requests.length;
    // The market maker on ECS (the program's default): its image follows its own prefix.
    const plan = await planWith("dev", {
      overrides: freshEstateConfig("dev"),
      releases: new GitHubReleaseSource({ baseUrl: github.baseUrl, perPage: 30 }),
    });
    const requests = github.requests.slice(before);
    const pages = requests.filter((r) => r.path === "/repos/Lumerin-protocol/proxy-router/releases");
    assert.deepEqual(
      pages.map((r) => r.query.page ?? "1"),
      ["1", "2", "3"],
      "one paginated sequence for the repository, not one per service",
    );
    assert.equal(
      requests.filter((r) => r.path === "/repos/Lumerin-protocol/futures-marketplace/releases").length,
      1,
      "and one for the futures repository",
    );
    const [mm] = containers(resource(plan, "aws:ecs/taskDefinition:TaskDefinition", "futures-market-maker-svc-task"));
    assert.equal(
      mm.image,
      "ghcr.io/lumerin-protocol/market-maker:market-maker-v1.5.0-dev",
      "the market maker follows its own prefix",
    );
    for (const logical of ["proxy-router", "proxy-validator"]) {
      const [c] = containers(resource(plan, "aws:ecs/taskDefinition:TaskDefinition", `${logical}-svc-task`));
      assert.equal(c.image, "ghcr.io/lumerin-protocol/proxy-router:proxy-router-v3.59.0-dev");
      assert.equal(
        resource(plan, "aws:ssm/parameter:Parameter", `${logical}-image-tag`).inputs.insecureValue,
        "proxy-router-v3.59.0-dev",
      );
    }
    assert.equal((plan.outputs.proxyRouter as { imageTagOrigin: string }).imageTagOrigin, "latest-release");
  });

  it("pins only the validator (a rollback of one service): the router still follows auto, with one listing", async () => {
    const before = github.requests.length;
    const plan = await planWith("dev", {
      overrides: validatorPinned("dev", "proxy-router-v3.1.0-dev"),
      releases: new GitHubReleaseSource({ baseUrl: github.baseUrl, perPage: 30 }),
    });
    const pages = github.requests
      .slice(before)
      .filter((r) => r.path === "/repos/Lumerin-protocol/proxy-router/releases");
    assert.deepEqual(
      pages.map((r) => r.query.page ?? "1"),
      ["1", "2", "3"],
      "the router's lookup alone: one paginated sequence",
    );
    const image = (logical: string) =>
      containers(resource(plan, "aws:ecs/taskDefinition:TaskDefinition", `${logical}-svc-task`))[0].image;
    assert.equal(image("proxy-router"), "ghcr.io/lumerin-protocol/proxy-router:proxy-router-v3.59.0-dev");
    assert.equal(image("proxy-validator"), "ghcr.io/lumerin-protocol/proxy-router:proxy-router-v3.1.0-dev");
    assert.equal(
      resource(plan, "aws:ssm/parameter:Parameter", "proxy-router-image-tag").inputs.insecureValue,
      "proxy-router-v3.59.0-dev",
    );
    assert.equal(
      resource(plan, "aws:ssm/parameter:Parameter", "proxy-validator-image-tag").inputs.insecureValue,
      "proxy-router-v3.1.0-dev",
    );
    const origin = (output: string) => (plan.outputs[output] as { imageTagOrigin: string }).imageTagOrigin;
    assert.deepEqual([origin("proxyRouter"), origin("proxyValidator")], ["latest-release", "pinned"]);
  });

  it("offline, a pinned validator shows its tag while the router's auto stays unresolved", async () => {
    const plan = await planWith("lmn", { overrides: validatorPinned("lmn", "v1.7.5") });
    const image = (logical: string) =>
      containers(resource(plan, "aws:ecs/taskDefinition:TaskDefinition", `${logical}-svc-task`))[0].image;
    assert.equal(image("proxy-router"), `ghcr.io/lumerin-protocol/proxy-router:${UNRESOLVED_TAG}`);
    assert.equal(
      image("proxy-validator"),
      "ghcr.io/lumerin-protocol/proxy-router:v1.7.5",
      "an old-style tag without the prefix is still a lmn release",
    );
  });

  it("lmn takes only plain vX.Y.Z releases", async () => {
    const plan = await planWith("lmn", {
      overrides: freshEstateConfig("lmn"),
      releases: new GitHubReleaseSource({ baseUrl: github.baseUrl }),
    });
    const [c] = containers(resource(plan, "aws:ecs/taskDefinition:TaskDefinition", "proxy-router-svc-task"));
    assert.equal(c.image, "ghcr.io/lumerin-protocol/proxy-router:proxy-router-v3.9.0");
    const [mm] = containers(resource(plan, "aws:ecs/taskDefinition:TaskDefinition", "futures-market-maker-svc-task"));
    assert.equal(mm.image, "ghcr.io/lumerin-protocol/market-maker:market-maker-v1.2.0");
  });

  it("keeps the tag a code deploy recorded when it is newer than the newest listed release", async () => {
    const plan = await planWith("dev", {
      releases: new GitHubReleaseSource({ baseUrl: github.baseUrl }),
      ssmParameters: { "/proxy-router/dev/image-tag": "proxy-router-v4.0.0-dev" },
    });
    const router = containers(resource(plan, "aws:ecs/taskDefinition:TaskDefinition", "proxy-router-svc-task"))[0];
    const validator = containers(
      resource(plan, "aws:ecs/taskDefinition:TaskDefinition", "proxy-validator-svc-task"),
    )[0];
    assert.equal(router.image, "ghcr.io/lumerin-protocol/proxy-router:proxy-router-v4.0.0-dev");
    assert.equal(
      validator.image,
      "ghcr.io/lumerin-protocol/proxy-router:proxy-router-v3.59.0-dev",
      "each service keeps its own deployed tag",
    );
  });

  it("the offline plan without a GitHub URL shows auto as unresolved, never a guess", async () => {
    const plan = await planWith("dev");
    const [c] = containers(resource(plan, "aws:ecs/taskDefinition:TaskDefinition", "proxy-router-svc-task"));
    assert.equal(c.image, `ghcr.io/lumerin-protocol/proxy-router:${UNRESOLVED_TAG}`);
    assert.equal((plan.outputs.proxyRouter as { imageTagOrigin: string }).imageTagOrigin, "unresolved");
  });

  it("a failed lookup stops the run before any resource is registered, naming repository, environment and cause", async () => {
    const broken = await startFakeGitHub({
      repos: { "lumerin-protocol/proxy-router": { error: { status: 401, message: "Bad credentials" } } },
    });
    try {
      const error = await planWith("stg", {
        releases: new GitHubReleaseSource({ baseUrl: broken.baseUrl, token: "expired" }),
      }).then(
        () => assert.fail("the plan should have failed"),
        (err: unknown) => err,
      );
      assert.ok(error instanceof ImageTagLookupError);
      assert.match(error.message, /Lumerin-protocol\/proxy-router/);
      assert.match(error.message, /"stg"/);
      assert.match(error.message, /401/);
      assert.deepEqual(
        registeredInLastRun(),
        ["urn:pulumi:stg::lumerin-infra::pulumi:pulumi:Stack::lumerin-infra-stg"],
        "only the stack itself",
      );
    } finally {
      await broken.close();
    }
  });

  it("a repository with no release for the environment is an error, not a fallback", async () => {
    const empty = await startFakeGitHub({
      repos: { "lumerin-protocol/proxy-router": { releases: releasesOf(["proxy-router-v1.0.0-dev"]) } },
    });
    try {
      await assert.rejects(
        planWith("stg", { releases: new GitHubReleaseSource({ baseUrl: empty.baseUrl }) }),
        (err: unknown) =>
          err instanceof ImageTagLookupError && /no release matches proxy-router-vX\.Y\.Z-stg/.test(err.message),
      );
    } finally {
      await empty.close();
    }
  });
});
