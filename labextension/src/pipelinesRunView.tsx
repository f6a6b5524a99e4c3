/** The main-area panel about one pipeline run: tasks with states, a task's log, actions. */

import { Dialog, MainAreaWidget, showDialog } from '@jupyterlab/apputils';
import * as React from 'react';

import type { PipelineMlflowRun, PipelineRunDetail, PipelineTask } from './models.generated';
import { findingKey } from './doctor';
import { FindingView } from './doctorView';
import { formatTime } from './format';
import { BOX_HEIGHT, BOX_WIDTH, edgePath, layoutGraph, shortName } from './graphLayout';
import { createModelPanel, ModelView } from './modelPanel';
import { ActionMessage, ReloadButton } from './panelParts';
import { runKey, SOURCE_WORDS, STATE_HEALTH } from './pipelines';
import { ICommandRunner, OPEN_MLFLOW_RUNS, PipelineRunModel } from './pipelinesRun';
import { ValueView } from './valueView';

/** The panel's id: one panel per run, found again by this. */
export function pipelineRunPanelId(model: PipelineRunModel): string {
  return 'jp-mlops-run-' + runKey(model.ref).replace(/[^a-zA-Z0-9-]/g, '_');
}

/** A main-area panel showing one run; with `commands`, its MLflow runs open from it. */
export function createPipelineRunPanel(
  model: PipelineRunModel,
  commands: ICommandRunner | null = null
): MainAreaWidget<PipelineRunView> {
  return createModelPanel(new PipelineRunView(model, commands), {
    id: pipelineRunPanelId(model),
    label: model.ref.name || model.ref.id,
    caption: `Pipeline run ${model.ref.name} (${SOURCE_WORDS[model.ref.source]})`
  });
}

/** The panel's content: follows the model and renders it. */
export class PipelineRunView extends ModelView<PipelineRunModel> {
  constructor(
    model: PipelineRunModel,
    readonly commands: ICommandRunner | null = null
  ) {
    super(model);
  }

  protected render(): JSX.Element {
    return (
      <RunPanel
        model={this.model}
        onOpenMlflow={this.commands ? this._openMlflow : null}
        onTerminate={() => void this._confirm('terminate')}
        onRetry={() => void this._confirm('retry')}
      />
    );
  }

  private async _confirm(action: 'terminate' | 'retry'): Promise<void> {
    const { name } = this.model.ref;
    const where = this.model.ref.source === 'local' ? 'on this machine' : 'on the cluster';
    const result = await showDialog({
      title: action === 'terminate' ? 'Stop the run?' : 'Run it again?',
      body:
        action === 'terminate'
          ? `Stop run ${name} ${where}? Tasks that are running are stopped; it cannot be resumed.`
          : `Run ${name} again ${where}, with the same parameters?`,
      buttons: [
        Dialog.cancelButton(),
        action === 'terminate'
          ? Dialog.warnButton({ label: 'Stop run' })
          : Dialog.okButton({ label: 'Run again' })
      ]
    });
    if (!result.button.accept) {
      return;
    }
    if (action === 'terminate') {
      await this.model.terminate();
    } else {
      await this.model.retry();
    }
  }

  /** Open MLflow runs in their panel, compared when several. */
  private _openMlflow = (links: PipelineMlflowRun[]): void => {
    void this.commands?.execute(OPEN_MLFLOW_RUNS, {
      ids: links.map(link => link.mlflow_run_id),
      names: links.map(link => link.name)
    });
  };
}

/** Opens MLflow runs; null when the panel has no way to run commands. */
type OpenMlflow = ((links: PipelineMlflowRun[]) => void) | null;

