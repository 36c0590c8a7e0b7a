// Labeled data for fine-tuning: JSONL / CSV loaders, the three task shapes, label sets and seeded
// train / validation / test splits.
//
//   classify  {"text": ..., "label": ...}          label: a string (mapped through the label set) or
//                                                  an integer id (used as is)
//   seq2seq   {"source": ..., "target": ...}
//   sft       {"prompt": ..., "response": ...}     or a chat {"messages": [{"role", "content"}, ...]}
//                                                  whose LAST message is the assistant's reply
// Field names can be changed (e.g. --text-field review). A CSV file has a header row and RFC 4180
// quoting ("" inside a quoted field is one quote; fields may span lines). Every bad record is an
// error that names the file, the line and the field, before any training starts: a missing or
// non-string field, an empty text, a label outside the label set.
//
// Label sets: string labels sorted by first appearance would make ids depend on file order; tslm
// sorts the distinct labels (numeric strings numerically, others by code point) so that the same
// data always gives the same ids. The ids are saved as id2label / label2id in config.json (the
// Hugging Face fields), and a model's own label2id is reused when fine-tuning continues.
//
// Splits: a seeded Fisher-Yates permutation (tslm's Generator, so the same seed gives the same split
// on every machine); test first, then validation, then train, each keeping file order inside.
import { existsSync, readFileSync, statSync } from "node:fs";
import { extname, join } from "node:path";
import { Generator } from "../tensor/rng.js";

export type Task = "classify" | "seq2seq" | "sft";
export const TASKS: readonly Task[] = ["classify", "seq2seq", "sft"];

/** Where a record came from, for error messages. */
export interface Origin {
  file: string;
  line: number;
}

export interface ClassifyRecord {
  text: string;
  /** The raw label: a string name or an integer id. */
  label: string | number;
  origin: Origin;
}
export interface Seq2SeqRecord {
  source: string;
  target: string;
  origin: Origin;
}
export interface ChatTurn {
  role: string;
  content: string;
}
export interface SFTRecord {
  /** Either prompt/response ... */
  prompt?: string;
  response?: string;
  /** ... or a conversation whose last turn is the assistant's response. */
  messages?: ChatTurn[];
  origin: Origin;
}
export type TaskRecord = ClassifyRecord | Seq2SeqRecord | SFTRecord;

export interface FieldNames {
  text?: string;
  label?: string;
  source?: string;
  target?: string;
  prompt?: string;
  response?: string;
  messages?: string;
}

// ---------------------------------------------------------------------------------------------
// Raw rows

/** Parses CSV text (header row + RFC 4180 quoting) into objects with the line each row starts on. */
export function parseCSV(text: string, file: string): { row: Record<string, string>; line: number }[] {
  const rows: { cells: string[]; line: number }[] = [];
  let cells: string[] = [];
  let cell = "";
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  let i = 0;
  if (text.charCodeAt(0) === 0xfeff) i = 1; // BOM
  const endRow = () => {
    cells.push(cell);
    if (!(cells.length === 1 && cells[0] === "")) rows.push({ cells, line: rowLine });
    cells = [];
    cell = "";
  };
  for (; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          cell += '"';
          i++;
        } else quoted = false;
      } else {
        if (c === "\n") line++;
        cell += c;
      }
    } else if (c === '"' && cell === "") quoted = true;
    else if (c === ",") {
      cells.push(cell);
      cell = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      endRow();
      line++;
      rowLine = line;
    } else cell += c;
  }
  if (quoted) throw new Error(`${file}:${rowLine}: unterminated quoted field`);
  if (cell !== "" || cells.length) endRow();
  if (rows.length === 0) throw new Error(`${file}: empty CSV (no header row)`);
  const header = rows[0]!.cells.map((h) => h.trim());
  return rows.slice(1).map((r) => {
    if (r.cells.length !== header.length) throw new Error(`${file}:${r.line}: ${r.cells.length} fields, but the header has ${header.length} (${header.join(", ")})`);
    return { row: Object.fromEntries(header.map((h, k) => [h, r.cells[k]!])), line: r.line };
  });
}

