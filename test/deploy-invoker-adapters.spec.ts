/**
 * The deploy invoker's configuration (its environment, checked at cold start)
 * and its registry adapter: ECR images deployed by digest, other registries
 * by tag, AWS errors failing closed. Through the handler, against mocked SDK
 * clients, with tokens signed by a local key.
 */
import assert from "node:assert/strict";
import { DescribeImagesCommand, ImageNotFoundException, RepositoryNotFoundException } from "@aws-sdk/client-ecr";
import { StartExecutionCommand } from "@aws-sdk/client-sfn";
import { GetParameterCommand, GetParameterHistoryCommand } from "@aws-sdk/client-ssm";
import {
  INVOKER_VARIABLES,
  invokerEnvironment,
  LAMBDA_ENVIRONMENT_LIMIT_BYTES,
  loadInvokerConfig,
} from "../lambdas/deploy-invoker/config";
import { createHandler } from "../lambdas/deploy-invoker/handler";
import { OciRegistry } from "../lambdas/deploy-invoker/oci-registry";
import { ecrRepository } from "../lambdas/deploy-invoker/registry";
import {
  awsError,
  DIGEST,
  ECR_ENTRY,
  ECR_REPOSITORY,
  ENTRY,
  environmentOf,
  fakeGhcr,
  ghcrDigest,
  invoker,
  LOG_GROUPS,
  mocks,
  request,
  REQUEST_ID,
  resetAws,
  STATE_MACHINE_ARN,
  TABLE,
  TARGET,
} from "./support/deploy-invoker";

const MM_PARAMETER = ECR_ENTRY.target.tagParameter;
const OTHER_DIGEST = `sha256:${"cd".repeat(32)}`;

