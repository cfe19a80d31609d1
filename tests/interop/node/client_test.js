// folio-server seen from a Node.js client (@grpc/grpc-js + @grpc/proto-loader,
// loading the .proto files at run time). Each case starts its own server (on a
// port it binds itself and reports: server.js) and stops it.
//
//   node client_test.js --protos DIR --server CMD [--server ARG]... [case...]
//
// With no case named, every case runs. Prints "N passed, N failed" last and exits
// non-zero when anything failed or a named case does not exist.
'use strict';
const assert = require('node:assert/strict');
const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const { Server } = require('./server');

const { status } = grpc;

function parseArgs(argv) {
  const out = { server: [], cases: [] };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--protos') out.protos = argv[++i];
    else if (argv[i] === '--server') out.server.push(argv[++i]);
    else out.cases.push(argv[i]);
  }
  if (!out.protos || out.server.length === 0) {
    throw new Error('usage: client_test.js --protos DIR --server CMD [--server ARG]... [case...]');
  }
  return out;
}

const args = parseArgs(process.argv.slice(2));
const def = protoLoader.loadSync(
  [path.join(args.protos, 'folio/v1/layout_service.proto'), path.join(args.protos, 'grpc/health/v1/health.proto')],
  { includeDirs: [args.protos], keepCase: true, longs: String, enums: String, defaults: true },
);
const pkg = grpc.loadPackageDefinition(def);
const HealthClient = pkg.grpc.health.v1.Health;
const LayoutClient = pkg.folio.v1.LayoutService;

const deadline = (ms) => new Date(Date.now() + ms);

// Promise of { err, resp, md } for a unary call; md = the response's initial metadata.
function unary(client, method, req, md = new grpc.Metadata(), ms = 10000) {
  return new Promise((resolve) => {
    let initial = null;
    const call = client[method](req, md, { deadline: deadline(ms) }, (err, resp) => resolve({ err, resp, md: initial }));
    call.on('metadata', (m) => { initial = m; });
  });
}

// Reads a server stream to its end: { msgs, err, md }.
function drain(call) {
  return new Promise((resolve) => {
    const msgs = [];
    let md = null;
    call.on('metadata', (m) => { md = m; });
    call.on('data', (m) => msgs.push(m));
    call.on('error', (err) => resolve({ msgs, err, md }));
    call.on('end', () => resolve({ msgs, err: null, md }));
  });
}

function firstMessage(call) {
  return new Promise((resolve, reject) => {
    call.once('data', resolve);
    call.once('error', reject);
  });
}

async function withServer(env, fn) {
  const server = new Server(args.server, env);
  await server.start();
  const health = new HealthClient(server.address, grpc.credentials.createInsecure());
  const layout = new LayoutClient(server.address, grpc.credentials.createInsecure());
  let failure = null;
  try {
    await fn({ server, health, layout });
  } catch (e) {
    failure = e;
  }
  health.close();
  layout.close();
  const code = await server.stop();
  const log = server.logText();
  await server.close();
  if (failure) throw failure;
  // It must exit 0 on SIGTERM (under ASan a leak report makes it exit non-zero).
  assert.equal(code, 0, `server exit status ${code} on SIGTERM; its log:\n${log.slice(-6000)}`);
}

function assertStatus(err, code, what) {
  assert.ok(err, `${what}: expected status ${code}, the call succeeded`);
  assert.equal(err.code, code, `${what}: got ${err.code} (${err.details}), want ${code}`);
}

