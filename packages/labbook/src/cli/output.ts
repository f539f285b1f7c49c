import type { TableStyle } from "../table.js";

/** A mistake in how the command was called (exit code 2), as opposed to a failure doing it (exit 1). */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** Table style for stdout: box lines on a terminal, plain aligned columns for pipes and files. */
export function stdoutStyle(): TableStyle {
  return process.stdout.isTTY ? "box" : "plain";
}

// C0 controls but newline, DEL, and C1 controls (U+0080-U+009F, which some terminals obey as CSI, OSC...).
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g;

/**
 * Show terminal control characters as visible escapes (ESC as \x1b, CR as \r), so a name, tag or
 * parameter cannot move the cursor, rewrite earlier lines or set the clipboard (OSC 52).
 */
export function escapeControls(text: string): string {
  CONTROL.lastIndex = 0;
  if (!CONTROL.test(text)) return text;
  return text.replace(CONTROL, (c) => {
    if (c === "\r") return "\\r";
    if (c === "\t") return "\\t";
    return `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`;
  });
}

let cutNoted = false;

/**
 * How to draw a table on stdout: on a terminal, box lines and at most the terminal's width (cells
 * cut with "…", and a note on stderr, once, saying how to see them whole); for pipes and files,
 * plain columns, never cut.
 */
export function tableOptions(): { style: TableStyle; maxWidth?: number; onTruncated?: () => void } {
  const columns = process.stdout.isTTY ? process.stdout.columns : undefined;
  if (!columns) return { style: stdoutStyle() };
  return {
    style: stdoutStyle(),
    maxWidth: columns,
    onTruncated: () => {
      if (cutNoted) return;
      cutNoted = true;
      process.stderr.write(
        `Cells cut with … to fit the terminal's ${columns} columns: see them whole with --json or by piping the output to a file (or less -S), or pick columns with --columns (labbook ls).\n`,
      );
    },
  };
}

/** Write a line (or lines) to stdout; on a terminal, control characters in the text are escaped. */
export function print(text: string): void {
  const line = text.endsWith("\n") ? text : `${text}\n`;
  process.stdout.write(process.stdout.isTTY ? escapeControls(line) : line);
}

/**
 * Standard JSON for scripts: 2-space indent; NaN and ±Infinity (which Python lazyscribe may store)
 * become the strings "NaN", "Infinity", "-Infinity" so the output stays valid JSON.
 */
export function printJson(value: unknown): void {
  // Not through print: JSON already escapes control characters, and scripts get it byte for byte.
  process.stdout.write(
    `${JSON.stringify(value, (_key, v) => (typeof v === "number" && !Number.isFinite(v) ? (Number.isNaN(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity") : v), 2)}\n`,
  );
}

/** Parse a positive integer option or fail with a usage error naming the option. */
export function positiveInt(value: string, option: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new UsageError(`${option} takes a positive whole number, not ${JSON.stringify(value)}.`);
  return Number(value);
}

/** Human-readable byte count. */
export function formatBytes(size: number | null | undefined): string {
  if (size === null || size === undefined) return "";
  if (size < 1024) return `${size} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = size / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** Settings from global options, set before a command runs. */
export const cliContext: { registryFile?: string | undefined } = {};
