/**
 * Entry point for the Pulumi CLI (`pulumi preview`, `pulumi up`). It only wires
 * the live dependencies; the composition is `stack.ts`, which the offline plan
 * and the tests run unchanged under Pulumi's mocks.
 */
import * as pulumi from "@pulumi/pulumi";
import { DeployBlockedError } from "./config/dns";
import { ConfigError, pulumiConfigSource } from "./config/load";
import { GitHubReleaseSource, ImageTagLookupError } from "./lib/github-releases";
import { lumerinStack } from "./stack";

export = lumerinStack({
  config: pulumiConfigSource(),
  // GITHUB_API_URL is what GitHub Actions sets (and GitHub Enterprise needs); GITHUB_TOKEN lifts the rate limit.
  releases: new GitHubReleaseSource({ baseUrl: process.env.GITHUB_API_URL, token: process.env.GITHUB_TOKEN }),
  // A stack with a one-time step still to do (a pending DNS role) is never previewed or deployed half-way.
  blockers: "refuse",
}).catch((err: unknown) => {
  // Input errors are reported as their message alone, without a stack trace.
  if (err instanceof ConfigError || err instanceof ImageTagLookupError || err instanceof DeployBlockedError)
    throw new pulumi.RunError(err.message);
  throw err;
});
