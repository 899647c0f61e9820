/**
 * The policy pack owns the list of what a secret looks like (it must stay
 * self-contained to be published); config validation uses the same list.
 */
export { isSecretLookingName, secretLookingValue } from "../policy/rules/secret-patterns";
