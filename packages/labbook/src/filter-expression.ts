/**
 * A small expression language for choosing experiments, used by `labbook ls --filter`:
 *
 *   metrics.auc > 0.9 and tags has baseline
 *   not (author = "ada" or parameters.model.depth >= 6)
 *
 * Parsed by a hand-written tokenizer and recursive-descent parser into a tree that is evaluated
 * against an experiment record; nothing is ever passed to eval or Function. Hand-written because
 * the grammar is ten lines and we want error messages that point at the column.
 */

import type { ReadonlyExperimentRecord } from "@labbook/core";
import { LabbookError } from "@labbook/core";

/** Fields an expression (or `--sort`, `--columns`) may name. `metrics.*` and `parameters.*` take a path. */
export const FILTER_FIELDS = [
  "name",
  "slug",
  "short_slug",
  "author",
  "created_at",
  "last_updated",
  "last_updated_by",
  "tags",
  "dependencies",
  "artifacts",
  "tests",
  "metrics",
  "parameters",
] as const;

export type Comparator = "=" | "!=" | "<" | "<=" | ">" | ">=" | "has";
export type Literal = string | number | boolean | null;

export type FilterNode =
  | { kind: "and" | "or"; left: FilterNode; right: FilterNode }
  | { kind: "not"; operand: FilterNode }
  | { kind: "compare"; field: string[]; op: Comparator; value: Literal };

type Token =
  | { type: "word"; text: string; pos: number }
  | { type: "string"; text: string; pos: number }
  | { type: "number"; value: number; text: string; pos: number }
  | { type: "op"; text: Comparator; pos: number }
  | { type: "punct"; text: "(" | ")" | "."; pos: number }
  | { type: "end"; pos: number };

function syntaxError(source: string, pos: number, what: string): LabbookError {
  // A long expression is shown as the stretch around the error, so the message stays readable.
  const from = source.length > 100 ? Math.max(0, pos - 40) : 0;
  const to = source.length > 100 ? Math.min(source.length, pos + 40) : source.length;
  const excerpt = `${from > 0 ? "..." : ""}${source.slice(from, to)}${to < source.length ? "..." : ""}`;
  const caret = pos - from + (from > 0 ? 3 : 0);
  return new LabbookError("INVALID_ARGUMENT", `Bad filter at column ${pos + 1}: ${what}.\n  ${excerpt}\n  ${" ".repeat(caret)}^`);
}

const WORD = /[A-Za-z0-9_][A-Za-z0-9_\-:]*/y;
const OPERATOR = /<=|>=|!=|==|=|<|>/y;
const SPACE = /\s/;

/** Parentheses and "not" nest at most this deep, and an expression compares at most this many times. */
export const MAX_FILTER_NESTING = 100;
export const MAX_FILTER_TERMS = 1000;

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** A number must not run into letters, digits, "_", "-" or ":" (2024-01-01 and 3abc are bare words, not numbers). */
function endsNumber(source: string, end: number): boolean {
  const c = source.charCodeAt(end);
  return !(isDigit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 45 || c === 58);
}

/**
 * The end of the number at `start` (`-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?` not followed by a word
 * character), or -1. Scanned by hand in one pass: the regex it replaces backtracked over every digit
 * and took 40 s on 120 000 digits. The shorter ends are tried in the order the regex tried them.
 */
