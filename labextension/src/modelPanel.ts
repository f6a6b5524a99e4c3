/** The main-area panel that shows one model: its content draws again whenever the model changes. */

import { MainAreaWidget } from '@jupyterlab/apputils';
import { ReactWidget } from '@jupyterlab/ui-components';
import { IDisposable } from '@lumino/disposable';
import { ISignal } from '@lumino/signaling';

import { mlopsIcon } from './icon';

/** A model a panel shows: it says when it changed, and the panel disposes it when closed. */
export interface IPanelModel extends IDisposable {
  readonly changed: ISignal<unknown, void>;
}

/** A panel's content: follows its model and renders it. */
export abstract class ModelView<M extends IPanelModel> extends ReactWidget {
  constructor(readonly model: M) {
    super();
    this.addClass('jp-mlops-object');
    model.changed.connect(this._onChanged);
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this.model.changed.disconnect(this._onChanged);
    super.dispose();
  }

  private _onChanged = (): void => this.update();
}

/** What a panel is called: its id (one panel per model), its tab's label and its caption. */
export interface IPanelTitle {
  id: string;
  label: string;
  caption: string;
}

/** A closable main-area panel around `content`; closing it disposes the model. */
export function createModelPanel<V extends ModelView<IPanelModel>>(
  content: V,
  title: IPanelTitle
): MainAreaWidget<V> {
  const panel = new MainAreaWidget({ content });
  panel.id = title.id;
  panel.title.label = title.label;
  panel.title.caption = title.caption;
  panel.title.icon = mlopsIcon;
  panel.title.closable = true;
  panel.addClass('jp-mlops-object-panel');
  panel.disposed.connect(() => content.model.dispose());
  return panel;
}
