import { describe, expect, it } from 'vitest';
import { createMemoryEventStore } from '../event-store/memory-event-store.js';
import { createHttpApp } from '../http/create-http-app.js';
import { createLogger } from '../logger.js';
import { createMetrics } from './metrics.js';

const scrape = async (app: ReturnType<typeof createHttpApp>) => {
  const response = await app.inject({ url: '/metrics' });
  expect(response.statusCode).toBe(200);
  expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return response.body;
};

/** The value of one sample line, e.g. `name{a="b"} 3`; undefined when the series is absent. */
const sample = (text: string, series: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

const appWith = (metrics: ReturnType<typeof createMetrics>) => {
  const app = createHttpApp({
    auth: { disabled: true },
    logger: createLogger({ level: 'silent' }),
    bodyLimit: 1024,
  });
  metrics.registerRoutes(app);
  return app;
};

describe('metrics', () => {
  it('times requests by route pattern and status, never by raw URL', async () => {
    const metrics = createMetrics();
    const app = appWith(metrics);
    app.get('/things/:id', async (request) => ({ id: (request.params as { id: string }).id }));
    await app.inject({ url: '/things/1' });
    await app.inject({ url: '/things/2' });
    await app.inject({ url: '/nowhere/3' });
    const text = await scrape(app);

    const things =
      'eventfold_http_request_duration_seconds_count{method="GET",route="/things/:id",status_code="200"}';
    expect(sample(text, things)).toBe(2);
    expect(
      sample(
        text,
        'eventfold_http_request_duration_seconds_count{method="GET",route="unmatched",status_code="404"}',
      ),
    ).toBe(1);
    expect(text).toContain(
      'eventfold_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/things/:id"',
    );
    expect(text).not.toMatch(/route="\/things\/1"|route="\/nowhere/);
    // Node's process metrics come along.
    expect(text).toMatch(/^process_cpu_user_seconds_total /m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m);
    await app.close();
  });

  it('counts commands by type, outcome and reason, and appended events by type', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const app = appWith(metrics);
    metrics.countCommand({ command: 'DepositMoney', outcome: 'accepted', reason: 'appended' });
    metrics.countCommand({ command: 'DepositMoney', outcome: 'accepted', reason: 'appended' });
    metrics.countCommand({ command: 'WithdrawMoney', outcome: 'rejected', reason: 'insufficient_funds' });
    const eventStore = metrics.countAppends(createMemoryEventStore());
    const metadata = { eventId: 'e', correlationId: 'c', causationId: 'c', occurredAt: '', schemaVersion: 1 };
    await eventStore.append(
      'thing-1',
      [
        { type: 'ThingMade', data: {}, metadata },
        { type: 'ThingMoved', data: {}, metadata: { ...metadata, eventId: 'f' } },
      ],
      { expectedRevision: 'no_stream' },
    );
    // A refused append counts nothing.
    await expect(
      eventStore.append('thing-1', [{ type: 'ThingMade', data: {}, metadata }], {
        expectedRevision: 'no_stream',
      }),
    ).rejects.toThrow();
    const text = await scrape(app);

    expect(
      sample(text, 'eventfold_commands_total{command="DepositMoney",outcome="accepted",reason="appended"}'),
    ).toBe(2);
    expect(
      sample(
        text,
        'eventfold_commands_total{command="WithdrawMoney",outcome="rejected",reason="insufficient_funds"}',
      ),
    ).toBe(1);
    expect(sample(text, 'eventfold_events_appended_total{event_type="ThingMade"}')).toBe(1);
    expect(sample(text, 'eventfold_events_appended_total{event_type="ThingMoved"}')).toBe(1);
    expect(await eventStore.readStream('thing-1')).toHaveLength(2);
    await app.close();
  });

  it('keeps each registry to itself', async () => {
    const first = createMetrics({ defaultMetrics: false });
    const second = createMetrics({ defaultMetrics: false });
    first.countCommand({ command: 'OpenAccount', outcome: 'accepted', reason: 'appended' });
    expect(await second.registry.metrics()).not.toContain('command="OpenAccount"');
    expect(await first.registry.metrics()).toContain('command="OpenAccount"');
  });
});
