/** The sidebar panel: a Lumino widget that follows the model and React views that only render. */

import { ReactWidget, refreshIcon } from '@jupyterlab/ui-components';
import { Message } from '@lumino/messaging';
import { ISignal } from '@lumino/signaling';
import * as React from 'react';

import type { ApiError } from './api';
import { ClusterModel } from './cluster';
import { ClusterView } from './clusterView';
import { mlopsIcon } from './icon';
import type { KubeRow, StatusReport } from './models.generated';
import { ResourcesModel } from './resources';
import { ResourcesSection } from './resourcesView';
import { ServingModel } from './serving';
import { ServingSection } from './servingView';
import { StatusModel } from './status';
import { TuningModel } from './tuning';
import { TuningSection } from './tuningView';

/** The status of one backend: the cluster, Pipelines or MLflow. */
type BackendStatus = StatusReport['cluster'];

/** Who the extension acts as. */
type Identity = StatusReport['identity'];

/** Id of the panel in the left area; the command and the layout restorer find it by this. */
export const SIDEBAR_ID = 'jupyter-mlops-sidebar';

/** A section's live body below its status line, following a model of its own. */
export interface ISectionBody {
  readonly changed: ISignal<unknown, void>;
  /** Told when the sidebar is shown or hidden, so a hidden body stops following its backend. */
  setVisible(visible: boolean): void;
  render(): React.ReactNode;
}

/** The Doctor section: a whole section of its own, with the count of errors it found. */
export interface IDoctorBody extends ISectionBody {
  readonly errors: number;
}

/** The Doctor section, the bodies of the Pipelines and MLflow sections under their status, and
 * the Serving, Tuning and Resources sections (made here from the status model when not given). */
export interface ISectionBodies {
  doctor?: IDoctorBody;
  pipelines?: ISectionBody;
  tracking?: ISectionBody;
  serving?: ISectionBody;
  tuning?: ISectionBody;
  resources?: ISectionBody;
}

/** The sidebar tab's tooltip, with the errors the Doctor found. */
export function sidebarCaption(errors: number): string {
  return errors > 0
    ? `MLOps: ${errors} error${errors === 1 ? '' : 's'} found by the Doctor`
    : 'MLOps';
}

/** The left-area panel showing the cluster, Pipelines and MLflow status. */
export class MlopsSidebar extends ReactWidget {
  constructor(
    readonly model: StatusModel,
    readonly cluster: ClusterModel,
    private readonly _open: (kind: string, row: KubeRow) => void,
    sections: ISectionBodies = {}
  ) {
    super();
    if (!sections.serving) {
      this._servingModel = new ServingModel(model);
    }
    if (!sections.tuning) {
      this._tuningModel = new TuningModel(model);
    }
    if (!sections.resources) {
      this._resourcesModel = new ResourcesModel(model);
    }
    this._sections = {
      ...sections,
      serving: sections.serving ?? new ServingSection(this._servingModel!),
      tuning: sections.tuning ?? new TuningSection(this._tuningModel!),
      resources: sections.resources ?? new ResourcesSection(this._resourcesModel!)
    };
    this.id = SIDEBAR_ID;
    this.title.icon = mlopsIcon;
    this.title.caption = 'MLOps';
    this.addClass('jp-mlops-sidebar');
    model.changed.connect(this._onModelChanged);
    cluster.changed.connect(this._onModelChanged);
    for (const section of this._bodies()) {
      section.changed.connect(this._onModelChanged);
    }
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this.model.changed.disconnect(this._onModelChanged);
    this.cluster.changed.disconnect(this._onModelChanged);
    for (const section of this._bodies()) {
      section.changed.disconnect(this._onModelChanged);
    }
    this._servingModel?.dispose();
    this._tuningModel?.dispose();
    this._resourcesModel?.dispose();
    super.dispose();
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this.model.visible = true;
    this.cluster.visible = true;
    for (const section of this._bodies()) {
      section.setVisible(true);
    }
  }

  protected onAfterHide(msg: Message): void {
    super.onAfterHide(msg);
    this.model.visible = false;
    this.cluster.visible = false;
    for (const section of this._bodies()) {
      section.setVisible(false);
    }
  }

  protected onUpdateRequest(msg: Message): void {
    super.onUpdateRequest(msg);
    this._showErrors();
  }

