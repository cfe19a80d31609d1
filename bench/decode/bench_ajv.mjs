// ajv baseline: JSON.parse + validate with the published schema, repeated for
// about SECONDS; prints "ajv MB/s <median>". The bytes are decoded to a string
// once, outside the timing (the C decoder's UTF-8 check is inside its figure).
//   node bench_ajv.mjs SCHEMA FILE [SECONDS]
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

// ajv lives in tests/conformance/node_modules (one npm folder for both uses).
const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "../../tests/conformance/package.json"));
const Ajv2020 = require("ajv/dist/2020.js");

const [schemaPath, file, secs = "3"] = process.argv.slice(2);
const ajv = new Ajv2020({ strictSchema: true, strictRequired: false, strictTypes: false });
const validate = ajv.compile(JSON.parse(readFileSync(schemaPath, "utf8")));
const bytes = readFileSync(file);
const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
const rates = [];
const start = process.hrtime.bigint();
while (Number(process.hrtime.bigint() - start) / 1e9 < Number(secs) || rates.length < 3) {
  const t0 = process.hrtime.bigint();
  const ok = validate(JSON.parse(text));
  const t1 = process.hrtime.bigint();
  if (!ok) {
    console.error("ajv rejected the file:", validate.errors[0]);
    process.exit(1);
  }
  rates.push(bytes.length / 1e6 / (Number(t1 - t0) / 1e9));
}
rates.sort((a, b) => a - b);
console.log(`ajv MB/s ${rates[rates.length >> 1].toFixed(1)} (median of ${rates.length} runs)`);
