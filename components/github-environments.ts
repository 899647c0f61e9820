import * as pulumi from "@pulumi/pulumi";
import * as github from "@pulumi/github";
import type { Environment } from "../config/environments";

export interface EnvironmentRepository {
  /** Stable key: part of logical names. */
  readonly key: string;
  /** `owner/repo`. */
  readonly repository: string;
  /** Plain (non-secret) environment variables: role ARNs, region, cluster and service names. */
  readonly variables: Readonly<Record<string, pulumi.Input<string>>>;
  /**
   * Plain repository-level variables, for jobs that run outside any environment
   * (a pull request's preview, the scheduled drift check). Each stack owns distinct
   * names (suffixed by stack), so three stacks never write the same variable.
   */
  readonly repositoryVariables?: Readonly<Record<string, pulumi.Input<string>>>;
}

/** One service as the image-deploy workflow needs it (variable `ECS_DEPLOY_TARGETS`). */
export interface EcsDeployTarget {
  readonly service: pulumi.Input<string>;
  /** The container whose image a deploy replaces. */
  readonly container: string;
  /** Image repository, without tag. */
  readonly image: string;
  /** The release tags this environment accepts for it (`pinnedTagPattern`: the program's own check). */
  readonly tagPattern: string;
  /** SSM parameter recording the tag it runs. */
  readonly imageTagParameter: string;
  /** How long the workflow waits for ECS to complete a rollout, bake time included (`rolloutDeadlineMinutes` in lib/rollout.ts). */
  readonly rolloutDeadlineMinutes: number;
}

/**
 * `ECS_DEPLOY_TARGETS`: the services a repository deploys, in deploy order, each
 * with what the reusable image-deploy workflow needs to deploy it. JSON, because
 * the workflow reads it with `jq`.
 */
export function ecsDeployTargetsVariable(targets: readonly EcsDeployTarget[]): pulumi.Output<string> {
  return pulumi.all(targets.map((t) => pulumi.output(t.service))).apply((services) =>
    JSON.stringify(
      services.map((service, i) => ({
        service,
        container: targets[i].container,
        image: targets[i].image,
        tagPattern: targets[i].tagPattern,
        imageTagParameter: targets[i].imageTagParameter,
        rolloutDeadlineMinutes: targets[i].rolloutDeadlineMinutes,
      })),
    ),
  );
}

export interface GitHubEnvironmentsArgs {
  readonly env: Environment;
  /** GitHub owner (organisation) all repositories belong to. */
  readonly owner: string;
  readonly repositories: readonly EnvironmentRepository[];
  /** Required reviewers of production deployments (GitHub user and team ids). */
  readonly productionReviewers: { readonly users: readonly number[]; readonly teams: readonly number[] };
  /** Minutes a production deployment waits after approval. */
  readonly productionWaitTimerMinutes: number;
  /**
   * A token with admin rights on the repositories (Administration, Environments and Variables: read
   * and write), from stack config. From `github:token` or GITHUB_ADMIN_TOKEN, which config has checked is set (never the workflow's GITHUB_TOKEN).
   */
  readonly token?: pulumi.Input<string>;
}

/**
 * The GitHub side of "each environment trusts only its branch": in every
 * repository, this stack's GitHub environment (`dev`, `stg`, `main`) admits
 * deployments from the environment's branch only. The deploy role trusts
 * exactly that environment, so the chain holds end to end. Production waits for
 * its reviewers (the confirmation gate of a production change). Variables carry what workflows
 * need; no AWS credential is ever stored in GitHub.
 */
export class GitHubEnvironments extends pulumi.ComponentResource {
  readonly environments: Readonly<Record<string, github.RepositoryEnvironment>>;

  constructor(name: string, args: GitHubEnvironmentsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lumerin:github:GitHubEnvironments", name, {}, opts);
    const provider = new github.Provider(
      `${name}-provider`,
      { owner: args.owner, ...(args.token ? { token: args.token } : {}) },
      { parent: this },
    );
    // Kept in GitHub when a later run stops managing them (manageEnvironments off, or a CI run
    // whose token may not delete them): the environments gate deploys and the variables carry
    // the role ARNs, so losing them is an outage; removing them is a deliberate act in GitHub.
    const child = { parent: this, provider, retainOnDelete: true };
    const production = args.env.production;
    const environments: Record<string, github.RepositoryEnvironment> = {};

    for (const repo of args.repositories) {
      const [owner, repository] = repo.repository.split("/");
      if (owner.toLowerCase() !== args.owner.toLowerCase()) {
        throw new Error(`${repo.repository}: GitHub environments are managed for ${args.owner} repositories only`);
      }
      const environment = new github.RepositoryEnvironment(
        `${name}-${repo.key}`,
        {
          repository,
          environment: args.env.githubEnvironment,
          // Only the branches named by the policies below may deploy, protected or not.
          deploymentBranchPolicy: { protectedBranches: false, customBranchPolicies: true },
          ...(production
            ? {
                reviewers: [{ users: [...args.productionReviewers.users], teams: [...args.productionReviewers.teams] }],
                waitTimer: args.productionWaitTimerMinutes,
                preventSelfReview: true,
                canAdminsBypass: false,
              }
            : {}),
        },
        child,
      );
      new github.RepositoryEnvironmentDeploymentPolicy(
        `${name}-${repo.key}-branch`,
        { repository, environment: environment.environment, branchPattern: args.env.branch },
        child,
      );
      for (const [variableName, value] of Object.entries(repo.variables)) {
        new github.ActionsEnvironmentVariable(
          `${name}-${repo.key}-${variableName.toLowerCase().replace(/_/g, "-")}`,
          { repository, environment: environment.environment, variableName, value },
          child,
        );
      }
      for (const [variableName, value] of Object.entries(repo.repositoryVariables ?? {})) {
        new github.ActionsVariable(
          `${name}-${repo.key}-repo-${variableName.toLowerCase().replace(/_/g, "-")}`,
          { repository, variableName, value },
          child,
        );
      }
      environments[repo.key] = environment;
    }

    this.environments = environments;
    this.registerOutputs({ environments: Object.keys(environments) });
  }
}
