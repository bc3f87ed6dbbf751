/**
 * The words and short forms of the compare view: verdicts, relative
 * differences, environment fields and values, speed, a cell's first line,
 * output kinds.
 */
import { TranslationBundle } from '@jupyterlab/translation';

import { ComputePanelAPI } from '../api';

/**
 * A relative difference, short: "0", "0.00023", "2.3e-7".
 */
export function formatRel(value: number): string {
  if (value === 0) {
    return '0';
  }
  return String(Number(value.toPrecision(2)));
}

/**
 * The words of the overall verdict.
 */
export function verdictLabel(
  data: Pick<ComputePanelAPI.ICompareResult, 'verdict' | 'rtol'>,
  trans: TranslationBundle
): string {
  switch (data.verdict) {
    case 'match':
      return trans.__('identical');
    case 'match_within_tolerance':
      return trans.__('match within %1', String(data.rtol));
    case 'differ':
      return trans.__('differ');
    case 'incomplete':
      return trans.__('incomplete');
    default:
      return String(data.verdict);
  }
}

/**
 * The words of one run's verdict on one cell; the baseline's is null.
 */
export function cellVerdictLabel(
  verdict: ComputePanelAPI.CellVerdict | null,
  maxRelDiff: number | null,
  trans: TranslationBundle
): string {
  switch (verdict) {
    case null:
      return trans.__('baseline');
    case 'same':
      return trans.__('same');
    case 'within_tolerance':
      return maxRelDiff === null
        ? trans.__('within tolerance')
        : trans.__(
            'within tolerance (max rel. diff %1)',
            formatRel(maxRelDiff)
          );
    case 'differs':
      return maxRelDiff !== null && maxRelDiff > 0
        ? trans.__('differs (max rel. diff %1)', formatRel(maxRelDiff))
        : trans.__('differs');
    case 'missing':
      return trans.__('missing');
    case 'not_run':
      return trans.__('not run');
    default:
      return String(verdict);
  }
}

/**
 * An environment value in a table cell.
 */
export function formatValue(value: unknown): string {
  if (value === null || value === undefined) {
    return '—';
  }
  if (typeof value === 'string') {
    return value;
  }
  if (typeof value === 'number' || typeof value === 'boolean') {
    return String(value);
  }
  return JSON.stringify(value);
}

/**
 * The first line of a cell's source, for its collapsed row.
 */
export function firstLine(source: string): string {
  const line = source.split('\n').find(l => l.trim()) ?? '';
  return line.length > 120 ? `${line.slice(0, 119)}…` : line;
}

/**
 * The words of an output's kind.
 */
export function outputKindLabel(
  kind: string,
  trans: TranslationBundle
): string {
  switch (kind) {
    case 'text:stdout':
      return trans.__('stdout');
    case 'text:stderr':
      return trans.__('stderr');
    case 'text:text/plain':
      return trans.__('result');
    case 'text:error':
      return trans.__('error');
    default:
      return kind.replace(/^text:/, '');
  }
}

/**
 * The names of the environment fingerprint's fields, in the order they are
 * shown. Keys not named here are shown after them, named from their key.
 */
