"""Generate src/tokenizers/unicode_tables.ts from Python `tokenizers` behaviour.

HF `tokenizers` classifies characters for StripAccents (`is_combining_mark`), BertNormalizer
(`is_mark_nonspacing`, `is_other`), BertPreTokenizer / Punctuation (`is_punctuation`) and UnicodeScripts (SentencePiece's
script table) with tables of their own, which predate current Unicode (they include most Mc and all Me marks as
"nonspacing", and miss recently assigned characters). JavaScript's \\p{...} follows current Unicode,
so tslm uses these tables instead: they are measured here, code point by code point, from the
behaviour of Python `tokenizers` itself.

    .venv/bin/python tools/golden/tokenizers_unicode.py
"""

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]

import tokenizers  # noqa: E402
from tokenizers import normalizers, pre_tokenizers  # noqa: E402

ROOT = os.path.abspath(os.path.join(_HERE, "..", ".."))


def ranges(pred):
    out = []
    start = None
    for cp in range(0x110000 + 1):
        ok = cp < 0x110000 and not (0xD800 <= cp <= 0xDFFF) and pred(cp)
        if ok and start is None:
            start = cp
        elif not ok and start is not None:
            out.append((start, cp - 1))
            start = None
    return out


def script_classes():
    """Code point -> script class as UnicodeScripts splits (0 = Any: never causes a split).

    Measured from the pre-tokenizer itself: a char is Any when it merges with both neighbours of
    different scripts; otherwise it shares the class of the previous char when the two stay one
    piece, else it is compared with one representative of every class seen so far.
    """
    pt = pre_tokenizers.UnicodeScripts()

    def pieces(s):
        return [p for p, _ in pt.pre_tokenize_str(s)]

    def is_any(c):
        return pieces("\u0431" + c + "a") == ["\u0431" + c, "a"] and pieces("a" + c + "\u0431") == ["a" + c, "\u0431"]

    reps = []  # class k+1 -> representative char
    runs = []  # (first, last, class)
    prev_char, prev_class = None, None
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            prev_char = None
            continue
        c = chr(cp)
        if is_any(c):
            cls = 0
        elif prev_char is not None and prev_class and len(pieces(prev_char + c)) == 1:
            cls = prev_class
        else:
            cls = None
            for k, r in enumerate(reps):
                if len(pieces(r + c)) == 1:
                    cls = k + 1
                    break
            if cls is None:
                reps.append(c)
                cls = len(reps)
        if runs and runs[-1][2] == cls and runs[-1][1] == cp - 1:
            runs[-1] = (runs[-1][0], cp, cls)
        else:
            runs.append((cp, cp, cls))
        if cls:
            prev_char, prev_class = c, cls
    return runs, len(reps)


def normalization_gaps():
    """Code points HF's Unicode normalization leaves unchanged but JavaScript's normalize() changes.

    HF's normalization tables are older than the ICU in Node, so chars assigned or given a
    decomposition later (U+32FF SQUARE ERA NAME REIWA, ...) stay as they are in HF. JavaScript's
    behaviour comes from running node on every code point.
    """
    import json
    import subprocess

    forms = {"NFD": normalizers.NFD(), "NFKC": normalizers.NFKC(), "NFKD": normalizers.NFKD(), "NFC": normalizers.NFC()}
    js = (
        "const out={};for(const f of ['NFC','NFD','NFKC','NFKD']){const a=[];"
        "for(let cp=0;cp<0x110000;cp++){if(cp>=0xd800&&cp<=0xdfff)continue;const c=String.fromCodePoint(cp);"
        "if(c.normalize(f)!==c)a.push(cp);}out[f]=a;}process.stdout.write(JSON.stringify(out));"
    )
    changed_js = {k: set(v) for k, v in json.loads(subprocess.run(["node", "-e", js], capture_output=True, check=True, text=True).stdout).items()}
    gaps = {}
    for name, n in forms.items():
        gap = sorted(cp for cp in changed_js[name] if n.normalize_str(chr(cp)) == chr(cp))
        # The reverse (HF changes a char JavaScript keeps) would need a table of HF's mappings.
        other = [cp for cp in range(0x110000) if not (0xD800 <= cp <= 0xDFFF) and cp not in changed_js[name]
                 and n.normalize_str(chr(cp)) != chr(cp)]
        if other:
            raise SystemExit(f"{name}: HF changes {len(other)} chars JavaScript keeps, e.g. {[hex(c) for c in other[:5]]}")
        gaps[name] = gap
    # NFC composes what NFD decomposes: a char HF does not decompose must not compose either.
    gaps["NFC"] = sorted(set(gaps["NFC"]) | set(gaps["NFD"]))
    gaps["NFKC"] = sorted(set(gaps["NFKC"]) | set(gaps["NFKD"]))
    return gaps


