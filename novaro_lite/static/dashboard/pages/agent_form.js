// The agent form, for create and edit: every field of POST /api/v1/agents, validated by the server.

import { api, listAll } from '../api.js';
import { field, h, replace, select } from '../dom.js';
import { viewerTimeZone } from '../format.js';
import { attempt, errorBox } from './common.js';

// The server's default response-time table (domain/timing.py DEFAULT_RESPONSE_TIMES; a test keeps them equal).
export const DEFAULT_RESPONSE_TIMES = [
  { upToSeconds: 60, probability: 0.1 },
  { upToSeconds: 300, probability: 0.5 },
  { upToSeconds: 900, probability: 0.2 },
  { upToSeconds: 1800, probability: 0.1 },
  { upToSeconds: 5400, probability: 0.09 },
  { upToSeconds: 86400, probability: 0.01 },
];

let schema = null;

/** AgentCreate's properties in the server's OpenAPI document (public, same origin): zones and limits. */
function agentSchema() {
  if (!schema) {
    schema = fetch('/openapi.json', { credentials: 'omit' })
      .then((response) => response.json())
      .then((spec) => spec.components.schemas.AgentCreate.properties)
      .catch(() => ({ timezone: { enum: Intl.supportedValuesOf('timeZone') } }));
  }
  return schema;
}

/** The time zones the server accepts. */
export async function timeZones() {
  return (await agentSchema()).timezone.enum;
}

/** The longest text the server takes for `name` (a property of AgentCreate), if it says. */
function limit(properties, name) {
  const property = properties[name] || {};
  return property.maxLength || (property.anyOf || []).find((option) => option.maxLength)?.maxLength;
}

function bandRow(band, rows) {
  const upTo = h('input', { type: 'number', min: 1, step: 1, required: true, value: band.upToSeconds });
  const probability = h('input', {
    type: 'number',
    min: 0.001,
    max: 1,
    step: 0.001,
    required: true,
    value: band.probability,
  });
  upTo.setAttribute('aria-label', 'Up to (seconds)');
  probability.setAttribute('aria-label', 'Probability');
  const row = h(
    'tr',
    {},
    h('td', {}, upTo),
    h('td', {}, probability),
    h('td', {}, h('button', { type: 'button', onclick: () => row.remove() }, 'Remove')),
  );
  row.read = () => ({ upToSeconds: Number(upTo.value), probability: Number(probability.value) });
  rows.append(row);
}

