import Database from 'better-sqlite3';

/**
 * Changes an embedded store's file behind its back, as a failing disk, an editor or a bad restore
 * would: runs `statement` on it through a connection of its own and returns how many rows changed.
 * For tests of damage outside infra/, which may not import the driver themselves.
 */
export const tamperWithEventsFile = (file: string, statement: string, ...params: unknown[]): number => {
  const db = new Database(file);
  try {
    return db.prepare(statement).run(...params).changes;
  } finally {
    db.close();
  }
};

/** How many events the file holds, read through a connection of its own. */
export const countStoredEvents = (file: string): number => {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare('SELECT COUNT(*) FROM events').pluck().get() as number;
  } finally {
    db.close();
  }
};
