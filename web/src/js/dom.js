// DOM helpers: the only way our modules build elements.
//
// RULE: every string from the server (names, hosts, user agents, messages, filters, interface
// descriptions, alert text) is attacker-chosen. It goes into the DOM as text only:
// textContent, createTextNode or attribute setters. Never innerHTML, insertAdjacentHTML,
// outerHTML or document.write. `el()` below only ever turns strings into text nodes.

/**
 * Creates an element. `attrs` keys:
 *   class / className → className; dataset: {k: v} → data-k; on: {event: fn} → listeners;
 *   text → textContent; any other key → setAttribute(key, String(value)) (skipped when
 *   null/undefined/false; `true` sets an empty attribute). Keys starting with "on" that are not
 *   the `on` object are refused, so no inline handler can be set from data.
 * Children: Nodes are appended; strings and numbers become text nodes; null/false are skipped;
 * arrays are flattened.
 */
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  if (attrs) {
    for (const [key, value] of Object.entries(attrs)) {
      if (value === null || value === undefined || value === false) continue;
      if (key === 'class' || key === 'className') {
        node.className = String(value);
      } else if (key === 'dataset') {
        for (const [k, v] of Object.entries(value)) {
          if (v !== null && v !== undefined) node.dataset[k] = String(v);
        }
      } else if (key === 'on') {
        for (const [event, fn] of Object.entries(value)) node.addEventListener(event, fn);
      } else if (key === 'text') {
        node.textContent = String(value);
      } else if (key === 'value' && 'value' in node) {
        node.value = String(value);
      } else if (key === 'checked' || key === 'selected' || key === 'disabled') {
        node[key] = Boolean(value);
      } else if (/^on/i.test(key) || key === 'style') {
        throw new Error(`el(): refusing attribute ${key}`);
      } else {
        node.setAttribute(key, value === true ? '' : String(value));
      }
    }
  }
  append(node, children);
  return node;
}

/** Appends children (Nodes, strings as text nodes, arrays flattened, null skipped). */
export function append(parent, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) {
      append(parent, child);
    } else if (child instanceof Node) {
      parent.appendChild(child);
    } else {
      parent.appendChild(document.createTextNode(String(child)));
    }
  }
  return parent;
}

/** Removes every child of `node`. */
export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

/** Replaces the children of `node` with `children`. */
export function replaceChildren(node, ...children) {
  clear(node);
  return append(node, children);
}

/** Sets the text of `node` (only when it changed, to spare layout). */
export function setText(node, text) {
  const s = text === null || text === undefined ? '' : String(text);
  if (node.textContent !== s) node.textContent = s;
  return node;
}

/** `document.querySelector` that throws a clear error when the page lacks the element. */
export function $(selector, root = document) {
  const node = root.querySelector(selector);
  if (!node) throw new Error(`missing element ${selector}`);
  return node;
}

/** Shows or hides an element with the `hidden` attribute. */
export function show(node, visible) {
  node.hidden = !visible;
  return node;
}
