/** Least privilege: who can do what, to which resources. */
import * as aws from "@pulumi/aws";
import {
  ActionResourceType,
  accessLevelOf,
  actionConditionKeysOf,
  actionExists,
  expandAction,
  mayAddress,
  resourceTypesOf,
  unscopedResource,
} from "./iam-facts";
import {
  Finding,
  IamStatement,
  IdentityPolicy,
  ManagedAttachment,
  RuleContext,
  ResourceView,
  Rule,
  conditionValues,
  identityPolicies,
  isPrivilegedRole,
  managedAttachments,
  optionsOf,
  parseDocument,
  roleName,
  str,
  wildcardRegExp,
} from "./model";

const ADMIN_POLICIES = ["AdministratorAccess", "PowerUserAccess", "IAMFullAccess"];
const GITHUB_OIDC_HOST = "token.actions.githubusercontent.com";

const isWildcardAction = (a: string) => a === "*" || /^[a-z0-9-]+:\*$/i.test(a);

/**
 * A policy granted only to roles configured as privileged: its findings are reported as allowed exceptions.
 * Never one that also reaches a user, a group, or a principal not known yet.
 */
function privileged(policy: IdentityPolicy, ctx: RuleContext): boolean {
  if (policy.users.length > 0 || policy.groups.length > 0 || policy.principalsUnknown) return false;
  return policy.roles.length > 0 && policy.roles.every((r) => isPrivilegedRole(r, ctx.config));
}

/** "role app-task", "group ops", or "a role not known yet". */
function principalLabel(a: ManagedAttachment): string {
  return a.principal ? `${a.kind} ${a.principal}` : `a ${a.kind} not known yet`;
}

function finding(policy: IdentityPolicy, ctx: RuleContext, message: string): Finding {
  const allowed = privileged(policy, ctx);
  return {
    urn: policy.source.urn,
    message: `${allowed ? "allowed exception (privilegedRoles): " : ""}${message}`,
    exception: allowed,
  };
}

/** True when any of the statement's action patterns names one of `actions` (patterns expanded against IAM data). */
async function grantsAny(s: IamStatement, actions: readonly RegExp[]): Promise<string[]> {
  const hits: string[] = [];
  for (const pattern of s.actions) {
    const concrete = pattern === "*" ? ["*"] : await expandAction(pattern);
    if (concrete.some((a) => a === "*" || actions.some((re) => re.test(a)))) hits.push(pattern);
  }
  return hits;
}

export const noWildcardActions: Rule = {
  name: "iam-no-wildcard-actions",
  description:
    'No identity policy allows "*" or "service:*", and no principal gets an AWS-managed admin policy (AdministratorAccess, PowerUserAccess, IAMFullAccess) by any attachment: only a privilegedRoles role may, never a user or group.',
  enforcement: "mandatory",
  remediation:
    "List the exact actions the principal needs. Only a role named in the privilegedRoles configuration may hold broad rights; users and groups never do.",
  equivalents: [
    "CKV_AWS_62",
    "CKV_AWS_63",
    "CKV_AWS_1",
    "CKV_AWS_49",
    "CKV_AWS_274",
    "AwsSolutions-IAM5",
    "AVD-AWS-0057",
    "[IAM.1]",
    "[IAM.21]",
  ],
  checkStack: (resources, ctx) => {
    const findings: Finding[] = [];
    for (const policy of identityPolicies(resources)) {
      const allows = policy.statements.filter((s) => s.effect === "Allow");
      const broad = allows.flatMap((s) => s.actions.filter(isWildcardAction).map((a) => ({ s, a })));
      if (broad.length > 0)
        findings.push(
          finding(policy, ctx, `allows ${broad.map((b) => `"${b.a}"${b.s.sid ? ` (${b.s.sid})` : ""}`).join(", ")}`),
        );
      for (const s of allows.filter((x) => x.notActions.length > 0)) {
        findings.push(
          finding(
            policy,
            ctx,
            `statement ${s.sid ?? "(no Sid)"} allows every action except ${s.notActions.join(", ")} (Allow with NotAction)`,
          ),
        );
      }
    }
    // Every attachment type: a role's, a user's or a group's, one at a time or exclusive.
    for (const a of managedAttachments(resources)) {
      const admin = ADMIN_POLICIES.find((p) => a.policyArn.endsWith(`:policy/${p}`));
      if (!admin) continue;
      if (a.kind !== "role") {
        findings.push({
          urn: a.source.urn,
          message: `attaches the AWS-managed ${admin} policy to ${principalLabel(a)}: admin policies go only to privilegedRoles roles, never to a user or group`,
        });
        continue;
      }
      const allowed = !!a.principal && isPrivilegedRole(a.principal, ctx.config);
      findings.push({
        urn: a.source.urn,
        message: `${allowed ? "allowed exception (privilegedRoles): " : ""}attaches the AWS-managed ${admin} policy to ${principalLabel(a)}`,
        exception: allowed,
      });
    }
    return findings;
  },
};

/**
 * Whether a statement's type-wide wildcards on `types` are what the action needs: each names only resources
 * the action creates (their names are unknown beforehand: `network-interface/*` for ec2:CreateNetworkInterface),
 * and the statement pins another resource type every request names to specific ARNs (the subnet), so the
 * grant stays bounded.
 */
