/**
 * The wire types of the REST API, by the names the code uses.
 *
 * Each is an alias of a type that openapi-typescript generates from
 * `jupyterlab_compute_panel/openapi.yaml` into `generated.ts` (`npm run
 * build:api`; `npm run build:api:check` fails when it is stale), so they cannot
 * drift from the contract. Change the contract there, never here. Only what
 * the contract does not describe is written by hand: the constants, two
 * predicates on grants, a downloaded file and the events of the server's event
 * stream (`event_schemas/`).
 *
 * Money is always a decimal string with its currency beside it.
 */
import type { components, paths } from './generated';

type Schemas = components['schemas'];

/**
 * The JSON of a request body or of a response.
 */
type Json<T> = T extends { content: { 'application/json': infer B } }
  ? B
  : never;

/**
 * The JSON of an operation's success answer (201 for a creation).
 */
type Answer<O> = O extends { responses: { 200: infer R } }
  ? Json<R>
  : O extends { responses: { 201: infer R } }
    ? Json<R>
    : never;

/**
 * The JSON body an operation takes.
 */
type Body<O> = O extends { requestBody?: infer B }
  ? Json<NonNullable<B>>
  : never;

/**
 * The query parameters of an operation.
 */
type Query<O> = O extends { parameters: { query?: infer Q } }
  ? NonNullable<Q>
  : never;

type ExportPath =
  paths['/grants/{grant_id}/export/{table}.{format}']['get']['parameters']['path'];
type RunsExportPath =
  paths['/grants/{grant_id}/export/runs.{format}']['get']['parameters']['path'];

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
   * The schema id of the budget events (`budget_alert`).
   */
  export const BUDGET_EVENT_SCHEMA =
    'https://events.jupyter.org/jupyterlab_compute_panel/budget/v1';

  // -- The handshake and the catalog ------------------------------------------

  /**
   * GET /version
   */
  export type IVersion = Answer<paths['/version']['get']>;
  export type IMoney = Schemas['Money'];
  export type ITier = Schemas['Tier'];
  export type IHardware = ITier['hardware'];
  export type IGpu = NonNullable<IHardware['gpu']>;
  export type IPrice = ITier['price'];
  export type Reliability = ITier['reliability'];
  /**
   * Nodes of a remote tier that answer and have room.
   */
  export type ITierAvailability = Schemas['TierAvailability'];

  // -- Grants, their dashboards and the notebooks' grants ---------------------

  export type IGrant = Schemas['Grant'];
  /**
   * What an edit of a grant's budget or hard stop would stop at once.
   */
  export type IEditStops = Schemas['EditStops'];
  export type IMember = NonNullable<IGrant['members']>[number];
  export type Role = IMember['role'];
  /**
   * PATCH /grants/{id} body: any of these fields, checked together. Amounts
   * and minutes are decimal strings (the server refuses JSON floats).
   */
  export type IGrantPatch = Body<paths['/grants/{grant_id}']['patch']>;
  /**
   * POST /grants body (admin): the whole grant.
   */
  export type INewGrant = Schemas['GrantInput'];
  /**
   * GET /grants/{id}/dashboard
   */
  export type IDashboard = Schemas['Dashboard'];
  export type IDashboardSummary = IDashboard['summary'];
  /**
   * One row of a breakdown; `key` null for runs without a notebook.
   */
  export type ISpendRow = Schemas['SpendRow'];
  export type IMonthSpend = IDashboard['by_month'][number];
  export type IBurnDownPoint = IDashboard['burn_down'][number];
  /**
   * The tables and formats of GET /grants/{id}/export/{table}.{format}.
   */
  export type ExportTable = 'runs' | ExportPath['table'];
  export type ExportFormat = ExportPath['format'] & RunsExportPath['format'];
  export type IBinding = Schemas['Binding'];
  /**
   * PUT /bindings body.
   */
  export type IBindingUpdate = Body<paths['/bindings']['put']>;

  /**
   * A downloaded export.
   */
  export interface IExportFile {
    blob: Blob;
    filename: string;
  }

  /**
   * Whether the user may open a grant's dashboard: its PI (or co-PI), a
   * viewer, or an admin (who sees grants without a role on them).
   */
  export function canViewDashboard(grant: IGrant): boolean {
    return grant.role === 'pi' || grant.role === 'viewer' || !grant.role;
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

  // -- Runs -------------------------------------------------------------------

  export type IRun = Schemas['Run'];
  export type EndReason = NonNullable<IRun['end_reason']>;
  /**
   * GET /runs query.
   */
  export type IRunFilters = Query<paths['/runs']['get']>;
  /**
   * A field, descending with a leading '-'.
   */
  export type RunSort = NonNullable<IRunFilters['sort']>;
  export type RunSortField = Exclude<RunSort, `-${string}`>;
  /**
   * GET /runs answer.
   */
  export type IRunPage = Answer<paths['/runs']['get']>;
  /**
   * POST /kernels/{kernel_id}/keep answer: the kernel's new idle deadline.
   */
  export type IKeep = Answer<paths['/kernels/{kernel_id}/keep']['post']>;
  /**
   * GET /kernels/{kernel_id}/refusal answer: why the user's last restart of
   * the kernel was refused (the server dropped the kernel).
   */
  export type IRestartRefusal = Answer<
    paths['/kernels/{kernel_id}/refusal']['get']
  >;
  /**
   * The JSON body of every refused request.
   */
  export type IErrorBody = Schemas['Error'];

  // -- Budget alerts and the hard stop (GET /alerts) --------------------------

  export type IBudgetAlert = Schemas['BudgetAlert'];
  export type ICountdown = Schemas['Countdown'];
  export type IBudgetStop = Schemas['BudgetStop'];
  export type IAlerts = Answer<paths['/alerts']['get']>;

  // -- Reproduction: environments, re-runs, compare ---------------------------

  /**
   * A run's environment fingerprint (GET /runs/{id}/environment). Its
   * kernel-side parts are what the kernel reported (user code can alter
   * them): the front end reads the fingerprint as untyped JSON and checks
   * every part it shows (`Fingerprint` in openapi.yaml describes them).
   */
  export type IEnvironment = Omit<Schemas['RunEnvironment'], 'fingerprint'> & {
    fingerprint: Record<string, any>;
  };
  export type IRerun = Schemas['Rerun'];
  export type RerunStatus = IRerun['status'];
  /**
   * POST /reruns body.
   */
  export type IRerunRequest = Body<paths['/reruns']['post']>;
  /**
   * GET /compare answer.
   */
  export type ICompareResult = Answer<paths['/compare']['get']>;
  export type ICompareRun = ICompareResult['runs'][number];
  export type ICompareCell = ICompareResult['cells'][number];
  export type CellVerdict = NonNullable<ICompareCell['verdicts'][number]>;
  export type ICompareOutput = NonNullable<
    NonNullable<ICompareCell['outputs']>[number]
  >[number];

  // -- The server's event stream (event_schemas/run/v1.yaml) ------------------

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
}
