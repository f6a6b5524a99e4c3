/** State of the sidebar's Cluster section: the namespace, its live tables and their counts. */

import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { ApiError, fetchKinds } from './api';
import { Backoff } from './backoff';
import { asText } from './format';
import { ConnectionState, ILiveMessage, LiveSocket } from './live';
import { ModelBase } from './modelBase';
import type { KubeKind, KubeRow } from './models.generated';
import { StatusModel } from './status';

/** The tabs every namespace shows, in order, with the words on them. */
export const TABS: ReadonlyArray<{ kind: string; label: string }> = [
  { kind: 'pods', label: 'Pods' },
  { kind: 'deployments', label: 'Deployments' },
  { kind: 'services', label: 'Services' },
  { kind: 'persistentvolumeclaims', label: 'PVCs' },
  { kind: 'events', label: 'Events' },
  { kind: 'jobs', label: 'Jobs' },
  { kind: 'statefulsets', label: 'StatefulSets' },
  { kind: 'configmaps', label: 'ConfigMaps' },
  { kind: 'secrets', label: 'Secrets' }
];

/** What a namespace name may look like (an RFC 1123 label), as the server checks too. */
export const NAMESPACE_PATTERN = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** Where one table stands: waiting for its first rows, live, catching up, or refused. */
export type TableState = 'loading' | 'live' | 'reconnecting' | 'failed';

/** A change the live tables applied, for panels that show one of the objects. */
export interface IRowChange {
  kind: string;
  type: 'snapshot' | 'ADDED' | 'MODIFIED' | 'DELETED';
  /** The changed row; for a snapshot, every row of the kind. */
  rows: KubeRow[];
}

/** Retries of a refused or failed request wait this long at first, then twice as long. */
const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 30_000;

/** The live rows of one kind in the current namespace. */
export class KindTable {
  constructor(readonly kind: string) {}

  /** Rows by uid: a row is replaced, never doubled, and a snapshot replaces them all. */
  readonly rows = new Map<string, KubeRow>();
  columns: string[] = [];
  state: TableState = 'loading';
  /** Why the table is not live, in the server's words. */
  error: string | null = null;
  /** Set once the first snapshot arrived; a reconnect keeps the old rows until the next one. */
  loaded = false;
  channel: IDisposable | null = null;
  /** Set while a table the cluster did not answer for waits to subscribe again. */
  retry: Backoff | null = null;

  /** Apply a snapshot or a row's change; what changed, or null when the message carries none. */
  applyRows(message: ILiveMessage): IRowChange | null {
    if (message.type === 'snapshot') {
      this.rows.clear();
      for (const row of message.rows ?? []) {
        this.rows.set(row.uid, row);
      }
      this.columns = message.columns ?? this.columns;
      this.loaded = true;
      this.state = 'live';
      this.error = null;
      this.retry?.reset();
      return { kind: this.kind, type: 'snapshot', rows: message.rows ?? [] };
    }
    const row = message.row;
    if (
      !row ||
      (message.type !== 'ADDED' && message.type !== 'MODIFIED' && message.type !== 'DELETED')
    ) {
      return null;
    }
    if (message.type === 'DELETED') {
      this.rows.delete(row.uid);
    } else {
      this.rows.set(row.uid, row);
    }
    return { kind: this.kind, type: message.type, rows: [row] };
  }
}

/** The Cluster section's model: one live table per tab, fed by the tab's WebSocket. */
export class ClusterModel extends ModelBase {
  constructor(
    readonly socket: LiveSocket,
    readonly status: StatusModel
  ) {
    super();
    status.changed.connect(this._onStatusChanged);
    socket.stateChanged.connect(this._onConnectionChanged);
  }

  /** Emitted for every change applied to a table. */
  get rowsChanged(): ISignal<this, IRowChange> {
    return this._rowsChanged;
  }

