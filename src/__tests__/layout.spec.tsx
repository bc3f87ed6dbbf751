/**
 * Layout and wording rules: content-sized table columns, a PI's own loss of
 * their role asked first, plurals through the translator.
 */
import * as React from 'react';
import { act } from 'react';
import { createRoot, Root } from 'react-dom/client';

import { nullTranslator } from '@jupyterlab/translation';

import { formatHardware } from '../components/format';
import { DashboardView } from '../dashboard/DashboardView';
import { selfChange } from '../dashboard/grants';
import { DashboardModel } from '../dashboard/model';
import { defaultGrantChoices } from '../panel/defaultGrantField';
import { endMessage, progressMessage } from '../rerun/format';
import { IColumn, template, widen } from '../table/VirtualTable';
import { makeDashboard, makeGrant } from './fixtures';
import { fakeClient, setValue } from './dashboardFixtures';
import { makeRerun } from './rerunFixtures';

(globalThis as any).IS_REACT_ACT_ENVIRONMENT = true;

const trans = nullTranslator.load('jupyterlab_compute_panel');

describe('content-sized columns', () => {
  const column = (id: string, width: string, fit?: boolean): IColumn<null> => ({
    id,
    label: id,
    width,
    fit,
    render: () => null
  });
  const columns = [
    column('started', '9em', true),
    column('notebook', 'minmax(8em, 2fr)'),
    column('cost', '6em', true)
  ];

  it('sizes a fit column to its content until measured, then to its width', () => {
    expect(template(columns)).toBe('max-content minmax(8em, 2fr) max-content');
    expect(template(columns, { started: 131, cost: 88 })).toBe(
      '131px minmax(8em, 2fr) 88px'
    );
  });

  it('only grows, in whole pixels, so scrolled rows never make columns jump', () => {
    expect(widen({}, { started: 130.2 })).toEqual({ started: 131 });
    expect(widen({ started: 131 }, { started: 120 })).toBeNull();
    expect(widen({ started: 131 }, { started: 131 })).toBeNull();
    expect(widen({ started: 131 }, { cost: 90, started: 140 })).toEqual({
      started: 140,
      cost: 90
    });
  });
});

