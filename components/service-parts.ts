/**
 * Parts every application service has, in one place: its Secrets Manager secret
 * (JSON, customer-managed key, written only when values are given), the SSM
 * parameter that records the image tag it runs, and {@link appService}, which
 * makes both with the service's ContainerService and the ref others need.
 */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import {
  ContainerSecret,
  ContainerService,
  ContainerServiceArgs,
  ContainerServiceNames,
  ContainerSpec,
} from "./container-service";

export interface AppSecretArgs {
  /** Physical secret name (`market-maker-secrets-v3-dev`). */
  readonly secretName: string;
  /** What the secret holds and who reads it; shown in the console. */
  readonly description: string;
  /** The customer-managed key that encrypts it. */
  readonly kmsKeyArn: pulumi.Input<string>;
  /**
   * JSON keys → values from `pulumi config set --secret`, written as one secret version.
   * @default none: the secret is filled out of band, and no version is registered
   */
  readonly values?: Readonly<Record<string, pulumi.Input<string>>>;
  /** Production: `protect`ed, with a 30-day recovery window (7 days otherwise). */
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
  /** The tag this `pulumi up` deploys, e.g. `proxy-router-v3.2.1-dev`. */
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
  /** The ECS service's name. */
  readonly serviceName: pulumi.Output<string>;
  /** The ECS service's ARN (`arn:aws:ecs:<region>:<account>:service/<cluster>/<name>`). */
  readonly serviceArn: pulumi.Output<string>;
  /** The task definition family a deploy registers revisions of. */
  readonly taskFamily: string;
  /** The container whose image a deploy replaces. */
  readonly containerName: string;
  /** The role a deploy passes for the execution role. */
  readonly executionRoleArn: pulumi.Output<string>;
  /** The role a deploy passes for the task role. */
  readonly taskRoleArn: pulumi.Output<string>;
  /** The parameter a deploy writes the rolled-out tag to. */
  readonly imageTagParameterArn: pulumi.Output<string>;
  /** Its name, `/{app}/{env}/image-tag`. */
  readonly imageTagParameterName: string;
  /** The service's own secret. */
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

/** Physical names of an application service: its ContainerService's, its secret's and its image-tag parameter's. */
export interface AppServiceNames extends ContainerServiceNames {
  /** The application's secret, e.g. `/proxy-router/dev/config`. */
  readonly secret: string;
  /** SSM String parameter recording the deployed tag, `/{app}/{env}/image-tag`. */
  readonly imageTagParameter: string;
}

/**
 * A container secret by JSON key. Without `secretArn` it is a key of the service's own secret
 * (and `kmsKeyArn` defaults to that secret's key); with it, a key of another secret (a database's).
 */
export interface AppContainerSecret {
  /** Environment variable name inside the container, e.g. `TELEGRAM_BOT_TOKEN`. */
  readonly name: string;
  /** Key inside the secret's JSON object, e.g. `telegram_bot_token`. */
  readonly jsonKey: string;
  /** Another secret's ARN. @default the service's own secret */
  readonly secretArn?: pulumi.Input<string>;
  /** The key that secret is encrypted with. @default `secret.kmsKeyArn` for the own secret, none for another */
  readonly kmsKeyArn?: pulumi.Input<string>;
}

export interface AppServiceArgs extends Omit<ContainerServiceArgs, "names" | "container"> {
  /** Physical names of every part. */
  readonly names: AppServiceNames;
  /** The service's own secret (`<name>-secret`): what it holds, its key, its values, its protection. */
  readonly secret: Omit<AppSecretArgs, "secretName">;
  /** The tag alone (recorded in SSM); `container.image` is `repository:<imageTag>`. */
  readonly imageTag: string;
  /** The container; its secrets name keys of the own secret (no `secretArn`) or of other secrets, in this order. */
  readonly container: Omit<ContainerSpec, "secrets"> & { readonly secrets?: readonly AppContainerSecret[] };
  /** A public host name, carried into the ref. @default none */
  readonly hostName?: string;
  /** What the service must wait for, e.g. the listener that attaches its target group. @default none */
  readonly dependsOn?: readonly pulumi.Resource[];
}

/** Everything {@link appService} made. */
export interface AppService {
  readonly secret: aws.secretsmanager.Secret;
  readonly imageTagParameter: aws.ssm.Parameter;
  readonly service: ContainerService;
  /** What the deploy identity, the GitHub environments, the monitoring and the stack outputs need. */
  readonly ref: DeployedServiceRef;
}

/**
 * An application service as the estate runs them: `<name>-secret` (and `-secret-value`),
 * `<name>-image-tag`, and the ContainerService `<name>-svc`, children of `parent`,
 * with its {@link DeployedServiceRef}.
 */
export function appService(name: string, args: AppServiceArgs, parent: pulumi.Resource): AppService {
  const { names, secret: secretArgs, imageTag, hostName, dependsOn, ...serviceArgs } = args;
  const secret = appSecret(name, { secretName: names.secret, ...secretArgs }, parent);
  const imageTagParam = imageTagParameter(
    name,
    { parameterName: names.imageTagParameter, tag: imageTag, serviceName: names.service },
    parent,
  );
  const { secret: _own, imageTagParameter: _param, ...containerNames } = names;
  const container: ContainerSpec = {
    ...args.container,
    secrets: containerSecrets(args.container.secrets ?? [], secret.arn, secretArgs.kmsKeyArn),
  };
  const service = new ContainerService(
    `${name}-svc`,
    { ...serviceArgs, names: containerNames, container },
    { parent, ...(dependsOn?.length ? { dependsOn: [...dependsOn] } : {}) },
  );
  const ref = deployedServiceRef(service, {
    taskFamily: names.taskFamily,
    containerName: names.container,
    imageTagParameter: imageTagParam,
    imageTagParameterName: names.imageTagParameter,
    secret,
    ...(hostName ? { hostName } : {}),
  });
  return { secret, imageTagParameter: imageTagParam, service, ref };
}

/** The container secrets with the own secret's ARN (and key) filled in where none is named. */
export function containerSecrets(
  secrets: readonly AppContainerSecret[],
  ownSecretArn: pulumi.Input<string>,
  ownKmsKeyArn: pulumi.Input<string>,
): ContainerSecret[] {
  return secrets.map((s) =>
    s.secretArn === undefined
      ? { name: s.name, secretArn: ownSecretArn, jsonKey: s.jsonKey, kmsKeyArn: s.kmsKeyArn ?? ownKmsKeyArn }
      : {
          name: s.name,
          secretArn: s.secretArn,
          jsonKey: s.jsonKey,
          ...(s.kmsKeyArn ? { kmsKeyArn: s.kmsKeyArn } : {}),
        },
  );
}
