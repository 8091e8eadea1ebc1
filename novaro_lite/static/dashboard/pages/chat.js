// What the playground and the group playground share: chat bubbles, a streamed reply's events, and the async
// way: the choice of webhook and timing, the note that follows a request's status, and the account's
// playground receiver (`novaro-lite:playground`, docs/api.md), whose deliveries stream to the open page.

import { api, follow } from '../api.js';
import { field, h, notice, replace, select } from '../dom.js';
import { whenFor } from '../format.js';
import { resolved } from './character.js';
import { navLink } from './common.js';

const FINAL = new Set(['delivered', 'failed', 'canceled', 'superseded']);
const PLAYGROUND_URL = 'novaro-lite:playground';
const THIS_PAGE = 'this-page';

/** The account's playground webhook (reply, read and typing), made the first time it is needed. */
async function playgroundWebhook(webhooks) {
  const found = webhooks.find((webhook) => webhook.url === PLAYGROUND_URL && webhook.enabled);
  if (found) return found;
  const made = await api('POST', '/api/v1/webhooks', {
    url: PLAYGROUND_URL,
    description: 'Dashboard playground: replies shown on the page, kept nowhere',
    events: ['reply', 'read', 'typing'],
  });
  webhooks.push(made);
  return made;
}

/** A bubble of `message` at the end of `log`. `agent` is its writer's or listener's (its {{char}}, its local
 * time; none for a user's message in a group); `name`, when given, heads the bubble with its writer's name.
 * `bubble.update(next)` rewrites it as more text streams in. */
export function chatBubble(log, message, agent, name) {
  const time = h('time', {}, message.createdAt ? whenFor(message.createdAt, agent) : '');
  const text = h('p', {}, agent ? resolved(message.content, agent) : message.content);
  const item = h(
    'li',
    { class: `bubble ${message.role}` },
    name ? h('strong', { class: 'writer' }, name) : null,
    text,
    time,
  );
  item.update = (next) => {
    replace(text, agent ? resolved(next.content, agent) : next.content);
    if (next.createdAt) time.textContent = whenFor(next.createdAt, agent);
  };
  log.append(item);
  item.scrollIntoView({ block: 'nearest' });
  return item;
}

function usageText(done) {
  const usages = done.replies ? done.replies.map((reply) => reply.usage) : [done.usage];
  if (!usages.length) return 'Nobody answered.';
  const models = [...new Set(usages.map((usage) => `${usage.provider}/${usage.model}`))].join(', ');
  const sum = (key) => usages.reduce((total, usage) => total + usage[key], 0);
  return `${models}: ${sum('promptTokens')} prompt + ${sum('completionTokens')} completion tokens.`;
}

/** The handler of a streamed reply's `delta`, `message`, `done` and `error` events: a bubble (drawn by
 * `bubble(message)`) grows as its text arrives and joins `conversation` once whole; the usage or the error
 * goes in `status`. */
export function replyEvents(conversation, status, bubble) {
  let pending = null;
  let typed = '';
  return (name, data) => {
    if (name === 'delta') {
      typed += data.text;
      if (!pending) pending = bubble({ role: 'assistant', content: '' });
      pending.update({ content: typed });
      pending.classList.add('typing');
    } else if (name === 'message') {
      conversation.push(data);
      if (!pending) pending = bubble(data);
      pending.update(data);
      pending.classList.remove('typing');
      pending = null;
      typed = '';
    } else if (name === 'done') {
      replace(status, h('p', { class: 'muted' }, usageText(data)));
    } else if (name === 'error') {
      replace(status, notice('error', data.detail));
    }
  };
}

/** The row under a chat's message box: its send button, and "New chat", which clears `status`, calls `restart`
 * and puts the focus back in `input`. */
export function chatButtons(send, status, restart, input) {
  const newChat = () => {
    replace(status);
    restart();
    input.focus();
  };
  return h('div', { class: 'row' }, send, h('button', { type: 'button', onclick: newChat }, 'New chat'));
}

/** The async choices: which webhook (this page first) and whether to skip the human timing, whose expected
 * wait (`wait`, a sentence) shows when it is chosen. `element` is hidden until the page shows it. */
export function asyncChoices(webhooks, id, wait) {
  const hook = select([
    [THIS_PAGE, 'This page (the playground receiver)'],
    ...webhooks
      .filter((webhook) => webhook.url !== PLAYGROUND_URL)
      .map((webhook) => [webhook.id, webhook.description || webhook.url]),
  ]);
  const delay = select(
    [
      ['immediate', 'immediately'],
      ['human', 'with human timing'],
    ],
    'immediate',
  );
  const hint = h('small', { id: `wait-${id}`, class: 'muted', hidden: true }, `Expected wait: ${wait}.`);
  delay.setAttribute('aria-describedby', hint.id);
  delay.addEventListener('change', () => {
    hint.hidden = delay.value !== 'human';
  });
  const element = h(
    'div',
    { hidden: true },
    h('div', { class: 'grid' }, field('Webhook', hook), field('Deliver', delay)),
    hint,
  );
  return {
    element,
    isThisPage: () => hook.value === THIS_PAGE,
    /** The webhook and delay of a message request's body (the playground webhook made if need be). */
    async target() {
      const webhookId = hook.value === THIS_PAGE ? (await playgroundWebhook(webhooks)).id : hook.value;
      return delay.value === 'immediate' ? { webhookId, delay: 'immediate' } : { webhookId };
    },
  };
}

/** "Sent as req_…" in `log`, with the request's status read every second until it is final. */
export function sentNote(log, accepted, agent, context) {
  const line = h('p', { role: 'status' });
  const sent = h('li', { class: 'bubble note' }, 'Sent as ', navLink(`/requests/${accepted.id}`, accepted.id), line);
  log.append(sent);
  const show = (request) => {
    line.textContent =
      `Status: ${request.status}` +
      (request.status === 'scheduled' ? ` for ${whenFor(request.scheduledFor, agent)}` : '') +
      (request.deliveredAt ? ` at ${whenFor(request.deliveredAt, agent)}` : '') +
      (request.lastError ? ` (last error: ${request.lastError})` : '');
  };
  show(accepted);
  const timer = setInterval(async () => {
    try {
      const request = await api('GET', `/api/v1/message-requests/${accepted.id}`);
      show(request);
      if (FINAL.has(request.status)) clearInterval(timer);
    } catch (error) {
      clearInterval(timer);
      line.textContent = error.message;
    }
  }, 1000);
  context.onLeave(() => clearInterval(timer));
  return sent;
}

/** Follow the playground receiver while this page is open (again when the server ends the stream): the
 * returned `listen()` resolves once it is open; each delivery or event goes to `received(name, data)`. */
export function playgroundReceiver(context, status, received) {
  let listening = null;
  return function listen() {
    if (listening) return listening;
    const controller = new AbortController();
    context.onLeave(() => controller.abort());
    listening = new Promise((opened, failed) => {
      const run = () =>
        follow(
          '/api/v1/playground/events',
          (name, data) => (name === 'open' ? opened() : received(name, data)),
          controller.signal,
        )
          .then(() => !controller.signal.aborted && run())
          .catch((error) => {
            failed(error);
            listening = null;
            if (error.name !== 'AbortError') replace(status, notice('error', error.message));
          });
      run();
    });
    return listening;
  };
}