function scanNumber(source: string, start: number): number {
  let j = start;
  if (source.charCodeAt(j) === 45) j++;
  const intStart = j;
  while (isDigit(source.charCodeAt(j))) j++;
  const intEnd = j;
  let fracEnd = -1;
  if (source.charCodeAt(j) === 46) {
    j++;
    while (isDigit(source.charCodeAt(j))) j++;
    fracEnd = j;
  }
  const hasInt = intEnd > intStart;
  if (!hasInt && (fracEnd < 0 || fracEnd === intEnd + 1)) return -1;
  const withExponent = (end: number): number => {
    const e = source.charCodeAt(end);
    if (e !== 101 && e !== 69) return -1;
    let k = end + 1;
    const sign = source.charCodeAt(k);
    if (sign === 43 || sign === 45) k++;
    if (!isDigit(source.charCodeAt(k))) return -1;
    while (isDigit(source.charCodeAt(k))) k++;
    return k;
  };
  // Candidate ends, longest first: with the fraction (and exponent), then "5." and "5" alone.
  const bases = fracEnd >= 0 ? (hasInt ? [fracEnd, intEnd + 1, intEnd] : [fracEnd]) : [intEnd];
  for (const base of bases) {
    const exp = withExponent(base);
    if (exp >= 0 && endsNumber(source, exp)) return exp;
    if (endsNumber(source, base)) return base;
  }
  return -1;
}

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const ch = source[i] as string;
    if (SPACE.test(ch)) {
      i++;
      continue;
    }
    OPERATOR.lastIndex = i;
    const op = OPERATOR.exec(source);
    if (op) {
      tokens.push({ type: "op", text: (op[0] === "==" ? "=" : op[0]) as Comparator, pos: i });
      i += op[0].length;
      continue;
    }
    if (ch === "(" || ch === ")" || ch === ".") {
      // A "." followed by a digit after an operator is a number such as .5, handled below.
      if (!(ch === "." && isDigit(source.charCodeAt(i + 1)) && tokens.at(-1)?.type === "op")) {
        tokens.push({ type: "punct", text: ch, pos: i });
        i++;
        continue;
      }
    }
    if (ch === '"' || ch === "'") {
      let text = "";
      let j = i + 1;
      for (; j < source.length && source[j] !== ch; j++) {
        if (source[j] === "\\" && j + 1 < source.length) j++;
        text += source[j];
      }
      if (j >= source.length) throw syntaxError(source, i, "this string is never closed");
      tokens.push({ type: "string", text, pos: i });
      i = j + 1;
      continue;
    }
    const numberEnd = ch !== "-" || tokens.at(-1)?.type === "op" ? scanNumber(source, i) : -1;
    if (numberEnd > i) {
      const text = source.slice(i, numberEnd);
      tokens.push({ type: "number", value: Number(text), text, pos: i });
      i = numberEnd;
      continue;
    }
    WORD.lastIndex = i;
    const word = WORD.exec(source);
    if (word) {
      tokens.push({ type: "word", text: word[0], pos: i });
      i += word[0].length;
      continue;
    }
    throw syntaxError(source, i, `unexpected character ${JSON.stringify(ch)}`);
  }
  tokens.push({ type: "end", pos: source.length });
  return tokens;
}

const KEYWORDS = new Set(["and", "or", "not", "has"]);

class Parser {
  #tokens: Token[];
  #at = 0;
  #depth = 0;
  #terms = 0;
  constructor(
    readonly source: string,
    tokens: Token[],
  ) {
    this.#tokens = tokens;
  }

