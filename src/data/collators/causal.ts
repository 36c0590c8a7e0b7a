// Causal language-model collator (Hugging Face DataCollatorForLanguageModeling with mlm=False).
//
// Convention, as in Hugging Face: labels = input_ids and the MODEL shifts them (logits at t predict
// labels at t + 1); padding positions get label -100, which the loss ignores.
// One deliberate difference: HF marks labels -100 wherever input_ids == pad_token_id, so with GPT-2's
// usual pad = eos every real EOS is dropped from the loss too; here the attention mask decides, so a
// real EOS is still learned.
import { Tensor } from "../../tensor/tensor.js";
import { PADDING_OPTION_KEYS, checkId, checkKeys, int2d, padSequences, type PaddingOptions } from "./pad.js";
import { specialIdsOf, type TokenizerWithConfig } from "../specials.js";

export const IGNORE_INDEX = -100;

export interface CausalLMCollatorOptions extends PaddingOptions {
  padId: number;
}

export interface CausalLMBatch {
  input_ids: Tensor; // (B, T)
  attention_mask: Tensor; // (B, T)
  labels: Tensor; // (B, T), -100 on padding
}

export class CausalLMCollator {
  readonly padId: number;
  constructor(readonly opts: CausalLMCollatorOptions) {
    checkKeys(opts, ["padId", ...PADDING_OPTION_KEYS], "CausalLMCollator");
    this.padId = checkId(opts.padId, "padId", "CausalLMCollator");
  }

  /** Pads with the tokenizer's pad token, or its EOS when it has none (GPT-2's usual choice). */
  static fromTokenizer(tok: TokenizerWithConfig, opts: Omit<CausalLMCollatorOptions, "padId"> & { padId?: number } = {}): CausalLMCollator {
    const sp = specialIdsOf(tok);
    const padId = opts.padId ?? sp.padId ?? sp.eosId;
    if (padId === null) throw new Error("CausalLMCollator.fromTokenizer: the tokenizer has neither a pad nor an EOS token; pass padId");
    return new CausalLMCollator({ ...opts, padId });
  }

  collate(seqs: ReadonlyArray<ArrayLike<number>>): CausalLMBatch {
    const p = padSequences(seqs, this.padId, this.opts, "CausalLMCollator");
    const labels = p.data.slice();
    for (let i = 0; i < labels.length; i++) if (p.mask[i] === 0) labels[i] = IGNORE_INDEX;
    return { input_ids: int2d(p.data, p.B, p.T), attention_mask: int2d(p.mask, p.B, p.T), labels: int2d(labels, p.B, p.T) };
  }
}
