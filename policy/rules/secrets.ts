/** Secret handling: secret values live in Secrets Manager and reach code only by reference. */
import * as aws from "@pulumi/aws";
import { isSecretLookingName, secretLookingValue } from "./secret-patterns";
import { Finding, ResourceView, Rule, propsOf, str } from "./model";

interface ContainerDefinition {
  name?: string;
  command?: string[];
  entryPoint?: string[];
  environment?: { name?: string; value?: string }[];
  secrets?: { name?: string; valueFrom?: string }[];
  repositoryCredentials?: { credentialsParameter?: string };
}

function containerDefinitions(r: ResourceView): ContainerDefinition[] | undefined {
  if (r.type !== "aws:ecs/taskDefinition:TaskDefinition") return undefined;
  try {
    return JSON.parse(String(r.props.containerDefinitions ?? "[]")) as ContainerDefinition[];
  } catch {
    return undefined;
  }
}

function plainVariableFindings(where: string, vars: Record<string, unknown>): Finding[] {
  const findings: Finding[] = [];
  for (const [name, value] of Object.entries(vars)) {
    if (isSecretLookingName(name)) findings.push({ message: `${where}: ${name} is named like a secret` });
    const why = typeof value === "string" ? secretLookingValue(value) : undefined;
    if (why) findings.push({ message: `${where}: the value of ${name} looks like ${why}` });
  }
  return findings;
}

/** A command line's secret-looking arguments: a value that looks like a secret, or `--password=x` / `--api-key x`. */
function argumentFindings(where: string, args: readonly unknown[]): Finding[] {
  const findings: Finding[] = [];
  args.forEach((arg, i) => {
    if (typeof arg !== "string") return;
    const why = secretLookingValue(arg);
    if (why) findings.push({ message: `${where}: argument ${i} looks like ${why}` });
    const flag = /^--?([A-Za-z0-9_-]+)=(.+)$/.exec(arg);
    if (flag && isSecretLookingName(flag[1]))
      findings.push({ message: `${where}: argument ${i} passes ${flag[1]} on the command line` });
    const next = args[i + 1];
    const bare = /^--?([A-Za-z0-9_-]+)$/.exec(arg);
    if (bare && isSecretLookingName(bare[1]) && typeof next === "string" && !next.startsWith("-"))
      findings.push({ message: `${where}: argument ${i} passes ${bare[1]} on the command line` });
  });
  return findings;
}

export const noSecretsInPlainEnvironment: Rule = {
  name: "no-secrets-in-plain-environment",
  description:
    "No secret-looking name or value in an ECS container's environment, command or entry point, a Lambda's variables or a Synthetics canary's environment variables, and no Pulumi secret baked into a task definition.",
  enforcement: "mandatory",
  remediation:
    "Put the value in Secrets Manager and pass it as a container secret (valueFrom <secret-arn>:<json-key>::), or read it at run time by ARN from a Lambda.",
  equivalents: ["CKV_AWS_45", "AVD-AWS-0036", "AwsSolutions-ECS2 (stricter: any variable)", "[ECS.8]"],
  checkResource: (r) => {
    const canary = propsOf(r, aws.synthetics.Canary);
    if (canary) {
      const findings = plainVariableFindings(
        "canary environment",
        (canary.runConfig?.environmentVariables ?? {}) as Record<string, unknown>,
      );
      if ([...(r.secretPaths ?? [])].some((p) => p.startsWith("runConfig")))
        findings.push({
          message:
            "canary run configuration holds a Pulumi secret: it is stored in plain text in the canary's configuration",
        });
      return findings;
    }
    if (r.type === "aws:lambda/function:Function") {
      const vars = (r.props.environment as { variables?: Record<string, unknown> } | undefined)?.variables ?? {};
      const findings = plainVariableFindings("Lambda environment", vars);
      if ([...(r.secretPaths ?? [])].some((p) => p.startsWith("environment")))
        findings.push({
          message:
            "Lambda environment holds a Pulumi secret: it is stored in plain text in the function's configuration",
        });
      return findings;
    }
    if (r.type !== "aws:ecs/taskDefinition:TaskDefinition") return [];
    // Checked first: a secret value makes the whole JSON a secret, which then cannot be parsed here.
    if (r.secretPaths?.has("containerDefinitions")) {
      return [{ message: "the container definitions hold a Pulumi secret: ECS stores them in plain text" }];
    }
    const containers = containerDefinitions(r) ?? [];
    return containers.flatMap((c) => [
      ...plainVariableFindings(
        `container ${c.name ?? "?"} environment`,
        Object.fromEntries((c.environment ?? []).map((e) => [e.name ?? "", e.value])),
      ),
      ...(["command", "entryPoint"] as const).flatMap((field) =>
        argumentFindings(`container ${c.name ?? "?"} ${field}`, c[field] ?? []),
      ),
    ]);
  },
};

