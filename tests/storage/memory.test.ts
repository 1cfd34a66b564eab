import { MemoryStorage } from '../../server/storage/memory.ts';
import { runStorageContract } from './contract.ts';

runStorageContract('memory', () => {
	const storage = new MemoryStorage();
	return Promise.resolve({ storage, cleanup: () => storage.close() });
});
