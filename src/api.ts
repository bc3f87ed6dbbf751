/**
 * The one typed client of the compute-panel REST API.
 *
 * Wire types mirror `jupyterlab_compute_panel/openapi.yaml`; widgets never
 * make HTTP calls, they go through the model which uses this client.
 */
import axios, {
  AxiosError,
  AxiosInstance,
  AxiosRequestConfig,
  InternalAxiosRequestConfig
} from 'axios';

import { URLExt } from '@jupyterlab/coreutils';

/**
 * Wire types of the REST API (see `openapi.yaml`).
 *
 * Money is always a decimal string with its currency beside it.
 */
export namespace ComputePanelAPI {
  /**
   * The REST API generation this front end speaks.
   */
  export const API_VERSION = 1;

  /**
   * The schema id of the run events pushed on the server's event stream.
   */
  export const RUN_EVENT_SCHEMA =
    'https://events.jupyter.org/jupyterlab_compute_panel/run/v1';

  /**
   * GET /version
   */
  export interface IVersion {
    version: string;
    api: number;
    owner?: string;
    catalog_error?: string | null;
  }

  /**
   * An amount of money: a decimal string and its currency.
   */
  export interface IMoney {
    amount: string;
    currency: string;
  }

  export type Reliability =
    'local' | 'community' | 'datacenter' | 'cloud-accelerator';

  export interface IGpu {
    model?: string;
    count?: number;
    memory_gb?: number;
  }

  export interface IHardware {
    gpu?: IGpu | null;
    cpu_cores?: number;
    memory_gb?: number | null;
  }

  export interface IPrice {
    per_hour: string;
    currency: string;
    source?: string;
    date?: string;
  }

  export interface ITier {
    id: string;
    label: string;
    description?: string;
    hardware: IHardware;
    price: IPrice;
    free: boolean;
    reliability: Reliability;
    simulated: boolean;
    sensitive_data_allowed: boolean;
    idle_timeout_s: number | null;
    backend: { provisioner?: string };
    /**
     * Base kernel name to the tier's kernelspec name.
     */
    kernelspecs: { [base: string]: string };
    running: number;
    /**
     * Nodes of a remote tier that answer and have room; null where nothing is checked.
     */
    availability?: ITierAvailability | null;
  }

  export interface ITierAvailability {
    nodes: number;
    reachable: number;
    free: number;
    /**
     * Why no kernel can start on the tier now; null when one can.
     */
    reason: string | null;
    checked: string;
  }

  export interface IGrant {
    id: string;
    award_number: string;
    title: string;
    funder: string;
    pi: string;
    budget: string;
    currency: string;
    start_date: string;
    end_date: string;
    active: boolean;
    spent: string;
    /**
     * The user's role on the grant; only a PI or a member may charge it.
     */
    role?: 'pi' | 'member' | 'viewer' | null;
  }

  /**
   * Whether the user may charge a grant now: active, and their PI or member role.
   */
  export function canCharge(grant: IGrant): boolean {
    return (
      grant.active &&
      (grant.role === undefined ||
        grant.role === 'pi' ||
        grant.role === 'member')
    );
  }

  export interface IBinding {
    path: string;
    grant_id: string | null;
    tier_id?: string | null;
    updated?: string | null;
  }

  /**
   * PUT /bindings body.
   */
  export interface IBindingUpdate {
    path: string;
    grant_id: string | null;
    tier_id?: string | null;
  }

  export type EndReason =
    | 'shutdown'
    | 'restart'
    | 'culled'
    | 'died'
    | 'server_restart'
    | 'lost'
    | 'budget'
    | 'launch_failed';

  export interface IRun {
    id: string;
    kernel_id: string;
    kernelspec: string;
    tier_id: string;
    tier_label?: string;
    grant_id: string | null;
    user: string;
    notebook: string | null;
    rate: IMoney;
    started: string;
    last_heartbeat: string;
    ended: string | null;
    end_reason: EndReason | null;
    /**
     * Seconds, up to now for an open run.
     */
    duration_s: number;
    cost: IMoney;
    status: 'open' | 'closed';
  }

