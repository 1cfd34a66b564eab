import { runStorageContract } from './contract.ts';
import { sqliteSetup } from './helpers.ts';

// Both places a group commit can run: the writer thread (default) and inline.
runStorageContract('sqlite (writer thread)', () => sqliteSetup('worker'), { reopenable: true });
runStorageContract('sqlite (inline writer)', () => sqliteSetup('inline'), { reopenable: true });
