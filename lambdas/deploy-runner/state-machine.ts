/**
 * The deploy runner's state machine (Amazon States Language), built from the runner Lambda's
 * ARN and the deadline:
 *
 *   Begin → Wait → Watch → Decide ─ in-progress → Wait
 *                                 ├ completed → Record → ReleaseAfterSuccess → Succeeded
 *                                 └ failed → WatchFailed → ReleaseAfterFailure → Failed
 *   any error in Begin, Watch or Record → ReleaseAfterFailure → Failed
 *
 * Each step invokes the runner Lambda with `{ action, state }`, where `state` is the whole
 * execution state (the runner input plus what the steps found). `TimeoutSeconds` is the
 * deadline plus a margin: the watch fails the deploy (and releases the lease) once the deadline
 * has passed, and the timeout only stops an execution that could not get that far.
 */
import type { RunnerAction } from "./handler";

/** The integration every step uses: Lambda Invoke, with the response under `Payload`. */
export const LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke";

/** Seconds between two looks at the service. */
export const DEFAULT_WAIT_SECONDS = 15;

/**
 * What the execution may run beyond the deadline: the last Wait, one Watch and the Release
 * after it, with their retries.
 */
export const TIMEOUT_MARGIN_SECONDS = 120;

/** Lambda errors that mean the function did not run the step (throttling): safe to retry for every step. */
const NOT_RUN = ["Lambda.TooManyRequestsException"];
/** Lambda errors of the service itself; retried only for steps that are safe to repeat. */
const TRANSIENT = [...NOT_RUN, "Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException"];

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export interface AslRetrier {
  readonly ErrorEquals: readonly string[];
  readonly IntervalSeconds: number;
  readonly MaxAttempts: number;
  readonly BackoffRate: number;
}

export interface AslCatcher {
  readonly ErrorEquals: readonly string[];
  readonly ResultPath: string;
  readonly Next: string;
}

export interface AslTask {
  readonly Type: "Task";
  readonly Comment?: string;
  readonly Resource: string;
  readonly Parameters: { readonly [key: string]: JsonValue };
  readonly ResultSelector?: { readonly [key: string]: JsonValue };
  readonly ResultPath: string | null;
  readonly Retry?: readonly AslRetrier[];
  readonly Catch?: readonly AslCatcher[];
  readonly Next: string;
}

export interface AslWait {
  readonly Type: "Wait";
  readonly Seconds: number;
  readonly Next: string;
}

export interface AslChoiceRule {
  readonly Variable: string;
  readonly StringEquals: string;
  readonly Next: string;
}

export interface AslChoice {
  readonly Type: "Choice";
  readonly Choices: readonly AslChoiceRule[];
  readonly Default: string;
}

export interface AslPass {
  readonly Type: "Pass";
  readonly Parameters: { readonly [key: string]: JsonValue };
  readonly ResultPath: string;
  readonly Next: string;
}

export interface AslSucceed {
  readonly Type: "Succeed";
}

export interface AslFail {
  readonly Type: "Fail";
  readonly ErrorPath: string;
  readonly CausePath: string;
}

export type AslState = AslTask | AslWait | AslChoice | AslPass | AslSucceed | AslFail;

export interface AslDefinition {
  readonly Comment: string;
  readonly StartAt: string;
  readonly TimeoutSeconds: number;
  readonly States: { readonly [name: string]: AslState };
}

export interface RunnerDefinitionArgs {
  /** The runner Lambda's (unqualified) ARN. */
  readonly runnerFunctionArn: string;
  /** Minutes from the start of a deploy to its deadline (the invoker sets `deadline` from the same number). */
  readonly deadlineMinutes: number;
  /** Seconds between two looks at the service. @default DEFAULT_WAIT_SECONDS */
  readonly waitSeconds?: number;
}

/** The execution's limit: the deadline plus {@link TIMEOUT_MARGIN_SECONDS}. */
export function runnerTimeoutSeconds(deadlineMinutes: number): number {
  return deadlineMinutes * 60 + TIMEOUT_MARGIN_SECONDS;
}

