import MockAdapter from 'axios-mock-adapter';

import {
  ComputePanelAPI,
  ComputePanelClient,
  ComputePanelError,
  getCookie
} from '../api';
import { makeRun, TIERS } from './fixtures';

describe('ComputePanelClient', () => {
  let client: ComputePanelClient;
  let mock: MockAdapter;
  let cookies: string;

  beforeEach(() => {
    cookies = 'other=1; _xsrf=2|abc|def|1700000000; last=z';
    client = new ComputePanelClient({
      serverSettings: {
        baseUrl: 'http://localhost:8888/lab-base/',
        token: 'secret-token',
        init: { credentials: 'same-origin' }
      },
      cookies: () => cookies
    });
    mock = new MockAdapter(client.http);
  });

  afterEach(() => {
    mock.restore();
  });

  it('joins the base URL with the REST namespace', () => {
    expect(client.baseUrl).toBe('http://localhost:8888/lab-base/compute-panel');
    expect(client.http.defaults.withCredentials).toBe(false);
  });

  it('sends the token header and the XSRF header from the cookie', async () => {
    mock.onGet('version').reply(200, { version: '0.1.0', api: 1 });
    const version = await client.version();
    expect(version).toEqual({ version: '0.1.0', api: 1 });
    const request = mock.history.get[0];
    expect(request.baseURL).toBe(
      'http://localhost:8888/lab-base/compute-panel'
    );
    expect(request.url).toBe('version');
    expect(request.headers?.['Authorization']).toBe('token secret-token');
    expect(request.headers?.['X-XSRFToken']).toBe('2|abc|def|1700000000');
  });

  it('reads the cookie afresh on every request', async () => {
    mock.onPut('bindings').reply(200, { path: 'a.ipynb', grant_id: null });
    cookies = '_xsrf=second';
    await client.putBinding({ path: 'a.ipynb', grant_id: null });
    expect(mock.history.put[0].headers?.['X-XSRFToken']).toBe('second');
    cookies = '';
    await client.putBinding({ path: 'a.ipynb', grant_id: null });
    expect(mock.history.put[1].headers?.['X-XSRFToken']).toBeUndefined();
  });

  it('omits the token header without a token; credentials follow init', () => {
    const bare = new ComputePanelClient({
      serverSettings: { baseUrl: '/', init: { credentials: 'include' } },
      cookies: () => ''
    });
    expect(bare.baseUrl).toBe('/compute-panel');
    expect(bare.http.defaults.headers['Authorization']).toBeUndefined();
    expect(bare.http.defaults.withCredentials).toBe(true);
  });

  it('unwraps GET /tiers and keeps decimal strings as strings', async () => {
    mock.onGet('tiers').reply(200, { tiers: TIERS });
    const tiers = await client.tiers();
    expect(tiers.map(tier => tier.id)).toEqual(['local', 'rtx4090', 'h200']);
    expect(tiers[2].price.per_hour).toBe('3.60');
    expect(typeof tiers[2].price.per_hour).toBe('string');
  });

  it('passes the active filter of GET /grants as a query', async () => {
    mock.onGet('grants').reply(200, { grants: [] });
    await client.grants({ active: true });
    await client.grants();
    expect(mock.history.get[0].params).toEqual({ active: 'true' });
    expect(mock.history.get[1].params).toEqual({});
  });

  it('encodes path parameters', async () => {
    mock.onGet('grants/nsf%2F24%20x').reply(200, { id: 'nsf/24 x' });
    mock.onGet('runs/r%3F1').reply(200, makeRun({ id: 'r?1' }));
    mock.onGet('kernels/k%231/run').reply(200, makeRun({ kernel_id: 'k#1' }));
    expect((await client.grant('nsf/24 x')).id).toBe('nsf/24 x');
    expect((await client.run('r?1')).id).toBe('r?1');
    const run = await client.kernelRun('k#1');
    expect(run.kernel_id).toBe('k#1');
    expect(run.cost.amount).toBe('0.010000');
  });

  it('keeps a kernel with POST /kernels/{id}/keep and the XSRF header', async () => {
    mock.onPost('kernels/k%231/keep').reply(200, {
      kernel_id: 'k#1',
      idle_timeout_s: 900,
      shutdown_at: '2026-11-23T18:00:00.000Z'
    });
    const kept = await client.keepKernel('k#1');
    expect(kept).toEqual({
      kernel_id: 'k#1',
      idle_timeout_s: 900,
      shutdown_at: '2026-11-23T18:00:00.000Z'
    });
    expect(mock.history.post[0].headers?.['X-XSRFToken']).toBe(
      '2|abc|def|1700000000'
    );
  });

  it("reads a kernel's refused restart, and null when there is none", async () => {
    const refusal = {
      kernel_id: 'k#1',
      message: 'You can view grant NSF 1 but not charge it.',
      reason: 'refused',
      at: '2026-11-23T18:00:00.000Z'
    };
    mock.onGet('kernels/k%231/refusal').reply(200, refusal);
    mock.onGet('kernels/k2/refusal').reply(404, {
      message: "Kernel 'k2' has no refused restart on record",
      field: 'kernel_id'
    });
    mock.onGet('kernels/k3/refusal').reply(503, { message: 'Away.' });
    expect(await client.restartRefusal('k#1')).toEqual(refusal);
    expect(await client.restartRefusal('k2')).toBeNull();
    await expect(client.restartRefusal('k3')).rejects.toMatchObject({
      status: 503,
      message: 'Away.'
    });
  });

  it('queries bindings by path and writes them with PUT', async () => {
    mock.onGet('bindings').reply(200, {
      path: 'dir/a b.ipynb',
      grant_id: 'nsf-1',
      tier_id: 'h200'
    });
    mock.onPut('bindings').reply(config => [200, JSON.parse(config.data)]);
    const binding = await client.getBinding('dir/a b.ipynb');
    expect(mock.history.get[0].params).toEqual({ path: 'dir/a b.ipynb' });
    expect(binding.grant_id).toBe('nsf-1');
    const saved = await client.putBinding({
      path: 'a.ipynb',
      grant_id: 'nsf-1',
      tier_id: 'h200'
    });
    expect(JSON.parse(mock.history.put[0].data)).toEqual({
      path: 'a.ipynb',
      grant_id: 'nsf-1',
      tier_id: 'h200'
    });
    expect(saved.tier_id).toBe('h200');
  });

  it('sends run filters as query parameters, leaving out empty ones', async () => {
    mock.onGet('runs').reply(200, {
      runs: [makeRun()],
      count: 1,
      totals: [{ amount: '0.010000', currency: 'USD' }],
      server_time: '2026-01-01T00:00:10Z'
    });
    const page = await client.runs({
      notebook: 'a.ipynb',
      status: 'open',
      limit: 5,
      offset: 0,
      tier: undefined
    });
    expect(mock.history.get[0].params).toEqual({
      notebook: 'a.ipynb',
      status: 'open',
      limit: '5',
      offset: '0'
    });
    expect(page.totals[0].amount).toBe('0.010000');
  });

  it('maps refusals to ComputePanelError with the server message and field', async () => {
    mock.onPut('bindings').reply(409, {
      message: 'The grant NSF-1 ended on 2025-12-31.',
      field: 'grant_id'
    });
    const error = await client
      .putBinding({ path: 'a.ipynb', grant_id: 'nsf-1' })
      .catch(e => e);
    expect(error).toBeInstanceOf(ComputePanelError);
    expect(error.status).toBe(409);
    expect(error.message).toBe('The grant NSF-1 ended on 2025-12-31.');
    expect(error.field).toBe('grant_id');
  });

  it('maps a bodiless error and a network failure', async () => {
    mock.onGet('version').replyOnce(404, 'Not Found');
    const notFound = await client.version().catch(e => e);
    expect(notFound).toBeInstanceOf(ComputePanelError);
    expect(notFound.status).toBe(404);
    expect(notFound.field).toBeNull();
    expect(notFound.message).toMatch(/404/);

    mock.onGet('tiers').networkError();
    const offline = await client.tiers().catch(e => e);
    expect(offline).toBeInstanceOf(ComputePanelError);
    expect(offline.status).toBe(0);
    expect(offline.message).toMatch(/Cannot reach the Jupyter server/);
  });
});