  protected render(): JSX.Element {
    const model = this.model;
    return (
      <StatusView
        report={model.report}
        error={model.error}
        loading={model.loading}
        readOnlySetting={model.readOnlySetting}
        refreshSeconds={model.refreshSeconds}
        updatedAt={model.updatedAt}
        onRefresh={() => void model.refresh()}
        doctor={this._sections.doctor?.render()}
        cluster={<ClusterView model={this.cluster} onOpen={this._open} />}
        pipelines={this._sections.pipelines?.render()}
        tracking={this._sections.tracking?.render()}
        serving={this._sections.serving?.render()}
        tuning={this._sections.tuning?.render()}
        resources={this._sections.resources?.render()}
      />
    );
  }

  private _onModelChanged = (): void => this.update();
  private readonly _sections: ISectionBodies;
  /** The Serving section's model when this sidebar made it (and so disposes of it). */
  private readonly _servingModel?: ServingModel;
  /** The Tuning section's model when this sidebar made it (and so disposes of it). */
  private readonly _tuningModel?: TuningModel;
  /** The Resources section's model when this sidebar made it (and so disposes of it). */
  private readonly _resourcesModel?: ResourcesModel;

  /** The Doctor's error count on the sidebar's tab: a badge (see base.css) and the tooltip. */
  private _showErrors(): void {
    const errors = this._sections.doctor?.errors ?? 0;
    const caption = sidebarCaption(errors);
    if (caption !== this.title.caption) {
      this.title.caption = caption;
      // JupyterLab keeps the tab's `data-id` in the same dataset: change only our key.
      const others = Object.fromEntries(
        Object.entries(this.title.dataset).filter(([key]) => key !== 'mlops-errors')
      );
      this.title.dataset = errors > 0 ? { ...others, 'mlops-errors': String(errors) } : others;
    }
  }

  /** The section bodies given, in the order of the sections. */
  private _bodies(): ISectionBody[] {
    const { doctor, pipelines, tracking, serving, tuning, resources } = this._sections;
    return [doctor, pipelines, tracking, serving, tuning, resources].filter(
      (body): body is ISectionBody => body !== undefined
    );
  }
}

/** What the status view shows; all of it comes from the model. */
export interface IStatusViewProps {
  report: StatusReport | null;
  error: ApiError | null;
  loading: boolean;
  readOnlySetting: boolean;
  refreshSeconds: number;
  updatedAt: Date | null;
  onRefresh: () => void;
  /** What is wrong in the namespace, shown first when a cluster is configured. */
  doctor?: React.ReactNode;
  /** The live browser of the namespace, shown under the cluster's status. */
  cluster?: React.ReactNode;
  /** The runs of both sources, shown under the Pipelines status. */
  pipelines?: React.ReactNode;
  /** Experiments, runs and models, shown under the MLflow status. */
  tracking?: React.ReactNode;
  /** Served models and their "Try it" panel, shown after the backends. */
  serving?: React.ReactNode;
  /** Hyperparameter searches, local and on Katib, shown after Serving. */
  tuning?: React.ReactNode;
  /** Requests, use, quota, GPUs and volumes of my notebook and namespace, shown last. */
  resources?: React.ReactNode;
}

/** The whole panel: header, error, identity and one section per backend. */
export function StatusView(props: IStatusViewProps): JSX.Element {
  const { report, error, loading } = props;
  return (
    <div className="jp-mlops-panel" data-testid="mlops-panel" aria-busy={loading}>
      <header className="jp-mlops-header">
        <h2 className="jp-mlops-title">MLOps</h2>
        {report && (
          <span className="jp-mlops-version" data-testid="mlops-version">
            v{report.version}
          </span>
        )}
        <ReadOnlyBadge server={report?.read_only ?? false} settings={props.readOnlySetting} />
        <button
          type="button"
          className="jp-mlops-refresh jp-Button jp-mod-minimal"
          data-testid="mlops-refresh"
          title="Check every backend again now"
          aria-label="Refresh"
          disabled={loading}
          onClick={props.onRefresh}
        >
          <refreshIcon.react tag="span" />
        </button>
      </header>
      {error && (
        <div className="jp-mlops-error" role="alert" data-testid="mlops-error">
          {error.message}
          {report && ' Showing the last status received.'}
        </div>
      )}
      {!report && !error && (
        <div className="jp-mlops-loading" data-testid="mlops-loading">
          Checking the cluster, Pipelines and MLflow…
        </div>
      )}
      {report && (
        <>
          <IdentityLine identity={report.identity} />
          {report.cluster.mode !== 'none' && props.doctor}
          <BackendSection id="cluster" title="Cluster" backend={report.cluster}>
            {props.cluster}
          </BackendSection>
          <BackendSection id="pipelines" title="Pipelines" backend={report.pipelines}>
            {props.pipelines}
          </BackendSection>
          <BackendSection id="tracking" title="MLflow" backend={report.tracking}>
            {props.tracking}
          </BackendSection>
          {props.serving}
          {props.tuning}
          {props.resources}
        </>
      )}
      <footer className="jp-mlops-footer" data-testid="mlops-updated">
        {props.updatedAt ? `Updated ${props.updatedAt.toLocaleTimeString()}` : 'Not updated yet'}
        {` · refreshes every ${props.refreshSeconds} s`}
      </footer>
    </div>
  );
}