function createdWithinBounds(
  resources: readonly string[],
  unscoped: ReadonlySet<string>,
  types: readonly ActionResourceType[],
): boolean {
  const reached = types.filter((t) => [...unscoped].some((r) => mayAddress(r, t.arn)));
  if (!reached.every((t) => t.created)) return false;
  return types.some((t) => {
    if (!t.required) return false;
    const naming = resources.filter((r) => mayAddress(r, t.arn));
    return naming.length > 0 && naming.every((r) => !unscoped.has(r));
  });
}

/**
 * Condition keys that pin the resources a statement reaches to named containers
 * (a VPC, a subnet): a type-wide ARN under such a condition is bounded, because
 * the request must name a resource inside them. Lambda's execution role manages
 * network interfaces it creates, whose ids nobody knows beforehand, in its VPC only.
 */
const CONTAINER_KEYS = ["ec2:vpc", "ec2:subnet"];

function pinnedToContainer(s: IamStatement): boolean {
  return CONTAINER_KEYS.some((key) => {
    const values = conditionValues(s, ["ArnEquals", "StringEquals"], key);
    return !!values && values.length > 0 && values.every((v) => v.length > 0 && !/[*?]/.test(v));
  });
}

/**
 * Whether "*" is the only Resource that allows the calls this statement is for: none of the
 * action's resource types is required, so a request may name no resource at all
 * (cloudwatch:PutMetricData without a dataset), and the statement's Condition pins every
 * request by one of the action's own condition keys to exact values (cloudwatch:namespace =
 * CloudWatchSynthetics), which bounds the grant as an ARN would.
 */
async function optionalResourcePinnedByActionKey(
  s: IamStatement,
  action: string,
  types: readonly ActionResourceType[],
): Promise<boolean> {
  if (types.length === 0 || types.some((t) => t.required)) return false;
  const keys = await actionConditionKeysOf(action);
  return keys.some((key) => {
    const values = conditionValues(s, ["StringEquals", "ArnEquals"], key);
    return !!values && values.length > 0 && values.every((v) => v.length > 0 && !/[*?]/.test(v));
  });
}

export const resourceStarOnlyWhereRequired: Rule = {
  name: "iam-resource-star-only-where-required",
  description:
    'An Allow on an unscoped Resource ("*", or an ARN whose resource part is only a resource type and wildcards: secret:*, secret:*-??????, key/*, parameter/*, service/*, arn:aws:s3:::*) names only actions that accept no resource ARN; no Allow uses NotResource.',
  enforcement: "mandatory",
  remediation:
    'Name the resource ARNs (a name prefix such as secret:<name>-* or task-definition/<family>:* is scoped). Keep "*" only in a statement whose actions all accept no resource ARN, and say so in its Sid. A resource the action creates may stay type-wide (network-interface/*) when the statement pins another resource the action requires (the subnet), or when its Condition pins the container by ArnEquals/StringEquals on ec2:Vpc or ec2:Subnet. An action whose resource types are all optional may keep "*" when its Condition pins one of the action\'s own keys to exact values (cloudwatch:PutMetricData with cloudwatch:namespace).',
  equivalents: [
    "CKV_AWS_355",
    "CKV_AWS_356",
    "CKV_AWS_111 (related)",
    "CKV_AWS_290 (related)",
    "AwsSolutions-IAM5",
    "AVD-AWS-0057",
  ],
  checkStack: async (resources, ctx) => {
    const findings: Finding[] = [];
    for (const policy of identityPolicies(resources)) {
      for (const s of policy.statements) {
        if (s.effect !== "Allow") continue;
        if (s.notResources.length > 0) {
          findings.push(
            finding(
              policy,
              ctx,
              `statement ${s.sid ?? "(no Sid)"} allows its actions on every resource except ${s.notResources.join(", ")} (Allow with NotResource)`,
            ),
          );
          continue;
        }
        const unscoped = new Set<string>();
        for (const r of s.resources) if (await unscopedResource(r)) unscoped.add(r);
        if (unscoped.size === 0 || pinnedToContainer(s)) continue;
        const scopable = new Set<string>();
        const offending = new Set<string>();
        for (const action of s.actions.filter((a) => !isWildcardAction(a))) {
          for (const concrete of await expandAction(action)) {
            const types = await resourceTypesOf(concrete);
            // Only the unscoped resources that can name this action's resources (a secret:* says nothing about s3:GetObject).
            const reaching = [...unscoped].filter((r) => types.some((t) => mayAddress(r, t.arn)));
            if (reaching.length === 0 || createdWithinBounds(s.resources, unscoped, types)) continue;
            if (await optionalResourcePinnedByActionKey(s, concrete, types)) continue;
            scopable.add(concrete);
            for (const r of reaching) offending.add(r);
          }
        }
        if (scopable.size > 0) {
          const on = [...offending].map((r) => `"${r}"`).join(", ");
          findings.push(
            finding(
              policy,
              ctx,
              `statement ${s.sid ?? "(no Sid)"} grants on ${on} actions that take resource ARNs: ${[...scopable].join(", ")}`,
            ),
          );
        }
      }
    }
    return findings;
  },
};

