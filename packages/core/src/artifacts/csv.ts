import { parse } from "csv-parse/sync";
import { stringify } from "csv-stringify/sync";
import type { ArtifactHandler } from "./handler.js";

const decoder = new TextDecoder();

export type CsvRow = Record<string, string | number | boolean | null | undefined>;

/** Rows as objects, with a header line; values come back as strings. */
export const csvHandler: ArtifactHandler<CsvRow[]> = {
  alias: "csv",
  suffix: "csv",
  binary: false,
  write: (rows, options) => {
    if (!Array.isArray(rows)) throw new TypeError("the csv handler takes an array of row objects");
    const columns = (options.columns as string[] | undefined) ?? [...new Set(rows.flatMap((r) => Object.keys(r)))];
    return stringify(rows, { header: true, columns });
  },
  read: async (source) => parse(decoder.decode(await source.bytes()), { columns: true, skip_empty_lines: true }) as CsvRow[],
};
