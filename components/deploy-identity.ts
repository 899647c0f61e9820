import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import type { Environment } from "../lib/environments";
import { DNS_ACCESS_TAG, DnsAccess } from "../lib/dns-access";
import type { DeployableFunction, DeployableService, DeployableSite } from "../lib/deployables";
import { AwsContext, Statement, policyDocument, trustDocument } from "../lib/iam";
import { IMAGE_DEPLOY_SESSION_SECONDS } from "../lib/rollout";
import { StateLocation, stateIdentityStatements, stateReadObjects } from "../lib/pulumi-state";

export const GITHUB_OIDC_URL = "https://token.actions.githubusercontent.com";
export const GITHUB_OIDC_HOST = "token.actions.githubusercontent.com";

/**
 * GitHub's numeric ids of a repository and its owner. With them the OIDC subject
 * is GitHub's immutable form, `repo:<owner>@<ownerId>/<repo>@<repositoryId>:<context>`
 * (the default for repositories created or renamed since mid-2026, and for any
 * repository or organisation that opts in), and a role trusts that form only.
 */
export interface GitHubRepositoryIds {
  /** The owner's id (`gh api orgs/<owner> --jq .id`). */
  readonly ownerId: number;
  /** The repository's id (`gh api repos/<owner>/<repo> --jq .id`). */
  readonly repositoryId: number;
}

export interface DeployRepository {
  /** Stable key: part of logical names (`proxy-router`). */
  readonly key: string;
  /** `owner/repo`, spelled exactly as GitHub spells it (the subject claim is compared case-sensitively). */
  readonly repository: string;
  /**
   * The repository's immutable ids.
   * @default undefined (the subject is `repo:<owner>/<repo>:...`)
   */
  readonly ids?: GitHubRepositoryIds;
  /**
   * The deploy role's name.
   * @example "github-actions-futures-v3-dev" // `futuresNames(env).deployRole`
   */
  readonly roleName: string;
  /**
   * Exact subjects trusted beyond the environment's own subject.
   * @default [] (none)
   */
  readonly extraSubjects?: readonly string[];
  /** ECS services it deploys images to (may be empty when it deploys sites or functions). */
  readonly services: readonly DeployableService[];
  /**
   * Static sites it publishes.
   * @default [] (none)
   */
  readonly sites?: readonly DeployableSite[];
  /**
   * Lambda functions whose code it uploads.
   * @default [] (none)
   */
  readonly functions?: readonly DeployableFunction[];
}

/** What `pulumi preview --refresh` reads besides the state: the values this stack itself writes. */
export interface PreviewRefreshReads {
  /** Secrets whose value the stack writes (a SecretVersion from `pulumi config set --secret`): their values are already in its state. */
  readonly secretArns: readonly pulumi.Input<string>[];
  /**
   * The key those secrets are encrypted with (Secrets Manager decrypts with it on the caller's behalf).
   * @default undefined (no decrypt through Secrets Manager is granted)
   */
  readonly secretsKmsKeyArn?: pulumi.Input<string>;
  /** S3 objects the stack uploads (the canary's code), whose refresh reads them. */
  readonly objectArns: readonly pulumi.Input<string>[];
}

