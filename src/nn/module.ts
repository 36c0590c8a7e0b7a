// Module, Parameter and ParamSource: the object tree whose paths are the checkpoint keys.
//
// Contract:
//   - A Module's parameters and children are its own fields. The dotted path of a parameter is the
//     chain of field names that reaches it, with array indices as path segments: the field
//     `transformer`, then `h[0]`, `attn`, `c_attn`, `weight` gives `transformer.h.0.attn.c_attn.weight`,
//     which is the Hugging Face checkpoint key. Fields whose names start with "_" are private state
//     (caches, rotary tables) and are not walked. A field name may itself be dotted ("self.query")
//     where a checkpoint nests a layer one level deeper than the code does.
//   - A Parameter is a contiguous float32 Tensor with requiresGrad. A parameter shared by two fields
//     (tied embeddings) is reported once, under the first path found in field order.
//   - Every module is built by ONE constructor that takes a ParamSource (candle's VarBuilder idea):
//     `ParamSource.init(...)` draws fresh parameters from a seeded Generator with the reference
//     scheme, `ParamSource.load(map)` takes them from checkpoint tensors (a missing key or a wrong
//     shape is an error naming the full path; `adopt` takes over the tensors' storage instead of
//     copying it). `src.at("attn")` scopes the source to a child path.
//     The source's mode is part of its type (`InitSource | LoadSource`) and of every message.
//   - loadStateDict is strict: it lists every missing and unexpected key and every shape mismatch,
//     with full paths and both shapes, before copying anything.
import { Generator } from "../tensor/rng.js";
import { Tensor, formatShape, shapeSize } from "../tensor/tensor.js";
import { contiguousRaw } from "../tensor/views.js";

/** A trainable tensor: contiguous float32, requiresGrad, named by its checkpoint path. */
export class Parameter extends Tensor {
  constructor(data: Float32Array, shape: readonly number[], name?: string) {
    super(data, shape);
    if (data.length !== shapeSize(shape)) throw new Error(`Parameter ${name ?? ""}: ${data.length} values for shape ${formatShape(shape)}`);
    this.requiresGrad = true;
    this.name = name;
  }
}

// ---------------------------------------------------------------------------------------------
// Initialisation schemes (what `init` mode draws for one parameter)

export type Init =
  | { kind: "normal"; std: number; mean?: number }
  | { kind: "uniform"; low: number; high: number }
  | { kind: "zeros" }
  | { kind: "ones" }
  /** A fixed fill computed by the caller (e.g. a sinusoidal table); receives the flat buffer. */
  | { kind: "fill"; fn: (out: Float32Array) => void };

export const initNormal = (std: number, mean = 0): Init => ({ kind: "normal", std, mean });
export const initZeros: Init = { kind: "zeros" };
export const initOnes: Init = { kind: "ones" };

