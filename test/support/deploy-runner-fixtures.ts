/**
 * Recorded-shape ECS responses for the deploy runner's tests: a proxy-router service in dev as
 * DescribeServices and DescribeTaskDefinition return it (ids, statuses, rollout states, dates),
 * and builders for the sequences a deploy goes through.
 */
import type {
  Deployment,
  DescribeServicesCommandOutput,
  DescribeTaskDefinitionCommandOutput,
  Service,
  TaskDefinition,
} from "@aws-sdk/client-ecs";
import type { RunnerInput } from "../../lambdas/deploy-runner/contract";

export const ACCOUNT = "434960487817";
export const CLUSTER = "ecs-proxy-router-dev-use1";
export const SERVICE = "svc-proxy-router-dev-use1";
export const CONTAINER = "proxy-router-container";
export const FAMILY = "tsk-proxy-router";
export const SERVICE_ARN = `arn:aws:ecs:us-east-1:${ACCOUNT}:service/${CLUSTER}/${SERVICE}`;
export const CLUSTER_ARN = `arn:aws:ecs:us-east-1:${ACCOUNT}:cluster/${CLUSTER}`;
export const OLD_TD = `arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/${FAMILY}:41`;
export const NEW_TD = `arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/${FAMILY}:42`;
export const OLD_IMAGE = "ghcr.io/lumerin-protocol/proxy-router:v3.2.0-dev";
export const NEW_IMAGE =
  "ghcr.io/lumerin-protocol/proxy-router@sha256:4f1c3c2f1d7f4e0b8a9c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a";
export const OLD_DEPLOYMENT = "ecs-svc/3482910573829105738";
export const OUR_DEPLOYMENT = "ecs-svc/9917364528193746501";
export const ROLLBACK_DEPLOYMENT = "ecs-svc/5550192837465019283";
export const EXTERNAL_DEPLOYMENT = "ecs-svc/7771928374650192837";
export const START = new Date("2026-12-02T01:00:00.000Z");
export const TABLE = "deploy-runner-dev";

export const INPUT: RunnerInput = {
  requestId: "8d0f6c2e-4b1a-4c3d-9e8f-7a6b5c4d3e2f",
  app: "proxy-router",
  environment: "dev",
  target: {
    cluster: CLUSTER,
    service: SERVICE,
    container: CONTAINER,
    imageRepository: "ghcr.io/lumerin-protocol/proxy-router",
    tagParameter: "/proxy-router/dev/image-tag",
  },
  image: NEW_IMAGE,
  imageTag: "v3.2.1-dev",
  rollback: false,
  deadline: "2026-12-02T01:30:00.000Z",
  lease: { table: TABLE, key: "proxy-router#dev" },
};

