import * as React from 'react';
import { act } from 'react';
import { createRoot, Root } from 'react-dom/client';

import { NotebookPanel } from '@jupyterlab/notebook';
import { nullTranslator } from '@jupyterlab/translation';

import { ComputePanelError } from '../api';
import { ComputePanelView } from '../components/ComputePanelView';
import { MoveDialogView } from '../components/MoveDialog';
import { statusText } from '../components/StatusItem';
import { TierCard } from '../components/TierCard';
import { ComputePanelModel } from '../model';
import { preselectGrant } from '../panel/move';
import { makeFakeClient, makeGrant, makeRun, TIERS } from './fixtures';

(globalThis as any).IS_REACT_ACT_ENVIRONMENT = true;

const trans = nullTranslator.load('jupyterlab_compute_panel');

function fakePanel(kernelName: string): NotebookPanel {
  const signal = { connect: () => true, disconnect: () => true };
  return {
    title: { label: 'a.ipynb' },
    context: { path: 'a.ipynb' },
    disposed: signal,
    model: null,
    sessionContext: {
      session: { kernel: { id: 'k1', name: kernelName } },
      kernelChanged: signal,
      sessionChanged: signal
    }
  } as unknown as NotebookPanel;
}

describe('components', () => {
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

  const render = (element: JSX.Element) => {
    act(() => root.render(element));
  };

  describe('TierCard', () => {
    it('shows label, hardware, price, reliability, badge and use', () => {
      const onMove = jest.fn();
      render(
        <ul>
          <TierCard
            tier={TIERS[2]}
            current={false}
            canMove={true}
            trans={trans}
            onMove={onMove}
          />
        </ul>
      );
      const card = host.querySelector('.jp-ComputePanel-card')!;
      expect(card.querySelector('h3')!.textContent).toBe('H200 training');
      expect(card.querySelector('.jp-ComputePanel-hardware')!.textContent).toBe(
        '1× NVIDIA H200 · 141 GB · 16 CPU cores'
      );
      expect(card.querySelector('.jp-ComputePanel-price')!.textContent).toBe(
        '3.60 USD/h'
      );
      expect(
        card.querySelector('.jp-ComputePanel-reliability')!.textContent
      ).toBe('Datacenter');
      expect(card.querySelector('.jp-ComputePanel-running')!.textContent).toBe(
        '1 kernel'
      );
      const badge = card.querySelector('.jp-ComputePanel-badge-simulated')!;
      expect(badge.textContent).toBe('simulated');
      expect(badge.getAttribute('title')).toMatch(/run on this machine/);
      expect(card.getAttribute('aria-current')).toBeNull();

      const button = card.querySelector('button')!;
      expect(button.textContent).toBe('Move here');
      expect(button.disabled).toBe(false);
      act(() => button.click());
      expect(onMove).toHaveBeenCalledWith('h200');
    });

    it('marks the current tier "Current" instead of a button', () => {
      render(
        <ul>
          <TierCard
            tier={TIERS[0]}
            current={true}
            canMove={true}
            trans={trans}
            onMove={jest.fn()}
          />
        </ul>
      );
      const card = host.querySelector('.jp-ComputePanel-card')!;
      expect(card.getAttribute('aria-current')).toBe('true');
      expect(card.classList.contains('jp-mod-current')).toBe(true);
      expect(
        card.querySelector('.jp-ComputePanel-currentMark')!.textContent
      ).toBe('Currentthe notebook runs here');
      expect(card.querySelector('.jp-ComputePanel-price')!.textContent).toBe(
        'Free'
      );
      expect(card.querySelector('.jp-ComputePanel-hardware')!.textContent).toBe(
        'CPU only · 4 cores'
      );
      expect(card.querySelector('.jp-ComputePanel-badge-simulated')).toBeNull();
      expect(card.querySelector('button')).toBeNull();
    });
  });

  describe('ComputePanelView', () => {
    it('renders one card per tier, the current one marked, and the cost', async () => {
      const client = makeFakeClient();
      client.version.mockResolvedValue({
        version: '0.1.0',
        api: 1,
        catalog_error: 'bad price for h200'
      });
      const model = new ComputePanelModel({ client, poll: false });
      await model.initialize();
      model.setNotebook(fakePanel('compute-panel-rtx4090-python3'));
      client.kernelRun.mockResolvedValue(
        makeRun({
          tier_id: 'rtx4090',
          rate: { amount: '0.50', currency: 'USD' },
          cost: { amount: '0.012300', currency: 'USD' },
          duration_s: 88
        })
      );
      await model.refresh();
      render(
        <ComputePanelView model={model} trans={trans} onMove={jest.fn()} />
      );

      const cards = host.querySelectorAll('.jp-ComputePanel-card');
      expect(cards.length).toBe(3);
      const current = host.querySelectorAll('[aria-current="true"]');
      expect(current.length).toBe(1);
      expect(current[0].getAttribute('data-tier')).toBe('rtx4090');
      expect(host.querySelector('.jp-ComputePanel-summary')!.textContent).toBe(
        'a.ipynb runs on RTX 4090 prototyping.'
      );
      expect(host.querySelector('.jp-ComputePanel-runCost')!.textContent).toBe(
        'Cost of this run so far: 0.01 USD'
      );
      const banner = host.querySelector('[role="alert"]')!;
      expect(banner.textContent).toBe(
        'The tier catalog is invalid and metering is disabled: bad price for h200'
      );
      model.dispose();
    });

    it('says the ledger is unreachable instead of the run cost', async () => {
      const client = makeFakeClient();
      const model = new ComputePanelModel({ client, poll: false });
      await model.initialize();
      model.setNotebook(fakePanel('compute-panel-rtx4090-python3'));
      const sentence =
        'The compute ledger is unreachable (its database is stopped or cannot be reached), so its figures cannot be shown and paid tiers cannot start; running kernels keep running and Local CPU still works.';
      client.kernelRun.mockRejectedValue(
        new ComputePanelError({ status: 503, message: sentence })
      );
      await model.refresh();
      render(
        <ComputePanelView model={model} trans={trans} onMove={jest.fn()} />
      );
      expect(host.querySelector('[role="alert"]')!.textContent).toBe(sentence);
      expect(host.querySelector('.jp-ComputePanel-runCost')).toBeNull();
      model.dispose();
    });

    it('shows the missing-server banner and no notebook hint', async () => {
      const client = makeFakeClient();
      client.version.mockRejectedValue(
        new ComputePanelError({ status: 404, message: 'Not Found' })
      );
      const model = new ComputePanelModel({ client, poll: false });
      await model.initialize();
      render(
        <ComputePanelView model={model} trans={trans} onMove={jest.fn()} />
      );
      expect(host.querySelector('[role="alert"]')!.textContent).toMatch(
        /server extension is not installed or not enabled/
      );
      expect(host.querySelector('.jp-ComputePanel-summary')!.textContent).toBe(
        'Open a notebook to see and change where it runs.'
      );
      model.dispose();
    });
  });

  describe('MoveDialogView', () => {
    const grants = [
      makeGrant('nsf-1', { award_number: 'NSF CNS-1', title: 'Edge ML' }),
      makeGrant('old', { active: false }),
      makeGrant('erc-2', { award_number: 'ERC 2', title: '' })
    ];

    it('shows price, badge, active grants, warning and re-run option', () => {
      const onChange = jest.fn();
      render(
        <MoveDialogView
          tier={TIERS[2]}
          grants={grants}
          initial={{ grantId: 'erc-2', rerun: true }}
          trans={trans}
          onChange={onChange}
        />
      );
      expect(
        host.querySelector('.jp-ComputePanel-movePrice')!.textContent
      ).toBe('Price: 3.60 USD/h');
      expect(
        host.querySelector('.jp-ComputePanel-badge-simulated')
      ).not.toBeNull();
      const select = host.querySelector('select')!;
      const options = Array.from(select.options).map(o => [o.value, o.text]);
      expect(options).toEqual([
        ['', 'Choose a grant…'],
        ['nsf-1', 'NSF CNS-1 — Edge ML'],
        ['erc-2', 'ERC 2']
      ]);
      expect(select.value).toBe('erc-2');
      expect(host.querySelector('.jp-ComputePanel-warning')!.textContent).toBe(
        'Kernel memory does not move: variables and imports are lost. Re-run cells to rebuild them.'
      );
      const checkbox = host.querySelector(
        'input[type="checkbox"]'
      ) as HTMLInputElement;
      expect(checkbox.checked).toBe(true);
      expect(
        host.querySelector('label[for="' + checkbox.id + '"]')!.textContent
      ).toBe('Re-run all cells on the new tier');
      act(() => checkbox.click());
      expect(onChange).toHaveBeenLastCalledWith({
        grantId: 'erc-2',
        rerun: false
      });
    });

    it('has no grant picker on a free tier', () => {
      render(
        <MoveDialogView
          tier={TIERS[0]}
          grants={grants}
          initial={{ grantId: null, rerun: false }}
          trans={trans}
          onChange={jest.fn()}
        />
      );
      expect(
        host.querySelector('.jp-ComputePanel-movePrice')!.textContent
      ).toBe('Price: Free');
      expect(host.querySelector('select')).toBeNull();
    });

    it('preselects the binding, else the default, if active', () => {
      expect(preselectGrant(grants, 'nsf-1', 'erc-2')).toBe('nsf-1');
      expect(preselectGrant(grants, 'old', 'erc-2')).toBe('erc-2');
      expect(preselectGrant(grants, null, 'gone')).toBeNull();
      expect(preselectGrant([grants[0], grants[1]], null, '')).toBe('nsf-1');
    });
  });

  describe('statusText', () => {
    it('reads tier and cost, free, and not metered', async () => {
      const client = makeFakeClient();
      const model = new ComputePanelModel({ client, poll: false });
      await model.initialize();

      model.setNotebook(fakePanel('python3'));
      expect(statusText(model, null, trans).text).toBe('Not metered');

      const local = new ComputePanelModel({ client, poll: false });
      await local.initialize();
      local.setNotebook(fakePanel('compute-panel-local-python3'));
      expect(statusText(local, null, trans).text).toBe('Local CPU · free');

      const h200 = new ComputePanelModel({ client, poll: false });
      await h200.initialize();
      h200.setNotebook(fakePanel('compute-panel-h200-python3'));
      await h200.refresh();
      const status = statusText(h200, h200.liveCost, trans);
      expect(status.text).toBe('H200 training (simulated) · 0.01 USD');
      expect(status.title).toContain('Rate: 3.60 USD/h');
      expect(status.title).toContain('Grant: nsf-1');
      [model, local, h200].forEach(m => m.dispose());
    });
  });
});
