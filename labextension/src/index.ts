/** Entry point of the labextension: the MLOps sidebar, object panels, commands and settings. */

import { ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette, InputDialog, MainAreaWidget, WidgetTracker } from '@jupyterlab/apputils';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ReadonlyPartialJSONObject } from '@lumino/coreutils';

import { ClusterModel, NAMESPACE_PATTERN } from './cluster';
import { DoctorModel } from './doctor';
import { DoctorSection } from './doctorView';
import { asText } from './format';
import { mlopsIcon } from './icon';
import { LiveSocket } from './live';
import { MlflowModel } from './mlflow';
import { IMlflowRunsRef, MlflowRunsModel, mlflowRunsKey } from './mlflowRuns';
import { createMlflowRunsPanel, MlflowRunsView } from './mlflowRunsView';
import { MlflowSection } from './mlflowView';
import type { KubeRow } from './models.generated';
import { IObjectRef, objectKey, ObjectModel, ObjectTab } from './object';
import { createObjectPanel, ObjectView } from './objectView';
import { PipelinesModel, runKey } from './pipelines';
import { IRunRef, PipelineRunModel } from './pipelinesRun';
import { createPipelineRunPanel, PipelineRunView } from './pipelinesRunView';
import { PipelinesSection } from './pipelinesView';
import { MlopsSidebar } from './sidebar';
import { DEFAULT_REFRESH_SECONDS, StatusModel } from './status';

/** The plugin's id; the settings schema `labextension/schema/plugin.json` belongs to it. */
const PLUGIN_ID = 'jupyter-mlops:plugin';

/** Command ids, as keyboard shortcuts and other extensions name them. */
export namespace CommandIDs {
  export const open = 'jupyter-mlops:open';
  /** Open the panel about one object; args `kind` (plural), `name`, `namespace`, `tab`. */
  export const openObject = 'jupyter-mlops:open-object';
  export const showPodLogs = 'jupyter-mlops:show-pod-logs';
  /** Open a pipeline run; args `source` (local or cluster), `id`, `name`. */
  export const openPipelineRun = 'jupyter-mlops:open-pipeline-run';
  /** Open MLflow runs, compared when several; args `ids` and `names` (lists). */
  export const openMlflowRuns = 'jupyter-mlops:open-mlflow-runs';
}

const OBJECT_TABS: readonly ObjectTab[] = ['describe', 'yaml', 'logs'];

/** The object named by a command's arguments, or null when they do not name one. */
function refFromArgs(args: ReadonlyPartialJSONObject, namespace: string): IObjectRef | null {
  const { kind, name } = args;
  const inNamespace = typeof args.namespace === 'string' ? args.namespace : namespace;
  if (typeof kind !== 'string' || typeof name !== 'string' || !kind || !name) {
    return null;
  }
  if (!NAMESPACE_PATTERN.test(inNamespace)) {
    return null;
  }
  return { kind, name, namespace: inNamespace };
}

