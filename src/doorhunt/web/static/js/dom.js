// Builds the DOM from data without ever parsing HTML. Every value that came from a host (a
// process name, an argument, a path) becomes a text node or a plain attribute value: never
// innerHTML, never an on* attribute, never a javascript: link.

const PROPERTIES = new Set(['value', 'checked', 'disabled', 'selected', 'type', 'tabIndex', 'hidden']);
const SVG = 'http://www.w3.org/2000/svg';

function safeHref(value) {
  const text = String(value);
  return text.startsWith('#') || (text.startsWith('/') && !text.startsWith('//')) ? text : '#';
}

function setProps(node, props) {
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.setAttribute('class', value);
    else if (key === 'text') node.textContent = String(value);
    else if (key === 'on') {
      for (const [event, handler] of Object.entries(value)) node.addEventListener(event, handler);
    } else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (/^on/i.test(key) || key === 'style' || key === 'srcdoc') {
      throw new Error(`refusing attribute ${key}`);
    } else if (key === 'href') node.setAttribute('href', safeHref(value));
    else if (PROPERTIES.has(key)) node[key] = value;
    else node.setAttribute(key, value === true ? '' : String(value));
  }
}

export function append(node, ...children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  setProps(node, props);
  return append(node, ...children);
}

export function svg(tag, props = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  setProps(node, props);
  return append(node, ...children);
}

export function clear(node) {
  node.replaceChildren();
  return node;
}

// Text shown as it was recorded, with control characters made visible (as the terminal does).
export function visible(value) {
  if (value === null || value === undefined) return '';
  const text = Array.isArray(value) ? value.map(visible).join(', ')
    : typeof value === 'object' ? JSON.stringify(value) : String(value);
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
