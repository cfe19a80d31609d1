// Start and stop one gRPC server process for a Node test: free loopback port, own
// temp dir, stderr captured to a log file, ready once a JSON log line contains
// "listening". stop() ends exactly the process start() began (SIGTERM, then
// SIGKILL). The Node twin of tests/interop/python/folio_proc.py.
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

class Server {
  // argv: the server command; env: extra environment variables.
  constructor(argv, env = {}, { timeoutMs = 30000, ready = 'listening' } = {}) {
    this.argv = argv;
    this.env = env;
    this.timeoutMs = timeoutMs;
    this.ready = ready;
    this.proc = null;
    this.exitCode = undefined;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'folio-interop-node-'));
  }

  async start() {
    let last;
    // The port may be taken between freePort() and the server's bind: a server
    // that exits before it is ready is retried on another port.
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await this.startOnce(attempt);
        return this;
      } catch (e) {
        last = e;
        if (this.running()) throw e;
      }
    }
    throw last;
  }

  async startOnce(attempt) {
    this.port = await freePort();
    this.address = `127.0.0.1:${this.port}`;
    this.logPath = path.join(this.dir, `server-${attempt}.log`);
    const fd = fs.openSync(this.logPath, 'w');
    this.exitCode = undefined;
    this.proc = spawn(this.argv[0], this.argv.slice(1), {
      cwd: this.dir,
      env: { ...process.env, ...this.env, FOLIO_LISTEN: this.address },
      stdio: ['ignore', fd, fd],
      detached: true,
    });
    fs.closeSync(fd);
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, sig) => {
      this.exitCode = code === null ? sig : code;
      resolve(this.exitCode);
    }));
    const until = Date.now() + this.timeoutMs;
    while (Date.now() < until) {
      if (this.logText().split('\n').some((l) => l.includes(this.ready))) return;
      if (!this.running()) {
        throw new Error(`${this.argv[0]} exited (${this.exitCode}) before it was ready; its log:\n${this.logText().slice(-4000)}`);
      }
      await sleep(20);
    }
    await this.stop();
    throw new Error(`${this.argv[0]} printed no line containing "${this.ready}" in ${this.timeoutMs} ms; its log:\n${this.logText().slice(-4000)}`);
  }

  running() {
    return this.proc !== null && this.exitCode === undefined;
  }

  async stop(timeoutMs = 10000) {
    if (!this.running()) return this.exitCode;
    this.proc.kill('SIGTERM');
    const t = setTimeout(() => { if (this.running()) this.proc.kill('SIGKILL'); }, timeoutMs);
    const code = await this.exited;
    clearTimeout(t);
    return code;
  }

  async close() {
    await this.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  logText() {
    try { return fs.readFileSync(this.logPath, 'utf8'); } catch { return ''; }
  }

  // Every stderr line that parses as a JSON object.
  logRecords() {
    const out = [];
    for (const line of this.logText().split('\n')) {
      if (!line.trim().startsWith('{')) continue;
      try {
        const rec = JSON.parse(line);
        if (rec && typeof rec === 'object') out.push(rec);
      } catch { /* not a log record */ }
    }
    return out;
  }

  // The first record for which pred holds, waiting up to timeoutMs; null if none.
  async waitForLog(pred, timeoutMs = 5000) {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const rec = this.logRecords().find(pred);
      if (rec) return rec;
      if (Date.now() >= until) return null;
      await sleep(50);
    }
  }
}

module.exports = { Server, freePort };
