// Requests: the async requests with filters, refreshed every few seconds; one request's timeline.

import { api, listAll } from '../api.js';
import { STATUSES } from '../charts.js';
import { field, h, notice, replace, select } from '../dom.js';
import { ago, whenFor } from '../format.js';
import { agentsById, attempt, empty, errorBox, navLink, pagedTable, webhooksById } from './common.js';

const REFRESH_MS = 3000;
const FINAL = new Set(['delivered', 'failed', 'canceled', 'superseded']);

export async function requestsPage(main, context) {
  const agents = await agentsById();
  const params = new URLSearchParams(location.search);
  const status = select([['', 'any'], ...STATUSES], params.get('status') || '');
  // A searchable picker (hundreds of agents make a select useless): type a name, pick from the list.
  const names = new Map([...agents.values()].map((a) => [`${a.name} (${a.id})`, a.id]));
  const picked = agents.get(params.get('agentId') || '');
  const choices = h(
    'datalist',
    { id: 'agent-choices' },
    [...names.keys()].map((label) => h('option', { value: label })),
  );
  const agent = h('input', {
    type: 'search',
    list: 'agent-choices',
    placeholder: 'any agent',
    value: picked ? `${picked.name} (${picked.id})` : '',
  });
  const agentId = () => {
    const text = agent.value.trim();
    if (!text) return '';
    if (names.has(text)) return names.get(text);
    const lower = text.toLowerCase();
    const found = [...agents.values()].filter((a) => a.name.toLowerCase() === lower || a.id === text);
    return found.length === 1 ? found[0].id : text; // an unknown one matches nothing, as the API says
  };
  const reference = h('input', { type: 'search', value: params.get('reference') || '' });
  const list = h('div', {});
  const updated = h('p', { class: 'muted' });
  let shown = null; // what the list shows: redrawn only when it changed, so focus and reading stay put

  async function refresh() {
    const query = {};
    if (status.value) query.status = status.value;
    if (agentId()) query.agentId = agentId();
    if (reference.value.trim()) query.reference = reference.value.trim();
    history.replaceState(null, '', `/requests${Object.keys(query).length ? `?${new URLSearchParams(query)}` : ''}`);
    try {
      const { items, truncated } = await listAll('/api/v1/message-requests', query, 2000);
      const rows = items.slice().reverse();
      const now = JSON.stringify(rows);
      if (now !== shown) {
        shown = now;
        const focused = list.contains(document.activeElement) ? document.activeElement : null;
        const place = focused?.getAttribute('href') || focused?.textContent;
        replace(
          list,
          rows.length
            ? pagedTable(
                'Message requests, newest first',
                ['Request', 'Status', 'Agent', 'Reference', 'Due / delivered', 'Attempts'],
                rows,
                (request) => {
                  const who = agents.get(request.agentId);
                  return [
                    navLink(`/requests/${request.id}`, request.id),
                    h('span', { class: `badge s-${request.status}` }, request.status),
                    who ? who.name : request.agentId,
                    request.reference,
                    whenFor(request.deliveredAt || request.scheduledFor, who),
                    String(request.attempts),
                  ];
                },
                'request',
              )
            : empty('No requests match.'),
          truncated ? h('p', { class: 'muted' }, 'Showing the newest of the first 2,000 matches.') : null,
        );
        if (focused) {
          const again = [...list.querySelectorAll('a, button')].find(
            (node) => (node.getAttribute('href') || node.textContent) === place,
          );
          (again || list.querySelector('.table-wrap') || list).focus();
        }
      }
      updated.textContent = `Updated ${new Date().toLocaleTimeString()}; refreshes every ${REFRESH_MS / 1000} s.`;
    } catch (error) {
      replace(list, notice('error', error.message));
    }
  }

  for (const control of [status, agent]) control.addEventListener('change', refresh);
  reference.addEventListener('change', refresh);
  main.append(
    h('h1', {}, 'Requests'),
    h(
      'form',
      {
        class: 'filters',
        role: 'search',
        onsubmit: (event) => {
          event.preventDefault();
          refresh();
        },
      },
      field('Status', status),
      field('Agent', agent, 'Type a name and pick it.'),
      choices,
      field('Reference', reference),
      h('button', { type: 'submit' }, 'Filter'),
    ),
    updated,
    list,
  );
  await refresh();
  const timer = setInterval(refresh, REFRESH_MS);
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
  const [agents, webhooks] = await Promise.all([agentsById(), webhooksById()]);
  const body = h('div', {});
  const errors = errorBox();
  main.append(h('p', {}, navLink('/requests', '← Requests')), h('h1', {}, `Request ${id}`), errors, body);
  let timer = null;
  let drawn = null;

  async function refresh() {
    let request, attempts;
    try {
      [request, attempts] = await Promise.all([api('GET', path), api('GET', `${path}/attempts`)]);
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
    const timeline = h(
      'ol',
      { class: 'timeline' },
      step('Accepted', request.createdAt, agent),
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
