// An agent's character: the card fields (greeting, example messages, tags…) shown with {{char}} and {{user}}
// marked, and a form that edits every one of them.

import { api } from '../api.js';
import { field, h, replace, scrollBox } from '../dom.js';
import { attempt, errorBox } from './common.js';

const SEPARATOR = '\n---\n'; // between alternate greetings in their text box

/** `text` with {{char}} shown as the agent's name and {{user}} as a marked placeholder, as nodes. */
export function resolved(text, agent) {
  return text.split(/(\{\{(?:char|user)\}\})/i).map((part) => {
    const lower = part.toLowerCase();
    if (lower === '{{char}}') return h('mark', { title: '{{char}}' }, agent.nickname || agent.name);
    if (lower === '{{user}}') return h('mark', { title: '{{user}}: the person chatting' }, 'you');
    return part;
  });
}

const TEXTS = [
  ['greeting', 'Greeting', 'The first message of a new chat.'],
  ['exampleMessages', 'Example messages', 'Example chats showing how the agent writes.'],
  ['systemPrompt', 'System prompt', 'Put before the built-in prompt, or around it where it says {{original}}.'],
  ['postHistoryInstructions', 'Post-history instructions', 'Put at the very end of the system prompt.'],
  ['creatorNotes', 'Creator notes', 'For people; never shown to the model.'],
];
const SHORTS = [
  ['nickname', 'Nickname', 'What people call the agent; replaces {{char}}. Empty: the name.'],
  ['creator', 'Creator', ''],
  ['characterVersion', 'Character version', ''],
];

/** The Character section of the agent page; `onSaved(agent)` after an edit was accepted. */
export function characterSection(agent, onSaved) {
  const shown = [
    ['Greeting', agent.greeting],
    ...agent.alternateGreetings.map((text, index) => [`Alternate greeting ${index + 1}`, text]),
    ['Example messages', agent.exampleMessages],
    ['System prompt', agent.systemPrompt],
    ['Post-history instructions', agent.postHistoryInstructions],
    ['Creator notes', agent.creatorNotes],
  ].filter(([, text]) => text);
  const facts = [
    ['Nickname', agent.nickname || '—'],
    ['Tags', agent.tags.join(', ') || '—'],
    ['Creator', agent.creator || '—'],
    ['Version', agent.characterVersion || '—'],
  ];
  const holder = h('div', {});
  const edit = h('button', { type: 'button', onclick: () => holder.replaceChildren(form()) }, 'Edit character');

  function form() {
    const fields = {};
    for (const [name, label, hint] of TEXTS) {
      fields[name] = field(label, h('textarea', { rows: 3, value: agent[name] }), hint);
    }
    fields.alternateGreetings = field(
      'Alternate greetings',
      h('textarea', { rows: 3, value: agent.alternateGreetings.join(SEPARATOR) }),
      'Separate them with a line of three dashes (---).',
    );
    for (const [name, label, hint] of SHORTS) {
      fields[name] = field(label, h('input', { type: 'text', value: agent[name] || '' }), hint || undefined);
    }
    fields.tags = field('Tags', h('input', { type: 'text', value: agent.tags.join(', ') }), 'Separated by commas.');
    const errors = errorBox();
    const node = h(
      'form',
      {
        class: 'form',
        onsubmit: async (event) => {
          event.preventDefault();
          const body = {};
          for (const [name] of [...TEXTS, ...SHORTS]) body[name] = fields[name].control.value;
          body.nickname = body.nickname.trim() || null;
          body.alternateGreetings = fields.alternateGreetings.control.value
            .split(/\n\s*---\s*\n/)
            .map((text) => text.trim())
            .filter(Boolean);
          body.tags = fields.tags.control.value
            .split(',')
            .map((tag) => tag.trim())
            .filter(Boolean);
          const saved = await attempt(
            errors,
            () => api('PATCH', `/api/v1/agents/${encodeURIComponent(agent.id)}`, body),
            fields,
          );
          if (saved) onSaved(saved);
        },
      },
      Object.values(fields),
      errors,
      h('div', { class: 'row' }, h('button', { type: 'submit', class: 'primary' }, 'Save character')),
    );
    queueMicrotask(() => fields.greeting.control.focus());
    return node;
  }

  replace(
    holder,
    h(
      'dl',
      { class: 'facts' },
      facts.map(([term, value]) => h('div', {}, h('dt', {}, term), h('dd', {}, value))),
    ),
    shown.length
      ? shown.map(([term, text]) =>
          h('div', {}, h('h3', {}, term), scrollBox('p', 'persona clip', term, resolved(text, agent))),
        )
      : h('p', { class: 'empty' }, 'No greeting or example messages yet.'),
    h('div', { class: 'row' }, edit),
  );
  return h(
    'section',
    { class: 'card', 'aria-labelledby': `character-${agent.id}` },
    h('h2', { id: `character-${agent.id}` }, 'Character'),
    holder,
  );
}
