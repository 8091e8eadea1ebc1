// Building DOM nodes. API data only ever becomes text nodes or attribute values: never HTML.

const SVG_NS = 'http://www.w3.org/2000/svg';

function fill(node, attrs, children) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key in node && !(node instanceof SVGElement) && key !== 'list' && key !== 'for') node[key] = value;
    else node.setAttribute(key === 'for' ? 'for' : key, value === true ? '' : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** h('p', {class: 'x'}, 'text', otherNode): an HTML element whose strings are text. */
export function h(tag, attrs, ...children) {
  const node = document.createElement(tag);
  if (attrs?.class) {
    node.className = attrs.class;
    attrs = { ...attrs, class: undefined };
  }
  return fill(node, attrs, children);
}

export function svg(tag, attrs, ...children) {
  return fill(document.createElementNS(SVG_NS, tag), attrs, children);
}

export function replace(node, ...children) {
  node.replaceChildren();
  return fill(node, {}, children);
}

let fieldIds = 0;

/** A labelled control: returns the wrapper; the control is wrapper.control. A control with a maxLength
 * shows how many characters are left as one types; wrapper.problem(text) marks it invalid with `text`. */
export function field(label, control, hint) {
  control.id = control.id || `f${++fieldIds}`;
  const wrapper = h('div', { class: 'field' }, h('label', { for: control.id }, label), control);
  const described = [];
  if (hint) {
    const hintNode = h('small', { id: `${control.id}-hint` }, hint);
    described.push(hintNode.id);
    wrapper.append(hintNode);
  }
  if (control.maxLength > 0) {
    const count = h('small', { id: `${control.id}-count`, class: 'count' });
    const update = () => {
      count.textContent = `${control.value.length} of ${control.maxLength.toLocaleString()} characters`;
    };
    control.addEventListener('input', update);
    update();
    described.push(count.id);
    wrapper.append(count);
  }
  const error = h('small', { id: `${control.id}-error`, class: 'field-error', hidden: true });
  wrapper.append(error);
  const describe = () => {
    const ids = error.hidden ? described : [error.id, ...described];
    if (ids.length) control.setAttribute('aria-describedby', ids.join(' '));
    else control.removeAttribute('aria-describedby');
  };
  describe();
  wrapper.control = control;
  wrapper.hint = hint;
  wrapper.problem = (text) => {
    error.textContent = text || '';
    error.hidden = !text;
    if (text) control.setAttribute('aria-invalid', 'true');
    else control.removeAttribute('aria-invalid');
    describe();
  };
  control.addEventListener('input', () => wrapper.problem(''));
  /** Set the value from code: only typing fires `input`, so without it the count would stay stale. */
  wrapper.set = (value) => {
    control.value = value;
    control.dispatchEvent(new Event('input'));
  };
  return wrapper;
}

export function select(options, value) {
  const node = h('select', {});
  for (const option of options) {
    const [optValue, text] = Array.isArray(option) ? option : [option, option];
    node.append(h('option', { value: optValue, selected: optValue === value }, text));
  }
  return node;
}

/** A button that asks "Are you sure?" in place (no browser dialog), then runs `action`; once it is done
 * (or refused, a 409 say) the button comes back, unless the row it was in went with it. */
export function confirmButton(label, question, action) {
  const holder = h('span', { class: 'confirm' });
  const ask = h(
    'button',
    {
      type: 'button',
      class: 'danger',
      onclick: () => {
        const yes = h(
          'button',
          {
            type: 'button',
            class: 'danger',
            onclick: async () => {
              await action();
              if (!holder.isConnected) return;
              const focused = yes === document.activeElement;
              replace(holder, ask);
              if (focused) ask.focus();
            },
          },
          `Yes, ${label.toLowerCase()}`,
        );
        const no = h(
          'button',
          {
            type: 'button',
            onclick: () => {
              replace(holder, ask);
              ask.focus();
            },
          },
          'Cancel',
        );
        replace(holder, h('span', { role: 'alert' }, question, ' '), yes, ' ', no);
        no.focus();
      },
    },
    label,
  );
  holder.append(ask);
  return holder;
}

/** A table in a scrollable region, with a header row and one row per item; on a phone each row shows as a
 * card whose cells carry their column's name (data-label). A column headed '' (its buttons) is named for
 * screen readers only. */
export function table(caption, headers, rows) {
  return h(
    'div',
    { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': caption },
    h(
      'table',
      {},
      h('caption', { class: 'visually-hidden' }, caption),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          headers.map((head) => h('th', { scope: 'col' }, head || h('span', { class: 'visually-hidden' }, 'Actions'))),
        ),
      ),
      h(
        'tbody',
        {},
        rows.map((cells) =>
          h(
            'tr',
            {},
            cells.map((cell, index) =>
              h('td', { dataset: headers[index] ? { label: headers[index] } : undefined }, cell),
            ),
          ),
        ),
      ),
    ),
  );
}

/** A box of capped height (`.clip`, `.prompt`) that scrolls when its text is long: a named region in the
 * tab order, so a keyboard can reach and scroll it too. */
export function scrollBox(tag, className, label, ...children) {
  return h(tag, { class: className, tabindex: 0, role: 'region', 'aria-label': label }, ...children);
}

export function notice(kind, ...text) {
  return h('p', { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, ...text);
}
