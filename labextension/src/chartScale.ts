/**
 * Axes and colours of the metric charts, without DOM: round ticks and the colour of a run.
 *
 * `jupyter_mlops/tracking/chart.py` does the same for the notebook's charts; a test runs both
 * on the same inputs, so a run has one colour and an axis the same ticks everywhere.
 */

/** How many colours runs take; `RUN_COLOURS` in chart.py has as many. */
export const PALETTE_SIZE = 8;

/** An axis: the range drawn, the ticks inside it and the distance between two ticks. */
export interface IAxis {
  low: number;
  high: number;
  step: number;
  ticks: number[];
}

/** The palette index of a run: FNV-1a of its id's UTF-8 bytes, so it never depends on order. */
export function runColourIndex(runId: string): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(runId)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % PALETTE_SIZE;
}

/** The round step (1, 2 or 5 × 10^k) that cuts `span` into about `count` parts. */
export function niceStep(span: number, count: number): number {
  const rough = span / Math.max(1, count);
  const power = Math.pow(10, Math.floor(Math.log10(rough)));
  const fraction = rough / power;
  // The thresholds are the geometric means of 1, 2, 5 and 10, as d3 rounds its ticks.
  const nice =
    fraction < Math.SQRT2 ? 1 : fraction < Math.sqrt(10) ? 2 : fraction < Math.sqrt(50) ? 5 : 10;
  return nice * power;
}

/**
 * An axis over `low`..`high` with about `count` round ticks, widened to the ticks around them.
 * A single value gets an axis around it; `integer` axes (steps) never tick between integers.
 */
export function niceAxis(low: number, high: number, count = 5, integer = false): IAxis {
  if (low === high) {
    if (integer) {
      // One step: the point in the middle, the only tick at it.
      return { low: low - 1, high: high + 1, step: 1, ticks: [low] };
    }
    const pad = low === 0 ? 1 : Math.abs(low) * 0.1;
    low -= pad;
    high += pad;
  }
  let step = niceStep(high - low, count);
  if (integer) {
    step = Math.max(1, Math.round(step));
  }
  const first = Math.floor(low / step + 1e-9);
  const last = Math.ceil(high / step - 1e-9);
  const ticks: number[] = [];
  for (let i = first; i <= last; i++) {
    // Multiplying the index keeps 0.1 + 0.2 drift out of the labels.
    ticks.push(roundTo(i * step, step));
  }
  return { low: ticks[0], high: ticks[ticks.length - 1], step, ticks };
}

/** A tick's label, with as many decimals as its step needs: 0.25, 1.5, 20, 1e-7. */
export function tickLabel(value: number, step: number): string {
  if (value === 0) {
    return '0';
  }
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  if (decimals > 6 || step >= 1e6) {
    const digits = Math.max(
      0,
      Math.floor(Math.log10(Math.abs(value))) - Math.floor(Math.log10(step))
    );
    return trimExponent(value.toExponential(Math.min(digits, 6)));
  }
  return value.toFixed(decimals);
}

function roundTo(value: number, step: number): number {
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  return Number(value.toFixed(Math.min(decimals, 20)));
}

/** `1.50e-7` → `1.5e-7`, `2e+7` → `2e7`, as Python's chart writes them. */
function trimExponent(text: string): string {
  const [mantissa, exponent] = text.split('e');
  const short = mantissa.includes('.') ? mantissa.replace(/0+$/, '').replace(/\.$/, '') : mantissa;
  return `${short}e${Number(exponent)}`;
}
