// Progress reporting for long data steps (tokenizing a corpus). Library code never writes to the
// terminal on its own terms: callers pass `progress: false` to silence it, or their own ProgressBar
// (tests count calls, a GUI draws its own). The default is a cli-progress bar on stderr, shown only
// when stderr is a terminal so that logs and pipes stay clean.
import cliProgress from "cli-progress";

export interface ProgressBar {
  start(total: number, label: string): void;
  /** `done` in the unit of `total`; `info` adds named values to the line (e.g. tokens so far). */
  update(done: number, info?: Record<string, number>): void;
  stop(): void;
}

/** `true` / undefined: the default bar (TTY only); `false`: silent; or a bar of your own. */
export type ProgressOption = boolean | ProgressBar | undefined;

export const silentProgress: ProgressBar = { start() {}, update() {}, stop() {} };

/** A cli-progress bar on `stream` (default stderr) counting bytes, with a token count. */
export function cliProgressBar(stream: NodeJS.WriteStream = process.stderr): ProgressBar {
  let bar: cliProgress.SingleBar | null = null;
  return {
    start(total, label) {
      bar = new cliProgress.SingleBar(
        {
          stream,
          format: `${label} |{bar}| {percentage}% {mb}/{totalMb} MB | {tokens} tokens | ETA {eta_formatted}`,
          hideCursor: false,
          etaBuffer: 50,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(total, 0, { mb: "0.0", totalMb: (total / 1e6).toFixed(1), tokens: 0 });
    },
    update(done, info) {
      bar?.update(done, { mb: (done / 1e6).toFixed(1), ...(info ?? {}) });
    },
    stop() {
      bar?.stop();
      bar = null;
    },
  };
}

export function resolveProgress(p: ProgressOption): ProgressBar {
  if (p === false) return silentProgress;
  if (p === true || p === undefined) return process.stderr.isTTY ? cliProgressBar() : silentProgress;
  return p;
}
