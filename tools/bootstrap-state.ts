/**
 * `npm run bootstrap-state -- --stack <dev|stg|lmn> [--admin-role-arn <arn>]... [--json <file>]`
 *
 * The one-time grants this program cannot make itself, because they live in
 * another account (the state bucket and its KMS key in titanio-mst) or must
 * exist before the stack's first run (the stack's secrets-provider key). It
 * prints the exact policy statements and the `aws` commands that apply them;
 * nothing here calls AWS. Exit 0, or 2 on bad input.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { parseCli } from "./cli";
import { DeployIdentitySchema } from "../config/schema";
import {
  infraDeployerRoleName,
  infraPreviewRoleName,
  pulumiSecretsKeyAlias,
  pulumiSecretsProviderUrl,
} from "../lib/naming";
import { resourcePolicyDocument } from "../lib/iam";
import {
  StackStatePrincipals,
  StateLocation,
  TITANIO_STATE_BUCKET,
  backendUrl,
  bucketKeyPolicyStatements,
  bucketPolicyStatements,
} from "../lib/pulumi-state";
import { readStackConfig } from "./stack-files";

const USAGE =
  "usage: npm run bootstrap-state -- --stack <dev|stg|lmn> [--admin-role-arn <role-arn>]... [--json <file>]";
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;

export interface StateBootstrap {
  readonly stack: string;
  readonly backendUrl: string;
  readonly stateLocation: StateLocation;
  readonly principals: StackStatePrincipals;
  /** Statements to merge into the bucket's policy (by Sid: rerunning replaces them). */
  readonly bucketPolicyStatements: readonly unknown[];
  /** Statements to merge into the bucket key's policy. */
  readonly bucketKeyPolicyStatements: readonly unknown[];
  readonly secretsKeyAlias: string;
  readonly secretsProvider: string;
  /** The shell commands, in order, each with who runs it. */
  readonly commands: string;
}

export class BootstrapInputError extends Error {}

/** The grants and commands for one stack, from its committed stack file. */
export function stateBootstrap(
  stack: string,
  adminRoleArns: readonly string[] = [],
  configFile?: string,
): StateBootstrap {
  for (const arn of adminRoleArns) {
    if (!ROLE_ARN.test(arn)) {
      throw new BootstrapInputError(
        `--admin-role-arn "${arn}" is not an IAM role ARN (arn:aws:iam::<account>:role/<path/name>); an assumed-role session ARN (arn:aws:sts::...) is not one: use the role's ARN`,
      );
    }
  }
  const files = readStackConfig(path.resolve(__dirname, ".."), stack, configFile);
  const region = files.config["aws:region"] ?? "us-east-1";
  const accounts = JSON.parse(files.config["aws:allowedAccountIds"] ?? "[]") as unknown;
  const accountId = Array.isArray(accounts) && typeof accounts[0] === "string" ? accounts[0] : undefined;
  if (!accountId)
    throw new BootstrapInputError(
      `Pulumi.${stack}.yaml: aws:allowedAccountIds names no account; the grants need the stack's account`,
    );
  const raw = files.config[`${files.project}:deployIdentity`];
  const parsed = DeployIdentitySchema.safeParse(raw ? (JSON.parse(raw) as unknown) : {});
  if (!parsed.success)
    throw new BootstrapInputError(
      `${files.project}:deployIdentity is invalid; run \`npm run plan -- --stack ${stack}\` for the details`,
    );
  const infra = parsed.data.infra;
  if (!infra.enabled || !infra.stateBucket) {
    throw new BootstrapInputError(
      `${files.project}:deployIdentity.infra.stateBucket is not set in Pulumi.${stack}.yaml: this stack uses no S3 backend`,
    );
  }
  if (infra.stateBucket !== TITANIO_STATE_BUCKET.bucket) {
    throw new BootstrapInputError(
      `${files.project}:deployIdentity.infra.stateBucket is "${infra.stateBucket}"; this generator knows the account, region and key of ${TITANIO_STATE_BUCKET.bucket} only`,
    );
  }
  const partition = "aws";
  const location: StateLocation = {
    partition,
    bucket: infra.stateBucket,
    prefix: infra.stateKeyPrefix,
    project: files.project,
    stack,
  };
  const role = (name: string) => `arn:${partition}:iam::${accountId}:role/${name}`;
  const principals: StackStatePrincipals = {
    stack,
    accountId,
    previewRoleArn: role(infra.previewRoleName ?? infraPreviewRoleName(stack)),
    deployerRoleArn: role(infra.deployerRoleName ?? infraDeployerRoleName(stack)),
    bootstrapRoleArns: [...adminRoleArns],
  };
  const bucketStatements = resourcePolicyDocument(bucketPolicyStatements(location, principals)).Statement as unknown[];
  const keyStatements = resourcePolicyDocument(
    bucketKeyPolicyStatements({ ...location, bucketRegion: TITANIO_STATE_BUCKET.region }, principals),
  ).Statement as unknown[];
  const alias = pulumiSecretsKeyAlias(stack);
  const provider = pulumiSecretsProviderUrl(stack, region);
  const url = backendUrl(location, TITANIO_STATE_BUCKET.region);
  return {
    stack,
    backendUrl: url,
    stateLocation: location,
    principals,
    bucketPolicyStatements: bucketStatements,
    bucketKeyPolicyStatements: keyStatements,
    secretsKeyAlias: alias,
    secretsProvider: provider,
    commands: commands({ stack, region, accountId, url, alias, provider, bucketStatements, keyStatements }),
  };
}

