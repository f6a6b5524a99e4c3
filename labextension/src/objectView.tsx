/** The main-area panel about one object: Describe, YAML and Logs tabs, and its actions. */

import { Dialog, MainAreaWidget, showDialog } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';
import * as React from 'react';

import { findingKey, FindingObject } from './doctor';
import { FindingView } from './doctorView';
import { asText, formatAge, formatTime } from './format';
import { LogPanel } from './logView';
import { createModelPanel, ModelView } from './modelPanel';
import type { Finding, KubeContainer, KubeDescription, KubeRow } from './models.generated';
import { IObjectRef, objectKey, ObjectModel, ObjectTab } from './object';
import { ActionMessage, ReloadButton } from './panelParts';

/** The panel's id: one panel per object, found again by this. */
export function objectPanelId(model: ObjectModel): string {
  return 'jp-mlops-object-' + objectKey(model.ref).replace(/[^a-zA-Z0-9-]/g, '_');
}

/** A main-area panel showing one object; `open` shows another object's panel (a finding's). */
export function createObjectPanel(
  model: ObjectModel,
  open?: (ref: IObjectRef) => void
): MainAreaWidget<ObjectView> {
  return createModelPanel(new ObjectView(model, open), {
    id: objectPanelId(model),
    label: model.ref.name,
    caption: `${model.ref.kind} ${model.ref.namespace}/${model.ref.name}`
  });
}

/** The panel's content: follows the model and renders it. */
export class ObjectView extends ModelView<ObjectModel> {
  constructor(
    model: ObjectModel,
    private readonly _open?: (ref: IObjectRef) => void
  ) {
    super(model);
  }

  protected render(): JSX.Element {
    return (
      <ObjectPanelView
        model={this.model}
        onOpen={this._open}
        onDelete={() => void this._confirmDelete()}
        onScale={() => void this._askReplicas()}
      />
    );
  }

  private async _confirmDelete(): Promise<void> {
    const { name, namespace } = this.model.ref;
    const outcome = await this.model.deleteOutcome();
    const body = document.createElement('div');
    body.dataset.testid = 'mlops-delete-outcome';
    body.dataset.fate = outcome.fate;
    body.textContent = `Delete pod ${name} in namespace ${namespace}? ${outcome.words}`;
    const result = await showDialog({
      title: 'Delete pod?',
      body: new Widget({ node: body }),
      buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Delete' })]
    });
    if (result.button.accept) {
      await this.model.deletePod();
    }
  }

  private async _askReplicas(): Promise<void> {
    const current = Number(this.model.row?.replicas ?? 1);
    const result = await showDialog({
      title: `Scale deployment ${this.model.ref.name}`,
      body: new ReplicasBody(Number.isFinite(current) ? current : 1),
      buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Scale' })]
    });
    const replicas = result.value;
    if (result.button.accept && replicas !== null && Number.isInteger(replicas) && replicas >= 0) {
      await this.model.scale(replicas);
    }
  }
}

/** The scale dialog's body: how many replicas the deployment should run. */
class ReplicasBody extends Widget implements Dialog.IBodyWidget<number> {
  constructor(current: number) {
    super();
    const label = document.createElement('label');
    label.textContent = 'Replicas ';
    this._input = document.createElement('input');
    this._input.type = 'number';
    this._input.min = '0';
    this._input.step = '1';
    this._input.value = String(current);
    this._input.className = 'jp-mod-styled';
    this._input.dataset.testid = 'mlops-scale-input';
    label.appendChild(this._input);
    this.node.appendChild(label);
  }

  getValue(): number {
    return Number(this._input.value);
  }

  private _input: HTMLInputElement;
}

const TAB_WORDS: Record<ObjectTab, string> = {
  describe: 'Describe',
  yaml: 'YAML',
  logs: 'Logs'
};

