/**
 * A virtualized, server-paged table: fixed row height, only the visible rows
 * (plus an overscan) in the DOM, pages fetched as they scroll into view.
 *
 * It is an ARIA grid (read-only): the column headers are buttons that sort
 * (aria-sort), and the grid takes the focus and moves an active row with the
 * arrow keys, Page Up/Down, Home and End.
 */
import * as React from 'react';

import { TranslationBundle } from '@jupyterlab/translation';

import { Pager, visibleRange } from './pager';

/**
 * A sort: a column's sort key, descending when `descending`.
 */
export interface ISort {
  key: string;
  descending: boolean;
}

export interface IColumn<Row> {
  id: string;
  label: string;
  /**
   * The CSS grid track of the column, e.g. '1fr' or '8em'; of a `fit`
   * column, its track until its cells are measured.
   */
  width: string;
  /**
   * Size the column to its widest cell (header included) among those shown,
   * never cutting them: for dates, durations, amounts. It only grows while
   * the rows scroll, so the columns do not jump; a new query measures anew.
   */
  fit?: boolean;
  /**
   * The server's sort key; the column is not sortable without one.
   */
  sortKey?: string;
  /**
   * Right-align numbers.
   */
  numeric?: boolean;
  render: (row: Row) => React.ReactNode;
  /**
   * The cell's text for its title attribute (full text of clipped cells).
   */
  text?: (row: Row) => string;
}

export namespace VirtualTable {
  export interface IProps<Row> {
    pager: Pager<Row, any>;
    columns: ReadonlyArray<IColumn<Row>>;
    sort: ISort | null;
    onSort?: (sort: ISort) => void;
    /**
     * The accessible name of the table.
     */
    label: string;
    trans: TranslationBundle;
    rowHeight?: number;
    /**
     * The viewport height in pixels (the body scrolls inside it).
     */
    height?: number;
    overscan?: number;
    /**
     * A stable key of a row (for React and aria-activedescendant).
     */
    rowKey: (row: Row, index: number) => string;
    /**
     * Called once the rows of the first screen are rendered.
     */
    onRendered?: () => void;
    idPrefix?: string;
    /**
     * What to say when no row matches.
     */
    emptyText?: string;
    /**
     * The active row changed (a click, or the arrow keys): its index and
     * row (undefined while its page is loading).
     */
    onActiveChange?: (index: number, row: Row | undefined) => void;
    /**
     * Several rows may be selected: whether a row is. With it, aria-selected
     * tells the selection (not the active row) and the grid is
     * multi-selectable.
     */
    isSelected?: (row: Row) => boolean;
    /**
     * Ctrl- or Cmd-click on a row, or Space on the active row, toggles it.
     */
    onToggleSelected?: (row: Row) => void;
  }
}

export const DEFAULT_ROW_HEIGHT = 28;

/**
 * The widths (px) that content-sized columns have been measured at.
 */
export type FittedWidths = Readonly<Record<string, number>>;

/**
 * The grid template of the columns: a measured `fit` column at its width,
 * one not yet measured at its content's width (each row is its own grid, so
 * that lasts only until the first measure, before the browser paints).
 */
export function template<Row>(
  columns: ReadonlyArray<IColumn<Row>>,
  fitted: FittedWidths = {}
): string {
  return columns
    .map(c =>
      c.fit ? (fitted[c.id] ? `${fitted[c.id]}px` : 'max-content') : c.width
    )
    .join(' ')
    .trim();
}

/**
 * The fitted widths grown to the widest cell measured now (whole pixels,
 * rounded up); null when nothing grew (never shrinks: no jumping columns).
 */
export function widen(
  fitted: FittedWidths,
  measured: Readonly<Record<string, number>>
): FittedWidths | null {
  let next: Record<string, number> | null = null;
  for (const [id, width] of Object.entries(measured)) {
    const px = Math.ceil(width);
    if (px > (fitted[id] ?? 0)) {
      next = next ?? { ...fitted };
      next[id] = px;
    }
  }
  return next;
}

