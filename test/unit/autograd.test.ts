// The autograd engine: accumulation, grad modes, detach, graph release, anomaly mode.
import { describe, expect, it } from "vitest";
import * as T from "../../src/index.js";
import { AnomalyError, backward, detectAnomaly, noGrad } from "../../src/index.js";

describe("backward", () => {
  it("computes d/dx of a shared subexpression by summing both paths", () => {
    const x = T.tensor([2, 3], { requiresGrad: true });
    const y = x.mul(x).add(x.mul(3)).sum(); // d/dx = 2x + 3
    y.backward();
    expect(x.grad!.toArray()).toEqual([7, 9]);
  });
  it("accumulates into .grad over backward calls, as PyTorch does", () => {
    const x = T.tensor([1, 2], { requiresGrad: true });
    x.mul(2).sum().backward();
    x.mul(3).sum().backward();
    expect(x.grad!.toArray()).toEqual([5, 5]);
  });
  it("needs an explicit gradient for non-scalar outputs", () => {
    const x = T.tensor([1, 2], { requiresGrad: true });
    expect(() => x.mul(2).backward()).toThrow(/gradient can be implied only for a one-element tensor; this one has shape \[2\]/);
    x.mul(2).backward(T.tensor([1, 10]));
    expect(x.grad!.toArray()).toEqual([2, 20]);
  });
  it("refuses a second backward through a released graph unless retainGraph", () => {
    const x = T.tensor([1, 2], { requiresGrad: true });
    expect(() => x.exp().sum().backward({ retainGraph: true } as never)).toThrow(/gradient must be a Tensor/);
    const z = x.exp().sum();
    z.backward();
    expect(() => z.backward()).toThrow(/second time/);
    const w = x.exp().sum();
    backward(w, undefined, { retainGraph: true });
    backward(w, undefined, { retainGraph: true });
  });
  it("does not record inside noGrad, and detach cuts the graph", () => {
    const x = T.tensor([1, 2], { requiresGrad: true });
    const y = noGrad(() => x.mul(2));
    expect(y.requiresGrad).toBe(false);
    expect(y.gradFn).toBeNull();
    const d = x.detach();
    expect(d.requiresGrad).toBe(false);
    expect(d.data).toBe(x.data);
    expect(() => d.mul(2).sum().backward()).toThrow(/does not require grad/);
  });
  it("does not differentiate int tensors", () => {
    expect(() => T.tensor(Int32Array.from([1])).requiresGrad_()).toThrow(/only float32 tensors/);
  });
});

describe("anomaly mode", () => {
  it("names the first op that produced NaN in the forward pass", () => {
    const x = T.tensor([-1, 4], { requiresGrad: true });
    expect(() => detectAnomaly(() => x.sqrt().mul(2))).toThrow(/anomaly: sqrt produced NaN at flat index 0 of shape \[2\]/);
    // Outside anomaly mode the NaN flows silently, as in PyTorch.
    expect(Number.isNaN(x.sqrt().toTypedArray()[0])).toBe(true);
  });
  it("names the op whose backward produced inf", () => {
    const x = T.tensor([0, 4], { requiresGrad: true });
    const y = x.sqrt().sum(); // forward finite, d sqrt/dx at 0 is inf
    let err: unknown;
    try {
      detectAnomaly(() => y.backward());
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AnomalyError);
    expect((err as AnomalyError).op).toBe("sqrt");
    expect(String(err)).toMatch(/the backward of sqrt produced inf/);
  });
});
