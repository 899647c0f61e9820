/**
 * The pack as the Pulumi CLI runs it (`pulumi preview --policy-pack policy`):
 * started as its own process, spoken to over the engine's analyzer gRPC
 * protocol with Pulumi's own client. Proves the pack loads, registers every rule
 * at the right level, and reports through the CLI path, not only in-process.
 */
import { strict as assert } from "node:assert";
import { ChildProcess, spawn } from "node:child_process";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as services from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import * as messages from "@pulumi/pulumi/proto/analyzer_pb";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import { RULES } from "../policy/rules";
import { REPO_ROOT } from "../tools/plan-stack";
import { committedPlan } from "./support/plan";

const ADVISORY = 0;
const MANDATORY = 1;

interface Diagnostic {
  readonly policy: string;
  readonly level: number;
  readonly message: string;
  readonly urn: string;
}

function resourceMessage<T extends messages.AnalyzeRequest | messages.AnalyzerResource>(
  message: T,
  r: { type: string; name: string; urn: string; props: Record<string, unknown>; protect?: boolean },
): T {
  message.setType(r.type);
  message.setName(r.name);
  message.setUrn(r.urn);
  message.setProperties(Struct.fromJavaScript(JSON.parse(JSON.stringify(r.props))));
  const options = new messages.AnalyzerResourceOptions();
  options.setProtect(r.protect === true);
  message.setOptions(options);
  return message;
}

function diagnostics(response: messages.AnalyzeResponse): Diagnostic[] {
  return response.getDiagnosticsList().map((d) => ({
    policy: d.getPolicyname(),
    level: d.getEnforcementlevel(),
    message: d.getMessage(),
    urn: d.getUrn(),
  }));
}

