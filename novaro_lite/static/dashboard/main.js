// The dashboard's shell: sign-in, navigation and the client-side router (each page has its own URL).

import { onSignOut, signIn, signOut, token, verify } from './api.js';
import { field, h, notice, replace } from './dom.js';
import { agentPage } from './pages/agent.js';
import { agentsPage } from './pages/agents.js';
import { contextsPage } from './pages/contexts.js';
import { groupPage, groupsPage } from './pages/groups.js';
import { overviewPage } from './pages/overview.js';
import { requestPage, requestsPage } from './pages/requests.js';
import { tokensPage } from './pages/tokens.js';
import { webhooksPage } from './pages/webhooks.js';

const NAV = [
  ['/', 'Overview'],
  ['/agents', 'Agents'],
  ['/groups', 'Groups'],
  ['/contexts', 'Contexts'],
  ['/webhooks', 'Webhooks'],
  ['/requests', 'Requests'],
  ['/tokens', 'Tokens'],
];
const ROUTES = [
  [/^\/$/, overviewPage],
  [/^\/agents$/, agentsPage],
  [/^\/agents\/([^/]+)$/, agentPage],
  [/^\/groups$/, groupsPage],
  [/^\/groups\/([^/]+)$/, groupPage],
  [/^\/contexts$/, contextsPage],
  [/^\/webhooks$/, webhooksPage],
  [/^\/requests$/, requestsPage],
  [/^\/requests\/([^/]+)$/, requestPage],
  [/^\/tokens$/, tokensPage],
];

const app = document.getElementById('app');
let leave = null; // the current page's cleanup (timers, streams)
let who = null; // GET /api/v1/auth/verify of the token in use

/** Show `path`; the same path again re-renders it without a new history entry (after saving a form). */
function navigate(path) {
  if (path === location.pathname) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  render({ moved: true });
}

function link(path, text) {
  return h('a', { href: path, dataset: { nav: '' } }, text);
}

function signInPage(reason) {
  const input = h('input', {
    type: 'password',
    name: 'token',
    autocomplete: 'off',
    required: true,
    placeholder: 'nl_…',
    spellcheck: false,
  });
  const remember = h('input', { type: 'checkbox' });
  const status = h('div', {});
  if (reason) status.append(notice('error', reason));
  const form = h(
    'form',
    {
      class: 'card signin',
      onsubmit: async (event) => {
        event.preventDefault();
        const candidate = input.value.trim();
        replace(status, notice('info', 'Checking the token…'));
        try {
          who = await verify(candidate);
          signIn(candidate, remember.checked);
          render();
        } catch (error) {
          replace(status, notice('error', error.message));
          input.focus();
        }
      },
    },
    h('h1', {}, 'Sign in to novaro-lite'),
    h(
      'p',
      {},
      "Paste an API token: the one printed on the server's first start, or one from ",
      h('code', {}, 'novaro-lite token create --name dashboard'),
      '. It stays in this browser tab only, unless you ask to remember it.',
    ),
    field('API token', input),
    h(
      'label',
      { class: 'check' },
      remember,
      ' Remember on this device (new tabs open signed in; anyone using this browser profile can use it)',
    ),
    h('button', { type: 'submit', class: 'primary' }, 'Sign in'),
    status,
    h(
      'p',
      { class: 'muted' },
      'Without a token: the ',
      h('a', { href: '/scalar' }, 'API reference'),
      ' and the ',
      h('a', { href: '/openapi.json' }, 'OpenAPI document'),
      '.',
    ),
  );
  replace(app, h('main', { id: 'main', class: 'narrow' }, form));
  input.focus();
}

function shell(path) {
  const current = NAV.filter(([href]) => (href === '/' ? path === '/' : path.startsWith(href))).pop();
  const main = h('main', { id: 'main', tabindex: -1 });
  replace(
    app,
    h(
      'a',
      {
        href: '#main',
        class: 'skip',
        onclick: (event) => {
          event.preventDefault();
          main.focus();
        },
      },
      'Skip to content',
    ),
    h(
      'header',
      { class: 'top' },
      h('a', { href: '/', class: 'brand', dataset: { nav: '' } }, 'novaro-lite'),
      h(
        'nav',
        { 'aria-label': 'Dashboard' },
        h(
          'ul',
          {},
          NAV.map(([href, text]) => {
            const item = link(href, text);
            if (current && current[0] === href) item.setAttribute('aria-current', 'page');
            return h('li', {}, item);
          }),
        ),
      ),
      h(
        'div',
        { class: 'who' },
        h('a', { href: '/scalar' }, 'API reference'),
        h('a', { href: '/openapi.json' }, 'OpenAPI'),
        who ? h('span', { class: 'muted' }, `${who.name} · ${who.account}`) : null,
        h('button', { type: 'button', onclick: () => signOut() }, 'Sign out'),
      ),
    ),
    main,
  );
  return main;
}

/** A path segment decoded; a malformed escape (/agents/%ZZ) is kept as written, so the page asks the server
 * for it and says it does not exist, as for any unknown id, instead of failing with a blank page. */
function decoded(segment) {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** Draw the page of the current URL; after a navigation (`moved`), focus goes to its main heading, unless
 * the person has put it somewhere on the new page already. */
async function render({ moved = false } = {}) {
  if (leave) {
    leave();
    leave = null;
  }
  if (!token()) {
    signInPage();
    return;
  }
  if (!who) {
    try {
      who = await verify(token());
    } catch (error) {
      signOut(error.message);
      return;
    }
  }
  const path = location.pathname.replace(/\/+$/, '') || '/';
  const main = shell(path);
  const route = ROUTES.find(([pattern]) => pattern.test(path));
  if (!route) {
    main.append(h('h1', {}, 'Not found'), notice('error', `The dashboard has no page ${path}.`));
    return;
  }
  const [pattern, page] = route;
  const params = pattern.exec(path).slice(1).map(decoded);
  const cleanups = [];
  const context = {
    who,
    navigate,
    left: false,
    /** Run `cleanup` when the person leaves this page (at once if they already have). */
    onLeave(cleanup) {
      if (context.left) cleanup();
      else cleanups.push(cleanup);
    },
  };
  leave = () => {
    context.left = true;
    for (const cleanup of cleanups) cleanup();
  };
  try {
    await page(main, context, ...params);
  } catch (error) {
    if (error.name !== 'AbortError') main.append(notice('error', error.message));
  }
  const heading = main.querySelector('h1');
  document.title = `${heading?.textContent || 'Dashboard'} · novaro-lite`;
  if (moved && heading && !context.left && (!document.activeElement || document.activeElement === document.body)) {
    heading.tabIndex = -1;
    heading.focus();
  }
}

onSignOut((reason) => {
  who = null;
  if (leave) {
    leave();
    leave = null;
  }
  signInPage(reason);
});

document.addEventListener('click', (event) => {
  const anchor = event.target.closest('a[data-nav]');
  if (!anchor || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) {
    return;
  }
  event.preventDefault();
  navigate(anchor.getAttribute('href'));
});
window.addEventListener('popstate', () => render({ moved: true }));
render();
