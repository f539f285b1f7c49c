import type { ArtifactHandler } from "./handler.js";

const decoder = new TextDecoder();

// The `yaml` library is loaded when a yaml artifact is first written or read, not when core is imported.
const yaml = () => import("yaml");

/** YAML through the `yaml` library's core (safe) schema: plain data only, no custom tags. */
export const yamlHandler: ArtifactHandler<unknown> = {
  alias: "yaml",
  suffix: "yaml",
  binary: false,
  write: async (value) => (await yaml()).stringify(value, { schema: "core" }),
  read: async (source) => (await yaml()).parse(decoder.decode(await source.bytes()), { schema: "core" }),
};
