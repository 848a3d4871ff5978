/**
 * A MongoDB-wire server for development, no Docker: FerretDB on 127.0.0.1 with its data in a
 * SQLite folder (./data/ferretdb unless --data-dir), kept between runs. Prints the MONGO_URL to
 * use; Ctrl-C (SIGINT) or SIGTERM stops it.
 *
 *   npm run dev:mongo                          # 127.0.0.1:27017, ./data/ferretdb
 *   npm run dev:mongo -- --port 27018 --data-dir /tmp/fdb
 *
 * FerretDB is not MongoDB: no replica set, no transactions, a few gaps the read-store adapter
 * works around (infra/read-store/testing/ferretdb-server.ts lists them). Fine for trying
 * MONGO_URL mode and the projections scripts locally; production wants a MongoDB replica set.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ferretdbUnavailableReason, startFerretDB } from '../infra/read-store/testing/ferretdb-server.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '27017' },
    'data-dir': { type: 'string', default: './data/ferretdb' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log('usage: npm run dev:mongo -- [--port 27017] [--data-dir ./data/ferretdb]');
  process.exit(0);
}
const port = Number(values.port);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  console.error(`--port must be a TCP port, not ${values.port}`);
  process.exit(2);
}
const why = ferretdbUnavailableReason();
if (why) {
  console.error(`cannot start FerretDB: ${why}`);
  process.exit(1);
}

const dataDir = resolve(values['data-dir']);
mkdirSync(dataDir, { recursive: true });
const server = await startFerretDB({ port, dataDir, logLevel: 'warn' });
console.log(`FerretDB listening on 127.0.0.1:${port}, data in ${dataDir}`);
console.log(`MONGO_URL=${server.url}`);
console.log(`e.g. MONGO_URL=${server.url} npm start    (Ctrl-C here stops the server)`);

let stopping = false;
const stop = async (signal: NodeJS.Signals) => {
  if (stopping) return;
  stopping = true;
  console.log(`${signal}: stopping FerretDB`);
  await server.stop();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
