// English and Korean. The catalog comes from the server (doorhunt.web.messages, checked there
// to have both languages); the browser's language chooses unless the analyst did.
import { get } from './api.js';

let catalog = { en: {}, ko: {} };
let language = 'en';
const STORAGE = 'doorhunt.language';

function preferred() {
  try {
    const saved = window.localStorage.getItem(STORAGE);
    if (saved === 'en' || saved === 'ko') return saved;
  } catch {
    // storage may be disabled: fall back to the browser's languages
  }
  for (const tag of navigator.languages || [navigator.language || 'en']) {
    const lower = String(tag).toLowerCase();
    if (lower.startsWith('ko')) return 'ko';
    if (lower.startsWith('en')) return 'en';
  }
  return 'en';
}

export async function loadMessages() {
  catalog = await get('/api/messages');
  setLanguage(preferred(), false);
}

export function setLanguage(next, remember = true) {
  language = next === 'ko' ? 'ko' : 'en';
  document.documentElement.lang = language;
  if (remember) {
    try {
      window.localStorage.setItem(STORAGE, language);
    } catch {
      // not remembered; the choice still holds for this page
    }
  }
}

export function lang() {
  return language;
}

export function t(key, params = {}) {
  const template = (catalog[language] && catalog[language][key]) || (catalog.en && catalog.en[key]) || key;
  return template.replace(/\{(\w+)\}/g, (match, name) => (name in params ? String(params[name]) : match));
}

export function has(key) {
  return Boolean(catalog.en && key in catalog.en);
}
