import type { Experiment, Project } from "@labbook/core";
import { fieldValue, parseField } from "./filter-expression.js";
import { textWidth as width } from "./text-width.js";

/** How a table is drawn: box-drawing lines (terminal), ASCII lines, or plain aligned columns (pipes, files). */
export type TableStyle = "box" | "ascii" | "plain";

/** Line characters: horizontal, vertical, and the corners/joints top (left, mid, right), middle, bottom. */
const LINES = {
  box: { h: "─", v: "│", top: ["┌", "┬", "┐"], mid: ["├", "┼", "┤"], bottom: ["└", "┴", "┘"] },
  ascii: { h: "-", v: "|", top: ["+", "+", "+"], mid: ["+", "+", "+"], bottom: ["+", "+", "+"] },
} as const;

/** One value as table text: numbers to 4 significant digits, lists joined with ", ", objects as JSON. */
export function formatCell(value: unknown): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : value.toPrecision(4).replace(/\.?0+$/, "");
  if (Array.isArray(value)) return value.map((v) => (typeof v === "object" && v !== null ? JSON.stringify(v) : String(v))).join(", ");
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

export interface GridOptions {
  style?: TableStyle | undefined;
  /** The widest a line may be (a terminal's columns): the widest columns are cut, with "…", to fit. */
  maxWidth?: number | undefined;
  /** Called when cells were cut to fit `maxWidth`, so the caller can say how to see them whole. */
  onTruncated?: (() => void) | undefined;
}

/** Columns are never cut narrower than this (or than their header). */
const MIN_COLUMN = 6;

/** The width of a whole line with these column widths. */
function lineWidth(widths: readonly number[], style: TableStyle): number {
  const cells = widths.reduce((a, b) => a + b, 0);
  return style === "plain" ? cells + 2 * (widths.length - 1) : cells + 3 * widths.length + 1;
}

/** Narrow the widest columns, in place, until a line fits `max`; true when any column was narrowed. */
function fitWidths(widths: number[], style: TableStyle, max: number): boolean {
  let narrowed = false;
  while (lineWidth(widths, style) > max) {
    const widest = widths.indexOf(Math.max(...widths));
    if ((widths[widest] as number) <= MIN_COLUMN) break;
    widths[widest] = (widths[widest] as number) - 1;
    narrowed = true;
  }
  return narrowed;
}

/** `text` cut to `max` display columns, ending in "…" when it was cut. */
function truncate(text: string, max: number): string {
  if (width(text) <= max) return text;
  let out = "";
  for (const ch of text) {
    if (width(out + ch) > max - 1) break;
    out += ch;
  }
  return `${out}…`;
}

const SPACES: string[] = [];
/** `n` spaces, made once per length (a table pads tens of thousands of cells to a few widths). */
function spaces(n: number): string {
  let s = SPACES[n];
  if (s === undefined) {
    s = " ".repeat(n);
    SPACES[n] = s;
  }
  return s;
}

/**
 * A table of already formatted cells: "plain" is columns separated by two spaces (pipes, files,
 * grep), "box" and "ascii" add lines around the header and the table. Drawn here rather than with
 * cli-table3, which took 1.5 s for 2000 rows; this takes a few milliseconds. Newlines and tabs in
 * cells are shown as \n and \t so every row stays one line.
 */
