/** State of a pod's log viewer: a capped buffer of lines, following, container, search. */

import { IDisposable } from '@lumino/disposable';

import { ApiError, fetchLog } from './api';
import { ILiveMessage, LiveSocket } from './live';
import { ModelBase } from './modelBase';
import type { IObjectRef } from './object';

/** Lines kept in memory; older ones are dropped and counted, so a chatty pod cannot fill it. */
export const MAX_LOG_LINES = 200_000;

/** Lines asked for when a log is opened: enough to see what happened, quick to send. */
export const TAIL_LINES = 5000;

/** Which log of a pod to read. */
export interface ILogQuery {
  container: string | null;
  tail: number;
  previous: boolean;
}

/** Where the log stands. */
export type LogState = 'loading' | 'following' | 'ended' | 'snapshot' | 'failed';

/** The log of one container of a pod, live or as a snapshot. */
export class LogModel extends ModelBase {
  constructor(
    readonly socket: LiveSocket,
    readonly pod: IObjectRef,
    containers: string[]
  ) {
    super();
    this._containers = containers;
    this._container = containers[0] ?? null;
  }

  /** Grows with every change, so a view can tell whether to draw again. */
  get version(): number {
    return this._version;
  }

  get lines(): readonly string[] {
    return this._buffer.lines;
  }

  /** Older lines no longer shown: dropped here past the cap, or skipped by the server. */
  get dropped(): number {
    return this._buffer.dropped;
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
    return this._buffer.search;
  }

  /** Indexes of the lines that contain the search text. */
  get matches(): readonly number[] {
    return this._buffer.matches;
  }

  /** Which match is current (an index into `matches`), or -1. */
  get matchIndex(): number {
    return this._buffer.matchIndex;
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
    if (this._buffer.setSearch(text)) {
      this._emit();
    }
  }

  /** Go to the next (`step` 1) or previous (`step` -1) match, wrapping around. */
  moveMatch(step: number): void {
    if (this._buffer.moveMatch(step)) {
      this._emit();
    }
  }

  /** Everything shown, as the text of a .log file. */
  text(): string {
    return this._buffer.text();
  }

  protected onDispose(): void {
    this._closeChannel();
  }

  /** Show the log again from its tail, live or as a snapshot. */
  private _open(): void {
    this._closeChannel();
    this._buffer.clear();
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
      if (request !== this._request || this.isDisposed) {
        return;
      }
      this._buffer.append(lines);
      this._state = 'snapshot';
    } catch (error) {
      if (request !== this._request || this.isDisposed) {
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
        this._buffer.append(message.lines ?? [], message.skipped ?? 0);
        this._state = 'following';
        break;
      case 'end':
        this._state = 'ended';
        this._closeChannel();
        break;
      case 'reopened':
        // The server sends the tail again on the new connection: start from it.
        this._buffer.clear();
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

  private _closeChannel(): void {
    this._channel?.dispose();
    this._channel = null;
  }

  /** Every change moves the version on; the view is told once per batch. */
  private _emit(): void {
    this._version += 1;
    this.emitSoon();
  }

  private _buffer = new LogBuffer();
  private _channel: IDisposable | null = null;
  private _container: string | null;
  private _containers: string[];
  private _error: string | null = null;
  private _following = true;
  private _previous = false;
  private _request = 0;
  private _started = false;
  private _state: LogState = 'loading';
  private _version = 0;
}

/**
 * The lines a log viewer holds, at most `cap` of them (older ones are dropped and counted),
 * and the lines that contain the search text with the current one among them.
 */
export class LogBuffer {
  constructor(readonly cap = MAX_LOG_LINES) {}

  get lines(): readonly string[] {
    return this._lines;
  }

  /** Older lines no longer held: dropped past the cap, or skipped by the server. */
  get dropped(): number {
    return this._dropped;
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

  /** Forget every line and match; the search text stays for the next lines. */
  clear(): void {
    this._lines = [];
    this._dropped = 0;
    this._matches = [];
    this._matchIndex = -1;
  }

  /** Add lines at the end, after `skipped` lines the server left out; the oldest go past the cap. */
  append(lines: readonly string[], skipped = 0): void {
    this._dropped += skipped;
    const first = this._lines.length;
    for (const line of lines) {
      this._lines.push(line);
    }
    this._findIn(first);
    const excess = this._lines.length - this.cap;
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

  /** Match lines containing `text` (case-insensitive), the first one current; false if unchanged. */
  setSearch(text: string): boolean {
    if (text === this._search) {
      return false;
    }
    this._search = text;
    this._matches = [];
    this._findIn(0);
    this._matchIndex = this._matches.length > 0 ? 0 : -1;
    return true;
  }

  /** Make the next (`step` 1) or previous (`step` -1) match current, wrapping around. */
  moveMatch(step: number): boolean {
    const count = this._matches.length;
    if (count === 0) {
      return false;
    }
    this._matchIndex = (((this._matchIndex + step) % count) + count) % count;
    return true;
  }

  /** Every line held, as the text of a .log file. */
  text(): string {
    return this._lines.length > 0 ? this._lines.join('\n') + '\n' : '';
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

  private _dropped = 0;
  private _lines: string[] = [];
  private _matchIndex = -1;
  private _matches: number[] = [];
  private _search = '';
}
