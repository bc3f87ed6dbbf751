/**
 * The run history in the main area: one MainAreaWidget around a ReactWidget,
 * reused when opened again, with the commands other plugins registered for
 * one run or for the selected runs.
 */
import * as React from 'react';

import { MainAreaWidget } from '@jupyterlab/apputils';
import {
  ITranslator,
  nullTranslator,
  TranslationBundle
} from '@jupyterlab/translation';
import {
  ReactWidget,
  refreshIcon,
  ToolbarButton
} from '@jupyterlab/ui-components';
import { CommandRegistry } from '@lumino/commands';
import { ReadonlyJSONObject } from '@lumino/coreutils';
import { ISignal } from '@lumino/signaling';

import { computePanelIcon } from '../icons';
import { IRunHistory, IRunHistoryFilters, TRANSLATION_DOMAIN } from '../tokens';
import { HistoryView, IOption } from './HistoryView';
import { HistoryPreset, presetFromArgs, RunHistoryModel } from './model';

// One chunk for the command: the view and how it reads its arguments.
export { presetFromArgs };

/**
 * Buttons for commands, asked about with `args` (label, enabled, visible),
 * updated when a command changes.
 */
export function CommandButtons(props: {
  commands: CommandRegistry;
  ids: ReadonlyArray<string>;
  args: ReadonlyJSONObject;
}): JSX.Element | null {
  const { commands, ids, args } = props;
  const [, setVersion] = React.useState(0);
  React.useEffect(() => {
    const onChanged = () => setVersion(v => v + 1);
    commands.commandChanged.connect(onChanged);
    return () => {
      commands.commandChanged.disconnect(onChanged);
    };
  }, [commands]);
  const shown = ids.filter(
    id => commands.hasCommand(id) && commands.isVisible(id, args)
  );
  if (!shown.length) {
    return null;
  }
  return (
    <>
      {shown.map(id => (
        <button
          key={id}
          type="button"
          className="jp-mod-styled jp-ComputePanel-historyCommand"
          data-command={id}
          title={commands.caption(id, args) || undefined}
          disabled={!commands.isEnabled(id, args)}
          onClick={() => void commands.execute(id, args)}
        >
          {commands.label(id, args)}
        </button>
      ))}
    </>
  );
}

/**
 * The React content of the run history.
 */
export class RunHistoryPanel extends ReactWidget {
  constructor(options: RunHistoryPanel.IOptions) {
    super();
    this.model = options.model;
    this._trans = options.trans;
    this._options = options;
    this.addClass('jp-ComputePanel-historyPanel');
    options.registry?.actionsChanged.connect(this.update, this);
  }

  readonly model: RunHistoryModel;

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this.model.dispose();
    super.dispose();
  }

  protected render(): JSX.Element {
    const { commands, registry } = this._options;
    return (
      <HistoryView
        model={this.model}
        trans={this._trans}
        tiers={this._options.tiers()}
        grants={this._options.grants()}
        renderRunActions={
          commands && registry?.runActions.length
            ? run => (
                <CommandButtons
                  commands={commands}
                  ids={registry.runActions}
                  args={{
                    runId: run.id,
                    notebook: run.notebook,
                    tierId: run.tier_id
                  }}
                />
              )
            : undefined
        }
        renderSelectionActions={
          commands && registry?.selectionActions.length
            ? runs => (
                <CommandButtons
                  commands={commands}
                  ids={registry.selectionActions}
                  args={{ runIds: runs.map(run => run.id) }}
                />
              )
            : undefined
        }
      />
    );
  }

  private _trans: TranslationBundle;
  private _options: RunHistoryPanel.IOptions;
}

export namespace RunHistoryPanel {
  export interface IOptions {
    model: RunHistoryModel;
    trans: TranslationBundle;
    /**
     * The tiers and grants offered in the filters (read at each render).
     */
    tiers: () => ReadonlyArray<IOption>;
    grants: () => ReadonlyArray<IOption>;
    commands?: CommandRegistry;
    registry?: IRunHistory;
  }
}

/**
 * The run history in the main area (one at a time).
 */
export class RunHistoryWidget extends MainAreaWidget<RunHistoryPanel> {
  constructor(options: RunHistoryWidget.IOptions) {
    const trans = (options.translator ?? nullTranslator).load(
      TRANSLATION_DOMAIN
    );
    const model = new RunHistoryModel({
      client: options.client,
      preset: options.preset,
      events: options.events,
      pageSize: options.pageSize
    });
    const content = new RunHistoryPanel({
      model,
      trans,
      tiers: options.tiers,
      grants: options.grants,
      commands: options.commands,
      registry: options.registry
    });
    super({ content });
    this.id = RunHistoryWidget.ID;
    this.addClass('jp-ComputePanel-historyWidget');
    this.title.icon = computePanelIcon;
    this.title.closable = true;
    this.title.label = trans.__('Run History');
    this.title.caption = trans.__(
      'Every run you may see: times, cost, end reason and environment'
    );
    this.toolbar.addItem(
      'refresh',
      new ToolbarButton({
        icon: refreshIcon,
        tooltip: trans.__('Refresh the run history'),
        onClick: () => void model.refresh()
      })
    );
    options.refreshed?.connect(this._onRefreshed, this);
    void model.load();
  }

  get model(): RunHistoryModel {
    return this.content.model;
  }

  /**
   * The compute panel's poll came round: refresh the runs while shown (the
   * server's events may not reach this page).
   */
  private _onRefreshed(): void {
    if (this.isVisible) {
      this.model.pulse();
    }
  }

  /**
   * The filters to restore the view with (the layout restorer's args).
   */
  get filters(): IRunHistoryFilters {
    return presetFromArgs({ ...this.model.query });
  }

  /**
   * Show these filters (a second "open" with arguments).
   */
  applyPreset(preset: HistoryPreset): Promise<void> {
    return this.model.applyPreset(preset);
  }
}

export namespace RunHistoryWidget {
  export const ID = 'jp-compute-panel-run-history';

  export interface IOptions {
    client: RunHistoryModel.IClient;
    preset?: HistoryPreset;
    tiers: () => ReadonlyArray<IOption>;
    grants: () => ReadonlyArray<IOption>;
    events?: ISignal<unknown, { schema_id: string }>;
    /**
     * Emitted every round of the compute panel's poll: the history refreshes
     * on it while shown.
     */
    refreshed?: ISignal<unknown, void>;
    translator?: ITranslator;
    commands?: CommandRegistry;
    registry?: IRunHistory;
    pageSize?: number;
  }
}
