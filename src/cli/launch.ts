// How the `tslm` command starts: the training commands run in a child Node process with V8's
// concurrent marking off.
//
// Why. tslm's kernels keep every core busy (one pool thread per core). V8 marks the JavaScript heap
// on background threads while JavaScript runs, and a training step allocates hundreds of MB of
// tensors, so external-memory pressure starts a marking cycle several times a step: each time
// V8's helper threads wake up on cores the kernel threads are using, and the fork-join kernels
// wait for the preempted thread. With --no-concurrent-marking the (small) heap is marked
// incrementally on the main thread instead: measured on 2 cores with bench/train.ts (and
// TSLM_RELAUNCH=0 for the old way), a step of the BENCH.md tiny config is 2-9% faster, of small
// 1059-1109 -> 1020 ms (CPU time down too; bench/README.md, Training).
// The flag is not allowed in NODE_OPTIONS and V8 flags must not change after start-up, hence a
// child process. Library users get the same effect with `node --no-concurrent-marking app.js`.
//
// The parent only relays: the child runs in its own session (so a terminal's Ctrl-C reaches the
// parent alone, which forwards it once: `tslm train` saves a checkpoint on the first SIGINT and
// quits at once on the second), SIGINT, SIGTERM and SIGHUP are forwarded, the parent exits with
// the child's status (re-raising the child's fatal signal), and a child whose parent dies (kill -9
// of the parent) kills itself when the IPC channel closes, as the user meant it to.
import { spawn } from "node:child_process";

/** V8 flag the training commands run under. */
export const TRAIN_V8_FLAG = "--no-concurrent-marking";
/** Commands that run long training loops, and so relaunch under TRAIN_V8_FLAG. */
export const RELAUNCH_COMMANDS: ReadonlySet<string> = new Set(["train", "finetune"]);

/** Whether a process with these Node options and environment should start a child under
 * TRAIN_V8_FLAG: it does not run under the flag already, and TSLM_RELAUNCH is not "0". */
export function needsTrainFlag(execArgv: readonly string[], env: NodeJS.ProcessEnv): boolean {
  return env.TSLM_RELAUNCH !== "0" && !execArgv.includes(TRAIN_V8_FLAG);
}

/**
 * The arguments for the child Node process, or null to run in this process: the command is a
 * training command and needsTrainFlag holds.
 */
export function relaunchArgs(argv: readonly string[], execArgv: readonly string[], script: string, env: NodeJS.ProcessEnv): string[] | null {
  if (!needsTrainFlag(execArgv, env)) return null;
  const command = argv.find((a) => !a.startsWith("-"));
  if (command === undefined || !RELAUNCH_COMMANDS.has(command)) return null;
  return [...execArgv, TRAIN_V8_FLAG, script, ...argv];
}

const FORWARDED = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
/** Set in the child's environment by relaunch (and removed again by followParent). */
const CHILD_MARK = "TSLM_LAUNCHER_CHILD";

/** Runs the child and resolves with this process's exit code once it has exited. */
export function relaunch(args: string[]): Promise<number> {
  // POSIX: its own session (see above). Windows has no such signals, and there detached would
  // open a new console window.
  const child = spawn(process.execPath, args, {
    stdio: ["inherit", "inherit", "inherit", "ipc"],
    detached: process.platform !== "win32",
    env: { ...process.env, [CHILD_MARK]: "1" },
  });
  const forward = (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  for (const s of FORWARDED) process.on(s, forward);
  return new Promise((resolve) => {
    child.on("error", (err) => {
      for (const s of FORWARDED) process.off(s, forward);
      process.stderr.write(`tslm: could not start ${process.execPath}: ${err.message}\n`);
      resolve(1);
    });
    child.on("exit", (code, signal) => {
      for (const s of FORWARDED) process.off(s, forward);
      if (signal) {
        // Die of the same signal, so that a shell or supervisor sees what happened to the run.
        process.kill(process.pid, signal);
        resolve(1);
      } else resolve(code ?? 1);
    });
  });
}

/**
 * In a child that relaunch started: if the parent goes away (even by kill -9), go too, without
 * keeping the loop alive. Any other process (one forked with an IPC channel by a user's program,
 * say) is left alone.
 */
export function followParent(): void {
  const mine = process.env[CHILD_MARK] === "1";
  delete process.env[CHILD_MARK]; // not inherited by anything this process starts
  if (!mine || !process.send || !process.channel) return;
  process.channel.unref();
  process.on("disconnect", () => process.kill(process.pid, "SIGKILL"));
}
