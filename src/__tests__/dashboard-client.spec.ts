import MockAdapter from 'axios-mock-adapter';

import { ComputePanelClient, filenameFromDisposition } from '../api';
import { newGrantBody, emptyNewGrant } from '../dashboard/grants';
import { makeDashboard, makeGrant } from './fixtures';
import { runsPage } from './dashboardFixtures';

describe('ComputePanelClient (dashboard endpoints)', () => {
  let client: ComputePanelClient;
  let mock: MockAdapter;

  beforeEach(() => {
    client = new ComputePanelClient({
      serverSettings: { baseUrl: 'http://localhost:8888/', token: 't' },
      cookies: () => '_xsrf=x1'
    });
    mock = new MockAdapter(client.http);
  });

  afterEach(() => mock.restore());

  it('gets the dashboard of an escaped grant id', async () => {
    mock.onGet('grants/a%2Fb/dashboard').reply(200, makeDashboard());
    const data = await client.dashboard('a/b');
    expect(data.summary.spent).toBe('41.343612');
  });

  it('sends search and sort to /runs', async () => {
    mock.onGet('runs').reply(200, runsPage());
    await client.runs({ grant: 'g', q: 'train', sort: '-cost', limit: 100 });
    expect(mock.history.get[0].params).toEqual({
      grant: 'g',
      q: 'train',
      sort: '-cost',
      limit: '100'
    });
  });

  it('downloads an export with its file name and the auth headers', async () => {
    mock
      .onGet('grants/g/export/user.csv')
      .reply(200, new Blob(['user,amount\n']), {
        'content-disposition': 'attachment; filename="g-by-user.csv"'
      });
    const file = await client.exportTable('g', 'user', 'csv');
    expect(file.filename).toBe('g-by-user.csv');
    expect(file.blob).toBeInstanceOf(Blob);
    const request = mock.history.get[0];
    expect(request.responseType).toBe('blob');
    expect(request.headers?.['Authorization']).toBe('token t');
    expect(request.headers?.['X-XSRFToken']).toBe('x1');
  });

  it('exports the runs as filtered, without sort or page', async () => {
    mock.onGet('grants/g/export/runs.csv').reply(200, new Blob(['id\n']));
    await client.exportTable('g', 'runs', 'csv', {
      grant: 'g',
      user: 'ravi',
      q: 'train',
      sort: '-cost'
    });
    expect(mock.history.get[0].params).toEqual({ user: 'ravi', q: 'train' });
    mock.onGet('grants/g/export/user.json').reply(200, new Blob(['{}']));
    await client.exportTable('g', 'user', 'json', { user: 'ravi' });
    expect(mock.history.get[1].params).toEqual({});
  });

  it("reads the server's message out of a refused download", async () => {
    mock.onGet('grants/g/export/runs.json').reply(
      403,
      new Blob([JSON.stringify({ message: 'Only the PI may export' })], {
        type: 'application/json'
      })
    );
    await expect(client.exportTable('g', 'runs', 'json')).rejects.toMatchObject(
      {
        status: 403,
        message: 'Only the PI may export'
      }
    );
  });

  it('names downloads safely', () => {
    expect(filenameFromDisposition('attachment; filename="a.csv"')).toBe(
      'a.csv'
    );
    expect(
      filenameFromDisposition("attachment; filename*=UTF-8''r%C3%A9.json")
    ).toBe('ré.json');
    expect(
      filenameFromDisposition('attachment; filename="../../etc/x.csv"')
    ).toBe('x.csv');
    expect(filenameFromDisposition('attachment')).toBeNull();
  });

  it('patches and creates grants, with 422 errors naming their field', async () => {
    mock.onPatch('grants/g').reply(200, makeGrant('g', { title: 'New' }));
    expect((await client.patchGrant('g', { title: 'New' })).title).toBe('New');
    expect(JSON.parse(mock.history.patch[0].data)).toEqual({ title: 'New' });
    mock
      .onPost('grants')
      .reply(422, { message: 'budget: must not be negative', field: 'budget' });
    await expect(
      client.createGrant(
        newGrantBody({ ...emptyNewGrant('2026-01-01'), budget: '-1' })
      )
    ).rejects.toMatchObject({ status: 422, field: 'budget' });
  });

  it('edits the budget and the members', async () => {
    mock.onPut('grants/g/budget').reply(200, makeGrant('g'));
    mock.onPut('grants/g/members/ravi').reply(200, makeGrant('g'));
    mock.onDelete('grants/g/members/ravi').reply(200, makeGrant('g'));
    await client.setBudget('g', '10.00');
    await client.setMember('g', 'ravi', 'viewer');
    await client.removeMember('g', 'ravi');
    expect(JSON.parse(mock.history.put[0].data)).toEqual({ budget: '10.00' });
    expect(JSON.parse(mock.history.put[1].data)).toEqual({ role: 'viewer' });
    expect(mock.history.delete).toHaveLength(1);
  });
});
