/** A line chart drawn as plain SVG: a metric over steps, one line per run, with a legend. */

import * as React from 'react';

import { niceAxis, runColourIndex, tickLabel } from './chartScale';

/** One line: a run's values of the metric, step by step. */
export interface ISeries {
  /** What the legend calls the line. */
  name: string;
  /** Identifies the run the line belongs to. */
  id: string;
  points: ReadonlyArray<{ step: number; value: number | null }>;
}

const WIDTH = 560;
const HEIGHT = 230;
const MARGIN = { top: 10, right: 12, bottom: 38, left: 64 };

/** The colour of each line: the run's own, and a dash when an earlier line has the same one. */
function lineStyles(series: ISeries[]): Array<{ colour: number; dashed: boolean }> {
  const taken = new Set<number>();
  return series.map(s => {
    const colour = runColourIndex(s.id);
    const dashed = taken.has(colour);
    taken.add(colour);
    return { colour, dashed };
  });
}

/** The chart of one metric: round ticks, titled axes, a line per run, a legend naming each. */
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
  const steps = finite.map(p => p.step);
  const values = finite.map(p => p.value as number);
  const xAxis = niceAxis(Math.min(...steps), Math.max(...steps), 6, true);
  const yAxis = niceAxis(Math.min(...values), Math.max(...values), 5);
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (step: number): number =>
    MARGIN.left + ((step - xAxis.low) / (xAxis.high - xAxis.low)) * plotWidth;
  const y = (value: number): number =>
    MARGIN.top + (1 - (value - yAxis.low) / (yAxis.high - yAxis.low)) * plotHeight;
  const styles = lineStyles(series);
  return (
    <figure className="jp-mlops-chart" data-testid="mlops-chart" data-metric={title}>
      <figcaption className="jp-mlops-chart-title">{title}</figcaption>
      <svg
        className="jp-mlops-chart-svg"
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        role="img"
        aria-label={`${title} over steps, ${series.length} run${series.length === 1 ? '' : 's'}`}
      >
        {yAxis.ticks.map(value => (
          <g key={`y${value}`} className="jp-mlops-chart-grid" data-testid="mlops-chart-y-tick">
            <line x1={MARGIN.left} x2={WIDTH - MARGIN.right} y1={y(value)} y2={y(value)} />
            <text x={MARGIN.left - 4} y={y(value)} textAnchor="end" dominantBaseline="middle">
              {tickLabel(value, yAxis.step)}
            </text>
          </g>
        ))}
        {xAxis.ticks.map(step => (
          <text
            key={`x${step}`}
            className="jp-mlops-chart-label"
            data-testid="mlops-chart-x-tick"
            x={x(step)}
            y={HEIGHT - MARGIN.bottom + 14}
            textAnchor="middle"
          >
            {tickLabel(step, xAxis.step)}
          </text>
        ))}
        <text
          className="jp-mlops-chart-axis-title"
          data-testid="mlops-chart-x-title"
          x={MARGIN.left + plotWidth / 2}
          y={HEIGHT - 4}
          textAnchor="middle"
        >
          step
        </text>
        <text
          className="jp-mlops-chart-axis-title"
          data-testid="mlops-chart-y-title"
          transform={`translate(12 ${MARGIN.top + plotHeight / 2}) rotate(-90)`}
          textAnchor="middle"
        >
          {title}
        </text>
        {series.map((s, index) => (
          <path
            key={s.id}
            className="jp-mlops-chart-line"
            data-testid="mlops-chart-line"
            data-run={s.id}
            data-colour={styles[index].colour}
            data-dashed={styles[index].dashed}
            d={linePath(s.points, x, y)}
          >
            <title>{s.name}</title>
          </path>
        ))}
        {series.map((s, index) => {
          const drawn = s.points.filter(p => p.value !== null && Number.isFinite(p.value));
          if (drawn.length !== 1) {
            return null;
          }
          const only = drawn[0];
          const value = only.value as number;
          return (
            <g key={`dot-${s.id}`}>
              <circle
                className="jp-mlops-chart-dot"
                data-testid="mlops-chart-dot"
                data-colour={styles[index].colour}
                cx={x(only.step)}
                cy={y(value)}
                r={4}
              >
                <title>{`${s.name}: ${value} at step ${only.step}`}</title>
              </circle>
              <text
                className="jp-mlops-chart-label"
                x={x(only.step) + 7}
                y={y(value) - 7}
                data-testid="mlops-chart-dot-label"
              >
                {formatPoint(value)}
              </text>
            </g>
          );
        })}
      </svg>
      <ul className="jp-mlops-chart-legend" data-testid="mlops-chart-legend">
        {series.map((s, index) => (
          <li key={s.id} data-testid="mlops-chart-legend-item" data-run={s.id}>
            <span
              className="jp-mlops-chart-swatch"
              data-colour={styles[index].colour}
              data-dashed={styles[index].dashed}
              aria-hidden="true"
            />
            {s.name}
          </li>
        ))}
      </ul>
    </figure>
  );
}

/** A single point's value, as the runs table shows metrics. */
function formatPoint(value: number): string {
  return Number.isInteger(value) ? String(value) : Number(value.toPrecision(4)).toString();
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
