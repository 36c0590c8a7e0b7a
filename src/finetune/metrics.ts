// Evaluation metrics for fine-tuned models: classification (accuracy, macro-F1, confusion matrix)
// and translation / seq2seq (corpus BLEU and chrF, as sacrebleu 2.x computes them).
//
// BLEU follows sacrebleu's BLEU with its defaults (metrics/bleu.py): each segment is right-stripped
// and tokenized ("13a" = mteval-v13a: HTML entity unescape + the regexp tokenizer; "zh" = every
// character in sacrebleu's Chinese ranges spaced out, then the same regexps; "none" = split on
// whitespace), n-grams 1..4 counted and clipped by the max count over the references, the closest
// reference length (ties: the shorter), corpus statistics summed, brevity penalty
// exp(1 - r / c), "exp" smoothing (a zero n-gram count gets 100 / (2^k * total)) and a score of 0
// when nothing matches. sentence BLEU uses effective order, as sacrebleu's sentence_bleu does.
// chrF follows sacrebleu's CHRF defaults (chrF2): character n-grams 1..6 on the text with all
// whitespace removed, no word n-grams, beta 2; per segment the reference with the best f-score is
// kept; corpus statistics are summed and the F-beta of the averaged precision and recall is the
// score (x 100).
// Faithful quirk: sacrebleu's zh ranges compare strings, so its "\u20000".."\u2a6d6" entry covers
// U+2001..U+2A6D (punctuation such as "—" and curly quotes included) and no astral ideograph; tslm
// reproduces that, so scores equal sacrebleu's (fixtures/finetune/metrics.json, tools/golden/finetune.py).
// Strings are iterated by code point, like Python's str.

// ---------------------------------------------------------------------------------------------
// Classification

export interface ClassificationReport {
  n: number;
  accuracy: number;
  macroF1: number;
  /** Per class: precision, recall, F1 and support (true examples). */
  perClass: { label: string; precision: number; recall: number; f1: number; support: number }[];
  /** confusion[true][predicted] counts. */
  confusion: number[][];
  labels: string[];
}

/**
 * Accuracy, macro-F1 (the unweighted mean of per-class F1, scikit-learn's f1_score(average="macro")
 * over every class of the label set: a class never predicted and never true counts as F1 0, as
 * scikit-learn does with zero_division=0) and the confusion matrix.
 */
export function classificationReport(yTrue: readonly number[], yPred: readonly number[], labels: readonly string[]): ClassificationReport {
  if (yTrue.length !== yPred.length) throw new Error(`classificationReport: ${yTrue.length} true labels but ${yPred.length} predictions`);
  const K = labels.length;
  const confusion = Array.from({ length: K }, () => new Array<number>(K).fill(0));
  let correct = 0;
  yTrue.forEach((t, i) => {
    const p = yPred[i]!;
    if (!(t >= 0 && t < K && p >= 0 && p < K)) throw new Error(`classificationReport: example ${i} has label ${t} / prediction ${p} outside [0, ${K})`);
    confusion[t]![p]!++;
    if (t === p) correct++;
  });
  const perClass = labels.map((label, k) => {
    const tp = confusion[k]![k]!;
    const predicted = confusion.reduce((s, row) => s + row[k]!, 0);
    const support = confusion[k]!.reduce((s, x) => s + x, 0);
    const precision = predicted ? tp / predicted : 0;
    const recall = support ? tp / support : 0;
    const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
    return { label, precision, recall, f1, support };
  });
  const n = yTrue.length;
  return { n, accuracy: n ? correct / n : 0, macroF1: K ? perClass.reduce((s, c) => s + c.f1, 0) / K : 0, perClass, confusion, labels: [...labels] };
}

