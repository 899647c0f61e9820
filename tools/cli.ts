/**
 * The flag handling every command line tool here shares: node's `parseArgs` in strict mode,
 * one usage text, `--help`, and the required flags, with the exit codes the tools document
 * (0 for `--help`, 2 for bad input).
 */
import { type ParseArgsConfig, parseArgs } from "node:util";

type Options = NonNullable<ParseArgsConfig["options"]>;
type Strict<O extends Options> = { args: string[]; options: O; strict: true; allowPositionals: false };
/** The values `parseArgs` gives for these options, typed per flag. */
export type CliValues<O extends Options> = ReturnType<typeof parseArgs<Strict<O>>>["values"];

/** The parsed flags, or the exit code when the command should stop here. */
export type CliParse<O extends Options, R extends string = never> =
  | { readonly values: CliValues<O> & { readonly [K in R]: string }; readonly exit?: undefined }
  | { readonly exit: 0 | 2 };

export interface CliPrint {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

/**
 * Parses `argv` (without node and the script): an unknown or malformed flag prints its error
 * and the usage (exit 2); `--help`, when the options declare it, prints the usage (exit 0);
 * a required flag that is absent or empty is named (exit 2).
 */
export function parseCli<const O extends Options, const R extends keyof O & string = never>(
  argv: readonly string[],
  options: O,
  usage: string,
  required: readonly R[] = [],
  print: CliPrint = { out: console.log, err: console.error },
): CliParse<O, R> {
  let values: CliValues<O>;
  try {
    values = parseArgs<Strict<O>>({ args: [...argv], options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    print.err(`${(err as Error).message}\n${usage}`);
    return { exit: 2 };
  }
  const given = values as Readonly<Record<string, unknown>>;
  if (given.help === true) {
    print.out(usage);
    return { exit: 0 };
  }
  const missing = required.filter((flag) => given[flag] === undefined || given[flag] === "");
  if (missing.length > 0) {
    print.err(
      `${missing.map((flag) => `--${flag}`).join(" and ")} ${missing.length > 1 ? "are" : "is"} required\n${usage}`,
    );
    return { exit: 2 };
  }
  // Every required flag is a string flag that is present: the check above.
  return { values: values as CliValues<O> & { readonly [K in R]: string } };
}
