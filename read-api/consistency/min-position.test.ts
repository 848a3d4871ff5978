import { request as httpRequest } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { WaitForCheckpoint } from '../../projections/engine/checkpoint-watch.js';
import {
  COUNTER_CHANGES,
  COUNTER_CHANGES_PROJECTION,
  COUNTERS,
  COUNTERS_PROJECTION,
} from '../../projections/engine/testing/fixture-projection.js';
import { changeDoc, counterDoc, fixtureQueryRoutes } from '../testing/fixture-query-routes.js';
import { type Harness, startReadApi } from '../testing/read-api-harness.js';

/**
 * Read your writes (min-position.ts), through the fixture's query routes: a read with
 * x-min-position waits for the projections behind its route to reach the position, then reads
 * what their checkpoint vouches for (the consistent store, not the cache or a lagging replica);
 * it answers 503 with Retry-After when they do not get there in time.
 */
let harness: Harness;
afterEach(() => harness?.close());

const get = (url: string, headers: Record<string, string | string[]> = {}) =>
  harness.app.inject({ method: 'GET', url, headers });

const expectProblem = (response: Awaited<ReturnType<typeof get>>, status: number, type: string) => {
  expect(response.statusCode).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  const problem = response.json();
  expect(problem).toMatchObject({ status, type: `urn:eventfold:problem:${type}` });
  return problem;
};

