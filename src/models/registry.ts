// model_type -> { config parser, model class, architectures name, checkpoint key table }.
//
// io's fromPretrained reads config.json and the safetensors, then calls loadModel (or
// createModel with its own ParamSource); a fresh model for training is createModel(config,
// ParamSource.init({ seed })). An unknown model_type is an error listing the supported ones.
import { ParamSource, type Module } from "../nn/module.js";
import { Tensor } from "../tensor/tensor.js";
import type { CausalLMInput, CausalLMOutput, RawConfig } from "./common.js";
import * as bert from "./bert.js";
import * as gpt2 from "./gpt2.js";
import { GPT2ForSequenceClassification } from "./gpt2_classification.js";
import * as llama from "./llama.js";
import * as t5 from "./t5.js";
import * as transformer from "./transformer.js";

/** What every registered model offers. */
export interface PretrainedModel extends Module {
  readonly config: { model_type: string; [key: string]: unknown };
  forward(input: CausalLMInput): CausalLMOutput;
}

export interface ModelEntry {
  modelType: string;
  /** The `architectures` name transformers writes in config.json. */
  architecture: string;
  parseConfig(raw: RawConfig): { model_type: string; [key: string]: unknown };
  create(config: RawConfig, src: ParamSource): PretrainedModel;
  /** Checkpoint keys accepted but not loaded (tied copies, old buffers). */
  ignoredKeys: RegExp[];
  /** Maps keys of checkpoint variants (e.g. GPT-2 without the "transformer." prefix) to tslm paths. */
  remapKeys(tensors: ReadonlyMap<string, Tensor>): Map<string, Tensor>;
}

const REGISTRY = new Map<string, ModelEntry>([
  [
    "gpt2",
    {
      modelType: "gpt2",
      architecture: gpt2.GPT2LMHeadModel.architecture,
      parseConfig: gpt2.parseGPT2Config,
      // architectures ["GPT2ForSequenceClassification"] builds the classifier (gpt2_classification.ts).
      create: (c, s) =>
        Array.isArray(c.architectures) && c.architectures[0] === "GPT2ForSequenceClassification"
          ? (new GPT2ForSequenceClassification(c, s) as unknown as PretrainedModel)
          : new gpt2.GPT2LMHeadModel(c, s),
      ignoredKeys: gpt2.checkpointKeyTable.ignored,
      remapKeys: gpt2.checkpointKeyTable.remapKeys,
    },
  ],
  [
    "llama",
    {
      modelType: "llama",
      architecture: llama.LlamaForCausalLM.architecture,
      parseConfig: llama.parseLlamaConfig,
      create: (c, s) => new llama.LlamaForCausalLM(c, s),
      ignoredKeys: llama.checkpointKeyTable.ignored,
      remapKeys: llama.checkpointKeyTable.remapKeys,
    },
  ],
  [
    "bert",
    {
      modelType: "bert",
      // The class (BertModel / BertForMaskedLM / BertForSequenceClassification) follows config.architectures.
      architecture: bert.BertModel.architecture,
      parseConfig: bert.parseBertConfig,
      create: (c, s) => bert.createBert(c, s),
      ignoredKeys: bert.checkpointKeyTable.ignored,
      remapKeys: bert.checkpointKeyTable.remapKeys,
    },
  ],
  [
    "t5",
    {
      modelType: "t5",
      architecture: t5.T5ForConditionalGeneration.architecture,
      parseConfig: t5.parseT5Config,
      // An encoder-decoder: forward takes Seq2SeqInput (decoder ids, EncoderDecoderCache), not the
      // causal-LM input; callers check config.is_encoder_decoder before using it as a causal LM.
      create: (c, s) => new t5.T5ForConditionalGeneration(c, s) as unknown as PretrainedModel,
      ignoredKeys: t5.checkpointKeyTable.ignored,
      remapKeys: t5.checkpointKeyTable.remapKeys,
    },
  ],
  [
    "transformer",
    {
      modelType: "transformer",
      architecture: transformer.TransformerForConditionalGeneration.architecture,
      parseConfig: transformer.parseTransformerConfig,
      // Encoder-decoder, like t5: forward takes Seq2SeqInput.
      create: (c, s) => new transformer.TransformerForConditionalGeneration(c, s) as unknown as PretrainedModel,
      ignoredKeys: transformer.checkpointKeyTable.ignored,
      remapKeys: transformer.checkpointKeyTable.remapKeys,
    },
  ],
]);

export function supportedModelTypes(): string[] {
  return [...REGISTRY.keys()];
}

/** The registry entry for config.model_type (an error lists the supported types). */
export function modelEntry(modelType: unknown): ModelEntry {
  const e = typeof modelType === "string" ? REGISTRY.get(modelType) : undefined;
  if (!e) throw new Error(`unsupported model_type ${JSON.stringify(modelType)} (supported: ${supportedModelTypes().join(", ")})`);
  return e;
}

/** Registers a model family (bert, t5, ... add themselves here). */
export function registerModel(entry: ModelEntry): void {
  REGISTRY.set(entry.modelType, entry);
}

/**
 * Builds the model config.model_type names, from a ParamSource: fresh (ParamSource.init) or from a
 * checkpoint (ParamSource.load). In load mode every checkpoint key must be used or known-ignorable.
 */
export function createModel(config: RawConfig, src: ParamSource): PretrainedModel {
  const entry = modelEntry(config.model_type);
  const model = entry.create(config, src);
  src.finish();
  return model;
}

/**
 * Builds a model from checkpoint tensors (keys remapped by the family's key table). By default the
 * parameters adopt the tensors' storage (loading needs no second copy of the weights): pass tensors
 * fresh from a file, or `adopt: false` when the caller keeps using them.
 */
export function loadModel(config: RawConfig, tensors: ReadonlyMap<string, Tensor>, opts: { origin?: string; adopt?: boolean } = {}): PretrainedModel {
  const entry = modelEntry(config.model_type);
  return createModel(config, ParamSource.load(entry.remapKeys(tensors), { adopt: true, ...opts }));
}
