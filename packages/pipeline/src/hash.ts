import { createHash } from "node:crypto";
import { LabbookError } from "@labbook/core";
import { type ZodType, z } from "zod";

/** How one schema field takes part in the parameter hash. */
export interface HashMeta {
  /** false: the field does not affect results (a worker count, a log level) and is left out. */
  readonly hash?: boolean | undefined;
  /** The field's own representation: the value this returns is hashed instead of the field's value. */
  readonly represent?: ((value: never) => unknown) | undefined;
}

/** Where the hashing marks of schema fields are kept (a zod registry, so schemas stay plain zod). */
export const hashRegistry = z.registry<HashMeta>();

/**
 * Mark a field as not affecting results: it is left out of the parameter hash.
 *
 * @example
 * z.object({ lr: z.number(), workers: notHashed(z.number().default(4)) })
 */
export function notHashed<T extends ZodType>(schema: T): T {
  hashRegistry.add(schema, { hash: false });
  return schema;
}

/**
 * Give a field its own representation in the hash (for example a file's content hash instead of its path,
 * or a class instance's settings).
 *
 * @example
 * z.object({ model: hashAs(z.instanceof(Net), (net) => net.config) })
 */
export function hashAs<T extends ZodType>(schema: T, represent: (value: z.output<T>) => unknown): T {
  hashRegistry.add(schema, { represent: represent as (value: never) => unknown });
  return schema;
}

/** A value can also name its own representation with a method under this symbol. */
export const hashRepresentation: unique symbol = Symbol.for("labbook.pipeline.hashRepresentation") as never;

type Def = {
  type: string;
  shape?: Record<string, ZodType>;
  element?: ZodType;
  innerType?: ZodType;
  out?: ZodType;
  valueType?: ZodType;
  items?: ZodType[];
  rest?: ZodType | null;
  getter?: () => ZodType;
};

function defOf(schema: ZodType | undefined): Def | undefined {
  return (schema as unknown as { _zod?: { def?: Def } } | undefined)?._zod?.def;
}

const WRAPPERS = new Set(["optional", "nullable", "default", "prefault", "readonly", "catch", "nonoptional", "success"]);

/** Marks on this schema or any wrapper around the same value (optional, default, ...), outermost first. */
function metaAlong(schema: ZodType | undefined): { meta: HashMeta; inner: ZodType | undefined } {
  let meta: HashMeta = {};
  let current = schema;
  for (let depth = 0; current && depth < 32; depth++) {
    const found = hashRegistry.get(current);
    if (found) meta = { ...found, ...meta };
    const def = defOf(current);
    if (!def) break;
    if (WRAPPERS.has(def.type)) current = def.innerType;
    else if (def.type === "pipe") current = def.out;
    else if (def.type === "lazy" && def.getter) current = def.getter();
    else break;
  }
  return { meta, inner: current };
}

function child(inner: ZodType | undefined, key: string | number): ZodType | undefined {
  const def = defOf(inner);
  if (!def) return undefined;
  if (def.type === "object" && typeof key === "string") return def.shape?.[key];
  if (def.type === "record" && typeof key === "string") return def.valueType;
  if (def.type === "array") return def.element;
  if (def.type === "tuple" && typeof key === "number") return def.items?.[key] ?? def.rest ?? undefined;
  return undefined;
}

function fail(path: string, what: string): never {
  throw new LabbookError(
    "INVALID_ARGUMENT",
    `Cannot hash parameter ${path}: ${what}. Give the field a representation with hashAs(schema, fn), a [hashRepresentation]() method, or mark it notHashed(schema).`,
    { path },
  );
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function encode(value: unknown, schema: ZodType | undefined, path: string, seen: Set<object>): string {
  const { meta, inner } = metaAlong(schema);
  if (meta.represent) return encode((meta.represent as (v: unknown) => unknown)(value), undefined, path, seen);
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "boolean":
      return value ? "true" : "false";
    case "number":
      // Not valid JSON on purpose: NaN and ±Infinity must not collide with the strings "NaN", "Infinity".
      if (Number.isNaN(value)) return "NaN";
      if (!Number.isFinite(value)) return value > 0 ? "Infinity" : "-Infinity";
      return JSON.stringify(value);
    case "bigint":
      return `${value}n`;
    case "undefined":
      return "null";
    case "object":
      break;
    default:
      fail(path, `a ${typeof value} has no canonical form`);
  }
  if (value === null) return "null";
  const obj = value as object;
  if (typeof (obj as { [hashRepresentation]?: unknown })[hashRepresentation] === "function") {
    return encode((obj as { [hashRepresentation]: () => unknown })[hashRepresentation](), undefined, path, seen);
  }
  if (obj instanceof Date) {
    if (Number.isNaN(obj.getTime())) fail(path, "an invalid Date");
    return JSON.stringify(obj.toISOString());
  }
  if (seen.has(obj)) fail(path, "it refers to itself");
  seen.add(obj);
  try {
    if (Array.isArray(obj)) {
      return `[${obj.map((item, i) => encode(item, child(inner, i), `${path}[${i}]`, seen)).join(",")}]`;
    }
    if (!isPlainObject(obj)) {
      const toJSON = (obj as { toJSON?: () => unknown }).toJSON;
      if (typeof toJSON === "function") return encode(toJSON.call(obj), undefined, path, seen);
      fail(path, `a ${obj.constructor?.name ?? "non-plain"} object has no canonical form`);
    }
    const parts: string[] = [];
    for (const key of Object.keys(obj).sort()) {
      const item = (obj as Record<string, unknown>)[key];
      if (item === undefined) continue;
      const fieldSchema = child(inner, key);
      if (metaAlong(fieldSchema).meta.hash === false) continue;
      parts.push(`${JSON.stringify(key)}:${encode(item, fieldSchema, `${path}.${key}`, seen)}`);
    }
    return `{${parts.join(",")}}`;
  } finally {
    seen.delete(obj);
  }
}

/**
 * The canonical JSON of a parameter set's values, the text whose sha256 is its hash (rules in
 * docs/pipeline.md): keys sorted, `name` at the top and fields marked `notHashed` left out,
 * `undefined` values left out, nested objects and arrays included, marked fields by their representation.
 */
export function canonicalParameters(values: Readonly<Record<string, unknown>>, schema?: ZodType | undefined): string {
  const { name: _name, ...rest } = values;
  return encode(rest, schema, "params", new Set());
}

/** sha256 (hex) of `canonicalParameters(values, schema)`. */
export function parameterHash(values: Readonly<Record<string, unknown>>, schema?: ZodType | undefined): string {
  return sha256(canonicalParameters(values, schema));
}

export function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** An aggregate's hash: sha256 of the active hash and the sorted hashes of the records it takes. */
export function aggregateHash(activeHash: string, inputHashes: readonly string[]): string {
  return sha256(JSON.stringify([activeHash, [...inputHashes].sort()]));
}
