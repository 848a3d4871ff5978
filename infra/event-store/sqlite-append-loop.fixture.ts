/**
 * The writer for the kill -9 test in sqlite-event-store.test.ts: appends batches of three events
 * until it is killed, printing `<batch> <position>` once each append is acknowledged.
 *
 *   node --import tsx sqlite-append-loop.fixture.ts <file> <full|normal>
 */
import { randomUUID } from 'node:crypto';
import { createSqliteEventStore, type SqliteSynchronous } from './sqlite-event-store.js';

const [file, synchronous] = process.argv.slice(2) as [string, SqliteSynchronous];
const store = createSqliteEventStore({ file, synchronous });

for (let batch = 0; ; batch++) {
  const events = [0, 1, 2].map((index) => ({
    type: 'Appended',
    data: { batch, index, payload: `${batch}:${index}:`.padEnd(200, '#') },
    metadata: {
      eventId: randomUUID(),
      correlationId: `batch-${batch}`,
      causationId: `batch-${batch}`,
      occurredAt: new Date().toISOString(),
      schemaVersion: 1,
    },
  }));
  const { position } = await store.append(`loop-${batch % 7}`, events, { expectedRevision: 'any' });
  process.stdout.write(`${batch} ${position}\n`);
}
