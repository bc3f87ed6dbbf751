import * as React from 'react';
import { act } from 'react';
import { createRoot, Root } from 'react-dom/client';

import { nullTranslator } from '@jupyterlab/translation';

import type { NotebookPanel } from '@jupyterlab/notebook';

import { ComputePanelError } from '../api';
import { ComputePanelView } from '../components/ComputePanelView';
import { ComputePanelModel } from '../model';
import { startRerunFlow } from '../rerun/flow';
import { RerunDialogBody, RerunDialogView } from '../rerun/RerunDialog';
import { makeFakeClient, TIERS } from './fixtures';
import { choice, GRANTS, makeRerun } from './rerunFixtures';

(globalThis as any).IS_REACT_ACT_ENVIRONMENT = true;

const trans = nullTranslator.load('jupyterlab_compute_panel');

describe('RerunDialogView', () => {
  let host: HTMLDivElement;
  let root: Root;

  beforeEach(() => {
    host = document.createElement('div');
    document.body.appendChild(host);
    root = createRoot(host);
  });

  afterEach(() => {
    act(() => root.unmount());
    host.remove();
  });

  const render = (props: Partial<RerunDialogView.IProps> = {}) => {
    const onChange = jest.fn();
    act(() =>
      root.render(
        <RerunDialogView
          name="robust.ipynb"
          tiers={TIERS}
          grants={GRANTS}
          initial={choice({ tierId: null, grantId: 'nsf-1' })}
          dirty={false}
          trans={trans}
          onChange={onChange}
          {...props}
        />
      )
    );
    return onChange;
  };

  const tierInput = (id: string) =>
    host.querySelector(
      `[data-tier="${id}"] input[type="radio"]`
    ) as HTMLInputElement;

  it('lists every tier with its price per hour and badge', () => {
    render();
    const labels = [...host.querySelectorAll('.jp-ComputePanel-rerunTier')];
    expect(labels.map(l => l.textContent)).toEqual([
      'Local CPUFree',
      'RTX 4090 prototypingsimulated0.50 USD/h',
      'H200 trainingsimulated3.60 USD/h'
    ]);
    // No grant picker before a paid tier is chosen.
    expect(host.querySelector('select')).toBeNull();
  });

  it('asks for a grant on a paid tier and says what the money buys', () => {
    const onChange = render();
    act(() => tierInput('h200').click());
    expect(onChange).toHaveBeenLastCalledWith(
      choice({ tierId: 'h200', grantId: 'nsf-1' })
    );
    const select = host.querySelector('select') as HTMLSelectElement;
    // Only grants the user may charge.
    expect([...select.options].map(o => o.value)).toEqual(['', 'nsf-1']);
    expect(select.value).toBe('nsf-1');
    expect(host.querySelector('[role="note"]')!.textContent).toContain(
      'metered at 3.60 USD/h and charged to the grant; the kernel stops as soon as the last cell ends'
    );
    // Clearing the grant says why it cannot go.
    act(() => {
      Object.getOwnPropertyDescriptor(
        HTMLSelectElement.prototype,
        'value'
      )!.set!.call(select, '');
      select.dispatchEvent(new Event('change', { bubbles: true }));
    });
    expect(host.querySelector('[role="alert"]')!.textContent).toBe(
      'H200 training is a paid tier: choose a grant to charge.'
    );
  });

  it('checks the time limit as it is typed', () => {
    render({ initial: choice() });
    const input = host.querySelector(
      '#jp-ComputePanel-rerunLimit'
    ) as HTMLInputElement;
    expect(input.placeholder).toBe('server default');
    act(() => {
      Object.getOwnPropertyDescriptor(
        HTMLInputElement.prototype,
        'value'
      )!.set!.call(input, 'abc');
      input.dispatchEvent(new Event('input', { bubbles: true }));
    });
    expect(input.getAttribute('aria-invalid')).toBe('true');
    expect(host.querySelector('[role="alert"]')!.textContent).toContain(
      'The time limit is a number of minutes above 0'
    );
  });

  it('shows the server’s refusal until the user changes something', () => {
    render({
      initial: choice(),
      error:
        'Grant SEED 0001 has 0.10 USD left, less than 15 minutes on H200 training (0.875 USD)'
    });
    expect(host.querySelector('[role="alert"]')!.textContent).toBe(
      'Grant SEED 0001 has 0.10 USD left, less than 15 minutes on H200 training (0.875 USD)'
    );
    act(() => tierInput('local').click());
    expect(host.querySelector('[role="alert"]')).toBeNull();
  });

  it('is one click away in the compute panel, for the followed notebook', async () => {
    const signal = { connect: () => true, disconnect: () => true };
    const panel = {
      title: { label: 'robust.ipynb' },
      context: { path: 'examples/robust.ipynb' },
      disposed: signal,
      model: null,
      sessionContext: {
        session: { kernel: { id: 'k1', name: 'compute-panel-local-python3' } },
        kernelChanged: signal,
        sessionChanged: signal
      }
    } as unknown as NotebookPanel;
    const model = new ComputePanelModel({
      client: makeFakeClient(),
      poll: false
    });
    await model.initialize();
    const onRerun = jest.fn();
    act(() =>
      root.render(
        <ComputePanelView
          model={model}
          trans={trans}
          onMove={jest.fn()}
          onRerun={onRerun}
        />
      )
    );
    // No notebook followed: no button.
    expect(host.querySelector('.jp-ComputePanel-rerunButton')).toBeNull();
    model.setNotebook(panel);
    act(() =>
      root.render(
        <ComputePanelView
          model={model}
          trans={trans}
          onMove={jest.fn()}
          onRerun={onRerun}
        />
      )
    );
    const button = host.querySelector(
      '.jp-ComputePanel-rerunButton'
    ) as HTMLButtonElement;
    expect(button.textContent).toBe('Re-run on…');
    act(() => button.click());
    expect(onRerun).toHaveBeenCalledWith('examples/robust.ipynb');
    model.dispose();
  });

  it('offers to save a notebook with unsaved changes first', () => {
    const onChange = render({ initial: choice(), dirty: true });
    const save = host.querySelector(
      '#jp-ComputePanel-rerunSave'
    ) as HTMLInputElement;
    expect(save.checked).toBe(true);
    act(() => save.click());
    expect(onChange).toHaveBeenLastCalledWith(choice({ save: false }));
    expect(host.textContent).toContain('Unsaved changes are not in the re-run');
  });
});

