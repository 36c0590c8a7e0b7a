// Unigram (SentencePiece) training, following Hugging Face `tokenizers`' `UnigramTrainer`
// (tokenizers/src/models/unigram/trainer.rs), which follows SentencePiece's unigram_model_trainer:
//
//   1. seed pieces: every character (weighted by word count) and every repeated substring of the
//      distinct words (the internal nodes of their suffix tree, found here with a suffix array and
//      its LCP intervals, as HF does with esaxx), scored by occurrences x length, the best
//      `seedSize`; scores become log probabilities;
//   2. EM: `nSubIterations` rounds of E-step (forward-backward over each word's lattice gives the
//      expected count of every piece) and M-step (drop pieces expected < 0.5 times, new log
//      probability digamma(count) - digamma(total), the Bayesian estimate SentencePiece uses);
//   3. prune: keep the pieces whose removal would cost the most likelihood (each piece's loss is
//      computed from its best alternative segmentation), shrinking to max(75%, 1.1 x vocab size);
//      repeat 2-3 until at most 1.1 x vocab size remain;
//   4. finalize: every character is kept (coverage), then the best pieces up to the vocabulary
//      size, sorted by score; special tokens (and the unknown token) come first with score 0.
//
// Exact equality with HF is not the goal here (HF's own output depends on hash-map order in the
// finalize step), but the quantities follow HF's formulas, including one we reproduce on purpose:
// the alternative's normalizer uses the total piece count (`alternatives.len()` in HF) where
// SentencePiece uses the piece's own alternative count; it changes which pieces are pruned.

export interface UnigramTrainerOptions {
  vocabSize: number;
  specialTokens?: string[];
  /** Unknown token; put first if it is not among the special tokens. */
  unkToken?: string;
  /** Fraction of pieces kept per pruning round. Default 0.75. */
  shrinkingFactor?: number;
  /** EM rounds between prunings. Default 2. */
  nSubIterations?: number;
  /** Longest piece in characters. Default 16. */
  maxPieceLength?: number;
  /** Most seed pieces. Default 1,000,000. */
  seedSize?: number;
  /** Characters always in the vocabulary. */
  initialAlphabet?: Iterable<string>;
  onProgress?: (stage: string, done: number, total: number) => void;
}

export interface UnigramTrainResult {
  /** [piece, log probability] in id order (the tokenizer.json "vocab" list). */
  pieces: [string, number][];
  unkId: number | null;
}

type Piece = [string, number];

const UNK_PENALTY = 10; // score of an unknown character: min score - 10, as HF / SentencePiece

export function trainUnigram(wordCounts: Map<string, number>, options: UnigramTrainerOptions): UnigramTrainResult {
  const vocabSize = options.vocabSize;
  const shrinking = options.shrinkingFactor ?? 0.75;
  const nSub = options.nSubIterations ?? 2;
  const maxLen = options.maxPieceLength ?? 16;
  const seedSize = options.seedSize ?? 1_000_000;
  const specials = options.specialTokens ?? [];
  const progress = options.onProgress ?? (() => {});

  const sentences: Sentence[] = [];
  for (const [w, c] of wordCounts) if (w.length > 0) sentences.push({ text: w, cps: toCodePoints(w), count: c });

  const required = new Set<string>();
  for (const s of sentences) for (const c of s.text) required.add(c);
  for (const c of options.initialAlphabet ?? []) required.add(c);
  if (required.size > vocabSize) {
    throw new Error(`vocabulary size ${vocabSize} is too small to hold all ${required.size} characters of the corpus`);
  }

  progress("Suffix array seeds", 0, 1);
  let pieces: Piece[] = [["<UNK>", Number.NaN], ...seedPieces(sentences, maxLen, seedSize)];
  progress("Suffix array seeds", 1, 1);

  const desired = Math.floor((vocabSize * 11) / 10);
  const expectedLoops = Math.floor((Math.log(desired) - Math.log(pieces.length)) / Math.log(shrinking)) + 1;
  const expectedUpdates = Math.max(1, expectedLoops * nSub);
  let updates = 0;
  let model = new Lattices(pieces);
  for (;;) {
    for (let it = 0; it < nSub; it++) {
      const expected = eStep(model, sentences);
      pieces = mStep(pieces, expected);
      model = new Lattices(pieces);
      progress("EM training", Math.min(++updates, expectedUpdates), expectedUpdates);
    }
    if (pieces.length <= desired) break;
    pieces = prune(model, pieces, sentences, vocabSize, shrinking);
    model = new Lattices(pieces);
  }
  progress("EM training", expectedUpdates, expectedUpdates);
  return finalize(model, pieces, required, specials, options.unkToken, vocabSize);
}