  /** Whether a cluster is configured at all; without one the section only shows how to connect. */
  get configured(): boolean {
    const mode = this.status.report?.cluster.mode;
    return mode !== undefined && mode !== 'none';
  }

  /** The namespace the server acts in; the selector goes back to it when emptied. */
  get defaultNamespace(): string {
    return this._defaultNamespace;
  }

  /** The namespace the tables show; before the cluster answers, the one the status reports. */
  get namespace(): string {
    return this._namespace || (this.status.report?.identity.namespace ?? '');
  }

  /** Kinds the cluster serves, as listed at start; empty until then. */
  get kinds(): readonly KubeKind[] {
    return this._kinds;
  }

  /** Custom resources found on this cluster, for the custom picker. */
  get customKinds(): KubeKind[] {
    return this._kinds.filter(k => k.custom && k.namespaced);
  }

  /** Why the kinds could not be listed (no cluster, not reachable…), or null. */
  get error(): ApiError | null {
    return this._error;
  }

  /** The kind of the selected tab (a custom kind's plural when the custom picker is used). */
  get tab(): string {
    return this._tab;
  }

  /** The custom kind chosen in the picker, or null. */
  get customKind(): string | null {
    return this._customKind;
  }

  /** The filter text of the table. */
  get filter(): string {
    return this._filter;
  }

  /** Whether the Events tab shows only Warning events (as the warnings badge opens it). */
  get onlyWarnings(): boolean {
    return this._onlyWarnings;
  }

  /** The state of the tab's live connection. */
  get connection(): ConnectionState {
    return this.socket.state;
  }

  /** Read-only when the server says so or the user's settings ask for it. */
  get readOnly(): boolean {
    return this.status.readOnly;
  }

  /** The live table of a kind, if it is subscribed. */
  table(kind: string): KindTable | undefined {
    return this._tables.get(kind);
  }

  /** How many objects a tab has, or null before its first snapshot. */
  count(kind: string): number | null {
    const table = this._tables.get(kind);
    return table?.loaded ? table.rows.size : null;
  }

  /** How many Warning events the namespace has. */
  get warnings(): number {
    let count = 0;
    for (const event of this._tables.get('events')?.rows.values() ?? []) {
      if (event.type === 'Warning') {
        count += 1;
      }
    }
    return count;
  }

  /** The rows of the selected tab that match the filter, in display order. */
  visibleRows(): KubeRow[] {
    const table = this._tables.get(this._tab);
    if (!table) {
      return [];
    }
    return filterRows(table.rows.values(), this._tab, this._filter, this._onlyWarnings);
  }

  /** The row of an object in a subscribed table, or undefined. */
  findRow(kind: string, name: string): KubeRow | undefined {
    for (const row of this._tables.get(kind)?.rows.values() ?? []) {
      if (row.name === name) {
        return row;
      }
    }
    return undefined;
  }

  /** The kind info of a plural or a Kind name (`Pod`), if the cluster serves it. */
  kindInfo(word: string): KubeKind | undefined {
    return this._kinds.find(k => k.plural === word || k.kind === word);
  }

  /** Whether the sidebar is on screen: hidden, the tables stop following the cluster. */
  set visible(visible: boolean) {
    if (visible === this._visible) {
      return;
    }
    this._visible = visible;
    this._update();
  }

  /** Show another namespace; an empty or invalid name goes back to the default one. */
  setNamespace(namespace: string): void {
    const wanted = namespace.trim();
    const valid = NAMESPACE_PATTERN.test(wanted) ? wanted : this._defaultNamespace;
    if (valid === this._namespace) {
      return;
    }
    this._namespace = valid;
    this._closeAll();
    this._update();
    this.emitSoon();
  }

  /** Select a tab by kind; the Events tab chosen this way shows every event. */
  setTab(kind: string): void {
    if (kind === this._tab && !(kind === 'events' && this._onlyWarnings)) {
      return;
    }
    this._tab = kind;
    this._onlyWarnings = false;
    this._update();
    this.emitSoon();
  }

