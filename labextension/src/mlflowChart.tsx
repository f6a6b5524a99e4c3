/** A line chart drawn as plain SVG: a metric over steps, one line per run, with a legend. */

import * as React from 'react';

/** One line: a run's values of the metric, step by step. */
export interface ISeries {
  /** What the legend calls the line. */
  name: string;
  /** Identifies the run the line belongs to. */
  id: string;
  points: ReadonlyArray<{ step: number; value: number | null }>;
}

/** Colours cycle through this many theme colours (see mlflow.css). */
const PALETTE_SIZE = 6;

const WIDTH = 560;
const HEIGHT = 220;
const MARGIN = { top: 10, right: 12, bottom: 26, left: 56 };
const TICKS = 4;

/** A number as a short axis label. */
export function tickLabel(value: number): string {
  if (value === 0) {
    return '0';
  }
  const size = Math.abs(value);
  if (size >= 1e5 || size < 1e-3) {
    return value.toExponential(1);
  }
  return Number(value.toPrecision(3)).toString();
}

/** The lowest and highest of some numbers, widened when they are equal so a flat line shows. */
function extent(values: number[]): [number, number] {
  let low = Math.min(...values);
  let high = Math.max(...values);
  if (low === high) {
    const pad = low === 0 ? 1 : Math.abs(low) * 0.1;
    low -= pad;
    high += pad;
  }
  return [low, high];
}

/** The chart of one metric: axes with a few ticks, a line per run, a legend naming each. */
export function LineChart(props: { title: string; series: ISeries[] }): JSX.Element {
  const { title, series } = props;
  const finite = series.flatMap(s =>
    s.points.filter(p => p.value !== null && Number.isFinite(p.value))
  );
  if (finite.length === 0) {
    return (
      <figure className="jp-mlops-chart" data-testid="mlops-chart" data-metric={title}>
        <figcaption className="jp-mlops-chart-title">{title}</figcaption>
        <div className="jp-mlops-muted">No values logged.</div>
      </figure>
    );
  }
  const [x0, x1] = extent(finite.map(p => p.step));
  const [y0, y1] = extent(finite.map(p => p.value as number));
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (step: number): number => MARGIN.left + ((step - x0) / (x1 - x0)) * plotWidth;
  const y = (value: number): number => MARGIN.top + (1 - (value - y0) / (y1 - y0)) * plotHeight;
  const ticks = Array.from({ length: TICKS + 1 }, (_, i) => i / TICKS);
  return (
    <figure className="jp-mlops-chart" data-testid="mlops-chart" data-metric={title}>
      <figcaption className="jp-mlops-chart-title">{title}</figcaption>
      <svg
        className="jp-mlops-chart-svg"
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        role="img"
        aria-label={`${title} over steps, ${series.length} run${series.length === 1 ? '' : 's'}`}
      >
        {ticks.map(t => {
          const value = y0 + t * (y1 - y0);
          return (
            <g key={`y${t}`} className="jp-mlops-chart-grid">
              <line x1={MARGIN.left} x2={WIDTH - MARGIN.right} y1={y(value)} y2={y(value)} />
              <text x={MARGIN.left - 4} y={y(value)} textAnchor="end" dominantBaseline="middle">
                {tickLabel(value)}
              </text>
            </g>
          );
        })}
        {ticks.map(t => {
          const step = x0 + t * (x1 - x0);
          return (
            <text
              key={`x${t}`}
              className="jp-mlops-chart-label"
              x={x(step)}
              y={HEIGHT - MARGIN.bottom + 14}
              textAnchor="middle"
            >
              {tickLabel(step)}
            </text>
          );
        })}
        <text
          className="jp-mlops-chart-label"
          x={WIDTH - MARGIN.right}
          y={HEIGHT - 2}
          textAnchor="end"
        >
          step
        </text>
        {series.map((s, index) => (
          <path
            key={s.id}
            className="jp-mlops-chart-line"
            data-testid="mlops-chart-line"
            data-run={s.id}
            data-colour={index % PALETTE_SIZE}
            d={linePath(s.points, x, y)}
          >
            <title>{s.name}</title>
          </path>
        ))}
        {series.map((s, index) =>
          s.points.length === 1 && s.points[0].value !== null ? (
            <circle
              key={`dot-${s.id}`}
              className="jp-mlops-chart-dot"
              data-colour={index % PALETTE_SIZE}
              cx={x(s.points[0].step)}
              cy={y(s.points[0].value)}
              r={3}
            />
          ) : null
        )}
      </svg>
      <ul className="jp-mlops-chart-legend" data-testid="mlops-chart-legend">
        {series.map((s, index) => (
          <li key={s.id} data-testid="mlops-chart-legend-item" data-run={s.id}>
            <span
              className="jp-mlops-chart-swatch"
              data-colour={index % PALETTE_SIZE}
              aria-hidden="true"
            />
            {s.name}
          </li>
        ))}
      </ul>
    </figure>
  );
}

/** An SVG path through the points; a missing or infinite value breaks the line. */
function linePath(
  points: ISeries['points'],
  x: (step: number) => number,
  y: (value: number) => number
): string {
  const parts: string[] = [];
  let drawing = false;
  for (const point of points) {
    if (point.value === null || !Number.isFinite(point.value)) {
      drawing = false;
      continue;
    }
    parts.push(`${drawing ? 'L' : 'M'}${x(point.step).toFixed(1)},${y(point.value).toFixed(1)}`);
    drawing = true;
  }
  return parts.join('');
}