/** This repository's own CI: a read-only preview role for pull requests and the deployer that runs `pulumi up`. */
export interface InfraCiRoles {
  /** `owner/repo` of this repository, spelled exactly as GitHub spells it. */
  readonly repository: string;
  /**
   * Its immutable ids.
   * @default undefined (the subject is `repo:<owner>/<repo>:...`)
   */
  readonly ids?: GitHubRepositoryIds;
  /**
   * The read-only preview role's name.
   * @example "lumerin-infra-preview-dev" // `infraPreviewRoleName(stack)`
   */
  readonly previewRoleName: string;
  /**
   * The deploying role's name.
   * @example "lumerin-infra-deployer-dev" // `infraDeployerRoleName(stack)`
   */
  readonly deployerRoleName: string;
  /**
   * The stack's Pulumi state in the S3 backend.
   * @default undefined (Pulumi Cloud: no state grants)
   */
  readonly state?: StateLocation;
  /**
   * The KMS key of the stack's secrets provider (`awskms://...`); the preview decrypts stack config with it, the deployer also encrypts.
   * @default undefined (no key grant; the preview may decrypt with no config key)
   */
  readonly secretsProviderKeyArn?: string;
  /**
   * What a refresh reads beyond the state.
   * @default { secretArns: [], objectArns: [] } (nothing)
   */
  readonly refreshReads?: PreviewRefreshReads;
  /**
   * The branch whose scheduled drift check may use the preview role (GitHub runs
   * `schedule` workflows on the default branch, subject `ref:refs/heads/<branch>`).
   */
  readonly driftCheckBranch: string;
  /**
   * The role in the account that hosts the stack's zone (`dns.assumeRoleArn`);
   * the deployer may assume it to write records, the preview only to read them.
   * @default undefined (the zone is in the stack's own account: no role to assume)
   */
  readonly dnsRoleArn?: string;
}

export interface DeployIdentityArgs {
  /** Account, region and partition of the ARNs the roles are granted. */
  readonly aws: AwsContext;
  /** The stack's environment: its GitHub environment is the one the roles trust. */
  readonly env: Environment;
  /**
   * The account's GitHub OIDC provider, to reuse (one per URL and account).
   * @default undefined (the component creates it)
   */
  readonly oidcProviderArn?: string;
  /** The application repositories, one deploy role each. */
  readonly repositories: readonly DeployRepository[];
  /** Protect the provider (every deploy in the account depends on it). */
  readonly protect: boolean;
  /**
   * This repository's CI roles.
   * @default undefined (none are made)
   */
  readonly infra?: InfraCiRoles;
}

/**
 * GitHub Actions' way into AWS: the account's OIDC provider
 * and, per application repository, a deploy role that the repository's
 * workflows may assume only from the environment's GitHub environment, whose
 * branch policy admits only the environment's branch. The role can do what a
 * code deploy needs on its own services, and nothing else: no secret, no key.
 */
export class DeployIdentity extends pulumi.ComponentResource {
  readonly oidcProviderArn: pulumi.Output<string>;
  readonly roles: Readonly<Record<string, aws.iam.Role>>;
  readonly roleArns: Readonly<Record<string, pulumi.Output<string>>>;

  constructor(name: string, args: DeployIdentityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lumerin:identity:DeployIdentity", name, {}, opts);
    for (const repo of args.repositories) assertDeploysSomething(repo);
    this.oidcProviderArn = args.oidcProviderArn
      ? pulumi.output(args.oidcProviderArn)
      : githubOidcProvider(name, args.protect, this).arn;

    const roles: Record<string, aws.iam.Role> = {};
    for (const repo of args.repositories) {
      roles[repo.key] = deployRole(name, args, repo, this.oidcProviderArn, this);
    }
    if (args.infra) {
      const ci = {
        name,
        ctx: args.aws,
        env: args.env,
        providerArn: this.oidcProviderArn,
        infra: args.infra,
        parent: this,
      };
      roles["infra-preview"] = infraPreviewRole(ci);
      roles["infra-deployer"] = infraDeployerRole(ci);
    }

    this.roles = roles;
    this.roleArns = Object.fromEntries(Object.entries(roles).map(([k, r]) => [k, r.arn]));
    this.registerOutputs({ oidcProviderArn: this.oidcProviderArn, roleArns: this.roleArns });
  }
}

/** The inline policy names of the deploy identity's roles. */
export const DEPLOY_POLICY_NAMES = {
  codeDeploy: "code-deploy",
  preview: "preview",
  deployerState: "pulumi-state",
  deployerZone: "zone-records",
} as const;

/** An error unless the repository deploys at least one service, site or function. */
export function assertDeploysSomething(repo: DeployRepository): void {
  if (repo.services.length + (repo.sites?.length ?? 0) + (repo.functions?.length ?? 0) === 0) {
    throw new Error(
      `deploy role ${repo.roleName}: the repository ${repo.repository} deploys nothing (no service, site or function)`,
    );
  }
}

