/** The Resources view: gauges of my notebook, quota bars, the pods table (sortable by use or
 * by request), GPU availability and volumes with the pods that mount them. */

import { refreshIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import type {
  Gpus,
  MyPod,
  NotebookOwner,
  PodResources,
  QuotaLine,
  Volume
} from './models.generated';
import {
  amountWords,
  barFraction,
  barTone,
  IPodSort,
  quotasByName,
  ResourcesModel,
  sortPods
} from './resources';
import type { ISectionBody } from './sidebar';

/** The sidebar's Resources section, following its model. */
export class ResourcesSection implements ISectionBody {
  constructor(readonly model: ResourcesModel) {}

  get changed() {
    return this.model.changed;
  }

  setVisible(visible: boolean): void {
    this.model.visible = visible;
  }

  render(): JSX.Element | null {
    return <ResourcesView model={this.model} />;
  }
}

/** The section: closed by default (nothing is read until it is opened). */
export function ResourcesView(props: { model: ResourcesModel }): JSX.Element | null {
  const { model } = props;
  if (!model.configured) {
    return null;
  }
  return (
    <section
      className="jp-mlops-section jp-mlops-resources"
      data-testid="mlops-section-resources"
      aria-labelledby="jp-mlops-heading-resources"
      aria-busy={model.loading}
    >
      <h3
        className="jp-mlops-section-title jp-mlops-resources-title"
        id="jp-mlops-heading-resources"
      >
        <button
          type="button"
          className="jp-mlops-resources-toggle"
          data-testid="mlops-resources-toggle"
          aria-expanded={model.open}
          onClick={() => model.toggle()}
        >
          {model.open ? '▾' : '▸'} Resources
        </button>
        {model.open && (
          <button
            type="button"
            className="jp-Button jp-mod-minimal jp-mlops-refresh"
            data-testid="mlops-resources-refresh"
            title="Read the resources again"
            aria-label="Reload the resources"
            onClick={() => model.refresh()}
          >
            <refreshIcon.react tag="span" />
          </button>
        )}
      </h3>
      {model.open && <ResourcesBody model={model} />}
    </section>
  );
}

function ResourcesBody(props: { model: ResourcesModel }): JSX.Element {
  const { model } = props;
  const report = model.report;
  return (
    <div className="jp-mlops-resources-body">
      {model.meError && <Alert id="me" message={model.meError.message} />}
      {model.me && <MyGauges me={model.me} />}
      {!model.hasCluster && (
        <p className="jp-mlops-muted" data-testid="mlops-resources-no-cluster">
          No cluster configured: only this notebook&apos;s own use is shown.
        </p>
      )}
      {model.error && <Alert id="report" message={model.error.message} />}
      {report && (
        <>
          <QuotaBars lines={report.quotas} />
          <PodsTable
            pods={report.pods}
            sort={model.sort}
            metricsNote={report.metrics.served ? null : (report.metrics.note ?? null)}
            onSort={(by, resource) => model.sortBy(by, resource)}
          />
          <GpuList gpus={report.gpus} />
          <VolumeList volumes={report.volumes} />
        </>
      )}
    </div>
  );
}

function Alert(props: { id: string; message: string }): JSX.Element {
  return (
    <div className="jp-mlops-error" role="alert" data-testid={`mlops-resources-error-${props.id}`}>
      {props.message}
    </div>
  );
}

/** A horizontal bar, `part` of `whole`, with an optional mark (a request within a limit). */
function Bar(props: { part: number; whole: number; mark?: number | null; label: string }) {
  const fill = barFraction(props.part, props.whole) ?? 0;
  const mark = barFraction(props.mark, props.whole);
  return (
    <div
      className="jp-mlops-bar"
      role="meter"
      aria-label={props.label}
      aria-valuemin={0}
      aria-valuemax={props.whole}
      aria-valuenow={props.part}
      data-tone={barTone(props.part, props.whole)}
    >
      <div className="jp-mlops-bar-fill" style={{ width: `${fill * 100}%` }} />
      {mark !== null && <div className="jp-mlops-bar-mark" style={{ left: `${mark * 100}%` }} />}
    </div>
  );
}

/** The Notebook (v1) or Workspace (Notebooks 2.0) my pod runs for, and its state. */
function OwnerLine(props: { owner: NotebookOwner }): JSX.Element {
  const { owner } = props;
  const details = [
    owner.workspace_kind ? `kind ${owner.workspace_kind}` : null,
    owner.state ?? null
  ].filter(Boolean);
  return (
    <p
      className="jp-mlops-muted"
      data-testid="mlops-resources-owner"
      title={[`${owner.kind} ${owner.name} (${owner.api_version})`, owner.message, owner.note]
        .filter(Boolean)
        .join('\n')}
    >
      Runs for {owner.kind} <strong>{owner.name}</strong>
      {details.length > 0 ? ` · ${details.join(' · ')}` : ''}
      {owner.note ? ` · ${owner.note}` : ''}
    </p>
  );
}

/** My notebook's CPU and memory: use against request and limit. */
function MyGauges(props: { me: MyPod }): JSX.Element {
  const { me } = props;
  const usage = me.usage;
  const pod = me.pod ?? null;
  const gauges: [string, 'cpu' | 'memory', number | null, number | null][] = [
    ['CPU', 'cpu', usage.cpu_cores, pod?.limits?.cpu ?? usage.cpu_limit_cores],
    ['Memory', 'memory', usage.memory_bytes, pod?.limits?.memory ?? usage.memory_limit_bytes]
  ];
  return (
    <div className="jp-mlops-resources-part" data-testid="mlops-resources-me">
      <h4 className="jp-mlops-resources-heading">My notebook{me.name ? `: ${me.name}` : ''}</h4>
      {me.owner && <OwnerLine owner={me.owner} />}
      {gauges.map(([title, resource, used, limit]) => {
        const request = pod?.requests?.[resource] ?? null;
        const whole = limit ?? request;
        return (
          <div key={resource} className="jp-mlops-gauge" data-testid={`mlops-gauge-${resource}`}>
            <div className="jp-mlops-gauge-words">
              <span>{title}</span>
              <span data-testid={`mlops-gauge-${resource}-words`}>
                {amountWords(resource, used)} used · request {amountWords(resource, request)} ·
                limit {amountWords(resource, limit)}
              </span>
            </div>
            {whole !== null && used !== null && (
              <Bar part={used} whole={whole} mark={request} label={`${title} use`} />
            )}
          </div>
        );
      })}
      {me.note && <p className="jp-mlops-muted">{me.note}</p>}
    </div>
  );
}

/** Each quota's resources: used against hard, as the quota admission counted them. */
function QuotaBars(props: { lines: QuotaLine[] }): JSX.Element {
  const grouped = quotasByName(props.lines);
  return (
    <div className="jp-mlops-resources-part" data-testid="mlops-resources-quotas">
      <h4 className="jp-mlops-resources-heading">Quota</h4>
      {grouped.size === 0 && <p className="jp-mlops-muted">No ResourceQuota in this namespace.</p>}
      {[...grouped.entries()].map(([quota, lines]) => (
        <div key={quota} className="jp-mlops-quota" data-testid="mlops-quota" data-quota={quota}>
          <div className="jp-mlops-quota-name">{quota}</div>
          {lines.map(line => (
            <div
              key={line.resource}
              className="jp-mlops-quota-line"
              data-testid="mlops-quota-line"
              data-resource={line.resource}
              data-used={line.used}
              data-hard={line.hard}
            >
              <div className="jp-mlops-gauge-words">
                <span className="jp-mlops-quota-resource">{line.resource}</span>
                <span data-testid="mlops-quota-words">
                  {amountWords(line.resource, line.used)} / {amountWords(line.resource, line.hard)}
                </span>
              </div>
              <Bar part={line.used} whole={line.hard} label={`${quota} ${line.resource}`} />
            </div>
          ))}
        </div>
      ))}
    </div>
  );
}

/** A column head that sorts the table; it says which way it sorts. */
function SortHead(props: {
  sort: IPodSort;
  by: IPodSort['by'];
  resource: IPodSort['resource'];
  onSort: (by: IPodSort['by'], resource: IPodSort['resource']) => void;
}): JSX.Element {
  const { sort, by, resource } = props;
  const active = sort.by === by && sort.resource === resource;
  const label = `${resource === 'cpu' ? 'CPU' : 'Mem'} ${by === 'use' ? 'use' : 'req'}`;
  return (
    <th aria-sort={active ? (sort.descending ? 'descending' : 'ascending') : 'none'}>
      <button
        type="button"
        className="jp-mlops-sort"
        data-testid={`mlops-pods-sort-${by}-${resource}`}
        onClick={() => props.onSort(by, resource)}
      >
        {label}
        {active ? (sort.descending ? ' ↓' : ' ↑') : ''}
      </button>
    </th>
  );
}

/** Every pod of the namespace with its CPU and memory use and requests. */
function PodsTable(props: {
  pods: PodResources[];
  sort: IPodSort;
  metricsNote: string | null;
  onSort: (by: IPodSort['by'], resource: IPodSort['resource']) => void;
}): JSX.Element {
  const { sort, onSort } = props;
  const pods = sortPods(props.pods, sort);
  return (
    <div className="jp-mlops-resources-part" data-testid="mlops-resources-pods">
      <h4 className="jp-mlops-resources-heading">Pods</h4>
      {props.metricsNote && (
        <p className="jp-mlops-muted" data-testid="mlops-resources-metrics-note">
          {props.metricsNote}
        </p>
      )}
      <table className="jp-mlops-resources-table">
        <thead>
          <tr>
            <th>Pod</th>
            <SortHead sort={sort} by="use" resource="cpu" onSort={onSort} />
            <SortHead sort={sort} by="request" resource="cpu" onSort={onSort} />
            <SortHead sort={sort} by="use" resource="memory" onSort={onSort} />
            <SortHead sort={sort} by="request" resource="memory" onSort={onSort} />
          </tr>
        </thead>
        <tbody>
          {pods.map(pod => (
            <tr key={pod.name} data-testid="mlops-pod-row" data-pod={pod.name}>
              <td className="jp-mlops-resources-pod" title={`${pod.name} (${pod.phase ?? ''})`}>
                {pod.name}
              </td>
              <td>{amountWords('cpu', pod.usage?.cpu)}</td>
              <td>{amountWords('cpu', pod.requests?.cpu)}</td>
              <td>{amountWords('memory', pod.usage?.memory)}</td>
              <td>{amountWords('memory', pod.requests?.memory)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {pods.length === 0 && <p className="jp-mlops-muted">No pods in this namespace.</p>}
    </div>
  );
}

/** GPUs (and other devices) my pods ask for, and what each node has free, or why not known. */
function GpuList(props: { gpus: Gpus }): JSX.Element {
  const { gpus } = props;
  const requested = gpus.requested ?? [];
  const nodes = gpus.nodes ?? [];
  return (
    <div className="jp-mlops-resources-part" data-testid="mlops-resources-gpus">
      <h4 className="jp-mlops-resources-heading">GPUs</h4>
      {!gpus.nodes_readable && (
        <p className="jp-mlops-muted" data-testid="mlops-gpus-note">
          {gpus.note ?? 'Nodes are not readable: free GPUs are unknown.'}
        </p>
      )}
      {gpus.nodes_readable && nodes.length === 0 && (
        <p className="jp-mlops-muted">No node offers GPUs or other devices.</p>
      )}
      <ul className="jp-mlops-resources-list">
        {nodes.map(node => (
          <li
            key={`${node.node}/${node.resource}`}
            data-testid="mlops-gpu-node"
            data-node={node.node}
          >
            <span className="jp-mlops-resources-name">{node.node}</span>{' '}
            {node.product && <span className="jp-mlops-muted">{node.product} </span>}
            <span>
              {amountWords(node.resource, node.free)} of{' '}
              {amountWords(node.resource, node.allocatable)} {node.resource} free
            </span>
          </li>
        ))}
        {requested.map(use => (
          <li key={`${use.pod}/${use.resource}`} data-testid="mlops-gpu-use">
            <span className="jp-mlops-resources-name">{use.pod}</span> asks{' '}
            {amountWords(use.resource, use.count)} {use.resource}
          </li>
        ))}
      </ul>
    </div>
  );
}

/** Each claim: size, access modes, the pods that mount it and where; the RWO warning. */
function VolumeList(props: { volumes: Volume[] }): JSX.Element {
  return (
    <div className="jp-mlops-resources-part" data-testid="mlops-resources-volumes">
      <h4 className="jp-mlops-resources-heading">Volumes</h4>
      {props.volumes.length === 0 && (
        <p className="jp-mlops-muted">No PersistentVolumeClaim in this namespace.</p>
      )}
      <ul className="jp-mlops-resources-list">
        {props.volumes.map(volume => (
          <li key={volume.claim} data-testid="mlops-volume" data-claim={volume.claim}>
            <div>
              <span className="jp-mlops-resources-name">{volume.claim}</span>{' '}
              <span className="jp-mlops-muted">
                {amountWords('storage', volume.size)} · {volume.access_modes.join(', ')} ·{' '}
                {volume.phase}
              </span>
            </div>
            <ul className="jp-mlops-resources-mounts">
              {(volume.pods ?? []).map(pod => (
                <li key={pod.name} data-testid="mlops-volume-pod" data-pod={pod.name}>
                  {pod.name}
                  {pod.node ? ` on ${pod.node}` : ' (not scheduled)'}
                </li>
              ))}
            </ul>
            {volume.warning && (
              <div
                className="jp-mlops-resources-warning"
                role="alert"
                data-testid="mlops-volume-warning"
              >
                {volume.warning}
              </div>
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}
