import { runStorageContract } from './contract.ts';
import { sqliteSetup } from './helpers.ts';

runStorageContract('sqlite', sqliteSetup, { reopenable: true });