  /**
   * GET /runs query.
   */
  export interface IRunFilters {
    notebook?: string;
    tier?: string;
    grant?: string;
    user?: string;
    kernel?: string;
    status?: 'open' | 'closed';
    since?: string;
    until?: string;
    limit?: number;
    offset?: number;
  }

  /**
   * GET /runs answer.
   */
  export interface IRunPage {
    runs: IRun[];
    count: number;
    totals: IMoney[];
    server_time: string;
  }

  /**
   * POST /kernels/{kernel_id}/keep answer: the kernel's new idle deadline.
   */
  export interface IKeep {
    kernel_id: string;
    /**
     * The tier's idle timeout in seconds.
     */
    idle_timeout_s: number;
    /**
     * ISO date-time when the kernel is shut down if it stays idle.
     */
    shutdown_at: string;
  }

  /**
   * The JSON body of every refused request.
   */
  export interface IErrorBody {
    message: string;
    field?: string | null;
  }

  /**
   * The data of a run event on the server's event stream.
   */
  export interface IRunEvent {
    schema_id: string;
    action:
      | 'started'
      | 'closed'
      | 'heartbeat'
      | 'idle_warning'
      | 'budget_warning'
      | 'budget_stop';
    run_id: string;
    kernel_id: string;
    tier_id: string;
    grant_id: string | null;
    cost: string;
    currency: string;
    end_reason: string | null;
    /**
     * For `idle_warning`: ISO date-time when the idle kernel will be shut down.
     */
    shutdown_at?: string;
    /**
     * For `budget_warning`: ISO date-time when the kernel is stopped because
     * its grant's budget runs out.
     */
    stop_at?: string;
    /**
     * For `budget_warning` and `budget_stop`: one sentence saying why.
     */
    message?: string;
  }

  // -- Budget alerts and the hard stop (GET /alerts) ----------------------------

  /**
   * The schema id of the budget events (`budget_alert`).
   */
  export const BUDGET_EVENT_SCHEMA =
    'https://events.jupyter.org/jupyterlab_compute_panel/budget/v1';

  /**
   * A grant's spend reached one of its alert thresholds.
   */
  export interface IBudgetAlert {
    id: string;
    grant_id: string;
    award_number: string;
    grant_title: string;
    /**
     * The threshold reached, in percent of `budget`.
     */
    threshold_pct: number;
    /**
     * The grant's spend when the threshold was reached.
     */
    spent: string;
    budget: string;
    currency: string;
    /**
     * At 100 % the grant's paid kernels are stopped.
     */
    hard_stop: boolean;
    created: string;
    delivered: string | null;
  }

  /**
   * A kernel of the user that is stopped when its grant's budget runs out.
   */
  export interface ICountdown {
    kernel_id: string;
    run_id: string;
    grant_id: string;
    tier_label: string;
    notebook: string | null;
    /**
     * ISO date-time of the stop, predicted again at every heartbeat.
     */
    stop_at: string;
    seconds_left: number;
    /**
     * One sentence: what is left and how fast it is spent.
     */
    reason: string;
  }

  /**
   * A kernel of the user stopped because its grant's budget was spent.
   */
  export interface IBudgetStop {
    kernel_id: string;
    run_id: string;
    grant_id: string;
    tier_label: string;
    notebook: string | null;
    stopped_at: string;
    /**
     * False when it was stopped without a countdown (a lowered budget).
     */
    warned: boolean;
    message: string;
  }

  /**
   * GET /alerts answer.
   */
  export interface IAlerts {
    alerts: IBudgetAlert[];
    countdowns: ICountdown[];
    stopped: IBudgetStop[];
    server_time: string;
  }
}

/**
 * An error of the compute-panel API, carrying the server's message.
 */
export class ComputePanelError extends Error {
  constructor(options: ComputePanelError.IOptions) {
    super(options.message);
    this.name = 'ComputePanelError';
    this.status = options.status;
    this.field = options.field ?? null;
    this.url = options.url ?? null;
  }

  /**
   * The HTTP status; 0 when the server could not be reached.
   */
  readonly status: number;

