#!/usr/bin/env node
// Submit a layout to folio, watch the job, fetch its artifacts.
//
//   npm ci
//   node folio_example.js layout.json out/ [--addr 127.0.0.1:50051] [--key $FOLIO_API_KEY]
//
// The client is generated at run time from protos/folio/v1/layout_service.proto
// by @grpc/proto-loader, the usual way for Node.
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

function parseArgs(argv) {
  const a = { addr: process.env.FOLIO_ADDR || '127.0.0.1:50051', key: process.env.FOLIO_API_KEY || '', rest: [] };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--addr') a.addr = argv[++i];
    else if (argv[i] === '--key') a.key = argv[++i];
    else a.rest.push(argv[i]);
  }
  if (a.rest.length !== 2) {
    console.error('usage: folio_example.js LAYOUT.json OUT_DIR [--addr HOST:PORT] [--key KEY]');
    process.exit(2);
  }
  return a;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const protos = path.resolve(__dirname, '../../../protos');
  const def = protoLoader.loadSync(path.join(protos, 'folio/v1/layout_service.proto'), {
    includeDirs: [protos], keepCase: true, longs: Number, enums: String, defaults: true,
  });
  const { LayoutService } = grpc.loadPackageDefinition(def).folio.v1;
  const client = new LayoutService(args.addr, grpc.credentials.createInsecure());
  const md = new grpc.Metadata();
  md.set('authorization', `Bearer ${args.key}`);

  // 1. submit
  const submitted = await new Promise((resolve, reject) =>
    client.SubmitLayout({
      layout_json: fs.readFileSync(args.rest[0]),
      formats: ['FORMAT_PDF', 'FORMAT_PNG', 'FORMAT_SLA'],
      labels: { client: 'node-example' },
    }, md, (err, res) => (err ? reject(err) : resolve(res))));
  const jobId = submitted.job_id;
  console.log(`submitted ${jobId}`);

  // 2. watch until a terminal state
  let job = null;
  for await (const update of client.WatchJob({ job_id: jobId }, md)) {
    job = update;
    console.log(`  ${job.state.replace('JOB_STATE_', '')} ${job.progress_percent}%`);
  }
  if (!job || job.state !== 'JOB_STATE_SUCCEEDED') {
    throw new Error(`job did not succeed: ${job ? `${job.error.code}: ${job.error.message}` : 'no update'}`);
  }

  // 3. fetch every artifact through the server, checking its sha256
  fs.mkdirSync(args.rest[1], { recursive: true });
  for (const art of job.artifacts) {
    const file = path.join(args.rest[1], art.name);
    const out = fs.createWriteStream(file);
    const hash = crypto.createHash('sha256');
    let finalSha = '';
    for await (const chunk of client.StreamArtifact({ job_id: jobId, name: art.name }, md)) {
      hash.update(chunk.data);
      if (!out.write(chunk.data)) await new Promise((r) => out.once('drain', r));
      if (chunk.sha256_hex) finalSha = chunk.sha256_hex;
    }
    await new Promise((resolve, reject) => out.end((err) => (err ? reject(err) : resolve())));
    const sha = hash.digest('hex');
    if (sha !== art.sha256_hex || finalSha !== art.sha256_hex) throw new Error(`${art.name}: sha256 mismatch`);
    console.log(`fetched ${file} (${art.size_bytes} bytes, sha256 ok)`);
  }
  client.close();
}

main().catch((err) => {
  console.error(err.code !== undefined ? `${grpc.status[err.code]}: ${err.details}` : err.message);
  process.exit(1);
});