export interface Sentence {
  text: string;
  cps: Int32Array;
  count: number;
}

export function toCodePoints(s: string): Int32Array {
  const out: number[] = [];
  for (const c of s) out.push(c.codePointAt(0)!);
  return Int32Array.from(out);
}

// ---------------------------------------------------------------------------------------------
// 1. Seeds

export function seedPieces(sentences: Sentence[], maxLen: number, seedSize: number): Piece[] {
  // Characters, weighted by word count: (count desc, character desc) as HF's Reverse sort.
  const chars = new Map<number, number>();
  let total = 0;
  for (const s of sentences) {
    for (const cp of s.cps) chars.set(cp, (chars.get(cp) ?? 0) + s.count);
    total += s.cps.length + 1;
  }
  const seeds: Piece[] = [...chars.entries()]
    .sort((a, b) => b[1] - a[1] || b[0] - a[0])
    .map(([cp, n]) => [String.fromCodePoint(cp), n]);

  // Repeated substrings of the distinct words joined with a 0 boundary (each word once, as HF).
  const text = new Int32Array(total);
  let k = 0;
  for (const s of sentences) {
    text.set(s.cps, k);
    k += s.cps.length;
    text[k++] = 0;
  }
  // nextZero[i]: index of the first boundary at or after i, to reject substrings spanning words.
  const nextZero = new Int32Array(total + 1);
  nextZero[total] = total;
  for (let i = total - 1; i >= 0; i--) nextZero[i] = text[i] === 0 ? i : nextZero[i + 1]!;
  const sa = suffixArray(text);
  const lcp = lcpArray(text, sa);
  const subs: { score: number; start: number; len: number }[] = [];
  forEachLcpInterval(lcp, (len, lb, rb) => {
    if (len <= 1 || len > maxLen) return;
    const start = sa[lb]!;
    if (nextZero[start]! < start + len) return;
    subs.push({ score: (rb - lb + 1) * len, start, len });
  });
  subs.sort((a, b) => b.score - a.score || compareDesc(text, a, b));
  for (const s of subs) {
    if (seeds.length >= seedSize) break;
    seeds.push([String.fromCodePoint(...text.subarray(s.start, s.start + s.len)), s.score]);
  }
  // To log probabilities.
  let sum = 0;
  for (const p of seeds) sum += p[1];
  const logSum = Math.log(sum);
  for (const p of seeds) p[1] = Math.log(p[1]) - logSum;
  return seeds;
}

/** Descending code point order of two substrings of `text` (HF's tie-break). */
function compareDesc(text: Int32Array, a: { start: number; len: number }, b: { start: number; len: number }): number {
  const n = Math.min(a.len, b.len);
  for (let i = 0; i < n; i++) {
    const d = text[b.start + i]! - text[a.start + i]!;
    if (d !== 0) return d;
  }
  return b.len - a.len;
}

/** Suffix array by prefix doubling: O(n log^2 n), ample for word lists of a few MB. */
export function suffixArray(text: Int32Array): Int32Array {
  const n = text.length;
  const sa = new Int32Array(n);
  let rank = new Int32Array(n);
  let tmp = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    sa[i] = i;
    rank[i] = text[i]!;
  }
  for (let k = 1; ; k <<= 1) {
    const r = rank;
    const key2 = (i: number): number => (i + k < n ? r[i + k]! : -1);
    sa.sort((a, b) => r[a]! - r[b]! || key2(a) - key2(b));
    tmp[sa[0]!] = 0;
    for (let i = 1; i < n; i++) {
      const a = sa[i - 1]!;
      const b = sa[i]!;
      tmp[b] = tmp[a]! + (r[a] !== r[b] || key2(a) !== key2(b) ? 1 : 0);
    }
    [rank, tmp] = [tmp, rank];
    if (n === 0 || rank[sa[n - 1]!] === n - 1) break;
  }
  return sa;
}

