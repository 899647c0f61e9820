import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import type { ClusterConfig } from "../config/schema";

/** The cluster as config gives it (`cluster:`), with its names settled and its key. */
export interface ClusterArgs {
  /**
   * ECS cluster name.
   * @example "ecs-proxy-router-dev-use1" // `clusterNames(env, region).cluster`, the live name
   */
  readonly name: string;
  /**
   * Log group that receives ECS Exec session transcripts.
   * @example "bedrock-dev-proxy-router-ecs-exec" // `clusterNames(env, region).execLogGroup`
   */
  readonly execLogGroupName: string;
  /** Days CloudWatch Logs keeps the ECS Exec session transcripts (config `cluster.execLogRetentionDays`). */
  readonly execLogRetentionDays: ClusterConfig["execLogRetentionDays"];
  /** Container Insights level, `enabled` or `enhanced` (config `cluster.containerInsights`). */
  readonly containerInsights: ClusterConfig["containerInsights"];
  /** KMS key that encrypts exec sessions and their log group (the platform key). */
  readonly kmsKeyArn: pulumi.Input<string>;
}

/** What a service needs to run in, and to let its exec sessions be logged. */
export interface ClusterRef {
  /** The cluster's ARN. */
  readonly arn: pulumi.Input<string>;
  /** The cluster's name: known before it exists (the deploy runner's allowlist spells it). */
  readonly name: string;
  /** The ECS Exec transcripts' log group (a task role that execs writes there). */
  readonly execLogGroupArn: pulumi.Input<string>;
  /** The key exec sessions are encrypted with. */
  readonly kmsKeyArn: pulumi.Input<string>;
}

/**
 * The shared ECS cluster: Fargate only, Container Insights on, and every
 * `execute-command` session encrypted and written to a log group (docs/estate.md: the live clusters do the same with the foundation's key).
 */
export class Cluster extends pulumi.ComponentResource {
  readonly cluster: aws.ecs.Cluster;
  readonly execLogGroup: aws.cloudwatch.LogGroup;
  readonly ref: ClusterRef;

  constructor(name: string, args: ClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lumerin:ecs:Cluster", name, {}, opts);

    this.execLogGroup = new aws.cloudwatch.LogGroup(
      `${name}-exec-logs`,
      { name: args.execLogGroupName, retentionInDays: args.execLogRetentionDays, kmsKeyId: args.kmsKeyArn },
      { parent: this },
    );

    this.cluster = new aws.ecs.Cluster(
      `${name}-cluster`,
      {
        name: args.name,
        settings: [{ name: "containerInsights", value: args.containerInsights }],
        configuration: {
          executeCommandConfiguration: {
            kmsKeyId: args.kmsKeyArn,
            logging: "OVERRIDE",
            logConfiguration: {
              cloudWatchLogGroupName: this.execLogGroup.name,
              cloudWatchEncryptionEnabled: true,
            },
          },
        },
      },
      { parent: this },
    );

    new aws.ecs.ClusterCapacityProviders(
      `${name}-capacity`,
      {
        clusterName: this.cluster.name,
        capacityProviders: ["FARGATE"],
        defaultCapacityProviderStrategies: [{ capacityProvider: "FARGATE", base: 1, weight: 100 }],
      },
      { parent: this },
    );

    this.ref = {
      arn: this.cluster.arn,
      name: args.name,
      execLogGroupArn: this.execLogGroup.arn,
      kmsKeyArn: args.kmsKeyArn,
    };
    this.registerOutputs({ arn: this.cluster.arn, name: this.cluster.name, execLogGroupName: this.execLogGroup.name });
  }
}
