/** The Pipelines section's body: filters, and the runs of both sources in one sortable list. */

import * as React from 'react';

import { ApiError } from './api';
import type { PipelineRunRow, UploadedPipelineVersion } from './models.generated';
import type { RunSource, RunStatus } from './pipelinesApi';
import { formatAge } from './format';
import {
  PipelinesModel,
  RUN_STATUSES,
  RunSortField,
  runKey,
  SOURCE_WORDS,
  STATE_HEALTH
} from './pipelines';
import type { IRunRef } from './pipelinesRun';
import type { ISectionBody } from './sidebar';

/** The sidebar's Pipelines body, following its model. */
export class PipelinesSection implements ISectionBody {
  constructor(
    readonly model: PipelinesModel,
    private readonly _open: (run: IRunRef) => void
  ) {}

  get changed() {
    return this.model.changed;
  }

  setVisible(visible: boolean): void {
    this.model.visible = visible;
  }

  render(): JSX.Element {
    return <PipelinesView model={this.model} onOpen={this._open} />;
  }
}

const COLUMNS: ReadonlyArray<{ field: RunSortField; label: string }> = [
  { field: 'name', label: 'Run' },
  { field: 'status', label: 'Status' },
  { field: 'created_at', label: 'Created' }
];

const SOURCE_NAMES: Record<RunSource, string> = {
  local: 'Local runs (this machine)',
  cluster: 'Kubeflow Pipelines'
};

/** Filters, errors by source, and the runs list. */
export function PipelinesView(props: {
  model: PipelinesModel;
  onOpen: (run: IRunRef) => void;
}): JSX.Element {
  const { model } = props;
  const runs = model.runs;
  const now = Date.now();
  const experiments = [...new Set(model.experiments.map(e => e.name))].sort();
  const errors = Object.entries(model.sourceErrors);
  return (
    <div className="jp-mlops-pipelines" data-testid="mlops-pipelines" aria-busy={model.loading}>
      <div className="jp-mlops-pipelines-filters">
        {model.hasCluster && (
          <select
            className="jp-mod-styled"
            data-testid="mlops-runs-source"
            aria-label="Which runs: local, on the cluster, or both"
            value={model.source}
            onChange={event => model.setSource(event.target.value as RunSource | 'all')}
          >
            <option value="all">Local and cluster</option>
            <option value="local">Local only</option>
            <option value="cluster">Cluster only</option>
          </select>
        )}
        <select
          className="jp-mod-styled"
          data-testid="mlops-runs-status"
          aria-label="Show only runs in this state"
          value={model.statusFilter}
          onChange={event => model.setStatusFilter(event.target.value as RunStatus | '')}
        >
          <option value="">Any state</option>
          {RUN_STATUSES.map(status => (
            <option key={status} value={status}>
              {status.toLowerCase()}
            </option>
          ))}
        </select>
        <select
          className="jp-mod-styled"
          data-testid="mlops-runs-experiment"
          aria-label="Show only runs of this experiment"
          value={model.experiment}
          onChange={event => model.setExperiment(event.target.value)}
        >
          <option value="">Every experiment</option>
          {experiments.map(name => (
            <option key={name} value={name}>
              {name}
            </option>
          ))}
        </select>
      </div>
      {errors.map(([source, error]) => (
        <div
          key={source}
          className="jp-mlops-error"
          role="alert"
          data-testid="mlops-runs-source-error"
          data-source={source}
        >
          <strong>{SOURCE_NAMES[source as RunSource] ?? 'Pipelines'}:</strong> {error?.message}
          {source === 'cluster' ? ' Local runs are still listed.' : ''}
        </div>
      ))}
      {model.error && (
        <div className="jp-mlops-error" role="alert" data-testid="mlops-runs-error">
          {model.error.message}
        </div>
      )}
      {!model.loaded && !model.error && (
        <div className="jp-mlops-loading" data-testid="mlops-runs-loading">
          Listing the runs…
        </div>
      )}
      {model.loaded && (
        <div className="jp-mlops-table-wrap">
          <table className="jp-mlops-table" data-testid="mlops-runs">
            <thead>
              <tr>
                {COLUMNS.map(column => {
                  const sorted = model.field === column.field;
                  return (
                    <th
                      key={column.field}
                      scope="col"
                      aria-sort={
                        sorted ? (model.descending ? 'descending' : 'ascending') : undefined
                      }
                    >
                      <button
                        type="button"
                        className="jp-mlops-sort"
                        data-testid={`mlops-runs-sort-${column.field}`}
                        title={`Sort by ${column.label.toLowerCase()}`}
                        onClick={() => model.sortBy(column.field)}
                      >
                        {column.label}
                        {sorted ? (model.descending ? ' ▾' : ' ▴') : ''}
                      </button>
                    </th>
                  );
                })}
              </tr>
            </thead>
            <tbody>
              {runs.map(run => (
                <RunRow key={runKey(run)} run={run} now={now} onOpen={props.onOpen} />
              ))}
            </tbody>
          </table>
          {runs.length === 0 && (
            <div className="jp-mlops-empty" data-testid="mlops-runs-empty">
              {model.statusFilter || model.experiment
                ? 'No run matches these filters.'
                : 'No runs yet: run a pipeline with %kfp run, or from a notebook cell.'}
            </div>
          )}
          {model.sources.map(source =>
            model.more(source) > 0 ? (
              <button
                key={source}
                type="button"
                className="jp-Button jp-mod-minimal jp-mlops-more"
                data-testid={`mlops-runs-more-${source}`}
                disabled={model.loading}
                onClick={() => void model.loadMore(source)}
              >
                More {SOURCE_WORDS[source]} runs ({model.more(source)})
              </button>
            ) : null
          )}
        </div>
      )}
      {model.hasCluster && <UploadedPipelines model={model} />}
    </div>
  );
}

