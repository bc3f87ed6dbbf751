/**
 * The filter fields that the grant dashboard's runs table and the run
 * history share: search, a choice among named things (users, tiers,
 * grants), status and dates, and the line that counts the runs.
 */
import * as React from 'react';

import { TranslationBundle } from '@jupyterlab/translation';

/**
 * A form field bound to one key of a query.
 */
export interface IFieldBinding {
  value: string;
  onChange: (
    event: React.ChangeEvent<HTMLInputElement | HTMLSelectElement>
  ) => void;
}

/**
 * Bind fields to the keys of `query`: a change applies the query with that
 * key replaced.
 */
export function fieldBinder<Q extends object>(
  query: Q,
  apply: (next: Q) => void
): (name: keyof Q) => IFieldBinding {
  return name => ({
    value: (query[name] as unknown as string) ?? '',
    onChange: event => apply({ ...query, [name]: event.target.value })
  });
}

/**
 * The search box: it reports every keystroke (the caller debounces) and
 * Enter, which applies at once.
 */
export function SearchFilter(props: {
  trans: TranslationBundle;
  value: string;
  placeholder: string;
  onChange: (value: string) => void;
  onSubmit: () => void;
}): JSX.Element {
  return (
    <label className="jp-mod-wide">
      {props.trans.__('Search')}
      <input
        type="search"
        className="jp-mod-styled"
        placeholder={props.placeholder}
        value={props.value}
        onChange={event => props.onChange(event.target.value)}
        onKeyDown={event => {
          if (event.key === 'Enter') {
            props.onSubmit();
          }
        }}
      />
    </label>
  );
}

/**
 * A choice among named things, with "all" first.
 */
export function ChoiceFilter(props: {
  label: string;
  anyLabel: string;
  choices: ReadonlyArray<{ id: string; label: string }>;
  field: IFieldBinding;
}): JSX.Element {
  return (
    <label>
      {props.label}
      <select className="jp-mod-styled" {...props.field}>
        <option value="">{props.anyLabel}</option>
        {props.choices.map(choice => (
          <option key={choice.id} value={choice.id}>
            {choice.label}
          </option>
        ))}
      </select>
    </label>
  );
}

/**
 * Running or ended, and the dates the runs started between.
 */
export function StatusAndDatesFilters(props: {
  trans: TranslationBundle;
  field: (name: 'status' | 'since' | 'until') => IFieldBinding;
}): JSX.Element {
  const { trans, field } = props;
  return (
    <>
      <label>
        {trans.__('Status')}
        <select className="jp-mod-styled" {...field('status')}>
          <option value="">{trans.__('Any')}</option>
          <option value="open">{trans.__('Running')}</option>
          <option value="closed">{trans.__('Ended')}</option>
        </select>
      </label>
      <label>
        {trans.__('From')}
        <input type="date" className="jp-mod-styled" {...field('since')} />
      </label>
      <label>
        {trans.__('To')}
        <input type="date" className="jp-mod-styled" {...field('until')} />
      </label>
    </>
  );
}

/**
 * "1,234 runs" (or "Loading runs…" before the count is known), then `more`.
 */
export function runsCountText(
  trans: TranslationBundle,
  count: number | null,
  more = ''
): string {
  if (count === null) {
    return trans.__('Loading runs…');
  }
  return (
    trans._n(
      // %1 is the count itself, %2 the count with digit grouping.
      '%2 run',
      '%2 runs',
      count,
      count.toLocaleString()
    ) + more
  );
}
