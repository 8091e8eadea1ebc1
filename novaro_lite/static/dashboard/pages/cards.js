// Character Cards in the dashboard: import (a file picked or dropped, previewed before the agent is created)
// and export (JSON or PNG, downloaded).

import { api, download } from '../api.js';
import { field, h, notice, replace } from '../dom.js';
import { attempt, errorBox } from './common.js';

const PNG_SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];
const MAX_BYTES = 5 * 1024 * 1024; // the server's limit for a card

/** The card a PNG carries: its tEXt chunk `ccv3` (preferred) or `chara`, base64 JSON; null if none. */
function cardInPng(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ascii = new TextDecoder('latin1'); // keywords and base64 are ASCII
  const found = {};
  for (let at = 8; at + 12 <= bytes.length; ) {
    const length = view.getUint32(at);
    const kind = ascii.decode(bytes.subarray(at + 4, at + 8));
    if (kind === 'tEXt') {
      const chunk = bytes.subarray(at + 8, at + 8 + length);
      const zero = chunk.indexOf(0);
      const keyword = ascii.decode(chunk.subarray(0, zero)).toLowerCase();
      if (keyword === 'ccv3' || keyword === 'chara') found[keyword] = ascii.decode(chunk.subarray(zero + 1));
    }
    if (kind === 'IEND') break;
    at += 12 + length;
  }
  const text = found.ccv3 || found.chara;
  if (!text) return null;
  const raw = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(raw));
}

/** Read a card file: { card, bytes, type }, or throw an Error whose message the person reads. */
async function readCard(file) {
  if (file.size > MAX_BYTES) throw new Error(`${file.name} is larger than 5 MB, the most a card may be.`);
  const bytes = new Uint8Array(await file.arrayBuffer());
  const isPng = PNG_SIGNATURE.every((byte, index) => bytes[index] === byte);
  let card;
  try {
    card = isPng ? cardInPng(bytes) : JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    card = null;
  }
  if (!card || typeof card !== 'object') {
    throw new Error(`${file.name} is not a character card: expected card JSON, or a PNG that carries one.`);
  }
  return { card, bytes, type: isPng ? 'image/png' : 'application/json' };
}

function preview(card) {
  const data = card.data && typeof card.data === 'object' ? card.data : card; // V1 cards are flat
  const entries = data.character_book?.entries?.length || 0;
  const text = (value) => (typeof value === 'string' && value.trim() ? value : '—');
  return h(
    'dl',
    { class: 'facts' },
    [
      ['Name', text(data.name)],
      ['Card', text(card.spec || 'Character Card V1')],
      ['Creator', text(data.creator)],
      ['Tags', Array.isArray(data.tags) && data.tags.length ? data.tags.join(', ') : '—'],
      ['Greeting', text(data.first_mes)],
      ['Lorebook entries', `${entries} (each becomes a keyword context)`],
      ['Description', text(data.description)],
    ].map(([term, value]) => h('div', {}, h('dt', {}, term), h('dd', { class: 'clip' }, value))),
  );
}

/** The import form: pick or drop a file, see what it holds, then create the agent; onCreated(agent). */
export function cardImport(onCreated) {
  const input = h('input', { type: 'file', accept: '.json,.png,application/json,image/png' });
  const shown = h('div', {});
  const errors = errorBox();
  let chosen = null;

  async function take(file) {
    chosen = null;
    replace(errors);
    try {
      chosen = await readCard(file);
    } catch (error) {
      replace(shown);
      replace(errors, notice('error', error.message));
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
    replace(shown, h('h3', {}, `In ${file.name}`), preview(chosen.card), create);
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
    field('Character card file', input, 'Card JSON (V1, V2 or V3) or a PNG carrying one; or drop the file here.'),
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
