// tslm: Transformer language models in TypeScript.
//
// The public API, by layer in the order of DESIGN.md's data flow.
export * from "./tokenizers/index.js";
export * from "./tokenizers/trainers/index.js";
export * from "./data/index.js";
export * from "./tensor/index.js";
export { kernels, useKernels, missingNative, nativeUnavailableReason, getThreads, setThreads } from "./kernels/index.js";
export * from "./autograd/index.js";
export * from "./ops/index.js";
export * from "./nn/index.js";
export * from "./models/index.js";
export * from "./train/index.js";
export * from "./io/index.js";
export * from "./generate/index.js";
export * from "./prompting/index.js";
export * from "./peft/index.js";