/** Reads a .jsonl / .json (array) / .csv file into raw objects with their line numbers. */
export function readRows(file: string): { row: Record<string, unknown>; line: number }[] {
  if (!existsSync(file) || !statSync(file).isFile()) throw new Error(`${file}: no such file`);
  const text = readFileSync(file, "utf8");
  const ext = extname(file).toLowerCase();
  if (ext === ".csv") return parseCSV(text, file);
  if (ext === ".json") {
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch (e) {
      throw new Error(`${file}: ${(e as Error).message}`);
    }
    if (!Array.isArray(v)) throw new Error(`${file}: expected a JSON array of objects (or use .jsonl)`);
    return v.map((row, k) => {
      if (!row || typeof row !== "object" || Array.isArray(row)) throw new Error(`${file}: element ${k} is not an object`);
      return { row: row as Record<string, unknown>, line: k + 1 };
    });
  }
  if (ext !== ".jsonl" && ext !== ".ndjson") throw new Error(`${file}: unsupported data file type "${ext}" (use .jsonl, .json or .csv)`);
  const out: { row: Record<string, unknown>; line: number }[] = [];
  text.split("\n").forEach((l, k) => {
    if (l.trim() === "") return;
    let v: unknown;
    try {
      v = JSON.parse(l);
    } catch (e) {
      throw new Error(`${file}:${k + 1}: invalid JSON (${(e as Error).message})`);
    }
    if (!v || typeof v !== "object" || Array.isArray(v)) throw new Error(`${file}:${k + 1}: expected a JSON object`);
    out.push({ row: v as Record<string, unknown>, line: k + 1 });
  });
  return out;
}

// ---------------------------------------------------------------------------------------------
// Task records

function str(row: Record<string, unknown>, field: string, where: string, opts: { allowEmpty?: boolean } = {}): string {
  const v = row[field];
  if (v === undefined) throw new Error(`${where}: missing field "${field}" (fields: ${Object.keys(row).join(", ") || "none"})`);
  if (typeof v !== "string") throw new Error(`${where}: field "${field}" must be a string, got ${JSON.stringify(v)?.slice(0, 40)}`);
  if (!opts.allowEmpty && v.trim() === "") throw new Error(`${where}: field "${field}" is empty`);
  return v;
}

/** Parses raw rows into records of `task`; the first bad record is an error naming file:line and field. */
export function toRecords(task: Task, rows: { row: Record<string, unknown>; line: number }[], file: string, fields: FieldNames = {}): TaskRecord[] {
  if (rows.length === 0) throw new Error(`${file}: no examples`);
  return rows.map(({ row, line }) => {
    const where = `${file}:${line}`;
    const origin = { file, line };
    if (task === "classify") {
      const text = str(row, fields.text ?? "text", where);
      const lf = fields.label ?? "label";
      const label = row[lf];
      if (label === undefined || label === null) throw new Error(`${where}: missing field "${lf}"`);
      if (typeof label === "number") {
        if (!Number.isInteger(label) || label < 0) throw new Error(`${where}: field "${lf}" must be a label name or a non-negative integer id, got ${label}`);
        return { text, label, origin };
      }
      if (typeof label !== "string" || label.trim() === "") throw new Error(`${where}: field "${lf}" must be a non-empty label name or an integer id, got ${JSON.stringify(label)}`);
      return { text, label, origin };
    }
    if (task === "seq2seq") return { source: str(row, fields.source ?? "source", where), target: str(row, fields.target ?? "target", where), origin };
    const mf = fields.messages ?? "messages";
    if (row[mf] !== undefined) {
      const msgs = row[mf];
      if (!Array.isArray(msgs) || msgs.length < 2) throw new Error(`${where}: field "${mf}" must be a list of at least two {role, content} messages`);
      const turns = msgs.map((m, k) => {
        if (!m || typeof m !== "object") throw new Error(`${where}: ${mf}[${k}] is not an object`);
        const mm = m as Record<string, unknown>;
        return { role: str(mm, "role", `${where}: ${mf}[${k}]`), content: str(mm, "content", `${where}: ${mf}[${k}]`) };
      });
      if (turns.at(-1)!.role !== "assistant") throw new Error(`${where}: the last message of "${mf}" must be the assistant's (the response to learn), got role "${turns.at(-1)!.role}"`);
      return { messages: turns, origin };
    }
    return { prompt: str(row, fields.prompt ?? "prompt", where), response: str(row, fields.response ?? "response", where), origin };
  });
}

/** Records from a file. */
export function loadRecords(task: Task, file: string, fields: FieldNames = {}): TaskRecord[] {
  return toRecords(task, readRows(file), file, fields);
}

/**
 * A data argument: a file, or a folder holding train / validation / test files (.jsonl, .csv or .json;
 * "valid" and "dev" are accepted for validation). Returns the named splits that exist.
 */
