/**
 * @jest-environment node
 */
/*
 * Cookie login with XSRF checking on: the writes of our axios client are
 * accepted, the same write without `X-XSRFToken` is refused.
 *
 * Needs a Python that imports jupyterlab_compute_panel: COMPUTE_PANEL_PYTHON,
 * else the first python3 or python on PATH that does (see findPython).
 */
import axios, { AxiosResponse } from 'axios';
import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';

import { ComputePanelClient } from '../api';

jest.setTimeout(60000);

const ROOT = path.resolve(__dirname, '..', '..');
const PASSWORD = 'pw';

/**
 * Whether `python` imports the server extension of this checkout (run from
 * the checkout, as the server below is).
 */
function importsExtension(python: string): boolean {
  try {
    execFileSync(
      python,
      ['-c', 'import jupyter_server, jupyterlab_compute_panel'],
      {
        cwd: ROOT,
        stdio: 'ignore',
        timeout: 60000
      }
    );
    return true;
  } catch {
    return false;
  }
}

/**
 * The project's Python: COMPUTE_PANEL_PYTHON (a path, relative to the
 * checkout, or a command name), else the first python3 or python on PATH that
 * imports jupyterlab_compute_panel; else an error saying how to provide one.
 */
function findPython(): string {
  const given = process.env.COMPUTE_PANEL_PYTHON;
  if (given) {
    return given.includes(path.sep) ? path.resolve(ROOT, given) : given;
  }
  const tried: string[] = [];
  const dirs = new Set<string>();
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    // One look per folder (/bin is often /usr/bin); a virtualenv's python is
    // a link to the base one, so files are not followed.
    const real = dir && fs.existsSync(dir) ? fs.realpathSync(dir) : '';
    if (!real || dirs.has(real)) {
      continue;
    }
    dirs.add(real);
    for (const name of ['python3', 'python']) {
      const candidate = path.join(dir, name);
      if (!fs.existsSync(candidate)) {
        continue;
      }
      tried.push(candidate);
      if (importsExtension(candidate)) {
        return candidate;
      }
    }
  }
  throw new Error(
    'No Python found that imports jupyterlab_compute_panel and jupyter_server ' +
      `(tried: ${tried.join(', ') || 'no python3 or python on PATH'}). ` +
      "Set COMPUTE_PANEL_PYTHON to the project's Python (e.g. .venv/bin/python " +
      "after 'make setup'), or put that Python first on PATH."
  );
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

/**
 * `name=value` pairs of the Set-Cookie headers of a response.
 */
function setCookies(response: AxiosResponse): Record<string, string> {
  const cookies: Record<string, string> = {};
  const header = response.headers['set-cookie'] ?? [];
  for (const line of header) {
    const pair = line.split(';')[0];
    const index = pair.indexOf('=');
    cookies[pair.slice(0, index).trim()] = pair.slice(index + 1).trim();
  }
  return cookies;
}

async function waitForServer(
  url: string,
  server: ChildProcess,
  log: () => string
) {
  const deadline = Date.now() + 45000;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) {
      throw new Error(`jupyter_server exited early:\n${log()}`);
    }
    try {
      await axios.get(url, { timeout: 1000, validateStatus: () => true });
      return;
    } catch {
      await new Promise(resolve => setTimeout(resolve, 250));
    }
  }
  throw new Error(`jupyter_server did not start:\n${log()}`);
}

