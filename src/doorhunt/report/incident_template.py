"""The incident report's HTML template and style sheet (Jinja2; rendered by incident_html.py).

Kept in Python so the package needs no data files. Rules for editing: never mark a value
`|safe`; print host-derived text with `{{ }}` (autoescaped, and `finalize` escapes invisible
characters) or through `clip`/`multiline`; build class names only with `safe_class`; no
`<script>`, no event-handler attributes, no external URLs (the CSP refuses them anyway).
"""

# ruff: noqa: E501 - the template's lines are markup, kept whole where a break would add a space
from __future__ import annotations

from typing import Final

STYLE: Final = """
:root {
  --critical: #9b1c1c; --high: #d9480f; --medium: #f2c94c; --low: #cfd8dc;
  --clean: #2f7d4f; --ink: #1a1a1a; --muted: #5f6b73; --line: #c9d1d9; --shade: #f3f5f7;
}
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body {
  font-family: "Noto Sans CJK KR", "Noto Sans KR", "Malgun Gothic", "Apple SD Gothic Neo",
    "NanumGothic", "DejaVu Sans", Arial, sans-serif;
  color: var(--ink); margin: 0 auto; max-width: 1120px; padding: 28px;
  font-size: 10.5pt; line-height: 1.45; overflow-wrap: anywhere;
}
:lang(ko) body, body:lang(ko) { word-break: keep-all; }
code, pre, .mono {
  font-family: "DejaVu Sans Mono", Menlo, Consolas, "Noto Sans Mono CJK KR", monospace;
  font-size: 8.8pt;
}
pre { white-space: pre-wrap; overflow-wrap: anywhere; background: var(--shade);
  padding: 6px 8px; margin: 4px 0; border-left: 3px solid var(--line); }
h1 { font-size: 21pt; margin: 0 0 4px; }
h2 { font-size: 15pt; border-bottom: 2px solid var(--ink); padding-bottom: 3px; margin-top: 28px; }
h3 { font-size: 12pt; margin: 18px 0 6px; }
h4 { font-size: 10.5pt; margin: 10px 0 4px; }
p { margin: 4px 0 8px; }
.kicker { color: var(--muted); letter-spacing: 0.08em; text-transform: uppercase; margin: 0; }
.subtitle { color: var(--muted); margin: 0 0 14px; }
.muted { color: var(--muted); }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; }
th, td { border: 1px solid var(--line); padding: 3px 6px; vertical-align: top; text-align: left; }
th { background: var(--shade); font-weight: 600; white-space: nowrap; }
thead { display: table-header-group; }
tr { break-inside: avoid; page-break-inside: avoid; }
table.facts { width: auto; }
table.facts th { width: 11em; }
td.num, th.num { text-align: right; white-space: nowrap; }
td.nowrap { white-space: nowrap; }
.badge { display: inline-block; padding: 1px 6px; border-radius: 3px; font-weight: 700;
  font-size: 8.5pt; white-space: nowrap; border: 1px solid rgba(0,0,0,0.25); }
.sev-critical { background: var(--critical); color: #fff; }
.sev-high { background: var(--high); color: #fff; }
.sev-medium { background: var(--medium); color: #1a1a1a; }
.sev-low { background: var(--low); color: #1a1a1a; }
.sev-unknown { background: #fff; color: #1a1a1a; }
.verdict { padding: 10px 14px; border-radius: 4px; font-size: 15pt; font-weight: 700;
  margin: 14px 0 6px; border: 1px solid rgba(0,0,0,0.2); }
.verdict-compromised { background: var(--critical); color: #fff; }
.verdict-suspicious { background: var(--medium); color: #1a1a1a; }
.verdict-clean { background: var(--clean); color: #fff; }
.verdict-degraded { background: #d8efe1; color: #1a1a1a; }
.verdict-unknown { background: var(--shade); color: #1a1a1a; }
.empty { border: 2px dashed var(--line); padding: 12px 14px; font-size: 12pt; }
.group, .host-sweep, .filter, figure.tree { border: 1px solid var(--line); border-radius: 4px;
  padding: 8px 12px; margin: 12px 0; }
.group > h3, .host-sweep > h3, .filter > h3 { margin-top: 2px; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 6px 0; }
dl.meta dt { font-weight: 600; color: var(--muted); }
dl.meta dd { margin: 0; }
dl.evidence { display: grid; grid-template-columns: max-content 1fr; gap: 0 10px; margin: 4px 0;
  font-size: 8.8pt; }
dl.evidence dt { color: var(--muted); }
dl.evidence dd { margin: 0; font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; }
figure.tree { margin: 12px 0; }
figure.tree svg { display: block; max-width: 100%; height: auto; }
figure.tree figcaption { font-weight: 600; margin-bottom: 6px; }
tr.kind-alert td { background: #fff4f0; }
tr.kind-sweep td { background: #f3f7ff; }
nav.toc ol { margin: 4px 0; padding-left: 22px; }
nav.toc a, a.ref { color: inherit; }
ul.notes li { margin: 2px 0; }
footer { margin-top: 30px; color: var(--muted); font-size: 8.5pt; border-top: 1px solid var(--line);
  padding-top: 6px; }
@page { size: A4; margin: 14mm 12mm 16mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 9.3pt; }
  section.chapter { break-before: page; page-break-before: always; }
  h2, h3, h4 { break-after: avoid; page-break-after: avoid; }
  figure.tree { break-inside: avoid; page-break-inside: avoid; }
  figure.tree svg { max-height: 235mm; }
  .filter, .host-sweep { break-inside: auto; }
  a { text-decoration: none; }
}
"""

