/**
 * python-slugify's default `slugify(text)` (9.x, its frozen "legacy" pipeline) as lazyscribe uses it
 * for short_slug, slug, test folders and default artifact file names, so slugs match files written
 * by Python. The steps, in Python's order:
 *   1. runs of "'" become "-";
 *   2. NFKD, then transliteration through text-unidecode's table (see `transliterate`);
 *   3. HTML 4 named entities, then decimal (`&#39;`) and hex (`&#x41;`) references are decoded
 *      (after transliteration, so decoded non-ASCII letters end up as separators, as in Python);
 *   4. NFKD again, lower case, "'" removed, "," between digits removed;
 *   5. every run outside [-a-zA-Z0-9] becomes "-", repeated "-" collapse, "-" stripped at both ends.
 * Checked against python-slugify on a golden list and on every code point (test/slug.test.ts).
 */
import unidecode from "unidecode";

// Python's html.entities.name2codepoint (HTML 4: 252 names), "name:hex" pairs.
const ENTITY_TABLE =
  "AElig:c6 Aacute:c1 Acirc:c2 Agrave:c0 Alpha:391 Aring:c5 Atilde:c3 Auml:c4 Beta:392 Ccedil:c7 Chi:3a7 Dagger:2021 Delta:394 ETH:d0 " +
  "Eacute:c9 Ecirc:ca Egrave:c8 Epsilon:395 Eta:397 Euml:cb Gamma:393 Iacute:cd Icirc:ce Igrave:cc Iota:399 Iuml:cf Kappa:39a " +
  "Lambda:39b Mu:39c Ntilde:d1 Nu:39d OElig:152 Oacute:d3 Ocirc:d4 Ograve:d2 Omega:3a9 Omicron:39f Oslash:d8 Otilde:d5 Ouml:d6 " +
  "Phi:3a6 Pi:3a0 Prime:2033 Psi:3a8 Rho:3a1 Scaron:160 Sigma:3a3 THORN:de Tau:3a4 Theta:398 Uacute:da Ucirc:db Ugrave:d9 Upsilon:3a5 " +
  "Uuml:dc Xi:39e Yacute:dd Yuml:178 Zeta:396 aacute:e1 acirc:e2 acute:b4 aelig:e6 agrave:e0 alefsym:2135 alpha:3b1 amp:26 and:2227 " +
  "ang:2220 aring:e5 asymp:2248 atilde:e3 auml:e4 bdquo:201e beta:3b2 brvbar:a6 bull:2022 cap:2229 ccedil:e7 cedil:b8 cent:a2 chi:3c7 " +
  "circ:2c6 clubs:2663 cong:2245 copy:a9 crarr:21b5 cup:222a curren:a4 dArr:21d3 dagger:2020 darr:2193 deg:b0 delta:3b4 diams:2666 " +
  "divide:f7 eacute:e9 ecirc:ea egrave:e8 empty:2205 emsp:2003 ensp:2002 epsilon:3b5 equiv:2261 eta:3b7 eth:f0 euml:eb euro:20ac " +
  "exist:2203 fnof:192 forall:2200 frac12:bd frac14:bc frac34:be frasl:2044 gamma:3b3 ge:2265 gt:3e hArr:21d4 harr:2194 hearts:2665 " +
  "hellip:2026 iacute:ed icirc:ee iexcl:a1 igrave:ec image:2111 infin:221e int:222b iota:3b9 iquest:bf isin:2208 iuml:ef kappa:3ba " +
  "lArr:21d0 lambda:3bb lang:2329 laquo:ab larr:2190 lceil:2308 ldquo:201c le:2264 lfloor:230a lowast:2217 loz:25ca lrm:200e " +
  "lsaquo:2039 lsquo:2018 lt:3c macr:af mdash:2014 micro:b5 middot:b7 minus:2212 mu:3bc nabla:2207 nbsp:a0 ndash:2013 ne:2260 ni:220b " +
  "not:ac notin:2209 nsub:2284 ntilde:f1 nu:3bd oacute:f3 ocirc:f4 oelig:153 ograve:f2 oline:203e omega:3c9 omicron:3bf oplus:2295 " +
  "or:2228 ordf:aa ordm:ba oslash:f8 otilde:f5 otimes:2297 ouml:f6 para:b6 part:2202 permil:2030 perp:22a5 phi:3c6 pi:3c0 piv:3d6 " +
  "plusmn:b1 pound:a3 prime:2032 prod:220f prop:221d psi:3c8 quot:22 rArr:21d2 radic:221a rang:232a raquo:bb rarr:2192 rceil:2309 " +
  "rdquo:201d real:211c reg:ae rfloor:230b rho:3c1 rlm:200f rsaquo:203a rsquo:2019 sbquo:201a scaron:161 sdot:22c5 sect:a7 shy:ad " +
  "sigma:3c3 sigmaf:3c2 sim:223c spades:2660 sub:2282 sube:2286 sum:2211 sup:2283 sup1:b9 sup2:b2 sup3:b3 supe:2287 szlig:df tau:3c4 " +
  "there4:2234 theta:3b8 thetasym:3d1 thinsp:2009 thorn:fe tilde:2dc times:d7 trade:2122 uArr:21d1 uacute:fa uarr:2191 ucirc:fb " +
  "ugrave:f9 uml:a8 upsih:3d2 upsilon:3c5 uuml:fc weierp:2118 xi:3be yacute:fd yen:a5 yuml:ff zeta:3b6 zwj:200d zwnj:200c ";

