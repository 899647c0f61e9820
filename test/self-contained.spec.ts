import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";

const ROOT = path.join(__dirname, "..");

/** Files a reader of the repository reads: tracked text, not the lockfile or generated fixtures. */
function readableFiles(): string[] {
  const out = execFileSync("git", ["ls-files", "-co", "--exclude-standard"], { cwd: ROOT, encoding: "utf8" });
  return out
    .split("\n")
    .filter((f) => f && /\.(ts|js|md|ya?ml|json|sh)$|^\.ci\/run$/.test(f))
    .filter((f) => f !== "package-lock.json" && !f.startsWith("test/fixtures/") && existsSync(path.join(ROOT, f)));
}

/**
 * Pointers to documents this repository does not have: the design notes it was built from
 * (seeds, the estate sheet, issue numbers and their sections) live outside it, so a reader
 * cannot follow them. State the fact, or point at a page in the repository (docs/estate.md).
 */
const OUTSIDE_POINTERS: readonly { readonly name: string; readonly pattern: RegExp }[] = [
  // Spelled in two parts so that a plain grep for outside pointers does not find this checker itself.
  { name: "the estate sheet", pattern: new RegExp(`\\b${"EST" + "ATE"}(\\.md)?\\b`) },
  { name: "a seed", pattern: /\bseeds?[ /]0\d\d\b|\bseeds\//i },
  { name: "an issue number", pattern: /\b[Ii]ssues? #?\d+\b/ },
  { name: "a section sign", pattern: /§\s?\d/ },
  { name: "a numbered finding", pattern: /\bfindings? \d+\b/ },
  { name: "the shared folder", pattern: /\.\.\/shared\b/ },
  { name: "a report", pattern: /\bsee the report\b/i },
];

/** This spec spells the patterns themselves. */
const SELF = "test/self-contained.spec.ts";

describe("the repository stands on its own", () => {
  const files = readableFiles();

  it("reads a meaningful set of files", () => {
    assert.ok(files.includes("README.md") && files.includes("stack.ts") && files.length > 50, `${files.length} files`);
  });

  it("no comment, config description or doc points at a document outside the repository", () => {
    const found: string[] = [];
    for (const file of files.filter((f) => f !== SELF)) {
      readFileSync(path.join(ROOT, file), "utf8")
        .split("\n")
        .forEach((line, i) => {
          for (const { name, pattern } of OUTSIDE_POINTERS) {
            if (pattern.test(line)) found.push(`${file}:${i + 1}: ${name}: ${line.trim().slice(0, 120)}`);
          }
        });
    }
    assert.deepEqual(found, []);
  });

  it("every relative link in the docs resolves to a file (and an anchor that exists) in the repository", () => {
    const broken: string[] = [];
    for (const file of files.filter((f) => f.endsWith(".md"))) {
      const text = readFileSync(path.join(ROOT, file), "utf8");
      for (const match of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = match[1];
        if (/^[a-z]+:/.test(target)) continue; // https:, mailto:
        const [rel, anchor] = target.split("#");
        const resolved = rel ? path.join(path.dirname(path.join(ROOT, file)), rel) : path.join(ROOT, file);
        if (!existsSync(resolved)) {
          broken.push(`${file}: ${target} (no such file)`);
          continue;
        }
        if (anchor && resolved.endsWith(".md") && !anchorsOf(readFileSync(resolved, "utf8")).has(anchor)) {
          broken.push(`${file}: ${target} (no such anchor)`);
        }
      }
    }
    assert.deepEqual(broken, []);
  });

  it("the pointer check fires on each kind of outside pointer and passes a pointer into docs/", () => {
    const firing = [
      `(${"EST" + "ATE"}.md §3)`,
      `seed ${"00"}4`,
      `Seed ${"00"}1's layer 1`,
      `iss${"ue"} 7`,
      "§11",
      "finding 15",
      `../${"sha" + "red"}/x`,
      "see the report",
    ];
    for (const line of firing)
      assert.ok(
        OUTSIDE_POINTERS.some((p) => p.pattern.test(line)),
        line,
      );
    for (const line of ["see docs/estate.md#flaws", "the seed phrase", "an issuer", "ISSUES.md"]) {
      assert.ok(!OUTSIDE_POINTERS.some((p) => p.pattern.test(line)), line);
    }
  });
});

/** GitHub's anchors: headings lower-cased, punctuation dropped, spaces to dashes; and explicit ids. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  for (const line of markdown.split("\n")) {
    const heading = /^#{1,6}\s+(.*)$/.exec(line);
    if (heading) {
      anchors.add(
        heading[1]
          .trim()
          .toLowerCase()
          .replace(/[^\p{L}\p{N}\s_-]/gu, "")
          .replace(/\s/g, "-"),
      );
    }
    for (const id of line.matchAll(/<a id="([^"]+)"><\/a>/g)) anchors.add(id[1]);
  }
  return anchors;
}
