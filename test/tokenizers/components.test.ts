// Component golden test: every normalizer, pre-tokenizer, post-processor, decoder, model option and
// added-token flag against Python `tokenizers`, through patched reference tokenizers and small
// models trained by Python (fixtures/tokenizers/components.json, tools/golden/tokenizers_components.py).

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Tokenizer } from "../../src/tokenizers/index.js";
import { ROOT, loadTokenizer, readStrings, type TokenizerName } from "./helpers.js";

interface Row {
  i: number;
  ids: number[];
  offsets: Array<[number, number]>;
  special: number[];
  type_ids: number[];
  attention: number[];
  ids_ns: number[];
  decode: string;
  decode_skip: string;
}
interface Case {
  name: string;
  base: string;
  patch: Record<string, unknown>;
  rows: Row[];
  pairs: Array<{ ids: number[]; type_ids: number[]; offsets: Array<[number, number]>; special: number[]; attention: number[] }>;
}
interface Fixture {
  trained: Record<string, unknown>;
  cases: Case[];
}

const fixture = JSON.parse(readFileSync(join(ROOT, "fixtures", "tokenizers", "components.json"), "utf8")) as Fixture;
const { strings, pairs } = readStrings();

function build(c: Case): Tokenizer {
  const base = c.base.startsWith("trained:")
    ? structuredClone(fixture.trained[c.base.slice(8)]) as Record<string, unknown>
    : loadTokenizer(c.base as TokenizerName).toJSON() as Record<string, unknown>;
  for (const [k, v] of Object.entries(c.patch)) {
    if (k === "model") base["model"] = { ...(base["model"] as object), ...(v as object) };
    else base[k] = v;
  }
  return Tokenizer.fromJSON(base);
}

describe.each(fixture.cases.map((c) => [c.name, c] as const))("component case %s", (_name, c) => {
  it(`matches Python on ${c.rows.length} strings and ${c.pairs.length} pairs`, () => {
    const tok = build(c);
    const failures: string[] = [];
    for (const r of c.rows) {
      const s = strings[r.i]!;
      const e = tok.encode(s);
      const n = tok.encode(s, { addSpecialTokens: false });
      const got = { ids: e.ids, offsets: e.offsets, special: e.specialTokensMask, type_ids: e.typeIds, attention: e.attentionMask, ids_ns: n.ids, decode: tok.decode(r.ids), decode_skip: tok.decode(r.ids, { skipSpecialTokens: true }) };
      for (const k of Object.keys(got) as Array<keyof typeof got>) {
        const g = JSON.stringify(got[k]);
        const w = JSON.stringify(r[k]);
        if (g !== w) {
          failures.push(`#${r.i} ${JSON.stringify(s).slice(0, 60)} ${k}: got ${g.slice(0, 200)} want ${w.slice(0, 200)}`);
          break;
        }
      }
    }
    pairs.forEach(([a, b], i) => {
      const e = tok.encode(a, { pair: b });
      const got = { ids: e.ids, type_ids: e.typeIds, offsets: e.offsets, special: e.specialTokensMask, attention: e.attentionMask };
      if (JSON.stringify(got) !== JSON.stringify(c.pairs[i])) failures.push(`pair #${i}: got ${JSON.stringify(got).slice(0, 200)} want ${JSON.stringify(c.pairs[i]).slice(0, 200)}`);
    });
    expect(failures.length, failures.slice(0, 8).join("\n")).toBe(0);
  });
});
