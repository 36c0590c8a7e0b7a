// The loss-curve picture of a training run, as a self-contained SVG string.
//
// Training loss (thin line, plus a moving average) and validation loss (dots joined by a line)
// against the optimizer step, with "nice" ticks on both axes. Pure function of the log records, so
// the run directory can rewrite loss.svg after every evaluation.

export interface PlotPoint {
  step: number;
  loss?: number;
  valLoss?: number;
}

export interface PlotOptions {
  width?: number;
  height?: number;
  title?: string;
}

/** Round tick spacing (1, 2 or 5 times a power of ten) giving about `count` ticks over [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 6): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function fmt(v: number): string {
  return Math.abs(v) >= 10000 ? `${(v / 1000).toPrecision(3)}k` : String(Number(v.toPrecision(4)));
}

export function renderLossPlot(points: readonly PlotPoint[], opts: PlotOptions = {}): string {
  const W = opts.width ?? 720;
  const H = opts.height ?? 420;
  const m = { left: 64, right: 20, top: 36, bottom: 48 };
  const train = points.filter((p) => p.loss !== undefined && Number.isFinite(p.loss)) as Required<Pick<PlotPoint, "step" | "loss">>[];
  const val = points.filter((p) => p.valLoss !== undefined && Number.isFinite(p.valLoss)) as Required<Pick<PlotPoint, "step" | "valLoss">>[];
  const steps = [...train.map((p) => p.step), ...val.map((p) => p.step)];
  const losses = [...train.map((p) => p.loss), ...val.map((p) => p.valLoss)];
  const title = esc(opts.title ?? "loss");
  const head = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`;
  if (steps.length === 0) {
    return `${head}<rect width="${W}" height="${H}" fill="white"/><text x="${W / 2}" y="${H / 2}" text-anchor="middle">${title}: no data yet</text></svg>\n`;
  }
  const x0 = Math.min(0, ...steps);
  const x1 = Math.max(x0 + 1, ...steps);
  let y0 = Math.min(...losses);
  let y1 = Math.max(...losses);
  if (y1 - y0 < 1e-6) {
    y0 -= 0.5;
    y1 += 0.5;
  }
  const pad = (y1 - y0) * 0.05;
  y0 -= pad;
  y1 += pad;
  const px = (s: number) => m.left + ((s - x0) / (x1 - x0)) * (W - m.left - m.right);
  const py = (l: number) => H - m.bottom - ((l - y0) / (y1 - y0)) * (H - m.top - m.bottom);
  const parts: string[] = [head, `<rect width="${W}" height="${H}" fill="white"/>`];
  parts.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="14">${title}</text>`);
  for (const t of niceTicks(y0, y1)) {
    const y = py(t).toFixed(1);
    parts.push(`<line x1="${m.left}" x2="${W - m.right}" y1="${y}" y2="${y}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${m.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${fmt(t)}</text>`);
  }
  for (const t of niceTicks(x0, x1)) {
    const x = px(t).toFixed(1);
    parts.push(`<line x1="${x}" x2="${x}" y1="${m.top}" y2="${H - m.bottom}" stroke="#f0f0f0"/>`);
    parts.push(`<text x="${x}" y="${H - m.bottom + 16}" text-anchor="middle">${fmt(t)}</text>`);
  }
  parts.push(`<rect x="${m.left}" y="${m.top}" width="${W - m.left - m.right}" height="${H - m.top - m.bottom}" fill="none" stroke="#888"/>`);
  parts.push(`<text x="${(m.left + W - m.right) / 2}" y="${H - 10}" text-anchor="middle">step</text>`);
  const path = (pts: [number, number][]) => pts.map(([s, l], i) => `${i ? "L" : "M"}${px(s).toFixed(1)},${py(l).toFixed(1)}`).join("");
  if (train.length) {
    parts.push(`<path d="${path(train.map((p) => [p.step, p.loss]))}" fill="none" stroke="#9ecae1" stroke-width="1"/>`);
    // Exponential moving average, bias-corrected, so the trend reads through the noise.
    const beta = train.length > 50 ? 0.95 : 0.8;
    let ema = 0;
    const smooth: [number, number][] = train.map((p, i) => {
      ema = beta * ema + (1 - beta) * p.loss;
      return [p.step, ema / (1 - Math.pow(beta, i + 1))];
    });
    parts.push(`<path d="${path(smooth)}" fill="none" stroke="#1f77b4" stroke-width="2"/>`);
  }
  if (val.length) {
    parts.push(`<path d="${path(val.map((p) => [p.step, p.valLoss]))}" fill="none" stroke="#d62728" stroke-width="1.5"/>`);
    for (const p of val) parts.push(`<circle cx="${px(p.step).toFixed(1)}" cy="${py(p.valLoss).toFixed(1)}" r="3" fill="#d62728"/>`);
  }
  const lx = W - m.right - 150;
  parts.push(`<line x1="${lx}" x2="${lx + 20}" y1="${m.top + 14}" y2="${m.top + 14}" stroke="#1f77b4" stroke-width="2"/><text x="${lx + 26}" y="${m.top + 18}">train (smoothed)</text>`);
  if (val.length) parts.push(`<circle cx="${lx + 10}" cy="${m.top + 32}" r="3" fill="#d62728"/><text x="${lx + 26}" y="${m.top + 36}">validation</text>`);
  parts.push("</svg>\n");
  return parts.join("");
}
