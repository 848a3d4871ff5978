import {
  TransferSettings,
  transferCommands,
  transferProcessManager,
} from '../../commands/transfers/index.js';
import { transferProjections } from '../../projections/transfers/index.js';
import { transferQueries } from '../../read-api/transfers/index.js';
import { defineModule } from '../module.js';

/** Transfers between two accounts: a saga that withdraws, deposits, and refunds when it must. */
export const transfers = defineModule({
  name: 'transfers',
  settings: TransferSettings,
  commandRoutes: transferCommands,
  processManagers: [transferProcessManager],
  projections: transferProjections,
  queryRoutes: transferQueries,
  openApiTags: [
    {
      name: 'transfers: commands',
      description: 'Request a transfer; `Prefer: wait=N` answers with its outcome',
    },
    { name: 'transfers: queries', description: 'A transfer: pending, completed or failed' },
  ],
});
