import { bytesHandler } from "./bytes.js";
import { csvHandler } from "./csv.js";
import { HandlerRegistry } from "./handler.js";
import { jsonHandler } from "./json.js";
import { textHandler } from "./text.js";
import { yamlHandler } from "./yaml.js";

/** A fresh registry holding the built-in handlers: json, text, bytes, yaml, csv. */
export function defaultHandlers(): HandlerRegistry {
  return new HandlerRegistry().register(jsonHandler).register(textHandler).register(bytesHandler).register(yamlHandler).register(csvHandler);
}
