/**
 * A service's endpoint behind a load balancer: the load balancer, one target group of
 * IP targets (Fargate tasks), its listeners forwarding to it, and an alias record for
 * its host name. Network load balancers (TCP, the proxies' stratum) and application
 * load balancers (HTTPS with a certificate, the notifications API) alike.
 */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import type { Transform } from "./container-service";
import { transformed } from "./container-service";
import { DnsTarget, ZoneRecordArgs, zoneRecord } from "./dns-zone";

/** Physical names of the load balancer and its target group (each at most 32 characters). */
export interface LoadBalancedEndpointNames {
  /** e.g. `alb-proxy-router-ext-use1`. */
  readonly loadBalancer: string;
  /** e.g. `tg-proxy-router-3333-dev`. */
  readonly targetGroup: string;
}

/** The target group the service registers its tasks in (by IP). */
export interface EndpointTargetGroup {
  /** The tasks' port, e.g. 3333. */
  readonly port: number;
  /** `TCP` behind a network load balancer, `HTTP` behind an application load balancer. */
  readonly protocol: "TCP" | "UDP" | "TCP_UDP" | "TLS" | "HTTP" | "HTTPS";
  /** Seconds a deregistering target keeps its connections, e.g. 0 for stratum, 10 for a singleton's HTTP. */
  readonly deregistrationDelaySeconds: number;
  /** The load balancer's health check of each target. */
  readonly healthCheck: aws.types.input.lb.TargetGroupHealthCheck;
  /**
   * The targets see the client's address, not the load balancer's (network load balancers).
   * @default not sent (AWS's default for the target group's type)
   */
  readonly preserveClientIp?: boolean;
  /**
   * Close the connections of a target as it deregisters, and of an unhealthy target
   * (network load balancers; a miner then reconnects to a healthy task).
   * @default not sent (AWS keeps them open)
   */
  readonly terminateConnections?: boolean;
}

/** One listener, forwarding everything to the target group. */
export interface EndpointListener {
  /** The port clients connect to, e.g. 7301 or 443. */
  readonly port: number;
  /** `TCP` on a network load balancer; `HTTPS` (with `certificateArn` and `sslPolicy`) on an application one. */
  readonly protocol: "TCP" | "UDP" | "TCP_UDP" | "TLS" | "HTTP" | "HTTPS";
  /** The issued certificate's ARN (an `HTTPS` or `TLS` listener needs one). @default none */
  readonly certificateArn?: pulumi.Input<string>;
  /** e.g. `ELBSecurityPolicy-TLS13-1-2-2021-06` (an `HTTPS` or `TLS` listener needs one). @default none */
  readonly sslPolicy?: string;
}

/** One hook per child of {@link loadBalancedEndpoint}; each gets the args and the child's logical name. */
export interface LoadBalancedEndpointTransforms {
  /** `<name>-nlb` / `<name>-alb`. @default none */
  readonly loadBalancer?: Transform<aws.lb.LoadBalancerArgs>;
  /** `<name>-tg`. @default none */
  readonly targetGroup?: Transform<aws.lb.TargetGroupArgs>;
  /** Every `<name>-<listener id>`. @default none */
  readonly listener?: Transform<aws.lb.ListenerArgs>;
  /** `<name>-dns`. @default none */
  readonly record?: Transform<ZoneRecordArgs>;
}

