import type { Experiment, Project } from "@labbook/core";
import Table from "cli-table3";
import stringWidth from "string-width";
import { fieldValue, parseField } from "./filter-expression.js";

/** How a table is drawn: box-drawing lines (terminal), ASCII lines, or plain aligned columns (pipes, files). */
export type TableStyle = "box" | "ascii" | "plain";

const ASCII_CHARS = {
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
};

/** One value as table text: numbers to 4 significant digits, lists joined with ", ", objects as JSON. */
export function formatCell(value: unknown): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : value.toPrecision(4).replace(/\.?0+$/, "");
  if (Array.isArray(value)) return value.map((v) => (typeof v === "object" && v !== null ? JSON.stringify(v) : String(v))).join(", ");
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/**
 * Aligned columns separated by two spaces, no lines: what pipes, files and `grep` want. Written
 * here rather than with cli-table3 because cli-table3 takes over a second for 2000 rows, and this
 * is the path scripts use. Newlines and tabs inside cells are shown as \n and \t so every row
 * stays one line.
 */
/** Display width; printable ASCII (nearly every cell) skips string-width's grapheme segmentation. */
function width(text: string): number {
  return /^[\x20-\x7e]*$/.test(text) ? text.length : stringWidth(text);
}

function renderPlain(head: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const clean = (cell: string) => cell.replace(/\r?\n/g, "\\n").replace(/\t/g, "\\t");
  const all = [head, ...rows].map((row) => head.map((_, i) => clean(row[i] ?? "")));
  const widths = head.map((_, i) => Math.max(...all.map((row) => width(row[i] as string))));
  return all
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell + " ".repeat((widths[i] as number) - width(cell) + 2)))
        .join("")
        .trimEnd(),
    )
    .join("\n");
}

/** A table of already formatted cells in the given style. */
export function renderGrid(head: readonly string[], rows: ReadonlyArray<readonly string[]>, options: { style?: TableStyle } = {}): string {
  const style = options.style ?? "box";
  if (style === "plain") return renderPlain(head, rows);
  const table = new Table({
    head: [...head],
    style: { head: [], border: [] },
    ...(style === "ascii" ? { chars: ASCII_CHARS } : {}),
  });
  for (const row of rows) table.push([...row]);
  return table.toString();
}

/** Every metric, then every parameter name used by these experiments, as `metrics.x` / `parameters.y` columns. */
export function defaultColumns(experiments: Iterable<Experiment>): string[] {
  const metrics = new Set<string>();
  const parameters = new Set<string>();
  for (const e of experiments) {
    for (const k of Object.keys(e.record.metrics)) metrics.add(k);
    for (const k of Object.keys(e.record.parameters)) parameters.add(k);
  }
  return [...[...metrics].sort().map((k) => `metrics.${k}`), ...[...parameters].sort().map((k) => `parameters.${k}`)];
}

export interface RenderTableOptions {
  /** Columns after short_slug, created_at, author and tags, e.g. ["metrics.auc", "parameters.lr"]. Default: every metric and parameter. */
  columns?: string[];
  /** Only these experiments, in this order (default: all of the project's). */
  experiments?: readonly Experiment[];
  /** Shorthand for `style: "ascii"`. */
  ascii?: boolean;
  style?: TableStyle;
}

/**
 * A text table of a project's experiments: short slug, created, author, tags, then every metric and
 * parameter (or the `columns` you name, e.g. ["metrics.auc", "parameters.lr"]).
 */
export function renderTable(project: Project, options: RenderTableOptions = {}): string {
  const experiments = options.experiments ?? project.experiments;
  const dynamic = options.columns ?? defaultColumns(experiments);
  const head = ["short_slug", "created_at", "author", "tags", ...dynamic];
  // Default columns are split at the first dot only, so names with spaces or dots still work.
  const paths = head.map((h) => (options.columns || !h.includes(".") ? parseField(h) : [h.slice(0, h.indexOf(".")), h.slice(h.indexOf(".") + 1)]));
  const rows = experiments.map((e) => paths.map((p) => formatCell(fieldValue(e.record, p))));
  return renderGrid(head, rows, { style: options.style ?? (options.ascii ? "ascii" : "box") });
}
