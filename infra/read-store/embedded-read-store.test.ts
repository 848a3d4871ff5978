import { createEmbeddedReadStore } from './embedded-read-store.js';
import { readStoreContract } from './read-store.contract.js';

readStoreContract('embedded', createEmbeddedReadStore);
