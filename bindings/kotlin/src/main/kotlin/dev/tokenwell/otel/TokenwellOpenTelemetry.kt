package dev.tokenwell.otel

import dev.tokenwell.Metric
import dev.tokenwell.ObservedClient
import dev.tokenwell.TokenClient
import dev.tokenwell.TokenClientObserver
import dev.tokenwell.TokenEvent
import io.opentelemetry.api.OpenTelemetry
import io.opentelemetry.api.common.AttributeKey
import io.opentelemetry.api.common.Attributes
import io.opentelemetry.api.metrics.DoubleHistogram
import io.opentelemetry.api.metrics.LongCounter
import io.opentelemetry.api.metrics.Meter
import io.opentelemetry.api.metrics.ObservableLongMeasurement
import io.opentelemetry.api.trace.Span
import io.opentelemetry.api.trace.SpanKind
import io.opentelemetry.api.trace.StatusCode
import io.opentelemetry.api.trace.Tracer
import io.opentelemetry.context.Context
import java.util.WeakHashMap
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.TimeUnit

/**
 * OpenTelemetry metrics and traces for [TokenClient]s (the `opentelemetry-api`
 * dependency is optional: only this package needs it).
 *
 * ```kotlin
 * val tokens = TokenClient.builder(config)
 *     .observer(TokenwellOpenTelemetry(GlobalOpenTelemetry.get()))
 *     .build()
 * ```
 *
 * **Metrics** (meter `dev.tokenwell`), built from the core's metrics table: one
 * instrument set per meter shared by every client, told apart by the `client`
 * attribute (config `name`, else the provider). Counters and the duration
 * histogram are fed from the events; lookups, the remaining lifetime, health
 * and the store's breaker are read at collection time.
 *
 * **Traces**: one CLIENT span `POST` per token request (none for a token
 * adopted from the shared store, none for callers that joined a fetch in
 * flight), with `http.request.method`, `server.address`,
 * `http.response.status_code` and, on failure, `error.type` (the error code)
 * and status ERROR. Its parent is the context current on the thread whose call
 * started the fetch; a refresh-ahead span is a root span linked to that
 * context. It starts when the fetch started and ends when it ended.
 */
