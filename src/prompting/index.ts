// Prompting: chat templates (HF apply_chat_template semantics) and few-shot prompt builders.
// Chain-of-thought prompting is a template choice; docs/prompting.md shows one.
export * from "./chat_template.js";
export * from "./few_shot.js";
