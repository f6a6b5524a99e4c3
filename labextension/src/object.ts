/** State of a main-area panel about one object: its description, YAML, log and actions. */

import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import {
  ApiError,
  deletePod,
  fetchDescription,
  fetchObject,
  fetchYaml,
  IDescription,
  IKubeObject,
  IObjectRef,
  IRow,
  scaleDeployment
} from './api';
import { ClusterModel, IRowChange } from './cluster';
import { controllerOf, deleteOutcome, IDeleteOutcome } from './deletion';
import { LogModel } from './logs';

/** The tabs of an object panel. */
export type ObjectTab = 'describe' | 'yaml' | 'logs';

/** Owners whose object tells more about a deleted pod's fate: a Job's completions, a Deployment. */
const OWNER_PLURALS: Record<string, string> = { Job: 'jobs', ReplicaSet: 'replicasets' };

/** A live change to the object reloads its description at most this often. */
const RELOAD_MS = 500;

/** A stable key of an object, for finding its open panel. */
export function objectKey(ref: IObjectRef): string {
  return `${ref.namespace}/${ref.kind}/${ref.name}`;
}

/** What a panel about one object shows, kept current from the live tables. */
export class ObjectModel implements IDisposable {
  constructor(
    readonly ref: IObjectRef,
    readonly cluster: ClusterModel
  ) {
    cluster.rowsChanged.connect(this._onRowsChanged);
    cluster.changed.connect(this._emit);
    void this.reload();
  }

  /** Emitted when anything the view shows changes. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get tab(): ObjectTab {
    return this._tab;
  }

  /** Whether the object has logs (pods). */
  get hasLogs(): boolean {
    return this.ref.kind === 'pods';
  }

  get description(): IDescription | null {
    return this._description;
  }

  /** Why the description could not be read, or null. */
  get error(): ApiError | null {
    return this._error;
  }

  get loading(): boolean {
    return this._loading;
  }

  get yaml(): string | null {
    return this._yaml;
  }

  get yamlError(): ApiError | null {
    return this._yamlError;
  }

  /** True once the live table saw the object deleted. */
  get gone(): boolean {
    return this._gone;
  }

  /** The log viewer's model, made when the Logs tab is first shown. */
  get logs(): LogModel | null {
    return this._logs;
  }

  /** The object's live row, when its kind's table is subscribed. */
  get row(): IRow | undefined {
    return this.cluster.findRow(this.ref.kind, this.ref.name) ?? this._description?.row;
  }

  /** Actions are hidden when the server or the user's settings say read-only. */
  get readOnly(): boolean {
    return this.cluster.readOnly;
  }

  /** What the last action did or why it failed, in words. */
  get actionMessage(): { ok: boolean; text: string } | null {
    return this._actionMessage;
  }

  /** True while an action is on its way. */
  get busy(): boolean {
    return this._busy;
  }

  setTab(tab: ObjectTab): void {
    if (tab === this._tab) {
      return;
    }
    this._tab = tab;
    if (tab === 'yaml' && this._yaml === null) {
      void this._loadYaml();
    }
    if (tab === 'logs' && this.hasLogs) {
      this._startLogs();
    }
    this._emit();
  }

  /** Read the description again, and the YAML if it was shown. */
  async reload(): Promise<void> {
    this._loading = true;
    this._emit();
    try {
      this._description = await fetchDescription(this.ref);
      this._error = null;
      this._gone = false;
      this._logs?.setContainers(this._containerNames());
    } catch (error) {
      this._error = asApiError(error);
      if (this._error.status === 404) {
        this._gone = true;
      }
    } finally {
      this._loading = false;
    }
    if (this._yaml !== null || this._tab === 'yaml') {
      await this._loadYaml();
    }
    this._emit();
  }

  /**
   * What deleting the pod will do, read from the pod's owner references and the owner itself
   * (a Job's completions); when the cluster does not say, the words say that the owner decides.
   */
  async deleteOutcome(): Promise<IDeleteOutcome> {
    let pod: IKubeObject;
    try {
      pod = await fetchObject(this.ref);
    } catch {
      const owners = this._description?.owners ?? [];
      return owners.length > 0
        ? {
            fate: 'maybe',
            words: `It belongs to ${owners.join(', ')}, which decides whether a new pod replaces it.`
          }
        : {
            fate: 'gone',
            words: 'Nothing owns it, so no new pod replaces it: it is gone for good.'
          };
    }
    const ref = controllerOf(pod);
    const plural = ref && OWNER_PLURALS[ref.kind];
    let owner: IKubeObject | null = null;
    if (ref && plural) {
      try {
        owner = await fetchObject({ kind: plural, name: ref.name, namespace: this.ref.namespace });
      } catch {
        // Not allowed to read the owner: the words say less, but nothing false.
      }
    }
    return deleteOutcome(pod, owner);
  }

