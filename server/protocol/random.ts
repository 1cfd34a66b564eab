// One seeded generator for the server and the app: sweeps draw their random
// configurations with it, and the built-in model shuffles its rows with it.

/** mulberry32: small, fast and good enough to make draws reproducible from a seed. */
export function seededRandom(seed: number): () => number {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}
