/** State of the sidebar's Serving section: served models, and the "Try it" panel of one of them. */

import { Signal } from '@lumino/signaling';

import { ApiError } from './api';
import { asApiError } from './pipelines';
import { PolledSection } from './polledSection';
import type {
  PredictBody,
  ServeAnswer,
  ServeRequest,
  ServingMetadata,
  ServingPrediction,
  ServingService,
  Tensor,
  TensorSpec
} from './models.generated';
import {
  fetchServices,
  fetchServingMetadata,
  predict,
  serveVersion,
  ServingMode
} from './servingApi';
import { StatusModel } from './status';

/** v2 datatypes whose values are numbers (the form sends them as numbers). */
const NUMERIC = /^(U?INT\d+|FP\d+)$/;

/** The name KServe can use for a registered model's service (as the server makes it). */
export function defaultServiceName(model: string): string {
  let name = model
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^-+|-+$/g, '');
  if (!/^[a-z]/.test(name)) {
    name = `m-${name}`.replace(/-+$/, '');
  }
  return name.slice(0, 45).replace(/-+$/, '');
}

/** Where MLflow's UI shows a model version, or null without a UI address. */
export function modelVersionUrl(
  uiUrl: string | null | undefined,
  model: string | null,
  version: string | null
): string | null {
  if (!uiUrl || !model || !version) {
    return null;
  }
  return `${uiUrl.replace(/\/+$/, '')}/#/models/${encodeURIComponent(model)}/versions/${encodeURIComponent(version)}`;
}

/** "20% to the new version" (Knative splits), or null when all traffic goes to one. */
export function canaryWords(service: ServingService): string | null {
  if (service.traffic.length > 1) {
    return service.traffic
      .map(t => `${t.percent}% ${t.tag || t.revision}${t.latest ? ' (latest)' : ''}`)
      .join(', ');
  }
  if (service.canary_percent !== null && service.canary_percent < 100) {
    return `${service.canary_percent}% to the new version`;
  }
  return null;
}

/** Whether the alias the service was served from now points at another version. */
export function aliasMoved(service: ServingService): boolean {
  return (
    service.alias !== null &&
    service.alias_version !== null &&
    service.alias_version !== service.version
  );
}

/** Whether a datatype's values are numbers. */
export function isNumeric(datatype: string): boolean {
  return NUMERIC.test(datatype);
}

/** A form value as the input's datatype wants it: a number, or the text itself. */
export function formValue(spec: TensorSpec, text: string): number | string {
  if (!isNumeric(spec.datatype)) {
    return text;
  }
  const value = Number(text.trim());
  if (text.trim() === '' || Number.isNaN(value)) {
    throw new Error(`${spec.name} needs a number, not "${text}"`);
  }
  return value;
}

/** One row of form values as a v2 request: one [1, 1] tensor per column of the signature. */
export function requestFromForm(
  inputs: readonly TensorSpec[],
  values: Readonly<Record<string, string>>
): { inputs: Tensor[] } {
  return {
    inputs: inputs.map(spec => ({
      name: spec.name,
      datatype: spec.datatype,
      shape: [1, 1],
      data: [formValue(spec, values[spec.name] ?? '')]
    }))
  };
}

/** A first value for each input, so an empty form can be sent as it is. */
export function exampleValues(inputs: readonly TensorSpec[]): Record<string, string> {
  return Object.fromEntries(inputs.map(s => [s.name, isNumeric(s.datatype) ? '0' : '']));
}

/** The JSON the JSON tab starts from: the form's row as a v2 request. */
export function requestJson(
  inputs: readonly TensorSpec[],
  values: Readonly<Record<string, string>>
): string {
  try {
    return JSON.stringify(requestFromForm(inputs, values), null, 2);
  } catch {
    return JSON.stringify(requestFromForm(inputs, exampleValues(inputs)), null, 2);
  }
}

/** The JSON tab's text as a predict body; an `Error` saying what is wrong otherwise. */
export function parseRequest(text: string): PredictBody {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new Error(`Not JSON: ${(error as Error).message}`);
  }
  if (body && typeof body === 'object' && ('inputs' in body || 'columns' in body)) {
    return body as PredictBody;
  }
  throw new Error('Send {"inputs": [v2 tensors]} or {"columns": {"name": [values]}}.');
}

/** The "Try it" panel of one service: its signature, the draft, and the last answer. */
export interface ITryIt {
  name: string;
  mode: ServingMode;
  metadata: ServingMetadata | null;
  metadataError: ApiError | null;
  values: Record<string, string>;
  json: string;
  tab: 'form' | 'json';
  sending: boolean;
  prediction: ServingPrediction | null;
  error: string | null;
}

/** Told whenever a version is served from anywhere in the sidebar, so the list reads again. */
const servedNotice = new Signal<object, ServeAnswer>({});

/** Serve a version (or roll out an alias) and tell every Serving section about it. */
export async function serveAndNotify(request: ServeRequest): Promise<ServeAnswer> {
  const answer = await serveVersion(request);
  servedNotice.emit(answer);
  return answer;
}

