/** Every rule of the pack, in report order. */
import { DATA_SAFETY_RULES } from "./data-safety";
import { LEAST_PRIVILEGE_RULES } from "./least-privilege";
import type { Rule } from "./model";
import { SECRET_RULES } from "./secrets";

export const RULES: readonly Rule[] = [...LEAST_PRIVILEGE_RULES, ...SECRET_RULES, ...DATA_SAFETY_RULES];
