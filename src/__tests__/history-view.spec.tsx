import * as React from 'react';
import { act } from 'react';
import { createRoot, Root } from 'react-dom/client';

import { nullTranslator } from '@jupyterlab/translation';
import { CommandRegistry } from '@lumino/commands';

import { ComputePanelAPI, ComputePanelError } from '../api';
import { HistoryView } from '../history/HistoryView';
import { CommandButtons } from '../history/widget';
import { disposeModels, makeModel } from './historyFixtures';

(globalThis as any).IS_REACT_ACT_ENVIRONMENT = true;

const trans = nullTranslator.load('jupyterlab_compute_panel');

afterEach(disposeModels);

describe('HistoryView', () => {
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

  const flush = async () => {
    await act(async () => {
      await new Promise(resolve => setTimeout(resolve, 0));
    });
  };

  const rows = () =>
    Array.from(host.querySelectorAll('.jp-ComputePanel-vtBody [role="row"]'));

  it('lists runs, shows one in details with its environment, selects several for the actions', async () => {
    const { model } = makeModel();
    await model.load();
    const renderRunActions = jest.fn((run: ComputePanelAPI.IRun) => (
      <button className="test-rerun">{`Re-run ${run.id}`}</button>
    ));
    const renderSelectionActions = jest.fn(
      (runs: ReadonlyArray<ComputePanelAPI.IRun>) => (
        <button className="test-compare" disabled={runs.length < 2}>
          Compare
        </button>
      )
    );
    act(() =>
      root.render(
        <HistoryView
          model={model}
          trans={trans}
          tiers={[{ id: 'h200', label: 'H200 training' }]}
          grants={[{ id: 'nsf-1', label: 'NSF 1' }]}
          renderRunActions={renderRunActions}
          renderSelectionActions={renderSelectionActions}
        />
      )
    );
    await flush();
    expect(host.querySelector('.jp-ComputePanel-runsCount')!.textContent).toBe(
      '250 runs'
    );
    // Virtualized: a screen of rows, not 250.
    expect(rows().length).toBeGreaterThan(5);
    expect(rows().length).toBeLessThan(40);
    expect(rows()[0].textContent).toContain('nb-0.ipynb');
    expect(rows()[0].textContent).toContain('NSF 1');
    expect(
      host.querySelector('[role="grid"]')!.getAttribute('aria-multiselectable')
    ).toBe('true');

    // A click shows the details and their environment.
    act(() => (rows()[1] as HTMLElement).click());
    await flush();
    const details = host.querySelector('.jp-ComputePanel-historyDetails')!;
    expect(details.getAttribute('data-run')).toBe('r1');
    expect(details.querySelector('[data-fact="end"]')!.textContent).toContain(
      'Shut down on request'
    );
    expect(details.querySelector('[data-fact="rate"]')!.textContent).toContain(
      '3.60 USD/h'
    );
    expect(details.querySelector('[data-env="python"]')!.textContent).toContain(
      '3.11.2'
    );
    expect(renderRunActions).toHaveBeenLastCalledWith(
      expect.objectContaining({ id: 'r1' })
    );
    expect(details.querySelector('.test-rerun')!.textContent).toBe('Re-run r1');

    // Tick two boxes, Ctrl-click a third, untick the first.
    const box = (i: number) =>
      rows()[i].querySelector('input[type="checkbox"]') as HTMLInputElement;
    act(() => box(0).click());
    act(() => box(2).click());
    expect(renderSelectionActions).toHaveBeenLastCalledWith([
      expect.objectContaining({ id: 'r0' }),
      expect.objectContaining({ id: 'r2' })
    ]);
    act(() => {
      rows()[3].dispatchEvent(
        new MouseEvent('click', { bubbles: true, ctrlKey: true })
      );
    });
    await flush(); // the environment of the run shown now
    act(() => box(0).click());
    expect(model.selected).toEqual(['r2', 'r3']);
    expect(rows()[2].getAttribute('aria-selected')).toBe('true');
    expect(rows()[2].classList).toContain('jp-mod-selected');
    expect(rows()[0].getAttribute('aria-selected')).toBe('false');
    expect(
      host.querySelector('.jp-ComputePanel-historySelection')!.textContent
    ).toContain('2 runs selected');
    expect(
      (host.querySelector('.test-compare') as HTMLButtonElement).disabled
    ).toBe(false);
    // Ticking a box does not change the run shown.
    expect(model.active?.id).toBe('r3');
  });

  it("says why an environment is missing, in the server's words", async () => {
    const { model, client } = makeModel();
    client.environment.mockRejectedValue(
      new ComputePanelError({
        status: 404,
        message:
          "Run 'r0' has no environment fingerprint yet: environment capture is off on this server"
      })
    );
    await model.load();
    act(() =>
      root.render(
        <HistoryView model={model} trans={trans} tiers={[]} grants={[]} />
      )
    );
    await flush();
    act(() => (rows()[0] as HTMLElement).click());
    await flush();
    expect(host.querySelector('[data-env-state="missing"]')!.textContent).toBe(
      "Not captured: Run 'r0' has no environment fingerprint yet: environment capture is off on this server"
    );
  });

  it('applies a filter at once and offers to clear it', async () => {
    const { model, client } = makeModel({ preset: { notebook: 'a.ipynb' } });
    await model.load();
    act(() =>
      root.render(
        <HistoryView
          model={model}
          trans={trans}
          tiers={[{ id: 'h200', label: 'H200 training' }]}
          grants={[]}
        />
      )
    );
    await flush();
    const notebook = host.querySelector(
      '.jp-ComputePanel-historyNotebook'
    ) as HTMLInputElement;
    expect(notebook.value).toBe('a.ipynb');
    const tier = host.querySelectorAll('select')[0] as HTMLSelectElement;
    await act(async () => {
      Object.getOwnPropertyDescriptor(
        HTMLSelectElement.prototype,
        'value'
      )!.set!.call(tier, 'h200');
      tier.dispatchEvent(new Event('change', { bubbles: true }));
    });
    expect(client.runs).toHaveBeenLastCalledWith(
      expect.objectContaining({ notebook: 'a.ipynb', tier: 'h200', offset: 0 })
    );
    await act(async () => {
      (
        host.querySelector('.jp-ComputePanel-historyClear') as HTMLElement
      ).click();
    });
    await flush();
    expect(client.runs).toHaveBeenLastCalledWith({
      sort: '-started',
      limit: 100,
      offset: 0
    });
    expect(notebook.value).toBe('');
    expect(host.querySelector('.jp-ComputePanel-historyClear')).toBeNull();
  });
});