/**
 * `<name>-github-oidc`: the account's OIDC provider for GitHub Actions, audience
 * `sts.amazonaws.com`. AWS verifies GitHub's certificate through its own trusted CAs;
 * no thumbprint to pin or rotate.
 */
export function githubOidcProvider(
  name: string,
  protect: boolean,
  parent: pulumi.Resource,
): aws.iam.OpenIdConnectProvider {
  return new aws.iam.OpenIdConnectProvider(
    `${name}-github-oidc`,
    { url: GITHUB_OIDC_URL, clientIdLists: ["sts.amazonaws.com"] },
    { parent, protect },
  );
}

/**
 * `<name>-<key>-role`, trusted by the repository's GitHub environment of this stack
 * only, and `<name>-<key>-policy`, its {@link deployStatements}.
 */
export function deployRole(
  name: string,
  args: Pick<DeployIdentityArgs, "aws" | "env">,
  repo: DeployRepository,
  providerArn: pulumi.Input<string>,
  parent: pulumi.Resource,
): aws.iam.Role {
  assertDeploysSomething(repo);
  const role = new aws.iam.Role(
    `${name}-${repo.key}-role`,
    {
      name: repo.roleName,
      description: `GitHub Actions of ${repo.repository} (environment ${args.env.githubEnvironment}) deploy code to ${args.env.name}`,
      assumeRolePolicy: githubTrust(providerArn, repo, args.env),
      // A code deploy waits out ECS's bake time per service and writes the last tag at its end.
      maxSessionDuration: IMAGE_DEPLOY_SESSION_SECONDS,
    },
    { parent },
  );
  new aws.iam.RolePolicy(
    `${name}-${repo.key}-policy`,
    {
      role: role.id,
      name: DEPLOY_POLICY_NAMES.codeDeploy,
      policy: policyDocument(deployStatements(args.aws, repo)),
    },
    { parent },
  );
  return role;
}

/**
 * The repository part of GitHub's `sub` claim: `Owner/repo`, or with the ids
 * `Owner@<ownerId>/repo@<repositoryId>` (GitHub's immutable form). Names keep
 * GitHub's spelling: IAM's StringEquals is case-sensitive.
 */
export function subjectRepository(repository: string, ids?: GitHubRepositoryIds): string {
  const [owner, name] = repository.split("/");
  if (!owner || !name) throw new Error(`expected owner/repository, got "${repository}"`);
  return ids ? `${owner}@${ids.ownerId}/${name}@${ids.repositoryId}` : `${owner}/${name}`;
}

/** The subjects a repository's deploy role trusts in this environment. */
export function trustedSubjects(repo: DeployRepository, env: Environment): string[] {
  return [
    `repo:${subjectRepository(repo.repository, repo.ids)}:environment:${env.githubEnvironment}`,
    ...(repo.extraSubjects ?? []),
  ];
}

function githubTrust(
  providerArn: pulumi.Input<string>,
  repo: DeployRepository,
  env: Environment,
): aws.types.input.iam.PolicyDocument {
  return oidcTrust(
    providerArn,
    `GitHub${pascal(env.githubEnvironment)}EnvironmentOfThisRepositoryOnly`,
    trustedSubjects(repo, env),
  );
}

/** Trust for GitHub's OIDC tokens: audience `sts.amazonaws.com` and exactly these subjects. */
export function oidcTrust(
  providerArn: pulumi.Input<string>,
  sid: string,
  subjects: readonly string[],
): aws.types.input.iam.PolicyDocument {
  return trustDocument([
    {
      Sid: sid,
      Principal: { Federated: providerArn },
      Action: "sts:AssumeRoleWithWebIdentity",
      Condition: {
        StringEquals: {
          [`${GITHUB_OIDC_HOST}:aud`]: "sts.amazonaws.com",
          [`${GITHUB_OIDC_HOST}:sub`]: [...subjects],
        },
      },
    },
  ]);
}

