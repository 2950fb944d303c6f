// Filters the pages share: a host chooser and a time range (ISO times or ages like 24h).
import { h } from '../dom.js';
import { t } from '../i18n.js';

export function hostSelect(hosts, value, onChange, { any = true, id = 'host-filter' } = {}) {
  const select = h('select', { id, on: { change: () => onChange(select.value) } },
    any ? h('option', { value: '', text: t('all_hosts') }) : null,
    hosts.map((host) => h('option', { value: host, text: host, selected: host === value })));
  return h('label', {}, t('host'), select);
}

export function rangePicker(since, until, onChange) {
  const from = h('input', { type: 'text', id: 'since', size: 22, value: since || '', placeholder: t('since_placeholder'), 'aria-label': t('since') });
  const to = h('input', { type: 'text', id: 'until', size: 22, value: until || '', placeholder: t('until_placeholder'), 'aria-label': t('until') });
  const apply = () => onChange(from.value.trim(), to.value.trim());
  for (const input of [from, to]) {
    input.addEventListener('keydown', (event) => { if (event.key === 'Enter') apply(); });
  }
  const quick = ['1h', '24h', '7d'].map((age) => h('button', {
    type: 'button', class: 'small', text: t(`last_${age}`), on: { click: () => onChange(age, '') },
  }));
  const all = h('button', { type: 'button', class: 'small', text: t('all_time'), on: { click: () => onChange('', '') } });
  return h('span', { class: 'toolbar' }, h('label', {}, t('since'), from), h('label', {}, t('until'), to),
    h('button', { type: 'button', text: t('apply'), on: { click: apply } }), quick, all);
}
