// Small SVG charts built with DOM calls: labelled for screen readers, coloured by CSS classes.

import { h, svg } from './dom.js';
import { clock, hourMinute, minutesIn, viewerTimeZone } from './format.js';

export const STATUSES = ['scheduled', 'generating', 'delivering', 'delivered', 'failed', 'canceled', 'superseded'];

/** Horizontal bars: [{label, value (0..1), text}]. */
export function barChart(title, bars) {
  const rowHeight = 26;
  const chart = svg('svg', {
    viewBox: `0 0 400 ${bars.length * rowHeight}`,
    role: 'img',
    'aria-label': title,
    class: 'chart',
  });
  const top = Math.max(...bars.map((bar) => bar.value), 0.0001);
  bars.forEach((bar, index) => {
    const y = index * rowHeight;
    chart.append(
      svg('text', { x: 0, y: y + 17, class: 'axis' }, bar.label),
      svg(
        'rect',
        { x: 110, y: y + 5, width: Math.max(1, (bar.value / top) * 230), height: rowHeight - 10, rx: 3, class: 'bar' },
        svg('title', {}, `${bar.label}: ${bar.text}`),
      ),
      svg('text', { x: 115 + (bar.value / top) * 230, y: y + 17, class: 'axis' }, bar.text),
    );
  });
  return h('figure', {}, chart, h('figcaption', {}, title));
}

/** Requests per hour over the last 24 hours, stacked by status: `buckets[i][status]` counts. */
export function hourlyStatusChart(title, buckets, startSeconds) {
  const width = 480,
    height = 160,
    base = 130,
    columnWidth = width / buckets.length;
  const top = Math.max(1, ...buckets.map((bucket) => STATUSES.reduce((sum, s) => sum + (bucket[s] || 0), 0)));
  const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': title, class: 'chart' });
  chart.append(svg('line', { x1: 0, x2: width, y1: base, y2: base, class: 'grid' }));
  buckets.forEach((bucket, index) => {
    let y = base;
    for (const status of STATUSES) {
      const count = bucket[status] || 0;
      if (!count) continue;
      const barHeight = (count / top) * (base - 10);
      y -= barHeight;
      chart.append(
        svg(
          'rect',
          { x: index * columnWidth + 1, y, width: columnWidth - 2, height: barHeight, class: `s-${status}` },
          svg('title', {}, `${clock(startSeconds + index * 3600)}: ${count} ${status}`),
        ),
      );
    }
    if (index % 4 === 0) {
      chart.append(
        svg(
          'text',
          { x: index * columnWidth, y: base + 18, class: 'axis' },
          hourMinute(new Date((startSeconds + index * 3600) * 1000)),
        ),
      );
    }
  });
  chart.append(svg('text', { x: width, y: 12, class: 'axis end' }, `max ${top}/h`));
  const legend = h(
    'ul',
    { class: 'legend' },
    STATUSES.map((status) => h('li', {}, h('span', { class: `swatch s-${status}`, 'aria-hidden': 'true' }), status)),
  );
  return h('figure', {}, chart, h('figcaption', {}, title), legend);
}

function isAwakeAt(minutes, start, end) {
  if (start === end) return true;
  return start < end ? minutes >= start && minutes < end : minutes >= start || minutes < end;
}

function clockMinutes(text) {
  const [hours, minutes] = text.split(':').map(Number);
  return hours * 60 + minutes;
}

/** Is the agent inside its active hours now (ignoring the daily jitter of up to 15 minutes)? */
export function isAwake(agent, date = new Date()) {
  return isAwakeAt(
    minutesIn(date, agent.timezone),
    clockMinutes(agent.activeHours.start),
    clockMinutes(agent.activeHours.end),
  );
}

/** The viewer's day (local midnight to midnight) as two rows: the agent's waking hours, and the viewer's clock. */
export function dayStrip(agent, now = new Date()) {
  const width = 480,
    left = 0,
    rowY = 18,
    rowHeight = 26,
    slot = 15;
  const midnight = new Date(now);
  midnight.setHours(0, 0, 0, 0);
  const start = clockMinutes(agent.activeHours.start),
    end = clockMinutes(agent.activeHours.end);
  const slots = (24 * 60) / slot,
    slotWidth = width / slots;
  const chart = svg('svg', {
    viewBox: `0 0 ${width} 82`,
    role: 'img',
    class: 'chart strip',
    'aria-label':
      `${agent.name}'s waking hours (${agent.activeHours.start}–${agent.activeHours.end} in ` +
      `${agent.timezone}) across your day in ${viewerTimeZone()}`,
  });
  for (let i = 0; i < slots; i++) {
    const at = new Date(midnight.getTime() + i * slot * 60000);
    const awake = isAwakeAt(minutesIn(at, agent.timezone), start, end);
    chart.append(
      svg('rect', {
        x: left + i * slotWidth,
        y: rowY,
        width: slotWidth + 0.3,
        height: rowHeight,
        class: awake ? 'awake' : 'asleep',
      }),
    );
  }
  for (let hour = 0; hour <= 24; hour += 3) {
    const x = Math.min(width - 1, left + (hour * 60 * width) / (24 * 60));
    const at = new Date(midnight.getTime() + hour * 3600000);
    const anchor = hour === 0 ? 'start' : hour === 24 ? 'end' : 'middle';
    chart.append(
      svg('line', { x1: x, x2: x, y1: rowY + rowHeight, y2: rowY + rowHeight + 4, class: 'grid' }),
      svg('text', { x, y: rowY - 5, class: `axis ${anchor}` }, hourMinute(at, agent.timezone)),
      svg('text', { x, y: rowY + rowHeight + 16, class: `axis ${anchor}` }, hourMinute(at)),
    );
  }
  const nowX = left + ((now - midnight) / 86400000) * width;
  chart.append(
    svg('line', { x1: nowX, x2: nowX, y1: rowY - 4, y2: rowY + rowHeight + 4, class: 'now' }),
    svg('text', { x: Math.min(Math.max(nowX, 14), width - 14), y: 78, class: 'axis middle now-label' }, 'now'),
  );
  return h(
    'figure',
    {},
    chart,
    h(
      'figcaption',
      {},
      `Top labels: ${agent.name}'s time (${agent.timezone}); bottom labels: yours (${viewerTimeZone()}). `,
      'Filled: awake.',
    ),
  );
}
