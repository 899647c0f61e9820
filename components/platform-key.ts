import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { AwsContext, logGroupArn } from "../lib/iam";

export interface PlatformKeyArgs {
  /**
   * `alias/...` name of the key.
   * @example "alias/lumerin-platform-dev" // `platformKeyAlias(env)`
   */
  readonly alias: string;
  /** The key's description. */
  readonly description: string;
  /** Account, region and partition of the stack: the account administers the key, the region's CloudWatch Logs uses it. */
  readonly aws: AwsContext;
  /** Log groups CloudWatch Logs may encrypt with this key (exact names). */
  readonly logGroupNames: readonly string[];
  /**
   * Let CloudWatch alarms (of this account) publish to SNS topics encrypted with this key.
   * @default false
   */
  readonly alarmTopics?: boolean;
  /** Protect the key (and so everything encrypted with it) from deletion. */
  readonly protect: boolean;
}

/**
 * The stack's customer-managed KMS key: Secrets Manager secrets and ECS Exec
 * session logs are encrypted with it, so reading them needs both an IAM grant on
 * the secret and `kms:Decrypt` on this key (which the deploy roles never get).
 */
export class PlatformKey extends pulumi.ComponentResource {
  readonly key: aws.kms.Key;
  readonly arn: pulumi.Output<string>;
  readonly aliasName: string;

  constructor(name: string, args: PlatformKeyArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lumerin:kms:PlatformKey", name, {}, opts);

    this.key = new aws.kms.Key(
      `${name}-key`,
      {
        description: args.description,
        enableKeyRotation: true,
        // Thirty days: the longest window in which a scheduled deletion can be cancelled.
        deletionWindowInDays: 30,
        policy: pulumi.jsonStringify(platformKeyPolicy(args)),
      },
      { parent: this, protect: args.protect },
    );
    new aws.kms.Alias(`${name}-alias`, { name: args.alias, targetKeyId: this.key.keyId }, { parent: this });

    this.arn = this.key.arn;
    this.aliasName = args.alias;
    this.registerOutputs({ arn: this.arn, aliasName: this.aliasName });
  }
}

/**
 * The key's policy: the account administers it through IAM; CloudWatch Logs of the
 * stack's region encrypts exactly `logGroupNames`; with `alarmTopics`, CloudWatch
 * alarms of this account publish to topics encrypted with it.
 */
export function platformKeyPolicy(args: Pick<PlatformKeyArgs, "aws" | "logGroupNames" | "alarmTopics">) {
  const { accountId, partition, region } = args.aws;
  return {
    Version: "2012-10-17",
    Statement: [
      {
        // Without this statement IAM policies could not grant use of the key at all.
        Sid: "AccountAdministersKeyThroughIam",
        Effect: "Allow",
        Principal: { AWS: `arn:${partition}:iam::${accountId}:root` },
        Action: "kms:*",
        Resource: "*",
      },
      {
        // CloudWatch Logs encrypts exactly these log groups, nothing else.
        Sid: "CloudWatchLogsEncryptsOwnLogGroups",
        Effect: "Allow",
        Principal: { Service: `logs.${region}.amazonaws.com` },
        Action: ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
        Resource: "*",
        Condition: {
          ArnEquals: {
            "kms:EncryptionContext:aws:logs:arn": args.logGroupNames.map((n) => logGroupArn(args.aws, n)),
          },
        },
      },
      ...(args.alarmTopics
        ? [
            {
              // An alarm's message to an encrypted topic is encrypted by CloudWatch itself.
              Sid: "CloudWatchAlarmsOfThisAccountPublishToEncryptedTopics",
              Effect: "Allow",
              Principal: { Service: "cloudwatch.amazonaws.com" },
              Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
              Resource: "*",
              Condition: { StringEquals: { "aws:SourceAccount": accountId } },
            },
          ]
        : []),
    ],
  };
}
