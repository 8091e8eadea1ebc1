// The group playground: chat with a group. Realtime, each speaker's bubbles stream in under its name, and who
// is typing shows as it happens (the stream's `speaker` events); or the message goes out as an async group
// request, and sent to "this page" (the playground receiver) each member's reply joins the chat, its read and
// typing shown as they happen. In a `manual` group the person picks who answers.

import { api, stream } from '../api.js';
import { field, h, notice, replace, select } from '../dom.js';
import { whenFor } from '../format.js';
import { asyncChoices, chatBubble, chatButtons, playgroundReceiver, replyEvents, sentNote } from './chat.js';

/** `members`: the group's agents, in member order. */
export function groupPlayground(group, members, webhooks, context) {
  const byId = new Map(members.map((agent) => [agent.id, agent]));
  const conversation = []; // {role, content, createdAt, name (a user's) or agentId (a member's)}
  let chatId = ''; // the conversationId of async requests: a new one per chat
  // Focusable: a long chat scrolls inside the page, and a keyboard must be able to scroll it.
  const log = h('ol', {
    class: 'chat',
    tabindex: 0,
    'aria-live': 'polite',
    'aria-label': `Conversation with ${group.name}`,
  });
  const activity = h('p', { class: 'muted activity', role: 'status' }); // who reads or types now
  const input = h('textarea', { rows: 2, required: true, placeholder: `Write to ${group.name}…` });
  const writer = h('input', { type: 'text', autocomplete: 'nickname', placeholder: 'Sam' });
  const answerer =
    group.strategy === 'manual'
      ? field(
          'Who answers',
          select(members.map((agent) => [agent.id, agent.name])),
          'This group is manual: you pick the member.',
        )
      : null;
  const asAsync = h('input', { type: 'checkbox' });
  const choices = asyncChoices(
    webhooks,
    group.id,
    "each member answers on its own response-time table, counted from when it is awake (see the member's page)",
  );
  const typing = new Map(); // request id → the bubble of a reply being typed, sent to this page
  const status = h('div', {});
  const send = h('button', { type: 'submit', class: 'primary' }, 'Send');
  let controller = null;
  context.onLeave(() => controller?.abort());
  asAsync.addEventListener('change', () => {
    choices.element.hidden = !asAsync.checked;
  });

  /** A member's bubble; the first of a run of its bubbles is headed by its name. A user's has none (it is
   * the person on this page). */
  function bubble(message, agent) {
    if (message.role !== 'assistant') return chatBubble(log, message, null);
    const follows = agent && log.lastElementChild?.dataset.writer === agent.id;
    const item = chatBubble(log, message, agent, follows ? null : agent?.name);
    if (agent) item.dataset.writer = agent.id;
    return item;
  }

  const speaking = (body) => (group.strategy === 'manual' ? { ...body, agentId: answerer.control.value } : body);

  async function realtime() {
    controller = new AbortController();
    let speaker = null;
    const reply = replyEvents(conversation, status, (message) => bubble(message, speaker));
    await stream(
      '/api/v1/messages',
      speaking({ groupId: group.id, stream: true, messages: conversation }),
      (name, data) => {
        if (name === 'speaker') {
          speaker = byId.get(data.agentId) || { id: data.agentId, name: data.name, timezone: 'UTC' };
          activity.textContent = `${data.name} is typing…`;
          return;
        }
        if (name === 'done' || name === 'error') activity.textContent = '';
        reply(name, data);
      },
      controller.signal,
    );
  }

  /** A delivery or event of the playground receiver: this chat's, of any member and turn, joins it. */
  function received(name, data) {
    if (data.groupId !== group.id || data.conversationId !== chatId) return;
    const agent = byId.get(data.agentId);
    const who = agent?.name || data.agentId;
    if (name === 'message.read') {
      activity.textContent = `${who} read it at ${whenFor(data.readAt, agent)}.`;
    } else if (name === 'agent.typing') {
      activity.textContent = `${who} is typing; the reply comes at ${whenFor(data.until, agent)}.`;
      if (!typing.has(data.id)) typing.set(data.id, bubble({ role: 'assistant', content: '' }, agent));
      typing.get(data.id).classList.add('typing');
    } else if (name === 'message.reply') {
      typing.get(data.id)?.remove();
      typing.delete(data.id);
      for (const message of data.messages) {
        conversation.push({ ...message, agentId: data.agentId });
        bubble(message, agent);
      }
      activity.textContent = `${who} answered (turn ${data.turn}).`;
    }
  }
  const listen = playgroundReceiver(context, status, received);

  async function asynchronous() {
    const target = await choices.target();
    if (choices.isThisPage()) await listen();
    const body = speaking({
      groupId: group.id,
      ...target,
      conversationId: chatId,
      reference: `playground-${Date.now()}`,
      messages: conversation,
    });
    const accepted = await api('POST', '/api/v1/message-requests', body);
    sentNote(log, accepted, byId.get(accepted.agentId), context);
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
        if (writer.value.trim()) message.name = writer.value.trim();
        conversation.push(message);
        bubble(message);
        input.value = '';
        replace(status);
        send.disabled = true;
        try {
          await (asAsync.checked ? asynchronous() : realtime());
        } catch (error) {
          activity.textContent = '';
          if (error.name !== 'AbortError') replace(status, notice('error', error.message));
        } finally {
          send.disabled = false;
          input.focus();
        }
      },
    },
    field('Message', input),
    h(
      'div',
      { class: 'grid' },
      field('Your name', writer, 'Optional: the members see your messages under it.'),
      answerer,
    ),
    h('label', { class: 'check' }, asAsync, ' Send as an async request to a webhook instead'),
    choices.element,
    chatButtons(send, status, restart, input),
  );
  function restart() {
    conversation.length = 0;
    typing.clear();
    chatId = `playground-${Date.now()}`;
    activity.textContent = '';
    replace(log);
  }
  restart();
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  return h(
    'section',
    { class: 'card' },
    h('h2', {}, 'Playground'),
    h(
      'p',
      { class: 'muted' },
      `Members: ${members.map((agent) => agent.name).join(', ')}. Turn-taking: ${group.strategy}.`,
    ),
    log,
    activity,
    status,
    form,
  );
}
