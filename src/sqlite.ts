export { type SqliteStoreOptions, sqliteStore } from './sqliteStore.js';
export { StoreOpenError } from './storeOpenError.js';
export { StoreWriteError } from './storeWriteError.js';