/** Pull requests (previews) and the default branch's scheduled drift check: both read-only. */
export function previewSubjects(infra: InfraCiRoles): string[] {
  const repo = subjectRepository(infra.repository, infra.ids);
  return [`repo:${repo}:pull_request`, `repo:${repo}:ref:refs/heads/${infra.driftCheckBranch}`];
}

/** The one subject the deployer trusts: this repository's GitHub environment of the stack. */
export function deployerSubjects(infra: InfraCiRoles, env: Environment): string[] {
  return [`repo:${subjectRepository(infra.repository, infra.ids)}:environment:${env.githubEnvironment}`];
}

/** What both of this repository's CI roles are made from. */
export interface InfraRoleContext {
  /** The component's name, the prefix of the roles' logical names. */
  readonly name: string;
  /** Account, region and partition of the stack. */
  readonly ctx: AwsContext;
  /** The stack's environment (the deployer trusts its GitHub environment). */
  readonly env: Environment;
  /** The GitHub OIDC provider both roles trust. */
  readonly providerArn: pulumi.Input<string>;
  /** The roles' names, trust and grants. */
  readonly infra: InfraCiRoles;
  /** The component the roles belong to. */
  readonly parent: pulumi.Resource;
}

function managedPolicyArn(ctx: AwsContext, policy: string): string {
  return `arn:${ctx.partition}:iam::aws:policy/${policy}`;
}

/**
 * After one administrator's `pulumi up`, CI runs previews and deploys itself. The
 * preview role (`<name>-infra-preview-role`), trusted by pull requests and the drift
 * check, reads (AWS ReadOnlyAccess, `<name>-infra-preview-read`) and may decrypt only
 * the stack's config key; the explicit denies of {@link previewStatements}
 * (`<name>-infra-preview-policy`) keep it from secret values, other keys and other
 * buckets' objects, because a pull request can run any code.
 */
export function infraPreviewRole({ name, ctx, env, providerArn, infra, parent }: InfraRoleContext): aws.iam.Role {
  const preview = new aws.iam.Role(
    `${name}-infra-preview-role`,
    {
      name: infra.previewRoleName,
      description: `pulumi preview of ${env.name} on pull requests to ${infra.repository}: read-only`,
      assumeRolePolicy: oidcTrust(
        providerArn,
        "PullRequestsAndDriftChecksOfThisRepositoryOnly",
        previewSubjects(infra),
      ),
      maxSessionDuration: 3600,
    },
    { parent },
  );
  new aws.iam.RolePolicyAttachment(
    `${name}-infra-preview-read`,
    { role: preview.name, policyArn: managedPolicyArn(ctx, "ReadOnlyAccess") },
    { parent },
  );
  new aws.iam.RolePolicy(
    `${name}-infra-preview-policy`,
    { role: preview.id, name: DEPLOY_POLICY_NAMES.preview, policy: policyDocument(previewStatements(ctx, infra)) },
    { parent },
  );
  return preview;
}

/**
 * The deployer (`<name>-infra-deployer-role`), trusted by this repository's GitHub
 * environment of the stack only, can do what `pulumi up` does (AdministratorAccess,
 * `<name>-infra-deployer-admin`): the policy pack reports it as the one allowed
 * exception. Its state and zone grants are stated besides ({@link deployerStateStatements},
 * `<name>-infra-deployer-state`; `<name>-infra-deployer-dns`), so that they read in the plan.
 */
