// Times: unix seconds shown in the viewer's locale and zone, with an agent's local time beside them.

const viewerZone = Intl.DateTimeFormat().resolvedOptions().timeZone;

export function viewerTimeZone() {
  return viewerZone;
}

export function when(seconds) {
  if (seconds === null || seconds === undefined) return '—';
  return new Date(seconds * 1000).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

export function clock(seconds, timeZone) {
  return new Date(seconds * 1000).toLocaleTimeString(undefined, { timeZone, hour: '2-digit', minute: '2-digit' });
}

/** "25 Nov 2026, 14:03:10 (Lena: 15:03)": the viewer's time, and the agent's when it differs. */
export function whenFor(seconds, agent) {
  if (seconds === null || seconds === undefined) return '—';
  const local = when(seconds);
  if (!agent || agent.timezone === viewerZone) return local;
  return `${local} (${agent.name}: ${clock(seconds, agent.timezone)})`;
}

/** "14:05" on a 24-hour clock (chart labels stay short in every locale). */
export function hourMinute(date, timeZone) {
  return date.toLocaleTimeString(undefined, { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
}

/** Minutes past local midnight of `date` in `timeZone`. */
export function minutesIn(date, timeZone) {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(date);
  const part = (type) => Number(parts.find((p) => p.type === type).value);
  return part('hour') * 60 + part('minute');
}

export function duration(seconds) {
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  const hours = seconds / 3600;
  return `${Number.isInteger(hours) ? hours : hours.toFixed(1)} h`;
}

export function ago(seconds) {
  const delta = Math.round(Date.now() / 1000 - seconds);
  return delta >= 0 ? `${duration(delta)} ago` : `in ${duration(-delta)}`;
}
