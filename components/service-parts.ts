/**
 * Parts every application service has, in one place: its Secrets Manager secret
 * (JSON, customer-managed key, written only when values are given) and the SSM
 * parameter that records the image tag it runs.
 */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import type { ContainerService } from "./container-service";

export interface AppSecretArgs {
  /** Physical secret name (`market-maker-secrets-v3-dev`). */
  readonly secretName: string;
  /** What the secret holds and who reads it; shown in the console. */
  readonly description: string;
  readonly kmsKeyArn: pulumi.Input<string>;
  /** JSON keys → values from `pulumi config set --secret`; absent when the secret is filled out of band. */
  readonly values?: Readonly<Record<string, pulumi.Input<string>>>;
  readonly protect: boolean;
}

/** `<name>-secret` (and `<name>-secret-value` when values are given), children of `parent`. */
export function appSecret(name: string, args: AppSecretArgs, parent: pulumi.Resource): aws.secretsmanager.Secret {
  const secret = new aws.secretsmanager.Secret(
    `${name}-secret`,
    {
      name: args.secretName,
      description: args.description,
      kmsKeyId: args.kmsKeyArn,
      recoveryWindowInDays: args.protect ? 30 : 7,
    },
    { parent, protect: args.protect },
  );
  if (args.values) {
    new aws.secretsmanager.SecretVersion(
      `${name}-secret-value`,
      { secretId: secret.id, secretString: pulumi.secret(pulumi.jsonStringify(args.values)) },
      { parent },
    );
  }
  return secret;
}

export interface ImageTagParameterArgs {
  /** `/{app}/{env}/image-tag`. */
  readonly parameterName: string;
  /** The tag this `pulumi up` deploys. */
  readonly tag: string;
  /** The service it describes, for the description. */
  readonly serviceName: string;
}

/** `<name>-image-tag`: the tag a service runs, written by `pulumi up` and by the image-deploy workflow. */
export function imageTagParameter(
  name: string,
  args: ImageTagParameterArgs,
  parent: pulumi.Resource,
): aws.ssm.Parameter {
  return new aws.ssm.Parameter(
    `${name}-image-tag`,
    {
      name: args.parameterName,
      type: "String",
      // A tag is not a secret; `value` would be masked in every plan and diff.
      insecureValue: args.tag,
      description: `Image tag ${args.serviceName} runs; written by pulumi up and by the image-deploy workflow`,
    },
    { parent },
  );
}

/** What the deploy identity, the GitHub environments, the monitoring and the stack outputs need to know about one service. */
export interface DeployedServiceRef {
  readonly serviceName: pulumi.Output<string>;
  readonly serviceArn: pulumi.Output<string>;
  readonly taskFamily: string;
  /** The container whose image a deploy replaces. */
  readonly containerName: string;
  readonly executionRoleArn: pulumi.Output<string>;
  readonly taskRoleArn: pulumi.Output<string>;
  readonly imageTagParameterArn: pulumi.Output<string>;
  readonly imageTagParameterName: string;
  readonly secretArn: pulumi.Output<string>;
  /** Where its containers log (the monitoring's metric filters read it). */
  readonly logGroupName: pulumi.Output<string>;
  /** A public host name, when the service has one. */
  readonly hostName?: string;
}

/** The ref of a service made of a ContainerService, its secret and its image-tag parameter. */
export function deployedServiceRef(
  service: ContainerService,
  parts: {
    readonly taskFamily: string;
    readonly containerName: string;
    readonly imageTagParameter: aws.ssm.Parameter;
    readonly imageTagParameterName: string;
    readonly secret: aws.secretsmanager.Secret;
    readonly hostName?: string;
  },
): DeployedServiceRef {
  return {
    serviceName: service.serviceName,
    serviceArn: service.serviceArn,
    taskFamily: parts.taskFamily,
    containerName: parts.containerName,
    executionRoleArn: service.executionRole.arn,
    taskRoleArn: service.taskRole.arn,
    imageTagParameterArn: parts.imageTagParameter.arn,
    imageTagParameterName: parts.imageTagParameterName,
    secretArn: parts.secret.arn,
    logGroupName: service.logGroup.name,
    ...(parts.hostName ? { hostName: parts.hostName } : {}),
  };
}
