// Leaf gradients that receive several contributions in one backward pass: summed in place when
// the storage is the pass's own and unshared, never when another gradient shares it.
import { describe, expect, it } from "vitest";
import * as T from "../../src/index.js";

describe("leaf gradient accumulation", () => {
  it("a parameter used three times; two leaves fed the same gradient tensor", () => {
    const a = T.tensor([1, 2, 3], { requiresGrad: true });
    const b = T.tensor([4, 5, 6], { requiresGrad: true });
    // add's backward hands the very same gradient to a and b; a then gets two more contributions.
    const y = T.add(a, b).mul(2).add(a.mul(3)).add(a.mul(a)).sum();
    y.backward();
    expect(Array.from(a.grad!.toTypedArray())).toEqual([2 + 3 + 2, 2 + 3 + 4, 2 + 3 + 6]);
    expect(Array.from(b.grad!.toTypedArray())).toEqual([2, 2, 2]);
  });

  it("does not write into gradients from an earlier pass (accumulation across backward calls adds into new storage)", () => {
    const w = T.tensor([1, 1], { requiresGrad: true });
    w.mul(2).sum().backward();
    const first = w.grad!;
    const firstValues = Array.from(first.toTypedArray());
    w.mul(3).add(w).sum().backward();
    expect(firstValues).toEqual([2, 2]);
    expect(Array.from(first.toTypedArray())).toEqual([2, 2]);
    expect(Array.from(w.grad!.toTypedArray())).toEqual([6, 6]);
  });

  it("a gradient passed by the caller is never modified", () => {
    const x = T.tensor([1, 2], { requiresGrad: true });
    const gOut = T.tensor([1, 1]);
    T.add(x, x).backward(gOut);
    expect(Array.from(gOut.toTypedArray())).toEqual([1, 1]);
    expect(Array.from(x.grad!.toTypedArray())).toEqual([2, 2]);
  });
});
