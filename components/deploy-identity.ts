import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import type { Environment } from "../config/environments";
import { DNS_ACCESS_TAG, DnsAccess } from "../lib/dns-access";
import { AwsContext, Statement, policyDocument, trustDocument } from "../lib/iam";
import { IMAGE_DEPLOY_SESSION_SECONDS } from "../lib/rollout";
import { StateLocation, stateIdentityStatements, stateReadObjects } from "../lib/pulumi-state";

export const GITHUB_OIDC_URL = "https://token.actions.githubusercontent.com";
export const GITHUB_OIDC_HOST = "token.actions.githubusercontent.com";

/** One ECS service a repository deploys, as the deploy role must know it. */
export interface DeployableService {
  readonly serviceArn: pulumi.Input<string>;
  /** Task definition family (revisions of it may be registered). */
  readonly taskFamily: string;
  readonly executionRoleArn: pulumi.Input<string>;
  readonly taskRoleArn: pulumi.Input<string>;
  /** SSM parameter recording the deployed tag. */
  readonly imageTagParameterArn: pulumi.Input<string>;
}

/** A static site the repository publishes: sync to the bucket, then invalidate the distribution. */
export interface DeployableSite {
  readonly bucketArn: pulumi.Input<string>;
  readonly distributionArn: pulumi.Input<string>;
}

/** A Lambda function whose code the repository's pipeline uploads. */
export interface DeployableFunction {
  readonly functionArn: pulumi.Input<string>;
}

/**
 * GitHub's numeric ids of a repository and its owner. With them the OIDC subject
 * is GitHub's immutable form, `repo:<owner>@<ownerId>/<repo>@<repositoryId>:<context>`
 * (the default for repositories created or renamed since mid-2026, and for any
 * repository or organisation that opts in), and a role trusts that form only.
 */
export interface GitHubRepositoryIds {
  readonly ownerId: number;
  readonly repositoryId: number;
}

export interface DeployRepository {
  /** Stable key: part of logical names (`proxy-router`). */
  readonly key: string;
  /** `owner/repo`, spelled exactly as GitHub spells it (the subject claim is compared case-sensitively). */
  readonly repository: string;
  /** The repository's immutable ids; absent: the subject is `repo:<owner>/<repo>:...`. */
  readonly ids?: GitHubRepositoryIds;
  readonly roleName: string;
  /** Exact subjects trusted beyond the environment's own subject. */
  readonly extraSubjects?: readonly string[];
  /** ECS services it deploys images to. */
  readonly services: readonly DeployableService[];
  /** Static sites it publishes. */
  readonly sites?: readonly DeployableSite[];
  /** Lambda functions whose code it uploads. */
  readonly functions?: readonly DeployableFunction[];
}

/** What `pulumi preview --refresh` reads besides the state: the values this stack itself writes. */
export interface PreviewRefreshReads {
  /** Secrets whose value the stack writes (a SecretVersion from `pulumi config set --secret`): their values are already in its state. */
  readonly secretArns: readonly pulumi.Input<string>[];
  /** The key those secrets are encrypted with (Secrets Manager decrypts with it on the caller's behalf). */
  readonly secretsKmsKeyArn?: pulumi.Input<string>;
  /** S3 objects the stack uploads (the canary's code), whose refresh reads them. */
  readonly objectArns: readonly pulumi.Input<string>[];
}

/** This repository's own CI: a read-only preview role for pull requests and the deployer that runs `pulumi up`. */
export interface InfraCiRoles {
  /** `owner/repo` of this repository, spelled exactly as GitHub spells it. */
  readonly repository: string;
  /** Its immutable ids; absent: the subject is `repo:<owner>/<repo>:...`. */
  readonly ids?: GitHubRepositoryIds;
  readonly previewRoleName: string;
  readonly deployerRoleName: string;
  /** The stack's Pulumi state in the S3 backend; absent with Pulumi Cloud. */
  readonly state?: StateLocation;
  /** The KMS key of the stack's secrets provider (`awskms://...`); the preview decrypts stack config with it, the deployer also encrypts. */
  readonly secretsProviderKeyArn?: string;
  /** What a refresh reads beyond the state. @default nothing */
  readonly refreshReads?: PreviewRefreshReads;
  /**
   * The branch whose scheduled drift check may use the preview role (GitHub runs
   * `schedule` workflows on the default branch, subject `ref:refs/heads/<branch>`).
   */
  readonly driftCheckBranch: string;
  /**
   * The role in the account that hosts the stack's zone (`dns.assumeRoleArn`);
   * the deployer may assume it to write records, the preview only to read them.
   */
  readonly dnsRoleArn?: string;
}

