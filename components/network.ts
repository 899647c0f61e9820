import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as awsx from "@pulumi/awsx";
import type { NetworkConfig } from "../config/schema";

export interface NetworkArgs {
  /**
   * The stack's `network:` config: `mode: existing` with the VPC and subnets by id or Name
   * tag, or `mode: create` with the CIDR block, zones and NAT gateways of a new VPC.
   */
  readonly config: NetworkConfig;
  /**
   * Name tag of a created VPC (unused with `mode: existing`).
   * @example "lumerin-dev" // `appEnv("lumerin", env)`
   */
  readonly vpcName: string;
}

const VPC_ID = /^vpc-[0-9a-f]{8,17}$/;
const SUBNET_ID = /^subnet-[0-9a-f]{8,17}$/;

/**
 * Where tasks and load balancers live: the account's existing VPC (given by id
 * or by the foundation's Name tags, `vpc-use1-1-titanio-dev`), or a VPC this
 * stack creates with awsx.
 */
export class Network extends pulumi.ComponentResource {
  readonly vpcId: pulumi.Output<string>;
  readonly publicSubnetIds: pulumi.Output<string[]>;
  readonly privateSubnetIds: pulumi.Output<string[]>;

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lumerin:network:Network", name, {}, opts);
    const subnets =
      args.config.mode === "create"
        ? createdVpc(name, args.config, args.vpcName, this)
        : existingVpc(args.config, this);
    this.vpcId = subnets.vpcId;
    this.publicSubnetIds = subnets.publicSubnetIds;
    this.privateSubnetIds = subnets.privateSubnetIds;

    this.registerOutputs({
      vpcId: this.vpcId,
      publicSubnetIds: this.publicSubnetIds,
      privateSubnetIds: this.privateSubnetIds,
    });
  }
}

/** A VPC and its public and private subnets' ids. */
export interface NetworkIds {
  /** The VPC's id. */
  readonly vpcId: pulumi.Output<string>;
  /** Subnets of the load balancers, in config order. */
  readonly publicSubnetIds: pulumi.Output<string[]>;
  /** Subnets of the tasks, in config order. */
  readonly privateSubnetIds: pulumi.Output<string[]>;
}

/**
 * `<name>-vpc`: a VPC made with awsx, DNS host names on, a public and a private subnet
 * per zone, and a single NAT gateway or one per zone.
 */
export function createdVpc(
  name: string,
  cfg: Extract<NetworkConfig, { mode: "create" }>,
  vpcName: string,
  parent: pulumi.Resource,
): NetworkIds {
  const vpc = new awsx.ec2.Vpc(
    `${name}-vpc`,
    {
      cidrBlock: cfg.cidrBlock,
      numberOfAvailabilityZones: cfg.availabilityZones,
      enableDnsHostnames: true,
      natGateways: {
        strategy:
          cfg.natGateways === "single" ? awsx.ec2.NatGatewayStrategy.Single : awsx.ec2.NatGatewayStrategy.OnePerAz,
      },
      subnetStrategy: awsx.ec2.SubnetAllocationStrategy.Auto,
      subnetSpecs: [
        { type: awsx.ec2.SubnetType.Public, name: "public" },
        { type: awsx.ec2.SubnetType.Private, name: "private" },
      ],
      tags: { Name: vpcName },
    },
    { parent },
  );
  return { vpcId: vpc.vpcId, publicSubnetIds: vpc.publicSubnetIds, privateSubnetIds: vpc.privateSubnetIds };
}

/** The account's existing VPC and subnets: each given by id as is, or looked up by its Name tag. */
export function existingVpc(cfg: Extract<NetworkConfig, { mode: "existing" }>, parent: pulumi.Resource): NetworkIds {
  const invokeOpts = { parent };
  const vpcId = VPC_ID.test(cfg.vpc)
    ? pulumi.output(cfg.vpc)
    : aws.ec2.getVpcOutput({ tags: { Name: cfg.vpc } }, invokeOpts).id;
  const subnets = (refs: readonly string[]) =>
    pulumi.all(
      refs.map((ref) =>
        SUBNET_ID.test(ref)
          ? pulumi.output(ref)
          : aws.ec2.getSubnetOutput({ vpcId, tags: { Name: ref } }, invokeOpts).id,
      ),
    );
  return { vpcId, publicSubnetIds: subnets(cfg.publicSubnets), privateSubnetIds: subnets(cfg.privateSubnets) };
}
