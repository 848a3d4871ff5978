import type { HttpApp } from '../http/create-http-app.js';

/**
 * Fastify's close (stop listening, answer 503 to requests that still arrive, wait for those in
 * flight), plus one thing it leaves out: Node keeps a keep-alive connection open after its last
 * response, and Fastify closes only the connections idle when the close begins. A connection that
 * was busy then stays open once its response is out, and the close waits on it until the client
 * lets go. So, while closing, every connection is closed as soon as it goes idle.
 */
export const closeHttp = async (app: HttpApp, { sweepMs = 50 }: { sweepMs?: number } = {}) => {
  const sweep = setInterval(() => app.server.closeIdleConnections(), sweepMs);
  try {
    await app.close();
  } finally {
    clearInterval(sweep);
  }
};
