// PeftModel: a frozen pretrained model plus one or more named adapters (LoRA, IA3, bottleneck,
// prefix tuning, prompt tuning), with Hugging Face peft's module tree, parameter names, target
// matching and file format (peft 0.21: peft_model.py, tuners/tuners_utils.py, utils/save_and_load.py).
//
// Contract:
//   - Parameter paths equal peft's named_parameters(): `base_model.model.<path>.lora_A.<adapter>.weight`
//     for tuners (LoRA, IA3, bottleneck), `base_model.<path>` and `prompt_encoder.<adapter>.*` for
//     prompt learning. Only adapter parameters (plus LoRA biases per `bias`, modules_to_save copies)
//     require grad, so an optimizer given `trainableParameters()` holds nothing else.
//   - Target modules are matched like peft (check_target_module_exists): a list entry matches a
//     module whose path equals it or ends in "." + it; a string is a regex that must match the whole
//     path; "all-linear" takes every Linear / Conv1D except the output head. Nothing matched, or a
//     matched module tslm cannot wrap, is an error before any training starts, listing what exists.
//   - The base model's own fields are replaced in place (Module fields are plain object fields): a
//     wrapped layer replaces every field of its parent that held the original, including private
//     aliases such as MultiHeadAttention's `_q`, so the model code calls the wrapper.
//   - Files (written and read by src/io/peft.ts; this layer does no I/O): adapter_config.json +
//     adapter_model.safetensors with the adapter name dropped from the
//     keys as peft does (`...lora_A.weight`, `...ia3_l`, `...modules_to_save.default.weight` ->
//     `....weight`, prompt learning `prompt_embeddings`). Loading checks every key and shape and
//     names the module and both shapes when the adapter was made for another base model.
//
// Glossary: B batch, T tokens, n virtual tokens, L layers, Hp prefix heads, D head dim, C width.
import { cat, expand, permute, reshape } from "../ops/index.js";
import { Generator, defaultGenerator } from "../tensor/rng.js";
import { Tensor, formatShape } from "../tensor/tensor.js";
import { Conv1D, Embedding, Linear } from "../nn/layers.js";
import { Module, Parameter, ParamSource } from "../nn/module.js";
import type { DynamicCache } from "../nn/attention.js";
import type { CausalLMInput, CausalLMOutput } from "../models/common.js";
import { configToJSON, isPromptLearning, parsePeftConfig, type BottleneckConfig, type IA3Config, type LoraConfig, type PeftConfig, type PrefixTuningConfig, type PromptTuningConfig } from "./config.js";
import { AdapterDict, BottleneckAdapter, IA3Layer, LoraLayer, ModulesToSaveWrapper } from "./layers.js";
import { PrefixEncoder, PromptEmbedding, randn } from "./prompt.js";
import { patchSublayerOutput } from "./hooks.js";

export const ADAPTER_CONFIG_NAME = "adapter_config.json";
export const ADAPTER_WEIGHTS_NAME = "adapter_model.safetensors";

/** What a base model must offer: a causal-LM forward, its config, a fresh KV cache for prefix tuning. */
export interface PeftBaseModel extends Module {
  readonly config: { model_type: string; [key: string]: unknown };
  forward(input: CausalLMInput): CausalLMOutput;
  newCache?(): DynamicCache;
}

/** peft's LoraModel / IA3Model: holds the base under `model`, so paths read base_model.model.*. */
export class TunerModel extends Module {
  constructor(readonly model: PeftBaseModel) {
    super();
  }
}

export interface PeftOptions {
  /** Adapter name (peft's default "default"). */
  adapterName?: string;
  /** Draws the adapter's initial values (default: the global generator). */
  generator?: Generator;
  /** Prompt tuning with prompt_tuning_init "TEXT": turns the init text into token ids. */
  tokenizer?: { encode(text: string): number[] | { ids: number[] } };
}

// ---------------------------------------------------------------------------------------------
// Target matching

/** peft's check_target_module_exists for one module path. */
export function matchesTarget(targets: string[] | string, path: string): boolean {
  if (typeof targets === "string") return new RegExp(`^(?:${targets})$`).test(path);
  return targets.some((t) => path === t || path.endsWith(`.${t}`));
}

const OUTPUT_HEADS = new Set(["lm_head", "score", "classifier", "cls", "qa_outputs"]);

