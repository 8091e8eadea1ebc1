// What the model sees: the prompt the agent would get for a sample message, as the server builds it for a
// reply (persona, card fields, the contexts that enter), without calling the model.

import { api } from '../api.js';
import { field, h, replace, scrollBox } from '../dom.js';
import { attempt, errorBox } from './common.js';

export function promptView(agent) {
  const sample = field(
    'What the person writes',
    h('textarea', { rows: 2, maxLength: 20000, value: 'Hi! How is your day going?' }),
    'Keyword contexts enter only when one of their keys occurs in it. Leave it empty to see a new chat.',
  );
  const errors = errorBox();
  const shown = h('div', { 'aria-live': 'polite' });

  async function show(event) {
    event.preventDefault();
    const text = sample.control.value.trim();
    const body = { messages: text ? [{ role: 'user', content: text, createdAt: Math.floor(Date.now() / 1000) }] : [] };
    const preview = await attempt(errors, () =>
      api('POST', `/api/v1/agents/${encodeURIComponent(agent.id)}/prompt-preview`, body),
    );
    if (!preview) return;
    replace(
      shown,
      h('p', {}, 'Answered by ', h('code', {}, preview.model), '.'),
      preview.contexts.length
        ? h(
            'ul',
            { class: 'contexts-used' },
            preview.contexts.map((used) => h('li', {}, h('strong', {}, used.name), ` — ${usedBecause(used)}`)),
          )
        : h('p', { class: 'muted' }, 'No contexts.'),
      h('h3', {}, 'System prompt'),
      scrollBox('pre', 'prompt', 'System prompt', preview.system),
      preview.messages.length ? h('h3', {}, 'Conversation') : null,
      preview.messages.map((message, index) =>
        scrollBox('pre', 'prompt', `Conversation message ${index + 1}`, `${message.role}: ${message.content}`),
      ),
    );
  }

  return h(
    'section',
    { class: 'card' },
    h('h2', {}, 'What the model sees'),
    h('form', { class: 'form', onsubmit: show }, sample, errors, h('button', { type: 'submit' }, 'Show the prompt')),
    shown,
  );
}

// Why a context is in the prompt or left out, as the server decided it (`why`).
function usedBecause(used) {
  switch (used.why) {
    case 'always':
      return 'in the prompt, always.';
    case 'key':
      return 'in the prompt: one of its keys occurs.';
    case 'key_and_secondary':
      return 'in the prompt: one of its keys and one of its secondary keys occur.';
    case 'no_secondary_key':
      return `left out: a key occurs, but none of its secondary keys (${used.secondaryKeys.join(', ')}) does.`;
    default:
      return `left out: none of its keys (${used.keys.join(', ')}) occurs.`;
  }
}
