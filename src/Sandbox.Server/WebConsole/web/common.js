// Shared helpers of the web console: session (CSRF token), the public API with the session cookie, formatting, DOM.
'use strict';

const Console = (() => {
  let csrf = null;
  let apiBase = '/v2/sandboxes';
  let terminalBuilt = false;

  async function session() {
    const r = await fetch('/ui/session', { credentials: 'same-origin', cache: 'no-store' });
    const s = await r.json();
    csrf = s.csrf_token;
    apiBase = s.api_base || apiBase;
    terminalBuilt = !!s.terminal;
    return s;
  }

  class ApiError extends Error {
    constructor(status, body) {
      const d = body && body.detail;
      const msg = typeof d === 'string' ? d : d && d.message ? d.message : Array.isArray(d) && d[0] ? d[0].msg : 'HTTP ' + status;
      super(msg);
      this.status = status;
      this.type = d && d.error;
    }
  }

  // Every call goes to the public API, authenticated by the HttpOnly session cookie; state-changing calls carry the CSRF token.
  async function call(method, path, body, options) {
    const headers = { 'X-CSRF-TOKEN': csrf || '' };
    let payload;
    if (body instanceof FormData) {
      payload = body;
    } else if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    const r = await fetch(path, { method, headers, body: payload, credentials: 'same-origin', cache: 'no-store' });
    if (r.status === 401 && !path.startsWith('/ui/')) {
      location.href = '/ui/login';
      throw new ApiError(401, null);
    }
    if (options && options.raw) {
      if (!r.ok) throw new ApiError(r.status, await r.json().catch(() => null));
      return r;
    }
    const text = await r.text();
    const json = text ? JSON.parse(text) : null;
    if (!r.ok) throw new ApiError(r.status, json);
    return json;
  }

  const api = (method, path, body, options) => call(method, apiBase + path, body, options);
  const dp = (box, method, path, body, options) => call(method, dataplanePath(box) + path, body, options);

  function dataplanePath(box) {
    return box.dataplane_url ? new URL(box.dataplane_url, location.href).pathname.replace(/\/$/, '') : '/dp/' + encodeURIComponent(box.id);
  }

  function websocketUrl(box, path) {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    return proto + '//' + location.host + dataplanePath(box) + path + '?csrf_token=' + encodeURIComponent(csrf || '');
  }

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else if (k === 'class') e.className = v;
      else e.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  function bytes(n) {
    if (n === null || n === undefined) return '–';
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i === 0 ? n : n.toFixed(n < 10 ? 1 : 0)) + ' ' + units[i];
  }

  function age(iso) {
    if (!iso) return '–';
    const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
    if (s < 60) return Math.floor(s) + 's';
    if (s < 3600) return Math.floor(s / 60) + 'm';
    if (s < 86400) return Math.floor(s / 3600) + 'h ' + Math.floor((s % 3600) / 60) + 'm';
    return Math.floor(s / 86400) + 'd';
  }

  function labels(obj) {
    return Object.entries(obj || {}).map(([k, v]) => el('span', { class: 'label' }, k + '=' + v));
  }

  function parseLabels(text) {
    const out = {};
    for (const part of (text || '').split(',')) {
      const t = part.trim();
      if (!t) continue;
      const eq = t.indexOf('=');
      if (eq <= 0) throw new Error('Labels are key=value pairs separated by commas');
      out[t.slice(0, eq).trim()] = t.slice(eq + 1).trim();
    }
    return out;
  }

  function notify(message, isError) {
    const box = document.getElementById('notice');
    if (!box) return;
    box.textContent = message;
    box.className = isError ? 'notice error' : 'notice';
    box.hidden = false;
    clearTimeout(notify.timer);
    notify.timer = setTimeout(() => { box.hidden = true; }, isError ? 8000 : 3000);
  }

  async function signOut() {
    try {
      await call('DELETE', '/ui/session');
    } finally {
      location.href = '/ui/login';
    }
  }

  // Page bootstrap: session, nav highlighting, sign-out button.
  async function start(main) {
    const s = await session();
    if (!s.signed_in) {
      location.href = '/ui/login';
      return;
    }
    const out = document.getElementById('sign-out');
    if (out) out.addEventListener('click', signOut);
    try {
      await main();
    } catch (e) {
      notify(e.message, true);
    }
  }

  return { session, api, dp, call, websocketUrl, dataplanePath, el, bytes, age, labels, parseLabels, notify, start, signOut,
    get terminalBuilt() { return terminalBuilt; }, ApiError };
})();
