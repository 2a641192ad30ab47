package dev.tokenwell

import dev.tokenwell.internal.ffi.CoreClock

/**
 * A clock moved by hand, for deterministic tests: monotonic time starts at 0,
 * wall time at [unixMs], by default the core's 2026-01-01T00:00:00Z (the same in
 * every language). Pass it to [TokenClient]; close it when done.
 */
class ManualClock @JvmOverloads constructor(unixMs: Long? = null) : AutoCloseable {
    init { NativePlatform.check() }

    internal val core = CoreClock(unixMs)

    /** Moves both the monotonic and the wall clock forward by [ms]. */
    fun advance(ms: Long) {
        require(ms >= 0) { "ms must be >= 0" }
        core.advance(ms.toULong())
    }

    /** Moves only the wall clock (may be negative). */
    fun shiftWall(deltaMs: Long) = core.shiftWall(deltaMs)

    /** Monotonic milliseconds. */
    fun nowMs(): Long = core.nowMs().toLong()

    /** Wall-clock Unix milliseconds. */
    fun unixMs(): Long = core.unixMs()

    override fun close() = core.close()

    override fun toString(): String = "ManualClock(nowMs=${nowMs()}, unixMs=${unixMs()})"
}
