// Small typed wrappers over localStorage for what the app keeps between visits
// (the signed-in account, workspace names and roles, queues). Every key starts
// with `ensemble:` so signing out can remove them all.

export const LOCAL_PREFIX = 'ensemble:';

export function readLocal<T>(key: string, guard: (v: unknown) => v is T): T | null {
	try {
		const raw = localStorage.getItem(LOCAL_PREFIX + key);
		if (raw === null) return null;
		const value: unknown = JSON.parse(raw);
		return guard(value) ? value : null;
	} catch (err) {
		console.warn(`ensemble: ignoring unreadable local value ${key}`, err);
		return null;
	}
}

export function writeLocal(key: string, value: unknown): void {
	try {
		localStorage.setItem(LOCAL_PREFIX + key, JSON.stringify(value));
	} catch (err) {
		// Quota or private mode: the app still works online, only offline reopening suffers.
		console.warn(`ensemble: could not keep ${key} locally`, err);
	}
}

/** Removes everything the app stored locally: localStorage keys and IndexedDB copies. */
export async function clearLocalData(): Promise<void> {
	for (let i = localStorage.length - 1; i >= 0; i--) {
		const key = localStorage.key(i);
		if (key?.startsWith(LOCAL_PREFIX)) localStorage.removeItem(key);
	}
	const databases = await indexedDB.databases();
	await Promise.all(
		databases
			.map((db) => db.name)
			.filter((name): name is string => !!name && name.startsWith(LOCAL_PREFIX))
			.map(
				(name) =>
					new Promise<void>((resolve, reject) => {
						const req = indexedDB.deleteDatabase(name);
						req.onsuccess = () => resolve();
						req.onerror = () => reject(req.error ?? new Error(`could not delete ${name}`));
						// Another tab holds it open: it is deleted once that tab closes.
						req.onblocked = () => resolve();
					})
			)
	);
}
