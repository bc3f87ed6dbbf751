/**
 * The one typed client of the compute-panel REST API: one method per
 * endpoint over the transport. Widgets never make HTTP calls; plugins share
 * one instance (the `IApiClient` token), and each consumer asks only for the
 * part it needs (the interfaces below), so tests can hand it fakes.
 */
import { ComputePanelError } from './errors';
import { ComputePanelTransport } from './transport';
import { ComputePanelAPI } from './types';

/**
 * What the model, the panel and the dashboards need from a client (tests
 * implement it with fakes).
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
   * Why the user's last restart of a kernel was refused; null when none was
   * (the restart failed for another reason, or succeeded).
   */
  restartRefusal(
    kernelId: string
  ): Promise<ComputePanelAPI.IRestartRefusal | null>;
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
  /**
   * The running kernels an edit of the budget or hard stop would stop at
   * once (a dry run: nothing changes).
   */
  editStops(
    grantId: string,
    edit: { budget?: string; hard_stop?: boolean }
  ): Promise<ComputePanelAPI.IEditStops>;
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
 * Query parameters: every value given, as a string.
 */
function params(
  values: object,
  skip: ReadonlyArray<string> = []
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(values)) {
    if (value !== undefined && value !== null && !skip.includes(key)) {
      out[key] = String(value);
    }
  }
  return out;
}

const id = encodeURIComponent;

/**
 * The client of `/compute-panel/...`.
 */
