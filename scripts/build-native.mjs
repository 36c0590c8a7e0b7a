#!/usr/bin/env node
// Builds the native kernel addon with node-gyp. Runs as the package's `install` script, so that
// `npm install` compiles it on the user's machine (no prebuilt binaries, no downloads).
//
// A failed build never fails the install: tslm then runs on its TypeScript kernels and says so
// once at runtime. `--force` (used by `npm run build:native`) makes a failed build an error instead.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const force = process.argv.includes("--force");

if (process.env.TSLM_SKIP_NATIVE === "1") {
  console.log("tslm: TSLM_SKIP_NATIVE=1, not building the native kernels");
  process.exit(0);
}

// Inside an npm script, npm puts its bundled node-gyp on PATH and points it at the local Node
// headers (npm_config_nodedir); a bare node-gyp would try to download headers and fail offline.
const gyp = process.env.npm_config_node_gyp
  ? [process.execPath, [process.env.npm_config_node_gyp, "rebuild"]]
  : ["node-gyp", ["rebuild"]];
const res = spawnSync(gyp[0], gyp[1], { cwd: root, stdio: "inherit", shell: false });
const built = existsSync(join(root, "build", "Release", "tslm_native.node"));
if (res.status === 0 && built) {
  process.exit(0);
}
const msg =
  "tslm: the native kernels could not be built (see the compiler output above); " +
  "tslm will run on its TypeScript kernels, which are much slower.";
if (force) {
  console.error(msg);
  process.exit(1);
}
console.warn(msg);
process.exit(0);
