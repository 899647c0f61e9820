/**
 * A private S3 bucket as this program makes every one: public access blocked,
 * ACLs off (the owner owns every object), versioned, SSE-S3 by default, and the
 * caller's lifecycle rules. SSE-S3 rather than the platform CMK where a bucket
 * lives in us-east-1 whatever the stack's region (a key serves its own region
 * only) or is read by a service that would need a key grant (CloudFront's OAC).
 * Logical names are `<name>-bucket`, `<name>-bucket-public-access`, ... so the
 * components that use it keep their resources' URNs.
 */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";

export interface PrivateBucketArgs {
  /** The bucket's name (global across S3). */
  readonly bucketName: string;
  /** `protect` on the bucket (production). */
  readonly protect: boolean;
  /**
   * Empty the bucket when it is removed: only for contents that can be rebuilt or lost.
   * @default false
   */
  readonly forceDestroy?: boolean;
  /** The bucket's lifecycle rules (applied once versioning is on). */
  readonly lifecycleRules: aws.types.input.s3.BucketLifecycleConfigurationRule[];
}

export interface PrivateBucket {
  /** The bucket itself. */
  readonly bucket: aws.s3.Bucket;
  /** A bucket policy waits for these, so nothing is ever public while it lands. */
  readonly lockedDown: readonly pulumi.Resource[];
}

export function privateBucket(name: string, args: PrivateBucketArgs, parent: pulumi.Resource): PrivateBucket {
  const opts = { parent };
  const bucket = new aws.s3.Bucket(
    `${name}-bucket`,
    { bucket: args.bucketName, ...(args.forceDestroy ? { forceDestroy: true } : {}) },
    { ...opts, protect: args.protect },
  );
  const publicAccessBlock = new aws.s3.BucketPublicAccessBlock(
    `${name}-bucket-public-access`,
    {
      bucket: bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    },
    opts,
  );
  const ownership = new aws.s3.BucketOwnershipControls(
    `${name}-bucket-ownership`,
    // ACLs off: the bucket owner owns every object, whoever writes it.
    { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } },
    opts,
  );
  const versioning = new aws.s3.BucketVersioning(
    `${name}-bucket-versioning`,
    { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } },
    opts,
  );
  new aws.s3.BucketServerSideEncryptionConfiguration(
    `${name}-bucket-encryption`,
    { bucket: bucket.id, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] },
    opts,
  );
  new aws.s3.BucketLifecycleConfiguration(
    `${name}-bucket-lifecycle`,
    { bucket: bucket.id, rules: args.lifecycleRules },
    // S3 refuses noncurrent-version rules until versioning is configured.
    { ...opts, dependsOn: [versioning] },
  );
  return { bucket, lockedDown: [publicAccessBlock, ownership] };
}
