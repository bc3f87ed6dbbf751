/**
 * A dashboard section: its heading, a chart/table switch and the export
 * buttons of its table.
 */
import * as React from 'react';

import { TranslationBundle } from '@jupyterlab/translation';

import { ComputePanelAPI } from '../api';
import { FieldError } from './grants/fields';
import { FORM, useSubmit } from './useSubmit';

/**
 * Download one table of the dashboard in one format.
 */
export type ExportHandler = (
  table: ComputePanelAPI.ExportTable,
  format: ComputePanelAPI.ExportFormat
) => Promise<void>;

export function ExportButtons(props: {
  table: ComputePanelAPI.ExportTable;
  what: string;
  trans: TranslationBundle;
  onExport: ExportHandler;
}): JSX.Element {
  const { trans } = props;
  const submit = useSubmit();
  return (
    <span className="jp-ComputePanel-export">
      {(['csv', 'json'] as const).map(format => (
        <button
          key={format}
          type="button"
          className="jp-Button jp-mod-styled jp-ComputePanel-small"
          disabled={submit.busy !== null}
          data-export={`${props.table}.${format}`}
          aria-label={trans.__(
            'Export %1 as %2',
            props.what,
            format.toUpperCase()
          )}
          onClick={() =>
            void submit.run(FORM, () => props.onExport(props.table, format))
          }
        >
          {format.toUpperCase()}
        </button>
      ))}
      <FieldError message={submit.errors[FORM]} />
    </span>
  );
}

/**
 * A dashboard section: a heading, a chart/table switch, exports.
 */
export function Section(props: {
  id: string;
  /**
   * A stable name (data-section), for tests and styles.
   */
  name: string;
  title: string;
  trans: TranslationBundle;
  chart?: () => React.ReactNode;
  table: () => React.ReactNode;
  exportTable?: ComputePanelAPI.ExportTable;
  onExport: ExportHandler;
  wide?: boolean;
}): JSX.Element {
  const { trans } = props;
  const [view, setView] = React.useState<'chart' | 'table'>(
    props.chart ? 'chart' : 'table'
  );
  const headingId = `${props.id}-heading`;
  return (
    <section
      className={`jp-ComputePanel-section${props.wide ? ' jp-mod-wide' : ''}`}
      aria-labelledby={headingId}
      data-section={props.name}
    >
      <header className="jp-ComputePanel-sectionHeader">
        <h2 id={headingId}>{props.title}</h2>
        {props.chart ? (
          <span
            className="jp-ComputePanel-switch"
            role="group"
            aria-label={trans.__('Show %1 as', props.title)}
          >
            <button
              type="button"
              className="jp-Button jp-mod-styled jp-ComputePanel-small"
              aria-pressed={view === 'chart'}
              onClick={() => setView('chart')}
            >
              {trans.__('Chart')}
            </button>
            <button
              type="button"
              className="jp-Button jp-mod-styled jp-ComputePanel-small"
              aria-pressed={view === 'table'}
              onClick={() => setView('table')}
            >
              {trans.__('Table')}
            </button>
          </span>
        ) : null}
        {props.exportTable ? (
          <ExportButtons
            table={props.exportTable}
            what={props.title}
            trans={trans}
            onExport={props.onExport}
          />
        ) : null}
      </header>
      {view === 'chart' && props.chart ? props.chart() : props.table()}
    </section>
  );
}
