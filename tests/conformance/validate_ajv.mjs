// Validates files against schemas/layout.schema.json with ajv (draft 2020-12).
//   node validate_ajv.mjs SCHEMA FILE...   ->  one line per file: FILE\tOK|REJECT\treason
// Bytes are decoded as strict UTF-8 (no BOM skipping), as the C decoder reads them.
import { readFileSync } from "node:fs";
import Ajv2020 from "ajv/dist/2020.js";

const [schemaPath, ...files] = process.argv.slice(2);
// strictSchema (unknown keywords are errors) stays on; strictRequired would reject
// the "text" xor "runs" oneOf, whose properties are declared beside it.
const ajv = new Ajv2020({ strictSchema: true, strictRequired: false, strictTypes: false, allErrors: false });
const validate = ajv.compile(JSON.parse(readFileSync(schemaPath, "utf8")));
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const out = [];
for (const f of files) {
  let doc;
  try {
    doc = JSON.parse(utf8.decode(readFileSync(f)));
  } catch (e) {
    out.push(`${f}\tREJECT\tnot JSON: ${e.message}`);
    continue;
  }
  if (validate(doc)) out.push(`${f}\tOK`);
  else {
    const e = validate.errors[0];
    out.push(`${f}\tREJECT\t${e.instancePath}: ${e.message}`);
  }
}
process.stdout.write(out.join("\n") + "\n");
