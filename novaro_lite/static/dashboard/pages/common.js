// What pages share: loading/empty/error states, the secret shown once, and the agents' names.

import { api, listAll } from '../api.js';
import { h, notice, replace } from '../dom.js';

/** Show "Loading…" in `container`, then what `build()` returns, or the problem's detail if it fails. */
export async function load(container, build, what = 'Loading…') {
  replace(container, h('p', { class: 'muted', role: 'status' }, what));
  try {
    replace(container, await build());
  } catch (error) {
    if (error.name === 'AbortError') return;
    replace(container, notice('error', error.message));
  }
}

export function empty(text) {
  return h('p', { class: 'empty' }, text);
}

/** A value shown once (a new token or webhook secret), with a copy button and a clear warning. */
export function shownOnce(label, value) {
  const output = h('input', { type: 'text', readOnly: true, value, class: 'secret', spellcheck: false });
  output.setAttribute('aria-label', label);
  const copied = h('span', { role: 'status', class: 'muted' });
  return h(
    'div',
    { class: 'card once' },
    h('p', {}, h('strong', {}, `${label}: `), 'copy it now, you will not see it again.'),
    h(
      'div',
      { class: 'row' },
      output,
      h(
        'button',
        {
          type: 'button',
          onclick: async () => {
            output.select();
            try {
              await navigator.clipboard.writeText(value);
              copied.textContent = 'Copied.';
            } catch {
              copied.textContent = 'Press Ctrl+C (or ⌘C) to copy the selected text.';
            }
          },
        },
        'Copy',
      ),
      copied,
    ),
  );
}

/** Every agent of the account, by id (for names and time zones beside ids). */
export async function agentsById() {
  const { items } = await listAll('/api/v1/agents');
  return new Map(items.map((agent) => [agent.id, agent]));
}

export async function webhooksById() {
  const { items } = await listAll('/api/v1/webhooks');
  return new Map(items.map((webhook) => [webhook.id, webhook]));
}

export function navLink(path, text) {
  return h('a', { href: path, dataset: { nav: '' } }, text);
}

export function errorBox() {
  return h('div', { class: 'errors' });
}

/** Run `action`, showing its problem (or nothing) in `box`; returns the result or undefined. */
export async function attempt(box, action) {
  replace(box);
  try {
    return await action();
  } catch (error) {
    replace(box, notice('error', error.message));
    return undefined;
  }
}

export { api };
