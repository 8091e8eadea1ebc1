// Requests: the async requests with filters, refreshed every few seconds; one request's timeline.

import { api } from '../api.js';
import { STATUSES } from '../charts.js';
import { field, h, notice, replace, select, table } from '../dom.js';
import { ago, whenFor } from '../format.js';
import { attempt, errorBox, lookup, navLink, pagedList, searchBox } from './common.js';

const REFRESH_MS = 3000;
const FINAL = new Set(['delivered', 'failed', 'canceled', 'superseded']);

export async function requestsPage(main, context) {
  const agents = lookup('/api/v1/agents');
  const params = new URLSearchParams(location.search);
  const status = select([['', 'any'], ...STATUSES], params.get('status') || '');
  // A searchable picker that asks the server (hundreds of agents make a select useless): type part of a
  // name, pick from the names that contain it.
  let offered = []; // the names the picker offers now
  const labels = new Map(); // "name (id)" -> id, for the names offered so far
  const choices = h('datalist', { id: 'agent-choices' });
  const label = (found) => `${found.name} (${found.id})`;
  async function offer(text) {
    const { data } = await api('GET', `/api/v1/agents?${new URLSearchParams({ q: text, limit: '20' })}`);
    for (const found of data) {
      agents.remember(found);
      labels.set(label(found), found.id);
    }
    offered = data;
    replace(
      choices,
      data.map((found) => h('option', { value: label(found) })),
    );
  }
  const agent = searchBox('any agent', () => {
    if (!labels.has(agent.value.trim())) offer(agent.value.trim()).catch(() => {});
  });
  agent.setAttribute('list', 'agent-choices');
  const agentId = () => {
    const text = agent.value.trim();
    if (!text) return '';
    if (labels.has(text)) return labels.get(text);
    const same = offered.filter((found) => found.name.toLowerCase() === text.toLowerCase() || found.id === text);
    return same.length === 1 ? same[0].id : text; // an unknown one matches nothing, as the API says
  };
  const reference = h('input', { type: 'search', value: params.get('q') || '' });
  const updated = h('p', { class: 'muted' });
  const filters = () => {
    const query = {};
    if (status.value) query.status = status.value;
    if (agentId()) query.agentId = agentId();
    if (reference.value.trim()) query.q = reference.value.trim();
    return query;
  };
  const list = pagedList({
    path: '/api/v1/message-requests',
    noun: 'request',
    query: filters,
    prepare: (requests) => agents.fetch(requests.map((request) => request.agentId)),
    none: () => 'No requests match.',
    render: (requests) =>
      table(
        'Message requests, newest first',
        ['Request', 'Status', 'Agent', 'Reference', 'Due / delivered', 'Attempts'],
        requests.map((request) => {
          const who = agents.get(request.agentId);
          return [
            navLink(`/requests/${request.id}`, request.id),
            h('span', { class: `badge s-${request.status}` }, request.status),
            who ? who.name : request.agentId,
            request.reference,
            whenFor(request.deliveredAt || request.scheduledFor, who),
            String(request.attempts),
          ];
        }),
      ),
  });

  async function refresh(again) {
    const query = filters();
    history.replaceState(null, '', `/requests${Object.keys(query).length ? `?${new URLSearchParams(query)}` : ''}`);
    await (again ? list.refresh() : list.restart());
    updated.textContent = `Updated ${new Date().toLocaleTimeString()}; refreshes every ${REFRESH_MS / 1000} s.`;
  }

  const wanted = params.get('agentId');
  if (wanted) {
    await agents.fetch([wanted]);
    const found = agents.get(wanted);
    agent.value = found ? label(found) : wanted;
    if (found) labels.set(label(found), found.id);
  }
  await offer('').catch(() => {});
  for (const control of [status, agent, reference]) control.addEventListener('change', () => refresh(false));
  main.append(
    h('h1', {}, 'Requests'),
    h(
      'form',
      {
        class: 'filters',
        role: 'search',
        onsubmit: (event) => {
          event.preventDefault();
          refresh(false);
        },
      },
      field('Status', status),
      field('Agent', agent, 'Type part of a name and pick it.'),
      choices,
      field('Reference contains', reference),
      h('button', { type: 'submit' }, 'Filter'),
    ),
    updated,
    list.element,
  );
  await refresh(false);
  const timer = setInterval(() => refresh(true), REFRESH_MS);
  context.onLeave(() => clearInterval(timer));
}

