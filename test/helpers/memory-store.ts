// The in-memory owned table of pure mode (also what `legacyfw translate`
// and `legacyfw run` keep while a script runs).
export { MemoryStore } from '../../src/runtime/memory-store.ts'
