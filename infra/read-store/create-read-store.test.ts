import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../config.js';
import { createReadStore } from './create-read-store.js';

describe('createReadStore', () => {
  it('uses the embedded store when MONGO_URL is unset', async () => {
    const store = await createReadStore(loadConfig({ MONGO_URL: '' }));
    try {
      const accounts = store.collection('accounts');
      await accounts.bulkWrite([{ insertOne: { document: { _id: 'a', owner: 'Ada' } } }]);
      expect(await accounts.findOne({ _id: 'a' })).toEqual({ _id: 'a', owner: 'Ada' });
    } finally {
      await store.close();
    }
  });

  it('reads the MongoDB settings, replica set host lists included', () => {
    const config = loadConfig({
      MONGO_URL: 'mongodb://h1:27017,h2:27017,h3:27017/?replicaSet=rs0',
      MONGO_READ_PREFERENCE: 'nearest',
    });
    expect(config).toMatchObject({
      MONGO_URL: 'mongodb://h1:27017,h2:27017,h3:27017/?replicaSet=rs0',
      MONGO_DB: 'eventfold',
      MONGO_READ_PREFERENCE: 'nearest',
    });
    const defaults = loadConfig({});
    expect(defaults.MONGO_URL).toBeUndefined();
    expect(defaults.MONGO_READ_PREFERENCE).toBe('secondaryPreferred');
  });

  it('names the variable when a MongoDB setting is wrong', () => {
    expect(() => loadConfig({ MONGO_URL: 'http://localhost:27017' })).toThrow(ConfigError);
    expect(() => loadConfig({ MONGO_URL: 'http://localhost:27017' })).toThrow(/MONGO_URL/);
    expect(() => loadConfig({ MONGO_READ_PREFERENCE: 'anywhere' })).toThrow(/MONGO_READ_PREFERENCE/);
  });
});
