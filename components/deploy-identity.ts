import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import type { Environment } from "../config/environments";
import { DNS_ACCESS_TAG, DnsAccess } from "../lib/dns-access";
import { AwsContext, Statement, policyDocument, trustDocument } from "../lib/iam";
import { IMAGE_DEPLOY_SESSION_SECONDS } from "../lib/rollout";

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

export interface DeployRepository {
  /** Stable key: part of logical names (`proxy-router`). */
  readonly key: string;
  /** `owner/repo`. */
  readonly repository: string;
  readonly roleName: string;
  /** Exact subjects trusted beyond `repo:<owner>/<repo>:environment:<github-env>`. */
  readonly extraSubjects?: readonly string[];
  /** ECS services it deploys images to. */
  readonly services: readonly DeployableService[];
  /** Static sites it publishes. */
  readonly sites?: readonly DeployableSite[];
  /** Lambda functions whose code it uploads. */
  readonly functions?: readonly DeployableFunction[];
}

/** This repository's own CI: a read-only preview role for pull requests and the deployer that runs `pulumi up`. */
export interface InfraCiRoles {
  /** `owner/repo` of this repository. */
  readonly repository: string;
  readonly previewRoleName: string;
  readonly deployerRoleName: string;
  /** The Pulumi state bucket the preview reads (the S3 backend); absent with Pulumi Cloud. */
  readonly stateBucket?: string;
  /** The KMS key of the stack's secrets provider (`awskms://...`); the preview decrypts stack config with it. */
  readonly secretsProviderKeyArn?: string;
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
 * GitHub Actions' way into AWS (seeds 000 and 001): the account's OIDC provider
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
        throw new Error(`deploy role ${repo.roleName}: the repository ${repo.repository} deploys nothing (no service, site or function)`);
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

/** The subjects a repository's deploy role trusts in this environment. */
export function trustedSubjects(repo: DeployRepository, env: Environment): string[] {
  return [`repo:${repo.repository}:environment:${env.githubEnvironment}`, ...(repo.extraSubjects ?? [])];
}

function githubTrust(providerArn: pulumi.Input<string>, repo: DeployRepository, env: Environment): aws.types.input.iam.PolicyDocument {
  return oidcTrust(providerArn, `GitHub${pascal(env.githubEnvironment)}EnvironmentOfThisRepositoryOnly`, trustedSubjects(repo, env));
}

function oidcTrust(providerArn: pulumi.Input<string>, sid: string, subjects: readonly string[]): aws.types.input.iam.PolicyDocument {
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
  return [`repo:${infra.repository}:pull_request`, `repo:${infra.repository}:ref:refs/heads/${infra.driftCheckBranch}`];
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
      assumeRolePolicy: oidcTrust(providerArn, "PullRequestsAndDriftChecksOfThisRepositoryOnly", previewSubjects(infra)),
      maxSessionDuration: 3600,
    },
    { parent },
  );
  new aws.iam.RolePolicyAttachment(`${name}-infra-preview-read`, { role: preview.name, policyArn: managed("ReadOnlyAccess") }, { parent });
  const bucket = infra.stateBucket ? `arn:${ctx.partition}:s3:::${infra.stateBucket}` : undefined;
  const statements: Statement[] = [
    ...(bucket ? [{ Sid: "ReadPulumiState", Action: ["s3:GetObject", "s3:ListBucket"], Resource: [bucket, `${bucket}/*`] }] : []),
    ...(infra.secretsProviderKeyArn ? [{ Sid: "DecryptStackConfig", Action: ["kms:Decrypt"], Resource: [infra.secretsProviderKeyArn] }] : []),
    { Sid: "NeverReadSecretValues", Effect: "Deny", Action: ["secretsmanager:GetSecretValue", "secretsmanager:BatchGetSecretValue"], Resource: "*" },
    infra.secretsProviderKeyArn
      ? { Sid: "NeverDecryptWithOtherKeys", Effect: "Deny", Action: ["kms:Decrypt"], NotResource: [infra.secretsProviderKeyArn] }
      : { Sid: "NeverDecrypt", Effect: "Deny", Action: ["kms:Decrypt"], Resource: "*" },
    bucket
      ? { Sid: "NeverReadOtherObjects", Effect: "Deny", Action: ["s3:GetObject"], NotResource: [`${bucket}/*`] }
      : { Sid: "NeverReadObjects", Effect: "Deny", Action: ["s3:GetObject"], Resource: "*" },
    ...(infra.dnsRoleArn ? zoneRoleStatements(infra.dnsRoleArn, "read") : []),
  ];
  new aws.iam.RolePolicy(`${name}-infra-preview-policy`, { role: preview.id, name: "preview", policy: policyDocument(statements) }, { parent });

  const deployer = new aws.iam.Role(
    `${name}-infra-deployer-role`,
    {
      name: infra.deployerRoleName,
      description: `pulumi up of ${env.name} from ${infra.repository}'s ${env.githubEnvironment} environment`,
      assumeRolePolicy: oidcTrust(providerArn, `GitHub${pascal(env.githubEnvironment)}EnvironmentOfThisRepositoryOnly`, [`repo:${infra.repository}:environment:${env.githubEnvironment}`]),
      // An RDS Multi-AZ change alone can take most of an hour.
      maxSessionDuration: 7200,
    },
    { parent },
  );
  new aws.iam.RolePolicyAttachment(`${name}-infra-deployer-admin`, { role: deployer.name, policyArn: managed("AdministratorAccess") }, { parent });
  if (infra.dnsRoleArn) {
    // Stated although AdministratorAccess covers it: the deployer's way into the zone's account stays explicit.
    new aws.iam.RolePolicy(`${name}-infra-deployer-dns`, { role: deployer.id, name: "zone-records", policy: policyDocument(zoneRoleStatements(infra.dnsRoleArn, "write")) }, { parent });
  }
  return { preview, deployer };
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
      Condition: { StringEquals: { [`aws:RequestTag/${DNS_ACCESS_TAG}`]: access }, "ForAllValues:StringEquals": { "aws:TagKeys": [DNS_ACCESS_TAG] } },
    },
  ];
}

/**
 * Exactly what a code deploy does, for what the repository deploys: ECS services
 * (register a revision, update the service, record the tag), static sites (sync
 * the bucket, invalidate the distribution) and Lambda code. Nothing else.
 */
export function deployStatements(ctx: AwsContext, repo: DeployRepository): Statement[] {
  return [...ecsDeployStatements(ctx, repo.services), ...siteDeployStatements(repo.sites ?? []), ...functionDeployStatements(repo.functions ?? [])];
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
  return [{ Sid: "UploadOwnFunctionCode", Action: ["lambda:UpdateFunctionCode", "lambda:GetFunction"], Resource: functions.map((f) => f.functionArn) }];
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
