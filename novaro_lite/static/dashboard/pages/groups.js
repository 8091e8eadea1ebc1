// Groups: the list with search, create and edit (group_form.js), delete, and one group's page with its
// playground (group_playground.js).

import { api, listAll } from '../api.js';
import { confirmButton, field, h, notice, replace, table } from '../dom.js';
import { when } from '../format.js';
import { lookup, navLink, pagedList, searchBox } from './common.js';
import { groupForm, strategyName } from './group_form.js';
import { groupPlayground } from './group_playground.js';

/** "Lena (80), Marco (50)", or what the server says is wrong with a group whose members were deleted. */
function membersText(group, agents) {
  const names = group.members.map(
    (member) => `${agents.get(member.agentId)?.name || member.agentId} (${member.talkativeness})`,
  );
  return [names.join(', ') || '—', group.notice ? [' ', h('span', { class: 'badge off' }, group.notice)] : null];
}

export async function groupsPage(main, context) {
  const agents = lookup('/api/v1/agents');
  const tools = h('div', {});
  const status = h('div', {});
  const search = searchBox('a name or part of one', () => list.restart());
  const open = async (group) => {
    replace(
      tools,
      await groupForm(
        group,
        agents,
        (saved) => context.navigate(`/groups/${saved.id}`),
        () => replace(tools),
      ),
    );
    tools.querySelector('input').focus();
  };
  const list = pagedList({
    path: '/api/v1/groups',
    noun: 'group',
    query: () => (search.value.trim() ? { q: search.value.trim() } : {}),
    prepare: (groups) => agents.fetch(groups.flatMap((group) => group.members.map((member) => member.agentId))),
    none: (q) => (q ? `No group's name contains “${q}”.` : 'No groups yet: put two or more agents in one chat.'),
    render: (groups) =>
      table(
        search.value.trim() ? `Groups whose name contains “${search.value.trim()}”` : 'Groups',
        ['Name', 'Members (talkativeness)', 'Turn-taking', 'Most turns', 'Created', ''],
        groups.map((group) => [
          navLink(`/groups/${group.id}`, group.name),
          membersText(group, agents),
          strategyName(group),
          String(group.maxAgentTurns),
          when(group.createdAt),
          h(
            'div',
            { class: 'row' },
            h('button', { type: 'button', onclick: () => open(group) }, `Edit ${group.name}`),
            confirmButton('Delete', `Delete ${group.name}? Its agents stay.`, async () => {
              try {
                await api('DELETE', `/api/v1/groups/${encodeURIComponent(group.id)}`);
                replace(status, notice('info', `Deleted ${group.name}.`));
                await list.refresh();
              } catch (error) {
                replace(status, notice('error', error.message));
              }
            }),
          ),
        ]),
      ),
  });
  main.append(
    h('h1', {}, 'Groups'),
    h('p', { class: 'muted' }, 'Several agents in one chat, each answering in its own voice and at its own pace.'),
    h('button', { type: 'button', class: 'primary', onclick: () => open(null) }, 'New group'),
    tools,
    status,
    field('Search groups', search, 'Finds the names that contain the text.'),
    list.element,
  );
  await list.restart();
}

/** One group: its members, the edit form, delete, and its playground. */
export async function groupPage(main, context, id) {
  const group = await api('GET', `/api/v1/groups/${encodeURIComponent(id)}`);
  const agents = lookup('/api/v1/agents');
  const [webhooks] = await Promise.all([
    listAll('/api/v1/webhooks'),
    agents.fetch(group.members.map((member) => member.agentId)),
  ]);
  const members = group.members.map((member) => agents.get(member.agentId)).filter(Boolean);
  const edit = h('div', {});
  const status = h('div', {});
  main.append(
    h('p', {}, navLink('/groups', '← Groups')),
    h('h1', {}, group.name),
    // A group whose members were all deleted has nobody to write to: only what the server says of it.
    ...(group.notice ? [notice('error', group.notice)] : []),
    ...(members.length ? [groupPlayground(group, members, webhooks.items, context)] : []),
    h(
      'section',
      { class: 'card' },
      h(
        'dl',
        { class: 'facts' },
        fact('Id', group.id),
        fact(
          'Members (talkativeness)',
          members.length
            ? members.map((agent, index) => [
                index ? ', ' : '',
                navLink(`/agents/${agent.id}`, agent.name),
                ` (${group.members.find((member) => member.agentId === agent.id).talkativeness})`,
              ])
            : '—',
        ),
        fact('Turn-taking', strategyName(group)),
        fact('Most agent messages per message', String(group.maxAgentTurns)),
        fact('Created', when(group.createdAt)),
      ),
      h(
        'div',
        { class: 'row' },
        h(
          'button',
          {
            type: 'button',
            onclick: async () => {
              replace(
                edit,
                await groupForm(
                  group,
                  agents,
                  () => context.navigate(`/groups/${group.id}`),
                  () => replace(edit),
                ),
              );
              edit.querySelector('input').focus();
            },
          },
          'Edit',
        ),
        confirmButton('Delete', `Delete ${group.name}? Its agents stay.`, async () => {
          try {
            await api('DELETE', `/api/v1/groups/${encodeURIComponent(group.id)}`);
            context.navigate('/groups');
          } catch (error) {
            replace(status, notice('error', error.message));
          }
        }),
      ),
      status,
    ),
    edit,
  );
}

function fact(term, value) {
  return h('div', {}, h('dt', {}, term), h('dd', {}, value));
}
