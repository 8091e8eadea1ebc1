// Agents: the list with search, the create form and the "Generate agents" form.

import { api, listAll } from '../api.js';
import { isAwake } from '../charts.js';
import { confirmButton, field, h, notice, replace } from '../dom.js';
import { when } from '../format.js';
import { agentForm, generateForm } from './agent_form.js';
import { cardImport } from './cards.js';
import { empty, load, navLink, pagedTable } from './common.js';

export async function agentsPage(main, context) {
  const search = h('input', { type: 'search', placeholder: 'name, location, time zone…' });
  const list = h('div', {});
  const tools = h('div', {});
  const status = h('div', {});
  let agents = [];

  function show() {
    const needle = search.value.trim().toLowerCase();
    const found = agents.filter(
      (agent) =>
        !needle ||
        [agent.name, agent.location, agent.timezone, agent.persona, agent.id, ...(agent.tags || [])].some((text) =>
          (text || '').toLowerCase().includes(needle),
        ),
    );
    if (!agents.length) {
      replace(list, empty('No agents yet: create one, or generate a few.'));
      return;
    }
    if (!found.length) {
      replace(list, empty('No agent matches the search.'));
      return;
    }
    replace(
      list,
      pagedTable(
        needle ? `Agents matching “${search.value.trim()}”` : 'Agents',
        ['Name', 'Where', 'Time zone', 'Awake', 'Model', 'Created', ''],
        found,
        (agent) => [
          navLink(`/agents/${agent.id}`, agent.name),
          agent.location || '—',
          agent.timezone,
          `${agent.activeHours.start}–${agent.activeHours.end}${isAwake(agent) ? ' (now awake)' : ''}`,
          agent.model || 'default',
          when(agent.createdAt),
          confirmButton('Delete', `Delete ${agent.name}?`, async () => {
            try {
              await api('DELETE', `/api/v1/agents/${encodeURIComponent(agent.id)}`);
              replace(status, notice('info', `Deleted ${agent.name}.`));
              await refresh();
            } catch (error) {
              replace(status, notice('error', error.message));
            }
          }),
        ],
        'agent',
      ),
    );
  }

  async function refresh() {
    await load(list, async () => {
      agents = (await listAll('/api/v1/agents', {}, 5000)).items.reverse(); // newest first
      return [];
    });
    if (!list.querySelector('.notice')) show();
  }

  search.addEventListener('input', show);
  main.append(
    h('h1', {}, 'Agents'),
    h(
      'div',
      { class: 'row' },
      h(
        'button',
        {
          type: 'button',
          class: 'primary',
          onclick: async () => {
            replace(tools, await agentForm(null, (agent) => context.navigate(`/agents/${agent.id}`)));
            tools.querySelector('input').focus();
          },
        },
        'New agent',
      ),
      h(
        'button',
        {
          type: 'button',
          onclick: () => {
            replace(
              tools,
              generateForm(async (made) => {
                replace(tools);
                replace(
                  status,
                  notice('info', `Created ${made.length} agents: ${made.map((a) => a.name).join(', ')}.`),
                );
                await refresh();
              }),
            );
            tools.querySelector('input').focus();
          },
        },
        'Generate agents',
      ),
      h(
        'button',
        {
          type: 'button',
          onclick: () => {
            replace(
              tools,
              cardImport((agent) => context.navigate(`/agents/${agent.id}`)),
            );
            tools.querySelector('input').focus();
          },
        },
        'Import a character card',
      ),
    ),
    tools,
    status,
    field('Search agents', search),
    list,
  );
  await refresh();
}