/** Everything the panel shows, from the model. */
function ObjectPanelView(props: {
  model: ObjectModel;
  onOpen?: (ref: IObjectRef) => void;
  onDelete: () => void;
  onScale: () => void;
}): JSX.Element {
  const { model } = props;
  const { ref } = model;
  const row = model.row;
  const tabs: ObjectTab[] = model.hasLogs ? ['describe', 'yaml', 'logs'] : ['describe', 'yaml'];
  const kindWord = model.description?.kind ?? model.cluster.kindInfo(ref.kind)?.kind ?? ref.kind;
  return (
    <div className="jp-mlops-object-body" data-testid="mlops-object" data-kind={ref.kind}>
      <header className="jp-mlops-object-header">
        <h2 className="jp-mlops-object-title">
          <span className="jp-mlops-muted">{kindWord}</span>{' '}
          <span data-testid="mlops-object-name">{ref.name}</span>
        </h2>
        <span className="jp-mlops-muted">in {ref.namespace}</span>
        {row && !model.gone && (
          <span
            className="jp-mlops-health"
            data-health={row.health}
            data-testid="mlops-object-status"
          >
            {row.status}
          </span>
        )}
        <span className="jp-mlops-spacer" />
        {!model.readOnly && !model.gone && ref.kind === 'pods' && (
          <button
            type="button"
            className="jp-Button jp-mod-styled jp-mod-warn jp-mlops-action"
            data-testid="mlops-action-delete"
            disabled={model.busy}
            onClick={props.onDelete}
          >
            Delete pod
          </button>
        )}
        {!model.readOnly && !model.gone && ref.kind === 'deployments' && (
          <button
            type="button"
            className="jp-Button jp-mod-styled jp-mod-accept jp-mlops-action"
            data-testid="mlops-action-scale"
            disabled={model.busy}
            onClick={props.onScale}
          >
            Scale…
          </button>
        )}
        <ReloadButton
          testId="mlops-object-refresh"
          title="Read the object again"
          loading={model.loading}
          onReload={() => void model.reload()}
        />
      </header>
      {model.gone && (
        <div className="jp-mlops-gone" role="status" data-testid="mlops-object-gone">
          This {kindWord.toLowerCase()} no longer exists: it was deleted.
        </div>
      )}
      <ActionMessage message={model.actionMessage} testId="mlops-action-message" />
      <div className="jp-mlops-object-tabs" role="tablist" aria-label="Views of the object">
        {tabs.map(tab => (
          <button
            key={tab}
            type="button"
            role="tab"
            className="jp-mlops-tab"
            data-testid={`mlops-object-tab-${tab}`}
            aria-selected={model.tab === tab}
            onClick={() => model.setTab(tab)}
          >
            {TAB_WORDS[tab]}
          </button>
        ))}
      </div>
      <div className="jp-mlops-object-content" role="tabpanel">
        {model.tab === 'describe' && <DescribeTab model={model} onOpen={props.onOpen} />}
        {model.tab === 'yaml' && <YamlTab model={model} />}
        {model.tab === 'logs' && model.logs && <LogPanel model={model.logs} />}
      </div>
    </div>
  );
}

