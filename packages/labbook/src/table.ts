import type { Project } from "@labbook/core";
import Table from "cli-table3";

function cell(value: unknown): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : value.toPrecision(4).replace(/\.?0+$/, "");
  if (Array.isArray(value)) return value.join(", ");
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/**
 * A text table of a project's experiments: short slug, created, author, tags, then every metric and
 * parameter (or the `columns` you name, e.g. ["metrics.auc", "parameters.lr"]).
 */
export function renderTable(project: Project, options: { columns?: string[]; ascii?: boolean } = {}): string {
  const rows = project.toRows();
  const dynamic =
    options.columns ??
    [...new Set(rows.flatMap((r) => Object.keys(r).filter((k) => k.startsWith("metrics.") || k.startsWith("parameters."))))].sort((a, b) =>
      a.startsWith("metrics.") === b.startsWith("metrics.") ? a.localeCompare(b) : a.startsWith("metrics.") ? -1 : 1,
    );
  const head = ["short_slug", "created_at", "author", "tags", ...dynamic];
  const table = new Table({
    head,
    style: { head: [], border: [] },
    ...(options.ascii
      ? {
          chars: {
            top: "-",
            "top-mid": "+",
            "top-left": "+",
            "top-right": "+",
            bottom: "-",
            "bottom-mid": "+",
            "bottom-left": "+",
            "bottom-right": "+",
            left: "|",
            "left-mid": "+",
            mid: "-",
            "mid-mid": "+",
            right: "|",
            "right-mid": "+",
            middle: "|",
          },
        }
      : {}),
  });
  for (const row of rows) table.push(head.map((h) => cell((row as Record<string, unknown>)[h])));
  return table.toString();
}
