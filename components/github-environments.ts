import * as pulumi from "@pulumi/pulumi";
import * as github from "@pulumi/github";
import type { Environment } from "../lib/environments";
import type { GitHubConfig } from "../config/schema";

export interface EnvironmentRepository {
  /**
   * Stable key: part of logical names.
   * @example "proxy-router"
   */
  readonly key: string;
  /**
   * `owner/repo`; the owner must be the component's `owner`.
   * @example "Lumerin-protocol/proxy-router"
   */
  readonly repository: string;
  /**
   * Plain (non-secret) environment variables: role ARNs, region, cluster and service names.
   * @example { AWS_ROLE_ARN: deploy.roleArns["proxy-router"], AWS_REGION: "us-east-1" }
   */
  readonly variables: Readonly<Record<string, pulumi.Input<string>>>;
  /**
   * Plain repository-level variables, for jobs that run outside any environment
   * (a pull request's preview, the scheduled drift check). Each stack owns distinct
   * names (suffixed by stack), so three stacks never write the same variable.
   * @default {} (none)
   * @example { AWS_PREVIEW_ROLE_ARN_DEV: deploy.roleArns["infra-preview"] }
   */
  readonly repositoryVariables?: Readonly<Record<string, pulumi.Input<string>>>;
}

/** One service as the image-deploy workflow needs it (variable `ECS_DEPLOY_TARGETS`). */
export interface EcsDeployTarget {
  /** The ECS service's name. */
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
  /** The stack's environment: its GitHub environment (`dev`, `stg`, `main`), its branch, and whether it is production. */
  readonly env: Environment;
  /**
   * GitHub owner (organisation) all repositories belong to; a repository of another owner is refused.
   * @example "Lumerin-protocol"
   */
  readonly owner: GitHubConfig["owner"];
  /** The repositories whose environment of this stack is managed, each with its variables. */
  readonly repositories: readonly EnvironmentRepository[];
  /** Required reviewers of production deployments (GitHub user and team ids); unused outside production. */
  readonly productionReviewers: {
    /** GitHub user ids (`gh api users/<login> --jq .id`). */
    readonly users: readonly number[];
    /** GitHub team ids (`gh api orgs/<org>/teams/<slug> --jq .id`). */
    readonly teams: readonly number[];
  };
  /** Minutes a production deployment waits after approval; unused outside production. */
  readonly productionWaitTimerMinutes: GitHubConfig["productionWaitTimerMinutes"];
  /**
   * A token with admin rights on the repositories (Administration, Environments and Variables: read
   * and write), from stack config. From `github:token` or GITHUB_ADMIN_TOKEN, which config has checked is set (never the workflow's GITHUB_TOKEN).
   * @default undefined (the GitHub provider's own: GITHUB_TOKEN of the process)
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
    for (const repo of args.repositories) repositoryOf(repo, args.owner);
    const provider = githubProvider(name, args, this);
    // Kept in GitHub when a later run stops managing them (manageEnvironments off, or a CI run
    // whose token may not delete them): the environments gate deploys and the variables carry
    // the role ARNs, so losing them is an outage; removing them is a deliberate act in GitHub.
    const child: GitHubChildOptions = { parent: this, provider, retainOnDelete: true };
    const environments: Record<string, github.RepositoryEnvironment> = {};
    for (const repo of args.repositories) {
      const environment = repositoryEnvironment(name, args, repo, child);
      environmentVariables(name, repo, environment, child);
      repositoryVariables(name, repo, child);
      environments[repo.key] = environment;
    }
    this.environments = environments;
    this.registerOutputs({ environments: Object.keys(environments) });
  }
}

/** What every GitHub resource of the component is registered with. */
export interface GitHubChildOptions {
  /** The component. */
  readonly parent: pulumi.Resource;
  /** Its GitHub provider ({@link githubProvider}). */
  readonly provider: github.Provider;
  /** Always: removing a resource from the program keeps it in GitHub. */
  readonly retainOnDelete: true;
}

/** The repository's name without its owner; an error unless `owner` owns it. */
export function repositoryOf(repo: Pick<EnvironmentRepository, "repository">, owner: string): string {
  const [repoOwner, repository] = repo.repository.split("/");
  if (repoOwner.toLowerCase() !== owner.toLowerCase()) {
    throw new Error(`${repo.repository}: GitHub environments are managed for ${owner} repositories only`);
  }
  return repository;
}

/** `<name>-provider`: GitHub as `owner`, with the token when one is given. */
export function githubProvider(
  name: string,
  args: Pick<GitHubEnvironmentsArgs, "owner" | "token">,
  parent: pulumi.Resource,
): github.Provider {
  return new github.Provider(
    `${name}-provider`,
    { owner: args.owner, ...(args.token ? { token: args.token } : {}) },
    { parent },
  );
}

/**
 * `<name>-<key>`: the repository's environment of this stack, which admits only the
 * branch its `<name>-<key>-branch` policy names; in production with the reviewers,
 * the wait timer, no self-review and no admin bypass.
 */
export function repositoryEnvironment(
  name: string,
  args: Pick<GitHubEnvironmentsArgs, "env" | "owner" | "productionReviewers" | "productionWaitTimerMinutes">,
  repo: EnvironmentRepository,
  child: GitHubChildOptions,
): github.RepositoryEnvironment {
  const repository = repositoryOf(repo, args.owner);
  const environment = new github.RepositoryEnvironment(
    `${name}-${repo.key}`,
    {
      repository,
      environment: args.env.githubEnvironment,
      // Only the branches named by the policies below may deploy, protected or not.
      deploymentBranchPolicy: { protectedBranches: false, customBranchPolicies: true },
      ...(args.env.production
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
  return environment;
}

/** A variable's part of a logical name: `AWS_ROLE_ARN` → `aws-role-arn`. */
export function variableKey(variableName: string): string {
  return variableName.toLowerCase().replace(/_/g, "-");
}

/** `<name>-<key>-<variable>`: the repository's variables in its environment of this stack. */
export function environmentVariables(
  name: string,
  repo: EnvironmentRepository,
  environment: github.RepositoryEnvironment,
  child: GitHubChildOptions,
): github.ActionsEnvironmentVariable[] {
  const repository = repo.repository.split("/")[1];
  return Object.entries(repo.variables).map(
    ([variableName, value]) =>
      new github.ActionsEnvironmentVariable(
        `${name}-${repo.key}-${variableKey(variableName)}`,
        { repository, environment: environment.environment, variableName, value },
        child,
      ),
  );
}

/** `<name>-<key>-repo-<variable>`: the repository-level variables (jobs outside any environment). */
export function repositoryVariables(
  name: string,
  repo: EnvironmentRepository,
  child: GitHubChildOptions,
): github.ActionsVariable[] {
  const repository = repo.repository.split("/")[1];
  return Object.entries(repo.repositoryVariables ?? {}).map(
    ([variableName, value]) =>
      new github.ActionsVariable(
        `${name}-${repo.key}-repo-${variableKey(variableName)}`,
        { repository, variableName, value },
        child,
      ),
  );
}
