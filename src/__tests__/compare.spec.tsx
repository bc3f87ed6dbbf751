import { nullTranslator } from '@jupyterlab/translation';

import { ComputePanelAPI, ComputePanelError } from '../api';
import { cellVerdictLabel, formatRel } from '../compare/labels';
import { cellDiffers, CompareModel, parseRtol } from '../compare/model';
import { compareOrder, pickProblem } from '../compare/RunPicker';
import { CompareWidget } from '../compare/widget';
import { makeRun } from './fixtures';
import { makeCompare } from './compareFixtures';

(globalThis as any).IS_REACT_ACT_ENVIRONMENT = true;

const trans = nullTranslator.load('jupyterlab_compute_panel');

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