export const actionsExist: Rule = {
  name: "iam-actions-exist",
  description: "Every action in every IAM policy exists (a typo such as ecs:UpdateServices silently grants nothing).",
  enforcement: "mandatory",
  remediation: "Correct the action name; the service authorization reference lists the valid ones.",
  equivalents: ["IAM Access Analyzer policy validation"],
  checkStack: async (resources) => {
    const findings: Finding[] = [];
    for (const policy of identityPolicies(resources)) {
      for (const s of policy.statements) {
        for (const action of [...s.actions, ...s.notActions]) {
          if (!(await actionExists(action)))
            findings.push({
              urn: policy.source.urn,
              message: `statement ${s.sid ?? "(no Sid)"}: no IAM action matches "${action}"`,
            });
        }
      }
    }
    return findings;
  },
};

export const passRoleScoped: Rule = {
  name: "iam-passrole-scoped",
  description:
    "iam:PassRole (however spelled: iam:Pass*, iam:*Role, iam:*, *) names role ARNs and carries an iam:PassedToService condition.",
  enforcement: "mandatory",
  remediation:
    'List the exact role ARNs and add Condition StringEquals "iam:PassedToService" (e.g. ecs-tasks.amazonaws.com).',
  equivalents: ["AVD-AWS-0342", "CKV_AWS_286 (related)", "CKV_AWS_110 (related)", "AwsSolutions-IAM5"],
  checkStack: async (resources, ctx) => {
    const findings: Finding[] = [];
    for (const policy of identityPolicies(resources)) {
      for (const s of policy.statements.filter((x) => x.effect === "Allow")) {
        const via = await grantsAny(s, [/^iam:passrole$/i]);
        if (via.length === 0) continue;
        const problems: string[] = [];
        if (s.resources.some((r) => r === "*" || r.endsWith(":role/*"))) problems.push("names no specific role");
        if (!conditionValues(s, ["StringEquals", "StringLike"], "iam:PassedToService"))
          problems.push("has no iam:PassedToService condition");
        if (problems.length)
          findings.push(
            finding(
              policy,
              ctx,
              `statement ${s.sid ?? "(no Sid)"}: iam:PassRole${via.length === 1 && /^iam:PassRole$/i.test(via[0]) ? "" : ` (via ${via.join(", ")})`} ${problems.join(" and ")}`,
            ),
          );
      }
    }
    return findings;
  },
};

export const noUsersOrAccessKeys: Rule = {
  name: "iam-no-users-or-access-keys",
  description:
    "No IAM users and no long-lived credentials (access keys, console login profiles, service-specific credentials such as CodeCommit or Keyspaces passwords, signing certificates, SSH keys), nor policies for users (inline, attached, exclusive, or through a PolicyAttachment's users): people use SSO, GitHub Actions uses OIDC.",
  enforcement: "mandatory",
  remediation: "Remove the user or key; grant GitHub Actions a role trusted by the GitHub OIDC provider instead.",
  equivalents: [
    "CKV_AWS_273",
    "CKV_AWS_40 (related)",
    "AVD-AWS-0143 (related)",
    "[IAM.2] (related)",
    "awsguard:access-keys-rotated (weaker)",
    "awsguard:mfa-enabled-for-iam-console-access (weaker)",
  ],
  checkResource: (r) => {
    if (USER_RESOURCES.includes(r.type))
      return [{ message: `${r.type.split(":").pop()} "${r.name}" is a long-lived credential` }];
    if (r.type === "aws:iam/policyAttachment:PolicyAttachment") {
      const users = (Array.isArray(r.props.users) ? r.props.users : []).map(str).filter((u): u is string => !!u);
      if (users.length > 0)
        return [
          { message: `PolicyAttachment "${r.name}" grants IAM users ${users.join(", ")}, long-lived credentials` },
        ];
    }
    return [];
  },
};

const USER_RESOURCES = [
  "aws:iam/user:User",
  "aws:iam/accessKey:AccessKey",
  "aws:iam/userLoginProfile:UserLoginProfile",
  "aws:iam/serviceSpecificCredential:ServiceSpecificCredential",
  "aws:iam/signingCertificate:SigningCertificate",
  "aws:iam/sshKey:SshKey",
  "aws:iam/userPolicy:UserPolicy",
  "aws:iam/userPolicyAttachment:UserPolicyAttachment",
  "aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive",
  "aws:iam/userPoliciesExclusive:UserPoliciesExclusive",
];

/** Trust statements that let GitHub's OIDC provider assume the role. */
export function githubTrustStatements(role: ResourceView): IamStatement[] {
  return (parseDocument(role.props.assumeRolePolicy) ?? []).filter((s) => {
    if (s.effect !== "Allow") return false;
    const federated = (s.principal as { Federated?: unknown } | undefined)?.Federated;
    return (Array.isArray(federated) ? federated : [federated]).some(
      (f) => typeof f === "string" && f.includes(GITHUB_OIDC_HOST),
    );
  });
}

