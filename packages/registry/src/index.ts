export {
  DependencyCycleError,
  type DependencyGraph,
  type DependencyGraphOptions,
  dependencyGraph,
  type GraphEdge,
  type GraphNode,
  type MissingDependency,
} from "./graph.js";
export {
  type AddOptions,
  type OpenLocationOptions,
  type ProjectOpener,
  Registry,
  type RegistryOptions,
  type RepositoryOpener,
  type RepositoryOpenMode,
} from "./registry.js";
export {
  isCredentialOption,
  parseRegistryFile,
  REGISTRY_FILE,
  type RegistryEntry,
  type RegistryFile,
  registryFileSchema,
  type StorageOptions,
  storageOptionsSchema,
} from "./registry-file.js";
