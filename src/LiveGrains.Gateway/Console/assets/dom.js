// DOM helpers. Everything the API returns goes in as text nodes or attributes, never as HTML, so a room title
// cannot inject markup or script into the console.
const svgNs = 'http://www.w3.org/2000/svg';

export function h(tag, attributes = {}, ...children) {
  const element = tag.startsWith('svg:') ? document.createElementNS(svgNs, tag.slice(4)) : document.createElement(tag);
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (value === undefined || value === null || value === false) {
      continue;
    }
    if (name.startsWith('on') && typeof value === 'function') {
      element.addEventListener(name.slice(2), value);
    } else {
      element.setAttribute(name, value === true ? '' : String(value));
    }
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) {
      continue;
    }
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function when(value) {
  return value ? new Date(value).toLocaleString() : '—';
}

export function statusBadge(status, attributes = {}) {
  return h('span', { ...attributes, class: `status status-${status}` }, status);
}

export function duration(seconds) {
  const s = Number(seconds) || 0;
  const hours = Math.floor(s / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  return `${hours > 0 ? hours + 'h ' : ''}${minutes}m ${s % 60}s`;
}

export function table(caption, columns, rows) {
  return h('table', {},
    h('caption', { class: 'muted' }, caption),
    h('thead', {}, h('tr', {}, columns.map(c => h('th', { scope: 'col', class: c.num ? 'num' : null }, c.label)))),
    h('tbody', {}, rows));
}

// Viewers over time as an inline SVG line (no chart library, nothing inline for the CSP to refuse).
export function viewerChart(samples) {
  const width = 720;
  const height = 180;
  const pad = 30;
  const latest = samples.at(-1)?.value ?? 0;
  const peak = Math.max(1, ...samples.map(s => s.value));
  const svg = h('svg:svg', {
    class: 'chart', viewBox: `0 0 ${width} ${height}`, role: 'img',
    'aria-label': `Viewers over time: ${latest} now, ${peak} at most while this page was open`,
  });
  svg.append(h('svg:line', { class: 'axis', x1: pad, y1: height - pad, x2: width - 5, y2: height - pad }));
  svg.append(h('svg:line', { class: 'axis', x1: pad, y1: 5, x2: pad, y2: height - pad }));
  svg.append(h('svg:text', { x: 2, y: 14 }, String(peak)));
  svg.append(h('svg:text', { x: 2, y: height - pad }, '0'));
  if (samples.length > 0) {
    const first = samples[0].at;
    const span = Math.max(1, samples.at(-1).at - first);
    const x = at => pad + ((at - first) / span) * (width - pad - 10);
    const y = value => height - pad - (value / peak) * (height - pad - 10);
    const points = samples.length === 1
      ? [`${pad},${y(samples[0].value)}`, `${width - 5},${y(samples[0].value)}`]
      : samples.map(s => `${x(s.at).toFixed(1)},${y(s.value).toFixed(1)}`);
    svg.append(h('svg:polyline', { class: 'line', points: points.join(' ') }));
    svg.append(h('svg:text', { x: pad, y: height - 8 }, new Date(first).toLocaleTimeString()));
    svg.append(h('svg:text', { x: width - 80, y: height - 8 }, new Date(samples.at(-1).at).toLocaleTimeString()));
  }
  return svg;
}
