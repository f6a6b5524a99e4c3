/** The Cluster section's body: namespace, resource tabs with counts, filter and live table. */

import * as React from 'react';

import { ClusterModel, KindTable, TABS } from './cluster';
import { asText, formatAge } from './format';
import type { KubeRow } from './models.generated';

/** More rows than this are not drawn: the filter narrows them down. */
export const MAX_TABLE_ROWS = 500;

/** Header words of the columns the server names. */
const COLUMN_WORDS: Record<string, string> = {
  name: 'Name',
  ready: 'Ready',
  status: 'Status',
  restarts: 'Restarts',
  age: 'Age',
  node: 'Node',
  up_to_date: 'Up-to-date',
  available: 'Available',
  desired: 'Desired',
  current: 'Current',
  completions: 'Completions',
  duration: 'Duration',
  schedule: 'Schedule',
  suspend: 'Suspend',
  active: 'Active',
  last_schedule: 'Last schedule',
  type: 'Type',
  cluster_ip: 'Cluster IP',
  external_ip: 'External IP',
  ports: 'Ports',
  volume: 'Volume',
  capacity: 'Capacity',
  storage_class: 'Storage class',
  last_seen: 'Last seen',
  reason: 'Reason',
  object: 'Object',
  message: 'Message',
  keys: 'Keys'
};

/** Cells that may be cut short with an ellipsis carry their whole text as a tooltip. */
const TOOLTIP_COLUMNS = new Set(['name', 'status', 'object', 'reason']);

/** Columns hide from the highest priority up as the section narrows (see base.css). */
const MAX_PRIORITY = 5;

/**
 * Which columns stay when the section is narrow: 0 always shows (the name, and the status or,
 * where a kind has none, its next column), then 1, 2… in the order the server lists them.
 * Events lay out on two lines instead, so all their columns stay.
 */
export function columnPriorities(kind: string, columns: readonly string[]): number[] {
  if (kind === 'events') {
    return columns.map(() => 0);
  }
  const essential = new Set(['name', columns.includes('status') ? 'status' : columns[1]]);
  let next = 0;
  return columns.map(column => (essential.has(column) ? 0 : Math.min(MAX_PRIORITY, (next += 1))));
}

/** A row's tooltip: what it opens, and every column, so narrow tables hide nothing for good. */
function rowTitle(row: KubeRow, columns: readonly string[], now: number): string {
  const facts = columns
    .filter(column => column !== 'name')
    .map(column => `${COLUMN_WORDS[column] ?? column}: ${cellText(row, column, now)}`)
    .filter(fact => !fact.endsWith(': '));
  return [`Open ${row.name}`, ...facts].join('\n');
}

/** What the Cluster section needs besides its model. */
export interface IClusterViewProps {
  model: ClusterModel;
  /** Open the panel about a row's object. */
  onOpen: (kind: string, row: KubeRow) => void;
}

/** The live browser of the namespace, below the Cluster section's status line. */
export function ClusterView(props: IClusterViewProps): JSX.Element | null {
  const { model } = props;
  if (!model.configured) {
    return null;
  }
  if (model.error && model.kinds.length === 0) {
    return (
      <div className="jp-mlops-error" role="alert" data-testid="mlops-cluster-error">
        {model.error.message}
      </div>
    );
  }
  if (model.kinds.length === 0) {
    return (
      <div className="jp-mlops-loading" data-testid="mlops-cluster-loading">
        Listing what the cluster serves…
      </div>
    );
  }
  const table = model.table(model.tab);
  const reconnecting = model.connection === 'reconnecting' || table?.state === 'reconnecting';
  return (
    <div
      className="jp-mlops-cluster"
      data-testid="mlops-cluster"
      data-connection={model.connection}
    >
      <div className="jp-mlops-cluster-bar">
        <NamespaceInput model={model} />
        <WarningBadge count={model.warnings} onClick={() => model.showWarnings()} />
      </div>
      {reconnecting && (
        <div className="jp-mlops-reconnecting" role="status" data-testid="mlops-reconnecting">
          Reconnecting… showing the last rows received.
          {table?.error ? ` ${table.error}` : ''}
        </div>
      )}
      <KindTabs model={model} />
      <input
        type="search"
        className="jp-mlops-filter jp-mod-styled"
        data-testid="mlops-filter"
        placeholder="Filter by name or status"
        aria-label="Filter the table by name or status"
        value={model.filter}
        onChange={event => model.setFilter(event.target.value)}
      />
      {model.tab === 'events' && (
        <label className="jp-mlops-only-warnings">
          <input
            type="checkbox"
            data-testid="mlops-only-warnings"
            checked={model.onlyWarnings}
            onChange={event => model.setOnlyWarnings(event.target.checked)}
          />{' '}
          Warnings only
        </label>
      )}
      <TableView model={model} table={table} onOpen={props.onOpen} />
    </div>
  );
}

