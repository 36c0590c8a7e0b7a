// Runs the tslm CLI from the TypeScript sources (tests spawn it with `node --import tsx`), so e2e
// tests exercise the code under test without a build step.
const { main } = await import("../../src/cli/index.ts");
try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`tslm: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
