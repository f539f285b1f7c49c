import { parsePyJson, stringifyPyJson } from "../pyjson.js";
import type { ArtifactHandler } from "./handler.js";

const decoder = new TextDecoder();

/** JSON values, written as Python's `json.dump` writes them so lazyscribe's json handler reads them back. */
export const jsonHandler: ArtifactHandler<unknown> = {
  alias: "json",
  suffix: "json",
  binary: false,
  write: (value, options) => stringifyPyJson(value, options.indent === undefined ? {} : { indent: Number(options.indent) }),
  read: async (source) => parsePyJson(decoder.decode(await source.bytes()), source.location),
};
