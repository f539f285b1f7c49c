"""Golden slugs from python-slugify, the library lazyscribe uses for every slug and default file name.

    python tooling/python/gen_slugs.py               # JSON list of [name, slug] pairs (the golden list)
    python tooling/python/gen_slugs.py --code-points # [code point, slugify("a" + chr(cp) + "b"), slugify("a&#<cp>;b")]

The golden list is committed as packages/core/test/fixtures/slugs.json; packages/core/test/slug.test.ts
checks labbook's slugify against it, and against a fresh run of this script when the venv exists.
--code-points covers every code point Python's Unicode database knows (unassigned ones are left out:
their NFKD form depends on the Python version) in the BMP, plus the astral ones with a
compatibility decomposition (the others are dropped by text-unidecode, whose table is BMP-only).
"""

import json
import sys
import unicodedata

from slugify import slugify

NAMES = [
    # plain and ASCII punctuation
    "baseline",
    "My Experiment",
    "  leading and trailing spaces  ",
    "---dashes---",
    "under_score_name",
    "dots.in.the.name",
    "slash/and\\backslash",
    "tabs\tand\nnewlines",
    "multiple   spaces   between",
    "a--b---c",
    "!!!Bang!!!",
    "(parenthesised) [bracketed] {braced}",
    "email@example.com",
    "100% sure",
    "C++ & C#",
    "key=value;other=thing",
    "question?",
    "#hashtag",
    "~tilde~",
    # camelCase and digits
    "camelCaseName",
    "PascalCaseName",
    "XMLHttpRequest",
    "model v2.1",
    "run 42",
    "2024-01-31 run",
    "1,000 samples",
    "1,000,000",
    "3.14159",
    "x1,y2",
    "a,b",
    # apostrophes and quotes
    "don't stop",
    "rock 'n' roll",
    "''quoted''",
    '"double quoted"',
    "it\u2019s curly",
    "it\uff07s fullwidth",
    "`backticks`",
    # accents, German, French, Scandinavian, Polish, Turkish
    "Caf\u00e9 cr\u00e8me",
    "M\u00fcnchen Stra\u00dfe",
    "\u00c4rger \u00fcber \u00d6l",
    "Gr\u00fc\u00dfe aus K\u00f6ln",
    "\u00e9l\u00e8ve \u00e0 l'\u00e9cole",
    "Fran\u00e7ois Mitterrand",
    "\u0152uvre \u00e6sthetique",
    "Sm\u00f8rrebr\u00f8d \u00c5se",
    "\u0141\u00f3d\u017a \u017b\u00f3\u0142\u0107",
    "\u0130stanbul \u0131\u015f\u0131k",
    "Ni\u00f1o Espa\u00f1a",
    "Cafe\u0301 combining accent",
    # Vietnamese
    "Ti\u1ebfng Vi\u1ec7t c\u00f3 d\u1ea5u",
    "\u0110\u1eb7ng Th\u1ecb H\u01b0\u01a1ng",
    # Cyrillic, Greek
    "\u041f\u0440\u0438\u0432\u0435\u0442 \u043c\u0438\u0440",
    "\u041c\u043e\u0441\u043a\u0432\u0430 \u0429\u0443\u043a\u0430",
    "\u0423\u043a\u0440\u0430\u0457\u043d\u0430 \u0491\u0435\u043d\u0456\u0439",
    "\u0395\u03bb\u03bb\u03ac\u03b4\u03b1 \u03ba\u03b1\u03bb\u03b7\u03bc\u03ad\u03c1\u03b1",
    "\u03b1\u03b2\u03b3 \u03a9\u03bc\u03ad\u03b3\u03b1",
    # CJK, Japanese, Korean, other scripts
    "\u5317\u4eac\u5927\u5b66",
    "\u4e2d\u6587\u5b9e\u9a8c 1",
    "\u65e5\u672c\u8a9e\u306e\u30c6\u30b9\u30c8",
    "\u3072\u3089\u304c\u306a \u30ab\u30bf\u30ab\u30ca",
    "\uff76\uff80\uff76\uff85 halfwidth",
    "\ud55c\uad6d\uc5b4 \uc2e4\ud5d8",
    "\u0627\u0644\u0639\u0631\u0628\u064a\u0629",
    "\u05e2\u05d1\u05e8\u05d9\u05ea",
    "\u0939\u093f\u0928\u094d\u0926\u0940",
    "\u0e44\u0e17\u0e22",
    "\u3400\u4dbf CJK extension A",
    # emoji and symbols
    "\U0001f600 happy run",
    "rocket \U0001f680 launch",
    "family \U0001f468\u200d\U0001f469\u200d\U0001f467",
    "flags \U0001f1fa\U0001f1f8",
    "\u2605 star \u2606",
    "\u00a9 2024 \u00ae \u2122",
    "\u20ac100 \u00a350 \u00a5",
    "\u00bd \u00bc \u00b2 \u2075",
    "\u2460 circled \u2461",
    "\ufb01 ligature \ufb02",
    "\U0001d54f\U0001d560\U0001d56b math letters",
    "\u00d7 times \u00f7",
    "arrow \u2192 next",
    "em\u2014dash en\u2013dash",
    "\u2026ellipsis",
    "non\u00a0breaking space",
    "zero\u200bwidth",
    "nul\u0000byte",
    "\u0080\u0085 c1 controls",
    # html entities and references
    "Tom &amp; Jerry",
    "&lt;tag&gt;",
    "it&#39;s",
    "caf&#233;",
    "caf&#233;s",
    "&#x41;BC",
    "&#X41;BC uppercase x",
    "&eacute;t&eacute;",
    "&nbsp;spaced&nbsp;",
    "&copy; notice",
    "&unknown; entity",
    "&amp",
    "&#1114112; too big &#65;",
    "&#x110000; too big hex &#x42;",
    "&#20013;&#25991;",
    "a&#55296;b",
    "x&#0;y",
    "&#x1F600;ok",
    "&#65;&#1114112;",
    # lone surrogates (a Python str may hold them)
    "a\ud800b",
    "a\udfffb",
    # mixed scripts
    "Mixed \u041a\u0438\u0440\u0438\u043b\u043b\u0438\u0446\u0430 and Latin",
    "\u6771\u4eac Tokyo \u0422\u043e\u043a\u0438\u043e",
    "caf\u00e9-\u5317\u4eac-\u041c\u043e\u0441\u043a\u0432\u0430-\U0001f600",
    # empty after slugify
    "",
    "   ",
    "---",
    "!!!",
    "\U0001f600\U0001f601",
    "\u2019\u2019",
    "&amp;",
    # long names
    "a very long experiment name that goes on and on " * 5,
    "x" * 300,
    "Stra\u00dfe " * 40,
]


def code_points():
    out = []
    for cp in range(0x80, 0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        ch = chr(cp)
        if unicodedata.category(ch) == "Cn":
            continue
        if cp > 0xFFFF and unicodedata.normalize("NFKD", ch) == ch:
            continue
        # The same code point as a decimal reference: decoded after transliteration, so it goes
        # through NFKD, lower() and the filter only.
        out.append([cp, slugify("a" + ch + "b"), slugify("a&#%d;b" % cp)])
    return out


def main():
    if sys.argv[1:] == ["--code-points"]:
        sys.stdout.write(json.dumps(code_points(), separators=(",", ":")))
    else:
        sys.stdout.write(json.dumps([[name, slugify(name)] for name in NAMES], indent=1))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