/** Kasai: lcp[i] = longest common prefix of the suffixes sa[i-1] and sa[i] (lcp[0] = 0). */
export function lcpArray(text: Int32Array, sa: Int32Array): Int32Array {
  const n = text.length;
  const rank = new Int32Array(n);
  for (let i = 0; i < n; i++) rank[sa[i]!] = i;
  const lcp = new Int32Array(n);
  let h = 0;
  for (let i = 0; i < n; i++) {
    const r = rank[i]!;
    if (r > 0) {
      const j = sa[r - 1]!;
      while (i + h < n && j + h < n && text[i + h] === text[j + h]) h++;
      lcp[r] = h;
      if (h > 0) h--;
    } else {
      h = 0;
    }
  }
  return lcp;
}

/**
 * Calls `visit(lcpValue, lb, rb)` for every lcp-interval (internal node of the suffix tree):
 * the suffixes sa[lb..rb] share a prefix of lcpValue characters, which occurs rb - lb + 1 times.
 */
export function forEachLcpInterval(lcp: Int32Array, visit: (len: number, lb: number, rb: number) => void): void {
  const n = lcp.length;
  const stackLcp: number[] = [0];
  const stackLb: number[] = [0];
  for (let i = 1; i <= n; i++) {
    const cur = i < n ? lcp[i]! : 0;
    let lb = i - 1;
    while (cur < stackLcp[stackLcp.length - 1]!) {
      const len = stackLcp.pop()!;
      lb = stackLb.pop()!;
      visit(len, lb, i - 1);
    }
    if (cur > stackLcp[stackLcp.length - 1]!) {
      stackLcp.push(cur);
      stackLb.push(lb);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Lattices: the segmentations of one word under the current pieces.

/**
 * The current pieces as a trie over code points, plus what every lattice needs. The trie's edges
 * live in one open-addressing hash table keyed by (node, code point) — building lattices is most of
 * the training time, and a Map per trie node was several times slower.
 */
class Lattices {
  readonly scores: Float64Array;
  readonly unkScore: number;
  /** Piece id ending at each trie node, or -1. Node 0 is the root. */
  private nodeId: Int32Array;
  private nodes = 1;
  private keys: Float64Array; // node * 2^21 + code point, or -1 for an empty slot
  private vals: Int32Array;
  private mask: number;
  // Reused output buffers of build(); a lattice is consumed before the next one is built.
  private bufStart = new Int32Array(64);
  private bufEnd = new Int32Array(64);
  private bufId = new Int32Array(64);
  private bufScore = new Float64Array(64);

  constructor(pieces: Piece[]) {
    this.scores = new Float64Array(pieces.length);
    let chars = 1;
    for (const [p] of pieces) chars += p.length;
    let cap = 16;
    while (cap < chars * 2) cap <<= 1;
    this.keys = new Float64Array(cap).fill(-1);
    this.vals = new Int32Array(cap);
    this.mask = cap - 1;
    this.nodeId = new Int32Array(chars).fill(-1);
    let min = Number.POSITIVE_INFINITY;
    pieces.forEach(([p, score], id) => {
      this.scores[id] = score;
      if (score < min) min = score; // NaN (the <UNK> slot) never compares less, as in HF
      let node = 0;
      for (const c of p) node = this.childOrAdd(node, c.codePointAt(0)!);
      if (this.nodeId[node] === -1) this.nodeId[node] = id;
    });
    this.unkScore = min - UNK_PENALTY;
  }

  private slot(node: number, cp: number): number {
    let h = Math.imul(node, 0x9e3779b1) ^ Math.imul(cp, 0x85ebca77);
    h ^= h >>> 15;
    return h & this.mask;
  }

  private child(node: number, cp: number): number {
    const key = node * 2097152 + cp;
    for (let i = this.slot(node, cp); ; i = (i + 1) & this.mask) {
      const k = this.keys[i]!;
      if (k === key) return this.vals[i]!;
      if (k === -1) return -1;
    }
  }

  private childOrAdd(node: number, cp: number): number {
    const key = node * 2097152 + cp;
    for (let i = this.slot(node, cp); ; i = (i + 1) & this.mask) {
      const k = this.keys[i]!;
      if (k === key) return this.vals[i]!;
      if (k === -1) {
        this.keys[i] = key;
        this.vals[i] = this.nodes;
        return this.nodes++;
      }
    }
  }

  private push(m: number, b: number, e: number, id: number, score: number): void {
    if (m === this.bufStart.length) {
      const grow = <T extends Int32Array | Float64Array>(a: T): T => {
        const out = new (a.constructor as { new (n: number): T })(a.length * 2);
        out.set(a);
        return out;
      };
      this.bufStart = grow(this.bufStart);
      this.bufEnd = grow(this.bufEnd);
      this.bufId = grow(this.bufId);
      this.bufScore = grow(this.bufScore);
    }
    this.bufStart[m] = b;
    this.bufEnd[m] = e;
    this.bufId[m] = id;
    this.bufScore[m] = score;
  }

  /**
   * Nodes of the lattice of `cps` as flat arrays: for node j < count, start[j], end[j] (code point
   * positions), id[j], score[j]; ordered by start, then length — HF's insertion order, which
   * decides Viterbi ties. A position without a one-character piece gets an <UNK> node (id 0).
   * The arrays are reused by the next call.
   */
  build(cps: Int32Array): LatticeNodes {
    let m = 0;
    for (let b = 0; b < cps.length; b++) {
      let node = 0;
      let single = false;
      for (let e = b; e < cps.length; e++) {
        node = this.child(node, cps[e]!);
        if (node < 0) break;
        const id = this.nodeId[node]!;
        if (id >= 0) {
          this.push(m++, b, e + 1, id, this.scores[id]!);
          if (e === b) single = true;
        }
      }
      if (!single) this.push(m++, b, b + 1, 0, this.unkScore);
    }
    return { start: this.bufStart, end: this.bufEnd, id: this.bufId, score: this.bufScore, count: m, length: cps.length };
  }
}

interface LatticeNodes {
  start: Int32Array;
  end: Int32Array;
  id: Int32Array;
  score: Float64Array;
  /** Number of nodes (the arrays may be longer). */
  count: number;
  /** Length of the word in code points. */
  length: number;
}

function logAddExp(a: number, b: number): number {
  if (a === Number.NEGATIVE_INFINITY) return b;
  if (b === Number.NEGATIVE_INFINITY) return a;
  return a > b ? a + Math.log1p(Math.exp(b - a)) : b + Math.log1p(Math.exp(a - b));
}

/** Forward-backward: adds count x marginal of every node to expected[id]; returns log Z. */
function addMarginals(l: LatticeNodes, count: number, expected: Float64Array): number {
  const n = l.length;
  const fwd = new Float64Array(n + 1).fill(Number.NEGATIVE_INFINITY);
  const bwd = new Float64Array(n + 1).fill(Number.NEGATIVE_INFINITY);
  fwd[0] = 0;
  bwd[n] = 0;
  const m = l.count;
  // Nodes are ordered by start, so a forward pass over them sees fwd[start] final.
  for (let j = 0; j < m; j++) {
    const s = l.start[j]!;
    const e = l.end[j]!;
    fwd[e] = logAddExp(fwd[e]!, fwd[s]! + l.score[j]!);
  }
  for (let j = m - 1; j >= 0; j--) {
    const s = l.start[j]!;
    const e = l.end[j]!;
    bwd[s] = logAddExp(bwd[s]!, l.score[j]! + bwd[e]!);
  }
  const z = fwd[n]!;
  for (let j = 0; j < m; j++) {
    const p = Math.exp(fwd[l.start[j]!]! + l.score[j]! + bwd[l.end[j]!]! - z);
    expected[l.id[j]!] += count * p;
  }
  return z;
}

/** Best segmentation (node indices in order); first node wins ties, as HF's strict ">". */
function viterbi(l: LatticeNodes): number[] {
  const n = l.length;
  const best = new Float64Array(n + 1).fill(Number.NEGATIVE_INFINITY);
  const back = new Int32Array(n + 1).fill(-1);
  best[0] = 0;
  const m = l.count;
  for (let j = 0; j < m; j++) {
    const s = l.start[j]!;
    const e = l.end[j]!;
    const v = best[s]! + l.score[j]!;
    if (back[e] === -1 || v > best[e]!) {
      best[e] = v;
      back[e] = j;
    }
  }
  const path: number[] = [];
  for (let pos = n; pos > 0; ) {
    const j = back[pos]!;
    path.push(j);
    pos = l.start[j]!;
  }
  return path.reverse();
}

/**
 * The two best segmentations (as lists of node indices), or one if only one exists. Keeps the two
 * best partial paths per position, which is exact for the top two complete paths.
 */
function twoBest(l: LatticeNodes): number[][] {
  const n = l.length;
  // Per position: up to two (score, node, rank-of-predecessor-entry) entries, best first.
  const sc: number[][] = Array.from({ length: n + 1 }, () => []);
  const nd: number[][] = Array.from({ length: n + 1 }, () => []);
  const pr: number[][] = Array.from({ length: n + 1 }, () => []);
  sc[0]!.push(0);
  nd[0]!.push(-1);
  pr[0]!.push(-1);
  const m = l.count;
  for (let j = 0; j < m; j++) {
    const s = l.start[j]!;
    const e = l.end[j]!;
    for (let r = 0; r < sc[s]!.length; r++) {
      const v = sc[s]![r]! + l.score[j]!;
      const es = sc[e]!;
      if (es.length < 2 || v > es[1]!) {
        const at = es.length === 0 || v > es[0]! ? 0 : 1;
        es.splice(at, 0, v);
        nd[e]!.splice(at, 0, j);
        pr[e]!.splice(at, 0, r);
        if (es.length > 2) {
          es.pop();
          nd[e]!.pop();
          pr[e]!.pop();
        }
      }
    }
  }
  const paths: number[][] = [];
  for (let r = 0; r < sc[n]!.length; r++) {
    const path: number[] = [];
    let pos = n;
    let rank = r;
    while (pos > 0) {
      const j = nd[pos]![rank]!;
      path.push(j);
      rank = pr[pos]![rank]!;
      pos = l.start[j]!;
    }
    paths.push(path.reverse());
  }
  return paths;
}

// ---------------------------------------------------------------------------------------------
// 2. EM

function eStep(model: Lattices, sentences: Sentence[]): Float64Array {
  const expected = new Float64Array(model.scores.length);
  for (const s of sentences) addMarginals(model.build(s.cps), s.count, expected);
  return expected;
}

/** Digamma by recurrence up to 7 then the asymptotic series (HF / SentencePiece constants). */
function digamma(x: number): number {
  let result = 0;
  while (x < 7) {
    result -= 1 / x;
    x += 1;
  }
  x -= 0.5;
  const xx = 1 / x;
  const xx2 = xx * xx;
  const xx4 = xx2 * xx2;
  result += Math.log(x) + xx2 / 24 - (7 / 960) * xx4 + (31 / 8064) * xx4 * xx2 - (127 / 30720) * xx4 * xx4;
  return result;
}

function mStep(pieces: Piece[], expected: Float64Array): Piece[] {
  const kept: Piece[] = [[pieces[0]![0], Number.NaN]];
  let sum = 0;
  for (let i = 1; i < pieces.length; i++) {
    const f = expected[i]!;
    if (f < 0.5) continue; // expected_frequency_threshold
    kept.push([pieces[i]![0], f]);
    sum += f;
  }
  const logSum = digamma(sum);
  for (let i = 1; i < kept.length; i++) kept[i]![1] = digamma(kept[i]![1]) - logSum;
  return kept;
}

// ---------------------------------------------------------------------------------------------
// 3. Pruning

function prune(model: Lattices, pieces: Piece[], sentences: Sentence[], vocabSize: number, shrinking: number): Piece[] {
  const n = pieces.length;
  const alwaysKeep = new Array<boolean>(n).fill(true);
  const alternatives: number[][] = Array.from({ length: n }, () => []);
  for (let id = 1; id < n; id++) {
    const l = model.build(toCodePoints(pieces[id]![0]));
    const best = twoBest(l);
    if (best.length === 1) {
      alwaysKeep[id] = true; // no other way to write it
    } else if (best[0]!.length >= 2) {
      alwaysKeep[id] = false; // never its own best segmentation: unused
    } else {
      alwaysKeep[id] = true;
      for (const j of best[1]!) alternatives[id]!.push(l.id[j]!);
    }
  }
  alwaysKeep[0] = false;

  // Viterbi counts and, per piece, the sentences whose best segmentation uses it.
  const freq = new Float64Array(n);
  const inverted: number[][] = Array.from({ length: n }, () => []);
  let vsum = 0;
  sentences.forEach((s, i) => {
    const l = model.build(s.cps);
    vsum += s.count;
    for (const j of viterbi(l)) {
      const id = l.id[j]!;
      freq[id] += s.count;
      inverted[id]!.push(i);
    }
  });
  let sum = 0;
  for (let i = 0; i < n; i++) sum += freq[i]!;
  const logSum = Math.log(sum);

  const next: Piece[] = [pieces[0]!];
  const candidates: [number, number][] = [];
  for (let id = 1; id < n; id++) {
    if (freq[id] === 0 && !alwaysKeep[id]) continue;
    if (alternatives[id]!.length === 0) {
      next.push(pieces[id]!);
      continue;
    }
    let f = 0;
    for (const si of inverted[id]!) f += sentences[si]!.count;
    if (f === 0 || Number.isNaN(f)) continue;
    f /= vsum;
    const logProbSp = Math.log(freq[id]!) - logSum;
    // HF: `alternatives.len()` is the number of pieces (see the file header).
    const logSumAlt = Math.log(sum + freq[id]! * (n - 1));
    let logProbAlt = 0;
    for (const alt of alternatives[id]!) logProbAlt += Math.log(freq[alt]! + freq[id]!) - logSumAlt;
    candidates.push([id, f * (logProbSp - logProbAlt)]);
  }
  const desired = Math.floor((vocabSize * 11) / 10);
  const pruned = Math.max(desired, Math.floor(n * shrinking));
  candidates.sort((a, b) => b[1] - a[1]);
  for (const [id] of candidates) {
    if (next.length === pruned) break;
    next.push(pieces[id]!);
  }
  return next;
}

// ---------------------------------------------------------------------------------------------
// 4. Final vocabulary

function finalize(
  model: Lattices,
  pieces: Piece[],
  required: Set<string>,
  specials: string[],
  unkToken: string | undefined,
  vocabSize: number,
): UnigramTrainResult {
  const existing = new Map<string, number>(pieces);
  const minScore = model.unkScore + UNK_PENALTY;
  const out: Piece[] = [];
  const inserted = new Set<string>(["<UNK>"]);
  // Every character is kept. HF visits them in hash order, so the small penalties that order the
  // unseen ones among themselves are arbitrary there; we go by code point.
  let penalty = 0;
  for (const c of [...required].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!)) {
    inserted.add(c);
    const s = existing.get(c);
    if (s !== undefined) out.push([c, s]);
    else {
      out.push([c, minScore + penalty]);
      penalty += 0.0001;
    }
  }
  let unkId: number | null = null;
  let needUnk = false;
  if (unkToken !== undefined) {
    const i = specials.indexOf(unkToken);
    if (i >= 0) unkId = i;
    else {
      unkId = 0;
      needUnk = true;
    }
  }
  const room = vocabSize - specials.length - (needUnk ? 1 : 0);
  for (const [p, s] of pieces) {
    if (out.length >= room) break;
    if (inserted.has(p)) continue;
    inserted.add(p);
    out.push([p, Number.isNaN(s) ? 0 : s]);
  }
  // Stable sort by score, best first (Rust's sort_by is stable too).
  out.sort((a, b) => b[1] - a[1]);
  const head: Piece[] = specials.map((t) => [t, 0]);
  if (needUnk) head.unshift([unkToken!, 0]);
  // A special token that is also a learned piece would appear twice; keep the special one.
  const specialSet = new Set(head.map(([t]) => t));
  return { pieces: [...head, ...out.filter(([p]) => !specialSet.has(p))], unkId };
}
