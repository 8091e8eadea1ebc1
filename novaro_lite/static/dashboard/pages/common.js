// What pages share: loading/empty/error states, the secret shown once, and the agents' names.

import { api, listAll } from '../api.js';
import { h, notice, replace, table } from '../dom.js';

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

/** A validator's message in plain words, using the field's own hint for a value of the wrong form. */
export function plainWords(message, hint) {
  const most = /at most (\d+) (character|item)/.exec(message);
  if (most) return `Use at most ${Number(most[1]).toLocaleString()} ${most[2]}s.`;
  if (/at least 1 character/.test(message)) return 'Fill this in.';
  if (/should match pattern/.test(message))
    return hint ? `Not in the expected form. ${hint}` : 'Not in the expected form.';
  const text = message.charAt(0).toUpperCase() + message.slice(1);
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

/** Run `action`, showing its problem (or nothing) in `box`; returns the result or undefined. With `fields`
 * (wire name → field()), each error of the body goes on its field, in plain words, and the first is focused. */
export async function attempt(box, action, fields = {}) {
  replace(box);
  for (const wrapper of Object.values(fields)) wrapper.problem('');
  try {
    return await action();
  } catch (error) {
    const marked = [];
    for (const item of error.problem?.errors || []) {
      const wrapper = item.loc?.[0] === 'body' ? fields[item.loc[1]] : undefined;
      if (!wrapper) continue;
      wrapper.problem(plainWords(String(item.msg), wrapper.hint));
      marked.push(wrapper);
    }
    if (marked.length) {
      replace(
        box,
        notice('error', marked.length === 1 ? 'Check the field marked below.' : 'Check the fields marked below.'),
      );
      marked[0].control.focus();
    } else replace(box, notice('error', error.message));
    return undefined;
  }
}

const PAGE_SIZE = 50;

/** `items` (in the order given: newest first) as a table of PAGE_SIZE rows a page, with the count of
 * matches and Previous/Next; `rowOf(item)` gives a row's cells, `noun` names one item ("agent"). */
export function pagedTable(caption, headers, items, rowOf, noun) {
  const holder = h('div', {});
  let start = 0;
  function draw(focus) {
    const shown = items.slice(start, start + PAGE_SIZE);
    const plural = `${items.length.toLocaleString()} ${noun}${items.length === 1 ? '' : 's'}`;
    const count =
      items.length > PAGE_SIZE ? `${plural}; showing ${start + 1}–${start + shown.length}, newest first` : plural;
    const previous = h('button', { type: 'button', disabled: start === 0, onclick: () => move(-1) }, 'Previous');
    const next = h(
      'button',
      { type: 'button', disabled: start + PAGE_SIZE >= items.length, onclick: () => move(1) },
      'Next',
    );
    replace(
      holder,
      h(
        'div',
        { class: 'pager' },
        h('p', { class: 'count muted' }, count),
        items.length > PAGE_SIZE ? [previous, next] : null,
      ),
      table(caption, headers, shown.map(rowOf)),
    );
    if (focus) {
      const [pressed, other] = focus < 0 ? [previous, next] : [next, previous];
      (pressed.disabled ? other : pressed).focus(); // the button just pressed is gone: keep the place
    }
  }
  function move(step) {
    start = Math.max(0, start + step * PAGE_SIZE);
    draw(step);
  }
  draw(0);
  return holder;
}

export { api };
