// T5's learned relative position bias: one scalar per (bucket of key - query distance, head), added
// to the attention scores of every layer of a stack (computed from the first layer's table and
// shared by the rest, as T5 does). The bucket function itself is nn/positions.ts's
// relativePositionBucket (checked against transformers in fixtures/models/t5_buckets.json).
//
// Glossary: H heads, T query positions, S key positions, NB number of buckets.
import { embedding, permute, unsqueeze } from "../ops/index.js";
import { Tensor } from "../tensor/tensor.js";
import { relativePositionBuckets } from "./positions.js";

const bucketTables = new Map<string, Tensor>();

/**
 * The additive bias [1, H, T, S] for queries at offset + [0, T) and keys [0, S): table[bucket] with
 * `table` the [NB, H] relative_attention_bias weight. Differentiable in `table` (the scores' bias
 * takes the attention kernel's composed path, which carries its gradient).
 */
export function relativePositionBias(table: Tensor, T: number, S: number, opts: { bidirectional: boolean; numBuckets: number; maxDistance: number; offset?: number }): Tensor {
  const offset = opts.offset ?? 0;
  const key = `${T},${S},${opts.bidirectional},${opts.numBuckets},${opts.maxDistance},${offset}`;
  let buckets = bucketTables.get(key);
  if (!buckets) {
    buckets = relativePositionBuckets(T, S, opts.bidirectional, opts.numBuckets, opts.maxDistance, offset); // (T, S) int32
    if (bucketTables.size > 256) bucketTables.clear(); // decoding makes one per step: keep the map small
    bucketTables.set(key, buckets);
  }
  const values = embedding(buckets, table); // (T, S, H)
  return unsqueeze(permute(values, [2, 0, 1]), 0).contiguous(); // (1, H, T, S)
}
