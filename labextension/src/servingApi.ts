/** Typed requests to the `/mlops/api/serving/` routes: served models, their signature, predictions. */

import { request, type Finding } from './api';

/** Where a model is served: on the cluster (an InferenceService) or on loopback. */
export type ServingMode = 'local' | 'cluster';

/** One condition of an InferenceService's status. */
export interface IServingCondition {
  type: string;
  status: string;
  reason: string;
  message: string;
}

/** One revision's share of the traffic (Knative mode). */
export interface ITrafficShare {
  revision: string;
  percent: number;
  tag: string;
  latest: boolean;
}

/** A pod serving the model. */
export interface IPredictorPod {
  name: string;
  phase: string;
  ready: boolean;
}

/** A served model, as `GET serving/services` lists it (api/openapi.yaml `ServingService`). */
export interface IServingService {
  name: string;
  mode: ServingMode;
  ready: boolean;
  url: string | null;
  /** Why it is not Ready, in a line. */
  reason: string;
  namespace: string | null;
  model: string | null;
  version: string | null;
  alias: string | null;
  model_format: string;
  storage_uri: string | null;
  runtime: string | null;
  deployment_mode: string | null;
  conditions: IServingCondition[];
  traffic: ITrafficShare[];
  canary_percent: number | null;
  pods: IPredictorPod[];
  created: string | null;
  /** The doctor's findings while an InferenceService is not Ready. */
  findings: Finding[];
  /** Where the alias it was served from points now. */
  alias_version: string | null;
}

/** `GET serving/services`. */
export interface IServingServiceList {
  namespace: string | null;
  services: IServingService[];
  errors: Record<string, string>;
}

/** One input or output of a model's v2 metadata. */
export interface ITensorSpec {
  name: string;
  datatype: string;
  shape: number[];
}

/** `GET serving/services/NAME/metadata`: the model's signature as the v2 protocol gives it. */
export interface IServingMetadata {
  name?: string;
  versions?: string[];
  platform?: string;
  inputs?: ITensorSpec[];
  outputs?: ITensorSpec[];
  parameters?: Record<string, unknown>;
}

/** A v2 tensor of a request. */
export interface ITensor {
  name: string;
  datatype: string;
  shape: number[];
  data: unknown[];
}

/** What `predict` sends: v2 inputs, or values by column. */
export type PredictBody = { inputs: ITensor[] } | { columns: Record<string, unknown[]> };

/** `POST serving/services/NAME/predict`. */
export interface IServingPrediction {
  name: string;
  mode: ServingMode;
  url: string;
  latency_ms: number;
  response: Record<string, unknown>;
  table: { columns: string[]; rows: unknown[][]; total: number };
}

/** `POST serving/serve`: a version or an alias of a registered model. */
export interface IServeRequest {
  model: string;
  version?: string;
  alias?: string;
  name?: string;
  canary?: number;
  deployment_mode?: 'Standard' | 'Knative';
}

/** What a check before applying found. */
export interface IPlanFinding {
  check: string;
  severity: 'error' | 'warning' | 'info';
  message: string;
  fix: string;
}

/** The answer of `POST serving/serve`. */
export interface IServeAnswer {
  service: Omit<IServingService, 'findings' | 'alias_version'>;
  findings: IPlanFinding[];
  manifest: Record<string, unknown> | null;
}

/** `GET /mlops/api/serving/services`. */
export function fetchServices(): Promise<IServingServiceList> {
  return request<IServingServiceList>('serving/services');
}

/** `GET /mlops/api/serving/services/NAME/metadata`. */
export function fetchServingMetadata(name: string, mode: ServingMode): Promise<IServingMetadata> {
  return request<IServingMetadata>(servicePath(name, mode, 'metadata'));
}

/** `POST /mlops/api/serving/services/NAME/predict`. */
export function predict(
  name: string,
  mode: ServingMode,
  body: PredictBody
): Promise<IServingPrediction> {
  return request<IServingPrediction>(servicePath(name, mode, 'predict'), {
    method: 'POST',
    body: JSON.stringify(body)
  });
}

/** `POST /mlops/api/serving/serve`. */
export function serveVersion(body: IServeRequest): Promise<IServeAnswer> {
  return request<IServeAnswer>('serving/serve', { method: 'POST', body: JSON.stringify(body) });
}

function servicePath(name: string, mode: ServingMode, sub: string): string {
  return `serving/services/${encodeURIComponent(name)}/${sub}?mode=${mode}`;
}
