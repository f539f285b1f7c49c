export * from "@labbook/core";
export * from "@labbook/registry";
export { LocalStorage, type LocalStorageOptions } from "@labbook/storage-local";
export { compileFilter, evaluateFilter, FILTER_FIELDS, type FilterNode, fieldValue, parseField, parseFilter } from "./filter-expression.js";
export { findUnreferencedFiles } from "./gc.js";
export { type OpenProjectOptions, openProject, type ResolvedLocation, resolveLocation } from "./open.js";
export { createRegistry, type LabbookRegistryOptions, loadRegistry } from "./registry.js";
export { type OpenRepositoryOptions, openRepository } from "./repository.js";
export { defaultColumns, formatCell, type RenderTableOptions, renderGrid, renderTable, type TableStyle } from "./table.js";
