// Events over time as stacked SVG bars (one colour per event.category). Hand-written: ~100
// lines for one chart, keyboard-operable (arrows move, Enter zooms to a bucket), no library.
import { svg, h } from '../dom.js';
import { number, time, category } from '../format.js';
import { t } from '../i18n.js';

const WIDTH = 1000;
const HEIGHT = 120;
const ORDER = ['process', 'file', 'network', 'host', 'other'];

export function legend() {
  return h('div', { class: 'legend' }, ORDER.map((name) => h('span', { class: `cat-${name}`, text: t(`category_${name}`) })));
}

// Bars sit on [since, until) when given (the range asked for), else on the buckets' own span.
export function histogram(buckets, bucketSeconds, { onSelect, label, since, until } = {}) {
  const node = svg('svg', {
    class: 'histogram',
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    preserveAspectRatio: 'none',
    role: 'group',
    'aria-label': label || t('histogram'),
  });
  if (!buckets.length) {
    node.append(svg('text', { x: 10, y: 20, text: t('no_events') }));
    return node;
  }
  const first = new Date(buckets[0].start).getTime();
  const lastEnd = new Date(buckets[buckets.length - 1].start).getTime() + bucketSeconds * 1000;
  const start = since ? Math.min(new Date(since).getTime(), first) : first;
  const end = until ? Math.max(new Date(until).getTime(), lastEnd) : lastEnd;
  const span = Math.max(end - start, 1);
  const totals = buckets.map((bucket) => Object.values(bucket.counts).reduce((a, b) => a + b, 0));
  const highest = Math.max(...totals, 1);
  const barWidth = Math.max((bucketSeconds * 1000 / span) * WIDTH - 1, 1);
  const groups = buckets.map((bucket, index) => {
    const x = ((new Date(bucket.start).getTime() - start) / span) * WIDTH;
    const bucketEnd = new Date(new Date(bucket.start).getTime() + bucketSeconds * 1000).toISOString();
    const group = svg('g', {
      class: 'bucket',
      tabIndex: index === 0 ? 0 : -1,
      role: 'button',
      'aria-label': `${time(bucket.start)}: ${number(totals[index])}`,
    });
    let y = HEIGHT - 14;
    const byCategory = {};
    for (const [name, count] of Object.entries(bucket.counts)) {
      const key = category(name);
      byCategory[key] = (byCategory[key] || 0) + count;
    }
    for (const name of ORDER) {
      const count = byCategory[name];
      if (!count) continue;
      const height = (count / highest) * (HEIGHT - 20);
      y -= height;
      group.append(svg('rect', { class: `bar fill-${name}`, x, y, width: barWidth, height }));
    }
    group.append(svg('rect', { class: 'frame', x, y: 0, width: barWidth, height: HEIGHT - 14, fill: 'transparent' }));
    const detail = Object.entries(bucket.counts).map(([name, count]) => `${name} ${number(count)}`).join(', ');
    group.append(svg('title', { text: `${time(bucket.start)} – ${time(bucketEnd)}\n${detail}` }));
    if (onSelect) {
      group.addEventListener('click', () => onSelect(bucket.start, bucketEnd));
      group.addEventListener('keydown', (event) => {
        const all = [...node.querySelectorAll('g.bucket')];
        const here = all.indexOf(group);
        let next = null;
        if (event.key === 'ArrowRight') next = all[here + 1];
        if (event.key === 'ArrowLeft') next = all[here - 1];
        if (event.key === 'Enter' || event.key === ' ') {
          onSelect(bucket.start, bucketEnd);
          event.preventDefault();
        }
        if (next) {
          group.tabIndex = -1;
          next.tabIndex = 0;
          next.focus();
          event.preventDefault();
        }
      });
    }
    return group;
  });
  node.append(...groups);
  node.append(svg('text', { x: 2, y: HEIGHT - 2, text: time(new Date(start).toISOString()) }));
  node.append(svg('text', { x: WIDTH - 2, y: HEIGHT - 2, 'text-anchor': 'end', text: time(new Date(end).toISOString()) }));
  node.append(svg('text', { x: 2, y: 10, text: number(highest) }));
  return node;
}