function step(
  functionArn: string,
  action: RunnerAction,
  rest: Omit<AslTask, "Type" | "Resource" | "Parameters">,
): AslTask {
  return {
    Type: "Task",
    Resource: LAMBDA_INVOKE,
    Parameters: { FunctionName: functionArn, Payload: { action, "state.$": "$" } },
    ...rest,
  };
}

const retry = (errors: readonly string[]): AslRetrier[] => [
  { ErrorEquals: errors, IntervalSeconds: 2, MaxAttempts: 3, BackoffRate: 2 },
];
const catchAll: AslCatcher[] = [{ ErrorEquals: ["States.ALL"], ResultPath: "$.failure", Next: "ReleaseAfterFailure" }];

/** The runner's state machine definition. */
export function runnerDefinition(args: RunnerDefinitionArgs): AslDefinition {
  const fn = args.runnerFunctionArn;
  const waitSeconds = args.waitSeconds ?? DEFAULT_WAIT_SECONDS;
  if (!Number.isInteger(args.deadlineMinutes) || args.deadlineMinutes < 1)
    throw new Error(`deadlineMinutes ${args.deadlineMinutes} must be a whole number of minutes, at least 1`);
  if (!Number.isInteger(waitSeconds) || waitSeconds < 1 || waitSeconds * 2 > TIMEOUT_MARGIN_SECONDS)
    throw new Error(`waitSeconds ${waitSeconds} must be a whole number from 1 to ${TIMEOUT_MARGIN_SECONDS / 2}`);
  return {
    Comment: "Deploy one image to one allowlisted ECS service, watch our deployment, record the tag, release the lease",
    StartAt: "Begin",
    TimeoutSeconds: runnerTimeoutSeconds(args.deadlineMinutes),
    States: {
      Begin: step(fn, "begin", {
        Comment: "Register the running revision with only the image changed and deploy it",
        ResultSelector: {
          "deploymentId.$": "$.Payload.deploymentId",
          "taskDefinitionArn.$": "$.Payload.taskDefinitionArn",
          "previousTaskDefinitionArn.$": "$.Payload.previousTaskDefinitionArn",
        },
        ResultPath: "$.begun",
        // Begin is not repeatable (a second UpdateService would start a second deployment): retried only when it did not run.
        Retry: retry(NOT_RUN),
        Catch: catchAll,
        Next: "Wait",
      }),
      Wait: { Type: "Wait", Seconds: waitSeconds, Next: "Watch" },
      Watch: step(fn, "watch", {
        ResultSelector: { "status.$": "$.Payload.status", "reason.$": "$.Payload.reason" },
        ResultPath: "$.watch",
        Retry: retry(TRANSIENT),
        Catch: catchAll,
        Next: "Decide",
      }),
      Decide: {
        Type: "Choice",
        Choices: [
          { Variable: "$.watch.status", StringEquals: "completed", Next: "Record" },
          { Variable: "$.watch.status", StringEquals: "in-progress", Next: "Wait" },
        ],
        Default: "WatchFailed",
      },
      WatchFailed: {
        Type: "Pass",
        Parameters: { Error: "DeployFailed", "Cause.$": "$.watch.reason" },
        ResultPath: "$.failure",
        Next: "ReleaseAfterFailure",
      },
      Record: step(fn, "record", {
        ResultPath: null,
        Retry: retry(TRANSIENT),
        Catch: catchAll,
        Next: "ReleaseAfterSuccess",
      }),
      ReleaseAfterSuccess: step(fn, "release", { ResultPath: null, Retry: retry(TRANSIENT), Next: "Succeeded" }),
      Succeeded: { Type: "Succeed" },
      ReleaseAfterFailure: step(fn, "release", { ResultPath: null, Retry: retry(TRANSIENT), Next: "Failed" }),
      Failed: { Type: "Fail", ErrorPath: "$.failure.Error", CausePath: "$.failure.Cause" },
    },
  };
}
