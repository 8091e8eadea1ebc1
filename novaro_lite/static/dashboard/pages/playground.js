// The playground: chat with an agent. Realtime replies stream in as bubbles; or the conversation goes out
// as an async request to a webhook, and its status is followed live. Sent to "this page" (the server's
// playground receiver, docs/api.md), the async reply joins the conversation, read and typing as they happen.

import { api, follow, stream } from '../api.js';
import { field, h, notice, replace, select } from '../dom.js';
import { duration, whenFor } from '../format.js';
import { DEFAULT_RESPONSE_TIMES } from './agent_form.js';
import { resolved } from './character.js';
import { navLink } from './common.js';

const FINAL = new Set(['delivered', 'failed', 'canceled', 'superseded']);
const PLAYGROUND_URL = 'novaro-lite:playground';
const THIS_PAGE = 'this-page';

/** "usually within 5 min (half within 5 min, 9 in 10 within 1.5 h)": from the agent's response-time table. */
export function expectedWait(agent) {
  const bands = agent.responseTimes || DEFAULT_RESPONSE_TIMES;
  const within = (share) => {
    let sum = 0;
    for (const band of bands) {
      sum += band.probability;
      if (sum >= share - 1e-9) return band.upToSeconds;
    }
    return bands.at(-1).upToSeconds;
  };
  return `half of replies within ${duration(within(0.5))}, 9 in 10 within ${duration(within(0.9))}, counted from when ${agent.name} is awake`;
}

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

export function playground(agent, webhooks, context) {
  const conversation = []; // {role, content, createdAt}
  const log = h('ol', { class: 'chat', 'aria-live': 'polite', 'aria-label': `Conversation with ${agent.name}` });
  const input = h('textarea', { rows: 2, required: true, placeholder: `Write to ${agent.name}…` });
  const asAsync = h('input', { type: 'checkbox' });
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
  const wait = h(
    'small',
    { id: `wait-${agent.id}`, class: 'muted', hidden: true },
    `Expected wait: ${expectedWait(agent)}.`,
  );
  delay.setAttribute('aria-describedby', wait.id);
  delay.addEventListener('change', () => {
    wait.hidden = delay.value !== 'human';
  });
  const asyncOptions = h(
    'div',
    { hidden: true },
    h('div', { class: 'grid' }, field('Webhook', hook), field('Deliver', delay)),
    wait,
  );
  const mine = new Map(); // request id → its note in the conversation, for replies that come to this page
  let listening = null; // resolves once the page follows the playground receiver
  const early = []; // [name, data] of events that came before their request was known here
  const status = h('div', {});
  const send = h('button', { type: 'submit', class: 'primary' }, 'Send');
  let controller = null;
  context.onLeave(() => controller?.abort());

  asAsync.addEventListener('change', () => {
    asyncOptions.hidden = !asAsync.checked;
  });

  function bubble(message) {
    const time = h('time', {}, message.createdAt ? whenFor(message.createdAt, agent) : '');
    const text = h('p', {}, resolved(message.content, agent));
    const item = h('li', { class: `bubble ${message.role}` }, text, time);
    item.update = (next) => {
      replace(text, resolved(next.content, agent));
      if (next.createdAt) time.textContent = whenFor(next.createdAt, agent);
    };
    log.append(item);
    item.scrollIntoView({ block: 'nearest' });
    return item;
  }

  async function realtime() {
    controller = new AbortController();
    let pending = null;
    let typed = '';
    await stream(
      '/api/v1/messages',
      { agentId: agent.id, stream: true, messages: conversation },
      (name, data) => {
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
          replace(
            status,
            h(
              'p',
              { class: 'muted' },
              `${data.usage.provider}/${data.usage.model}: ` +
                `${data.usage.promptTokens} prompt + ${data.usage.completionTokens} completion tokens.`,
            ),
          );
        } else if (name === 'error') {
          replace(status, notice('error', data.detail));
        }
      },
      controller.signal,
    );
  }

  /** Follow the playground receiver while this page is open (again when the server ends the stream). */
  function listen() {
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
  }

  function received(name, data) {
    const note = mine.get(data.id);
    if (!note) {
      // Another page's request or a test ping, or ours before its POST answered: kept a moment for that.
      early.push([name, data]);
      if (early.length > 20) early.shift();
      return;
    }
    if (name === 'message.read') note.say(`${agent.name} read it at ${whenFor(data.readAt, agent)}.`);
    else if (name === 'agent.typing') {
      note.say(`${agent.name} is typing; the reply comes at ${whenFor(data.until, agent)}.`);
      note.typing = note.typing || bubble({ role: 'assistant', content: '' });
      note.typing.classList.add('typing');
    } else if (name === 'message.reply') {
      note.typing?.remove();
      for (const message of data.messages) {
        conversation.push(message);
        bubble(message);
      }
      mine.delete(data.id);
    }
  }

  async function asynchronous() {
    let webhookId = hook.value;
    if (webhookId === THIS_PAGE) {
      webhookId = (await playgroundWebhook(webhooks)).id;
      await listen();
    }
    const body = {
      agentId: agent.id,
      webhookId,
      reference: `playground-${Date.now()}`,
      messages: conversation,
    };
    if (delay.value === 'immediate') body.delay = 'immediate';
    const accepted = await api('POST', '/api/v1/message-requests', body);
    const line = h('p', { role: 'status' });
    const sent = h('li', { class: 'bubble note' }, 'Sent as ', navLink(`/requests/${accepted.id}`, accepted.id), line);
    log.append(sent);
    if (hook.value === THIS_PAGE) {
      const heard = h('p', { class: 'muted' });
      sent.append(heard);
      mine.set(accepted.id, {
        say: (text) => {
          heard.textContent = text;
        },
      });
      for (const [name, data] of early.splice(0).filter(([, data]) => data.id === accepted.id)) received(name, data);
    }
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
  }

  const form = h(
    'form',
    {
      class: 'composer',
      onsubmit: async (event) => {
        event.preventDefault();
        const content = input.value.trim();
        if (!content) return;
        const message = { role: 'user', content, createdAt: Math.floor(Date.now() / 1000) };
        conversation.push(message);
        bubble(message);
        input.value = '';
        replace(status);
        send.disabled = true;
        try {
          await (asAsync.checked ? asynchronous() : realtime());
        } catch (error) {
          if (error.name !== 'AbortError') replace(status, notice('error', error.message));
        } finally {
          send.disabled = false;
          input.focus();
        }
      },
    },
    field('Message', input),
    h('label', { class: 'check' }, asAsync, ' Send as an async request to a webhook instead'),
    asyncOptions,
    h(
      'div',
      { class: 'row' },
      send,
      h(
        'button',
        {
          type: 'button',
          onclick: () => {
            replace(status);
            restart();
            input.focus();
          },
        },
        'New chat',
      ),
    ),
  );
  /** A new chat: empty, or opened by the agent's greeting. */
  function restart() {
    conversation.length = 0;
    mine.clear();
    replace(log);
    if (agent.greeting) {
      const greeting = { role: 'assistant', content: agent.greeting, createdAt: Math.floor(Date.now() / 1000) };
      conversation.push(greeting);
      bubble(greeting);
    }
  }
  restart();
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  return h('section', { class: 'card' }, h('h2', {}, 'Playground'), log, status, form);
}
