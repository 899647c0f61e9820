/**
 * The tags recorded as deployed, from each service's SSM tag parameter: its
 * value is the tag running now, its history every tag recorded there. The
 * program creates the parameter with the service and writes it on
 * `pulumi up`; the runner writes it after a deploy succeeded. SSM keeps a
 * parameter's last 100 versions only, so a tag recorded more than 100 deploys
 * ago no longer counts as recorded (a rollback to it is refused).
 */
import { GetParameterCommand, paginateGetParameterHistory, type SSMClient } from "@aws-sdk/client-ssm";
import type { DeployTarget } from "./allowlist";
import type { RecordedTags } from "./authorize";
import { awsErrorName, awsFailure, Denial } from "./failures";

/** The most versions one GetParameterHistory page returns. */
const HISTORY_PAGE_SIZE = 50;

function missingParameter(target: DeployTarget): Denial {
  return new Denial(
    `the tag parameter ${target.tagParameter} of ${target.service} does not exist, so the recorded tags cannot be read; the program creates it with the service`,
  );
}

export class SsmRecordedTags implements RecordedTags {
  constructor(private readonly client: SSMClient) {}

  /** The parameter's value; a missing parameter denies (it is never "no deploy yet"). */
  async current(target: DeployTarget): Promise<string | undefined> {
    try {
      const out = await this.client.send(new GetParameterCommand({ Name: target.tagParameter }));
      const value = out.Parameter?.Value;
      if (value === undefined || value === "") {
        throw new Denial(`the tag parameter ${target.tagParameter} of ${target.service} has no value`);
      }
      return value;
    } catch (error) {
      if (error instanceof Denial) throw error;
      if (awsErrorName(error) === "ParameterNotFound") throw missingParameter(target);
      throw awsFailure("SSM GetParameter", target.tagParameter, error, "the request was not decided");
    }
  }

  /** Whether any version of the parameter, on any page of its history, holds `tag`. */
  async wasRecorded(target: DeployTarget, tag: string): Promise<boolean> {
    try {
      const pages = paginateGetParameterHistory(
        { client: this.client, pageSize: HISTORY_PAGE_SIZE },
        { Name: target.tagParameter, MaxResults: HISTORY_PAGE_SIZE },
      );
      for await (const page of pages) {
        if ((page.Parameters ?? []).some((version) => version.Value === tag)) return true;
      }
      return false;
    } catch (error) {
      if (awsErrorName(error) === "ParameterNotFound") throw missingParameter(target);
      throw awsFailure("SSM GetParameterHistory", target.tagParameter, error, "the request was not decided");
    }
  }
}
