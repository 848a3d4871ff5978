import { stickyNoteCacheKey } from '../../projections/sticky-notes/sticky-notes-projection.js';
import type { CacheAside } from '../cache/cache-aside.js';
import type { StickyNoteReadModels, StickyNoteViews } from './sticky-note-read-model.js';
import { StickyNoteView } from './sticky-note-views.js';

/**
 * One sticky note, cache first. `fresh` skips the cache and reads the consistent store: a read that
 * waited for a position trusts only the read model its checkpoint vouches for; a cache entry (or a
 * lagging replica) carries no position. A miss fills the cache with version = revision, so it never
 * replaces a newer entry the projector wrote meanwhile. A document without a valid view is answered
 * as absent, and not cached.
 */
export const createStickyNoteReader =
  (deps: { models: StickyNoteReadModels; cacheAside: CacheAside; view: StickyNoteViews }) =>
  async (stickyNoteId: string, { fresh }: { fresh: boolean }): Promise<StickyNoteView | undefined> => {
    const key = stickyNoteCacheKey(stickyNoteId);
    if (!fresh) {
      const cached = await deps.cacheAside.get(key, StickyNoteView);
      if (cached !== undefined) return cached;
    }
    const doc = await deps.models[fresh ? 'consistent' : 'usual'].findStickyNote(stickyNoteId);
    const view = doc === null ? undefined : deps.view(doc);
    if (view === undefined) return undefined;
    deps.cacheAside.fill(key, view, view.revision);
    return view;
  };

export type StickyNoteReader = ReturnType<typeof createStickyNoteReader>;
