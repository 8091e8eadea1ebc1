// One agent: its details, its day beside the viewer's, its response times, the edit form, the playground and
// what the model sees.

import { api, image, listAll } from '../api.js';
import { barChart, dayStrip, isAwake } from '../charts.js';
import { confirmButton, h, notice, replace, scrollBox } from '../dom.js';
import { clock, duration, viewerTimeZone, when } from '../format.js';
import { agentForm, DEFAULT_RESPONSE_TIMES } from './agent_form.js';
import { cardExport } from './cards.js';
import { characterSection, resolved } from './character.js';
import { checkInList } from './check_ins.js';
import { errorBox, navLink } from './common.js';
import { playground } from './playground.js';
import { promptView } from './prompt_view.js';

function bands(agent) {
  const table = agent.responseTimes || DEFAULT_RESPONSE_TIMES;
  let from = 0;
  return table.map((band) => {
    const bar = {
      label: `${duration(from)}–${duration(band.upToSeconds)}`,
      value: band.probability,
      text: `${Math.round(band.probability * 1000) / 10}%`,
    };
    from = band.upToSeconds;
    return bar;
  });
}

export async function agentPage(main, context, id) {
  const agent = await api('GET', `/api/v1/agents/${encodeURIComponent(id)}`);
  const [webhooks, contexts] = await Promise.all([listAll('/api/v1/webhooks'), listAll('/api/v1/contexts')]);
  const names = new Map(contexts.items.map((item) => [item.id, item.name]));
  const awake = isAwake(agent);
  const edit = h('div', {});
  const status = h('div', {});
  const exported = errorBox();
  const now = Date.now() / 1000;
  const checkIns = checkInList(agent, context);
  main.append(
    h('p', {}, navLink('/agents', '← Agents')),
    h('h1', {}, avatar(agent), agent.name),
    h(
      'p',
      { class: `badge ${awake ? 'ok' : 'off'}` },
      awake ? 'Awake now' : 'Asleep now',
      ` · ${clock(now, agent.timezone)} in ${agent.timezone}, ${clock(now)} for you (${viewerTimeZone()})`,
    ),
    playground(agent, webhooks.items, context, () => checkIns.refresh()),
    checkIns.element,
    h(
      'section',
      { class: 'card' },
      h(
        'dl',
        { class: 'facts' },
        fact('Id', agent.id),
        fact('Location', agent.location || '—'),
        fact('Language', agent.language),
        fact('Active hours', `${agent.activeHours.start}–${agent.activeHours.end} local (±15 min a day)`),
        fact('Model', agent.model || 'server default'),
        fact('Most bubbles', String(agent.maxBubbles)),
        fact('Contexts', agent.contextIds.map((cid) => names.get(cid) || cid).join(', ') || '—'),
        fact('Created', when(agent.createdAt)),
      ),
      agent.persona ? scrollBox('p', 'persona clip', 'Persona', resolved(agent.persona, agent)) : null,
      h(
        'div',
        { class: 'row' },
        h(
          'button',
          {
            type: 'button',
            onclick: async () => {
              replace(edit, await agentForm(agent, () => context.navigate(`/agents/${agent.id}`)));
              edit.querySelector('input').focus();
            },
          },
          'Edit',
        ),
        cardExport(agent, exported),
        confirmButton('Delete', `Delete ${agent.name}? Its pending requests fail.`, async () => {
          try {
            await api('DELETE', `/api/v1/agents/${encodeURIComponent(agent.id)}`);
            context.navigate('/agents');
          } catch (error) {
            replace(status, notice('error', error.message));
          }
        }),
      ),
      status,
      exported,
    ),
    edit,
    characterSection(agent, () => context.navigate(`/agents/${agent.id}`)),
    promptView(agent),
    h('section', { class: 'card' }, h('h2', {}, 'Waking hours today'), dayStrip(agent)),
    h(
      'section',
      { class: 'card' },
      h('h2', {}, 'Response times'),
      barChart(
        `How long ${agent.name} takes to answer${agent.responseTimes ? '' : " (the server's default table)"}`,
        bands(agent),
      ),
    ),
  );
}

/** The agent's picture, once fetched (shown from a blob: URL, the only kind the CSP lets an image come from
 * besides the dashboard itself); nothing when it has none. */
function avatar(agent) {
  if (!agent.hasAvatar) return null;
  const img = h('img', { class: 'avatar', alt: '', hidden: true });
  image(`/api/v1/agents/${encodeURIComponent(agent.id)}/avatar`).then(
    (blob) => {
      if (!blob) return;
      const url = URL.createObjectURL(blob);
      img.onload = () => URL.revokeObjectURL(url);
      img.src = url;
      img.hidden = false;
    },
    () => {},
  );
  return img;
}

function fact(term, value) {
  return h('div', {}, h('dt', {}, term), h('dd', {}, value));
}