export interface DeployIdentityArgs {
  readonly aws: AwsContext;
  readonly env: Environment;
  /** Reuse the account's provider; when absent the component creates it. */
  readonly oidcProviderArn?: string;
  readonly repositories: readonly DeployRepository[];
  /** Protect the provider (every deploy in the account depends on it). */
  readonly protect: boolean;
  /** This repository's CI roles; absent: none are made. */
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

    this.oidcProviderArn = args.oidcProviderArn
      ? pulumi.output(args.oidcProviderArn)
      : new aws.iam.OpenIdConnectProvider(
          `${name}-github-oidc`,
          {
            url: GITHUB_OIDC_URL,
            clientIdLists: ["sts.amazonaws.com"],
            // AWS verifies GitHub's certificate through its own trusted CAs; no thumbprint to pin or rotate.
          },
          { parent: this, protect: args.protect },
        ).arn;

    const roles: Record<string, aws.iam.Role> = {};
    for (const repo of args.repositories) {
      if (repo.services.length + (repo.sites?.length ?? 0) + (repo.functions?.length ?? 0) === 0) {
        throw new Error(
          `deploy role ${repo.roleName}: the repository ${repo.repository} deploys nothing (no service, site or function)`,
        );
      }
      const role = new aws.iam.Role(
        `${name}-${repo.key}-role`,
        {
          name: repo.roleName,
          description: `GitHub Actions of ${repo.repository} (environment ${args.env.githubEnvironment}) deploy code to ${args.env.name}`,
          assumeRolePolicy: githubTrust(this.oidcProviderArn, repo, args.env),
          // A code deploy waits out ECS's bake time per service and writes the last tag at its end.
          maxSessionDuration: IMAGE_DEPLOY_SESSION_SECONDS,
        },
        { parent: this },
      );
      new aws.iam.RolePolicy(
        `${name}-${repo.key}-policy`,
        { role: role.id, name: "code-deploy", policy: policyDocument(deployStatements(args.aws, repo)) },
        { parent: this },
      );
      roles[repo.key] = role;
    }

    if (args.infra) {
      const { preview, deployer } = infraRoles(name, args.aws, args.env, this.oidcProviderArn, args.infra, this);
      roles["infra-preview"] = preview;
      roles["infra-deployer"] = deployer;
    }

    this.roles = roles;
    this.roleArns = Object.fromEntries(Object.entries(roles).map(([k, r]) => [k, r.arn]));
    this.registerOutputs({ oidcProviderArn: this.oidcProviderArn, roleArns: this.roleArns });
  }
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

/**
 * Seed 001's layer 1, declared: after one administrator's `pulumi up`, CI runs
 * previews and deploys itself. The preview role reads (AWS ReadOnlyAccess) and may
 * decrypt only the stack's config key; explicit denies keep it from secret values,
 * other keys and other buckets' objects, because a pull request can run any code.
 * The deployer can do what `pulumi up` does (everything): the policy pack reports
 * it as the one allowed exception.
 */
