/**
 * The panel's user settings (schema/panel.json), applied to the model.
 */
import { Notification } from '@jupyterlab/apputils';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';

import {
  IComputePanelModel,
  IComputePanelSettings,
  TRANSLATION_DOMAIN
} from '../tokens';

/**
 * Load the settings of `pluginId` into `model`, and every change after.
 */
export function followSettings(
  pluginId: string,
  settingRegistry: ISettingRegistry,
  model: IComputePanelModel,
  translator: ITranslator | null
): void {
  const apply = (settings: ISettingRegistry.ISettings): void => {
    model.setSettings(
      settings.composite as unknown as Partial<IComputePanelSettings>
    );
  };
  settingRegistry
    .load(pluginId)
    .then(settings => {
      apply(settings);
      settings.changed.connect(apply, model);
    })
    .catch(reason => {
      const trans = (translator ?? nullTranslator).load(TRANSLATION_DOMAIN);
      Notification.warning(
        trans.__('Cannot load the compute panel settings: %1', String(reason))
      );
    });
}
