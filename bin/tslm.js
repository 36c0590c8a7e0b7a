#!/usr/bin/env node
// The `tslm` command: a thin launcher for the compiled CLI in dist/. Training commands run in a
// child Node process with a V8 flag that keeps V8's helper threads off the kernels' cores
// (src/cli/launch.ts says why and how signals are relayed).
import { followParent, relaunch, relaunchArgs } from "../dist/cli/launch.js";

const argv = process.argv.slice(2);
const child = relaunchArgs(argv, process.execArgv, process.argv[1], process.env);
if (child) {
  process.exitCode = await relaunch(child);
} else {
  followParent();
  const { main } = await import("../dist/cli/index.js");
  main(argv).then(
    (code) => {
      process.exitCode = code ?? 0;
    },
    (err) => {
      console.error(`tslm: ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = 1;
    },
  );
}
