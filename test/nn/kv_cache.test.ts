// KVCache: in-place appends (one buffer per layer, contiguous [B, H, S, D] prefix) must equal
// concatenation, across buffer growth, crops, tensors replaced from outside, strided inputs and grad.
import { describe, expect, it } from "vitest";
import { noGrad } from "../../src/autograd/index.js";
import { KVCache } from "../../src/nn/attention.js";
import { cat } from "../../src/ops/index.js";
import { Generator, randn } from "../../src/tensor/index.js";
import type { Tensor } from "../../src/tensor/tensor.js";

const arr = (t: Tensor) => Array.from(t.toTypedArray());

describe("KVCache", () => {
  it("appends equal concatenation through growth, crops and outside replacement", () => {
    const g = new Generator(3);
    const B = 2, H = 3, D = 5;
    const cache = new KVCache();
    let refK: Tensor | null = null;
    let refV: Tensor | null = null;
    noGrad(() => {
      // prefill 7, then 150 single steps (past the first buffer's room), a crop, a chunk of 4,
      // an outside replacement (as beam reordering does), more steps
      const steps = [7, ...new Array<number>(150).fill(1), -100, 4, 0, 1, 1, 3];
      for (const T of steps) {
        if (T < 0) {
          cache.crop(refK!.shape[2] + T);
          refK = refK!.narrow(2, 0, refK!.shape[2] + T).contiguous();
          refV = refV!.narrow(2, 0, refV!.shape[2] + T).contiguous();
        } else if (T === 0) {
          // reversed batch rows, set from outside
          const rev = (t: Tensor) => cat([t.narrow(0, 1, 1), t.narrow(0, 0, 1)], 0);
          refK = rev(refK!);
          refV = rev(refV!);
          cache.keys = refK;
          cache.values = refV;
        } else {
          // a strided view [B, H, T, D] of [B, T, H, D], as the models pass it
          const k = randn([B, T, H, D], { generator: g }).transpose(1, 2);
          const v = randn([B, T, H, D], { generator: g }).transpose(1, 2);
          const [ck, cv] = cache.append(k, v);
          refK = refK ? cat([refK, k], 2) : k.contiguous();
          refV = refV ? cat([refV, v], 2) : v.contiguous();
          expect(ck.shape).toEqual(refK.shape);
          expect(ck.isContiguous()).toBe(true);
          expect(arr(ck)).toEqual(arr(refK));
          expect(arr(cv)).toEqual(arr(refV));
        }
        expect(cache.length).toBe(refK!.shape[2]);
      }
    });
    expect(arr(cache.keys!)).toEqual(arr(refK!));
    expect(arr(cache.values!)).toEqual(arr(refV!));
  });

  it("reorders batch rows in place (beam search), repeated rows included, and appends after", () => {
    const g = new Generator(5);
    const cache = new KVCache();
    let ref: Tensor | null = null;
    const rowsOf = (t: Tensor, rows: number[]) => cat(rows.map((r) => t.narrow(0, r, 1)), 0);
    noGrad(() => {
      for (let step = 0; step < 12; step++) {
        const k = randn([3, 2, step === 0 ? 4 : 1, 3], { generator: g });
        cache.append(k, k);
        ref = ref ? cat([ref, k], 2) : k;
        if (step % 3 === 1) {
          const rows = step === 4 ? [2, 2, 0] : [1, 2, 0];
          cache.reorder(Int32Array.from(rows));
          ref = rowsOf(ref, rows);
        }
        expect(arr(cache.keys!)).toEqual(arr(ref));
        expect(arr(cache.values!)).toEqual(arr(ref));
      }
    });
  });

  it("concatenates (keeping the graph) when the new keys require grad", () => {
    const g = new Generator(4);
    const cache = new KVCache();
    const k0 = randn([1, 2, 3, 4], { generator: g });
    const v0 = randn([1, 2, 3, 4], { generator: g });
    cache.append(k0, v0);
    const k1 = randn([1, 2, 1, 4], { generator: g }).requiresGrad_();
    const [k] = cache.append(k1, randn([1, 2, 1, 4], { generator: g }));
    k.sum().backward();
    expect(arr(k1.grad!)).toEqual(new Array<number>(8).fill(1));
  });
});
