package dev.tokenwell

import dev.tokenwell.internal.ffi.MetricKindRecord
import dev.tokenwell.internal.ffi.metricKinds
import java.lang.ref.WeakReference

/**
 * The metrics the observers feed, each a row of the core's metrics table
 * (`metric_kinds()`): name, instrument, unit, description and attributes are
 * read from the table; this only says how each is fed. ObservabilityTest fails
 * when these names and the table's differ.
 */
internal enum class Metric(val metricName: String) {
    /** Counter, from fetched / fetch_failed / refresh_failed. */
    REQUESTS("tokenwell.token.requests"),

    /** Histogram (s), from the same events' latency. */
    DURATION("tokenwell.token.request.duration"),

    /** Observable counter: [TokenClient.lookups]. */
    LOOKUPS("tokenwell.cache.lookups"),

    /** Observable gauge (s): [TokenStatus.tokenExpiresInMs]. */
    REMAINING("tokenwell.token.remaining"),

    /** Observable gauge: [TokenStatus.healthy]. */
    HEALTHY("tokenwell.client.healthy"),

    /** Counter, from store_lock. */
    STORE_LOCK("tokenwell.store.lock"),

    /** Counter, from store_failed. */
    STORE_FAILURES("tokenwell.store.failures"),

    /** Observable gauge: [TokenStatus.storeBreaker]. */
    BREAKER("tokenwell.store.breaker.state"),
    ;

    /** Its row of the core's table. */
    val row: MetricKindRecord by lazy {
        table[metricName] ?: error("the core's metrics table has no $metricName")
    }

    /** The row's attributes that [values] gives, in the table's order. */
    fun attributes(vararg values: Pair<String, String>): List<Pair<String, String>> =
        row.attributes.mapNotNull { key -> values.firstOrNull { it.first == key } }

    companion object {
        private val table: Map<String, MetricKindRecord> by lazy { metricKinds().associateBy { it.name } }

        /** The breaker's state as the gauge reports it: 0 closed, 1 half-open, 2 open; null without a store. */
        fun breakerValue(state: String?): Long? = when (state) {
            null -> null
            "closed" -> 0L
            "half_open" -> 1L
            else -> 2L
        }

        /** The outcome attribute of an event that ends a fetch: `ok` or the error code. */
        fun outcome(event: TokenEvent): String? = when (event) {
            is TokenEvent.Fetched -> "ok"
            is TokenEvent.FetchFailed -> event.error.code
            is TokenEvent.RefreshFailed -> event.error.code
            else -> null
        }

        /** The reason attribute of an event that ends a fetch. */
        fun reason(event: TokenEvent): String? = when (event) {
            is TokenEvent.Fetched -> event.reason
            is TokenEvent.FetchFailed -> event.reason
            is TokenEvent.RefreshFailed -> "refresh"
            else -> null
        }

        /** The fetch's latency of an event that ends one, in ms. */
        fun latencyMs(event: TokenEvent): Long? = when (event) {
            is TokenEvent.Fetched -> event.latencyMs
            is TokenEvent.FetchFailed -> event.latencyMs
            is TokenEvent.RefreshFailed -> event.latencyMs
            else -> null
        }
    }
}

/**
 * A client as observable instruments read it at collection time: weakly held,
 * so a client that is closed or garbage-collected stops reporting.
 */
internal class ObservedClient(client: TokenClient) {
    private val ref = WeakReference(client)

    /** The `client` attribute. */
    val name: String = client.name

    @Volatile var detached = false

    /** The client while it is open and reachable. */
    fun client(): TokenClient? = if (detached) null else ref.get()

    /** [TokenClient.lookups] and [TokenClient.status], or null once the client is gone. */
    fun read(): Pair<TokenLookups, TokenStatus>? {
        val c = client() ?: return null
        return try {
            c.lookups() to c.status()
        } catch (_: Throwable) {
            null // closed meanwhile
        }
    }
}
