// Timeline: a query bar (EQL or field:value), host, event.category and time filters, a
// histogram, a sortable table with a column picker, pinned events, notes, the correlation
// view (events of chosen categories within ±N seconds of one event) and the event flyout.
import { get, send, enc } from '../api.js';
import { append, h, visible } from '../dom.js';
import { t } from '../i18n.js';
import { categoryLabel, number, time } from '../format.js';
import { table, scroll } from '../components/table.js';
import { histogram, legend } from '../components/histogram.js';
import { hostSelect, rangePicker } from '../components/controls.js';
import { openEvent } from '../components/flyout.js';

const DEFAULT_COLUMNS = ['@timestamp', 'host.name', 'event.category', 'event.action', 'process.pid', 'process.name', 'user.name'];
const CATEGORIES = ['process', 'file', 'network', 'host', 'authentication', 'iam', 'session', 'driver'];
const PAGE = 100;

function state(params) {
  return {
    q: params.get('q') || '',
    host: params.get('host') || '',
    category: params.getAll('category'),
    since: params.get('since') || '',
    until: params.get('until') || '',
    sort: params.get('sort') || '@timestamp',
    order: params.get('order') === 'asc' ? 'asc' : 'desc',
    offset: Number(params.get('offset') || 0) || 0,
    cols: params.get('cols') ? params.get('cols').split(',').filter(Boolean) : DEFAULT_COLUMNS,
    tab: params.get('tab') || 'events',
    corr: params.get('corr') || '',
    corrSeconds: params.get('corr_s') || '30',
    corrCategory: params.has('corr_cat') ? params.getAll('corr_cat') : ['file', 'network'],
  };
}

function link(app, current, changes) {
  const next = { ...current, ...changes };
  app.navigate('timeline', {
    q: next.q, host: next.host, category: next.category, since: next.since, until: next.until,
    sort: next.sort === '@timestamp' ? '' : next.sort, order: next.order === 'desc' ? '' : next.order,
    offset: next.offset || '', cols: next.cols.join(',') === DEFAULT_COLUMNS.join(',') ? '' : next.cols.join(','),
    tab: next.tab === 'events' ? '' : next.tab, corr: next.corr,
    corr_s: next.corr ? next.corrSeconds : '', corr_cat: next.corr ? next.corrCategory : [],
  });
}

function cell(row, field) {
  const value = field === '@timestamp' ? time(row.fields['@timestamp']) : row.fields[field];
  return visible(value);
}

function columnPicker(app, current, fields) {
  const dialog = document.getElementById('dialog');
  dialog.replaceChildren();
  const boxes = fields.map((field) => h('label', { class: 'mono' },
    h('input', { type: 'checkbox', value: field, checked: current.cols.includes(field) }), field));
  const custom = h('input', { type: 'text', id: 'custom-column', placeholder: 'process.args', 'aria-label': t('other_field') });
  const extra = current.cols.filter((field) => !fields.includes(field));
  custom.value = extra.join(', ');
  const done = h('button', {
    type: 'button', class: 'primary', text: t('apply'),
    on: {
      click: () => {
        const chosen = boxes.map((label) => label.querySelector('input')).filter((box) => box.checked).map((box) => box.value);
        const added = custom.value.split(',').map((field) => field.trim()).filter(Boolean);
        dialog.close();
        link(app, current, { cols: [...chosen, ...added].length ? [...chosen, ...added] : DEFAULT_COLUMNS });
      },
    },
  });
  dialog.append(h('h2', { text: t('columns') }), h('div', { class: 'row' }, boxes),
    h('p', {}, h('label', { for: 'custom-column', text: t('other_fields') }), custom),
    h('p', { class: 'note', text: t('other_fields_note') }),
    h('div', { class: 'toolbar' }, done, h('button', { type: 'button', text: t('cancel'), on: { click: () => dialog.close() } })));
  dialog.showModal();
}