/** Shown when the server or the user's settings make the panel read-only, saying which. */
function ReadOnlyBadge(props: { server: boolean; settings: boolean }): JSX.Element | null {
  if (!props.server && !props.settings) {
    return null;
  }
  const by = props.server ? 'server' : 'settings';
  const why = props.server
    ? 'The server is configured read-only: nothing can be changed from here.'
    : 'Your settings make this panel read-only: actions are hidden.';
  return (
    <span className="jp-mlops-badge" data-testid="mlops-read-only" data-by={by} title={why}>
      read-only
    </span>
  );
}

const SOURCE_WORDS: Record<string, string> = {
  serviceaccount: "from the pod's service account",
  config: 'from the configuration',
  env: 'from the environment',
  kubeconfig: 'from the kubeconfig context',
  none: 'none found'
};

/** The namespace the extension acts in, and how it was found. */
function IdentityLine(props: { identity: Identity }): JSX.Element {
  const { namespace, source, in_pod: inPod } = props.identity;
  return (
    <div className="jp-mlops-identity" data-testid="mlops-identity">
      <span className="jp-mlops-label">Namespace</span>{' '}
      <strong data-testid="mlops-namespace">{namespace ?? 'none'}</strong>{' '}
      <span className="jp-mlops-muted" data-testid="mlops-namespace-source">
        ({SOURCE_WORDS[source] ?? source}
        {inPod ? ', in a pod' : ''})
      </span>
    </div>
  );
}

type BackendState = 'reachable' | 'not-reachable' | 'not-configured';

const STATE_WORDS: Record<BackendState, string> = {
  reachable: 'reachable',
  'not-reachable': 'not reachable',
  'not-configured': 'not configured'
};

/** One backend: its mode, whether it answers, where it is, and why not or how to connect. */
function BackendSection(props: {
  id: string;
  title: string;
  backend: BackendStatus;
  children?: React.ReactNode;
}): JSX.Element {
  const { id, title, backend } = props;
  const state: BackendState =
    backend.mode === 'none' ? 'not-configured' : backend.reachable ? 'reachable' : 'not-reachable';
  const headingId = `jp-mlops-heading-${id}`;
  return (
    <section
      className="jp-mlops-section"
      data-testid={`mlops-section-${id}`}
      data-state={state}
      aria-labelledby={headingId}
    >
      <h3 className="jp-mlops-section-title" id={headingId}>
        {title}
      </h3>
      <div className="jp-mlops-state">
        <span className="jp-mlops-dot" data-state={state} aria-hidden="true" />
        <span data-testid={`mlops-${id}-state`}>{STATE_WORDS[state]}</span>
      </div>
      <dl className="jp-mlops-facts">
        <dt>Mode</dt>
        <dd data-testid={`mlops-${id}-mode`}>{backend.mode}</dd>
        {backend.endpoint && (
          <>
            <dt>Endpoint</dt>
            <dd data-testid={`mlops-${id}-endpoint`} title={backend.endpoint}>
              {backend.endpoint}
            </dd>
          </>
        )}
        {!backend.reachable && backend.reason && (
          <>
            <dt>Reason</dt>
            <dd data-testid={`mlops-${id}-reason`}>{backend.reason}</dd>
          </>
        )}
      </dl>
      {backend.hint && (
        <p className="jp-mlops-hint" data-testid={`mlops-${id}-hint`}>
          {backend.hint}
        </p>
      )}
      {backend.ui_url && (
        <p className="jp-mlops-hint">
          <a
            href={backend.ui_url}
            target="_blank"
            rel="noopener noreferrer"
            data-testid={`mlops-${id}-ui`}
          >
            Open the {title} UI
          </a>
        </p>
      )}
      {props.children}
    </section>
  );
}
