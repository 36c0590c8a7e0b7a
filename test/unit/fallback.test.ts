// Without the native addon, tslm warns once and computes with the TypeScript kernels.
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { repoRoot } from "../helpers.js";

const script = `
import * as T from ${JSON.stringify(join(repoRoot, "src", "index.ts"))};
const a = T.tensor([[1, 2], [3, 4]]);
const y = T.matmul(a, a).softmax(-1).sum();
const z = T.layerNorm(a, [2]).sum();
console.log(JSON.stringify({ kernels: T.kernels().name, y: y.item(), z: z.item() }));
`;

function run(env: Record<string, string>) {
  return spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    encoding: "utf8",
  });
}

describe("native addon fallback", () => {
  it("warns once and uses the ref kernels when the addon is missing", () => {
    const r = run({ TSLM_ADDON_PATH: "/nonexistent/tslm_native.node", TSLM_KERNELS: "" });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim());
    expect(out.kernels).toBe("ref");
    expect(out.y).toBeCloseTo(2, 5);
    const warnings = r.stderr.split("\n").filter((l) => l.includes("tslm:"));
    expect(warnings.length).toBe(1);
    expect(warnings[0]).toMatch(/TSLM_ADDON_PATH=\/nonexistent\/tslm_native.node does not exist; using the TypeScript kernels/);
  });
  it("TSLM_KERNELS=native without the addon is an error, not a silent fallback", () => {
    const r = run({ TSLM_ADDON_PATH: "/nonexistent/tslm_native.node", TSLM_KERNELS: "native" });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/TSLM_KERNELS=native but TSLM_ADDON_PATH=\/nonexistent\/tslm_native.node does not exist/);
  });
  it("TSLM_KERNELS=ref is silent", () => {
    const r = run({ TSLM_KERNELS: "ref" });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim()).kernels).toBe("ref");
    expect(r.stderr).not.toMatch(/tslm:/);
  });
});
