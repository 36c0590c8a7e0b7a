// `tslm generate` end to end (spawned CLI, tiny random models): --json ids equal the library's
// generate() on the same weights; --stream prints exactly the non-streamed text; a run directory
// resolves to its latest checkpoint; beam search returns scored sequences; an encoder-decoder (T5)
// generates from the input text; bad flag combinations are one-line errors with exit code 1.
import { describe, expect, it } from "vitest";
import { cpSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { generate } from "../../src/generate/index.js";
import { loadModel } from "../../src/server/index.js";
import { runCli } from "../server/cli.js";
import { makeTinyModel } from "../server/tiny_model.js";

describe("tslm generate", () => {
  const dir = makeTinyModel();
  // A run directory whose latest checkpoint is the model above.
  const run = join(makeTinyModel(), "..", `run-${process.pid}-${Date.now()}`);
  mkdirSync(run);
  writeFileSync(join(run, "train_config.json"), "{}");
  cpSync(dir, join(run, "checkpoint-3"), { recursive: true });
  writeFileSync(join(run, "checkpoint-3", "trainer_state.json"), '{"step": 3}');
  writeFileSync(join(run, "latest"), "checkpoint-3\n");

  it("--json, --stream, run directories, beams and errors", async () => {
    const sampling = ["--temperature", "0.8", "--top-k", "20", "--seed", "5", "--max-new-tokens", "12"];
    const [json, fromRun, plain, streamed, beams, streamBeams, greedyTemp, missing] = await Promise.all([
      runCli(["generate", "--model", dir, "--greedy", "--max-new-tokens", "10", "--json", "Hello"]),
      runCli(["generate", "--model", run, "--greedy", "--max-new-tokens", "10", "--json", "Hello"]),
      runCli(["generate", "--model", dir, ...sampling, "Once upon"]),
      runCli(["generate", "--model", dir, ...sampling, "--stream", "Once upon"]),
      runCli(["generate", "--model", dir, "--num-beams", "3", "--num-return-sequences", "2", "--max-new-tokens", "6", "--json", "ab"]),
      runCli(["generate", "--model", dir, "--num-beams", "2", "--stream", "ab"]),
      runCli(["generate", "--model", dir, "--greedy", "--temperature", "0.5", "ab"]),
      runCli(["generate", "--model", join(dir, "nope"), "ab"]),
    ]);
    expect(json.status, json.stderr).toBe(0);
    const out = JSON.parse(json.stdout);
    // The library on the same weights: greedy ids must match exactly.
    const lm = loadModel(dir);
    const ref = generate(lm.model as never, [lm.tokenizer.encode("Hello").ids], lm.generationConfig.with({ max_new_tokens: 10, do_sample: false }, "fields"));
    expect(out.sequences[0].token_ids).toEqual(ref.newTokens[0]);
    expect(out.sequences[0].text).toBe(lm.tokenizer.decode(ref.newTokens[0], { skipSpecialTokens: true }));
    expect(out.prompt_tokens).toBe(5);
    expect(["stop", "length"]).toContain(out.sequences[0].finish_reason);
    expect(Object.keys(out.timing).sort()).toEqual(["decode_tokens_per_s", "first_token_ms", "load_ms", "new_tokens", "total_ms"]);

    expect(fromRun.status, fromRun.stderr).toBe(0);
    expect(JSON.parse(fromRun.stdout).sequences).toEqual(out.sequences);
    expect(JSON.parse(fromRun.stdout).model).toBe(join(run, "checkpoint-3"));

    expect(plain.status, plain.stderr).toBe(0);
    expect(streamed.status, streamed.stderr).toBe(0);
    expect(streamed.stdout).toBe(plain.stdout);

    expect(beams.status, beams.stderr).toBe(0);
    const b = JSON.parse(beams.stdout);
    expect(b.sequences.length).toBe(2);
    expect(b.sequences[0].score).toBeGreaterThanOrEqual(b.sequences[1].score);

    for (const [r, msg] of [
      [streamBeams, /--stream cannot be used with --num-beams/],
      [greedyTemp, /--greedy conflicts with --temperature/],
      [missing, /does not exist/],
    ] as const) {
      expect(r.status).toBe(1);
      expect(r.stderr.trim().split("\n").length, r.stderr).toBe(1);
      expect(r.stderr).toMatch(msg);
    }
  });

  it("a prompt beyond the context is an error, or is cut from the left with --truncate", async () => {
    const long = "y".repeat(60) + "x".repeat(60); // 120 byte tokens; the context is 128
    const [tooLong, cut] = await Promise.all([
      runCli(["generate", "--model", dir, "--greedy", "--max-new-tokens", "20", long]),
      runCli(["generate", "--model", dir, "--greedy", "--max-new-tokens", "20", "--truncate", "--json", long]),
    ]);
    expect(tooLong.status).toBe(1);
    expect(tooLong.stderr).toMatch(/120 tokens .* context of 128 .*--truncate/);
    expect(cut.status, cut.stderr).toBe(0);
    expect(JSON.parse(cut.stdout).prompt_tokens).toBe(108);
  });

  it("an encoder-decoder model (T5) generates from the input text", async () => {
    const t5 = makeTinyModel({ modelType: "t5" });
    const r = await runCli(["generate", "--model", t5, "--greedy", "--max-new-tokens", "6", "--json", "translate: hi"]);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    const lm = loadModel(t5);
    const ref = generate(lm.model as never, [lm.tokenizer.encode("translate: hi").ids], lm.generationConfig.with({ max_new_tokens: 6, do_sample: false }, "fields"));
    expect(out.sequences[0].token_ids).toEqual(ref.newTokens[0]);
  });
});
