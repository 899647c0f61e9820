/**
 * An interpreter for exactly the subset of the Amazon States Language the deploy runner's
 * state machine uses, so that its real definition runs end to end in a test:
 * Task on `arn:aws:states:::lambda:invoke` (the function called in-process; the response under
 * `Payload`; a thrown error becomes `{ Error, Cause }` as Lambda's integration reports it),
 * Parameters / ResultSelector with `.$` paths, ResultPath (null, `$`, `$.a.b`), Retry, Catch,
 * Wait (the fake clock moves instead of time passing), Choice on StringEquals, Pass, Succeed,
 * Fail with ErrorPath/CausePath, and the machine's TimeoutSeconds against the fake clock.
 * A field outside this subset throws: the definition cannot drift out of what is tested.
 * A path that does not resolve fails the execution with States.Runtime, as Step Functions does.
 */
import type { AslDefinition, AslState, JsonValue } from "../../lambdas/deploy-runner/state-machine";

export interface FakeClock {
  now(): Date;
  advance(ms: number): void;
}

export function fakeClock(start: Date): FakeClock {
  let t = start.getTime();
  return { now: () => new Date(t), advance: (ms) => void (t += ms) };
}

export type LambdaFunction = (payload: JsonValue) => Promise<unknown>;

export interface TraceEntry {
  readonly state: string;
  readonly at: string;
}

export type ExecutionResult =
  | { readonly status: "SUCCEEDED"; readonly output: JsonValue; readonly trace: TraceEntry[] }
  | { readonly status: "FAILED"; readonly error: string; readonly cause: string; readonly trace: TraceEntry[] }
  | { readonly status: "TIMED_OUT"; readonly trace: TraceEntry[] };

class StatesError extends Error {
  constructor(
    readonly error: string,
    readonly causeText: string,
  ) {
    super(`${error}: ${causeText}`);
  }
}

const ALLOWED_FIELDS: Record<AslState["Type"], readonly string[]> = {
  Task: ["Type", "Comment", "Resource", "Parameters", "ResultSelector", "ResultPath", "Retry", "Catch", "Next"],
  Wait: ["Type", "Seconds", "Next"],
  Choice: ["Type", "Choices", "Default"],
  Pass: ["Type", "Parameters", "ResultPath", "Next"],
  Succeed: ["Type"],
  Fail: ["Type", "ErrorPath", "CausePath"],
};

function segments(path: string): string[] {
  if (path === "$") return [];
  if (!/^\$(\.[A-Za-z_][A-Za-z0-9_]*)+$/.test(path)) throw new Error(`path ${path} is outside the supported subset`);
  return path.slice(2).split(".");
}

function read(value: JsonValue, path: string): JsonValue {
  let at: JsonValue = value;
  for (const key of segments(path)) {
    if (at === null || typeof at !== "object" || Array.isArray(at) || !(key in at))
      throw new StatesError("States.Runtime", `the JSONPath ${path} could not be found in the input`);
    at = at[key];
  }
  return at;
}

function write(target: JsonValue, path: string | null, result: JsonValue): JsonValue {
  if (path === null) return target;
  const keys = segments(path);
  if (keys.length === 0) return result;
  const root = structuredClone(target);
  if (root === null || typeof root !== "object" || Array.isArray(root))
    throw new StatesError("States.Runtime", `ResultPath ${path} on a non-object`);
  let at: { [key: string]: JsonValue } = root;
  for (const key of keys.slice(0, -1)) {
    const next = at[key];
    if (next === undefined) at[key] = {};
    else if (next === null || typeof next !== "object" || Array.isArray(next))
      throw new StatesError("States.Runtime", `ResultPath ${path} goes through a non-object`);
    at = at[key] as { [key: string]: JsonValue };
  }
  at[keys[keys.length - 1]] = result;
  return root;
}

/** Parameters / ResultSelector: keys ending in `.$` take the value at their path. */
function template(shape: JsonValue, input: JsonValue): JsonValue {
  if (shape === null || typeof shape !== "object") return shape;
  if (Array.isArray(shape)) return shape.map((v) => template(v, input));
  const out: { [key: string]: JsonValue } = {};
  for (const [key, value] of Object.entries(shape)) {
    if (key.endsWith(".$")) {
      if (typeof value !== "string") throw new Error(`${key} must name a path`);
      out[key.slice(0, -2)] = read(input, value);
    } else out[key] = template(value, input);
  }
  return out;
}

const matches = (errorEquals: readonly string[], error: string) =>
  errorEquals.includes(error) || (errorEquals.includes("States.ALL") && error !== "States.Timeout");

function toJson(value: unknown): JsonValue {
  return value === undefined ? null : (JSON.parse(JSON.stringify(value)) as JsonValue);
}

