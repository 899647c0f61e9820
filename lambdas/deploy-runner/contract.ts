/**
 * What passes between the deploy runner's parts: the invoker starts one
 * execution of the runner's state machine per allowed request with a
 * {@link RunnerInput}, and the runner's steps hand a {@link RunnerState} from
 * one to the next. Every field comes from the invoker's decision (the
 * allowlist entry's target and the verified order); nothing of the caller's
 * request reaches a field unchecked.
 */
import { z } from "zod";
import { ENVIRONMENT_NAMES } from "../../config/environments";
import { DeployTargetSchema } from "../deploy-invoker/allowlist";

export const RunnerInputSchema = z.strictObject({
  requestId: z
    .uuid()
    .describe("The caller's id for the deploy; also the execution's name, so a repeat is the same run."),
  app: z.string().min(1).describe("The app's name in the allowlist."),
  environment: z.enum(ENVIRONMENT_NAMES).describe("The environment deployed to."),
  target: DeployTargetSchema.describe("Where the deploy goes: the allowlist entry's target."),
  image: z
    .string()
    .regex(
      /^[^\s@]+(@sha256:[0-9a-f]{64}|:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})$/,
      "expected repository:tag or repository@sha256:digest",
    )
    .describe("The image reference the target's container gets (by digest when the registry gave one)."),
  imageTag: z.string().min(1).describe("The release tag recorded in the target's tag parameter on success."),
  rollback: z.boolean().describe("Whether the request was an explicit rollback to a recorded tag."),
  deadline: z.iso.datetime().describe("When the runner gives up and fails the deploy (before the lease expires)."),
  lease: z
    .strictObject({
      table: z.string().min(1).describe("The DynamoDB table holding the lease."),
      key: z.string().min(1).describe("The lease's key: `<app>#<environment>`."),
    })
    .describe("The lease the invoker took for this deploy; the runner releases it when it ends."),
});

export type RunnerInput = z.infer<typeof RunnerInputSchema>;