function RunPanel(props: {
  model: PipelineRunModel;
  onOpenMlflow: OpenMlflow;
  onTerminate: () => void;
  onRetry: () => void;
}): JSX.Element {
  const { model } = props;
  const run = model.run;
  return (
    <div
      className="jp-mlops-object-body jp-mlops-run-panel"
      data-testid="mlops-pipeline-run"
      data-source={model.ref.source}
      data-id={model.ref.id}
    >
      <header className="jp-mlops-object-header">
        <h2 className="jp-mlops-object-title">
          <span className="jp-mlops-muted">Run</span>{' '}
          <span data-testid="mlops-pipeline-run-name">{run?.name ?? model.ref.name}</span>
        </h2>
        <span className="jp-mlops-source" data-source={model.ref.source}>
          {SOURCE_WORDS[model.ref.source]}
        </span>
        {run && (
          <span
            className="jp-mlops-health"
            data-health={STATE_HEALTH[run.status]}
            data-testid="mlops-pipeline-run-status"
          >
            {run.status.toLowerCase()}
          </span>
        )}
        <span className="jp-mlops-spacer" />
        {run?.links.dashboard && (
          <a
            className="jp-mlops-link"
            data-testid="mlops-pipeline-run-dashboard"
            href={run.links.dashboard}
            target="_blank"
            rel="noopener noreferrer"
          >
            Open in the Kubeflow dashboard
          </a>
        )}
        {run?.links.mlflow && (
          <a
            className="jp-mlops-link"
            data-testid="mlops-pipeline-run-mlflow"
            href={run.links.mlflow}
            target="_blank"
            rel="noopener noreferrer"
            title="The MLflow run Kubeflow Pipelines made for this run"
          >
            Open in MLflow
          </a>
        )}
        {run && !model.readOnly && !model.finished && (
          <button
            type="button"
            className="jp-Button jp-mod-styled jp-mod-warn jp-mlops-action"
            data-testid="mlops-pipeline-run-terminate"
            disabled={model.busy}
            onClick={props.onTerminate}
          >
            Stop run
          </button>
        )}
        {run && !model.readOnly && model.finished && (
          <button
            type="button"
            className="jp-Button jp-mod-styled jp-mod-accept jp-mlops-action"
            data-testid="mlops-pipeline-run-retry"
            disabled={model.busy}
            onClick={props.onRetry}
          >
            Run again
          </button>
        )}
        <ReloadButton
          testId="mlops-pipeline-run-refresh"
          title="Read the run again"
          loading={model.loading}
          onReload={() => void model.reload()}
        />
      </header>
      <ActionMessage message={model.actionMessage} testId="mlops-pipeline-run-message" />
      {model.error && (
        <div className="jp-mlops-error" role="alert" data-testid="mlops-pipeline-run-error">
          {model.error.message}
          {run ? ' Showing what was read before.' : ''}
        </div>
      )}
      {!run && !model.error && <div className="jp-mlops-loading">Reading the run…</div>}
      {run && <RunBody model={model} run={run} onOpenMlflow={props.onOpenMlflow} />}
    </div>
  );
}

function RunBody(props: {
  model: PipelineRunModel;
  run: PipelineRunDetail;
  onOpenMlflow: OpenMlflow;
}): JSX.Element {
  const { model, run } = props;
  const now = Date.now();
  const task = model.task;
  return (
    <div className="jp-mlops-object-content">
      {run.error && (
        <section className="jp-mlops-diagnosis" role="alert" data-testid="mlops-pipeline-run-why">
          <h3>What went wrong</h3>
          <pre className="jp-mlops-run-error">{run.error}</pre>
        </section>
      )}
      <dl className="jp-mlops-facts" data-testid="mlops-pipeline-run-facts">
        <dt>Pipeline</dt>
        <dd>{run.pipeline_name}</dd>
        <dt>Experiment</dt>
        <dd>{run.experiment}</dd>
        <dt>Created</dt>
        <dd>{formatTime(run.created_at, now)}</dd>
        {run.started_at && (
          <>
            <dt>Started</dt>
            <dd>{formatTime(run.started_at, now)}</dd>
          </>
        )}
        {run.finished_at && (
          <>
            <dt>Finished</dt>
            <dd>{formatTime(run.finished_at, now)}</dd>
          </>
        )}
        {run.retry_of && (
          <>
            <dt>Retry of</dt>
            <dd>{run.retry_of}</dd>
          </>
        )}
        <dt>Run id</dt>
        <dd>{run.id}</dd>
      </dl>
      <MlflowBlock model={model} onOpen={props.onOpenMlflow} />
      <div className="jp-mlops-run-columns">
        <section className="jp-mlops-run-tasks" aria-label="Tasks">
          <h3>
            Tasks{' '}
            <span className="jp-mlops-muted">
              {run.tasks_done}/{run.tasks_total} done
            </span>
          </h3>
          {run.tasks.length === 0 ? (
            <div className="jp-mlops-muted">No task has started yet.</div>
          ) : (
            <>
              <TaskGraph tasks={run.tasks} selected={task?.id ?? null} model={model} />
              <TaskList tasks={run.tasks} selected={task?.id ?? null} model={model} />
            </>
          )}
        </section>
        <section className="jp-mlops-run-task" aria-label="The chosen task">
          {task ? <TaskDetail model={model} task={task} /> : null}
        </section>
      </div>
      <Values title="Parameters" values={run.parameters} testId="mlops-pipeline-run-parameters" />
      <Values title="Outputs" values={run.outputs} testId="mlops-pipeline-run-outputs" />
    </div>
  );
}

