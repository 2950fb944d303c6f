// Analyzer: the process tree of an entity (ancestors and descendants) as a graph drawn by
// cytoscape, laid out here (a tidy left-to-right tree, linear time: cytoscape's own
// breadthfirst layout is quadratic and took seconds at 5,000 processes). Each node shows its
// events per category and its alerts; a time slider shows the tree before and after a
// moment; children are paged (100 at a time) so trees of thousands of processes stay usable.
import cytoscape from '../../vendor/cytoscape/cytoscape.esm.min.mjs';
import { get } from '../api.js';
import { append, h, visible, clear } from '../dom.js';
import { t } from '../i18n.js';
import { categoryLabel, number, severity, time } from '../format.js';

const CHILD_PAGE = 100;
const X_STEP = 230;
const X_STEP_LARGE = 290;
const Y_STEP = 46;
const COLORS = { critical: '#c0213a', high: '#d9622b', medium: '#c79100', low: '#4a8c5a' };

// A node's events per category, in the same order on every node.
const CATEGORY_ORDER = ['process', 'file', 'network'];
function eventCounts(node) {
  const rank = (name) => (CATEGORY_ORDER.includes(name) ? CATEGORY_ORDER.indexOf(name) : CATEGORY_ORDER.length);
  return Object.entries(node.events || {}).sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b));
}

// "name [pid] ⚠alerts" over "p3 f2 n1" (events per category by initial). Large trees get
// it on one line: cytoscape measures every wrapped label when it styles the graph.
function label(node, large) {
  const counts = eventCounts(node).map(([name, count]) => `${name[0]}${count}`).join(' ');
  const alerts = node.alerts ? ` ⚠${node.alerts}` : '';
  return `${visible(node.name || '?')} [${node.pid ?? ''}]${alerts}${large ? ' · ' : '\n'}${counts}`;
}

// The visible tree: children paged, collapsed subtrees hidden. Returns nodes in DFS order
// with positions, and edges.
export function layout(tree, shown, collapsed, large = false) {
  const nodes = new Map(tree.nodes.map((node) => [node.entity_id, node]));
  const step = large ? X_STEP_LARGE : X_STEP;
  const placed = [];
  const edges = [];
  let slot = 0;
  const visit = (id, depth) => {
    const node = nodes.get(id);
    const children = collapsed.has(id) ? [] : node.children.filter((child) => nodes.has(child));
    const limit = shown.get(id) || CHILD_PAGE;
    const visibleChildren = children.slice(0, limit);
    const ys = [];
    for (const child of visibleChildren) {
      ys.push(visit(child, depth + 1));
      edges.push({ data: { id: `e:${child}`, source: id, target: child } });
    }
    if (children.length > limit) {
      const more = `more:${id}`;
      const y = slot++ * Y_STEP;
      placed.push({ data: { id: more, label: t('more_children', { count: number(children.length - limit) }), kind: 'more', parent_id: id }, position: { x: (depth + 1) * step, y } });
      edges.push({ data: { id: `e:${more}`, source: id, target: more } });
      ys.push(y);
    }
    const y = ys.length ? (ys[0] + ys[ys.length - 1]) / 2 : slot++ * Y_STEP;
    placed.push({
      data: {
        id,
        label: label(node, large),
        kind: 'process',
        severity: node.severity || '',
        focus: id === tree.focus ? 'yes' : 'no',
        ended: node.end ? 'yes' : 'no',
        collapsed: collapsed.has(id) && node.children.length ? 'yes' : 'no',
      },
      position: { x: depth * step, y },
    });
    return y;
  };
  visit(tree.root, 0);
  return { nodes: placed, edges };
}