export function renderGrid(head: readonly string[], rows: ReadonlyArray<readonly string[]>, options: GridOptions = {}): string {
  const style = options.style ?? "box";
  // Most cells hold no newline or tab: test once, replace only when needed.
  const clean = (cell: string) => (/[\n\t]/.test(cell) ? cell.replace(/\r?\n/g, "\\n").replace(/\t/g, "\\t") : cell);
  let all = [head, ...rows].map((row) => head.map((_, i) => clean(row[i] ?? "")));
  // Each cell's display width, measured once (2000 rows × 46 columns is 92 000 cells).
  let cellWidths = all.map((row) => row.map(width));
  const widths = head.map((_, i) => cellWidths.reduce((max, row) => Math.max(max, row[i] as number), 0));
  if (options.maxWidth !== undefined && fitWidths(widths, style, options.maxWidth)) {
    all = all.map((row) => row.map((cell, i) => truncate(cell, widths[i] as number)));
    cellWidths = all.map((row) => row.map(width));
    options.onTruncated?.();
  }
  const padRow = (row: readonly string[], r: number) => {
    const measured = cellWidths[r] as number[];
    return row.map((cell, i) => cell + spaces(Math.max(0, (widths[i] as number) - (measured[i] as number))));
  };
  if (style === "plain") {
    return all.map((row, r) => padRow(row, r).join("  ").trimEnd()).join("\n");
  }
  const l = LINES[style];
  const rule = ([left, mid, right]: readonly [string, string, string]) => left + widths.map((w) => l.h.repeat(w + 2)).join(mid) + right;
  const line = (row: string[], r: number) => `${l.v} ${padRow(row, r).join(` ${l.v} `)} ${l.v}`;
  const [header, ...body] = all;
  return [rule(l.top), line(header as string[], 0), rule(l.mid), ...body.map((row, r) => line(row, r + 1)), rule(l.bottom)].join("\n");
}

/** Every metric, then every parameter name used by these experiments, as `metrics.x` / `parameters.y` columns. */
export function defaultColumns(experiments: Iterable<Experiment>): string[] {
  const metrics = new Set<string>();
  const parameters = new Set<string>();
  for (const e of experiments) {
    for (const k of Object.keys(e.toRecord().metrics)) metrics.add(k);
    for (const k of Object.keys(e.toRecord().parameters)) parameters.add(k);
  }
  return [...[...metrics].sort().map((k) => `metrics.${k}`), ...[...parameters].sort().map((k) => `parameters.${k}`)];
}

export interface RenderTableOptions {
  /** Columns after short_slug, created_at, author and tags, e.g. ["metrics.auc", "parameters.lr"]. Default: every metric and parameter. */
  columns?: string[] | undefined;
  /** Only these experiments, in this order (default: all of the project's). */
  experiments?: readonly Experiment[] | undefined;
  /** Shorthand for `style: "ascii"`. */
  ascii?: boolean | undefined;
  style?: TableStyle | undefined;
  /** The widest a line may be (a terminal's columns); wider cells are cut with "…". */
  maxWidth?: number | undefined;
  /** Called when cells were cut to fit `maxWidth`. */
  onTruncated?: (() => void) | undefined;
}

/**
 * A text table of a project's experiments: short slug, created, author, tags, then every metric and
 * parameter (or the `columns` you name, e.g. ["metrics.auc", "parameters.lr"]).
 */
export function renderTable(project: Project, options: RenderTableOptions = {}): string {
  const { head, rows } = tableCells(project, options);
  return renderGrid(head, rows, { style: options.style ?? (options.ascii ? "ascii" : "box"), maxWidth: options.maxWidth, onTruncated: options.onTruncated });
}

/** renderTable()'s header and formatted cells, before they are drawn. */
export function tableCells(project: Project, options: Pick<RenderTableOptions, "columns" | "experiments"> = {}): { head: string[]; rows: string[][] } {
  const experiments = options.experiments ?? project.experiments;
  const dynamic = options.columns ?? defaultColumns(experiments);
  const head = ["short_slug", "created_at", "author", "tags", ...dynamic];
  // Default columns are split at the first dot only, so names with spaces or dots still work.
  const paths = head.map((h) => (options.columns || !h.includes(".") ? parseField(h) : [h.slice(0, h.indexOf(".")), h.slice(h.indexOf(".") + 1)]));
  const rows = experiments.map((e) => {
    const record = e.toRecord();
    return paths.map((p) => formatCell(fieldValue(record, p)));
  });
  return { head, rows };
}
