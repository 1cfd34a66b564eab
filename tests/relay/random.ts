// Seeded randomness for fuzz and delivery-order tests (STYLE.md 5, 6): the seed
// comes from RELAY_SEED when set (to replay a failure), else from the time, and
// tests print it.

export function seedFromEnv(): number {
	const fromEnv = Number(process.env.RELAY_SEED);
	return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : Date.now() % 1_000_000_007;
}
