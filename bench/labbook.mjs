// labbook as the benchmark sees it: the built packages (run `pnpm bench`, which builds them first).
// Node 20 cannot run the TypeScript sources behind the "@labbook/source" condition, so dist it is.
export { markFloat, Project } from "../packages/core/dist/index.js";
export { LocalStorage } from "../packages/storage-local/dist/index.js";

/** @labbook/repository, once it is built; undefined before it exists. */
export async function loadRepository() {
  try {
    return await import("../packages/repository/dist/index.js");
  } catch (error) {
    if (error?.code === "ERR_MODULE_NOT_FOUND") return undefined;
    throw error;
  }
}