  /** Show the Events tab with only its Warning events, as the warnings badge does. */
  showWarnings(): void {
    this._tab = 'events';
    this._onlyWarnings = true;
    this._update();
    this.emitSoon();
  }

  /** Show only the Warning events of the Events tab, or all of them. */
  setOnlyWarnings(only: boolean): void {
    if (only !== this._onlyWarnings) {
      this._onlyWarnings = only;
      this.emitSoon();
    }
  }

  /** Pick a custom kind (or none) and show its tab. */
  setCustomKind(kind: string | null): void {
    if (this._customKind && this._customKind !== kind) {
      this._close(this._customKind);
    }
    this._customKind = kind;
    if (kind) {
      this._tab = kind;
    } else if (!TABS.some(t => t.kind === this._tab)) {
      this._tab = TABS[0].kind;
    }
    this._update();
    this.emitSoon();
  }

  setFilter(text: string): void {
    if (text !== this._filter) {
      this._filter = text;
      this.emitSoon();
    }
  }

  protected onDispose(): void {
    this._closeAll();
    this._kindsRetry.dispose();
    this.status.changed.disconnect(this._onStatusChanged);
    this.socket.stateChanged.disconnect(this._onConnectionChanged);
  }

  /** Start or stop following the cluster to match what is on screen and configured. */
  private _update(): void {
    if (this.isDisposed) {
      return;
    }
    const active = this._visible && this.configured;
    if (!active) {
      for (const table of this._tables.values()) {
        this._unsubscribe(table);
      }
      return;
    }
    if (!this._kindsLoaded) {
      // A retry already waits its turn.
      if (!this._kindsRetry.pending) {
        void this._loadKinds();
      }
      return;
    }
    for (const kind of this._wanted()) {
      let table = this._tables.get(kind);
      if (!table) {
        table = new KindTable(kind);
        this._tables.set(kind, table);
      }
      if (!table.channel && !table.retry?.pending) {
        this._subscribe(table);
      }
    }
  }

  private _wanted(): string[] {
    const served = new Set(this._kinds.map(k => k.plural));
    const kinds = TABS.map(t => t.kind).filter(k => served.has(k));
    if (this._customKind) {
      kinds.push(this._customKind);
    }
    return kinds;
  }

  private async _loadKinds(): Promise<void> {
    if (this._kindsLoading) {
      return;
    }
    this._kindsLoading = true;
    try {
      const answer = await fetchKinds();
      this._kinds = answer.kinds;
      this._kindsLoaded = true;
      this._error = null;
      this._kindsRetry.reset();
      const reported = answer.namespace ?? this.status.report?.identity.namespace ?? 'default';
      if (this._namespace === '' || this._namespace === this._defaultNamespace) {
        this._namespace = reported;
      }
      this._defaultNamespace = reported;
    } catch (error) {
      this._error =
        error instanceof ApiError ? error : new ApiError(0, 'unexpected', String(error));
      // The cluster may come back (or be configured): try again, less and less often.
      this._kindsRetry.schedule();
    } finally {
      this._kindsLoading = false;
    }
    this.emitSoon();
    if (this._kindsLoaded) {
      this._update();
    }
  }

  private _subscribe(table: KindTable): void {
    // Rows known from before the sidebar was hidden stay until the snapshot replaces them.
    table.channel = this.socket.subscribe(table.kind, this._namespace, message =>
      this._receive(table, message)
    );
  }

  private _unsubscribe(table: KindTable): void {
    table.channel?.dispose();
    table.channel = null;
    table.retry?.cancel();
  }

  private _close(kind: string): void {
    const table = this._tables.get(kind);
    if (table) {
      this._unsubscribe(table);
      table.retry?.dispose();
      this._tables.delete(kind);
    }
  }