def onig_unassigned():
    """Code points Oniguruma (HF's regex engine) treats as unassigned (\\p{Cn}), measured with a
    Split pre-tokenizer. tslm intersects them at run time with what the running JavaScript engine
    assigns, so a newer Node (newer Unicode) is handled too."""
    from tokenizers import Regex

    pt = pre_tokenizers.Split(Regex(r"\p{Cn}"), "removed")
    return [cp for cp in range(0x110000) if not (0xD800 <= cp <= 0xDFFF)
            and pt.pre_tokenize_str("a" + chr(cp) + "b") == [("a", (0, 1)), ("b", (2, 3))]]


def onig_unassigned_gap():
    """Code points Oniguruma (HF's regex engine) treats as unassigned but JavaScript assigns.

    Measured with a Split pre-tokenizer on \\p{Cn} (Oniguruma) against /\\p{Cn}/u in node.
    """
    import json
    import subprocess

    from tokenizers import Regex

    pt = pre_tokenizers.Split(Regex(r"\p{Cn}"), "removed")
    onig_cn = {cp for cp in range(0x110000) if not (0xD800 <= cp <= 0xDFFF)
               and pt.pre_tokenize_str("a" + chr(cp) + "b") == [("a", (0, 1)), ("b", (2, 3))]}
    js = (
        "const a=[];for(let cp=0;cp<0x110000;cp++){if(cp>=0xd800&&cp<=0xdfff)continue;"
        "if(/^\\p{Cn}$/u.test(String.fromCodePoint(cp)))a.push(cp);}process.stdout.write(JSON.stringify(a));"
    )
    js_cn = set(json.loads(subprocess.run(["node", "-e", js], capture_output=True, check=True, text=True).stdout))
    if js_cn - onig_cn:
        raise SystemExit(f"JavaScript has {len(js_cn - onig_cn)} unassigned chars Oniguruma assigns")
    return sorted(onig_cn - js_cn)


def rust_word_gap():
    """Chars JavaScript's Unicode `\\w` matches but HF's Whitespace pre-tokenizer (Rust `regex`,
    older tables) treats as neither word nor space."""
    import json
    import subprocess

    ws = pre_tokenizers.Whitespace()
    other = [cp for cp in range(0x110000) if not (0xD800 <= cp <= 0xDFFF) and len(ws.pre_tokenize_str("a" + chr(cp) + "b")) == 3]
    js = (
        "const w=new RegExp('^[\\\\p{Alphabetic}\\\\p{M}\\\\p{Nd}\\\\p{Pc}\\\\p{Join_Control}]$','u');"
        "const cps=JSON.parse(require('fs').readFileSync(0,'utf8'));"
        "process.stdout.write(JSON.stringify(cps.filter(cp=>w.test(String.fromCodePoint(cp)))));"
    )
    return json.loads(subprocess.run(["node", "-e", js], input=json.dumps(other), capture_output=True, check=True, text=True).stdout)


def _ranges_of(cps):
    out = []
    for cp in cps:
        if out and out[-1][1] == cp - 1:
            out[-1] = (out[-1][0], cp)
        else:
            out.append((cp, cp))
    return out


