// Overview: each host's latest sweep verdict, open alerts by severity and rule, event volume.
import { get } from '../api.js';
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { number, severity, verdict, time } from '../format.js';
import { table, scroll } from '../components/table.js';
import { histogram, legend } from '../components/histogram.js';

export async function render(root, route, app) {
  const data = await get('/api/overview');
  root.append(h('h1', { text: t('page_overview') }));
  const verdicts = data.verdicts;
  root.append(h('div', { class: 'cards' },
    h('div', { class: 'card' }, h('div', { class: 'muted', text: t('hosts') }), h('div', { class: 'big', text: number(data.hosts) })),
    h('div', { class: 'card' }, h('div', { class: 'muted', text: t('compromised_hosts') }), h('div', { class: 'big', text: number(verdicts.compromised) }),
      h('div', { class: 'muted', text: t('suspicious_count', { count: number(verdicts.suspicious) }) })),
    h('div', { class: 'card' }, h('div', { class: 'muted', text: t('open_alerts') }), h('div', { class: 'big', text: number(data.open_alerts) })),
    h('div', { class: 'card' }, h('div', { class: 'muted', text: t('events_stored') }), h('div', { class: 'big', text: number(data.store.events) }),
      h('div', { class: 'muted', text: `${time(data.store.first)} – ${time(data.store.last)}` }))));

  const bySeverity = ['critical', 'high', 'medium', 'low'];
  const most = Math.max(1, ...bySeverity.map((s) => data.open_by_severity[s] || 0));
  root.append(h('div', { class: 'row' },
    h('section', { class: 'panel grow', 'aria-labelledby': 'verdicts-title' },
      h('h2', { id: 'verdicts-title', text: t('latest_sweeps') }),
      scroll(table({
        label: t('latest_sweeps'),
        columns: [
          { label: t('host'), render: (s) => s.host },
          { label: t('verdict'), render: (s) => verdict(s.verdict) },
          { label: t('score'), render: (s) => (s.score === null ? '' : String(s.score)) },
          { label: t('findings'), render: (s) => (s.findings === null ? '' : number(s.findings)) },
          { label: t('swept_at'), className: 'nowrap', render: (s) => time(s['@timestamp']) },
        ],
        rows: data.sweeps,
        empty: t('no_sweeps'),
        onOpen: (s) => app.navigate(`hosts/${encodeURIComponent(s.host)}`),
      })),
      data.unswept.length ? h('p', { class: 'note', text: t('unswept', { hosts: data.unswept.slice(0, 20).join(', ') }) }) : null),
    h('section', { class: 'panel grow', 'aria-labelledby': 'open-title' },
      h('h2', { id: 'open-title', text: t('open_alerts_by_severity') }),
      h('div', { class: 'bars' }, bySeverity.map((s) => [
        severity(s),
        h('meter', { class: `meter-${s}`, min: '0', max: String(most), value: String(data.open_by_severity[s] || 0), 'aria-label': t(`severity_${s}`) }),
        h('a', { href: `#/alerts?status=open&severity=${s}`, text: number(data.open_by_severity[s] || 0) }),
      ])),
      h('h2', { text: t('open_alerts_by_rule') }),
      scroll(table({
        label: t('open_alerts_by_rule'),
        columns: [
          { label: t('rule'), className: 'wrap', render: (g) => g.label },
          { label: t('severity'), render: (g) => severity(g.severity) },
          { label: t('alerts'), render: (g) => number(g.count) },
          { label: t('hosts'), render: (g) => number(g.spread) },
        ],
        rows: data.open_by_rule,
        empty: t('no_open_alerts'),
        onOpen: (g) => app.navigate('alerts', { status: 'open', rule: g.key }),
      })))));
  root.append(h('section', { class: 'panel' },
    h('h2', { text: t('event_volume') }),
    histogram(data.volume.buckets, data.volume.bucket_seconds, {
      label: t('event_volume'),
      onSelect: (since, until) => app.navigate('timeline', { since, until }),
    }),
    legend()));
}
