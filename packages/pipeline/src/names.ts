import { LabbookError } from "@labbook/core";

const SAFE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Stage, output, prefix and parameter-set names become parts of cache file names: keep them plain. */
export function assertName(name: unknown, what: string, where = ""): asserts name is string {
  if (typeof name !== "string" || !SAFE.test(name) || name.length > 100) {
    throw new LabbookError(
      "INVALID_ARGUMENT",
      `Invalid ${what} ${JSON.stringify(name) ?? "undefined"}${where}: use letters, digits, ".", "_" and "-" (starting with a letter or digit, at most 100 characters), since it becomes part of a cache file name.`,
      { path: typeof name === "string" ? name : undefined },
    );
  }
}
