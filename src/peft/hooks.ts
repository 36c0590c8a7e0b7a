// Hooks into model code that tslm's adapters need but cannot reach through module fields alone.
//
// Bottleneck adapters act on a sublayer's output before the residual add: the sublayer instance's
// forward is wrapped (its first return value, or the whole value, goes through the adapter).
//
// Glossary: B batch, T tokens, C width, H heads, D head dim.
import { Tensor } from "../tensor/tensor.js";
import { Module } from "../nn/module.js";

/** Passes the output of `sub.forward` (its first element when it returns a tuple) through `f`. */
export function patchSublayerOutput(sub: Module, path: string, f: (h: Tensor) => Tensor): void {
  const target = sub as unknown as { forward?: (...a: unknown[]) => unknown };
  if (typeof target.forward !== "function") throw new Error(`bottleneck adapters: module "${path}" (${sub.constructor.name}) has no forward`);
  const orig = target.forward.bind(sub);
  Object.defineProperty(sub, "forward", {
    enumerable: false,
    configurable: true,
    value: (...args: unknown[]) => {
      const out = orig(...args);
      if (out instanceof Tensor) return f(out);
      if (Array.isArray(out) && out[0] instanceof Tensor) return [f(out[0]), ...out.slice(1)];
      throw new Error(`bottleneck adapters: module "${path}" returned neither a tensor nor a tuple starting with one`);
    },
  });
}
