/** Entry point of the labextension: the MLOps sidebar, its command and its live settings. */

import { ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { ISettingRegistry } from '@jupyterlab/settingregistry';

import { mlopsIcon } from './icon';
import { MlopsSidebar } from './sidebar';
import { DEFAULT_REFRESH_SECONDS, StatusModel } from './status';

/** The plugin's id; the settings schema `labextension/schema/plugin.json` belongs to it. */
const PLUGIN_ID = 'jupyter-mlops:plugin';

/** Command ids, as keyboard shortcuts and other extensions name them. */
export namespace CommandIDs {
  export const open = 'jupyter-mlops:open';
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
    const sidebar = new MlopsSidebar(model);
    app.shell.add(sidebar, 'left', { rank: 900, type: 'MLOps' });
    restorer?.add(sidebar, sidebar.id);

    app.commands.addCommand(CommandIDs.open, {
      label: 'Open MLOps panel',
      caption: 'Show the status of the cluster, Kubeflow Pipelines and MLflow',
      icon: mlopsIcon,
      execute: () => app.shell.activateById(sidebar.id)
    });
    palette?.addItem({ command: CommandIDs.open, category: 'MLOps' });

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
