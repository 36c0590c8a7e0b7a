// Command-line PEFT settings -> peft configs (src/peft), and the files a PEFT run leaves.
//
//   --lora r=8,alpha=16,targets=c_attn,c_proj[,dropout=0.05][,rslora]
//       a value without "=" continues the previous key's list (targets=c_attn,c_proj);
//       targets are module names matched as peft does (exact path or ".name" suffix; "all-linear").
//   --adapter size=64[,locations=attn+mlp][,act=relu]   tslm's bottleneck adapter (Houlsby)
//   --prefix N          prefix tuning with N virtual tokens (sft only)
//   --prompt-tuning N   prompt tuning with N virtual tokens (sft only)
// Every value is checked here, before a model is loaded: r <= 0, an unknown key, a missing
// `targets` are errors that name the flag and the key. Targets that match no module are reported
// by src/peft when the adapter is attached (still before training), listing the modules that exist.
//
// For classification the new head is trained as peft's modules_to_save (peft's SEQ_CLS default:
// "classifier" for BERT, "score" for GPT-2), so it is saved inside the adapter file.
import type { PeftConfig } from "../peft/index.js";
import { parsePeftConfig } from "../peft/index.js";
import type { Module } from "../nn/module.js";
import type { Tensor } from "../tensor/tensor.js";

export interface PeftFlags {
  lora?: string;
  adapter?: string;
  prefix?: number;
  promptTuning?: number;
}

function keyValues(flag: string, spec: string, allowed: string[], flags: string[] = []): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let last: string | null = null;
  for (const part of spec.split(",").map((s) => s.trim()).filter(Boolean)) {
    const eq = part.indexOf("=");
    if (eq < 0) {
      if (flags.includes(part)) {
        out.set(part, ["true"]);
        last = null;
        continue;
      }
      if (last === null) throw new Error(`${flag}: "${part}" has no key (expected key=value; keys: ${[...allowed, ...flags].join(", ")})`);
      out.get(last)!.push(part);
      continue;
    }
    const k = part.slice(0, eq).trim();
    if (!allowed.includes(k)) throw new Error(`${flag}: unknown key "${k}" (keys: ${[...allowed, ...flags].join(", ")})`);
    if (out.has(k)) throw new Error(`${flag}: "${k}" is given twice`);
    out.set(k, [part.slice(eq + 1).trim()]);
    last = k;
  }
  return out;
}

function num(flag: string, key: string, v: string | undefined, check: (n: number) => boolean, want: string): number {
  const n = Number(v);
  if (v === undefined || v === "" || !Number.isFinite(n) || !check(n)) throw new Error(`${flag}: ${key} must be ${want}, got ${JSON.stringify(v ?? null)}`);
  return n;
}

/** The peft config the flags ask for (null: full fine-tuning). `head` is the classifier head to train (modules_to_save). */
export function peftConfigFromFlags(f: PeftFlags, opts: { task: string; head: string | null; taskType: string }): PeftConfig | null {
  const given = (["lora", "adapter", "prefix", "promptTuning"] as const).filter((k) => f[k] !== undefined);
  if (given.length > 1) throw new Error(`choose one of --lora, --adapter, --prefix, --prompt-tuning (got ${given.map((g) => (g === "promptTuning" ? "--prompt-tuning" : `--${g}`)).join(", ")})`);
  if (given.length === 0) return null;
  const common = { task_type: opts.taskType, modules_to_save: opts.head ? [opts.head] : null };
  if (f.lora !== undefined) {
    const kv = keyValues("--lora", f.lora, ["r", "alpha", "targets", "dropout"], ["rslora"]);
    const r = num("--lora", "r", kv.get("r")?.[0] ?? "8", (n) => Number.isInteger(n) && n > 0, "a positive integer");
    const alpha = num("--lora", "alpha", kv.get("alpha")?.[0] ?? String(2 * r), (n) => n > 0, "a positive number");
    const dropout = num("--lora", "dropout", kv.get("dropout")?.[0] ?? "0", (n) => n >= 0 && n < 1, "in [0, 1)");
    const targets = kv.get("targets");
    if (!targets || targets.length === 0 || targets.some((t) => t === "")) throw new Error(`--lora: targets=... is required (module names, e.g. targets=c_attn,c_proj for GPT-2, query,value for BERT, q_proj,v_proj for LLaMA, or all-linear)`);
    return parsePeftConfig({ peft_type: "LORA", r, lora_alpha: alpha, lora_dropout: dropout, target_modules: targets.length === 1 && targets[0] === "all-linear" ? "all-linear" : targets, use_rslora: kv.has("rslora"), ...common });
  }
  if (f.adapter !== undefined) {
    const kv = keyValues("--adapter", f.adapter, ["size", "locations", "act"]);
    const size = num("--adapter", "size", kv.get("size")?.[0] ?? "64", (n) => Number.isInteger(n) && n > 0, "a positive integer");
    const locs = (kv.get("locations")?.[0] ?? "attn+mlp").split("+");
    for (const l of locs) if (l !== "attn" && l !== "mlp") throw new Error(`--adapter: locations must be attn, mlp or attn+mlp, got "${l}"`);
    return parsePeftConfig({ peft_type: "TSLM_BOTTLENECK", bottleneck_size: size, adapter_locations: locs, non_linearity: kv.get("act")?.[0] ?? "relu", task_type: opts.taskType });
  }
  if (opts.task !== "sft") throw new Error(`--${f.prefix !== undefined ? "prefix" : "prompt-tuning"} is available for --task sft only (tslm's prompt learning runs through the causal-LM forward)`);
  const n = f.prefix ?? f.promptTuning!;
  if (!(Number.isInteger(n) && n > 0)) throw new Error(`--${f.prefix !== undefined ? "prefix" : "prompt-tuning"}: the number of virtual tokens must be a positive integer, got ${n}`);
  if (f.prefix !== undefined) return parsePeftConfig({ peft_type: "PREFIX_TUNING", num_virtual_tokens: n, task_type: opts.taskType });
  return parsePeftConfig({ peft_type: "PROMPT_TUNING", num_virtual_tokens: n, prompt_tuning_init: "RANDOM", task_type: opts.taskType });
}

/**
 * The plain model's parameters inside a PEFT-wrapped base: adapter tensors dropped, wrapped layers'
 * `base_layer` weights under their own names; modules_to_save give their trained copy when
 * `trained` (a merged export) or their original otherwise (the frozen base the adapter sits on).
 */
export function plainStateDict(base: Module, opts: { trained: boolean; adapter?: string }): Map<string, Tensor> {
  const name = opts.adapter ?? "default";
  const out = new Map<string, Tensor>();
  for (const [k, p] of base.namedParameters()) {
    if (/\.(lora_A|lora_B|lora_embedding_A|lora_embedding_B|ia3_l)(\.|$)/.test(k) || /\.adapter\.(down|up)\./.test(k)) continue;
    if (k.includes(".modules_to_save.")) {
      if (opts.trained && k.includes(`.modules_to_save.${name}.`)) out.set(k.replace(`.modules_to_save.${name}.`, "."), p);
      continue;
    }
    if (k.includes(".original_module.")) {
      if (!opts.trained) out.set(k.replace(".original_module.", "."), p);
      continue;
    }
    out.set(k.replace(".base_layer.", "."), p);
  }
  return out;
}