export const githubTrustPinned: Rule = {
  name: "github-oidc-trust-pinned",
  description:
    "A role GitHub's OIDC provider may assume requires aud sts.amazonaws.com and a sub pinned to one repository of the configured owner, spelled exactly as GitHub spells it (plain or immutable form); production roles admit only the production environment or branch.",
  enforcement: "mandatory",
  remediation:
    'Use StringEquals "token.actions.githubusercontent.com:aud" = "sts.amazonaws.com" and "…:sub" = "repo:<owner>/<repo>:environment:<env>", with no wildcard in owner or repository.',
  equivalents: ["CKV_AWS_358"],
  checkResource: (r, ctx) => {
    if (r.type !== "aws:iam/role:Role") return [];
    const findings: Finding[] = [];
    for (const s of githubTrustStatements(r)) {
      const label = `trust statement ${s.sid ?? "(no Sid)"}`;
      const aud = conditionValues(s, ["StringEquals"], `${GITHUB_OIDC_HOST}:aud`);
      if (!aud || aud.length !== 1 || aud[0] !== "sts.amazonaws.com")
        findings.push({ message: `${label}: aud must be StringEquals "sts.amazonaws.com"` });
      const subs = conditionValues(s, ["StringEquals", "StringLike"], `${GITHUB_OIDC_HOST}:sub`);
      if (!subs || subs.length === 0) {
        findings.push({ message: `${label}: no sub condition, so any repository on GitHub could assume the role` });
        continue;
      }
      for (const sub of subs) {
        // repo:<owner>/<repo>:<context>, or GitHub's immutable form repo:<owner>@<id>/<repo>@<id>:<context>.
        const m = /^repo:([^/:@]+)(?:@\d+)?\/([^:@]+)(?:@\d+)?:(.+)$/.exec(sub);
        if (!m) {
          findings.push({
            message: `${label}: sub "${sub}" is not of the form repo:<owner>/<repo>:<context> or repo:<owner>@<id>/<repo>@<id>:<context>`,
          });
          continue;
        }
        const [, owner, repo, context] = m;
        if (/[*?]/.test(owner) || /[*?]/.test(repo))
          findings.push({ message: `${label}: sub "${sub}" has a wildcard in owner or repository` });
        else if (owner.toLowerCase() !== ctx.config.githubOwner.toLowerCase())
          findings.push({ message: `${label}: sub "${sub}" trusts owner "${owner}", not "${ctx.config.githubOwner}"` });
        // GitHub's claim carries the owner as GitHub spells it, and StringEquals is case-sensitive: another spelling never matches.
        else if (owner !== ctx.config.githubOwner)
          findings.push({
            message: `${label}: sub "${sub}" spells the owner "${owner}", but GitHub spells it "${ctx.config.githubOwner}"; the subject is compared case-sensitively, so no token would ever match`,
          });
        if (ctx.production && !ctx.config.productionSubjects.includes(context)) {
          const name = roleName(r);
          const preview =
            context === "pull_request" && !!name && ctx.config.previewRoles.some((p) => wildcardRegExp(p).test(name));
          findings.push({
            message: `${preview ? "allowed exception (previewRoles): " : ""}${label}: production role trusts "${context}"; expected one of ${ctx.config.productionSubjects.join(", ")}`,
            exception: preview,
          });
        }
      }
    }
    return findings;
  },
};

const SECRET_READS = [/^secretsmanager:(getsecretvalue|batchgetsecretvalue)$/i];
const DECRYPT = [/^kms:decrypt$/i];
const PARAMETER_READS = [/^ssm:getparameters?$/i, /^ssm:getparametersbypath$/i, /^ssm:getparameterhistory$/i];
/** AWS-managed policies that read secrets. */
const SECRET_READING_MANAGED = ["AdministratorAccess", "PowerUserAccess", "SecretsManagerReadWrite"];

