/**
 * The invoker's configuration: the function's environment variables, written
 * by the program and checked once at cold start. A missing or malformed
 * variable stops the function from starting, with an error naming the
 * variable; the invoker never runs with a default standing in for a setting.
 */
import { z } from "zod";
import { ENVIRONMENT_NAMES, type EnvironmentName } from "../../lib/environments";
import { RUNNER_MAX_DEADLINE_MINUTES } from "../../lib/rollout";
import { AllowlistEntrySchema, type AllowlistEntry } from "./allowlist";
import { describeIssues } from "./request";

/** The audience of tokens for AWS STS; a token minted for a deploy role must not be accepted here. */
const STS_AUDIENCE = "sts.amazonaws.com";
/** The longest lease: a day. */
const MAX_LEASE_MINUTES = 24 * 60;
/** Lambda's limit on the total size of a function's environment variables. */
export const LAMBDA_ENVIRONMENT_LIMIT_BYTES = 4096;

/** The environment variables the invoker reads, one per setting. */
export const INVOKER_VARIABLES = {
  environment: "DEPLOY_ENVIRONMENT",
  // Not `*_TOKEN`: the policy pack refuses secret-looking names in a plain environment, and an audience is no secret.
  audience: "OIDC_AUDIENCE",
  allowlist: "ALLOWLIST",
  table: "TABLE_NAME",
  stateMachineArn: "STATE_MACHINE_ARN",
  deadlineMinutes: "DEADLINE_MINUTES",
  leaseMinutes: "LEASE_MINUTES",
  runnerLogGroup: "RUNNER_LOG_GROUP",
  stateMachineLogGroup: "STATE_MACHINE_LOG_GROUP",
} as const;

export interface InvokerConfig {
  /** The environment this invoker deploys to. */
  readonly environment: EnvironmentName;
  /** The audience the callers' GitHub tokens must carry. */
  readonly audience: string;
  /** One entry per app of `environment`. */
  readonly allowlist: readonly AllowlistEntry[];
  /** The DynamoDB table of replay records and leases. */
  readonly table: string;
  /** The runner's state machine. */
  readonly stateMachineArn: string;
  /** Minutes from the start of a deploy until the runner gives up. */
  readonly deadlineMinutes: number;
  /** Minutes a lease lasts; longer than the deadline. */
  readonly leaseMinutes: number;
  /** The runner Lambda's log group and the state machine's, returned to the caller. */
  readonly logGroups: readonly [runner: string, stateMachine: string];
}