/** Pipelines uploaded to Kubeflow Pipelines, read when unfolded, each unfolding to its versions. */
function UploadedPipelines(props: { model: PipelinesModel }): JSX.Element {
  const { model } = props;
  const pipelines = model.uploaded;
  const now = Date.now();
  return (
    <details
      className="jp-mlops-uploaded"
      data-testid="mlops-uploaded-pipelines"
      onToggle={event => {
        if (event.currentTarget.open) {
          void model.loadUploaded();
        }
      }}
    >
      <summary>Pipelines</summary>
      {model.uploadedError && (
        <div className="jp-mlops-error" role="alert" data-testid="mlops-uploaded-error">
          {model.uploadedError.message}
        </div>
      )}
      {pipelines === null && !model.uploadedError && (
        <div className="jp-mlops-loading">Listing the pipelines…</div>
      )}
      {pipelines !== null && pipelines.length === 0 && (
        <div className="jp-mlops-empty">No pipeline uploaded yet.</div>
      )}
      {pipelines !== null && pipelines.length > 0 && (
        <ul className="jp-mlops-uploaded-list">
          {pipelines.map(pipeline => (
            <li key={pipeline.id}>
              <details
                data-testid="mlops-uploaded-pipeline"
                data-id={pipeline.id}
                data-name={pipeline.name}
                onToggle={event => {
                  if (event.currentTarget.open) {
                    void model.loadVersions(pipeline.id);
                  }
                }}
              >
                <summary title={pipeline.description || undefined}>
                  {pipeline.display_name || pipeline.name}{' '}
                  <span className="jp-mlops-muted">{formatAge(pipeline.created_at, now)}</span>
                </summary>
                <Versions found={model.versionsOf(pipeline.id)} now={now} />
              </details>
            </li>
          ))}
        </ul>
      )}
    </details>
  );
}

/** A pipeline's versions, newest as the server orders them. */
function Versions(props: {
  found: readonly UploadedPipelineVersion[] | ApiError | undefined;
  now: number;
}): JSX.Element {
  const { found, now } = props;
  if (found === undefined) {
    return <div className="jp-mlops-loading">Listing the versions…</div>;
  }
  if (found instanceof ApiError) {
    return (
      <div className="jp-mlops-error" role="alert">
        {found.message}
      </div>
    );
  }
  if (found.length === 0) {
    return <div className="jp-mlops-empty">No version.</div>;
  }
  return (
    <ul className="jp-mlops-uploaded-versions">
      {found.map(version => (
        <li key={version.id} data-testid="mlops-uploaded-version" data-id={version.id}>
          {version.display_name || version.name}{' '}
          <span className="jp-mlops-muted">{formatAge(version.created_at, now)}</span>
        </li>
      ))}
    </ul>
  );
}

/** One run: its name and source, its state with tasks done, and its age. */
function RunRow(props: {
  run: PipelineRunRow;
  now: number;
  onOpen: (run: IRunRef) => void;
}): JSX.Element {
  const { run, now } = props;
  const open = (): void => props.onOpen({ source: run.source, id: run.id, name: run.name });
  return (
    <tr
      className="jp-mlops-row"
      data-testid="mlops-run"
      data-source={run.source}
      data-id={run.id}
      data-name={run.name}
      data-status={run.status}
      tabIndex={0}
      title={`${run.name} (${run.pipeline_name}, experiment ${run.experiment}): open`}
      onClick={open}
      onKeyDown={event => {
        if (event.key === 'Enter') {
          open();
        }
      }}
    >
      <td className="jp-mlops-run-name">
        <span className="jp-mlops-source" data-source={run.source} data-testid="mlops-run-source">
          {SOURCE_WORDS[run.source]}
        </span>{' '}
        {run.name}
      </td>
      <td>
        <span
          className="jp-mlops-health"
          data-health={STATE_HEALTH[run.status]}
          data-testid="mlops-run-status"
        >
          {run.status.toLowerCase()}
        </span>
        {run.tasks_total > 0 && (
          <span className="jp-mlops-muted">
            {' '}
            {run.tasks_done}/{run.tasks_total}
          </span>
        )}
      </td>
      <td>{formatAge(run.created_at, now)}</td>
    </tr>
  );
}
