import * as React from 'react';
import { act } from 'react';
import { createRoot, Root } from 'react-dom/client';

import { nullTranslator } from '@jupyterlab/translation';

import { ComputePanelError } from '../api';
import { GrantList } from '../components/GrantList';
import {
  formValues,
  grantEdit,
  GrantEditForm,
  MembersEditor,
  newGrantBody,
  emptyNewGrant,
  NewGrantForm
} from '../dashboard/grants';
import { makeDashboard, makeGrant } from './fixtures';
import { setValue } from './dashboardFixtures';

(globalThis as any).IS_REACT_ACT_ENVIRONMENT = true;

const trans = nullTranslator.load('jupyterlab_compute_panel');

describe('grant forms', () => {
  it('sends only what changed, budget apart', () => {
    const grant = makeDashboard().grant;
    const before = formValues(grant);
    expect(grantEdit(before, before)).toEqual({ patch: {}, errors: {} });
    const after = {
      ...before,
      budget: '5000.000000', // the same amount
      title: ' Better title ',
      allowed_tiers: ['h200'],
      alert_thresholds: '80; 50, 100',
      hard_stop: false,
      min_runtime_minutes: '5',
      sensitive: true
    };
    expect(grantEdit(before, after)).toEqual({
      patch: {
        title: 'Better title',
        allowed_tiers: ['h200'],
        alert_thresholds: [80, 50, 100],
        hard_stop: false,
        min_runtime_minutes: '5',
        sensitive: true
      },
      errors: {}
    });
    expect(grantEdit(before, { ...before, budget: '7500.5' }).patch).toEqual({
      budget: '7500.5'
    });
    // Minutes stay a decimal string: the server refuses JSON floats.
    expect(
      grantEdit(before, { ...before, min_runtime_minutes: '7.5' }).patch
    ).toEqual({ min_runtime_minutes: '7.5' });
  });

  it('catches what is not a number before asking the server', () => {
    const before = formValues(makeDashboard().grant);
    const edit = grantEdit(before, {
      ...before,
      budget: '12,50',
      alert_thresholds: 'fifty',
      min_runtime_minutes: '1e3'
    });
    expect(Object.keys(edit.errors).sort()).toEqual([
      'alert_thresholds',
      'budget',
      'min_runtime_minutes'
    ]);
  });

  it('builds the POST body of a new grant', () => {
    const values = {
      ...emptyNewGrant('2026-03-01'),
      id: 'erc-1',
      award_number: 'ERC 1',
      title: 'T',
      funder: 'ERC',
      pi: 'alice',
      budget: '1000.00',
      currency: 'eur',
      end_date: '2027-03-01',
      co_pis: 'bob, carol',
      members: 'dan;eve'
    };
    expect(newGrantBody(values)).toEqual({
      id: 'erc-1',
      award_number: 'ERC 1',
      title: 'T',
      funder: 'ERC',
      pi: 'alice',
      budget: '1000.00',
      currency: 'EUR',
      start_date: '2026-03-01',
      end_date: '2027-03-01',
      co_pis: ['bob', 'carol'],
      members: [
        { user: 'dan', role: 'member' },
        { user: 'eve', role: 'member' }
      ],
      allowed_tiers: null,
      alert_thresholds: [50, 80, 100],
      hard_stop: true,
      min_runtime_minutes: '15',
      sensitive: false
    });
  });

  describe('rendered', () => {
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

    it('labels every field of the edit form', () => {
      act(() =>
        root.render(
          <GrantEditForm
            grant={makeDashboard().grant}
            tiers={makeDashboard().tiers}
            trans={trans}
            onSave={jest.fn()}
            onClose={jest.fn()}
          />
        )
      );
      for (const input of Array.from(host.querySelectorAll('input'))) {
        const labelled =
          (input.id && host.querySelector(`label[for="${input.id}"]`)) ||
          input.closest('label');
        expect(labelled).toBeTruthy();
      }
    });

    it('adds, changes and removes members; a refusal stays on its row', async () => {
      const onSet = jest.fn().mockResolvedValue(undefined);
      const onRemove = jest
        .fn()
        .mockRejectedValue(
          new ComputePanelError({ status: 409, message: 'No' })
        );
      act(() =>
        root.render(
          <MembersEditor
            grant={makeDashboard().grant}
            editable={true}
            trans={trans}
            onSet={onSet}
            onRemove={onRemove}
          />
        )
      );
      // The PI can be neither removed nor demoted here.
      const piRow = host.querySelector('tr[data-user="student"]')!;
      expect(piRow.querySelector('button')).toBeNull();
      expect(piRow.querySelector('select')).toBeNull();

      const ravi = host.querySelector('tr[data-user="ravi"]')!;
      await act(async () => setValue(ravi.querySelector('select')!, 'viewer'));
      expect(onSet).toHaveBeenCalledWith('ravi', 'viewer');

      await act(async () => ravi.querySelector('button')!.click());
      expect(onRemove).toHaveBeenCalledWith('ravi');
      expect(ravi.querySelector('[role="alert"]')!.textContent).toBe('No');

      const add = host.querySelector('form')!;
      act(() => setValue(add.querySelector('input')!, 'mia'));
      await act(async () => {
        add.dispatchEvent(
          new Event('submit', { bubbles: true, cancelable: true })
        );
      });
      expect(onSet).toHaveBeenLastCalledWith('mia', 'member');
    });

    it('gives focus to the next row once a removed member is gone', async () => {
      const grant = {
        ...makeDashboard().grant,
        members: [
          { user: 'ravi', role: 'member' as const },
          { user: 'mia', role: 'viewer' as const },
          { user: 'student', role: 'pi' as const }
        ]
      };
      let current = grant;
      const onRemove = jest.fn(async (user: string) => {
        current = {
          ...current,
          members: current.members.filter(m => m.user !== user)
        };
        act(() => render());
        return true;
      });
      const render = () =>
        root.render(
          <MembersEditor
            grant={current}
            editable={true}
            trans={trans}
            onSet={jest.fn()}
            onRemove={onRemove}
          />
        );
      act(() => render());
      const remove = (user: string) =>
        host.querySelector<HTMLButtonElement>(
          `tr[data-user="${user}"] button`
        )!;

      remove('ravi').focus();
      await act(async () => remove('ravi').click());
      expect(host.querySelector('tr[data-user="ravi"]')).toBeNull();
      // mia's row took ravi's place: her role is what has focus now.
      expect(
        host
          .querySelector('tr[data-user="mia"]')!
          .contains(document.activeElement)
      ).toBe(true);

      // The last removable member gone, the PI's row has no control: the add form.
      remove('mia').focus();
      await act(async () => remove('mia').click());
      expect(document.activeElement).toBe(host.querySelector('form input'));
    });

    it('shows a refused new grant next to its field', async () => {
      const onCreate = jest.fn().mockRejectedValue(
        new ComputePanelError({
          status: 422,
          message: 'The grant id must be 1 to 64 letters, digits',
          field: 'id'
        })
      );
      act(() =>
        root.render(
          <NewGrantForm
            tiers={[]}
            trans={trans}
            today="2026-03-01"
            onCreate={onCreate}
          />
        )
      );
      const form = host.querySelector('form')!;
      await act(async () => {
        form.dispatchEvent(
          new Event('submit', { bubbles: true, cancelable: true })
        );
      });
      expect(onCreate).toHaveBeenCalled();
      const id = host.querySelector('input[name="id"]')!;
      expect(id.getAttribute('aria-invalid')).toBe('true');
      expect(
        document.getElementById(id.getAttribute('aria-describedby')!)!
          .textContent
      ).toBe('The grant id must be 1 to 64 letters, digits');
    });
  });
});

describe('the panel grant area', () => {
  it('offers the dashboard to PIs, viewers and admins, not to members', () => {
    const host = document.createElement('div');
    const root = createRoot(host);
    const onOpen = jest.fn();
    act(() =>
      root.render(
        <GrantList
          grants={[
            makeGrant('mine', { role: 'pi' }),
            makeGrant('seen', { role: 'viewer' }),
            makeGrant('charged', { role: 'member' }),
            makeGrant('admin', { role: null })
          ]}
          trans={trans}
          onOpenDashboard={onOpen}
        />
      )
    );
    const withButton = Array.from(host.querySelectorAll('li'))
      .filter(li => li.querySelector('button'))
      .map(li => li.getAttribute('data-grant'));
    expect(withButton).toEqual(['mine', 'seen', 'admin']);
    act(() => host.querySelector('button')!.click());
    expect(onOpen).toHaveBeenCalledWith('mine');
    act(() => root.unmount());
  });
});
