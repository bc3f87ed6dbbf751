/**
 * The compare view in the main area: one tab per set of runs (in order, the
 * first being the baseline), restored on reload.
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
  ToolbarButton,
  UseSignal
} from '@jupyterlab/ui-components';

import { IReproduceClient } from '../api';
import { computePanelIcon } from '../icons';
import { baseName } from '../rerun/format';
import { TRANSLATION_DOMAIN } from '../tokens';
import { CompareView } from './CompareView';
import { CompareModel } from './model';

/**
 * The React content of a compare view.
 */
export class ComparePanel extends ReactWidget {
  constructor(options: ComparePanel.IOptions) {
    super();
    this.model = options.model;
    this._trans = options.trans;
    this._onOpen = options.onOpen;
    this.addClass('jp-ComputePanel-comparePanel');
  }

  readonly model: CompareModel;

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this.model.dispose();
    super.dispose();
  }

  protected render(): JSX.Element {
    return (
      <UseSignal signal={this.model.changed}>
        {() => (
          <CompareView
            model={this.model}
            trans={this._trans}
            onOpen={this._onOpen}
          />
        )}
      </UseSignal>
    );
  }

  private _trans: TranslationBundle;
  private _onOpen?: (path: string) => void;
}

export namespace ComparePanel {
  export interface IOptions {
    model: CompareModel;
    trans: TranslationBundle;
    onOpen?: (path: string) => void;
  }
}

export class CompareWidget extends MainAreaWidget<ComparePanel> {
  constructor(options: CompareWidget.IOptions) {
    const trans = (options.translator ?? nullTranslator).load(
      TRANSLATION_DOMAIN
    );
    const model = new CompareModel({
      client: options.client,
      runIds: options.runIds,
      rtol: options.rtol
    });
    const content = new ComparePanel({ model, trans, onOpen: options.onOpen });
    super({ content });
    this.id = CompareWidget.idFor(options.runIds);
    this.addClass('jp-ComputePanel-compareWidget');
    this.title.icon = computePanelIcon;
    this.title.closable = true;
    this.title.label = trans.__('Compare runs');
    this._trans = trans;
    this.toolbar.addItem(
      'refresh',
      new ToolbarButton({
        icon: refreshIcon,
        tooltip: trans.__('Compare again'),
        onClick: () => void model.refresh()
      })
    );
    model.changed.connect(this._onChanged, this);
    void model.refresh();
  }

  get model(): CompareModel {
    return this.content.model;
  }

  get runIds(): ReadonlyArray<string> {
    return this.model.runIds;
  }

  private _onChanged(): void {
    const runs = this.model.data?.runs;
    if (!runs?.length) {
      return;
    }
    const notebook = runs[0].notebook;
    const labels = runs.map(run => run.label).join(' · ');
    this.title.label = notebook
      ? this._trans.__('Compare: %1', baseName(notebook))
      : this._trans.__('Compare runs');
    this.title.caption = notebook
      ? this._trans.__('Runs of %1 on %2', notebook, labels)
      : labels;
  }

  private _trans: TranslationBundle;
}

export namespace CompareWidget {
  export interface IOptions {
    client: Pick<IReproduceClient, 'compare'>;
    /**
     * 2 to 6 runs of one notebook, the baseline first.
     */
    runIds: ReadonlyArray<string>;
    rtol?: number;
    translator?: ITranslator;
    /**
     * Open a file of the server's root (an executed copy).
     */
    onOpen?: (path: string) => void;
  }

  /**
   * The stable DOM id of the compare view of these runs, in this order.
   */
  export function idFor(runIds: ReadonlyArray<string>): string {
    return `jp-compute-panel-compare-${runIds
      .map(id => id.replace(/[^A-Za-z0-9_-]/g, '_'))
      .join('--')}`;
  }
}