export const githubRolesReadNoSecrets: Rule = {
  name: "github-roles-read-no-secrets",
  description:
    "A role GitHub may assume never reads a secret: no secretsmanager:GetSecretValue, no kms:Decrypt, no ssm:GetParameter* on a SecureString (however the action is spelled), and no managed policy that grants them.",
  enforcement: "mandatory",
  remediation:
    "Secrets are read by ECS or Lambda at run time with their own roles; remove the grant from the deploy role. Deployment facts belong in GitHub variables or plain SSM String parameters.",
  equivalents: [],
  checkStack: async (resources, ctx) => {
    const githubRoleViews = resources.filter(
      (r) => r.type === "aws:iam/role:Role" && githubTrustStatements(r).length > 0,
    );
    // kms:Decrypt reads a secret when it is on "*" or on a key that encrypts Secrets Manager secrets
    // (Pulumi's own secrets-provider key, which a preview needs, is neither).
    // A secret may name its key by ARN, id or alias: each is resolved to the key's ARN. A key that cannot
    // be resolved (an alias of another stack) leaves every kms:Decrypt on a key reading secrets.
    const keys = secretKeyArns(resources);
    const secretKeys = keys.arns;
    const githubRoles = new Set(githubRoleViews.map(roleName).filter((n): n is string => !!n));
    const secureParams = resources
      .filter((r) => r.type === "aws:ssm/parameter:Parameter" && r.props.type === "SecureString")
      .map((r) => str(r.outputs.arn) ?? "")
      .filter(Boolean);
    // Secrets whose value the stack itself writes (a SecretVersion): their values are in its state already,
    // which a preview decrypts anyway. A preview role's refresh may read exactly those, reported as an exception.
    const stateHeld = stateHeldSecretArns(resources);
    const findings: Finding[] = [];
    for (const policy of identityPolicies(resources)) {
      const roles = policy.roles.filter((r) => githubRoles.has(r));
      if (roles.length === 0) continue;
      const preview = roles.every((r) => ctx.config.previewRoles.some((p) => wildcardRegExp(p).test(r)));
      for (const s of policy.statements.filter((x) => x.effect === "Allow")) {
        const reads = await grantsAny(s, SECRET_READS);
        const decrypts = await grantsAny(s, DECRYPT);
        const decryptsSecrets =
          decrypts.length > 0 &&
          s.resources.some(
            (res) =>
              res === "*" ||
              secretKeys.some((k) => matchesArn(res, k)) ||
              (keys.unresolved && /^arn:[^:]+:kms:[^:]*:[^:]*:key\//.test(res)),
          );
        const paramReads = await grantsAny(s, PARAMETER_READS);
        const readsSecureParam =
          paramReads.length > 0 &&
          s.resources.some((res) => res === "*" || secureParams.some((p) => matchesArn(res, p)));
        if (reads.length || decryptsSecrets || readsSecureParam) {
          const what = [...reads, ...(decryptsSecrets ? decrypts : []), ...(readsSecureParam ? paramReads : [])].join(
            ", ",
          );
          const onlyStateHeld =
            preview &&
            !readsSecureParam &&
            (reads.length === 0 || s.resources.every((res) => stateHeld.has(res))) &&
            (!decryptsSecrets || onlyThroughSecretsManagerFor(s, stateHeld)) &&
            readsOnlyStateHeld(policy.statements, stateHeld);
          findings.push({
            ...finding(
              policy,
              ctx,
              `${onlyStateHeld ? "allowed exception (previewRoles): " : ""}GitHub-trusted role ${roles.join(", ")} can read secrets: ${what} (${s.sid ?? "no Sid"})${onlyStateHeld ? ", only those whose values its stack's state already holds" : ""}`,
            ),
            ...(onlyStateHeld ? { exception: true } : {}),
          });
        }
      }
    }
    // AWS-managed policies, by any attachment that reaches a GitHub-trusted role (a role not known yet is skipped).
    for (const a of managedAttachments(resources)) {
      const target = a.principal;
      if (a.kind !== "role" || !target || !githubRoles.has(target)) continue;
      const managed = SECRET_READING_MANAGED.find((m) => a.policyArn.endsWith(`:policy/${m}`));
      if (!managed) continue;
      const allowed = isPrivilegedRole(target, ctx.config);
      findings.push({
        urn: a.source.urn,
        message: `${allowed ? "allowed exception (privilegedRoles): " : ""}GitHub-trusted role ${target} gets the AWS-managed ${managed} policy, which reads secrets`,
        exception: allowed,
      });
    }
    return findings;
  },
};

/** ARNs of the secrets the stack writes a value into (a SecretVersion names them by ARN or id). */
function stateHeldSecretArns(resources: readonly ResourceView[]): Set<string> {
  const versioned = new Set(
    resources
      .filter((r) => r.type === "aws:secretsmanager/secretVersion:SecretVersion")
      .map((r) => str(r.props.secretId))
      .filter((v): v is string => !!v),
  );
  return new Set(
    resources
      .filter((r) => r.type === "aws:secretsmanager/secret:Secret")
      .flatMap((r) => [str(r.outputs.arn), str(r.outputs.id)].filter((v): v is string => !!v))
      .filter((arn) => versioned.has(arn)),
  );
}

/** Every secret read the policy allows is of a secret whose value the stack's state holds. */
function readsOnlyStateHeld(statements: readonly IamStatement[], secrets: ReadonlySet<string>): boolean {
  return statements
    .filter(
      (x) =>
        x.effect === "Allow" &&
        x.actions.some((a) => /^secretsmanager:(getsecretvalue|batchgetsecretvalue|\*)$/i.test(a) || a === "*"),
    )
    .every((x) => x.resources.every((r) => secrets.has(r)));
}

/**
 * A kms:Decrypt only Secrets Manager may make on the role's behalf (kms:ViaService), so only for a
 * GetSecretValue the role may call; with a SecretARN encryption context, only for those secrets.
 */
function onlyThroughSecretsManagerFor(s: IamStatement, secrets: ReadonlySet<string>): boolean {
  const via = conditionValues(s, ["StringEquals"], "kms:ViaService");
  const arns = conditionValues(s, ["StringEquals"], "kms:EncryptionContext:SecretARN");
  return (
    !!via &&
    via.length > 0 &&
    via.every((v) => /^secretsmanager\.[a-z0-9-]+\.amazonaws\.com$/.test(v)) &&
    (!arns || arns.every((a) => secrets.has(a)))
  );
}

export const executionRolesReadOwnSecrets: Rule = {
  name: "ecs-execution-role-reads-only-referenced-secrets",
  description: "A task execution role may read only the secrets its task definitions reference.",
  enforcement: "mandatory",
  remediation:
    "Limit secretsmanager:GetSecretValue on the execution role to the secret ARNs named in the containers' secrets[].valueFrom and repositoryCredentials.",
  equivalents: [],
  checkStack: async (resources) => {
    const findings: Finding[] = [];
    const policies = identityPolicies(resources);
    // A role shared by several task definitions may read what any of them references.
    const referencedByRole = new Map<string, { arns: Set<string>; families: string[] }>();
    for (const task of resources.filter((r) => r.type === "aws:ecs/taskDefinition:TaskDefinition")) {
      const roleRef = str(task.props.executionRoleArn);
      if (!roleRef) continue;
      const role = roleRef.split("/").pop() as string;
      const entry = referencedByRole.get(role) ?? { arns: new Set<string>(), families: [] };
      for (const arn of referencedSecretArns(task)) entry.arns.add(arn);
      entry.families.push(str(task.props.family) ?? task.name);
      referencedByRole.set(role, entry);
    }
    for (const [role, { arns, families }] of referencedByRole) {
      for (const policy of policies.filter((p) => p.roles.includes(role))) {
        for (const s of policy.statements.filter((x) => x.effect === "Allow")) {
          // However spelled: secretsmanager:Get*, secretsmanager:*, *.
          if ((await grantsAny(s, SECRET_READS)).length === 0) continue;
          const extra = s.resources.filter((res) => /[*?]/.test(res) || ![...arns].some((arn) => matchesArn(res, arn)));
          if (extra.length)
            findings.push({
              urn: policy.source.urn,
              message: `execution role ${role} can read secrets its task definitions (${families.join(", ")}) do not reference: ${extra.join(", ")}`,
            });
        }
      }
    }
    return findings;
  },
};

/** Concrete IAM actions, among a statement's, that change IAM: the reference's Write and Permissions management levels (iam:PassRole aside). */
async function iamChanges(s: IamStatement): Promise<string[]> {
  const hits = new Set<string>();
  for (const pattern of s.actions) {
    if (pattern === "*") {
      hits.add("*");
      continue;
    }
    for (const action of await expandAction(pattern)) {
      if (!action.startsWith("iam:") || action.toLowerCase() === "iam:passrole") continue;
      const level = await accessLevelOf(action);
      if (/Write|Permissions management/.test(level)) hits.add(pattern);
    }
  }
  return [...hits];
}

/** AWS-managed policies that change IAM. */
const IAM_CHANGING_MANAGED = ["AdministratorAccess", "IAMFullAccess"];

/** Roles of the stack that hold more than a deploy role may hand on: admin, wildcard or IAM-changing rights, or a privilegedRoles name. */
async function privilegedRoleNames(resources: readonly ResourceView[], ctx: RuleContext): Promise<Map<string, string>> {
  const why = new Map<string, string>();
  for (const r of resources.filter((x) => x.type === "aws:iam/role:Role")) {
    const name = roleName(r);
    if (name && isPrivilegedRole(name, ctx.config)) why.set(name, "a privilegedRoles role");
  }
  for (const a of managedAttachments(resources)) {
    const managedName = IAM_CHANGING_MANAGED.find((m) => a.policyArn.endsWith(`:policy/${m}`));
    if (a.kind === "role" && a.principal && managedName && !why.has(a.principal))
      why.set(a.principal, `holds ${managedName}`);
  }
  for (const policy of identityPolicies(resources)) {
    for (const s of policy.statements.filter((x) => x.effect === "Allow")) {
      const broad = s.actions.filter(isWildcardAction);
      const changes = await iamChanges(s);
      const reason = broad.length
        ? `allows ${broad.join(", ")}`
        : changes.length
          ? `can change IAM (${changes.join(", ")})`
          : undefined;
      if (reason) for (const role of policy.roles) if (!why.has(role)) why.set(role, reason);
    }
  }
  return why;
}

export const githubRolesNoIamEscalation: Rule = {
  name: "github-roles-no-iam-escalation",
  description:
    "A role GitHub may assume cannot change IAM (no iam: Write or Permissions management action, which includes changing its own trust with iam:UpdateAssumeRolePolicy, no IAMFullAccess or AdministratorAccess) and cannot pass or assume a role more privileged than itself (one with admin, wildcard or IAM-changing rights, or a privilegedRoles role).",
  enforcement: "mandatory",
  remediation:
    "A deploy role registers task definitions and updates its own services; IAM changes go through pulumi up by the deployer role (privilegedRoles). Pass only the services' own execution and task roles.",
  equivalents: ["CKV_AWS_286", "CKV_AWS_110", "CKV_AWS_289", "CKV_AWS_109", "AVD-AWS-0342 (related)"],
  checkStack: async (resources, ctx) => {
    const githubRoles = new Set(
      resources
        .filter((r) => r.type === "aws:iam/role:Role" && githubTrustStatements(r).length > 0)
        .map(roleName)
        .filter((n): n is string => !!n),
    );
    if (githubRoles.size === 0) return [];
    const privilegedRoles = await privilegedRoleNames(resources, ctx);
    const roleArns = new Map<string, string>();
    for (const r of resources.filter((x) => x.type === "aws:iam/role:Role")) {
      const name = roleName(r);
      const arn = str(r.outputs.arn);
      if (name && arn) roleArns.set(name, arn);
    }
    const findings: Finding[] = [];
    for (const policy of identityPolicies(resources)) {
      const roles = policy.roles.filter((r) => githubRoles.has(r));
      if (roles.length === 0) continue;
      for (const s of policy.statements.filter((x) => x.effect === "Allow")) {
        const label = `GitHub-trusted role ${roles.join(", ")} (${s.sid ?? "no Sid"})`;
        const changes = await iamChanges(s);
        if (changes.length) {
          const ownTrust =
            (await grantsAny(s, [/^iam:updateassumerolepolicy$/i])).length > 0 &&
            s.resources.some((res) =>
              roles.some((role) => matchesArn(res, roleArns.get(role) ?? `arn:aws:iam::*:role/${role}`)),
            );
          findings.push(
            finding(
              policy,
              ctx,
              `${label} can change IAM: ${changes.join(", ")}${ownTrust ? ", including its own trust policy" : ""}`,
            ),
          );
        }
        // Passing a role to a service, or assuming it (role chaining), hands on its rights.
        const passes = (await grantsAny(s, [/^iam:passrole$/i])).length > 0;
        const assumes = (await grantsAny(s, [/^sts:assumerole$/i])).length > 0;
        if (!passes && !assumes) continue;
        const reached = [...privilegedRoles].filter(
          ([name]) =>
            !roles.includes(name) &&
            s.resources.some((res) => matchesArn(res, roleArns.get(name) ?? `arn:aws:iam::*:role/${name}`)),
        );
        const verb = passes && assumes ? "pass or assume" : passes ? "pass" : "assume";
        if (reached.length)
          findings.push(
            finding(
              policy,
              ctx,
              `${label} can ${verb} more privileged roles: ${reached.map(([n, w]) => `${n} (${w})`).join(", ")}`,
            ),
          );
      }
    }
    for (const a of managedAttachments(resources)) {
      const managedName = IAM_CHANGING_MANAGED.find((m) => a.policyArn.endsWith(`:policy/${m}`));
      if (a.kind !== "role" || !a.principal || !githubRoles.has(a.principal) || !managedName) continue;
      const allowed = isPrivilegedRole(a.principal, ctx.config);
      findings.push({
        urn: a.source.urn,
        message: `${allowed ? "allowed exception (privilegedRoles): " : ""}GitHub-trusted role ${a.principal} gets the AWS-managed ${managedName} policy, which changes IAM`,
        exception: allowed,
      });
    }
    return findings;
  },
};

export const taskRoleIsNotExecutionRole: Rule = {
  name: "ecs-task-role-is-not-execution-role",
  description:
    "A task definition's task role (the application's identity) is not its execution role (which ECS uses to pull the image and read the task's secrets).",
  enforcement: "mandatory",
  remediation:
    "Give the task its own task role with only what the application calls; keep secret reads on the execution role.",
  equivalents: ["CKV_AWS_249"],
  resourceClasses: [aws.ecs.TaskDefinition],
  checkResource: (r) => {
    if (r.type !== "aws:ecs/taskDefinition:TaskDefinition") return [];
    const task = str(r.props.taskRoleArn);
    const exec = str(r.props.executionRoleArn);
    return task && exec && task === exec
      ? [
          {
            message: `task definition ${str(r.props.family) ?? r.name} uses its execution role ${exec} as its task role: the application could read every secret the task starts with`,
          },
        ]
      : [];
  },
};

/**
 * The ARNs of the KMS keys that encrypt this stack's Secrets Manager secrets, whether a secret names its
 * key by ARN, key id, alias name (`alias/x`) or alias ARN; `unresolved` when one names a key this stack
 * does not hold (it could be any key).
 */
export function secretKeyArns(resources: readonly ResourceView[]): { arns: string[]; unresolved: boolean } {
  const keyArn = new Map<string, string>();
  for (const key of resources.filter((r) => r.type === "aws:kms/key:Key")) {
    const arn = str(key.outputs.arn);
    if (!arn) continue;
    for (const ref of [arn, str(key.outputs.id), str(key.outputs.keyId)]) if (ref) keyArn.set(ref, arn);
  }
  const aliasTarget = new Map<string, string>();
  for (const alias of resources.filter((r) => r.type === "aws:kms/alias:Alias")) {
    const name = str(alias.props.name);
    const target = str(alias.props.targetKeyId);
    if (name && target) aliasTarget.set(name, target);
  }
  const arns: string[] = [];
  let unresolved = false;
  for (const secret of resources.filter((r) => r.type === "aws:secretsmanager/secret:Secret")) {
    const ref = str(secret.props.kmsKeyId);
    if (!ref) continue;
    const aliasName = /^(?:arn:[^:]+:kms:[^:]*:[^:]*:)?(alias\/.+)$/.exec(ref)?.[1];
    const target = aliasName ? aliasTarget.get(aliasName) : ref;
    const arn = target ? (keyArn.get(target) ?? (/^arn:/.test(target) ? target : undefined)) : undefined;
    if (arn) arns.push(arn);
    else unresolved = true;
  }
  return { arns, unresolved };
}

/** Secret ARNs a task definition references (valueFrom without the `:json-key:version-stage:version-id` suffix). */
export function referencedSecretArns(task: ResourceView): string[] {
  let containers: { secrets?: { valueFrom?: string }[]; repositoryCredentials?: { credentialsParameter?: string } }[] =
    [];
  try {
    containers = JSON.parse(String(task.props.containerDefinitions ?? "[]"));
  } catch {
    return [];
  }
  const arns: string[] = [];
  for (const c of containers) {
    for (const s of c.secrets ?? []) {
      const m = /^(arn:[^:]+:secretsmanager:[^:]+:\d+:secret:[^:]+)/.exec(s.valueFrom ?? "");
      if (m) arns.push(m[1]);
    }
    if (c.repositoryCredentials?.credentialsParameter) arns.push(c.repositoryCredentials.credentialsParameter);
  }
  return arns;
}

/** IAM resource matching: `*` and `?` wildcards, case-sensitive as IAM ARNs are. */
export function matchesArn(pattern: string, arn: string): boolean {
  return wildcardRegExp(pattern).test(arn);
}

/** What deploys an ECS service (or starts a deploy around the runner): no GitHub role holds it once the runner exists. */
const DEPLOY_ACTIONS = [
  /^ecs:(updateservice|registertaskdefinition|createservice|deleteservice|runtask|starttask)$/i,
  /^iam:passrole$/i,
  /^ssm:putparameter$/i,
  /^states:(startexecution|startsyncexecution)$/i,
  /^lambda:(updatefunctioncode|updatefunctionconfiguration)$/i,
];
/** What the caller of the runner may do besides invoking it: read the runner's logs. */
const LOG_READS = [/^logs:(filterlogevents|getlogevents|describelogstreams)$/i];

const RUNNER_OPTIONS = {
  invokerFunctions: {
    description:
      "Lambda function names (IAM-style wildcards) of the deploy runner's invoker. A stack with one uses the runner: no GitHub-trusted role deploys itself, and the role that may invoke it only reads logs besides.",
    schema: { type: "array", items: { type: "string" } },
    default: ["deploy-invoker-*"] as readonly string[],
  },
  uploadFunctions: {
    description:
      "Lambda function names (IAM-style wildcards) whose code a repository's own role still uploads beside the runner (the runner deploys ECS services only). Default: the futures marketplace's scheduled functions.",
    schema: { type: "array", items: { type: "string" } },
    default: ["margin-call-*", "market-maker-*"] as readonly string[],
  },
};

/** An IAM statement's resources, as far as they name functions matching `patterns`. */
function onlyFunctions(s: IamStatement, patterns: readonly string[]): boolean {
  return (
    s.resources.length > 0 &&
    s.resources.every((res) => {
      const name = /:function:([^:]+)/.exec(res)?.[1];
      return !!name && patterns.some((p) => wildcardRegExp(p).test(name));
    })
  );
}

export const githubRolesOnlyAskTheRunner: Rule = {
  name: "github-roles-only-ask-the-deploy-runner",
  description:
    "In a stack with the deploy runner, no role GitHub may assume deploys an ECS service itself (ecs:UpdateService, RegisterTaskDefinition, RunTask..., iam:PassRole, ssm:PutParameter, states:StartExecution, or a Lambda code update other than the scheduled functions a repository uploads), and a role that may invoke the runner's invoker may do nothing else but read logs.",
  enforcement: "mandatory",
  remediation:
    "Deploy through the invoker: remove the deploy grants from the GitHub-trusted role (the runner's own roles hold them), and keep the invoker's caller role to lambda:InvokeFunction on the invoker and logs reads.",
  equivalents: [],
  options: RUNNER_OPTIONS,
  checkStack: async (resources, ctx) => {
    const { invokerFunctions, uploadFunctions } = optionsOf(ctx, RUNNER_OPTIONS);
    const isInvoker = (name: string | undefined) =>
      !!name && invokerFunctions.some((p) => wildcardRegExp(p).test(name));
    const invokers = resources.filter((r) => r.type === "aws:lambda/function:Function" && isInvoker(str(r.props.name)));
    if (invokers.length === 0) return [];
    const githubRoles = new Set(
      resources
        .filter((r) => r.type === "aws:iam/role:Role" && githubTrustStatements(r).length > 0)
        .map(roleName)
        .filter((n): n is string => !!n),
    );
    const policies = identityPolicies(resources)
      .map((policy) => ({
        policy,
        roles: policy.roles.filter((r) => githubRoles.has(r) && !isPrivilegedRole(r, ctx.config)),
        allows: policy.statements.filter((x) => x.effect === "Allow"),
      }))
      .filter((p) => p.roles.length > 0);
    // The invoker's callers: GitHub-trusted roles with a statement that invokes the invoker (and nothing else).
    const invokes = new Set<IamStatement>();
    const callers = new Set<string>();
    for (const { roles, allows } of policies)
      for (const s of allows)
        if ((await grantsAny(s, [/^lambda:invokefunction$/i])).length > 0 && onlyFunctions(s, invokerFunctions)) {
          invokes.add(s);
          roles.forEach((r) => callers.add(r));
        }
    const findings: Finding[] = [];
    for (const { policy, roles, allows } of policies) {
      const caller = roles.some((r) => callers.has(r));
      for (const s of allows) {
        const deploys = (await grantsAny(s, DEPLOY_ACTIONS)).filter(
          (a) => !(/^lambda:update/i.test(a) && onlyFunctions(s, uploadFunctions)),
        );
        if (deploys.length > 0)
          findings.push(
            finding(
              policy,
              ctx,
              `GitHub-trusted role ${roles.join(", ")} deploys itself beside the deploy runner: ${deploys.join(", ")} (${s.sid ?? "no Sid"})`,
            ),
          );
        if (caller && !invokes.has(s)) {
          const reads = await grantsAny(s, LOG_READS);
          const others = s.actions.filter((a) => !reads.includes(a));
          if (others.length > 0)
            findings.push(
              finding(
                policy,
                ctx,
                `role ${roles.join(", ")} may invoke the deploy runner's invoker, so it may do nothing else but read logs; it also has ${others.join(", ")} (${s.sid ?? "no Sid"})`,
              ),
            );
        }
      }
    }
    return findings;
  },
};

export const LEAST_PRIVILEGE_RULES: readonly Rule[] = [
  noWildcardActions,
  resourceStarOnlyWhereRequired,
  actionsExist,
  passRoleScoped,
  noUsersOrAccessKeys,
  githubTrustPinned,
  githubRolesReadNoSecrets,
  githubRolesNoIamEscalation,
  githubRolesOnlyAskTheRunner,
  executionRolesReadOwnSecrets,
  taskRoleIsNotExecutionRole,
];
