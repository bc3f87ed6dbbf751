import { Token } from '@lumino/coreutils';
import { IDisposable } from '@lumino/disposable';
import { ISignal } from '@lumino/signaling';

import type { NotebookPanel } from '@jupyterlab/notebook';

import type {
  ComputePanelAPI,
  IBudgetClient,
  IComputePanelClient,
  IReproduceClient
} from './api';

/**
 * The npm package name, prefix of every plugin id.
 */
export const PACKAGE_NAME = 'jupyterlab-compute-panel';

/**
 * The translation domain.
 */
export const TRANSLATION_DOMAIN = 'jupyterlab_compute_panel';

/**
 * The notebook metadata key holding `{tier, grant}`.
 */
export const METADATA_KEY = 'jupyterlab_compute_panel';

/**
 * The stable id of the sidebar panel.
 */
export const PANEL_ID = 'jp-compute-panel';

/**
 * The command palette category of every command.
 */
export const PALETTE_CATEGORY = 'Compute';

/**
 * Command ids.
 */
export namespace CommandIDs {
  export const open = 'compute-panel:open';
  export const moveTo = 'compute-panel:move-to';
  export const openDashboard = 'compute-panel:open-dashboard';
  export const newGrant = 'compute-panel:new-grant';
  export const openRunHistory = 'compute-panel:open-run-history';
  export const rerunNotebook = 'compute-panel:rerun-notebook';
  export const rerunRun = 'compute-panel:rerun-run';
  export const compareRuns = 'compute-panel:compare-runs';
}

/**
 * The one client of the REST API, shared by every plugin: every endpoint, the
 * XSRF header, errors as `ComputePanelError`. Its consumers ask for the part
 * they use (`IComputePanelClient`, `IBudgetClient`, `IReproduceClient`), so
 * tests can give them fakes.
 */
export interface IApiClient
  extends IComputePanelClient, IBudgetClient, IReproduceClient {
  /**
   * The API root, e.g. `http://host/lab-base/compute-panel`.
   */
  readonly baseUrl: string;
}

/**
 * The API client token.
 */
export const IApiClient = new Token<IApiClient>(
  'jupyterlab-compute-panel:IApiClient',
  'The client of the compute-panel REST API (tiers, grants, runs, budgets, re-runs and compare), shared by the compute-panel plugins.'
);

/**
 * The user settings (schema/panel.json).
 */
export interface IComputePanelSettings {
  /**
   * Grant preselected when a notebook has none bound ('' for none).
   */
  defaultGrant: string;
  /**
   * Ask for confirmation before moving to a paid tier.
   */
  confirmPaidTiers: boolean;
  /**
   * Re-run all cells after a move, by default.
   */
  rerunByDefault: boolean;
  /**
   * Seconds between corrections from the server.
   */
  refreshInterval: number;
  /**
   * What opening (or restoring) a notebook saved on a paid tier does before
   * any kernel starts: `ask` (the price, the grant; start there, on the free
   * tier, or not at all) or `start-local` (start on the free tier and offer
   * the move back).
   */
  paidStartOnOpen: PaidStartOnOpen;
}

/**
 * The choices of the `paidStartOnOpen` setting.
 */
export const PAID_START_ON_OPEN = ['ask', 'start-local'] as const;
export type PaidStartOnOpen = (typeof PAID_START_ON_OPEN)[number];

export const DEFAULT_SETTINGS: IComputePanelSettings = {
  defaultGrant: '',
  confirmPaidTiers: true,
  rerunByDefault: false,
  refreshInterval: 10,
  paidStartOnOpen: 'ask'
};

/**
 * The state of the start-up version check.
 */
export interface IHandshake {
  /**
   * `pending` until answered; `ok`; `missing` (no server extension);
   * `mismatch` (other version or API); `error` (other failure).
   */
  status: 'pending' | 'ok' | 'missing' | 'mismatch' | 'error';
  /**
   * A plain-words message for the user, null when all is well.
   */
  message: string | null;
  /**
   * The server's answer, when there was one.
   */
  server: ComputePanelAPI.IVersion | null;
}

/**
 * The live cost of the current run.
 */
export interface ILiveCost {
  /**
   * Cost so far in micro-units (estimate while open, server's when closed).
   */
  micros: bigint;
  /**
   * The text to show: formatted estimate, or the server's exact string.
   */
  amount: string;
  currency: string;
  /**
   * True when `amount` is the server's final figure (closed run).
   */
  exact: boolean;
}

/**
 * The compute-panel model: the one owner of the front end's state.
 */
