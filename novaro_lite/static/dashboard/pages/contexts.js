// Contexts: named background text for agents, always in the prompt or only when a keyword comes up (a
// card's lorebook entries arrive as keyword contexts). Deleting one that agents use names them and asks.

import { api } from '../api.js';
import { confirmButton, field, h, notice, replace, table } from '../dom.js';
import { when } from '../format.js';
import { attempt, errorBox, navLink, pagedList, searchBox } from './common.js';

/** Keys typed as one line, separated by commas, as the API's list (blank ones left out). */
function keyList(text) {
  return text
    .split(',')
    .map((key) => key.trim())
    .filter(Boolean);
}

/** When the context enters the prompt, in words. */
export function whenUsed(context) {
  if (!context.keys.length) return 'Always';
  const also = context.selective && context.secondaryKeys.length ? ` with ${context.secondaryKeys.join(', ')}` : '';
  return `When ${context.keys.join(', ')}${also} comes up`;
}

export async function contextsPage(main) {
  const editor = h('div', {});
  const status = h('div', {});
  const search = searchBox('a name or part of one', () => list.restart());

  function form(existing) {
    const value = existing || { name: '', content: '', keys: [], secondaryKeys: [], selective: false };
    const name = field('Name', h('input', { type: 'text', required: true, maxLength: 200, value: value.name }));
    const content = field(
      'Content',
      h('textarea', { rows: 14, class: 'large', value: value.content }),
      'What the agents should know: a menu, opening hours, a product sheet.',
    );
    const keys = field(
      'Keys',
      h('input', { type: 'text', value: value.keys.join(', ') }),
      'Leave empty to use it in every conversation; with keys (separated by commas) it enters the prompt only ' +
        'when one of them occurs in the recent messages.',
    );
    const secondary = field(
      'Secondary keys',
      h('input', { type: 'text', value: value.secondaryKeys.join(', ') }),
      'With “Needs a secondary key too”, one of these must occur as well.',
    );
    const selective = h('input', { type: 'checkbox', checked: value.selective });
    const caseSensitive = h('input', { type: 'checkbox', checked: Boolean(value.caseSensitive) });
    const fields = { name, content, keys, secondaryKeys: secondary };
    const errors = errorBox();
    replace(
      editor,
      h(
        'form',
        {
          class: 'card form',
          onsubmit: async (event) => {
            event.preventDefault();
            const body = {
              name: name.control.value,
              content: content.control.value,
              keys: keyList(keys.control.value),
              secondaryKeys: keyList(secondary.control.value),
              selective: selective.checked,
              caseSensitive: caseSensitive.checked,
            };
            const saved = await attempt(
              errors,
              () =>
                existing
                  ? api('PATCH', `/api/v1/contexts/${encodeURIComponent(existing.id)}`, body)
                  : api('POST', '/api/v1/contexts', body),
              fields,
            );
            if (saved) {
              replace(editor);
              replace(status, notice('info', `Saved ${saved.name}.`));
              await list.refresh();
            }
          },
        },
        h('h2', {}, existing ? `Edit ${existing.name}` : 'New context'),
        name,
        content,
        h(
          'fieldset',
          {},
          h('legend', {}, 'When it is used'),
          keys,
          secondary,
          h('label', { class: 'check' }, selective, ' Needs a secondary key too'),
          h('label', { class: 'check' }, caseSensitive, ' Keys match with case'),
        ),
        errors,
        h(
          'div',
          { class: 'row' },
          h('button', { type: 'submit', class: 'primary' }, existing ? 'Save context' : 'Create context'),
          h('button', { type: 'button', onclick: () => replace(editor) }, 'Cancel'),
        ),
      ),
    );
    name.control.focus();
  }

  async function remove(context, force) {
    try {
      await api('DELETE', `/api/v1/contexts/${encodeURIComponent(context.id)}${force ? '?force=true' : ''}`);
      replace(status, notice('info', `Deleted ${context.name}.`));
      await list.refresh();
    } catch (error) {
      if (error.status !== 409 || !error.problem.agents) {
        replace(status, notice('error', error.message));
        return;
      }
      // In use: say by whom, by name, and let the person choose.
      const agents = error.problem.agents;
      const names = agents.map((agent, index) => [
        index ? (index === agents.length - 1 ? ' and ' : ', ') : '',
        navLink(`/agents/${agent.id}`, agent.name),
      ]);
      const keep = h(
        'button',
        { type: 'button', onclick: () => replace(status, notice('info', `Kept ${context.name}.`)) },
        'Keep it',
      );
      replace(
        status,
        h(
          'div',
          { class: 'notice error', role: 'alert' },
          h('p', {}, `${context.name} is used by `, names, '. Deleting it takes it away from them.'),
          h(
            'div',
            { class: 'row' },
            h(
              'button',
              { type: 'button', class: 'danger', onclick: () => remove(context, true) },
              agents.length === 1 ? `Take it from ${agents[0].name} and delete` : 'Take it from them and delete',
            ),
            keep,
          ),
        ),
      );
      keep.focus();
    }
  }

  const list = pagedList({
    path: '/api/v1/contexts',
    noun: 'context',
    query: () => (search.value.trim() ? { q: search.value.trim() } : {}),
    none: (q) => (q ? `No context's name contains “${q}”.` : 'No contexts yet.'),
    render: (contexts) =>
      table(
        'Contexts',
        ['Name', 'Used', 'Size', 'Updated', ''],
        contexts.map((context) => [
          context.name,
          whenUsed(context),
          `${context.content.length.toLocaleString()} characters`,
          when(context.updatedAt),
          h(
            'span',
            { class: 'row' },
            h('button', { type: 'button', onclick: () => form(context) }, 'Edit'),
            confirmButton('Delete', `Delete ${context.name}?`, () => remove(context, false)),
          ),
        ]),
      ),
  });

  main.append(
    h('h1', {}, 'Contexts'),
    h(
      'p',
      { class: 'muted' },
      'Named background texts agents know: in every conversation, or only when one of their keys comes up.',
    ),
    h('button', { type: 'button', class: 'primary', onclick: () => form(null) }, 'New context'),
    editor,
    status,
    field('Search contexts', search, 'Finds the names that contain the text.'),
    list.element,
  );
  await list.restart();
}