describe("a PI's own loss of their role", () => {
  it('is a removal or a demotion of the user themselves', () => {
    const pi = { user: 'mia', role: 'pi' as const };
    expect(selfChange(pi, 'mia', null)).toBe('leave');
    expect(selfChange(pi, 'mia', 'member')).toBe('demote');
    expect(selfChange(pi, 'mia', 'viewer')).toBe('demote');
    expect(selfChange(pi, 'mia', 'pi')).toBeNull();
    // Someone else's change, or the user unknown: nothing of the kind.
    expect(selfChange(pi, 'ravi', 'member')).toBeNull();
    expect(selfChange(pi, null, null)).toBeNull();
    expect(selfChange({ user: 'mia', role: 'member' }, 'mia', 'viewer')).toBe(
      null
    );
  });

  describe('in the members editor', () => {
    let host: HTMLDivElement;
    let root: Root;
    let model: DashboardModel;

    beforeEach(() => {
      host = document.createElement('div');
      document.body.appendChild(host);
      root = createRoot(host);
    });

    afterEach(() => {
      act(() => root.unmount());
      host.remove();
      model.dispose();
    });

    const show = async (answer: boolean) => {
      const data = makeDashboard();
      data.grant = makeGrant('nsf-1', {
        ...data.grant,
        members: [
          { user: 'mia', role: 'pi' },
          { user: 'ravi', role: 'member' },
          { user: 'student', role: 'pi' }
        ]
      });
      const client = fakeClient(data);
      client.setMember.mockResolvedValue(data.grant);
      model = new DashboardModel({ grantId: 'nsf-1', client });
      await model.refresh();
      const confirmDemoteSelf = jest.fn().mockResolvedValue(answer);
      const confirmRemove = jest.fn().mockResolvedValue(false);
      act(() =>
        root.render(
          <DashboardView
            model={model}
            trans={trans}
            onExport={jest.fn()}
            me="mia"
            confirmRemove={confirmRemove}
            confirmDemoteSelf={confirmDemoteSelf}
          />
        )
      );
      const role = (user: string) =>
        host.querySelector(
          `tr[data-user="${user}"] select`
        ) as HTMLSelectElement;
      return { client, confirmDemoteSelf, confirmRemove, role };
    };

    it('asks before a PI makes themselves a member, and keeps the role if not', async () => {
      const { client, confirmDemoteSelf, role } = await show(false);
      await act(async () => setValue(role('mia'), 'member'));
      expect(confirmDemoteSelf).toHaveBeenCalledWith('member');
      expect(client.setMember).not.toHaveBeenCalled();
      expect(role('mia').value).toBe('pi');
    });

    it('changes the role once the PI confirms', async () => {
      const { client, confirmDemoteSelf, role } = await show(true);
      await act(async () => setValue(role('mia'), 'viewer'));
      expect(confirmDemoteSelf).toHaveBeenCalledWith('viewer');
      expect(client.setMember).toHaveBeenCalledWith('nsf-1', 'mia', 'viewer');
    });

    it("does not ask about another member's role, and says whose removal it is", async () => {
      const { client, confirmDemoteSelf, confirmRemove, role } =
        await show(true);
      await act(async () => setValue(role('ravi'), 'viewer'));
      expect(confirmDemoteSelf).not.toHaveBeenCalled();
      expect(client.setMember).toHaveBeenCalledWith('nsf-1', 'ravi', 'viewer');
      const remove = (user: string) =>
        host.querySelector(
          `tr[data-user="${user}"] button`
        ) as HTMLButtonElement;
      await act(async () => remove('mia').click());
      expect(confirmRemove).toHaveBeenLastCalledWith('mia', true);
      await act(async () => remove('ravi').click());
      expect(confirmRemove).toHaveBeenLastCalledWith('ravi', false);
    });
  });
});

describe('plurals through the translator', () => {
  it('says "1 cell" and "1 core"', () => {
    const one = makeRerun({
      status: 'completed',
      cells_total: 1,
      cells_done: 1
    });
    expect(endMessage(one, 'a.ipynb', 'Local CPU', trans)).toMatch(
      /^Re-ran a\.ipynb on Local CPU: 1 cell in /
    );
    const starting = makeRerun({
      status: 'running',
      cells_total: 1,
      cells_done: 0,
      current_cell: null
    });
    expect(progressMessage(starting, 'a.ipynb', 'Local CPU', trans)).toBe(
      'Re-running a.ipynb on Local CPU: starting the kernel (1 cell)'
    );
    expect(formatHardware({ cpu_cores: 1 } as any, trans)).toBe(
      'CPU only · 1 core'
    );
    expect(formatHardware({ cpu_cores: 4 } as any, trans)).toBe(
      'CPU only · 4 cores'
    );
  });
});

describe('the default grant setting', () => {
  const grants = [
    makeGrant('nsf-1', { role: 'member' }),
    makeGrant('old-1', { active: false, role: 'member' }),
    makeGrant('seen-1', { role: 'viewer' })
  ];

  it('offers none, then the grants the user may charge now', () => {
    expect(defaultGrantChoices(grants, '', trans)).toEqual([
      { value: '', label: 'None: ask at each move' },
      { value: 'nsf-1', label: 'AWD nsf-1', title: 'Grant nsf-1' }
    ]);
  });

  it('keeps a saved id that is no longer chargeable, said so', () => {
    expect(defaultGrantChoices(grants, 'old-1', trans).slice(-1)).toEqual([
      { value: 'old-1', label: 'old-1 (not a grant you may charge now)' }
    ]);
    expect(defaultGrantChoices(grants, 'nsf-1', trans)).toHaveLength(2);
  });
});
