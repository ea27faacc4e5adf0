// Access token: kept in localStorage (for `?token=` on the WebSocket and the Authorization
// header) and in the `wirewatch_token` cookie (so export downloads and plain links carry it),
// plus the small form shown when the server answers 401.

import { el, clear } from './dom.js';

const KEY = 'wirewatch_token';

/** The stored token, or ''. */
export function getToken() {
  try {
    return localStorage.getItem(KEY) || '';
  } catch {
    return '';
  }
}

/** Stores (or with '' forgets) the token in localStorage and the SameSite=Strict cookie. */
export function saveToken(token) {
  const t = String(token || '').trim();
  try {
    if (t) localStorage.setItem(KEY, t);
    else localStorage.removeItem(KEY);
  } catch {
    // Storage disabled: the cookie still works for the API.
  }
  const secure = location.protocol === 'https:' ? '; Secure' : '';
  document.cookie = t
    ? `${KEY}=${encodeURIComponent(t)}; Path=/; SameSite=Strict; Max-Age=31536000${secure}`
    : `${KEY}=; Path=/; SameSite=Strict; Max-Age=0${secure}`;
}

/**
 * Shows the token form in `container` (replacing its content). On submit the token is saved
 * and the page reloads. `message` explains why (e.g. the server's 401 text).
 */
export function showTokenForm(container, message) {
  if (container.querySelector('[data-testid="token-form"]')) return;
  const input = el('input', {
    type: 'password',
    id: 'token-input',
    name: 'token',
    autocomplete: 'current-password',
    required: true,
    placeholder: 'access token',
    'data-testid': 'token-input',
  });
  const form = el(
    'form',
    { class: 'token-form', 'data-testid': 'token-form' },
    el('h2', null, 'Access token required'),
    el(
      'p',
      null,
      'This Wirewatch server listens on a non-loopback address and needs its access token ',
      '(printed by ',
      el('code', null, 'wirewatch token'),
      ' or set as ',
      el('code', null, '[web] token'),
      ' in the config).'
    ),
    message ? el('p', { class: 'token-error' }, message) : null,
    el('label', { for: 'token-input' }, 'Token'),
    el('div', { class: 'token-row' }, input, el('button', { type: 'submit', class: 'btn primary' }, 'Sign in'))
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    saveToken(input.value);
    location.reload();
  });
  clear(container);
  container.appendChild(form);
  container.hidden = false;
  input.focus();
}
