/** A parameter or output value: shown whole when short, else summarised and expandable. */

import * as React from 'react';

import { summariseValue } from './format';

/** One value in a run panel: `list of 200 numbers: [0, 1.47, …]`, unfolding to all of it. */
export function ValueView(props: { value: unknown }): JSX.Element {
  const { short, full } = summariseValue(props.value);
  if (full === null) {
    return (
      <code className="jp-mlops-value" data-testid="mlops-value">
        {short}
      </code>
    );
  }
  return (
    <details className="jp-mlops-value" data-testid="mlops-value" data-long="true">
      <summary title="Show the whole value" data-testid="mlops-value-summary">
        <code>{short}</code>
      </summary>
      <pre className="jp-mlops-value-full" data-testid="mlops-value-full">
        {full}
      </pre>
    </details>
  );
}
