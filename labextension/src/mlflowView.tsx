/** The MLflow section's body: experiment search, the runs table with a filter, registered models. */

import { refreshIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import { summariseValue } from './format';
import { IRunColumn, MlflowModel, orderKey } from './mlflow';
import type { IMlflowRunsRef } from './mlflowRuns';
import type { MlflowRunSummary } from './models.generated';
import { ServeForm } from './servingView';
import type { ISectionBody } from './sidebar';

/** The sidebar's MLflow body, following its model. */
export class MlflowSection implements ISectionBody {
  constructor(
    readonly model: MlflowModel,
    private readonly _open: (runs: IMlflowRunsRef) => void
  ) {}

  get changed() {
    return this.model.changed;
  }

  setVisible(visible: boolean): void {
    this.model.visible = visible;
  }

  render(): JSX.Element | null {
    return <MlflowView model={this.model} onOpen={this._open} />;
  }
}

/** How an MLflow status reads at a glance, with the cluster tables' health colours. */
export const MLFLOW_HEALTH: Record<string, string> = {
  RUNNING: 'progress',
  SCHEDULED: 'progress',
  FINISHED: 'ok',
  FAILED: 'error',
  KILLED: 'done'
};

/** Time from start to end (or to now while running), as `4s`, `3m 5s`, `2h 10m`. */
export function formatDuration(started: string | null, ended: string | null, now: number): string {
  if (!started) {
    return '';
  }
  const from = Date.parse(started);
  const to = ended ? Date.parse(ended) : now;
  if (Number.isNaN(from) || Number.isNaN(to)) {
    return '';
  }
  const seconds = Math.max(0, Math.round((to - from) / 1000));
  if (seconds < 60) {
    return `${seconds}s`;
  }
  if (seconds < 3600) {
    return `${Math.floor(seconds / 60)}m ${seconds % 60}s`;
  }
  return `${Math.floor(seconds / 3600)}h ${Math.floor((seconds % 3600) / 60)}m`;
}

/** A metric's value, short enough for a table cell. */
export function formatMetric(value: number | null | undefined): string {
  if (value === null || value === undefined) {
    return '';
  }
  return Number.isInteger(value) ? String(value) : Number(value.toPrecision(4)).toString();
}

export function MlflowView(props: {
  model: MlflowModel;
  onOpen: (runs: IMlflowRunsRef) => void;
}): JSX.Element | null {
  const { model } = props;
  if (!model.configured) {
    return null;
  }
  return (
    <div className="jp-mlops-mlflow" data-testid="mlops-mlflow">
      <Experiments model={model} />
      {model.experiment && <Runs model={model} onOpen={props.onOpen} />}
      <Models model={model} />
    </div>
  );
}

/** A search box that searches as the user types, a moment after the last key. */
function SearchBox(props: {
  value: string;
  placeholder: string;
  testId: string;
  onSearch: (text: string) => void;
}): JSX.Element {
  const [draft, setDraft] = React.useState(props.value);
  const timer = React.useRef(0);
  React.useEffect(() => () => window.clearTimeout(timer.current), []);
  return (
    <input
      type="search"
      className="jp-mlops-filter jp-mod-styled"
      data-testid={props.testId}
      placeholder={props.placeholder}
      aria-label={props.placeholder}
      value={draft}
      onChange={event => {
        const text = event.target.value;
        setDraft(text);
        window.clearTimeout(timer.current);
        // One request after the user pauses, not one per key.
        timer.current = window.setTimeout(() => props.onSearch(text), 300);
      }}
    />
  );
}

function Experiments(props: { model: MlflowModel }): JSX.Element {
  const { model } = props;
  const listed = model.experiments;
  return (
    <div className="jp-mlops-mlflow-experiments">
      <div className="jp-mlops-mlflow-bar">
        <SearchBox
          value={model.experimentSearch}
          placeholder="Search experiments by name"
          testId="mlops-mlflow-experiment-search"
          onSearch={text => void model.searchExperiments(text)}
        />
        <button
          type="button"
          className="jp-Button jp-mod-minimal jp-mlops-refresh"
          data-testid="mlops-mlflow-refresh"
          title="Read the experiments, runs and models again"
          aria-label="Reload MLflow"
          onClick={() => {
            void model.refresh();
            void model.loadRuns();
          }}
        >
          <refreshIcon.react tag="span" />
        </button>
      </div>
      {listed.error && (
        <div className="jp-mlops-error" role="alert" data-testid="mlops-mlflow-error">
          {listed.error.message}
        </div>
      )}
      {listed.items.length === 0 && !listed.error && !listed.loading && (
        <div className="jp-mlops-empty" data-testid="mlops-mlflow-no-experiments">
          {model.experimentSearch
            ? `No experiment name contains "${model.experimentSearch}".`
            : 'No experiments yet: log a run with mlflow.start_run().'}
        </div>
      )}
      {listed.items.length > 0 && (
        <label className="jp-mlops-mlflow-experiment">
          <span className="jp-mlops-label">Experiment</span>
          <select
            className="jp-mod-styled"
            data-testid="mlops-mlflow-experiment"
            value={model.experiment?.id ?? ''}
            onChange={event => model.selectExperiment(event.target.value)}
          >
            {model.experiment === null && <option value="">Choose…</option>}
            {listed.items.map(e => (
              <option key={e.id} value={e.id}>
                {e.name}
              </option>
            ))}
          </select>
          {listed.next && (
            <button
              type="button"
              className="jp-Button jp-mod-minimal jp-mlops-more"
              data-testid="mlops-mlflow-more-experiments"
              onClick={() => void model.moreExperiments()}
            >
              More…
            </button>
          )}
        </label>
      )}
    </div>
  );
}

function Runs(props: { model: MlflowModel; onOpen: (runs: IMlflowRunsRef) => void }): JSX.Element {
  const { model } = props;
  const [filter, setFilter] = React.useState(model.filter);
  const runs = model.runs;
  const columns = model.columns;
  const selected = model.selectedRuns();
  const now = Date.now();
  const open = (chosen: MlflowRunSummary[]): void =>
    props.onOpen({ ids: chosen.map(r => r.id), names: chosen.map(r => r.name || r.id) });
  return (
    <div className="jp-mlops-mlflow-runs" aria-busy={runs.loading}>
      <input
        type="search"
        className="jp-mlops-filter jp-mod-styled"
        data-testid="mlops-mlflow-filter"
        placeholder="Filter: metrics.loss < 0.2 and params.lr = '0.1'"
        aria-label="Filter the runs with an MLflow search expression; Enter applies it"
        title="An MLflow search expression; press Enter to apply it"
        spellCheck={false}
        value={filter}
        onChange={event => setFilter(event.target.value)}
        onKeyDown={event => {
          if (event.key === 'Enter') {
            model.applyFilter(filter);
          }
        }}
      />
      {runs.error && (
        <div className="jp-mlops-error" role="alert" data-testid="mlops-mlflow-filter-error">
          {runs.error.message}
        </div>
      )}
      <ColumnPicker model={model} />
      <div className="jp-mlops-table-wrap">
        <table className="jp-mlops-table" data-testid="mlops-mlflow-runs">
          <thead>
            <tr>
              <th scope="col" aria-label="Compare" />
              <SortHeader model={model} column={{ kind: 'attribute', key: 'name' }} label="Run" />
              <SortHeader
                model={model}
                column={{ kind: 'attribute', key: 'status' }}
                label="Status"
              />
              <SortHeader
                model={model}
                column={{ kind: 'attribute', key: 'started' }}
                label="Duration"
                title="Sort by start time"
              />
              {columns.map(column => (
                <SortHeader
                  key={`${column.kind}:${column.key}`}
                  model={model}
                  column={column}
                  label={column.key}
                />
              ))}
            </tr>
          </thead>
          <tbody>
            {runs.items.map(run => (
              <tr
                key={run.id}
                className="jp-mlops-row"
                data-testid="mlops-mlflow-run"
                data-id={run.id}
                data-name={run.name}
                tabIndex={0}
                title={`Open ${run.name || run.id}`}
                onClick={() => open([run])}
                onKeyDown={event => {
                  if (event.key === 'Enter') {
                    open([run]);
                  }
                }}
              >
                <td onClick={event => event.stopPropagation()}>
                  <input
                    type="checkbox"
                    data-testid="mlops-mlflow-run-select"
                    aria-label={`Compare ${run.name || run.id}`}
                    checked={model.selected.has(run.id)}
                    onChange={() => model.toggleSelected(run.id)}
                  />
                </td>
                <td>{run.name || run.id}</td>
                <td>
                  <span className="jp-mlops-health" data-health={MLFLOW_HEALTH[run.status] ?? ''}>
                    {run.status.toLowerCase()}
                  </span>
                </td>
                <td>{formatDuration(run.started_at, run.ended_at, now)}</td>
                {columns.map(column => (
                  <td
                    key={`${column.kind}:${column.key}`}
                    data-column={`${column.kind}:${column.key}`}
                    title={column.kind === 'param' ? run.params[column.key] : undefined}
                  >
                    {column.kind === 'param'
                      ? summariseValue(run.params[column.key] ?? '').short
                      : formatMetric(run.metrics[column.key])}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
        {runs.items.length === 0 && !runs.loading && !runs.error && (
          <div className="jp-mlops-empty" data-testid="mlops-mlflow-no-runs">
            {model.filter ? 'No run matches the filter.' : 'No runs in this experiment.'}
          </div>
        )}
      </div>
      <div className="jp-mlops-mlflow-bar">
        <button
          type="button"
          className="jp-Button jp-mod-minimal"
          data-testid="mlops-mlflow-previous"
          disabled={model.pageNumber <= 1 || runs.loading}
          onClick={() => model.previousPage()}
        >
          ‹ Previous
        </button>
        <span className="jp-mlops-muted" data-testid="mlops-mlflow-page">
          Page {model.pageNumber}
        </span>
        <button
          type="button"
          className="jp-Button jp-mod-minimal"
          data-testid="mlops-mlflow-next"
          disabled={!runs.next || runs.loading}
          onClick={() => model.nextPage()}
        >
          Next ›
        </button>
        <span className="jp-mlops-spacer" />
        <button
          type="button"
          className="jp-Button jp-mod-styled jp-mod-accept"
          data-testid="mlops-mlflow-compare"
          disabled={selected.length < 2}
          title="Chart and diff the ticked runs side by side"
          onClick={() => open(selected)}
        >
          Compare {selected.length || ''}
        </button>
      </div>
    </div>
  );
}

function SortHeader(props: {
  model: MlflowModel;
  column: IRunColumn;
  label: string;
  /** What clicking sorts by, when the label does not say it. */
  title?: string;
}): JSX.Element {
  const { model, column } = props;
  const order = model.orderBy;
  const sorted = order.column.kind === column.kind && order.column.key === column.key;
  const sortable = orderKey(column) !== null;
  return (
    <th
      scope="col"
      data-kind={column.kind}
      aria-sort={sorted ? (order.descending ? 'descending' : 'ascending') : undefined}
    >
      <button
        type="button"
        className="jp-mlops-sort"
        data-testid="mlops-mlflow-sort"
        data-column={`${column.kind}:${column.key}`}
        disabled={!sortable}
        title={props.title ?? `Sort by ${props.label}`}
        onClick={() => model.sortBy(column)}
      >
        {props.label}
        {sorted ? (order.descending ? ' ▾' : ' ▴') : ''}
      </button>
    </th>
  );
}

/** Which params and metrics are columns of the table. */
function ColumnPicker(props: { model: MlflowModel }): JSX.Element | null {
  const { model } = props;
  const shown = new Set(model.columns.map(c => `${c.kind}:${c.key}`));
  const choices: IRunColumn[] = [
    ...model.paramKeys.map(key => ({ kind: 'param' as const, key })),
    ...model.metricKeys.map(key => ({ kind: 'metric' as const, key }))
  ];
  if (choices.length === 0) {
    return null;
  }
  return (
    <details className="jp-mlops-columns" data-testid="mlops-mlflow-columns">
      <summary>Columns</summary>
      {choices.map(column => (
        <label key={`${column.kind}:${column.key}`}>
          <input
            type="checkbox"
            checked={shown.has(`${column.kind}:${column.key}`)}
            onChange={() => model.toggleColumn(column)}
          />{' '}
          <span className="jp-mlops-muted">{column.kind}</span> {column.key}
        </label>
      ))}
    </details>
  );
}

/** What the serve form is open for: a version, or an alias to roll out. */
interface IServeTarget {
  model: string;
  version?: string;
  alias?: string;
}

/** Whether this sidebar may serve: a cluster to serve on, and not read-only. */
function canServe(model: MlflowModel): boolean {
  const cluster = model.status.report?.cluster.mode;
  return !model.status.readOnly && cluster !== undefined && cluster !== 'none';
}

function sameTarget(a: IServeTarget | null, b: IServeTarget): boolean {
  return a !== null && a.model === b.model && a.version === b.version && a.alias === b.alias;
}

function Models(props: { model: MlflowModel }): JSX.Element {
  const { model } = props;
  const listed = model.models;
  const serving = canServe(model);
  const [target, setTarget] = React.useState<IServeTarget | null>(null);
  const toggle = (next: IServeTarget): void => setTarget(sameTarget(target, next) ? null : next);
  return (
    <details className="jp-mlops-mlflow-models" data-testid="mlops-mlflow-models" open>
      <summary>Registered models</summary>
      <SearchBox
        value={model.modelSearch}
        placeholder="Search models by name"
        testId="mlops-mlflow-model-search"
        onSearch={text => void model.searchModels(text)}
      />
      {listed.error && (
        <div className="jp-mlops-error" role="alert" data-testid="mlops-mlflow-models-error">
          {listed.error.message}
        </div>
      )}
      {listed.items.length === 0 && !listed.error && !listed.loading && (
        <div className="jp-mlops-empty">No registered models.</div>
      )}
      <ul className="jp-mlops-models">
        {listed.items.map(m => {
          const versions = model.versions(m.name);
          return (
            <li key={m.name} data-testid="mlops-mlflow-model" data-name={m.name}>
              <button
                type="button"
                className="jp-mlops-model"
                aria-expanded={versions !== undefined}
                title={m.description || `Show the versions of ${m.name}`}
                onClick={() => void model.toggleModel(m.name)}
              >
                {versions ? '▾' : '▸'} {m.name}
              </button>
              {Object.entries(m.aliases).map(([alias, version]) => (
                <span key={alias} className="jp-mlops-alias" data-testid="mlops-mlflow-alias">
                  @{alias} → v{version}
                  {serving && (
                    <button
                      type="button"
                      className="jp-Button jp-mod-minimal jp-mlops-serve-button"
                      data-testid="mlops-mlflow-roll-out"
                      data-alias={alias}
                      title={`Serve the version @${alias} points at, or update its service to it`}
                      onClick={() => toggle({ model: m.name, alias })}
                    >
                      Roll out
                    </button>
                  )}
                </span>
              ))}
              {target?.model === m.name && target.alias && (
                <ServeForm
                  key={`@${target.alias}`}
                  model={m.name}
                  alias={target.alias}
                  onClose={() => setTarget(null)}
                />
              )}
              {versions?.error && (
                <div className="jp-mlops-error" role="alert">
                  {versions.error.message}
                </div>
              )}
              {versions && versions.versions.length > 0 && (
                <table className="jp-mlops-table" data-testid="mlops-mlflow-versions">
                  <tbody>
                    {versions.versions.map(v => (
                      <tr key={v.version} data-testid="mlops-mlflow-version">
                        <td>
                          v{v.version}
                          {serving && (
                            <button
                              type="button"
                              className="jp-Button jp-mod-minimal jp-mlops-serve-button"
                              data-testid="mlops-mlflow-serve"
                              data-version={v.version}
                              title={`Serve v${v.version} as an InferenceService`}
                              onClick={() => toggle({ model: m.name, version: v.version })}
                            >
                              Serve
                            </button>
                          )}
                        </td>
                        <td>{v.status.toLowerCase()}</td>
                        <td>{v.aliases.map(a => `@${a}`).join(' ')}</td>
                        <td className="jp-mlops-muted" title={v.source}>
                          {v.run_id ? `run ${v.run_id.slice(0, 8)}` : ''}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
              {target?.model === m.name && target.version && (
                <ServeForm
                  key={`v${target.version}`}
                  model={m.name}
                  version={target.version}
                  onClose={() => setTarget(null)}
                />
              )}
            </li>
          );
        })}
      </ul>
      {listed.next && (
        <button
          type="button"
          className="jp-Button jp-mod-minimal jp-mlops-more"
          onClick={() => void model.moreModels()}
        >
          More models…
        </button>
      )}
    </details>
  );
}
