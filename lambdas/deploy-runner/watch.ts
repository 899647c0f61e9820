/**
 * Watch's decision: one DescribeServices response, the deployment Begin started and the
 * clock in, "in-progress", "completed" or "failed" out. Only OUR deployment completing
 * counts: ECS's circuit breaker (or an alarm) rolling back, another deployment becoming
 * primary, the service disappearing and the deadline passing all fail the deploy.
 */
import type { DescribeServicesCommandOutput, Deployment } from "@aws-sdk/client-ecs";
import type { Begun, WatchResult } from "./contract";

export interface WatchTarget {
  readonly cluster: string;
  readonly service: string;
}

const failed = (reason: string): WatchResult => ({ status: "failed", reason });

function describe(d: Deployment): string {
  return `${d.id} (${d.status}, ${d.rolloutState ?? "no rollout state"}, ${d.taskDefinition})`;
}

/** Decides where our deployment stands after one look at the service. */
export function decide(
  response: Pick<DescribeServicesCommandOutput, "services" | "failures">,
  target: WatchTarget,
  begun: Begun,
  deadline: Date,
  now: Date,
): WatchResult {
  const where = `service ${target.service} in ${target.cluster}`;
  const failure = (response.failures ?? [])[0];
  if (failure) return failed(`${where}: ${failure.reason ?? "failure"}${failure.detail ? ` (${failure.detail})` : ""}`);
  const services = response.services ?? [];
  if (services.length !== 1) return failed(`${where}: DescribeServices returned ${services.length} services`);
  const service = services[0];
  if (service.serviceName !== target.service)
    return failed(`${where}: DescribeServices returned ${service.serviceName}`);
  if (service.status !== "ACTIVE") return failed(`${where} is ${service.status}`);

  const deployments = service.deployments ?? [];
  const ours = deployments.find((d) => d.id === begun.deploymentId);
  const primary = deployments.filter((d) => d.status === "PRIMARY");
  const other = primary.find((d) => d.id !== begun.deploymentId);
  if (other) {
    const rollback = other.taskDefinition === begun.previousTaskDefinitionArn;
    const why = ours?.rolloutStateReason ? `; ours: ${ours.rolloutStateReason}` : "";
    return failed(
      rollback
        ? `${where}: deployment ${begun.deploymentId} was rolled back: ${describe(other)} is primary with the previous revision${why}`
        : `${where}: another deployment became primary: ${describe(other)}, not ours (${begun.deploymentId})${why}`,
    );
  }
  if (!ours) return failed(`${where}: deployment ${begun.deploymentId} is no longer listed`);
  if (ours.taskDefinition !== begun.taskDefinitionArn)
    return failed(
      `${where}: deployment ${begun.deploymentId} runs ${ours.taskDefinition}, not ${begun.taskDefinitionArn}`,
    );
  if (ours.rolloutState === "FAILED")
    return failed(`${where}: deployment ${begun.deploymentId} failed: ${ours.rolloutStateReason ?? "no reason given"}`);
  if (ours.status !== "PRIMARY")
    return failed(`${where}: deployment ${begun.deploymentId} is ${ours.status}, no longer primary`);
  if (ours.rolloutState === "COMPLETED") return { status: "completed", reason: `${where}: ${describe(ours)}` };
  if (now.getTime() >= deadline.getTime())
    return failed(`${where}: deadline ${deadline.toISOString()} passed with ${describe(ours)}`);
  return { status: "in-progress", reason: "" };
}