/** The namespace shown; another can be typed, since listing namespaces is usually forbidden. */
function NamespaceInput(props: { model: ClusterModel }): JSX.Element {
  const { model } = props;
  const [draft, setDraft] = React.useState(model.namespace);
  React.useEffect(() => setDraft(model.namespace), [model.namespace]);
  const apply = (): void => {
    model.setNamespace(draft);
    // An invalid name is refused by the model: show what is really in use.
    setDraft(model.namespace);
  };
  const title =
    model.namespace === model.defaultNamespace
      ? 'The namespace this server works in; type another and press Enter'
      : `Showing another namespace; empty the box to go back to ${model.defaultNamespace}`;
  return (
    <label className="jp-mlops-namespace-input">
      <span className="jp-mlops-label">Namespace</span>
      <input
        type="text"
        className="jp-mod-styled"
        data-testid="mlops-namespace-input"
        spellCheck={false}
        title={title}
        value={draft}
        onChange={event => setDraft(event.target.value)}
        onBlur={apply}
        onKeyDown={event => {
          if (event.key === 'Enter') {
            apply();
          } else if (event.key === 'Escape') {
            setDraft(model.namespace);
          }
        }}
      />
    </label>
  );
}

/** How many Warning events the namespace has; clicking shows the Events tab. */
function WarningBadge(props: { count: number; onClick: () => void }): JSX.Element {
  const { count } = props;
  return (
    <button
      type="button"
      className="jp-mlops-warnings jp-Button jp-mod-minimal"
      data-testid="mlops-warnings"
      data-count={count}
      title={`${count} Warning event${count === 1 ? '' : 's'} in this namespace: show them`}
      onClick={props.onClick}
    >
      {count} warning{count === 1 ? '' : 's'}
    </button>
  );
}

/** One tab per resource kind, with its count, and a picker of the cluster's custom kinds. */
function KindTabs(props: { model: ClusterModel }): JSX.Element {
  const { model } = props;
  const custom = model.customKinds;
  return (
    <div className="jp-mlops-tabs" role="tablist" aria-label="Resource kinds">
      {TABS.filter(tab => model.kindInfo(tab.kind)).map(tab => {
        const count = model.count(tab.kind);
        const selected = model.tab === tab.kind;
        return (
          <button
            key={tab.kind}
            type="button"
            role="tab"
            className="jp-mlops-tab"
            data-testid={`mlops-tab-${tab.kind}`}
            aria-selected={selected}
            onClick={() => model.setTab(tab.kind)}
          >
            {tab.label}{' '}
            <span className="jp-mlops-count" data-testid={`mlops-count-${tab.kind}`}>
              {count ?? '…'}
            </span>
          </button>
        );
      })}
      {custom.length > 0 && (
        <select
          className="jp-mlops-custom jp-mod-styled"
          data-testid="mlops-custom-kind"
          aria-label="Custom resources"
          value={model.customKind ?? ''}
          onChange={event => model.setCustomKind(event.target.value || null)}
        >
          <option value="">Custom…</option>
          {custom.map(kind => (
            <option key={`${kind.group}/${kind.plural}`} value={kind.plural}>
              {kind.kind} ({kind.group})
              {model.count(kind.plural) !== null ? ` ${model.count(kind.plural)}` : ''}
            </option>
          ))}
        </select>
      )}
    </div>
  );
}

