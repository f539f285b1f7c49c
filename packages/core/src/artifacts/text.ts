import type { ArtifactHandler } from "./handler.js";

const decoder = new TextDecoder("utf-8", { fatal: true });

/** Plain UTF-8 text. */
export const textHandler: ArtifactHandler<string> = {
  alias: "text",
  suffix: "txt",
  binary: false,
  write: (value) => {
    if (typeof value !== "string") throw new TypeError(`the text handler takes a string, not ${typeof value}`);
    return value;
  },
  read: async (source) => decoder.decode(await source.bytes()),
};
