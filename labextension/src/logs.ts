/** State of a pod's log viewer: a capped buffer of lines, following, container, search. */

import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { ApiError, fetchLog, IObjectRef } from './api';
import { ILiveMessage, LiveSocket } from './live';

/** Lines kept in memory; older ones are dropped and counted, so a chatty pod cannot fill it. */
export const MAX_LOG_LINES = 200_000;

/** Lines asked for when a log is opened: enough to see what happened, quick to send. */
export const TAIL_LINES = 5000;

/** Where the log stands. */
export type LogState = 'loading' | 'following' | 'ended' | 'snapshot' | 'failed';

/** The log of one container of a pod, live or as a snapshot. */
export class LogModel implements IDisposable {
  constructor(
    readonly socket: LiveSocket,
    readonly pod: IObjectRef,
    containers: string[]
  ) {
    this._containers = containers;
    this._container = containers[0] ?? null;
  }

  /** Emitted, at most once per batch, when anything the view shows changes. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** Grows with every change, so a view can tell whether to draw again. */
  get version(): number {
    return this._version;
  }

  get lines(): readonly string[] {
    return this._lines;
  }

  /** Older lines no longer shown: dropped here past the cap, or skipped by the server. */
  get dropped(): number {
    return this._dropped;
  }

  get containers(): readonly string[] {
    return this._containers;
  }

  get container(): string | null {
    return this._container;
  }

  /** Whether the log of the container's previous run (before its last restart) is shown. */
  get previous(): boolean {
    return this._previous;
  }

  /** Whether new lines stream in as the pod writes them. */
  get following(): boolean {
    return this._following;
  }

  get state(): LogState {
    return this._state;
  }

  /** Why the log cannot be shown, in the server's words. */
  get error(): string | null {
    return this._error;
  }

  get search(): string {
    return this._search;
  }

  /** Indexes of the lines that contain the search text. */
  get matches(): readonly number[] {
    return this._matches;
  }

  /** Which match is current (an index into `matches`), or -1. */
  get matchIndex(): number {
    return this._matchIndex;
  }

  /** The name a downloaded copy gets. */
  get fileName(): string {
    const parts = [this.pod.name, this._container, this._previous ? 'previous' : null];
    return parts.filter(Boolean).join('-') + '.log';
  }

  /** Start showing the log (the panel calls this when the Logs tab is first shown). */
  start(): void {
    if (!this._started) {
      this._started = true;
      this._open();
    }
  }

  /** Update the containers the picker offers (a description may name them after the start). */
  setContainers(containers: string[]): void {
    this._containers = containers;
    if (this._container === null && containers.length > 0) {
      this._container = containers[0];
      if (this._started) {
        this._open();
      }
    }
    this._emit();
  }

  setContainer(container: string): void {
    if (container !== this._container) {
      this._container = container;
      this._open();
    }
  }

  setPrevious(previous: boolean): void {
    if (previous !== this._previous) {
      this._previous = previous;
      this._open();
    }
  }

  /** Follow the log live, or stop and keep what is shown. */
  setFollowing(following: boolean): void {
    if (following === this._following) {
      return;
    }
    this._following = following;
    if (following) {
      this._open();
    } else {
      this._closeChannel();
      if (this._state === 'following' || this._state === 'loading') {
        this._state = 'snapshot';
      }
      this._emit();
    }
  }

  /** Highlight lines containing `text` (case-insensitive) and go to the first one. */
  setSearch(text: string): void {
    if (text === this._search) {
      return;
    }
    this._search = text;
    this._matches = [];
    this._findIn(0);
    this._matchIndex = this._matches.length > 0 ? 0 : -1;
    this._emit();
  }

  /** Go to the next (`step` 1) or previous (`step` -1) match, wrapping around. */
  moveMatch(step: number): void {
    const count = this._matches.length;
    if (count > 0) {
      this._matchIndex = (((this._matchIndex + step) % count) + count) % count;
      this._emit();
    }
  }

