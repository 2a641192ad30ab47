package dev.tokenwell

/**
 * A secret string that never prints itself: how tokens come out of the generated
 * bindings (see `uniffi.toml`), so a logged lease record shows `[redacted]`.
 * Public only because the generated records are; the wrapper unwraps it at once.
 */
class Redacted internal constructor(internal val value: String) {
    override fun toString(): String = "[redacted]"

    override fun equals(other: Any?): Boolean = other is Redacted && other.value == value

    override fun hashCode(): Int = value.hashCode()
}
