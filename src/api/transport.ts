/**
 * The transport of the REST API: one axios instance on
 * `{baseUrl}compute-panel/`, authenticated as `ServerConnection` is (the
 * token header; the login cookie plus `X-XSRFToken`), every failure turned
 * into a `ComputePanelError` carrying the server's JSON message.
 */
import axios, {
  AxiosError,
  AxiosInstance,
  AxiosRequestConfig,
  InternalAxiosRequestConfig
} from 'axios';

import { URLExt } from '@jupyterlab/coreutils';

import { ComputePanelError } from './errors';

/**
 * The server connection settings the transport reads; a subset of
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
 * Requests to `/compute-panel/...`: JSON in and out, or a file down.
 */
export class ComputePanelTransport {
  constructor(options: ComputePanelTransport.IOptions) {
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

  /**
   * One JSON request; resolves with the answer's body.
   */
  async request<T>(config: AxiosRequestConfig): Promise<T> {
    try {
      const response = await this.http.request<T>(config);
      return response.data;
    } catch (error) {
      throw ComputePanelError.fromAxios(error);
    }
  }

  /**
   * Download a file; resolves with it and the name the server gave it.
   */
  async download(
    config: AxiosRequestConfig
  ): Promise<{ blob: Blob; filename: string | null }> {
    try {
      const response = await this.http.request<Blob>({
        ...config,
        responseType: 'blob'
      });
      const filename = filenameFromDisposition(
        String(response.headers['content-disposition'] ?? '')
      );
      return { blob: response.data, filename };
    } catch (error) {
      throw ComputePanelError.fromAxios(await readBlobBody(error));
    }
  }
}

export namespace ComputePanelTransport {
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
