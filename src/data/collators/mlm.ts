// Masked language-model collator, after Hugging Face DataCollatorForLanguageModeling (mlm=True).
// Reference: transformers/data/data_collator.py, torch_mask_tokens.
//
// Token masking (the default):
//   1. every position that is neither a special token nor padding is selected with probability
//      mlmProbability (0.15), independently;
//   2. labels = the original id at selected positions, -100 everywhere else;
//   3. a selected position becomes [MASK] with probability maskReplaceProb (0.8), else a random id
//      in [0, vocabSize) with probability randomReplaceProb / (1 - maskReplaceProb) (0.1 / 0.2),
//      else it keeps its id. As in HF the random id may be any id of the vocabulary (len(tokenizer)),
//      special ones included.
// Whole-word masking (`wholeWord`): a word is a token that starts a word plus the continuation
// tokens after it. Step 1 selects word STARTS with probability mlmProbability and then every token
// of a selected word, as transformers >= 5 does (which finds words from character offsets; here
// the token strings decide, since collators see ids only):
//   "wordpiece"  tokens beginning with "##" continue the previous word (BERT);
//   "bytelevel"  tokens beginning with "Ġ" (an encoded space) start a word, others continue it
//                (GPT-2 / RoBERTa; punctuation glued to a word joins it, as with HF's offsets);
//   "metaspace"  the same with "▁" (SentencePiece / Unigram);
//   or a function (token) => true when the token starts a word.
// A token right after a special token or at the start always starts a word. Step 3 is applied per
// token with the configured probabilities (HF 5 forces all-[MASK] under whole-word masking and
// warns; pass maskReplaceProb: 1, randomReplaceProb: 0 for that).
//
// Randomness comes from one seeded Generator owned by the collator; getState()/setState() make a
// resumed run draw the same masks.
import { Generator } from "../../tensor/rng.js";
import { loadGeneratorState, saveGeneratorState, type GeneratorStateJSON } from "../rng_state.js";
import type { Tensor } from "../../tensor/tensor.js";
import { IGNORE_INDEX } from "./causal.js";
import { PADDING_OPTION_KEYS, checkId, checkKeys, checkProb, int2d, padSequences, type PaddingOptions } from "./pad.js";
import { specialIdsOf, type TokenizerWithConfig } from "../specials.js";

export type WordScheme = "wordpiece" | "bytelevel" | "metaspace" | ((token: string) => boolean);

export interface MLMCollatorOptions extends PaddingOptions {
  /** Random replacement ids are drawn from [0, vocabSize) (HF: len(tokenizer)). */
  vocabSize: number;
  maskId: number;
  padId: number;
  /** Ids never selected (CLS, SEP, BOS, EOS, PAD, ...). Per-sequence masks can be passed to collate too. */
  specialIds?: Iterable<number>;
  mlmProbability?: number;
  maskReplaceProb?: number;
  randomReplaceProb?: number;
  seed?: number;
  /** Whole-word masking: the word scheme and the id -> token lookup it needs. */
  wholeWord?: { scheme: WordScheme; idToToken: (id: number) => string | undefined };
}

export interface MLMBatch {
  input_ids: Tensor; // (B, T) with masks applied
  attention_mask: Tensor; // (B, T)
  labels: Tensor; // (B, T) original ids at selected positions, -100 elsewhere
}

function startsWord(scheme: WordScheme, token: string): boolean {
  if (typeof scheme === "function") return scheme(token);
  if (scheme === "wordpiece") return !token.startsWith("##");
  if (scheme === "bytelevel") return token.startsWith("\u0120");
  if (scheme === "metaspace") return token.startsWith("\u2581");
  throw new Error(`MLMCollator: unknown whole-word scheme ${JSON.stringify(scheme)}`);
}

export class MLMCollator {
  readonly vocabSize: number;
  readonly maskId: number;
  readonly padId: number;
  readonly mlmProbability: number;
  readonly maskReplaceProb: number;
  readonly randomReplaceProb: number;
  private readonly special: Set<number>;
  private readonly generator: Generator;
  /** Whole-word masking: 1 where an id starts a word (per vocabulary id), built lazily. */
  private readonly wordStart: ((id: number) => boolean) | null = null;

  constructor(readonly opts: MLMCollatorOptions) {
    const what = "MLMCollator";
    checkKeys(opts, ["vocabSize", "maskId", "padId", "specialIds", "mlmProbability", "maskReplaceProb", "randomReplaceProb", "seed", "wholeWord", ...PADDING_OPTION_KEYS], what);
    if (!(Number.isInteger(opts.vocabSize) && opts.vocabSize >= 1)) throw new Error(`${what}: vocabSize must be a positive integer, got ${opts.vocabSize}`);
    this.vocabSize = opts.vocabSize;
    this.maskId = checkId(opts.maskId, "maskId", what);
    this.padId = checkId(opts.padId, "padId", what);
    this.mlmProbability = checkProb(opts.mlmProbability ?? 0.15, "mlmProbability", what);
    this.maskReplaceProb = checkProb(opts.maskReplaceProb ?? 0.8, "maskReplaceProb", what);
    this.randomReplaceProb = checkProb(opts.randomReplaceProb ?? 0.1, "randomReplaceProb", what);
    if (this.maskReplaceProb + this.randomReplaceProb > 1 + 1e-12) throw new Error(`${what}: maskReplaceProb + randomReplaceProb must not exceed 1 (got ${this.maskReplaceProb} + ${this.randomReplaceProb})`);
    this.special = new Set(opts.specialIds ?? []);
    this.special.add(this.padId);
    this.generator = new Generator(opts.seed ?? 0);
    if (opts.wholeWord) {
      const { scheme, idToToken } = opts.wholeWord;
      if (typeof scheme !== "function") startsWord(scheme, ""); // validate the name now
      const memo = new Map<number, boolean>();
      this.wordStart = (id) => {
        let v = memo.get(id);
        if (v === undefined) {
          const tok = idToToken(id);
          // An id without a token (outside the vocabulary) is treated as a word of its own.
          v = tok === undefined ? true : startsWord(scheme, tok);
          memo.set(id, v);
        }
        return v;
      };
    }
  }