/** A fixed-width text rendering of the confusion matrix (rows = true, columns = predicted). */
export function formatConfusion(r: ClassificationReport): string {
  const w = Math.max(8, ...r.labels.map((l) => l.length + 1), ...r.confusion.flat().map((x) => String(x).length + 1));
  const cell = (s: string) => s.padStart(w);
  const lines = [cell("true\\pred") + r.labels.map(cell).join("")];
  r.confusion.forEach((row, i) => lines.push(cell(r.labels[i]!) + row.map((x) => cell(String(x))).join("")));
  return lines.join("\n");
}

// ---------------------------------------------------------------------------------------------
// Tokenizers for BLEU

/** sacrebleu's TokenizerRegexp (the language-independent part of mteval-v13a). */
export function tokenizeRegexp(line: string): string {
  line = line.replace(/([\{-\~\[-\` -\&\(-\+\:-\@\/])/g, " $1 ");
  line = line.replace(/([^0-9])([.,])/g, "$1 $2 ");
  line = line.replace(/([.,])([^0-9])/g, " $1 $2");
  line = line.replace(/([0-9])(-)/g, "$1 $2 ");
  return splitWhitespace(line).join(" ");
}

/** Python's str.split(): runs of whitespace, no empty strings. */
function splitWhitespace(s: string): string[] {
  return s.split(/[\s\x1c-\x1f\x85]+/u).filter((x) => x.length > 0);
}

/** sacrebleu's Tokenizer13a. */
export function tokenize13a(line: string): string {
  line = line.replaceAll("<skipped>", "").replaceAll("-\n", "").replaceAll("\n", " ");
  if (line.includes("&")) line = line.replaceAll("&quot;", '"').replaceAll("&amp;", "&").replaceAll("&lt;", "<").replaceAll("&gt;", ">");
  return tokenizeRegexp(` ${line} `);
}

// sacrebleu's _UCODE_RANGES as the code-point ranges Python's string comparison makes of them.
const ZH_RANGES: [number, number][] = [
  [0x3400, 0x4db5], [0x4e00, 0x9fa5], [0x9fa6, 0x9fbb], [0xf900, 0xfa2d], [0xfa30, 0xfa6a], [0xfa70, 0xfad9],
  [0x2001, 0x2a6d], // written "\u20000".."\u2a6d6": two-character strings (see header)
  [0x2f81, 0x2fa1], // written "\u2f800".."\u2fa1d"
  [0xff00, 0xffef], [0x2e80, 0x2eff], [0x3000, 0x303f], [0x31c0, 0x31ef], [0x2f00, 0x2fdf], [0x2ff0, 0x2fff],
  [0x3100, 0x312f], [0x31a0, 0x31bf], [0xfe10, 0xfe1f], [0xfe30, 0xfe4f], [0x2600, 0x26ff], [0x2700, 0x27bf],
  [0x3200, 0x32ff], [0x3300, 0x33ff],
];

function isZhChar(cp: number): boolean {
  for (const [a, b] of ZH_RANGES) if (cp >= a && cp <= b) return true;
  return false;
}

/** sacrebleu's TokenizerZh: Chinese characters spaced out, then the 13a regexps. */
export function tokenizeZh(line: string): string {
  let out = "";
  for (const ch of pyStrip(line)) out += isZhChar(ch.codePointAt(0)!) ? ` ${ch} ` : ch;
  return tokenizeRegexp(out);
}

function pyStrip(s: string): string {
  return s.replace(/^[\s\x1c-\x1f\x85]+|[\s\x1c-\x1f\x85]+$/gu, "");
}

export type BleuTokenizer = "13a" | "zh" | "none";

export function bleuTokenize(line: string, tokenizer: BleuTokenizer): string {
  if (tokenizer === "13a") return tokenize13a(line);
  if (tokenizer === "zh") return tokenizeZh(line);
  if (tokenizer === "none") return line;
  throw new Error(`BLEU: unknown tokenizer ${JSON.stringify(tokenizer)} (13a, zh, none)`);
}

// ---------------------------------------------------------------------------------------------
// BLEU

export interface BleuResult {
  score: number;
  counts: number[];
  totals: number[];
  precisions: number[];
  bp: number;
  sysLen: number;
  refLen: number;
  tokenizer: BleuTokenizer;
}

function ngramCounts(words: string[], maxN: number): Map<string, number> {
  const m = new Map<string, number>();
  for (let n = 1; n <= maxN; n++) {
    for (let i = 0; i + n <= words.length; i++) {
      // Key: the order, then the words joined by U+0001 (a control character no tokenizer emits).
      const key = `${n}\u0001${words.slice(i, i + n).join("\u0001")}`;
      m.set(key, (m.get(key) ?? 0) + 1);
    }
  }
  return m;
}

function checkRefs(hyps: readonly string[], refs: readonly (readonly string[])[], what: string): void {
  if (refs.length === 0) throw new Error(`${what}: no reference streams`);
  refs.forEach((r, i) => {
    if (r.length !== hyps.length) throw new Error(`${what}: reference stream ${i} has ${r.length} segments but there are ${hyps.length} hypotheses`);
  });
}

/** Segment statistics: [hypLen, refLen, correct x4, total x4]. */
function bleuStats(hyp: string, refs: string[], tokenizer: BleuTokenizer, maxN: number): number[] {
  const hw = splitWhitespace(bleuTokenize(hyp.trimEnd(), tokenizer));
  const refNgrams = new Map<string, number>();
  const refLens: number[] = [];
  for (const r of refs) {
    const rw = splitWhitespace(bleuTokenize(r.trimEnd(), tokenizer));
    refLens.push(rw.length);
    for (const [k, c] of ngramCounts(rw, maxN)) refNgrams.set(k, Math.max(refNgrams.get(k) ?? 0, c));
  }
  let refLen = -1;
  let bestDiff = -1;
  for (const l of refLens) {
    const d = Math.abs(hw.length - l);
    if (bestDiff === -1 || d < bestDiff || (d === bestDiff && l < refLen)) {
      bestDiff = d;
      refLen = l;
    }
  }
  const correct = new Array<number>(maxN).fill(0);
  const total = new Array<number>(maxN).fill(0);
  for (const [k, c] of ngramCounts(hw, maxN)) {
    const n = Number(k.slice(0, k.indexOf("\u0001"))) - 1;
    total[n] += c;
    const r = refNgrams.get(k);
    if (r) correct[n] += Math.min(c, r);
  }
  return [hw.length, refLen, ...correct, ...total];
}

function bleuFromStats(stats: number[], maxN: number, effectiveOrder: boolean, tokenizer: BleuTokenizer): BleuResult {
  const [sysLen, refLen] = stats as [number, number];
  const correct = stats.slice(2, 2 + maxN);
  const totals = stats.slice(2 + maxN, 2 + 2 * maxN);
  const precisions = new Array<number>(maxN).fill(0);
  const bp = sysLen < refLen ? (sysLen > 0 ? Math.exp(1 - refLen / sysLen) : 0) : 1;
  const base = { counts: correct, totals, bp, sysLen, refLen, tokenizer };
  if (!correct.some((c) => c > 0)) return { score: 0, precisions, ...base };
  let smooth = 1;
  let effOrder = maxN;
  for (let n = 1; n <= maxN; n++) {
    if (totals[n - 1] === 0) break;
    if (effectiveOrder) effOrder = n;
    if (correct[n - 1] === 0) {
      smooth *= 2;
      precisions[n - 1] = 100 / (smooth * totals[n - 1]!);
    } else precisions[n - 1] = (100 * correct[n - 1]!) / totals[n - 1]!;
  }
  // sacrebleu's my_log: log(0) is -9999999999 (so a missing order gives a score of 0).
  const logs = precisions.slice(0, effOrder).map((p) => (p === 0 ? -9999999999 : Math.log(p)));
  const score = bp * Math.exp(logs.reduce((a, b) => a + b, 0) / effOrder);
  return { score, precisions, ...base };
}

/**
 * sacrebleu's corpus_bleu(hypotheses, references, tokenize=...): `refs[k][i]` is the k-th reference
 * of segment i (one array per reference stream, as sacrebleu takes them).
 */
export function corpusBleu(hyps: readonly string[], refs: readonly (readonly string[])[], opts: { tokenize?: BleuTokenizer; maxNgramOrder?: number } = {}): BleuResult {
  checkRefs(hyps, refs, "corpusBleu");
  const maxN = opts.maxNgramOrder ?? 4;
  const tok = opts.tokenize ?? "13a";
  const sum = new Array<number>(2 + 2 * maxN).fill(0);
  hyps.forEach((h, i) => {
    const s = bleuStats(h, refs.map((r) => r[i]!), tok, maxN);
    s.forEach((x, j) => (sum[j] += x));
  });
  return bleuFromStats(sum, maxN, false, tok);
}

/** sacrebleu's sentence_bleu (effective order on). */
export function sentenceBleu(hyp: string, refs: readonly string[], opts: { tokenize?: BleuTokenizer } = {}): BleuResult {
  const tok = opts.tokenize ?? "13a";
  return bleuFromStats(bleuStats(hyp, [...refs], tok, 4), 4, true, tok);
}

// ---------------------------------------------------------------------------------------------
// chrF

function charNgrams(line: string, maxN: number): Map<string, number>[] {
  const chars = Array.from(splitWhitespace(line).join(""));
  const out: Map<string, number>[] = [];
  for (let n = 1; n <= maxN; n++) {
    const m = new Map<string, number>();
    for (let i = 0; i + n <= chars.length; i++) {
      const k = chars.slice(i, i + n).join("");
      m.set(k, (m.get(k) ?? 0) + 1);
    }
    out.push(m);
  }
  return out;
}

function chrfF(stats: number[], order: number, beta: number): number {
  const eps = 1e-16;
  const factor = beta * beta;
  let avgP = 0;
  let avgR = 0;
  let eff = 0;
  for (let i = 0; i < order; i++) {
    const [nh, nr, nm] = [stats[3 * i]!, stats[3 * i + 1]!, stats[3 * i + 2]!];
    const p = nh > 0 ? nm / nh : eps;
    const r = nr > 0 ? nm / nr : eps;
    if (nh > 0 && nr > 0) {
      avgP += p;
      avgR += r;
      eff++;
    }
  }
  if (eff === 0) return 0;
  avgP /= eff;
  avgR /= eff;
  if (avgP + avgR === 0) return 0;
  return (100 * (1 + factor) * avgP * avgR) / (factor * avgP + avgR);
}

/** sacrebleu's corpus_chrf with its defaults (chrF2: char order 6, word order 0, beta 2). */
export function corpusChrf(hyps: readonly string[], refs: readonly (readonly string[])[], opts: { charOrder?: number; beta?: number } = {}): { score: number } {
  checkRefs(hyps, refs, "corpusChrf");
  const N = opts.charOrder ?? 6;
  const beta = opts.beta ?? 2;
  const sum = new Array<number>(3 * N).fill(0);
  hyps.forEach((h, i) => {
    const hg = charNgrams(h, N);
    let best: number[] = [];
    let bestF = -1;
    for (const stream of refs) {
      const rg = charNgrams(stream[i]!, N);
      const stats: number[] = [];
      for (let n = 0; n < N; n++) {
        let match = 0;
        let hc = 0;
        for (const [k, c] of hg[n]!) {
          hc += c;
          const rc = rg[n]!.get(k);
          if (rc) match += Math.min(c, rc);
        }
        let rcount = 0;
        for (const c of rg[n]!.values()) rcount += c;
        // sacrebleu counts no hypothesis n-grams of an order the reference has none of.
        stats.push(rg[n]!.size > 0 ? hc : 0, rcount, match);
      }
      const f = chrfF(stats, N, beta);
      if (f > bestF) {
        bestF = f;
        best = stats;
      }
    }
    best.forEach((x, j) => (sum[j] += x));
  });
  return { score: chrfF(sum, N, beta) };
}