describe('startRerunFlow', () => {
  const model = () => {
    const client = makeFakeClient();
    client.getBinding.mockResolvedValue({
      path: 'a.ipynb',
      grant_id: 'nsf-1'
    });
    return new ComputePanelModel({ client, poll: false });
  };

  it('brings the dialog back with the server’s refusal, then starts', async () => {
    const m = model();
    await m.initialize();
    const refusal =
      'Grant AWD nsf-1 has 0.10 USD left, less than 15 minutes on H200 training (0.90 USD)';
    const started = makeRerun();
    const startRerun = jest
      .fn()
      .mockRejectedValueOnce(
        new ComputePanelError({ status: 403, message: refusal })
      )
      .mockResolvedValueOnce(started);
    const shown: (string | null | undefined)[] = [];
    const ask = jest.fn(async (body: RerunDialogBody) => {
      shown.push(body.error);
      // The grant comes from the notebook's binding.
      expect(body.getValue().grantId).toBe('nsf-1');
      return { ...body.getValue(), tierId: 'h200' };
    });
    const rerun = await startRerunFlow({
      model: m,
      client: { startRerun },
      path: 'a.ipynb',
      ask
    });
    expect(rerun).toBe(started);
    expect(shown).toEqual([null, refusal]);
    expect(startRerun).toHaveBeenLastCalledWith({
      path: 'a.ipynb',
      tier_id: 'h200',
      grant_id: 'nsf-1'
    });
  });

  it('does not send an invalid choice, and stops on Cancel', async () => {
    const m = model();
    await m.initialize();
    const startRerun = jest.fn();
    const ask = jest
      .fn()
      .mockResolvedValueOnce(choice({ tierId: null }))
      .mockResolvedValueOnce(null);
    expect(
      await startRerunFlow({
        model: m,
        client: { startRerun },
        path: 'a.ipynb',
        ask
      })
    ).toBeNull();
    expect(ask).toHaveBeenCalledTimes(2);
    expect((ask.mock.calls[1][0] as RerunDialogBody).error).toBe(
      'Choose a tier to re-run on.'
    );
    expect(startRerun).not.toHaveBeenCalled();
  });

  it('saves a notebook with unsaved changes before it runs', async () => {
    const m = model();
    await m.initialize();
    const order: string[] = [];
    const panel = {
      model: { getMetadata: () => undefined },
      context: {
        model: { dirty: true },
        save: jest.fn(async () => {
          order.push('save');
        })
      }
    } as any;
    const startRerun = jest.fn(async () => {
      order.push('post');
      return makeRerun();
    });
    await startRerunFlow({
      model: m,
      client: { startRerun },
      path: 'a.ipynb',
      panel,
      tierId: 'local',
      ask: async body => body.getValue()
    });
    expect(order).toEqual(['save', 'post']);
  });
});
