export { type EsdbTestServer, type EsdbTestServerOptions, startEsdbTestServer } from './server.js';
export { MODELLED_SERVER_VERSION } from './server-features-service.js';
