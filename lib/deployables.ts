/**
 * What a code deploy may touch, one shape per kind of deployable: the bounds
 * every deploy identity (a repository's deploy role, the deploy runner's roles)
 * is scoped to.
 */
import type * as pulumi from "@pulumi/pulumi";

/** One ECS service a repository deploys, as the deploy role must know it. */
export interface DeployableService {
  /** The service's ARN: the role may update and describe it. */
  readonly serviceArn: pulumi.Input<string>;
  /**
   * Task definition family (revisions of it may be registered).
   * @example "tsk-proxy-router"
   */
  readonly taskFamily: string;
  /** The task's execution role: the deploy may pass it to ECS tasks. */
  readonly executionRoleArn: pulumi.Input<string>;
  /** The task's role: the deploy may pass it to ECS tasks. */
  readonly taskRoleArn: pulumi.Input<string>;
  /** ARN of the SSM parameter recording the deployed tag. */
  readonly imageTagParameterArn: pulumi.Input<string>;
}

/** A static site the repository publishes: sync to the bucket, then invalidate the distribution. */
export interface DeployableSite {
  /** The site's bucket: the role may list it and put and delete its objects. */
  readonly bucketArn: pulumi.Input<string>;
  /** The site's CloudFront distribution: the role may create and read its invalidations. */
  readonly distributionArn: pulumi.Input<string>;
}

/** A Lambda function whose code the repository's pipeline uploads. */
export interface DeployableFunction {
  /** The function's ARN: the role may update its code and read it. */
  readonly functionArn: pulumi.Input<string>;
}
