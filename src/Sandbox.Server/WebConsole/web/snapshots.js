'use strict';
Console.start(async () => {
  const { el, api, bytes, age, notify } = Console;
  const tbody = document.querySelector('#snapshots tbody');
  const filter = document.getElementById('filter');
  let snapshots = [];

  async function refresh() {
    try {
      snapshots = (await api('GET', '/snapshots?limit=500')).snapshots;
      render();
      document.getElementById('live').textContent = 'live · updated ' + new Date().toLocaleTimeString();
    } catch (e) {
      document.getElementById('live').textContent = 'offline: ' + e.message;
    }
  }

  function render() {
    const t = filter.value.trim().toLowerCase();
    tbody.replaceChildren(...snapshots.filter(s => !t || s.name.toLowerCase().includes(t)).map(s => el('tr', { 'data-name': s.name },
      el('td', { title: s.id }, s.name),
      el('td', {}, el('span', { class: 'status ' + s.status }, s.status), s.status_message ? el('div', { class: 'muted small' }, s.status_message) : null),
      el('td', { class: 'mono' }, s.source_sandbox_id ? 'sandbox ' + s.source_sandbox_id : (s.docker_image || '–')),
      el('td', {}, (s.fs_used_bytes != null ? bytes(s.fs_used_bytes) + ' / ' : '') + bytes(s.fs_capacity_bytes)),
      el('td', { title: s.created_at }, age(s.created_at)),
      el('td', { class: 'actions' }, el('button', { class: 'danger', onclick: () => remove(s) }, 'Delete')))));
  }

  async function remove(s) {
    if (!confirm(`Delete snapshot "${s.name}"?`)) return;
    try {
      await api('DELETE', '/snapshots/' + encodeURIComponent(s.id));
      notify('Deleted ' + s.name);
    } catch (e) {
      notify(e.message, true);
    }
    refresh();
  }

  async function loadBoxes() {
    const boxes = (await api('GET', '/boxes')).sandboxes;
    document.getElementById('capture-box').replaceChildren(...boxes.map(b => el('option', { value: b.name }, b.name)));
  }

  document.getElementById('build-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      await api('POST', '/snapshots', {
        name: document.getElementById('build-name').value.trim(),
        docker_image: document.getElementById('build-image').value.trim(),
        fs_capacity_bytes: parseInt(document.getElementById('build-capacity').value, 10) * 1024 * 1024 * 1024,
      });
      notify('Build started');
      ev.target.reset();
      refresh();
    } catch (e) {
      notify(e.message, true);
    }
  });
  document.getElementById('capture-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const box = document.getElementById('capture-box').value;
    try {
      await api('POST', '/boxes/' + encodeURIComponent(box) + '/snapshot', { name: document.getElementById('capture-name').value.trim() });
      notify('Captured ' + box);
      ev.target.reset();
      refresh();
    } catch (e) {
      notify(e.message, true);
    }
  });
  filter.addEventListener('input', render);

  await loadBoxes();
  await refresh();
  setInterval(refresh, 2000);
});
