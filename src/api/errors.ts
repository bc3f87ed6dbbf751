import type { AxiosError } from 'axios';

import type { ComputePanelAPI } from './types';

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
