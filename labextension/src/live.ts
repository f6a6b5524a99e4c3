/** The tab's one WebSocket to `mlops/api/ws`: live tables, followed logs and the doctor's findings, resumed after a break. */

import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { liveSocketUrl } from './api';
import { Backoff } from './backoff';
import type {
  LiveClientMessage,
  LiveError,
  LiveFindings,
  LiveLines,
  LiveRowChange,
  LiveServerMessage,
  LiveSnapshot,
  RunsPush
} from './models.generated';

/** Where the connection stands; `reconnecting` keeps what was shown until fresh data comes. */
export type ConnectionState = 'idle' | 'connecting' | 'open' | 'reconnecting';

/**
 * One message the server pushes (a `LiveServerMessage` of the generated models: which fields
 * are set depends on `type`), or `reopened`, which this socket tells each channel itself after
 * a reconnection.
 */
export interface ILiveMessage {
  id: string | null;
  type: LiveServerMessage['type'] | 'reopened';
  rows?: LiveSnapshot['rows'];
  columns?: LiveSnapshot['columns'];
  row?: LiveRowChange['row'];
  lines?: LiveLines['lines'];
  skipped?: LiveLines['skipped'];
  reason?: LiveError['reason'];
  message?: LiveError['message'];
  /** Of a `runs` push: the pipeline runs that changed, ids that left, errors by source. */
  runs?: RunsPush['runs'];
  gone?: RunsPush['gone'];
  errors?: RunsPush['errors'];
  /**
   * Of a `findings` push: the doctor's findings added or changed, by key (all of them when
   * `snapshot` is set); `gone` then holds the keys of findings no longer true.
   */
  findings?: LiveFindings['findings'];
  snapshot?: LiveFindings['snapshot'];
  unreadable?: LiveFindings['unreadable'];
}

/** What a consumer of a channel is told: each message of its own, in order. */
export type LiveHandler = (message: ILiveMessage) => void;

/** A log to follow: the `follow` request's fields. */
export interface IFollowRequest {
  pod: string;
  namespace: string;
  container: string | null;
  tail: number;
  previous: boolean;
}

/** First wait before reconnecting, doubled after each failure up to the maximum. */
const FIRST_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 10_000;

interface IChannel {
  open: LiveClientMessage;
  close: LiveClientMessage;
  handler: LiveHandler;
}

/**
 * The live channel of this browser tab. Tables subscribe and logs follow through it; after a
 * break it reconnects with backoff and sends every open request again, telling each handler
 * with a `reopened` message so it can expect a fresh snapshot or tail.
 */
export class LiveSocket implements IDisposable {
  constructor(private readonly _url: () => string = liveSocketUrl) {}

  /** Emitted when `state` changes. */
  get stateChanged(): ISignal<this, ConnectionState> {
    return this._stateChanged;
  }

  get state(): ConnectionState {
    return this._state;
  }

  /** How many times the connection was opened; tests and the view read it. */
  get opened(): number {
    return this._opened;
  }

  /** Rows of `kind` in `namespace`: a snapshot, then ADDED, MODIFIED and DELETED rows. */
  subscribe(kind: string, namespace: string, handler: LiveHandler): IDisposable {
    const id = this._nextId(kind);
    return this._add(id, {
      open: { op: 'subscribe', id, kind, namespace },
      close: { op: 'unsubscribe', id },
      handler
    });
  }

  /** A pod's log: `lines` messages, then `end` when the container stops. */
  follow(request: IFollowRequest, handler: LiveHandler): IDisposable {
    const id = this._nextId(`log-${request.pod}`);
    return this._add(id, {
      open: { op: 'follow', id, ...request },
      close: { op: 'unfollow', id },
      handler
    });
  }

  /** Pipeline runs of every source: every newest row first, then `runs` pushes of changes. */
  watchRuns(handler: LiveHandler): IDisposable {
    const id = this._nextId('runs');
    return this._add(id, {
      open: { op: 'watch-runs', id },
      close: { op: 'unwatch-runs', id },
      handler
    });
  }

  /** The doctor's findings in `namespace`: a snapshot, then `findings` pushes of changes. */
  watchDoctor(namespace: string, handler: LiveHandler): IDisposable {
    const id = this._nextId('doctor');
    return this._add(id, {
      open: { op: 'watch-doctor', id, namespace },
      close: { op: 'unwatch-doctor', id },
      handler
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
    this._channels.clear();
    this._reconnect.dispose();
    this._socket?.close();
    this._socket = null;
    Signal.clearData(this);
  }

  private _nextId(prefix: string): string {
    this._counter += 1;
    return `${prefix}#${this._counter}`;
  }

  private _add(id: string, channel: IChannel): IDisposable {
    this._channels.set(id, channel);
    if (this._socket?.readyState === WebSocket.OPEN) {
      this._send(channel.open);
    } else {
      this._connect();
    }
    let disposed = false;
    return {
      get isDisposed() {
        return disposed;
      },
      dispose: () => {
        if (disposed) {
          return;
        }
        disposed = true;
        this._channels.delete(id);
        if (this._socket?.readyState === WebSocket.OPEN) {
          this._send(channel.close);
        }
      }
    };
  }

  private _connect(): void {
    if (this._disposed || this._socket || this._reconnect.pending) {
      return;
    }
    this._setState(this._opened === 0 ? 'connecting' : 'reconnecting');
    const socket = new WebSocket(this._url());
    this._socket = socket;
    socket.onopen = () => {
      this._opened += 1;
      this._reconnect.reset();
      this._setState('open');
      const reopened = this._opened > 1;
      for (const [id, channel] of this._channels) {
        if (reopened) {
          channel.handler({ id, type: 'reopened' });
        }
        this._send(channel.open);
      }
    };
    socket.onmessage = event => this._receive(event.data);
    socket.onclose = () => {
      if (this._socket !== socket) {
        return;
      }
      this._socket = null;
      if (this._disposed) {
        return;
      }
      // Nothing to keep live: stay closed until something subscribes again.
      if (this._channels.size === 0) {
        this._setState('idle');
        return;
      }
      this._setState('reconnecting');
      this._reconnect.schedule();
    };
  }

  private _receive(data: unknown): void {
    let batch: unknown;
    try {
      batch = JSON.parse(String(data));
    } catch {
      console.error('jupyter-mlops: the live channel sent something that is not JSON');
      return;
    }
    const messages = Array.isArray(batch) ? (batch as ILiveMessage[]) : [batch as ILiveMessage];
    for (const message of messages) {
      const channel = message.id === null ? undefined : this._channels.get(message.id);
      if (channel) {
        channel.handler(message);
      } else if (message.type === 'error' && message.id === null) {
        console.error('jupyter-mlops: the live channel refused a request:', message.message);
      }
      // Other messages belong to channels closed meanwhile: they are late, not lost.
    }
  }

  private _send(request: LiveClientMessage): void {
    this._socket?.send(JSON.stringify(request));
  }

  private _setState(state: ConnectionState): void {
    if (state !== this._state) {
      this._state = state;
      this._stateChanged.emit(state);
    }
  }

  private _channels = new Map<string, IChannel>();
  private _counter = 0;
  private _disposed = false;
  private _opened = 0;
  // Jitter spreads the reconnections of many tabs after a server restart.
  private _reconnect = new Backoff({
    name: 'jupyter-mlops:live',
    first: FIRST_BACKOFF_MS,
    max: MAX_BACKOFF_MS,
    jitter: true,
    run: () => this._connect()
  });
  private _socket: WebSocket | null = null;
  private _state: ConnectionState = 'idle';
  private _stateChanged = new Signal<this, ConnectionState>(this);
}