describe('XSRF with cookie login (real jupyter_server)', () => {
  let server: ChildProcess;
  let tmp: string;
  let baseUrl: string;
  let output = '';
  let cookieHeader = '';
  let xsrf = '';

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'compute-panel-xsrf-'));
    for (const dir of ['root', 'data', 'config', 'runtime']) {
      fs.mkdirSync(path.join(tmp, dir));
    }
    const python = findPython();
    const hashed = execFileSync(
      python,
      [
        '-c',
        `from jupyter_server.auth import passwd; print(passwd('${PASSWORD}'))`
      ],
      { encoding: 'utf-8' }
    ).trim();
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}/`;
    server = spawn(
      python,
      [
        '-m',
        'jupyter_server',
        `--port=${port}`,
        '--ip=127.0.0.1',
        '--no-browser',
        '--allow-root',
        '--ServerApp.jpserver_extensions=jupyterlab_compute_panel=True',
        '--IdentityProvider.token=',
        `--PasswordIdentityProvider.hashed_password=${hashed}`,
        '--ServerApp.disable_check_xsrf=False',
        `--ServerApp.root_dir=${path.join(tmp, 'root')}`,
        `--ComputePanel.db_url=sqlite:///${path.join(tmp, 'ledger.sqlite')}`
      ],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          JUPYTER_DATA_DIR: path.join(tmp, 'data'),
          JUPYTER_CONFIG_DIR: path.join(tmp, 'config'),
          JUPYTER_RUNTIME_DIR: path.join(tmp, 'runtime')
        },
        stdio: ['ignore', 'pipe', 'pipe']
      }
    );
    server.stdout?.on('data', chunk => (output += chunk));
    server.stderr?.on('data', chunk => (output += chunk));
    await waitForServer(`${baseUrl}api`, server, () => output);

    // 1. The login page sets the _xsrf cookie.
    const page = await axios.get(`${baseUrl}login`, {
      validateStatus: () => true
    });
    expect(page.status).toBe(200);
    xsrf = setCookies(page)['_xsrf'];
    expect(xsrf).toBeTruthy();

    // 2. Logging in with the password (and the XSRF form field) sets the
    //    login cookie.
    const login = await axios.post(
      `${baseUrl}login`,
      new URLSearchParams({ password: PASSWORD, _xsrf: xsrf }).toString(),
      {
        headers: {
          'Content-Type': 'application/x-www-form-urlencoded',
          Cookie: `_xsrf=${xsrf}`
        },
        maxRedirects: 0,
        validateStatus: () => true
      }
    );
    expect(login.status).toBe(302);
    const loginCookies = setCookies(login);
    const names = Object.keys(loginCookies).filter(name =>
      name.startsWith('username-')
    );
    expect(names.length).toBe(1);
    cookieHeader = `_xsrf=${xsrf}; ${names[0]}=${loginCookies[names[0]]}`;
  });

  afterAll(async () => {
    if (server && server.exitCode === null) {
      const exited = new Promise(resolve => server.once('exit', resolve));
      server.kill('SIGTERM');
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        exited,
        new Promise(resolve => (timer = setTimeout(resolve, 5000)))
      ]);
      clearTimeout(timer);
      if (server.exitCode === null) {
        server.kill('SIGKILL');
      }
    }
    server?.stdout?.destroy();
    server?.stderr?.destroy();
    http.globalAgent.destroy();
    if (tmp) {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  function makeClient(): ComputePanelClient {
    const client = new ComputePanelClient({
      serverSettings: { baseUrl, token: '' },
      cookies: () => cookieHeader
    });
    // Node has no cookie jar: send the login cookies as a browser would.
    client.http.interceptors.request.use(config => {
      config.headers.set('Cookie', cookieHeader);
      return config;
    });
    return client;
  }

  it('accepts writes of our client (X-XSRFToken from the cookie)', async () => {
    const client = makeClient();
    const version = await client.version();
    expect(version.api).toBe(1);

    const binding = await client.putBinding({
      path: 'a.ipynb',
      grant_id: null
    });
    expect(binding.path).toBe('a.ipynb');
    expect(binding.grant_id).toBeNull();

    const read = await client.getBinding('a.ipynb');
    expect(read.grant_id).toBeNull();
  });

  it('refuses the same write without the X-XSRFToken header', async () => {
    const raw = await axios.put(
      `${baseUrl}compute-panel/bindings`,
      { path: 'a.ipynb', grant_id: null },
      {
        headers: { Cookie: cookieHeader, 'Content-Type': 'application/json' },
        validateStatus: () => true
      }
    );
    expect(raw.status).toBe(403);
    expect(JSON.stringify(raw.data)).toMatch(/xsrf/i);
  });

  it('refuses requests without the login cookie', async () => {
    const raw = await axios.get(`${baseUrl}compute-panel/version`, {
      validateStatus: () => true,
      maxRedirects: 0
    });
    expect([302, 403]).toContain(raw.status);
  });
});