  /**
   * The request field at fault, when the server named one.
   */
  readonly field: string | null;

  /**
   * The request URL.
   */
  readonly url: string | null;
}

export namespace ComputePanelError {
  export interface IOptions {
    status: number;
    message: string;
    field?: string | null;
    url?: string | null;
  }

  /**
   * Turn anything thrown by axios into a ComputePanelError.
   */
  export function fromAxios(error: unknown): ComputePanelError {
    if (error instanceof ComputePanelError) {
      return error;
    }
    const err = error as AxiosError<unknown>;
    const url = err?.config?.url ?? null;
    const response = err?.response;
    if (!response) {
      return new ComputePanelError({
        status: 0,
        message: `Cannot reach the Jupyter server: ${err?.message ?? String(error)}`,
        url
      });
    }
    const data = response.data;
    let message = '';
    let field: string | null = null;
    if (data && typeof data === 'object' && !Array.isArray(data)) {
      const body = data as Partial<ComputePanelAPI.IErrorBody>;
      if (typeof body.message === 'string') {
        message = body.message;
      }
      if (typeof body.field === 'string') {
        field = body.field;
      }
    }
    if (!message) {
      message = `The server answered ${response.status}${
        response.statusText ? ` ${response.statusText}` : ''
      }.`;
    }
    return new ComputePanelError({
      status: response.status,
      message,
      field,
      url
    });
  }
}

/**
 * What the model needs from a client (tests implement it with fakes).
 */
export interface IComputePanelClient {
  version(): Promise<ComputePanelAPI.IVersion>;
  tiers(): Promise<ComputePanelAPI.ITier[]>;
  grants(options?: { active?: boolean }): Promise<ComputePanelAPI.IGrant[]>;
  grant(grantId: string): Promise<ComputePanelAPI.IGrant>;
  getBinding(path: string): Promise<ComputePanelAPI.IBinding>;
  putBinding(
    binding: ComputePanelAPI.IBindingUpdate
  ): Promise<ComputePanelAPI.IBinding>;
  runs(
    filters?: ComputePanelAPI.IRunFilters
  ): Promise<ComputePanelAPI.IRunPage>;
  run(runId: string): Promise<ComputePanelAPI.IRun>;
  kernelRun(kernelId: string): Promise<ComputePanelAPI.IRun>;
  /**
   * "Keep it": restart the idle clock of a paid kernel.
   */
  keepKernel(kernelId: string): Promise<ComputePanelAPI.IKeep>;
}

/**
 * What the budget notifier needs from a client (tests implement it with fakes).
 */
export interface IBudgetClient {
  /**
   * The user's undelivered alerts, their kernels' countdowns, recent stops.
   */
  alerts(): Promise<ComputePanelAPI.IAlerts>;
  /**
   * Mark one of the user's alerts delivered: it was shown.
   */
  markAlertDelivered(alertId: string): Promise<ComputePanelAPI.IBudgetAlert>;
}

/**
 * The server connection settings the client reads; a subset of
 * `ServerConnection.ISettings`.
 */
export interface IClientServerSettings {
  readonly baseUrl: string;
  readonly token?: string;
  readonly appendToken?: boolean;
  readonly init?: RequestInit;
}

/**
 * Read one cookie out of a `document.cookie` string (as ServerConnection does).
 */
export function getCookie(cookies: string, name: string): string | undefined {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const matches = cookies.match('\\b' + escaped + '=([^;]*)\\b');
  return matches?.[1];
}

/**
 * The axios client of `/compute-panel/...`.
 */
export class ComputePanelClient implements IComputePanelClient, IBudgetClient {
  constructor(options: ComputePanelClient.IOptions) {
    const settings = options.serverSettings;
    this.baseUrl = URLExt.join(settings.baseUrl, 'compute-panel');
    const readCookies =
      options.cookies ??
      (() => (typeof document === 'undefined' ? '' : document.cookie));
    const headers: Record<string, string> = {
      Accept: 'application/json'
    };
    if (settings.token) {
      headers['Authorization'] = `token ${settings.token}`;
    }
    this.http = axios.create({
      baseURL: this.baseUrl,
      headers,
      withCredentials: settings.init?.credentials === 'include',
      timeout: options.timeout ?? 30000
    });
    // Like ServerConnection: the `_xsrf` cookie goes to `X-XSRFToken`.
    this.http.interceptors.request.use((config: InternalAxiosRequestConfig) => {
      const xsrf = getCookie(readCookies(), '_xsrf');
      if (xsrf !== undefined) {
        config.headers.set('X-XSRFToken', xsrf);
      }
      return config;
    });
  }