const cases = {
  async health_check() {
    await withServer({}, async ({ health }) => {
      for (const service of ['', 'folio.v1.LayoutService']) {
        const r = await unary(health, 'Check', { service });
        assert.ifError(r.err);
        assert.equal(r.resp.status, 'SERVING');
      }
      const r = await unary(health, 'Check', { service: 'no.such.Service' });
      assertStatus(r.err, status.NOT_FOUND, 'Check(unknown)');
    });
  },

  async health_watch() {
    await withServer({}, async ({ health }) => {
      const call = health.Watch({ service: 'folio.v1.LayoutService' }, { deadline: deadline(10000) });
      const done = drain(call);
      const first = await firstMessage(call);
      assert.equal(first.status, 'SERVING');
      call.cancel();
      const r = await done;
      assertStatus(r.err, status.CANCELLED, 'cancelled Watch');
      // An unknown service is no error for Watch: it reports SERVICE_UNKNOWN.
      const u = health.Watch({ service: 'no.such.Service' }, { deadline: deadline(10000) });
      const udone = drain(u);
      assert.equal((await firstMessage(u)).status, 'SERVICE_UNKNOWN');
      u.cancel();
      await udone;
    });
  },

  async watch_sees_shutdown() {
    // Watch streams changes: on SIGTERM the server turns NOT_SERVING before its
    // grace period, then ends the stream and exits 0 (checked by withServer).
    await withServer({ FOLIO_SHUTDOWN_GRACE_MS: '1000' }, async ({ server, health }) => {
      const call = health.Watch({ service: 'folio.v1.LayoutService' }, { deadline: deadline(30000) });
      const done = drain(call);
      assert.equal((await firstMessage(call)).status, 'SERVING');
      server.proc.kill('SIGTERM');
      const r = await done;
      assert.deepEqual(r.msgs.map((m) => m.status), ['SERVING', 'NOT_SERVING']);
      assert.ok(r.err, 'the stream ended without a status');
      assert.notEqual(r.err.code, status.DEADLINE_EXCEEDED, 'the stream outlived the grace period');
      // Let it finish its own shutdown (a second SIGTERM from withServer could
      // land in the middle of it); withServer then checks the exit status.
      await Promise.race([server.exited, new Promise((_, rej) => setTimeout(() => rej(new Error('server still running 30 s after SIGTERM')), 30000).unref())]);
    });
  },

  async watch_deadline_expires() {
    // Watch never ends by itself: with a deadline it must end DEADLINE_EXCEEDED.
    // A Check connects the channel first so the deadline covers the stream; the
    // first message usually arrives before it expires, but no timing is asserted.
    await withServer({}, async ({ health }) => {
      assert.ifError((await unary(health, 'Check', { service: '' })).err);
      const r = await drain(health.Watch({ service: '' }, { deadline: deadline(1000) }));
      assertStatus(r.err, status.DEADLINE_EXCEEDED, 'Watch with a 1 s deadline');
      assert.ok(r.msgs.length <= 1 && r.msgs.every((m) => m.status === 'SERVING'), JSON.stringify(r.msgs));
      const c = await unary(health, 'Check', { service: '' });
      assert.ifError(c.err);
    });
  },

  async watch_cancelled_mid_stream() {
    await withServer({}, async ({ server, health }) => {
      const call = health.Watch({ service: '' }, { deadline: deadline(30000) });
      const done = drain(call);
      assert.equal((await firstMessage(call)).status, 'SERVING');
      call.cancel();
      assertStatus((await done).err, status.CANCELLED, 'cancelled Watch');
      const c = await unary(health, 'Check', { service: '' });
      assert.ifError(c.err);
      assert.equal(c.resp.status, 'SERVING');
      const method = '/grpc.health.v1.Health/Watch';
      // The per-call log line: {"msg":"rpc","method":...,"status":"CANCELLED",...}.
      const rec = await server.waitForLog((r) => r.msg === 'rpc' && r.method === method && r.status === 'CANCELLED');
      assert.ok(rec, `no log line for a CANCELLED Watch; log:\n${server.logText()}`);
      assert.ok(server.running(), 'server exited');
    });
  },

  async unimplemented() {
    await withServer({}, async ({ layout }) => {
      const unaryCalls = [
        ['SubmitLayout', { layout_json: Buffer.from('{}') }],
        ['GetStatus', { job_id: 'j' }],
        ['CancelJob', { job_id: 'j' }],
        ['GetArtifactUrl', { job_id: 'j', name: 'document.pdf' }],
      ];
      for (const [name, req] of unaryCalls) {
        const r = await unary(layout, name, req);
        assertStatus(r.err, status.UNIMPLEMENTED, name);
        assert.match(r.err.details, new RegExp(name), `${name}: message does not name the RPC`);
      }
      for (const [name, req] of [['StreamArtifact', { job_id: 'j', name: 'document.pdf' }], ['WatchJob', { job_id: 'j' }]]) {
        const r = await drain(layout[name](req, { deadline: deadline(10000) }));
        assertStatus(r.err, status.UNIMPLEMENTED, name);
        assert.match(r.err.details, new RegExp(name), `${name}: message does not name the RPC`);
        assert.equal(r.msgs.length, 0);
      }
    });
  },

  async metadata() {
    await withServer({}, async ({ health, layout }) => {
      const md = new grpc.Metadata();
      md.set('x-request-id', 'interop-node-7');
      const r = await unary(health, 'Check', { service: '' }, md);
      assert.ifError(r.err);
      assert.deepEqual(r.md.get('x-request-id'), ['interop-node-7']);
      assert.ok(String(r.md.get('x-folio-version')[0] || ''), 'no x-folio-version');
      const ids = [];
      for (let i = 0; i < 2; i++) {
        const g = await unary(health, 'Check', { service: '' });
        const id = String(g.md.get('x-request-id')[0] || '');
        assert.ok(id, 'no generated x-request-id');
        ids.push(id);
      }
      assert.notEqual(ids[0], ids[1]);
      // Also on a failing call.
      const emd = new grpc.Metadata();
      emd.set('x-request-id', 'interop-node-err');
      const e = await unary(layout, 'GetStatus', { job_id: 'j' }, emd);
      assertStatus(e.err, status.UNIMPLEMENTED, 'GetStatus');
      assert.ok(e.md, 'no initial metadata on a failing call');
      assert.deepEqual(e.md.get('x-request-id'), ['interop-node-err']);
    });
  },

  async message_over_limit() {
    await withServer({ FOLIO_MAX_RECV_BYTES: '1024' }, async ({ health, layout }) => {
      const big = await unary(layout, 'SubmitLayout', { layout_json: Buffer.alloc(4096, 'x') });
      assertStatus(big.err, status.RESOURCE_EXHAUSTED, 'SubmitLayout of 4 KiB');
      const small = await unary(layout, 'SubmitLayout', { layout_json: Buffer.from('{}') });
      assertStatus(small.err, status.UNIMPLEMENTED, 'SubmitLayout of 2 bytes');
      const c = await unary(health, 'Check', { service: '' });
      assert.ifError(c.err);
    });
  },
};

async function main() {
  const names = args.cases.length ? args.cases : Object.keys(cases);
  let passed = 0;
  let failed = 0;
  for (const name of names) {
    if (!cases[name]) {
      console.log(`FAIL ${name}: no such case (have: ${Object.keys(cases).join(', ')})`);
      failed++;
      continue;
    }
    try {
      await cases[name]();
      console.log(`ok   ${name}`);
      passed++;
    } catch (e) {
      console.log(`FAIL ${name}: ${e.stack || e}`);
      failed++;
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
}

main();
