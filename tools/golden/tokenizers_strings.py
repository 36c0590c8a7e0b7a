"""The committed table of test strings for the tokenizer golden fixtures.

Categories the issue asks for: English, Chinese, Japanese, emoji and ZWJ sequences, combining
marks, whitespace runs, tabs and newlines, code, numbers, special tokens inside text, very long
words, the empty string, lone and odd characters. `strings()` returns them in a fixed order; the
golden tool writes them to fixtures/tokenizers/strings.json so the TypeScript tests read the same
table.
"""

BASE = [
    # --- empty and tiny
    "", " ", "  ", "a", "A", ".", "\n", "\t", "0", "'", "''", "'s", "I", "é", "中",
    # --- English
    "Hello world",
    "Hello, world!",
    "The quick brown fox jumps over the lazy dog.",
    "It's a truth universally acknowledged, that a single man in possession of a good fortune, must be in want of a wife.",
    "I'm sure you'll see they've done what we'd said they'd do.",
    "DON'T SHOUT, IT'S RUDE! We'RE FINE.",
    "Mr. O'Neil's dog—a spaniel—barked; then (quietly) it slept...",
    "unaffable reconsideration antidisestablishmentarianism",
    "Call me Ishmael. Some years ago—never mind how long precisely—having little or no money in my purse,",
    "the the the the the the the the",
    "HELLO hello Hello hElLo",
    "e-mail: someone@example.com, web: https://example.org/path?q=1&r=2#frag",
    "Tokenizers split text into tokens; tokens map to ids.",
    "A sentence with trailing spaces   ",
    "   A sentence with leading spaces",
    "Question? Answer! Ellipsis… Dash – and — em.",
    "“Curly quotes” and ‘single ones’ and «guillemets»",
    "naïve café résumé coöperate façade jalapeño",
    "Straße Größe Übermaß ÆØÅ æøå",
    "İstanbul ıi IJ ﬁ ﬂ ﬀ",
    "ΑΒΓ αβγ Σίσυφος ΟΔΟΣ",
    "Москва — столица России.",
    "مرحبا بالعالم",
    "שלום עולם",
    "नमस्ते दुनिया",
    "สวัสดีชาวโลก",
    "안녕하세요 세계",
    "Xin chào thế giới",
    # --- Chinese
    "你好，世界",
    "你好世界",
    "我爱自然语言处理。",
    "北京是中华人民共和国的首都。",
    "床前明月光，疑是地上霜。举头望明月，低头思故乡。",
    "今天天气很好，我们去公园散步吧！",
    "中文English混合mixed文本text",
    "第1章 第二节 3.14159 百分之五十",
    "「引号」『双引号』【括号】（全角）",
    "𠀀𠀁𪚥 rare CJK extension B",
    "龘靐齉",
    # --- Japanese
    "こんにちは世界",
    "日本語のテキストを分割します。",
    "カタカナとひらがなと漢字",
    "ｶﾀｶﾅ半角 ＡＢＣ全角 １２３",
    "東京都渋谷区１－２－３",
    "吾輩は猫である。名前はまだ無い。",
    # --- emoji
    "😀",
    "😀😃😄😁",
    "I ❤️ NY",
    "👍🏽 thumbs up with skin tone",
    "👨‍👩‍👧‍👦 family ZWJ",
    "🏳️‍🌈 flag with ZWJ",
    "🧑🏿‍💻 technologist",
    "🇫🇷🇯🇵🇺🇸 regional indicators",
    "emoji in text 🚀 rocket 🌍 earth",
    "❤\ufe0f heart with variation selector",
    "#️⃣ keycap",
    "👩‍❤️‍💋‍👨",
    # --- combining marks
    "e\u0301",
    "cafe\u0301",
    "a\u0300\u0301\u0302\u0303",
    "n\u0303o\u0308",
    "Z\u0351\u036b\u0343\u036a\u0302\u036b\u033d\u034f\u0334\u0319\u0324\u031e\u0349\u035a\u032f\u031e\u0320\u034dA\u036b\u0357\u0334\u0362\u0335\u031c\u0330\u0354L\u0368\u0367\u0369\u0358\u0320G\u0311\u0357\u030e\u0305\u035b\u0341\u0334\u033b\u0348\u034d\u0354\u0339O\u0342\u030c\u030c\u0358\u0328\u0335\u0339\u033b\u031d\u0333",
    "\u0301 leading combining mark",
    "한국어 \u1100\u1161\u11a8 jamo",
    "Å Å Å angstrom forms",
    "ﬃ ligature ℌ ℍ ① ⑴ ㈱",
    "x\u0323\u0307 dot below and above",
    # --- whitespace
    "two  spaces",
    "three   spaces",
    "many          spaces",
    "tab\there",
    "tabs\t\t\tmany",
    "new\nline",
    "new\n\nlines\n\n\n",
    "\n\nleading newlines",
    "windows\r\nline\r\nendings",
    "mixed \t\n \r\n whitespace",
    " \t \n ",
    "nbsp\u00a0here",
    "ideographic\u3000space",
    "em\u2003space thin\u2009space",
    "zero\u200bwidth\u200bspace",
    "next\u0085line",
    "bom\ufeffinside",
    "line\u2028sep para\u2029sep",
    "trailing newline\n",
    "   ",
    "\t",
    "\n\n\n",
    # --- code
    "def add(a, b):\n    return a + b\n",
    "for (let i = 0; i < n; i++) { sum += a[i]; }",
    "if x == 1:\n\tprint('one')\nelse:\n\tprint(\"other\")",
    "const re = /^[a-z]+$/gi;",
    "<div class=\"main\"><p>Hello</p></div>",
    "SELECT * FROM users WHERE id = 42;",
    "#include <stdio.h>\nint main(void) { printf(\"hi\\n\"); return 0; }",
    "x=>x*2 && y||z != w",
    "    indented four\n        indented eight",
    "snake_case camelCase PascalCase kebab-case SCREAMING_CASE",
    "{\"key\": [1, 2, 3], \"nested\": {\"a\": null}}",
    "path/to/file.txt C:\\Windows\\System32",
    "a.b.c.d e::f::g h->i",
    "```python\nprint(1)\n```",
    "$ npm install --save-dev tslm@1.2.3",
    # --- numbers
    "1234567890",
    "3.14159265358979",
    "1,000,000",
    "-42 +17 0.5e-10",
    "2026-11-28 12:34:56",
    "phone: +1 (555) 123-4567",
    "v1.2.3-beta.4",
    "0x1F 0b1010 0o777",
    "١٢٣ ٤٥٦ arabic digits",
    "१२३ devanagari digits",
    "Ⅻ roman numeral ½ ¾ ²³",
    "12345678901234567890123456789",
    "100%",
    "$19.99 €5 £3 ¥100",
    # --- special-token-like text
    "<|endoftext|>",
    "Hello<|endoftext|>world",
    "before <|endoftext|> after",
    "<|endoftext|><|endoftext|>",
    "<s>hello</s>",
    "<s> spaced </s>",
    "<unk>",
    "[CLS] hello [SEP] world [SEP]",
    "[MASK] is a mask",
    "[PAD][PAD]",
    "<|begin_of_text|>Hi<|eot_id|>",
    "<|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|>",
    "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nHi<|im_end|>",
    "<|im_start|>assistant\n<think>\n\n</think>\n\nOK<|im_end|>",
    "<|endoftext|",
    "<|im_start",
    "<|fim_prefix|>def f():<|fim_suffix|>\n<|fim_middle|>",
    "text<tool_call>{\"a\":1}</tool_call>",
    # --- very long words
    "a" * 200,
    "ab" * 150,
    "supercalifragilisticexpialidocious" * 4,
    "x" * 101,
    "中" * 120,
    "😀" * 60,
    "https://example.com/" + "very-long-path-segment/" * 10,
    "".join(chr(0x61 + (i * 7) % 26) for i in range(300)),
    "9" * 150,
    "-" * 80,
    "=" * 64,
    "." * 50,
    # --- lone / odd characters
    "\x00",
    "nul\x00inside",
    "\x01\x02\x03 control",
    "\x7f delete",
    "\ufffd replacement char",
    "\ufffd",
    "\ud800",
    "lone high \ud83d surrogate",
    "lone low \ude00 surrogate",
    "\udc00\ud800 reversed pair",
    "\U0010ffff max code point",
    "\ue000 private use",
    "\U000e0001 tag char",
    "\u00ad soft hyphen",
    "\u200d alone zwj",
    "\u200e\u200f direction marks",
    "\u202e reversed \u202c",
    "ſ long s and 'ſ apostrophe",
    "'S 'T 'RE 'VE 'M 'LL 'D",
    "K kelvin 'K",
    "\u0130 dotted capital I",
    "\u1e9e capital sharp s",
    "Ǆǅǆ digraphs",
    "\u00b5 micro \u03bc mu",
    "\u2126 ohm \u03a9 omega",
    "𝐇𝐞𝐥𝐥𝐨 𝕎𝕠𝕣𝕝𝕕",
    "\u3164 hangul filler",
    "a\u0000b\u0000c",
]