/** [path, module] for every module of `root` that `targets` selects (without the excluded ones). */
function selectTargets(root: Module, targets: string[] | string, exclude: string[] | string | null, kinds: (m: Module) => boolean, what: string): [string, Module][] {
  const mods = root.namedModules().filter(([p]) => p !== "");
  let hits: [string, Module][];
  if (targets === "all-linear") {
    hits = mods.filter(([p, m]) => (m instanceof Linear || m instanceof Conv1D) && !OUTPUT_HEADS.has(p.split(".").pop()!));
  } else hits = mods.filter(([p]) => matchesTarget(targets, p));
  if (exclude) hits = hits.filter(([p]) => !matchesTarget(exclude, p));
  if (!hits.length) {
    const leaves = [...new Set(mods.filter(([, m]) => kinds(m)).map(([p]) => p.replace(/\.\d+\./g, ".N.")))];
    throw new Error(`${what}: target_modules ${JSON.stringify(targets)} match no module of the model. Modules that can be targeted: ${leaves.join(", ")}`);
  }
  const bad = hits.filter(([, m]) => !kinds(m));
  if (bad.length) {
    throw new Error(`${what}: target module(s) ${bad.map(([p, m]) => `"${p}" (${m.constructor.name})`).join(", ")} are not supported; tslm wraps Linear, Conv1D${what === "LoRA" ? " and Embedding" : ""} layers`);
  }
  return hits;
}

/** Replaces every field (public or private alias) and array slot in `root`'s tree that holds `from`. */
function replaceModule(root: Module, from: Module, to: Module): void {
  let n = 0;
  const seen = new Set<Module>();
  const visit = (m: Module) => {
    if (seen.has(m)) return;
    seen.add(m);
    for (const [k, v] of Object.entries(m)) {
      if (v === from && m !== to) {
        (m as unknown as Record<string, unknown>)[k] = to;
        n++;
      } else if (v instanceof Module) visit(v);
      else if (Array.isArray(v)) {
        v.forEach((x, i) => {
          if (x === from) {
            v[i] = to;
            n++;
          } else if (x instanceof Module) visit(x);
        });
      }
    }
  };
  visit(root);
  if (!n) throw new Error(`replaceModule: ${from.constructor.name} not found in the model`);
}

// ---------------------------------------------------------------------------------------------
// Base-model facts for prompt learning (peft's _prepare_prompt_learning_config)

function baseDims(base: PeftBaseModel): { L: number; C: number; H: number; Hkv: number | null } {
  const c = base.config as Record<string, unknown>;
  const pick = (...ks: string[]) => ks.map((k) => c[k]).find((v) => typeof v === "number") as number | undefined;
  const L = pick("num_hidden_layers", "num_layers", "n_layer");
  const C = pick("hidden_size", "n_embd", "d_model");
  const H = pick("num_attention_heads", "n_head", "num_heads");
  if (L === undefined || C === undefined || H === undefined) throw new Error(`peft: cannot read layers / width / heads from the ${base.config.model_type} config`);
  return { L, C, H, Hkv: typeof c.num_key_value_heads === "number" ? c.num_key_value_heads : null };
}

/** The token embedding module and the field that holds it (get_input_embeddings). */
function inputEmbeddings(base: PeftBaseModel): { parent: Module; field: string; emb: Embedding } {
  for (const [, m] of base.namedModules()) {
    for (const f of ["wte", "embed_tokens", "word_embeddings", "shared"]) {
      const e = (m as unknown as Record<string, unknown>)[f];
      if (e instanceof Embedding) return { parent: m, field: f, emb: e };
    }
  }
  throw new Error(`peft: no input embedding (wte / embed_tokens / word_embeddings / shared) found in the ${base.config.model_type} model`);
}

// ---------------------------------------------------------------------------------------------
// PeftModel

export class PeftModel extends Module {
  /** TunerModel for LoRA / IA3 / bottleneck (paths base_model.model.*); the base itself for prompt learning. */
  readonly base_model: TunerModel | PeftBaseModel;
  readonly prompt_encoder: AdapterDict<PrefixEncoder | PromptEmbedding> | null;
  readonly _base: PeftBaseModel;
  readonly _configs = new Map<string, PeftConfig>();
  readonly _promptLearning: boolean;
  _active = "default";
  _disabled = false;

  private constructor(base: PeftBaseModel, promptLearning: boolean) {
    super();
    this._base = base;
    this._promptLearning = promptLearning;
    this.base_model = promptLearning ? base : new TunerModel(base);
    this.prompt_encoder = promptLearning ? new AdapterDict() : null;
    for (const p of base.parameters()) p.requiresGrad = false;
    this.training = base.training;
  }

  /** Wraps `base` with a fresh adapter (peft's get_peft_model). The base is modified in place and frozen. */
  static create(base: PeftBaseModel, config: PeftConfig | Record<string, unknown>, opts: PeftOptions = {}): PeftModel {
    const cfg = "peft_type" in config ? parsePeftConfig(config as Record<string, unknown>) : (config as PeftConfig);
    const m = new PeftModel(base, isPromptLearning(cfg));
    m.addAdapter(opts.adapterName ?? "default", cfg, opts);
    return m;
  }

