// In-browser shell: xterm.js over the public execute WebSocket ({dp}/execute/ws) with a PTY.
// Reconnects after a network blip with the protocol's reconnect frame and byte offsets, so no output is lost or repeated.
// Window size: the local-server extension frame {"type":"resize","cols":C,"rows":R}.
'use strict';

class BoxShell {
  constructor(box, container, onStatus) {
    this.box = box;
    this.onStatus = onStatus;
    this.encoder = new TextEncoder();
    this.term = new Terminal({ cursorBlink: true, fontFamily: 'ui-monospace, Menlo, Consolas, monospace', fontSize: 14, scrollback: 5000 });
    this.fit = new FitAddon.FitAddon();
    this.term.loadAddon(this.fit);
    this.term.open(container);
    this.fit.fit();
    this.pending = [];
    this.attempt = 0;
    this.term.onData(data => this.send({ type: 'input', data }));
    this.term.onResize(({ cols, rows }) => this.send({ type: 'resize', cols, rows }));
    this.term.attachCustomKeyEventHandler(ev => {
      if (ev.type !== 'keydown' || !ev.ctrlKey || !ev.shiftKey) return true;
      if (ev.code === 'KeyC') { this.copy(); return false; }
      if (ev.code === 'KeyV') { this.paste(); return false; }
      return true;
    });
    this.onWindowResize = () => this.fit.fit();
    window.addEventListener('resize', this.onWindowResize);
    new ResizeObserver(() => this.fit.fit()).observe(container);
  }

  // Starts a new shell command (or re-attaches to the one this tab started before a reload).
  start(commandId) {
    this.commandId = commandId || (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random().toString(16).slice(2));
    sessionStorage.setItem('shell:' + this.box.id, this.commandId);
    this.stdoutOffset = 0;
    this.stderrOffset = 0;
    this.finished = false;
    this.connect(commandId ? 'reconnect' : 'execute');
  }

  connect(mode) {
    this.status(mode === 'execute' ? 'starting…' : 'reconnecting…');
    const ws = new WebSocket(Console.websocketUrl(this.box, '/execute/ws'));
    this.ws = ws;
    ws.onopen = () => {
      if (mode === 'execute') {
        ws.send(JSON.stringify({
          type: 'execute',
          command: 'if command -v bash >/dev/null 2>&1; then exec bash -l; else exec sh -l; fi',
          shell: '/bin/sh', pty: true, timeout_seconds: 0, idle_timeout_seconds: 900, kill_on_disconnect: false,
          ttl_seconds: 600, command_id: this.commandId,
        }));
      } else {
        ws.send(JSON.stringify({ type: 'reconnect', command_id: this.commandId, stdout_offset: this.stdoutOffset, stderr_offset: this.stderrOffset }));
      }
    };
    ws.onmessage = ev => { if (this.ws === ws) this.receive(JSON.parse(ev.data)); };
    ws.onclose = () => {
      if (this.ws !== ws || this.finished) return;
      // A blip: re-attach from the last byte received (0.25 s, 0.5 s, 1 s, ... up to 5 s between attempts).
      const delay = Math.min(5000, 250 * Math.pow(2, this.attempt++));
      this.status('disconnected, reconnecting in ' + (delay / 1000) + ' s…');
      this.retry = setTimeout(() => this.connect('reconnect'), delay);
    };
  }

  receive(frame) {
    switch (frame.type) {
      case 'started':
        this.attempt = 0;
        this.status('connected · ' + this.term.cols + '×' + this.term.rows);
        this.send({ type: 'resize', cols: this.term.cols, rows: this.term.rows });
        for (const f of this.pending.splice(0)) this.send(f);
        break;
      case 'stdout':
      case 'stderr': {
        const key = frame.type === 'stdout' ? 'stdoutOffset' : 'stderrOffset';
        this[key] = frame.offset + this.encoder.encode(frame.data).length;
        this.term.write(frame.data);
        break;
      }
      case 'exit':
        this.finished = true;
        this.term.write('\r\n\x1b[2m[shell exited with code ' + frame.exit_code + ']\x1b[0m\r\n');
        this.status('exited (' + frame.exit_code + ')');
        sessionStorage.removeItem('shell:' + this.box.id);
        break;
      case 'error':
        this.finished = true;
        this.term.write('\r\n\x1b[31m[' + frame.error_type + ': ' + frame.error + ']\x1b[0m\r\n');
        this.status(frame.error_type);
        sessionStorage.removeItem('shell:' + this.box.id);
        break;
    }
  }

  send(frame) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN && !this.finished) {
      this.ws.send(JSON.stringify(frame));
    } else if (!this.finished && frame.type === 'input' && this.pending.length < 256) {
      this.pending.push(frame);
    }
  }

  status(text) {
    this.statusText = text;
    if (this.onStatus) this.onStatus(text);
  }

  // Drops the socket without telling the server (what a network blip does); the shell re-attaches by itself.
  simulateBlip() {
    if (this.ws) this.ws.close();
  }

  copy() {
    const text = this.term.getSelection();
    if (text && navigator.clipboard) navigator.clipboard.writeText(text).catch(() => {});
  }

  async paste() {
    if (!navigator.clipboard) return;
    try {
      this.term.paste(await navigator.clipboard.readText());
    } catch (e) {
      Console.notify('The browser did not allow reading the clipboard: use Ctrl+V / Cmd+V in the terminal', true);
    }
  }

  kill() {
    this.finished = true;
    clearTimeout(this.retry);
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ type: 'kill' }));
    if (this.ws) this.ws.close();
  }

  // The terminal's text (scrollback included), for tests and copy-all.
  text() {
    const buffer = this.term.buffer.active;
    const lines = [];
    for (let i = 0; i < buffer.length; i++) lines.push(buffer.getLine(i).translateToString(true));
    return lines.join('\n');
  }
}
