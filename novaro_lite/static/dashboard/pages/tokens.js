// Tokens: the account's API tokens. A new token is shown once; revoking the one in use signs out.

import { api, signOut } from '../api.js';
import { confirmButton, field, h, notice, replace, select, table } from '../dom.js';
import { when } from '../format.js';
import { attempt, errorBox, pagedList, searchBox, shownOnce } from './common.js';

const LIFETIMES = [
  ['', 'never'],
  ['86400', '1 day'],
  ['2592000', '30 days'],
  ['7776000', '90 days'],
  ['31536000', '1 year'],
];

export async function tokensPage(main, context) {
  const created = h('div', {});
  const status = h('div', {});
  const name = field(
    'Token name',
    h('input', { type: 'text', required: true, maxLength: 200 }),
    'What the token is for, e.g. the app that uses it.',
  );
  const lifetime = field('Expires after', select(LIFETIMES, ''));
  const errors = errorBox();

  const search = searchBox('a name or part of one', () => list.restart());
  const list = pagedList({
    path: '/api/v1/tokens',
    noun: 'token',
    query: () => (search.value.trim() ? { q: search.value.trim() } : {}),
    none: (q) => (q ? `No token's name contains “${q}”.` : 'No tokens.'),
    render: (tokens) =>
      table(
        'API tokens',
        ['Name', 'Prefix', 'Created', 'Last used', 'Expires', ''],
        tokens.map((token) => {
          const mine = token.id === context.who.id;
          return [
            mine ? h('span', {}, token.name, ' ', h('span', { class: 'badge ok' }, 'this dashboard')) : token.name,
            h('code', {}, `${token.prefix}…`),
            when(token.createdAt),
            when(token.lastUsedAt),
            when(token.expiresAt),
            confirmButton(
              'Revoke',
              mine
                ? 'Revoke the token this dashboard uses? You will be signed out.'
                : `Revoke ${token.name}? Apps using it get 401 at once.`,
              async () => {
                try {
                  await api('DELETE', `/api/v1/tokens/${encodeURIComponent(token.id)}`);
                } catch (error) {
                  replace(status, notice('error', error.message));
                  return;
                }
                if (mine) {
                  signOut('You revoked the token this dashboard used. Sign in with another one.');
                  return;
                }
                replace(status, notice('info', `Revoked ${token.name}.`));
                await list.refresh();
              },
            ),
          ];
        }),
      ),
  });

  main.append(
    h('h1', {}, 'Tokens'),
    h(
      'form',
      {
        class: 'card form',
        onsubmit: async (event) => {
          event.preventDefault();
          const body = { name: name.control.value };
          if (lifetime.control.value) body.expiresIn = Number(lifetime.control.value);
          const made = await attempt(errors, () => api('POST', '/api/v1/tokens', body));
          if (made) {
            replace(created, shownOnce(`API token ${made.name}`, made.token));
            name.set('');
            await list.refresh();
          }
        },
      },
      h('h2', {}, 'New token'),
      h('div', { class: 'grid' }, name, lifetime),
      errors,
      h('button', { type: 'submit', class: 'primary' }, 'Create token'),
    ),
    created,
    status,
    field('Search tokens', search),
    list.element,
  );
  await list.restart();
}