/** The table of the selected kind, or why there is none. */
function TableView(props: {
  model: ClusterModel;
  table: KindTable | undefined;
  onOpen: (kind: string, row: KubeRow) => void;
}): JSX.Element {
  const { model, table } = props;
  const kind = model.tab;
  if (!table || (!table.loaded && table.state !== 'failed')) {
    return (
      <div className="jp-mlops-loading" data-testid="mlops-table-loading">
        Loading {kind}…
      </div>
    );
  }
  if (!table.loaded) {
    return (
      <div className="jp-mlops-error" role="alert" data-testid="mlops-table-error">
        {table.error}
      </div>
    );
  }
  const rows = model.visibleRows();
  const shown = rows.slice(0, MAX_TABLE_ROWS);
  const columns = table.columns.length > 0 ? table.columns : ['name', 'status', 'age'];
  const priorities = columnPriorities(kind, columns);
  const now = Date.now();
  return (
    <div className="jp-mlops-table-wrap">
      <table
        className="jp-mlops-table"
        data-testid="mlops-table"
        data-kind={kind}
        data-layout={kind === 'events' ? 'events' : 'columns'}
        data-state={table.state}
        data-only-warnings={kind === 'events' && model.onlyWarnings}
      >
        <thead>
          <tr>
            {columns.map((column, index) => (
              <th key={column} scope="col" data-column={column} data-priority={priorities[index]}>
                {COLUMN_WORDS[column] ?? column}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {shown.map(row => (
            <tr
              key={row.uid}
              className="jp-mlops-row"
              data-testid="mlops-row"
              data-uid={row.uid}
              data-name={row.name}
              data-health={row.health}
              tabIndex={0}
              title={rowTitle(row, columns, now)}
              onClick={() => props.onOpen(kind, row)}
              onKeyDown={event => {
                if (event.key === 'Enter') {
                  props.onOpen(kind, row);
                }
              }}
            >
              {columns.map((column, index) => (
                <td
                  key={column}
                  data-column={column}
                  data-priority={priorities[index]}
                  title={TOOLTIP_COLUMNS.has(column) ? cellText(row, column, now) : undefined}
                >
                  <Cell row={row} column={column} now={now} />
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      {rows.length === 0 && (
        <div className="jp-mlops-empty" data-testid="mlops-table-empty">
          {model.filter
            ? `No ${kind} match "${model.filter}".`
            : kind === 'events' && model.onlyWarnings
              ? `No Warning events in namespace ${model.namespace}.`
              : `No ${kind} in namespace ${model.namespace}.`}
        </div>
      )}
      {rows.length > shown.length && (
        <div className="jp-mlops-muted" data-testid="mlops-table-more">
          Showing {shown.length} of {rows.length}: type in the filter to narrow them down.
        </div>
      )}
    </div>
  );
}

/** A cell's words, as its tooltip and the row's say them. */
function cellText(row: KubeRow, column: string, now: number): string {
  if (column === 'age' && typeof row.created === 'string') {
    return formatAge(row.created, now);
  }
  if (column === 'last_seen' && typeof row.time === 'string') {
    return formatAge(row.time, now);
  }
  return asText(row[column]);
}

/** One cell: the status coloured by health, times as ages, lists joined. */
function Cell(props: { row: KubeRow; column: string; now: number }): JSX.Element {
  const { row, column, now } = props;
  if (column === 'status') {
    return (
      <span className="jp-mlops-health" data-health={row.health} data-testid="mlops-status">
        {row.status}
      </span>
    );
  }
  if (column === 'age' && typeof row.created === 'string') {
    return <>{formatAge(row.created, now)}</>;
  }
  if (column === 'last_seen' && typeof row.time === 'string') {
    return <>{formatAge(row.time, now)}</>;
  }
  if (column === 'type' && row.type === 'Warning') {
    return (
      <span className="jp-mlops-health" data-health="warning">
        Warning
      </span>
    );
  }
  return <>{asText(row[column])}</>;
}
