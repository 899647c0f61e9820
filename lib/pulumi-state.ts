/**
 * Where Pulumi's S3 ("diy") backend keeps one stack's state, and who may touch
 * it. The layout is the CLI's (pkg/backend/diy, project-scoped layout, which a
 * new state prefix gets on its first `pulumi login`), below the backend URL's path:
 *
 *   <prefix>/.pulumi/meta.yaml                                   layout version, written once by the first login
 *   <prefix>/.pulumi/stacks/<project>/<stack>.json[.gz|.zst][.bak], <stack>.pulumi-tags
 *   <prefix>/.pulumi/history/<project>/<stack>/...               one entry per update
 *   <prefix>/.pulumi/backups/<project>/<stack>/...               a copy of the state per update
 *   <prefix>/.pulumi/journal/<project>/<stack>/...               incremental entries during an update (newer CLIs)
 *   <prefix>/.pulumi/locks/organization/<project>/<stack>/<id>.json   taken by up, refresh, destroy, import, cancel
 *
 * `pulumi preview` (with or without `--refresh`) takes no lock and writes nothing
 * in this backend: it reads meta.yaml and the stack's state, and decrypts. So the
 * preview role reads; only the deployer writes.
 */
import type { ResourceStatement, Statement } from "./iam";

export interface StateLocation {
  /** Key prefixes of the bucket that belong to others (Terraform's state): denied outright. */
  readonly foreignPrefixes?: readonly string[];
  readonly partition: string;
  /** The bucket (another account's, reached cross-account). */
  readonly bucket: string;
  /** Key prefix of the project's state: the path of the backend URL, no leading or trailing `/`. */
  readonly prefix: string;
  readonly project: string;
  readonly stack: string;
  /** SSE-KMS key of the bucket's default encryption; absent: unknown yet (no grant is made for it). */
  readonly bucketKeyArn?: string;
}

/**
 * The bucket where the team keeps Terraform's state (keys under `state/titanio/...`), in the
 * titanio-mst account, SSE-KMS with that account's `alias/foundation-cmk-s3`. Pulumi's state
 * goes beside it under its own prefix.
 */
export const TITANIO_STATE_BUCKET = {
  bucket: "titanio-terraform-states",
  accountId: "228930573471",
  region: "us-east-1",
  keyAlias: "alias/foundation-cmk-s3",
  /** Terraform's state keys; no role of this program may touch them, whatever the bucket's policy says. */
  terraformPrefix: "state/",
} as const;

const bucketArn = (l: StateLocation) => `arn:${l.partition}:s3:::${l.bucket}`;
const root = (l: StateLocation) => `${bucketArn(l)}/${l.prefix}/.pulumi`;

/** `s3://<bucket>/<prefix>?region=<region>&awssdk=v2`: what `pulumi login` and PULUMI_BACKEND_URL take. */
export function backendUrl(l: Pick<StateLocation, "bucket" | "prefix">, region: string): string {
  return `s3://${l.bucket}/${l.prefix}?region=${region}&awssdk=v2`;
}

/** Objects a preview of this stack reads: the layout version and the stack's own state and history. */
export function stateReadObjects(l: StateLocation): string[] {
  return [
    `${root(l)}/meta.yaml`,
    `${root(l)}/stacks/${l.project}/${l.stack}.*`,
    `${root(l)}/history/${l.project}/${l.stack}/*`,
  ];
}

/** Objects `pulumi up` of this stack writes (and reads, and deletes): its state, history, backups, journal and locks. */
export function stateWriteObjects(l: StateLocation): string[] {
  return [
    `${root(l)}/stacks/${l.project}/${l.stack}.*`,
    `${root(l)}/history/${l.project}/${l.stack}/*`,
    `${root(l)}/backups/${l.project}/${l.stack}/*`,
    `${root(l)}/journal/${l.project}/${l.stack}/*`,
    `${root(l)}/locks/organization/${l.project}/${l.stack}/*`,
  ];
}

/**
 * The region of a KMS key ARN: S3 calls KMS in the bucket's region, and SSE-KMS
 * keys live in the bucket's region, so `kms:ViaService` is `s3.<that region>`.
 */
export function keyRegion(keyArn: string): string {
  const region = keyArn.split(":")[3];
  if (!region) throw new Error(`not a KMS key ARN: ${keyArn}`);
  return region;
}

/**
 * The identity-policy statements of a CI role on the state: the preview reads,
 * the deployer reads and writes. Listing is bucket-wide: S3 answers a missing
 * object (a stack without a tags file, say) with 404 only to a caller that may
 * list the bucket, and with 403 otherwise, which the CLI treats as an error;
 * a list condition on `s3:prefix` does not apply to that check. Listing shows
 * key names only; every object read is limited to this stack's keys.
 */
