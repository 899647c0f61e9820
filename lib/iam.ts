/**
 * IAM documents as typed objects, never JSON glued from strings. Every statement
 * carries a `Sid` that says why it exists; reviewers read the Sids in the plan.
 */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";

export type ConditionBlock = Record<string, Record<string, pulumi.Input<string> | pulumi.Input<string>[]>>;

export interface Statement {
  /** Why this statement exists, in PascalCase (IAM allows [A-Za-z0-9] only). */
  readonly Sid: string;
  readonly Effect?: "Allow" | "Deny";
  readonly Action: readonly string[];
  /** Resource ARNs, or `"*"` only for actions that accept no resource ARN (say so in the Sid). */
  readonly Resource?: "*" | readonly pulumi.Input<string>[];
  /** For Deny guard rails: everything except these. Exactly one of Resource and NotResource. */
  readonly NotResource?: readonly pulumi.Input<string>[];
  readonly Condition?: ConditionBlock;
}

export interface TrustStatement {
  readonly Sid: string;
  readonly Principal:
    | { readonly Service: string }
    | { readonly Federated: pulumi.Input<string> }
    | { readonly AWS: pulumi.Input<string> };
  readonly Action: string | readonly string[];
  readonly Condition?: ConditionBlock;
}

const SID = /^[A-Za-z0-9]+$/;

/** A statement of a resource policy (bucket, queue): who, besides what and where. */
export interface ResourceStatement extends Statement {
  readonly Principal: "*" | { readonly Service: string } | { readonly AWS: pulumi.Input<string> };
}

/** A resource's own policy, with the same checks as {@link policyDocument}. */
export function resourcePolicyDocument(statements: readonly ResourceStatement[]): aws.types.input.iam.PolicyDocument {
  const document = policyDocument(statements);
  const withPrincipals = (document.Statement as aws.types.input.iam.PolicyStatement[]).map((s, i) => ({
    ...s,
    Principal: statements[i].Principal,
  }));
  return { ...document, Statement: withPrincipals };
}

/** The guard rail every bucket and queue policy carries: nothing over plain HTTP. */
export function denyWithoutTls(
  service: "s3" | "sqs" | "sns",
  resources: readonly pulumi.Input<string>[],
): ResourceStatement {
  return {
    Sid: "DenyRequestsWithoutTls",
    Effect: "Deny",
    Principal: "*",
    Action: [`${service}:*`],
    Resource: resources,
    Condition: { Bool: { "aws:SecureTransport": "false" } },
  };
}

export function policyDocument(statements: readonly Statement[]): aws.types.input.iam.PolicyDocument {
  if (statements.length === 0) throw new Error("a policy document needs at least one statement");
  const sids = new Set<string>();
  for (const s of statements) {
    if (!SID.test(s.Sid)) throw new Error(`IAM Sid "${s.Sid}" must be alphanumeric`);
    if (sids.has(s.Sid)) throw new Error(`IAM Sid "${s.Sid}" is used twice in one document`);
    sids.add(s.Sid);
    if (s.Action.length === 0) throw new Error(`IAM statement ${s.Sid} has no actions`);
    if ((s.Resource === undefined) === (s.NotResource === undefined))
      throw new Error(`IAM statement ${s.Sid} needs exactly one of Resource and NotResource`);
    if (s.Resource !== undefined && s.Resource !== "*" && s.Resource.length === 0)
      throw new Error(`IAM statement ${s.Sid} has no resources`);
    if (s.NotResource !== undefined && s.Effect !== "Deny")
      throw new Error(`IAM statement ${s.Sid}: NotResource only in a Deny`);
  }
  return {
    Version: "2012-10-17",
    Statement: statements.map((s) => ({
      Sid: s.Sid,
      Effect: s.Effect ?? "Allow",
      Action: [...s.Action],
      ...(s.NotResource
        ? { NotResource: [...s.NotResource] }
        : { Resource: s.Resource === "*" ? "*" : [...(s.Resource ?? [])] }),
      ...(s.Condition ? { Condition: s.Condition } : {}),
    })),
  };
}

export function trustDocument(statements: readonly TrustStatement[]): aws.types.input.iam.PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: statements.map((s) => ({
      Sid: s.Sid,
      Effect: "Allow",
      Principal: s.Principal,
      Action: typeof s.Action === "string" ? s.Action : [...s.Action],
      ...(s.Condition ? { Condition: s.Condition } : {}),
    })),
  };
}

/**
 * Trust for a role an AWS service assumes on this account's behalf, with the
 * confused-deputy guard (`aws:SourceAccount`) AWS recommends.
 */
export function serviceTrust(
  service: string,
  accountId: pulumi.Input<string>,
  sid: string,
): aws.types.input.iam.PolicyDocument {
  return trustDocument([
    {
      Sid: sid,
      Principal: { Service: service },
      Action: "sts:AssumeRole",
      Condition: { StringEquals: { "aws:SourceAccount": accountId } },
    },
  ]);
}

/** Values the ARN builders need; taken once from the provider, never spelled. */
export interface AwsContext {
  readonly accountId: string;
  readonly region: string;
  readonly partition: string;
}

export function logGroupArn(ctx: AwsContext, name: pulumi.Input<string>): pulumi.Output<string> {
  return pulumi.interpolate`arn:${ctx.partition}:logs:${ctx.region}:${ctx.accountId}:log-group:${name}`;
}

/** `WriteOwnLogStreams`: a function's or task's own log group's streams, nothing else of CloudWatch Logs. */
export function writeOwnLogStreams(ctx: AwsContext, logGroup: pulumi.Input<string>): Statement {
  return {
    Sid: "WriteOwnLogStreams",
    Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
    Resource: [pulumi.interpolate`${logGroupArn(ctx, logGroup)}:log-stream:*`],
  };
}

/** Where a Lambda in a VPC puts its network interfaces. */
export interface VpcPlacement {
  readonly vpcId: string;
  readonly subnetIds: readonly string[];
  readonly securityGroupId: string;
}

/**
 * The network rights of a Lambda in a VPC, in place of the AWS-managed
 * AWSLambdaVPCAccessExecutionRole (which also grants every log group of the
 * account and which the policy pack cannot read): creating ENIs only in its own
 * subnets with its own security group, managing the ENIs Lambda made only in its
 * own VPC, and the two Describe calls, which take no resource ARN.
 */
export function vpcLambdaNetworkStatements(ctx: AwsContext, placement: VpcPlacement): Statement[] {
  const ec2 = (resource: string) => `arn:${ctx.partition}:ec2:${ctx.region}:${ctx.accountId}:${resource}`;
  return [
    {
      Sid: "CreateEnisOnlyInOwnSubnetsWithOwnSecurityGroup",
      Action: ["ec2:CreateNetworkInterface"],
      Resource: [
        ec2("network-interface/*"),
        ...placement.subnetIds.map((id) => ec2(`subnet/${id}`)),
        ec2(`security-group/${placement.securityGroupId}`),
      ],
    },
    {
      // Lambda names an ENI only once it has made it: any ENI, but only in this function's VPC.
      Sid: "ManageEnisLambdaCreatedInOwnVpc",
      Action: ["ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"],
      Resource: [ec2("network-interface/*")],
      Condition: { ArnEquals: { "ec2:Vpc": ec2(`vpc/${placement.vpcId}`) } },
    },
    {
      Sid: "DescribeNetworkTakesNoResourceArn",
      Action: ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"],
      Resource: "*",
    },
  ];
}
