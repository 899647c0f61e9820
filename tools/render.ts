/** Human renderings of a plan: a terminal tree and a pull-request Markdown summary. */
import type { CapturedResource, Plan } from "./harness";

function flags(r: CapturedResource): string {
  const f: string[] = [];
  if (r.options.protect) f.push("protect");
  if (r.options.retainOnDelete) f.push("retainOnDelete");
  if (r.options.deleteBeforeReplace) f.push("deleteBeforeReplace");
  if (r.options.ignoreChanges.length) f.push(`ignoreChanges: ${r.options.ignoreChanges.join(", ")}`);
  if (r.secretInputs.length) f.push(`secret: ${r.secretInputs.join(", ")}`);
  return f.length ? `  [${f.join("; ")}]` : "";
}

function physical(r: CapturedResource): string {
  const name = r.inputs.name ?? r.inputs.family;
  return typeof name === "string" && name !== r.name ? `  (${name})` : "";
}

function children(plan: Plan): Map<string, CapturedResource[]> {
  const map = new Map<string, CapturedResource[]>();
  for (const r of plan.resources) map.set(r.parent, [...(map.get(r.parent) ?? []), r]);
  return map;
}

export function countByType(plan: Plan): [string, number][] {
  const counts = new Map<string, number>();
  for (const r of plan.resources) if (r.custom) counts.set(r.type, (counts.get(r.type) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

interface ImageLine {
  readonly service: string;
  readonly image: string;
  readonly origin: string;
}

function images(plan: Plan): ImageLine[] {
  return Object.entries(plan.outputs).flatMap(([service, value]) => {
    const v = value as { image?: unknown; imageTagOrigin?: unknown } | undefined;
    return v && typeof v.image === "string" ? [{ service, image: v.image, origin: String(v.imageTagOrigin) }] : [];
  });
}

const ORIGIN_TEXT: Readonly<Record<string, string>> = {
  pinned: "pinned in config",
  "latest-release": "newest release for this environment",
  deployed: "kept: the tag a code deploy recorded is newer",
  unresolved: "auto: UNRESOLVED offline (pass --github-api-url to resolve)",
};

export function renderTree(plan: Plan, configFile: string): string {
  const lines: string[] = [];
  const custom = plan.resources.filter((r) => r.custom).length;
  lines.push(
    `Plan of ${plan.project}/${plan.stack} (${configFile}): ${custom} resources in ${plan.resources.length - custom} components`,
  );
  lines.push(...renderBlockers(plan));
  lines.push("");
  lines.push("Images");
  for (const i of images(plan))
    lines.push(`  ${i.service.padEnd(16)} ${i.image}   (${ORIGIN_TEXT[i.origin] ?? i.origin})`);
  lines.push("");
  const todo = operatorToDo(plan);
  if (todo.length > 0) {
    lines.push(
      `Operator to-do: ${todo.length} secret${todo.length === 1 ? "" : "s"} to fill out of band (docs/secrets.md)`,
    );
    for (const t of todo) {
      lines.push(`  ${t.configKey}: pending; ${t.secretName} is created empty and its workload starts nothing`);
      t.steps.forEach((step, i) => lines.push(`    ${i + 1}. ${step}`));
    }
    lines.push("");
  }
  const kids = children(plan);
  const walk = (parent: string, indent: string): void => {
    const list = kids.get(parent) ?? [];
    list.forEach((r, i) => {
      const last = i === list.length - 1;
      lines.push(`${indent}${last ? "└─" : "├─"} ${r.type} ${r.name}${physical(r)}${flags(r)}`);
      walk(r.urn, `${indent}${last ? "   " : "│  "}`);
    });
  };
  const roots = plan.resources.filter((r) => !plan.resources.some((p) => p.urn === r.parent)).map((r) => r.parent);
  for (const root of [...new Set(roots)]) walk(root, "");
  lines.push("");
  lines.push("Resources by type");
  for (const [type, n] of countByType(plan)) lines.push(`  ${String(n).padStart(3)}  ${type}`);
  lines.push("");
  lines.push(...renderViolations(plan));
  return lines.join("\n");
}

/**
 * One-time steps the stack still lacks before its first real `pulumi up` (they do not fail
 * the plan), shown first in the tree; what one withholds (a pending DNS role's records) is listed.
 */
export function renderBlockers(plan: Pick<Plan, "blockers">): string[] {
  if (plan.blockers.length === 0) return [];
  const lines = ["", `Before the first pulumi up: ${plan.blockers.length} missing (docs/deploying.md)`];
  for (const b of plan.blockers) {
    lines.push(`  ✗ ${b.key}`, `      ${b.message}`);
    if (b.withheld?.length)
      lines.push(`      not in this plan meanwhile (${b.withheld.length}): ${b.withheld.join(", ")}`);
  }
  return lines;
}

/** The policy report: every violation with its level, resource and remediation. */
export function renderViolations(plan: Pick<Plan, "violations">): string[] {
  const mandatory = plan.violations.filter((v) => v.level === "mandatory");
  const lines = [
    `Policy lumerin-guard: ${mandatory.length} mandatory, ${plan.violations.length - mandatory.length} advisory`,
  ];
  for (const v of [...mandatory, ...plan.violations.filter((x) => x.level !== "mandatory")]) {
    lines.push(`  ${v.level === "mandatory" ? "✗" : "!"} [${v.level}] ${v.policy}  ${v.urn.split("::").pop()}`);
    lines.push(`      ${v.message}`);
  }
  return lines;
}

interface ToDoLine {
  readonly configKey: string;
  readonly secretName: string;
  readonly steps: readonly string[];
}

/** The stack output `operatorToDo`: the secrets still to be filled out of band. */
function operatorToDo(plan: Pick<Plan, "outputs">): ToDoLine[] {
  const list = plan.outputs.operatorToDo;
  return Array.isArray(list) ? (list as ToDoLine[]) : [];
}

export function renderMarkdown(plan: Plan): string {
  const custom = plan.resources.filter((r) => r.custom);
  const out: string[] = [];
  out.push(`### Offline plan: \`${plan.project}/${plan.stack}\``);
  out.push("");
  out.push(
    `${custom.length} resources. Mandatory policy violations: ${plan.violations.filter((v) => v.level === "mandatory").length}.`,
  );
  out.push("");
  if (plan.blockers.length) {
    out.push(
      `**Before the first \`pulumi up\`: ${plan.blockers.length} missing** ([docs/deploying.md](docs/deploying.md))`,
      "",
    );
    for (const b of plan.blockers) {
      out.push(`- \`${b.key}\`: ${b.message.replace(/\|/g, "\\|")}`);
      if (b.withheld?.length)
        out.push(`  Not in this plan meanwhile: ${b.withheld.map((w) => `\`${w}\``).join(", ")}.`);
    }
    out.push("");
  }
  out.push("| service | image | tag origin |", "|---|---|---|");
  for (const i of images(plan)) out.push(`| ${i.service} | \`${i.image}\` | ${ORIGIN_TEXT[i.origin] ?? i.origin} |`);
  out.push("");
  const todo = operatorToDo(plan);
  if (todo.length) {
    out.push(
      `**Operator to-do:** ${todo.length} secret${todo.length === 1 ? "" : "s"} to fill out of band ([docs/secrets.md](docs/secrets.md)); each workload starts nothing until then.`,
      "",
    );
    for (const t of todo) out.push(`- \`${t.configKey}\`: \`${t.secretName}\``);
    out.push("");
  }
  const guarded = custom.filter((r) => r.options.protect || r.options.ignoreChanges.length);
  if (guarded.length) {
    out.push(
      "<details><summary>Protected and drift-tolerant resources</summary>",
      "",
      "| resource | protect | ignoreChanges |",
      "|---|---|---|",
    );
    for (const r of guarded)
      out.push(
        `| \`${r.type}\` ${r.name} | ${r.options.protect ? "yes" : ""} | ${r.options.ignoreChanges.join(", ")} |`,
      );
    out.push("", "</details>", "");
  }
  out.push("<details><summary>Resources by type</summary>", "", "| type | count |", "|---|---|");
  for (const [type, n] of countByType(plan)) out.push(`| \`${type}\` | ${n} |`);
  out.push("", "</details>", "");
  if (plan.violations.length) {
    out.push("| policy | level | resource | message |", "|---|---|---|---|");
    for (const v of plan.violations)
      out.push(`| ${v.policy} | ${v.level} | \`${v.urn.split("::").pop()}\` | ${v.message.replace(/\|/g, "\\|")} |`);
  }
  return out.join("\n") + "\n";
}