export interface LoadBalancedEndpointArgs {
  /**
   * `network`: the load balancer is `<name>-nlb`, with cross-zone load balancing on.
   * `application`: `<name>-alb`, dropping invalid header fields.
   */
  readonly type: "network" | "application";
  /** Physical names of the load balancer and the target group. */
  readonly names: LoadBalancedEndpointNames;
  /** Internal (VPC only) or internet-facing. */
  readonly internal: boolean;
  /** The VPC of the target group. */
  readonly vpcId: pulumi.Input<string>;
  /** Subnets of the load balancer: public ones when internet-facing. */
  readonly subnetIds: pulumi.Input<string[]>;
  /**
   * The load balancer's security groups. An application load balancer needs one; a network
   * load balancer takes them only at creation, so one adopted without keeps none.
   * @default none
   */
  readonly securityGroupIds?: readonly pulumi.Input<string>[];
  /** AWS refuses to delete the load balancer while this is on (production). */
  readonly deletionProtection: boolean;
  /** Tags of the load balancer (an adoption's policy exception tag, for one). @default none */
  readonly tags?: Readonly<Record<string, string>>;
  /** The target group of the service's tasks. */
  readonly targetGroup: EndpointTargetGroup;
  /**
   * Listeners keyed by id, the id part of each one's logical name (`<name>-<id>`), e.g.
   * `{ listener: { port: 7301, protocol: "TCP" } }` or `{ https: { port: 443, protocol: "HTTPS", ... } }`.
   */
  readonly listeners: Readonly<Record<string, EndpointListener>>;
  /** The host name of the alias record, e.g. `proxy.dev.lumerin.io`; must lie in `dns.zoneName`. */
  readonly hostName: string;
  /** The zone of the alias record (and the provider for its account). */
  readonly dns: DnsTarget;
  /** Hooks that adjust each child's args before it is created. @default none */
  readonly transform?: LoadBalancedEndpointTransforms;
}

/** Everything {@link loadBalancedEndpoint} made. */
export interface LoadBalancedEndpoint {
  readonly loadBalancer: aws.lb.LoadBalancer;
  readonly targetGroup: aws.lb.TargetGroup;
  /** By listener id. */
  readonly listeners: Readonly<Record<string, aws.lb.Listener>>;
  /** The alias record; absent while the zone's role is pending (the record is then withheld). */
  readonly record?: aws.route53.Record;
  readonly hostName: string;
}

/**
 * `<name>-nlb` or `<name>-alb`, `<name>-tg`, `<name>-<listener id>` per listener and the alias
 * record `<name>-dns`, children of `parent`. A service whose tasks register in the target group
 * must depend on the listeners: a target group takes targets only once a listener attaches it.
 */
export function loadBalancedEndpoint(
  name: string,
  args: LoadBalancedEndpointArgs,
  parent: pulumi.Resource,
): LoadBalancedEndpoint {
  validateEndpoint(name, args);
  const loadBalancer = endpointLoadBalancer(name, args, parent);
  const targetGroup = endpointTargetGroup(name, args, parent);
  const listeners = Object.fromEntries(
    Object.entries(args.listeners).map(([id, listener]) => [
      id,
      endpointListener(`${name}-${id}`, listener, loadBalancer, targetGroup, args.transform, parent),
    ]),
  );
  const record = aliasRecord(name, args, loadBalancer, parent);
  return { loadBalancer, targetGroup, listeners, ...(record ? { record } : {}), hostName: args.hostName };
}

function validateEndpoint(name: string, args: LoadBalancedEndpointArgs): void {
  const problems: string[] = [];
  if (!args.hostName.endsWith(`.${args.dns.zoneName}`))
    problems.push(`hostName "${args.hostName}" is not in the zone ${args.dns.zoneName}`);
  if (Object.keys(args.listeners).length === 0) problems.push("a load balancer needs at least one listener");
  for (const [id, l] of Object.entries(args.listeners)) {
    const tls = l.protocol === "HTTPS" || l.protocol === "TLS";
    if (tls && (l.certificateArn === undefined || l.sslPolicy === undefined))
      problems.push(`listener "${id}" (${l.protocol}) needs certificateArn and sslPolicy`);
    if (!tls && (l.certificateArn !== undefined || l.sslPolicy !== undefined))
      problems.push(`listener "${id}" (${l.protocol}) takes no certificateArn or sslPolicy`);
  }
  if (args.type === "application" && !(args.securityGroupIds?.length ?? 0))
    problems.push("an application load balancer needs a security group");
  if (problems.length > 0) throw new Error(`${name}: ${problems.join("; ")}`);
}

