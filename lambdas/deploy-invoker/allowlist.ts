/**
 * The invoker's allowlist: for each app of an environment, the one GitHub
 * caller that may deploy it and where the deploy goes. The program derives it
 * from the services it manages; the invoker still checks every entry when it
 * uses it, because an entry with an omitted setting must deny, never match
 * anything.
 */
import { z } from "zod";
import { ENVIRONMENT_NAMES } from "../../lib/environments";

const nonEmpty = (what: string) => z.string().min(1, `${what} is required`);

/** Where a deploy of the app goes; nothing of it comes from the request. */
export const DeployTargetSchema = z.strictObject({
  cluster: nonEmpty("cluster").describe("The ECS cluster's name."),
  service: nonEmpty("service").describe("The ECS service's name."),
  container: nonEmpty("container").describe(
    "The container whose image the deploy changes; every other container stays as it runs.",
  ),
  imageRepository: nonEmpty("imageRepository").describe("The image repository the container's image comes from."),
  tagParameter: nonEmpty("tagParameter").describe("The SSM parameter that records the deployed tag."),
});

export const AllowlistEntrySchema = z.strictObject({
  app: nonEmpty("app").describe("The app's name in requests (e.g. `proxy-router`)."),
  environment: z.enum(ENVIRONMENT_NAMES).describe("The environment this entry deploys to."),
  repository: nonEmpty("repository").describe("`owner/name` of the only repository that may deploy the app."),
  repositoryId: z
    .string()
    .regex(/^[0-9]+$/, "repositoryId is required (the repository's numeric id)")
    .describe("The repository's numeric id; the name alone could be re-created by someone else."),
  repositoryOwnerId: z
    .string()
    .regex(/^[0-9]+$/, "repositoryOwnerId is required (the owner's numeric id)")
    .describe("The repository owner's numeric id."),
  ref: z
    .string()
    .regex(/^refs\/(heads|tags)\/./, "ref is required (e.g. refs/heads/main)")
    .describe("The only git ref whose runs may deploy, e.g. `refs/heads/main`."),
  githubEnvironment: nonEmpty("githubEnvironment").describe("The GitHub environment the deploy job must run in."),
  workflowRef: nonEmpty("workflowRef").describe("The caller's workflow, `owner/repo/.github/workflows/file.yml@ref`."),
  jobWorkflowRef: nonEmpty("jobWorkflowRef").describe(
    "The (reusable) workflow the deploy job runs, `owner/repo/.github/workflows/file.yml@ref`.",
  ),
  tagPrefix: z.string().describe('The app\'s release-tag prefix (e.g. `proxy-router-`, or `""` for plain tags).'),
  target: DeployTargetSchema.describe("Where the deploy goes."),
});

export type DeployTarget = z.infer<typeof DeployTargetSchema>;
export type AllowlistEntry = z.infer<typeof AllowlistEntrySchema>;
