/** State of the sidebar's Resources view: my notebook's use, the namespace's pods, quota, GPUs
 * and volumes, read while the view is shown; and the pure helpers its view draws with. */

import { ApiError } from './api';
import type { MyPod, PodResources, QuotaLine, ResourcesReport } from './models.generated';
import { asApiError } from './pipelines';
import { PolledSection } from './polledSection';
import { fetchMyResources, fetchResources } from './resourcesApi';
import { StatusModel } from './status';

/** How much of a bar is filled: `part / whole` between 0 and 1; null when there is no whole. */
export function barFraction(part: number | null | undefined, whole: number | null | undefined) {
  if (part === null || part === undefined || !whole || whole <= 0) {
    return null;
  }
  return Math.min(1, Math.max(0, part / whole));
}

/** A bar's tone: ok below 80 %, warn up to full, full at or over it. */
export function barTone(part: number, whole: number): 'ok' | 'warn' | 'full' {
  if (whole <= 0 || part >= whole) {
    return 'full';
  }
  return part / whole >= 0.8 ? 'warn' : 'ok';
}

const BINARY_UNITS = ['Ki', 'Mi', 'Gi', 'Ti', 'Pi'];

/** A resource's amount in kubectl's words: cores as `250m`, `1500m` or `2`, bytes as `512Mi`. */
export function amountWords(resource: string, value: number | null | undefined): string {
  if (value === null || value === undefined) {
    return '—';
  }
  const base = resource.replace(/^(requests|limits)\./, '');
  if (base === 'cpu') {
    // Whole cores as cores, anything else in millicores, as kubectl writes them.
    return Number.isInteger(value) ? String(value) : `${Math.round(value * 1000)}m`;
  }
  if (base === 'memory' || base.includes('storage')) {
    let scaled = value;
    let unit = '';
    for (const next of BINARY_UNITS) {
      if (scaled < 1024) {
        break;
      }
      scaled /= 1024;
      unit = next;
    }
    return `${trim(scaled)}${unit}`;
  }
  return trim(value);
}

function trim(value: number): string {
  return String(Number(value.toPrecision(3)));
}

/** What the pods table is ordered by: use or request of a resource, largest first or not. */
export interface IPodSort {
  by: 'use' | 'request';
  resource: 'cpu' | 'memory';
  descending: boolean;
}

export const DEFAULT_POD_SORT: IPodSort = { by: 'request', resource: 'cpu', descending: true };

/** The figure a pod is sorted by; null when it is not known (no metrics, nothing asked). */
export function podFigure(pod: PodResources, sort: IPodSort): number | null {
  const source = sort.by === 'use' ? pod.usage : pod.requests;
  const value = source?.[sort.resource];
  return value === undefined ? null : value;
}

/** The pods in the table's order; pods without the figure last either way, then by name. */
export function sortPods(pods: readonly PodResources[], sort: IPodSort): PodResources[] {
  const sign = sort.descending ? -1 : 1;
  return [...pods].sort((a, b) => {
    const x = podFigure(a, sort);
    const y = podFigure(b, sort);
    if (x === null || y === null || x === y) {
      if (x !== y) {
        return x === null ? 1 : -1;
      }
      return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
    }
    return sign * (x - y);
  });
}

/** The sort a click on a column gives: the same column flips, another starts largest first. */
export function nextPodSort(current: IPodSort, by: IPodSort['by'], resource: IPodSort['resource']) {
  if (current.by === by && current.resource === resource) {
    return { ...current, descending: !current.descending };
  }
  return { by, resource, descending: true };
}

/** The quota lines with the quota's name kept once, resources grouped under it. */
export function quotasByName(lines: readonly QuotaLine[]): Map<string, QuotaLine[]> {
  const grouped = new Map<string, QuotaLine[]>();
  for (const line of lines) {
    grouped.set(line.quota, [...(grouped.get(line.quota) ?? []), line]);
  }
  return grouped;
}

/**
 * The Resources view's model: `resources` and `resources/me` read at the sidebar's refresh
 * interval while the view is open and the tab shown; a closed view reads nothing.
 */
export class ResourcesModel extends PolledSection {
  constructor(status: StatusModel) {
    super(status, 'jupyter-mlops:resources');
  }

  /** Whether the server answered its status. */
  get configured(): boolean {
    return this.status.report !== null;
  }

  /** Whether anything was read: the namespace's report or my own use. */
  get loaded(): boolean {
    return this._report !== null || this._me !== null;
  }

  /** Whether a cluster is configured: without one only my own use can be shown. */
  get hasCluster(): boolean {
    return (this.status.report?.cluster.mode ?? 'none') !== 'none';
  }

  get open(): boolean {
    return this._open;
  }

  get report(): ResourcesReport | null {
    return this._report;
  }

  get me(): MyPod | null {
    return this._me;
  }

  /** Why the namespace's report could not be read (my own use has `meError`). */
  get error(): ApiError | null {
    return this._reportError;
  }

  get meError(): ApiError | null {
    return this._meError;
  }

  get sort(): IPodSort {
    return this._sort;
  }

  /** Open or close the view; opening reads at once. */
  toggle(): void {
    this._open = !this._open;
    this.emit();
    this.wake();
  }

  sortBy(by: IPodSort['by'], resource: IPodSort['resource']): void {
    this._sort = nextPodSort(this._sort, by, resource);
    this.emit();
  }

  protected get active(): boolean {
    return super.active && this._open;
  }

  protected async load(): Promise<void> {
    const cluster = this.hasCluster;
    const [me, all] = await Promise.allSettled([
      fetchMyResources(),
      cluster ? fetchResources() : Promise.resolve(null)
    ]);
    this._me = me.status === 'fulfilled' ? me.value : this._me;
    this._meError = me.status === 'rejected' ? asApiError(me.reason) : null;
    this._report = all.status === 'fulfilled' ? all.value : this._report;
    this._reportError = all.status === 'rejected' ? asApiError(all.reason) : null;
    const failed = this._reportError ?? this._meError;
    if (failed) {
      throw failed;
    }
  }

  private _me: MyPod | null = null;
  private _meError: ApiError | null = null;
  private _open = false;
  private _report: ResourcesReport | null = null;
  private _reportError: ApiError | null = null;
  private _sort: IPodSort = DEFAULT_POD_SORT;
}
