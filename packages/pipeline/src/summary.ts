/** A short representation of a value for reports: array lengths, object keys, table shapes. */
export function summarize(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  switch (typeof value) {
    case "string":
      return value.length > 40 ? `string (${value.length} chars): ${JSON.stringify(value.slice(0, 37))}…` : `string: ${JSON.stringify(value)}`;
    case "number":
    case "boolean":
    case "bigint":
      return `${typeof value}: ${String(value)}`;
    case "function":
      return "function";
    default:
      break;
  }
  if (value instanceof Uint8Array) return `bytes (${value.byteLength})`;
  if (ArrayBuffer.isView(value)) return `${value.constructor.name} (${(value as unknown as { length: number }).length})`;
  if (value instanceof Map) return `Map (${value.size} entries)`;
  if (value instanceof Set) return `Set (${value.size} items)`;
  if (value instanceof Date) return `Date: ${value.toISOString()}`;
  if (Array.isArray(value)) {
    const first = value[0];
    // An array of same-keyed objects is a table; an array of arrays is a matrix.
    if (first !== null && typeof first === "object" && !Array.isArray(first)) {
      const columns = Object.keys(first);
      return `table ${value.length} × ${columns.length} (${shortList(columns)})`;
    }
    if (Array.isArray(first)) return `array ${value.length} × ${first.length}`;
    return `array (${value.length})`;
  }
  const keys = Object.keys(value as object);
  const name = (value as object).constructor?.name;
  const label = name && name !== "Object" ? name : "object";
  return `${label} {${shortList(keys)}}`;
}

function shortList(items: string[], max = 6): string {
  return items.length <= max ? items.join(", ") : `${items.slice(0, max).join(", ")}, … +${items.length - max}`;
}
