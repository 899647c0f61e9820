/**
 * The two ways a request ends without a deploy. A {@link Denial} is the
 * invoker's answer: the handler returns it as a normal response with decision
 * `denied`. An {@link InvokerFailure} is the invoker failing (AWS refused or
 * broke a call, the configuration is wrong): the invocation fails with its
 * message, so it counts in the function's `Errors` metric. Neither ever
 * becomes an allow.
 */

/** A check that failed; `reason` names the field, claim or resource. */
export class Denial extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = "Denial";
  }
}

/** The invoker could not decide or could not start the deploy; nothing is deployed by this invocation. */
export class InvokerFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InvokerFailure";
  }
}

/** The error's name as the AWS SDK sets it (`ThrottlingException`, `AccessDeniedException`, ...). */
export function awsErrorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}

/** The HTTP status AWS answered with, when it answered at all (absent: a network error or a timeout). */
export function awsHttpStatus(error: unknown): number | undefined {
  if (typeof error !== "object" || error === null || !("$metadata" in error)) return undefined;
  const metadata = (error as { $metadata?: { httpStatusCode?: unknown } }).$metadata;
  return typeof metadata?.httpStatusCode === "number" ? metadata.httpStatusCode : undefined;
}

/**
 * `<operation> on <subject> failed (<ErrorName>: <message>); <consequence>`:
 * what was asked of AWS, what AWS said, and what that means for the deploy.
 */
export function awsFailure(operation: string, subject: string, error: unknown, consequence: string): InvokerFailure {
  const message = error instanceof Error ? error.message : String(error);
  return new InvokerFailure(`${operation} on ${subject} failed (${awsErrorName(error)}: ${message}); ${consequence}`);
}
