'use strict';
Console.start(async () => {
  const { el, api, dp, bytes, age, labels, notify } = Console;
  const id = new URLSearchParams(location.search).get('id');
  if (!id) { location.href = '/ui/'; return; }
  let box = await api('GET', '/boxes/' + encodeURIComponent(id));
  let shell = null;
  let lastCpu = null;
  window.__console = { get shell() { return shell; }, get box() { return box; } };

  // --- details -------------------------------------------------------------------------------------------------
  async function loadBox() {
    box = await api('GET', '/boxes/' + encodeURIComponent(box.id));
    document.title = box.name + ' · Sandbox console';
    document.getElementById('box-name').textContent = box.name;
    const facts = [
      ['Status', el('span', { class: 'status ' + box.status, id: 'box-status' }, box.status)],
      ['Id', box.id],
      ['Snapshot', box.snapshot_id || '–'],
      ['Resources', `${box.vcpus ?? '–'} vCPU · ${bytes(box.mem_bytes)}` + (box.fs_capacity_bytes ? ` · ${bytes(box.fs_capacity_bytes)} disk` : '')],
      ['Created', `${box.created_at} (${age(box.created_at)} ago)`],
      ['Idle TTL', box.idle_ttl_seconds ? box.idle_ttl_seconds + ' s' : 'none'],
      ['Labels', labels(box.labels)],
    ];
    if (box.status_message) facts.push(['Message', box.status_message]);
    document.getElementById('box-facts').replaceChildren(...facts.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
    const running = box.status === 'ready';
    document.getElementById('box-actions').replaceChildren(
      running ? el('button', { class: 'secondary', onclick: () => lifecycle('stop') }, 'Stop')
              : el('button', { class: 'secondary', onclick: () => lifecycle('start') }, 'Start'),
      el('button', { class: 'danger', onclick: () => lifecycle('delete') }, 'Delete'));
  }

  async function lifecycle(verb) {
    if (!confirm(verb === 'delete' ? `Delete sandbox "${box.name}" and all of its files?` : `${verb === 'stop' ? 'Stop' : 'Start'} sandbox "${box.name}"?`)) return;
    try {
      const name = encodeURIComponent(box.name);
      if (verb === 'delete') {
        await api('DELETE', '/boxes/' + name);
        location.href = '/ui/';
        return;
      }
      await api('POST', '/boxes/' + name + '/' + verb);
      await loadBox();
    } catch (e) {
      notify(e.message, true);
    }
  }

  // --- live usage (GET {dp}/stats, a read-only local-server extension) ------------------------------------------
  async function loadStats() {
    const s = await dp(box, 'GET', '/stats');
    const set = (idName, text) => { document.getElementById(idName).textContent = text; };
    if (!s.running) {
      ['stat-cpu', 'stat-mem', 'stat-pids'].forEach(i => set(i, 'stopped'));
      set('stat-disk', '–');
      lastCpu = null;
      return;
    }
    const now = Date.parse(s.sampled_at);
    if (lastCpu && s.cpu_usage_nanoseconds != null && now > lastCpu.at) {
      const pct = (s.cpu_usage_nanoseconds - lastCpu.ns) / ((now - lastCpu.at) * 1e6) * 100;
      set('stat-cpu', `${Math.max(0, pct).toFixed(1)}% of ${s.vcpus * 100}%`);
    } else if (s.cpu_usage_nanoseconds != null) {
      set('stat-cpu', (s.cpu_usage_nanoseconds / 1e9).toFixed(2) + ' s used');
    }
    if (s.cpu_usage_nanoseconds != null) lastCpu = { ns: s.cpu_usage_nanoseconds, at: now };
    set('stat-mem', `${bytes(s.memory_bytes)} / ${bytes(s.memory_limit_bytes)}`);
    set('stat-pids', s.pids != null ? `${s.pids}` + (s.pids_limit ? ` / ${s.pids_limit}` : '') : '–');
    set('stat-disk', s.disk_capacity_bytes ? `${bytes(s.disk_used_bytes)} / ${bytes(s.disk_capacity_bytes)}` : `${bytes(s.disk_used_bytes)} written`);
  }

  // --- recent commands (GET {dp}/commands, local-server extension) ----------------------------------------------
  async function loadCommands() {
    const list = await dp(box, 'GET', '/commands');
    document.querySelector('#commands tbody').replaceChildren(...list.commands.slice(0, 20).map(c => el('tr', {},
      el('td', { class: 'mono', title: c.command }, c.command.length > 80 ? c.command.slice(0, 77) + '…' : c.command),
      el('td', {}, el('span', { class: 'status ' + c.status }, c.status + (c.pty ? ' (pty)' : ''))),
      el('td', {}, c.exit_code ?? (c.error_type || '')),
      el('td', { title: c.started_at }, age(c.started_at) + ' ago'))));
  }

  // --- files (POST {dp}/glob, GET {dp}/download, POST {dp}/upload) ----------------------------------------------
  const pathInput = document.getElementById('files-path');
  async function loadFiles(path) {
    path = (path || pathInput.value || '/').replace(/\/+$/, '') || '/';
    try {
      const result = await dp(box, 'POST', '/glob', { path, pattern: '*', limit: 1000 });
      pathInput.value = path;
      const entries = result.matches.sort((a, b) => (b.is_dir - a.is_dir) || a.path.localeCompare(b.path));
      document.querySelector('#files tbody').replaceChildren(...entries.map(f => {
        const name = f.path.split('/').pop();
        return el('tr', {},
          el('td', {}, f.is_dir ? el('a', { href: '#', onclick: ev => { ev.preventDefault(); loadFiles(f.path); } }, name + '/') : name),
          el('td', {}, f.is_dir ? '' : bytes(f.size_bytes)),
          el('td', {}, f.is_dir ? '' : el('button', { class: 'link', onclick: () => download(f.path) }, 'download')));
      }));
    } catch (e) {
      notify(e.message, true);
    }
  }

  async function download(path) {
    try {
      const r = await dp(box, 'GET', '/download?path=' + encodeURIComponent(path), undefined, { raw: true });
      const url = URL.createObjectURL(await r.blob());
      const a = el('a', { href: url, download: path.split('/').pop() });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (e) {
      notify(e.message, true);
    }
  }

  document.getElementById('files-upload').addEventListener('change', async (ev) => {
    const dir = pathInput.value.replace(/\/+$/, '');
    for (const file of ev.target.files) {
      const form = new FormData();
      form.append('file', file, 'file');
      try {
        await dp(box, 'POST', '/upload?path=' + encodeURIComponent(dir + '/' + file.name), form);
        notify('Uploaded ' + file.name);
      } catch (e) {
        notify(file.name + ': ' + e.message, true);
      }
    }
    ev.target.value = '';
    loadFiles(dir);
  });
  document.getElementById('files-go').addEventListener('click', () => loadFiles());
  pathInput.addEventListener('keydown', ev => { if (ev.key === 'Enter') loadFiles(); });
  document.getElementById('files-up').addEventListener('click', () => {
    const parent = pathInput.value.replace(/\/+$/, '').split('/').slice(0, -1).join('/') || '/';
    loadFiles(parent);
  });

  // --- open service (POST {base}/boxes/{name}/service-url) ------------------------------------------------------
  const portInput = document.getElementById('service-port');
  function port() {
    const p = parseInt(portInput.value, 10);
    if (!(p >= 1 && p <= 65535)) throw new Error('Enter a port between 1 and 65535');
    return p;
  }
  async function mint(expires) {
    return api('POST', '/boxes/' + encodeURIComponent(box.name) + '/service-url', { port: port(), expires_in_seconds: expires });
  }
  document.getElementById('service-open').addEventListener('click', async () => {
    const tab = window.open('', '_blank');
    try {
      const url = await mint(3600);
      if (tab) { tab.opener = null; tab.location.href = url.browser_url || url.service_url; }
    } catch (e) {
      if (tab) tab.close();
      notify(e.message, true);
    }
  });
  document.getElementById('service-share').addEventListener('click', async () => {
    try {
      const lifetime = parseInt(document.getElementById('share-lifetime').value, 10);
      const url = await mint(lifetime);
      const link = url.browser_url || url.service_url;
      const field = document.getElementById('share-url');
      field.value = link;
      field.hidden = false;
      field.select();
      try {
        await navigator.clipboard.writeText(link);
        notify('Link copied (valid until ' + new Date(url.expires_at).toLocaleString() + ')');
      } catch (e) {
        notify('Copy the selected link (the browser did not allow clipboard access)');
      }
    } catch (e) {
      notify(e.message, true);
    }
  });

  // Listening TCP ports, read from /proc/net/tcp{,6} inside the box through the public execute API.
  async function loadPorts() {
    try {
      const r = await dp(box, 'POST', '/execute', { command: 'cat /proc/net/tcp /proc/net/tcp6 2>/dev/null', shell: '/bin/sh', timeout: 10 });
      const ports = new Set();
      for (const line of r.stdout.split('\n').slice(1)) {
        const cols = line.trim().split(/\s+/);
        if (cols.length > 3 && cols[3] === '0A') ports.add(parseInt(cols[1].split(':').pop(), 16));
      }
      const sorted = [...ports].filter(p => p > 0).sort((a, b) => a - b);
      document.getElementById('ports').replaceChildren(...(sorted.length ? sorted.map(p =>
        el('button', { class: 'chip', 'data-port': p, onclick: () => { portInput.value = p; } }, String(p))) : [el('span', { class: 'muted' }, 'none')]));
    } catch (e) {
      document.getElementById('ports').textContent = e.message;
    }
  }
  document.getElementById('ports-refresh').addEventListener('click', loadPorts);

  // --- shell -------------------------------------------------------------------------------------------------------
  function startShell(fresh) {
    const container = document.getElementById('terminal');
    if (!Console.terminalBuilt || typeof Terminal === 'undefined') {
      container.textContent = 'The terminal library (xterm.js) was not built into this server: install Node.js and npm (eng/install-deps.sh --browser) and rebuild Sandbox.Server.';
      return;
    }
    if (!shell) shell = new BoxShell(box, container, text => { document.getElementById('shell-status').textContent = text; });
    else shell.term.reset();
    const previous = fresh ? null : sessionStorage.getItem('shell:' + box.id);
    shell.start(previous);
    shell.term.focus();
  }
  document.getElementById('shell-copy').addEventListener('click', () => shell && shell.copy());
  document.getElementById('shell-paste').addEventListener('click', () => shell && shell.paste());
  document.getElementById('shell-new').addEventListener('click', () => {
    if (shell && !shell.finished && !confirm('End the current shell and start a new one?')) return;
    if (shell) shell.kill();
    startShell(true);
  });

  await loadBox();
  startShell(false);
  loadFiles('/home/user');
  loadPorts();
  const tick = async () => {
    try {
      await Promise.all([loadStats(), loadCommands()]);
    } catch (e) {
      // A transient failure shows on the next tick; a signed-out session redirects in the API helper.
    }
  };
  tick();
  setInterval(tick, 2000);
  setInterval(() => loadBox().catch(() => {}), 5000);
});
