// Explore / Hosts: every host worst first; a host's page with its sweep, findings, packet
// sockets and their filters explained, processes, uncommon processes, alerts, recent events.
import { get, enc } from '../api.js';
import { h, visible } from '../dom.js';
import { t, lang } from '../i18n.js';
import { number, severity, verdict, time } from '../format.js';
import { table, scroll } from '../components/table.js';
import { rangePicker } from '../components/controls.js';
import { openEvent } from '../components/flyout.js';

async function list(root, app) {
  const data = await get('/api/hosts');
  root.append(h('h1', { text: t('page_hosts') }));
  root.append(scroll(table({
    label: t('page_hosts'),
    columns: [
      { label: t('host'), render: (host) => h('a', { href: `#/hosts/${enc(host.name)}`, text: host.name }) },
      { label: t('verdict'), render: (host) => verdict(host.verdict) },
      { label: t('open_alerts'), render: (host) => number(host.open_alerts) },
      { label: t('severity'), render: (host) => severity(host.severity) },
      { label: t('events'), render: (host) => number(host.events) },
      { label: t('last_seen'), className: 'nowrap', render: (host) => time(host.last) },
      { label: t('swept_at'), className: 'nowrap', render: (host) => time(host.swept_at) },
    ],
    rows: data.hosts,
    empty: t('no_hosts'),
    onOpen: (host) => app.navigate(`hosts/${enc(host.name)}`),
  })));
}

function socketRow(socket) {
  const explanation = socket.explanation;
  const details = h('details', { class: 'explain' });
  details.append(h('summary', { text: explanation ? visible(explanation.summary) : (socket.explanation_error || t('no_filter')) }));
  if (explanation) {
    details.append(
      h('p', {}, h('span', { class: 'tag', text: `${t('filter_class')}: ${explanation.class}` }),
        h('span', { class: 'tag', text: `${t('instructions')}: ${explanation.instructions}` }),
        explanation.suspicious ? h('span', { class: 'warn', text: t('suspicious_filter') }) : null),
      h('ul', {}, explanation.reasons.map((reason) => h('li', { text: visible(reason) }))),
      h('h3', { text: t('disassembly') }),
      h('pre', { text: (Array.isArray(explanation.disassembly) ? explanation.disassembly : [explanation.disassembly]).map(visible).join('\n') }),
      h('h3', { text: t('probes') }),
      h('ul', {}, (explanation.probes || []).filter((probe) => probe.ok).slice(0, 8).map((probe) => h('li', { class: 'mono', text: `${probe.network}/${probe.transport || ''} ${probe.packet}` }))),
    );
  }
  return details;
}

