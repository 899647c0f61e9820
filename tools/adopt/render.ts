/** The adoption report for people: a terminal summary and a pull-request Markdown page; and the scrubber every output passes. */
import type { AdoptReport, Change } from "./adopt";

export const REDACTED = "[redacted]";

/**
 * Replaces every value the states hold in a sensitive place. Every text the tool writes
 * (stdout, stderr, the JSON and Markdown reports, the import file) goes through it, so a
 * secret cannot leak through a path the report's own masking did not foresee.
 */
export function scrubber(secrets: ReadonlySet<string>): (text: string) => string {
  const variants = new Set<string>();
  for (const s of secrets) {
    variants.add(s);
    const json = JSON.stringify(s).slice(1, -1); // as it appears inside a JSON string
    if (json !== s) variants.add(json);
  }
  const ordered = [...variants].sort((a, b) => b.length - a.length);
  return (text) => {
    let out = text;
    for (const s of ordered) if (out.includes(s)) out = out.split(s).join(REDACTED);
    return out;
  };
}

/** A value on one line, cut at 120 characters. */
export function show(value: unknown): string {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text === undefined ? "(none)" : text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

function counts(report: AdoptReport): string {
  const replaced = report.matches.filter((m) => m.changes.some((c) => c.effect === "replace")).length;
  const updated = report.matches.filter(
    (m) => m.changes.length > 0 && !m.changes.some((c) => c.effect === "replace"),
  ).length;
  const outside = report.plannedOnly.filter((p) => p.status !== "created").length;
  return [
    `${report.matches.length} matched (${replaced} would be replaced, ${updated} updated, ${report.matches.length - replaced - updated} unchanged)`,
    `${report.unmatchedLive.length} live resources not adopted`,
    `${report.plannedOnly.length} planned only (${outside} of them exist, or may exist, outside Terraform)`,
    `${report.blockers.length} blockers`,
  ].join(", ");
}

function change(c: Change): string {
  const values = c.sensitive ? "(sensitive: values not shown)" : `${show(c.live)} → ${show(c.planned)}`;
  return `${c.effect.toUpperCase()} ${c.path}: ${values}${c.why ? ` [${c.why}]` : ""}`;
}

export function renderSummary(report: AdoptReport): string {
  const lines: string[] = [];
  lines.push(`Adoption of the Terraform estate by stack ${report.stack}`);
  for (const s of report.sources) lines.push(`  from ${s.file} (lineage ${s.lineage}, serial ${s.serial})`);
  lines.push(`  ${counts(report)}`);
  const replaced = report.matches.filter((m) => m.changes.some((c) => c.effect === "replace"));
  if (replaced.length) {
    lines.push("", "Replacements");
    for (const m of replaced) {
      lines.push(`  ${m.address} → ${m.name} (${m.type})`);
      for (const c of m.changes.filter((x) => x.effect === "replace")) lines.push(`    ${change(c)}`);
    }
  }
  const outside = report.plannedOnly.filter((p) => p.status !== "created");
  if (outside.length) {
    lines.push("", "Exists outside Terraform (before pulumi up)");
    for (const p of outside) lines.push(`  ${p.name} (${p.type}): ${p.note}`);
  }
  const byAction = new Map<string, string[]>();
  for (const u of report.unmatchedLive)
    byAction.set(u.action, [...(byAction.get(u.action) ?? []), `${u.address}: ${u.reason}`]);
  for (const [action, items] of byAction) {
    lines.push("", `Live, not adopted: ${action}`);
    for (const item of items) lines.push(`  ${item}`);
  }
  if (report.warnings.length) {
    lines.push("", "Check before importing");
    for (const w of report.warnings) lines.push(`  ${w.address}: ${w.message}`);
  }
  lines.push("");
  if (report.blockers.length) {
    lines.push(`BLOCKED: ${report.blockers.length} problem(s) stop a safe adoption`);
    report.blockers.forEach((b, i) => lines.push(`  ${i + 1}. ${b.problem}`, `     fix: ${b.fix}`));
  } else lines.push("OK: the stack adopts everything it plans without replacing anything stateful or client-facing");
  return lines.join("\n");
}

const cell = (text: string): string => text.replace(/\|/g, "\\|").replace(/\n/g, " ");

export function renderReportMarkdown(report: AdoptReport): string {
  const out: string[] = [];
  out.push(`## Adoption of the Terraform estate by stack \`${report.stack}\``, "");
  out.push(
    report.blockers.length
      ? `**Blocked**: ${report.blockers.length} problem(s) stop a safe adoption.`
      : "**Ready**: nothing stateful or client-facing is replaced.",
    "",
  );
  out.push(counts(report), "");
  out.push("| state file | lineage | serial |", "|---|---|---|");
  for (const s of report.sources) out.push(`| \`${cell(s.file)}\` | \`${s.lineage}\` | ${s.serial} |`);
  if (report.blockers.length) {
    out.push("", "### Blockers", "");
    report.blockers.forEach((b, i) => out.push(`${i + 1}. ${cell(b.problem)}  `, `   **Fix:** ${cell(b.fix)}`));
  }
  if (report.warnings.length) {
    out.push("", "### Check before importing", "");
    for (const w of report.warnings) out.push(`- \`${cell(w.address)}\`: ${cell(w.message)}`);
  }
  out.push("", "### Matches", "", "| Terraform | Pulumi | import id | changes |", "|---|---|---|---|");
  for (const m of report.matches) {
    const changes = m.changes.length ? m.changes.map((c) => cell(change(c))).join("<br>") : "none";
    out.push(
      `| \`${cell(m.address)}\` | \`${cell(m.name)}\` (${m.type.split(":").pop()}) | \`${cell(m.importId)}\` | ${changes} |`,
    );
  }
  out.push("", "### Planned only", "", "| Pulumi | status | note |", "|---|---|---|");
  for (const p of report.plannedOnly)
    out.push(`| \`${cell(p.name)}\` (${p.type.split(":").pop()}) | ${p.status} | ${cell(p.note)} |`);
  out.push("", "### Live, not adopted", "", "| Terraform | action | reason |", "|---|---|---|");
  for (const u of report.unmatchedLive)
    out.push(`| \`${cell(u.address)}\` (${cell(u.file)}) | ${u.action} | ${cell(u.reason)} |`);
  return out.join("\n") + "\n";
}