  /** Everything shown, as the text of a .log file. */
  text(): string {
    return this._lines.length > 0 ? this._lines.join('\n') + '\n' : '';
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    this._closeChannel();
    Signal.clearData(this);
  }

  /** Show the log again from its tail, live or as a snapshot. */
  private _open(): void {
    this._closeChannel();
    this._clear();
    this._state = 'loading';
    this._error = null;
    this._request += 1;
    const live = this._following && !this._previous;
    if (live) {
      this._channel = this.socket.follow(
        {
          pod: this.pod.name,
          namespace: this.pod.namespace,
          container: this._container,
          tail: TAIL_LINES,
          previous: false
        },
        message => this._receive(message)
      );
      // An empty log sends nothing: it is followed all the same, and says so.
      this._state = 'following';
    } else {
      void this._snapshot(this._request);
    }
    this._emit();
  }

  private async _snapshot(request: number): Promise<void> {
    try {
      const lines = await fetchLog(this.pod, {
        container: this._container,
        tail: TAIL_LINES,
        previous: this._previous
      });
      if (request !== this._request || this._disposed) {
        return;
      }
      this._append(lines);
      this._state = 'snapshot';
    } catch (error) {
      if (request !== this._request || this._disposed) {
        return;
      }
      this._state = 'failed';
      this._error = error instanceof ApiError ? error.message : String(error);
    }
    this._emit();
  }

  private _receive(message: ILiveMessage): void {
    switch (message.type) {
      case 'lines':
        this._dropped += message.skipped ?? 0;
        this._append(message.lines ?? []);
        this._state = 'following';
        break;
      case 'end':
        this._state = 'ended';
        this._closeChannel();
        break;
      case 'reopened':
        // The server sends the tail again on the new connection: start from it.
        this._clear();
        break;
      case 'error':
        this._state = 'failed';
        this._error = message.message ?? message.reason ?? 'the log cannot be read';
        this._closeChannel();
        break;
      default:
        return;
    }
    this._emit();
  }

  private _append(lines: string[]): void {
    const first = this._lines.length;
    for (const line of lines) {
      this._lines.push(line);
    }
    this._findIn(first);
    const excess = this._lines.length - MAX_LOG_LINES;
    if (excess > 0) {
      this._lines.splice(0, excess);
      this._dropped += excess;
      const kept = this._matches.filter(index => index >= excess).map(index => index - excess);
      this._matchIndex = Math.max(
        -1,
        Math.min(this._matchIndex - (this._matches.length - kept.length), kept.length - 1)
      );
      this._matches = kept;
    }
    if (this._matchIndex < 0 && this._matches.length > 0) {
      this._matchIndex = 0;
    }
  }

  /** Add the lines from `first` on that contain the search text to the matches. */
  private _findIn(first: number): void {
    const words = this._search.toLowerCase();
    if (!words) {
      return;
    }
    for (let index = first; index < this._lines.length; index++) {
      if (this._lines[index].toLowerCase().includes(words)) {
        this._matches.push(index);
      }
    }
  }

  private _clear(): void {
    this._lines = [];
    this._dropped = 0;
    this._matches = [];
    this._matchIndex = -1;
  }

  private _closeChannel(): void {
    this._channel?.dispose();
    this._channel = null;
  }

  private _emit(): void {
    this._version += 1;
    if (this._emitPending) {
      return;
    }
    this._emitPending = true;
    queueMicrotask(() => {
      this._emitPending = false;
      if (!this._disposed) {
        this._changed.emit();
      }
    });
  }

  private _changed = new Signal<this, void>(this);
  private _channel: IDisposable | null = null;
  private _container: string | null;
  private _containers: string[];
  private _disposed = false;
  private _dropped = 0;
  private _emitPending = false;
  private _error: string | null = null;
  private _following = true;
  private _lines: string[] = [];
  private _matchIndex = -1;
  private _matches: number[] = [];
  private _previous = false;
  private _request = 0;
  private _search = '';
  private _started = false;
  private _state: LogState = 'loading';
  private _version = 0;
}
