// Learning-rate schedules: a multiplier of the base learning rate for each optimizer step.
//
// Semantics follow Hugging Face transformers' get_*_schedule_with_warmup (a LambdaLR): the
// multiplier for step s (0-based: the s-th call to optimizer.step()) is
//   warmup (s < warmup):   s / max(1, warmup)
//   constant:              1
//   linear:                max(0, (total - s) / max(1, total - warmup))
//   cosine:                max(0, m + (1 - m) * 0.5 * (1 + cos(pi * 2 * cycles * progress))),
//                          progress = (s - warmup) / max(1, total - warmup), m = minLrRate
//   inverse_sqrt (the original Transformer's "Noam" schedule, Vaswani et al. 2017, eq. 3):
//                          sqrt(warmup) * min((s + 1)^-0.5, (s + 1) * warmup^-1.5)
//                          (peaks at 1 at step warmup - 1; the base lr plays d_model^-0.5 * k)
export type ScheduleName = "constant" | "linear" | "cosine" | "inverse_sqrt";

export interface ScheduleOptions {
  name: ScheduleName;
  warmupSteps?: number;
  /** Needed by linear and cosine. */
  totalSteps?: number;
  /** Cosine: number of waves (0.5 = decay from 1 to minLrRate once). */
  numCycles?: number;
  /** Cosine: floor as a fraction of the base lr. */
  minLrRate?: number;
}

export const SCHEDULES: readonly ScheduleName[] = ["constant", "linear", "cosine", "inverse_sqrt"];

/** Returns step -> multiplier, validating the options (errors name the option). */
export function lrSchedule(opts: ScheduleOptions): (step: number) => number {
  const warmup = opts.warmupSteps ?? 0;
  if (!Number.isInteger(warmup) || warmup < 0) throw new Error(`schedule: warmupSteps must be a non-negative integer, got ${warmup}`);
  const name = opts.name;
  if (!SCHEDULES.includes(name)) throw new Error(`schedule: unknown schedule "${String(name)}" (supported: ${SCHEDULES.join(", ")})`);
  const total = opts.totalSteps;
  if ((name === "linear" || name === "cosine") && (total === undefined || !Number.isInteger(total) || total <= 0)) {
    throw new Error(`schedule: "${name}" needs totalSteps, a positive integer (got ${total})`);
  }
  const cycles = opts.numCycles ?? 0.5;
  const minRate = opts.minLrRate ?? 0;
  if (!(minRate >= 0 && minRate <= 1)) throw new Error(`schedule: minLrRate must be in [0, 1], got ${minRate}`);
  if (name === "inverse_sqrt") {
    if (warmup === 0) throw new Error('schedule: "inverse_sqrt" needs warmupSteps > 0');
    return (s) => Math.sqrt(warmup) * Math.min(1 / Math.sqrt(s + 1), (s + 1) * Math.pow(warmup, -1.5));
  }
  return (s) => {
    if (s < warmup) return s / Math.max(1, warmup);
    if (name === "constant") return 1;
    const T = total!;
    if (name === "linear") return Math.max(0, (T - s) / Math.max(1, T - warmup));
    const progress = (s - warmup) / Math.max(1, T - warmup);
    const f = 0.5 * (1 + Math.cos(Math.PI * cycles * 2 * progress));
    return Math.max(0, f * (1 - minRate) + minRate);
  };
}
