/** The Serving section: served models with their state, a "Try it" panel, and the serve form. */

import { refreshIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import { FindingView } from './doctorView';
import { asApiError } from './pipelines';
import {
  aliasMoved,
  canaryWords,
  defaultServiceName,
  isNumeric,
  ITryIt,
  modelVersionUrl,
  serveAndNotify,
  ServingModel
} from './serving';
import type { ServeAnswer, ServeRequest, ServingService } from './models.generated';
import type { ISectionBody } from './sidebar';

/** The sidebar's Serving section, following its model. */
export class ServingSection implements ISectionBody {
  constructor(readonly model: ServingModel) {}

  get changed() {
    return this.model.changed;
  }

  setVisible(visible: boolean): void {
    this.model.visible = visible;
  }

  render(): JSX.Element | null {
    return <ServingView model={this.model} />;
  }
}

/** Every served model, each with its state; the "Try it" panel under the one opened. */
export function ServingView(props: { model: ServingModel }): JSX.Element | null {
  const { model } = props;
  if (!model.configured) {
    return null;
  }
  const services = model.services;
  return (
    <section
      className="jp-mlops-section jp-mlops-serving"
      data-testid="mlops-section-serving"
      aria-labelledby="jp-mlops-heading-serving"
      aria-busy={model.loading}
    >
      <h3 className="jp-mlops-section-title jp-mlops-serving-title" id="jp-mlops-heading-serving">
        Serving
        <button
          type="button"
          className="jp-Button jp-mod-minimal jp-mlops-refresh"
          data-testid="mlops-serving-refresh"
          title="Read the served models again"
          aria-label="Reload the served models"
          onClick={() => model.refresh()}
        >
          <refreshIcon.react tag="span" />
        </button>
      </h3>
      {model.error && (
        <div className="jp-mlops-error" role="alert" data-testid="mlops-serving-error">
          {model.error.message}
        </div>
      )}
      {Object.entries(model.sourceErrors).map(([source, message]) => (
        <p
          key={source}
          className="jp-mlops-muted"
          data-testid="mlops-serving-source-error"
          data-source={source}
        >
          {message}
        </p>
      ))}
      {model.loaded && services.length === 0 && !model.error && (
        <div className="jp-mlops-empty" data-testid="mlops-serving-empty">
          No models served. Serve a version from the MLflow registry below, or with %kserve serve.
        </div>
      )}
      <ul className="jp-mlops-services">
        {services.map(service => (
          <ServiceCard
            key={`${service.mode}/${service.name}`}
            model={model}
            service={service}
            tryIt={
              model.tryIt?.name === service.name && model.tryIt.mode === service.mode
                ? model.tryIt
                : null
            }
          />
        ))}
      </ul>
    </section>
  );
}

/** One served model: Ready or why not, where it answers, what it serves and on which pods. */
function ServiceCard(props: {
  model: ServingModel;
  service: ServingService;
  tryIt: ITryIt | null;
}): JSX.Element {
  const { model, service } = props;
  const canary = canaryWords(service);
  const link = modelVersionUrl(model.mlflowUi, service.model, service.version);
  const health = service.ready ? 'ok' : service.conditions.length > 0 ? 'error' : 'progress';
  // Kept by the card: the notice of a moved alias goes once the roll-out is listed.
  const [rolled, setRolled] = React.useState<string | null>(null);
  return (
    <li
      className="jp-mlops-service"
      data-testid="mlops-service"
      data-name={service.name}
      data-mode={service.mode}
      data-ready={service.ready}
    >
      <div className="jp-mlops-service-head">
        <strong className="jp-mlops-service-name">{service.name}</strong>
        <span className="jp-mlops-health" data-health={health} data-testid="mlops-service-ready">
          {service.ready ? 'Ready' : 'not Ready'}
        </span>
        {service.mode === 'local' && <span className="jp-mlops-muted">local</span>}
      </div>
      <dl className="jp-mlops-facts jp-mlops-service-facts">
        {service.url && (
          <>
            <dt>URL</dt>
            <dd data-testid="mlops-service-url" title={service.url}>
              {service.url}
            </dd>
          </>
        )}
        {service.model && (
          <>
            <dt>Model</dt>
            <dd data-testid="mlops-service-model">
              {link ? (
                <a href={link} target="_blank" rel="noopener noreferrer">
                  {service.model} v{service.version}
                </a>
              ) : (
                `${service.model} v${service.version ?? '?'}`
              )}
              {service.alias && ` @${service.alias}`}
            </dd>
          </>
        )}
        <dt>Format</dt>
        <dd data-testid="mlops-service-format">
          {service.model_format || '?'}
          {service.runtime && <span className="jp-mlops-muted"> · {service.runtime}</span>}
        </dd>
        {service.storage_uri && (
          <>
            <dt>Storage</dt>
            <dd data-testid="mlops-service-storage" title={service.storage_uri}>
              {service.storage_uri}
            </dd>
          </>
        )}
        {canary && (
          <>
            <dt>Traffic</dt>
            <dd data-testid="mlops-service-canary">{canary}</dd>
          </>
        )}
        {service.mode === 'cluster' && (
          <>
            <dt>Pods</dt>
            <dd data-testid="mlops-service-pods">
              {service.pods.length === 0
                ? 'none yet'
                : service.pods.map(p => (
                    <span
                      key={p.name}
                      className="jp-mlops-service-pod"
                      data-testid="mlops-service-pod"
                      data-ready={p.ready}
                      title={p.name}
                    >
                      {p.name} ({p.ready ? 'ready' : p.phase.toLowerCase() || 'starting'})
                    </span>
                  ))}
            </dd>
          </>
        )}
      </dl>
      {!service.ready && service.findings.length === 0 && service.reason && (
        <p className="jp-mlops-muted" data-testid="mlops-service-reason">
          {service.reason}
        </p>
      )}
      {!service.ready &&
        service.findings.map((finding, index) => <FindingView key={index} finding={finding} />)}
      {aliasMoved(service) && <AliasMoved model={model} service={service} onState={setRolled} />}
      {rolled && (
        <p className="jp-mlops-muted" role="status" data-testid="mlops-service-roll-out-state">
          {rolled}
        </p>
      )}
      <div className="jp-mlops-service-actions">
        <button
          type="button"
          className="jp-Button jp-mod-styled jp-mod-minimal"
          data-testid="mlops-service-try"
          aria-expanded={props.tryIt !== null}
          disabled={!service.ready}
          title={service.ready ? 'Send inputs to the model' : 'The model is not Ready yet'}
          onClick={() => void model.toggleTryIt(service)}
        >
          Try it
        </button>
      </div>
      {props.tryIt && <TryItPanel model={model} tryIt={props.tryIt} />}
    </li>
  );
}

/** The alias moved to another version: say so and, unless read-only, offer to roll it out. */
function AliasMoved(props: {
  model: ServingModel;
  service: ServingService;
  onState: (words: string) => void;
}): JSX.Element {
  const { model, service, onState: setState } = props;
  const [canary, setCanary] = React.useState('');
  const rollOut = async (): Promise<void> => {
    setState('Rolling out…');
    try {
      const percent = canary.trim() === '' ? undefined : Number(canary);
      const answer = await model.rollOut(service, percent);
      const warnings = answer.findings.filter(f => f.severity !== 'info').map(f => f.message);
      setState(['Rolled out: the service updates to the new version.', ...warnings].join(' · '));
    } catch (error) {
      setState(asApiError(error).message);
    }
  };
  return (
    <div className="jp-mlops-service-moved" data-testid="mlops-service-alias-moved">
      <span>
        @{service.alias} now points at v{service.alias_version}; this serves v{service.version}.
      </span>
      {!model.readOnly && (
        <span className="jp-mlops-serve-form">
          <CanaryInput value={canary} onChange={setCanary} />
          <button
            type="button"
            className="jp-Button jp-mod-styled jp-mod-accept"
            data-testid="mlops-service-roll-out"
            onClick={() => void rollOut()}
          >
            Roll out @{service.alias}
          </button>
        </span>
      )}
    </div>
  );
}

function CanaryInput(props: { value: string; onChange: (text: string) => void }): JSX.Element {
  return (
    <label className="jp-mlops-canary" title="Percent of the traffic for the new version">
      <span className="jp-mlops-label">Canary %</span>
      <input
        type="number"
        min={0}
        max={100}
        className="jp-mod-styled"
        data-testid="mlops-serve-canary"
        placeholder="all"
        value={props.value}
        onChange={event => props.onChange(event.target.value)}
      />
    </label>
  );
}

/** A form (or JSON) built from the model's signature, the answer as a table, the latency. */
function TryItPanel(props: { model: ServingModel; tryIt: ITryIt }): JSX.Element {
  const { model, tryIt } = props;
  const inputs = tryIt.metadata?.inputs ?? [];
  return (
    <div className="jp-mlops-try" data-testid="mlops-try-it">
      {tryIt.metadataError && (
        <div className="jp-mlops-error" role="alert" data-testid="mlops-try-metadata-error">
          {tryIt.metadataError.message}
        </div>
      )}
      {!tryIt.metadata && !tryIt.metadataError && (
        <div className="jp-mlops-loading">Reading the model's signature…</div>
      )}
      {tryIt.metadata && (
        <>
          <div className="jp-mlops-try-tabs" role="tablist">
            {(['form', 'json'] as const).map(tab => (
              <button
                key={tab}
                type="button"
                role="tab"
                aria-selected={tryIt.tab === tab}
                className="jp-Button jp-mod-minimal jp-mlops-try-tab"
                data-testid={`mlops-try-tab-${tab}`}
                onClick={() => model.setTab(tab)}
              >
                {tab === 'form' ? 'Form' : 'JSON'}
              </button>
            ))}
          </div>
          {tryIt.tab === 'form' ? (
            <div className="jp-mlops-try-form">
              {inputs.length === 0 && (
                <p className="jp-mlops-muted">The model gives no signature: use the JSON tab.</p>
              )}
              {inputs.map(spec => (
                <label key={spec.name} className="jp-mlops-try-field">
                  <span className="jp-mlops-label" title={spec.datatype}>
                    {spec.name}
                  </span>
                  <input
                    className="jp-mod-styled"
                    data-testid="mlops-try-input"
                    data-name={spec.name}
                    inputMode={isNumeric(spec.datatype) ? 'decimal' : 'text'}
                    value={tryIt.values[spec.name] ?? ''}
                    onChange={event => model.setValue(spec.name, event.target.value)}
                  />
                </label>
              ))}
            </div>
          ) : (
            <textarea
              className="jp-mlops-try-json jp-mod-styled"
              data-testid="mlops-try-json"
              spellCheck={false}
              aria-label="The v2 request to send"
              value={tryIt.json}
              onChange={event => model.setJson(event.target.value)}
            />
          )}
          <button
            type="button"
            className="jp-Button jp-mod-styled jp-mod-accept"
            data-testid="mlops-try-send"
            disabled={tryIt.sending}
            onClick={() => void model.send()}
          >
            {tryIt.sending ? 'Predicting…' : 'Predict'}
          </button>
        </>
      )}
      {tryIt.error && (
        <div className="jp-mlops-error" role="alert" data-testid="mlops-try-error">
          {tryIt.error}
        </div>
      )}
      {tryIt.prediction && <PredictionView prediction={tryIt.prediction} />}
    </div>
  );
}

/** A cell of the answer: text as it is, anything else as JSON (null, lists). */
function cellText(cell: unknown): string {
  return typeof cell === 'string' ? cell : JSON.stringify(cell);
}

function PredictionView(props: { prediction: NonNullable<ITryIt['prediction']> }): JSX.Element {
  const { table, latency_ms: latency } = props.prediction;
  return (
    <div className="jp-mlops-try-answer" data-testid="mlops-try-answer">
      <div className="jp-mlops-muted" data-testid="mlops-try-latency">
        {latency.toFixed(1)} ms
      </div>
      <div className="jp-mlops-table-wrap">
        <table className="jp-mlops-table" data-testid="mlops-try-table">
          <thead>
            <tr>
              {table.columns.map(column => (
                <th key={column} scope="col">
                  {column}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {table.rows.map((row, index) => (
              <tr key={index} data-testid="mlops-try-row">
                {row.map((cell, at) => (
                  <td key={at}>{cellText(cell)}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {table.total > table.rows.length && (
        <p className="jp-mlops-muted">
          {table.rows.length} of {table.total} rows shown.
        </p>
      )}
    </div>
  );
}

/**
 * "Serve this version" or "Roll out @alias" for the MLflow registry: a name, a canary
 * percentage and a deployment mode, then the service applied (Ready is shown under Serving).
 */
export function ServeForm(props: {
  model: string;
  version?: string;
  alias?: string;
  onClose: () => void;
}): JSX.Element {
  const [name, setName] = React.useState(defaultServiceName(props.model));
  const [canary, setCanary] = React.useState('');
  const [mode, setMode] = React.useState<'Standard' | 'Knative'>('Standard');
  const [busy, setBusy] = React.useState(false);
  const [answer, setAnswer] = React.useState<ServeAnswer | null>(null);
  const [error, setError] = React.useState<string | null>(null);
  const submit = async (): Promise<void> => {
    const request: ServeRequest = { model: props.model, name, deployment_mode: mode };
    if (props.alias) {
      request.alias = props.alias;
    } else if (props.version) {
      request.version = props.version;
    }
    if (canary.trim() !== '') {
      request.canary = Number(canary);
    }
    setBusy(true);
    setError(null);
    try {
      setAnswer(await serveAndNotify(request));
    } catch (failure) {
      setError(asApiError(failure).message);
    } finally {
      setBusy(false);
    }
  };
  const what = props.alias ? `@${props.alias}` : `v${props.version}`;
  return (
    <div className="jp-mlops-serve" data-testid="mlops-serve-form">
      <label className="jp-mlops-try-field">
        <span className="jp-mlops-label">Service</span>
        <input
          className="jp-mod-styled"
          data-testid="mlops-serve-name"
          value={name}
          spellCheck={false}
          onChange={event => setName(event.target.value)}
        />
      </label>
      <div className="jp-mlops-serve-form">
        <CanaryInput value={canary} onChange={setCanary} />
        <label className="jp-mlops-canary">
          <span className="jp-mlops-label">Mode</span>
          <select
            className="jp-mod-styled"
            data-testid="mlops-serve-mode"
            value={mode}
            onChange={event => setMode(event.target.value as 'Standard' | 'Knative')}
          >
            <option value="Standard">Standard</option>
            <option value="Knative">Knative</option>
          </select>
        </label>
      </div>
      <div className="jp-mlops-serve-form">
        <button
          type="button"
          className="jp-Button jp-mod-styled jp-mod-accept"
          data-testid="mlops-serve-submit"
          disabled={busy || name.trim() === ''}
          onClick={() => void submit()}
        >
          {props.alias ? `Roll out ${what}` : `Serve ${what}`}
        </button>
        <button
          type="button"
          className="jp-Button jp-mod-styled jp-mod-reject"
          onClick={props.onClose}
        >
          Close
        </button>
      </div>
      {error && (
        <div className="jp-mlops-error" role="alert" data-testid="mlops-serve-error">
          {error}
        </div>
      )}
      {answer && (
        <div role="status" data-testid="mlops-serve-done">
          Applied InferenceService {answer.service.name}; its state is under Serving.
          {answer.findings.map((f, index) => (
            <p
              key={index}
              className="jp-mlops-muted"
              data-testid="mlops-serve-finding"
              data-severity={f.severity}
            >
              {f.severity}: {f.message}
            </p>
          ))}
        </div>
      )}
    </div>
  );
}
