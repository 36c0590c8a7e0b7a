// Kernel selection: the native C kernels when the addon loads, else the TypeScript reference.
//
// TSLM_KERNELS=ref|native chooses explicitly (native that cannot load is then an error); unset, the
// native set is used when available and a single warning is printed when it is not. Kernels the
// addon does not (yet) export are taken from the reference set, and `missingNative()` lists them.
import { refKernels } from "./ref/index.js";
import { loadNative } from "./native/index.js";
import type { Kernels } from "./types.js";

export * from "./types.js";
export { refKernels } from "./ref/index.js";

const methodNames = Object.keys(refKernels).filter((k) => k !== "name") as (keyof Omit<Kernels, "name">)[];

let nativeSet: Kernels | null | undefined;
let missing: string[] = [];
let active: Kernels | undefined;
let warned = false;

/** The native kernel set, or null (with the reason) when the addon is unavailable. */
export function nativeKernels(): Kernels | null {
  if (nativeSet !== undefined) return nativeSet;
  const load = loadNative();
  if (!load.ok) {
    nativeSet = null;
    return null;
  }
  const set: Record<string, unknown> = { name: "native" };
  missing = [];
  for (const m of methodNames) {
    const fn = (load.addon as unknown as Record<string, unknown>)[m];
    if (typeof fn === "function") set[m] = fn;
    else {
      set[m] = (refKernels as unknown as Record<string, unknown>)[m];
      missing.push(m);
    }
  }
  nativeSet = set as unknown as Kernels;
  return nativeSet;
}

/** Kernels the native addon does not provide (served by the TypeScript reference instead). */
export function missingNative(): string[] {
  nativeKernels();
  return [...missing];
}

export function nativeUnavailableReason(): string | null {
  const load = loadNative();
  return load.ok ? null : load.reason;
}

/** The kernels ops use now. */
export function kernels(): Kernels {
  if (active) return active;
  const want = process.env.TSLM_KERNELS;
  if (want && want !== "ref" && want !== "native") {
    throw new Error(`TSLM_KERNELS must be "ref" or "native", got "${want}"`);
  }
  if (want === "ref") return (active = refKernels);
  const native = nativeKernels();
  if (native) return (active = native);
  if (want === "native") throw new Error(`TSLM_KERNELS=native but ${nativeUnavailableReason()}`);
  if (!warned) {
    warned = true;
    process.emitWarning(`tslm: ${nativeUnavailableReason()}; using the TypeScript kernels (much slower)`);
  }
  return (active = refKernels);
}

/** Switches the active kernel set ("ref" or "native"); used by tests and benchmarks. */
export function useKernels(name: "ref" | "native"): Kernels {
  if (name === "ref") return (active = refKernels);
  const native = nativeKernels();
  if (!native) throw new Error(`cannot use native kernels: ${nativeUnavailableReason()}`);
  return (active = native);
}

/** Threads used by the native kernels (TSLM_THREADS, default all cores); 1 for the ref set. */
export function getThreads(): number {
  const load = loadNative();
  return load.ok ? load.addon.getThreads() : 1;
}

export function setThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new Error(`setThreads: expected a positive integer, got ${n}`);
  const load = loadNative();
  if (load.ok) load.addon.setThreads(n);
}