describe('CommandButtons', () => {
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

  it('asks the commands with the run ids, and runs them', () => {
    const commands = new CommandRegistry();
    const execute = jest.fn();
    commands.addCommand('x:compare', {
      label: args => `Compare ${(args.runIds as string[]).length}`,
      isEnabled: args => (args.runIds as string[]).length >= 2,
      describedBy: { args: { type: 'object', properties: {} } },
      execute
    });
    commands.addCommand('x:hidden', {
      label: 'Hidden',
      isVisible: () => false,
      describedBy: { args: { type: 'object', properties: {} } },
      execute
    });
    const draw = (runIds: string[]) =>
      act(() =>
        root.render(
          <CommandButtons
            commands={commands}
            ids={['x:compare', 'x:hidden', 'x:unknown']}
            args={{ runIds }}
          />
        )
      );
    draw(['a']);
    const button = () => host.querySelector('button') as HTMLButtonElement;
    expect(host.querySelectorAll('button')).toHaveLength(1);
    expect(button().textContent).toBe('Compare 1');
    expect(button().disabled).toBe(true);
    draw(['a', 'b']);
    expect(button().disabled).toBe(false);
    act(() => button().click());
    expect(execute).toHaveBeenCalledWith({ runIds: ['a', 'b'] });
  });
});