# More ordinary prose and mixed text (the common case must be right too).
BASE += [
    "In the beginning God created the heaven and the earth.",
    "To be, or not to be, that is the question:",
    "Alice was beginning to get very tired of sitting by her sister on the bank.",
    "It was the best of times, it was the worst of times.",
    "We hold these truths to be self-evident, that all men are created equal.",
    "Four score and seven years ago our fathers brought forth on this continent a new nation.",
    "The model's loss fell from 10.8 to 3.2 after 1,000 steps (lr=3e-4).",
    "GPT-2, BERT, LLaMA-3 and Qwen3 tokenize differently.",
    "She said: \"I'll be there at 5 o'clock.\"",
    "Don't, won't, can't, shouldn't've, y'all'd've",
    "rock'n'roll ma'am o'clock 'tis",
    "U.S.A. e.g. i.e. etc. vs.",
    "#hashtag @mention $ticker %percent ^caret &amp *star",
    "a+b=c; x-y=z; p*q/r",
    "¡Hola! ¿Qué tal? Ça va? Grüß Gott!",
    "Το γρήγορο καφέ αλεπού",
    "Съешь же ещё этих мягких французских булок, да выпей чаю.",
    "Pchnąć w tę łódź jeża lub ośm skrzyń fig.",
    "Þú ert ágæt. Ðetta er gott.",
    "中华人民共和国成立于1949年10月1日。",
    "机器学习（Machine Learning）是人工智能的一个分支。",
    "我们在2026年用TypeScript写了一个分词器。",
    "他说：“你好！”然后走了。",
    "東京タワーは333メートルです。",
    "私はプログラマーです。よろしくお願いします。",
    "ラーメン🍜を食べたい！",
    "日本語とEnglishと中文と한국어",
    "emoji at end 🎉",
    "🎉 emoji at start",
    "multiple\n\nparagraphs\n\nof text.\n",
]

