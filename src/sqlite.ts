export { type SqliteStoreOptions, sqliteStore } from './sqliteStore.js';
export { StoreOpenError } from './storeOpenError.js';
