import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';

const USAGE = `usage: npm run dev:eventstore -- [--port 2113] [--control-port <port + 1>]

Starts the EventStoreDB wire-level test server (in memory) on 127.0.0.1, for trying the app or the
EventStoreDB adapter where no EventStoreDB can run. It speaks EventStoreDB's gRPC protocol to the
real client; it is not EventStoreDB (no persistence, no auth, no projections, no clustering).`;

// The shape of the test server module, written out here: scripts/ is compiled for production and
// the test server (under testing/, outside the build) must not be pulled into it by an import.
type EsdbTestServer = {
  url: string;
  faults: {
    dropSubscriptions(): void;
    refuseConnections(ms: number): Promise<void>;
    appendLegacyTransaction(streamId: string, events: Array<{ type: string; data: unknown }>): void;
    appendSystemEvent(): void;
  };
  openCalls(): number;
  stop(): Promise<void>;
};
type TestServerModule = { startEsdbTestServer(options: { port: number }): Promise<EsdbTestServer> };

const TEST_SERVER_MODULE = '../infra/event-store/testing/esdb-test-server/index.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '2113' },
    'control-port': { type: 'string' },
    help: { type: 'boolean' },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const port = Number(values.port);
const controlPort = Number(values['control-port'] ?? port + 1);
if (!Number.isInteger(port) || !Number.isInteger(controlPort)) {
  console.error(USAGE);
  process.exit(2);
}

const { startEsdbTestServer } = (await import(TEST_SERVER_MODULE)) as TestServerModule;
const server = await startEsdbTestServer({ port });

/** POST /faults/...: faults injected into the running server from outside. */
const control = createServer((request: IncomingMessage, response: ServerResponse) => {
  const url = new URL(request.url ?? '/', `http://127.0.0.1:${controlPort}`);
  const reply = (status: number, text: string) =>
    response.writeHead(status, { 'content-type': 'text/plain' }).end(`${text}\n`);
  if (request.method !== 'POST') return reply(405, 'POST only');
  switch (url.pathname) {
    case '/faults/drop-subscriptions':
      server.faults.dropSubscriptions();
      return reply(200, 'every open subscription ended with UNAVAILABLE');
    case '/faults/refuse-connections': {
      const ms = Number(url.searchParams.get('ms') ?? 3_000);
      if (!Number.isInteger(ms) || ms < 0) return reply(400, 'ms: a whole number of milliseconds');
      void server.faults.refuseConnections(ms).then(() => console.log('listening again'));
      return reply(202, `refusing connections for ${ms} ms`);
    }
    case '/faults/system-event':
      server.faults.appendSystemEvent();
      return reply(200, 'appended a $statsCollected event');
    case '/faults/legacy-transaction': {
      const stream = url.searchParams.get('stream') ?? 'legacy-transaction';
      const count = Number(url.searchParams.get('count') ?? 2);
      server.faults.appendLegacyTransaction(
        stream,
        Array.from({ length: count }, (_, n) => ({ type: 'LegacyTransactionEvent', data: { n } })),
      );
      return reply(200, `appended ${count} events to ${stream} as one legacy transaction`);
    }
    default:
      return reply(404, 'unknown fault');
  }
});
await new Promise<void>((resolve) => control.listen(controlPort, '127.0.0.1', resolve));

console.log(`EventStoreDB wire-level TEST server (a protocol-level stand-in, not EventStoreDB; in memory)
EVENTSTORE_URL=${server.url}

Faults, from another terminal:
  curl -X POST http://127.0.0.1:${controlPort}/faults/drop-subscriptions
  curl -X POST 'http://127.0.0.1:${controlPort}/faults/refuse-connections?ms=3000'
  curl -X POST http://127.0.0.1:${controlPort}/faults/system-event
  curl -X POST 'http://127.0.0.1:${controlPort}/faults/legacy-transaction?stream=legacy-1&count=2'
Ctrl-C stops it; everything written is gone then.`);

const stop = async () => {
  control.close();
  await server.stop();
  process.exit(0);
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
