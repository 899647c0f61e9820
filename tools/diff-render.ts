/** The diff as Markdown for a pull-request comment: the risks first, then every change. */
import type { PlanDiff, ResourceChange, RiskKind } from "./diff-plans";

const RISK_TITLE: Record<RiskKind, string> = {
  "data-loss": "data loss",
  "access-widened": "access widened",
  "exposure-widened": "exposure widened",
  "name-changed": "client-facing name changed",
  "policy-new": "new policy violation",
  "policy-fixed": "policy violation fixed",
};

const MAX_VALUE = 120;

function value(v: unknown): string {
  const text = v === undefined ? "(none)" : typeof v === "string" ? JSON.stringify(v) : JSON.stringify(v);
  return text.length > MAX_VALUE ? `${text.slice(0, MAX_VALUE - 1)}…` : text;
}

/** Markdown inline code, safe for any text (backticks inside are widened around). */
function code(text: string): string {
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((m) => m.length));
  const fence = "`".repeat(longest + 1);
  return `${fence}${longest ? " " : ""}${text}${longest ? " " : ""}${fence}`;
}

const logical = (urn: string) => urn.slice(urn.lastIndexOf("::") + 2);
const shortType = (type: string) =>
  type
    .split(":")
    .slice(1)
    .join(":")
    .replace(/\/[^:]*:/, "/")
    .replace(/^([^/]+)\/(.*)$/, "$1 $2");

/** One line per risk, most serious first; "No changes" when the plans are the same. */
export function renderSummary(diff: PlanDiff): string[] {
  if (diff.changes.length === 0 && diff.risks.length === 0)
    return [`**${diff.stack}**: no changes against ${code(diff.base)}.`];
  const counts = (["create", "update", "replace", "delete"] as const)
    .map((k) => [k, diff.changes.filter((c) => c.change === k).length] as const)
    .filter(([, n]) => n > 0);
  const lines = [
    `**${diff.stack}** against ${code(diff.base)}: ${counts.length ? counts.map(([k, n]) => `${n} to ${k}`).join(", ") : "no resource changes"}.`,
  ];
  if (diff.blocking) lines.push(`- ⛔ **blocked**: a protected stateful resource would be replaced or deleted.`);
  for (const r of diff.risks) lines.push(`- **${RISK_TITLE[r.kind]}**: ${escapeText(r.detail)}`);
  if (diff.risks.length === 0)
    lines.push(
      "- no risk found (no data loss, no access or exposure widened, no client-facing name changed, no new policy violation).",
    );
  return lines;
}

function escapeText(text: string): string {
  return text.replace(/([*_|<>])/g, "\\$1");
}

function changeLine(c: ResourceChange): string {
  const notes: string[] = [];
  if (c.renamed?.from)
    notes.push(
      `same physical resource as deleted ${code(logical(c.renamed.from))}: a logical rename (delete + create; an alias would keep it)`,
    );
  if (c.renamed?.to) notes.push(`created again as ${code(logical(c.renamed.to))}: a logical rename`);
  if (c.baseUrn) notes.push(`was ${code(logical(c.baseUrn))} (alias)`);
  if (c.unpredicted) notes.push("type without force-new facts: replacement not predicted");
  const paths =
    c.change === "replace"
      ? c.reasons.map((r) => `${code(r.path)} ${value(r.before)} → ${value(r.after)}${r.why ? ` (${r.why})` : ""}`)
      : c.details.map((d) => `${code(d.path)} ${value(d.before)} → ${value(d.after)}`);
  const also =
    c.change === "replace"
      ? c.details.filter((d) => !c.reasons.some((r) => r.path === d.path)).map((d) => code(d.path))
      : [];
  const cells = [...paths, ...(also.length ? [`also: ${also.join(", ")}`] : []), ...notes].map((x) =>
    x.replace(/\|/g, "\\|"),
  );
  return `| ${c.change} | ${code(logical(c.urn))} | ${shortType(c.type)} | ${cells.join("<br>") || ""} |`;
}

export function renderMarkdown(diff: PlanDiff): string {
  const lines = [`### Diff of stack \`${diff.stack}\``, "", ...renderSummary(diff), ""];
  if (diff.narrowed.length) {
    lines.push("<details><summary>Access taken away</summary>", "");
    for (const n of diff.narrowed) lines.push(`- ${escapeText(n.detail)}`);
    lines.push("", "</details>", "");
  }
  if (diff.changes.length) {
    lines.push(
      "<details><summary>Every change</summary>",
      "",
      "| change | resource | type | what |",
      "|---|---|---|---|",
    );
    for (const c of diff.changes) lines.push(changeLine(c));
    lines.push("", "</details>", "");
  }
  return lines.join("\n");
}

/** The terminal form: the summary and one line per change. */
export function renderText(diff: PlanDiff): string {
  const lines = renderSummary(diff).map((l) => l.replace(/\*\*/g, "").replace(/\\([*_|<>])/g, "$1"));
  for (const c of diff.changes) {
    const what = c.change === "replace" ? c.reasons.map((r) => r.path).join(", ") : c.paths.join(", ");
    lines.push(
      `  ${c.change.padEnd(7)} ${logical(c.urn)} (${c.type})${what ? `: ${what}` : ""}${c.renamed ? " [logical rename]" : ""}`,
    );
  }
  return lines.join("\n");
}