/** Read the settings into the model; called at start and on every change. */
function applySettings(settings: ISettingRegistry.ISettings, model: StatusModel): void {
  model.refreshSeconds =
    (settings.get('refreshInterval').composite as number | undefined) ?? DEFAULT_REFRESH_SECONDS;
  model.readOnlySetting = (settings.get('readOnly').composite as boolean | undefined) ?? false;
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'A sidebar with the live state of the namespace, Kubeflow Pipelines and MLflow.',
  autoStart: true,
  optional: [ICommandPalette, ILayoutRestorer, ISettingRegistry],
  activate: (
    app: JupyterFrontEnd,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null,
    settingRegistry: ISettingRegistry | null
  ): void => {
    const model = new StatusModel();
    const socket = new LiveSocket();
    const cluster = new ClusterModel(socket, model);
    const tracker = new WidgetTracker<MainAreaWidget<ObjectView>>({
      namespace: 'jupyter-mlops-object'
    });

    /** Show an object's panel, reusing it when it is open already. */
    const openObject = (ref: IObjectRef, tab?: ObjectTab): void => {
      const key = objectKey(ref);
      let panel = tracker.find(widget => objectKey(widget.content.model.ref) === key);
      if (!panel) {
        panel = createObjectPanel(new ObjectModel(ref, cluster), openObject);
        void tracker.add(panel);
        app.shell.add(panel, 'main');
      }
      if (tab) {
        panel.content.model.setTab(tab);
      }
      app.shell.activateById(panel.id);
    };

    /** A table row opens its object; an event's row opens the object it is about. */
    const openRow = (kind: string, row: KubeRow): void => {
      const namespace = row.namespace ?? cluster.namespace;
      if (kind === 'events') {
        const about = cluster.kindInfo(asText(row.involved_kind));
        if (about && typeof row.involved_name === 'string') {
          openObject({ kind: about.plural, name: row.involved_name, namespace });
        }
        return;
      }
      openObject({ kind, name: row.name, namespace });
    };

    const pipelines = new PipelinesModel(socket, model);
    const runTracker = new WidgetTracker<MainAreaWidget<PipelineRunView>>({
      namespace: 'jupyter-mlops-pipeline-run'
    });
    /** Show a run's panel, reusing it when it is open already. */
    const openRun = (ref: IRunRef): void => {
      const key = runKey(ref);
      let panel = runTracker.find(widget => runKey(widget.content.model.ref) === key);
      if (!panel) {
        panel = createPipelineRunPanel(new PipelineRunModel(ref, pipelines), app.commands);
        void runTracker.add(panel);
        app.shell.add(panel, 'main');
      }
      app.shell.activateById(panel.id);
    };

    const mlflow = new MlflowModel(model);
    const mlflowTracker = new WidgetTracker<MainAreaWidget<MlflowRunsView>>({
      namespace: 'jupyter-mlops-mlflow-runs'
    });
    /** Show the panel of one run, or of several compared, reusing it when it is open. */
    const openMlflowRuns = (ref: IMlflowRunsRef): void => {
      const key = mlflowRunsKey(ref);
      let panel = mlflowTracker.find(widget => mlflowRunsKey(widget.content.model.ref) === key);
      if (!panel) {
        panel = createMlflowRunsPanel(new MlflowRunsModel(ref), app.commands);
        void mlflowTracker.add(panel);
        app.shell.add(panel, 'main');
      }
      app.shell.activateById(panel.id);
    };

    const doctor = new DoctorModel(cluster, model);
    const sidebar = new MlopsSidebar(model, cluster, openRow, {
      doctor: new DoctorSection(doctor, ref => openObject(ref)),
      pipelines: new PipelinesSection(pipelines, openRun),
      tracking: new MlflowSection(mlflow, openMlflowRuns)
    });
    app.shell.add(sidebar, 'left', { rank: 900, type: 'MLOps' });
    restorer?.add(sidebar, sidebar.id);

    app.commands.addCommand(CommandIDs.open, {
      label: 'Open MLOps panel',
      caption: 'Show the status of the cluster, Kubeflow Pipelines and MLflow',
      icon: mlopsIcon,
      execute: () => app.shell.activateById(sidebar.id)
    });
    palette?.addItem({ command: CommandIDs.open, category: 'MLOps' });

    app.commands.addCommand(CommandIDs.openObject, {
      label: args =>
        typeof args.name === 'string' ? `Show ${asText(args.kind)} ${args.name}` : 'Show object',
      caption: 'Describe a Kubernetes object, show its YAML and its logs',
      icon: mlopsIcon,
      execute: args => {
        const ref = refFromArgs(args, cluster.namespace);
        if (ref) {
          const tab = OBJECT_TABS.find(t => t === args.tab);
          openObject(ref, tab);
        }
      }
    });

    app.commands.addCommand(CommandIDs.showPodLogs, {
      label: 'Show pod logs…',
      caption: 'Choose a pod of the namespace and follow its log',
      icon: mlopsIcon,
      execute: async () => {
        const pods = [...(cluster.table('pods')?.rows.values() ?? [])].map(row => row.name);
        const answer = await InputDialog.getItem({
          title: `Show the log of a pod in ${cluster.namespace || 'the namespace'}`,
          items: pods.sort(),
          editable: true,
          placeholder: 'pod name'
        });
        const name = answer.value?.trim();
        if (answer.button.accept && name) {
          openObject({ kind: 'pods', name, namespace: cluster.namespace }, 'logs');
        }
      }
    });
    palette?.addItem({ command: CommandIDs.showPodLogs, category: 'MLOps' });

    app.commands.addCommand(CommandIDs.openPipelineRun, {
      label: args => `Show pipeline run ${asText(args.name ?? args.id)}`,
      caption: 'Show a pipeline run: its tasks, their logs, parameters and outputs',
      icon: mlopsIcon,
      execute: args => {
        const { source, id, name } = args;
        if ((source === 'local' || source === 'cluster') && typeof id === 'string' && id) {
          openRun({ source, id, name: typeof name === 'string' ? name : id });
        }
      }
    });

    app.commands.addCommand(CommandIDs.openMlflowRuns, {
      label: 'Show MLflow runs',
      caption: 'Chart and compare MLflow runs: metrics, parameters and artifacts',
      icon: mlopsIcon,
      execute: args => {
        const ids = Array.isArray(args.ids) ? args.ids.filter(id => typeof id === 'string') : [];
        const names = Array.isArray(args.names) ? args.names.map(asText) : [];
        if (ids.length > 0) {
          openMlflowRuns({ ids, names: ids.map((id, i) => names[i] || id) });
        }
      }
    });

    void restorer?.restore(tracker, {
      command: CommandIDs.openObject,
      args: widget => ({ ...widget.content.model.ref, tab: widget.content.model.tab }),
      name: widget => objectKey(widget.content.model.ref)
    });
    void restorer?.restore(runTracker, {
      command: CommandIDs.openPipelineRun,
      args: widget => ({ ...widget.content.model.ref }),
      name: widget => runKey(widget.content.model.ref)
    });
    void restorer?.restore(mlflowTracker, {
      command: CommandIDs.openMlflowRuns,
      args: widget => ({
        ids: widget.content.model.ref.ids,
        names: widget.content.model.ref.names
      }),
      name: widget => mlflowRunsKey(widget.content.model.ref)
    });

    if (settingRegistry) {
      settingRegistry
        .load(PLUGIN_ID)
        .then(settings => {
          applySettings(settings, model);
          settings.changed.connect(() => applySettings(settings, model));
        })
        .catch(reason => {
          // The panel still works on its defaults; the console says why settings were not read.
          console.error('jupyter-mlops: could not load the settings', reason);
        });
    }
  }
};

export default plugin;
