// The cache of an encoder-decoder model during generation (transformers' EncoderDecoderCache): the
// decoder's self-attention keys and values grow by the new positions at every step; the
// cross-attention keys and values are the encoder output's projections, computed at the first step
// and reused unchanged afterwards.
import { DynamicCache } from "./attention.js";

export class EncoderDecoderCache {
  readonly selfAttention: DynamicCache;
  readonly crossAttention: DynamicCache;
  constructor(numDecoderLayers: number) {
    this.selfAttention = new DynamicCache(numDecoderLayers);
    this.crossAttention = new DynamicCache(numDecoderLayers);
  }
  /** Decoder positions seen so far. */
  get length(): number {
    return this.selfAttention.length;
  }
}
