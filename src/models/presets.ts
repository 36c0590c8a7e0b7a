// Standard model sizes (../shared/BENCH.md) as Hugging Face config.json dictionaries.
//
//   name   layers  d_model  heads  vocab   context
//   tiny   4       256      4      8192    256
//   small  6       384      6      8192    256
//   gpt2   12      768      12     50257   1024
//
// The same sizes serve every family: gpt2 and bert use 4 x d_model feed-forwards, llama a SwiGLU
// of about 8/3 x d_model rounded up to a multiple of 64, t5 (v1.1, gated GELU) and the original
// transformer 4 x d_model with as many decoder as encoder layers. The vocabulary size usually
// comes from the tokenizer the run trains or loads, and overrides the preset's.

export type PresetName = "tiny" | "small" | "gpt2";
export const PRESETS: readonly PresetName[] = ["tiny", "small", "gpt2"];

export interface Sizes {
  layers: number;
  dModel: number;
  heads: number;
  vocabSize: number;
  context: number;
}

export const PRESET_SIZES: Readonly<Record<PresetName, Sizes>> = {
  tiny: { layers: 4, dModel: 256, heads: 4, vocabSize: 8192, context: 256 },
  small: { layers: 6, dModel: 384, heads: 6, vocabSize: 8192, context: 256 },
  gpt2: { layers: 12, dModel: 768, heads: 12, vocabSize: 50257, context: 1024 },
};

export const MODEL_TYPES_WITH_PRESETS = ["gpt2", "llama", "bert", "t5", "transformer"] as const;
export type PresetModelType = (typeof MODEL_TYPES_WITH_PRESETS)[number];

export interface SpecialIds {
  bos?: number | null;
  eos?: number | null;
  pad?: number | null;
  decoderStart?: number | null;
}

/** config.json fields for `modelType` at these sizes (dropout applies to all dropout fields). */
export function presetConfig(modelType: PresetModelType, s: Sizes, opts: { dropout?: number; special?: SpecialIds } = {}): Record<string, unknown> {
  const p = opts.dropout ?? 0;
  const sp = opts.special ?? {};
  if (s.dModel % s.heads !== 0) throw new Error(`model sizes: d_model ${s.dModel} is not divisible by ${s.heads} heads`);
  switch (modelType) {
    case "gpt2":
      return {
        model_type: "gpt2",
        n_layer: s.layers,
        n_embd: s.dModel,
        n_head: s.heads,
        n_positions: s.context,
        vocab_size: s.vocabSize,
        resid_pdrop: p,
        embd_pdrop: p,
        attn_pdrop: p,
        ...(sp.bos != null ? { bos_token_id: sp.bos } : {}),
        ...(sp.eos != null ? { eos_token_id: sp.eos } : {}),
      };
    case "llama":
      return {
        model_type: "llama",
        hidden_size: s.dModel,
        intermediate_size: Math.ceil((8 * s.dModel) / 3 / 64) * 64,
        num_hidden_layers: s.layers,
        num_attention_heads: s.heads,
        num_key_value_heads: s.heads,
        max_position_embeddings: s.context,
        vocab_size: s.vocabSize,
        rms_norm_eps: 1e-5,
        rope_theta: 10000,
        attention_dropout: p,
        tie_word_embeddings: false,
        ...(sp.bos != null ? { bos_token_id: sp.bos } : {}),
        ...(sp.eos != null ? { eos_token_id: sp.eos } : {}),
      };
    case "bert":
      return {
        model_type: "bert",
        hidden_size: s.dModel,
        num_hidden_layers: s.layers,
        num_attention_heads: s.heads,
        intermediate_size: 4 * s.dModel,
        max_position_embeddings: s.context,
        vocab_size: s.vocabSize,
        type_vocab_size: 2,
        hidden_dropout_prob: p,
        attention_probs_dropout_prob: p,
        ...(sp.pad != null ? { pad_token_id: sp.pad } : {}),
      };
    case "t5":
      return {
        model_type: "t5",
        d_model: s.dModel,
        d_kv: s.dModel / s.heads,
        d_ff: 4 * s.dModel,
        num_layers: s.layers,
        num_decoder_layers: s.layers,
        num_heads: s.heads,
        vocab_size: s.vocabSize,
        feed_forward_proj: "gated-gelu",
        tie_word_embeddings: false,
        dropout_rate: p,
        ...(sp.pad != null ? { pad_token_id: sp.pad, decoder_start_token_id: sp.decoderStart ?? sp.pad } : {}),
        ...(sp.eos != null ? { eos_token_id: sp.eos } : {}),
      };
    case "transformer":
      return {
        model_type: "transformer",
        d_model: s.dModel,
        encoder_layers: s.layers,
        decoder_layers: s.layers,
        encoder_attention_heads: s.heads,
        decoder_attention_heads: s.heads,
        encoder_ffn_dim: 4 * s.dModel,
        decoder_ffn_dim: 4 * s.dModel,
        max_position_embeddings: s.context,
        vocab_size: s.vocabSize,
        dropout: p,
        ...(sp.pad != null ? { pad_token_id: sp.pad } : {}),
        ...(sp.bos != null ? { bos_token_id: sp.bos } : {}),
        ...(sp.eos != null ? { eos_token_id: sp.eos } : {}),
        ...(sp.decoderStart != null ? { decoder_start_token_id: sp.decoderStart } : {}),
      };
  }
}
