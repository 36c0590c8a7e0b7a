// nn: modules whose parameter paths are checkpoint keys, built from a ParamSource (init | load).
export * from "./module.js";
export * from "./layers.js";
export * from "./positions.js";
export * from "./attention.js";
export * from "./feedforward.js";
export * from "./blocks.js";
export * from "./heads.js";
