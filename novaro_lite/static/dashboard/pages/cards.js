// Character Cards in the dashboard: import (a file picked or dropped, previewed before the agent is created)
// and export (JSON or PNG, downloaded).

import { api, download } from '../api.js';
import { field, h, notice, replace, scrollBox } from '../dom.js';
import { attempt, errorBox } from './common.js';

const PNG_SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];
const MAX_BYTES = 5 * 1024 * 1024; // the server's limit for a card

/** The card a PNG carries, read as the server reads it (domain/png.py, domain/cards.py): the first tEXt chunk
 * `ccv3` (preferred) or `chara` (keywords as written), base64 JSON; null if none. */
function cardInPng(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ascii = new TextDecoder('latin1'); // keywords and base64 are ASCII
  const found = new Map();
  for (let at = 8; at + 12 <= bytes.length; ) {
    const length = view.getUint32(at);
    const kind = ascii.decode(bytes.subarray(at + 4, at + 8));
    if (kind === 'tEXt') {
      const chunk = bytes.subarray(at + 8, at + 8 + length);
      const zero = chunk.indexOf(0);
      const keyword = ascii.decode(chunk.subarray(0, zero));
      // The first of each counts: a second `chara` chunk (a tool that appended instead of replacing) is ignored.
      if (zero >= 0 && !found.has(keyword)) found.set(keyword, ascii.decode(chunk.subarray(zero + 1)));
    }
    if (kind === 'IEND') break;
    at += 12 + length;
  }
  const text = found.get('ccv3') ?? found.get('chara');
  if (text === undefined) return null;
  return JSON.parse(new TextDecoder().decode(fromBase64(text)));
}

/** Base64 as card tools (and the server) read it: the URL-safe alphabet too; atob itself already ignores
 * spaces and missing padding, but knows only `+` and `/`. */
function fromBase64(text) {
  return Uint8Array.from(atob(text.replaceAll('-', '+').replaceAll('_', '/')), (c) => c.charCodeAt(0));
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

// What becomes of a lorebook entry, by domain/cards.py's rules (`_entry`, `lore_keywords`): the preview must
// count the contexts the server will make. MAX_KEYS and KEY_MAX are domain/contexts.py's (a test keeps them equal).
const MAX_KEYS = 50;
const KEY_MAX = 100;
const REGEX_KEY = /^\/(.+)\/([gimsuy]*)$/s; // written /…/flags: a regular expression, which is never run
const REGEX_FREE = /^[^^$()[\]{}|\\*+?]*$/;
const SILLYTAVERN_ENTRY = ['selectiveLogic', 'exclude_recursion', 'prevent_recursion', 'display_index'];
const NOT_LOGIC = [1, 2]; // SillyTavern's "and none of these": the secondary keys do not hold the entry back

const isObject = (value) => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The keys an entry lists, as text, blank ones left out (not a list: none; the server then says why). */
function writtenKeys(value) {
  const items = Array.isArray(value) ? value : [];
  return items
    .filter((key) => typeof key === 'string' || Number.isInteger(key))
    .map(String)
    .filter((key) => key.trim());
}

/** The keys matched (regular expressions left out), or null when there are more or longer than a context holds. */
function matchable(keys, regexSyntax) {
  const found = keys.filter((key) => !REGEX_KEY.test(key) && !(regexSyntax && !REGEX_FREE.test(key)));
  return found.length > MAX_KEYS || found.some((key) => [...key].length > KEY_MAX) ? null : found;
}

/** 'always' (a constant entry), 'keyword', or null for an entry kept with the agent but never in a prompt:
 * disabled, without content, or with nothing that can match as written. */
function entryBecomes(entry) {
  if (!isObject(entry) || entry.enabled === false || entry.content === null || entry.content === undefined) {
    return null;
  }
  const extensions = isObject(entry.extensions) ? entry.extensions : {};
  const fromSillyTavern = SILLYTAVERN_ENTRY.some((key) => key in extensions);
  const regexSyntax = entry.use_regex === true && !fromSillyTavern;
  const noneOf = NOT_LOGIC.includes(extensions.selectiveLogic);
  const secondaryWritten = noneOf ? [] : writtenKeys(entry.secondary_keys);
  if (entry.constant === true) return 'always';
  const keys = matchable(writtenKeys(entry.keys), regexSyntax);
  const secondary = matchable(secondaryWritten, regexSyntax);
  const selective = entry.selective === true && secondaryWritten.length > 0;
  return !keys?.length || secondary === null || (selective && !secondary.length) ? null : 'keyword';
}

/** "4: 1 always-on context, 2 keyword contexts, 1 kept but never used (…)". */
function loreSummary(entries) {
  const becomes = entries.map(entryBecomes);
  const count = (kind) => becomes.filter((made) => made === kind).length;
  const plural = (n, noun) => `${n} ${noun}${n === 1 ? '' : 's'}`;
  const parts = [
    count('always') ? plural(count('always'), 'always-on context') : null,
    count('keyword') ? plural(count('keyword'), 'keyword context') : null,
    count(null) ? `${count(null)} kept but never used (disabled, empty, or no key it can match)` : null,
  ];
  return entries.length ? `${entries.length}: ${parts.filter(Boolean).join(', ')}` : 'none';
}

function preview(card) {
  const data = isObject(card.data) ? card.data : card; // V1 cards are flat
  const entries = Array.isArray(data.character_book?.entries) ? data.character_book.entries : [];
  const text = (value) => (typeof value === 'string' && value.trim() ? value : '—');
  const fact = (term, value) => h('div', {}, h('dt', {}, term), h('dd', {}, value));
  // The long ones scroll inside a capped box.
  const long = (term, value) => h('div', {}, h('dt', {}, term), h('dd', {}, scrollBox('div', 'clip', term, value)));
  return h(
    'dl',
    { class: 'facts' },
    fact('Name', text(data.name)),
    fact('Card', text(card.spec || 'Character Card V1')),
    fact('Creator', text(data.creator)),
    fact('Tags', Array.isArray(data.tags) && data.tags.length ? data.tags.join(', ') : '—'),
    long('Greeting', text(data.first_mes)),
    fact('Lorebook entries', loreSummary(entries)),
    long('Description', text(data.description)),
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
