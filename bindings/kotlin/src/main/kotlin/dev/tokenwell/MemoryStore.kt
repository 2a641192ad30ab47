package dev.tokenwell

import dev.tokenwell.internal.ffi.CoreStore

/**
 * An in-process token store: clients built with the same store and the same
 * credentials share one token (one request between them). With a [clock] its
 * time-to-live and locks run on that [ManualClock].
 */
class MemoryStore @JvmOverloads constructor(clock: ManualClock? = null) : AutoCloseable {
    init { NativePlatform.check() }

    internal val core = if (clock == null) CoreStore() else CoreStore.withClock(clock.core)

    override fun close() = core.close()

    override fun toString(): String = "MemoryStore"
}
