#!/usr/bin/env node
// The `tslm` command: a thin launcher for the compiled CLI in dist/.
import { main } from "../dist/cli/index.js";

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code ?? 0;
  },
  (err) => {
    console.error(`tslm: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
