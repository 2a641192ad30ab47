package dev.tokenwell.micrometer

import dev.tokenwell.Metric
import dev.tokenwell.ObservedClient
import dev.tokenwell.TokenClient
import dev.tokenwell.TokenClientObserver
import dev.tokenwell.TokenEvent
import io.micrometer.core.instrument.Counter
import io.micrometer.core.instrument.FunctionCounter
import io.micrometer.core.instrument.Gauge
import io.micrometer.core.instrument.Meter
import io.micrometer.core.instrument.MeterRegistry
import io.micrometer.core.instrument.Tags
import io.micrometer.core.instrument.Timer
import io.micrometer.core.instrument.binder.MeterBinder
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.TimeUnit

/**
 * Micrometer meters for [TokenClient]s (the `micrometer-core` dependency is
 * optional: only this package needs it), the same metrics as the
 * OpenTelemetry ones, built from the core's metrics table. Bind it to your
 * registries (Spring Boot binds a `MeterBinder` bean) and pass it to each client:
 *
 * ```kotlin
 * val binder = TokenwellMeterBinder().also { it.bindTo(registry) }
 * val tokens = TokenClient.builder(config).observer(binder).build()
 * ```
 *
 * The duration histogram is a [Timer]; the lookups are [FunctionCounter]s and the
 * remaining lifetime, health and breaker state [Gauge]s, read at collection
 * time and removed when the client is closed (a garbage-collected client's
 * read NaN, Micrometer's "no value").
 */
class TokenwellMeterBinder : MeterBinder, TokenClientObserver {
    private val registries = CopyOnWriteArrayList<MeterRegistry>()
    private val clients = CopyOnWriteArrayList<Watched>()

    private class Watched(val observed: ObservedClient) {
        val meters = CopyOnWriteArrayList<Meter>()
    }

    override fun bindTo(registry: MeterRegistry) {
        if (registries.addIfAbsent(registry)) for (w in clients) register(w, registry)
    }

    override fun attach(client: TokenClient): TokenClientObserver.Attachment {
        val watched = Watched(ObservedClient(client))
        clients += watched
        for (r in registries) register(watched, r)
        return object : TokenClientObserver.Attachment {
            override fun onEvent(event: TokenEvent) = record(watched.observed.name, event)

            override fun detach() {
                watched.observed.detached = true
                clients -= watched
                for (r in registries) for (m in watched.meters) r.remove(m)
                watched.meters.clear()
            }
        }
    }

    /** The client's observed meters on [registry]. */
    private fun register(w: Watched, registry: MeterRegistry) {
        val name = w.observed.name
        val client = w.observed.client() ?: return
        for ((result, read) in listOf<Pair<String, (TokenClient) -> Long>>(
            "hit" to { it.lookups().hits }, "stale" to { it.lookups().stale }, "miss" to { it.lookups().misses },
        )) {
            w.meters += FunctionCounter.builder(Metric.LOOKUPS.row.name, client) { c -> readOrNaN(w) { read(c).toDouble() } }
                .description(Metric.LOOKUPS.row.description).baseUnit(unit(Metric.LOOKUPS))
                .tags(tags(Metric.LOOKUPS, name, "result" to result)).register(registry)
        }
        w.meters += gauge(w, registry, Metric.REMAINING, client) { c -> c.status().tokenExpiresInMs?.let { it / 1000.0 } }
        w.meters += gauge(w, registry, Metric.HEALTHY, client) { c -> if (c.status().healthy) 1.0 else 0.0 }
        w.meters += gauge(w, registry, Metric.BREAKER, client) { c -> Metric.breakerValue(c.status().storeBreaker)?.toDouble() }
    }

    private fun gauge(w: Watched, registry: MeterRegistry, m: Metric, client: TokenClient, read: (TokenClient) -> Double?): Gauge =
        Gauge.builder(m.row.name, client) { c -> readOrNaN(w) { read(c) ?: Double.NaN } }
            .description(m.row.description).baseUnit(unit(m))
            .tags(tags(m, w.observed.name)).register(registry)

    private inline fun readOrNaN(w: Watched, read: () -> Double): Double =
        if (w.observed.detached) Double.NaN else try { read() } catch (_: Throwable) { Double.NaN }

    private fun record(client: String, event: TokenEvent) {
        for (r in registries) {
            when (event) {
                is TokenEvent.StoreLock -> counter(r, Metric.STORE_LOCK, client, "outcome" to event.outcome).increment()
                is TokenEvent.StoreFailed -> counter(r, Metric.STORE_FAILURES, client).increment()
                else -> {
                    val outcome = Metric.outcome(event) ?: return
                    val reason = Metric.reason(event) ?: return
                    counter(r, Metric.REQUESTS, client, "outcome" to outcome, "reason" to reason).increment()
                    Timer.builder(Metric.DURATION.row.name).description(Metric.DURATION.row.description)
                        .tags(tags(Metric.DURATION, client, "outcome" to outcome)).register(r)
                        .record(Metric.latencyMs(event) ?: 0L, TimeUnit.MILLISECONDS)
                }
            }
        }
    }

    private fun counter(r: MeterRegistry, m: Metric, client: String, vararg more: Pair<String, String>): Counter =
        Counter.builder(m.row.name).description(m.row.description).baseUnit(unit(m)).tags(tags(m, client, *more)).register(r)

    private companion object {
        fun tags(m: Metric, client: String, vararg more: Pair<String, String>): Tags =
            Tags.of(m.attributes("client" to client, *more).map { io.micrometer.core.instrument.Tag.of(it.first, it.second) })

        /** The table's UCUM unit as Micrometer spells base units (`s` → `seconds`, `{fetch}` → `fetches`). */
        fun unit(m: Metric): String? = when (val u = m.row.unit) {
            "1" -> null
            "s" -> "seconds"
            else -> u.removePrefix("{").removeSuffix("}").let { if (it.endsWith("h")) it + "es" else it + "s" }
        }
    }
}
