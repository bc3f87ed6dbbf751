import { nullTranslator } from '@jupyterlab/translation';

import { ComputePanelAPI, ComputePanelError } from '../api';
import { cellsHeading, runTime } from '../compare/CompareView';
import {
  cellVerdictLabel,
  environmentLabel,
  formatEnvironmentValue,
  formatRel,
  sortEnvironmentFields,
  speedLabel,
  speedTitle
} from '../compare/labels';
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
    expect(cellVerdictLabel('not_run', 0, trans)).toBe('not run');
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

describe('compare: the environment in the user’s words', () => {
  it('names the fingerprint’s fields, not their keys', () => {
    expect(environmentLabel('tier.hardware.gpu.memory_gb', trans)).toBe(
      'GPU memory'
    );
    expect(environmentLabel('tier.hardware.cpu_cores', trans)).toBe(
      'CPU cores'
    );
    expect(environmentLabel('python.version', trans)).toBe('Python');
    expect(environmentLabel('cuda.cudnn', trans)).toBe('cuDNN');
    expect(environmentLabel('frameworks.torch.version', trans)).toBe('torch');
    expect(environmentLabel('frameworks.torch.cuda', trans)).toBe(
      'torch built with CUDA'
    );
    expect(environmentLabel('frameworks.jax.cuda_plugin', trans)).toBe(
      'jax cuda plugin'
    );
    expect(environmentLabel('missing.gpus', trans)).toBe('Not captured: GPUs');
    expect(environmentLabel('missing.torch_cuda', trans)).toBe(
      'Not captured: torch cuda'
    );
    // A field this version does not know yet is still words, not a key.
    expect(environmentLabel('host.boot_id', trans)).toBe('Host boot id');
  });

  it('writes values with their unit, yes or no, and devices by model', () => {
    expect(
      formatEnvironmentValue('tier.hardware.gpu.memory_gb', 141, trans)
    ).toBe('141 GB');
    expect(formatEnvironmentValue('tier.simulated', true, trans)).toBe('yes');
    expect(formatEnvironmentValue('git.dirty', false, trans)).toBe('no');
    expect(formatEnvironmentValue('cpu.model', null, trans)).toBe('—');
    expect(
      formatEnvironmentValue(
        'gpus.devices',
        [
          { model: 'NVIDIA H200', memory_mib: 143771 },
          { model: 'NVIDIA H200', memory_mib: 143771 }
        ],
        trans
      )
    ).toBe('NVIDIA H200, 140.4 GiB; NVIDIA H200, 140.4 GiB');
    expect(formatEnvironmentValue('gpus.devices', [], trans)).toBe('none');
    expect(
      formatEnvironmentValue(
        'git.commit',
        '0123456789abcdef0123456789abcdef01234567',
        trans
      )
    ).toBe('0123456789ab');
    expect(formatEnvironmentValue('host.release', '6.8.0', trans)).toBe(
      '6.8.0'
    );
  });

  it('orders the fields as a reader looks for them: the tier first', () => {
    const keys = [
      'python.version',
      'git.commit',
      'host.zzz',
      'tier.hardware.gpu.memory_gb',
      'frameworks.torch.version',
      'tier.id',
      'unknown.key',
      'gpus.count'
    ];
    expect(
      sortEnvironmentFields(
        keys.map(key => ({ key })),
        trans
      ).map(f => f.key)
    ).toEqual([
      'tier.id',
      'tier.hardware.gpu.memory_gb',
      'host.zzz',
      'gpus.count',
      'frameworks.torch.version',
      'python.version',
      'git.commit',
      'unknown.key'
    ]);
  });
});

describe('compare: speed, and only where it is known', () => {
  it('words a ratio over the timed cells, and each reason there is none', () => {
    expect(speedLabel(null, trans)).toBe('');
    expect(speedLabel({ ratio: 4.1, cells: 3, reason: null }, trans)).toBe(
      '4.1× faster'
    );
    expect(speedLabel({ ratio: 0.25, cells: 3, reason: null }, trans)).toBe(
      '4.0× slower'
    );
    expect(speedLabel({ ratio: 1.02, cells: 3, reason: null }, trans)).toBe(
      'as fast'
    );
    expect(speedLabel({ ratio: 169.4, cells: 1, reason: null }, trans)).toBe(
      '169× faster'
    );
    expect(
      speedLabel({ ratio: null, cells: 0, reason: 'simulated' }, trans)
    ).toBe('speed not comparable: simulated tier');
    expect(
      speedLabel({ ratio: null, cells: 0, reason: 'untimed' }, trans)
    ).toBe('speed not comparable: cells not timed');
    expect(
      speedLabel({ ratio: null, cells: 0, reason: 'no_shared_cells' }, trans)
    ).toBe('speed not comparable: no cell timed in both');
    expect(speedTitle({ ratio: 2, cells: 1, reason: null }, trans)).toBe(
      'On the execution time of the 1 cell timed in both runs (never on how long a kernel was open).'
    );
    expect(
      speedTitle({ ratio: null, cells: 0, reason: 'untimed' }, trans)
    ).toContain('“Recording timing” in the Notebook settings');
  });

  it('shows a run’s time as its timed cells’ time, never its kernel’s lifetime', () => {
    expect(runTime({ time_s: 3.9, timed_cells: 7 }, trans)).toBe('3.9 s');
    expect(runTime({ time_s: null, timed_cells: 0 }, trans)).toBe(
      'cells not timed'
    );
    expect(cellsHeading('cells', trans)).toBe(
      'Code cells: outputs and execution time'
    );
    expect(cellsHeading('partial', trans)).toContain(
      'speed of the cells timed in both runs'
    );
    expect(cellsHeading('none', trans)).toContain('speed is not compared');
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