/**
 * The Serving section's model: the served models read at the sidebar's refresh interval
 * while it is shown (standing by while hidden), and one "Try it" panel at a time.
 */
export class ServingModel extends PolledSection {
  constructor(status: StatusModel) {
    super(status, 'jupyter-mlops:serving');
    servedNotice.connect(this._onServed);
  }

  /** Whether models can be served here: a cluster or MLflow is configured. */
  get configured(): boolean {
    const report = this.status.report;
    return report !== null && (report.cluster.mode !== 'none' || report.tracking.mode !== 'none');
  }

  /** MLflow's UI, for links to the model versions served. */
  get mlflowUi(): string | null {
    return this.status.report?.tracking.ui_url ?? null;
  }

  get services(): ServingService[] {
    return this._services;
  }

  /** What a source (the cluster, its pods) said when it could not be read. */
  get sourceErrors(): Record<string, string> {
    return this._sourceErrors;
  }

  /** Whether the list has been read once. */
  get loaded(): boolean {
    return this._loaded;
  }

  get tryIt(): ITryIt | null {
    return this._tryIt;
  }

  /** Roll a service out to where its alias points now, keeping its name and canary. */
  async rollOut(service: ServingService, canary?: number): Promise<ServeAnswer> {
    if (!service.model || !service.alias) {
      throw new Error(`${service.name} was not served from an alias`);
    }
    return serveAndNotify({
      model: service.model,
      alias: service.alias,
      name: service.name,
      canary,
      deployment_mode: service.deployment_mode === 'Serverless' ? 'Knative' : 'Standard'
    });
  }

  /** Open the "Try it" panel of a service (closing it when it is already open). */
  async toggleTryIt(service: ServingService): Promise<void> {
    if (this._tryIt?.name === service.name && this._tryIt.mode === service.mode) {
      this._tryIt = null;
      this.emit();
      return;
    }
    const opened: ITryIt = {
      name: service.name,
      mode: service.mode,
      metadata: null,
      metadataError: null,
      values: {},
      json: '',
      tab: 'form',
      sending: false,
      prediction: null,
      error: null
    };
    this._tryIt = opened;
    this.emit();
    try {
      const metadata = await fetchServingMetadata(service.name, service.mode);
      const inputs = metadata.inputs ?? [];
      const values = exampleValues(inputs);
      this._updateTryIt(opened, { metadata, values, json: requestJson(inputs, values) });
    } catch (error) {
      this._updateTryIt(opened, { metadataError: asApiError(error) });
    }
  }

  /** Change one input of the form (the JSON tab follows the form until it is edited). */
  setValue(name: string, text: string): void {
    const open = this._tryIt;
    if (!open) {
      return;
    }
    const values = { ...open.values, [name]: text };
    this._updateTryIt(open, { values, json: requestJson(open.metadata?.inputs ?? [], values) });
  }

  setJson(text: string): void {
    if (this._tryIt) {
      this._updateTryIt(this._tryIt, { json: text });
    }
  }

  setTab(tab: 'form' | 'json'): void {
    if (this._tryIt) {
      this._updateTryIt(this._tryIt, { tab });
    }
  }

  /** Send the form's row (or the JSON) to the model; the answer or the error goes in the panel. */
  async send(): Promise<void> {
    const open = this._tryIt;
    if (!open || open.sending) {
      return;
    }
    let body: PredictBody;
    try {
      body =
        open.tab === 'json'
          ? parseRequest(open.json)
          : requestFromForm(open.metadata?.inputs ?? [], open.values);
    } catch (error) {
      this._updateTryIt(open, { error: (error as Error).message, prediction: null });
      return;
    }
    this._updateTryIt(open, { sending: true, error: null });
    try {
      const prediction = await predict(open.name, open.mode, body);
      this._updateTryIt(open, { sending: false, prediction });
    } catch (error) {
      this._updateTryIt(open, {
        sending: false,
        prediction: null,
        error: asApiError(error).message
      });
    }
  }

  protected onDispose(): void {
    servedNotice.disconnect(this._onServed);
    super.onDispose();
  }

  /** Change the open panel, unless another one was opened meanwhile. */
  private _updateTryIt(which: ITryIt, change: Partial<ITryIt>): void {
    if (this._tryIt !== which && this._tryIt?.name !== which.name) {
      return;
    }
    const current = this._tryIt ?? which;
    this._tryIt = { ...current, ...change };
    this.emit();
  }

  protected async load(): Promise<void> {
    const answer = await fetchServices();
    this._services = answer.services;
    this._sourceErrors = answer.errors;
    this._loaded = true;
  }

  private _onServed = (): void => {
    this.refresh();
  };

  private _loaded = false;
  private _services: ServingService[] = [];
  private _sourceErrors: Record<string, string> = {};
  private _tryIt: ITryIt | null = null;
}
