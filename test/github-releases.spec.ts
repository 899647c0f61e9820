import assert from "node:assert/strict";
import {
  GitHubReleaseSource,
  ImageTagLookupError,
  resolveLatestTags,
  type LatestTagRequest,
  type ReleaseSource,
  type RepoRef,
} from "../lib/github-releases";
import type { TagPattern } from "../lib/image-tags";
import {
  closedPortUrl,
  releasesOf,
  startFakeGitHub,
  type FakeGitHub,
  type FakeRelease,
  type RecordedRequest,
} from "./support/fake-github";

const ROUTER: RepoRef = { owner: "lumerin-protocol", repo: "proxy-router" };
const MARKET_MAKER: RepoRef = { owner: "lumerin-protocol", repo: "market-maker" };
const DEV: TagPattern = { prefix: "", suffix: "-dev" };
const LMN: TagPattern = { prefix: "", suffix: "" };

const RESET_EPOCH = 1_900_000_000;
const RESET_ISO = new Date(RESET_EPOCH * 1000).toISOString(); // 2030-03-17T17:46:40.000Z

/** 70 releases `v1.N.0-dev`, N = 0..69, in a scrambled but fixed order; v1.69.0-dev is on the last page. */
function scrambledReleases(): FakeRelease[] {
  const order = Array.from({ length: 70 }, (_, i) => (i * 31) % 70); // 31 is coprime with 70: a permutation
  const releases = order.filter((n) => n !== 69).map((n) => ({ tag_name: `v1.${n}.0-dev`, prerelease: true }));
  releases.push({ tag_name: "v1.69.0-dev", prerelease: true });
  return releases;
}

function releasesRequests(requests: readonly RecordedRequest[], repo: RepoRef): RecordedRequest[] {
  const path = `/repos/${repo.owner}/${repo.repo}/releases`.toLowerCase();
  return requests.filter((r) => r.path.toLowerCase() === path);
}

function request(key: string, repo: RepoRef, pattern: TagPattern, environment: string): LatestTagRequest {
  return { key, repo, pattern, environment };
}

/** Runs `promise`, expects an ImageTagLookupError and returns it. */
async function lookupError(promise: Promise<unknown>): Promise<ImageTagLookupError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ImageTagLookupError, `expected ImageTagLookupError, got ${String(error)}`);
    return error;
  }
  assert.fail("expected an ImageTagLookupError, but the lookup succeeded");
}

function assertNames(error: ImageTagLookupError, repository: string, environment: string, cause: RegExp): void {
  assert.ok(error.message.includes(repository), `message names ${repository}: ${error.message}`);
  assert.ok(error.message.includes(`"${environment}"`), `message names stack ${environment}: ${error.message}`);
  assert.match(error.message, cause);
  assert.equal(error.repository, repository);
  assert.equal(error.environment, environment);
  assert.match(error.reason, cause);
}

