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
    /**
     * Whether the server's user is an admin (newer servers say so).
     */
    admin?: boolean;
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
    role?: Role | null;
    /**
     * Policies (sent by the server, optional in older answers).
     */
    allowed_tiers?: string[] | null;
    sensitive?: boolean;
    alert_thresholds?: number[];
    hard_stop?: boolean;
    min_runtime_minutes?: number;
    members?: IMember[];
  }

  export type Role = 'pi' | 'member' | 'viewer';

  export interface IMember {
    user: string;
    role: Role;
  }

  /**
   * Whether the user may open a grant's dashboard: its PI (or co-PI), a
   * viewer, or an admin (who sees grants without a role on them).
   */
  export function canViewDashboard(grant: IGrant): boolean {
    return grant.role === 'pi' || grant.role === 'viewer' || !grant.role;
  }

  /**
   * PATCH /grants/{id} body: any of these fields, checked together. Amounts
   * and minutes are decimal strings (the server refuses JSON floats).
   */
  export interface IGrantPatch {
    award_number?: string;
    title?: string;
    funder?: string;
    budget?: string;
    start_date?: string;
    end_date?: string;
    allowed_tiers?: string[] | null;
    sensitive?: boolean;
    alert_thresholds?: number[];
    hard_stop?: boolean;
    min_runtime_minutes?: string;
  }

  /**
   * POST /grants body (admin): the whole grant.
   */
  export interface INewGrant {
    id: string;
    award_number: string;
    title: string;
    funder: string;
    pi: string;
    budget: string;
    currency: string;
    start_date: string;
    end_date: string;
    co_pis?: string[];
    members?: IMember[];
    allowed_tiers?: string[] | null;
    sensitive?: boolean;
    alert_thresholds?: number[];
    hard_stop?: boolean;
    /**
     * A decimal string such as "15" or "7.5".
     */
    min_runtime_minutes?: string;
  }

  /**
   * The figures of a grant's dashboard (amounts are decimal strings).
   */
  export interface IDashboardSummary {
    currency: string;
    budget: string;
    spent: string;
    committed: string;
    remaining: string;
    spent_7d: string;
    spent_30d: string;
    burn_7d_per_day: string;
    burn_30d_per_day: string;
    /**
     * 'YYYY-MM-DD' when spending at the 30-day rate empties the grant; null
     * when nothing was spent in 30 days.
     */
    forecast_exhaustion: string | null;
    start_date?: string;
    end_date: string;
    exhausts_before_end: boolean;
    open_runs: number;
  }

  /**
   * One row of a breakdown; `key` null for runs without a notebook.
   */
  export interface ISpendRow {
    key: string | null;
    label: string;
    amount: string;
  }

  export interface IMonthSpend {
    /**
     * 'YYYY-MM' (UTC) of the runs' starts.
     */
    month: string;
    /**
     * Tier id to amount.
     */
    by_tier: { [tierId: string]: string };
    total: string;
  }

  export interface IBurnDownPoint {
    day: string;
    spent: string;
    remaining: string;
  }

  /**
   * GET /grants/{id}/dashboard
   */
  export interface IDashboard {
    grant: IGrant;
    may_edit: boolean;
    server_time: string;
    summary: IDashboardSummary;
    tiers: { id: string; label: string }[];
    by_tier: ISpendRow[];
    by_user: ISpendRow[];
    by_notebook: ISpendRow[];
    by_month: IMonthSpend[];
    burn_down: IBurnDownPoint[];
  }

  /**
   * The tables of GET /grants/{id}/export/{table}.{format}.
   */
  export type ExportTable = 'runs' | 'tier' | 'user' | 'notebook' | 'month';
  export type ExportFormat = 'csv' | 'json';

  /**
   * A downloaded export.
   */
  export interface IExportFile {
    blob: Blob;
    filename: string;
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
    | 'launch_failed'
    | 'completed'
    | 'cell_error'
    | 'cancelled'
    | 'time_limit';

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
    /**
     * Search text (notebook, user, tier, end reason).
     */
    q?: string;
    /**
     * A field, descending with a leading '-'.
     */
    sort?: RunSort;
    notebook?: string;
    tier?: string;
    grant?: string;
    user?: string;
    kernel?: string;
    status?: 'open' | 'closed';
    end_reason?: EndReason;
    since?: string;
    until?: string;
    limit?: number;
    offset?: number;
  }

  export type RunSortField =
    | 'started'
    | 'ended'
    | 'cost'
    | 'duration'
    | 'user'
    | 'tier'
    | 'notebook'
    | 'end_reason';

  export type RunSort = RunSortField | `-${RunSortField}`;

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

  /**
   * A run's environment fingerprint (GET /runs/{id}/environment).
   */
  export interface IEnvironment {
    run_id: string;
    captured_at: string;
    status: 'complete' | 'partial' | 'failed';
    error: string | null;
    packages_hash: string | null;
    /**
     * Python, packages, frameworks, CUDA, GPUs, CPU, host, tier, notebook
     * hash, git; `missing` names the parts not gathered and why.
     */
    fingerprint: Record<string, any>;
  }

  export type RerunStatus =
    'running' | 'completed' | 'failed' | 'cancelled' | 'timed_out' | 'refused';

  /**
   * A headless re-run of a notebook on a tier (GET /reruns/{id}).
   */
  export interface IRerun {
    id: string;
    user: string;
    source: string;
    output: string | null;
    tier_id: string;
    grant_id: string | null;
    kernelspec: string;
    run_id: string | null;
    source_run_id: string | null;
    status: RerunStatus;
    cells_total: number;
    cells_done: number;
    current_cell: number | null;
    kernel_id: string | null;
    error: string | null;
    time_limit_s: number;
    created: string;
    ended: string | null;
  }

  /**
   * POST /reruns body.
   */
  export interface IRerunRequest {
    path: string;
    tier_id: string;
    grant_id?: string | null;
    time_limit_s?: number;
    source_run_id?: string;
  }

  export type CellVerdict = 'same' | 'within_tolerance' | 'differs' | 'missing';

  export interface ICompareOutput {
    /**
     * 'text:stdout', 'text:text/plain', 'text:error', or a MIME type (hashed).
     */
    kind: string;
    content: string;
  }

  export interface ICompareCell {
    index: number;
    source: string;
    source_differs: boolean;
    /**
     * One per run; the baseline's is null.
     */
    verdicts: (CellVerdict | null)[];
    max_rel_diff: number | null;
    durations_s: (number | null)[];
    /**
     * Only for cells that are not the same in every run.
     */
    outputs?: (ICompareOutput[] | null)[];
  }

  export interface ICompareRun {
    id: string;
    label: string;
    duration_s: number;
    time_s: number;
    cost: IMoney;
    outputs_available: boolean;
    tier_id: string;
    user: string;
    notebook: string | null;
    status: 'open' | 'closed';
    rerun_id: string | null;
    output: string | null;
  }

  /**
   * GET /compare answer.
   */
  export interface ICompareResult {
    rtol: number;
    atol: number;
    timing: 'cells' | 'runs';
    runs: ICompareRun[];
    environment: {
      fields: { key: string; values: unknown[] }[];
      packages: { name: string; versions: (string | null)[] }[];
      missing: number[];
    };
    cells: ICompareCell[];
    differing_cells: number[];
    verdict: 'match' | 'match_within_tolerance' | 'differ' | 'incomplete';
    summary: string;
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
  /**
   * A grant's dashboard (its PI, co-PI, viewer or an admin).
   */
  dashboard(grantId: string): Promise<ComputePanelAPI.IDashboard>;
  /**
   * Download one table of a grant as a file; the runs export takes the runs
   * table's filters (not its sort or page), so what is shown is exported.
   */
  exportTable(
    grantId: string,
    table: ComputePanelAPI.ExportTable,
    format: ComputePanelAPI.ExportFormat,
    filters?: ComputePanelAPI.IRunFilters
  ): Promise<ComputePanelAPI.IExportFile>;
  patchGrant(
    grantId: string,
    patch: ComputePanelAPI.IGrantPatch
  ): Promise<ComputePanelAPI.IGrant>;
  createGrant(
    grant: ComputePanelAPI.INewGrant
  ): Promise<ComputePanelAPI.IGrant>;
  setBudget(grantId: string, budget: string): Promise<ComputePanelAPI.IGrant>;
  setMember(
    grantId: string,
    user: string,
    role: ComputePanelAPI.Role
  ): Promise<ComputePanelAPI.IGrant>;
  removeMember(grantId: string, user: string): Promise<ComputePanelAPI.IGrant>;
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
 * What run history, re-runs and compare need from a client.
 */
export interface IReproduceClient {
  environment(runId: string): Promise<ComputePanelAPI.IEnvironment>;
  /**
   * The user's re-runs, newest first; of one notebook with `path`.
   */
  reruns(path?: string): Promise<ComputePanelAPI.IRerun[]>;
  rerun(rerunId: string): Promise<ComputePanelAPI.IRerun>;
  /**
   * Start a re-run; answers once its kernel runs (403 carries the refusal).
   */
  startRerun(
    request: ComputePanelAPI.IRerunRequest
  ): Promise<ComputePanelAPI.IRerun>;
  cancelRerun(rerunId: string): Promise<ComputePanelAPI.IRerun>;
  /**
   * Compare runs of one notebook; the first is the baseline.
   */
  compare(
    runIds: string[],
    rtol?: number
  ): Promise<ComputePanelAPI.ICompareResult>;
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
 * The file name of a `Content-Disposition: attachment; filename=...` header.
 */
export function filenameFromDisposition(header: string): string | null {
  const star = /filename\*\s*=\s*(?:UTF-8|utf-8)''([^;]+)/.exec(header);
  if (star) {
    try {
      return decodeURIComponent(star[1].trim());
    } catch {
      // fall through to the plain form
    }
  }
  const plain = /filename\s*=\s*(?:"([^"]*)"|([^;]+))/.exec(header);
  const name = plain ? (plain[1] ?? plain[2] ?? '').trim() : '';
  // Only a base name: never let a header choose a folder.
  return name ? name.replace(/^.*[\\/]/, '') || null : null;
}

/**
 * A failed blob request carries its JSON error body as a Blob: read it, so
 * that the server's message reaches the user.
 */
async function readBlobBody(error: unknown): Promise<unknown> {
  const response = (error as AxiosError<unknown>)?.response;
  const data = response?.data;
  if (response && typeof Blob !== 'undefined' && data instanceof Blob) {
    try {
      response.data = JSON.parse(await blobText(data));
    } catch {
      response.data = null;
    }
  }
  return error;
}

function blobText(blob: Blob): Promise<string> {
  if (typeof blob.text === 'function') {
    return blob.text();
  }
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result ?? ''));
    reader.onerror = () => reject(reader.error);
    reader.readAsText(blob);
  });
}

