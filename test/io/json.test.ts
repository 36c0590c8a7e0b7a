// The JSON helpers: the error locator agrees with JSON.parse on what is valid, and stringifyHF
// prints numbers exactly as Python's json.dumps does (fixture from tools/golden/io_safetensors.py).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { locateJSONError, parseJSONText, pythonNumber } from "../../src/io/json.js";
import { stringifyHF } from "../../src/io/index.js";
import { Generator } from "../../src/tensor/rng.js";
import { repoRoot } from "../helpers.js";

describe("locateJSONError", () => {
  it("agrees with JSON.parse on valid and invalid text (seeded mutations of valid documents)", () => {
    const seeds = [
      '{"a": [1, -2.5e-3, true, false, null, "x\\u00e9\\n"], "b": {"c": {}}, "d": []}',
      '[{"k": "v"}, 0, -0.0, 1E+2, "\\\\", "\\"", [[[]]]]',
      ' \n\t{"model_type": "gpt2", "n_embd": 768, "layer_norm_epsilon": 1e-05}\r\n',
      '"just a string"',
      "12",
    ];
    const alphabet = ['"', "{", "}", "[", "]", ",", ":", " ", "1", "-", ".", "e", "\\", "u", "t", "n", "\n", "0", "x", "\u0001"];
    const g = new Generator(5);
    const pick = (n: number): number => Math.floor(g.uniform() * n);
    let valid = 0;
    let invalid = 0;
    for (let trial = 0; trial < 4000; trial++) {
      let s = seeds[pick(seeds.length)];
      const edits = 1 + pick(3);
      for (let e = 0; e < edits; e++) {
        const at = pick(s.length + 1);
        const op = pick(3);
        if (op === 0) s = s.slice(0, at) + alphabet[pick(alphabet.length)] + s.slice(at);
        else if (op === 1) s = s.slice(0, at) + s.slice(at + 1);
        else s = s.slice(0, at) + alphabet[pick(alphabet.length)] + s.slice(at + 1);
      }
      let ok = true;
      try {
        JSON.parse(s);
      } catch {
        ok = false;
      }
      const loc = locateJSONError(s);
      if (ok !== (loc === null)) throw new Error(`disagreement on ${JSON.stringify(s)}: JSON.parse ${ok ? "accepts" : "rejects"}, locator says ${JSON.stringify(loc)}`);
      if (ok) valid++;
      else invalid++;
    }
    // Both outcomes were exercised.
    expect(valid).toBeGreaterThan(100);
    expect(invalid).toBeGreaterThan(1000);
    for (const s of seeds) expect(locateJSONError(s)).toBeNull();
  });

  it("reports line, column and offset", () => {
    expect(() => parseJSONText('{\n  "a": 1,\n  "b": tru\n}', "cfg.json")).toThrow(/cfg\.json: malformed JSON at line 3, column 8 \(offset 19\): expected a value/);
    expect(() => parseJSONText("", "empty.json")).toThrow(/empty\.json: malformed JSON at line 1, column 1 \(offset 0\): expected a value \(found end of input\)/);
    // Deep nesting does not overflow the scanner's stack.
    expect(locateJSONError("[".repeat(100000))).toMatchObject({ offset: 100000, message: expect.stringMatching(/expected a value/) });
  });
});

describe("Python-compatible JSON output", () => {
  it("prints floats like Python's repr for many magnitudes", () => {
    const text = readFileSync(join(repoRoot, "fixtures/io/python_floats.json"), "utf8");
    expect(stringifyHF(JSON.parse(text))).toBe(text);
  });

  it("formats the boundaries of fixed vs exponent notation", () => {
    expect(pythonNumber(1e-5)).toBe("1e-05");
    expect(pythonNumber(0.0001)).toBe("0.0001");
    expect(pythonNumber(1.5e16)).toBe("1.5e+16");
    expect(pythonNumber(123.25)).toBe("123.25");
    expect(pythonNumber(-2.5e-7)).toBe("-2.5e-07");
    expect(pythonNumber(1e300)).toBe("1e+300");
    expect(pythonNumber(50257)).toBe("50257");
  });
});