export function infraDeployerRole({ name, ctx, env, providerArn, infra, parent }: InfraRoleContext): aws.iam.Role {
  const deployer = new aws.iam.Role(
    `${name}-infra-deployer-role`,
    {
      name: infra.deployerRoleName,
      description: `pulumi up of ${env.name} from ${infra.repository}'s ${env.githubEnvironment} environment`,
      assumeRolePolicy: oidcTrust(
        providerArn,
        `GitHub${pascal(env.githubEnvironment)}EnvironmentOfThisRepositoryOnly`,
        deployerSubjects(infra, env),
      ),
      // An RDS Multi-AZ change alone can take most of an hour.
      maxSessionDuration: 7200,
    },
    { parent },
  );
  new aws.iam.RolePolicyAttachment(
    `${name}-infra-deployer-admin`,
    { role: deployer.name, policyArn: managedPolicyArn(ctx, "AdministratorAccess") },
    { parent },
  );
  if (infra.state) {
    new aws.iam.RolePolicy(
      `${name}-infra-deployer-state`,
      {
        role: deployer.id,
        name: DEPLOY_POLICY_NAMES.deployerState,
        policy: policyDocument(deployerStateStatements(infra.state, infra.secretsProviderKeyArn)),
      },
      { parent },
    );
  }
  if (infra.dnsRoleArn) {
    // Stated although AdministratorAccess covers it: the deployer's way into the zone's account stays explicit.
    new aws.iam.RolePolicy(
      `${name}-infra-deployer-dns`,
      {
        role: deployer.id,
        name: DEPLOY_POLICY_NAMES.deployerZone,
        policy: policyDocument(zoneRoleStatements(infra.dnsRoleArn, "write")),
      },
      { parent },
    );
  }
  return deployer;
}

/**
 * The deployer's grants on the stack's state and its secrets key. The state bucket is
 * another account's: AdministratorAccess covers the identity side, but the grant is
 * stated so that it reads in the plan; the bucket's own policy bounds it to this stack.
 */
export function deployerStateStatements(state: StateLocation, secretsProviderKeyArn?: string): Statement[] {
  return [
    ...stateIdentityStatements(state, "write"),
    ...(secretsProviderKeyArn
      ? [
          {
            Sid: "EncryptAndDecryptStackSecrets",
            Action: ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"],
            Resource: [secretsProviderKeyArn],
          },
        ]
      : []),
  ];
}

/**
 * The preview role's own statements on top of ReadOnlyAccess. It reads this
 * stack's state and decrypts its config; a refresh also reads what the stack
 * writes itself (secret values set through `pulumi config set --secret`, which
 * the state already holds, and the canary's code object). Explicit denies keep
 * it from every other secret value, key and object: a pull request can run any code.
 */
export function previewStatements(ctx: AwsContext, infra: InfraCiRoles): Statement[] {
  const scope = previewScope(infra);
  return [
    ...previewAllowStatements(ctx, infra, scope),
    ...previewDenyStatements(ctx, scope),
    ...(infra.dnsRoleArn ? zoneRoleStatements(infra.dnsRoleArn, "read") : []),
  ];
}

/** What the preview role may read and decrypt; everything else of the kind it is denied. */
export interface PreviewScope {
  /** The secrets whose values a refresh reads. */
  readonly secretArns: readonly pulumi.Input<string>[];
  /**
   * The key of those secrets, when there are any.
   * @default undefined (no secrets, or no key given for them)
   */
  readonly secretKey?: pulumi.Input<string>;
  /** The objects it reads: the state's and the ones the stack uploads. */
  readonly objects: readonly pulumi.Input<string>[];
  /** The refresh's own objects (the stack's uploads). */
  readonly refreshObjects: readonly pulumi.Input<string>[];
  /** The keys it may decrypt with: the config key, the state bucket's key and the secrets' key. */
  readonly keys: readonly pulumi.Input<string>[];
}

/** The preview role's {@link PreviewScope}, from its state, config key and refresh reads. */
export function previewScope(infra: InfraCiRoles): PreviewScope {
  const reads = infra.refreshReads ?? { secretArns: [], objectArns: [] };
  const state = infra.state;
  const secretKey = reads.secretArns.length > 0 ? reads.secretsKmsKeyArn : undefined;
  return {
    secretArns: reads.secretArns,
    ...(secretKey ? { secretKey } : {}),
    objects: [...(state ? stateReadObjects(state) : []), ...reads.objectArns],
    refreshObjects: reads.objectArns,
    keys: [
      ...(infra.secretsProviderKeyArn ? [infra.secretsProviderKeyArn] : []),
      ...(state?.bucketKeyArn ? [state.bucketKeyArn] : []),
      ...(secretKey ? [secretKey] : []),
    ],
  };
}