interface CommandFacts {
  readonly stack: string;
  readonly region: string;
  readonly accountId: string;
  readonly url: string;
  readonly alias: string;
  readonly provider: string;
  readonly bucketStatements: readonly unknown[];
  readonly keyStatements: readonly unknown[];
}

/** jq that merges `$new[0]`'s statements into the policy read first: same Sid replaced, every other statement kept. */
const MERGE_BY_SID = `'input as $p | ($new[0] | map(.Sid)) as $sids | $p | .Statement = ([.Statement[] | select(.Sid as $s | $sids | index($s) | not)] + $new[0])'`;

function commands(f: CommandFacts): string {
  const b = TITANIO_STATE_BUCKET;
  const json = (v: unknown) => JSON.stringify(v, null, 2);
  return `# ---- 1. In titanio-mst (${b.accountId}), by its administrators, once per stack --------------------
# Merges lumerin-infra's ${f.stack} statements into the bucket's policy (statements with the same Sid are
# replaced, every other statement is kept), then into the policy of the bucket's KMS key.
cat > lumerin-infra-${f.stack}-bucket-statements.json <<'JSON'
${json(f.bucketStatements)}
JSON
aws s3api get-bucket-policy --bucket ${b.bucket} --query Policy --output text > ${b.bucket}-policy.json
jq -n --slurpfile new lumerin-infra-${f.stack}-bucket-statements.json ${MERGE_BY_SID} \\
  ${b.bucket}-policy.json > ${b.bucket}-policy.new.json
aws s3api put-bucket-policy --bucket ${b.bucket} --policy file://${b.bucket}-policy.new.json

cat > lumerin-infra-${f.stack}-key-statements.json <<'JSON'
${json(f.keyStatements)}
JSON
KEY_ARN=$(aws kms describe-key --region ${b.region} --key-id ${b.keyAlias} --query KeyMetadata.Arn --output text)
aws kms get-key-policy --region ${b.region} --key-id "$KEY_ARN" --policy-name default --query Policy --output text > state-key-policy.json
jq -n --slurpfile new lumerin-infra-${f.stack}-key-statements.json ${MERGE_BY_SID} \\
  state-key-policy.json > state-key-policy.new.json
aws kms put-key-policy --region ${b.region} --key-id "$KEY_ARN" --policy-name default --policy file://state-key-policy.new.json
echo "set lumerin-infra:deployIdentity.infra.stateBucketKeyArn to $KEY_ARN"

# ---- 2. In the ${f.stack} account (${f.accountId}), by its administrator, once ---------------------------
# The stack's secrets-provider key: it must exist before \`pulumi stack init\`. The default key policy
# lets this account's IAM policies decide (the preview role decrypts, the deployer also encrypts).
SECRETS_KEY_ARN=$(aws kms create-key --region ${f.region} \\
  --description "Pulumi secrets provider of lumerin-infra stack ${f.stack}" \\
  --tags TagKey=Application,TagValue=lumerin-infra TagKey=ManagedBy,TagValue=bootstrap-state \\
  --query KeyMetadata.Arn --output text)
aws kms create-alias --region ${f.region} --alias-name ${f.alias} --target-key-id "$SECRETS_KEY_ARN"
aws kms enable-key-rotation --region ${f.region} --key-id "$SECRETS_KEY_ARN"
echo "set lumerin-infra:deployIdentity.infra.secretsProviderKeyArn to $SECRETS_KEY_ARN"

# ---- 3. With that administrator's credentials (a role given as --admin-role-arn) ------------------
pulumi login '${f.url}'
pulumi stack init ${f.stack} --secrets-provider '${f.provider}'
# Commit Pulumi.${f.stack}.yaml with the encryptedkey line stack init wrote (and the two key ARNs above).
`;
}

function main(): number {
  const options = {
    stack: { type: "string" },
    "admin-role-arn": { type: "string", multiple: true },
    json: { type: "string" },
    help: { type: "boolean", default: false },
  } as const;
  const parsed = parseCli(process.argv.slice(2), options, USAGE, ["stack"]);
  if (parsed.exit !== undefined) return parsed.exit;
  const args = parsed.values;
  try {
    const plan = stateBootstrap(args.stack, args["admin-role-arn"] ?? []);
    console.log(plan.commands);
    if (args.json) {
      mkdirSync(path.dirname(path.resolve(args.json)), { recursive: true });
      writeFileSync(args.json, JSON.stringify(plan, null, 2) + "\n");
    }
    return 0;
  } catch (err) {
    console.error(`✗ stack "${args.stack}": ${(err as Error).message}`);
    return 2;
  }
}

if (require.main === module) process.exit(main());
