// Loader for the C addon built from native/ (build/Release/tslm_native.node).
//
// The addon exports one function per Kernels method with the same name and argument order, plus
// isa(), getThreads() and setThreads(n). Loading never throws: it returns the reason on failure
// so that the caller can warn once and fall back to the TypeScript kernels.
import { createRequire } from "node:module";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Kernels } from "../types.js";

export interface NativeAddon extends Omit<Kernels, "name"> {
  isa(): string;
  getThreads(): number;
  setThreads(n: number): void;
}

/** Walks up from this file to the package root (the folder holding binding.gyp). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, "binding.gyp"))) return dir;
    dir = dirname(dir);
  }
  return dir;
}

export type NativeLoad = { ok: true; addon: NativeAddon; path: string } | { ok: false; reason: string };

let cached: NativeLoad | undefined;

export function loadNative(): NativeLoad {
  if (cached) return cached;
  const root = packageRoot();
  // TSLM_ADDON_PATH points at a relocated addon (packagers, tests of the fallback path).
  const override = process.env.TSLM_ADDON_PATH;
  const candidates = override ? [override] : [join(root, "build", "Release", "tslm_native.node"), join(root, "build", "Debug", "tslm_native.node")];
  const path = candidates.find((p) => existsSync(p));
  if (!path) {
    cached = { ok: false, reason: override ? `TSLM_ADDON_PATH=${override} does not exist` : `the native addon was not built (no ${candidates[0]}); run \`npm run build:native\`` };
    return cached;
  }
  try {
    const require = createRequire(import.meta.url);
    const addon = require(path) as NativeAddon;
    cached = { ok: true, addon, path };
  } catch (err) {
    cached = { ok: false, reason: `the native addon at ${path} failed to load: ${(err as Error).message}` };
  }
  return cached;
}
