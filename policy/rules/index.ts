/** Every rule of the pack, in report order. */
import { DATA_SAFETY_RULES } from "./data-safety";
import { ENCRYPTION_LOGGING_RULES } from "./encryption-logging";
import { LEAST_PRIVILEGE_RULES } from "./least-privilege";
import type { Rule } from "./model";
import { NETWORK_RULES } from "./network";
import { RESOURCE_POLICY_RULES } from "./resource-policies";
import { SECRET_RULES } from "./secrets";

export const RULES: readonly Rule[] = [
  ...LEAST_PRIVILEGE_RULES,
  ...RESOURCE_POLICY_RULES,
  ...NETWORK_RULES,
  ...SECRET_RULES,
  ...ENCRYPTION_LOGGING_RULES,
  ...DATA_SAFETY_RULES,
];