function infraRoles(
  name: string,
  ctx: AwsContext,
  env: Environment,
  providerArn: pulumi.Input<string>,
  infra: InfraCiRoles,
  parent: pulumi.Resource,
): { preview: aws.iam.Role; deployer: aws.iam.Role } {
  const managed = (policy: string) => `arn:${ctx.partition}:iam::aws:policy/${policy}`;
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
    { role: preview.name, policyArn: managed("ReadOnlyAccess") },
    { parent },
  );
  new aws.iam.RolePolicy(
    `${name}-infra-preview-policy`,
    { role: preview.id, name: "preview", policy: policyDocument(previewStatements(ctx, infra)) },
    { parent },
  );
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
    { role: deployer.name, policyArn: managed("AdministratorAccess") },
    { parent },
  );
  if (infra.state) {
    // The state bucket is another account's: AdministratorAccess covers the identity side, but the
    // grant is stated here so that it reads in the plan; the bucket's own policy bounds it to this stack.
    const stateGrants: Statement[] = [
      ...stateIdentityStatements(infra.state, "write"),
      ...(infra.secretsProviderKeyArn
        ? [
            {
              Sid: "EncryptAndDecryptStackSecrets",
              Action: ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"],
              Resource: [infra.secretsProviderKeyArn],
            },
          ]
        : []),
    ];
    new aws.iam.RolePolicy(
      `${name}-infra-deployer-state`,
      { role: deployer.id, name: "pulumi-state", policy: policyDocument(stateGrants) },
      { parent },
    );
  }
  if (infra.dnsRoleArn) {
    // Stated although AdministratorAccess covers it: the deployer's way into the zone's account stays explicit.
    new aws.iam.RolePolicy(
      `${name}-infra-deployer-dns`,
      {
        role: deployer.id,
        name: "zone-records",
        policy: policyDocument(zoneRoleStatements(infra.dnsRoleArn, "write")),
      },
      { parent },
    );
  }
  return { preview, deployer };
}

/**
 * The preview role's own statements on top of ReadOnlyAccess. It reads this
 * stack's state and decrypts its config; a refresh also reads what the stack
 * writes itself (secret values set through `pulumi config set --secret`, which
 * the state already holds, and the canary's code object). Explicit denies keep
 * it from every other secret value, key and object: a pull request can run any code.
 */
export function previewStatements(ctx: AwsContext, infra: InfraCiRoles): Statement[] {
  const reads = infra.refreshReads ?? { secretArns: [], objectArns: [] };
  const state = infra.state;
  const stateObjects = state ? stateReadObjects(state) : [];
  const objects = [...stateObjects, ...reads.objectArns];
  const secretKey = reads.secretArns.length > 0 ? reads.secretsKmsKeyArn : undefined;
  const keys: pulumi.Input<string>[] = [
    ...(infra.secretsProviderKeyArn ? [infra.secretsProviderKeyArn] : []),
    ...(state?.bucketKeyArn ? [state.bucketKeyArn] : []),
    ...(secretKey ? [secretKey] : []),
  ];
  return [
    ...(state ? stateIdentityStatements(state, "read") : []),
    ...(infra.secretsProviderKeyArn
      ? [{ Sid: "DecryptStackConfig", Action: ["kms:Decrypt"], Resource: [infra.secretsProviderKeyArn] }]
      : []),
    ...(reads.secretArns.length > 0
      ? [
          {
            Sid: "RefreshReadsSecretValuesItsStateAlreadyHolds",
            Action: ["secretsmanager:GetSecretValue"],
            Resource: [...reads.secretArns],
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
    ...(reads.objectArns.length > 0
      ? [{ Sid: "RefreshReadsObjectsTheStackUploads", Action: ["s3:GetObject"], Resource: [...reads.objectArns] }]
      : []),
    reads.secretArns.length > 0
      ? {
          Sid: "NeverReadOtherSecretValues",
          Effect: "Deny",
          Action: ["secretsmanager:GetSecretValue"],
          NotResource: [...reads.secretArns],
        }
      : { Sid: "NeverReadSecretValues", Effect: "Deny", Action: ["secretsmanager:GetSecretValue"], Resource: "*" },
    {
      Sid: "NeverBatchReadSecretValues",
      Effect: "Deny",
      Action: ["secretsmanager:BatchGetSecretValue"],
      Resource: "*",
    },
    keys.length > 0
      ? { Sid: "NeverDecryptWithOtherKeys", Effect: "Deny", Action: ["kms:Decrypt"], NotResource: keys }
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
      ? { Sid: "NeverReadOtherObjects", Effect: "Deny", Action: ["s3:GetObject"], NotResource: objects }
      : { Sid: "NeverReadObjects", Effect: "Deny", Action: ["s3:GetObject"], Resource: "*" },
    ...(infra.dnsRoleArn ? zoneRoleStatements(infra.dnsRoleArn, "read") : []),
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