export function VirtualTable<Row>(
  props: VirtualTable.IProps<Row>
): JSX.Element {
  const {
    pager,
    columns,
    sort,
    trans,
    rowHeight = DEFAULT_ROW_HEIGHT,
    height = 400,
    overscan = 8
  } = props;
  const bodyRef = React.useRef<HTMLDivElement>(null);
  const gridRef = React.useRef<HTMLDivElement>(null);
  const headRowRef = React.useRef<HTMLDivElement>(null);
  const [fitted, setFitted] = React.useState<FittedWidths>({});
  const [minWidth, setMinWidth] = React.useState(0);
  const [scrollTop, setScrollTop] = React.useState(0);
  const [viewport, setViewport] = React.useState(height);
  const [active, setActive] = React.useState<number | null>(null);
  const [, setVersion] = React.useState(0);
  const generated = React.useId();
  const prefix =
    props.idPrefix ?? `jp-ComputePanel-vt${generated.replace(/:/g, '')}`;

  // Re-render when pages arrive or the query changes.
  React.useEffect(() => {
    const onChanged = () => {
      setVersion(v => v + 1);
    };
    pager.changed.connect(onChanged);
    return () => {
      pager.changed.disconnect(onChanged);
    };
  }, [pager]);

  // Back to the top on a new query (the count is unknown again).
  const count = pager.count ?? 0;
  React.useEffect(() => {
    if (pager.count === null) {
      setActive(null);
      setScrollTop(0);
      setFitted({});
      if (bodyRef.current) {
        bodyRef.current.scrollTop = 0;
      }
    }
  }, [pager.count === null]);

  // Follow the viewport's real height when the browser reports one.
  React.useEffect(() => {
    const node = bodyRef.current;
    if (!node || typeof ResizeObserver === 'undefined') {
      return;
    }
    const observer = new ResizeObserver(() => {
      if (node.clientHeight > 0) {
        setViewport(node.clientHeight);
      }
    });
    observer.observe(node);
    return () => observer.disconnect();
  }, []);

  const { start, end } = visibleRange(
    scrollTop,
    viewport,
    rowHeight,
    count,
    overscan
  );
  React.useEffect(() => {
    pager.ensure(start, end);
  });

  const onRendered = props.onRendered;
  const firstRendered = pager.count !== null && !!pager.rowAt(start);
  React.useLayoutEffect(() => {
    if (firstRendered && onRendered) {
      onRendered();
    }
  }, [firstRendered, onRendered]);

  // Content-sized columns: measure their cells once rendered, before paint.
  React.useLayoutEffect(() => {
    const node = gridRef.current;
    if (!node) {
      return;
    }
    const measured: Record<string, number> = {};
    for (const column of columns) {
      if (!column.fit) {
        continue;
      }
      const known = fitted[column.id] !== undefined;
      let widest = 0;
      node
        .querySelectorAll<HTMLElement>(`[data-column="${column.id}"]`)
        .forEach(cell => {
          // Unmeasured, the track is the content's width; measured, only a
          // cell whose content overflows its box (scrollWidth, overflow
          // hidden) asks for more. A pixel more for the rounding of both.
          if (!known || cell.scrollWidth > cell.clientWidth) {
            widest = Math.max(widest, cell.scrollWidth + 1);
          }
        });
      if (widest > 1) {
        measured[column.id] = widest;
      }
    }
    const next = widen(fitted, measured);
    if (next) {
      setFitted(next);
    }
  });

  // The narrowest the columns can be; below it the table scrolls sideways
  // (head and body together) instead of cutting its last columns.
  React.useLayoutEffect(() => {
    const head = headRowRef.current;
    if (!head) {
      return;
    }
    const width = head.style.width;
    head.style.width = 'min-content';
    const min = head.offsetWidth;
    head.style.width = width;
    setMinWidth(min);
  }, [fitted, columns.length]);

  const onScroll = (event: React.UIEvent<HTMLDivElement>) => {
    setScrollTop(event.currentTarget.scrollTop);
  };

  const moveTo = (index: number) => {
    if (count === 0) {
      return;
    }
    const next = Math.max(0, Math.min(count - 1, index));
    setActive(next);
    props.onActiveChange?.(next, pager.rowAt(next));
    const node = bodyRef.current;
    if (node) {
      const top = next * rowHeight;
      if (top < node.scrollTop) {
        node.scrollTop = top;
        setScrollTop(top);
      } else if (top + rowHeight > node.scrollTop + viewport) {
        node.scrollTop = top + rowHeight - viewport;
        setScrollTop(node.scrollTop);
      }
    }
  };

  const onKeyDown = (event: React.KeyboardEvent<HTMLDivElement>) => {
    if (event.target !== event.currentTarget) {
      // A key on a header's sort button, not on the grid.
      return;
    }
    const page = Math.max(1, Math.floor(viewport / rowHeight) - 1);
    const current = active ?? -1;
    const keys: { [key: string]: () => number } = {
      ArrowDown: () => current + 1,
      ArrowUp: () => Math.max(0, current - 1),
      PageDown: () => current + page,
      PageUp: () => current - page,
      Home: () => 0,
      End: () => count - 1
    };
    if (
      event.key === ' ' &&
      active !== null &&
      props.onToggleSelected &&
      pager.rowAt(active)
    ) {
      event.preventDefault();
      props.onToggleSelected(pager.rowAt(active)!);
      return;
    }
    const target = keys[event.key];
    if (target) {
      event.preventDefault();
      moveTo(target());
    }
  };

  const headerCells = columns.map(column => {
    const sorted = sort && column.sortKey && sort.key === column.sortKey;
    const ariaSort = sorted
      ? sort!.descending
        ? 'descending'
        : 'ascending'
      : column.sortKey
        ? 'none'
        : undefined;
    const onClick = () => {
      if (!column.sortKey || !props.onSort) {
        return;
      }
      props.onSort({
        key: column.sortKey,
        // A new column sorts descending first (largest, newest); a second
        // click flips it.
        descending: sorted ? !sort!.descending : true
      });
    };
    return (
      <div
        key={column.id}
        role="columnheader"
        data-column={column.id}
        aria-sort={ariaSort}
        className={`jp-ComputePanel-vtHeader${column.numeric ? ' jp-mod-numeric' : ''}`}
      >
        {column.sortKey && props.onSort ? (
          <button
            type="button"
            className="jp-ComputePanel-vtSort"
            onClick={onClick}
            title={trans.__('Sort by %1', column.label)}
          >
            {column.label}
            <span aria-hidden="true" className="jp-ComputePanel-vtArrow">
              {sorted ? (sort!.descending ? '▼' : '▲') : ''}
            </span>
          </button>
        ) : (
          column.label
        )}
      </div>
    );
  });

  // Rows are keyed by slot, not by index: while scrolling, a row leaving the
  // window lends its DOM nodes to the row entering it (React updates their
  // text and offset instead of removing and creating elements).
  const slots = Math.ceil(viewport / rowHeight) + 2 + 2 * overscan;
  const rows: JSX.Element[] = [];
  for (let index = start; index < end; index++) {
    const row = pager.rowAt(index);
    const id = `${prefix}-row-${index}`;
    const selected =
      props.isSelected && row ? props.isSelected(row) : undefined;
    rows.push(
      <div
        key={index % slots}
        id={id}
        role="row"
        aria-rowindex={index + 2}
        aria-selected={props.isSelected ? !!selected : active === index}
        className={`jp-ComputePanel-vtRow${active === index ? ' jp-mod-active' : ''}${selected ? ' jp-mod-selected' : ''}${row ? '' : ' jp-mod-loading'}`}
        style={{ top: index * rowHeight, height: rowHeight }}
        onClick={event => {
          if (
            row &&
            props.onToggleSelected &&
            (event.ctrlKey || event.metaKey)
          ) {
            props.onToggleSelected(row);
          }
          setActive(index);
          props.onActiveChange?.(index, row);
        }}
      >
        {row
          ? columns.map(column => (
              <div
                key={column.id}
                role="gridcell"
                data-column={column.id}
                className={`jp-ComputePanel-vtCell${column.numeric ? ' jp-mod-numeric' : ''}`}
                title={column.text ? column.text(row) : undefined}
              >
                {column.render(row)}
              </div>
            ))
          : columns.map(column => (
              <div
                key={column.id}
                role="gridcell"
                className="jp-ComputePanel-vtCell"
              >
                {column === columns[0] ? trans.__('Loading…') : ''}
              </div>
            ))}
      </div>
    );
  }

  const gridTemplateColumns = template(columns, fitted);
  return (
    <div
      ref={gridRef}
      className="jp-ComputePanel-vt"
      role="grid"
      aria-label={props.label}
      aria-readonly="true"
      aria-multiselectable={props.isSelected ? true : undefined}
      aria-rowcount={count + 1}
      aria-colcount={columns.length}
      style={{
        ['--jp-ComputePanel-vt-columns' as any]: gridTemplateColumns,
        ['--jp-ComputePanel-vt-min-width' as any]: minWidth
          ? `${minWidth}px`
          : undefined
      }}
      // The grid takes the focus and points at its active row: ARIA allows
      // aria-activedescendant on a grid, not on a rowgroup.
      tabIndex={0}
      aria-activedescendant={
        active !== null && active >= start && active < end
          ? `${prefix}-row-${active}`
          : undefined
      }
      onKeyDown={onKeyDown}
    >
      <div role="rowgroup" className="jp-ComputePanel-vtHead">
        <div
          ref={headRowRef}
          role="row"
          aria-rowindex={1}
          className="jp-ComputePanel-vtHeadRow"
        >
          {headerCells}
        </div>
      </div>
      <div
        ref={bodyRef}
        role="rowgroup"
        className="jp-ComputePanel-vtBody"
        style={{ height }}
        onScroll={onScroll}
      >
        <div
          className="jp-ComputePanel-vtSpacer"
          style={{ height: count * rowHeight }}
        >
          {rows}
        </div>
        {pager.count === 0 ? (
          <div className="jp-ComputePanel-vtEmpty">
            {props.emptyText ?? trans.__('Nothing matches.')}
          </div>
        ) : null}
      </div>
      {pager.status === 'error' ? (
        <div className="jp-ComputePanel-vtError" role="alert">
          {pager.error}
        </div>
      ) : null}
    </div>
  );
}
