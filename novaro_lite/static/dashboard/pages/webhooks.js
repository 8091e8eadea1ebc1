// Webhooks: where async replies go. The secret is shown once (creation, rotation); test pings; on/off.

import { api } from '../api.js';
import { confirmButton, field, h, notice, replace } from '../dom.js';
import { when } from '../format.js';
import { attempt, errorBox, pagedList, searchBox, shownOnce } from './common.js';

const SHOWN = new Set(['id', 'url', 'description', 'enabled', 'createdAt', 'updatedAt']);

function label(key) {
  return key.replace(/([A-Z])/g, ' $1').replace(/^./, (first) => first.toUpperCase());
}

/** Any other field the server sends (now or in a later version) shows as a plain fact. */
function extraFacts(webhook) {
  return Object.entries(webhook)
    .filter(([key]) => !SHOWN.has(key))
    .map(([key, value]) =>
      h(
        'div',
        {},
        h('dt', {}, label(key)),
        h(
          'dd',
          {},
          value === null
            ? '—'
            : /(At|Until|Since)$/.test(key) && typeof value === 'number'
              ? when(value)
              : typeof value === 'object'
                ? JSON.stringify(value)
                : String(value),
        ),
      ),
    );
}

export async function webhooksPage(main) {
  const creator = h('div', {});
  const status = h('div', {});

  function createForm() {
    const url = field(
      'URL',
      h('input', { type: 'url', required: true, placeholder: 'http://127.0.0.1:9000/hook' }),
      'A web address (http or https). Loopback and private ones need [webhooks] allow_private_networks = true' +
        ' on the server.',
    );
    const description = field('Description', h('input', { type: 'text', maxLength: 500 }));
    const errors = errorBox();
    replace(
      creator,
      h(
        'form',
        {
          class: 'card form',
          onsubmit: async (event) => {
            event.preventDefault();
            const made = await attempt(
              errors,
              () => api('POST', '/api/v1/webhooks', { url: url.control.value, description: description.control.value }),
              { url, description },
            );
            if (made) {
              replace(creator, shownOnce(`Signing secret of ${made.url}`, made.secret));
              await refresh();
            }
          },
        },
        h('h2', {}, 'New webhook'),
        url,
        description,
        errors,
        h(
          'div',
          { class: 'row' },
          h('button', { type: 'submit', class: 'primary' }, 'Create webhook'),
          h('button', { type: 'button', onclick: () => replace(creator) }, 'Cancel'),
        ),
      ),
    );
    url.control.focus();
  }

  function card(webhook) {
    const result = h('div', {});
    const path = `/api/v1/webhooks/${encodeURIComponent(webhook.id)}`;
    const act = (action) => attempt(result, action);
    return h(
      'li',
      { class: 'card' },
      h('h2', {}, webhook.url),
      h(
        'p',
        {},
        h('span', { class: `badge ${webhook.enabled ? 'ok' : 'off'}` }, webhook.enabled ? 'enabled' : 'disabled'),
        webhook.failingSince ? [' ', h('span', { class: 'badge off' }, 'failing')] : null,
        webhook.description ? ` ${webhook.description}` : '',
      ),
      webhook.failingSince
        ? notice(
            'error',
            `Deliveries have failed since ${when(webhook.failingSince)} ` +
              `(${webhook.consecutiveFailures} attempts in a row).`,
          )
        : null,
      h(
        'dl',
        { class: 'facts' },
        h('div', {}, h('dt', {}, 'Created'), h('dd', {}, when(webhook.createdAt))),
        extraFacts(webhook),
      ),
      h(
        'div',
        { class: 'row' },
        h(
          'button',
          {
            type: 'button',
            onclick: () =>
              act(async () => {
                replace(result, h('p', { class: 'muted', role: 'status' }, 'Sending a signed ping…'));
                const ping = await api('POST', `${path}/test`);
                replace(
                  result,
                  notice(
                    ping.delivered ? 'info' : 'error',
                    `Test ping: ${ping.statusCode ?? 'no answer'} in ${ping.durationMs} ms`,
                    ping.error ? ` (${ping.error})` : '',
                    ping.responseBody ? `. Body: ${ping.responseBody.slice(0, 200)}` : '',
                  ),
                );
              }),
          },
          'Send test ping',
        ),
        h(
          'button',
          {
            type: 'button',
            onclick: () =>
              act(async () => {
                await api('PATCH', path, { enabled: !webhook.enabled });
                await refresh();
              }),
          },
          webhook.enabled ? 'Disable' : 'Enable',
        ),
        confirmButton('Rotate secret', 'Rotate? The old secret keeps signing for 24 hours.', () =>
          act(async () => {
            const rotated = await api('POST', `${path}/rotate-secret`);
            replace(result, shownOnce(`New signing secret of ${rotated.url}`, rotated.secret));
          }),
        ),
        confirmButton('Delete', `Delete ${webhook.url}? Its pending requests fail.`, () =>
          act(async () => {
            await api('DELETE', path);
            replace(status, notice('info', `Deleted ${webhook.url}.`));
            await refresh();
          }),
        ),
      ),
      result,
    );
  }

  const search = searchBox('part of a URL or description', () => list.restart());
  const list = pagedList({
    path: '/api/v1/webhooks',
    noun: 'webhook',
    query: () => (search.value.trim() ? { q: search.value.trim() } : {}),
    none: (q) => (q ? `No webhook's URL or description contains “${q}”.` : 'No webhooks yet.'),
    render: (webhooks) => h('ul', { class: 'cards' }, webhooks.map(card)),
  });
  const refresh = () => list.refresh();

  main.append(
    h('h1', {}, 'Webhooks'),
    h('p', { class: 'muted' }, 'For a local receiver run ', h('code', {}, 'novaro-lite listen'), '.'),
    h('button', { type: 'button', class: 'primary', onclick: createForm }, 'New webhook'),
    creator,
    status,
    field('Search webhooks', search),
    list.element,
  );
  await list.restart();
}
