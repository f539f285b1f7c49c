import type { ArtifactHandler } from "./handler.js";

const decoder = new TextDecoder();

export type CsvRow = Record<string, string | number | boolean | null | undefined>;

/** Rows as objects, with a header line; values come back as strings. csv-parse and csv-stringify load on first use. */
export const csvHandler: ArtifactHandler<CsvRow[]> = {
  alias: "csv",
  suffix: "csv",
  binary: false,
  write: async (rows, options) => {
    if (!Array.isArray(rows)) throw new TypeError("the csv handler takes an array of row objects");
    const columns = (options.columns as string[] | undefined) ?? [...new Set(rows.flatMap((r) => Object.keys(r)))];
    const { stringify } = await import("csv-stringify/sync");
    return stringify(rows, { header: true, columns });
  },
  read: async (source) => {
    const { parse } = await import("csv-parse/sync");
    return parse(decoder.decode(await source.bytes()), { columns: true, skip_empty_lines: true }) as CsvRow[];
  },
};
