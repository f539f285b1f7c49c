export * from "@labbook/core";
export { LocalStorage, type LocalStorageOptions } from "@labbook/storage-local";
export { type OpenProjectOptions, openProject, type ResolvedLocation, resolveLocation } from "./open.js";
export { renderTable } from "./table.js";
