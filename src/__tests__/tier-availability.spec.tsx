import * as React from 'react';
import { act } from 'react';
import { createRoot, Root } from 'react-dom/client';

import { nullTranslator } from '@jupyterlab/translation';

import { ComputePanelAPI } from '../api';
import { TierCard } from '../components/TierCard';
import { TIERS } from './fixtures';

(globalThis as any).IS_REACT_ACT_ENVIRONMENT = true;

const trans = nullTranslator.load('jupyterlab_compute_panel');

function withAvailability(
  availability: ComputePanelAPI.ITierAvailability | null
): ComputePanelAPI.ITier {
  return { ...TIERS[1], availability };
}

/**
 * One host of an availability check, as the server lists it (at most one
 * kernel per host).
 */
function node(host: string, reachable: boolean, kernels: number | null) {
  return {
    host,
    reachable,
    kernels,
    max_kernels: 1,
    free: reachable && (kernels ?? 0) < 1,
    error: reachable ? null : 'Connection refused'
  };
}

describe('TierCard availability', () => {
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

  const render = (tier: ComputePanelAPI.ITier) => {
    act(() =>
      root.render(
        <ul>
          <TierCard
            tier={tier}
            current={false}
            canMove={true}
            trans={trans}
            onMove={jest.fn()}
          />
        </ul>
      )
    );
    return host.querySelector('.jp-ComputePanel-card')!;
  };

  it('shows nothing about nodes where nothing is checked', () => {
    const card = render(withAvailability(null));
    expect(card.querySelector('.jp-ComputePanel-availability')).toBeNull();
    expect(card.querySelector('button')!.disabled).toBe(false);
  });

  it('shows reachable and free nodes and lets the notebook move', () => {
    const card = render(
      withAvailability({
        nodes: 3,
        reachable: 2,
        free: 1,
        reason: null,
        checked: '2026-11-23T10:00:00Z',
        hosts: [
          node('gpu-1:22', true, 1),
          node('gpu-2:22', true, 0),
          node('gpu-3:22', false, null)
        ]
      })
    );
    expect(
      card.querySelector('.jp-ComputePanel-availability')!.textContent
    ).toBe('2 of 3 reachable, 1 free');
    expect(card.querySelector('.jp-ComputePanel-unavailable')).toBeNull();
    expect(card.querySelector('button')!.disabled).toBe(false);
  });

  it('disables "Move here" and says why when no node is free', () => {
    const reason =
      'RTX node cannot take a kernel now. Its node is down: 10.0.0.2 cannot be reached over SSH (Connection refused).';
    const card = render(
      withAvailability({
        nodes: 1,
        reachable: 0,
        free: 0,
        reason,
        checked: '2026-11-23T10:00:00Z',
        hosts: [node('10.0.0.2:22', false, null)]
      })
    );
    expect(
      card.querySelector('.jp-ComputePanel-unavailable')!.textContent
    ).toBe(reason);
    const button = card.querySelector('button')!;
    expect(button.disabled).toBe(true);
    expect(button.getAttribute('title')).toBe(reason);
  });
});
