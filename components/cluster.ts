import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";

export interface ClusterArgs {
  /** ECS cluster name (the live one is `ecs-proxy-router-{env}-use1`). */
  readonly name: string;
  /** Log group that receives ECS Exec session transcripts. */
  readonly execLogGroupName: string;
  readonly execLogRetentionDays: number;
  /** `enabled` or `enhanced` Container Insights. */
  readonly containerInsights: "enabled" | "enhanced";
  /** KMS key that encrypts exec sessions and their log group. */
  readonly kmsKeyArn: pulumi.Input<string>;
}

/** What a service needs to run in, and to let its exec sessions be logged. */
export interface ClusterRef {
  readonly arn: pulumi.Input<string>;
  readonly name: pulumi.Input<string>;
  readonly execLogGroupArn: pulumi.Input<string>;
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
      name: this.cluster.name,
      execLogGroupArn: this.execLogGroup.arn,
      kmsKeyArn: args.kmsKeyArn,
    };
    this.registerOutputs({ arn: this.cluster.arn, name: this.cluster.name, execLogGroupName: this.execLogGroup.name });
  }
}
