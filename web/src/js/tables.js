// Sortable data tables: a header button per column, `aria-sort` on the sorted header, rows
// rebuilt from data with text-only cells. Sorting happens here (client) or, with `onSort`, on
// the server (the history page), in which case only the columns marked `sortable` respond.

import { el, clear, append } from './dom.js';

const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });

function compareValues(a, b) {
  const na = a === null || a === undefined || a === '';
  const nb = b === null || b === undefined || b === '';
  if (na || nb) return na === nb ? 0 : na ? 1 : -1; // empty last
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return collator.compare(String(a), String(b));
}

/** Rows sorted by `column.value` (stable; empty values last in both directions). */
export function sortRows(rows, column, desc) {
  if (!column) return rows.slice();
  const get = column.value || ((r) => r[column.key]);
  return rows
    .map((row, i) => ({ row, i, v: get(row) }))
    .sort((x, y) => {
      const ex = x.v === null || x.v === undefined || x.v === '';
      const ey = y.v === null || y.v === undefined || y.v === '';
      if (ex || ey) return ex === ey ? x.i - y.i : ex ? 1 : -1;
      const c = compareValues(x.v, y.v);
      return (desc ? -c : c) || x.i - y.i;
    })
    .map((x) => x.row);
}

/**
 * A table. Options:
 *   columns: [{key, label, value?(row) (sort value), render?(row) → string|Node|array,
 *              className?, sortable? (default true), title?}]
 *   testid: data-testid of the <table>; rowAttrs?(row) → attrs for el('tr', …)
 *   sort: {key, desc} initial sort; onSort?(key, desc): server-side sorting
 *   empty: text of the empty table; caption?: accessible caption
 */
export class DataTable {
  constructor({ columns, testid, rowAttrs, sort, onSort, empty = 'nothing yet', caption, limit }) {
    this.columns = columns;
    this.rowAttrs = rowAttrs || (() => null);
    this.sort = sort ? { ...sort } : null;
    this.onSort = onSort || null;
    this.emptyText = empty;
    this.limit = limit || Infinity;
    this.rows = [];
    this.headers = new Map();
    const headRow = el('tr');
    for (const col of columns) {
      const sortable = col.sortable !== false;
      const thClass = (col.className || '').split(' ').filter((c) => c === 'num').join(' ');
      const th = el('th', { scope: 'col', class: thClass || null, title: col.title || null, dataset: { key: col.key } });
      if (sortable) {
        const button = el('button', { type: 'button', class: 'sort-button' }, col.label, el('span', { class: 'sort-arrow', 'aria-hidden': 'true' }));
        button.addEventListener('click', () => this.toggleSort(col.key));
        th.appendChild(button);
      } else {
        th.appendChild(document.createTextNode(col.label));
      }
      this.headers.set(col.key, th);
      headRow.appendChild(th);
    }
    this.tbody = el('tbody');
    this.table = el(
      'table',
      { class: 'data-table', 'data-testid': testid || null },
      caption ? el('caption', { class: 'visually-hidden' }, caption) : null,
      el('thead', null, headRow),
      this.tbody
    );
    this.element = el('div', { class: 'table-scroll', tabindex: '0' }, this.table);
    this.updateHeaders();
  }

  toggleSort(key) {
    const col = this.columns.find((c) => c.key === key);
    if (!col || col.sortable === false) return;
    const desc = this.sort && this.sort.key === key ? !this.sort.desc : Boolean(col.defaultDesc);
    this.sort = { key, desc };
    this.updateHeaders();
    if (this.onSort) this.onSort(key, desc);
    else this.render();
  }

  /** Sets the sort without re-rendering (server-side sort state from the URL). */
  setSort(sort) {
    this.sort = sort ? { ...sort } : null;
    this.updateHeaders();
  }

  updateHeaders() {
    for (const [key, th] of this.headers) {
      const active = this.sort && this.sort.key === key;
      if (th.querySelector('button')) th.setAttribute('aria-sort', active ? (this.sort.desc ? 'descending' : 'ascending') : 'none');
      const arrow = th.querySelector('.sort-arrow');
      if (arrow) arrow.textContent = active ? (this.sort.desc ? ' ▼' : ' ▲') : '';
    }
  }

  /** Replaces the rows (the current sort is kept). */
  setRows(rows) {
    this.rows = Array.isArray(rows) ? rows : [];
    this.render();
  }

  render() {
    let rows = this.rows;
    if (!this.onSort && this.sort) {
      rows = sortRows(rows, this.columns.find((c) => c.key === this.sort.key), this.sort.desc);
    }
    if (rows.length > this.limit) rows = rows.slice(0, this.limit);
    clear(this.tbody);
    if (!rows.length) {
      this.tbody.appendChild(el('tr', { class: 'empty-row' }, el('td', { colspan: String(this.columns.length) }, this.emptyText)));
      return;
    }
    const frag = document.createDocumentFragment();
    for (const row of rows) {
      const tr = el('tr', this.rowAttrs(row));
      for (const col of this.columns) {
        const content = col.render ? col.render(row) : row[col.key];
        const td = el('td', { class: col.className || null });
        append(td, [content === null || content === undefined ? '' : content]);
        tr.appendChild(td);
      }
      frag.appendChild(tr);
    }
    this.tbody.appendChild(frag);
  }
}
