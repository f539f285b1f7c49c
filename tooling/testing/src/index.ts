export { findPython, repoRoot, runPython } from "./python.js";
