// Character Cards in the dashboard: import (a file picked or dropped, previewed before the agent is created)
// and export (JSON or PNG, downloaded).

import { api, download } from '../api.js';
import { field, h, notice, replace, scrollBox } from '../dom.js';
import { attempt, errorBox } from './common.js';

const MAX_BYTES = 5 * 1024 * 1024; // the server's limit for a card
// What a card file is, by its first bytes, as the import reads it: a PNG carrying the card, a CHARX (a zip, or
// a JPEG with a zip after it), else card JSON.
const KINDS = [
  [[0x89, 0x50, 0x4e, 0x47], 'image/png'],
  [[0x50, 0x4b, 0x03, 0x04], 'application/zip'],
  [[0xff, 0xd8, 0xff], 'image/jpeg'],
];

/** A card file's bytes and media type, or throw an Error whose message the person reads. */
async function readCard(file) {
  if (file.size > MAX_BYTES) throw new Error(`${file.name} is larger than 5 MB, the most a card may be.`);
  const bytes = new Uint8Array(await file.arrayBuffer());
  const kind = KINDS.find(([start]) => start.every((byte, index) => bytes[index] === byte));
  return { bytes, type: kind ? kind[1] : 'application/json' };
}

/** "4: 1 always-on context, 2 keyword contexts, 1 kept but never used (…)", from the server's preview. */
function loreSummary(shown) {
  const always = shown.contexts.filter((context) => !context.keys.length).length;
  const keyword = shown.contexts.length - always;
  const total = shown.contexts.length + shown.unusedEntries;
  const plural = (n, noun) => `${n} ${noun}${n === 1 ? '' : 's'}`;
  const parts = [
    always ? plural(always, 'always-on context') : null,
    keyword ? plural(keyword, 'keyword context') : null,
    shown.unusedEntries ? `${shown.unusedEntries} kept but never used (disabled, empty, or no key it can match)` : null,
  ];
  return total ? `${total}: ${parts.filter(Boolean).join(', ')}` : 'none';
}

/** What importing the card would create, as the server read it (POST /api/v1/agents/import/preview). */
function preview(shown) {
  const text = (value) => (value.trim() ? value : '—');
  const fact = (term, value) => h('div', {}, h('dt', {}, term), h('dd', {}, value));
  // The long ones scroll inside a capped box.
  const long = (term, value) => h('div', {}, h('dt', {}, term), h('dd', {}, scrollBox('div', 'clip', term, value)));
  return h(
    'dl',
    { class: 'facts' },
    fact('Name', shown.name),
    fact('Card', shown.spec ?? 'Character Card V1'),
    fact('Creator', text(shown.creator)),
    fact('Tags', shown.tags.length ? shown.tags.join(', ') : '—'),
    long('Greeting', text(shown.greeting)),
    fact('Lorebook entries', loreSummary(shown)),
    long('Persona', text(shown.persona)),
  );
}

/** The import form: pick or drop a file, see what it holds, then create the agent; onCreated(agent). */
export function cardImport(onCreated) {
  const input = h('input', { type: 'file', accept: '.json,.png,.charx,application/json,image/png' });
  const shown = h('div', {});
  const errors = errorBox();
  let latest = 0; // the file picked last: an earlier one's late preview (an upload of up to 5 MB) is dropped

  async function take(file) {
    const mine = ++latest;
    replace(errors);
    replace(shown);
    let chosen;
    try {
      chosen = await readCard(file);
    } catch (error) {
      if (mine === latest) replace(errors, notice('error', error.message));
      return;
    }
    const said = errorBox();
    const card = await attempt(said, () =>
      api('POST', '/api/v1/agents/import/preview', chosen.bytes, { type: chosen.type }),
    );
    if (mine !== latest) return;
    if (!card) {
      replace(errors, ...said.childNodes);
      return;
    }
    const create = h(
      'button',
      {
        type: 'button',
        class: 'primary',
        onclick: async () => {
          create.disabled = true;
          const agent = await attempt(errors, () =>
            api('POST', '/api/v1/agents/import', chosen.bytes, { type: chosen.type }),
          );
          create.disabled = false;
          if (agent) onCreated(agent);
        },
      },
      'Create this agent',
    );
    replace(shown, h('h3', {}, `In ${file.name}`), preview(card), create);
  }

  input.addEventListener('change', () => input.files[0] && take(input.files[0]));
  const zone = h(
    'div',
    {
      class: 'drop',
      ondragover: (event) => {
        event.preventDefault();
        zone.classList.add('over');
      },
      ondragleave: () => zone.classList.remove('over'),
      ondrop: (event) => {
        event.preventDefault();
        zone.classList.remove('over');
        const file = event.dataTransfer.files[0];
        if (file) take(file);
      },
    },
    field(
      'Character card file',
      input,
      'Card JSON (V1, V2 or V3), a PNG carrying one, or a CHARX; or drop the file here.',
    ),
  );
  return h('section', { class: 'card form' }, h('h2', {}, 'Import a character card'), zone, shown, errors);
}

/** Buttons that download `agent` as a card: JSON (V3) and PNG (V2 and V3 chunks). */
export function cardExport(agent, box) {
  const save = async (format) => {
    const path = `/api/v1/agents/${encodeURIComponent(agent.id)}/card?format=${format}`;
    const file = await attempt(box, () => download(path));
    if (!file) return;
    const url = URL.createObjectURL(file.blob);
    const link = h('a', { href: url, download: file.name, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };
  return [
    h('button', { type: 'button', onclick: () => save('json') }, 'Export card (JSON)'),
    h('button', { type: 'button', onclick: () => save('png') }, 'Export card (PNG)'),
  ];
}