function environmentNames(trans: TranslationBundle): Record<string, string> {
  return {
    'tier.id': trans.__('Tier'),
    'tier.label': trans.__('Tier name'),
    'tier.simulated': trans.__('Simulated tier'),
    'tier.reliability': trans.__('Reliability'),
    'tier.hardware.gpu': trans.__('GPU'),
    'tier.hardware.gpu.model': trans.__('GPU'),
    'tier.hardware.gpu.count': trans.__('GPU count'),
    'tier.hardware.gpu.memory_gb': trans.__('GPU memory'),
    'tier.hardware.cpu_cores': trans.__('CPU cores'),
    'tier.hardware.memory_gb': trans.__('Memory'),
    'host.name': trans.__('Host'),
    'host.product_name': trans.__('Machine model'),
    'host.system': trans.__('Operating system'),
    'host.release': trans.__('Operating system release'),
    'host.machine': trans.__('Architecture'),
    'host.libc': trans.__('C library'),
    'cpu.model': trans.__('CPU detected'),
    'cpu.logical_cores': trans.__('Logical CPU cores detected'),
    'cpu.physical_cores': trans.__('Physical CPU cores detected'),
    'cpu.available_cores': trans.__('CPU cores available to the kernel'),
    'gpus.vendor': trans.__('GPU vendor detected'),
    'gpus.source': trans.__('GPUs read with'),
    'gpus.count': trans.__('GPUs detected'),
    'gpus.devices': trans.__('GPU devices detected'),
    'gpus.driver': trans.__('GPU driver'),
    'gpus.cuda_driver': trans.__('CUDA the driver supports'),
    'cuda.driver': trans.__('CUDA the driver supports'),
    'cuda.runtime': trans.__('CUDA runtime'),
    'cuda.toolkit': trans.__('CUDA toolkit'),
    'cuda.cudnn': trans.__('cuDNN'),
    'python.version': trans.__('Python'),
    'python.implementation': trans.__('Python implementation'),
    'python.executable': trans.__('Python executable'),
    'python.prefix': trans.__('Python prefix'),
    'python.virtualenv': trans.__('Virtual environment'),
    'python.conda_env': trans.__('Conda environment'),
    'kernel.kernelspec': trans.__('Kernel'),
    'kernel.language': trans.__('Kernel language'),
    'kernel.implementation': trans.__('Kernel implementation'),
    'kernel.implementation_version': trans.__('Kernel implementation version'),
    'kernel.protocol_version': trans.__('Kernel protocol version'),
    'git.commit': trans.__('Git commit'),
    'git.branch': trans.__('Git branch'),
    'git.dirty': trans.__('Uncommitted changes'),
    'git.notebook': trans.__('Notebook in git')
  };
}

/**
 * The groups of fields in the order shown, by their key's first part.
 */
const ENVIRONMENT_GROUPS = [
  'tier',
  'host',
  'cpu',
  'gpus',
  'cuda',
  'frameworks',
  'python',
  'kernel',
  'git',
  'missing'
];

/**
 * A key's parts as words: `available_cores` -> `available cores`.
 */
function words(part: string): string {
  return part.replace(/_/g, ' ');
}

/**
 * The name of an environment field, in the user's words:
 * `tier.hardware.gpu.memory_gb` -> "GPU memory",
 * `frameworks.torch.version` -> "torch", `missing.gpus` -> "Not captured:
 * gpus". A key this table does not know is named from its parts.
 */