/**
 * The tasks as a graph: one row per layer (the longest path from a task that depends on none),
 * each box coloured by its state, an arrow from every task it depends on.
 */
function TaskGraph(props: {
  tasks: PipelineTask[];
  selected: string | null;
  model: PipelineRunModel;
}): JSX.Element {
  const { tasks, model } = props;
  const layout = layoutGraph(tasks);
  const { width, height, places } = layout;
  const arrowId = `jp-mlops-arrow-${model.ref.source}-${model.ref.id}`.replace(/[^\w-]/g, '_');
  return (
    <svg
      className="jp-mlops-graph"
      data-testid="mlops-pipeline-run-graph"
      role="group"
      aria-label="Tasks and the tasks they depend on"
      width={width}
      height={height}
      viewBox={`0 0 ${width} ${height}`}
    >
      <defs>
        <marker
          id={arrowId}
          viewBox="0 0 10 10"
          refX="10"
          refY="5"
          markerWidth="7"
          markerHeight="7"
          orient="auto-start-reverse"
        >
          <path d="M 0 0 L 10 5 L 0 10 z" className="jp-mlops-graph-arrowhead" />
        </marker>
      </defs>
      {layout.edges.map(edge => (
        <path
          key={`${edge.from}-${edge.to}`}
          className="jp-mlops-graph-edge"
          d={edgePath(layout, edge)}
          markerEnd={`url(#${arrowId})`}
        />
      ))}
      {tasks.map((task, index) => (
        <g
          key={task.id}
          className="jp-mlops-graph-task"
          data-testid="mlops-pipeline-graph-task"
          data-task={task.name}
          data-state={task.state}
          data-health={STATE_HEALTH[task.state]}
          aria-pressed={task.id === props.selected}
          role="button"
          tabIndex={0}
          transform={`translate(${places[index].x} ${places[index].y})`}
          onClick={() => model.selectTask(task.id)}
          onKeyDown={event => {
            if (event.key === 'Enter' || event.key === ' ') {
              event.preventDefault();
              model.selectTask(task.id);
            }
          }}
        >
          <title>{`${task.name}: ${task.state.toLowerCase()}`}</title>
          <rect width={BOX_WIDTH} height={BOX_HEIGHT} rx={4} />
          <text x={8} y={15} className="jp-mlops-graph-name">
            {shortName(task.name)}
          </text>
          <text x={8} y={29} className="jp-mlops-graph-state">
            {task.state.toLowerCase()}
          </text>
        </g>
      ))}
    </svg>
  );
}

/** The tasks in the order they ran, each a box coloured by its state: the log, inputs, outputs. */
function TaskList(props: {
  tasks: PipelineTask[];
  selected: string | null;
  model: PipelineRunModel;
}): JSX.Element {
  return (
    <ol className="jp-mlops-tasks" data-testid="mlops-pipeline-tasks">
      {props.tasks.map(task => (
        <li key={task.id}>
          <button
            type="button"
            className="jp-mlops-task"
            data-testid="mlops-pipeline-task"
            data-task={task.id}
            data-name={task.name}
            data-state={task.state}
            data-health={STATE_HEALTH[task.state]}
            aria-pressed={task.id === props.selected}
            onClick={() => props.model.selectTask(task.id)}
          >
            <span className="jp-mlops-task-name">{task.name}</span>
            <span className="jp-mlops-task-state" data-testid="mlops-pipeline-task-state">
              {task.state.toLowerCase()}
            </span>
          </button>
        </li>
      ))}
    </ol>
  );
}

function TaskDetail(props: { model: PipelineRunModel; task: PipelineTask }): JSX.Element {
  const { model, task } = props;
  const now = Date.now();
  return (
    <div data-testid="mlops-pipeline-task-detail" data-task={task.id}>
      <h3>
        {task.name}{' '}
        <span className="jp-mlops-health" data-health={STATE_HEALTH[task.state]}>
          {task.state.toLowerCase()}
        </span>
      </h3>
      <dl className="jp-mlops-facts">
        {task.started_at && (
          <>
            <dt>Started</dt>
            <dd>{formatTime(task.started_at, now)}</dd>
          </>
        )}
        {task.finished_at && (
          <>
            <dt>Finished</dt>
            <dd>{formatTime(task.finished_at, now)}</dd>
          </>
        )}
        {task.pod && (
          <>
            <dt>Pod</dt>
            <dd>{task.pod}</dd>
          </>
        )}
      </dl>
      <TaskFindings model={model} task={task} />
      <Values title="Inputs" values={task.inputs} testId="mlops-pipeline-task-inputs" />
      <Values title="Outputs" values={task.outputs} testId="mlops-pipeline-task-outputs" />
      <h4>Log</h4>
      {model.logError ? (
        <div className="jp-mlops-error" role="alert" data-testid="mlops-pipeline-task-log-error">
          {model.logError.message}
        </div>
      ) : model.log === null ? (
        <div className="jp-mlops-loading">Reading the log…</div>
      ) : (
        <pre className="jp-mlops-task-log" data-testid="mlops-pipeline-task-log" tabIndex={0}>
          {model.log || '(nothing printed)'}
        </pre>
      )}
    </div>
  );
}

