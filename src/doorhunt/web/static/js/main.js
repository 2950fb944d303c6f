// The UI's shell: navigation, routing (#/page?params), language, keyboard shortcuts, errors.
import { get } from './api.js';
import { h, clear } from './dom.js';
import { loadMessages, setLanguage, lang, t } from './i18n.js';
import { closeFlyout, isOpen } from './components/flyout.js';
import * as overview from './pages/overview.js';
import * as alerts from './pages/alerts.js';
import * as hosts from './pages/hosts.js';
import * as network from './pages/network.js';
import * as users from './pages/users.js';
import * as timeline from './pages/timeline.js';
import * as analyzer from './pages/analyzer.js';

const PAGES = [
  { id: 'overview', module: overview, key: 'o' },
  { id: 'alerts', module: alerts, key: 'a' },
  { id: 'hosts', module: hosts, key: 'h' },
  { id: 'network', module: network, key: 'n' },
  { id: 'users', module: users, key: 'u' },
  { id: 'timeline', module: timeline, key: 't' },
  { id: 'analyzer', module: analyzer, key: 'z' },
];

const app = {
  info: null,
  navigate(path, params = {}) {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(params)) {
      if (value === null || value === undefined || value === '') continue;
      if (Array.isArray(value)) value.forEach((item) => query.append(key, item));
      else query.set(key, value);
    }
    const text = query.toString();
    window.location.hash = `#/${path}${text ? `?${text}` : ''}`;
  },
  error(message) {
    const banner = document.getElementById('banner');
    banner.hidden = !message;
    banner.textContent = message || '';
  },
};

function route() {
  const hash = window.location.hash.replace(/^#\/?/, '');
  const [path, query] = hash.split('?');
  const parts = (path || 'overview').split('/').map((part) => decodeURIComponent(part));
  return { parts, params: new URLSearchParams(query || '') };
}

function renderNav(active) {
  const nav = clear(document.getElementById('nav'));
  for (const page of PAGES) {
    nav.append(h('a', {
      href: `#/${page.id}`,
      'aria-current': page.id === active ? 'page' : undefined,
      'aria-keyshortcuts': `g ${page.key}`,
      text: t(`page_${page.id}`),
    }));
  }
  document.getElementById('lang-label').textContent = t('language');
  document.getElementById('skip-link').textContent = t('skip_to_content');
  document.getElementById('help-button').setAttribute('aria-label', t('shortcuts'));
  document.getElementById('language').setAttribute('aria-label', t('language'));
}

let rendering = 0;
async function show() {
  const current = route();
  const page = PAGES.find((item) => item.id === current.parts[0]) || PAGES[0];
  renderNav(page.id);
  document.title = `${t(`page_${page.id}`)} · doorhunt`;
  app.error('');
  const main = clear(document.getElementById('main'));
  main.dataset.ready = 'false'; // tests and scripts wait for 'true'
  const ticket = ++rendering;
  main.append(h('p', { class: 'muted', text: t('loading') }));
  try {
    const root = h('div');
    await page.module.render(root, current, app);
    if (ticket !== rendering) return;
    clear(main).append(root);
    main.dataset.page = page.id;
    main.dataset.ready = 'true';
  } catch (error) {
    if (ticket !== rendering) return;
    clear(main).append(h('p', { class: 'error-text', text: error.message || String(error) }));
    main.dataset.ready = 'true';
  }
}

function helpDialog() {
  const dialog = clear(document.getElementById('dialog'));
  const rows = [
    ...PAGES.map((page) => [`g ${page.key}`, t(`page_${page.id}`)]),
    ['/', t('help_focus_query')],
    ['↑ ↓ j k', t('help_rows')],
    ['Enter', t('help_open')],
    ['p', t('help_pin')],
    ['c', t('help_correlate')],
    ['← → ↑ ↓', t('help_tree')],
    ['Esc', t('help_close')],
    ['?', t('shortcuts')],
  ];
  dialog.append(
    h('h2', { text: t('shortcuts') }),
    h('table', {}, h('tbody', {}, rows.map(([keys, what]) => h('tr', {}, h('td', {}, h('kbd', { text: keys })), h('td', { text: what }))))),
    h('form', { method: 'dialog' }, h('button', { type: 'submit', text: t('close') })),
  );
  dialog.showModal();
}

let pendingG = false;
function onKey(event) {
  const target = event.target;
  const typing = target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement;
  if (event.key === 'Escape') {
    if (isOpen()) {
      closeFlyout();
      event.preventDefault();
    } else if (typing) {
      target.blur(); // leave the field, so that the shortcuts work again
    }
    return;
  }
  if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
  if (pendingG) {
    pendingG = false;
    const page = PAGES.find((item) => item.key === event.key);
    if (page) {
      app.navigate(page.id);
      event.preventDefault();
    }
    return;
  }
  if (event.key === 'g') {
    pendingG = true;
    setTimeout(() => { pendingG = false; }, 1500);
  } else if (event.key === '?') {
    helpDialog();
  } else if (event.key === '/') {
    const query = document.getElementById('query');
    if (query) {
      query.focus();
      event.preventDefault();
    }
  }
}

async function start() {
  try {
    await loadMessages();
    app.info = await get('/api/info');
  } catch (error) {
    document.getElementById('main').textContent = error.message || String(error);
    return;
  }
  const select = document.getElementById('language');
  select.value = lang();
  select.addEventListener('change', () => {
    setLanguage(select.value);
    show();
  });
  document.getElementById('help-button').addEventListener('click', helpDialog);
  document.addEventListener('keydown', onKey);
  window.addEventListener('hashchange', () => {
    closeFlyout();
    show();
  });
  show();
}

start();
