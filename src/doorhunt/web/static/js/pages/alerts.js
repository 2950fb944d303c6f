// Alerts: filter by status, severity, rule, host; group by rule or host; move an alert
// open -> acknowledged -> closed (with a note); links into the timeline and the analyzer.
import { get, send, enc } from '../api.js';
import { h, visible } from '../dom.js';
import { t } from '../i18n.js';
import { number, severity, status, time, isoAround } from '../format.js';
import { table, scroll } from '../components/table.js';
import { openEvent } from '../components/flyout.js';

const STATUSES = ['open', 'acknowledged', 'closed'];
const SEVERITIES = ['critical', 'high', 'medium', 'low'];

function checks(name, values, chosen, label, onChange) {
  return h('fieldset', {}, h('legend', { text: label }), values.map((value) => {
    const box = h('input', { type: 'checkbox', name, value, checked: chosen.includes(value), on: { change: onChange } });
    return h('label', {}, box, t(`${name}_${value}`));
  }));
}

function statusDialog(alert, target, onDone) {
  const dialog = document.getElementById('dialog');
  dialog.replaceChildren();
  const note = h('textarea', { id: 'status-note', 'aria-label': t('note'), maxlength: '4000' });
  const problem = h('p', { class: 'error-text' });
  const confirm = h('button', {
    type: 'button',
    class: 'primary',
    id: 'status-confirm',
    text: t(`action_${target}`),
    on: {
      click: async () => {
        try {
          await send('POST', `/api/alerts/${enc(alert.ref)}/status`, { status: target, note: note.value, expected: alert.status });
          dialog.close();
          onDone();
        } catch (error) {
          problem.textContent = error.message;
        }
      },
    },
  });
  dialog.append(
    h('h2', { text: t('change_status', { status: t(`status_${target}`) }) }),
    h('p', { text: visible(alert.rule.name || alert.rule.id) }),
    h('label', { for: 'status-note', text: target === 'closed' ? t('note_required') : t('note_optional') }),
    note, problem,
    h('div', { class: 'toolbar' }, confirm, h('button', { type: 'button', text: t('cancel'), on: { click: () => dialog.close() } })),
  );
  dialog.showModal();
  note.focus();
}

function actions(alert, refresh) {
  const buttons = [];
  const next = { open: ['acknowledged', 'closed'], acknowledged: ['closed', 'open'], closed: ['open'] }[alert.status] || [];
  for (const target of next) {
    buttons.push(h('button', {
      type: 'button', class: 'small', dataset: { action: target },
      text: t(`action_${target}`), on: { click: () => statusDialog(alert, target, refresh) },
    }));
  }
  const [since, until] = isoAround(alert['@timestamp'], 300);
  buttons.push(h('a', { href: `#/timeline?${new URLSearchParams({ host: alert.host || '', since, until })}`, text: t('timeline') }));
  if (alert.process.entity_id) {
    const query = new URLSearchParams({ entity: alert.process.entity_id, at: alert['@timestamp'] });
    if (alert.host) query.set('host', alert.host);
    buttons.push(' ', h('a', { href: `#/analyzer?${query}`, text: t('analyzer') }));
  }
  return h('span', { class: 'toolbar' }, buttons);
}

export async function render(root, route, app) {
  const params = route.params;
  const chosen = {
    status: params.getAll('status'),
    severity: params.getAll('severity'),
    rule: params.get('rule') || '',
    host: params.get('host') || '',
    group: params.get('group') || '',
    entity: params.get('entity') || '',
  };
  const data = await get('/api/alerts', {
    status: chosen.status, severity: chosen.severity, rule: chosen.rule, host: chosen.host,
    group: chosen.group, entity: chosen.entity, limit: 500,
  });
  const apply = () => {
    app.navigate('alerts', {
      status: [...root.querySelectorAll('input[name=status]:checked')].map((box) => box.value),
      severity: [...root.querySelectorAll('input[name=severity]:checked')].map((box) => box.value),
      rule: root.querySelector('#rule-filter').value,
      host: root.querySelector('#host-filter').value,
      group: root.querySelector('#group-by').value,
      entity: chosen.entity,
    });
  };
  const rules = [...data.rules];
  if (chosen.rule && !rules.includes(chosen.rule)) rules.unshift(chosen.rule);
  root.append(h('h1', { text: t('page_alerts') }));
  root.append(h('div', { class: 'toolbar' },
    checks('status', STATUSES, chosen.status, t('status'), apply),
    checks('severity', SEVERITIES, chosen.severity, t('severity'), apply),
    h('label', {}, t('rule'), h('select', { id: 'rule-filter', on: { change: apply } },
      h('option', { value: '', text: t('all_rules') }), rules.map((rule) => h('option', { value: rule, text: visible(rule), selected: rule === chosen.rule })))),
    h('label', {}, t('host'), h('select', { id: 'host-filter', on: { change: apply } },
      h('option', { value: '', text: t('all_hosts') }), app.info.hosts.map((host) => h('option', { value: host, text: host, selected: host === chosen.host })))),
    h('label', {}, t('group_by'), h('select', { id: 'group-by', on: { change: apply } },
      ['', 'rule', 'host'].map((group) => h('option', { value: group, text: t(`group_${group || 'none'}`), selected: group === chosen.group })))),
  ));
  root.append(h('p', { class: 'muted', text: t('alerts_shown', { shown: number(data.alerts.length), total: number(data.total) }) }));
  const refresh = () => {
    root.replaceChildren();
    render(root, route, app).catch((error) => app.error(error.message));
  };
  if (chosen.group) {
    root.append(scroll(table({
      label: t('groups'),
      columns: [
        { label: chosen.group === 'rule' ? t('rule') : t('host'), className: 'wrap', render: (g) => g.label || t('none') },
        { label: t('severity'), render: (g) => severity(g.severity) },
        { label: t('alerts'), render: (g) => number(g.count) },
        { label: t('status_open'), render: (g) => number(g.open) },
        { label: chosen.group === 'rule' ? t('hosts') : t('rules'), render: (g) => number(g.spread) },
        { label: t('newest'), className: 'nowrap', render: (g) => time(g.newest) },
      ],
      rows: data.groups,
      onOpen: (g) => app.navigate('alerts', { ...chosen, group: '', [chosen.group]: g.key, status: chosen.status, severity: chosen.severity }),
    })));
    return;
  }
  root.append(scroll(table({
    label: t('page_alerts'),
    columns: [
      { label: t('time'), className: 'nowrap', render: (a) => time(a['@timestamp']) },
      { label: t('severity'), render: (a) => severity(a.severity) },
      { label: t('status'), render: (a) => status(a.status) },
      { label: t('rule'), className: 'wrap', render: (a) => visible(a.rule.name || a.rule.id) },
      { label: t('host'), className: 'nowrap', render: (a) => visible(a.host) },
      { label: t('process'), className: 'wrap', render: (a) => visible(a.process.command_line || a.process.name || '') },
      { label: t('actions'), className: 'actions', render: (a) => actions(a, refresh) },
    ],
    rows: data.alerts,
    onOpen: (a, line) => openEvent(a.ref, {
      opener: line,
      onFilter: (term) => app.navigate('timeline', { q: term, host: a.host || '' }),
    }),
  })));
}
