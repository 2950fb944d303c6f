// Explore / Network: connections by destination, listeners (the bind shell's port range
// first), raw and packet sockets, firewall changes.
import { get } from '../api.js';
import { h, visible } from '../dom.js';
import { t } from '../i18n.js';
import { number, time } from '../format.js';
import { table, scroll } from '../components/table.js';
import { hostSelect, rangePicker } from '../components/controls.js';
import { openEvent } from '../components/flyout.js';

export async function render(root, route, app) {
  const params = route.params;
  const host = params.get('host') || '';
  const data = await get('/api/network', { host, since: params.get('since'), until: params.get('until') });
  const go = (changes) => app.navigate('network', { host, since: params.get('since'), until: params.get('until'), ...changes });
  root.append(h('h1', { text: t('page_network') }));
  root.append(h('div', { class: 'toolbar' },
    hostSelect(app.info.hosts, host, (value) => go({ host: value })),
    rangePicker(params.get('since'), params.get('until'), (since, until) => go({ since, until }))));
  root.append(h('p', { class: 'muted', text: `${time(data.window.since)} – ${time(data.window.until)} UTC` }));
  const timelineFor = (query, extra = {}) => app.navigate('timeline', { q: query, host, since: data.window.since, until: data.window.until, ...extra });
  root.append(h('div', { class: 'row' },
    h('section', { class: 'panel grow' }, h('h2', { text: t('destinations') }),
      scroll(table({
        label: t('destinations'),
        columns: [
          { label: t('destination'), className: 'mono', render: (d) => `${visible(d.ip)}:${d.port ?? ''}` },
          { label: t('connections'), render: (d) => number(d.count) },
          { label: t('hosts'), render: (d) => number(d.hosts) },
          { label: t('processes'), className: 'wrap', render: (d) => visible(d.processes) },
          { label: t('last_seen'), className: 'nowrap', render: (d) => time(d.last) },
        ],
        rows: data.destinations,
        onOpen: (d) => timelineFor(`destination.ip:${d.ip}`),
      }))),
    h('section', { class: 'panel grow' }, h('h2', { text: t('listeners') }),
      scroll(table({
        label: t('listeners'),
        columns: [
          { label: t('host'), render: (l) => visible(l.host) },
          { label: t('port'), render: (l) => h('span', { class: l.bind_shell_range ? 'warn' : undefined, text: String(l.port ?? '') }) },
          { label: t('process'), render: (l) => visible(l.process) },
          { label: t('connections'), render: (l) => number(l.count) },
          { label: t('sources'), render: (l) => number(l.sources) },
        ],
        rows: data.listeners,
        onOpen: (l) => timelineFor(`destination.port:${l.port}`, { host: l.host || host }),
      })),
      h('p', { class: 'note', text: t('bind_shell_note') }))));
  root.append(h('section', { class: 'panel' }, h('h2', { text: t('raw_packet_sockets') }),
    scroll(table({
      label: t('raw_packet_sockets'),
      columns: [
        { label: t('time'), className: 'nowrap', render: (s) => time(s['@timestamp']) },
        { label: t('host'), render: (s) => h('a', { href: `#/hosts/${encodeURIComponent(s.host || '')}`, text: s.host || '' }) },
        { label: t('action'), render: (s) => visible(s.action) },
        { label: t('process'), className: 'wrap', render: (s) => visible(`${s.process.pid ?? ''} ${s.process.executable || s.process.name || ''}`) },
        { label: t('socket'), className: 'wrap', render: (s) => visible(Object.entries(s.socket).map(([k, v]) => `${k}=${v}`).join(' ')) },
        { label: t('filter_class'), render: (s) => h('span', { class: s.suspicious ? 'warn' : undefined, text: s.class || '' }) },
      ],
      rows: data.sockets,
      empty: t('no_sockets'),
      onOpen: (s, line) => openEvent(s.ref, { opener: line, onFilter: (term) => timelineFor(term) }),
    }))));
  root.append(h('section', { class: 'panel' }, h('h2', { text: t('firewall_changes') }),
    scroll(table({
      label: t('firewall_changes'),
      columns: [
        { label: t('time'), className: 'nowrap', render: (r) => time(r.fields['@timestamp']) },
        { label: t('host'), render: (r) => visible(r.fields['host.name']) },
        { label: t('detail'), className: 'wrap', render: (r) => visible(r.summary) },
      ],
      rows: data.firewall,
      empty: t('no_firewall_changes'),
      onOpen: (r, line) => openEvent(r.ref, { opener: line, onFilter: (term) => timelineFor(term) }),
    }))));
}