export const containerSecretsByReference: Rule = {
  name: "container-secrets-by-reference",
  description:
    "Container secrets reference Secrets Manager (or SSM) by ARN; registry credentials come from Secrets Manager.",
  enforcement: "mandatory",
  remediation:
    "Set valueFrom to the secret's full ARN followed by :<json-key>:: and credentialsParameter to a Secrets Manager secret ARN.",
  equivalents: [],
  checkResource: (r) =>
    (containerDefinitions(r) ?? []).flatMap((c) => [
      ...(c.secrets ?? [])
        .filter(
          (s) =>
            !/^arn:aws[a-z-]*:(secretsmanager|ssm):[a-z0-9-]+:\d{12}:(secret:|parameter\/)/.test(s.valueFrom ?? ""),
        )
        .map((s) => ({
          message: `container ${c.name ?? "?"} secret ${s.name}: valueFrom "${s.valueFrom}" is not a Secrets Manager or SSM ARN`,
        })),
      ...(c.repositoryCredentials &&
      !/^arn:aws[a-z-]*:secretsmanager:/.test(c.repositoryCredentials.credentialsParameter ?? "")
        ? [{ message: `container ${c.name ?? "?"}: repositoryCredentials must name a Secrets Manager secret ARN` }]
        : []),
    ]),
};

export const secretValuesAreSecret: Rule = {
  name: "secret-values-are-pulumi-secrets",
  description:
    "Secrets Manager values are Pulumi secrets (encrypted in state); databases use managed master passwords and take no password input.",
  enforcement: "mandatory",
  remediation:
    "Pass secret values through pulumi.secret() / `pulumi config set --secret`; on RDS set manageMasterUserPassword: true and remove password.",
  equivalents: [],
  checkResource: (r) => {
    if (r.type === "aws:secretsmanager/secretVersion:SecretVersion") {
      const known = r.secretPaths;
      if (!known) return []; // the CLI's policy host cannot tell; the offline plan and the audit check it
      return ["secretString", "secretBinary"]
        .filter((k) => r.props[k] !== undefined && !known.has(k))
        .map((k) => ({ message: `${k} is not a Pulumi secret: it would be stored in plain text in the state` }));
    }
    if (r.type === "aws:rds/instance:Instance" || r.type === "aws:rds/cluster:Cluster") {
      const password = r.type === "aws:rds/instance:Instance" ? "password" : "masterPassword";
      const findings: Finding[] = [];
      if (r.props[password] !== undefined)
        findings.push({
          message: `${password} is set: use manageMasterUserPassword so no password exists in config, code or state`,
        });
      if (r.props.manageMasterUserPassword !== true) findings.push({ message: "manageMasterUserPassword is not true" });
      return findings;
    }
    return [];
  },
};

export const noSecretsInTagsOrOutputs: Rule = {
  name: "no-secrets-in-tags-or-outputs",
  description: "No secret value in a resource tag or a stack output.",
  enforcement: "mandatory",
  remediation:
    "Tags and outputs are readable by anyone with describe/read access to the stack: keep secrets out of them.",
  equivalents: ["Checkov secrets scanning (related)"],
  checkResource: (r) => {
    if (r.type === "pulumi:pulumi:Stack") {
      const findings: Finding[] = [...(r.secretPaths ?? [])].map((p) => ({ message: `stack output ${p} is a secret` }));
      walkStrings(r.props, "", (path, value) => {
        const why = secretLookingValue(value);
        if (why) findings.push({ message: `stack output ${path} looks like ${why}` });
      });
      return findings;
    }
    const tags = (r.props.tags ?? {}) as Record<string, unknown>;
    // One secret value makes the whole map secret (path "tags"); a single tag is "tags.<key>".
    const findings: Finding[] = [...(r.secretPaths ?? [])]
      .filter((p) => p === "tags" || p.startsWith("tags."))
      .map((p) => ({
        message: p === "tags" ? "the tags map holds a Pulumi secret" : `tag ${p.slice(5)} holds a Pulumi secret`,
      }));
    for (const [key, value] of Object.entries(tags)) {
      const why = typeof value === "string" ? secretLookingValue(value) : undefined;
      if (why) findings.push({ message: `tag ${key} looks like ${why}` });
      else if (isSecretLookingName(key) && typeof value === "string" && value !== "")
        findings.push({ message: `tag ${key} is named like a secret and holds a value` });
    }
    return findings;
  },
};

