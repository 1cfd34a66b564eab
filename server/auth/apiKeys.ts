// API keys for scripts (the training client). Re-exported here so the training
// part has one obvious place to import them from.

export { hashApiKey, looksLikeApiKey, newApiKey } from './tokens.ts';
