/** State of the sidebar's Doctor section: what is wrong in the namespace, pushed live as it changes. */

import { IDisposable } from '@lumino/disposable';

import { ApiError, fetchDoctor } from './api';
import { ClusterModel } from './cluster';
import { ILiveMessage } from './live';
import { ModelBase } from './modelBase';
import type { DoctorReport, Finding } from './models.generated';
import type { IObjectRef } from './object';
import { StatusModel } from './status';

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

/**
 * The findings keyed as the server's doctor channel keys them: `Kind/name/cause`, then `#2`,
 * `#3`… for further findings of one cause on one object, in the report's order.
 */
export function keyFindings(findings: readonly Finding[]): Map<string, Finding> {
  const keyed = new Map<string, Finding>();
  for (const finding of findings) {
    const base = findingKey(finding);
    let key = base;
    for (let n = 2; keyed.has(key); n++) {
      key = `${base}#${n}`;
    }
    keyed.set(key, finding);
  }
  return keyed;
}

/** The server's order of a report: errors first, then by top owner, object and cause. */
export function orderFindings(findings: Iterable<Finding>): Finding[] {
  const rank = (f: Finding): string[] => {
    const top = topOwner(f);
    return [f.severity === 'error' ? '0' : '1', `${top.kind}/${top.name}`, f.object.name, f.cause];
  };
  const compare = (a: string[], b: string[]): number => {
    for (let i = 0; i < a.length; i++) {
      if (a[i] !== b[i]) {
        return a[i] < b[i] ? -1 : 1;
      }
    }
    return 0;
  };
  return [...findings].sort((a, b) => compare(rank(a), rank(b)));
}

function bySeverity(a: Finding, b: Finding): number {
  return Number(b.severity === 'error') - Number(a.severity === 'error');
}

/**
 * The Doctor section's model. While a cluster is configured it watches the namespace's
 * findings over the tab's WebSocket: a snapshot, then only what changed, as the server's
 * informers see objects change. The watch resumes after a break as the live tables do, and
 * "examine again" reads the REST route once.
 */
export class DoctorModel extends ModelBase {
  constructor(
    readonly cluster: ClusterModel,
    readonly status: StatusModel
  ) {
    super();
    status.changed.connect(this._onChanged);
    cluster.changed.connect(this._onChanged);
    this._onChanged();
  }

  /** Whether a cluster is configured; without one the section is not shown. */
  get configured(): boolean {
    return this.cluster.configured;
  }

  /** The namespace examined. */
  get namespace(): string {
    return this.cluster.namespace;
  }

  /** The last report of the namespace shown, kept while the channel is broken. */
  get report(): DoctorReport | null {
    return this._report;
  }

  /** Why the last read failed, or null. */
  get error(): ApiError | null {
    return this._error;
  }

  /** Whether the findings shown are waiting for a snapshot or a one-off read. */
  get loading(): boolean {
    return this._loading;
  }

  /** Whether the findings follow the namespace live (a snapshot came, and no break since). */
  get live(): boolean {
    return this._live;
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

  /** Whether the sidebar is on screen. The watch stays open hidden: the tab's badge counts. */
  set visible(visible: boolean) {
    this._visible = visible;
  }

  get visible(): boolean {
    return this._visible;
  }

  /** Examine the namespace again now, through the REST route; later pushes apply on top. */
  refresh(): void {
    void this._readOnce();
  }

  protected onDispose(): void {
    this._watch?.dispose();
    this._watch = null;
    this.status.changed.disconnect(this._onChanged);
    this.cluster.changed.disconnect(this._onChanged);
  }

  private _wanted(): string | null {
    return this.configured && this.namespace !== '' ? this.namespace : null;
  }

  /** Watch the namespace now wanted, if it is not the one watched. */
  private _onChanged = (): void => {
    const wanted = this._wanted();
    if (wanted === this._watched) {
      return;
    }
    this._watch?.dispose();
    this._watch = null;
    this._watched = wanted;
    // Another namespace: what was found in the old one is no longer true here.
    this._findings = new Map();
    this._report = null;
    this._groups = [];
    this._error = null;
    this._live = false;
    this._loading = wanted !== null;
    if (wanted !== null) {
      this._watch = this.cluster.socket.watchDoctor(wanted, this._onMessage);
    }
    this.emit();
  };

  private _onMessage = (message: ILiveMessage): void => {
    if (message.type === 'reopened') {
      // The findings shown stay until the fresh snapshot replaces them.
      this._live = false;
      this._loading = true;
    } else if (message.type === 'error') {
      this._error = new ApiError(0, message.reason ?? 'error', message.message ?? '');
      this._loading = false;
    } else if (message.type === 'findings') {
      if (message.snapshot) {
        this._findings = new Map();
      }
      for (const [key, finding] of Object.entries(message.findings ?? {})) {
        this._findings.set(key, finding);
      }
      for (const key of message.gone ?? []) {
        this._findings.delete(key);
      }
      this._unreadable = message.unreadable ?? this._unreadable;
      this._error = null;
      this._live = true;
      this._loading = false;
      this._show();
    }
    this.emit();
  };

  /** One read of the REST route, whose findings replace those shown. */
  private async _readOnce(): Promise<void> {
    const namespace = this._watched;
    if (namespace === null) {
      return;
    }
    this._loading = true;
    this.emit();
    try {
      const report = await fetchDoctor(namespace);
      if (namespace !== this._watched) {
        return;
      }
      this._findings = keyFindings(report.findings);
      this._unreadable = report.unreadable ?? [];
      this._error = null;
      this._show();
    } catch (error) {
      if (namespace === this._watched) {
        this._error =
          error instanceof ApiError ? error : new ApiError(0, 'unexpected', String(error));
      }
    } finally {
      if (namespace === this._watched) {
        this._loading = false;
        this.emit();
      }
    }
  }

  private _show(): void {
    const findings = orderFindings(this._findings.values());
    this._report = {
      namespace: this._watched ?? this.namespace,
      findings,
      unreadable: this._unreadable
    };
    this._groups = groupFindings(findings);
  }

  private _error: ApiError | null = null;
  private _findings = new Map<string, Finding>();
  private _groups: IFindingGroup[] = [];
  private _live = false;
  private _loading = false;
  private _report: DoctorReport | null = null;
  private _unreadable: DoctorReport['unreadable'] = [];
  private _visible = false;
  private _watch: IDisposable | null = null;
  /** The namespace watched, or null when none is. */
  private _watched: string | null = null;
}