/** The preview's reads: its state, its config key, and what a refresh reads (secret values through Secrets Manager only, uploaded objects). */
function previewAllowStatements(ctx: AwsContext, infra: InfraCiRoles, scope: PreviewScope): Statement[] {
  const { secretArns, secretKey, refreshObjects } = scope;
  return [
    ...(infra.state ? stateIdentityStatements(infra.state, "read") : []),
    ...(infra.secretsProviderKeyArn
      ? [{ Sid: "DecryptStackConfig", Action: ["kms:Decrypt"], Resource: [infra.secretsProviderKeyArn] }]
      : []),
    ...(secretArns.length > 0
      ? [
          {
            Sid: "RefreshReadsSecretValuesItsStateAlreadyHolds",
            Action: ["secretsmanager:GetSecretValue"],
            Resource: [...secretArns],
          },
          ...(secretKey
            ? [
                {
                  // Secrets Manager decrypts only for a GetSecretValue the role may make, which is limited to those secrets above.
                  Sid: "DecryptThoseSecretsThroughSecretsManagerOnly",
                  Action: ["kms:Decrypt"],
                  Resource: [secretKey],
                  Condition: { StringEquals: { "kms:ViaService": `secretsmanager.${ctx.region}.amazonaws.com` } },
                },
              ]
            : []),
        ]
      : []),
    ...(refreshObjects.length > 0
      ? [{ Sid: "RefreshReadsObjectsTheStackUploads", Action: ["s3:GetObject"], Resource: [...refreshObjects] }]
      : []),
  ];
}

/** The explicit denies: no other secret value, no batch read, no other key, no direct decrypt with the secrets' key, no other object. */
function previewDenyStatements(ctx: AwsContext, scope: PreviewScope): Statement[] {
  const { secretArns, secretKey, objects, keys } = scope;
  return [
    secretArns.length > 0
      ? {
          Sid: "NeverReadOtherSecretValues",
          Effect: "Deny",
          Action: ["secretsmanager:GetSecretValue"],
          NotResource: [...secretArns],
        }
      : { Sid: "NeverReadSecretValues", Effect: "Deny", Action: ["secretsmanager:GetSecretValue"], Resource: "*" },
    {
      Sid: "NeverBatchReadSecretValues",
      Effect: "Deny",
      Action: ["secretsmanager:BatchGetSecretValue"],
      Resource: "*",
    },
    keys.length > 0
      ? { Sid: "NeverDecryptWithOtherKeys", Effect: "Deny", Action: ["kms:Decrypt"], NotResource: [...keys] }
      : { Sid: "NeverDecrypt", Effect: "Deny", Action: ["kms:Decrypt"], Resource: "*" },
    ...(secretKey
      ? [
          {
            // The same key encrypts ECS Exec logs and every other secret: never a direct decrypt.
            Sid: "NeverDecryptWithThePlatformKeyOutsideSecretsManager",
            Effect: "Deny" as const,
            Action: ["kms:Decrypt"],
            Resource: [secretKey],
            Condition: { StringNotEquals: { "kms:ViaService": `secretsmanager.${ctx.region}.amazonaws.com` } },
          },
        ]
      : []),
    objects.length > 0
      ? { Sid: "NeverReadOtherObjects", Effect: "Deny", Action: ["s3:GetObject"], NotResource: [...objects] }
      : { Sid: "NeverReadObjects", Effect: "Deny", Action: ["s3:GetObject"], Resource: "*" },
  ];
}

/**
 * Assume exactly the zone's role, tagging the session only with `access`: the
 * zone role's trust admits the preview as `read` and the deployer as `write`.
 */
function zoneRoleStatements(dnsRoleArn: string, access: DnsAccess): Statement[] {
  const verb = access === "read" ? "Read" : "Change";
  return [
    { Sid: `AssumeTheZoneRoleTo${verb}Records`, Action: ["sts:AssumeRole"], Resource: [dnsRoleArn] },
    {
      Sid: `TagZoneSessionsAs${pascal(access)}Only`,
      Action: ["sts:TagSession"],
      Resource: [dnsRoleArn],
      Condition: {
        StringEquals: { [`aws:RequestTag/${DNS_ACCESS_TAG}`]: access },
        "ForAllValues:StringEquals": { "aws:TagKeys": [DNS_ACCESS_TAG] },
      },
    },
  ];
}

