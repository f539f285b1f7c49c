import type { Row, Value } from "./api.js";

/** A cell as text: numbers with up to 6 significant digits, lists and objects as compact JSON. */
export function formatValue(value: unknown): string {
  if (value === undefined) return "";
  if (value === null) return "null";
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : Number(value.toPrecision(6)).toString();
  if (typeof value === "string") return value;
  return JSON.stringify(value);
}

export function formatBytes(size: number | undefined): string {
  if (size === undefined) return "";
  if (size < 1024) return `${size} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = size / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}

/** Column keys: "name", "author", "created_at", "tags", "tests", "artifacts", "metrics.<m>", "parameters.<p>". */
export function cellValue(row: Row, key: string): unknown {
  if (key.startsWith("metrics.")) return row.metrics[key.slice(8)];
  if (key.startsWith("parameters.")) return row.parameters[key.slice(11)];
  return (row as unknown as Record<string, unknown>)[key];
}

function rank(v: unknown): number {
  if (v === undefined || v === null) return 3;
  if (typeof v === "number") return 0;
  if (typeof v === "string" && (v === "NaN" || v === "Infinity" || v === "-Infinity")) return 2;
  return 1;
}

/** Sort as `labbook ls --sort` does: numbers, then other values, then NaN; absent values always last; ties keep file order. */
export function sortRows(rows: Row[], key: string, descending: boolean): Row[] {
  const keyed = rows.map((row, index) => ({ row, index, v: cellValue(row, key) }));
  keyed.sort((x, y) => {
    const rx = rank(x.v);
    const ry = rank(y.v);
    if (rx !== ry) return rx - ry;
    if (rx < 2) {
      const a = rx === 0 ? (x.v as number) : typeof x.v === "string" ? x.v : JSON.stringify(x.v);
      const b = ry === 0 ? (y.v as number) : typeof y.v === "string" ? y.v : JSON.stringify(y.v);
      if (a < b) return descending ? 1 : -1;
      if (a > b) return descending ? -1 : 1;
    }
    return x.index - y.index;
  });
  return keyed.map((k) => k.row);
}

export function isNumber(v: unknown): v is number {
  return typeof v === "number" && Number.isFinite(v);
}

/** Same value (deep) for the compare table's difference marks. */
export function sameValue(a: Value | undefined, b: Value | undefined): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * A small RFC 4180 CSV reader for the artifact preview (quoted fields, doubled quotes, CRLF);
 * written here because a preview needs no more and a library would add to the page's weight.
 */
export function parseCsv(text: string, maxRows: number): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      row.push(field);
      field = "";
    } else if (ch === "\n" || ch === "\r") {
      if (ch === "\r" && text[i + 1] === "\n") i++;
      row.push(field);
      rows.push(row);
      if (rows.length >= maxRows) return rows;
      row = [];
      field = "";
    } else field += ch;
  }
  if (field !== "" || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

export const PALETTE = ["#3b6fd4", "#e0662b", "#2a9d62", "#b3399c", "#c9a227", "#17a2b8", "#7d5ba6", "#d64545", "#5c7a29", "#8a6d3b"];