  private _closeAll(): void {
    for (const kind of [...this._tables.keys()]) {
      this._close(kind);
    }
  }

  private _receive(table: KindTable, message: ILiveMessage): void {
    switch (message.type) {
      case 'snapshot':
      case 'ADDED':
      case 'MODIFIED':
      case 'DELETED': {
        const change = table.applyRows(message);
        if (!change) {
          return;
        }
        this._rowsChanged.emit(change);
        break;
      }
      case 'synced':
        table.state = table.loaded ? 'live' : table.state;
        table.error = null;
        break;
      case 'reopened':
        // A new connection: the rows stay on screen until its snapshot replaces them.
        table.state = table.loaded ? 'reconnecting' : 'loading';
        break;
      case 'error':
        this._failed(table, message);
        break;
      default:
        return;
    }
    this.emitSoon();
  }

  /** An error on a table: a broken watch the server retries, or a subscription it refused. */
  private _failed(table: KindTable, message: ILiveMessage): void {
    const words = message.message ?? message.reason ?? 'the server refused this table';
    table.error = words;
    if (table.loaded) {
      // The server keeps the subscription and retries its watch; `synced` says it is back.
      table.state = 'reconnecting';
      return;
    }
    table.state = 'failed';
    this._unsubscribe(table);
    // A refusal (RBAC, unknown kind) stands; a cluster that did not answer is asked again.
    if (message.reason === 'Unavailable') {
      table.retry ??= this._backoff(`jupyter-mlops:table:${table.kind}`);
      table.retry.schedule();
    }
  }

  /** A retry that follows the cluster again: what is on screen decides what it subscribes. */
  private _backoff(name: string): Backoff {
    return new Backoff({
      name,
      first: FIRST_RETRY_MS,
      max: MAX_RETRY_MS,
      run: () => this._update()
    });
  }

  private _onStatusChanged = (): void => {
    if (this.configured !== this._wasConfigured || this.readOnly !== this._wasReadOnly) {
      this._wasConfigured = this.configured;
      this._wasReadOnly = this.readOnly;
      this._update();
      this.emitSoon();
    }
  };

  private _onConnectionChanged = (): void => this.emitSoon();

  private _customKind: string | null = null;
  private _defaultNamespace = '';
  private _error: ApiError | null = null;
  private _filter = '';
  private _kinds: KubeKind[] = [];
  private _kindsLoaded = false;
  private _kindsLoading = false;
  private _kindsRetry = this._backoff('jupyter-mlops:kinds');
  private _namespace = '';
  private _onlyWarnings = false;
  private _rowsChanged = new Signal<this, IRowChange>(this);
  private _tab = TABS[0].kind;
  private _tables = new Map<string, KindTable>();
  private _visible = false;
  private _wasConfigured = false;
  private _wasReadOnly = false;
}

/**
 * The rows of a `kind` that match the filter text (and, for events, only Warnings when asked),
 * in display order: events newest first, everything else by name.
 */
export function filterRows(
  rows: Iterable<KubeRow>,
  kind: string,
  filter: string,
  onlyWarnings = false
): KubeRow[] {
  const words = filter.trim().toLowerCase();
  const warningsOnly = kind === 'events' && onlyWarnings;
  const shown = [...rows].filter(
    row => (!words || matches(row, words)) && (!warningsOnly || row.type === 'Warning')
  );
  if (kind === 'events') {
    // Newest first: what just happened is what the user looks for.
    return shown.sort((a, b) => asText(b.time).localeCompare(asText(a.time)));
  }
  return shown.sort((a, b) => a.name.localeCompare(b.name));
}

/** Whether a row's name, status or (for events) words contain the filter's text. */
function matches(row: KubeRow, words: string): boolean {
  const text = [row.name, row.status, row.reason, row.object, row.message]
    .filter(part => typeof part === 'string')
    .join(' ')
    .toLowerCase();
  return text.includes(words);
}