  /**
   * The API root, e.g. `http://host/lab-base/compute-panel`.
   */
  readonly baseUrl: string;

  /**
   * The axios instance; exposed for interceptors (tests, embedding).
   */
  readonly http: AxiosInstance;

  version(): Promise<ComputePanelAPI.IVersion> {
    return this._request({ method: 'GET', url: 'version' });
  }

  async tiers(): Promise<ComputePanelAPI.ITier[]> {
    const data = await this._request<{ tiers: ComputePanelAPI.ITier[] }>({
      method: 'GET',
      url: 'tiers'
    });
    return data.tiers;
  }

  async grants(
    options: { active?: boolean } = {}
  ): Promise<ComputePanelAPI.IGrant[]> {
    const params: Record<string, string> = {};
    if (options.active !== undefined) {
      params.active = options.active ? 'true' : 'false';
    }
    const data = await this._request<{ grants: ComputePanelAPI.IGrant[] }>({
      method: 'GET',
      url: 'grants',
      params
    });
    return data.grants;
  }

  grant(grantId: string): Promise<ComputePanelAPI.IGrant> {
    return this._request({
      method: 'GET',
      url: `grants/${encodeURIComponent(grantId)}`
    });
  }

  getBinding(path: string): Promise<ComputePanelAPI.IBinding> {
    return this._request({ method: 'GET', url: 'bindings', params: { path } });
  }

  putBinding(
    binding: ComputePanelAPI.IBindingUpdate
  ): Promise<ComputePanelAPI.IBinding> {
    return this._request({ method: 'PUT', url: 'bindings', data: binding });
  }

  runs(
    filters: ComputePanelAPI.IRunFilters = {}
  ): Promise<ComputePanelAPI.IRunPage> {
    const params: Record<string, string> = {};
    for (const [key, value] of Object.entries(filters)) {
      if (value !== undefined && value !== null) {
        params[key] = String(value);
      }
    }
    return this._request({ method: 'GET', url: 'runs', params });
  }

  run(runId: string): Promise<ComputePanelAPI.IRun> {
    return this._request({
      method: 'GET',
      url: `runs/${encodeURIComponent(runId)}`
    });
  }

  kernelRun(kernelId: string): Promise<ComputePanelAPI.IRun> {
    return this._request({
      method: 'GET',
      url: `kernels/${encodeURIComponent(kernelId)}/run`
    });
  }

  keepKernel(kernelId: string): Promise<ComputePanelAPI.IKeep> {
    return this._request({
      method: 'POST',
      url: `kernels/${encodeURIComponent(kernelId)}/keep`
    });
  }

  alerts(): Promise<ComputePanelAPI.IAlerts> {
    return this._request({ method: 'GET', url: 'alerts' });
  }

  markAlertDelivered(alertId: string): Promise<ComputePanelAPI.IBudgetAlert> {
    return this._request({
      method: 'POST',
      url: `alerts/${encodeURIComponent(alertId)}/delivered`
    });
  }

  private async _request<T>(config: AxiosRequestConfig): Promise<T> {
    try {
      const response = await this.http.request<T>(config);
      return response.data;
    } catch (error) {
      throw ComputePanelError.fromAxios(error);
    }
  }
}

export namespace ComputePanelClient {
  export interface IOptions {
    /**
     * JupyterLab's server settings (`ServerConnection.makeSettings()`).
     */
    serverSettings: IClientServerSettings;

    /**
     * The cookie source; defaults to `document.cookie`. For tests only.
     */
    cookies?: () => string;

    /**
     * Request timeout in milliseconds.
     */
    timeout?: number;
  }
}
