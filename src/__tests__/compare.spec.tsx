import * as React from 'react';
import { act } from 'react';
import { createRoot, Root } from 'react-dom/client';

import { nullTranslator } from '@jupyterlab/translation';

import { ComputePanelAPI, ComputePanelError } from '../api';
import { MAX_OUTPUT_CHARS } from '../compare/CellRows';
import { CompareView } from '../compare/CompareView';
import { cellVerdictLabel, formatRel } from '../compare/labels';
import { FIRST_ROWS, ROWS_PER_FRAME } from '../compare/progressive';
import { cellDiffers, CompareModel, parseRtol } from '../compare/model';
import { compareOrder, pickProblem } from '../compare/RunPicker';
import { CompareWidget } from '../compare/widget';
import { makeRun } from './fixtures';

(globalThis as any).IS_REACT_ACT_ENVIRONMENT = true;

const trans = nullTranslator.load('jupyterlab_compute_panel');

function compareRun(
  overrides: Partial<ComputePanelAPI.ICompareRun>
): ComputePanelAPI.ICompareRun {
  return {
    id: 'run-local',
    label: 'Local CPU',
    duration_s: 9.5,
    time_s: 8.2,
    cost: { amount: '0', currency: 'USD' },
    outputs_available: true,
    tier_id: 'local-cpu',
    user: 'student',
    notebook: 'examples/adversarial-robustness.ipynb',
    status: 'closed',
    rerun_id: 'rr-1',
    output: 'examples/adversarial-robustness.local-cpu.20261123T140000.ipynb',
    ...overrides
  };
}

/**
 * A GET /compare answer for two runs: one cell the same, one within the
 * tolerance, one differing in its image, one missing in the second run.
 */
function makeCompare(
  overrides: Partial<ComputePanelAPI.ICompareResult> = {}
): ComputePanelAPI.ICompareResult {
  return {
    rtol: 0.001,
    atol: 1e-12,
    timing: 'cells',
    runs: [
      compareRun({}),
      compareRun({
        id: 'run-h200',
        label: 'H200 training',
        duration_s: 3.1,
        time_s: 2,
        cost: { amount: '0.0030', currency: 'USD' },
        tier_id: 'h200',
        rerun_id: 'rr-2',
        output: 'examples/adversarial-robustness.h200.20261123T140500.ipynb'
      })
    ],
    environment: {
      fields: [
        { key: 'gpu.model', values: [null, 'NVIDIA H200'] },
        { key: 'tier.id', values: ['local-cpu', 'h200'] }
      ],
      packages: [{ name: 'torch', versions: ['2.5.1', '2.5.1+cu124'] }],
      missing: []
    },
    cells: [
      {
        index: 0,
        source: 'import numpy as np\nprint(np.__version__)',
        source_differs: false,
        verdicts: [null, 'same'],
        max_rel_diff: 0,
        durations_s: [0.012, 0.01]
      },
      {
        index: 1,
        source: '\nloss = train()\nprint(loss)',
        source_differs: false,
        verdicts: [null, 'within_tolerance'],
        max_rel_diff: 2.3e-5,
        durations_s: [6.1, 1.4],
        outputs: [
          [{ kind: 'text:stdout', content: 'loss 0.123456\n' }],
          [{ kind: 'text:stdout', content: 'loss 0.123459\n' }]
        ]
      },
      {
        index: 2,
        source: 'plot(results)',
        source_differs: true,
        verdicts: [null, 'differs'],
        max_rel_diff: null,
        durations_s: [1.2, 0.5],
        outputs: [
          [
            { kind: 'image/png', content: 'a'.repeat(64) },
            { kind: 'text:text/plain', content: '<Figure size 640x480>' }
          ],
          [
            { kind: 'image/png', content: 'b'.repeat(64) },
            { kind: 'text:text/plain', content: '<Figure size 640x480>' }
          ]
        ]
      },
      {
        index: 3,
        source: 'summary',
        source_differs: false,
        verdicts: [null, 'missing'],
        max_rel_diff: 0,
        durations_s: [0.9, null],
        outputs: [
          [{ kind: 'text:text/plain', content: "{'clean': 0.97}" }],
          null
        ]
      }
    ],
    differing_cells: [2, 3],
    verdict: 'differ',
    summary:
      'outputs differ in 2 of 4 cells (first: cell 3); H200 training was 4.1× faster and cost 0.0030 USD more (Local CPU was free)',
    ...overrides
  };
}

