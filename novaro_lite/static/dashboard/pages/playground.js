// The playground: chat with an agent. Realtime replies stream in as bubbles; or the conversation goes out
// as an async request to a webhook, and its status is followed live.

import { api, stream } from '../api.js';
import { field, h, notice, replace, select } from '../dom.js';
import { whenFor } from '../format.js';
import { navLink } from './common.js';

const FINAL = new Set(['delivered', 'failed', 'canceled', 'superseded']);

export function playground(agent, webhooks, context) {
  const conversation = []; // {role, content, createdAt}
  const log = h('ol', { class: 'chat', 'aria-live': 'polite', 'aria-label': `Conversation with ${agent.name}` });
  const input = h('textarea', { rows: 2, required: true, placeholder: `Write to ${agent.name}…` });
  const asAsync = h('input', { type: 'checkbox' });
  const hook = select(webhooks.map((webhook) => [webhook.id, webhook.description || webhook.url]));
  const delay = select(
    [
      ['immediate', 'immediately'],
      ['human', 'with human timing'],
    ],
    'immediate',
  );
  const asyncOptions = h('div', { class: 'grid', hidden: true }, field('Webhook', hook), field('Deliver', delay));
  const status = h('div', {});
  const send = h('button', { type: 'submit', class: 'primary' }, 'Send');
  let controller = null;
  context.onLeave(() => controller?.abort());

  asAsync.addEventListener('change', () => {
    asyncOptions.hidden = !asAsync.checked;
  });

  function bubble(message) {
    const time = h('time', {}, message.createdAt ? whenFor(message.createdAt, agent) : '');
    const text = h('p', {}, message.content);
    const item = h('li', { class: `bubble ${message.role}` }, text, time);
    item.update = (next) => {
      text.textContent = next.content;
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

  async function asynchronous() {
    if (!hook.value) throw new Error('Create a webhook first (Webhooks page) to send async requests.');
    const body = {
      agentId: agent.id,
      webhookId: hook.value,
      reference: `playground-${Date.now()}`,
      messages: conversation,
    };
    if (delay.value === 'immediate') body.delay = 'immediate';
    const accepted = await api('POST', '/api/v1/message-requests', body);
    const line = h('p', { role: 'status' });
    const follow = h(
      'li',
      { class: 'bubble note' },
      'Sent as ',
      navLink(`/requests/${accepted.id}`, accepted.id),
      line,
    );
    log.append(follow);
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
            conversation.length = 0;
            replace(log);
            replace(status);
          },
        },
        'Clear',
      ),
    ),
  );
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  return h('section', { class: 'card' }, h('h2', {}, 'Playground'), log, status, form);
}
