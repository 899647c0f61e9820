/**
 * The one change a deploy makes to a service's task definition: the named
 * container's image. Everything else is copied from the revision the service
 * runs, so a deploy cannot change a role, a secret, a port or a limit.
 */
import type { RegisterTaskDefinitionCommandInput, Tag, TaskDefinition } from "@aws-sdk/client-ecs";

/** Fields DescribeTaskDefinition returns that ECS sets itself; RegisterTaskDefinition takes none of them. */
export const READ_ONLY_FIELDS = [
  "taskDefinitionArn",
  "revision",
  "status",
  "requiresAttributes",
  "compatibilities",
  "registeredAt",
  "registeredBy",
  "deregisteredAt",
  "deleteRequestedAt",
] as const;

/**
 * Every field RegisterTaskDefinition accepts (besides `tags`). A field the running revision has
 * that is in neither list is refused: the SDK would drop a member it does not know, and the new
 * revision would silently lose it.
 */
export const WRITABLE_FIELDS = [
  "family",
  "taskRoleArn",
  "executionRoleArn",
  "networkMode",
  "containerDefinitions",
  "volumes",
  "placementConstraints",
  "requiresCompatibilities",
  "cpu",
  "memory",
  "pidMode",
  "ipcMode",
  "proxyConfiguration",
  "inferenceAccelerators",
  "ephemeralStorage",
  "runtimePlatform",
  "enableFaultInjection",
] as const;

const READ_ONLY: ReadonlySet<string> = new Set(READ_ONLY_FIELDS);
const WRITABLE: ReadonlySet<string> = new Set(WRITABLE_FIELDS);

/**
 * The RegisterTaskDefinition input for `running` with only `container`'s image set to `image`,
 * and the revision's tags kept. Throws when the container is not in the definition (or is there
 * twice), or when the definition has a field this code does not know how to copy.
 */
export function renderTaskDefinition(
  running: TaskDefinition,
  tags: readonly Tag[],
  container: string,
  image: string,
): RegisterTaskDefinitionCommandInput {
  const unknown = Object.keys(running).filter((k) => !READ_ONLY.has(k) && !WRITABLE.has(k));
  if (unknown.length > 0)
    throw new Error(
      `task definition ${running.taskDefinitionArn}: unknown field(s) ${unknown.join(", ")}; refusing to render a revision that would lose them`,
    );
  if (!running.family) throw new Error(`task definition ${running.taskDefinitionArn} has no family`);
  const containers = running.containerDefinitions ?? [];
  const matches = containers.filter((c) => c.name === container);
  if (matches.length !== 1)
    throw new Error(
      `task definition ${running.taskDefinitionArn}: expected one container named ${container}, found ${matches.length} (containers: ${containers.map((c) => c.name).join(", ") || "none"})`,
    );
  const copy = structuredClone(running) as Record<string, unknown>;
  for (const field of READ_ONLY_FIELDS) delete copy[field];
  const rendered = copy as unknown as RegisterTaskDefinitionCommandInput;
  rendered.containerDefinitions = (rendered.containerDefinitions ?? []).map((c) =>
    c.name === container ? { ...c, image } : c,
  );
  return tags.length > 0 ? { ...rendered, tags: tags.map((t) => ({ ...t })) } : rendered;
}
