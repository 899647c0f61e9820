/**
 * What passes between the deploy runner's parts: the invoker starts one
 * execution of the runner's state machine per allowed request with a
 * {@link RunnerInput}, and the runner's steps hand a {@link RunnerState} from
 * one to the next. Every field comes from the invoker's decision (the
 * allowlist entry's target and the verified order); nothing of the caller's
 * request reaches a field unchecked.
 */
import { z } from "zod";
import { ENVIRONMENT_NAMES } from "../../lib/environments";
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

/**
 * What is wrong with the input's image, or `undefined`: the image must be of the target's own
 * repository, by digest or by exactly the release tag the input records, so that nothing but the
 * checked release of the allowlisted repository can reach the service, however the runner is started.
 */
export function imageProblem(input: Pick<RunnerInput, "image" | "imageTag" | "target">): string | undefined {
  const repository = input.target.imageRepository;
  const byDigest = input.image.startsWith(`${repository}@sha256:`);
  const byTag = input.image === `${repository}:${input.imageTag}`;
  return byDigest || byTag
    ? undefined
    : `image ${input.image} is not ${repository} by digest or by its release tag ${input.imageTag}`;
}

/** What Begin hands on: the deployment it started and the revisions it moved between. */
export const BegunSchema = z.strictObject({
  deploymentId: z.string().min(1).describe("The id of the ECS deployment UpdateService started (`ecs-svc/...`)."),
  taskDefinitionArn: z.string().min(1).describe("The revision Begin registered and deployed."),
  previousTaskDefinitionArn: z
    .string()
    .min(1)
    .describe("The revision the service ran before (a rollback goes back to it)."),
});

/** Watch's decision after one look at the service. */
export const WatchSchema = z.strictObject({
  status: z.enum(["in-progress", "completed", "failed"]).describe("Where our deployment stands."),
  reason: z.string().describe("Why (empty while in progress); names the deployment and the cause."),
});

/** A failure the state machine caught or Watch decided, as the Fail state reports it. */
export const FailureSchema = z
  .object({
    Error: z.string().describe("The error's name (`DeployFailed`, or the name of the error a step threw)."),
    Cause: z.string().describe("What failed."),
  })
  .describe("Set once the deploy has failed; the Release and Fail states read it.");

/** The state one step of the state machine hands the next: the input and what the steps found. */
export const RunnerStateSchema = RunnerInputSchema.extend({
  begun: BegunSchema.optional().describe("Set by Begin."),
  watch: WatchSchema.optional().describe("Set by each Watch."),
  failure: FailureSchema.optional(),
});

export type Begun = z.infer<typeof BegunSchema>;
export type WatchResult = z.infer<typeof WatchSchema>;
export type RunnerState = z.infer<typeof RunnerStateSchema>;
