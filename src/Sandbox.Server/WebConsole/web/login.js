'use strict';
(async () => {
  const s = await Console.session();
  if (s.signed_in) {
    location.href = '/ui/';
    return;
  }
  const form = document.getElementById('login-form');
  const input = document.getElementById('api-key');
  const error = document.getElementById('login-error');
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.hidden = true;
    try {
      await Console.call('POST', '/ui/session', { api_key: input.value });
      input.value = '';
      location.href = '/ui/';
    } catch (e) {
      input.value = '';
      error.textContent = e.status === 401 ? 'That is not the server\'s API key.' : e.message;
      error.hidden = false;
      await Console.session();
    }
  });
})();
