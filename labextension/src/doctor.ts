/** State of the sidebar's Doctor section: what is wrong in the namespace, read again as it changes. */

import { IPoll, Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';

import { ApiError, DoctorReport, fetchDoctor, Finding, IObjectRef } from './api';
import { ClusterModel, IRowChange } from './cluster';
import { StatusModel } from './status';

/** A change in the live tables reads the report again at most this often. */
export const DOCTOR_DEBOUNCE_MS = 500;

/** Failed reads back off up to this many milliseconds between tries. */
const MAX_BACKOFF_MS = 5 * 60 * 1000;

/** An object as a finding names it: its Kind (`Pod`) and name. */
export type FindingObject = Finding['object'];

/** Findings that belong to one top owner (a Deployment, a Job…, or the object itself). */
export interface IFindingGroup {
  owner: FindingObject;
  findings: Finding[];
  /** How many of them are errors. */
  errors: number;
}

/** The object a finding groups under: its farthest owner, or the object when nothing owns it. */
export function topOwner(finding: Finding): FindingObject {
  const owners = finding.owners ?? [];
  return owners.length > 0 ? owners[owners.length - 1] : finding.object;
}

/** A stable key of a finding, for lists and for finding it again after a refresh. */
export function findingKey(finding: Finding): string {
  return `${finding.object.kind}/${finding.object.name}/${finding.cause}`;
}

/** How many findings are errors. */
export function countErrors(findings: readonly Finding[]): number {
  return findings.filter(f => f.severity === 'error').length;
}

/**
 * Findings grouped by their top owner: groups with errors first, then by how many; inside a
 * group errors first. Otherwise the server's order (errors first, grouped by owner) is kept.
 */
export function groupFindings(findings: readonly Finding[]): IFindingGroup[] {
  const groups = new Map<string, IFindingGroup>();
  for (const finding of findings) {
    const owner = topOwner(finding);
    const key = `${owner.kind}/${owner.name}`;
    let group = groups.get(key);
    if (!group) {
      group = { owner, findings: [], errors: 0 };
      groups.set(key, group);
    }
    group.findings.push(finding);
    group.errors += finding.severity === 'error' ? 1 : 0;
  }
  const ordered = [...groups.values()];
  for (const group of ordered) {
    group.findings.sort(bySeverity);
  }
  // Array.prototype.sort is stable: equal groups keep the server's order.
  return ordered.sort((a, b) => Number(b.errors > 0) - Number(a.errors > 0) || b.errors - a.errors);
}

function bySeverity(a: Finding, b: Finding): number {
  return Number(b.severity === 'error') - Number(a.severity === 'error');
}

/**
 * The Doctor section's model. A poll reads the report at the sidebar's refresh interval,
 * standing by while the sidebar or the browser tab is hidden; a change in the Cluster
 * section's live tables (a pod, an event…) reads it again soon after.
 */
export class DoctorModel {
  constructor(
    readonly cluster: ClusterModel,
    readonly status: StatusModel
  ) {
    this._refreshSeconds = status.refreshSeconds;
    this._poll = new Poll<void, ApiError>({
      name: 'jupyter-mlops:doctor',
      factory: () => this._load(),
      frequency: this._frequency(),
      standby: () => (this._active() ? 'when-hidden' : true)
    });
    status.changed.connect(this._onStatusChanged);
    cluster.changed.connect(this._onClusterChanged);
    cluster.rowsChanged.connect(this._onRowsChanged);
  }

  /** Emitted when anything the view shows changes. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** Whether a cluster is configured; without one the section is not shown. */
  get configured(): boolean {
    return this.cluster.configured;
  }

  /** The namespace examined. */
  get namespace(): string {
    return this.cluster.namespace;
  }

  /** The last report of the namespace shown, kept while later reads fail. */
  get report(): DoctorReport | null {
    return this._report;
  }

  /** Why the last read failed, or null. */
  get error(): ApiError | null {
    return this._error;
  }

  get loading(): boolean {
    return this._loading;
  }

  /** The findings grouped by owner, most severe first. */
  get groups(): IFindingGroup[] {
    return this._groups;
  }

  /** How many findings are errors: the count the badges show. */
  get errors(): number {
    return this._report ? countErrors(this._report.findings) : 0;
  }

  /** The panel a finding's object opens, if the cluster serves its kind. */
  refOf(object: FindingObject): IObjectRef | null {
    const info = this.cluster.kindInfo(object.kind);
    return info ? { kind: info.plural, name: object.name, namespace: this.namespace } : null;
  }

  /** Whether the sidebar is on screen; hidden, the poll stands by, and shown it reads now. */
  set visible(visible: boolean) {
    if (visible === this._visible) {
      return;
    }
    this._visible = visible;
    if (visible) {
      void this._poll.refresh();
    }
  }

  /** Read the report now. */
  refresh(): void {
    void this._poll.refresh();
  }

  get isDisposed(): boolean {
    return this._poll.isDisposed;
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    window.clearTimeout(this._soonTimer);
    this._poll.dispose();
    this.status.changed.disconnect(this._onStatusChanged);
    this.cluster.changed.disconnect(this._onClusterChanged);
    this.cluster.rowsChanged.disconnect(this._onRowsChanged);
    Signal.clearData(this);
  }

  private _active(): boolean {
    return this._visible && this.configured && this.namespace !== '';
  }

  private _frequency(): IPoll.Frequency {
    const interval = this._refreshSeconds * 1000;
    return { interval, backoff: true, max: Math.max(interval, MAX_BACKOFF_MS) };
  }

  /** One read; a failure is kept for the view and thrown so that the poll backs off. */
  private async _load(): Promise<void> {
    const namespace = this.namespace;
    const asked = ++this._generation;
    this._stale = false;
    this._loading = true;
    this._emit();
    try {
      const report = await fetchDoctor(namespace);
      if (asked !== this._generation || namespace !== this.namespace) {
        return;
      }
      this._report = report;
      this._groups = groupFindings(report.findings);
      this._error = null;
    } catch (error) {
      if (asked === this._generation) {
        this._error =
          error instanceof ApiError ? error : new ApiError(0, 'unexpected', String(error));
        throw this._error;
      }
    } finally {
      if (asked === this._generation) {
        this._loading = false;
        this._emit();
      }
      if (this._stale || namespace !== this.namespace) {
        // The poll drops a refresh asked while one is on its way: ask again once it is done.
        this._again();
      }
    }
  }

  /** Read again soon: many changes in a row make one read. */
  private _soon(): void {
    this._stale = true;
    this._again();
  }

  private _again(): void {
    if (this._soonTimer || !this._active()) {
      return;
    }
    this._soonTimer = window.setTimeout(() => {
      this._soonTimer = 0;
      if (!this.isDisposed) {
        void this._poll.refresh();
      }
    }, DOCTOR_DEBOUNCE_MS);
  }

  private _onRowsChanged = (_: ClusterModel, change: IRowChange): void => {
    // A snapshot follows a (re)subscription: the poll's own read covers it.
    if (change.type !== 'snapshot') {
      this._soon();
    }
  };

  private _onClusterChanged = (): void => {
    if (this.namespace !== this._namespace) {
      // Another namespace: what was found in the old one is no longer true here.
      this._namespace = this.namespace;
      this._report = null;
      this._groups = [];
      this._error = null;
      this._stale = true;
      this._emit();
      if (this._active()) {
        void this._poll.refresh();
      }
    }
  };

  private _onStatusChanged = (): void => {
    if (this.status.refreshSeconds !== this._refreshSeconds) {
      this._refreshSeconds = this.status.refreshSeconds;
      this._poll.frequency = this._frequency();
    }
    if (this.configured !== this._wasConfigured) {
      this._wasConfigured = this.configured;
      if (this._active()) {
        void this._poll.refresh();
      }
      this._emit();
    }
  };

  private _emit(): void {
    if (!this.isDisposed) {
      this._changed.emit();
    }
  }

  private _changed = new Signal<this, void>(this);
  private _error: ApiError | null = null;
  private _generation = 0;
  private _groups: IFindingGroup[] = [];
  private _loading = false;
  private _namespace = '';
  private _poll: Poll<void, ApiError>;
  private _refreshSeconds: number;
  private _report: DoctorReport | null = null;
  private _soonTimer = 0;
  /** Set when the cluster changed since the last read began. */
  private _stale = false;
  private _visible = false;
  private _wasConfigured = false;
}
