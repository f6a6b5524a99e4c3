/** Typed requests to the `/mlops/api/tuning/` routes: searches, their trials and charts, Stop. */

import { request } from './api';

/** Where a search runs: trials on this machine, or a Katib Experiment in the namespace. */
export type TuningWhere = 'local' | 'cluster';

/** A search's state, in Katib's words. */
export type TuningState = 'Created' | 'Running' | 'Succeeded' | 'Failed';

/** A trial's state, in Katib's words. */
export type TrialState =
  'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Killed' | 'MetricsUnavailable';

/** The best trial so far (api/openapi.yaml `TuningBest`). */
export interface ITuningBest {
  trial: string;
  value: number;
  parameters: Record<string, unknown>;
}

/** A search as the list shows it (api/openapi.yaml `TuningSummary`). */
export interface ITuningSummary {
  name: string;
  where: TuningWhere;
  namespace: string | null;
  component: string;
  state: TuningState;
  stopped: boolean;
  message: string;
  algorithm: string;
  metric: string;
  direction: 'maximize' | 'minimize';
  trials_done: number;
  trials_total: number;
  best: ITuningBest | null;
  created_at: string | null;
}

/** `GET tuning/experiments`. */
export interface ITuningList {
  namespace: string | null;
  experiments: ITuningSummary[];
  errors: Record<string, string>;
}

/** One trial: its parameters, the objective and other metrics, state and duration. */
export interface ITuningTrial {
  name: string;
  parameters: Record<string, unknown>;
  state: TrialState;
  objective: number | null;
  metrics: Record<string, number | null>;
  seconds: number | null;
  message: string;
}

/** `GET tuning/experiments/NAME`: the search, its trials and its two charts as SVG. */
export interface ITuningDetail extends ITuningSummary {
  space: Record<string, string>;
  parallel: number;
  max_failed: number;
  trials: ITuningTrial[];
  charts: { metric_by_trial: string; parallel_coordinates: string };
}

/** `GET /mlops/api/tuning/experiments`. */
export function fetchTunings(): Promise<ITuningList> {
  return request<ITuningList>('tuning/experiments');
}

/** `GET /mlops/api/tuning/experiments/NAME?where=`. */
export function fetchTuning(name: string, where: TuningWhere): Promise<ITuningDetail> {
  return request<ITuningDetail>(tuningPath(name, where));
}

/** `POST /mlops/api/tuning/experiments/NAME/stop?where=`. */
export function stopTuning(name: string, where: TuningWhere): Promise<ITuningDetail> {
  return request<ITuningDetail>(tuningPath(name, where, 'stop'), { method: 'POST' });
}

function tuningPath(name: string, where: TuningWhere, sub = ''): string {
  const tail = sub ? `/${sub}` : '';
  return `tuning/experiments/${encodeURIComponent(name)}${tail}?where=${where}`;
}
