// rem-engine-node: REM's engine component in Node (see README.md).
export { Database, RemError } from "./database.js";
export { MemoryStorage, StorageError } from "./storage.js";
export { LETTERS_MODEL, letters, embeddingsImport } from "./embeddings.js";
