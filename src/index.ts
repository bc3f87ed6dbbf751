/**
 * jupyterlab-compute-panel: the plugins, one folder per feature.
 *
 * - client: the one client of the REST API (`IApiClient`)
 * - model: tiers, grants, the current notebook and the cost of its run
 *   (`IComputePanelModel`)
 * - panel: the sidebar, the status-bar item and the move-to commands
 * - notifications: idle-kernel warnings and budget alerts
 * - refusals: a refused kernel start keeps the notebook's kernel and says why
 * - paidstart: no paid kernel starts unseen (asks on opening; says the price
 *   of a start by JupyterLab's own dialogs)
 * - provenance: the run written into a notebook saved on a tier
 * - history: the run history (`IRunHistory`)
 * - dashboard: the grants' dashboards and the admin's new grant
 * - reproduce: re-runs on a tier, and the compare view
 */
import { JupyterFrontEndPlugin } from '@jupyterlab/application';

import { clientPlugin } from './client/plugin';
import { dashboardPlugin } from './dashboard/plugin';
import { historyPlugin } from './history/plugin';
import { modelPlugin } from './model/plugin';
import { paidStartPlugin } from './paidstart/plugin';
import { budgetPlugin, idlePlugin } from './notifications/plugin';
import { commandsPlugin, panelPlugin, statusBarPlugin } from './panel/plugin';
import { provenancePlugin } from './provenance/plugin';
import { refusalsPlugin } from './refusals/plugin';
import { reproducePlugin } from './reproduce/plugin';

export * from './api';
export * from './tokens';
export { ComputePanelModel } from './model';
export { computePanelIcon } from './icons';
export { isAdmin } from './dashboard/plugin';

const plugins: JupyterFrontEndPlugin<any>[] = [
  clientPlugin,
  modelPlugin,
  panelPlugin,
  statusBarPlugin,
  commandsPlugin,
  idlePlugin,
  refusalsPlugin,
  paidStartPlugin,
  provenancePlugin,
  historyPlugin,
  dashboardPlugin,
  budgetPlugin,
  reproducePlugin
];

export default plugins;