let entities: Map<string, number> | undefined;
let entityPattern: RegExp | undefined;

function decodeNamedEntities(text: string): string {
  if (!text.includes("&")) return text;
  if (!entities || !entityPattern) {
    entities = new Map(
      ENTITY_TABLE.trim()
        .split(" ")
        .map((pair) => {
          const [name, hex] = pair.split(":") as [string, string];
          return [name, Number.parseInt(hex, 16)] as const;
        }),
    );
    entityPattern = new RegExp(`&(${[...entities.keys()].join("|")});`, "g");
  }
  const table = entities;
  return text.replace(entityPattern, (_, name: string) => String.fromCodePoint(table.get(name) as number));
}

// Python: all-or-nothing per kind; one reference past U+10FFFF (chr() raises) leaves every one of that kind as text.
function decodeNumericReferences(text: string, pattern: RegExp, radix: number): string {
  let failed = false;
  const out = text.replace(pattern, (match, digits: string) => {
    const value = Number.parseInt(digits, radix);
    if (!(value <= 0x10ffff)) failed = true;
    return failed ? match : String.fromCodePoint(value);
  });
  return failed ? text : out;
}

/**
 * Blocks (high byte of a BMP code point) for which the `unidecode` npm package has no table and
 * answers "", where Python's text-unidecode answers "[?]" (a separator in a slug).
 */
function missingBlock(high: number): boolean {
  return (
    (high > 0x18 && high < 0x1e) ||
    (high > 0xd7 && high < 0xf9) ||
    high === 0x08 ||
    (high >= 0x29 && high <= 0x2d) ||
    (high >= 0x34 && high <= 0x4c) ||
    (high >= 0xa5 && high <= 0xab)
  );
}

/** Where the npm `unidecode` tables differ from text-unidecode 1.3 (Python's) for one code point. */
const OVERRIDES: ReadonlyMap<number, string> = new Map(
  (
    [
      // C1 controls: npm reads them as Windows-1252 (0x80 "EUR"), Python maps them to nothing.
      [0x80, 0x80, ""],
      [0x82, 0x8c, ""],
      [0x8e, 0x8e, ""],
      [0x93, 0x9c, ""],
      [0x9e, 0x9f, ""],
      // Tone letters and letters newer than text-unidecode's table.
      [0x2e5, 0x2eb, ""],
      [0x2ef, 0x2ef, "[?]"],
      [0x2f3, 0x2f3, "[?]"],
      [0x3f4, 0x3f9, "[?]"],
      [0x3fc, 0x3ff, "[?]"],
      [0x6ff, 0x6ff, "[?]"],
      [0xaf1, 0xaf1, "[?]"],
      [0xaf9, 0xaf9, "[?]"],
      [0x13f5, 0x13f5, "[?]"],
      [0x13f8, 0x13fd, "[?]"],
      [0x1efa, 0x1eff, "[?]"],
      [0x25f4, 0x25f7, "#"],
      [0x30ff, 0x30ff, "[?]"],
      [0x33ff, 0x33ff, "[?]"],
      [0xfdf0, 0xfdfb, ""],
      [0xfdfc, 0xfdfd, "[?]"],
    ] as const
  ).flatMap(([from, to, value]) => Array.from({ length: to - from + 1 }, (_, k) => [from + k, value] as const)),
);

/**
 * text-unidecode's `unidecode`, one code point at a time: ASCII stays, code points past U+FFFF are
 * dropped (its table covers the BMP only), the rest comes from the `unidecode` npm package (the same
 * Text::Unidecode tables) corrected by OVERRIDES. One character per call, because that package
 * reads multi-character runs as UTF-8 bytes.
 */
export function transliterate(text: string): string {
  let out = "";
  for (const ch of text) {
    const cp = ch.codePointAt(0) as number;
    if (cp < 0x80) out += ch;
    else if (cp > 0xffff) continue;
    else {
      const fixed = OVERRIDES.get(cp);
      if (fixed !== undefined) out += fixed;
      else if (missingBlock(cp >> 8)) out += "[?] ";
      else out += unidecode(ch);
    }
  }
  return out;
}

/**
 * The slug python-slugify's `slugify(text)` gives: ASCII lower case, "-" between words.
 *
 * @example slugify("Café Münster — v2") // "cafe-munster-v2"
 */
export function slugify(text: string): string {
  let s = text.replace(/'+/g, "-");
  s = transliterate(s.normalize("NFKD"));
  s = decodeNamedEntities(s);
  s = decodeNumericReferences(s, /&#(\d+);/g, 10);
  s = decodeNumericReferences(s, /&#x([\da-fA-F]+);/g, 16);
  s = s.normalize("NFKD").toLowerCase();
  s = s.replace(/'+/g, "");
  s = s.replace(/(?<=\p{Nd}),(?=\p{Nd})/gu, "");
  s = s.replace(/[^-a-zA-Z0-9]+/g, "-");
  return s.replace(/-{2,}/g, "-").replace(/^-+|-+$/g, "");
}