export function environmentLabel(
  key: string,
  trans: TranslationBundle
): string {
  const known = environmentNames(trans)[key];
  if (known) {
    return known;
  }
  const parts = key.split('.');
  if (parts[0] === 'frameworks' && parts.length >= 2) {
    const framework = parts[1];
    if (parts.length === 2 || parts[2] === 'version') {
      return framework;
    }
    switch (parts[2]) {
      case 'cuda':
        return trans.__('%1 built with CUDA', framework);
      case 'cudnn':
        return trans.__('%1 built with cuDNN', framework);
      case 'hip':
        return trans.__('%1 built with ROCm', framework);
      case 'git':
        return trans.__('%1 source revision', framework);
      case 'distribution':
        return trans.__('%1 distribution', framework);
      default:
        return `${framework} ${parts.slice(2).map(words).join(' ')}`;
    }
  }
  if (parts[0] === 'missing' && parts.length >= 2) {
    const part = parts.slice(1).join('.');
    const names: Record<string, string> = {
      gpus: trans.__('GPUs'),
      cpu: trans.__('CPU'),
      cuda: trans.__('CUDA'),
      python: trans.__('Python'),
      git: trans.__('git state'),
      notebook: trans.__('notebook file'),
      probe: trans.__('kernel probe'),
      kernel: trans.__('kernel')
    };
    return trans.__(
      'Not captured: %1',
      names[part] ?? parts.slice(1).map(words).join(' ')
    );
  }
  const text = parts.map(words).join(' ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * The environment's fields in the order shown: the table's order for the
 * keys it names, then by group, then as the server sent them.
 */
export function sortEnvironmentFields<T extends { key: string }>(
  fields: ReadonlyArray<T>,
  trans: TranslationBundle
): T[] {
  const order = Object.keys(environmentNames(trans));
  const rank = (key: string): [number, number] => {
    const group = ENVIRONMENT_GROUPS.indexOf(key.split('.')[0]);
    const named = order.indexOf(key);
    return [
      group === -1 ? ENVIRONMENT_GROUPS.length : group,
      named === -1 ? order.length : named
    ];
  };
  return fields
    .map((field, index) => ({ field, index, rank: rank(field.key) }))
    .sort(
      (a, b) =>
        a.rank[0] - b.rank[0] || a.rank[1] - b.rank[1] || a.index - b.index
    )
    .map(item => item.field);
}

/**
 * One detected accelerator: "NVIDIA H200, 140.4 GiB".
 */
function formatDevice(device: unknown, trans: TranslationBundle): string {
  if (!device || typeof device !== 'object') {
    return formatValue(device);
  }
  const { model, memory_mib: mib } = device as {
    model?: unknown;
    memory_mib?: unknown;
  };
  const name = typeof model === 'string' && model ? model : trans.__('GPU');
  return typeof mib === 'number'
    ? trans.__('%1, %2 GiB', name, String(Math.round((mib / 1024) * 10) / 10))
    : name;
}

/**
 * An environment value in the user's words: sizes with their unit, yes or
 * no, detected devices by model and memory; anything else as
 * `formatValue` writes it.
 */
export function formatEnvironmentValue(
  key: string,
  value: unknown,
  trans: TranslationBundle
): string {
  if (value === null || value === undefined) {
    return '—';
  }
  if (typeof value === 'boolean') {
    return value ? trans.__('yes') : trans.__('no');
  }
  if (key.endsWith('memory_gb') && typeof value === 'number') {
    return trans.__('%1 GB', String(value));
  }
  if (key === 'gpus.devices' && Array.isArray(value)) {
    return value.length
      ? value.map(device => formatDevice(device, trans)).join('; ')
      : trans.__('none');
  }
  if (key === 'git.commit' && typeof value === 'string') {
    return value.slice(0, 12);
  }
  return formatValue(value);
}

/**
 * A run's speed against the baseline, short, for its column's head: "4.1×
 * faster", "as fast", or why it is not comparable. Empty for the baseline.
 */
export function speedLabel(
  speed: ComputePanelAPI.ICompareRun['speed'],
  trans: TranslationBundle
): string {
  if (!speed) {
    return '';
  }
  if (speed.ratio !== null) {
    const ratio = speed.ratio;
    if (ratio >= 0.95 && ratio <= 1.05) {
      return trans.__('as fast');
    }
    const times = ratio > 1 ? ratio : 1 / ratio;
    const shown = times < 100 ? times.toFixed(1) : times.toFixed(0);
    return ratio > 1
      ? trans.__('%1× faster', shown)
      : trans.__('%1× slower', shown);
  }
  switch (speed.reason) {
    case 'simulated':
      return trans.__('speed not comparable: simulated tier');
    case 'untimed':
      return trans.__('speed not comparable: cells not timed');
    case 'no_shared_cells':
      return trans.__('speed not comparable: no cell timed in both');
    case 'too_short':
      return trans.__('speed not comparable: too short to time');
    default:
      return trans.__('speed not comparable');
  }
}

/**
 * Why a run's speed reads as it does, for its tooltip.
 */
export function speedTitle(
  speed: ComputePanelAPI.ICompareRun['speed'],
  trans: TranslationBundle
): string {
  if (!speed) {
    return '';
  }
  if (speed.ratio !== null) {
    return trans._n(
      'On the execution time of the %1 cell timed in both runs (never on how long a kernel was open).',
      'On the execution time of the %1 cells timed in both runs (never on how long a kernel was open).',
      speed.cells
    );
  }
  switch (speed.reason) {
    case 'simulated':
      return trans.__(
        'A simulated tier’s kernel runs on this machine, not on the hardware it names: its speed says nothing of that hardware.'
      );
    case 'untimed':
      return trans.__(
        'Speed is compared on the cells’ own execution times only, and one of these runs recorded none. Re-runs always record them; in JupyterLab turn on “Recording timing” in the Notebook settings.'
      );
    default:
      return trans.__(
        'Speed is compared on the execution times of the cells timed in both runs only.'
      );
  }
}