/** A form for `agent` (null: a new one); `onSaved(agent)` runs after the server accepted it. */
export async function agentForm(agent, onSaved) {
  const [properties, contexts] = await Promise.all([agentSchema(), listAll('/api/v1/contexts')]);
  const zoneList = properties.timezone.enum;
  const value = agent || {
    name: '',
    persona: '',
    location: '',
    timezone: viewerTimeZone(),
    language: 'en',
    activeHours: { start: '08:00', end: '23:00' },
    responseTimes: null,
    model: null,
    maxBubbles: 3,
    contextIds: [],
  };
  const name = field(
    'Name',
    h('input', { type: 'text', required: true, maxLength: limit(properties, 'name'), value: value.name }),
  );
  const persona = field(
    'Persona',
    h('textarea', { rows: 4, maxLength: limit(properties, 'persona'), value: value.persona }),
    'Who the agent is, in free text.',
  );
  const location = field(
    'Location',
    h('input', { type: 'text', maxLength: limit(properties, 'location'), value: value.location || '' }),
  );
  const zone = field(
    'Time zone',
    select(zoneList.includes(value.timezone) ? zoneList : [value.timezone, ...zoneList], value.timezone),
  );
  const language = field(
    'Language',
    h('input', { type: 'text', required: true, value: value.language }),
    'A language tag such as en, de or pt-BR.',
  );
  const start = field('Awake from', h('input', { type: 'time', required: true, value: value.activeHours.start }));
  const end = field(
    'Asleep from',
    h('input', { type: 'time', required: true, value: value.activeHours.end }),
    'Local time. Before "Awake from" crosses midnight; equal means never asleep.',
  );
  const model = field(
    'Model',
    h('input', { type: 'text', value: value.model || '', placeholder: 'server default' }),
    "provider/model-id, e.g. demo or openai/gpt-4o-mini; empty for the server's default.",
  );
  const bubbles = field(
    'Most bubbles per reply',
    h('input', { type: 'number', min: 1, max: 10, required: true, value: value.maxBubbles }),
  );
  const custom = h('input', { type: 'checkbox', checked: Boolean(value.responseTimes) });
  const rows = h('tbody', {});
  for (const band of value.responseTimes || DEFAULT_RESPONSE_TIMES) bandRow(band, rows);
  const bands = h(
    'div',
    { class: 'bands', hidden: !custom.checked },
    h(
      'table',
      {},
      h('caption', {}, 'Response times: bands ascending, probabilities sum to 1'),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', { scope: 'col' }, 'Up to (seconds)'),
          h('th', { scope: 'col' }, 'Probability'),
          h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')),
        ),
      ),
      rows,
    ),
    h('button', { type: 'button', onclick: () => bandRow({ upToSeconds: 3600, probability: 0.1 }, rows) }, 'Add band'),
  );
  custom.addEventListener('change', () => {
    bands.hidden = !custom.checked;
  });
  const contextBoxes = contexts.items.map((context) => {
    const box = h('input', { type: 'checkbox', value: context.id, checked: value.contextIds.includes(context.id) });
    return h('label', { class: 'check' }, box, ` ${context.name}`);
  });
  const errors = errorBox();
  const form = h(
    'form',
    {
      class: 'card form',
      onsubmit: async (event) => {
        event.preventDefault();
        const body = {
          name: name.control.value,
          persona: persona.control.value,
          location: location.control.value || null,
          timezone: zone.control.value,
          language: language.control.value,
          activeHours: { start: start.control.value, end: end.control.value },
          responseTimes: custom.checked ? [...rows.children].map((row) => row.read()) : null,
          model: model.control.value.trim() || null,
          maxBubbles: Number(bubbles.control.value),
          contextIds: contextBoxes
            .map((label) => label.firstChild)
            .filter((box) => box.checked)
            .map((box) => box.value),
        };
        const saved = await attempt(
          errors,
          () =>
            agent
              ? api('PATCH', `/api/v1/agents/${encodeURIComponent(agent.id)}`, body)
              : api('POST', '/api/v1/agents', body),
          { name, persona, location, timezone: zone, language, activeHours: start, model, maxBubbles: bubbles },
        );
        if (saved) onSaved(saved);
      },
    },
    h('h2', {}, agent ? `Edit ${agent.name}` : 'New agent'),
    h('div', { class: 'grid' }, name, location, zone, language, start, end, model, bubbles),
    persona,
    h(
      'fieldset',
      {},
      h('legend', {}, 'Response times'),
      h('label', { class: 'check' }, custom, " Use my own table (otherwise the server's default)"),
      bands,
    ),
    h(
      'fieldset',
      {},
      h('legend', {}, 'Contexts'),
      contextBoxes.length ? contextBoxes : h('p', { class: 'muted' }, 'No contexts yet.'),
    ),
    errors,
    h('button', { type: 'submit', class: 'primary' }, agent ? 'Save agent' : 'Create agent'),
  );
  return form;
}

/** POST /api/v1/agents/generate: the model writes `count` agents from a description and your data. */
export function generateForm(onCreated) {
  const count = field('How many', h('input', { type: 'number', min: 1, max: 50, value: 3, required: true }));
  const description = field(
    'Description',
    h('textarea', { rows: 2, required: true, placeholder: 'regulars of a Lisbon bakery' }),
  );
  const data = field('Your data (optional)', h('textarea', { rows: 3 }), 'Text or JSON the personas should reflect.');
  const errors = errorBox();
  const button = h('button', { type: 'submit', class: 'primary' }, 'Generate agents');
  return h(
    'form',
    {
      class: 'card form',
      onsubmit: async (event) => {
        event.preventDefault();
        button.disabled = true;
        replace(errors, h('p', { class: 'muted', role: 'status' }, 'The model is writing them…'));
        const raw = data.control.value.trim();
        let parsed = raw || null;
        try {
          parsed = raw ? JSON.parse(raw) : null;
        } catch {
          /* plain text is fine */
        }
        const made = await attempt(errors, () =>
          api('POST', '/api/v1/agents/generate', {
            count: Number(count.control.value),
            description: description.control.value,
            data: parsed,
          }),
        );
        button.disabled = false;
        if (made) onCreated(made.agents);
      },
    },
    h('h2', {}, 'Generate agents'),
    h('div', { class: 'grid' }, count),
    description,
    data,
    errors,
    button,
  );
}
