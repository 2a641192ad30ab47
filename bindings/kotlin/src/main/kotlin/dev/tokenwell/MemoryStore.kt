package dev.tokenwell

import dev.tokenwell.ffi.CoreStore

/**
 * An in-process token store: clients built with the same store and the same
 * credentials share one token (one request between them).
 */
class MemoryStore : AutoCloseable {
    internal val core = CoreStore()

    override fun close() = core.close()

    override fun toString(): String = "MemoryStore"
}
