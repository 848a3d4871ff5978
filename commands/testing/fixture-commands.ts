import { z } from 'zod';
import {
  CounterAmount,
  CounterId,
  counterAggregate,
  Decrement,
  Increment,
  OpenCounter,
} from '../../domain/shared/testing/counter.js';
import { positionToJson } from '../../infra/event-store/event-store.js';
import type { HttpApp } from '../../infra/http/create-http-app.js';
import { problemResponses } from '../../infra/http/problem-details.js';
import type { CommandRoutes, CommandRoutesContext } from '../command-module.js';
import type { CommandResult } from '../pipeline/handle-command.js';
import { CommandHeaders, idempotencyKeyOf } from '../pipeline/http-command.js';
import { idFromIdempotencyKey } from '../pipeline/idempotency.js';
import { processManagerStarter } from '../process-manager/starter.js';
import { jobAggregate } from '../process-manager/testing/job-domain.js';
import { jobProcess } from '../process-manager/testing/job-process.js';

/**
 * The fixture module's write side (composed in app/testing/fixture-module.ts), for the tests of the
 * command API and of the whole system, so that they need no example:
 *
 *   POST /counters                    open a counter (domain/shared/testing/counter.ts)      201
 *   POST /counters/:id/increments     add to it                                              200
 *   POST /counters/:id/decrements     take from it (422 below zero)                          200
 *   POST /jobs                        start a job, which the job process manager drives       202
 *                                     (commands/process-manager/testing/: add to a tally once)
 */

/** The fixture module's settings, read with the base ones (app/config.ts). */
export const FixtureSettings = z.object({
  /** A job not finished this long after it started fails. */
  FIXTURE_JOB_DEADLINE_MS: z.coerce.number().int().min(100).max(3_600_000).default(60_000),
  /** Jobs the job process manager drives at once. */
  FIXTURE_JOB_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(4),
});
export type FixtureSettings = z.infer<typeof FixtureSettings>;

const Id = CounterId;
const Params = z.object({ id: Id });
const Accepted = z
  .object({ id: z.string(), revision: z.number().int(), position: z.string() })
  .meta({ id: 'FixtureCommandAccepted' });
const accepted = (id: string) => (result: CommandResult) => ({
  id,
  revision: result.revision,
  position: positionToJson(result.position),
});
const errors = problemResponses(400, 404, 409, 413, 415, 422, 503);
const tags = ['fixture: commands'];

/** The counter's command routes alone (they take no settings). */
export const fixtureCounterCommands = (app: HttpApp, { run }: CommandRoutesContext) => {
  app.post(
    '/counters',
    {
      schema: {
        tags,
        headers: CommandHeaders,
        body: z.strictObject({ counterId: CounterId.optional(), owner: OpenCounter.shape.owner }),
        response: { 201: Accepted, ...errors },
      },
    },
    async (request, reply) => {
      const idempotencyKey = idempotencyKeyOf(request);
      const counterId = request.body.counterId ?? idFromIdempotencyKey('ctr', idempotencyKey);
      return run(request, reply, {
        aggregate: counterAggregate,
        id: counterId,
        command: OpenCounter.parse({ type: 'OpenCounter', owner: request.body.owner, counterId }),
        status: 201,
        body: accepted(counterId),
        idempotencyKey,
      });
    },
  );

  for (const [path, schema] of [
    ['increments', Increment],
    ['decrements', Decrement],
  ] as const)
    app.post(
      `/counters/:id/${path}`,
      {
        schema: {
          tags,
          headers: CommandHeaders,
          params: Params,
          body: z.strictObject({ amount: CounterAmount, note: Increment.shape.note }),
          response: { 200: Accepted, ...errors },
        },
      },
      async (request, reply) =>
        run(request, reply, {
          aggregate: counterAggregate,
          id: request.params.id,
          command: schema.parse({
            type: schema.shape.type.value,
            counterId: request.params.id,
            ...request.body,
          }),
          status: 200,
          body: accepted(request.params.id),
        }),
    );
};

const jobRoutes = (app: HttpApp, { run }: CommandRoutesContext, settings: FixtureSettings) => {
  app.post(
    '/jobs',
    {
      schema: {
        tags,
        headers: CommandHeaders,
        body: z.strictObject({ jobId: Id.optional(), tallyId: Id, amount: CounterAmount }),
        response: { 202: Accepted, ...errors },
      },
    },
    async (request, reply) => {
      const idempotencyKey = idempotencyKeyOf(request);
      const jobId = request.body.jobId ?? idFromIdempotencyKey('job', idempotencyKey);
      const { tallyId, amount } = request.body;
      const deadline = new Date(Date.now() + settings.FIXTURE_JOB_DEADLINE_MS).toISOString();
      return run(request, reply, {
        aggregate: jobAggregate,
        id: jobId,
        command: { type: 'StartJob' as const, jobId, tallyId, amount, deadline },
        // The deadline comes from the clock: a retry under the same key is the same request.
        sameRequest: [jobId, tallyId, amount],
        status: 202,
        body: accepted(jobId),
        idempotencyKey,
      });
    },
  );
};

/** The fixture module's command routes. */
export const fixtureCommands: CommandRoutes<FixtureSettings> = (app, context, settings) => {
  fixtureCounterCommands(app, context);
  jobRoutes(app, context, settings);
};

/** The job process manager, on the engine as every module's is (processManagerStarter). */
export const fixtureProcessManager = processManagerStarter<FixtureSettings>({
  name: 'job-process',
  definition: jobProcess,
  config: (settings) => ({ concurrency: settings.FIXTURE_JOB_CONCURRENCY }),
});