export class ComputePanelClient
  implements IComputePanelClient, IBudgetClient, IReproduceClient
{
  constructor(options: ComputePanelClient.IOptions) {
    this._transport = new ComputePanelTransport(options);
  }

  /**
   * The API root, e.g. `http://host/lab-base/compute-panel`.
   */
  get baseUrl(): string {
    return this._transport.baseUrl;
  }

  /**
   * The axios instance; exposed for interceptors (tests, embedding).
   */
  get http(): ComputePanelTransport['http'] {
    return this._transport.http;
  }

  version(): Promise<ComputePanelAPI.IVersion> {
    return this._transport.request({ method: 'GET', url: 'version' });
  }

  async tiers(): Promise<ComputePanelAPI.ITier[]> {
    const data = await this._transport.request<{
      tiers: ComputePanelAPI.ITier[];
    }>({ method: 'GET', url: 'tiers' });
    return data.tiers;
  }

  async grants(
    options: { active?: boolean } = {}
  ): Promise<ComputePanelAPI.IGrant[]> {
    const query: Record<string, string> = {};
    if (options.active !== undefined) {
      query.active = options.active ? 'true' : 'false';
    }
    const data = await this._transport.request<{
      grants: ComputePanelAPI.IGrant[];
    }>({ method: 'GET', url: 'grants', params: query });
    return data.grants;
  }

  grant(grantId: string): Promise<ComputePanelAPI.IGrant> {
    return this._transport.request({
      method: 'GET',
      url: `grants/${id(grantId)}`
    });
  }

  getBinding(path: string): Promise<ComputePanelAPI.IBinding> {
    return this._transport.request({
      method: 'GET',
      url: 'bindings',
      params: { path }
    });
  }

  putBinding(
    binding: ComputePanelAPI.IBindingUpdate
  ): Promise<ComputePanelAPI.IBinding> {
    return this._transport.request({
      method: 'PUT',
      url: 'bindings',
      data: binding
    });
  }

  runs(
    filters: ComputePanelAPI.IRunFilters = {}
  ): Promise<ComputePanelAPI.IRunPage> {
    return this._transport.request({
      method: 'GET',
      url: 'runs',
      params: params(filters)
    });
  }

  run(runId: string): Promise<ComputePanelAPI.IRun> {
    return this._transport.request({ method: 'GET', url: `runs/${id(runId)}` });
  }

  kernelRun(kernelId: string): Promise<ComputePanelAPI.IRun> {
    return this._transport.request({
      method: 'GET',
      url: `kernels/${id(kernelId)}/run`
    });
  }

  keepKernel(kernelId: string): Promise<ComputePanelAPI.IKeep> {
    return this._transport.request({
      method: 'POST',
      url: `kernels/${id(kernelId)}/keep`
    });
  }

  async restartRefusal(
    kernelId: string
  ): Promise<ComputePanelAPI.IRestartRefusal | null> {
    try {
      return await this._transport.request({
        method: 'GET',
        url: `kernels/${id(kernelId)}/refusal`
      });
    } catch (error) {
      if (error instanceof ComputePanelError && error.status === 404) {
        return null;
      }
      throw error;
    }
  }

  dashboard(grantId: string): Promise<ComputePanelAPI.IDashboard> {
    return this._transport.request({
      method: 'GET',
      url: `grants/${id(grantId)}/dashboard`
    });
  }

  async exportTable(
    grantId: string,
    table: ComputePanelAPI.ExportTable,
    format: ComputePanelAPI.ExportFormat,
    filters: ComputePanelAPI.IRunFilters = {}
  ): Promise<ComputePanelAPI.IExportFile> {
    const { blob, filename } = await this._transport.download({
      method: 'GET',
      url: `grants/${id(grantId)}/export/${table}.${format}`,
      // The runs table's filters, not its grant, sort or page.
      params:
        table === 'runs'
          ? params(filters, ['grant', 'kernel', 'sort', 'limit', 'offset'])
          : {},
      headers: { Accept: format === 'csv' ? 'text/csv' : 'application/json' }
    });
    return { blob, filename: filename ?? `${grantId}-${table}.${format}` };
  }

  patchGrant(
    grantId: string,
    patch: ComputePanelAPI.IGrantPatch
  ): Promise<ComputePanelAPI.IGrant> {
    return this._transport.request({
      method: 'PATCH',
      url: `grants/${id(grantId)}`,
      data: patch
    });
  }

  createGrant(
    grant: ComputePanelAPI.INewGrant
  ): Promise<ComputePanelAPI.IGrant> {
    return this._transport.request({
      method: 'POST',
      url: 'grants',
      data: grant
    });
  }

  setBudget(grantId: string, budget: string): Promise<ComputePanelAPI.IGrant> {
    return this._transport.request({
      method: 'PUT',
      url: `grants/${id(grantId)}/budget`,
      data: { budget }
    });
  }

  editStops(
    grantId: string,
    edit: { budget?: string; hard_stop?: boolean }
  ): Promise<ComputePanelAPI.IEditStops> {
    return this._transport.request({
      method: 'GET',
      url: `grants/${id(grantId)}/stops`,
      params: params(edit)
    });
  }

  setMember(
    grantId: string,
    user: string,
    role: ComputePanelAPI.Role
  ): Promise<ComputePanelAPI.IGrant> {
    return this._transport.request({
      method: 'PUT',
      url: `grants/${id(grantId)}/members/${id(user)}`,
      data: { role }
    });
  }

  removeMember(grantId: string, user: string): Promise<ComputePanelAPI.IGrant> {
    return this._transport.request({
      method: 'DELETE',
      url: `grants/${id(grantId)}/members/${id(user)}`
    });
  }

  alerts(): Promise<ComputePanelAPI.IAlerts> {
    return this._transport.request({ method: 'GET', url: 'alerts' });
  }

  markAlertDelivered(alertId: string): Promise<ComputePanelAPI.IBudgetAlert> {
    return this._transport.request({
      method: 'POST',
      url: `alerts/${id(alertId)}/delivered`
    });
  }

  environment(runId: string): Promise<ComputePanelAPI.IEnvironment> {
    return this._transport.request({
      method: 'GET',
      url: `runs/${id(runId)}/environment`
    });
  }

  async reruns(path?: string): Promise<ComputePanelAPI.IRerun[]> {
    const body = await this._transport.request<{
      reruns: ComputePanelAPI.IRerun[];
    }>({
      method: 'GET',
      url: 'reruns',
      params: path === undefined ? {} : { path }
    });
    return body.reruns;
  }

  rerun(rerunId: string): Promise<ComputePanelAPI.IRerun> {
    return this._transport.request({
      method: 'GET',
      url: `reruns/${id(rerunId)}`
    });
  }

  startRerun(
    request: ComputePanelAPI.IRerunRequest
  ): Promise<ComputePanelAPI.IRerun> {
    return this._transport.request({
      method: 'POST',
      url: 'reruns',
      data: request
    });
  }

  cancelRerun(rerunId: string): Promise<ComputePanelAPI.IRerun> {
    return this._transport.request({
      method: 'DELETE',
      url: `reruns/${id(rerunId)}`
    });
  }

  compare(
    runIds: string[],
    rtol?: number
  ): Promise<ComputePanelAPI.ICompareResult> {
    const query: Record<string, string> = { runs: runIds.join(',') };
    if (rtol !== undefined) {
      query.rtol = String(rtol);
    }
    return this._transport.request({
      method: 'GET',
      url: 'compare',
      params: query
    });
  }

  private _transport: ComputePanelTransport;
}

export namespace ComputePanelClient {
  export type IOptions = ComputePanelTransport.IOptions;
}
