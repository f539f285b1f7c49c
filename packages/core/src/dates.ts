import { LabbookError } from "./errors.js";

/** lazyscribe's on-disk date spelling: naive UTC, whole seconds. */
const ISO_SECONDS = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$/;

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
  return iso.slice(0, 4) + iso.slice(5, 7) + iso.slice(8, 10) + iso.slice(11, 13) + iso.slice(14, 16) + iso.slice(17, 19);
}

/**
 * Parse a naive UTC date as lazyscribe writes it (`YYYY-MM-DDTHH:MM:SS`, optionally with
 * fractional seconds, as Python's isoformat gives). Anything else is INVALID_VERSION.
 */
export function parseDate(text: string, what = "date"): Date {
  const m = ISO_SECONDS.exec(text);
  if (m) {
    const [, y, mo, d, h, mi, s, frac] = m;
    const ms = frac ? Math.floor(Number(`0.${frac}`) * 1000) : 0;
    const date = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms));
    if (!Number.isNaN(date.getTime()) && formatDate(date).slice(0, 19) === `${y}-${mo}-${d}T${h}:${mi}:${s}`) return date;
  }
  throw new LabbookError("INVALID_VERSION", `Invalid ${what} "${text}": expected a naive UTC date like 2024-01-31T12:00:00.`);
}

/** Accept a Date or a lazyscribe date string; return a Date. */
export function toDate(value: Date | string, what = "date"): Date {
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new LabbookError("INVALID_VERSION", `Invalid ${what}: the Date is not valid.`);
    return value;
  }
  return parseDate(value, what);
}
