import { MemoryStateStore } from './memory.js';
import { describeStateStoreContract } from './state-store.contract.js';

describeStateStoreContract('memory', () => new MemoryStateStore());
