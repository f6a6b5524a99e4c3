/** The main-area panel about MLflow runs: facts, metric charts, a params diff, artifacts. */

import { MainAreaWidget } from '@jupyterlab/apputils';
import * as React from 'react';

import { mlflowArtifactUrl } from './mlflowApi';
import { formatTime } from './format';
import { LineChart } from './mlflowChart';
import { MlflowRunsModel, mlflowRunsKey } from './mlflowRuns';
import { formatDuration, formatMetric, MLFLOW_HEALTH } from './mlflowView';
import { createModelPanel, ModelView } from './modelPanel';
import type { MlflowRun } from './models.generated';
import { ReloadButton } from './panelParts';
import { ICommandRunner, OPEN_PIPELINE_RUN } from './pipelinesRun';
import { ValueView } from './valueView';

/** Tags the pipeline runs recorded in MLflow carry: the run, the task, where it ran. */
const TAG_PIPELINE_RUN = 'kfp.run_id';
const TAG_TASK = 'kfp.task';
const TAG_BACKEND = 'kfp.backend';
const TAG_PIPELINE = 'kfp.pipeline';
const TAG_ROLE = 'kfp.role';

/** The panel's id: one panel per set of runs, found again by this. */
export function mlflowRunsPanelId(model: MlflowRunsModel): string {
  return 'jp-mlops-mlflow-' + mlflowRunsKey(model.ref).replace(/[^a-zA-Z0-9-]/g, '_');
}

/** A main-area panel showing one run, or several compared; with `commands`, a run recorded
 * from a pipeline run opens that pipeline run. */
export function createMlflowRunsPanel(
  model: MlflowRunsModel,
  commands: ICommandRunner | null = null
): MainAreaWidget<MlflowRunsView> {
  const { names } = model.ref;
  return createModelPanel(new MlflowRunsView(model, commands), {
    id: mlflowRunsPanelId(model),
    label: names.length === 1 ? names[0] : `Compare ${names.length} runs`,
    caption: `MLflow: ${names.join(', ')}`
  });
}

/** The panel's content: follows the model and renders it. */
export class MlflowRunsView extends ModelView<MlflowRunsModel> {
  constructor(
    model: MlflowRunsModel,
    readonly commands: ICommandRunner | null = null
  ) {
    super(model);
  }

  protected render(): JSX.Element {
    return (
      <RunsPanel model={this.model} onOpenPipelineRun={this.commands ? this._openRun : null} />
    );
  }

  /** Open the pipeline run an MLflow run was recorded from. */
  private _openRun = (run: MlflowRun): void => {
    const { tags } = run;
    // The pipeline run's own MLflow run bears its name; a task's bears the task's.
    const name =
      tags[TAG_ROLE] === 'run' ? run.name : (tags[TAG_PIPELINE] ?? tags[TAG_PIPELINE_RUN]);
    void this.commands?.execute(OPEN_PIPELINE_RUN, {
      source: tags[TAG_BACKEND] === 'local' ? 'local' : 'cluster', // earlier versions wrote 'remote'
      id: tags[TAG_PIPELINE_RUN],
      name: name || tags[TAG_PIPELINE_RUN]
    });
  };
}

/** Opens the pipeline run of an MLflow run; null when the panel cannot run commands. */
type OpenPipelineRun = ((run: MlflowRun) => void) | null;

function RunsPanel(props: {
  model: MlflowRunsModel;
  onOpenPipelineRun: OpenPipelineRun;
}): JSX.Element {
  const { model } = props;
  const runs = model.runs;
  const names = runs.length > 0 ? runs.map(r => r.name || r.id) : model.ref.names;
  return (
    <div className="jp-mlops-object-body" data-testid="mlops-mlflow-panel">
      <header className="jp-mlops-object-header">
        <h2 className="jp-mlops-object-title">
          <span className="jp-mlops-muted">{names.length === 1 ? 'Run' : 'Compare'}</span>{' '}
          <span data-testid="mlops-mlflow-panel-title">{names.join(', ')}</span>
        </h2>
        <span className="jp-mlops-spacer" />
        <ReloadButton
          testId="mlops-mlflow-panel-refresh"
          title="Read the runs again"
          loading={model.loading}
          onReload={() => void model.reload()}
        />
      </header>
      {model.error && (
        <div className="jp-mlops-error" role="alert" data-testid="mlops-mlflow-panel-error">
          {model.error.message}
        </div>
      )}
      {runs.length === 0 && !model.error && (
        <div className="jp-mlops-loading">Reading the runs…</div>
      )}
      {runs.length > 0 && (
        <div className="jp-mlops-object-content">
          <Facts runs={runs} onOpenPipelineRun={props.onOpenPipelineRun} />
          <Charts model={model} />
          <Params model={model} />
          <Artifacts model={model} />
        </div>
      )}
    </div>
  );
}

