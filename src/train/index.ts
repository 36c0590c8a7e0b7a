// Training: optimizers, learning-rate schedules, clipping, the loss-curve picture and the loop.
export * from "./optim.js";
export * from "./schedule.js";
export * from "./clip.js";
export * from "./plot.js";
export * from "./trainer.js";