  /** The base model's config (as peft's PeftModel.config), so generate() and callers see model_type, eos ids, ... */
  get config(): PeftBaseModel["config"] {
    return this._base.config;
  }
  /** The active adapter's config (peft's active_peft_config). */
  get activePeftConfig(): PeftConfig {
    return this._configs.get(this._active)!;
  }
  get peftConfig(): ReadonlyMap<string, PeftConfig> {
    return this._configs;
  }
  get activeAdapter(): string {
    return this._active;
  }
  getBaseModel(): PeftBaseModel {
    return this._base;
  }

  /** Adds another named adapter (same family of method as the first); the active adapter does not change. */
  addAdapter(name: string, config: PeftConfig | Record<string, unknown>, opts: PeftOptions = {}): void {
    const cfg = "peft_type" in config ? parsePeftConfig(config as Record<string, unknown>) : (config as PeftConfig);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`peft: adapter name "${name}" must be an identifier (it becomes a path segment)`);
    if (this._configs.has(name)) throw new Error(`peft: an adapter named "${name}" already exists`);
    if (isPromptLearning(cfg) !== this._promptLearning) throw new Error(`peft: cannot mix prompt learning and tuner adapters in one model ("${name}" is ${cfg.peft_type})`);
    if (this._promptLearning && this._configs.size) throw new Error(`peft: one prompt-learning adapter per model (as peft)`);
    if (cfg.base_model_name_or_path === null && typeof this._base.config._name_or_path === "string") cfg.base_model_name_or_path = this._base.config._name_or_path as string;
    const gen = opts.generator ?? defaultGenerator;
    switch (cfg.peft_type) {
      case "LORA":
        this.addLora(name, cfg, gen);
        break;
      case "IA3":
        this.addIA3(name, cfg, gen);
        break;
      case "TSLM_BOTTLENECK":
        this.addBottleneck(name, cfg, gen);
        break;
      case "PREFIX_TUNING":
        this.addPrefix(name, cfg, gen);
        break;
      case "PROMPT_TUNING":
        this.addPrompt(name, cfg, gen, opts);
        break;
    }
    this._configs.set(name, cfg);
    if (this._configs.size === 1) this.setAdapter(name);
    else this.setAdapter(this._active); // keeps new layers' active lists in step
  }

  private tunerLayers(): (LoraLayer | IA3Layer | ModulesToSaveWrapper)[] {
    return this._base.namedModules().map(([, m]) => m).filter((m): m is LoraLayer | IA3Layer | ModulesToSaveWrapper => m instanceof LoraLayer || m instanceof IA3Layer || m instanceof ModulesToSaveWrapper);
  }

  /**
   * Wraps the modules_to_save in trainable copies. For SEQ_CLS peft adds the classification heads
   * "classifier" and "score" itself (and writes them into the config); an entry may match nothing
   * (e.g. "score" on BERT), but the whole list must match something.
   */
  private addModulesToSave(name: string, cfg: LoraConfig | IA3Config): void {
    if (cfg.task_type === "SEQ_CLS") cfg.modules_to_save = [...(cfg.modules_to_save ?? []), ...["classifier", "score"].filter((h) => !(cfg.modules_to_save ?? []).includes(h))];
    const names = cfg.modules_to_save ?? [];
    const all = this._base.namedModules().filter(([p]) => p !== "" && names.some((t) => matchesTarget([t], p) && !p.includes(".modules_to_save.") && !p.includes(".original_module")));
    if (names.length && !all.length) throw new Error(`peft: modules_to_save ${JSON.stringify(names)} match no module of the model`);
    {
      const hits = all.filter(([p]) => !all.some(([q]) => q !== p && p.startsWith(q + ".")));
      for (const [, m] of hits) {
        const w = m instanceof ModulesToSaveWrapper ? m : new ModulesToSaveWrapper(m);
        if (w !== m) replaceModule(this._base, m, w);
        w.addAdapter(name);
      }
    }
  }

  private addLora(name: string, cfg: LoraConfig, gen: Generator): void {
    if (cfg.target_modules === null) throw new Error(`LoRA: target_modules is required (tslm has no per-architecture default list)`);
    const hits = selectTargets(this._base, cfg.target_modules, cfg.exclude_modules, (m) => m instanceof Linear || m instanceof Conv1D || m instanceof Embedding || m instanceof LoraLayer, "LoRA");
    for (const [path, m] of hits) {
      let layer: LoraLayer;
      if (m instanceof LoraLayer) layer = m;
      else {
        layer = new LoraLayer(m as Linear | Conv1D | Embedding, path);
        replaceModule(this._base, m, layer);
      }
      layer.addAdapter(name, { r: cfg.r, alpha: cfg.lora_alpha, dropout: cfg.lora_dropout, useRslora: cfg.use_rslora, init: cfg.init_lora_weights, generator: gen });
      if (cfg.bias === "lora_only" && !layer.isEmbedding) {
        const b = (layer.base_layer as Linear | Conv1D).bias;
        if (b) b.requiresGrad = true;
      }
    }
    if (cfg.bias === "all") for (const [k, p] of this._base.namedParameters()) if (k.endsWith("bias") && !k.includes("lora_")) p.requiresGrad = true;
    this.addModulesToSave(name, cfg);
  }

  private addIA3(name: string, cfg: IA3Config, gen: Generator): void {
    if (cfg.target_modules === null) throw new Error(`IA3: target_modules is required`);
    const hits = selectTargets(this._base, cfg.target_modules, cfg.exclude_modules, (m) => m instanceof Linear || m instanceof Conv1D || m instanceof IA3Layer, "IA3");
    for (const [path, m] of hits) {
      const ff = cfg.feedforward_modules !== null && matchesTarget(cfg.feedforward_modules, path);
      let layer: IA3Layer;
      if (m instanceof IA3Layer) layer = m;
      else {
        layer = new IA3Layer(m as Linear | Conv1D, path, ff);
        replaceModule(this._base, m, layer);
      }
      layer.addAdapter(name, cfg.init_ia3_weights, gen);
    }
    this.addModulesToSave(name, cfg);
  }

  private addBottleneck(name: string, cfg: BottleneckConfig, gen: Generator): void {
    if (this._configs.size) throw new Error(`bottleneck adapters: one adapter per model in tslm`);
    const fam = this._base.config.model_type;
    const locNames: Record<string, Record<string, string>> = { gpt2: { attn: "attn", mlp: "mlp" }, llama: { attn: "self_attn", mlp: "mlp" } };
    let targets: string[] | string;
    if (cfg.target_modules !== null) targets = cfg.target_modules;
    else if (locNames[fam]) targets = cfg.adapter_locations.map((l) => `${fam === "gpt2" ? "transformer.h" : "model.layers"}.\\d+.${locNames[fam][l]}`).join("|");
    else throw new Error(`bottleneck adapters: no default sublayers for model_type "${fam}"; set target_modules to the sublayer modules (attention / feed-forward) whose output feeds a residual`);
    const hits = this._base.namedModules().filter(([p]) => p !== "" && matchesTarget(targets, p));
    if (!hits.length) throw new Error(`bottleneck adapters: target_modules ${JSON.stringify(targets)} match no module`);
    const C = baseDims(this._base).C;
    const m = cfg.bottleneck_size;
    for (const [path, sub] of hits) {
      // down: torch.nn.Linear's default init; up: normal(0, init_scale) (zero: the adapter starts as the identity).
      const src = ParamSource.init({ generator: gen });
      const down = new Linear(src, C, m, { weightInit: { kind: "uniform", low: -1 / Math.sqrt(C), high: 1 / Math.sqrt(C) } });
      const up = new Linear(src, m, C, { weightInit: cfg.init_scale > 0 ? { kind: "normal", std: cfg.init_scale } : { kind: "zeros" } });
      const a = new BottleneckAdapter(down, up, cfg.non_linearity);
      (sub as unknown as Record<string, unknown>).adapter = a;
      patchSublayerOutput(sub, path, (h) => (this._disabled ? h : a.forward(h)));
    }
  }

  private addPrefix(name: string, cfg: PrefixTuningConfig, gen: Generator): void {
    const d = baseDims(this._base);
    cfg.num_layers ??= d.L;
    if (cfg.token_dim === null || cfg.num_attention_heads === null) {
      // Grouped-query attention: the prefix holds key/value heads only (peft #1901).
      const Hkv = d.Hkv ?? d.H;
      cfg.token_dim ??= (d.C / d.H) * Hkv;
      cfg.num_attention_heads ??= Hkv;
    }
    cfg.num_transformer_submodules ??= 1;
    if (typeof this._base.newCache !== "function") throw new Error(`prefix tuning: the ${this._base.config.model_type} model has no KV cache (newCache) to hold the prefix`);
    this.prompt_encoder!.set(name, new PrefixEncoder({ n: cfg.num_virtual_tokens, C: cfg.token_dim, L: cfg.num_layers, projection: cfg.prefix_projection && !cfg.inference_mode, E: cfg.encoder_hidden_size, generator: gen }));
  }

  private addPrompt(name: string, cfg: PromptTuningConfig, gen: Generator, opts: PeftOptions): void {
    const d = baseDims(this._base);
    cfg.num_layers ??= d.L;
    cfg.token_dim ??= d.C;
    cfg.num_attention_heads ??= d.H;
    cfg.num_transformer_submodules ??= 1;
    const n = cfg.num_virtual_tokens;
    const C = cfg.token_dim;
    const { emb } = inputEmbeddings(this._base);
    let init: Float32Array;
    const W = emb.weight.toTypedArray() as Float32Array;
    if (cfg.prompt_tuning_init === "TEXT") {
      // peft: the text's ids, repeated to cover n and cut to n; their word embeddings.
      if (!opts.tokenizer) throw new Error(`prompt tuning: prompt_tuning_init "TEXT" needs a tokenizer (PeftOptions.tokenizer)`);
      const enc = opts.tokenizer.encode(cfg.prompt_tuning_init_text!);
      const ids0 = Array.isArray(enc) ? enc : enc.ids;
      if (!ids0.length) throw new Error(`prompt tuning: prompt_tuning_init_text tokenizes to no tokens`);
      const ids = textInitIds(ids0, n);
      init = new Float32Array(n * C);
      ids.forEach((id, i) => init.set(W.subarray(id * C, (id + 1) * C), i * C));
    } else if (cfg.prompt_tuning_init === "SAMPLE_VOCAB") {
      init = new Float32Array(n * C);
      for (let i = 0; i < n; i++) {
        const id = Math.floor(gen.uniform() * emb.numEmbeddings);
        init.set(W.subarray(id * C, (id + 1) * C), i * C);
      }
    } else init = randn([n, C], gen).data as Float32Array;
    this.prompt_encoder!.set(name, new PromptEmbedding(init, n, C));
  }

  /** Makes `name` the adapter forward uses (peft's set_adapter); only its parameters require grad. */
  setAdapter(name: string): void {
    if (!this._configs.has(name) && this._configs.size) throw new Error(`peft: no adapter named "${name}" (adapters: ${[...this._configs.keys()].join(", ")})`);
    this._active = name;
    for (const l of this.tunerLayers()) {
      if (l instanceof ModulesToSaveWrapper) {
        l._active = l.modules_to_save.get(name) ? name : null;
        for (const k of l.modules_to_save.keys()) for (const p of l.modules_to_save.get(k)!.parameters()) p.requiresGrad = k === name;
      } else {
        l._active = l.adapterNames().includes(name) ? [name] : [];
        for (const [k, p] of l.namedParameters()) if (!k.startsWith("base_layer.")) p.requiresGrad = k.split(".").includes(name);
      }
    }
    if (this.prompt_encoder) for (const k of this.prompt_encoder.keys()) for (const p of this.prompt_encoder.get(k)!.parameters()) p.requiresGrad = k === name;
  }

  /** Runs the base model alone (peft's disable_adapter context); fails if adapters are merged. */
  withAdaptersDisabled<T>(fn: () => T): T {
    const layers = this.tunerLayers();
    const prev = this._disabled;
    this._disabled = true;
    layers.forEach((l) => (l._disabled = true));
    try {
      return fn();
    } finally {
      this._disabled = prev;
      layers.forEach((l) => (l._disabled = prev));
    }
  }

  /** Folds the active LoRA or IA3 adapter into the base weights in place (peft's merge_adapter). */
  mergeAdapter(): void {
    if (this.activePeftConfig.peft_type === "TSLM_BOTTLENECK") throw new Error(`peft: bottleneck adapters add a nonlinear path and cannot be merged into the weights`);
    for (const l of this.tunerLayers()) if (l instanceof LoraLayer || l instanceof IA3Layer) l.merge();
  }

  /** Undoes mergeAdapter (peft's unmerge_adapter). */
  unmergeAdapter(): void {
    for (const l of this.tunerLayers()) if (l instanceof LoraLayer || l instanceof IA3Layer) l.unmerge();
  }

  /**
   * Folds the active LoRA or IA3 adapter into the weights and removes every wrapper (peft's
   * merge_and_unload): returns the base model with its original module tree and parameter names,
   * ready for savePretrained as a plain checkpoint. modules_to_save take the active copy's values.
   * This PeftModel is unusable afterwards.
   */
  mergeAndUnload(): PeftBaseModel {
    if (this._promptLearning) throw new Error(`peft: merge_and_unload does not apply to ${this.activePeftConfig.peft_type} (the virtual tokens are inputs, not weights)`);
    const t = this.activePeftConfig.peft_type;
    if (t === "TSLM_BOTTLENECK") throw new Error(`peft: bottleneck adapters add a nonlinear path and cannot be merged into the weights`);
    for (const l of this.tunerLayers()) {
      if (l instanceof LoraLayer || l instanceof IA3Layer) {
        l.merge([this._active]);
        replaceModule(this._base, l, l.base_layer);
      } else if (l instanceof ModulesToSaveWrapper) {
        const orig = l.original_module;
        const cur = l.current();
        if (cur !== orig) {
          const src = new Map(cur.namedParameters());
          for (const [k, p] of orig.namedParameters()) (p.data as Float32Array).set(src.get(k)!.toTypedArray() as Float32Array, p.offset);
        }
        replaceModule(this._base, l, orig);
      }
    }
    for (const p of this._base.parameters()) p.requiresGrad = true;
    return this._base;
  }

  forward(input: CausalLMInput): CausalLMOutput {
    const cfg = this.activePeftConfig;
    if (!this._promptLearning || this._disabled) return this._base.forward(input);
    const [B, T] = input.inputIds.shape;
    const n = (cfg as PrefixTuningConfig | PromptTuningConfig).num_virtual_tokens;
    // A VirtualTokenCache (from newCache, used by generate) counts real tokens only: its position
    // ids are shifted past the virtual tokens, as transformers derives them from the mask peft extends.
    const vcache = input.cache instanceof VirtualTokenCache ? input.cache : null;
    const cache = vcache ? vcache.inner : input.cache;
    const positionIds = vcache && input.positionIds ? addScalarInt(input.positionIds, n) : input.positionIds;
    const hasPast = !!cache && cache.length > 0;
    // The virtual tokens are always attended: ones in front of the caller's mask.
    const mask = input.attentionMask ? cat([onesInt(B, n), input.attentionMask], 1) : input.attentionMask;
    const enc = this.prompt_encoder!.get(this._active)!;
    const run = (extra: Partial<CausalLMInput>): CausalLMOutput => {
      const out = this._base.forward({ ...input, attentionMask: mask, positionIds, ...(cache ? { cache } : {}), ...extra });
      if (vcache) out.cache = vcache as unknown as DynamicCache;
      return out;
    };
    if (hasPast) return run({});
    if (cfg.peft_type === "PREFIX_TUNING") {
      const c = cache ?? this._base.newCache!();
      const L = cfg.num_layers!;
      const Hp = cfg.num_attention_heads!;
      const D = cfg.token_dim! / Hp;
      // [n, 2 L C] -> [n, 2L, Hp, D] -> [2L, Hp, n, D]; layer l's keys are row 2l, values row 2l + 1 (peft's split(2)).
      const kv = permute(reshape(enc.forward(), [n, 2 * L, Hp, D]), [1, 2, 0, 3]); // (2L, Hp, n, D)
      c.layers.forEach((layer, l) => {
        layer.keys = expand(kv.narrow(0, 2 * l, 1), [B, Hp, n, D]); // (B, Hp, n, D)
        layer.values = expand(kv.narrow(0, 2 * l + 1, 1), [B, Hp, n, D]);
      });
      return run({ cache: c });
    }
    // Prompt tuning: n placeholder ids in front; the input embedding is swapped for one call so the
    // first n rows are the virtual tokens (the same as peft prepending them to inputs_embeds).
    // peft passes a caller's position_ids through unchanged, which cannot cover the virtual tokens.
    if (input.positionIds && !vcache) throw new Error(`prompt tuning: positionIds cannot be given (the virtual tokens take positions 0..${n - 1})`);
    const ids = cat([new Tensor(new Int32Array(B * n), [B, n]), input.inputIds], 1); // (B, n + T)
    const labels = input.labels ? cat([new Tensor(new Int32Array(B * n).fill(-100), [B, n]), input.labels], 1) : input.labels;
    const pos = positionIds ? cat([rangeRows(positionIds.shape[0], n), positionIds], 1) : positionIds; // (B or 1, n + T)
    const { parent, field, emb } = inputEmbeddings(this._base);
    const prompt = enc.forward(); // (n, C)
    const C = prompt.shape[1];
    const swapped = {
      forward: (x: Tensor) => cat([expand(prompt.unsqueeze(0), [B, n, C]), emb.forward(x.narrow(1, n, T))], 1), // (B, n + T, C)
    };
    const rec = parent as unknown as Record<string, unknown>;
    rec[field] = swapped;
    try {
      return run({ inputIds: ids, labels, positionIds: pos });
    } finally {
      rec[field] = emb;
    }
  }

  /**
   * A KV cache for generate(). For prompt learning it is a VirtualTokenCache: the base model's
   * cache (which also holds the n virtual positions) seen by generate() without them, so that its
   * count of cached positions and its position ids refer to real tokens; forward() adds them back.
   */
  newCache(): DynamicCache {
    if (typeof this._base.newCache !== "function") throw new Error(`peft: the ${this._base.config.model_type} model has no KV cache`);
    const inner = this._base.newCache();
    if (!this._promptLearning) return inner;
    return new VirtualTokenCache(inner, (this.activePeftConfig as PrefixTuningConfig | PromptTuningConfig).num_virtual_tokens) as unknown as DynamicCache;
  }

  // -------------------------------------------------------------------------------------------
  // Parameters

  /** Parameters that require grad: what an optimizer should be given. */
  trainableParameters(): Parameter[] {
    return this.parameters().filter((p) => p.requiresGrad);
  }

  /** [trainable, total] parameter counts (peft's get_nb_trainable_parameters; shared tensors once). */
  getNbTrainableParameters(): [number, number] {
    const ps = this.parameters();
    return [ps.filter((p) => p.requiresGrad).reduce((s, p) => s + p.size, 0), ps.reduce((s, p) => s + p.size, 0)];
  }

  /**
   * The adapter's tensors under the keys peft writes: adapter name dropped, modules_to_save copies
   * under the wrapped module's own path, prompt learning as `prompt_embeddings`.
   */
  adapterStateDict(name = this._active): Map<string, Tensor> {
    const cfg = this._configs.get(name);
    if (!cfg) throw new Error(`peft: no adapter named "${name}"`);
    const out = new Map<string, Tensor>();
    if (this._promptLearning) {
      const enc = this.prompt_encoder!.get(name)!;
      // peft's get_prompt_embedding_to_save: the encoder's output for all virtual tokens.
      out.set("prompt_embeddings", enc.forward().contiguous());
      return out;
    }
    const esc = name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const embTargeted = cfg.peft_type === "LORA" && cfg.target_modules !== null && this.embeddingTargeted(cfg);
    for (const [k, p] of this.namedParameters()) {
      let key: string | null = null;
      if (cfg.peft_type === "LORA") {
        if (new RegExp(`\\.lora_(A|B|embedding_A|embedding_B)\\.${esc}(\\.|$)`).test(k)) key = k.replace(`.${name}`, "");
        else if (k.endsWith(".bias") && cfg.bias === "all" && !k.includes(".modules_to_save.") && !k.includes(".original_module.")) key = k;
        else if (k.endsWith(".base_layer.bias") && cfg.bias === "lora_only") key = k;
        else if (embTargeted && /(^|\.)(embed_tokens|lm_head)\.base_layer\.weight$/.test(k)) key = k;
      } else if (cfg.peft_type === "IA3") {
        if (k.endsWith(`.ia3_l.${name}`)) key = k.slice(0, -(name.length + 1));
      } else if (cfg.peft_type === "TSLM_BOTTLENECK") {
        if (k.includes(".adapter.")) key = k;
      }
      if (k.includes(`.modules_to_save.${name}.`)) key = k.replace(`.modules_to_save.${name}.`, ".");
      if (key) out.set(key, p);
    }
    return out;
  }

  private embeddingTargeted(cfg: LoraConfig): boolean {
    const t = cfg.target_modules!;
    if (typeof t === "string") return t !== "all-linear" && this._base.namedModules().some(([p]) => /(^|\.)(embed_tokens|lm_head)$/.test(p) && matchesTarget(t, p));
    return t.some((x) => x === "embed_tokens" || x === "lm_head");
  }

  /**
   * What peft's save_pretrained writes for one adapter: the adapter_config.json object (inference
   * mode on) and the tensors of adapter_model.safetensors (adapter name dropped from the keys).
   * The files themselves are written by src/io/peft.ts (savePeftModel).
   */
  adapterFiles(name = this._active): { config: Record<string, unknown>; tensors: Map<string, Tensor> } {
    const cfg = this._configs.get(name);
    if (!cfg) throw new Error(`peft: no adapter named "${name}" (have: ${[...this._configs.keys()].join(", ")})`);
    return { config: configToJSON({ ...cfg, inference_mode: true }), tensors: this.adapterStateDict(name) };
  }

  adapterNames(): string[] {
    return [...this._configs.keys()];
  }

  /**
   * A PeftModel around `base` with a saved adapter (peft's PeftModel.from_pretrained, given the
   * parsed adapter_config.json and the adapter_model.safetensors tensors; src/io/peft.ts reads the
   * files). With `isTrainable` the adapter's parameters require grad, otherwise eval mode.
   */
  static fromAdapter(base: PeftBaseModel, cfg: PeftConfig, tensors: ReadonlyMap<string, Tensor>, opts: PeftOptions & { isTrainable?: boolean; origin?: string } = {}): PeftModel {
    const m = new PeftModel(base, isPromptLearning(cfg));
    m.loadAdapterTensors(opts.adapterName ?? "default", cfg, tensors, opts);
    if (!opts.isTrainable) m.eval();
    return m;
  }

  /** Adds a saved adapter under `name` (peft's load_adapter); `origin` names its folder in errors. */
  loadAdapterTensors(name: string, config: PeftConfig, tensors: ReadonlyMap<string, Tensor>, opts: PeftOptions & { isTrainable?: boolean; origin?: string } = {}): void {
    const dir = opts.origin ?? "the adapter";
    const cfg: PeftConfig = { ...config, inference_mode: !opts.isTrainable };
    // A saved prefix with projection is the MLP's output table: in inference mode the encoder is
    // that table alone (as peft); the MLP itself is not in the file, so it cannot be trained on.
    if (cfg.peft_type === "PREFIX_TUNING" && cfg.prefix_projection && !cfg.inference_mode) {
      throw new Error(`prefix tuning: ${dir} holds only the projected prefix table (prefix_projection); load it without isTrainable`);
    }
    // The file overwrites the initial values, so a TEXT-initialised prompt needs no tokenizer here.
    this.addAdapter(name, cfg, { ...opts, tokenizer: opts.tokenizer ?? { encode: () => [0] } });
    const want = this.adapterStateDict(name);
    const problems: string[] = [];
    for (const [k, t] of tensors) {
      const p = want.get(k);
      if (!p) {
        problems.push(`unexpected key "${k}" ${formatShape(t.shape)}`);
        continue;
      }
      const target = this._promptLearning ? this.prompt_encoder!.get(name)!.embedding.weight : p;
      if (t.shape.length !== target.shape.length || t.shape.some((d, i) => d !== target.shape[i])) {
        const mod = k.replace(/\.(lora_[AB]|lora_embedding_[AB]|ia3_l|base_layer)(\.weight|\.bias)?$/, "").replace(/^base_model\.model\./, "");
        problems.push(`module "${mod}": the adapter's "${k}" has shape ${formatShape(t.shape)}, this base model needs ${formatShape(target.shape)}`);
      }
    }
    for (const k of want.keys()) if (!tensors.has(k)) problems.push(`missing key "${k}" ${formatShape(want.get(k)!.shape)}`);
    if (problems.length) {
      throw new Error(`peft: the adapter in ${dir} does not fit this ${this._base.config.model_type} model (made for ${cfg.base_model_name_or_path ?? "an unnamed base"}?): ${problems.join("; ")}`);
    }
    for (const [k, t] of tensors) {
      const dst = this._promptLearning ? this.prompt_encoder!.get(name)!.embedding.weight : (want.get(k) as Parameter);
      const src = t.dtype === "float32" ? (t.toTypedArray() as Float32Array) : Float32Array.from(t.toTypedArray());
      (dst.data as Float32Array).set(src, dst.offset);
    }
    if (opts.isTrainable) this.setAdapter(this._active);
    else for (const p of this.parameters()) p.requiresGrad = false;
  }
}

