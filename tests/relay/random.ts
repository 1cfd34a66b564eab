// Seeded randomness for fuzz and delivery-order tests (STYLE.md 5, 6): the seed
// comes from RELAY_SEED when set (to replay a failure), else from the time, and
// tests print it.

export function mulberry32(seed: number): () => number {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

export function seedFromEnv(): number {
	const fromEnv = Number(process.env.RELAY_SEED);
	return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : Date.now() % 1_000_000_007;
}