async function togglePin(row, button) {
  const pinned = row.pinned;
  const host = row.fields['host.name'];
  if (pinned) await send('DELETE', `/api/pins/${enc(row.ref)}`);
  else await send('PUT', `/api/pins/${enc(row.ref)}`, undefined, { host: typeof host === 'string' ? host : '' });
  row.pinned = !pinned;
  if (button) {
    button.setAttribute('aria-pressed', row.pinned ? 'true' : 'false');
    button.textContent = row.pinned ? '★' : '☆';
  }
}

function pinButton(row) {
  const button = h('button', {
    type: 'button', class: 'small pin', 'aria-pressed': row.pinned ? 'true' : 'false',
    'aria-label': t('pin'), title: t('pin'), text: row.pinned ? '★' : '☆', dataset: { pin: row.ref },
  });
  button.addEventListener('click', () => togglePin(row, button));
  return button;
}

async function eventsTab(root, app, current, info) {
  const data = await get('/api/timeline', {
    q: current.q, host: current.host, category: current.category, since: current.since, until: current.until,
    sort: current.sort, order: current.order, offset: current.offset, limit: PAGE,
    columns: current.cols.filter((field) => !info.fields.includes(field)),
  });
  root.append(h('div', { class: 'toolbar' },
    h('span', { class: 'kind', text: t(`query_${data.kind}`) }),
    h('span', { id: 'total', text: t('events_found', { count: number(data.total) }) }),
    h('span', { class: 'muted', text: `${time(data.since)} – ${time(data.until)} UTC` }),
    data.notes.map((note) => h('span', { class: 'note', text: note }))));
  root.append(histogram(data.histogram, data.bucket_seconds, {
    label: t('histogram'),
    since: data.since,
    until: data.until,
    onSelect: (since, until) => link(app, current, { since, until, offset: 0 }),
  }), legend());
  const onCorrelate = (ref) => link(app, current, { corr: ref, tab: 'events' });
  const columns = [
    { label: '', render: (row) => [pinButton(row), row.noted ? h('span', { title: t('notes'), text: ' ✎' }) : null] },
    ...current.cols.map((field) => ({
      label: field,
      sort: info.fields.includes(field) && data.kind !== 'eql' ? field : undefined,
      className: ['process.command_line', 'file.path', 'rule.name'].includes(field) ? 'wrap' : (field === '@timestamp' ? 'nowrap' : undefined),
      render: (row) => cell(row, field),
    })),
    { label: t('detail'), className: 'wrap', render: (row) => visible(row.summary) },
  ];
  root.append(h('div', { class: 'toolbar' },
    h('button', { type: 'button', id: 'column-picker', text: t('columns'), on: { click: () => columnPicker(app, current, info.fields) } }),
    h('button', { type: 'button', text: t('previous'), disabled: current.offset === 0, on: { click: () => link(app, current, { offset: Math.max(0, current.offset - PAGE) }) } }),
    h('span', { class: 'muted', text: t('rows_shown', { from: number(data.rows.length ? current.offset + 1 : 0), to: number(current.offset + data.rows.length) }) }),
    h('button', { type: 'button', text: t('next'), disabled: current.offset + data.rows.length >= data.total, on: { click: () => link(app, current, { offset: current.offset + PAGE }) } })));
  const open = (row, line) => openEvent(row.ref, {
    opener: line,
    onFilter: (term) => link(app, current, { q: current.q && !/^\s*(sequence|sample|\w+\s+where)\b/i.test(current.q) ? `${current.q} ${term}` : term, offset: 0 }),
    onCorrelate,
    onPinned: (ref, pinned) => { row.pinned = pinned; },
  });
  root.append(scroll(table({
    label: t('events'),
    columns,
    rows: data.rows,
    sort: { field: current.sort, order: current.order },
    onSort: (field) => link(app, current, { sort: field, order: current.sort === field && current.order === 'desc' ? 'asc' : 'desc', offset: 0 }),
    empty: t('no_events'),
    selected: (row) => row.ref === current.corr,
    onOpen: open,
    onKey: (row, event, line) => {
      if (event.key === 'p') {
        togglePin(row, line.querySelector('button.pin'));
        return true;
      }
      if (event.key === 'c') {
        onCorrelate(row.ref);
        return true;
      }
      return false;
    },
  })));
  if (current.corr) await correlation(root, app, current);
}

