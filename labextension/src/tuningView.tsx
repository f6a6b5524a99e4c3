/** The Tuning section: local searches and Katib Experiments; one opened shows its best trial,
 * its two charts and its trials, and Stop (asked first; hidden when read-only). */

import { Dialog, showDialog } from '@jupyterlab/apputils';
import { refreshIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import type { ISectionBody } from './sidebar';
import {
  canStop,
  durationWords,
  IOpenTuning,
  ITrialSort,
  metricWords,
  parameterWords,
  sortTrials,
  TuningModel
} from './tuning';
import type { TuningDetail, TuningSummary } from './models.generated';

/** The sidebar's Tuning section, following its model. */
export class TuningSection implements ISectionBody {
  constructor(readonly model: TuningModel) {}

  get changed() {
    return this.model.changed;
  }

  setVisible(visible: boolean): void {
    this.model.visible = visible;
  }

  render(): JSX.Element | null {
    return <TuningView model={this.model} />;
  }
}

/** Ask before stopping a search; stop it when the user agrees. */
async function confirmStop(model: TuningModel, open: IOpenTuning): Promise<void> {
  const where =
    open.where === 'local' ? 'on this machine' : `Katib Experiment in ${open.detail?.namespace}`;
  const result = await showDialog({
    title: 'Stop the search?',
    body:
      `Stop ${open.name} (${where})? No new trials start and the running ones end; ` +
      'the trials that ended are kept, with the best so far.',
    buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Stop search' })]
  });
  if (result.button.accept) {
    await model.stop();
  }
}

/** Every search, each with its progress and best value; the trials of the one opened. */
export function TuningView(props: { model: TuningModel }): JSX.Element | null {
  const { model } = props;
  if (!model.configured) {
    return null;
  }
  const searches = model.searches;
  return (
    <section
      className="jp-mlops-section jp-mlops-tuning"
      data-testid="mlops-section-tuning"
      aria-labelledby="jp-mlops-heading-tuning"
      aria-busy={model.loading}
    >
      <h3 className="jp-mlops-section-title jp-mlops-tuning-title" id="jp-mlops-heading-tuning">
        Tuning
        <button
          type="button"
          className="jp-Button jp-mod-minimal jp-mlops-refresh"
          data-testid="mlops-tuning-refresh"
          title="Read the searches again"
          aria-label="Reload the searches"
          onClick={() => model.refresh()}
        >
          <refreshIcon.react tag="span" />
        </button>
      </h3>
      {model.error && (
        <div className="jp-mlops-error" role="alert" data-testid="mlops-tuning-error">
          {model.error.message}
        </div>
      )}
      {Object.entries(model.sourceErrors).map(([source, message]) => (
        <p
          key={source}
          className="jp-mlops-muted"
          data-testid="mlops-tuning-source-error"
          data-source={source}
        >
          {message}
        </p>
      ))}
      {model.loaded && searches.length === 0 && !model.error && (
        <div className="jp-mlops-empty" data-testid="mlops-tuning-empty">
          No searches yet. Start one with %katib tune COMPONENT --param … --objective ….
        </div>
      )}
      <ul className="jp-mlops-tunings">
        {searches.map(search => {
          const open = model.opened;
          const isOpen = open?.name === search.name && open.where === search.where;
          return (
            <TuningCard
              key={`${search.where}/${search.name}`}
              model={model}
              search={search}
              open={isOpen ? open : null}
            />
          );
        })}
      </ul>
    </section>
  );
}

/** One search: its state, where it runs, how far it got and the best value so far. */
function TuningCard(props: {
  model: TuningModel;
  search: TuningSummary;
  open: IOpenTuning | null;
}): JSX.Element {
  const { model, search, open } = props;
  const health =
    search.state === 'Failed' ? 'error' : search.state === 'Succeeded' ? 'done' : 'progress';
  return (
    <li
      className="jp-mlops-tuning-card"
      data-testid="mlops-tuning"
      data-name={search.name}
      data-where={search.where}
      data-state={search.state}
    >
      <button
        type="button"
        className="jp-mlops-tuning-head"
        data-testid="mlops-tuning-open"
        aria-expanded={open !== null}
        onClick={() => void model.toggle(search)}
      >
        <strong className="jp-mlops-tuning-name">{search.name}</strong>
        <span className="jp-mlops-health" data-health={health} data-testid="mlops-tuning-state">
          {search.stopped ? `${search.state} (stopped)` : search.state}
        </span>
        <span className="jp-mlops-muted" data-testid="mlops-tuning-where">
          {search.where === 'cluster' ? 'Katib' : 'local'}
        </span>
      </button>
      <dl className="jp-mlops-facts jp-mlops-tuning-facts">
        <dt>Objective</dt>
        <dd data-testid="mlops-tuning-objective">
          {search.metric} ({search.direction})
        </dd>
        <dt>Algorithm</dt>
        <dd data-testid="mlops-tuning-algorithm">{search.algorithm}</dd>
        <dt>Trials</dt>
        <dd data-testid="mlops-tuning-progress">
          {search.trials_done}/{search.trials_total} ended
        </dd>
        <dt>Best</dt>
        <dd data-testid="mlops-tuning-best-value">
          {search.best ? `${metricWords(search.best.value)} (${search.best.trial})` : '—'}
        </dd>
      </dl>
      {open && <TuningPanel model={model} open={open} />}
    </li>
  );
}

/** The opened search: the best trial, Stop, the charts and the trials table. */
function TuningPanel(props: { model: TuningModel; open: IOpenTuning }): JSX.Element {
  const { model, open } = props;
  const detail = open.detail;
  return (
    <div className="jp-mlops-tuning-panel" data-testid="mlops-tuning-panel">
      {open.error && (
        <div className="jp-mlops-error" role="alert" data-testid="mlops-tuning-detail-error">
          {open.error.message}
        </div>
      )}
      {!detail && !open.error && <div className="jp-mlops-loading">Reading the trials…</div>}
      {detail && (
        <>
          {detail.message && (
            <p className="jp-mlops-muted" data-testid="mlops-tuning-message">
              {detail.message}
            </p>
          )}
          <BestTrial detail={detail} />
          {!model.readOnly && canStop(detail) && (
            <button
              type="button"
              className="jp-Button jp-mod-styled jp-mod-warn jp-mlops-tuning-stop"
              data-testid="mlops-tuning-stop"
              disabled={open.stopping}
              onClick={() => void confirmStop(model, open)}
            >
              {open.stopping ? 'Stopping…' : 'Stop'}
            </button>
          )}
          {open.stopError && (
            <div className="jp-mlops-error" role="alert" data-testid="mlops-tuning-stop-error">
              {open.stopError}
            </div>
          )}
          <Chart
            testId="mlops-tuning-chart-metric"
            svg={detail.charts.metric_by_trial}
            label={`${detail.metric} by trial`}
          />
          <Chart
            testId="mlops-tuning-chart-parallel"
            svg={detail.charts.parallel_coordinates}
            label={`parameters and ${detail.metric}`}
          />
          <TrialsTable detail={detail} sort={model.sort} onSort={by => model.sortBy(by)} />
        </>
      )}
    </div>
  );
}

/** The best trial so far and its parameters, ready to pass to the component. */
function BestTrial(props: { detail: TuningDetail }): JSX.Element {
  const best = props.detail.best;
  if (!best) {
    return (
      <p className="jp-mlops-muted" data-testid="mlops-tuning-best">
        No trial has reported {props.detail.metric} yet.
      </p>
    );
  }
  return (
    <div className="jp-mlops-tuning-best" data-testid="mlops-tuning-best" data-trial={best.trial}>
      <div>
        Best: <strong>{metricWords(best.value)}</strong>{' '}
        <span className="jp-mlops-muted">{best.trial}</span>
      </div>
      <ul className="jp-mlops-tuning-params">
        {Object.entries(best.parameters).map(([name, value]) => (
          <li key={name} data-testid="mlops-tuning-best-param" data-name={name}>
            {name}={parameterWords(value)}
          </li>
        ))}
      </ul>
    </div>
  );
}

/** A chart the server drew (its text escaped there), shown as an image at the sidebar's width. */
function Chart(props: { testId: string; svg: string; label: string }): JSX.Element {
  const source = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(props.svg)}`;
  return (
    <figure className="jp-mlops-tuning-chart" data-testid={props.testId}>
      <img src={source} alt={props.label} />
    </figure>
  );
}

/** The trials: parameters, the objective, state and duration; sorted by a column's header.
 * Two columns, the parameters under the trial's name: it fits a sidebar whatever their number. */
function TrialsTable(props: {
  detail: TuningDetail;
  sort: ITrialSort;
  onSort: (by: ITrialSort['by']) => void;
}): JSX.Element {
  const { detail, sort, onSort } = props;
  const trials = sortTrials(detail.trials, sort);
  const bestName = detail.best?.trial ?? null;
  const arrow = (by: ITrialSort['by']): string =>
    sort.by === by ? (sort.descending ? ' ▼' : ' ▲') : '';
  const ariaSort = (by: ITrialSort['by']): 'ascending' | 'descending' | 'none' =>
    sort.by === by ? (sort.descending ? 'descending' : 'ascending') : 'none';
  return (
    <table className="jp-mlops-tuning-trials" data-testid="mlops-tuning-trials">
      <thead>
        <tr>
          <th aria-sort={ariaSort('trial')}>
            <button
              type="button"
              className="jp-mlops-tuning-sort"
              data-testid="mlops-tuning-sort-trial"
              onClick={() => onSort('trial')}
            >
              Trial{arrow('trial')}
            </button>
          </th>
          <th aria-sort={ariaSort('metric')}>
            <button
              type="button"
              className="jp-mlops-tuning-sort"
              data-testid="mlops-tuning-sort-metric"
              title={`Sort by ${detail.metric}`}
              onClick={() => onSort('metric')}
            >
              {detail.metric}
              {arrow('metric')}
            </button>
          </th>
        </tr>
      </thead>
      <tbody>
        {trials.map(trial => (
          <tr
            key={trial.name}
            data-testid="mlops-tuning-trial"
            data-name={trial.name}
            data-state={trial.state}
            data-best={trial.name === bestName}
            className={trial.name === bestName ? 'jp-mlops-tuning-best-row' : undefined}
            title={trial.message || undefined}
          >
            <td>
              <span className="jp-mlops-tuning-trial-name">{trial.name}</span>
              <span className="jp-mlops-tuning-trial-state" data-testid="mlops-tuning-trial-state">
                {trial.state}
                {trial.seconds !== null && ` · ${durationWords(trial.seconds)}`}
              </span>
              <ul className="jp-mlops-tuning-params" data-testid="mlops-tuning-trial-params">
                {Object.entries(trial.parameters).map(([name, value]) => (
                  <li key={name}>
                    {name}={parameterWords(value)}
                  </li>
                ))}
              </ul>
            </td>
            <td data-testid="mlops-tuning-trial-metric">{metricWords(trial.objective)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
