// Agents: the list with search, the create form and the "Generate agents" form.

import { api } from '../api.js';
import { isAwake } from '../charts.js';
import { confirmButton, field, h, notice, replace, table } from '../dom.js';
import { when } from '../format.js';
import { agentForm, generateForm } from './agent_form.js';
import { cardImport } from './cards.js';
import { navLink, pagedList, searchBox } from './common.js';

export async function agentsPage(main, context) {
  const tools = h('div', {});
  const status = h('div', {});
  const search = searchBox('a name or part of one', () => list.restart());
  const list = pagedList({
    path: '/api/v1/agents',
    noun: 'agent',
    query: () => (search.value.trim() ? { q: search.value.trim() } : {}),
    none: (q) =>
      q ? `No agent's name contains “${q}”.` : 'No agents yet: create one, import a card or generate a few.',
    render: (agents) =>
      table(
        search.value.trim() ? `Agents whose name contains “${search.value.trim()}”` : 'Agents',
        ['Name', 'Where', 'Time zone', 'Awake', 'Model', 'Created', ''],
        agents.map((agent) => [
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
              await list.refresh();
            } catch (error) {
              replace(status, notice('error', error.message));
            }
          }),
        ]),
      ),
  });
  const refresh = () => list.refresh();

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
    field('Search agents', search, 'Finds the names that contain the text.'),
    list.element,
  );
  await list.restart();
}
