/**
 * A run's environment fingerprint (GET /runs/{id}/environment) as labelled
 * lines for the details pane. Pure: every part may be absent or null (a
 * non-Python kernel has only the server's parts; `missing` says why).
 */
import { TranslationBundle } from '@jupyterlab/translation';

import { ComputePanelAPI } from '../api';

export interface IEnvironmentLine {
  /**
   * A stable key (`data-env` in the DOM).
   */
  key: string;
  label: string;
  value: string;
}

type Json = Record<string, any>;

function part(fingerprint: Json, key: string): Json | null {
  const value = fingerprint?.[key];
  return value && typeof value === 'object' && !Array.isArray(value)
    ? (value as Json)
    : null;
}

function text(value: unknown): string {
  return value === null || value === undefined ? '' : String(value);
}

/**
 * "sha256:0123456789ab…" for long hashes; others as they are.
 */
export function shortHash(
  hash: string | null | undefined,
  length = 12
): string {
  if (!hash) {
    return '';
  }
  const [algorithm, digest] = hash.includes(':')
    ? hash.split(':', 2)
    : ['', hash];
  const short = digest.length > length ? `${digest.slice(0, length)}…` : digest;
  return algorithm ? `${algorithm}:${short}` : short;
}

/**
 * The lines of an environment, in the order a reader checks them.
 */
export function environmentLines(
  environment: ComputePanelAPI.IEnvironment,
  trans: TranslationBundle
): IEnvironmentLine[] {
  const fp: Json = environment.fingerprint ?? {};
  const lines: IEnvironmentLine[] = [];
  const add = (key: string, label: string, value: string) => {
    if (value) {
      lines.push({ key, label, value });
    }
  };

  const python = part(fp, 'python');
  if (python) {
    add(
      'python',
      trans.__('Python'),
      [python.version, python.implementation && `(${python.implementation})`]
        .filter(Boolean)
        .join(' ')
    );
    add(
      'python-env',
      trans.__('Environment'),
      text(python.conda_env || python.virtualenv || python.prefix)
    );
  }

  const packages = part(fp, 'packages');
  if (packages) {
    const hash = packages.hash ?? environment.packages_hash;
    add(
      'packages',
      trans.__('Packages'),
      hash
        ? trans.__(
            '%1 installed · %2',
            String(packages.count ?? 0),
            shortHash(hash)
          )
        : trans.__('%1 installed', String(packages.count ?? 0))
    );
  }

  const frameworks = part(fp, 'frameworks');
  if (frameworks) {
    const names = Object.keys(frameworks).sort();
    add(
      'frameworks',
      trans.__('Frameworks'),
      names.length
        ? names
            .map(name => {
              const f = (frameworks[name] ?? {}) as Json;
              const extra = f.cuda
                ? trans.__(' (CUDA %1)', String(f.cuda))
                : f.hip
                  ? trans.__(' (ROCm %1)', String(f.hip))
                  : '';
              return `${name} ${text(f.version)}${extra}`;
            })
            .join(', ')
        : trans.__('none of torch, jax, tensorflow')
    );
  }

  const cuda = part(fp, 'cuda');
  if (cuda) {
    const parts = [
      cuda.driver && trans.__('driver supports %1', String(cuda.driver)),
      cuda.runtime && trans.__('runtime %1', String(cuda.runtime)),
      cuda.toolkit && trans.__('toolkit %1', String(cuda.toolkit)),
      cuda.cudnn && trans.__('cuDNN %1', String(cuda.cudnn))
    ].filter(Boolean);
    add(
      'cuda',
      trans.__('CUDA'),
      parts.length ? parts.join(' · ') : trans.__('none')
    );
  }

  const gpus = part(fp, 'gpus');
  if (gpus) {
    const devices: Json[] = Array.isArray(gpus.devices) ? gpus.devices : [];
    let value: string;
    if (!devices.length) {
      value = trans.__('none');
    } else {
      const counts = new Map<string, number>();
      for (const device of devices) {
        const memory = device.memory_mib
          ? trans.__(' (%1 GiB)', (Number(device.memory_mib) / 1024).toFixed(0))
          : '';
        const label = `${text(device.model) || trans.__('unknown')}${memory}`;
        counts.set(label, (counts.get(label) ?? 0) + 1);
      }
      value = [...counts]
        .map(([label, count]) => `${count}× ${label}`)
        .join(', ');
      if (gpus.driver) {
        value += trans.__(' · driver %1', String(gpus.driver));
      }
    }
    add('gpus', trans.__('GPUs'), value);
  }

  const cpu = part(fp, 'cpu');
  if (cpu) {
    const cores =
      cpu.available_cores && cpu.available_cores !== cpu.logical_cores
        ? trans._n(
            '%2 of %1 core available',
            '%2 of %1 cores available',
            cpu.logical_cores ?? 0,
            String(cpu.available_cores)
          )
        : cpu.logical_cores
          ? trans._n('%1 core', '%1 cores', cpu.logical_cores)
          : '';
    add(
      'cpu',
      trans.__('CPU'),
      [text(cpu.model), cores].filter(Boolean).join(' · ')
    );
  }

  const host = part(fp, 'host');
  if (host) {
    add(
      'host',
      trans.__('Host'),
      [
        text(host.name),
        [host.system, host.release].filter(Boolean).join(' '),
        text(host.machine),
        text(host.product_name)
      ]
        .filter(Boolean)
        .join(' · ')
    );
  }

  const git = part(fp, 'git');
  if (git) {
    add(
      'git',
      trans.__('Git'),
      [
        git.commit ? String(git.commit).slice(0, 12) : trans.__('no commit'),
        git.branch && trans.__('on %1', String(git.branch)),
        git.dirty ? trans.__('dirty') : trans.__('clean'),
        git.notebook && git.notebook !== 'unchanged'
          ? trans.__('notebook %1', String(git.notebook))
          : ''
      ]
        .filter(Boolean)
        .join(' · ')
    );
  } else if (fp.git === null && !part(fp, 'missing')?.git) {
    add('git', trans.__('Git'), trans.__('not in a repository'));
  }

  const notebook = part(fp, 'notebook');
  if (notebook) {
    add(
      'notebook-hash',
      trans.__('Notebook hash'),
      notebook.sha256
        ? shortHash(`sha256:${String(notebook.sha256).replace(/^sha256:/, '')}`)
        : trans.__('not saved')
    );
  }

  const missing = part(fp, 'missing');
  if (missing) {
    for (const [name, reason] of Object.entries(missing)) {
      lines.push({
        key: `missing-${name}`,
        label: trans.__('Not gathered: %1', name),
        value: text(reason)
      });
    }
  }
  return lines;
}