/** Runs `definition` on `input`; `functions` maps each function ARN to its in-process handler. */
export async function execute(
  definition: AslDefinition,
  input: JsonValue,
  functions: Readonly<Record<string, LambdaFunction>>,
  clock: FakeClock,
  maxTransitions = 1000,
): Promise<ExecutionResult> {
  for (const [name, state] of Object.entries(definition.States)) {
    const extra = Object.keys(state).filter((k) => !ALLOWED_FIELDS[state.Type]?.includes(k));
    if (!ALLOWED_FIELDS[state.Type] || extra.length > 0)
      throw new Error(`state ${name}: ${state.Type} with ${extra.join(", ")} is outside the supported subset`);
  }
  const started = clock.now().getTime();
  const deadline = started + definition.TimeoutSeconds * 1000;
  const trace: TraceEntry[] = [];
  let current = definition.StartAt;
  let data = input;

  for (let i = 0; i < maxTransitions; i++) {
    if (clock.now().getTime() > deadline) return { status: "TIMED_OUT", trace };
    const state = definition.States[current];
    if (!state) throw new Error(`no state ${current}`);
    trace.push({ state: current, at: clock.now().toISOString() });
    try {
      switch (state.Type) {
        case "Succeed":
          return { status: "SUCCEEDED", output: data, trace };
        case "Fail": {
          const error = read(data, state.ErrorPath);
          const cause = read(data, state.CausePath);
          return { status: "FAILED", error: String(error), cause: String(cause), trace };
        }
        case "Wait":
          clock.advance(state.Seconds * 1000);
          current = state.Next;
          break;
        case "Choice": {
          const rule = state.Choices.find((c) => read(data, c.Variable) === c.StringEquals);
          current = rule ? rule.Next : state.Default;
          break;
        }
        case "Pass":
          data = write(data, state.ResultPath, template(state.Parameters, data));
          current = state.Next;
          break;
        case "Task": {
          const outcome = await runTask(state, data, functions, clock);
          if ("error" in outcome) {
            const catcher = (state.Catch ?? []).find((c) => matches(c.ErrorEquals, outcome.error.error));
            if (!catcher)
              return { status: "FAILED", error: outcome.error.error, cause: outcome.error.causeText, trace };
            data = write(data, catcher.ResultPath, { Error: outcome.error.error, Cause: outcome.error.causeText });
            current = catcher.Next;
          } else {
            data = write(data, state.ResultPath, outcome.result);
            current = state.Next;
          }
          break;
        }
      }
    } catch (error) {
      if (error instanceof StatesError) return { status: "FAILED", error: error.error, cause: error.causeText, trace };
      throw error;
    }
  }
  throw new Error(`more than ${maxTransitions} transitions`);
}

async function runTask(
  state: Extract<AslState, { Type: "Task" }>,
  data: JsonValue,
  functions: Readonly<Record<string, LambdaFunction>>,
  clock: FakeClock,
): Promise<{ result: JsonValue } | { error: StatesError }> {
  if (state.Resource !== "arn:aws:states:::lambda:invoke")
    throw new Error(`resource ${state.Resource} is outside the supported subset`);
  const parameters = template(state.Parameters, data) as { FunctionName?: JsonValue; Payload?: JsonValue };
  const fn = typeof parameters.FunctionName === "string" ? functions[parameters.FunctionName] : undefined;
  if (!fn)
    return { error: new StatesError("Lambda.ResourceNotFoundException", `no function ${parameters.FunctionName}`) };
  const attempts = new Map<number, number>();
  for (;;) {
    let error: StatesError;
    try {
      const payload = toJson(await fn(parameters.Payload ?? null));
      const response: JsonValue = { StatusCode: 200, Payload: payload };
      try {
        return { result: state.ResultSelector ? template(state.ResultSelector, response) : response };
      } catch (e) {
        if (e instanceof StatesError) return { error: e };
        throw e;
      }
    } catch (thrown) {
      const e = thrown instanceof Error ? thrown : new Error(String(thrown));
      // Lambda's integration: the error's type as Error, the function's error object as Cause.
      error =
        e instanceof StatesError
          ? e
          : new StatesError(e.name, JSON.stringify({ errorType: e.name, errorMessage: e.message }));
    }
    const index = (state.Retry ?? []).findIndex((r) => matches(r.ErrorEquals, error.error));
    const retrier = index >= 0 ? state.Retry![index] : undefined;
    const done = attempts.get(index) ?? 0;
    if (!retrier || done >= retrier.MaxAttempts) return { error };
    clock.advance(retrier.IntervalSeconds * Math.pow(retrier.BackoffRate, done) * 1000);
    attempts.set(index, done + 1);
  }
}
