// How values read on screen: times in UTC (analysts compare logs from many hosts), counts in
// the reader's language, severities and verdicts as coloured words.
import { h } from './dom.js';
import { has, lang, t } from './i18n.js';

export function time(iso) {
  if (!iso) return '';
  const text = String(iso);
  const match = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(\.\d{1,3})?/.exec(text);
  return match ? `${match[1]} ${match[2]}${match[3] || ''}` : text;
}

export function number(value) {
  if (value === null || value === undefined) return '';
  return Number(value).toLocaleString(lang() === 'ko' ? 'ko-KR' : 'en-US');
}

export function severity(word) {
  if (!word) return '';
  const known = ['low', 'medium', 'high', 'critical'].includes(word) ? word : 'low';
  return h('span', { class: `sev sev-${known}`, text: t(`severity_${known}`) });
}

export function verdict(word) {
  if (!word) return h('span', { class: 'muted', text: t('verdict_none') });
  const known = ['clean', 'suspicious', 'compromised', 'degraded'].includes(word) ? word : 'unknown';
  return h('span', { class: `verdict verdict-${known}`, text: t(`verdict_${known}`) });
}

export function status(word) {
  const known = ['open', 'acknowledged', 'closed'].includes(word) ? word : 'open';
  return h('span', { class: `status status-${known}`, text: t(`status_${known}`) });
}

export function category(word) {
  const known = ['process', 'file', 'network', 'host'].includes(word) ? word : 'other';
  return known;
}

// The time of an event reference (microseconds since the epoch, before the dash).
export function refTime(ref) {
  const micros = /^(-?\d+)-/.exec(ref || '');
  return micros ? new Date(Number(micros[1]) / 1000) : null;
}

export function isoAround(iso, seconds) {
  const base = new Date(iso).getTime();
  return [new Date(base - seconds * 1000).toISOString(), new Date(base + seconds * 1000).toISOString()];
}

// An event.category in the reader's language, or as recorded when the catalog lacks it.
export function categoryLabel(name) {
  return has(`category_${name}`) ? t(`category_${name}`) : String(name);
}