class TokenwellOpenTelemetry @JvmOverloads constructor(
    openTelemetry: OpenTelemetry,
    metrics: Boolean = true,
    traces: Boolean = true,
) : TokenClientObserver {
    private val instruments: Instruments? = if (metrics) Instruments.of(openTelemetry.getMeter(SCOPE)) else null
    private val tracer: Tracer? = if (traces) openTelemetry.getTracer(SCOPE) else null

    override fun attach(client: TokenClient): TokenClientObserver.Attachment {
        val observed = ObservedClient(client)
        instruments?.clients?.add(observed)
        return ClientAttachment(observed, client.serverAddress)
    }

    private class Pending(val context: Context, val atUnixMs: Long, val reason: String)

    private inner class ClientAttachment(
        private val observed: ObservedClient,
        private val serverAddress: String,
    ) : TokenClientObserver.Attachment {
        private val pending = ConcurrentHashMap<Long, Pending>()

        override fun onFetchStarted(fetchId: Long, reason: String, atUnixMs: Long) {
            if (tracer == null) return
            // A fetch whose ending event was dropped (a full queue) must not leak.
            if (pending.size >= MAX_PENDING) pending.clear()
            pending[fetchId] = Pending(Context.current(), atUnixMs, reason)
        }

        override fun onEvent(event: TokenEvent) {
            instruments?.record(observed.name, event)
            if (tracer != null) span(tracer, event)
        }

        override fun detach() {
            observed.detached = true
            instruments?.clients?.remove(observed)
            pending.clear()
        }

        private fun span(tracer: Tracer, event: TokenEvent) {
            val (fetchId, status, error) = when (event) {
                is TokenEvent.Fetched -> Triple(event.fetchId, event.status, null)
                is TokenEvent.FetchFailed -> Triple(event.fetchId, event.error.status, event.error.code)
                is TokenEvent.RefreshFailed -> Triple(event.fetchId, event.error.status, event.error.code)
                else -> return
            }
            val started = pending.remove(fetchId) ?: return
            // Adopted from the shared store: no token request was sent.
            if (event is TokenEvent.Fetched && (event.fromStore || event.reason == "adopted")) return
            val builder = tracer.spanBuilder("POST")
                .setSpanKind(SpanKind.CLIENT)
                .setStartTimestamp(started.atUnixMs, TimeUnit.MILLISECONDS)
                .setAttribute(HTTP_METHOD, "POST")
                .setAttribute(SERVER_ADDRESS, serverAddress)
            if (started.reason == "refresh") {
                builder.setNoParent()
                val link = Span.fromContext(started.context).spanContext
                if (link.isValid) builder.addLink(link)
            } else {
                builder.setParent(started.context)
            }
            val span = builder.startSpan()
            if (status != null) span.setAttribute(HTTP_STATUS, status.toLong())
            if (error != null) {
                span.setAttribute(ERROR_TYPE, error)
                span.setStatus(StatusCode.ERROR)
            }
            span.end(maxOf(event.atUnixMs, started.atUnixMs), TimeUnit.MILLISECONDS)
        }
    }

    /** One meter's instruments, shared by every client observed through it. */
    private class Instruments(meter: Meter) {
        val clients = CopyOnWriteArrayList<ObservedClient>()
        private val requests: LongCounter = counter(meter, Metric.REQUESTS)
        private val storeLock: LongCounter = counter(meter, Metric.STORE_LOCK)
        private val storeFailures: LongCounter = counter(meter, Metric.STORE_FAILURES)
        private val duration: DoubleHistogram = Metric.DURATION.row.let { row ->
            meter.histogramBuilder(row.name).setUnit(row.unit).setDescription(row.description)
                .setExplicitBucketBoundariesAdvice(DURATION_BUCKETS).build()
        }

        init {
            val lookups = observableCounter(meter, Metric.LOOKUPS)
            val remaining = meter.gaugeBuilder(Metric.REMAINING.row.name).setUnit(Metric.REMAINING.row.unit)
                .setDescription(Metric.REMAINING.row.description).buildObserver()
            val healthy = longGauge(meter, Metric.HEALTHY)
            val breaker = longGauge(meter, Metric.BREAKER)
            meter.batchCallback({
                for (c in clients) {
                    val (l, s) = c.read() ?: continue
                    lookups.record(l.hits, attrs(Metric.LOOKUPS, c.name, "result" to "hit"))
                    lookups.record(l.stale, attrs(Metric.LOOKUPS, c.name, "result" to "stale"))
                    lookups.record(l.misses, attrs(Metric.LOOKUPS, c.name, "result" to "miss"))
                    s.tokenExpiresInMs?.let { remaining.record(it / 1000.0, attrs(Metric.REMAINING, c.name)) }
                    healthy.record(if (s.healthy) 1L else 0L, attrs(Metric.HEALTHY, c.name))
                    Metric.breakerValue(s.storeBreaker)?.let { breaker.record(it, attrs(Metric.BREAKER, c.name)) }
                }
            }, lookups, remaining, healthy, breaker)
        }

        fun record(client: String, event: TokenEvent) {
            when (event) {
                is TokenEvent.StoreLock -> storeLock.add(1, attrs(Metric.STORE_LOCK, client, "outcome" to event.outcome))
                is TokenEvent.StoreFailed -> storeFailures.add(1, attrs(Metric.STORE_FAILURES, client))
                else -> {
                    val outcome = Metric.outcome(event) ?: return
                    val reason = Metric.reason(event) ?: return
                    requests.add(1, attrs(Metric.REQUESTS, client, "outcome" to outcome, "reason" to reason))
                    val seconds = (Metric.latencyMs(event) ?: 0L) / 1000.0
                    duration.record(seconds, attrs(Metric.DURATION, client, "outcome" to outcome))
                }
            }
        }

        companion object {
            private val byMeter = WeakHashMap<Meter, Instruments>()

            /** The meter's instruments, built once. */
            fun of(meter: Meter): Instruments = synchronized(byMeter) { byMeter.getOrPut(meter) { Instruments(meter) } }

            private fun counter(meter: Meter, m: Metric): LongCounter =
                meter.counterBuilder(m.row.name).setUnit(m.row.unit).setDescription(m.row.description).build()

            private fun observableCounter(meter: Meter, m: Metric): ObservableLongMeasurement =
                meter.counterBuilder(m.row.name).setUnit(m.row.unit).setDescription(m.row.description).buildObserver()

            private fun longGauge(meter: Meter, m: Metric): ObservableLongMeasurement =
                meter.gaugeBuilder(m.row.name).ofLongs().setUnit(m.row.unit).setDescription(m.row.description).buildObserver()

            private fun attrs(m: Metric, client: String, vararg more: Pair<String, String>): Attributes {
                val b = Attributes.builder()
                for ((k, v) in m.attributes("client" to client, *more)) b.put(AttributeKey.stringKey(k), v)
                return b.build()
            }
        }
    }

    companion object {
        /** The instrumentation scope of the meter and the tracer. */
        const val SCOPE = "dev.tokenwell"

        private const val MAX_PENDING = 1024
        private val HTTP_METHOD = AttributeKey.stringKey("http.request.method")
        private val SERVER_ADDRESS = AttributeKey.stringKey("server.address")
        private val HTTP_STATUS = AttributeKey.longKey("http.response.status_code")
        private val ERROR_TYPE = AttributeKey.stringKey("error.type")
        private val DURATION_BUCKETS = listOf(0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
    }
}