TEMPLATE: Final = """\
<!DOCTYPE html>
<html lang="{{ 'ko' if report.language == 'ko' else 'en' }}">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{{ csp }}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="doorhunt {{ report.version }}">
<title>{{ t('title') }} · {{ clip(report.scope.hosts | join(', '), 120) }}</title>
<style>{{ style }}</style>
</head>
<body>
<header class="cover">
<p class="kicker">doorhunt</p>
<h1>{{ t('title') }}</h1>
<p class="subtitle">{{ t('subtitle') }}</p>
<table class="facts">
<tr><th>{{ t('generated') }}</th><td>{{ when(report.generated_at) }}</td></tr>
<tr><th>{{ t('hosts_in_scope') }}</th><td>
{% if report.scope.host is not none %}{{ t('host_filter', host=report.scope.host) }}
{% elif report.scope.hosts %}{{ clip(report.scope.hosts | join(', '), 2000) }}
{% else %}{{ t('all_hosts') }}{% endif %}
</td></tr>
<tr><th>{{ t('window') }}</th><td>
{% if report.scope.since and report.scope.until %}{{ t('window_between', since=when(report.scope.since), until=when(report.scope.until)) }}
{% elif report.scope.since %}{{ t('window_since', since=when(report.scope.since)) }}
{% elif report.scope.until %}{{ t('window_until', until=when(report.scope.until)) }}
{% else %}{{ t('window_all') }}{% endif %}
</td></tr>
<tr><th>{{ t('data_directory') }}</th><td class="mono">{{ report.scope.data_directory }}</td></tr>
<tr><th>{{ t('tool') }}</th><td>doorhunt {{ report.version }}</td></tr>
</table>
<p class="muted">{{ t('time_zone', zone=zone) }}</p>
{% if report.verdict %}
<div class="verdict verdict-{{ safe_class(report.verdict) }}">{{ t('verdict_headline', verdict=report.verdict_text) }}</div>
{% else %}
<div class="verdict verdict-unknown">{{ t('no_sweep') }}</div>
<p class="muted">{{ t('no_sweep_hint') }}</p>
{% endif %}
<nav class="toc">
<h4>{{ t('contents') }}</h4>
<ol>
<li><a href="#summary">{{ t('s_summary') }}</a></li>
<li><a href="#sweeps">{{ t('s_sweeps') }}</a></li>
<li><a href="#alerts">{{ t('s_alerts') }}</a></li>
<li><a href="#trees">{{ t('s_trees') }}</a></li>
<li><a href="#timeline">{{ t('s_timeline') }}</a></li>
<li><a href="#evidence">{{ t('s_evidence') }}</a></li>
<li><a href="#notes">{{ t('s_notes') }}</a></li>
</ol>
</nav>
</header>

<section id="summary">
<h2>1. {{ t('s_summary') }}</h2>
{% if report.empty %}
<p class="empty">{{ t('empty') }}</p>
{% endif %}
<p>{{ t('counts', hosts=report.hosts | length, events=report.events, alerts=report.alerts) }}</p>
{% if report.hosts %}
<table>
<thead><tr><th>{{ t('column_host') }}</th>
<th>{{ t('column_verdict') }}</th>
<th class="num">{{ t('column_events') }}</th>
<th class="num">{{ t('column_alerts') }}</th>
<th>{{ t('column_first') }}</th>
<th>{{ t('column_last') }}</th></tr></thead>
<tbody>
{% for host in report.hosts %}
<tr><td>{{ clip(host.name, 200) }}</td>
<td>{% if host.verdict %}<span class="badge verdict-{{ safe_class(host.verdict) }}">{{ host.verdict_text }}</span>{% else %}<span class="muted">{{ t('no_sweep') }}</span>{% endif %}</td>
<td class="num">{{ host.events }}</td><td class="num">{{ host.alerts }}</td>
<td class="nowrap">{{ when(host.first) }}</td><td class="nowrap">{{ when(host.last) }}</td></tr>
{% endfor %}
</tbody>
</table>
{% endif %}
{% if report.alerts_by_severity %}
<h4>{{ t('alerts_by_severity') }}</h4>
<p>{% for severity, count in report.alerts_by_severity.items() %}<span class="badge sev-{{ safe_class(severity) }}">{{ severity_label(severity) }} {{ count }}</span> {% endfor %}</p>
{% endif %}
{% if report.alert_groups %}
<h4>{{ t('top_rules') }}</h4>
<table>
<thead><tr><th>{{ t('column_severity') }}</th>
<th>{{ t('column_rule') }}</th>
<th class="num">{{ t('column_count') }}</th>
<th>{{ t('column_host') }}</th></tr></thead>
<tbody>
{% for group in report.alert_groups %}
<tr><td><span class="badge sev-{{ safe_class(group.severity) }}">{{ severity_label(group.severity) }}</span></td>
<td><a class="ref" href="#rule-{{ loop.index }}">{{ clip(group.title, 300) }}</a></td>
<td class="num">{{ group.count }}</td><td>{{ clip(group.hosts | join(', '), 300) }}</td></tr>
{% endfor %}
</tbody>
</table>
{% endif %}
</section>

<section id="sweeps" class="chapter">
<h2>2. {{ t('s_sweeps') }}</h2>
{% if not report.sweeps %}
<p>{{ t('no_sweep') }}. {{ t('no_sweep_hint') }}</p>
{% endif %}
{% if report.sweeps and report.language == 'ko' %}<p class="muted">{{ t('findings_language') }}</p>{% endif %}
{% for sweep in report.sweeps %}
<div class="host-sweep">
<h3>{{ clip(sweep.host, 200) }} <span class="badge verdict-{{ safe_class(sweep.verdict) }}">{{ sweep.verdict_text }}</span> <span class="muted">{{ t('filter_score', score=sweep.score) }}</span></h3>
<p class="muted">{{ t('taken_at', time=when(sweep.taken_at)) }} ·
{% if sweep.source == 'store' %}{{ t('sweep_source_store') }}{% else %}{{ t('sweep_source_file', path=sweep.source) }}{% endif %}</p>
{% if sweep.processes is not none and sweep.packet_sockets is not none %}
<p>{{ t('sweep_counts', processes=sweep.processes, sockets=sweep.packet_sockets) }}</p>
{% endif %}
{% if sweep.gaps %}
<p><strong>{{ t('visibility_gaps') }}</strong></p>
<ul>{% for gap in sweep.gaps %}<li>{{ clip(gap) }}</li>{% endfor %}</ul>
{% else %}
<p>{{ t('visibility_complete') }}</p>
{% endif %}
{% if sweep.notes %}
<p class="muted">{{ t('sweep_notes') }}</p>
<ul class="muted">{% for note in sweep.notes %}<li>{{ clip(note) }}</li>{% endfor %}</ul>
{% endif %}
{% if sweep.findings %}
<table>
<thead><tr><th>{{ t('column_severity') }}</th>
<th>{{ t('column_check') }}</th>
<th>{{ t('column_finding') }}</th>
<th>{{ t('column_process') }}</th></tr></thead>
<tbody>
{% for finding in sweep.findings %}
<tr>
<td><span class="badge sev-{{ safe_class(finding.severity) }}">{{ severity_label(finding.severity) }} {{ finding.score }}</span></td>
<td>{{ finding.check_name }}<br><span class="muted mono">{{ clip(finding.check, 60) }}</span>
{% if finding.techniques %}<br><span class="muted">{% for technique in finding.techniques %}{{ clip(technique.id, 20) }} {{ clip(technique.name, 120) }}{% if not loop.last %}; {% endif %}{% endfor %}</span>{% endif %}</td>
<td>{{ clip(finding.title) }}
{% if finding.detail %}<br><span class="muted">{{ clip(finding.detail) }}</span>{% endif %}
{% set items = evidence_items(finding.evidence) %}
{% if items %}<dl class="evidence">{% for key, value in items %}<dt>{{ key }}</dt><dd>{{ value }}</dd>{% endfor %}</dl>{% endif %}
{% if finding.filter_key %}<p>{{ t('filter_link') }} <a class="ref" href="#{{ finding.filter_key }}">{{ finding.filter_key }}</a></p>{% endif %}
</td>
<td>{% if finding.process %}<span class="mono">{{ t('pid', pid=finding.process.pid) }}</span> {{ clip(finding.process.name, 100) }}
{% if finding.process.executable %}<br><span class="mono">{{ clip(finding.process.executable, 300) }}</span>{% endif %}
{% if finding.process.command_line %}<br><span class="mono muted">{{ clip(finding.process.command_line, 300) }}</span>{% endif %}
{% if finding.process.user %}<br><span class="muted">{{ clip(finding.process.user, 60) }}</span>{% endif %}{% endif %}</td>
</tr>
{% endfor %}
</tbody>
</table>
{% else %}
<p>{{ t('no_findings') }}</p>
{% endif %}
</div>
{% endfor %}
</section>

<section id="alerts" class="chapter">
<h2>3. {{ t('s_alerts') }}</h2>
{% if not report.alert_groups %}<p>{{ t('no_alerts') }}</p>{% endif %}
{% for group in report.alert_groups %}
<article class="group" id="rule-{{ loop.index }}">
<h3><span class="badge sev-{{ safe_class(group.severity) }}">{{ severity_label(group.severity) }}</span> {{ clip(group.title, 300) }}</h3>
<dl class="meta">
<dt>{{ t('column_count') }}</dt><dd>{{ t('alert_count', count=group.count, hosts=clip(group.hosts | join(', '), 300)) }}</dd>
<dt>{{ t('column_time') }}</dt><dd>{{ t('seen', first=when(group.first), last=when(group.last)) }}</dd>
{% if group.tactics %}<dt>{{ t('tactics') }}</dt><dd>{% for tactic in group.tactics %}{{ clip(tactic.id, 20) }} {{ clip(tactic.name, 120) }}{% if not loop.last %}; {% endif %}{% endfor %}</dd>{% endif %}
{% if group.techniques %}<dt>{{ t('techniques') }}</dt><dd>{% for technique in group.techniques %}{{ clip(technique.id, 20) }} {{ clip(technique.name, 120) }}{% if not loop.last %}; {% endif %}{% endfor %}</dd>{% endif %}
<dt>{{ t('column_rule') }}</dt><dd class="mono">{{ clip(group.rule_id, 200) }}{% if group.name != group.title %} · {{ clip(group.name, 300) }}{% endif %}</dd>
</dl>
{% if group.description %}<h4>{{ t('description') }}</h4><p>{{ multiline(group.description) }}</p>{% endif %}
<h4>{{ t('triage') }}</h4>
{% if group.triage %}<pre>{{ multiline(group.triage) }}</pre>{% else %}<p class="muted">{{ t('no_triage') }}</p>{% endif %}
{% if group.references %}<h4>{{ t('references') }}</h4><ul>{% for reference in group.references %}<li class="mono">{{ clip(reference, 300) }}</li>{% endfor %}</ul>{% endif %}
<p class="muted">{{ t('alerts_shown', shown=group.alerts | length, count=group.count) }}</p>
<table>
<thead><tr><th>{{ t('column_time') }}</th>
<th>{{ t('column_host') }}</th>
<th>{{ t('column_process') }}</th>
<th>{{ t('column_target') }}</th>
<th>{{ t('column_status') }}</th></tr></thead>
<tbody>
{% for alert in group.alerts %}
<tr><td class="nowrap">{{ when(alert.time) }}</td><td>{{ clip(alert.host, 200) }}</td>
<td>{% if alert.process %}<span class="mono">{{ t('pid', pid=alert.process.pid) }}</span> {{ clip(alert.process.name, 100) }}
{% if alert.process.executable %}<br><span class="mono">{{ clip(alert.process.executable, 300) }}</span>{% endif %}
{% if alert.process.command_line %}<br><span class="mono muted">{{ clip(alert.process.command_line, 300) }}</span>{% endif %}{% endif %}</td>
<td class="mono">{{ clip(alert.file_path, 300) }}{% if alert.file_path and alert.destination %}<br>{% endif %}{{ clip(alert.destination, 100) }}</td>
<td>{{ clip(alert.status, 40) }}{% for response in alert.response %}<br><span class="muted">{{ clip(response, 200) }}</span>{% endfor %}</td></tr>
{% endfor %}
</tbody>
</table>
</article>
{% endfor %}
</section>

<section id="trees" class="chapter">
<h2>4. {{ t('s_trees') }}</h2>
{% if not report.trees %}<p>{{ t('no_trees') }}</p>{% else %}<p>{{ t('trees_intro') }}</p>{% endif %}
{% for tree in report.trees %}
<figure class="tree">
<figcaption>{{ loop.index }}. {{ clip(tree.title, 300) }}</figcaption>
{{ tree_svg(tree) }}
<p class="muted">{{ t('tree_counts', drawn=tree.rows | length, total=tree.total) }}{% if tree.truncated %} {{ t('tree_truncated') }}{% endif %}</p>
<table>
<thead><tr><th>PID</th>
<th>PPID</th>
<th>{{ t('column_name') }}</th>
<th>{{ t('column_executable') }} / {{ t('column_command') }}</th>
<th>{{ t('column_user') }}</th>
<th>{{ t('column_start') }}</th>
<th>{{ t('column_alerts') }}</th>
<th>{{ t('column_events') }}</th></tr></thead>
<tbody>
{% for row in tree.rows %}
<tr><td class="num">{% if row.focus %}<strong>{{ row.process.pid }}</strong>{% else %}{{ row.process.pid }}{% endif %}</td><td class="num">{{ row.parent_pid }}</td>
<td>{{ clip(row.process.name, 100) }}</td>
<td class="mono">{{ clip(row.process.executable, 300) }}{% if row.process.command_line %}<br><span class="muted">{{ clip(row.process.command_line, 400) }}</span>{% endif %}</td>
<td>{{ clip(row.process.user, 60) }}</td><td class="nowrap">{{ when(row.process.start) }}{% if row.process.end %}<br><span class="muted">{{ when(row.process.end) }}</span>{% endif %}</td>
<td>{% if row.process.alerts %}<span class="badge sev-{{ safe_class(row.process.severity) }}">{{ row.process.alerts }}</span>{% endif %}</td>
<td class="muted">{% for category, count in row.process.events.items() %}{{ clip(category, 40) }} {{ count }}{% if not loop.last %}, {% endif %}{% endfor %}</td></tr>
{% endfor %}
</tbody>
</table>
</figure>
{% endfor %}
</section>

<section id="timeline" class="chapter">
<h2>5. {{ t('s_timeline') }}</h2>
<p>{{ t('timeline_intro') }}</p>
{% if not report.timeline %}<p>{{ t('no_timeline') }}</p>{% else %}
<table>
<thead><tr><th>{{ t('column_time') }}</th>
<th>{{ t('column_host') }}</th>
<th>{{ t('column_kind') }}</th>
<th>{{ t('column_action') }}</th>
<th>{{ t('column_process') }}</th>
<th>{{ t('column_detail') }}</th></tr></thead>
<tbody>
{% for entry in report.timeline %}
<tr class="kind-{{ safe_class(entry.kind) }}"><td class="nowrap">{{ when(entry.time) }}</td><td class="nowrap">{{ clip(entry.host, 100) }}</td>
{% set kind = kind_label(entry.kind) %}
<td>{% if entry.severity %}<span class="badge sev-{{ safe_class(entry.severity) }}">{{ kind }}</span>{% else %}{{ kind }}{% endif %}</td>
<td class="mono nowrap">{{ clip(entry.action, 60) }}</td>
<td>{% if entry.process %}<span class="mono">{{ entry.process.pid }}</span> {{ clip(entry.process.name, 60) }}{% endif %}</td>
<td class="mono">{{ clip(entry.detail, 400) }}</td></tr>
{% endfor %}
</tbody>
</table>
{% endif %}
{% if report.timeline_omitted %}<p class="muted">{{ t('timeline_omitted', count=report.timeline_omitted) }}</p>{% endif %}
</section>

<section id="evidence" class="chapter">
<h2>6. {{ t('s_evidence') }}</h2>
<h3>6.1 {{ t('s_filters') }}</h3>
{% if not report.filters %}<p>{{ t('no_filters') }}</p>{% endif %}
{% for sockfilter in report.filters %}
<div class="filter" id="{{ sockfilter.key }}">
{% if sockfilter.error %}
<h3>{{ t('filter_unreadable') }} <span class="muted mono">{{ sockfilter.key }}</span></h3>
<p>{{ clip(sockfilter.error) }}</p>
{% else %}
<h3>{% if sockfilter.suspicious %}<span class="badge sev-critical">{{ t('suspicious') }}</span>{% else %}<span class="badge sev-low">{{ t('not_suspicious') }}</span>{% endif %}
{{ t('filter_heading', filter_class=sockfilter.filter_class, instructions=sockfilter.instructions, link=sockfilter.link) }}
<span class="muted">{{ t('filter_score', score=sockfilter.score) }} · <span class="mono">{{ sockfilter.key }}</span></span></h3>
{% endif %}
<dl class="meta">
{% if not sockfilter.error %}
<dt>{{ t('accepts') }}</dt><dd>{{ clip(sockfilter.summary, 2000) }}</dd>
{% if sockfilter.reasons %}<dt>{{ t('reasons') }}</dt><dd><ul>{% for reason in sockfilter.reasons %}<li>{{ clip(reason) }}</li>{% endfor %}</ul></dd>{% endif %}
{% if sockfilter.magic %}<dt>{{ t('magic') }}</dt><dd><ul>{% for magic in sockfilter.magic %}<li class="mono">{{ t('magic_row', protocol=magic.protocol, start=magic.offset, end=magic.offset + magic.size - 1, value=magic.hex) }}{% for note in magic.known %}<br><span class="muted">{{ clip(note) }}</span>{% endfor %}</li>{% endfor %}</ul></dd>{% endif %}
{% endif %}
<dt>{{ t('seen_in') }}</dt><dd>{{ clip(sockfilter.seen | join('; '), 1500) }}</dd>
</dl>
{% if sockfilter.disassembly %}<h4>{{ t('disassembly') }}</h4><pre>{{ multiline(sockfilter.disassembly) }}</pre>{% endif %}
<h4>{{ t('bytecode') }}</h4>
<pre>{{ clip(sockfilter.bytecode, 70000) }}</pre>
</div>
{% endfor %}
<h3>6.2 {{ t('s_files') }}</h3>
<p>{{ t('files_intro') }}</p>
{% if not report.files %}<p>{{ t('no_files') }}</p>{% else %}
<table>
<thead><tr><th>{{ t('column_path') }}</th>
<th>{{ t('column_host') }}</th>
<th>{{ t('column_source') }}</th>
<th>SHA-256</th>
<th class="num">{{ t('column_size') }}</th>
<th>{{ t('column_mode') }}</th>
<th>{{ t('column_owner') }}</th>
<th>{{ t('column_modified') }}</th>
<th>{{ t('column_note') }}</th></tr></thead>
<tbody>
{% for file in report.files %}
<tr><td class="mono">{{ clip(file.path, 400) }}</td><td>{{ clip(file.host, 100) }}</td>
<td>{{ source_label(file.source) }}</td>
<td class="mono">{{ clip(file.sha256, 80) }}</td><td class="num">{{ file.size }}</td><td class="mono">{{ clip(file.mode, 12) }}</td>
<td class="num">{{ file.uid }}</td><td class="nowrap">{{ when(file.modified) }}</td><td>{{ clip(file.note, 300) }}</td></tr>
{% endfor %}
</tbody>
</table>
{% endif %}
</section>

<section id="notes" class="chapter">
<h2>7. {{ t('s_notes') }}</h2>
{% if report.notes %}
<ul class="notes">{% for note in report.notes %}<li>{{ clip(note, 2000) }}</li>{% endfor %}</ul>
{% else %}
<p>{{ t('no_notes') }}</p>
{% endif %}
<p class="muted">{{ t('method', version=report.version, path=report.scope.data_directory) }}</p>
</section>
<footer>{{ t('footer', version=report.version, generated=when(report.generated_at)) }}</footer>
</body>
</html>
"""

__all__ = ["STYLE", "TEMPLATE"]
