/**
 * Opens the embedded store on a DATA_DIR as the app's writer does, tries a write, and prints the
 * outcome as one JSON line: for tests that must run as another user (a read-only file means nothing
 * to root, so tests running as root start this as `nobody`).
 *
 *   node --import tsx open-embedded-store.fixture.ts <DATA_DIR>
 */
import { randomUUID } from 'node:crypto';
import { createEventStore } from '../create-event-store.js';

const [dataDir] = process.argv.slice(2) as [string];
const outcome: Record<string, unknown> = {};
try {
  const store = await createEventStore({ DATA_DIR: dataDir }, { exclusive: true });
  outcome.opened = true;
  try {
    await store.checkWrites?.();
    outcome.writable = true;
  } catch (error) {
    outcome.writable = (error as Error).message;
  }
  try {
    await store.append(
      `fixture-${randomUUID()}`,
      [
        {
          type: 'Noted',
          data: {},
          metadata: {
            eventId: randomUUID(),
            correlationId: 'c',
            causationId: 'c',
            occurredAt: new Date().toISOString(),
            schemaVersion: 1,
          },
        },
      ],
      { expectedRevision: 'no_stream' },
    );
    outcome.appended = true;
  } catch (error) {
    outcome.appended = (error as Error).message;
  }
  await store.close();
} catch (error) {
  outcome.refused = { name: (error as Error).name, message: (error as Error).message };
}
process.stdout.write(`${JSON.stringify(outcome)}\n`);
