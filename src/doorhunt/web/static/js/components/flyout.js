// The event detail flyout: every field of the stored document, each with filter in / filter
// out / copy; pinning; notes; links to the correlation view and the analyzer.
import { get, send, enc } from '../api.js';
import { h, clear, visible } from '../dom.js';
import { t } from '../i18n.js';
import { time } from '../format.js';

let returnFocus = null;
let current = null;

export function isOpen() {
  return !document.getElementById('flyout').hidden;
}

export function closeFlyout() {
  const flyout = document.getElementById('flyout');
  flyout.hidden = true;
  clear(flyout);
  current = null;
  if (returnFocus && document.contains(returnFocus)) returnFocus.focus();
  returnFocus = null;
}

// A term of the simple query language for field = value (quoted when it holds spaces).
export function term(field, value, negate) {
  const text = String(value);
  const escaped = /[\s"\\]/.test(text) || text === '' ? `"${field}:${text.replace(/["\\]/g, (c) => `\\${c}`)}"` : `${field}:${text}`;
  return (negate ? '-' : '') + escaped;
}

async function copy(text, button) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // Not a secure context (plain http on another address): copy through a selection.
    const area = h('textarea', { 'aria-hidden': 'true', class: 'skip' });
    area.value = text;
    document.body.append(area);
    area.select();
    document.execCommand('copy');
    area.remove();
  }
  button.textContent = t('copied');
  setTimeout(() => { button.textContent = t('copy'); }, 1200);
}

export async function openEvent(ref, { onFilter, onCorrelate, onPinned, opener } = {}) {
  const flyout = document.getElementById('flyout');
  returnFocus = opener || document.activeElement;
  current = ref;
  clear(flyout);
  flyout.hidden = false;
  flyout.append(h('p', { class: 'muted', text: t('loading') }));
  let event;
  try {
    event = await get(`/api/events/${enc(ref)}`);
  } catch (error) {
    clear(flyout);
    flyout.append(h('p', { class: 'error-text', text: error.message }));
    return;
  }
  if (current !== ref) return;
  clear(flyout);
  const title = h('h2', { id: 'flyout-title', tabIndex: -1, text: visible(event.summary) || t('event') });
  const pin = h('button', {
    type: 'button',
    'aria-pressed': event.pinned ? 'true' : 'false',
    text: event.pinned ? t('unpin') : t('pin'),
    on: {
      click: async () => {
        const pinned = pin.getAttribute('aria-pressed') === 'true';
        const host = event.fields['host.name'];
        if (pinned) await send('DELETE', `/api/pins/${enc(ref)}`);
        else await send('PUT', `/api/pins/${enc(ref)}`, undefined, { host: typeof host === 'string' ? host : '' });
        pin.setAttribute('aria-pressed', pinned ? 'false' : 'true');
        pin.textContent = pinned ? t('pin') : t('unpin');
        if (onPinned) onPinned(ref, !pinned);
      },
    },
  });
  const close = h('button', { type: 'button', class: 'ghost', 'aria-label': t('close'), text: '✕', on: { click: closeFlyout } });
  flyout.append(h('header', {}, title, pin, close));
  flyout.append(h('p', { class: 'muted mono', text: `${time(event['@timestamp'])} UTC · ${ref}` }));
  const links = h('div', { class: 'toolbar' });
  if (onCorrelate) links.append(h('button', { type: 'button', text: t('correlate'), on: { click: () => onCorrelate(ref, event) } }));
  const entity = event.fields['process.entity_id'];
  if (typeof entity === 'string') {
    const host = event.fields['host.name'];
    const params = new URLSearchParams({ entity, at: event['@timestamp'] });
    if (typeof host === 'string') params.set('host', host);
    links.append(h('a', { href: `#/analyzer?${params}`, text: t('open_analyzer') }));
  }
  flyout.append(links);

  // Notes on this event.
  const notes = h('ul', {}, event.notes.map((note) => h('li', {}, h('span', { class: 'muted', text: `${time(note.created_at)} ` }), visible(note.text))));
  const input = h('textarea', { 'aria-label': t('add_note'), maxlength: '4000' });
  const add = h('button', {
    type: 'button',
    text: t('add_note'),
    on: {
      click: async () => {
        if (!input.value.trim()) return;
        const note = await send('POST', '/api/notes', { event: ref, text: input.value });
        notes.append(h('li', {}, h('span', { class: 'muted', text: `${time(note.created_at)} ` }), visible(note.text)));
        input.value = '';
      },
    },
  });
  flyout.append(h('h3', { text: t('notes') }), notes, input, add);

  // Every field.
  const isScalar = (value) => value === null || ['string', 'number', 'boolean'].includes(typeof value);
  const rows = Object.keys(event.fields).sort().map((field) => {
    const value = event.fields[field];
    // An array field matches when any element does: filtering in keeps events holding every
    // element shown, filtering out drops events holding any of them.
    const values = Array.isArray(value) ? value : [value];
    const filterable = values.length > 0 && values.every((item) => isScalar(item) && item !== null);
    const terms = (negate) => values.map((item) => term(field, item, negate)).join(' ');
    const shown = visible(value);
    const actions = h('td', { class: 'actions' });
    if (filterable && onFilter) {
      actions.append(
        h('button', { type: 'button', class: 'small', title: t('filter_in'), 'aria-label': `${t('filter_in')} ${field}`, text: '+', on: { click: () => onFilter(terms(false)) } }),
        h('button', { type: 'button', class: 'small', title: t('filter_out'), 'aria-label': `${t('filter_out')} ${field}`, text: '−', on: { click: () => onFilter(terms(true)) } }),
      );
    }
    const copyButton = h('button', { type: 'button', class: 'small', text: t('copy') });
    copyButton.addEventListener('click', () => copy(typeof value === 'string' ? value : JSON.stringify(value), copyButton));
    actions.append(copyButton);
    return h('tr', {}, h('td', { class: 'mono', text: field }), h('td', { class: 'value', text: shown }), actions);
  });
  flyout.append(h('h3', { text: t('fields') }), h('table', { class: 'data fields' }, h('tbody', {}, rows)));
  const whole = h('button', { type: 'button', text: t('copy_json') });
  whole.addEventListener('click', () => copy(JSON.stringify(event.document, null, 2), whole));
  flyout.append(h('p', {}, whole));
  title.focus();
}
