/**
 * The environment part of the compare table: only what differs between
 * the runs (the server leaves out what every capture changes), each field
 * by its name, and which runs have no environment captured.
 */
import * as React from 'react';

import { TranslationBundle } from '@jupyterlab/translation';

import { ComputePanelAPI } from '../api';
import {
  environmentLabel,
  formatEnvironmentValue,
  sortEnvironmentFields
} from './labels';

export function EnvironmentRows(props: {
  environment: ComputePanelAPI.ICompareResult['environment'];
  runs: ReadonlyArray<ComputePanelAPI.ICompareRun>;
  trans: TranslationBundle;
}): JSX.Element {
  const { environment: env, runs, trans } = props;
  const columns = runs.length + 2;
  const missing = new Set(env.missing);
  return (
    <tbody className="jp-ComputePanel-compareEnv" data-section="environment">
      <tr>
        <th scope="colgroup" colSpan={columns}>
          {trans.__('Environment: only what differs')}
        </th>
      </tr>
      {missing.size ? (
        <tr className="jp-ComputePanel-compareEnvMissing">
          <td />
          <td>{trans.__('captured')}</td>
          {runs.map((run, i) => (
            <td key={run.id}>
              {missing.has(i)
                ? trans.__('no environment captured')
                : trans.__('yes')}
            </td>
          ))}
        </tr>
      ) : null}
      {sortEnvironmentFields(env.fields, trans).map(field => (
        <tr key={`f:${field.key}`} data-env-field={field.key}>
          <td />
          <th scope="row" title={field.key}>
            {environmentLabel(field.key, trans)}
          </th>
          {runs.map((run, i) => (
            <td key={run.id}>
              {formatEnvironmentValue(field.key, field.values[i], trans)}
            </td>
          ))}
        </tr>
      ))}
      {env.packages.map(pkg => (
        <tr key={`p:${pkg.name}`} data-env-package={pkg.name}>
          <td />
          <th scope="row">{trans.__('package %1', pkg.name)}</th>
          {runs.map((run, i) => (
            <td key={run.id}>
              {missing.has(i)
                ? '—'
                : (pkg.versions[i] ?? trans.__('not installed'))}
            </td>
          ))}
        </tr>
      ))}
      {!env.fields.length && !env.packages.length ? (
        <tr className="jp-ComputePanel-compareEnvSame">
          <td />
          <td colSpan={columns - 1}>
            {missing.size && runs.length - missing.size < 2
              ? trans.__('Not enough environments were captured to compare.')
              : trans.__('The captured environments do not differ.')}
          </td>
        </tr>
      ) : null}
    </tbody>
  );
}