describe("github-releases", () => {
  let fake: FakeGitHub;

  before(async () => {
    fake = await startFakeGitHub({
      repos: {
        "lumerin-protocol/proxy-router": {
          releases: [
            { tag_name: "proxy-router-v3.11.0-dev", draft: true }, // highest, but a draft
            { tag_name: "proxy-router-v3.2.1-dev", prerelease: true },
            { tag_name: "validator-v2.0.1-dev", prerelease: true },
            { tag_name: "proxy-router-v3.10.0", prerelease: false },
            { tag_name: "validator-v2.0.10-dev", prerelease: true },
            { tag_name: "v1.7.5-dev", prerelease: true },
            { tag_name: "proxy-router-v3.9.0-dev", prerelease: true },
          ],
        },
        "lumerin-protocol/many": { releases: scrambledReleases() },
        "lumerin-protocol/empty": { releases: [] },
        "lumerin-protocol/other": {
          releases: releasesOf(["latest", "v1.0.0-stg", "v1.2", "v2.0.0-stg", "x", "y", "z"]),
        },
        "lumerin-protocol/private": { error: { status: 404, message: "Not Found" } },
        "lumerin-protocol/badtoken": { error: { status: 401, message: "Bad credentials" } },
        "lumerin-protocol/ratelimited": {
          error: {
            status: 403,
            message: "API rate limit exceeded for 127.0.0.1.",
            headers: {
              "x-ratelimit-limit": "60",
              "x-ratelimit-remaining": "0",
              "x-ratelimit-used": "60",
              "x-ratelimit-reset": String(RESET_EPOCH),
            },
          },
        },
        "lumerin-protocol/ratelimited429": {
          error: {
            status: 429,
            message: "API rate limit exceeded",
            headers: { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(RESET_EPOCH) },
          },
        },
        "lumerin-protocol/forbidden": {
          error: { status: 403, message: "Resource not accessible by personal access token" },
        },
        "lumerin-protocol/broken": { error: { status: 500, message: "Server Error" } },
        "lumerin-protocol/gateway": { error: { status: 502, message: "Bad Gateway" } },
        "lumerin-protocol/slow": { hang: true },
      },
    });
  });

  after(async () => {
    await fake.close();
  });

  describe("GitHubReleaseSource", () => {
    it("lists every page, following Link headers, with per_page", async () => {
      const source = new GitHubReleaseSource({ baseUrl: fake.baseUrl, perPage: 30 });
      const repo = { owner: "lumerin-protocol", repo: "many" };
      const before = fake.requests.length;
      const tags = await source.listReleaseTags(repo);
      assert.equal(tags.length, 70);
      assert.equal(new Set(tags).size, 70);
      assert.equal(tags[69], "v1.69.0-dev"); // GitHub's order is kept
      const log = fake.requests.slice(before);
      assert.deepEqual(
        log.map((r) => [r.method, r.path, r.query["per_page"], r.query["page"] ?? "1"]),
        [
          ["GET", "/repos/lumerin-protocol/many/releases", "30", "1"],
          ["GET", "/repos/lumerin-protocol/many/releases", "30", "2"],
          ["GET", "/repos/lumerin-protocol/many/releases", "30", "3"],
        ],
      );
    });

    it("leaves drafts out and keeps prereleases", async () => {
      const source = new GitHubReleaseSource({ baseUrl: fake.baseUrl, perPage: 2 });
      const tags = await source.listReleaseTags(ROUTER);
      assert.deepEqual(tags, [
        "proxy-router-v3.2.1-dev",
        "validator-v2.0.1-dev",
        "proxy-router-v3.10.0",
        "validator-v2.0.10-dev",
        "v1.7.5-dev",
        "proxy-router-v3.9.0-dev",
      ]);
    });

    it("shares one request sequence per repository, case-insensitively", async () => {
      const source = new GitHubReleaseSource({ baseUrl: fake.baseUrl, perPage: 3 });
      const before = fake.requests.length;
      const [a, b, c] = await Promise.all([
        source.listReleaseTags(ROUTER),
        source.listReleaseTags({ owner: "Lumerin-Protocol", repo: "Proxy-Router" }),
        source.listReleaseTags(ROUTER),
      ]);
      const again = await source.listReleaseTags(ROUTER);
      assert.deepEqual(b, a);
      assert.deepEqual(c, a);
      assert.deepEqual(again, a);
      assert.deepEqual(
        fake.requests.slice(before).map((r) => r.query["page"] ?? "1"),
        ["1", "2", "3"], // 7 releases, 3 per page: one sequence of 3 pages
      );
    });

    it("sends the token as authorization when given", async () => {
      const source = new GitHubReleaseSource({
        baseUrl: fake.baseUrl,
        token: "ghp_fake123",
        userAgent: "lumerin-infra-test",
      });
      const before = fake.requests.length;
      await source.listReleaseTags(ROUTER);
      const log = fake.requests.slice(before);
      assert.equal(log.length, 1);
      assert.equal(log[0]!.authorization, "token ghp_fake123");
      assert.equal(log[0]!.userAgent?.startsWith("lumerin-infra-test"), true);
    });

    it("sends no authorization without a token (or with an empty one)", async () => {
      for (const options of [{}, { token: "" }]) {
        const source = new GitHubReleaseSource({ baseUrl: fake.baseUrl, ...options });
        const before = fake.requests.length;
        await source.listReleaseTags(ROUTER);
        const log = fake.requests.slice(before);
        assert.equal(log.length, 1);
        assert.equal(log[0]!.authorization, undefined);
      }
    });

    it("rejects an out-of-range perPage", () => {
      assert.throws(() => new GitHubReleaseSource({ perPage: 0 }), RangeError);
      assert.throws(() => new GitHubReleaseSource({ perPage: 101 }), RangeError);
    });
  });

  describe("resolveLatestTags", () => {
    it("picks the highest release across ≥3 pages, even on the last page in scrambled order", async () => {
      const source = new GitHubReleaseSource({ baseUrl: fake.baseUrl, perPage: 30 });
      const repo = { owner: "lumerin-protocol", repo: "many" };
      const result = await resolveLatestTags([request("svc", repo, DEV, "dev")], source);
      assert.deepEqual(result.get("svc"), { tag: "v1.69.0-dev", major: 1, minor: 69, patch: 0 });
    });

    it("resolves router and validator from one repository with one request sequence", async () => {
      const source = new GitHubReleaseSource({ baseUrl: fake.baseUrl, perPage: 2 });
      const before = fake.requests.length;
      const result = await resolveLatestTags(
        [
          request("proxy-router", ROUTER, { prefix: "proxy-router-", suffix: "-dev" }, "dev"),
          request(
            "validator",
            { owner: "Lumerin-Protocol", repo: "proxy-router" },
            { prefix: "validator-", suffix: "-dev" },
            "dev",
          ),
          request("router-lmn", ROUTER, { prefix: "proxy-router-", suffix: "" }, "lmn"),
          request("legacy", ROUTER, DEV, "dev"),
        ],
        source,
      );
      assert.deepEqual([...result.keys()], ["proxy-router", "validator", "router-lmn", "legacy"]);
      assert.equal(result.get("proxy-router")?.tag, "proxy-router-v3.9.0-dev"); // the v3.11.0 draft is ignored
      assert.equal(result.get("validator")?.tag, "validator-v2.0.10-dev"); // numeric, not list order
      assert.equal(result.get("router-lmn")?.tag, "proxy-router-v3.10.0");
      assert.equal(result.get("legacy")?.tag, "v1.7.5-dev");
      const log = fake.requests.slice(before);
      assert.deepEqual(
        log.map((r) => `${r.path}?page=${r.query["page"] ?? "1"}`),
        [1, 2, 3, 4].map((p) => `/repos/lumerin-protocol/proxy-router/releases?page=${p}`),
      );
    });

    it("lists different repositories once each", async () => {
      const source = new GitHubReleaseSource({ baseUrl: fake.baseUrl });
      const other = { owner: "lumerin-protocol", repo: "other" };
      const before = fake.requests.length;
      const result = await resolveLatestTags(
        [request("a", ROUTER, DEV, "dev"), request("b", other, { prefix: "", suffix: "-stg" }, "stg")],
        source,
      );
      assert.equal(result.get("a")?.tag, "v1.7.5-dev");
      assert.equal(result.get("b")?.tag, "v2.0.0-stg");
      const log = fake.requests.slice(before);
      assert.equal(log.length, 2);
      assert.equal(releasesRequests(log, ROUTER).length, 1);
      assert.equal(releasesRequests(log, other).length, 1);
    });

    it("returns an empty map for no requests, without any request", async () => {
      const before = fake.requests.length;
      const result = await resolveLatestTags([], new GitHubReleaseSource({ baseUrl: fake.baseUrl }));
      assert.equal(result.size, 0);
      assert.equal(fake.requests.length, before);
    });

    describe("failures name repository, environment and cause", () => {
      async function failure(repo: string, environment = "dev", options: { token?: string; timeoutMs?: number } = {}) {
        const source = new GitHubReleaseSource({ baseUrl: fake.baseUrl, ...options });
        const ref = { owner: "lumerin-protocol", repo };
        return lookupError(resolveLatestTags([request("svc", ref, DEV, environment)], source));
      }

      it("404: not found or not visible; suggests GITHUB_TOKEN", async () => {
        const error = await failure("private");
        assertNames(error, "lumerin-protocol/private", "dev", /repository not found, or not visible to the token/);
        assert.match(error.message, /set GITHUB_TOKEN for a private repository/);
        assert.equal(
          error.message,
          'imageTag "auto" for stack "dev": cannot list releases of lumerin-protocol/private: ' +
            "repository not found, or not visible to the token (set GITHUB_TOKEN for a private repository)",
        );
      });

      it("401: the token was rejected", async () => {
        const error = await failure("badtoken", "stg", { token: "ghp_wrong" });
        assertNames(
          error,
          "lumerin-protocol/badtoken",
          "stg",
          /GitHub rejected the token in GITHUB_TOKEN \(401 Bad credentials\)/,
        );
        assert.ok(!error.message.includes("ghp_wrong"), "the token never appears in the message");
      });

      it("403 with the rate limit exhausted: reset time and GITHUB_TOKEN", async () => {
        const error = await failure("ratelimited", "lmn");
        assertNames(error, "lumerin-protocol/ratelimited", "lmn", /GitHub API rate limit exhausted/);
        assert.ok(error.message.includes(`resets at ${RESET_ISO}`), error.message);
        assert.match(error.message, /set GITHUB_TOKEN/);
      });

      it("429 with the rate limit exhausted is the same", async () => {
        const error = await failure("ratelimited429");
        assertNames(error, "lumerin-protocol/ratelimited429", "dev", /GitHub API rate limit exhausted/);
        assert.ok(error.message.includes(RESET_ISO), error.message);
      });

      it("other 403: forbidden, with GitHub's message", async () => {
        const error = await failure("forbidden");
        assertNames(error, "lumerin-protocol/forbidden", "dev", /forbidden/i);
        assert.match(error.message, /Resource not accessible by personal access token/);
        assert.doesNotMatch(error.message, /rate limit/);
      });

      it("500 and 502: GitHub answered <status>", async () => {
        assertNames(await failure("broken"), "lumerin-protocol/broken", "dev", /GitHub answered 500/);
        assertNames(await failure("gateway"), "lumerin-protocol/gateway", "dev", /GitHub answered 502/);
      });

      it("connection refused: network error naming the base URL and ECONNREFUSED", async () => {
        const baseUrl = await closedPortUrl();
        const source = new GitHubReleaseSource({ baseUrl });
        const error = await lookupError(resolveLatestTags([request("svc", ROUTER, DEV, "dev")], source));
        assertNames(
          error,
          "lumerin-protocol/proxy-router",
          "dev",
          /network error reaching http:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/,
        );
        assert.ok(error.message.includes(baseUrl), error.message);
      });

      it("no answer within timeoutMs: network error, timed out", async () => {
        const error = await failure("slow", "dev", { timeoutMs: 100 });
        assertNames(
          error,
          "lumerin-protocol/slow",
          "dev",
          /network error reaching http:\/\/127\.0\.0\.1:\d+: .*ETIMEDOUT.*100 ms/,
        );
      });

      it("no matching release: names the pattern, the count and the most recent tags", async () => {
        const source = new GitHubReleaseSource({ baseUrl: fake.baseUrl });
        const other = { owner: "lumerin-protocol", repo: "other" };
        const error = await lookupError(
          resolveLatestTags([request("market-maker", other, { prefix: "market-maker-", suffix: "" }, "lmn")], source),
        );
        assertNames(
          error,
          "lumerin-protocol/other",
          "lmn",
          /no release matches market-maker-vX\.Y\.Z among 7 releases seen/,
        );
        assert.match(error.message, /market-maker/);
        assert.match(error.message, /most recent: latest, v1\.0\.0-stg, v1\.2, v2\.0\.0-stg, x, … \(2 more\)/);
      });

      it("no release at all", async () => {
        const error = await failure("empty", "stg");
        assertNames(
          error,
          "lumerin-protocol/empty",
          "stg",
          /no release matches vX\.Y\.Z-dev: the repository has no \(non-draft\) releases/,
        );
      });

      it("reports every failing repository in one throw", async () => {
        const source = new GitHubReleaseSource({ baseUrl: fake.baseUrl });
        const error = await lookupError(
          resolveLatestTags(
            [
              request("ok", ROUTER, DEV, "dev"),
              request("a", { owner: "lumerin-protocol", repo: "private" }, DEV, "dev"),
              request("b", { owner: "lumerin-protocol", repo: "broken" }, DEV, "dev"),
              request("c", ROUTER, LMN, "dev"), // listed fine, but no plain vX.Y.Z release
            ],
            source,
          ),
        );
        assert.equal(error.failures.length, 3);
        // in request order: the proxy-router group (request "c") comes first
        assert.deepEqual(
          error.failures.map((f) => f.repository),
          ["lumerin-protocol/proxy-router", "lumerin-protocol/private", "lumerin-protocol/broken"],
        );
        assert.match(error.message, /lumerin-protocol\/private: repository not found/);
        assert.match(error.message, /lumerin-protocol\/broken: GitHub answered 500/);
        assert.match(error.message, /no release matches vX\.Y\.Z among/);
        assert.match(error.repository, /lumerin-protocol\/private/);
        assert.match(error.repository, /lumerin-protocol\/broken/);
        assert.equal(error.environment, "dev");
        for (const f of error.failures) assert.ok(f instanceof ImageTagLookupError);
      });

      it("a repository failing for two stacks is reported for each stack", async () => {
        const source = new GitHubReleaseSource({ baseUrl: fake.baseUrl });
        const before = fake.requests.length;
        const repo = { owner: "lumerin-protocol", repo: "private" };
        const error = await lookupError(
          resolveLatestTags([request("x", repo, DEV, "dev"), request("y", repo, LMN, "lmn")], source),
        );
        assert.deepEqual(
          error.failures.map((f) => f.environment),
          ["dev", "lmn"],
        );
        assert.equal(fake.requests.length - before, 1);
      });
    });

    describe("with any ReleaseSource", () => {
      it("reports a non-Error rejection too", async () => {
        const source: ReleaseSource = {
          listReleaseTags: () => Promise.reject("boom"),
        };
        const error = await lookupError(resolveLatestTags([request("svc", MARKET_MAKER, LMN, "lmn")], source));
        assertNames(error, "lumerin-protocol/market-maker", "lmn", /boom/);
      });

      it("rejects duplicate keys", async () => {
        const source: ReleaseSource = { listReleaseTags: async () => ["v1.0.0"] };
        await assert.rejects(
          resolveLatestTags([request("k", ROUTER, LMN, "lmn"), request("k", MARKET_MAKER, LMN, "lmn")], source),
          /duplicate key "k"/,
        );
      });
    });
  });
});
