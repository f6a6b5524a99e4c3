/** State of a main-area panel about one object: its description, YAML, log and actions. */

import {
  ApiError,
  deletePod,
  fetchDescription,
  fetchObject,
  fetchYaml,
  scaleDeployment
} from './api';
import { ActionModel } from './actionModel';
import { Backoff } from './backoff';
import { ClusterModel, IRowChange } from './cluster';
import { controllerOf, deleteOutcome, IDeleteOutcome } from './deletion';
import { LogModel } from './logs';
import type { KubeDescription, KubeObject, KubeRow } from './models.generated';

/** The object a main-area panel shows. */
export interface IObjectRef {
  /** The plural of the kind, e.g. `pods`. */
  kind: string;
  name: string;
  namespace: string;
}

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
export class ObjectModel extends ActionModel {
  constructor(
    readonly ref: IObjectRef,
    readonly cluster: ClusterModel
  ) {
    super();
    cluster.rowsChanged.connect(this._onRowsChanged);
    cluster.changed.connect(this.emit);
    void this.reload();
  }

  get tab(): ObjectTab {
    return this._tab;
  }

  /** Whether the object has logs (pods). */
  get hasLogs(): boolean {
    return this.ref.kind === 'pods';
  }

  get description(): KubeDescription | null {
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
  get row(): KubeRow | undefined {
    return this.cluster.findRow(this.ref.kind, this.ref.name) ?? this._description?.row;
  }

  /** Actions are hidden when the server or the user's settings say read-only. */
  get readOnly(): boolean {
    return this.cluster.readOnly;
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
    this.emit();
  }

  /** Read the description again, and the YAML if it was shown. */
  async reload(): Promise<void> {
    this._loading = true;
    this.emit();
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
    this.emit();
  }

  /**
   * What deleting the pod will do, read from the pod's owner references and the owner itself
   * (a Job's completions); when the cluster does not say, the words say that the owner decides.
   */
  async deleteOutcome(): Promise<IDeleteOutcome> {
    let pod: KubeObject;
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
    let owner: KubeObject | null = null;
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
    await this.act(async () => {
      await deletePod(this.ref.namespace, this.ref.name);
      return `Pod ${this.ref.name} is being deleted.`;
    });
  }

  /** Set the deployment's replicas. */
  async scale(replicas: number): Promise<void> {
    await this.act(async () => {
      const set = await scaleDeployment(this.ref.namespace, this.ref.name, replicas);
      return `Deployment ${this.ref.name} scaled to ${set} replicas.`;
    });
  }

  protected onDispose(): void {
    this._reloadSoon.dispose();
    this.cluster.rowsChanged.disconnect(this._onRowsChanged);
    this.cluster.changed.disconnect(this.emit);
    this._logs?.dispose();
  }

  private async _loadYaml(): Promise<void> {
    try {
      this._yaml = await fetchYaml(this.ref);
      this._yamlError = null;
    } catch (error) {
      this._yamlError = asApiError(error);
    }
    this.emit();
  }

  private _startLogs(): void {
    if (!this._logs) {
      this._logs = new LogModel(this.cluster.socket, this.ref, this._containerNames());
      this._logs.changed.connect(this.emit);
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
        this.emit();
        return;
      }
      if (change.type === 'snapshot' && mine.length === 0) {
        this._gone = this._description !== null || this._gone;
        this.emit();
        return;
      }
      if (mine.length > 0) {
        this._reloadSoon.schedule();
      }
    } else if (change.kind === 'events' && change.type !== 'DELETED') {
      if (change.rows.some(row => row.involved_name === name)) {
        this._reloadSoon.schedule();
      }
    }
  };

  private _description: KubeDescription | null = null;
  private _error: ApiError | null = null;
  private _gone = false;
  private _loading = false;
  private _logs: LogModel | null = null;
  // Changes within one wait make one reload; one arriving during a reload makes another.
  private _reloadSoon = new Backoff({
    name: 'jupyter-mlops:object',
    first: RELOAD_MS,
    max: RELOAD_MS,
    run: () => void this.reload()
  });
  private _tab: ObjectTab = 'describe';
  private _yaml: string | null = null;
  private _yamlError: ApiError | null = null;
}

function asApiError(error: unknown): ApiError {
  return error instanceof ApiError ? error : new ApiError(0, 'unexpected', String(error));
}