async function correlation(root, app, current) {
  const panel = h('section', { class: 'panel', id: 'correlation', 'aria-labelledby': 'correlation-title' });
  root.append(panel);
  const seconds = h('input', { type: 'text', id: 'corr-seconds', size: 6, value: current.corrSeconds, 'aria-label': t('seconds') });
  const boxes = CATEGORIES.map((name) => h('label', {},
    h('input', { type: 'checkbox', name: 'corr-category', value: name, checked: current.corrCategory.includes(name) }), t(`category_${name}`)));
  const apply = () => link(app, current, {
    corrSeconds: seconds.value.trim() || '30',
    corrCategory: boxes.map((label) => label.querySelector('input')).filter((box) => box.checked).map((box) => box.value),
  });
  panel.append(h('h2', { id: 'correlation-title', text: t('correlation') }),
    h('div', { class: 'toolbar' }, h('label', {}, '±', seconds, t('seconds')), h('fieldset', {}, h('legend', { text: t('categories') }), boxes),
      h('button', { type: 'button', text: t('apply'), on: { click: apply } }),
      h('button', { type: 'button', text: t('close'), on: { click: () => link(app, current, { corr: '' }) } })));
  let data;
  try {
    data = await get('/api/correlate', { ref: current.corr, seconds: current.corrSeconds, category: current.corrCategory });
  } catch (error) {
    panel.append(h('p', { class: 'error-text', text: error.message }));
    return;
  }
  panel.append(h('p', {}, h('strong', { text: `${t('anchor')}: ` }), `${time(data.anchor.fields['@timestamp'])} · ${visible(data.anchor.fields['host.name'])} · `, visible(data.anchor.summary)),
    h('p', { class: 'muted', text: Object.entries(data.counts).map(([name, count]) => `${categoryLabel(name)} ${number(count)}`).join(' · ') || t('no_events') }));
  panel.append(scroll(table({
    label: t('correlation'),
    columns: [
      { label: t('offset'), className: 'nowrap mono', render: (row) => `${row.offset >= 0 ? '+' : ''}${row.offset.toFixed(3)} s` },
      { label: t('category'), render: (row) => visible(row.fields['event.category']) },
      { label: t('action'), render: (row) => visible(row.fields['event.action']) },
      { label: t('process'), render: (row) => visible(`${row.fields['process.pid'] ?? ''} ${row.fields['process.name'] ?? ''}`) },
      { label: t('detail'), className: 'wrap', render: (row) => visible(row.summary) },
    ],
    rows: data.rows,
    empty: t('no_events'),
    selected: (row) => row.ref === current.corr,
    onOpen: (row, line) => openEvent(row.ref, { opener: line, onFilter: (term) => link(app, current, { q: term, offset: 0 }) }),
  })));
}

async function pinnedTab(root, app, current) {
  const data = await get('/api/pins');
  root.append(scroll(table({
    label: t('pinned'),
    columns: [
      { label: t('time'), className: 'nowrap', render: (pin) => time(pin.row ? pin.row.fields['@timestamp'] : '') },
      { label: t('host'), render: (pin) => visible(pin.host || '') },
      { label: t('action'), render: (pin) => visible(pin.row ? pin.row.fields['event.action'] : '') },
      { label: t('detail'), className: 'wrap', render: (pin) => visible(pin.row ? pin.row.summary : t('event_gone')) },
      {
        label: '',
        render: (pin) => h('button', {
          type: 'button', class: 'small', text: t('unpin'),
          on: {
            click: async (event) => {
              const line = event.target.closest('tr');
              await send('DELETE', `/api/pins/${enc(pin.event)}`);
              line.remove();
            },
          },
        }),
      },
    ],
    rows: data.pins,
    empty: t('no_pins'),
    onOpen: (pin, line) => openEvent(pin.event, { opener: line, onFilter: (term) => link(app, current, { q: term, tab: 'events', offset: 0 }) }),
  })));
}

