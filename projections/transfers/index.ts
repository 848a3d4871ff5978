import type { ModuleProjections } from '../projection-module.js';
import { transfersProjection } from './transfers-projection.js';

/** The transfers module's read model (composed into the module in app/modules/transfers.ts). */
export const transferProjections: ModuleProjections = () => [transfersProjection()];
