/** Typed requests to the `/mlops/api/serving/` routes: served models, their signature, predictions. */

import { request } from './api';
import type {
  PredictBody,
  ServeAnswer,
  ServeRequest,
  ServingMetadata,
  ServingPrediction,
  ServingService,
  ServingServiceList
} from './models.generated';

/** Where a model is served: on the cluster (an InferenceService) or on loopback. */
export type ServingMode = ServingService['mode'];

/** `GET /mlops/api/serving/services`. */
export function fetchServices(): Promise<ServingServiceList> {
  return request<ServingServiceList>('serving/services');
}

/** `GET /mlops/api/serving/services/NAME/metadata`. */
export function fetchServingMetadata(name: string, mode: ServingMode): Promise<ServingMetadata> {
  return request<ServingMetadata>(servicePath(name, mode, 'metadata'));
}

/** `POST /mlops/api/serving/services/NAME/predict`. */
export function predict(
  name: string,
  mode: ServingMode,
  body: PredictBody
): Promise<ServingPrediction> {
  return request<ServingPrediction>(servicePath(name, mode, 'predict'), {
    method: 'POST',
    body: JSON.stringify(body)
  });
}

/** `POST /mlops/api/serving/serve`. */
export function serveVersion(body: ServeRequest): Promise<ServeAnswer> {
  return request<ServeAnswer>('serving/serve', { method: 'POST', body: JSON.stringify(body) });
}

function servicePath(name: string, mode: ServingMode, sub: string): string {
  return `serving/services/${encodeURIComponent(name)}/${sub}?mode=${mode}`;
}