export function stateIdentityStatements(l: StateLocation, access: "read" | "write"): Statement[] {
  return [
    { Sid: "ListPulumiStateBucketKeyNamesOnly", Action: ["s3:ListBucket"], Resource: [bucketArn(l)] },
    { Sid: "ReadOwnStackStateOnly", Action: ["s3:GetObject"], Resource: stateReadObjects(l) },
    ...(access === "write"
      ? [
          {
            Sid: "WriteOwnStackStateOnly",
            Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
            Resource: stateWriteObjects(l),
          },
        ]
      : []),
    ...(l.bucketKeyArn
      ? [
          {
            Sid: access === "read" ? "DecryptStateThroughS3Only" : "EncryptAndDecryptStateThroughS3Only",
            Action: access === "read" ? ["kms:Decrypt"] : ["kms:Decrypt", "kms:GenerateDataKey"],
            Resource: [l.bucketKeyArn],
            Condition: { StringEquals: { "kms:ViaService": `s3.${keyRegion(l.bucketKeyArn)}.amazonaws.com` } },
          },
        ]
      : []),
    ...((l.foreignPrefixes ?? []).length > 0
      ? [
          {
            Sid: "NeverTouchOtherStateInTheBucket",
            Effect: "Deny" as const,
            Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
            Resource: (l.foreignPrefixes ?? []).map((p) => `${bucketArn(l)}/${p}*`),
          },
        ]
      : []),
  ];
}

export interface StackStatePrincipals {
  readonly stack: string;
  readonly accountId: string;
  readonly previewRoleArn: string;
  readonly deployerRoleArn: string;
  /** People who run the first `pulumi login`, `stack init` and `pulumi up` before the deployer role exists. */
  readonly bootstrapRoleArns: readonly string[];
}

/**
 * The bucket-policy statements the bucket's owners add once per stack. The
 * principal is the stack's account, narrowed by `aws:PrincipalArn` to its CI
 * roles, so the policy can be applied before `pulumi up` has created the roles
 * (S3 refuses a policy that names a role which does not exist).
 */
export function bucketPolicyStatements(l: StateLocation, p: StackStatePrincipals): ResourceStatement[] {
  const id = pascal(p.stack);
  const principal = { AWS: `arn:${l.partition}:iam::${p.accountId}:root` };
  const writers = [p.deployerRoleArn, ...p.bootstrapRoleArns];
  return [
    {
      Sid: `LumerinInfra${id}CiListsStateKeys`,
      Principal: principal,
      Action: ["s3:ListBucket"],
      Resource: [bucketArn(l)],
      Condition: { ArnEquals: { "aws:PrincipalArn": [p.previewRoleArn, ...writers] } },
    },
    {
      Sid: `LumerinInfra${id}CiReadsOwnState`,
      Principal: principal,
      Action: ["s3:GetObject"],
      Resource: stateReadObjects(l),
      Condition: { ArnEquals: { "aws:PrincipalArn": [p.previewRoleArn, ...writers] } },
    },
    {
      Sid: `LumerinInfra${id}DeployerWritesOwnState`,
      Principal: principal,
      Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
      Resource: stateWriteObjects(l),
      Condition: { ArnEquals: { "aws:PrincipalArn": writers } },
    },
    // The first `pulumi login` on an empty prefix writes the layout version; only the people who bootstrap may.
    ...(p.bootstrapRoleArns.length > 0
      ? [
          {
            Sid: `LumerinInfra${id}BootstrapWritesLayoutVersion`,
            Principal: principal,
            Action: ["s3:PutObject"],
            Resource: [`${root(l)}/meta.yaml`],
            Condition: { ArnEquals: { "aws:PrincipalArn": [...p.bootstrapRoleArns] } },
          },
        ]
      : []),
  ];
}

/**
 * The key-policy statements of the bucket's SSE-KMS key, per stack: the CI roles
 * may use the key only through S3 in the bucket's region (never call KMS on it
 * directly); the preview only decrypts.
 */
export function bucketKeyPolicyStatements(
  l: StateLocation & { readonly bucketRegion: string },
  p: StackStatePrincipals,
): ResourceStatement[] {
  const id = pascal(p.stack);
  const principal = { AWS: `arn:${l.partition}:iam::${p.accountId}:root` };
  const via = { "kms:ViaService": `s3.${l.bucketRegion}.amazonaws.com` };
  return [
    {
      Sid: `LumerinInfra${id}PreviewDecryptsStateThroughS3`,
      Principal: principal,
      Action: ["kms:Decrypt"],
      Resource: "*",
      Condition: { StringEquals: via, ArnEquals: { "aws:PrincipalArn": [p.previewRoleArn] } },
    },
    {
      Sid: `LumerinInfra${id}DeployerEncryptsStateThroughS3`,
      Principal: principal,
      Action: ["kms:Decrypt", "kms:GenerateDataKey"],
      Resource: "*",
      Condition: { StringEquals: via, ArnEquals: { "aws:PrincipalArn": [p.deployerRoleArn, ...p.bootstrapRoleArns] } },
    },
  ];
}

function pascal(text: string): string {
  return text.replace(/(^|[^A-Za-z0-9])([A-Za-z0-9])/g, (_, __, c: string) => c.toUpperCase());
}
