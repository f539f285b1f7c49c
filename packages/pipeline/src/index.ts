export { aggregateHash, canonicalParameters, type HashMeta, hashAs, hashRegistry, hashRepresentation, notHashed, parameterHash, sha256 } from "./hash.js";
