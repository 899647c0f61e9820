/**
 * What a stack still lacks before its first real `pulumi up` from CI: facts that
 * exist only once a one-time step has run (a KMS key created, `pulumi stack init`
 * run), which the repository cannot invent. The offline plan lists them; none of
 * them changes what the program registers, so the plan still succeeds.
 */
import { DeployIdentitySchema } from "../config/schema";
import { pulumiSecretsProviderUrl } from "../lib/naming";
import type { StackFileConfig } from "./stack-files";

export interface Blocker {
  /** The stack-file key (or config key) that is missing. */
  readonly key: string;
  /** What is missing, why it matters, and the command that yields it. */
  readonly message: string;
}

export function deploymentBlockers(files: StackFileConfig): Blocker[] {
  const blockers: Blocker[] = [];
  const region = files.config["aws:region"] ?? "us-east-1";
  const file = `Pulumi.${files.stack}.yaml`;
  const expected = pulumiSecretsProviderUrl(files.stack, region);
  if (!files.secretsProvider) {
    blockers.push({
      key: `${file}: secretsprovider`,
      message: `missing: without it the CLI asks for a passphrase, which CI does not have; add \`secretsprovider: ${expected}\` (docs/deploying.md)`,
    });
  } else if (files.secretsProvider.startsWith("awskms://") && !files.hasEncryptedKey) {
    blockers.push({
      key: `${file}: encryptedkey`,
      message: `not written yet: \`pulumi stack init ${files.stack} --secrets-provider '${files.secretsProvider}'\` writes it (the stack's data key, encrypted with that KMS key); commit the stack file it rewrites (docs/deploying.md)`,
    });
  }

  const raw = files.config[`${files.project}:deployIdentity`];
  const parsed = DeployIdentitySchema.safeParse(raw ? (JSON.parse(raw) as unknown) : {});
  const infra = parsed.success ? parsed.data.infra : undefined;
  if (infra?.enabled && infra.stateBucket) {
    const key = `${files.project}:deployIdentity.infra`;
    if (!infra.stateBucketKeyArn) {
      blockers.push({
        key: `${key}.stateBucketKeyArn`,
        message: `not set: the CI roles cannot decrypt the state in ${infra.stateBucket} (SSE-KMS) until it names the bucket's key; in the bucket's account run \`aws kms describe-key --key-id alias/foundation-cmk-s3 --query KeyMetadata.Arn --output text\``,
      });
    }
    if (!infra.secretsProviderKeyArn) {
      blockers.push({
        key: `${key}.secretsProviderKeyArn`,
        message: `not set: the preview role may decrypt no stack secret, so CI previews fail; create the key once with the commands of \`npm run bootstrap-state -- --stack ${files.stack}\` and set its ARN (\`aws kms describe-key --key-id ${expected.slice("awskms://".length).split("?")[0]} --query KeyMetadata.Arn --output text\`)`,
      });
    }
  }
  if (infra?.enabled && (infra.ownerId === undefined || infra.repositoryId === undefined)) {
    // This repository was created after GitHub began putting immutable ids in the default
    // subject, so its tokens carry `repo:<owner>@<id>/<repo>@<id>:...` and the plain form
    // its CI roles would otherwise trust never matches.
    const key = `${files.project}:deployIdentity.infra`;
    blockers.push({
      key: `${key}.ownerId / repositoryId`,
      message:
        "not set: this repository's OIDC subject carries its immutable ids, so the preview and deployer roles refuse every token until both are set; read them with `gh api repos/<owner>/lumerin-infra --jq .id,.owner.id` (docs/deploying.md)",
    });
  }
  return blockers;
}