  /** Delete the pod; what follows depends on its owner (see `deleteOutcome`). */
  async deletePod(): Promise<void> {
    await this._act(async () => {
      await deletePod(this.ref.namespace, this.ref.name);
      return `Pod ${this.ref.name} is being deleted.`;
    });
  }

  /** Set the deployment's replicas. */
  async scale(replicas: number): Promise<void> {
    await this._act(async () => {
      const set = await scaleDeployment(this.ref.namespace, this.ref.name, replicas);
      return `Deployment ${this.ref.name} scaled to ${set} replicas.`;
    });
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    window.clearTimeout(this._reloadTimer);
    this.cluster.rowsChanged.disconnect(this._onRowsChanged);
    this.cluster.changed.disconnect(this._emit);
    this._logs?.dispose();
    Signal.clearData(this);
  }

  private async _act(action: () => Promise<string>): Promise<void> {
    this._busy = true;
    this._actionMessage = null;
    this._emit();
    try {
      this._actionMessage = { ok: true, text: await action() };
    } catch (error) {
      this._actionMessage = { ok: false, text: asApiError(error).message };
    } finally {
      this._busy = false;
      this._emit();
    }
  }

  private async _loadYaml(): Promise<void> {
    try {
      this._yaml = await fetchYaml(this.ref);
      this._yamlError = null;
    } catch (error) {
      this._yamlError = asApiError(error);
    }
    this._emit();
  }

  private _startLogs(): void {
    if (!this._logs) {
      this._logs = new LogModel(this.cluster.socket, this.ref, this._containerNames());
      this._logs.changed.connect(this._emit);
    }
    this._logs.start();
  }

  /** The pod's containers (not the init ones), from the description or the live row. */
  private _containerNames(): string[] {
    const described = this._description?.containers.filter(c => !c.init).map(c => c.name);
    if (described && described.length > 0) {
      return described;
    }
    const listed = this.row?.containers;
    return Array.isArray(listed) ? listed.filter((c): c is string => typeof c === 'string') : [];
  }

  /** Follow the live tables: reload when the object or an event about it changes. */
  private _onRowsChanged = (_: ClusterModel, change: IRowChange): void => {
    const { kind, name, namespace } = this.ref;
    if (this.cluster.namespace !== namespace) {
      return;
    }
    if (kind === change.kind) {
      const mine = change.rows.filter(row => row.name === name);
      if (change.type === 'DELETED' && mine.length > 0) {
        this._gone = true;
        this._emit();
        return;
      }
      if (change.type === 'snapshot' && mine.length === 0) {
        this._gone = this._description !== null || this._gone;
        this._emit();
        return;
      }
      if (mine.length > 0) {
        this._reloadSoon();
      }
    } else if (change.kind === 'events' && change.type !== 'DELETED') {
      if (change.rows.some(row => row.involved_name === name)) {
        this._reloadSoon();
      }
    }
  };

  private _reloadSoon(): void {
    if (this._reloadTimer) {
      return;
    }
    this._reloadTimer = window.setTimeout(() => {
      this._reloadTimer = 0;
      if (!this._disposed) {
        void this.reload();
      }
    }, RELOAD_MS);
  }

  private _emit = (): void => {
    if (!this._disposed) {
      this._changed.emit();
    }
  };

  private _actionMessage: { ok: boolean; text: string } | null = null;
  private _busy = false;
  private _changed = new Signal<this, void>(this);
  private _description: IDescription | null = null;
  private _disposed = false;
  private _error: ApiError | null = null;
  private _gone = false;
  private _loading = false;
  private _logs: LogModel | null = null;
  private _reloadTimer = 0;
  private _tab: ObjectTab = 'describe';
  private _yaml: string | null = null;
  private _yamlError: ApiError | null = null;
}

function asApiError(error: unknown): ApiError {
  return error instanceof ApiError ? error : new ApiError(0, 'unexpected', String(error));
}
