export { LocalStorage, type LocalStorageOptions } from "./local-storage.js";
