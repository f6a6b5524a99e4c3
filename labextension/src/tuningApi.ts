/** Typed requests to the `/mlops/api/tuning/` routes: searches, their trials and charts, Stop. */

import { request } from './api';
import type { TuningDetail, TuningList, TuningSummary } from './models.generated';

/** Where a search runs: trials on this machine, or a Katib Experiment in the namespace. */
export type TuningWhere = TuningSummary['where'];

/** `GET /mlops/api/tuning/experiments`. */
export function fetchTunings(): Promise<TuningList> {
  return request<TuningList>('tuning/experiments');
}

/** `GET /mlops/api/tuning/experiments/NAME?where=`. */
export function fetchTuning(name: string, where: TuningWhere): Promise<TuningDetail> {
  return request<TuningDetail>(tuningPath(name, where));
}

/** `POST /mlops/api/tuning/experiments/NAME/stop?where=`. */
export function stopTuning(name: string, where: TuningWhere): Promise<TuningDetail> {
  return request<TuningDetail>(tuningPath(name, where, 'stop'), { method: 'POST' });
}

function tuningPath(name: string, where: TuningWhere, sub = ''): string {
  const tail = sub ? `/${sub}` : '';
  return `tuning/experiments/${encodeURIComponent(name)}${tail}?where=${where}`;
}
