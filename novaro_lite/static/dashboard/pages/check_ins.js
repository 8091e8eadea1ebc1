// An agent's check-ins (messages it writes first, docs/api.md "Check-ins"): the list with each one's status,
// moment, topic and why it ended, with Cancel for one still waiting; and the form that schedules one in the
// playground's conversation.

import { api } from '../api.js';
import { field, h, notice, replace, table } from '../dom.js';
import { viewerTimeZone, whenFor } from '../format.js';
import { attempt, errorBox, pagedList } from './common.js';

const REFRESH_MS = 5000;
const WAITING = new Set(['scheduled', 'paused']);
const WHY = {
  user_wrote: 'the user wrote first',
  conversation_active: 'the conversation was active',
  canceled: 'canceled',
};
const HEADERS = ['Check-in', 'Status', 'Moment / delivered', 'Conversation', 'Topic', 'Ended because', ''];

/** "5 attempts failed, the last: The receiver answered HTTP 503." for one not delivered (yet): while it is
 * retried its status stays "scheduled", and the moment shown is the next attempt. `attempts` counts POSTs to
 * the webhook only: when the model failed, nothing was sent, and only the error is shown. */
function failedAttempts(checkIn) {
  if (!checkIn.lastError || checkIn.status === 'delivered') return null;
  const attempts = checkIn.attempts
    ? `${checkIn.attempts} attempt${checkIn.attempts === 1 ? '' : 's'} failed, the last: `
    : 'Not sent yet: ';
  return h('small', { class: 'problem' }, `${attempts}${checkIn.lastError}`);
}

/** The agent's check-ins, newest first, refreshed every few seconds while the page is open. */
export function checkInList(agent, context) {
  const status = h('div', {});
  async function cancel(checkIn) {
    const done = await attempt(status, () => api('DELETE', `/api/v1/check-ins/${encodeURIComponent(checkIn.id)}`));
    if (done) replace(status, notice('ok', `Check-in ${checkIn.id} canceled.`));
    await list.refresh();
  }
  const list = pagedList({
    path: '/api/v1/check-ins',
    noun: 'check-in',
    query: () => ({ agentId: agent.id }),
    none: () => `None yet: schedule one from the playground, and ${agent.name} writes first.`,
    render: (checkIns) =>
      table(
        `${agent.name}'s check-ins, newest first`,
        HEADERS,
        checkIns.map((checkIn) => [
          checkIn.id,
          [h('span', { class: `badge s-${checkIn.status}` }, checkIn.status), failedAttempts(checkIn)],
          whenFor(checkIn.deliveredAt || checkIn.scheduledFor, agent),
          checkIn.conversationId,
          checkIn.topic || '—',
          checkIn.canceledReason ? WHY[checkIn.canceledReason] || checkIn.canceledReason : '—',
          WAITING.has(checkIn.status)
            ? h(
                'button',
                { type: 'button', 'aria-label': `Cancel ${checkIn.id}`, onclick: () => cancel(checkIn) },
                'Cancel',
              )
            : '',
        ]),
      ),
  });
  list.refresh();
  const timer = setInterval(() => list.refresh(), REFRESH_MS);
  context.onLeave(() => clearInterval(timer));
  return {
    element: h('section', { class: 'card' }, h('h2', {}, 'Check-ins'), status, list.element),
    refresh: () => list.refresh(),
  };
}

/** "Schedule a check-in": topic, window, the user's zone and quiet hours (defaults: this browser's zone, the
 * night). `chat()` gives {conversationId, messages, webhookId: async () => id} of the playground at the
 * moment of scheduling; `scheduled(checkIn)` runs once it is stored. */
export function checkInForm(agent, chat, scheduled) {
  const topic = h('input', { type: 'text', maxLength: 500, placeholder: 'e.g. ask how the exam went' });
  const after = h('input', { type: 'number', min: 0, max: 720, step: 'any', value: '1' });
  const before = h('input', { type: 'number', min: 0, max: 720, step: 'any', value: '24' });
  const zone = h('input', { type: 'text', value: viewerTimeZone(), autocomplete: 'off' });
  const quietStart = h('input', { type: 'time', value: '22:00' });
  const quietEnd = h('input', { type: 'time', value: '08:00' });
  const fields = {
    topic: field('Topic', topic, 'What to bring up (optional).'),
    window: field('Not before (hours from now)', after),
    before: field('Not after (hours from now)', before),
    timezone: field("User's time zone", zone, 'Quiet hours are on this clock.'),
    quietHours: field('Quiet hours from', quietStart),
    quietEnd: field('Quiet hours until', quietEnd, 'The same time twice: no quiet hours.'),
  };
  const box = errorBox();
  const where = h('p', { class: 'muted' }, 'It goes where async replies go: the Webhook above, this page by default.');
  const form = h(
    'form',
    {
      onsubmit: async (event) => {
        event.preventDefault();
        const made = await attempt(
          box,
          async () => {
            const { conversationId, messages, webhookId } = chat();
            const body = {
              agentId: agent.id,
              webhookId: await webhookId(),
              conversationId,
              reference: `playground-check-in-${Date.now()}`,
              messages: messages.filter((message) => message.content),
              window: {
                after: Math.round(Number(after.value) * 3600),
                before: Math.round(Number(before.value) * 3600),
              },
              timezone: zone.value.trim(),
              quietHours: { start: quietStart.value, end: quietEnd.value },
            };
            if (topic.value.trim()) body.topic = topic.value.trim();
            return api('POST', '/api/v1/check-ins', body);
          },
          fields,
        );
        if (!made) return;
        replace(box, notice('ok', `Scheduled ${made.id} for ${whenFor(made.scheduledFor, agent)}.`));
        scheduled(made);
      },
    },
    where,
    h('div', { class: 'grid' }, ...Object.values(fields)),
    box,
    h('button', { type: 'submit' }, 'Schedule check-in'),
  );
  return h(
    'details',
    { class: 'check-in' },
    h('summary', {}, `Schedule a check-in: ${agent.name} writes first, in this chat`),
    form,
  );
}