describe('read your writes: x-min-position', () => {
  it('answers at once when the checkpoint is already at or past the position', async () => {
    harness = await startReadApi({ queries: [fixtureQueryRoutes] });
    await harness.seed(COUNTERS, [counterDoc('r-1')]);
    await harness.setCheckpoint(COUNTERS_PROJECTION, 42n);
    expect((await get('/counters/r-1', { 'x-min-position': '42' })).statusCode).toBe(200);
    expect((await get('/counters/r-1', { 'x-min-position': '7' })).statusCode).toBe(200);
    expect(harness.readApi.stats().consistencyWaits).toBe(2);
  });

  it('waits until the projection reaches the position, then answers with the write, not the cache', async () => {
    harness = await startReadApi({ queries: [fixtureQueryRoutes] });
    await harness.seed(COUNTERS, [counterDoc('r-2', { revision: 1, total: 10 })]);
    await harness.setCheckpoint(COUNTERS_PROJECTION, 5n);
    expect((await get('/counters/r-2')).json()).toMatchObject({ total: 10 }); // cached now

    const pending = get('/counters/r-2', { 'x-min-position': '6' });
    // The read is waiting on the checkpoint: the "projector" writes the model, then the checkpoint.
    await vi.waitFor(() => expect(harness.calls).toContain('checkpoints.findOne'));
    await harness.readStore
      .collection(COUNTERS)
      .bulkWrite([{ updateOne: { filter: { _id: 'r-2' }, update: { $set: { revision: 2, total: 30 } } } }]);
    await harness.setCheckpoint(COUNTERS_PROJECTION, 6n);

    const response = await pending;
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ revision: 2, total: 30 });
  });

  it('reads what the checkpoint vouches for, not a lagging replica, on every route', async () => {
    harness = await startReadApi({ queries: [fixtureQueryRoutes], laggingReplica: true });
    // The replica has not seen the increment (revision 1) that the primary and its checkpoint have.
    await harness.seed(COUNTERS, [counterDoc('r-6', { revision: 1, total: 10 })]);
    await harness.seed(COUNTER_CHANGES, [changeDoc('r-6', 1)]);
    await harness.replica
      .collection(COUNTERS)
      .bulkWrite([{ insertOne: { document: counterDoc('r-6', { revision: 0, total: 0 }) } }]);
    await harness.setCheckpoint(COUNTERS_PROJECTION, 3n);
    await harness.setCheckpoint(COUNTER_CHANGES_PROJECTION, 3n);

    expect((await get('/counters/r-6')).json()).toMatchObject({ total: 0 });
    const position = { 'x-min-position': '3' };
    expect((await get('/counters/r-6', position)).json()).toMatchObject({ total: 10, revision: 1 });
    expect((await get('/counters?owner=Ada', position)).json().items).toEqual([
      expect.objectContaining({ total: 10 }),
    ]);
    expect((await get('/counters/r-6/changes', position)).json().items).toHaveLength(1);
    expect((await get('/counters/r-6/changes')).json().items).toHaveLength(0);
  });

  it('answers 503 with Retry-After when the projection does not get there in time', async () => {
    harness = await startReadApi({ queries: [fixtureQueryRoutes], consistencyTimeoutMs: 150 });
    await harness.seed(COUNTERS, [counterDoc('r-3')]);
    await harness.setCheckpoint(COUNTERS_PROJECTION, 10n);
    for (const url of ['/counters/r-3', '/counters?owner=Ada', '/counters/r-3/changes']) {
      const response = await get(url, { 'x-min-position': '11' });
      const problem = expectProblem(response, 503, 'consistency-timeout');
      expect(response.headers['retry-after']).toBe('1');
      expect(problem.detail).toContain('11');
    }
    expect(harness.readApi.stats()).toMatchObject({ consistencyWaits: 3, consistencyTimeouts: 3 });
    expect(harness.calls.filter((call) => call.startsWith('counters.') || call.startsWith('cache.'))).toEqual(
      [],
    );
  });

  it('uses the in-process wait when given one, for the projections behind each route', async () => {
    const waits: [string, bigint][] = [];
    const waitForCheckpoint: WaitForCheckpoint = async (projection, position) => {
      waits.push([projection, position]);
      return true;
    };
    harness = await startReadApi({ queries: [fixtureQueryRoutes], waitForCheckpoint });
    await harness.seed(COUNTERS, [counterDoc('r-4')]);
    expect((await get('/counters/r-4', { 'x-min-position': '9' })).statusCode).toBe(200);
    expect((await get('/counters/r-4/changes', { 'x-min-position': '12' })).statusCode).toBe(200);
    expect(waits).toEqual([
      [COUNTERS_PROJECTION, 9n],
      [COUNTERS_PROJECTION, 12n],
      [COUNTER_CHANGES_PROJECTION, 12n],
    ]);
    expect(harness.calls).not.toContain('checkpoints.findOne');
  });

  it('stops waiting when the client hangs up', async () => {
    let waitSignal: AbortSignal | undefined;
    const waitForCheckpoint: WaitForCheckpoint = (_projection, _position, { signal }) => {
      waitSignal = signal;
      return new Promise((resolve) => signal?.addEventListener('abort', () => resolve(false)));
    };
    harness = await startReadApi({
      queries: [fixtureQueryRoutes],
      waitForCheckpoint,
      consistencyTimeoutMs: 60_000,
    });
    const address = await harness.app.listen({ port: 0, host: '127.0.0.1' });
    const request = httpRequest(`${address}/counters/r-5`, { headers: { 'x-min-position': '99' } });
    request.on('error', () => {}); // the hang-up below is the point
    request.end();
    await vi.waitFor(() => expect(waitSignal).toBeDefined());
    expect(waitSignal?.aborted).toBe(false);
    request.destroy();
    await vi.waitFor(() => expect(waitSignal?.aborted).toBe(true));
    await vi.waitFor(() => expect(harness.readApi.stats().consistencyAborts).toBe(1));
  });

  it.each([
    ['a word', 'soon'],
    ['a negative number', '-1'],
    ['a leading zero', '012'],
    ['a fraction', '1.5'],
    ['two positions', ['5', '6']],
    ['too many digits', '1'.repeat(40)],
    ['beyond 128 bits', '9'.repeat(39)],
  ])('refuses an x-min-position that is %s, reaching neither store nor cache', async (_name, value) => {
    harness = await startReadApi({ queries: [fixtureQueryRoutes] });
    const problem = expectProblem(
      await get('/counters/r-1', { 'x-min-position': value }),
      400,
      'invalid-request',
    );
    expect(problem.errors).toEqual([expect.objectContaining({ path: 'headers.x-min-position' })]);
    expect(harness.calls).toEqual([]);
  });
});
