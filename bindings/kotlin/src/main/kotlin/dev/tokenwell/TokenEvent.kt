package dev.tokenwell

import dev.tokenwell.internal.ffi.CoreErrorInfo
import dev.tokenwell.internal.ffi.CoreEvent

/**
 * Something a [TokenClient] did: the core's event table (`event_kinds()`), one
 * class per event, its fields in camelCase, and [atUnixMs], when it happened
 * (Unix ms on the client's clock). `hit` and `miss` are not delivered (they
 * happen on every call): [TokenClient.lookups] counts them.
 *
 * Reasons (`first`, `refresh`, `after_401`, `expired`, `adopted`) and lock
 * outcomes (`won`, `waited`, `adopted`, `gave_up`) are the core's stable codes.
 * No event carries a secret or a token.
 */
sealed class TokenEvent {
    /** The event's stable name, as in the core's table (`fetch_started`, `fetched`…). */
    abstract val name: String

    /** When it happened, Unix ms on the client's clock. */
    abstract val atUnixMs: Long

    /** A fetch began, on the thread of the caller whose call started it. */
    data class FetchStarted(val fetchId: Long, val reason: String, override val atUnixMs: Long) : TokenEvent() {
        override val name: String get() = "fetch_started"
    }

    /** A new token arrived, from the endpoint or (`fromStore`, reason `adopted`) the shared store. */
    data class Fetched(
        val fetchId: Long,
        val reason: String,
        /** Its lifetime from now, in ms. */
        val lifetimeMs: Long,
        val fromStore: Boolean,
        /** How long the fetch took, in ms (store and endpoint). */
        val latencyMs: Long,
        /** The endpoint's HTTP status (null when adopted from the store). */
        val status: Int?,
        override val atUnixMs: Long,
    ) : TokenEvent() {
        override val name: String get() = "fetched"
    }

    /** Refresh-ahead started in the background; callers keep the current token. */
    data class RefreshStarted(val fetchId: Long, override val atUnixMs: Long) : TokenEvent() {
        override val name: String get() = "refresh_started"
    }

    /** A background refresh failed; the current token (with [lifetimeMs] left) is still served. */
    data class RefreshFailed(
        val fetchId: Long,
        val error: TokenError,
        val latencyMs: Long,
        val lifetimeMs: Long,
        override val atUnixMs: Long,
    ) : TokenEvent() {
        override val name: String get() = "refresh_failed"
    }

    /** A fetch failed and callers without a usable token got [error]. */
    data class FetchFailed(
        val fetchId: Long,
        val reason: String,
        val error: TokenError,
        val latencyMs: Long,
        override val atUnixMs: Long,
    ) : TokenEvent() {
        override val name: String get() = "fetch_failed"
    }

    /** The shared store failed; the client went on without it (a cache miss). */
    data class StoreFailed(val error: TokenError, override val atUnixMs: Long) : TokenEvent() {
        override val name: String get() = "store_failed"
    }

    /** How a fetch through the shared store went with the fleet's lock. */
    data class StoreLock(
        val fetchId: Long,
        val outcome: String,
        /** How long this process waited for another's lock, in ms. */
        val waitedMs: Long,
        override val atUnixMs: Long,
    ) : TokenEvent() {
        override val name: String get() = "store_lock"
    }

    internal companion object {
        /** The wrapper's event for the core's record; null for a name this version does not know. */
        fun of(e: CoreEvent): TokenEvent? {
            val id = e.fetchId?.toLong() ?: 0L
            val at = e.atUnixMs
            fun error() = TokenError.of(e.error)
            return when (e.name) {
                "fetch_started" -> FetchStarted(id, e.reason.orEmpty(), at)
                "fetched" -> Fetched(
                    id, e.reason.orEmpty(), e.lifetimeMs?.toLong() ?: 0L, e.fromStore ?: false,
                    e.latencyMs?.toLong() ?: 0L, e.status?.toInt(), at,
                )
                "refresh_started" -> RefreshStarted(id, at)
                "refresh_failed" -> RefreshFailed(id, error(), e.latencyMs?.toLong() ?: 0L, e.lifetimeMs?.toLong() ?: 0L, at)
                "fetch_failed" -> FetchFailed(id, e.reason.orEmpty(), error(), e.latencyMs?.toLong() ?: 0L, at)
                "store_failed" -> StoreFailed(error(), at)
                "store_lock" -> StoreLock(id, e.outcome.orEmpty(), e.waitedMs?.toLong() ?: 0L, at)
                else -> null
            }
        }
    }
}

