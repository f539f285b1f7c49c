import { parse, stringify } from "yaml";
import type { ArtifactHandler } from "./handler.js";

const decoder = new TextDecoder();

/** YAML through the `yaml` library's core (safe) schema: plain data only, no custom tags. */
export const yamlHandler: ArtifactHandler<unknown> = {
  alias: "yaml",
  suffix: "yaml",
  binary: false,
  write: (value) => stringify(value, { schema: "core" }),
  read: async (source) => parse(decoder.decode(await source.bytes()), { schema: "core" }),
};
