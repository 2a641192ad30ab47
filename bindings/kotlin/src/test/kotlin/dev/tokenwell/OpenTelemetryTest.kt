package dev.tokenwell

import dev.tokenwell.otel.TokenwellOpenTelemetry
import io.opentelemetry.api.common.AttributeKey
import io.opentelemetry.api.common.Attributes
import io.opentelemetry.api.trace.SpanKind
import io.opentelemetry.api.trace.StatusCode
import io.opentelemetry.sdk.OpenTelemetrySdk
import io.opentelemetry.sdk.metrics.SdkMeterProvider
import io.opentelemetry.sdk.metrics.data.MetricData
import io.opentelemetry.sdk.testing.exporter.InMemoryMetricReader
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter
import io.opentelemetry.sdk.trace.SdkTracerProvider
import io.opentelemetry.sdk.trace.data.SpanData
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor
import java.util.concurrent.CountDownLatch
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test

/** OpenTelemetry metrics and traces with the real SDK's in-memory reader and exporter. */
class OpenTelemetryTest : WithMockProvider() {
    private lateinit var reader: InMemoryMetricReader
    private lateinit var spans: InMemorySpanExporter
    private lateinit var sdk: OpenTelemetrySdk

    @BeforeEach
    fun sdk() {
        reader = InMemoryMetricReader.create()
        spans = InMemorySpanExporter.create()
        sdk = OpenTelemetrySdk.builder()
            .setMeterProvider(SdkMeterProvider.builder().registerMetricReader(reader).build())
            .setTracerProvider(SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(spans)).build())
            .build()
    }

    @AfterEach
    fun close() = sdk.close()

    private fun config(name: String? = "orders") = TokenConfig(
        provider = "deliveroo", environment = "sandbox", baseUrl = "${mock.url}/deliveroo",
        clientId = "otel", clientSecret = "y-secret-otel", name = name,
    )

    private fun tokenResponse(token: String, expiresIn: Int = 100, delayMs: Int = 0) =
        """{"status":200,"json":{"access_token":"$token","token_type":"Bearer","expires_in":$expiresIn},"delay_ms":$delayMs}"""

    private val unavailable = """{"status":503,"json":{"error":"temporarily_unavailable"}}"""

    private fun eventually(what: String, done: () -> Boolean) {
        val deadline = System.nanoTime() + 10_000_000_000L
        while (!done()) {
            check(System.nanoTime() < deadline) { "timed out waiting for $what" }
            Thread.sleep(10)
        }
    }

    private fun attrs(vararg kv: Pair<String, String>): Attributes =
        Attributes.builder().apply { kv.forEach { put(AttributeKey.stringKey(it.first), it.second) } }.build()

    private fun metric(all: Collection<MetricData>, name: String): MetricData? = all.firstOrNull { it.name == name }

    private fun longSum(m: MetricData?, a: Attributes): Long? = m?.longSumData?.points?.firstOrNull { it.attributes == a }?.value

    @Test
    fun `a scripted run's numbers, 1000 hits, a fetch, a refresh ahead and a failed refresh`() {
        mock.script(tokenResponse("o-1"), tokenResponse("o-2"), unavailable, unavailable, unavailable)
        val telemetry = TokenwellOpenTelemetry(sdk)
        ManualClock().use { clock ->
            TokenClient.builder(config()).clock(clock).observer(telemetry).build().use { client ->
                assertEquals("o-1", client.tokenBlocking().accessToken) // fetch: first
                repeat(1000) { client.tokenBlocking() } // hits (the memo's)
                clock.advance(80_000) // refresh point of o-1 (80 % of 100 s)
                assertEquals("o-1", client.tokenBlocking().accessToken)
                client.settleBlocking()
                assertEquals("o-2", client.tokenBlocking().accessToken) // refresh: ok
                clock.advance(80_000) // refresh point of o-2: it fails (503)
                assertEquals("o-2", client.tokenBlocking().accessToken)
                client.settleBlocking()
                assertEquals(3, mock.requestCount())

                val requests = "tokenwell.token.requests"
                eventually("three requests counted") {
                    metric(reader.collectAllMetrics(), requests)?.longSumData?.points?.sumOf { it.value } == 3L
                }
                val all = reader.collectAllMetrics()
                val req = metric(all, requests)
                assertEquals(1L, longSum(req, attrs("client" to "orders", "outcome" to "ok", "reason" to "first")))
                assertEquals(1L, longSum(req, attrs("client" to "orders", "outcome" to "ok", "reason" to "refresh")))
                assertEquals(1L, longSum(req, attrs("client" to "orders", "outcome" to "server_error", "reason" to "refresh")))

                val duration = metric(all, "tokenwell.token.request.duration")!!
                assertEquals("s", duration.unit)
                assertEquals(3L, duration.histogramData.points.sumOf { it.count })
                assertEquals(2L, duration.histogramData.points.first { it.attributes == attrs("client" to "orders", "outcome" to "ok") }.count)

                val lookups = metric(all, "tokenwell.cache.lookups")
                val hits = longSum(lookups, attrs("client" to "orders", "result" to "hit"))!!
                assertTrue(hits >= 1000, "hits $hits")
                assertEquals(1L, longSum(lookups, attrs("client" to "orders", "result" to "miss")))
                assertTrue(longSum(lookups, attrs("client" to "orders", "result" to "stale"))!! >= 1)

                // o-2 was fetched at 80 s for 100 s: 20 s left at 160 s; still healthy (degraded).
                val remaining = metric(all, "tokenwell.token.remaining")!!
                assertEquals(20.0, remaining.doubleGaugeData.points.single().value, 0.001)
                val healthy = metric(all, "tokenwell.client.healthy")!!
                assertEquals(1L, healthy.longGaugeData.points.single().value)
                assertNull(metric(all, "tokenwell.store.breaker.state"), "no store, no breaker")
            }
            // Closed: it stops reporting.
            val after = reader.collectAllMetrics()
            assertTrue(metric(after, "tokenwell.client.healthy")?.longGaugeData?.points.isNullOrEmpty())
        }
    }

    @Test
    fun `the span of a fetch is a child of the caller's context`() {
        mock.script(tokenResponse("s-1"))
        val tracer = sdk.getTracer("test")
        TokenClient.builder(config()).observer(TokenwellOpenTelemetry(sdk)).build().use { client ->
            val parent = tracer.spanBuilder("caller").startSpan()
            parent.makeCurrent().use { client.tokenBlocking() }
            parent.end()
            eventually("the POST span") { spans.finishedSpanItems.any { it.name == "POST" } }
            val span = spans.finishedSpanItems.single { it.name == "POST" }
            assertEquals(SpanKind.CLIENT, span.kind)
            assertEquals(parent.spanContext.traceId, span.traceId)
            assertEquals(parent.spanContext.spanId, span.parentSpanId)
            assertEquals("POST", span.attributes[AttributeKey.stringKey("http.request.method")])
            assertEquals("127.0.0.1", span.attributes[AttributeKey.stringKey("server.address")])
            assertEquals(200L, span.attributes[AttributeKey.longKey("http.response.status_code")])
            assertNull(span.attributes[AttributeKey.stringKey("error.type")])
            assertTrue(span.endEpochNanos >= span.startEpochNanos)
            assertFalse(span.attributes.toString().contains("s-1") || span.attributes.toString().contains("y-secret"))
        }
    }

    @Test
    fun `eight callers on a cold cache make one span`() {
        mock.script(tokenResponse("c-1", delayMs = 300))
        val tracer = sdk.getTracer("test")
        val pool = Executors.newFixedThreadPool(8)
        try {
            TokenClient.builder(config()).observer(TokenwellOpenTelemetry(sdk)).build().use { client ->
                val go = CountDownLatch(1)
                val calls = (1..8).map {
                    pool.submit<String> {
                        val span = tracer.spanBuilder("caller-$it").startSpan()
                        try {
                            span.makeCurrent().use { go.await(); client.tokenBlocking().accessToken }
                        } finally {
                            span.end()
                        }
                    }
                }
                go.countDown()
                assertEquals(List(8) { "c-1" }, calls.map { it.get(10, TimeUnit.SECONDS) })
                assertEquals(1, mock.requestCount())
                eventually("the POST span") { spans.finishedSpanItems.any { it.name == "POST" } }
                Thread.sleep(200)
                val posts = spans.finishedSpanItems.filter { it.name == "POST" }
                assertEquals(1, posts.size, "$posts")
                val callers = spans.finishedSpanItems.filter { it.name.startsWith("caller-") }.map { it.spanId }
                assertTrue(posts[0].parentSpanId in callers)
            }
        } finally {
            pool.shutdownNow()
        }
    }

    @Test
    fun `a refresh-ahead span is a root linked to the caller, a failure carries error type`() {
        mock.script(tokenResponse("r-1"), unavailable, unavailable, unavailable)
        val tracer = sdk.getTracer("test")
        ManualClock().use { clock ->
            TokenClient.builder(config()).clock(clock).observer(TokenwellOpenTelemetry(sdk)).build().use { client ->
                client.tokenBlocking()
                clock.advance(80_000)
                val trigger = tracer.spanBuilder("trigger").startSpan()
                trigger.makeCurrent().use { assertEquals("r-1", client.tokenBlocking().accessToken) }
                trigger.end()
                client.settleBlocking()
                eventually("two POST spans") { spans.finishedSpanItems.count { it.name == "POST" } == 2 }
                val refresh: SpanData = spans.finishedSpanItems.filter { it.name == "POST" }[1]
                assertFalse(refresh.parentSpanContext.isValid, "a refresh span is a root")
                assertEquals(listOf(trigger.spanContext.spanId), refresh.links.map { it.spanContext.spanId })
                assertEquals(StatusCode.ERROR, refresh.status.statusCode)
                assertEquals("server_error", refresh.attributes[AttributeKey.stringKey("error.type")])
                assertEquals(503L, refresh.attributes[AttributeKey.longKey("http.response.status_code")])
                // The ManualClock's instants: started at 80 s past the clock's origin.
                assertEquals(TimeUnit.MILLISECONDS.toNanos(clock.unixMs()), refresh.startEpochNanos)
            }
        }
    }
}
