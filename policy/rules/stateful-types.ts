/**
 * Resource types that hold data which a replacement or a deletion loses: the one list of
 * stateful types, for the policy pack, the force-new facts and `npm run diff`. `protectRequired`: the
 * stateful-resources-protected rule requires `protect` on it (the data cannot be rebuilt
 * from the program); the others lose data too (log events, queued messages, a deployed
 * image tag) but are not required to be protected.
 */
export const STATEFUL_TYPES: Readonly<Record<string, { readonly holds: string; readonly protectRequired: boolean }>> = {
  "aws:rds/instance:Instance": { holds: "database", protectRequired: true },
  "aws:rds/cluster:Cluster": { holds: "database", protectRequired: true },
  "aws:s3/bucket:Bucket": { holds: "objects", protectRequired: true },
  "aws:s3/bucketV2:BucketV2": { holds: "objects", protectRequired: true },
  "aws:secretsmanager/secret:Secret": { holds: "secret values", protectRequired: true },
  "aws:kms/key:Key": { holds: "key material (what it encrypted becomes unreadable)", protectRequired: true },
  "aws:dynamodb/table:Table": { holds: "items", protectRequired: true },
  "aws:cloudwatch/logGroup:LogGroup": { holds: "log events", protectRequired: false },
  "aws:sqs/queue:Queue": { holds: "queued messages", protectRequired: false },
  "aws:ecr/repository:Repository": { holds: "images", protectRequired: false },
  "aws:efs/fileSystem:FileSystem": { holds: "files", protectRequired: false },
  "aws:ssm/parameter:Parameter": {
    holds: "a value deploys may write (e.g. the deployed image tag)",
    protectRequired: false,
  },
};

/**
 * Days of automated backups a protected database keeps (production, or `protect: true`): the pack's
 * production threshold, the configuration's refusal and the notifications database's guard.
 */
export const PROTECTED_BACKUP_RETENTION_DAYS = 14;