/** `<name>-nlb` / `<name>-alb`. */
export function endpointLoadBalancer(
  name: string,
  args: LoadBalancedEndpointArgs,
  parent: pulumi.Resource,
): aws.lb.LoadBalancer {
  const network = args.type === "network";
  const logical = `${name}-${network ? "nlb" : "alb"}`;
  return new aws.lb.LoadBalancer(
    logical,
    transformed(
      args.transform?.loadBalancer,
      {
        name: args.names.loadBalancer,
        loadBalancerType: args.type,
        internal: args.internal,
        subnets: args.subnetIds,
        ...(args.securityGroupIds?.length ? { securityGroups: [...args.securityGroupIds] } : {}),
        ...(args.tags ? { tags: { ...args.tags } } : {}),
        // An ALB balances across zones always; an NLB only when asked.
        ...(network ? { enableCrossZoneLoadBalancing: true } : { dropInvalidHeaderFields: true }),
        enableDeletionProtection: args.deletionProtection,
      },
      logical,
    ),
    { parent },
  );
}

/** `<name>-tg`: IP targets (Fargate tasks) in the VPC. */
export function endpointTargetGroup(
  name: string,
  args: LoadBalancedEndpointArgs,
  parent: pulumi.Resource,
): aws.lb.TargetGroup {
  const logical = `${name}-tg`;
  const t = args.targetGroup;
  return new aws.lb.TargetGroup(
    logical,
    transformed(
      args.transform?.targetGroup,
      {
        name: args.names.targetGroup,
        port: t.port,
        protocol: t.protocol,
        targetType: "ip",
        vpcId: args.vpcId,
        ...(t.preserveClientIp !== undefined ? { preserveClientIp: String(t.preserveClientIp) } : {}),
        ...(t.terminateConnections !== undefined ? { connectionTermination: t.terminateConnections } : {}),
        deregistrationDelay: t.deregistrationDelaySeconds,
        ...(t.terminateConnections !== undefined
          ? { targetHealthStates: [{ enableUnhealthyConnectionTermination: t.terminateConnections }] }
          : {}),
        healthCheck: t.healthCheck,
      },
      logical,
    ),
    { parent },
  );
}

function endpointListener(
  logical: string,
  listener: EndpointListener,
  loadBalancer: aws.lb.LoadBalancer,
  targetGroup: aws.lb.TargetGroup,
  transform: LoadBalancedEndpointTransforms | undefined,
  parent: pulumi.Resource,
): aws.lb.Listener {
  return new aws.lb.Listener(
    logical,
    transformed(
      transform?.listener,
      {
        loadBalancerArn: loadBalancer.arn,
        port: listener.port,
        protocol: listener.protocol,
        ...(listener.sslPolicy ? { sslPolicy: listener.sslPolicy } : {}),
        ...(listener.certificateArn ? { certificateArn: listener.certificateArn } : {}),
        defaultActions: [{ type: "forward", targetGroupArn: targetGroup.arn }],
      },
      logical,
    ),
    { parent },
  );
}

/** `<name>-dns`: `hostName` A, an alias of the load balancer that follows its health. */
function aliasRecord(
  name: string,
  args: LoadBalancedEndpointArgs,
  loadBalancer: aws.lb.LoadBalancer,
  parent: pulumi.Resource,
): aws.route53.Record | undefined {
  const logical = `${name}-dns`;
  return zoneRecord(
    logical,
    args.dns,
    transformed(
      args.transform?.record,
      {
        name: args.hostName,
        type: "A",
        aliases: [{ name: loadBalancer.dnsName, zoneId: loadBalancer.zoneId, evaluateTargetHealth: true }],
      },
      logical,
    ),
    { parent },
    `${args.hostName} A`,
  );
}
