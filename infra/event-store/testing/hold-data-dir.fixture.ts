/**
 * Takes a DATA_DIR's lock, prints `locked <pid>`, and holds it until killed: for the test that the
 * operating system lets go of it when its holder dies.
 *
 *   node --import tsx hold-data-dir.fixture.ts <DATA_DIR>
 */
import { lockDataDir } from '../data-dir-lock.js';

const [dataDir] = process.argv.slice(2) as [string];
lockDataDir(dataDir);
process.stdout.write(`locked ${process.pid}\n`);
setInterval(() => {}, 60_000);
