import { defineConfig } from "vitest/config";

// Tests run in forked processes: the native addon owns a thread pool, and separate processes keep
// one suite's kernel selection (TSLM_KERNELS) from leaking into another.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    pool: "forks",
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
