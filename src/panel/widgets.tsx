import * as React from 'react';

import {
  ITranslator,
  nullTranslator,
  TranslationBundle
} from '@jupyterlab/translation';
import { ReactWidget, SidePanel, UseSignal } from '@jupyterlab/ui-components';
import type { Message } from '@lumino/messaging';
import { Panel, Widget } from '@lumino/widgets';

import { ComputePanelView } from '../components/ComputePanelView';
import { ComputeStatus } from '../components/StatusItem';
import { computePanelIcon } from '../icons';
import { NotebookRunsModel } from './notebookRuns';
import {
  IComputePanelModel,
  ILiveCost,
  PANEL_ID,
  TRANSLATION_DOMAIN
} from '../tokens';

/**
 * The sidebar panel: a JupyterLab side panel with its title bar ("Compute")
 * over the panel's body.
 */
export class ComputePanelWidget extends SidePanel {
  constructor(options: ComputePanelWidget.IOptions) {
    const trans = (options.translator ?? nullTranslator).load(
      TRANSLATION_DOMAIN
    );
    // One body, not an accordion of sections: the panel scrolls as a whole.
    super({ content: new Panel(), translator: options.translator });
    this.id = PANEL_ID;
    this.addClass('jp-ComputePanel');
    this.title.icon = computePanelIcon;
    this.title.caption = trans.__('Compute');
    this.node.setAttribute('role', 'region');
    this.node.setAttribute('aria-label', trans.__('Compute panel'));
    this.node.tabIndex = -1;

    const heading = document.createElement('h2');
    heading.textContent = trans.__('Compute');
    heading.className = 'jp-ComputePanel-title jp-text-truncated';
    this.header.addWidget(new Widget({ node: heading }));

    this._body = new ComputePanelBody({ ...options, trans });
    this._body.addClass('jp-ComputePanel-scroller');
    this.addWidget(this._body);
  }

  /**
   * Focus the panel when it is shown by its command or its tab: a keyboard
   * user goes on with Tab to its buttons.
   */
  protected onActivateRequest(msg: Message): void {
    super.onActivateRequest(msg);
    this.takeFocus();
  }

  /**
   * Focus the panel, unless something in it has focus already.
   */
  takeFocus(): void {
    if (this.isVisible && !this.node.contains(document.activeElement)) {
      this.node.focus();
    }
  }

  /**
   * The tier a move is under way to, if any.
   */
  get moving(): string | null {
    return this._body.moving;
  }

  private _body: ComputePanelBody;
}

/**
 * The panel's body: banners, the notebook, the tiers, its runs, the grants.
 */
class ComputePanelBody extends ReactWidget {
  constructor(
    options: ComputePanelWidget.IOptions & { trans: TranslationBundle }
  ) {
    super();
    this._model = options.model;
    this._onMove = options.onMove;
    this._onOpenDashboard = options.onOpenDashboard;
    this._onOpenHistory = options.onOpenHistory;
    this._notebookRuns = options.notebookRuns ?? null;
    this._onRerun = options.onRerun;
    this._trans = options.trans;
  }

  /**
   * The tier a move is under way to, if any.
   */
  get moving(): string | null {
    return this._moving;
  }

  protected render(): JSX.Element {
    return (
      <UseSignal signal={this._model.stateChanged}>
        {() => (
          <ComputePanelView
            model={this._model}
            trans={this._trans}
            moving={this._moving}
            onMove={tierId => void this._move(tierId)}
            onOpenDashboard={this._onOpenDashboard}
            notebookRuns={this._notebookRuns ?? undefined}
            onOpenHistory={this._onOpenHistory}
            onRerun={this._onRerun}
          />
        )}
      </UseSignal>
    );
  }

  private async _move(tierId: string): Promise<void> {
    if (this._moving) {
      return;
    }
    this._moving = tierId;
    this.update();
    try {
      await this._onMove(tierId);
    } finally {
      this._moving = null;
      this.update();
    }
  }

  private _model: IComputePanelModel;
  private _onMove: (tierId: string) => Promise<unknown>;
  private _onOpenDashboard?: (grantId: string) => void;
  private _onOpenHistory?: (filters: {
    notebook: string;
    user?: string;
  }) => void;
  private _notebookRuns: NotebookRunsModel | null;
  private _onRerun?: (path: string) => void;
  private _trans: TranslationBundle;
  private _moving: string | null = null;
}

export namespace ComputePanelWidget {
  export interface IOptions {
    model: IComputePanelModel;
    translator?: ITranslator;
    /**
     * Run the move flow (the `compute-panel:move-to` command).
     */
    onMove: (tierId: string) => Promise<unknown>;
    /**
     * Open a grant's dashboard (the `compute-panel:open-dashboard` command).
     */
    onOpenDashboard?: (grantId: string) => void;
    /**
     * The followed notebook's latest runs ("Runs of this notebook").
     */
    notebookRuns?: NotebookRunsModel;
    /**
     * Open the run history (the `compute-panel:open-run-history` command).
     */
    onOpenHistory?: (filters: { notebook: string; user?: string }) => void;
    /**
     * Re-run a notebook on a tier (the `compute-panel:rerun-notebook` command).
     */
    onRerun?: (path: string) => void;
  }
}

/**
 * The status-bar item.
 */
export class ComputeStatusWidget extends ReactWidget {
  constructor(options: ComputeStatusWidget.IOptions) {
    super();
    this._model = options.model;
    this._onClick = options.onClick;
    this._trans = (options.translator ?? nullTranslator).load(
      TRANSLATION_DOMAIN
    );
    this.addClass('jp-ComputePanel-statusItem');
  }

  protected render(): JSX.Element {
    return (
      <UseSignal signal={this._model.stateChanged}>
        {() => (
          <UseSignal
            signal={this._model.costChanged}
            initialArgs={this._model.liveCost}
          >
            {(_, cost?: ILiveCost | null) => (
              <ComputeStatus
                model={this._model}
                cost={this._model.liveCost ?? cost ?? null}
                trans={this._trans}
                onClick={this._onClick}
              />
            )}
          </UseSignal>
        )}
      </UseSignal>
    );
  }

  private _model: IComputePanelModel;
  private _onClick: () => void;
  private _trans: TranslationBundle;
}

export namespace ComputeStatusWidget {
  export interface IOptions {
    model: IComputePanelModel;
    translator?: ITranslator;
    onClick: () => void;
  }
}
