import { readyView } from '../cache/ready-response.js';
import { AccountView } from './account-views.js';

/**
 * What `account:<id>` holds in the cache: GET /accounts/:id's response, ready to send (its JSON,
 * its ETag) with the owner beside it, so a hit checks who may read it without parsing the body.
 * Written by the accounts projection after each batch, and by a read that missed.
 */
export const accountReadyView = readyView(AccountView, { owner: (view) => view.ownerId });
