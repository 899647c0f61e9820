/**
 * The policy pack owns the list of stateful resource types and the protected databases' backup
 * threshold (it must stay self-contained to be published); the force-new facts, `npm run diff`,
 * the configuration and the components use the same facts.
 */
export { PROTECTED_BACKUP_RETENTION_DAYS, STATEFUL_TYPES } from "../policy/rules/stateful-types";
