/**
 * python-slugify's default `slugify(text)` as lazyscribe uses it, so slugs match files written by
 * Python. (Refined against a golden list generated with python-slugify; see test/slug.test.ts.)
 */
export function slugify(text: string): string {
  return text
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/'/g, "")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
}