function DescribeTab(props: {
  model: ObjectModel;
  onOpen?: (ref: IObjectRef) => void;
}): JSX.Element {
  const { model } = props;
  const description = model.description;
  if (!description) {
    return model.error ? (
      <div className="jp-mlops-error" role="alert" data-testid="mlops-describe-error">
        {model.error.message}
      </div>
    ) : (
      <div className="jp-mlops-loading">Reading the object…</div>
    );
  }
  const now = Date.now();
  return (
    <div className="jp-mlops-describe" data-testid="mlops-describe">
      {model.error && !model.gone && (
        <div className="jp-mlops-error" role="alert" data-testid="mlops-describe-error">
          {model.error.message} Showing what was read before.
        </div>
      )}
      <Diagnosis
        sentences={description.diagnosis}
        findings={description.findings ?? []}
        refOf={object => otherObject(model, object)}
        onOpen={props.onOpen}
      />
      <Facts description={description} now={now} />
      {description.conditions.length > 0 && (
        <section data-testid="mlops-conditions">
          <h3>Conditions</h3>
          <table className="jp-mlops-table">
            <thead>
              <tr>
                <th scope="col">Type</th>
                <th scope="col">Status</th>
                <th scope="col">Reason</th>
                <th scope="col">Message</th>
                <th scope="col">Since</th>
              </tr>
            </thead>
            <tbody>
              {description.conditions.map(c => (
                <tr key={c.type ?? ''} data-status={c.status}>
                  <td>{c.type}</td>
                  <td>{c.status}</td>
                  <td>{c.reason}</td>
                  <td>{c.message}</td>
                  <td>{c.last_transition ? formatAge(c.last_transition, now) : ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
      {description.containers.length > 0 && (
        <section data-testid="mlops-containers">
          <h3>Containers</h3>
          {description.containers.map(c => (
            <Container key={`${c.init}-${c.name}`} container={c} now={now} />
          ))}
        </section>
      )}
      <section data-testid="mlops-events">
        <h3>Events</h3>
        {description.events.length === 0 ? (
          <div className="jp-mlops-muted">No events about this object.</div>
        ) : (
          <EventsTable events={description.events} now={now} />
        )}
      </section>
      <KeyValues title="Labels" values={description.labels} testId="mlops-labels" />
      <KeyValues title="Annotations" values={description.annotations} testId="mlops-annotations" />
    </div>
  );
}

/** The panel of a finding's object, unless it is this panel's own object. */
function otherObject(model: ObjectModel, object: FindingObject): IObjectRef | null {
  const info = model.cluster.kindInfo(object.kind);
  if (!info || (info.plural === model.ref.kind && object.name === model.ref.name)) {
    return null;
  }
  return { kind: info.plural, name: object.name, namespace: model.ref.namespace };
}

/**
 * What is wrong, shown first, where the eye lands: the Doctor's findings with their evidence
 * and fix, as the sidebar shows them; the sentences alone from a server without findings.
 */
function Diagnosis(props: {
  sentences: string[];
  findings: Finding[];
  refOf: (object: FindingObject) => IObjectRef | null;
  onOpen?: (ref: IObjectRef) => void;
}): JSX.Element | null {
  if (props.findings.length > 0) {
    return (
      <section className="jp-mlops-diagnosis" role="alert" data-testid="mlops-diagnosis">
        <h3>What is wrong</h3>
        {props.findings.map(finding => (
          <div key={findingKey(finding)} data-testid="mlops-diagnosis-item">
            <FindingView finding={finding} refOf={props.refOf} onOpen={props.onOpen} evidenceOpen />
          </div>
        ))}
      </section>
    );
  }
  if (props.sentences.length === 0) {
    return null;
  }
  return (
    <section className="jp-mlops-diagnosis" role="alert" data-testid="mlops-diagnosis">
      <h3>What is wrong</h3>
      <ul>
        {props.sentences.map(sentence => (
          <li key={sentence} data-testid="mlops-diagnosis-item">
            {sentence}
          </li>
        ))}
      </ul>
    </section>
  );
}

function Facts(props: { description: KubeDescription; now: number }): JSX.Element {
  const { description, now } = props;
  const row = description.row;
  return (
    <dl className="jp-mlops-facts" data-testid="mlops-facts">
      <dt>Status</dt>
      <dd>
        <span className="jp-mlops-health" data-health={row.health}>
          {row.status}
        </span>
      </dd>
      {typeof row.ready === 'string' && (
        <>
          <dt>Ready</dt>
          <dd>{row.ready}</dd>
        </>
      )}
      {typeof row.node === 'string' && row.node && (
        <>
          <dt>Node</dt>
          <dd>{row.node}</dd>
        </>
      )}
      <dt>Created</dt>
      <dd>{formatTime(description.created, now)}</dd>
      {description.owners.length > 0 && (
        <>
          <dt>Owned by</dt>
          <dd>{description.owners.join(', ')}</dd>
        </>
      )}
    </dl>
  );
}

function Container(props: { container: KubeContainer; now: number }): JSX.Element {
  const { container: c, now } = props;
  const last = c.last_termination;
  const resources = (values: Record<string, string>): string =>
    Object.entries(values)
      .map(([key, value]) => `${key} ${value}`)
      .join(', ');
  return (
    <div className="jp-mlops-container" data-testid="mlops-container" data-name={c.name}>
      <div className="jp-mlops-container-title">
        <strong>{c.name}</strong>
        {c.init && <span className="jp-mlops-muted"> (init)</span>}{' '}
        <span
          className="jp-mlops-health"
          data-health={
            c.state === 'running'
              ? c.ready
                ? 'ok'
                : 'progress'
              : c.state === 'terminated'
                ? 'done'
                : 'warning'
          }
          data-testid="mlops-container-state"
        >
          {c.state}
          {c.reason ? `: ${c.reason}` : ''}
        </span>
      </div>
      <dl className="jp-mlops-facts">
        <dt>Image</dt>
        <dd>{c.image}</dd>
        {c.message && (
          <>
            <dt>Message</dt>
            <dd>{c.message}</dd>
          </>
        )}
        {c.started && (
          <>
            <dt>Started</dt>
            <dd>{formatTime(c.started, now)}</dd>
          </>
        )}
        <dt>Ready</dt>
        <dd>{c.ready ? 'yes' : 'no'}</dd>
        <dt>Restarts</dt>
        <dd data-testid="mlops-container-restarts">{c.restarts}</dd>
        {last && (
          <>
            <dt>Last ended</dt>
            <dd data-testid="mlops-container-last-termination">
              {last.reason ?? 'terminated'}, exit code {last.exit_code ?? '?'}
              {last.finished ? `, ${formatTime(last.finished, now)}` : ''}
              {last.message ? `: ${last.message}` : ''}
            </dd>
          </>
        )}
        {Object.keys(c.requests).length > 0 && (
          <>
            <dt>Requests</dt>
            <dd>{resources(c.requests)}</dd>
          </>
        )}
        {Object.keys(c.limits).length > 0 && (
          <>
            <dt>Limits</dt>
            <dd>{resources(c.limits)}</dd>
          </>
        )}
      </dl>
    </div>
  );
}

function EventsTable(props: { events: KubeRow[]; now: number }): JSX.Element {
  const { events, now } = props;
  return (
    <table className="jp-mlops-table">
      <thead>
        <tr>
          <th scope="col">Type</th>
          <th scope="col">Reason</th>
          <th scope="col">Message</th>
          <th scope="col">Count</th>
          <th scope="col">Last seen</th>
        </tr>
      </thead>
      <tbody>
        {events.map(event => (
          <tr key={event.uid} data-testid="mlops-event" data-type={asText(event.type)}>
            <td>
              <span
                className="jp-mlops-health"
                data-health={event.type === 'Warning' ? 'warning' : 'ok'}
              >
                {asText(event.type)}
              </span>
            </td>
            <td>{asText(event.reason)}</td>
            <td>{asText(event.message)}</td>
            <td>{asText(event.count ?? 1)}</td>
            <td>
              {typeof event.time === 'string'
                ? formatAge(event.time, now)
                : asText(event.last_seen)}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function KeyValues(props: {
  title: string;
  values: Record<string, string>;
  testId: string;
}): JSX.Element | null {
  const entries = Object.entries(props.values);
  if (entries.length === 0) {
    return null;
  }
  return (
    <section data-testid={props.testId}>
      <h3>{props.title}</h3>
      <ul className="jp-mlops-labels">
        {entries.map(([key, value]) => (
          <li key={key}>
            <code>
              {key}={value}
            </code>
          </li>
        ))}
      </ul>
    </section>
  );
}

function YamlTab(props: { model: ObjectModel }): JSX.Element {
  const { model } = props;
  if (model.yamlError) {
    return (
      <div className="jp-mlops-error" role="alert" data-testid="mlops-yaml-error">
        {model.yamlError.message}
      </div>
    );
  }
  if (model.yaml === null) {
    return <div className="jp-mlops-loading">Reading the YAML…</div>;
  }
  return (
    <pre className="jp-mlops-yaml" data-testid="mlops-yaml" aria-readonly="true" tabIndex={0}>
      {model.yaml}
    </pre>
  );
}