/**
 * What the Doctor says about a failed cluster task: its pod's finding, the same as the
 * sidebar's, or that the pod is gone, with the task's last known state.
 */
function TaskFindings(props: { model: PipelineRunModel; task: PipelineTask }): JSX.Element | null {
  const { model, task } = props;
  const error = model.taskFindingsError;
  const findings = model.taskFindings;
  if (error) {
    return (
      <div
        className="jp-mlops-muted"
        role="status"
        data-testid="mlops-pipeline-task-findings-error"
      >
        Cannot ask the cluster why task {task.name} failed: {error.message}
      </div>
    );
  }
  if (!findings || findings.length === 0) {
    return null;
  }
  return (
    <section className="jp-mlops-diagnosis" role="alert" data-testid="mlops-pipeline-task-findings">
      <h4>What is wrong</h4>
      {findings.map(finding => (
        <FindingView key={findingKey(finding)} finding={finding} evidenceOpen />
      ))}
    </section>
  );
}

/**
 * The MLflow runs recorded for the run: its own, then one per task, each opening the MLflow
 * panel; the task runs can be opened together to compare them.
 */
function MlflowBlock(props: { model: PipelineRunModel; onOpen: OpenMlflow }): JSX.Element | null {
  const { model, onOpen } = props;
  const error = model.mlflowError;
  const links = model.mlflowLinks;
  if (error === null && links === null) {
    return null;
  }
  const tasks = (links ?? []).filter(link => link.task !== null);
  return (
    <section className="jp-mlops-run-mlflow" data-testid="mlops-pipeline-run-mlflow">
      <h3>MLflow</h3>
      {error !== null && (
        <div className="jp-mlops-error" role="alert" data-testid="mlops-pipeline-run-mlflow-error">
          Cannot tell which MLflow runs belong to this run: {error}
        </div>
      )}
      {links !== null && links.length === 0 && (
        <div className="jp-mlops-muted" data-testid="mlops-pipeline-run-mlflow-none">
          Not recorded in MLflow: a run is recorded there once it has finished.
        </div>
      )}
      {links !== null && links.length > 0 && (
        <ul className="jp-mlops-mlflow-links">
          {links.map(link => (
            <li key={link.mlflow_run_id}>
              <span className="jp-mlops-muted">{link.task === null ? 'Run' : 'Task'}</span>{' '}
              {onOpen ? (
                <button
                  type="button"
                  className="jp-mlops-link-button"
                  data-testid="mlops-pipeline-run-mlflow-link"
                  data-mlflow-run={link.mlflow_run_id}
                  data-task={link.task ?? ''}
                  title={`Open MLflow run ${link.name}`}
                  onClick={() => onOpen([link])}
                >
                  {link.name}
                </button>
              ) : (
                <span>{link.name}</span>
              )}{' '}
              <span className="jp-mlops-muted">{link.status.toLowerCase()}</span>
            </li>
          ))}
        </ul>
      )}
      {onOpen && tasks.length > 1 && (
        <button
          type="button"
          className="jp-Button jp-mod-styled jp-mlops-action"
          data-testid="mlops-pipeline-run-mlflow-compare"
          onClick={() => onOpen(tasks)}
        >
          Compare tasks in MLflow
        </button>
      )}
    </section>
  );
}

/** Names and values (parameters, outputs); long values summarised, expandable. */
function Values(props: {
  title: string;
  values: Record<string, unknown>;
  testId: string;
}): JSX.Element | null {
  const entries = Object.entries(props.values);
  if (entries.length === 0) {
    return null;
  }
  return (
    <section data-testid={props.testId}>
      <h4>{props.title}</h4>
      <table className="jp-mlops-table">
        <tbody>
          {entries.map(([name, value]) => (
            <tr key={name} data-name={name}>
              <th scope="row">{name}</th>
              <td>
                <ValueView value={value} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