/** peft's TEXT init ids: the text's ids repeated until they cover n, then cut to n. */
export function textInitIds(ids: number[], n: number): number[] {
  const reps = Math.ceil(n / ids.length);
  return Array.from({ length: reps }, () => ids).flat().slice(0, n);
}

/**
 * The base model's KV cache as generate() should see it with prompt learning: `length` excludes
 * the n virtual positions at its front; `crop` keeps them. forward() unwraps it.
 */
export class VirtualTokenCache {
  constructor(
    readonly inner: DynamicCache,
    readonly n: number,
  ) {}
  get layers() {
    return this.inner.layers;
  }
  get length(): number {
    return Math.max(0, this.inner.length - this.n);
  }
  crop(k: number): void {
    this.inner.crop(k + this.n);
  }
}

function addScalarInt(t: Tensor, v: number): Tensor {
  const src = t.toTypedArray();
  return new Tensor(Int32Array.from(src, (x) => x + v), t.shape);
}

/** [rows, n] int32 rows of 0..n-1 (the virtual tokens' positions). */
function rangeRows(rows: number, n: number): Tensor {
  const out = new Int32Array(rows * n);
  for (let r = 0; r < rows; r++) for (let i = 0; i < n; i++) out[r * n + i] = i;
  return new Tensor(out, [rows, n]);
}

function onesInt(B: number, n: number): Tensor {
  return new Tensor(new Int32Array(B * n).fill(1), [B, n]);
}

/** peft's get_peft_model. */
export function getPeftModel(base: PeftBaseModel, config: PeftConfig | Record<string, unknown>, opts: PeftOptions = {}): PeftModel {
  return PeftModel.create(base, config, opts);
}

export type { LoraConfig, IA3Config, PrefixTuningConfig, PromptTuningConfig, BottleneckConfig };