describe('getCookie', () => {
  it('finds a cookie by exact name', () => {
    expect(getCookie('a=1; _xsrf=x|y; b=2', '_xsrf')).toBe('x|y');
    expect(getCookie('my_xsrf=no', '_xsrf')).toBeUndefined();
    expect(getCookie('', '_xsrf')).toBeUndefined();
  });
});

describe('ComputePanelAPI.canCharge', () => {
  const grant = (changes: Partial<ComputePanelAPI.IGrant>) =>
    ({
      id: 'g',
      award_number: 'G',
      title: 'T',
      funder: 'F',
      pi: 'alice',
      budget: '10.00',
      currency: 'USD',
      start_date: '2025-01-01',
      end_date: '2030-01-01',
      active: true,
      spent: '0.00',
      ...changes
    }) as ComputePanelAPI.IGrant;

  it('lets PIs and members charge active grants, not viewers or strangers', () => {
    expect(ComputePanelAPI.canCharge(grant({ role: 'pi' }))).toBe(true);
    expect(ComputePanelAPI.canCharge(grant({ role: 'member' }))).toBe(true);
    expect(ComputePanelAPI.canCharge(grant({ role: 'viewer' }))).toBe(false);
    expect(ComputePanelAPI.canCharge(grant({ role: null }))).toBe(false);
    expect(
      ComputePanelAPI.canCharge(grant({ role: 'member', active: false }))
    ).toBe(false);
  });
});
