/**
 * Dashboard fixtures: a runs page, a client that answers the dashboard,
 * and typing into a form's inputs.
 */
import { ComputePanelAPI } from '../api';
import { makeDashboard, makeFakeClient, makeRun } from './fixtures';

/**
 * A GET /runs page of closed runs of two users.
 */
export function runsPage(count = 3): ComputePanelAPI.IRunPage {
  return {
    runs: Array.from({ length: Math.min(count, 100) }, (_, i) =>
      makeRun({
        id: `r${i}`,
        status: 'closed',
        user: i % 2 ? 'ravi' : 'student'
      })
    ),
    count,
    totals: [{ amount: '41.343612', currency: 'USD' }],
    server_time: '2026-03-20T12:00:00Z'
  };
}

/**
 * A client that answers the dashboard and its runs.
 */
export function fakeClient(data = makeDashboard()) {
  const client = makeFakeClient();
  client.dashboard.mockResolvedValue(data);
  client.runs.mockResolvedValue(runsPage());
  return client;
}

/**
 * Type into an input or choose in a select, as React sees it.
 */
export const setValue = (
  input: HTMLInputElement | HTMLSelectElement,
  value: string
) => {
  const proto =
    input instanceof HTMLSelectElement
      ? HTMLSelectElement.prototype
      : HTMLInputElement.prototype;
  Object.getOwnPropertyDescriptor(proto, 'value')!.set!.call(input, value);
  input.dispatchEvent(new Event('input', { bubbles: true }));
  input.dispatchEvent(new Event('change', { bubbles: true }));
};
