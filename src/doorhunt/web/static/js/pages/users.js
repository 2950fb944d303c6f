// Explore / Users: who was seen where, sessions (logins), privilege changes.
import { get } from '../api.js';
import { h, visible } from '../dom.js';
import { t } from '../i18n.js';
import { number, time } from '../format.js';
import { table, scroll } from '../components/table.js';
import { hostSelect, rangePicker } from '../components/controls.js';
import { openEvent } from '../components/flyout.js';

function events(rows, label, app, host) {
  return scroll(table({
    label,
    columns: [
      { label: t('time'), className: 'nowrap', render: (r) => time(r.fields['@timestamp']) },
      { label: t('host'), render: (r) => visible(r.fields['host.name']) },
      { label: t('action'), render: (r) => visible(r.fields['event.action']) },
      { label: t('user'), render: (r) => visible(r.fields['user.name'] || r.fields['user.id'] || '') },
      { label: t('detail'), className: 'wrap', render: (r) => visible(r.summary) },
    ],
    rows,
    onOpen: (r, line) => openEvent(r.ref, { opener: line, onFilter: (term) => app.navigate('timeline', { q: term, host }) }),
  }));
}

export async function render(root, route, app) {
  const params = route.params;
  const host = params.get('host') || '';
  const data = await get('/api/users', { host, since: params.get('since'), until: params.get('until') });
  const go = (changes) => app.navigate('users', { host, since: params.get('since'), until: params.get('until'), ...changes });
  root.append(h('h1', { text: t('page_users') }));
  root.append(h('div', { class: 'toolbar' },
    hostSelect(app.info.hosts, host, (value) => go({ host: value })),
    rangePicker(params.get('since'), params.get('until'), (since, until) => go({ since, until }))));
  root.append(h('p', { class: 'muted', text: `${time(data.window.since)} – ${time(data.window.until)} UTC` }));
  root.append(h('section', { class: 'panel' }, h('h2', { text: t('users') }),
    scroll(table({
      label: t('users'),
      columns: [
        { label: t('user'), render: (u) => visible(u.name || '') },
        { label: 'ID', render: (u) => visible(u.id || '') },
        { label: t('host'), render: (u) => visible(u.host) },
        { label: t('events'), render: (u) => number(u.count) },
        { label: t('first_seen'), className: 'nowrap', render: (u) => time(u.first) },
        { label: t('last_seen'), className: 'nowrap', render: (u) => time(u.last) },
      ],
      rows: data.users,
      onOpen: (u) => app.navigate('timeline', { q: u.name ? `user.name:${u.name}` : `user.id:${u.id}`, host: u.host }),
    }))));
  root.append(h('div', { class: 'row' },
    h('section', { class: 'panel grow' }, h('h2', { text: t('sessions') }), events(data.sessions, t('sessions'), app, host)),
    h('section', { class: 'panel grow' }, h('h2', { text: t('privilege_changes') }), events(data.privilege_changes, t('privilege_changes'), app, host))));
}
