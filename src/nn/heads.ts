// The language-model output projection shared by the causal and seq2seq models.
import { Module, Parameter, initNormal, type ParamSource } from "./module.js";

/**
 * lm_head.weight [V, C], no bias. Tied (`tiedTo` given): the input embedding's Parameter itself,
 * one tensor reachable under two checkpoint paths (HF's tie_word_embeddings); untied: its own
 * parameter, drawn normal(0, std) in init mode (std defaults to the source's, the config's
 * initializer_range).
 */
export class LMHead extends Module {
  readonly weight: Parameter;
  constructor(src: ParamSource, V: number, C: number, opts: { tiedTo?: Parameter | null; std?: number } = {}) {
    super();
    this.weight = opts.tiedTo ? src.tie("weight", opts.tiedTo) : src.param("weight", [V, C], initNormal(opts.std ?? src.std));
  }
}