export interface IComputePanelModel extends IDisposable {
  /**
   * Emitted when anything but the ticking cost changes.
   */
  readonly stateChanged: ISignal<IComputePanelModel, void>;
  /**
   * Emitted every tick of the live cost (and when it is corrected).
   */
  readonly costChanged: ISignal<IComputePanelModel, ILiveCost | null>;
  /**
   * Emitted after each round that reloaded the model's figures: every refresh
   * interval of its poll while the page is visible, and after a run event.
   * Views with figures of their own (the notebook's runs, a grant's
   * dashboard, the run history) refresh on it, so that they stay current
   * where the server's event stream does not reach the page (the lab).
   */
  readonly refreshed: ISignal<IComputePanelModel, void>;

  readonly client: IComputePanelClient;
  readonly settings: IComputePanelSettings;
  readonly handshake: IHandshake;
  /**
   * The catalog error reported by the server, if any.
   */
  readonly catalogError: string | null;
  /**
   * The last failure to load data, in plain words.
   */
  readonly error: string | null;
  /**
   * The server's sentence while a part the figures come from is away (the
   * ledger is unreachable: a 503); the run's figures are withheld meanwhile.
   */
  readonly unavailable: string | null;
  readonly tiers: ReadonlyArray<ComputePanelAPI.ITier>;
  readonly grants: ReadonlyArray<ComputePanelAPI.IGrant>;

  /**
   * The notebook followed (the current widget with a session), or null.
   */
  readonly notebook: NotebookPanel | null;
  /**
   * The followed notebook's kernel name, or null without kernel.
   */
  readonly kernelName: string | null;
  /**
   * The tier of the followed notebook's kernel; null when there is no
   * kernel or the kernel is not a tier kernel ("not metered").
   */
  readonly currentTier: ComputePanelAPI.ITier | null;
  /**
   * The followed kernel's run, or null.
   */
  readonly run: ComputePanelAPI.IRun | null;
  readonly liveCost: ILiveCost | null;
  /**
   * A warning about invalid notebook metadata under our key.
   */
  readonly metadataWarning: string | null;

  setSettings(settings: Partial<IComputePanelSettings>): void;
  setNotebook(notebook: NotebookPanel | null): void;
  tier(tierId: string): ComputePanelAPI.ITier | null;
  tierForKernel(
    kernelName: string | null | undefined
  ): ComputePanelAPI.ITier | null;
  /**
   * The kernelspec to move the followed notebook to on `tier`.
   */
  kernelspecFor(tier: ComputePanelAPI.ITier): string | null;
  /**
   * Check the server version, then load tiers and grants.
   */
  initialize(): Promise<void>;
  /**
   * Reload tiers, grants and the current run, then emit `refreshed`.
   */
  refresh(): Promise<void>;
  /**
   * Reload the grants (after an edit made here: a budget, a title, a member).
   */
  refreshGrants(): Promise<ReadonlyArray<ComputePanelAPI.IGrant>>;
  /**
   * Re-read the followed notebook's metadata (e.g. after a move).
   */
  checkMetadata(): void;
}

/**
 * The model token.
 */
export const IComputePanelModel = new Token<IComputePanelModel>(
  'jupyterlab-compute-panel:IComputePanelModel',
  'The compute-panel model: tiers, grants, the current notebook tier and the live cost of its run.'
);

/**
 * Filters the run history opens with (command arguments of
 * `compute-panel:open-run-history`).
 */
export interface IRunHistoryFilters {
  notebook?: string;
  tier?: string;
  grant?: string;
  user?: string;
  status?: 'open' | 'closed';
}

/**
 * The run history's extension points: commands that act on one run (shown
 * in its details pane, executed with `{ runId, notebook, tierId }`) or on
 * the selected runs (shown above the table, executed with `{ runIds }` in
 * the order they were selected). A command's label, `isEnabled` and
 * `isVisible` are asked with those arguments, so "Compare selected" can ask
 * for two to six runs.
 */
export interface IRunHistory {
  /**
   * Open the run history (or reveal it), with these filters when given.
   */
  open(filters?: IRunHistoryFilters): Promise<void>;
  /**
   * Show a command for the run whose details are shown ("Re-run on…").
   */
  addRunAction(command: string, options?: { rank?: number }): IDisposable;
  /**
   * Show a command for the selected runs ("Compare selected").
   */
  addSelectionAction(command: string, options?: { rank?: number }): IDisposable;
  readonly runActions: ReadonlyArray<string>;
  readonly selectionActions: ReadonlyArray<string>;
  readonly actionsChanged: ISignal<IRunHistory, void>;
  /**
   * The selected run ids of the open run history (empty when closed).
   */
  readonly selection: ReadonlyArray<string>;
  readonly selectionChanged: ISignal<IRunHistory, ReadonlyArray<string>>;
}

/**
 * The run history token.
 */
export const IRunHistory = new Token<IRunHistory>(
  'jupyterlab-compute-panel:IRunHistory',
  'The run history: open it filtered, add commands acting on one run or on the selected runs, follow the selection.'
);