function walkStrings(value: unknown, path: string, visit: (path: string, value: string) => void): void {
  if (typeof value === "string") visit(path, value);
  else if (Array.isArray(value)) value.forEach((v, i) => walkStrings(v, path ? `${path}.${i}` : String(i), visit));
  else if (value && typeof value === "object")
    for (const [k, v] of Object.entries(value)) walkStrings(v, path ? `${path}.${k}` : k, visit);
}

export const ssmSecretsAreSecureStrings: Rule = {
  name: "ssm-secrets-are-secure-strings",
  description:
    "An SSM parameter whose name or value looks like a secret is a SecureString, and a SecureString's value is a Pulumi secret (a plain value would sit in the state in plain text).",
  enforcement: "mandatory",
  remediation:
    "Use type SecureString with value: pulumi.secret(...) (or a Secrets Manager secret); keep plain String parameters for facts such as image tags.",
  equivalents: ["CKV2_AWS_34", "CKV_AWS_337 (related)"],
  resourceClasses: [aws.ssm.Parameter],
  checkResource: (r) => {
    const p = propsOf(r, aws.ssm.Parameter);
    if (!p) return [];
    const name = str(p.name) ?? r.name;
    const value = str(p.value) ?? str(p.insecureValue);
    if (p.type === "SecureString") {
      const known = r.secretPaths;
      // The CLI's policy host cannot tell a secret; the offline plan and the audit can.
      return known && p.value !== undefined && !known.has("value")
        ? [
            {
              message: `SecureString ${name}: its value is not a Pulumi secret, so it is stored in plain text in the state`,
            },
          ]
        : [];
    }
    const findings: Finding[] = [];
    const leaf = name.split("/").filter(Boolean).pop() ?? name;
    if (isSecretLookingName(leaf))
      findings.push({ message: `${String(p.type ?? "String")} parameter ${name} is named like a secret` });
    const why = value ? secretLookingValue(value) : undefined;
    if (why) findings.push({ message: `${String(p.type ?? "String")} parameter ${name}: its value looks like ${why}` });
    // `value` is always a Pulumi secret (the provider marks it so); `insecureValue` is one only when the program made it so.
    if (r.secretPaths?.has("insecureValue"))
      findings.push({
        message: `${String(p.type ?? "String")} parameter ${name} holds a Pulumi secret, which SSM stores in plain text`,
      });
    return findings;
  },
};

const AWS_MANAGED_SECRETS_KEY = /(^|:)alias\/aws\/secretsmanager$/;

export const secretsUseCustomerManagedKeys: Rule = {
  name: "secrets-use-customer-managed-keys",
  description:
    "Secrets Manager secrets are encrypted with a customer-managed KMS key (its key policy decides who may decrypt), not the AWS-managed aws/secretsmanager key.",
  enforcement: "production-only",
  remediation: "Set kmsKeyId to the platform key (PlatformKey) or another customer-managed key.",
  equivalents: ["CKV_AWS_149", "AVD-AWS-0098"],
  resourceClasses: [aws.secretsmanager.Secret],
  checkResource: (r) => {
    const p = propsOf(r, aws.secretsmanager.Secret);
    if (!p) return [];
    const key = str(p.kmsKeyId);
    return !key || AWS_MANAGED_SECRETS_KEY.test(key)
      ? [{ message: `secret ${str(p.name) ?? r.name} is encrypted with the AWS-managed key` }]
      : [];
  },
};

export const SECRET_RULES: readonly Rule[] = [
  noSecretsInPlainEnvironment,
  containerSecretsByReference,
  secretValuesAreSecret,
  noSecretsInTagsOrOutputs,
  ssmSecretsAreSecureStrings,
  secretsUseCustomerManagedKeys,
];