  #peek(): Token {
    return this.#tokens[this.#at] as Token;
  }

  #isWord(text: string): boolean {
    const t = this.#peek();
    return t.type === "word" && t.text.toLowerCase() === text;
  }

  #describe(t: Token): string {
    return t.type === "end" ? "the end of the expression" : `"${t.type === "number" ? t.text : t.text}"`;
  }

  parse(): FilterNode {
    if (this.#peek().type === "end") throw syntaxError(this.source, 0, "the expression is empty");
    const node = this.#or();
    const t = this.#peek();
    if (t.type !== "end") throw syntaxError(this.source, t.pos, `expected "and", "or" or the end, found ${this.#describe(t)}`);
    return node;
  }

  #or(): FilterNode {
    let left = this.#and();
    while (this.#isWord("or")) {
      this.#at++;
      left = { kind: "or", left, right: this.#and() };
    }
    return left;
  }

  #and(): FilterNode {
    let left = this.#not();
    while (this.#isWord("and")) {
      this.#at++;
      left = { kind: "and", left, right: this.#not() };
    }
    return left;
  }

  /** Parentheses and "not" recurse; bounded so a hostile expression gets a usage error, not a stack overflow. */
  #enter(t: Token): void {
    if (++this.#depth > MAX_FILTER_NESTING) {
      throw syntaxError(this.source, t.pos, `parentheses and "not" nest more than ${MAX_FILTER_NESTING} levels deep; simplify the expression`);
    }
  }

  #not(): FilterNode {
    if (this.#isWord("not")) {
      this.#enter(this.#peek());
      this.#at++;
      const operand = this.#not();
      this.#depth--;
      return { kind: "not", operand };
    }
    return this.#primary();
  }

  #primary(): FilterNode {
    const t = this.#peek();
    if (t.type === "punct" && t.text === "(") {
      this.#enter(t);
      this.#at++;
      const inner = this.#or();
      this.#depth--;
      const close = this.#peek();
      if (close.type !== "punct" || close.text !== ")") throw syntaxError(this.source, close.pos, `expected ")", found ${this.#describe(close)}`);
      this.#at++;
      return inner;
    }
    if (++this.#terms > MAX_FILTER_TERMS) {
      throw syntaxError(this.source, t.pos, `more than ${MAX_FILTER_TERMS} comparisons; split the filter or use fewer terms`);
    }
    const field = this.#field();
    const opToken = this.#peek();
    let op: Comparator;
    if (opToken.type === "op") op = opToken.text;
    else if (this.#isWord("has")) op = "has";
    else throw syntaxError(this.source, opToken.pos, `expected a comparison (= != < <= > >= has) after ${field.join(".")}, found ${this.#describe(opToken)}`);
    this.#at++;
    return { kind: "compare", field, op, value: this.#literal() };
  }

  #field(): string[] {
    const t = this.#peek();
    if (t.type !== "word" || KEYWORDS.has(t.text.toLowerCase()))
      throw syntaxError(this.source, t.pos, `expected a field such as metrics.auc, found ${this.#describe(t)}`);
    this.#at++;
    const path = [t.text];
    while (this.#peek().type === "punct" && (this.#peek() as { text: string }).text === ".") {
      this.#at++;
      const part = this.#peek();
      if (part.type === "word" || part.type === "string") path.push(part.text);
      else if (part.type === "number" && /^\d+$/.test(part.text)) path.push(part.text);
      else throw syntaxError(this.source, part.pos, `expected a name after ".", found ${this.#describe(part)}`);
      this.#at++;
    }
    return checkField(path, this.source, t.pos);
  }

  #literal(): Literal {
    const t = this.#peek();
    this.#at++;
    if (t.type === "number") return t.value;
    if (t.type === "string") return t.text;
    if (t.type === "word" && !KEYWORDS.has(t.text.toLowerCase())) {
      if (t.text === "true") return true;
      if (t.text === "false") return false;
      if (t.text === "null") return null;
      return t.text;
    }
    throw syntaxError(this.source, t.pos, `expected a value (number, "string" or word), found ${this.#describe(t)}`);
  }
}

function checkField(path: string[], source: string, pos: number): string[] {
  const head = path[0] as string;
  if (!(FILTER_FIELDS as readonly string[]).includes(head)) {
    throw syntaxError(source, pos, `unknown field "${head}"; use one of ${FILTER_FIELDS.join(", ")} (metrics and parameters take a name: metrics.auc)`);
  }
  if ((head === "metrics" || head === "parameters") && path.length < 2) throw syntaxError(source, pos, `name the ${head.slice(0, -1)}, for example ${head}.x`);
  if (head !== "metrics" && head !== "parameters" && path.length > 1) throw syntaxError(source, pos, `"${head}" has no sub-fields`);
  return path;
}

/**
 * Parse a filter expression. Throws LabbookError INVALID_ARGUMENT with the column on bad input.
 *
 * Grammar: `expr := or; or := and ("or" and)*; and := not ("and" not)*; not := "not" not | primary;
 * primary := "(" expr ")" | field op value`, op one of `= != < <= > >= has`.
 */
