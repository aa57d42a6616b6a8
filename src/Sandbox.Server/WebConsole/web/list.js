'use strict';
Console.start(async () => {
  const { el, api, bytes, age, labels, notify } = Console;
  const tbody = document.querySelector('#boxes tbody');
  const filter = document.getElementById('filter');
  const statusFilter = document.getElementById('status-filter');
  const form = document.getElementById('create-form');
  const snapshotSelect = document.getElementById('create-snapshot');
  let boxes = [];
  let snapshots = new Map();

  async function loadSnapshots() {
    const list = await api('GET', '/snapshots?limit=500');
    snapshots = new Map(list.snapshots.map(s => [s.id, s]));
  }

  async function refresh() {
    try {
      const q = statusFilter.value ? '?status=' + encodeURIComponent(statusFilter.value) : '';
      boxes = (await api('GET', '/boxes' + q)).sandboxes;
      if (boxes.some(b => b.snapshot_id && !snapshots.has(b.snapshot_id))) await loadSnapshots();
      render();
      document.getElementById('live').textContent = 'live · updated ' + new Date().toLocaleTimeString();
    } catch (e) {
      document.getElementById('live').textContent = 'offline: ' + e.message;
    }
  }

  function matches(box, text) {
    if (!text) return true;
    const t = text.toLowerCase();
    if (box.name.toLowerCase().includes(t) || box.id.toLowerCase().includes(t)) return true;
    return Object.entries(box.labels || {}).some(([k, v]) => (k + '=' + v).toLowerCase().includes(t));
  }

  async function act(box, verb) {
    const question = {
      stop: `Stop sandbox "${box.name}"? Its processes are killed; files are kept.`,
      start: `Start sandbox "${box.name}"?`,
      delete: `Delete sandbox "${box.name}" and all of its files? This cannot be undone.`,
    }[verb];
    if (!confirm(question)) return;
    try {
      const name = encodeURIComponent(box.name);
      if (verb === 'delete') await api('DELETE', '/boxes/' + name);
      else await api('POST', '/boxes/' + name + '/' + verb);
      notify(`${verb === 'delete' ? 'Deleted' : verb === 'stop' ? 'Stopped' : 'Started'} ${box.name}`);
    } catch (e) {
      notify(e.message, true);
    }
    refresh();
  }

  function render() {
    const text = filter.value.trim();
    const shown = boxes.filter(b => matches(b, text));
    tbody.replaceChildren(...shown.map(b => {
      const snap = snapshots.get(b.snapshot_id);
      const running = b.status === 'ready';
      return el('tr', { 'data-name': b.name, 'data-status': b.status },
        el('td', {}, el('a', { href: '/ui/sandbox?id=' + encodeURIComponent(b.id), class: 'box-link' }, b.name)),
        el('td', {}, el('span', { class: 'status ' + b.status, title: b.status_message || '' }, b.status)),
        el('td', {}, snap ? snap.name : (b.snapshot_id || '–')),
        el('td', {}, `${b.vcpus ?? '–'} vCPU · ${bytes(b.mem_bytes)}` + (b.fs_capacity_bytes ? ` · ${bytes(b.fs_capacity_bytes)} disk` : '')),
        el('td', { title: b.created_at }, age(b.created_at)),
        el('td', {}, labels(b.labels)),
        el('td', { class: 'actions' },
          running ? el('button', { class: 'secondary', onclick: () => act(b, 'stop') }, 'Stop')
                  : el('button', { class: 'secondary', onclick: () => act(b, 'start'), disabled: b.status === 'provisioning' }, 'Start'),
          el('button', { class: 'danger', onclick: () => act(b, 'delete') }, 'Delete')));
    }));
    document.getElementById('empty').hidden = shown.length > 0;
  }

  document.getElementById('show-create').addEventListener('click', async () => {
    await loadSnapshots();
    snapshotSelect.replaceChildren(el('option', { value: '' }, 'default'),
      ...[...snapshots.values()].filter(s => s.status === 'ready').map(s => el('option', { value: s.id }, s.name)));
    form.hidden = false;
    document.getElementById('create-name').focus();
  });
  document.getElementById('create-cancel').addEventListener('click', () => { form.hidden = true; });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      const body = { wait_for_ready: false };
      const name = document.getElementById('create-name').value.trim();
      const vcpus = document.getElementById('create-vcpus').value;
      const mem = document.getElementById('create-mem').value;
      const labelText = document.getElementById('create-labels').value;
      if (name) body.name = name;
      if (snapshotSelect.value) body.snapshot_id = snapshotSelect.value;
      if (vcpus) body.vcpus = parseInt(vcpus, 10);
      if (mem) body.mem_bytes = parseInt(mem, 10) * 1024 * 1024;
      if (labelText.trim()) body.labels = Console.parseLabels(labelText);
      const created = await api('POST', '/boxes', body);
      notify('Created ' + created.name);
      form.reset();
      form.hidden = true;
      refresh();
    } catch (e) {
      notify(e.message, true);
    }
  });
  filter.addEventListener('input', render);
  statusFilter.addEventListener('change', refresh);

  await loadSnapshots();
  await refresh();
  setInterval(refresh, 2000);
});
