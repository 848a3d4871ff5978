import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createEventStore } from './create-event-store.js';

const dir = mkdtempSync(join(tmpdir(), 'eventfold-create-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('createEventStore', () => {
  it('without EVENTSTORE_URL, keeps events in DATA_DIR/events.sqlite', async () => {
    const dataDir = join(dir, 'data');
    const store = await createEventStore({ DATA_DIR: dataDir });
    const metadata = {
      eventId: randomUUID(),
      correlationId: randomUUID(),
      causationId: randomUUID(),
      occurredAt: new Date().toISOString(),
      schemaVersion: 1,
    };
    await store.append('a', [{ type: 'Opened', data: {}, metadata }], { expectedRevision: 'no_stream' });
    await store.close();
    expect(existsSync(join(dataDir, 'events.sqlite'))).toBe(true);
    const reopened = await createEventStore({ DATA_DIR: dataDir, SQLITE_SYNCHRONOUS: 'normal' });
    expect((await reopened.readStream('a')).map((e) => e.metadata)).toEqual([metadata]);
    await reopened.close();
  });

  it('with EVENTSTORE_URL, uses EventStoreDB and leaves DATA_DIR alone', async () => {
    const dataDir = join(dir, 'unused');
    const store = await createEventStore({
      EVENTSTORE_URL: 'esdb://localhost:1?tls=false',
      DATA_DIR: dataDir,
    });
    expect(existsSync(dataDir)).toBe(false);
    await store.close();
  });
});
