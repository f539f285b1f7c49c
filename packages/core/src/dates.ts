import { LabbookError } from "./errors.js";

/** lazyscribe's on-disk date spelling: naive UTC, whole seconds (what it writes). */
const CANONICAL = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/;

/**
 * What Python's `datetime.fromisoformat` (3.11) takes in the files lazyscribe reads: a date, then
 * optionally "T" or a space and HH[:MM[:SS[.ffffff]]], then optionally Z or an offset.
 */
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2})(?::(\d{2})(?::(\d{2})(?:[.,](\d{1,6}))?)?)?)?(Z|[+-]\d{2}:\d{2})?$/;

/** The current time truncated to whole seconds, as lazyscribe's `utcnow()` does. */
export function utcNow(): Date {
  const now = Date.now();
  return new Date(now - (now % 1000));
}

/** `2024-01-02T03:04:05` for a Date (UTC, seconds). */
export function formatDate(date: Date): string {
  return date.toISOString().slice(0, 19);
}

/** `20240102030405`, the compact form used in slugs and default file names. */
export function formatCompact(date: Date): string {
  const iso = date.toISOString();
  // Python's strftime("%Y") does not pad years before 1000 (year 1 is "1"), and lazyscribe's slugs use it.
  return String(date.getUTCFullYear()) + iso.slice(5, 7) + iso.slice(8, 10) + iso.slice(11, 13) + iso.slice(14, 16) + iso.slice(17, 19);
}

/**
 * Parse a date as lazyscribe reads it: `YYYY-MM-DDTHH:MM:SS` (what it writes), and the shorter or
 * longer forms Python's `datetime.fromisoformat` also takes (date only, minutes, fractions, an
 * offset). Years 1 to 9999, as in Python (`0001-01-01T00:00:00` is `datetime.min`). Anything else
 * is INVALID_VERSION.
 */
export function parseDate(text: string, what = "date"): Date {
  const m = ISO_DATE.exec(text);
  if (m) {
    const [, y, mo, d, h = "00", mi = "00", s = "00", frac, zone] = m;
    const ms = frac ? Math.floor(Number(`0.${frac}`) * 1000) : 0;
    // Not Date.UTC: it maps years 0 to 99 to 1900 to 1999.
    const date = new Date(0);
    date.setUTCFullYear(Number(y), Number(mo) - 1, Number(d));
    date.setUTCHours(Number(h), Number(mi), Number(s), ms);
    const valid = !Number.isNaN(date.getTime()) && Number(y) >= 1 && formatDate(date) === `${y}-${mo}-${d}T${h}:${mi}:${s}`;
    if (valid) {
      if (zone === undefined || zone === "Z") return date;
      const sign = zone.startsWith("-") ? -1 : 1;
      const offset = Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6));
      if (Number(zone.slice(1, 3)) < 24 && Number(zone.slice(4, 6)) < 60) return new Date(date.getTime() - sign * offset * 60_000);
    }
  }
  throw new LabbookError("INVALID_VERSION", `Invalid ${what} "${text}": expected a naive UTC date like 2024-01-31T12:00:00.`);
}

/**
 * The spelling lazyscribe writes for a date it read (`isoformat(timespec="seconds")`): naive dates
 * become `YYYY-MM-DDTHH:MM:SS`; a date with an offset keeps it, as Python does. Undefined when
 * `text` is already canonical or is not a date.
 */
export function canonicalDate(text: string): string | undefined {
  if (CANONICAL.test(text)) return undefined;
  const m = ISO_DATE.exec(text);
  if (!m || m[8] !== undefined) return undefined;
  try {
    return formatDate(parseDate(text));
  } catch {
    return undefined;
  }
}

/** Accept a Date or a lazyscribe date string; return a Date. */
export function toDate(value: Date | string, what = "date"): Date {
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new LabbookError("INVALID_VERSION", `Invalid ${what}: the Date is not valid.`);
    return value;
  }
  return parseDate(value, what);
}