BASE += ["\ufeffBOM at the start", "\ufeff", "\ufeff\ufeff two"]

# Seeded random strings over a pool of tricky pieces: they found the BOM decoding bug above.
RANDOM_POOL = (
    list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") * 3
    + list(" \t\n\r.,;:'\"!?()[]{}<>-_=+*/\\|@#$%^&~`") * 2
    + list("éèêëàâäôöûüçñßøåæœÉÀ") + list("你好世界中文字符测试北京") + list("こんにちはカタカナ漢字") + list("한국어")
    + ["😀", "👍", "🏽", "\u200d", "👨", "👩", "❤", "\ufe0f", "🇫", "🇷", "\u0301", "\u0300", "\u0323", "\u0308", "\u00a0",
       "\u3000", "\u2003", "\u0085", "\ufeff", "\u200b", "ſ", "K", "ﬁ", "①", "Å", "Ω", "İ", "\x00", "\x7f", "\ufffd",
       "ा", "ि", "्", "न", "\U0001d400", "𠀀"]
    + ["<|endoftext|>", "<s>", "</s>", "[CLS]", "[SEP]", "<|im_start|>", "<|begin_of_text|>", "'s", "'LL", "  ", "   ", "\n\n"]
)


def random_strings(seed=20261128, n=100):
    import random

    rng = random.Random(seed)
    return ["".join(rng.choice(RANDOM_POOL) for _ in range(rng.randint(1, 30))) for _ in range(n)]


# Combinations to widen coverage of boundaries between categories.
WORDS = ["hello", "Hello", "世界", "😀", "123", "x\u0301", "\t", "  ", "\n", "it's", "<|endoftext|>", "[SEP]", "é", "–", "ﬁ"]


def strings():
    out = list(BASE)
    # Pairs of fragments with different glue.
    glue = ["", " ", "  ", "\n", "\t"]
    k = 0
    for i, a in enumerate(WORDS):
        for j, b in enumerate(WORDS):
            if (i * 7 + j * 3) % 3 == 0:
                out.append(a + glue[k % len(glue)] + b)
                k += 1
    # Numbers of every length 1..12 (digit grouping differs across tokenizers).
    for n in range(1, 13):
        out.append("".join(str((d * 7 + n) % 10) for d in range(n)))
    # Space runs of every length before a word.
    for n in range(1, 9):
        out.append(" " * n + "word")
        out.append("word" + " " * n)
    out += random_strings()
    seen = set()
    uniq = []
    for s in out:
        if s not in seen:
            seen.add(s)
            uniq.append(s)
    return uniq


# Sequence pairs for type ids and pair templates.
PAIRS = [
    ("Hello world", "How are you?"),
    ("你好", "世界"),
    ("", "second only"),
    ("first only", ""),
    ("What is 2+2?", "It is 4."),
    ("The cat sat.", "On the mat 😀"),
    ("<|endoftext|>", "[SEP]"),
    ("  spaces  ", "\ttabs\t"),
]
