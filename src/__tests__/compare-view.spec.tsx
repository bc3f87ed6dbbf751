import * as React from 'react';
import { act } from 'react';
import { createRoot, Root } from 'react-dom/client';

import { nullTranslator } from '@jupyterlab/translation';

import { ComputePanelAPI } from '../api';
import { MAX_OUTPUT_CHARS } from '../compare/CellRows';
import { CompareView } from '../compare/CompareView';
import { FIRST_ROWS, ROWS_PER_FRAME } from '../compare/progressive';
import { CompareModel } from '../compare/model';
import { compareRun, makeCompare } from './compareFixtures';

(globalThis as any).IS_REACT_ACT_ENVIRONMENT = true;

const trans = nullTranslator.load('jupyterlab_compute_panel');

describe('CompareView', () => {
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

  const show = async (
    data: ComputePanelAPI.ICompareResult,
    onOpen?: (path: string) => void,
    options: { renderFirst?: boolean } = {}
  ) => {
    const model = new CompareModel({
      client: { compare: jest.fn().mockResolvedValue(data) },
      runIds: data.runs.map(r => r.id)
    });
    const render = () =>
      act(() =>
        root.render(<CompareView model={model} trans={trans} onOpen={onOpen} />)
      );
    if (options.renderFirst) {
      // As in the widget: the view is there before the answer.
      render();
      expect(host.textContent).toContain('Comparing…');
      model.changed.connect(render);
      await act(() => model.refresh());
    } else {
      await model.refresh();
      model.changed.connect(render);
      render();
    }
    return model;
  };

  const texts = (selector: string) =>
    [...host.querySelectorAll(selector)].map(n => n.textContent);

  it('leads with the summary line and the verdict badge', async () => {
    await show(makeCompare());
    expect(
      host.querySelector('.jp-ComputePanel-compareSummary')!.textContent
    ).toBe(
      'outputs differ in 2 of 4 cells (first: cell 3); H200 training was 4.1× faster and cost 0.0030 USD more (Local CPU was free)'
    );
    const verdict = host.querySelector('.jp-ComputePanel-verdict')!;
    expect(verdict.textContent).toBe('differ');
    expect(verdict.getAttribute('data-verdict')).toBe('differ');
  });

  it('heads each run with its tier, time, cost and executed copy', async () => {
    const onOpen = jest.fn();
    await show(
      makeCompare({
        runs: [
          compareRun({}),
          compareRun({
            id: 'run-h200',
            label: 'H200 training',
            time_s: 2,
            speed: { ratio: 4.1, cells: 3, reason: null },
            cost: { amount: '0.0030', currency: 'USD' },
            outputs_available: false,
            ran_cells: null,
            rerun_id: null,
            output: null
          })
        ]
      }),
      onOpen
    );
    const heads = [...host.querySelectorAll('thead th[data-run]')];
    expect(heads.map(h => h.getAttribute('data-run'))).toEqual([
      'run-local',
      'run-h200'
    ]);
    expect(heads[0].textContent).toBe(
      'Local CPUbaseline8.2 s · 0.00 USDOpen executed copy'
    );
    expect(heads[1].textContent).toBe(
      'H200 training2.0 s · 0.0030 USD4.1× fasteroutputs not available'
    );
    act(() => (heads[0].querySelector('button') as HTMLButtonElement).click());
    expect(onOpen).toHaveBeenCalledWith(
      'examples/adversarial-robustness.local-cpu.20261123T140000.ipynb'
    );
    expect(texts('.jp-ComputePanel-compareTotals td')).toEqual([
      '',
      '8.2 s0.00 USD',
      '2.0 s0.0030 USD'
    ]);
  });

  it('never claims a speed it cannot know: simulated tiers, untimed runs, runs that ran no cell', async () => {
    await show(
      makeCompare({
        timing: 'none',
        verdict: 'incomplete',
        summary:
          'Local CPU (the baseline) ran no cell; H200 training cost 0.0030 USD more (Local CPU was free); speed is not comparable: H200 training is a simulated tier',
        runs: [
          compareRun({
            time_s: null,
            timed_cells: 0,
            ran_cells: 0,
            outputs_available: false,
            status: 'open',
            rerun_id: null,
            output: 'examples/adversarial-robustness.ipynb'
          }),
          compareRun({
            id: 'run-h200',
            label: 'H200 training',
            simulated: true,
            speed: { ratio: null, cells: 0, reason: 'simulated' },
            cost: { amount: '0.0030', currency: 'USD' }
          })
        ]
      })
    );
    const heads = [...host.querySelectorAll('thead th[data-run]')];
    expect(heads[0].textContent).toBe(
      'Local CPUbaselinecells not timed · 0.00 USD · runningno cell ran'
    );
    expect(heads[1].textContent).toBe(
      'H200 trainingsimulated8.2 s · 0.0030 USDspeed not comparable: simulated tier'
    );
    const speed = heads[1].querySelector('.jp-ComputePanel-compareSpeed')!;
    expect(speed.getAttribute('data-speed')).toBe('simulated');
    expect(speed.getAttribute('title')).toContain('runs on this machine');
    expect(host.querySelector('.jp-ComputePanel-verdict')!.textContent).toBe(
      'incomplete'
    );
    expect(host.querySelector('[data-section="cells"] th')!.textContent).toBe(
      'Code cells: outputs (no cell’s execution time was recorded, so speed is not compared)'
    );
    expect(texts('.jp-ComputePanel-compareTotalTime')).toEqual([
      'cells not timed',
      '8.2 s'
    ]);
  });

  it('marks a cell that did not run, in the baseline or in another run', async () => {
    const data = makeCompare();
    data.cells[0] = {
      ...data.cells[0],
      ran: [false, true],
      verdicts: [null, 'not_run'],
      durations_s: [null, 0.01],
      outputs: [null, [{ kind: 'text:stdout', content: '2.1.0\n' }]]
    };
    await show(data);
    const row = host.querySelector('tr.jp-ComputePanel-compareCell')!;
    expect(
      [...row.querySelectorAll('.jp-ComputePanel-cellVerdict')].map(
        b => b.textContent
      )
    ).toEqual(['not run', 'not run']);
    expect(
      host.querySelector('tr.jp-ComputePanel-compareOutputsRow[data-cell="0"]')!
        .textContent
    ).toBe('Outputs of cell 1did not runstdout2.1.0\n');
  });

  it('shows only what differs in the environments, packages by name', async () => {
    await show(makeCompare());
    const rows = [
      ...host.querySelectorAll('[data-section="environment"] tr')
    ].slice(1);
    // By name, in the order a reader expects (the tier first), the key in
    // the tooltip.
    expect(rows.map(r => r.textContent)).toEqual([
      'Tierlocal-cpuh200',
      'GPU memory—141 GB',
      'GPUs detected01',
      'package torch2.5.12.5.1+cu124'
    ]);
    expect(rows[1].querySelector('th')!.getAttribute('title')).toBe(
      'tier.hardware.gpu.memory_gb'
    );
    expect(rows[1].getAttribute('data-env-field')).toBe(
      'tier.hardware.gpu.memory_gb'
    );
    act(() => root.unmount());
    root = createRoot(host);
    await show(
      makeCompare({ environment: { fields: [], packages: [], missing: [1] } })
    );
    expect(
      host.querySelector('[data-section="environment"]')!.textContent
    ).toContain('no environment captured');
  });

  it('gives each cell its verdict and duration per run, and differing outputs side by side', async () => {
    await show(makeCompare());
    const cells = [...host.querySelectorAll('tr.jp-ComputePanel-compareCell')];
    expect(cells.map(c => c.getAttribute('data-cell'))).toEqual([
      '0',
      '1',
      '2',
      '3'
    ]);
    const badges = (row: Element) =>
      [...row.querySelectorAll('.jp-ComputePanel-cellVerdict')].map(b =>
        b.getAttribute('data-verdict')
      );
    expect(cells.map(badges)).toEqual([
      ['baseline', 'same'],
      ['baseline', 'within_tolerance'],
      ['baseline', 'differs'],
      ['baseline', 'missing']
    ]);
    expect(cells[1].textContent).toContain(
      'within tolerance (max rel. diff 0.000023)'
    );
    expect(texts('tr[data-cell="1"] .jp-ComputePanel-compareDuration')).toEqual(
      ['6.1 s', '1.4 s']
    );
    // The source collapsed to its first line, the rest one click away.
    expect(cells[1].querySelector('summary')!.textContent).toBe(
      'loss = train()'
    );
    expect(
      cells[2].querySelector('.jp-ComputePanel-sourceDiffers')
    ).not.toBeNull();
    // Outputs only where the cell is not the same: images by their hash.
    const outputs = host.querySelectorAll(
      'tr.jp-ComputePanel-compareOutputsRow'
    );
    expect([...outputs].map(o => o.getAttribute('data-cell'))).toEqual([
      '1',
      '2',
      '3'
    ]);
    const image = host.querySelector(
      'tr.jp-ComputePanel-compareOutputsRow[data-cell="2"] .jp-mod-hashed'
    )!;
    expect(image.textContent).toBe('image (hash aaaaaaaaaaaa…)');
    expect(
      host.querySelector(
        'tr.jp-ComputePanel-compareOutputsRow[data-cell="1"] pre'
      )!.textContent
    ).toBe('loss 0.123456\n');
    expect(
      host.querySelector('tr.jp-ComputePanel-compareOutputsRow[data-cell="3"]')!
        .textContent
    ).toContain('no such cell');
  });

  it('filters to the cells that differ, and says how many are shown', async () => {
    await show(makeCompare());
    const filter = host.querySelector(
      '#jp-ComputePanel-compareOnlyDiffering'
    ) as HTMLInputElement;
    act(() => filter.click());
    expect(
      [...host.querySelectorAll('tr.jp-ComputePanel-compareCell')].map(c =>
        c.getAttribute('data-cell')
      )
    ).toEqual(['1', '2', '3']);
    expect(
      host.querySelector('.jp-ComputePanel-compareCount')!.textContent
    ).toBe('3 of 4 cells shown');
  });

  it('compares again when a new tolerance is entered', async () => {
    const model = await show(makeCompare());
    const compare = model.client.compare as jest.Mock;
    compare.mockResolvedValue(
      makeCompare({
        rtol: 0.05,
        verdict: 'match_within_tolerance',
        summary: 'outputs match within 0.05; H200 training was 4.1× faster'
      })
    );
    const input = host.querySelector(
      '#jp-ComputePanel-compareRtol'
    ) as HTMLInputElement;
    await act(async () => {
      Object.getOwnPropertyDescriptor(
        HTMLInputElement.prototype,
        'value'
      )!.set!.call(input, '0.05');
      input.dispatchEvent(new Event('input', { bubbles: true }));
      input.dispatchEvent(
        new KeyboardEvent('keydown', { key: 'Enter', bubbles: true })
      );
    });
    expect(compare).toHaveBeenLastCalledWith(['run-local', 'run-h200'], 0.05);
    expect(host.querySelector('.jp-ComputePanel-verdict')!.textContent).toBe(
      'match within 0.05'
    );
    // An invalid tolerance is not sent.
    await act(async () => {
      Object.getOwnPropertyDescriptor(
        HTMLInputElement.prototype,
        'value'
      )!.set!.call(input, '5');
      input.dispatchEvent(new Event('input', { bubbles: true }));
      input.dispatchEvent(
        new KeyboardEvent('keydown', { key: 'Enter', bubbles: true })
      );
    });
    expect(compare).toHaveBeenCalledTimes(2);
    expect(input.getAttribute('aria-invalid')).toBe('true');
  });

  it('cuts very long text outputs', async () => {
    const long = 'x'.repeat(MAX_OUTPUT_CHARS + 10);
    const data = makeCompare();
    data.cells[1].outputs = [
      [{ kind: 'text:stdout', content: long }],
      [{ kind: 'text:stdout', content: 'y' }]
    ];
    await show(data);
    expect(
      host.querySelector(
        'tr.jp-ComputePanel-compareOutputsRow[data-cell="1"] pre'
      )!.textContent
    ).toBe(`${'x'.repeat(MAX_OUTPUT_CHARS)}\n… 10 more characters`);
  });

  it('paints the first rows of 200 cells of 6 runs at once, the rest frame by frame', async () => {
    const runs = Array.from({ length: 6 }, (_, i) =>
      compareRun({ id: `run-${i}`, label: `Tier ${i}` })
    );
    const cells: ComputePanelAPI.ICompareCell[] = Array.from(
      { length: 200 },
      (_, index) => ({
        index,
        source: `step(${index})\nprint(loss)`,
        source_differs: false,
        ran: runs.map(() => true),
        verdicts: [
          null,
          ...runs.slice(1).map(() => 'within_tolerance' as const)
        ],
        max_rel_diff: 1e-6,
        durations_s: runs.map(() => 0.5),
        outputs: runs.map(() => [
          {
            kind: 'text:stdout',
            content: `step ${index}: loss 0.12345${index}\n`
          }
        ])
      })
    );
    const data = makeCompare({
      runs,
      cells,
      environment: { fields: [], packages: [], missing: [] }
    });
    const rows = () =>
      host.querySelectorAll('tr.jp-ComputePanel-compareCell').length;
    await show(data, undefined, { renderFirst: true });
    // The first screen at once, the rest a chunk per animation frame (the
    // paint time is measured in Chromium: ui-tests/tests/compare-paint.bench.ts).
    expect(rows()).toBe(FIRST_ROWS);
    expect(host.querySelector('.jp-ComputePanel-compareMore')).not.toBeNull();
    let frames = 0;
    while (rows() < 200) {
      await act(async () => {
        await new Promise(resolve => requestAnimationFrame(resolve));
      });
      frames++;
    }
    expect(frames).toBeLessThanOrEqual(
      Math.ceil((200 - FIRST_ROWS) / ROWS_PER_FRAME) + 1
    );
    expect(host.querySelector('.jp-ComputePanel-compareMore')).toBeNull();
  });
});
