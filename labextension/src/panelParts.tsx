/** Pieces every model panel's header shows alike: the reload button and the last action's outcome. */

import { refreshIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import type { IActionMessage } from './actionModel';

/** Read the panel's model again; disabled while a read is on its way. */
export function ReloadButton(props: {
  testId: string;
  title: string;
  loading: boolean;
  onReload: () => void;
}): JSX.Element {
  return (
    <button
      type="button"
      className="jp-Button jp-mod-minimal jp-mlops-refresh"
      data-testid={props.testId}
      title={props.title}
      aria-label="Reload"
      disabled={props.loading}
      onClick={props.onReload}
    >
      <refreshIcon.react tag="span" />
    </button>
  );
}

/** What the last action did (a notice) or why it failed (an alert); nothing before one ran. */
export function ActionMessage(props: {
  message: IActionMessage | null;
  testId: string;
}): JSX.Element | null {
  const { message } = props;
  if (!message) {
    return null;
  }
  return (
    <div
      className={message.ok ? 'jp-mlops-notice' : 'jp-mlops-error'}
      role={message.ok ? 'status' : 'alert'}
      data-testid={props.testId}
      data-ok={message.ok}
    >
      {message.text}
    </div>
  );
}
