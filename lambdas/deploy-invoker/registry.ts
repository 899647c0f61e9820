/**
 * The image registry as the invoker sees it. An ECR repository
 * (`<account>.dkr.ecr.<region>.amazonaws.com/<name>`) is asked with
 * `DescribeImages`: a digest's tags for a digest request, a tag's digest for a
 * tag request. Another registry (the services' images are on ghcr.io) is asked
 * for the tag's manifest over the OCI distribution API: there a request must
 * name a release tag. Either way the tag must exist, and the runner deploys
 * by digest.
 */
import { DescribeImagesCommand, type ECRClient, type ImageIdentifier } from "@aws-sdk/client-ecr";
import type { ImageRegistry } from "./authorize";
import { awsErrorName, awsFailure, Denial } from "./failures";
import { OciRegistry } from "./oci-registry";

/** An ECR repository named by its registry host. */
export interface EcrRepository {
  /** The registry's account id. */
  readonly registryId: string;
  readonly region: string;
  readonly repositoryName: string;
}

const ECR_REPOSITORY =
  /^([0-9]{12})\.dkr\.ecr\.([a-z]{2}(?:-[a-z]+)+-[0-9])\.amazonaws\.com(?:\.cn)?\/((?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*)$/;

/** The ECR repository `repository` names, or `undefined` when it is in another registry. */
export function ecrRepository(repository: string): EcrRepository | undefined {
  const match = ECR_REPOSITORY.exec(repository);
  return match === null ? undefined : { registryId: match[1], region: match[2], repositoryName: match[3] };
}

/** What to deploy, as the invoker's decision has it. */
export interface ImageChoice {
  readonly imageTag: string;
  readonly imageDigest?: string;
}

/** {@link ImageRegistry} on ECR, with the reference the runner deploys. */
export class Registry implements ImageRegistry {
  /** `clientFor(region)`: an ECR client of the repository's region. */
  constructor(
    private readonly clientFor: (region: string) => ECRClient,
    private readonly oci: OciRegistry = new OciRegistry(),
  ) {}

  async tagsOf(repository: string, digest: string): Promise<readonly string[]> {
    const ecr = ecrRepository(repository);
    if (ecr === undefined) {
      throw new Denial(
        `imageDigest: ${repository} is not an ECR repository, so the invoker cannot tell which tags the digest carries; name the release tag (imageTag) instead`,
      );
    }
    const image = await this.describe(ecr, repository, { imageDigest: digest });
    return image?.imageTags ?? [];
  }

  /**
   * The image reference the runner deploys: `repository@<digest>`, the digest
   * asked for (ECR) or the one the tag names now (ECR or another registry).
   */
  async reference(repository: string, choice: ImageChoice): Promise<string> {
    const ecr = ecrRepository(repository);
    if (ecr === undefined) {
      if (choice.imageDigest !== undefined) {
        throw new Denial(
          `imageDigest: ${repository} is not an ECR repository; name the release tag (imageTag) instead`,
        );
      }
      return `${repository}@${await this.oci.digestOf(repository, choice.imageTag)}`;
    }
    if (choice.imageDigest !== undefined) return `${repository}@${choice.imageDigest}`;
    const image = await this.describe(ecr, repository, { imageTag: choice.imageTag });
    if (image?.imageDigest === undefined) {
      throw new Denial(`imageTag ${choice.imageTag} is not in ${repository}`);
    }
    return `${repository}@${image.imageDigest}`;
  }

  /** The one image `id` names, or `undefined` when the repository has no such image. */
  private async describe(ecr: EcrRepository, repository: string, id: ImageIdentifier) {
    try {
      const out = await this.clientFor(ecr.region).send(
        new DescribeImagesCommand({ registryId: ecr.registryId, repositoryName: ecr.repositoryName, imageIds: [id] }),
      );
      return out.imageDetails?.[0];
    } catch (error) {
      const name = awsErrorName(error);
      if (name === "ImageNotFoundException") return undefined;
      if (name === "RepositoryNotFoundException") throw new Denial(`image repository ${repository} does not exist`);
      throw awsFailure("ECR DescribeImages", repository, error, "the request was not decided");
    }
  }
}