const STYLE = [
  {
    selector: 'node[kind = "process"]',
    style: {
      shape: 'round-rectangle', width: 200, height: 36, 'background-color': '#e9eef7',
      'border-width': 1, 'border-color': '#8d9ab3', label: 'data(label)', 'text-wrap': 'wrap',
      'text-max-width': 190, 'font-size': 10, 'text-valign': 'center', 'text-halign': 'center',
      'min-zoomed-font-size': 7, color: '#1d2330',
    },
  },
  { selector: 'node[severity = "low"]', style: { 'background-color': '#dcefe0', 'border-color': COLORS.low } },
  { selector: 'node[severity = "medium"]', style: { 'background-color': '#fbf0cf', 'border-color': COLORS.medium } },
  { selector: 'node[severity = "high"]', style: { 'background-color': '#fbe1d4', 'border-color': COLORS.high } },
  { selector: 'node[severity = "critical"]', style: { 'background-color': '#f9d3da', 'border-color': COLORS.critical, 'border-width': 2 } },
  { selector: 'node[ended = "yes"]', style: { 'border-style': 'dashed' } },
  { selector: 'node[collapsed = "yes"]', style: { 'border-width': 3, 'border-style': 'double' } },
  { selector: 'node[focus = "yes"]', style: { 'border-width': 4, 'border-color': '#1f5fbf' } },
  { selector: 'node:selected', style: { 'overlay-color': '#f2a900', 'overlay-opacity': 0.35, 'overlay-padding': 4 } },
  {
    selector: 'node[kind = "more"]',
    style: { shape: 'round-rectangle', width: 150, height: 26, 'background-color': '#ffffff', 'border-width': 1, 'border-style': 'dotted', 'border-color': '#5c6577', label: 'data(label)', 'font-size': 10, 'text-valign': 'center', 'text-halign': 'center' },
  },
  { selector: 'edge', style: { width: 1, 'line-color': '#a7b0c2', 'curve-style': 'taxi', 'taxi-direction': 'horizontal', 'target-arrow-shape': 'none' } },
];
// Above LARGE nodes: straight "haystack" edges and one-line labels, the cheapest cytoscape
// draws (measured on 5,000 processes: 2.1 s to draw with taxi edges and wrapped labels).
const LARGE = 1000;
const LARGE_STYLE = [
  ...STYLE,
  { selector: 'node[kind = "process"]', style: { 'text-wrap': 'none', width: 260, height: 24 } },
  { selector: 'edge', style: { 'curve-style': 'haystack', 'haystack-radius': 0 } },
];

function details(panel, node, tree, app) {
  clear(panel);
  if (!node) {
    panel.append(h('p', { class: 'muted', text: t('select_node') }));
    return;
  }
  const entries = [
    [t('process'), visible(node.name)],
    ['PID', visible(node.pid)],
    [t('user'), visible(node.user)],
    [t('executable'), visible(node.executable)],
    [t('command_line'), visible(node.command_line)],
    [t('started'), time(node.start)],
    [t('ended'), time(node.end) || t('still_running')],
    [t('host'), visible(node.host_name)],
    ['entity_id', node.entity_id],
  ];
  panel.append(h('h2', { id: 'node-title', text: visible(node.name || node.entity_id) }),
    h('dl', {}, entries.map(([term, value]) => [h('dt', { text: term }), h('dd', { class: 'mono', text: value })])));
  panel.append(h('h3', { text: t('events_by_category') }));
  const host = node.host_name || '';
  panel.append(h('ul', {}, eventCounts(node).map(([name, count]) => h('li', {},
    h('a', {
      href: `#/timeline?${new URLSearchParams({ q: `process.entity_id:${node.entity_id}`, host, category: name })}`,
      text: `${categoryLabel(name)}: ${number(count)}`,
    })))));
  if (node.alerts) {
    panel.append(h('p', {}, severity(node.severity), ' ', h('a', {
      href: `#/alerts?${new URLSearchParams({ entity: node.entity_id })}`, text: t('alerts_count', { count: number(node.alerts) }),
    })));
  }
  panel.append(h('div', { class: 'toolbar' },
    h('a', { href: `#/timeline?${new URLSearchParams({ q: `process.entity_id:${node.entity_id}`, host })}`, text: t('open_timeline') }),
    node.entity_id !== tree.focus ? h('a', { href: `#/analyzer?${new URLSearchParams({ entity: node.entity_id, host })}`, text: t('focus_here') }) : null));
}

