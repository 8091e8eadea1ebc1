// The playground: chat with an agent. Realtime replies stream in as bubbles; or the conversation goes out
// as an async request to a webhook, and its status is followed live. Sent to "this page" (the server's
// playground receiver, docs/api.md), the async reply joins the conversation, read and typing as they happen;
// so does a check-in scheduled from here (check_ins.js), which the chat's next message ends. What the group
// playground shares with it is in chat.js.

import { api, stream } from '../api.js';
import { field, h, notice, replace } from '../dom.js';
import { duration, whenFor } from '../format.js';
import { DEFAULT_RESPONSE_TIMES } from './agent_form.js';
import { asyncChoices, chatBubble, chatButtons, playgroundReceiver, replyEvents, sentNote } from './chat.js';
import { checkInForm } from './check_ins.js';

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

/** The playground's chat; `checkedIn()` runs when a check-in is scheduled from it (the page's list refreshes). */
export function playground(agent, webhooks, context, checkedIn = () => {}) {
  const conversation = []; // {role, content, createdAt}
  // The chat's conversationId (New chat starts another): a check-in scheduled in it ends when the user writes.
  let conversationId = '';
  // Focusable: a long chat scrolls, and a keyboard must be able to scroll it.
  const log = h('ol', {
    class: 'chat',
    tabindex: 0,
    'aria-live': 'polite',
    'aria-label': `Conversation with ${agent.name}`,
  });
  const input = h('textarea', { rows: 2, required: true, placeholder: `Write to ${agent.name}…` });
  const asAsync = h('input', { type: 'checkbox' });
  const choices = asyncChoices(webhooks, agent.id, expectedWait(agent));
  const asyncOptions = choices.element;
  const mine = new Map(); // request id → its note in the conversation, for replies that come to this page
  const early = []; // [name, data] of events that came before their request was known here
  const status = h('div', {});
  const send = h('button', { type: 'submit', class: 'primary' }, 'Send');
  let controller = null;
  context.onLeave(() => controller?.abort());

  asAsync.addEventListener('change', () => {
    asyncOptions.hidden = !asAsync.checked;
  });

  const bubble = (message) => chatBubble(log, message, agent);

  async function realtime() {
    controller = new AbortController();
    await stream(
      '/api/v1/messages',
      { agentId: agent.id, stream: true, messages: conversation, conversationId },
      replyEvents(conversation, status, bubble),
      controller.signal,
    );
  }

  const listen = playgroundReceiver(context, status, (name, data) => received(name, data));

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
    } else if (name === 'message.reply' || name === 'message.check_in') {
      note.typing?.remove();
      for (const message of data.messages) {
        conversation.push(message);
        bubble(message);
      }
      mine.delete(data.id);
    }
  }

  /** A note in the conversation that says what happens to request or check-in `id` delivered to this page. */
  function track(id, sent) {
    const heard = h('p', { class: 'muted' });
    sent.append(heard);
    mine.set(id, {
      say: (text) => {
        heard.textContent = text;
      },
    });
    for (const [name, data] of early.splice(0).filter(([, data]) => data.id === id)) received(name, data);
  }

  async function asynchronous() {
    const target = await choices.target();
    if (choices.isThisPage()) await listen();
    const body = {
      agentId: agent.id,
      ...target,
      conversationId,
      reference: `playground-${Date.now()}`,
      messages: conversation,
    };
    const accepted = await api('POST', '/api/v1/message-requests', body);
    const sent = sentNote(log, accepted, agent, context);
    if (choices.isThisPage()) track(accepted.id, sent);
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
    chatButtons(send, status, restart, input),
  );
  /** A new chat: empty, or opened by the agent's greeting. */
  function restart() {
    conversationId = `playground-${agent.id}-${Date.now().toString(36)}`;
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
  /** The chosen webhook's id for a check-in; for this page, the playground webhook, followed from now on. */
  async function checkInWebhook() {
    const { webhookId } = await choices.target();
    if (choices.isThisPage()) await listen();
    return webhookId;
  }
  const checkIn = checkInForm(
    agent,
    () => ({ conversationId, messages: conversation, webhookId: checkInWebhook }),
    (made) => {
      const sent = h(
        'li',
        { class: 'bubble note' },
        `Check-in ${made.id} scheduled for ${whenFor(made.scheduledFor, agent)}.`,
      );
      log.append(sent);
      if (choices.isThisPage()) track(made.id, sent);
      checkedIn(made);
    },
  );
  return h('section', { class: 'card' }, h('h2', {}, 'Playground'), log, status, form, checkIn);
}
