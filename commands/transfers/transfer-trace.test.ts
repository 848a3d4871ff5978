import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createEventStore } from '../../infra/event-store/create-event-store.js';
import { positionToJson } from '../../infra/event-store/event-store.js';
import { runEvents } from '../../scripts/events/testing/events-cli.js';
import { bank, silent } from './testing/bank.js';
import { startTransferProcess } from './transfer-process.js';

const dir = mkdtempSync(join(tmpdir(), 'eventfold-transfer-trace-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** [depth, type, position] of each event drawn in a trace's tree. */
const treeOf = (stdout: string) =>
  stdout.split('\n').flatMap((line) => {
    const drawn = /^([ │]*)[└├]─ @(\d+) \S+ #\d+ (\S+) v\d+ /.exec(line);
    return drawn ? [[(drawn[1] as string).length / 3, drawn[3], drawn[2]] as const] : [];
  });

describe('npm run events -- trace, on a transfer', () => {
  it('shows the whole saga under its request: the request, both legs and the outcome, each under its cause', async () => {
    // The embedded store as the app keeps it; accounts and the transfer through the real pipeline
    // and the real transfer process (the saga), as POST /transfers would start it.
    const store = await createEventStore({ DATA_DIR: dir }, { exclusive: true });
    const b = bank(store);
    const saga = startTransferProcess({
      eventStore: store,
      handle: b.handle,
      logger: silent,
      config: { retryBackoffMs: 2, retryMaxMs: 20, checkpointIntervalMs: 10 },
    });
    try {
      await b.open('ada', 100);
      await b.open('bob', 0);
      await b.request('t1', 'ada', 'bob', 30, { correlationId: 'http-req-1' });
      expect(await b.settled('t1')).toMatchObject({ status: 'completed' });
      await b.request('t2', 'ada', 'bob', 5, { correlationId: 'http-req-2' }); // another request
      await b.settled('t2');

      const { code, stdout } = await runEvents(['trace', 'http-req-1'], { DATA_DIR: dir });
      expect(code).toBe(0);
      const events = (await store.readAll()).filter((e) => e.metadata.correlationId === 'http-req-1');
      const at = (type: string, streamId: string) =>
        positionToJson(events.find((e) => e.type === type && e.streamId === streamId)?.position ?? -1n);
      expect(stdout).toMatch(/^correlation http-req-1: 6 event\(s\) in 3 stream\(s\) of /);
      expect(stdout.split('\n')[1]).toBe('request http-req-1');
      // Each step of the saga is caused by the one before: a chain under the request.
      expect(treeOf(stdout)).toEqual([
        [0, 'TransferRequested', at('TransferRequested', 'transfer-t1')],
        [1, 'MoneyWithdrawn', at('MoneyWithdrawn', 'account-ada')],
        [2, 'TransferDebited', at('TransferDebited', 'transfer-t1')],
        [3, 'TransferLegChosen', at('TransferLegChosen', 'transfer-t1')],
        [4, 'MoneyDeposited', at('MoneyDeposited', 'account-bob')],
        [5, 'TransferCompleted', at('TransferCompleted', 'transfer-t1')],
      ]);
      expect(stdout).toContain('idempotencyKey=transfer:t1:withdraw');
      expect(stdout).toContain('idempotencyKey=transfer:t1:deposit');
      expect(stdout).not.toContain('transfer-t2');
    } finally {
      await saga.stop();
      b.outcomes.stop();
      await store.close();
    }
  });
});
