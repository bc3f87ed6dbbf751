/**
 * The settings editor's field of "Default grant": a choice among the grants
 * the user may charge, not a free-text id (schema/panel.json keeps it a
 * string, so the JSON editor and older settings still work).
 */
import * as React from 'react';

import { TranslationBundle } from '@jupyterlab/translation';
import { IFormRenderer, UseSignal } from '@jupyterlab/ui-components';

import { ComputePanelAPI } from '../api';
import { IComputePanelModel } from '../tokens';

export interface IGrantChoice {
  value: string;
  label: string;
  /**
   * The grant's title, on hover.
   */
  title?: string;
}

/**
 * The choices: none, then each grant the user may charge today; a saved id
 * that is not one of them stays listed, said so, so that it is not lost
 * silently.
 */
export function defaultGrantChoices(
  grants: ReadonlyArray<ComputePanelAPI.IGrant>,
  current: string,
  trans: TranslationBundle
): IGrantChoice[] {
  const usable = grants.filter(ComputePanelAPI.canCharge);
  const choices: IGrantChoice[] = [
    { value: '', label: trans.__('None: ask at each move') },
    ...usable.map(grant => ({
      value: grant.id,
      label: grant.award_number,
      title: grant.title
    }))
  ];
  if (current && !usable.some(grant => grant.id === current)) {
    choices.push({
      value: current,
      label: trans.__('%1 (not a grant you may charge now)', current)
    });
  }
  return choices;
}

/**
 * The field (rjsf's FieldProps, of which it reads these).
 */
interface IFieldProps {
  formData?: unknown;
  onChange: (value: string) => void;
  idSchema?: { $id?: string };
  schema?: { title?: string };
  disabled?: boolean;
  readonly?: boolean;
}

function DefaultGrantSelect(
  props: IFieldProps & { model: IComputePanelModel; trans: TranslationBundle }
): JSX.Element {
  const { model, trans } = props;
  const current = typeof props.formData === 'string' ? props.formData : '';
  const id = props.idSchema?.$id ?? 'jp-ComputePanel-defaultGrant';
  React.useEffect(() => {
    if (!model.grants.length) {
      void model.refreshGrants().catch(() => undefined);
    }
  }, [model]);
  return (
    <UseSignal signal={model.stateChanged}>
      {() => (
        <div className="jp-ComputePanel-defaultGrantField">
          <label htmlFor={id}>
            {props.schema?.title ?? trans.__('Default grant')}
          </label>
          <select
            id={id}
            className="jp-mod-styled jp-ComputePanel-defaultGrant"
            value={current}
            disabled={props.disabled || props.readonly}
            onChange={event => props.onChange(event.target.value)}
          >
            {defaultGrantChoices(model.grants, current, trans).map(choice => (
              <option
                key={choice.value}
                value={choice.value}
                title={choice.title}
              >
                {choice.label}
              </option>
            ))}
          </select>
        </div>
      )}
    </UseSignal>
  );
}

/**
 * The renderer to register as `<panel plugin id>.defaultGrant`.
 */
export function defaultGrantRenderer(
  model: IComputePanelModel,
  trans: TranslationBundle
): IFormRenderer {
  return {
    fieldRenderer: (props: IFieldProps) => (
      <DefaultGrantSelect {...props} model={model} trans={trans} />
    )
  };
}
