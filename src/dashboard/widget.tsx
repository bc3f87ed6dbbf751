/**
 * The dashboard in the main area: a MainAreaWidget around a ReactWidget, one
 * per grant; and the admin's "New grant" dialog.
 */
import * as React from 'react';

import { Dialog, MainAreaWidget, showDialog } from '@jupyterlab/apputils';
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
import { ISignal } from '@lumino/signaling';

import { ComputePanelAPI, IComputePanelClient } from '../api';
import { computePanelIcon } from '../icons';
import { TRANSLATION_DOMAIN } from '../tokens';
import { DashboardView } from './DashboardView';
import { NewGrantForm } from './grants';
import { DashboardModel } from './model';

/**
 * Save a downloaded file through a temporary link.
 */
export function saveFile(file: ComputePanelAPI.IExportFile): void {
  const url = URL.createObjectURL(file.blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = file.filename;
  link.style.display = 'none';
  document.body.appendChild(link);
  link.click();
  link.remove();
  // Give the browser the time to start the download before letting go.
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

/**
 * The React content of a dashboard.
 */
export class DashboardPanel extends ReactWidget {
  constructor(options: DashboardPanel.IOptions) {
    super();
    this.model = options.model;
    this._trans = options.trans;
    this._save = options.saveFile ?? saveFile;
    this._me = options.me ?? (() => null);
    this.addClass('jp-ComputePanel-dashboardPanel');
  }

  readonly model: DashboardModel;

  get grantId(): string {
    return this.model.grantId;
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this.model.dispose();
    super.dispose();
  }

  protected render(): JSX.Element {
    return (
      <DashboardView
        model={this.model}
        trans={this._trans}
        onExport={async (table, format) => {
          this._save(await this.model.exportTable(table, format));
        }}
        me={this._me()}
        confirmRemove={async (user, self) => {
          const trans = this._trans;
          const result = await showDialog({
            title: self
              ? trans.__('Remove yourself from %1?', this._grantName())
              : trans.__('Remove %1?', user),
            body: self
              ? trans.__(
                  'You will no longer see, charge or edit this grant; only another PI or an admin can add you back. Your past runs stay on it.'
                )
              : trans.__(
                  '%1 will no longer see or charge this grant. Their past runs stay on it.',
                  user
                ),
            buttons: [
              Dialog.cancelButton({ label: trans.__('Cancel') }),
              Dialog.warnButton({
                label: self ? trans.__('Remove Myself') : trans.__('Remove')
              })
            ]
          });
          return result.button.accept;
        }}
        confirmDemoteSelf={async role => {
          const trans = this._trans;
          const result = await showDialog({
            title: trans.__('Give up your PI role on %1?', this._grantName()),
            body:
              role === 'viewer'
                ? trans.__(
                    'As a viewer you will still see the dashboard, but no longer edit the grant or its members, nor charge it; only another PI or an admin can make you PI again.'
                  )
                : trans.__(
                    'As a member you will still charge the grant, but no longer edit it or its members; only another PI or an admin can make you PI again.'
                  ),
            buttons: [
              Dialog.cancelButton({ label: trans.__('Keep My PI Role') }),
              Dialog.warnButton({ label: trans.__('Give Up PI Role') })
            ]
          });
          return result.button.accept;
        }}
      />
    );
  }

  private _grantName(): string {
    return this.model.data?.grant.award_number ?? this.model.grantId;
  }

  private _trans: TranslationBundle;
  private _save: (file: ComputePanelAPI.IExportFile) => void;
  private _me: () => string | null;
}

export namespace DashboardPanel {
  export interface IOptions {
    model: DashboardModel;
    trans: TranslationBundle;
    saveFile?: (file: ComputePanelAPI.IExportFile) => void;
    /**
     * The user as the server bills them (its owner), when known: their own
     * removal or loss of the PI role is confirmed in those words.
     */
    me?: () => string | null;
  }
}

/**
 * A grant's dashboard in the main area.
 */
export class DashboardWidget extends MainAreaWidget<DashboardPanel> {
  constructor(options: DashboardWidget.IOptions) {
    const trans = (options.translator ?? nullTranslator).load(
      TRANSLATION_DOMAIN
    );
    const model = new DashboardModel({
      grantId: options.grantId,
      client: options.client,
      tiers: options.tiers,
      events: options.events
    });
    const content = new DashboardPanel({ model, trans, me: options.me });
    super({ content });
    this.id = DashboardWidget.idFor(options.grantId);
    this.addClass('jp-ComputePanel-dashboardWidget');
    this.title.icon = computePanelIcon;
    this.title.closable = true;
    this._trans = trans;
    this._setTitle(options.label ?? options.grantId);
    this.toolbar.addItem(
      'refresh',
      new ToolbarButton({
        icon: refreshIcon,
        tooltip: trans.__('Refresh the dashboard'),
        onClick: () => void model.refresh()
      })
    );
    model.changed.connect(this._onChanged, this);
    options.refreshed?.connect(this._onRefreshed, this);
    void model.refresh();
  }

  get grantId(): string {
    return this.content.grantId;
  }

  get model(): DashboardModel {
    return this.content.model;
  }

  private _onChanged(): void {
    const grant = this.model.data?.grant;
    if (grant) {
      this._setTitle(grant.award_number);
    }
  }

  /**
   * The compute panel's poll came round: refresh the figures while shown
   * (the server's events may not reach this page).
   */
  private _onRefreshed(): void {
    if (this.isVisible && this.model.status !== 'loading') {
      void this.model.refresh();
    }
  }

  private _setTitle(label: string): void {
    this.title.label = this._trans.__('Dashboard: %1', label);
    this.title.caption = this._trans.__('Spend and budget of grant %1', label);
  }

  private _trans: TranslationBundle;
}

export namespace DashboardWidget {
  export interface IOptions {
    grantId: string;
    client: IComputePanelClient;
    /**
     * The award number, until the dashboard arrives.
     */
    label?: string;
    tiers?: ReadonlyArray<{ id: string; label: string }>;
    events?: ISignal<unknown, { schema_id: string }>;
    /**
     * Emitted every round of the compute panel's poll: the dashboard refreshes
     * on it while shown.
     */
    refreshed?: ISignal<unknown, void>;
    /**
     * The user as the server bills them, when known (DashboardPanel.IOptions.me).
     */
    me?: () => string | null;
    translator?: ITranslator;
  }

  /**
   * The stable DOM id of a grant's dashboard.
   */
  export function idFor(grantId: string): string {
    return `jp-compute-panel-dashboard-${grantId.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  }
}

/**
 * The admin's "New grant" form, in the main area: the form posts itself, so
 * the server's message shows next to its field and the form stays. (A Dialog
 * would take every Enter key, in the capture phase, for its own buttons.)
 */
export class NewGrantWidget extends MainAreaWidget<ReactWidget> {
  constructor(options: NewGrantWidget.IOptions) {
    const trans = (options.translator ?? nullTranslator).load(
      TRANSLATION_DOMAIN
    );
    const today = new Date().toISOString().slice(0, 10);
    const content = ReactWidget.create(
      <div className="jp-ComputePanel-dashboard">
        <h1>{trans.__('New grant')}</h1>
        <p className="jp-ComputePanel-grantMeta">
          {trans.__(
            'Every field is checked by the server; a refused one says why next to it.'
          )}
        </p>
        <NewGrantForm
          tiers={options.tiers}
          trans={trans}
          today={today}
          onCreate={async body => {
            const grant = await options.client.createGrant(body);
            options.onCreated(grant);
          }}
        />
      </div>
    );
    content.addClass('jp-ComputePanel-dashboardPanel');
    super({ content });
    this.id = NewGrantWidget.ID;
    this.title.label = trans.__('New grant');
    this.title.icon = computePanelIcon;
    this.title.closable = true;
  }
}

export namespace NewGrantWidget {
  export const ID = 'jp-compute-panel-new-grant';

  export interface IOptions {
    client: IComputePanelClient;
    tiers: ReadonlyArray<{ id: string; label: string }>;
    translator?: ITranslator;
    /**
     * The grant was created (e.g. close the form, open its dashboard).
     */
    onCreated: (grant: ComputePanelAPI.IGrant) => void;
  }
}