export async function render(root, route, app) {
  const params = route.params;
  const entity = params.get('entity') || '';
  root.append(h('h1', { text: t('page_analyzer') }));
  const form = h('input', { type: 'text', id: 'entity', size: 50, value: entity, 'aria-label': 'process.entity_id', placeholder: 'process.entity_id' });
  form.addEventListener('keydown', (event) => { if (event.key === 'Enter') app.navigate('analyzer', { entity: form.value.trim() }); });
  root.append(h('div', { class: 'toolbar' }, h('label', {}, 'process.entity_id', form),
    h('button', { type: 'button', text: t('show_tree'), on: { click: () => app.navigate('analyzer', { entity: form.value.trim() }) } })));
  if (!entity) {
    root.append(h('p', { class: 'muted', text: t('analyzer_help') }));
    return;
  }
  const host = params.get('host') || '';
  const at = params.get('at') || '';
  const started = performance.now();
  const timings = {};
  const [tree, whole] = await Promise.all([
    get('/api/tree', { entity, host, at }),
    at ? get('/api/tree', { entity, host }) : null,
  ]);
  timings.fetched = Math.round(performance.now() - started);
  const everything = whole || tree;
  const byId = new Map(tree.nodes.map((node) => [node.entity_id, node]));
  const shown = new Map();
  const collapsed = new Set();

  // The time slider spans the focus's life and its descendants' (before the focus started
  // there is no tree of it to show); moving it asks for the tree at that moment.
  const moments = everything.nodes.flatMap((node) => [node.start, node.end]).filter(Boolean).map((iso) => new Date(iso).getTime());
  const focusNode = everything.nodes.find((node) => node.entity_id === everything.focus);
  const last = Math.max(...moments);
  const first = focusNode && focusNode.start ? new Date(focusNode.start).getTime() : Math.min(...moments);
  const current = at ? new Date(at).getTime() : last;
  const slider = h('input', { type: 'range', id: 'time-slider', min: String(first), max: String(last), step: '1', value: String(current), 'aria-label': t('tree_at') });
  const shownTime = h('output', { for: 'time-slider', class: 'mono', text: `${time(new Date(current).toISOString())} UTC` });
  let pending = null;
  slider.addEventListener('input', () => {
    shownTime.textContent = `${time(new Date(Number(slider.value)).toISOString())} UTC`;
    clearTimeout(pending);
    pending = setTimeout(() => {
      const value = Number(slider.value);
      app.navigate('analyzer', { entity, host, at: value >= last ? '' : new Date(value).toISOString() });
    }, 400);
  });
  root.append(h('div', { class: 'slider panel' }, h('span', { text: t('tree_at') }), slider, shownTime,
    h('button', { type: 'button', class: 'small', text: t('whole_tree'), on: { click: () => app.navigate('analyzer', { entity, host }) } })));
  const summary = tree.at
    ? t('tree_summary', { nodes: number(tree.nodes.length), at: `${time(tree.at)} UTC` })
    : t('tree_summary_whole', { nodes: number(tree.nodes.length) });
  append(root, h('p', { class: 'muted', id: 'tree-summary', text: summary }),
    tree.truncated ? h('p', { class: 'warn', text: t('tree_truncated', { count: number(tree.nodes.length) }) }) : null,
    h('p', { class: 'note', text: t('analyzer_keys') }));
  const graph = h('div', { id: 'graph', tabIndex: 0, role: 'application', 'aria-label': t('process_tree'), 'aria-describedby': 'node-title' });
  const panel = h('aside', { class: 'panel details', 'aria-live': 'polite' });
  root.append(h('div', { class: 'analyzer' }, graph, panel));

  // cytoscape needs the container in the document to measure it: draw once attached.
  let cy = null;
  let selectedId = tree.focus;
  const select = (id) => {
    if (!cy || !byId.has(id)) return;
    cy.$(':selected').unselect();
    const element = cy.getElementById(id);
    element.select();
    selectedId = id;
    details(panel, byId.get(id), tree, app);
    const box = cy.extent();
    const position = element.position();
    if (position.x < box.x1 || position.x > box.x2 || position.y < box.y1 || position.y > box.y2) cy.center(element);
  };
  const large = tree.nodes.length > LARGE;
  const draw = () => {
    const placed = layout(tree, shown, collapsed, large);
    timings.laid_out = Math.round(performance.now() - started);
    if (cy) cy.destroy();
    cy = cytoscape({
      container: graph,
      elements: [...placed.nodes, ...placed.edges],
      style: large ? LARGE_STYLE : STYLE,
      layout: { name: 'preset' },
      minZoom: 0.02,
      maxZoom: 3,
      textureOnViewport: placed.nodes.length > 2000,
      hideEdgesOnViewport: placed.nodes.length > 2000,
      boxSelectionEnabled: false,
      autoungrabify: true,
    });
    cy.on('tap', 'node', (event) => {
      const data = event.target.data();
      if (data.kind === 'more') {
        shown.set(data.parent_id, (shown.get(data.parent_id) || CHILD_PAGE) + CHILD_PAGE);
        draw();
        select(data.parent_id);
      } else {
        select(data.id);
      }
    });
    cy.on('dbltap', 'node[kind = "process"]', (event) => {
      const id = event.target.id();
      if (collapsed.has(id)) collapsed.delete(id);
      else collapsed.add(id);
      draw();
      select(id);
    });
    cy.fit(undefined, 30);
    if (cy.zoom() < 0.7) {
      // A tree too big to read whole: start at reading size on the focus.
      cy.zoom(0.9);
      cy.center(cy.getElementById(tree.focus));
    } else if (cy.zoom() > 1.2) {
      cy.zoom(1.2);
      cy.center();
    }
    graph.dataset.nodes = String(cy.nodes('[kind = "process"]').length);
    timings.drawn = Math.round(performance.now() - started);
    // The first frame cytoscape paints: what the analyst waits for (bench/bench_ui.py reads it).
    cy.one('render', () => {
      requestAnimationFrame(() => {
        timings.painted = Math.round(performance.now() - started);
        graph.dataset.timings = JSON.stringify(timings);
        graph.dataset.rendered = String(timings.painted);
      });
    });
  };
  graph.addEventListener('keydown', (event) => {
    const node = byId.get(selectedId);
    if (!node || !cy) return;
    const parent = node.parent_entity_id && byId.has(node.parent_entity_id) ? byId.get(node.parent_entity_id) : null;
    const siblings = parent ? parent.children.filter((id) => cy.getElementById(id).length) : [node.entity_id];
    const here = siblings.indexOf(node.entity_id);
    let next = null;
    if (event.key === 'ArrowLeft' && parent) next = parent.entity_id;
    else if (event.key === 'ArrowRight') next = node.children.find((id) => cy.getElementById(id).length);
    else if (event.key === 'ArrowUp') next = siblings[here - 1];
    else if (event.key === 'ArrowDown') next = siblings[here + 1];
    else if (event.key === ' ' || event.key === 'Enter') {
      if (collapsed.has(selectedId)) collapsed.delete(selectedId);
      else collapsed.add(selectedId);
      draw();
      select(selectedId);
      event.preventDefault();
      return;
    } else if (event.key === 'm') {
      shown.set(selectedId, (shown.get(selectedId) || CHILD_PAGE) + CHILD_PAGE);
      draw();
      select(selectedId);
    } else if (event.key === '+' || event.key === '=') cy.zoom({ level: cy.zoom() * 1.25, renderedPosition: { x: graph.clientWidth / 2, y: graph.clientHeight / 2 } });
    else if (event.key === '-') cy.zoom({ level: cy.zoom() / 1.25, renderedPosition: { x: graph.clientWidth / 2, y: graph.clientHeight / 2 } });
    else if (event.key === '0') cy.fit(undefined, 30);
    else return;
    if (next) select(next);
    event.preventDefault();
  });
  // Draw after the page is in the document (main.js attaches `root` after render returns).
  requestAnimationFrame(() => {
    draw();
    select(tree.focus);
  });
}
