// What pages share: loading/empty/error states, the secret shown once, lists the server pages, look-ups by id.

import { api } from '../api.js';
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

/** Resources of `path` (/api/v1/agents) fetched by id as rows need them, each once; `get(id)` is
 * undefined for one that does not exist (any more). */
export function lookup(path) {
  const known = new Map();
  return {
    get: (id) => known.get(id),
    remember: (item) => known.set(item.id, item),
    async fetch(ids) {
      const missing = [...new Set(ids)].filter((id) => id && !known.has(id));
      await Promise.all(
        missing.map(async (id) => {
          try {
            known.set(id, await api('GET', `${path}/${encodeURIComponent(id)}`));
          } catch (error) {
            if (error.status !== 404) throw error;
            known.set(id, undefined);
          }
        }),
      );
    },
  };
}

export function navLink(path, text) {
  return h('a', { href: path, dataset: { nav: '' } }, text);
}

export function errorBox() {
  return h('div', { class: 'errors' });
}

// Pydantic's messages ("List should have at least 2 items after validation, not 1"), in plain words.
const PLAIN = [
  [/at least 1 character|^Field required/, () => 'Fill this in.'],
  [
    /at (most|least) (\d+) (character|item)/,
    (_, side, n, unit) => `Use at ${side} ${Number(n).toLocaleString()} ${unit}${n === '1' ? '' : 's'}.`,
  ],
  [/should be greater than or equal to (\S+)/, (_, n) => `Use ${n} or more.`],
  [/should be greater than (\S+)/, (_, n) => `Use more than ${n}.`],
  [/should be less than or equal to (\S+)/, (_, n) => `Use ${n} or less.`],
  [/should be less than (\S+)/, (_, n) => `Use less than ${n}.`],
  [/should be a valid integer/, () => 'Use a whole number.'],
  [/should be a valid number/, () => 'Use a number.'],
];

/** A validator's message in plain words, using the field's own hint for a value of the wrong form; the
 * server's own sentences (after pydantic's "Value error, ") as they are. */
export function plainWords(message, hint) {
  for (const [pattern, words] of PLAIN) {
    const found = pattern.exec(message);
    if (found) return words(...found);
  }
  if (/should match pattern/.test(message))
    return hint ? `Not in the expected form. ${hint}` : 'Not in the expected form.';
  const own = message.replace(/^(Value|Assertion) error, /, '');
  const text = own.charAt(0).toUpperCase() + own.slice(1);
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

/** A list the server pages, searches and counts: PAGE_SIZE items of `path` a page, newest first, with the
 * number that match and Previous/Next. `query()` gives the search and filters (q=, status=…) at each draw;
 * `prepare(items)` may fetch what the rows need (names); `render(items)` builds the table or cards; `none`
 * is what an empty page says, given the search. `refresh()` redraws only when the page changed, keeping the
 * focused link or button where it was; `restart()` goes back to the first page (after a new search). */
export function pagedList({ path, noun, query = () => ({}), prepare, render, none }) {
  const holder = h('div', {});
  const cursors = [null]; // each shown page's cursor: the last is the current page's, the ones before go back
  let shown = null;

  async function draw(step) {
    const params = new URLSearchParams({ ...query(), limit: String(PAGE_SIZE), order: 'newest' });
    if (cursors.at(-1)) params.set('cursor', cursors.at(-1));
    const page = await api('GET', `${path}?${params}`);
    const seen = JSON.stringify([page, [...params]]);
    if (seen === shown) return;
    shown = seen;
    if (prepare) await prepare(page.data);
    const focused = holder.contains(document.activeElement) ? document.activeElement : null;
    const place = focused?.getAttribute('href') || focused?.textContent;
    const first = (cursors.length - 1) * PAGE_SIZE;
    const plural = `${page.total.toLocaleString()} ${noun}${page.total === 1 ? '' : 's'}`;
    const count = page.total > PAGE_SIZE ? `${plural}; showing ${first + 1}–${first + page.data.length}` : plural;
    const previous = h(
      'button',
      { type: 'button', disabled: cursors.length === 1, onclick: () => move(-1, page) },
      'Previous',
    );
    const next = h('button', { type: 'button', disabled: !page.nextCursor, onclick: () => move(1, page) }, 'Next');
    replace(
      holder,
      h(
        'div',
        { class: 'pager' },
        h('p', { class: 'count muted' }, `${count}, newest first`),
        page.total > PAGE_SIZE ? [previous, next] : null,
      ),
      page.data.length ? render(page.data) : empty(none(params.get('q'))),
    );
    if (step) {
      const [pressed, other] = step < 0 ? [previous, next] : [next, previous];
      (pressed.disabled ? other : pressed).focus(); // the button just pressed is gone: keep the place
    } else if (focused) {
      const again = [...holder.querySelectorAll('a, button')].find(
        (node) => (node.getAttribute('href') || node.textContent) === place,
      );
      (again || holder.querySelector('.table-wrap') || holder).focus();
    }
  }

  async function safely(step) {
    try {
      await draw(step);
    } catch (error) {
      if (error.name === 'AbortError') return;
      shown = null;
      replace(holder, notice('error', error.message));
    }
  }

  function move(step, page) {
    if (step > 0) cursors.push(page.nextCursor);
    else cursors.pop();
    return safely(step);
  }

  return {
    element: holder,
    refresh: () => safely(0),
    restart: () => {
      cursors.length = 1;
      shown = null;
      return safely(0);
    },
  };
}

/** A search box that calls `then` a moment after typing stops (each keystroke would be a request). */
export function searchBox(placeholder, then) {
  const input = h('input', { type: 'search', placeholder });
  let timer = null;
  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(then, 250);
  });
  return input;
}

export { api };
