// A small seeded PRNG (mulberry32) for reproducible randomized tests: every test
// that uses it prints its seed, and takes it from an environment variable to replay.
// The same generator the server and the app use (server/protocol/random.ts).

export { seededRandom as mulberry32 } from '../../server/protocol/random.ts';