export function parseFilter(source: string): FilterNode {
  return new Parser(source, tokenize(source)).parse();
}

/**
 * Parse a field path as `--sort` and `--columns` take it: `metrics.auc`, `parameters.model.depth`,
 * `tags`, `created_at`. Throws INVALID_ARGUMENT for unknown fields.
 */
export function parseField(source: string): string[] {
  const tokens = tokenize(source);
  const path: string[] = [];
  let expectName = true;
  for (const t of tokens) {
    if (t.type === "end") break;
    if (expectName && (t.type === "word" || t.type === "string" || (t.type === "number" && /^\d+$/.test(t.text)))) path.push(t.text);
    else if (!expectName && t.type === "punct" && t.text === ".") {
      // next part
    } else throw syntaxError(source, t.pos, "expected a field such as metrics.auc");
    expectName = !expectName;
  }
  if (path.length === 0 || expectName) throw syntaxError(source, source.length, "expected a field such as metrics.auc");
  return checkField(path, source, 0);
}

/** The value of a field path in an experiment record (undefined when it is absent). */
export function fieldValue(record: ReadonlyExperimentRecord, path: readonly string[]): unknown {
  const head = path[0];
  switch (head) {
    case "artifacts":
      return record.artifacts.map((a) => a.name);
    case "tests":
      return record.tests.map((t) => t.name);
    case "metrics":
    case "parameters": {
      let value: unknown = record[head];
      // An index loop, not a rest copy of the path: this runs for every cell of `labbook ls`.
      for (let i = 1; i < path.length; i++) {
        const part = path[i] as string;
        if (value === null || typeof value !== "object") return undefined;
        value = Object.hasOwn(value, part) ? (value as Record<string, unknown>)[part] : undefined;
      }
      return value;
    }
    default:
      return (record as Record<string, unknown>)[head as string];
  }
}

function compare(actual: unknown, op: Comparator, expected: Literal): boolean {
  if (op === "has") {
    if (Array.isArray(actual)) return actual.some((item) => item === expected || (typeof item === "number" && item === Number(expected)));
    if (typeof actual === "string") return actual.includes(String(expected));
    return false;
  }
  // An absent field never matches, not even with "!=": "metrics.auc != 1" means "has an auc, not 1".
  if (actual === undefined) return false;
  if (op === "=" || op === "!=") {
    const equal = typeof actual === "number" && typeof expected === "string" ? actual === Number(expected) : actual === expected;
    return op === "=" ? equal : !equal;
  }
  let a: number | string;
  let b: number | string;
  if (typeof actual === "number" && typeof expected === "number") [a, b] = [actual, expected];
  else if (typeof actual === "string" && typeof expected === "string") [a, b] = [actual, expected];
  else return false;
  switch (op) {
    case "<":
      return a < b;
    case "<=":
      return a <= b;
    case ">":
      return a > b;
    default:
      return a >= b;
  }
}

/** Does this experiment record satisfy the parsed expression? */
export function evaluateFilter(node: FilterNode, record: ReadonlyExperimentRecord): boolean {
  switch (node.kind) {
    case "and":
      return evaluateFilter(node.left, record) && evaluateFilter(node.right, record);
    case "or":
      return evaluateFilter(node.left, record) || evaluateFilter(node.right, record);
    case "not":
      return !evaluateFilter(node.operand, record);
    case "compare":
      return compare(fieldValue(record, node.field), node.op, node.value);
  }
}

/**
 * A predicate from an expression, for `project.filter(...)`.
 *
 * @example
 * project.filter(compileFilter("metrics.auc > 0.9 and tags has baseline"))
 */
export function compileFilter(source: string): (experiment: { toRecord(): ReadonlyExperimentRecord }) => boolean {
  const tree = parseFilter(source);
  return (experiment) => evaluateFilter(tree, experiment.toRecord());
}
