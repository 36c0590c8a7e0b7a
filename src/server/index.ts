// tslm's OpenAI-compatible HTTP server (see DESIGN.md: a thin layer over generate/): model
// loading shared with the CLI, the request scheduler, the endpoints and the playground page.
export * from "./errors.js";
export * from "./model.js";
export * from "./scheduler.js";
export * from "./api.js";
export * from "./server.js";
export * from "./playground.js";
export * from "./batch.js";