/** The running revision, as DescribeTaskDefinition (include TAGS) returns it. */
export function runningTaskDefinition(): DescribeTaskDefinitionCommandOutput {
  const taskDefinition: TaskDefinition = {
    taskDefinitionArn: OLD_TD,
    containerDefinitions: [
      {
        name: CONTAINER,
        image: OLD_IMAGE,
        cpu: 0,
        portMappings: [{ containerPort: 3333, hostPort: 3333, protocol: "tcp", name: "stratum" }],
        essential: true,
        environment: [
          { name: "POOL_ADDRESS", value: "stratum+tcp://pool.example:3333" },
          { name: "WEB_PUBLIC_URL", value: "http://proxy.dev.lumerin.io:8080" },
        ],
        mountPoints: [],
        volumesFrom: [],
        secrets: [
          {
            name: "WALLET_PRIVATE_KEY",
            valueFrom: `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:/proxy-router/dev/config-AbCdEf:WALLET_PRIVATE_KEY::`,
          },
        ],
        readonlyRootFilesystem: true,
        logConfiguration: {
          logDriver: "awslogs",
          options: {
            "awslogs-group": "bedrock-dev-proxy-router-log-group",
            "awslogs-region": "us-east-1",
            "awslogs-stream-prefix": "proxy-router",
          },
        },
        healthCheck: {
          command: ["CMD-SHELL", "wget -q -O- http://localhost:8080/healthcheck"],
          interval: 30,
          retries: 3,
          startPeriod: 60,
          timeout: 5,
        },
        systemControls: [],
      },
    ],
    family: FAMILY,
    taskRoleArn: `arn:aws:iam::${ACCOUNT}:role/proxy-router-dev-task`,
    executionRoleArn: `arn:aws:iam::${ACCOUNT}:role/proxy-router-dev-execution`,
    networkMode: "awsvpc",
    revision: 41,
    volumes: [],
    status: "ACTIVE",
    requiresAttributes: [
      { name: "com.amazonaws.ecs.capability.logging-driver.awslogs" },
      { name: "ecs.capability.execution-role-awslogs" },
      { name: "ecs.capability.secrets.asm.environment-variables" },
      { name: "com.amazonaws.ecs.capability.task-iam-role" },
      { name: "ecs.capability.task-eni" },
    ],
    placementConstraints: [],
    compatibilities: ["EC2", "FARGATE"],
    runtimePlatform: { cpuArchitecture: "X86_64", operatingSystemFamily: "LINUX" },
    requiresCompatibilities: ["FARGATE"],
    cpu: "512",
    memory: "1024",
    registeredAt: new Date("2026-11-20T14:03:11.402Z"),
    registeredBy: `arn:aws:sts::${ACCOUNT}:assumed-role/lumerin-infra-deployer-dev/GitHubActions`,
  };
  return {
    $metadata: { httpStatusCode: 200 },
    taskDefinition,
    tags: [
      { key: "app", value: "proxy-router" },
      { key: "env", value: "dev" },
    ],
  };
}

export function deployment(
  over: Partial<Deployment> & Pick<Deployment, "id" | "status" | "taskDefinition">,
): Deployment {
  return {
    desiredCount: 1,
    pendingCount: 0,
    runningCount: 1,
    failedTasks: 0,
    createdAt: START,
    updatedAt: START,
    launchType: "FARGATE",
    platformVersion: "1.4.0",
    platformFamily: "Linux",
    networkConfiguration: {
      awsvpcConfiguration: {
        subnets: ["subnet-0a1b2c3d4e5f60718"],
        securityGroups: ["sg-0123456789abcdef0"],
        assignPublicIp: "DISABLED",
      },
    },
    rolloutState: "COMPLETED",
    rolloutStateReason: "ECS deployment ecs-svc/3482910573829105738 completed.",
    ...over,
  };
}

export const steady = () =>
  deployment({
    id: OLD_DEPLOYMENT,
    status: "PRIMARY",
    taskDefinition: OLD_TD,
    createdAt: new Date("2026-11-20T14:04:00Z"),
  });

export function service(deployments: Deployment[], over: Partial<Service> = {}): Service {
  const primary = deployments.find((d) => d.status === "PRIMARY");
  return {
    serviceArn: SERVICE_ARN,
    serviceName: SERVICE,
    clusterArn: CLUSTER_ARN,
    status: "ACTIVE",
    desiredCount: 1,
    runningCount: 1,
    pendingCount: 0,
    launchType: "FARGATE",
    platformVersion: "LATEST",
    taskDefinition: primary?.taskDefinition,
    deploymentConfiguration: {
      deploymentCircuitBreaker: { enable: true, rollback: true },
      maximumPercent: 200,
      minimumHealthyPercent: 100,
    },
    deployments,
    events: [],
    createdAt: new Date("2025-03-01T10:00:00Z"),
    schedulingStrategy: "REPLICA",
    deploymentController: { type: "ECS" },
    enableECSManagedTags: true,
    propagateTags: "SERVICE",
    enableExecuteCommand: false,
    ...over,
  };
}

export function described(...deployments: Deployment[]): DescribeServicesCommandOutput {
  return { $metadata: { httpStatusCode: 200 }, services: [service(deployments)], failures: [] };
}

/** A service that is not there: ECS answers with a failure, not an error. */
export function missing(): DescribeServicesCommandOutput {
  return { $metadata: { httpStatusCode: 200 }, services: [], failures: [{ arn: SERVICE_ARN, reason: "MISSING" }] };
}

