/**
 * The policy pack owns the list of stateful resource types (it must stay
 * self-contained to be published); the force-new facts and `npm run diff` use the same list.
 */
export { STATEFUL_TYPES } from "../policy/rules/stateful-types";