async function notesTab(root, app, current) {
  const data = await get('/api/notes', { all: 'true' });
  const onEvent = (note) => h('button', {
    type: 'button', class: 'small', text: t('note_on_event'),
    on: {
      click: (event) => openEvent(note.event, {
        opener: event.currentTarget,
        onFilter: (term) => link(app, current, { q: term, tab: 'events', offset: 0 }),
      }),
    },
  });
  const list = h('ul', { id: 'notes' }, data.notes.map((note) => h('li', {},
    h('span', { class: 'muted', text: `${time(note.created_at)} ` }), note.event ? [onEvent(note), ' '] : null, visible(note.text))));
  const empty = data.notes.length ? null : h('p', { class: 'muted', id: 'no-notes', text: t('no_notes') });
  const input = h('textarea', { id: 'note-text', 'aria-label': t('add_note'), maxlength: '4000' });
  const add = h('button', {
    type: 'button', id: 'add-note', text: t('add_note'),
    on: {
      click: async () => {
        if (!input.value.trim()) return;
        const note = await send('POST', '/api/notes', { text: input.value });
        list.append(h('li', {}, h('span', { class: 'muted', text: `${time(note.created_at)} ` }), visible(note.text)));
        if (empty) empty.remove();
        input.value = '';
      },
    },
  });
  append(root, empty, list, h('h3', { text: t('investigation_note') }), input, add);
}

export async function render(root, route, app) {
  const current = state(route.params);
  const info = app.info;
  root.append(h('h1', { text: t('page_timeline') }));
  const query = h('input', {
    type: 'search', id: 'query', value: current.q, placeholder: t('query_placeholder'),
    'aria-label': t('query'), 'aria-keyshortcuts': '/', autocomplete: 'off', spellcheck: 'false',
  });
  query.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') link(app, current, { q: query.value, offset: 0 });
  });
  const categories = h('fieldset', {}, h('legend', { text: t('categories') }), CATEGORIES.map((name) => h('label', {},
    h('input', {
      type: 'checkbox', name: 'category', value: name, checked: current.category.includes(name),
      on: {
        change: () => link(app, current, {
          category: [...categories.querySelectorAll('input:checked')].map((box) => box.value), offset: 0,
        }),
      },
    }), t(`category_${name}`))));
  root.append(h('div', { class: 'toolbar' },
    h('div', { class: 'query' }, query),
    h('button', { type: 'button', class: 'primary', id: 'search', text: t('search'), on: { click: () => link(app, current, { q: query.value, offset: 0 }) } })));
  root.append(h('div', { class: 'toolbar' },
    hostSelect(info.hosts, current.host, (value) => link(app, current, { host: value, offset: 0 })),
    categories));
  root.append(h('div', { class: 'toolbar' }, rangePicker(current.since, current.until, (since, until) => link(app, current, { since, until, offset: 0 }))));
  root.append(h('p', { class: 'note', text: t('query_help') }));
  const tabs = ['events', 'pinned', 'notes'];
  root.append(h('div', { class: 'tabs', role: 'tablist' }, tabs.map((tab) => h('button', {
    type: 'button', role: 'tab', id: `tab-${tab}`, 'aria-selected': current.tab === tab ? 'true' : 'false',
    text: t(`tab_${tab}`), on: { click: () => link(app, current, { tab }) },
  }))));
  const body = h('div', { role: 'tabpanel', 'aria-labelledby': `tab-${current.tab}` });
  root.append(body);
  if (current.tab === 'pinned') await pinnedTab(body, app, current);
  else if (current.tab === 'notes') await notesTab(body, app, current);
  else {
    try {
      await eventsTab(body, app, current, info);
    } catch (error) {
      body.append(h('p', { class: 'error-text', id: 'query-error', text: error.message }));
    }
  }
}
