/** A panel's model with actions (delete, scale, stop, retry): one at a time, its outcome in words. */

import { ModelBase } from './modelBase';
import { asApiError } from './pipelines';

/** What the last action did or why it failed. */
export interface IActionMessage {
  ok: boolean;
  text: string;
}

/** A model whose panel runs actions; the view disables them while one is on its way. */
export abstract class ActionModel extends ModelBase {
  /** What the last action did or why it failed, in words. */
  get actionMessage(): IActionMessage | null {
    return this._actionMessage;
  }

  /** True while an action is on its way. */
  get busy(): boolean {
    return this._busy;
  }

  /** Run an action that answers with what it did; its failure becomes the message. */
  protected async act(action: () => Promise<string>): Promise<void> {
    this._busy = true;
    this._actionMessage = null;
    this.emit();
    try {
      this._actionMessage = { ok: true, text: await action() };
    } catch (error) {
      this._actionMessage = { ok: false, text: asApiError(error).message };
    } finally {
      this._busy = false;
      this.emit();
    }
  }

  private _actionMessage: IActionMessage | null = null;
  private _busy = false;
}
