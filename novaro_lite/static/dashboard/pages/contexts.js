// Contexts: named background text for agents. Deleting one that agents use shows the 409 and offers force.

import { api, listAll } from '../api.js';
import { field, h, notice, replace, table } from '../dom.js';
import { when } from '../format.js';
import { attempt, empty, errorBox, load } from './common.js';

export async function contextsPage(main) {
  const editor = h('div', {});
  const list = h('div', {});
  const status = h('div', {});

  function form(existing) {
    const name = field(
      'Name',
      h('input', { type: 'text', required: true, maxLength: 200, value: existing ? existing.name : '' }),
    );
    const content = field(
      'Content',
      h('textarea', { rows: 14, class: 'large', value: existing ? existing.content : '' }),
      'What the agents should know: a menu, opening hours, a product sheet.',
    );
    const errors = errorBox();
    replace(
      editor,
      h(
        'form',
        {
          class: 'card form',
          onsubmit: async (event) => {
            event.preventDefault();
            const body = { name: name.control.value, content: content.control.value };
            const saved = await attempt(errors, () =>
              existing
                ? api('PATCH', `/api/v1/contexts/${encodeURIComponent(existing.id)}`, body)
                : api('POST', '/api/v1/contexts', body),
            );
            if (saved) {
              replace(editor);
              replace(status, notice('info', `Saved ${saved.name}.`));
              await refresh();
            }
          },
        },
        h('h2', {}, existing ? `Edit ${existing.name}` : 'New context'),
        name,
        content,
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
      await refresh();
    } catch (error) {
      if (error.status !== 409) {
        replace(status, notice('error', error.message));
        return;
      }
      const again = h(
        'button',
        { type: 'button', class: 'danger', onclick: () => remove(context, true) },
        'Detach from those agents and delete',
      );
      replace(status, h('div', { class: 'notice error', role: 'alert' }, h('p', {}, error.message), again));
      again.focus();
    }
  }

  async function refresh() {
    await load(list, async () => {
      const { items } = await listAll('/api/v1/contexts');
      if (!items.length) return empty('No contexts yet.');
      return table(
        'Contexts',
        ['Name', 'Size', 'Updated', ''],
        items.map((context) => [
          context.name,
          `${context.content.length} characters`,
          when(context.updatedAt),
          h(
            'span',
            { class: 'row' },
            h('button', { type: 'button', onclick: () => form(context) }, 'Edit'),
            h('button', { type: 'button', class: 'danger', onclick: () => remove(context, false) }, 'Delete'),
          ),
        ]),
      );
    });
  }

  main.append(
    h('h1', {}, 'Contexts'),
    h('p', { class: 'muted' }, 'Named background texts agents know in every conversation.'),
    h('button', { type: 'button', class: 'primary', onclick: () => form(null) }, 'New context'),
    editor,
    status,
    list,
  );
  await refresh();
}