  /**
   * A collator for a tokenizer: vocabulary size, [MASK] / <mask>, pad, and every added token marked
   * special come from it; `wholeWord` names a word scheme (the tokenizer maps ids to tokens).
   */
  static fromTokenizer(
    tok: TokenizerWithConfig & { idToToken(id: number): string | undefined },
    opts: Omit<Partial<MLMCollatorOptions>, "wholeWord"> & { wholeWord?: WordScheme } = {},
  ): MLMCollator {
    const sp = specialIdsOf(tok);
    const maskId = opts.maskId ?? sp.maskId;
    if (maskId === null) throw new Error("MLMCollator.fromTokenizer: the tokenizer has no mask token ([MASK] or <mask>); masked LM needs one");
    const padId = opts.padId ?? sp.padId;
    if (padId === null) throw new Error("MLMCollator.fromTokenizer: the tokenizer has no pad token ([PAD] or <pad>); pass padId");
    const { wholeWord, ...rest } = opts;
    return new MLMCollator({
      ...rest,
      vocabSize: opts.vocabSize ?? sp.vocabSize,
      maskId,
      padId,
      specialIds: opts.specialIds ?? sp.specialIds,
      ...(wholeWord !== undefined ? { wholeWord: { scheme: wholeWord, idToToken: (id: number) => tok.idToToken(id) } } : {}),
    });
  }

  /**
   * Pads and masks a batch. `specialTokensMasks` (HF `special_tokens_mask`: 1 = special), when
   * given, marks positions never to select in addition to `specialIds` and padding.
   */
  collate(seqs: ReadonlyArray<ArrayLike<number>>, specialTokensMasks?: ReadonlyArray<ArrayLike<number>>): MLMBatch {
    const what = "MLMCollator";
    if (specialTokensMasks && specialTokensMasks.length !== seqs.length) throw new Error(`${what}: ${seqs.length} sequences but ${specialTokensMasks.length} special token masks`);
    const p = padSequences(seqs, this.padId, this.opts, what);
    const { B, T } = p;
    const ids = p.data;
    // Eligible = a real token that is not special.
    const eligible = new Uint8Array(B * T);
    for (let b = 0; b < B; b++) {
      const s = seqs[b]!;
      const stm = specialTokensMasks?.[b];
      if (stm && stm.length !== s.length) throw new Error(`${what}: sequence ${b} has ${s.length} ids but its special token mask has ${stm.length}`);
      for (let i = 0; i < s.length; i++) {
        const at = b * T + p.starts[b]! + i;
        eligible[at] = this.special.has(s[i]!) || (stm !== undefined && stm[i] !== 0) ? 0 : 1;
      }
    }
    const g = this.generator;
    const selected = new Uint8Array(B * T);
    if (this.wordStart === null) {
      for (let i = 0; i < B * T; i++) if (eligible[i] && g.uniform() < this.mlmProbability) selected[i] = 1;
    } else {
      // Walk each row; a word runs from an eligible word-start token over the continuation tokens.
      for (let b = 0; b < B; b++) {
        let take = false;
        let prevEligible = false;
        for (let t = 0; t < T; t++) {
          const i = b * T + t;
          if (!eligible[i]) {
            prevEligible = false;
            take = false;
            continue;
          }
          if (!prevEligible || this.wordStart(ids[i]!)) take = g.uniform() < this.mlmProbability;
          if (take) selected[i] = 1;
          prevEligible = true;
        }
      }
    }
    const labels = new Int32Array(B * T).fill(IGNORE_INDEX);
    const out = ids.slice();
    const rest = 1 - this.maskReplaceProb;
    const randomScaled = rest > 0 ? this.randomReplaceProb / rest : 0;
    for (let i = 0; i < B * T; i++) {
      if (!selected[i]) continue;
      labels[i] = ids[i]!;
      if (g.uniform() < this.maskReplaceProb) out[i] = this.maskId;
      else if (g.uniform() < randomScaled) out[i] = g.randint(this.vocabSize);
    }
    return { input_ids: int2d(out, B, T), attention_mask: int2d(p.mask, B, T), labels: int2d(labels, B, T) };
  }

  /** Generator state (JSON-safe), for exact resumption. */
  getState(): GeneratorStateJSON {
    return saveGeneratorState(this.generator);
  }

  setState(s: GeneratorStateJSON): void {
    loadGeneratorState(this.generator, s, "MLMCollator.setState");
  }
}
