// Overview: how many agents and webhooks, the last 24 hours of requests, what is due next, what fails.

import { api, listAll } from '../api.js';
import { hourlyStatusChart, STATUSES } from '../charts.js';
import { h, table } from '../dom.js';
import { ago, when, whenFor } from '../format.js';
import { empty, load, lookup, navLink } from './common.js';

const MOST_REQUESTS = 5000; // the newest requests counted: enough for a day of a small server, in a few calls

function hourly(requests, start) {
  const buckets = Array.from({ length: 24 }, () => ({}));
  for (const request of requests) {
    const index = Math.floor((request.createdAt - start) / 3600);
    if (index >= 0 && index < 24) buckets[index][request.status] = (buckets[index][request.status] || 0) + 1;
  }
  return buckets;
}

export async function overviewPage(main) {
  main.append(h('h1', {}, 'Overview'));
  const body = h('div', {});
  main.append(body);
  await load(body, async () => {
    const [{ total: agentCount }, webhooks, requests] = await Promise.all([
      api('GET', '/api/v1/agents?limit=1'),
      listAll('/api/v1/webhooks'),
      listAll('/api/v1/message-requests', { order: 'newest' }, MOST_REQUESTS),
    ]);
    const now = Math.floor(Date.now() / 1000);
    const start = (Math.floor(now / 3600) - 23) * 3600;
    const recent = requests.items.filter((request) => request.createdAt >= start);
    const counts = Object.fromEntries(STATUSES.map((status) => [status, 0]));
    recent.forEach((request) => {
      counts[request.status] += 1;
    });
    const next = requests.items
      .filter((request) => request.status === 'scheduled')
      .sort((a, b) => a.scheduledFor - b.scheduledFor)
      .slice(0, 5);
    const byAgent = lookup('/api/v1/agents');
    await byAgent.fetch(next.map((request) => request.agentId));
    const failing = webhooks.items
      .map((webhook) => {
        const mine = recent.filter((request) => request.webhookId === webhook.id);
        const failed = mine.filter((request) => request.status === 'failed' || request.lastError);
        return { webhook, failed, last: failed[0] }; // newest first
      })
      // The webhook's own health counts every delivery to it (check-ins and pings too), not only requests.
      .filter(({ webhook, failed }) => failed.length || !webhook.enabled || webhook.failingSince);
    return [
      agentCount && webhooks.items.length ? null : firstSteps(agentCount, webhooks.items.length),
      h(
        'section',
        { class: 'stats', 'aria-label': 'Counts' },
        stat('Agents', agentCount, '/agents'),
        stat('Webhooks', webhooks.items.length, '/webhooks'),
        stat('Requests, last 24 h', recent.length, '/requests'),
      ),
      h(
        'section',
        { class: 'card' },
        h('h2', {}, 'Requests by status, last 24 hours'),
        recent.length
          ? hourlyStatusChart(
              `Requests per hour: ${STATUSES.map((status) => `${counts[status]} ${status}`).join(', ')}`,
              hourly(recent, start),
              start,
            )
          : empty('No requests in the last 24 hours.'),
        requests.truncated ? countedNote(requests.items) : null,
      ),
      h(
        'section',
        { class: 'card' },
        h('h2', {}, 'Next scheduled deliveries'),
        next.length
          ? table(
              'Next scheduled deliveries',
              ['Request', 'Agent', 'Reference', 'Due'],
              next.map((request) => {
                const agent = byAgent.get(request.agentId);
                return [
                  navLink(`/requests/${request.id}`, request.id),
                  agent ? agent.name : request.agentId,
                  request.reference,
                  `${whenFor(request.scheduledFor, agent)} · ${ago(request.scheduledFor)}`,
                ];
              }),
            )
          : empty('Nothing is scheduled.'),
      ),
      h(
        'section',
        { class: 'card' },
        h('h2', {}, 'Failing webhooks'),
        failing.length
          ? table(
              'Failing webhooks',
              ['Webhook', 'State', 'Failing requests (24 h)', 'Last error'],
              failing.map(({ webhook, failed, last }) => [
                webhook.url,
                webhookState(webhook),
                String(failed.length),
                last ? last.lastError || `HTTP ${last.lastStatusCode}` : '—',
              ]),
            )
          : empty('No webhook is failing.'),
      ),
    ];
  });
}

/** What the counts above leave out when the account has more requests than the page fetches. */
function countedNote(counted) {
  return h(
    'p',
    { class: 'muted' },
    `Only the newest ${MOST_REQUESTS.toLocaleString()} requests were counted here (created since `,
    `${when(counted.at(-1).createdAt)}); older ones are left out of these counts and of the lists below.`,
  );
}

/** "enabled; failing since …, 5 failed attempts in a row", or why it is disabled. */
function webhookState(webhook) {
  const on = webhook.enabled ? 'enabled' : `disabled${webhook.disabledReason ? `: ${webhook.disabledReason}` : ''}`;
  if (!webhook.failingSince) return on;
  const attempts = `${webhook.consecutiveFailures} failed attempt${webhook.consecutiveFailures === 1 ? '' : 's'}`;
  return `${on}; failing since ${when(webhook.failingSince)}, ${attempts} in a row`;
}

function stat(label, value, path) {
  return h('div', { class: 'card stat' }, h('span', { class: 'value' }, String(value)), navLink(path, label));
}

/** What a new account does next: an agent, a chat, a webhook (with the development receiver). */
function firstSteps(agentCount, webhookCount) {
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'first-steps' },
    h('h2', { id: 'first-steps' }, 'Next steps'),
    h(
      'ol',
      {},
      agentCount
        ? null
        : h('li', {}, navLink('/agents', 'Create or import an agent'), ' (a Character Card JSON or PNG works too).'),
      h(
        'li',
        {},
        'Open an agent and chat in its playground. Without a model provider in the configuration, the built-in',
        ' offline demo model answers (its replies say so, and the usage line reads "demo/…").',
      ),
      h('li', {}, 'Try an async reply: in the playground, send it to "This page"; it needs no webhook of your own.'),
      webhookCount
        ? null
        : h(
            'li',
            {},
            navLink('/webhooks', 'Add a webhook'),
            ' for your app. To watch deliveries on this machine, run ',
            h('code', {}, 'novaro-lite listen --port 9000'),
            ' and point the webhook at http://127.0.0.1:9000/hook; a loopback address needs the server setting ',
            h('code', {}, '[webhooks] allow_private_networks = true'),
            '.',
          ),
    ),
  );
}