function loadError(over: Record<string, string | undefined>): string {
  try {
    loadInvokerConfig(environmentOf(over));
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  assert.fail(`expected ${JSON.stringify(over)} to be refused`);
}

function sentInput(): Record<string, unknown> {
  const calls = mocks.sfn.commandCalls(StartExecutionCommand);
  assert.equal(calls.length, 1, "one execution started");
  return JSON.parse(calls[0].args[0].input.input ?? "null") as Record<string, unknown>;
}

describe("deploy invoker configuration", () => {
  it("reads every setting from the function's environment", () => {
    assert.deepEqual(loadInvokerConfig(environmentOf()), {
      environment: "lmn",
      audience: "lumerin-deploy-invoker-lmn",
      allowlist: [ENTRY, ECR_ENTRY],
      table: TABLE,
      stateMachineArn: STATE_MACHINE_ARN,
      deadlineMinutes: 30,
      leaseMinutes: 45,
      logGroups: [...LOG_GROUPS],
    });
  });

  it("refuses to start without any one variable, naming it", () => {
    for (const name of Object.values(INVOKER_VARIABLES)) {
      assert.equal(loadError({ [name]: undefined }), `deploy invoker configuration: ${name} is not set`);
    }
  });

  it("names the variable of each malformed setting", () => {
    assert.match(
      loadError({ OIDC_AUDIENCE: "sts.amazonaws.com" }),
      /^deploy invoker configuration: OIDC_AUDIENCE: must be the invoker's own audience/,
    );
    assert.match(loadError({ DEPLOY_ENVIRONMENT: "prod" }), /: DEPLOY_ENVIRONMENT: /);
    assert.match(
      loadError({ STATE_MACHINE_ARN: "lumerin-deploy-runner" }),
      /: STATE_MACHINE_ARN: expected a state machine ARN/,
    );
    assert.match(loadError({ TABLE_NAME: "a b" }), /: TABLE_NAME: expected a DynamoDB table name/);
    assert.match(loadError({ DEADLINE_MINUTES: "0" }), /: DEADLINE_MINUTES: expected a whole number of minutes/);
    assert.match(
      loadError({ DEADLINE_MINUTES: "181", LEASE_MINUTES: "240" }),
      /: DEADLINE_MINUTES: at most 180 minutes/,
    );
    assert.match(loadError({ LEASE_MINUTES: "30" }), /: LEASE_MINUTES: 30 must be longer than DEADLINE_MINUTES \(30\)/);
    assert.match(
      loadError({ RUNNER_LOG_GROUP: "no spaces allowed" }),
      /: RUNNER_LOG_GROUP: expected a CloudWatch log group name/,
    );
  });

  it("refuses an allowlist that is not JSON, empty, incomplete, for another environment or with an app twice", () => {
    assert.match(loadError({ ALLOWLIST: "[" }), /: ALLOWLIST: not JSON/);
    assert.match(loadError({ ALLOWLIST: "[]" }), /: ALLOWLIST: expected at least one entry/);
    const incomplete = { ...ENTRY, target: { ...TARGET, cluster: "" } };
    assert.match(
      loadError({ ALLOWLIST: JSON.stringify([incomplete]) }),
      /: ALLOWLIST\.0\.target\.cluster: cluster is required/,
    );
    const stg = { ...ENTRY, environment: "stg" };
    assert.match(
      loadError({ ALLOWLIST: JSON.stringify([ENTRY, stg]) }),
      /: ALLOWLIST\.1\.environment: stg, but DEPLOY_ENVIRONMENT is lmn/,
    );
    assert.match(
      loadError({ ALLOWLIST: JSON.stringify([ENTRY, ENTRY]) }),
      /: ALLOWLIST\.1\.app: proxy-router has more than one entry/,
    );
  });

  it("checks the configuration at cold start: the handler is not created with a bad variable", () => {
    assert.throws(
      () => createHandler(environmentOf({ LEASE_MINUTES: undefined })),
      /^Error: deploy invoker configuration: LEASE_MINUTES is not set$/,
    );
  });

  it("writes the environment the program sets on the function, checked as the invoker reads it", () => {
    const config = loadInvokerConfig(environmentOf());
    const env = invokerEnvironment(config);
    assert.deepEqual(Object.keys(env).sort(), Object.values(INVOKER_VARIABLES).sort());
    assert.deepEqual(loadInvokerConfig(env), config);
    assert.throws(() => invokerEnvironment({ ...config, leaseMinutes: 10 }), /LEASE_MINUTES: 10 must be longer than/);
  });

  it("refuses an environment over Lambda's 4 KB", () => {
    const config = loadInvokerConfig(environmentOf());
    const many = Array.from({ length: 12 }, (_, i) => ({ ...ENTRY, app: `app-${i}` }));
    assert.throws(
      () => invokerEnvironment({ ...config, allowlist: many }),
      new RegExp(`the environment variables take [0-9]+ bytes, over Lambda's ${LAMBDA_ENVIRONMENT_LIMIT_BYTES}`),
    );
  });
});

describe("deploy invoker registry", () => {
  beforeEach(() => {
    resetAws();
    mocks.ssm.on(GetParameterCommand, { Name: MM_PARAMETER }).resolves({ Parameter: { Value: "market-maker-v1.0.0" } });
    mocks.ssm
      .on(GetParameterCommand, { Name: TARGET.tagParameter })
      .resolves({ Parameter: { Value: "proxy-router-v1.4.0" } });
  });

  const mm = (over: Record<string, unknown> = {}) =>
    request({ app: "market-maker", imageTag: "market-maker-v1.1.0", ...over });

  it("names an ECR repository by account, region and name; anything else is another registry", () => {
    assert.deepEqual(ecrRepository(ECR_REPOSITORY), {
      registryId: "111122223333",
      region: "us-east-1",
      repositoryName: "market-maker",
    });
    assert.deepEqual(
      ecrRepository("111122223333.dkr.ecr.eu-west-1.amazonaws.com/team/app")?.repositoryName,
      "team/app",
    );
    assert.equal(ecrRepository("ghcr.io/lumerin-protocol/proxy-router"), undefined);
    assert.equal(ecrRepository("111122223333.dkr.ecr.us-east-1.amazonaws.com.evil.io/x"), undefined);
  });

  it("ECR, tag requested: deploys the digest the tag names now", async () => {
    mocks.ecr
      .on(DescribeImagesCommand)
      .resolves({ imageDetails: [{ imageDigest: DIGEST, imageTags: ["market-maker-v1.1.0"] }] });
    const response = await (await invoker())(await mm());
    assert.equal(response.decision, "started", JSON.stringify(response));
    assert.deepEqual(mocks.ecr.commandCalls(DescribeImagesCommand)[0].args[0].input, {
      registryId: "111122223333",
      repositoryName: "market-maker",
      imageIds: [{ imageTag: "market-maker-v1.1.0" }],
    });
    const input = sentInput();
    assert.equal(input.image, `${ECR_REPOSITORY}@${DIGEST}`);
    assert.equal(input.imageTag, "market-maker-v1.1.0");
  });

  it("ECR, digest requested: deploys that digest, recording the release tag it carries", async () => {
    mocks.ecr
      .on(DescribeImagesCommand)
      .resolves({ imageDetails: [{ imageDigest: DIGEST, imageTags: ["latest", "market-maker-v1.1.0"] }] });
    const response = await (await invoker())(await mm({ imageTag: undefined, imageDigest: DIGEST }));
    assert.equal(response.decision, "started", JSON.stringify(response));
    assert.deepEqual(
      mocks.ecr.commandCalls(DescribeImagesCommand).map((c) => c.args[0].input),
      [{ registryId: "111122223333", repositoryName: "market-maker", imageIds: [{ imageDigest: DIGEST }] }],
    );
    const input = sentInput();
    assert.equal(input.image, `${ECR_REPOSITORY}@${DIGEST}`);
    assert.equal(input.imageTag, "market-maker-v1.1.0");
  });

  it("ECR: a tag or digest the repository does not have, or no repository, denies", async () => {
    const handler = await invoker();
    mocks.ecr
      .on(DescribeImagesCommand)
      .rejects(new ImageNotFoundException({ message: "no image", $metadata: { httpStatusCode: 400 } }));
    const noTag = await handler(await mm());
    assert.equal(noTag.reason, `imageTag market-maker-v1.1.0 is not in ${ECR_REPOSITORY}`);
    const noDigest = await handler(await mm({ imageTag: undefined, imageDigest: OTHER_DIGEST }));
    assert.match(noDigest.reason ?? "", /^imageDigest sha256:c+d.* carries no release tag of lmn/);
    mocks.ecr
      .on(DescribeImagesCommand)
      .rejects(new RepositoryNotFoundException({ message: "no repo", $metadata: { httpStatusCode: 400 } }));
    const noRepo = await handler(await mm());
    assert.equal(noRepo.reason, `image repository ${ECR_REPOSITORY} does not exist`);
    for (const r of [noTag, noDigest, noRepo]) assert.equal(r.decision, "denied");
    assert.deepEqual(mocks.sfn.commandCalls(StartExecutionCommand), []);
  });

  it("ECR: a throttled or refused DescribeImages fails the invocation; nothing is started", async () => {
    mocks.ecr.on(DescribeImagesCommand).rejects(awsError("ThrottlingException", 400, "slow down"));
    await assert.rejects((await invoker())(await mm()), {
      name: "InvokerFailure",
      message: `ECR DescribeImages on ${ECR_REPOSITORY} failed (ThrottlingException: slow down); the request was not decided`,
    });
    assert.deepEqual(mocks.sfn.commandCalls(StartExecutionCommand), []);
  });

  it("another registry (ghcr.io): a tag is looked up as docker pull does (401, anonymous token, manifest) and deployed by its digest; a digest denies", async () => {
    const ghcr = fakeGhcr();
    const handler = await invoker(environmentOf(), { oci: new OciRegistry({ fetch: ghcr.fetch }) });
    const byTag = await handler(await request());
    assert.equal(byTag.decision, "started");
    assert.equal(sentInput().image, `ghcr.io/lumerin-protocol/proxy-router@${ghcrDigest("proxy-router-v1.5.0")}`);
    assert.deepEqual(ghcr.calls, [
      {
        method: "HEAD",
        url: "https://ghcr.io/v2/lumerin-protocol/proxy-router/manifests/proxy-router-v1.5.0",
        authorized: false,
      },
      {
        method: "GET",
        url: "https://ghcr.io/token?service=ghcr.io&scope=repository%3Alumerin-protocol%2Fproxy-router%3Apull",
        authorized: false,
      },
      {
        method: "HEAD",
        url: "https://ghcr.io/v2/lumerin-protocol/proxy-router/manifests/proxy-router-v1.5.0",
        authorized: true,
      },
    ]);
    const byDigest = await handler(
      await request({ imageTag: undefined, imageDigest: DIGEST, requestId: "33333333-3333-4333-8333-333333333333" }),
    );
    assert.equal(byDigest.decision, "denied");
    assert.match(
      byDigest.reason ?? "",
      /^imageDigest: ghcr\.io\/lumerin-protocol\/proxy-router is not an ECR repository, .*name the release tag \(imageTag\) instead/,
    );
    assert.deepEqual(mocks.ecr.commandCalls(DescribeImagesCommand), [], "ECR is never asked about another registry");
  });

  it("another registry: a tag it does not have, a private image and a registry error deny or fail, and start nothing", async () => {
    const missing = await (
      await invoker(environmentOf(), { oci: new OciRegistry({ fetch: fakeGhcr([]).fetch }) })
    )(await request());
    assert.equal(missing.decision, "denied");
    assert.equal(missing.reason, "imageTag proxy-router-v1.5.0 is not in ghcr.io/lumerin-protocol/proxy-router");
    const privateImage = await (
      await invoker(environmentOf(), {
        oci: new OciRegistry({ fetch: fakeGhcr(undefined, { privateImage: true }).fetch }),
      })
    )(await request({ requestId: "44444444-4444-4444-8444-444444444444" }));
    assert.equal(privateImage.decision, "denied");
    assert.match(
      privateImage.reason ?? "",
      /gives no anonymous pull token \(HTTP 403\): only public images can be checked/,
    );
    const broken = await invoker(environmentOf(), {
      oci: new OciRegistry({ fetch: fakeGhcr(undefined, { status: 503 }).fetch }),
    });
    await assert.rejects(broken(await request({ requestId: "55555555-5555-4555-8555-555555555555" })), {
      name: "InvokerFailure",
      message: /manifests\/proxy-router-v1\.5\.0 answered HTTP 503; the request was not decided/,
    });
    assert.deepEqual(mocks.sfn.commandCalls(StartExecutionCommand), []);
  });
});

describe("deploy invoker recorded tags", () => {
  beforeEach(() => {
    resetAws();
    mocks.ssm
      .on(GetParameterCommand, { Name: TARGET.tagParameter })
      .resolves({ Parameter: { Value: "proxy-router-v1.4.0" } });
  });

  it("a rollback to a tag on no page of the history is denied", async () => {
    mocks.ssm
      .on(GetParameterHistoryCommand)
      .callsFake(async (input) =>
        input.NextToken === undefined
          ? { Parameters: [{ Value: "proxy-router-v1.3.0" }], NextToken: "next" }
          : { Parameters: [{ Value: "proxy-router-v1.4.0" }] },
      );
    const response = await (await invoker())(await request({ imageTag: "proxy-router-v1.2.0", rollback: true }));
    assert.deepEqual(response, {
      decision: "denied",
      requestId: REQUEST_ID,
      reason: "rollback to proxy-router-v1.2.0 refused: it was never recorded as deployed to proxy-router in lmn",
      logGroups: [...LOG_GROUPS],
    });
    assert.equal(mocks.ssm.commandCalls(GetParameterHistoryCommand).length, 2, "every page was read");
  });

  it("a backward version without rollback is denied on the running tag alone", async () => {
    const response = await (await invoker())(await request({ imageTag: "proxy-router-v1.3.0" }));
    assert.match(response.reason ?? "", /^proxy-router-v1\.3\.0 is older than the running proxy-router-v1\.4\.0/);
  });

  it("a refused history read fails the invocation; nothing is started", async () => {
    mocks.ssm.on(GetParameterHistoryCommand).rejects(awsError("AccessDeniedException", 400, "no"));
    await assert.rejects((await invoker())(await request({ imageTag: "proxy-router-v1.3.0", rollback: true })), {
      name: "InvokerFailure",
      message:
        "SSM GetParameterHistory on /lmn/proxy-router/image-tag failed (AccessDeniedException: no); the request was not decided",
    });
    assert.deepEqual(mocks.sfn.commandCalls(StartExecutionCommand), []);
  });
});