/** Ours, rolling out: PRIMARY IN_PROGRESS, the old one ACTIVE. */
export const rollingOut = (minutes: number) =>
  described(
    deployment({
      id: OUR_DEPLOYMENT,
      status: "PRIMARY",
      taskDefinition: NEW_TD,
      rolloutState: "IN_PROGRESS",
      rolloutStateReason: "ECS deployment ecs-svc/9917364528193746501 in progress.",
      runningCount: minutes > 1 ? 1 : 0,
      pendingCount: minutes > 1 ? 0 : 1,
      createdAt: START,
      updatedAt: new Date(START.getTime() + minutes * 60_000),
    }),
    deployment({ id: OLD_DEPLOYMENT, status: "ACTIVE", taskDefinition: OLD_TD }),
  );

export const completed = () =>
  described(
    deployment({
      id: OUR_DEPLOYMENT,
      status: "PRIMARY",
      taskDefinition: NEW_TD,
      rolloutState: "COMPLETED",
      rolloutStateReason: "ECS deployment ecs-svc/9917364528193746501 completed.",
    }),
  );

export const failedRollout = () =>
  described(
    deployment({
      id: OUR_DEPLOYMENT,
      status: "PRIMARY",
      taskDefinition: NEW_TD,
      rolloutState: "FAILED",
      rolloutStateReason: "ECS deployment circuit breaker: tasks failed to start.",
      runningCount: 0,
      failedTasks: 3,
    }),
    deployment({ id: OLD_DEPLOYMENT, status: "ACTIVE", taskDefinition: OLD_TD }),
  );

/** The circuit breaker rolled back: a new PRIMARY with the old revision, ours ACTIVE and FAILED. */
export const rolledBack = () =>
  described(
    deployment({
      id: ROLLBACK_DEPLOYMENT,
      status: "PRIMARY",
      taskDefinition: OLD_TD,
      rolloutState: "IN_PROGRESS",
      rolloutStateReason: "ECS deployment ecs-svc/5550192837465019283 in progress.",
    }),
    deployment({
      id: OUR_DEPLOYMENT,
      status: "ACTIVE",
      taskDefinition: NEW_TD,
      rolloutState: "FAILED",
      rolloutStateReason: "ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/5550192837465019283.",
      runningCount: 0,
      failedTasks: 2,
    }),
  );

/** Later: the rollback completed, ours is INACTIVE (its reason no longer mentions a failure). */
export const rolledBackQuietly = () =>
  described(
    deployment({ id: ROLLBACK_DEPLOYMENT, status: "PRIMARY", taskDefinition: OLD_TD, rolloutState: "COMPLETED" }),
    deployment({
      id: OUR_DEPLOYMENT,
      status: "INACTIVE",
      taskDefinition: NEW_TD,
      rolloutState: "COMPLETED",
      rolloutStateReason: "ECS deployment ecs-svc/9917364528193746501 completed.",
      runningCount: 0,
    }),
  );

/** Someone else deployed revision 43 over ours. */
export const externalDeploy = () =>
  described(
    deployment({
      id: EXTERNAL_DEPLOYMENT,
      status: "PRIMARY",
      taskDefinition: `arn:aws:ecs:us-east-1:${ACCOUNT}:task-definition/${FAMILY}:43`,
      rolloutState: "IN_PROGRESS",
    }),
    deployment({ id: OUR_DEPLOYMENT, status: "ACTIVE", taskDefinition: NEW_TD, rolloutState: "IN_PROGRESS" }),
  );

/** UpdateService's response: ours is the new PRIMARY. */
export function updated() {
  return {
    $metadata: { httpStatusCode: 200 },
    service: service([
      deployment({
        id: OUR_DEPLOYMENT,
        status: "PRIMARY",
        taskDefinition: NEW_TD,
        rolloutState: "IN_PROGRESS",
        rolloutStateReason: "ECS deployment ecs-svc/9917364528193746501 in progress.",
        runningCount: 0,
      }),
      deployment({ id: OLD_DEPLOYMENT, status: "ACTIVE", taskDefinition: OLD_TD }),
    ]),
  };
}