describe("the policy pack under the CLI's analyzer protocol", function () {
  this.timeout(60_000);
  let pack: ChildProcess;
  let client: services.AnalyzerClient;

  before(async () => {
    pack = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", "index.ts"], {
      cwd: path.join(REPO_ROOT, "policy"),
      stdio: ["ignore", "pipe", "inherit"],
    });
    const port = await new Promise<string>((resolve, reject) => {
      pack.once("exit", (code) => reject(new Error(`the pack exited with ${code} before serving`)));
      pack.stdout?.once("data", (d: Buffer) => resolve(String(d).trim()));
    });
    client = new services.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  });
  after(() => {
    client?.close();
    pack?.kill();
  });

  const call = <Req, Res>(
    method: (req: Req, cb: (err: grpc.ServiceError | null, res: Res) => void) => unknown,
    req: Req,
  ) =>
    new Promise<Res>((resolve, reject) => method.call(client, req, (err, res) => (err ? reject(err) : resolve(res))));
  const analyze = (req: messages.AnalyzeRequest) =>
    call<messages.AnalyzeRequest, messages.AnalyzeResponse>(client.analyze, req);
  const analyzeStack = (req: messages.AnalyzeStackRequest) =>
    call<messages.AnalyzeStackRequest, messages.AnalyzeResponse>(client.analyzeStack, req);

  it("registers every rule, production-only ones twice (mandatory, and -nonprod advisory), plus allowed-exceptions", async () => {
    const info = await call<Empty, messages.AnalyzerInfo>(client.getAnalyzerInfo, new Empty());
    assert.equal(info.getName(), "lumerin-guard");
    const registered = info.getPoliciesList().map((p) => [p.getName(), p.getEnforcementlevel()]);
    const expected = [
      ...RULES.flatMap((r) =>
        r.enforcement === "production-only"
          ? [
              [r.name, MANDATORY],
              [`${r.name}-nonprod`, ADVISORY],
            ]
          : [[r.name, r.enforcement === "mandatory" ? MANDATORY : ADVISORY]],
      ),
      ["allowed-exceptions", ADVISORY],
    ];
    assert.deepEqual(registered, expected);
  });

  it("reports a resource rule: an IAM user is a mandatory violation with the remediation", async () => {
    const req = resourceMessage(new messages.AnalyzeRequest(), {
      type: "aws:iam/user:User",
      name: "ci-bot",
      urn: "urn:pulumi:dev::lumerin-infra::aws:iam/user:User::ci-bot",
      props: { name: "ci-bot" },
    });
    const found = diagnostics(await analyze(req));
    assert.deepEqual(
      found.map((d) => [d.policy, d.level]),
      [["iam-no-users-or-access-keys", MANDATORY]],
    );
    assert.match(found[0].message, /long-lived credential.*OIDC/s);
  });

  it("applies production-only rules by stack: mandatory in lmn, advisory elsewhere", async () => {
    const key = (stack: string) =>
      resourceMessage(new messages.AnalyzeRequest(), {
        type: "aws:kms/key:Key",
        name: "platform-key",
        urn: `urn:pulumi:${stack}::lumerin-infra::lumerin:kms:PlatformKey$aws:kms/key:Key::platform-key`,
        props: { enableKeyRotation: true },
      });
    assert.deepEqual(
      diagnostics(await analyze(key("lmn"))).map((d) => [d.policy, d.level]),
      [["stateful-resources-protected", MANDATORY]],
    );
    assert.deepEqual(
      diagnostics(await analyze(key("dev"))).map((d) => [d.policy, d.level]),
      [["stateful-resources-protected-nonprod", ADVISORY]],
    );
  });

  it("passes the whole lmn stack as the program plans it (resource and stack rules)", async () => {
    const plan = await committedPlan("lmn");
    const custom = plan.resources.filter((r) => r.custom);
    const perResource = await Promise.all(
      custom.map((r) =>
        analyze(resourceMessage(new messages.AnalyzeRequest(), { ...r, props: r.inputs, protect: r.options.protect })),
      ),
    );
    const stackReq = new messages.AnalyzeStackRequest();
    stackReq.setResourcesList(
      custom.map((r) =>
        resourceMessage(new messages.AnalyzerResource(), {
          ...r,
          props: { ...r.outputs, ...r.inputs },
          protect: r.options.protect,
        }),
      ),
    );
    const all = [...perResource.flatMap(diagnostics), ...diagnostics(await analyzeStack(stackReq))];
    assert.deepEqual(
      all.filter((d) => d.level === MANDATORY),
      [],
    );
    // Only the configured exceptions, through the advisory allowed-exceptions policy.
    assert.deepEqual(
      all.map((d) => [d.policy, d.level, d.urn.split("::").pop(), /allowed exception/.test(d.message)]).sort(),
      [
        ["allowed-exceptions", ADVISORY, "deploy-infra-deployer-admin", true],
        ["allowed-exceptions", ADVISORY, "deploy-infra-deployer-admin", true],
        ["allowed-exceptions", ADVISORY, "deploy-infra-deployer-admin", true],
        ["allowed-exceptions", ADVISORY, "deploy-infra-preview-role", true],
        // Chosen by the stack file's adoption switches (docs/adoption-switches.md), and tagged on the resource.
        ["allowed-exceptions", ADVISORY, "futures-notifications-db", true],
        ["allowed-exceptions", ADVISORY, "proxy-router-nlb", true],
        ["allowed-exceptions", ADVISORY, "proxy-router-svc-in-stratum-from-miners", true],
        ["allowed-exceptions", ADVISORY, "proxy-validator-nlb", true],
        ["allowed-exceptions", ADVISORY, "proxy-validator-svc-in-stratum-from-miners", true],
      ],
    );
  });

  it("reports a stack rule across resources: a GitHub-trusted role that can read a secret", async () => {
    const urn = (type: string, name: string) => `urn:pulumi:stg::lumerin-infra::${type}::${name}`;
    const role = {
      type: "aws:iam/role:Role",
      name: "deploy",
      urn: urn("aws:iam/role:Role", "deploy"),
      props: {
        name: "github-actions-proxy-router-deploy-stg",
        assumeRolePolicy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "GitHubStgOnly",
              Effect: "Allow",
              Principal: { Federated: "arn:aws:iam::464450398935:oidc-provider/token.actions.githubusercontent.com" },
              Action: "sts:AssumeRoleWithWebIdentity",
              Condition: {
                StringEquals: {
                  "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                  "token.actions.githubusercontent.com:sub": "repo:Lumerin-protocol/proxy-router:environment:stg",
                },
              },
            },
          ],
        }),
      },
    };
    const policy = {
      type: "aws:iam/rolePolicy:RolePolicy",
      name: "deploy-policy",
      urn: urn("aws:iam/rolePolicy:RolePolicy", "deploy-policy"),
      props: {
        role: "github-actions-proxy-router-deploy-stg",
        policy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "ReadConfig",
              Effect: "Allow",
              Action: ["secretsmanager:GetSecretValue"],
              Resource: ["arn:aws:secretsmanager:us-east-1:464450398935:secret:/proxy-router/stg/config-AbCdEf"],
            },
          ],
        }),
      },
    };
    const req = new messages.AnalyzeStackRequest();
    req.setResourcesList([role, policy].map((r) => resourceMessage(new messages.AnalyzerResource(), r)));
    const found = diagnostics(await analyzeStack(req));
    assert.deepEqual(
      found.map((d) => [d.policy, d.level, d.urn]),
      [["github-roles-read-no-secrets", MANDATORY, policy.urn]],
    );
  });

  it("gives each policy the shared keys and only its own rule's options, with their defaults, in its configSchema", async () => {
    const info = await call<Empty, messages.AnalyzerInfo>(client.getAnalyzerInfo, new Empty());
    const schemaOf = (name: string) => {
      const policy = info.getPoliciesList().find((p) => p.getName() === name);
      return (policy?.getConfigschema()?.getProperties()?.toJavaScript() ?? {}) as Record<
        string,
        { default?: unknown; type?: string }
      >;
    };
    for (const name of ["rds-hardened", "rds-hardened-nonprod"]) {
      const schema = schemaOf(name);
      assert.deepEqual(
        [schema.productionMinimumBackupRetentionDays?.default, schema.minimumBackupRetentionDays?.default],
        [14, 7],
        name,
      );
      assert.deepEqual(schema.productionStacks?.default, ["lmn"]);
      assert.equal(schema.publicIngressPorts, undefined, `${name} has no other rule's options`);
    }
    assert.deepEqual(schemaOf("security-groups-not-open-to-the-world").publicIngressPorts?.default, {
      "proxy-router-*-nlb": [7301],
      "proxy-validator-*-nlb": [7301],
    });
    assert.equal(schemaOf("iam-no-wildcard-actions").productionMinimumBackupRetentionDays, undefined);
  });

  // Last: configuring the pack changes it for every later request.
  it("applies a rule's options from the CLI's policy pack config (Configure), per policy", async () => {
    const db = resourceMessage(new messages.AnalyzeRequest(), {
      type: "aws:rds/instance:Instance",
      name: "db",
      urn: "urn:pulumi:lmn::lumerin-infra::aws:rds/instance:Instance::db",
      props: {
        storageEncrypted: true,
        deletionProtection: true,
        skipFinalSnapshot: false,
        finalSnapshotIdentifier: "db-final",
        backupRetentionPeriod: 14,
        multiAz: true,
        manageMasterUserPassword: true,
      },
      protect: true,
    });
    const hardened = async () => diagnostics(await analyze(db)).filter((d) => d.policy === "rds-hardened");
    assert.deepEqual(await hardened(), []);
    const request = new messages.ConfigureAnalyzerRequest();
    const config = new messages.PolicyConfig();
    config.setEnforcementlevel(MANDATORY);
    config.setProperties(Struct.fromJavaScript({ productionMinimumBackupRetentionDays: 30 }));
    request.getPolicyconfigMap().set("rds-hardened", config);
    await call<messages.ConfigureAnalyzerRequest, Empty>(client.configure, request);
    const found = await hardened();
    assert.deepEqual(
      found.map((d) => d.level),
      [MANDATORY],
    );
    assert.match(found[0].message, /\nbackups kept 14 days \(< 30\)\. /);
  });
});
