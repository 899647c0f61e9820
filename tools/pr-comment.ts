/**
 * `npm run pr-comment -- --repo <owner/name> --pr <number> --body-file <file> [--marker <id>]`
 *
 * One sticky comment per pull request: finds the comment a bot wrote with the hidden
 * marker `<!-- <id> -->` and updates it, or creates it when there is none. So each push
 * updates the same comment instead of adding one. GitHub's API at `GITHUB_API_URL`
 * (GitHub Actions sets it), with `GITHUB_TOKEN`. Exit 0 done, 2 bad input, 1 API error.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { Octokit } from "@octokit/rest";

const USAGE = "usage: npm run pr-comment -- --repo <owner/name> --pr <number> --body-file <file> [--marker <id>]";
export const DEFAULT_MARKER = "lumerin-infra:plan-diff";
/** GitHub refuses a comment body longer than this. */
const MAX_BODY = 65536;

export interface StickyCommentOptions {
  readonly baseUrl: string;
  readonly token?: string;
  readonly owner: string;
  readonly repo: string;
  readonly issue: number;
  readonly body: string;
  readonly marker?: string;
}

/** Creates or updates the marked comment; returns what it did and the comment's id. */
export async function upsertStickyComment(
  options: StickyCommentOptions,
): Promise<{ action: "created" | "updated"; id: number }> {
  const tag = `<!-- ${options.marker ?? DEFAULT_MARKER} -->`;
  const octokit = new Octokit({ baseUrl: options.baseUrl, ...(options.token ? { auth: options.token } : {}) });
  const comments = await octokit.paginate(octokit.rest.issues.listComments, {
    owner: options.owner,
    repo: options.repo,
    issue_number: options.issue,
    per_page: 100,
  });
  // Only a bot's comment: a person quoting the marker keeps their comment.
  const mine = comments.find((c) => c.user?.type === "Bot" && (c.body ?? "").startsWith(tag));
  const body = fit(`${tag}\n${options.body}`);
  if (mine) {
    await octokit.rest.issues.updateComment({ owner: options.owner, repo: options.repo, comment_id: mine.id, body });
    return { action: "updated", id: mine.id };
  }
  const created = await octokit.rest.issues.createComment({
    owner: options.owner,
    repo: options.repo,
    issue_number: options.issue,
    body,
  });
  return { action: "created", id: created.data.id };
}

function fit(body: string): string {
  if (body.length <= MAX_BODY) return body;
  const note = "\n\n… (cut: the full diff is in the job summary)\n";
  return body.slice(0, MAX_BODY - note.length) + note;
}

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({
      options: {
        repo: { type: "string" },
        pr: { type: "string" },
        "body-file": { type: "string" },
        marker: { type: "string" },
      },
      strict: true,
    }).values;
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const [owner, repo, extra] = (args.repo ?? "").split("/");
  if (!owner || !repo || extra !== undefined) {
    console.error(`--repo must be <owner>/<name>, got "${args.repo ?? ""}"\n${USAGE}`);
    return 2;
  }
  if (!/^[1-9][0-9]*$/.test(args.pr ?? "")) {
    console.error(`--pr must be a pull request number, got "${args.pr ?? ""}"\n${USAGE}`);
    return 2;
  }
  let body: string;
  try {
    body = readFileSync(args["body-file"] ?? "", "utf8");
  } catch (err) {
    console.error(`cannot read --body-file "${args["body-file"] ?? ""}": ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  try {
    const done = await upsertStickyComment({
      baseUrl: process.env.GITHUB_API_URL ?? "https://api.github.com",
      token: process.env.GITHUB_TOKEN,
      owner,
      repo,
      issue: Number(args.pr),
      body,
      marker: args.marker,
    });
    console.log(`${done.action} comment ${done.id} on ${owner}/${repo}#${args.pr}`);
    return 0;
  } catch (err) {
    console.error(`✗ commenting on ${owner}/${repo}#${args.pr}: ${(err as Error).message}`);
    return 1;
  }
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
