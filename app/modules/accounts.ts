import { accountCommands } from '../../commands/accounts/index.js';
import { accountProjections } from '../../projections/accounts/index.js';
import { accountQueries } from '../../read-api/accounts/index.js';
import { defineModule } from '../module.js';

/** Bank accounts: open, deposit, withdraw, close; read one, list them, list an account's transactions. */
export const accounts = defineModule({
  name: 'accounts',
  commandRoutes: accountCommands,
  projections: accountProjections,
  queryRoutes: accountQueries,
  openApiTags: [
    { name: 'accounts: commands', description: 'Open an account, deposit, withdraw, close it' },
    {
      name: 'accounts: queries',
      description:
        'Accounts and their transactions, from the read models (send x-min-position to read your write)',
    },
  ],
});
