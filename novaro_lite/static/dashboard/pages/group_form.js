// The group form, for create and edit: a name, members found by searching the account's agents (however
// many there are), each with its talkativeness and in order, and how they take turns.

import { api } from '../api.js';
import { field, h, replace, select } from '../dom.js';
import { attempt, errorBox, searchBox } from './common.js';

// domain/groups.py's limits and defaults (a test keeps them equal).
const MIN_MEMBERS = 2;
const MAX_MEMBERS = 10;
const DEFAULT_TALKATIVENESS = 50;
const MAX_AGENT_TURNS = 6;
const DEFAULT_MAX_AGENT_TURNS = 2;
const FOUND = 8; // agents offered at a time: typing more of a name narrows them
const STRATEGIES = [
  ['natural', 'Natural'],
  ['list', 'In member order'],
  ['manual', 'You pick who answers'],
];

export function strategyName(group) {
  return STRATEGIES.find(([value]) => value === group.strategy)?.[1] || group.strategy;
}

/** An agent's name, with its id when `count` agents in sight share it (three "Mira"s told apart). */
function named(agent, count) {
  return count > 1 ? `${agent.name} (${agent.id})` : agent.name;
}

/** The members of a group being made or changed: found by name (the server searches), each with its
 * talkativeness, in order. `wrapper` is a field (its search box carries the members' errors). */
function memberPicker(members, agents) {
  const chosen = members.map((member) => ({ id: member.agentId, talkativeness: member.talkativeness }));
  const rows = h('ol', { class: 'members' });
  const offered = h('ul', { class: 'offered', 'aria-label': 'Agents found' });
  const count = h('p', { class: 'muted', role: 'status' });
  const search = searchBox('a name or part of one', () => offer());
  const wrapper = field(
    'Find agents to add',
    search,
    `${MIN_MEMBERS} to ${MAX_MEMBERS} members. Talkativeness (0–100): how eagerly one speaks when nobody named it.`,
  );

  function nameOf(id) {
    const name = agents.get(id)?.name;
    if (!name) return `${id} (deleted)`;
    return named({ id, name }, chosen.filter((member) => agents.get(member.id)?.name === name).length);
  }

  function draw() {
    replace(
      rows,
      chosen.map((member, index) => {
        const level = h('input', {
          type: 'number',
          min: 0,
          max: 100,
          step: 1,
          required: true,
          value: member.talkativeness,
          oninput: () => {
            member.talkativeness = Number(level.value);
          },
        });
        const move = (step) => () => {
          chosen.splice(index + step, 0, ...chosen.splice(index, 1));
          draw();
          rows.children[index + step]?.querySelector('input').focus();
        };
        return h(
          'li',
          {},
          field(`Talkativeness of ${nameOf(member.id)}`, level),
          h(
            'div',
            { class: 'row' },
            index > 0 ? h('button', { type: 'button', onclick: move(-1) }, `Move ${nameOf(member.id)} up`) : null,
            h(
              'button',
              {
                type: 'button',
                onclick: () => {
                  chosen.splice(index, 1);
                  draw();
                  offer();
                  search.focus();
                },
              },
              `Remove ${nameOf(member.id)}`,
            ),
          ),
        );
      }),
    );
    if (!chosen.length) rows.append(h('li', { class: 'muted' }, 'No members yet.'));
  }

  let asked = 0; // the latest search: an older one answering late is dropped
  async function offer() {
    const query = new URLSearchParams({ limit: String(FOUND), order: 'oldest' });
    if (search.value.trim()) query.set('q', search.value.trim());
    const mine = ++asked;
    try {
      const page = await api('GET', `/api/v1/agents?${query}`);
      if (mine !== asked) return;
      const taken = new Set(chosen.map((member) => member.id));
      const sameName = (agent) => page.data.filter((other) => other.name === agent.name).length;
      replace(
        offered,
        page.data.map((agent) => {
          agents.remember(agent);
          const add = h(
            'button',
            {
              type: 'button',
              disabled: taken.has(agent.id) || chosen.length >= MAX_MEMBERS,
              onclick: () => {
                chosen.push({ id: agent.id, talkativeness: DEFAULT_TALKATIVENESS });
                draw();
                offer();
                search.focus();
              },
            },
            `Add ${named(agent, sameName(agent))}`,
          );
          return h('li', {}, add, agent.location ? h('span', { class: 'muted' }, ` ${agent.location}`) : null);
        }),
      );
      const more = page.total > page.data.length ? `; showing ${page.data.length}, type more of a name` : '';
      count.textContent = `${page.total} agent${page.total === 1 ? '' : 's'} found${more}.`;
    } catch (error) {
      count.textContent = error.message;
    }
  }

  draw();
  offer();
  return {
    wrapper,
    element: h('fieldset', {}, h('legend', {}, 'Members'), rows, wrapper, count, offered),
    value: () => chosen.map((member) => ({ agentId: member.id, talkativeness: member.talkativeness })),
  };
}

/** A form for `group` (null: a new one); `onSaved(group)` runs after the server accepted it. */
export async function groupForm(group, agents, onSaved, onCancel) {
  await agents.fetch((group?.members || []).map((member) => member.agentId));
  const name = field('Name', h('input', { type: 'text', required: true, maxLength: 100, value: group?.name || '' }));
  const members = memberPicker(group?.members || [], agents);
  const strategy = field(
    'How they take turns',
    select(STRATEGIES, group?.strategy || 'natural'),
    'Natural: whoever the message names, then the talkative, then chance; nobody twice in a row unless alone.',
  );
  const turns = field(
    'Most agent messages per message',
    h('input', {
      type: 'number',
      min: 1,
      max: MAX_AGENT_TURNS,
      required: true,
      value: group?.maxAgentTurns || DEFAULT_MAX_AGENT_TURNS,
    }),
    `Agents answering each other included; at most ${MAX_AGENT_TURNS}.`,
  );
  const errors = errorBox();
  return h(
    'form',
    {
      class: 'card form',
      onsubmit: async (event) => {
        event.preventDefault();
        const body = {
          name: name.control.value,
          members: members.value(),
          strategy: strategy.control.value,
          maxAgentTurns: Number(turns.control.value),
        };
        const path = group ? `/api/v1/groups/${encodeURIComponent(group.id)}` : '/api/v1/groups';
        const saved = await attempt(errors, () => api(group ? 'PATCH' : 'POST', path, body), {
          name,
          members: members.wrapper,
          strategy,
          maxAgentTurns: turns,
        });
        if (saved) onSaved(saved);
      },
    },
    h('h2', {}, group ? `Edit ${group.name}` : 'New group'),
    name,
    members.element,
    h('div', { class: 'grid' }, strategy, turns),
    errors,
    h(
      'div',
      { class: 'row' },
      h('button', { type: 'submit', class: 'primary' }, group ? 'Save group' : 'Create group'),
      h('button', { type: 'button', onclick: onCancel }, 'Cancel'),
    ),
  );
}