function step(label, seconds, agent, detail, kind = '') {
  return h(
    'li',
    { class: `step ${kind}` },
    h('strong', {}, label),
    ' ',
    h('time', {}, whenFor(seconds, agent)),
    detail ? h('p', { class: 'muted' }, detail) : null,
  );
}

export async function requestPage(main, context, id) {
  const path = `/api/v1/message-requests/${encodeURIComponent(id)}`;
  const agents = lookup('/api/v1/agents');
  const webhooks = lookup('/api/v1/webhooks');
  const body = h('div', {});
  const errors = errorBox();
  main.append(h('p', {}, navLink('/requests', '← Requests')), h('h1', {}, `Request ${id}`), errors, body);
  let timer = null;
  let drawn = null;

  async function refresh() {
    let request, attempts;
    try {
      [request, attempts] = await Promise.all([api('GET', path), api('GET', `${path}/attempts`)]);
      await Promise.all([agents.fetch([request.agentId]), webhooks.fetch([request.webhookId])]);
    } catch (error) {
      replace(body, notice('error', error.message));
      clearInterval(timer);
      return;
    }
    if (context.left) return;
    const seen = JSON.stringify([request, attempts]);
    if (seen === drawn) return; // unchanged: the page stays as it is, focus included
    drawn = seen;
    const agent = agents.get(request.agentId);
    const webhook = webhooks.get(request.webhookId);
    const name = agent ? agent.name : 'The agent';
    const timeline = h(
      'ol',
      { class: 'timeline' },
      step('Accepted', request.createdAt, agent),
      // The agent's own steps, as they happened (the read and typing events mark the same moments).
      request.readAt !== null ? step('Read', request.readAt, agent, `${name} read the messages.`) : null,
      request.typingAt !== null
        ? step('Started typing', request.typingAt, agent, `${name} started typing the reply.`)
        : null,
      step(
        request.status === 'scheduled' ? 'Scheduled for' : 'Was due',
        request.scheduledFor,
        agent,
        request.status === 'scheduled' ? ago(request.scheduledFor) : '',
      ),
      attempts.data.map((attempt, index) =>
        step(
          `Attempt ${index + 1}`,
          attempt.attemptedAt,
          agent,
          `${attempt.statusCode ?? 'no answer'} in ${attempt.durationMs} ms` +
            (attempt.error ? ` · ${attempt.error}` : '') +
            (attempt.responseBody ? ` · ${attempt.responseBody.slice(0, 200)}` : ''),
          attempt.statusCode >= 200 && attempt.statusCode < 300 ? 'ok' : 'bad',
        ),
      ),
      request.status === 'delivered' ? step('Delivered', request.deliveredAt, agent, '', 'ok') : null,
      request.status === 'failed' ? step('Failed', request.updatedAt, agent, request.lastError, 'bad') : null,
      request.status === 'canceled' ? step('Canceled', request.updatedAt, agent, '', 'bad') : null,
      request.status === 'superseded'
        ? step('Superseded', request.updatedAt, agent, `answered together with ${request.supersededBy}`, '')
        : null,
    );
    const actions = h('div', { class: 'row' });
    if (request.status === 'scheduled') {
      actions.append(
        h(
          'button',
          {
            type: 'button',
            onclick: async () => {
              if (await attempt(errors, () => api('POST', `${path}/redeliver`))) refresh();
            },
          },
          request.attempts ? 'Retry now' : 'Deliver now',
        ),
        h(
          'button',
          {
            type: 'button',
            class: 'danger',
            onclick: async () => {
              if (await attempt(errors, () => api('DELETE', path))) refresh();
            },
          },
          'Cancel request',
        ),
      );
    } else if (FINAL.has(request.status)) {
      actions.append(h('p', { class: 'muted' }, 'Ended: its messages and reply were erased, so it cannot be resent.'));
    }
    replace(
      body,
      h(
        'p',
        {},
        h('span', { class: `badge s-${request.status}` }, request.status),
        ` · ${agent ? agent.name : request.agentId} → ${webhook ? webhook.url : request.webhookId}`,
        ` · reference ${request.reference}`,
      ),
      h('section', { class: 'card' }, h('h2', {}, 'Timeline'), timeline, actions),
    );
    if (FINAL.has(request.status)) {
      clearInterval(timer);
      timer = null;
    } else if (!timer) timer = setInterval(refresh, 1000);
  }

  await refresh();
  context.onLeave(() => clearInterval(timer));
}