/** An error as an event or a [TokenStatus] carries it: its stable [code], the endpoint's [status], the [detail] (no secret in any). */
data class TokenError(val code: String, val status: Int?, val detail: String) {
    internal companion object {
        fun of(e: CoreErrorInfo?): TokenError =
            if (e == null) TokenError("unknown", null, "") else TokenError(e.code, e.status?.toInt(), e.detail)
    }
}

/**
 * Receives a [TokenClient]'s events, on tokenwell's event thread (one per
 * process, named `tokenwell-events`), in order, never on the fetch path. Events
 * wait in a bounded queue (4096): a listener that blocks delays only later
 * events, and once the queue is full new ones are dropped and counted
 * ([TokenLookups.dropped]). An exception it throws is logged once (its class
 * name only) and ignored. Calling the client from here (`tokenBlocking()`) is safe.
 */
fun interface TokenEventListener {
    fun onEvent(event: TokenEvent)
}

/** How a client's lookups went since it was built (with a listener or observer; zeros otherwise). */
data class TokenLookups(
    /** Fresh cached tokens handed out (the wrapper's memo and the core). */
    val hits: Long,
    /** Tokens past their refresh point handed out while a refresh runs. */
    val stale: Long,
    /** Callers that waited for a fetch. */
    val misses: Long,
    /** Events dropped because the listeners' queue was full. */
    val dropped: Long,
)

/** The verdict of a [TokenStatus]. */
enum class TokenHealth(val code: String) {
    /** A usable token is held and the last fetch succeeded. */
    UP("up"),

    /** A usable token is held but the last fetch failed: a warning, not an outage, until the token runs out. */
    DEGRADED("degraded"),

    /** No usable token, and the last fetch failed: callers get errors. */
    DOWN("down"),

    /** No usable token yet and no failure (never asked, a first fetch in flight, or a token that expired unused). */
    IDLE("idle");

    internal companion object {
        fun of(code: String): TokenHealth = entries.firstOrNull { it.code == code } ?: DOWN
    }
}

/**
 * A client's health, read without I/O ([TokenClient.status]). For a readiness
 * probe or a health indicator: unhealthy only when [health] is [TokenHealth.DOWN]
 * ([healthy] is false): no usable token and the last fetch failed. A failing
 * endpoint while the token is still valid is [TokenHealth.DEGRADED], a warning.
 * Never use it for liveness: a restart does not mend a partner's endpoint.
 */
data class TokenStatus(
    val health: TokenHealth,
    /** False only when [health] is [TokenHealth.DOWN]. */
    val healthy: Boolean,
    /** Whether a token is held that callers are given now. */
    val tokenUsable: Boolean,
    /** The held token's remaining lifetime to its expiry, in ms (null without a token). */
    val tokenExpiresInMs: Long?,
    /** The last fetch's error, if it failed. */
    val lastError: TokenError?,
    /** When [lastError] happened, Unix ms. */
    val lastErrorAtUnixMs: Long?,
    /** How long before the next fetch may start, in ms, while backing off. */
    val backoffMs: Long?,
    /** Whether a fetch is in flight. */
    val fetching: Boolean,
    /** The shared store's breaker (`closed`, `open`, `half_open`), with a store. */
    val storeBreaker: String?,
    /** While the breaker is open: how long it stays open, in ms. */
    val storeOpenForMs: Long?,
)

/**
 * Watches clients for metrics and traces ([dev.tokenwell.otel.TokenwellOpenTelemetry],
 * [dev.tokenwell.micrometer.TokenwellMeterBinder]). One observer serves any
 * number of clients: [attach] is called once per client, when it is built.
 */
interface TokenClientObserver {
    /** Starts watching [client]; the attachment gets its events until [Attachment.detach]. */
    fun attach(client: TokenClient): Attachment

    /** One client's link to an observer. No method may throw or block. */
    interface Attachment {
        /**
         * A fetch that the calling thread's call started, told on that thread
         * (read its trace context here, and return at once: the caller waits).
         */
        fun onFetchStarted(fetchId: Long, reason: String, atUnixMs: Long) {}

        /** An event, on tokenwell's event thread. */
        fun onEvent(event: TokenEvent) {}

        /** The client was closed: stop reporting it. */
        fun detach() {}
    }
}
