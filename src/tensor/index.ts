// Tensors: the Tensor type, creation, seeded random numbers and raw views.
export * from "./tensor.js";
export * from "./create.js";
export * from "./rng.js";
export { broadcastShapes, contiguousRaw } from "./views.js";