const logGroupName = z
  .string()
  .regex(/^[.\-_/#A-Za-z0-9]{1,512}$/, "expected a CloudWatch log group name")
  .describe("A CloudWatch Logs log group name.");

const minutes = (max: number) =>
  z
    .string()
    .regex(/^[1-9][0-9]*$/, "expected a whole number of minutes")
    .transform(Number)
    .pipe(z.number().int().max(max, `at most ${max} minutes`));

const VariablesSchema = z.object({
  [INVOKER_VARIABLES.environment]: z.enum(ENVIRONMENT_NAMES).describe("The environment the invoker deploys to."),
  [INVOKER_VARIABLES.audience]: z
    .string()
    .min(1, "expected the invoker's own token audience")
    .refine((a) => a !== STS_AUDIENCE, `must be the invoker's own audience, not ${STS_AUDIENCE}`)
    .describe("The audience the callers' GitHub OIDC tokens must carry."),
  [INVOKER_VARIABLES.allowlist]: z.string().min(1, "expected a JSON array").describe("The allowlist, as JSON."),
  [INVOKER_VARIABLES.table]: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{3,255}$/, "expected a DynamoDB table name")
    .describe("The table of replay records and leases."),
  [INVOKER_VARIABLES.stateMachineArn]: z
    .string()
    .regex(
      /^arn:aws[a-z-]*:states:[a-z0-9-]+:[0-9]{12}:stateMachine:[A-Za-z0-9_-]{1,80}$/,
      "expected a state machine ARN (arn:aws:states:<region>:<account>:stateMachine:<name>)",
    )
    .describe("The runner's state machine."),
  [INVOKER_VARIABLES.deadlineMinutes]: minutes(RUNNER_MAX_DEADLINE_MINUTES).describe(
    "Minutes until the runner gives up; shorter than the lease.",
  ),
  [INVOKER_VARIABLES.leaseMinutes]: minutes(MAX_LEASE_MINUTES).describe("Minutes a lease lasts."),
  [INVOKER_VARIABLES.runnerLogGroup]: logGroupName.describe("The runner Lambda's log group."),
  [INVOKER_VARIABLES.stateMachineLogGroup]: logGroupName.describe("The state machine's log group."),
});

function fail(message: string): never {
  throw new Error(`deploy invoker configuration: ${message}`);
}

/**
 * The allowlist must be a JSON array of complete entries for `environment`,
 * one per app: what the core would deny entry by entry fails the start instead.
 */
function parseAllowlist(json: string, env: EnvironmentName): AllowlistEntry[] {
  const name = INVOKER_VARIABLES.allowlist;
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    fail(`${name}: not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  const parsed = z.array(AllowlistEntrySchema).min(1, "expected at least one entry").safeParse(value);
  if (!parsed.success) fail(describeIssues(name, parsed.error));
  const apps = new Set<string>();
  parsed.data.forEach((entry, i) => {
    if (entry.environment !== env) {
      fail(`${name}.${i}.environment: ${entry.environment}, but ${INVOKER_VARIABLES.environment} is ${env}`);
    }
    if (apps.has(entry.app)) fail(`${name}.${i}.app: ${entry.app} has more than one entry`);
    apps.add(entry.app);
  });
  return parsed.data;
}

/** Reads and checks the invoker's variables; throws an error naming the first bad variable. */
export function loadInvokerConfig(env: Readonly<Record<string, string | undefined>>): InvokerConfig {
  const picked = Object.fromEntries(Object.values(INVOKER_VARIABLES).map((name) => [name, env[name]]));
  const parsed = VariablesSchema.safeParse(picked);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const variable = String(first.path[0]);
    fail(picked[variable] === undefined ? `${variable} is not set` : `${variable}: ${first.message}`);
  }
  const v = parsed.data;
  const deadlineMinutes = v[INVOKER_VARIABLES.deadlineMinutes];
  const leaseMinutes = v[INVOKER_VARIABLES.leaseMinutes];
  if (leaseMinutes <= deadlineMinutes) {
    fail(
      `${INVOKER_VARIABLES.leaseMinutes}: ${leaseMinutes} must be longer than ${INVOKER_VARIABLES.deadlineMinutes} (${deadlineMinutes}), so a lease outlasts its deploy`,
    );
  }
  const environmentName = v[INVOKER_VARIABLES.environment];
  return {
    environment: environmentName,
    audience: v[INVOKER_VARIABLES.audience],
    allowlist: parseAllowlist(v[INVOKER_VARIABLES.allowlist], environmentName),
    table: v[INVOKER_VARIABLES.table],
    stateMachineArn: v[INVOKER_VARIABLES.stateMachineArn],
    deadlineMinutes,
    leaseMinutes,
    logGroups: [v[INVOKER_VARIABLES.runnerLogGroup], v[INVOKER_VARIABLES.stateMachineLogGroup]],
  };
}

/**
 * The function's environment for `config` (what the program sets on the
 * Lambda), checked as the invoker will check it at cold start and against
 * Lambda's 4 KB limit, so a bad setting fails the plan rather than the deploy.
 */
export function invokerEnvironment(config: InvokerConfig): Record<string, string> {
  const variables: Record<string, string> = {
    [INVOKER_VARIABLES.environment]: config.environment,
    [INVOKER_VARIABLES.audience]: config.audience,
    [INVOKER_VARIABLES.allowlist]: JSON.stringify(config.allowlist),
    [INVOKER_VARIABLES.table]: config.table,
    [INVOKER_VARIABLES.stateMachineArn]: config.stateMachineArn,
    [INVOKER_VARIABLES.deadlineMinutes]: String(config.deadlineMinutes),
    [INVOKER_VARIABLES.leaseMinutes]: String(config.leaseMinutes),
    [INVOKER_VARIABLES.runnerLogGroup]: config.logGroups[0],
    [INVOKER_VARIABLES.stateMachineLogGroup]: config.logGroups[1],
  };
  loadInvokerConfig(variables);
  const size = Object.entries(variables).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
  if (size > LAMBDA_ENVIRONMENT_LIMIT_BYTES) {
    fail(
      `the environment variables take ${size} bytes, over Lambda's ${LAMBDA_ENVIRONMENT_LIMIT_BYTES} (${INVOKER_VARIABLES.allowlist} takes ${Buffer.byteLength(variables[INVOKER_VARIABLES.allowlist])})`,
    );
  }
  return variables;
}
