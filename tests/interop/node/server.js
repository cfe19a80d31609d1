// Start and stop one gRPC server process for a Node test: the server binds port 0
// itself (FOLIO_LISTEN=127.0.0.1:0) and reports the port it got (a test never
// picks a "free" port first: a test running in parallel could take it in
// between), own temp dir, stderr captured to a log file, ready once it logs the
// JSON line {"msg":"listening",...,"address":"127.0.0.1:PORT"}. stop() ends
// exactly the process start() began (SIGTERM, then SIGKILL). The Node twin of
// tests/interop/python/folio_proc.py.
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

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

  // Starts the server and waits for it to report its address (this.address,
  // this.port). A server that exits first, or says nothing within timeoutMs,
  // is a failure (an Error with its log): there is no port race to retry.
  async start() {
    this.logPath = path.join(this.dir, 'server.log');
    const fd = fs.openSync(this.logPath, 'w');
    this.exitCode = undefined;
    this.proc = spawn(this.argv[0], this.argv.slice(1), {
      cwd: this.dir,
      env: { ...process.env, ...this.env, FOLIO_LISTEN: '127.0.0.1:0' },
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
      const rec = this.logRecords().find((r) => r.msg === this.ready
        && typeof r.address === 'string' && r.address.includes(':'));
      if (rec) {
        this.address = rec.address;
        this.port = Number(rec.address.slice(rec.address.lastIndexOf(':') + 1));
        return this;
      }
      if (!this.running()) {
        throw new Error(`${this.argv[0]} exited (${this.exitCode}) before it was ready; its log:\n${this.logText().slice(-4000)}`);
      }
      await sleep(20);
    }
    await this.stop();
    throw new Error(`${this.argv[0]} logged no "${this.ready}" line with an address in ${this.timeoutMs} ms; its log:\n${this.logText().slice(-4000)}`);
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

module.exports = { Server };