def main():
    strip = normalizers.StripAccents()
    clean = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=False, strip_accents=False, lowercase=False)
    bert_pre = pre_tokenizers.BertPreTokenizer()

    combining = ranges(lambda cp: strip.normalize_str("a" + chr(cp)) == "a")
    bert_strip = normalizers.BertNormalizer(clean_text=False, handle_chinese_chars=False, strip_accents=True, lowercase=False)
    nonspacing = ranges(lambda cp: bert_strip.normalize_str("a" + chr(cp)) == "a")
    # clean_text removes NUL, U+FFFD and `is_other` chars (tab, newline, carriage return excepted).
    removed = ranges(lambda cp: clean.normalize_str("a" + chr(cp) + "a") == "aa")
    punct = ranges(lambda cp: len(bert_pre.pre_tokenize_str("a" + chr(cp) + "a")) == 3)

    script_runs, n_classes = script_classes()
    gaps = normalization_gaps()
    onig_cn = onig_unassigned()
    word_gap = rust_word_gap()

    def fmt(name, doc, rs):
        flat = ",".join(f"0x{a:x},0x{b:x}" for a, b in rs)
        return f"/** {doc} ({len(rs)} ranges) */\nexport const {name} = new Uint32Array([{flat}]);\n"

    text = (
        "// GENERATED by tools/golden/tokenizers_unicode.py from Python `tokenizers` "
        f"{tokenizers.__version__}; do not edit.\n"
        "//\n"
        "// Character classes exactly as HF `tokenizers` applies them (its `unicode_categories` tables\n"
        "// predate current Unicode, so JavaScript's \\p{...} would differ). Each table is a flat list of\n"
        "// inclusive [first, last] code point ranges, sorted; `inRanges` searches it.\n\n"
        + fmt("COMBINING_MARK", "StripAccents (`is_combining_mark`): removed chars", combining)
        + "\n"
        + fmt("NONSPACING_MARK", "BertNormalizer strip_accents (`is_mark_nonspacing`, after NFD): removed chars", nonspacing)
        + "\n"
        + fmt("CLEAN_TEXT_REMOVED", "BertNormalizer clean_text: removed chars (NUL, U+FFFD, `is_other`)", removed)
        + "\n"
        + fmt("BERT_PUNCTUATION", "BertPreTokenizer / Punctuation: punctuation chars (ASCII punctuation or `is_punctuation`)", punct)
        + "\n"
        + "".join(
            fmt(f"NORMALIZATION_GAP_{form}", f"{form}: chars HF leaves unchanged although JavaScript's normalize() changes them", _ranges_of(gaps[form])) + "\n"
            for form in ("NFC", "NFD", "NFKC", "NFKD")
        )
        + fmt("ONIG_UNASSIGNED", "chars Oniguruma (HF's regex engine) treats as unassigned (\\\\p{Cn})", _ranges_of(onig_cn))
        + "\n"
        + "\n"
        + fmt("RUST_WORD_GAP", "Whitespace pre-tokenizer: chars JavaScript's \\\\w matches but HF's (Rust regex) does not", _ranges_of(word_gap))
        + "\n"
        + f"/** UnicodeScripts: [first, last, class] runs; class 0 = Any (never splits), {n_classes} script classes. */\n"
        + "export const SCRIPT_RUNS = new Uint32Array(["
        + ",".join(f"0x{a:x},0x{b:x},{k}" for a, b, k in script_runs if k != 0 or True)
        + "]);\n\n"
        "/** Script class of code point `cp` (0 = Any). */\n"
        "export function scriptClass(cp: number): number {\n"
        "  let lo = 0;\n"
        "  let hi = SCRIPT_RUNS.length / 3 - 1;\n"
        "  while (lo <= hi) {\n"
        "    const mid = (lo + hi) >> 1;\n"
        "    if (cp < SCRIPT_RUNS[3 * mid]!) hi = mid - 1;\n"
        "    else if (cp > SCRIPT_RUNS[3 * mid + 1]!) lo = mid + 1;\n"
        "    else return SCRIPT_RUNS[3 * mid + 2]!;\n"
        "  }\n"
        "  return 0;\n"
        "}\n\n"
        "/** Whether code point `cp` lies in one of the ranges of `table`. */\n"
        "export function inRanges(table: Uint32Array, cp: number): boolean {\n"
        "  let lo = 0;\n"
        "  let hi = (table.length >> 1) - 1;\n"
        "  while (lo <= hi) {\n"
        "    const mid = (lo + hi) >> 1;\n"
        "    if (cp < table[2 * mid]!) hi = mid - 1;\n"
        "    else if (cp > table[2 * mid + 1]!) lo = mid + 1;\n"
        "    else return true;\n"
        "  }\n"
        "  return false;\n"
        "}\n"
    )
    path = os.path.join(ROOT, "src", "tokenizers", "unicode_tables.ts")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    print(path, len(script_runs), "script runs", n_classes, "classes", len(combining), len(nonspacing), len(removed), len(punct), "ranges", os.path.getsize(path), "bytes")


if __name__ == "__main__":
    main()
