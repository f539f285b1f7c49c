/**
 * Text tables, the public API: synchronous, so string-width is imported here up front. The CLI's
 * ls imports table-core.ts instead and loads string-width only when a cell needs it.
 */
import stringWidth from "string-width";
import * as core from "./table-core.js";
import { setWideWidth } from "./text-width.js";

export { defaultColumns, formatCell, type GridOptions, type RenderTableOptions, type TableStyle } from "./table-core.js";

/**
 * A table of already formatted cells: "plain" is columns separated by two spaces (pipes, files,
 * grep), "box" and "ascii" add lines around the header and the table. Newlines and tabs in cells
 * are shown as \n and \t so every row stays one line.
 */
export function renderGrid(head: readonly string[], rows: ReadonlyArray<readonly string[]>, options: core.GridOptions = {}): string {
  setWideWidth(stringWidth);
  return core.renderGrid(head, rows, options);
}

/**
 * A text table of a project's experiments: short slug, created, author, tags, then every metric and
 * parameter (or the `columns` you name, e.g. ["metrics.auc", "parameters.lr"]).
 */
export function renderTable(project: Parameters<typeof core.renderTable>[0], options: core.RenderTableOptions = {}): string {
  setWideWidth(stringWidth);
  return core.renderTable(project, options);
}
