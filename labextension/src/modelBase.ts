/** What every model of the sidebar and the panels shares: a `changed` signal and one dispose. */

import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

/**
 * A model a view follows. It says when anything the view shows changed, at once or once per
 * batch, and stays silent once disposed; a subclass releases what it holds in `onDispose`.
 */
export abstract class ModelBase implements IDisposable {
  /** Emitted when anything the view shows changes. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this.onDispose();
    Signal.clearData(this);
  }

  /** Release connections, channels and polls; called once, by the first `dispose`. */
  protected onDispose(): void {
    // Nothing to release unless a subclass holds something.
  }

  /** Tell the view now (a slot, so other models' signals can be connected to it). */
  protected emit = (): void => {
    if (!this._isDisposed) {
      this._changed.emit();
    }
  };

  /** Many changes arrive in one frame: tell the view once, after all of them. */
  protected emitSoon(): void {
    if (this._emitPending) {
      return;
    }
    this._emitPending = true;
    queueMicrotask(() => {
      this._emitPending = false;
      this.emit();
    });
  }

  private _changed = new Signal<this, void>(this);
  private _emitPending = false;
  private _isDisposed = false;
}
