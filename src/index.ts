// tslm: Transformer language models in TypeScript.
//
// The public API, by layer (see DESIGN.md): tensors, kernels (selection only), autograd, ops.
export * from "./tensor/index.js";
export { kernels, useKernels, missingNative, nativeUnavailableReason, getThreads, setThreads } from "./kernels/index.js";
export * from "./autograd/index.js";
export * from "./ops/index.js";
export * from "./nn/index.js";
export * from "./models/index.js";
export * from "./train/optim.js";
export * from "./io/index.js";
export * from "./data/index.js";
export * from "./generate/index.js";
export * from "./prompting/index.js";
export * from "./peft/index.js";
