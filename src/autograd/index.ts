// Autograd: the tape engine and finite-difference gradient checking.
export * from "./engine.js";
export * from "./gradcheck.js";
