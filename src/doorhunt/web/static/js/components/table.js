// A data table a keyboard can use: rows take focus (arrow keys, j/k, Home/End), Enter opens
// a row, and sortable headers are buttons. Cells are built by render functions that return
// nodes or text, so host data never passes through HTML.
import { h } from '../dom.js';
import { t } from '../i18n.js';

export function table({ columns, rows, onOpen, onKey, sort, onSort, empty, label, selected }) {
  const head = h('tr', {}, columns.map((column) => {
    const ariaSort = sort && sort.field === column.sort
      ? (sort.order === 'asc' ? 'ascending' : 'descending') : undefined;
    const title = column.sort && onSort
      ? h('button', {
        type: 'button',
        on: { click: () => onSort(column.sort) },
        text: column.label + (ariaSort ? (ariaSort === 'ascending' ? ' ▲' : ' ▼') : ''),
      })
      : column.label;
    return h('th', { scope: 'col', 'aria-sort': ariaSort }, title);
  }));
  const body = h('tbody');
  const element = h('table', { class: 'data', 'aria-label': label || '' }, h('thead', {}, head), body);
  if (!rows.length) {
    body.append(h('tr', {}, h('td', { colspan: columns.length, class: 'empty', text: empty || t('nothing') })));
    return element;
  }
  rows.forEach((row, index) => {
    const line = h('tr', {
      tabIndex: index === 0 ? 0 : -1,
      class: selected && selected(row) ? 'selected' : undefined,
      dataset: { index: String(index) },
      on: {
        click: (event) => {
          if (event.target.closest('button, a, input, select')) return;
          if (onOpen) onOpen(row, line);
        },
      },
    }, columns.map((column) => h('td', { class: column.className }, column.render(row))));
    body.append(line);
  });
  body.addEventListener('keydown', (event) => {
    const line = event.target.closest('tr');
    if (!line || event.target !== line) return;
    const lines = [...body.children];
    const index = lines.indexOf(line);
    let next = null;
    if (event.key === 'ArrowDown' || event.key === 'j') next = lines[index + 1];
    else if (event.key === 'ArrowUp' || event.key === 'k') next = lines[index - 1];
    else if (event.key === 'Home') next = lines[0];
    else if (event.key === 'End') next = lines[lines.length - 1];
    else if (event.key === 'Enter' && onOpen) {
      onOpen(rows[index], line);
      event.preventDefault();
      return;
    } else if (onKey && !event.ctrlKey && !event.metaKey && !event.altKey) {
      if (onKey(rows[index], event, line)) event.preventDefault();
      return;
    }
    if (next) {
      line.tabIndex = -1;
      next.tabIndex = 0;
      next.focus();
      event.preventDefault();
    }
  });
  return element;
}

export function scroll(...children) {
  return h('div', { class: 'scroll' }, children);
}
