import { eventStoreContract } from './event-store.contract.js';
import { createMemoryEventStore } from './memory-event-store.js';

eventStoreContract('memory', createMemoryEventStore, { freshStore: true });
