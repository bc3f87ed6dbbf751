/**
 * Compare fixtures: GET /compare answers.
 */
import { ComputePanelAPI } from '../api';

export function compareRun(
  overrides: Partial<ComputePanelAPI.ICompareRun>
): ComputePanelAPI.ICompareRun {
  return {
    id: 'run-local',
    label: 'Local CPU',
    duration_s: 9.5,
    time_s: 8.2,
    timed_cells: 4,
    simulated: false,
    speed: null,
    cost: { amount: '0', currency: 'USD' },
    outputs_available: true,
    ran_cells: 4,
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
 * A GET /compare answer for two runs on tiers that are not simulated, every
 * cell timed: one cell the same, one within the tolerance, one differing in
 * its image, one missing in the second run.
 */
export function makeCompare(
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
        timed_cells: 3,
        ran_cells: 3,
        speed: { ratio: 4.1, cells: 3, reason: null },
        cost: { amount: '0.0030', currency: 'USD' },
        tier_id: 'h200',
        rerun_id: 'rr-2',
        output: 'examples/adversarial-robustness.h200.20261123T140500.ipynb'
      })
    ],
    environment: {
      fields: [
        { key: 'gpus.count', values: [0, 1] },
        { key: 'tier.hardware.gpu.memory_gb', values: [null, 141] },
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
        ran: [true, true],
        verdicts: [null, 'same'],
        max_rel_diff: 0,
        durations_s: [0.012, 0.01]
      },
      {
        index: 1,
        source: '\nloss = train()\nprint(loss)',
        source_differs: false,
        ran: [true, true],
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
        ran: [true, true],
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
        ran: [true, null],
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
