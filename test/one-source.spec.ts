/**
 * One source per fact, checked on the source itself: a config field is
 * documented once (its `.describe()`, which the configuration reference is
 * generated from), and modules depend downwards only.
 */
import { strict as assert } from "node:assert";
import { readFileSync, readdirSync } from "node:fs";
import * as path from "node:path";
import * as ts from "typescript";

const ROOT = path.resolve(__dirname, "..");

function sources(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sources(path.join(dir, entry.name))
      : entry.name.endsWith(".ts")
        ? [path.join(dir, entry.name)]
        : [],
  );
}

function parse(file: string): ts.SourceFile {
  return ts.createSourceFile(file, readFileSync(path.join(ROOT, file), "utf8"), ts.ScriptTarget.Latest, true);
}

function walk(node: ts.Node, visit: (node: ts.Node) => void): void {
  visit(node);
  ts.forEachChild(node, (child) => walk(child, visit));
}

/** Schema fields (`name: z....describe("...")`) that also carry a JSDoc comment, as `file: field`. */
export function twiceDocumented(file: string, source: ts.SourceFile = parse(file)): string[] {
  const found: string[] = [];
  walk(source, (node) => {
    if (!ts.isPropertyAssignment(node)) return;
    const init = node.initializer;
    const described =
      ts.isCallExpression(init) &&
      ts.isPropertyAccessExpression(init.expression) &&
      init.expression.name.text === "describe";
    if (described && ts.getJSDocCommentsAndTags(node).some(ts.isJSDoc)) {
      found.push(`${file}: ${node.name.getText(source)}`);
    }
  });
  return found;
}

/** The relative imports (and re-exports) of a file, resolved to repository paths. */
function importsOf(file: string): { readonly target: string; readonly reExport: boolean }[] {
  const source = parse(file);
  return source.statements.flatMap((s) =>
    (ts.isImportDeclaration(s) || ts.isExportDeclaration(s)) &&
    s.moduleSpecifier &&
    ts.isStringLiteral(s.moduleSpecifier) &&
    s.moduleSpecifier.text.startsWith(".")
      ? [{ target: path.join(path.dirname(file), s.moduleSpecifier.text), reExport: ts.isExportDeclaration(s) }]
      : [],
  );
}

/** The longest a constructor or function of the program may be: a reader sees it whole. */
const MAX_LINES = 80;

/** Constructors and functions longer than `max` lines, as `file: name (lines)`. */
export function longFunctions(file: string, max: number, source: ts.SourceFile = parse(file)): string[] {
  const found: string[] = [];
  walk(source, (node) => {
    const named = ts.isConstructorDeclaration(node)
      ? `constructor of ${ts.isClassDeclaration(node.parent) ? node.parent.name?.text : "?"}`
      : ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node)
        ? node.name?.getText(source)
        : undefined;
    if (named === undefined) return;
    const lines =
      source.getLineAndCharacterOfPosition(node.end).line -
      source.getLineAndCharacterOfPosition(node.getStart()).line +
      1;
    if (lines > max) found.push(`${file}: ${named} (${lines} lines)`);
  });
  return found;
}

/** Members of `*Args` interfaces without a doc comment, or optional without `@default`, as `file: Interface.member`. */
export function undocumentedArgs(file: string, source: ts.SourceFile = parse(file)): string[] {
  const found: string[] = [];
  walk(source, (node) => {
    if (!ts.isInterfaceDeclaration(node) || !node.name.text.endsWith("Args")) return;
    for (const member of node.members) {
      if (!ts.isPropertySignature(member)) continue;
      const docs = ts.getJSDocCommentsAndTags(member);
      const name = `${file}: ${node.name.text}.${member.name.getText(source)}`;
      if (docs.length === 0) found.push(`${name} (no doc)`);
      else if (member.questionToken && !docs.some((d) => /@default\b/.test(d.getText(source))))
        found.push(`${name} (optional, no @default)`);
    }
  });
  return found;
}

describe("one source per fact", () => {
  it("documents each config field once, in its .describe() (the configuration reference's source)", () => {
    const files = [...sources("config"), ...sources("lambdas")];
    assert.ok(files.length > 5);
    assert.deepEqual(
      files.flatMap((f) => twiceDocumented(f)),
      [],
    );
  });

  it("finds a field documented twice (the check can fail)", () => {
    const planted = ts.createSourceFile(
      "planted.ts",
      'const S = z.object({\n  /** The port. */\n  port: z.number().describe("The port."),\n  host: z.string().describe("The host."),\n});',
      ts.ScriptTarget.Latest,
      true,
    );
    assert.deepEqual(twiceDocumented("planted.ts", planted), ["planted.ts: port"]);
  });

  it(`reads as named steps: no constructor or function of the program exceeds ${MAX_LINES} lines`, () => {
    const files = ["stack.ts", ...sources("components"), ...sources("lambdas")];
    assert.deepEqual(
      files.flatMap((f) => longFunctions(f, MAX_LINES)),
      [],
    );
  });

  it("finds a constructor that is too long (the check can fail)", () => {
    const body = Array.from({ length: 5 }, (_, i) => `    const v${i} = ${i};`).join("\n");
    const planted = ts.createSourceFile(
      "planted.ts",
      `class Big {\n  constructor() {\n${body}\n  }\n}\nfunction small() {}\n`,
      ts.ScriptTarget.Latest,
      true,
    );
    assert.deepEqual(longFunctions("planted.ts", 6, planted), ["planted.ts: constructor of Big (7 lines)"]);
  });

  it("documents every component arg, each optional one with its @default", () => {
    assert.deepEqual(
      sources("components").flatMap((f) => undocumentedArgs(f)),
      [],
    );
  });

  it("finds an undocumented arg and an optional one without its default (the check can fail)", () => {
    const planted = ts.createSourceFile(
      "planted.ts",
      "interface ThingArgs {\n  /** Its name. */\n  readonly name: string;\n  readonly size: number;\n  /** How many. */\n  readonly count?: number;\n  /** Where. @default here */\n  readonly where?: string;\n}",
      ts.ScriptTarget.Latest,
      true,
    );
    assert.deepEqual(undocumentedArgs("planted.ts", planted), [
      "planted.ts: ThingArgs.size (no doc)",
      "planted.ts: ThingArgs.count (optional, no @default)",
    ]);
  });

  it("keeps lib/ below the program: nothing from config/, components/, tools/ or the stack; from policy/ only a re-export of a list the pack owns", () => {
    const upward = sources("lib").flatMap((file) =>
      importsOf(file)
        .filter(
          ({ target, reExport }) =>
            /^(config|components|tools|stack|index)\b/.test(target) ||
            (/^policy\b/.test(target) && !(reExport && target.startsWith("policy/rules/"))),
        )
        .map(({ target }) => `${file} → ${target}`),
    );
    assert.deepEqual(upward, []);
  });

  it("keeps the policy pack self-contained (it is published on its own): nothing of it imports from outside policy/", () => {
    const outside = sources("policy").flatMap((file) =>
      importsOf(file)
        .filter(({ target }) => !target.startsWith("policy/"))
        .map(({ target }) => `${file} → ${target}`),
    );
    assert.deepEqual(outside, []);
  });
});
