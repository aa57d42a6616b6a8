'use strict';
(() => {
  const form = document.getElementById('login-form');
  const input = document.getElementById('api-key');
  const button = document.getElementById('sign-in');
  const error = document.getElementById('login-error');
  // Attached before anything async runs: the form must never submit natively (the key would travel in a URL).
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.hidden = true;
    button.disabled = true;
    try {
      await ready;
      await Console.call('POST', '/ui/session', { api_key: input.value });
      input.value = '';
      location.href = '/ui/';
    } catch (e) {
      input.value = '';
      error.textContent = e.status === 401 ? 'That is not the server\'s API key.' : e.message;
      error.hidden = false;
      await Console.session();
      button.disabled = false;
    }
  });
  const ready = Console.session().then(s => {
    if (s.signed_in) location.href = '/ui/';
    button.disabled = false;
  });
})();
