/**
 * The REST API: its wire types (generated from `openapi.yaml`), its errors,
 * its transport and its client.
 */
export { ComputePanelAPI } from './types';
export { ComputePanelError } from './errors';
export {
  ComputePanelTransport,
  filenameFromDisposition,
  getCookie
} from './transport';
export type { IClientServerSettings } from './transport';
export { ComputePanelClient } from './client';
export type {
  IBudgetClient,
  IComputePanelClient,
  IReproduceClient
} from './client';
