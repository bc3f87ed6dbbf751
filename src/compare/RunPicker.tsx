/**
 * The palette's "Compare Runs…": pick 2 to 6 runs of the active notebook.
 */
import * as React from 'react';

import { Dialog } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import { ReactWidget } from '@jupyterlab/ui-components';

import { ComputePanelAPI } from '../api';
import { formatSeconds } from '../rerun/format';
import { formatMoney } from '../money';

export const MIN_COMPARE = 2;
export const MAX_COMPARE = 6;

/**
 * The chosen runs in the order to compare them: oldest first, so that the
 * earlier run is the baseline ("H200 was 4.1× faster" reads forward in time).
 */
export function compareOrder(
  runs: ReadonlyArray<ComputePanelAPI.IRun>,
  chosen: ReadonlyArray<string>
): string[] {
  return runs
    .filter(run => chosen.includes(run.id))
    .sort((a, b) => Date.parse(a.started) - Date.parse(b.started))
    .map(run => run.id);
}

/**
 * What is wrong with a choice of `count` runs, or null.
 */
export function pickProblem(
  count: number,
  trans: TranslationBundle
): string | null {
  if (count < MIN_COMPARE || count > MAX_COMPARE) {
    return trans.__(
      'Choose %1 to %2 runs to compare (%3 chosen).',
      String(MIN_COMPARE),
      String(MAX_COMPARE),
      String(count)
    );
  }
  return null;
}

/**
 * A run in the picker: "H200 training · 2026-11-23 14:05 · 14 s · 0.0136 USD · completed".
 */
export function runSummary(
  run: ComputePanelAPI.IRun,
  trans: TranslationBundle
): string {
  const parts = [
    run.tier_label ?? run.tier_id,
    run.started.replace('T', ' ').slice(0, 16),
    formatSeconds(run.duration_s),
    formatMoney(run.cost.amount, run.cost.currency)
  ];
  parts.push(
    run.status === 'open'
      ? trans.__('running')
      : (run.end_reason ?? trans.__('closed'))
  );
  return parts.join(' · ');
}

export namespace RunPickerView {
  export interface IProps {
    runs: ReadonlyArray<ComputePanelAPI.IRun>;
    initial: ReadonlyArray<string>;
    error?: string | null;
    trans: TranslationBundle;
    onChange: (chosen: string[]) => void;
  }
}

export function RunPickerView(props: RunPickerView.IProps): JSX.Element {
  const { runs, trans } = props;
  const [chosen, setChosen] = React.useState<string[]>([...props.initial]);
  const [touched, setTouched] = React.useState(false);
  const toggle = (id: string, on: boolean) => {
    const next = on ? [...chosen, id] : chosen.filter(c => c !== id);
    setChosen(next);
    setTouched(true);
    props.onChange(next);
  };
  const problem = touched ? pickProblem(chosen.length, trans) : props.error;
  return (
    <div className="jp-ComputePanel-runPicker">
      <p className="jp-ComputePanel-rerunHelp">
        {trans.__(
          'The oldest run chosen is the baseline the others are compared with.'
        )}
      </p>
      {problem ? (
        <p className="jp-ComputePanel-rerunError" role="alert">
          {problem}
        </p>
      ) : null}
      <ul
        className="jp-ComputePanel-runPickerList"
        aria-label={trans.__('Runs')}
      >
        {runs.map(run => {
          const id = `jp-ComputePanel-pick-${run.id}`;
          return (
            <li key={run.id} data-run={run.id}>
              <input
                id={id}
                type="checkbox"
                checked={chosen.includes(run.id)}
                onChange={event => toggle(run.id, event.target.checked)}
              />
              <label htmlFor={id}>{runSummary(run, trans)}</label>
            </li>
          );
        })}
      </ul>
    </div>
  );
}

/**
 * The dialog body widget; `getValue` gives the chosen run ids.
 */
export class RunPickerBody
  extends ReactWidget
  implements Dialog.IBodyWidget<string[]>
{
  constructor(options: Omit<RunPickerView.IProps, 'onChange'>) {
    super();
    this._options = options;
    this._value = [...options.initial];
    this.addClass('jp-ComputePanel-runPickerBody');
  }

  getValue(): string[] {
    return [...this._value];
  }

  protected render(): JSX.Element {
    return (
      <RunPickerView
        {...this._options}
        onChange={chosen => {
          this._value = chosen;
        }}
      />
    );
  }

  private _options: Omit<RunPickerView.IProps, 'onChange'>;
  private _value: string[];
}