/** Status, times and latest metrics of each run, a column per run. */
function Facts(props: { runs: MlflowRun[]; onOpenPipelineRun: OpenPipelineRun }): JSX.Element {
  const { runs, onOpenPipelineRun } = props;
  const fromPipelines = runs.some(run => run.tags[TAG_PIPELINE_RUN]);
  const withTasks = runs.some(run => run.tags[TAG_PIPELINE_RUN] && run.tags[TAG_TASK]);
  const now = Date.now();
  const metrics = [...new Set(runs.flatMap(r => Object.keys(r.metrics)))].sort();
  return (
    <section data-testid="mlops-mlflow-facts">
      <table className="jp-mlops-table jp-mlops-compare">
        <thead>
          <tr>
            <th scope="col" />
            {runs.map(run => (
              <th key={run.id} scope="col">
                {run.name || run.id}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          <tr>
            <th scope="row">Status</th>
            {runs.map(run => (
              <td key={run.id}>
                <span className="jp-mlops-health" data-health={MLFLOW_HEALTH[run.status] ?? ''}>
                  {run.status.toLowerCase()}
                </span>
              </td>
            ))}
          </tr>
          <tr>
            <th scope="row">Started</th>
            {runs.map(run => (
              <td key={run.id}>{formatTime(run.started_at, now)}</td>
            ))}
          </tr>
          <tr>
            <th scope="row">Duration</th>
            {runs.map(run => (
              <td key={run.id}>{formatDuration(run.started_at, run.ended_at, now)}</td>
            ))}
          </tr>
          <tr>
            <th scope="row">User</th>
            {runs.map(run => (
              <td key={run.id}>{run.user}</td>
            ))}
          </tr>
          <tr>
            <th scope="row">Run id</th>
            {runs.map(run => (
              <td key={run.id}>
                <code>{run.id}</code>
              </td>
            ))}
          </tr>
          {fromPipelines && (
            <tr data-testid="mlops-mlflow-pipeline-row">
              <th scope="row">Recorded from</th>
              {runs.map(run => (
                <td key={run.id}>
                  <PipelineRunLink run={run} onOpen={onOpenPipelineRun} />
                </td>
              ))}
            </tr>
          )}
          {withTasks && (
            <tr>
              <th scope="row">Task</th>
              {runs.map(run => (
                <td key={run.id} data-testid="mlops-mlflow-pipeline-task" data-run={run.id}>
                  {run.tags[TAG_PIPELINE_RUN] ? (run.tags[TAG_TASK] ?? '') : ''}
                </td>
              ))}
            </tr>
          )}
          {metrics.map(key => (
            <tr key={key} data-metric={key}>
              <th scope="row">{key}</th>
              {runs.map(run => (
                <td key={run.id}>{formatMetric(run.metrics[key])}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

/** The pipeline run an MLflow run was recorded from, opening its panel; empty when none. */
function PipelineRunLink(props: { run: MlflowRun; onOpen: OpenPipelineRun }): JSX.Element | null {
  const { run, onOpen } = props;
  const id = run.tags[TAG_PIPELINE_RUN];
  if (!id) {
    return null;
  }
  const where = run.tags[TAG_BACKEND] === 'local' ? 'local' : 'cluster';
  const pipeline = run.tags[TAG_PIPELINE];
  const about = pipeline ? `${pipeline}, ${where}` : where;
  return (
    <span data-testid="mlops-mlflow-pipeline" data-run={run.id} data-pipeline-run={id}>
      {onOpen ? (
        <button
          type="button"
          className="jp-mlops-link-button"
          data-testid="mlops-mlflow-pipeline-run"
          data-pipeline-run={id}
          title={`Open pipeline run ${id}`}
          onClick={() => onOpen(run)}
        >
          Pipeline run
        </button>
      ) : (
        <span>Pipeline run {id}</span>
      )}{' '}
      <span className="jp-mlops-muted">({about})</span>
    </span>
  );
}

/** One chart per charted metric, every run that logged it a line. */
function Charts(props: { model: MlflowRunsModel }): JSX.Element | null {
  const { model } = props;
  const keys = model.metricKeys;
  if (keys.length === 0) {
    return null;
  }
  const names = new Map(model.runs.map(r => [r.id, r.name || r.id]));
  return (
    <section data-testid="mlops-mlflow-charts">
      <h3>Metrics</h3>
      <div className="jp-mlops-chart-picker" role="group" aria-label="Metrics to chart">
        {keys.map(key => (
          <label key={key}>
            <input
              type="checkbox"
              data-testid="mlops-mlflow-chart-toggle"
              data-metric={key}
              checked={model.charted.includes(key)}
              onChange={() => model.toggleChart(key)}
            />{' '}
            {key}
          </label>
        ))}
      </div>
      <div className="jp-mlops-charts">
        {model.charted.map(key => {
          const chart = model.chart(key);
          if (!chart || chart.loading) {
            return (
              <div key={key} className="jp-mlops-loading">
                Reading {key}…
              </div>
            );
          }
          if (chart.error) {
            return (
              <div key={key} className="jp-mlops-error" role="alert">
                {key}: {chart.error.message}
              </div>
            );
          }
          const downsampled = chart.histories.some(h => h.downsampled);
          return (
            <div key={key}>
              <LineChart
                title={key}
                series={chart.histories.map(h => ({
                  id: h.run_id,
                  name: names.get(h.run_id) ?? h.run_id,
                  points: h.points
                }))}
              />
              {downsampled && (
                <div className="jp-mlops-muted">
                  Long histories are drawn from a sample that keeps every peak and dip.
                </div>
              )}
            </div>
          );
        })}
      </div>
    </section>
  );
}

/** Every param of the runs, side by side; rows whose values differ are marked. */
function Params(props: { model: MlflowRunsModel }): JSX.Element | null {
  const { model } = props;
  const rows = model.params;
  const runs = model.runs;
  if (rows.length === 0) {
    return null;
  }
  const comparing = runs.length > 1;
  const shown = model.onlyDifferences ? rows.filter(r => r.differs) : rows;
  const differing = rows.filter(r => r.differs).length;
  return (
    <section data-testid="mlops-mlflow-params">
      <h3>
        Parameters{' '}
        {comparing && (
          <span className="jp-mlops-muted" data-testid="mlops-mlflow-params-differing">
            {differing} of {rows.length} differ
          </span>
        )}
      </h3>
      {comparing && (
        <label>
          <input
            type="checkbox"
            data-testid="mlops-mlflow-only-differences"
            checked={model.onlyDifferences}
            onChange={event => (model.onlyDifferences = event.target.checked)}
          />{' '}
          Only the parameters that differ
        </label>
      )}
      <table className="jp-mlops-table jp-mlops-compare">
        <thead>
          <tr>
            <th scope="col">Parameter</th>
            {runs.map(run => (
              <th key={run.id} scope="col">
                {run.name || run.id}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {shown.map(row => (
            <tr
              key={row.key}
              className="jp-mlops-param"
              data-testid="mlops-mlflow-param"
              data-key={row.key}
              data-differs={comparing && row.differs}
            >
              <th scope="row">{row.key}</th>
              {row.values.map((value, index) => (
                <td key={runs[index]?.id ?? index}>
                  {value === null ? (
                    <span className="jp-mlops-muted">(not set)</span>
                  ) : (
                    <ValueView value={value} />
                  )}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

/** Each run's artifacts as a tree: folders unfold, files download. */
function Artifacts(props: { model: MlflowRunsModel }): JSX.Element {
  const { model } = props;
  return (
    <section data-testid="mlops-mlflow-artifacts">
      <h3>Artifacts</h3>
      {model.runs.map(run => (
        <div key={run.id} className="jp-mlops-artifacts" data-run={run.id}>
          {model.runs.length > 1 && <h4>{run.name || run.id}</h4>}
          <Folder model={model} runId={run.id} path="" />
        </div>
      ))}
    </section>
  );
}

function Folder(props: { model: MlflowRunsModel; runId: string; path: string }): JSX.Element {
  const { model, runId, path } = props;
  const listed = model.folder(runId, path);
  if (!listed) {
    return <div className="jp-mlops-loading">Listing…</div>;
  }
  if (listed.error) {
    return (
      <div className="jp-mlops-error" role="alert">
        {listed.error.message}
      </div>
    );
  }
  if (listed.artifacts.length === 0) {
    return <div className="jp-mlops-muted">{path ? 'Empty folder.' : 'No artifacts.'}</div>;
  }
  return (
    <ul className="jp-mlops-artifact-list">
      {listed.artifacts.map(artifact => {
        const name = artifact.path.split('/').pop() ?? artifact.path;
        if (artifact.is_dir) {
          const open = model.isOpen(runId, artifact.path);
          return (
            <li key={artifact.path} data-testid="mlops-mlflow-artifact" data-path={artifact.path}>
              <button
                type="button"
                className="jp-mlops-model"
                aria-expanded={open}
                onClick={() => void model.toggleFolder(runId, artifact.path)}
              >
                {open ? '▾' : '▸'} {name}/
              </button>
              {open && <Folder model={model} runId={runId} path={artifact.path} />}
            </li>
          );
        }
        return (
          <li key={artifact.path} data-testid="mlops-mlflow-artifact" data-path={artifact.path}>
            <a
              className="jp-mlops-link"
              href={mlflowArtifactUrl(runId, artifact.path)}
              download={name}
              data-testid="mlops-mlflow-artifact-download"
            >
              {name}
            </a>{' '}
            {artifact.size !== null && (
              <span className="jp-mlops-muted">{formatSize(artifact.size)}</span>
            )}
          </li>
        );
      })}
    </ul>
  );
}

/** Bytes as `512 B`, `4.2 kB`, `1.3 MB`. */
function formatSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let size = bytes;
  let unit = 0;
  while (size >= 1000 && unit < units.length - 1) {
    size /= 1000;
    unit += 1;
  }
  return `${unit === 0 ? size : size.toFixed(1)} ${units[unit]}`;
}
