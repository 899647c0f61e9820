/**
 * How long a code deploy (the image-deploy workflow) waits for one service's
 * rollout, and how long its job and its AWS session may last.
 *
 * With deployment alarms, ECS keeps a deployment `IN_PROGRESS` after the service
 * looks stable: during a bake time it watches the alarms and may still fail the
 * deployment and roll it back. ECS derives that bake time from the alarms'
 * configuration and publishes no formula, so the budget assumes the longest of
 * them: an alarm can only reach `ALARM` once it has `evaluationPeriods × period`
 * of datapoints from the new tasks. Per service:
 *
 *   rollout deadline = STEADY_STATE_MINUTES + W + (W > 0 ? BAKE_MARGIN_MINUTES : 0)
 *   W = max over the service's deployment alarms of evaluationPeriods × period (minutes)
 *
 * and for one run: IMAGE_DEPLOY_OVERHEAD_MINUTES + the sum of its services' deadlines,
 * which must fit in IMAGE_DEPLOY_JOB_MINUTES.
 */

/** Minutes a deployment gets to reach steady state: new tasks started and healthy, old ones drained. */
export const STEADY_STATE_MINUTES = 20;

/** Slack after the alarm window: CloudWatch publishes ECS and ELB datapoints minutes late. */
export const BAKE_MARGIN_MINUTES = 5;

/** The job's steps before the first rollout and after the last: resolve, check the image, assume the role, render, register. */
export const IMAGE_DEPLOY_OVERHEAD_MINUTES = 10;

/** image-deploy's `timeout-minutes`: GitHub-hosted runners stop any job at 6 hours; this stays 10 minutes under. */
export const IMAGE_DEPLOY_JOB_MINUTES = 350;

/**
 * image-deploy's AWS session (`role-duration-seconds`): the whole job, since the
 * last service's tag is written at its end. The deploy roles' `maxSessionDuration`.
 */
export const IMAGE_DEPLOY_SESSION_SECONDS = 6 * 3600;

/**
 * The deploy runner's longest deadline for one deploy (minutes). No role session bounds it:
 * each of the runner's steps is one Lambda invocation of at most a minute, with the function's
 * own fresh credentials. The image-deploy job that follows the executions does: several
 * services in one run must still fit its job, which the stack's config check holds.
 */
export const RUNNER_MAX_DEADLINE_MINUTES = 180;

/** Minutes image-deploy's runner path follows an execution beyond the runner's deadline (its end event may come late). */
export const RUNNER_FOLLOW_MARGIN_MINUTES = 5;

/** One service's rollout deadline (minutes), from the evaluation windows (minutes) of the alarms that can roll it back. */
export function rolloutDeadlineMinutes(alarmWindowsMinutes: readonly number[]): number {
  const window = Math.max(0, ...alarmWindowsMinutes);
  return STEADY_STATE_MINUTES + window + (window > 0 ? BAKE_MARGIN_MINUTES : 0);
}

/** A whole run's duration (minutes) for the services' deadlines. */
export function imageDeployRunMinutes(deadlinesMinutes: readonly number[]): number {
  return IMAGE_DEPLOY_OVERHEAD_MINUTES + deadlinesMinutes.reduce((sum, m) => sum + m, 0);
}
