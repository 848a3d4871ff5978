/**
 * The reference of `npm run bench:write-http`, started by scripts/bench-write-http.ts in a process of
 * its own: a bare Fastify (no logger, no hooks, no schemas) with the same route, which parses the
 * JSON body and answers what a deposit answers, touching no storage. Reports `{ url }` over IPC once
 * it listens, then serves until killed.
 */
import Fastify from 'fastify';

const app = Fastify();
let revision = 0;
app.post<{ Params: { id: string }; Body: { amount: number } }>('/accounts/:id/deposits', async (request) => {
  revision += 1;
  return { accountId: request.params.id, revision, position: String(revision) };
});
const url = await app.listen({ host: '127.0.0.1', port: 0 });
process.send?.({ url });
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