async function page(root, name, route, app) {
  const params = route.params;
  const data = await get(`/api/hosts/${enc(name)}`, { since: params.get('since'), until: params.get('until'), lang: lang() });
  const summary = data.summary || {};
  root.append(h('h1', {}, `${t('host')}: `, h('span', { class: 'mono', text: name }), ' ', verdict(summary.verdict)));
  root.append(h('div', { class: 'toolbar' },
    h('a', { href: `#/timeline?${new URLSearchParams({ host: name })}`, text: t('open_timeline') }), ' · ',
    h('a', { href: `#/alerts?${new URLSearchParams({ host: name })}`, text: t('page_alerts') }), ' · ',
    h('a', { href: `#/network?${new URLSearchParams({ host: name })}`, text: t('page_network') }), ' · ',
    h('a', { href: `#/users?${new URLSearchParams({ host: name })}`, text: t('page_users') })));
  root.append(h('div', { class: 'cards' },
    h('div', { class: 'card' }, h('div', { class: 'muted', text: t('events') }), h('div', { class: 'big', text: number(summary.events || 0) })),
    h('div', { class: 'card' }, h('div', { class: 'muted', text: t('open_alerts') }), h('div', { class: 'big', text: number(summary.open_alerts || 0) })),
    h('div', { class: 'card' }, h('div', { class: 'muted', text: t('last_seen') }), h('div', { text: time(summary.last) })),
    h('div', { class: 'card' }, h('div', { class: 'muted', text: t('swept_at') }), h('div', { text: time(summary.swept_at) || t('verdict_none') }))));

  const report = data.sweep_report;
  if (report) {
    const gaps = (report.visibility && report.visibility.gaps) || [];
    root.append(h('section', { class: 'panel' }, h('h2', { text: t('sweep_report') }),
      h('p', {}, verdict(report.verdict), ` ${t('score')} ${report.score} · ${time(report.taken_at)}`),
      gaps.length ? h('div', {}, h('h3', { text: t('visibility_gaps') }), h('ul', {}, gaps.map((gap) => h('li', { text: visible(gap) })))) : null,
      scroll(table({
        label: t('judged_processes'),
        columns: [
          { label: 'PID', render: (p) => String(p.pid) },
          { label: t('score'), render: (p) => String(p.score) },
          { label: t('severity'), render: (p) => severity(p.severity) },
          { label: t('executable'), className: 'wrap', render: (p) => visible(p.process.executable || p.process.name) },
          { label: t('args'), className: 'wrap', render: (p) => visible((p.process.args || []).join(' ')) },
          { label: t('findings'), className: 'wrap', render: (p) => visible(p.findings) },
        ],
        rows: report.processes,
        empty: t('nothing'),
      }))));
  }

  root.append(h('section', { class: 'panel' }, h('h2', { text: t('packet_sockets') }),
    scroll(table({
      label: t('packet_sockets'),
      columns: [
        { label: t('source'), render: (s) => t(`socket_source_${s.source.replace(' ', '_')}`) },
        { label: t('seen'), className: 'nowrap', render: (s) => time(s.seen) },
        { label: t('socket'), className: 'wrap', render: (s) => visible([s.kind, s.interface, s.protocol].filter(Boolean).join(' ')) },
        { label: 'inode', render: (s) => visible(s.inode) },
        { label: t('holder'), className: 'wrap', render: (s) => visible(s.holders.map((p) => `${p.pid || ''} ${p.executable || p.name || ''}`).join(', ')) },
        { label: t('filter'), className: 'wrap', render: (s) => socketRow(s) },
      ],
      rows: data.sockets,
      empty: t('no_sockets'),
    }))));

  root.append(h('section', { class: 'panel' }, h('h2', { text: t('sweep_findings') }),
    scroll(table({
      label: t('sweep_findings'),
      columns: [
        { label: t('severity'), render: (a) => severity(a.severity) },
        { label: t('finding'), className: 'wrap', render: (a) => visible(a.message || a.rule.name) },
        { label: t('process'), className: 'wrap', render: (a) => visible(a.process.executable || a.process.name || '') },
        { label: t('time'), className: 'nowrap', render: (a) => time(a['@timestamp']) },
      ],
      rows: data.findings,
      empty: t('no_findings'),
      onOpen: (a, line) => openEvent(a.ref, { opener: line, onFilter: (term) => app.navigate('timeline', { q: term, host: name }) }),
    }))));

  root.append(h('div', { class: 'row' },
    h('section', { class: 'panel grow' }, h('h2', { text: t('uncommon_processes') }),
      h('p', { class: 'note', text: t('uncommon_note') }),
      scroll(table({
        label: t('uncommon_processes'),
        columns: [
          { label: t('executable'), className: 'wrap', render: (p) => visible(p.executable) },
          { label: t('hosts'), render: (p) => number(p.hosts) },
          { label: t('starts'), render: (p) => number(p.count) },
          { label: t('last_seen'), className: 'nowrap', render: (p) => time(p.last) },
        ],
        rows: data.uncommon_processes,
        onOpen: (p) => p.entity_id && app.navigate('analyzer', { entity: p.entity_id, host: name }),
      }))),
    h('section', { class: 'panel grow' }, h('h2', { text: t('processes') }),
      scroll(table({
        label: t('processes'),
        columns: [
          { label: t('executable'), className: 'wrap', render: (p) => visible(p.executable) },
          { label: t('starts'), render: (p) => number(p.count) },
          { label: t('last_seen'), className: 'nowrap', render: (p) => time(p.last) },
        ],
        rows: data.processes,
        onOpen: (p) => app.navigate('timeline', { host: name, q: `process.executable:${p.executable}` }),
      })))));

  root.append(h('section', { class: 'panel' }, h('h2', { text: t('recent_events') }),
    rangePicker(params.get('since'), params.get('until'), (since, until) => app.navigate(`hosts/${enc(name)}`, { since, until })),
    h('p', { class: 'muted', text: Object.entries(data.categories).map(([c, n]) => `${c} ${number(n)}`).join(' · ') }),
    scroll(table({
      label: t('recent_events'),
      columns: [
        { label: t('time'), className: 'nowrap', render: (r) => time(r.fields['@timestamp']) },
        { label: t('action'), render: (r) => visible(r.fields['event.action']) },
        { label: t('process'), render: (r) => visible(r.fields['process.name']) },
        { label: t('detail'), className: 'wrap', render: (r) => visible(r.summary) },
      ],
      rows: data.recent,
      onOpen: (r, line) => openEvent(r.ref, { opener: line, onFilter: (term) => app.navigate('timeline', { q: term, host: name }) }),
    }))));
}

export async function render(root, route, app) {
  if (route.parts.length > 1 && route.parts[1]) return page(root, route.parts.slice(1).join('/'), route, app);
  return list(root, app);
}