/** The values `init` gives for n elements (normal and uniform draw from gen). */
export function drawInit(init: Init, n: number, gen: Generator): Float32Array {
  const out = new Float32Array(n);
  switch (init.kind) {
    case "normal": {
      const m = init.mean ?? 0;
      for (let i = 0; i < n; i++) out[i] = m + init.std * gen.normal();
      break;
    }
    case "uniform":
      for (let i = 0; i < n; i++) out[i] = init.low + (init.high - init.low) * gen.uniform();
      break;
    case "zeros":
      break;
    case "ones":
      out.fill(1);
      break;
    case "fill":
      init.fn(out);
      break;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// ParamSource

interface SourceRoot {
  readonly mode: "init" | "load";
  /** init: the generator. */
  readonly generator?: Generator;
  /** load: the checkpoint tensors and where they came from (for messages). */
  readonly tensors?: ReadonlyMap<string, Tensor>;
  readonly origin: string;
  readonly used: Set<string>;
  /** load: parameters take the checkpoint tensors' storage instead of copying it. */
  readonly adopt?: boolean;
}

abstract class ParamSourceBase {
  protected constructor(
    protected readonly root: SourceRoot,
    /** The dotted path of the module being built ("" at the root). */
    readonly prefix: string,
    /** The default standard deviation of normal inits (the config's initializer_range). */
    readonly std: number,
  ) {}

  abstract readonly mode: "init" | "load";

  /** The full dotted path of `name` under this source. */
  path(name: string | number): string {
    return this.prefix ? `${this.prefix}.${name}` : String(name);
  }

  /** A human description of the mode, for error messages. */
  describe(): string {
    return this.root.mode === "init" ? `initialising fresh parameters (${this.root.origin})` : `loading from ${this.root.origin}`;
  }

  /** Whether the checkpoint holds `name` under this prefix (always false in init mode). */
  has(name: string): boolean {
    return this.root.tensors?.has(this.path(name)) ?? false;
  }

  /**
   * The parameter `name` of this module: drawn from `init` in init mode, copied from the checkpoint
   * in load mode (with shape checks). The returned Parameter is named by its full path.
   */
  param(name: string, shape: readonly number[], init: Init): Parameter {
    const full = this.path(name);
    const n = shapeSize(shape);
    if (this.root.mode === "init") return new Parameter(drawInit(init, n, this.root.generator!), shape, full);
    const t = this.root.tensors!.get(full);
    if (!t) {
      const leaf = full.split(".").slice(-2).join(".");
      const near = [...this.root.tensors!.keys()].filter((k) => k.endsWith(leaf)).slice(0, 3);
      throw new Error(
        `ParamSource (${this.describe()}): missing key "${full}" (expected shape ${formatShape(shape)})` +
          (near.length ? `; the checkpoint has similar keys: ${near.map((k) => `"${k}"`).join(", ")}` : "") +
          ` (${this.root.tensors!.size} keys in the checkpoint)`,
      );
    }
    if (t.dtype !== "float32") throw new Error(`ParamSource (${this.describe()}): "${full}" has dtype ${t.dtype}, expected float32`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new Error(`ParamSource (${this.describe()}): shape mismatch for "${full}": checkpoint has ${formatShape(t.shape)}, the model expects ${formatShape(shape)}`);
    }
    this.root.used.add(full);
    const c = contiguousRaw(t);
    const src = c.data as Float32Array;
    // Adopting a tensor that owns exactly its storage saves a second copy of the model while
    // loading; otherwise the parameter gets its own copy, so in-place updates never write into the
    // caller's tensors.
    if (this.root.adopt && c.offset === 0 && src.length === n) return new Parameter(src, shape, full);
    const data = new Float32Array(n);
    data.set(src.subarray(c.offset, c.offset + n));
    return new Parameter(data, shape, full);
  }

  /**
   * Declares that `name` is tied to an existing parameter (e.g. lm_head.weight = wte.weight). In
   * load mode a checkpoint copy of it (older checkpoints keep one) is accepted when its shape matches
   * and is otherwise ignored, as transformers does.
   */
  tie(name: string, target: Parameter): Parameter {
    const full = this.path(name);
    const t = this.root.tensors?.get(full);
    if (t) {
      if (t.shape.length !== target.shape.length || t.shape.some((d, i) => d !== target.shape[i])) {
        throw new Error(`ParamSource (${this.describe()}): tied key "${full}" has shape ${formatShape(t.shape)}, but it is tied to "${target.name}" of shape ${formatShape(target.shape)}`);
      }
      this.root.used.add(full);
    }
    return target;
  }

  /** Marks checkpoint keys as known-but-unused (e.g. GPT-2's `attn.bias` causal-mask buffers). */
  ignore(name: string): void {
    const full = this.path(name);
    if (this.root.tensors?.has(full)) this.root.used.add(full);
  }

  /**
   * Called once by a root model after construction: in load mode, checkpoint keys that no module
   * asked for are an error listing each one (a silently ignored tensor usually means a wrong config).
   */
  finish(): void {
    if (this.root.mode !== "load") return;
    const unused = [...this.root.tensors!.keys()].filter((k) => !this.root.used.has(k));
    if (unused.length) {
      throw new Error(`ParamSource (${this.describe()}): ${unused.length} unexpected key(s) in the checkpoint: ${unused.map((k) => `"${k}" ${formatShape(this.root.tensors!.get(k)!.shape)}`).join(", ")}`);
    }
  }
}

/** Fresh parameters from a seeded generator with the reference init scheme. */
export class InitSource extends ParamSourceBase {
  readonly mode = "init" as const;
  constructor(root: SourceRoot, prefix: string, std: number) {
    super(root, prefix, std);
  }
  at(name: string | number): InitSource {
    return new InitSource(this.root, this.path(name), this.std);
  }
  /** The same source with another default std (models pass config.initializer_range). */
  withStd(std: number): InitSource {
    return new InitSource(this.root, this.prefix, std);
  }
  get generator(): Generator {
    return this.root.generator!;
  }
}

/** Parameters copied from checkpoint tensors keyed by their full dotted path. */
export class LoadSource extends ParamSourceBase {
  readonly mode = "load" as const;
  constructor(root: SourceRoot, prefix: string, std: number) {
    super(root, prefix, std);
  }
  at(name: string | number): LoadSource {
    return new LoadSource(this.root, this.path(name), this.std);
  }
  withStd(std: number): LoadSource {
    return new LoadSource(this.root, this.prefix, std);
  }
}

export type ParamSource = InitSource | LoadSource;

export const ParamSource = {
  /**
   * Fresh parameters: `seed` seeds a Generator (or pass one), `std` is the default normal std
   * (config.initializer_range, 0.02 for GPT-2 and LLaMA).
   */
  init(opts: { seed?: number; generator?: Generator; std?: number } = {}): InitSource {
    const generator = opts.generator ?? new Generator(opts.seed ?? 0);
    const origin = opts.generator ? "caller's generator" : `seed ${opts.seed ?? 0}`;
    return new InitSource({ mode: "init", generator, origin, used: new Set() }, "", opts.std ?? 0.02);
  },
  /**
   * Parameters from checkpoint tensors; `origin` names the file in messages. With `adopt`, the
   * parameters take over the tensors' storage (no copy; for tensors fresh from a file that nothing
   * else holds), otherwise each parameter gets its own copy.
   */
  load(tensors: ReadonlyMap<string, Tensor> | Record<string, Tensor>, opts: { origin?: string; adopt?: boolean } = {}): LoadSource {
    const map = tensors instanceof Map ? tensors : new Map(Object.entries(tensors));
    return new LoadSource({ mode: "load", tensors: map, origin: opts.origin ?? "a checkpoint", used: new Set(), adopt: opts.adopt ?? false }, "", 0.02);
  },
};

// ---------------------------------------------------------------------------------------------
// Module

export interface LoadStateDictOptions {
  /** Default true: missing and unexpected keys are errors. */
  strict?: boolean;
}

export abstract class Module {
  /** Training mode (dropout active). Set through train() / eval() so children follow. */
  training = true;

  /** Checkpoint keys this module accepts in loadStateDict but does not hold (relative paths). */
  protected ignoredKeys(): RegExp[] {
    return [];
  }

  /** Direct children as [field name, module], arrays flattened to "name.i", in field order. */
  namedChildren(): [string, Module][] {
    const out: [string, Module][] = [];
    for (const [k, v] of Object.entries(this)) {
      if (k.startsWith("_")) continue;
      if (v instanceof Module) out.push([k, v]);
      else if (Array.isArray(v)) v.forEach((m, i) => m instanceof Module && out.push([`${k}.${i}`, m]));
    }
    return out;
  }

  /** Every submodule with its path (this module first, path ""). */
  namedModules(prefix = ""): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [k, m] of this.namedChildren()) out.push(...m.namedModules(prefix ? `${prefix}.${k}` : k));
    return out;
  }

  /** Every parameter with its full path; shared parameters once, under their first path. */
  namedParameters(): [string, Parameter][] {
    const seen = new Set<Parameter>();
    const out: [string, Parameter][] = [];
    for (const [path, m] of this.namedModules()) {
      for (const [k, v] of Object.entries(m)) {
        if (k.startsWith("_") || !(v instanceof Parameter) || seen.has(v)) continue;
        seen.add(v);
        out.push([path ? `${path}.${k}` : k, v]);
      }
    }
    return out;
  }

  parameters(): Parameter[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** Number of scalar parameters (shared ones counted once). */
  numParameters(): number {
    return this.parameters().reduce((s, p) => s + p.size, 0);
  }

  train(on = true): this {
    for (const [, m] of this.namedModules()) m.training = on;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Clears every parameter's gradient. */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }

  /** Parameters by checkpoint key, as Hugging Face saves them (tied copies omitted). Shares storage. */
  stateDict(): Map<string, Tensor> {
    return new Map(this.namedParameters());
  }

  /**
   * Copies checkpoint tensors into the parameters in place (so tied parameters and optimizers that
   * hold them stay connected). Strict by default: every missing key, unexpected key and shape
   * mismatch is listed with full paths before anything is copied.
   */
  loadStateDict(state: ReadonlyMap<string, Tensor> | Record<string, Tensor>, opts: LoadStateDictOptions = {}): void {
    const strict = opts.strict ?? true;
    const map: ReadonlyMap<string, Tensor> = state instanceof Map ? state : new Map(Object.entries(state));
    const params = new Map(this.namedParameters());
    const ignored = this.namedModules().flatMap(([path, m]) => m.ignoredKeys().map((re) => ({ path, re })));
    const isIgnored = (key: string) =>
      ignored.some(({ path, re }) => (path === "" ? re.test(key) : key.startsWith(path + ".") && re.test(key.slice(path.length + 1))));
    const problems: string[] = [];
    const missing = [...params.keys()].filter((k) => !map.has(k));
    if (strict && missing.length) problems.push(`missing key(s): ${missing.map((k) => `"${k}" ${formatShape(params.get(k)!.shape)}`).join(", ")}`);
    const unexpected = [...map.keys()].filter((k) => !params.has(k) && !isIgnored(k));
    if (strict && unexpected.length) problems.push(`unexpected key(s): ${unexpected.map((k) => `"${k}" ${formatShape(map.get(k)!.shape)}`).join(", ")}`);
    for (const [k, p] of params) {
      const t = map.get(k);
      if (!t) continue;
      if (t.dtype !== "float32") problems.push(`"${k}": dtype ${t.dtype}, expected float32`);
      else if (t.shape.length !== p.shape.length || t.shape.some((d: number, i: number) => d !== p.shape[i])) {
        problems.push(`shape mismatch for "${k}": checkpoint ${formatShape(t.shape)}, model ${formatShape(p.shape)}`);
      }
    }
    if (problems.length) throw new Error(`loadStateDict (${this.constructor.name}): ${problems.join("; ")}`);
    for (const [k, p] of params) {
      const t = map.get(k);
      if (!t) continue;
      const c = contiguousRaw(t);
      (p.data as Float32Array).set((c.data as Float32Array).subarray(c.offset, c.offset + p.size), p.offset);
    }
  }
}
