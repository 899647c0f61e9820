/**
 * The invoker Lambda's entry (handler `index.handler` of the bundle): its
 * configuration is read and checked when the function starts.
 */
import { createHandler } from "./handler";

export const handler = createHandler(process.env);
