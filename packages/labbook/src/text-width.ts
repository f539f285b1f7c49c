/**
 * Display width of table cells. Printable ASCII (nearly every cell) is its length; anything else is
 * measured by string-width, which is loaded only when such a cell is met: importing it costs tens of
 * milliseconds (it builds an Intl.Segmenter), too much for `labbook ls` on an ASCII-only project.
 */
type Measure = (text: string) => number;

let wide: Measure | undefined;

/** Printable ASCII, possibly ending in the "…" of a cut cell (one column wide, as string-width counts it). */
const NARROW = /^[\x20-\x7e]*…?$/;

/** True when textWidth() can measure `text` without string-width. */
export const isNarrow = (text: string): boolean => NARROW.test(text);

/** Use `measure` (string-width) for text that is not printable ASCII. */
export function setWideWidth(measure: Measure): void {
  wide = measure;
}

/** Load string-width, once. */
export async function loadWideWidth(): Promise<void> {
  wide ??= (await import("string-width")).default;
}

/** The display width of `text` (terminal columns). */
export function textWidth(text: string): number {
  if (NARROW.test(text)) return text.length;
  if (!wide) throw new Error("labbook internal error: a wide cell was measured before loadWideWidth() loaded string-width.");
  return wide(text);
}