describe('compare helpers', () => {
  it('reads a tolerance from 0 to 1', () => {
    expect(parseRtol('1e-3')).toBe(0.001);
    expect(parseRtol(' 0.05 ')).toBe(0.05);
    expect(parseRtol('0')).toBe(0);
    expect(parseRtol('2')).toBeNull();
    expect(parseRtol('-1e-3')).toBeNull();
    expect(parseRtol('abc')).toBeNull();
    expect(parseRtol('')).toBeNull();
  });

  it('words each cell verdict, with the largest relative difference', () => {
    expect(cellVerdictLabel(null, 0, trans)).toBe('baseline');
    expect(cellVerdictLabel('same', 0, trans)).toBe('same');
    expect(cellVerdictLabel('within_tolerance', 2.3e-5, trans)).toBe(
      'within tolerance (max rel. diff 0.000023)'
    );
    expect(cellVerdictLabel('differs', 0.0412, trans)).toBe(
      'differs (max rel. diff 0.041)'
    );
    expect(cellVerdictLabel('differs', null, trans)).toBe('differs');
    expect(cellVerdictLabel('missing', 0, trans)).toBe('missing');
    expect(formatRel(2.3e-9)).toBe('2.3e-9');
  });

  it('orders picked runs oldest first and wants 2 to 6', () => {
    const runs = [
      makeRun({ id: 'c', started: '2026-11-23T15:00:00Z' }),
      makeRun({ id: 'b', started: '2026-11-23T14:00:00Z' }),
      makeRun({ id: 'a', started: '2026-11-23T13:00:00Z' })
    ];
    expect(compareOrder(runs, ['c', 'a'])).toEqual(['a', 'c']);
    expect(pickProblem(1, trans)).toBe(
      'Choose 2 to 6 runs to compare (1 chosen).'
    );
    expect(pickProblem(7, trans)).not.toBeNull();
    expect(pickProblem(2, trans)).toBeNull();
  });
});

describe('CompareModel', () => {
  it('refetches with a new tolerance and drops a late older answer', async () => {
    let resolveFirst: (value: ComputePanelAPI.ICompareResult) => void = () =>
      undefined;
    const client = {
      compare: jest
        .fn()
        .mockReturnValueOnce(
          new Promise(resolve => {
            resolveFirst = resolve;
          })
        )
        .mockResolvedValueOnce(makeCompare({ rtol: 0.05, verdict: 'match' }))
    };
    const model = new CompareModel({
      client,
      runIds: ['run-local', 'run-h200']
    });
    const first = model.refresh();
    const second = model.setRtol(0.05);
    await second;
    resolveFirst(makeCompare());
    await first;
    expect(client.compare).toHaveBeenLastCalledWith(
      ['run-local', 'run-h200'],
      0.05
    );
    expect(model.data?.verdict).toBe('match');
    expect(model.loading).toBe(false);
    model.dispose();
  });

  it('keeps the server’s sentence when the comparison is refused', async () => {
    const model = new CompareModel({
      client: {
        compare: jest.fn().mockRejectedValue(
          new ComputePanelError({
            status: 422,
            message:
              "runs must be runs of one notebook; these ran 'a.ipynb', 'b.ipynb'"
          })
        )
      },
      runIds: ['a', 'b']
    });
    await model.refresh();
    expect(model.error).toBe(
      "runs must be runs of one notebook; these ran 'a.ipynb', 'b.ipynb'"
    );
    model.dispose();
  });

  it('filters to the cells that are not identical everywhere', async () => {
    const model = new CompareModel({
      client: { compare: jest.fn().mockResolvedValue(makeCompare()) },
      runIds: ['run-local', 'run-h200']
    });
    await model.refresh();
    expect(model.cells.map(c => c.index)).toEqual([0, 1, 2, 3]);
    model.setOnlyDiffering(true);
    expect(model.cells.map(c => c.index)).toEqual([1, 2, 3]);
    expect(cellDiffers(model.data!.cells[0])).toBe(false);
    model.dispose();
  });
});

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
            cost: { amount: '0.0030', currency: 'USD' },
            outputs_available: false,
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
      'Local CPUbaseline8.2 s · 0 USDOpen executed copy'
    );
    expect(heads[1].textContent).toBe(
      'H200 training2.0 s · 0.0030 USDoutputs not available'
    );
    act(() => (heads[0].querySelector('button') as HTMLButtonElement).click());
    expect(onOpen).toHaveBeenCalledWith(
      'examples/adversarial-robustness.local-cpu.20261123T140000.ipynb'
    );
    expect(texts('.jp-ComputePanel-compareTotals td')).toEqual([
      '',
      '8.2 s0 USD',
      '2.0 s0.0030 USD'
    ]);
  });

  it('shows only what differs in the environments, packages by name', async () => {
    await show(makeCompare());
    const rows = [
      ...host.querySelectorAll('[data-section="environment"] tr')
    ].slice(1);
    expect(rows.map(r => r.textContent)).toEqual([
      'gpu.model—NVIDIA H200',
      'tier.idlocal-cpuh200',
      'package torch2.5.12.5.1+cu124'
    ]);
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

describe('CompareWidget', () => {
  it('has one id per ordered set of runs, and titles itself by notebook', async () => {
    const client = { compare: jest.fn().mockResolvedValue(makeCompare()) };
    const widget = new CompareWidget({
      client,
      runIds: ['run-local', 'run-h200']
    });
    expect(widget.id).toBe(CompareWidget.idFor(['run-local', 'run-h200']));
    expect(CompareWidget.idFor(['b', 'a'])).not.toBe(
      CompareWidget.idFor(['a', 'b'])
    );
    await widget.model.refresh();
    expect(widget.title.label).toBe('Compare: adversarial-robustness.ipynb');
    expect(widget.title.caption).toBe(
      'Runs of examples/adversarial-robustness.ipynb on Local CPU · H200 training'
    );
    widget.dispose();
  });
});