export function resolveDataSplits(path: string): { train?: string; validation?: string; test?: string; single?: string } {
  if (!existsSync(path)) throw new Error(`${path}: no such file or folder`);
  if (statSync(path).isFile()) return { single: path };
  const find = (names: string[]) => {
    for (const n of names) for (const ext of [".jsonl", ".csv", ".json"]) if (existsSync(join(path, n + ext))) return join(path, n + ext);
    return undefined;
  };
  const out = { train: find(["train"]), validation: find(["validation", "valid", "dev"]), test: find(["test"]) };
  if (!out.train) throw new Error(`${path}: a data folder needs train.jsonl (or .csv / .json), and may have validation and test files`);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Label sets

export class LabelSet {
  readonly label2id: Record<string, number>;
  constructor(readonly names: readonly string[]) {
    if (names.length < 1) throw new Error("label set: no labels");
    this.label2id = {};
    names.forEach((n, i) => {
      if (n in this.label2id) throw new Error(`label set: "${n}" appears twice`);
      this.label2id[n] = i;
    });
  }

  get size(): number {
    return this.names.length;
  }

  get id2label(): Record<string, string> {
    return Object.fromEntries(this.names.map((n, i) => [String(i), n]));
  }

  /** The distinct labels of training records, sorted (numbers numerically). Integer ids make LABEL_0.. names up to the largest id. */
  static fromRecords(records: readonly ClassifyRecord[]): LabelSet {
    const ints = records.filter((r) => typeof r.label === "number");
    if (ints.length && ints.length !== records.length) {
      const r = records.find((x) => typeof x.label === "string")!;
      throw new Error(`${r.origin.file}:${r.origin.line}: label ${JSON.stringify(r.label)} is a name but other labels are integer ids; use one kind`);
    }
    if (ints.length) {
      const max = Math.max(...ints.map((r) => r.label as number));
      return new LabelSet(Array.from({ length: max + 1 }, (_, i) => `LABEL_${i}`));
    }
    const distinct = [...new Set(records.map((r) => r.label as string))];
    const numeric = distinct.every((d) => /^-?\d+(\.\d+)?$/.test(d));
    distinct.sort(numeric ? (a, b) => Number(a) - Number(b) : (a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return new LabelSet(distinct);
  }

  /** A model config's id2label (ids 0..K-1 in order). */
  static fromConfig(id2label: Record<string, string>): LabelSet {
    const K = Object.keys(id2label).length;
    return new LabelSet(Array.from({ length: K }, (_, i) => {
      const n = id2label[String(i)];
      if (n === undefined) throw new Error(`config.json id2label has no entry for id ${i} (ids must be 0..${K - 1})`);
      return n;
    }));
  }

  /** The id of a record's label; a label outside the set is an error naming the line. */
  idOf(r: ClassifyRecord): number {
    if (typeof r.label === "number") {
      if (r.label >= this.size) throw new Error(`${r.origin.file}:${r.origin.line}: label id ${r.label} is outside the label set (ids 0..${this.size - 1}: ${this.names.join(", ")})`);
      return r.label;
    }
    const id = this.label2id[r.label];
    if (id === undefined) throw new Error(`${r.origin.file}:${r.origin.line}: label "${r.label}" is not in the label set (${this.names.map((n) => JSON.stringify(n)).join(", ")})`);
    return id;
  }
}

// ---------------------------------------------------------------------------------------------
// Splits

export interface SplitSizes {
  /** A fraction in (0, 1) or a count >= 1. */
  validation?: number;
  test?: number;
}

function count(n: number, x: number | undefined, what: string): number {
  if (x === undefined || x === 0) return 0;
  if (!(x > 0)) throw new Error(`split: ${what} must be a fraction in (0, 1) or a count >= 1, got ${x}`);
  return x < 1 ? Math.round(x * n) : Math.floor(x);
}

/** A seeded permutation of 0..n-1 (Fisher-Yates with tslm's Generator). */
export function permutation(n: number, seed: number): number[] {
  const g = new Generator(seed);
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = g.randint(i + 1);
    [p[i], p[j]] = [p[j]!, p[i]!];
  }
  return p;
}

/** Splits items into train / validation / test by a seeded permutation; each part keeps input order. */
export function splitSeeded<T>(items: readonly T[], sizes: SplitSizes, seed: number): { train: T[]; validation: T[]; test: T[] } {
  const n = items.length;
  const nTest = count(n, sizes.test, "test");
  const nVal = count(n, sizes.validation, "validation");
  if (nTest + nVal >= n) throw new Error(`split: ${n} examples cannot give ${nTest} test and ${nVal} validation examples and still leave some for training`);
  const perm = permutation(n, seed);
  const part = new Uint8Array(n); // 0 train, 1 validation, 2 test
  perm.slice(0, nTest).forEach((i) => (part[i] = 2));
  perm.slice(nTest, nTest + nVal).forEach((i) => (part[i] = 1));
  const out = { train: [] as T[], validation: [] as T[], test: [] as T[] };
  items.forEach((x, i) => (part[i] === 2 ? out.test : part[i] === 1 ? out.validation : out.train).push(x));
  return out;
}