/**
 * Exactly what a code deploy does, for what the repository deploys: ECS services
 * (register a revision, update the service, record the tag), static sites (sync
 * the bucket, invalidate the distribution) and Lambda code. Nothing else.
 */
export function deployStatements(ctx: AwsContext, repo: DeployRepository): Statement[] {
  return [
    ...ecsDeployStatements(ctx, repo.services),
    ...siteDeployStatements(repo.sites ?? []),
    ...functionDeployStatements(repo.functions ?? []),
  ];
}

function siteDeployStatements(sites: readonly DeployableSite[]): Statement[] {
  if (sites.length === 0) return [];
  return [
    { Sid: "ListOwnSiteBucket", Action: ["s3:ListBucket"], Resource: sites.map((s) => s.bucketArn) },
    {
      Sid: "PublishAndPruneOwnSiteObjects",
      Action: ["s3:PutObject", "s3:DeleteObject"],
      Resource: sites.map((s) => pulumi.interpolate`${s.bucketArn}/*`),
    },
    {
      Sid: "InvalidateOwnDistribution",
      Action: ["cloudfront:CreateInvalidation", "cloudfront:GetInvalidation"],
      Resource: sites.map((s) => s.distributionArn),
    },
  ];
}

function functionDeployStatements(functions: readonly DeployableFunction[]): Statement[] {
  if (functions.length === 0) return [];
  return [
    {
      Sid: "UploadOwnFunctionCode",
      Action: ["lambda:UpdateFunctionCode", "lambda:GetFunction"],
      Resource: functions.map((f) => f.functionArn),
    },
  ];
}

function ecsDeployStatements(ctx: AwsContext, services: readonly DeployableService[]): Statement[] {
  if (services.length === 0) return [];
  const families = [...new Set(services.map((s) => s.taskFamily))].sort();
  return [
    {
      Sid: "RegisterRevisionsOfOwnTaskFamilies",
      Action: ["ecs:RegisterTaskDefinition"],
      Resource: families.map((f) => `arn:${ctx.partition}:ecs:${ctx.region}:${ctx.accountId}:task-definition/${f}:*`),
    },
    {
      // The render action copies the revision's tags; ECS authorizes tags given at registration
      // as ecs:TagResource, and the condition allows nothing else (no retagging of existing resources).
      Sid: "TagOwnRevisionsOnlyWhileRegistering",
      Action: ["ecs:TagResource"],
      Resource: families.map((f) => `arn:${ctx.partition}:ecs:${ctx.region}:${ctx.accountId}:task-definition/${f}:*`),
      Condition: { StringEquals: { "ecs:CreateAction": "RegisterTaskDefinition" } },
    },
    {
      // DescribeTaskDefinition accepts no resource ARN (service authorization reference).
      Sid: "ReadTaskDefinitionsAcceptsNoResourceArn",
      Action: ["ecs:DescribeTaskDefinition"],
      Resource: "*",
    },
    {
      Sid: "DeployAndWatchOwnServices",
      Action: ["ecs:UpdateService", "ecs:DescribeServices"],
      Resource: services.map((s) => s.serviceArn),
    },
    {
      Sid: "PassOwnTaskRolesToEcsTasksOnly",
      Action: ["iam:PassRole"],
      Resource: services.flatMap((s) => [s.executionRoleArn, s.taskRoleArn]),
      Condition: { StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } },
    },
    {
      Sid: "RecordDeployedImageTag",
      Action: ["ssm:PutParameter", "ssm:GetParameter"],
      Resource: services.map((s) => s.imageTagParameterArn),
    },
  ];
}

function pascal(text: string): string {
  return text.replace(/(^|[^A-Za-z0-9])([A-Za-z0-9])/g, (_, __, c: string) => c.toUpperCase());
}