/**
 * The axios client of `/compute-panel/...`.
 */
export class ComputePanelClient
  implements IComputePanelClient, IBudgetClient, IReproduceClient
{
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

  dashboard(grantId: string): Promise<ComputePanelAPI.IDashboard> {
    return this._request({
      method: 'GET',
      url: `grants/${encodeURIComponent(grantId)}/dashboard`
    });
  }

  async exportTable(
    grantId: string,
    table: ComputePanelAPI.ExportTable,
    format: ComputePanelAPI.ExportFormat,
    filters: ComputePanelAPI.IRunFilters = {}
  ): Promise<ComputePanelAPI.IExportFile> {
    const url = `grants/${encodeURIComponent(grantId)}/export/${table}.${format}`;
    const params: Record<string, string> = {};
    if (table === 'runs') {
      for (const [key, value] of Object.entries(filters)) {
        if (
          value !== undefined &&
          value !== null &&
          !['grant', 'kernel', 'sort', 'limit', 'offset'].includes(key)
        ) {
          params[key] = String(value);
        }
      }
    }
    try {
      const response = await this.http.request<Blob>({
        method: 'GET',
        url,
        params,
        responseType: 'blob',
        headers: { Accept: format === 'csv' ? 'text/csv' : 'application/json' }
      });
      const filename =
        filenameFromDisposition(
          String(response.headers['content-disposition'] ?? '')
        ) ?? `${grantId}-${table}.${format}`;
      return { blob: response.data, filename };
    } catch (error) {
      throw ComputePanelError.fromAxios(await readBlobBody(error));
    }
  }

  patchGrant(
    grantId: string,
    patch: ComputePanelAPI.IGrantPatch
  ): Promise<ComputePanelAPI.IGrant> {
    return this._request({
      method: 'PATCH',
      url: `grants/${encodeURIComponent(grantId)}`,
      data: patch
    });
  }

  createGrant(
    grant: ComputePanelAPI.INewGrant
  ): Promise<ComputePanelAPI.IGrant> {
    return this._request({ method: 'POST', url: 'grants', data: grant });
  }

  setBudget(grantId: string, budget: string): Promise<ComputePanelAPI.IGrant> {
    return this._request({
      method: 'PUT',
      url: `grants/${encodeURIComponent(grantId)}/budget`,
      data: { budget }
    });
  }

  setMember(
    grantId: string,
    user: string,
    role: ComputePanelAPI.Role
  ): Promise<ComputePanelAPI.IGrant> {
    return this._request({
      method: 'PUT',
      url: `grants/${encodeURIComponent(grantId)}/members/${encodeURIComponent(user)}`,
      data: { role }
    });
  }

  removeMember(grantId: string, user: string): Promise<ComputePanelAPI.IGrant> {
    return this._request({
      method: 'DELETE',
      url: `grants/${encodeURIComponent(grantId)}/members/${encodeURIComponent(user)}`
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

  environment(runId: string): Promise<ComputePanelAPI.IEnvironment> {
    return this._request({
      method: 'GET',
      url: `runs/${encodeURIComponent(runId)}/environment`
    });
  }

  async reruns(path?: string): Promise<ComputePanelAPI.IRerun[]> {
    const body = await this._request<{ reruns: ComputePanelAPI.IRerun[] }>({
      method: 'GET',
      url: 'reruns',
      params: path === undefined ? {} : { path }
    });
    return body.reruns;
  }

  rerun(rerunId: string): Promise<ComputePanelAPI.IRerun> {
    return this._request({
      method: 'GET',
      url: `reruns/${encodeURIComponent(rerunId)}`
    });
  }

  startRerun(
    request: ComputePanelAPI.IRerunRequest
  ): Promise<ComputePanelAPI.IRerun> {
    return this._request({ method: 'POST', url: 'reruns', data: request });
  }

  cancelRerun(rerunId: string): Promise<ComputePanelAPI.IRerun> {
    return this._request({
      method: 'DELETE',
      url: `reruns/${encodeURIComponent(rerunId)}`
    });
  }

  compare(
    runIds: string[],
    rtol?: number
  ): Promise<ComputePanelAPI.ICompareResult> {
    const params: Record<string, string> = { runs: runIds.join(',') };
    if (rtol !== undefined) {
      params.rtol = String(rtol);
    }
    return this._request({ method: 'GET', url: 'compare', params });
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
