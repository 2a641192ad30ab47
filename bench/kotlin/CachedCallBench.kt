package dev.tokenwell

import dev.tokenwell.internal.ffi.CoreClient
import dev.tokenwell.otel.TokenwellOpenTelemetry
import io.opentelemetry.sdk.OpenTelemetrySdk
import io.opentelemetry.sdk.metrics.SdkMeterProvider
import io.opentelemetry.sdk.testing.exporter.InMemoryMetricReader
import java.util.concurrent.ConcurrentHashMap
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Tag
import org.junit.jupiter.api.Test

/**
 * The cached-call benchmark (a careful warm loop; figures printed, not asserted):
 * ns per cached `authorizationHeader()` through the public API (memoised lease),
 * the raw JNA call into the core (`CoreClient.leaseBlocking()`, what every call
 * would cost without the memo), and a `ConcurrentHashMap` + `System.nanoTime()`
 * floor, all in the same JVM run. With `redis-server` on the PATH, the same hits on a
 * client whose config has `store.redisUrl` (a hit never touches Redis: the ratio is
 * the cost of having a store) and the cold miss with and without Redis. And the
 * hit with observability (an event listener and OpenTelemetry metrics and traces)
 * against the same hit without, in the same run: the one figure asserted, it
 * fails above 1.25x (goal <= 1.1x).
 * Run with `mvn -Pbench verify` (bench/kotlin/run.sh).
 */
@Tag("bench")
class CachedCallBench {
    @Volatile
    private var sink = 0L

    private fun measure(name: String, calls: Int, rounds: Int = 7, body: () -> String): Double {
        // Warm-up (JIT), then the median of several timed rounds.
        repeat(3) { var acc = 0L; repeat(calls) { acc += body().length }; sink += acc }
        val perCall = (0 until rounds).map {
            var acc = 0L
            val start = System.nanoTime()
            repeat(calls) { acc += body().length }
            val elapsed = System.nanoTime() - start
            sink += acc
            elapsed.toDouble() / calls
        }.sorted()
        val median = perCall[rounds / 2]
        println("bench: %-44s %10.1f ns/call (median of %d x %d; best %.1f)".format(name, median, rounds, calls, perCall.first()))
        return median
    }

    /**
     * Each side's best over four rounds, taken in alternating order (a, b, b, a…):
     * whichever runs first or second in a round gets no edge from the JIT or the
     * machine's noise.
     */
    private fun interleaved(a: () -> Double, b: () -> Double): Pair<Double, Double> {
        var (bestA, bestB) = Double.MAX_VALUE to Double.MAX_VALUE
        repeat(4) { round ->
            if (round % 2 == 0) {
                bestA = minOf(bestA, a()); bestB = minOf(bestB, b())
            } else {
                bestB = minOf(bestB, b()); bestA = minOf(bestA, a())
            }
        }
        return bestA to bestB
    }

    /** The hit with and without `store.redisUrl` in one run, then the cold miss. */
    private fun withRedis(mock: MockProvider, redis: RedisServer) {
        val plain = TokenConfig(
            provider = "deliveroo", environment = "sandbox", baseUrl = "${mock.url}/deliveroo",
            clientId = "plain", clientSecret = "y",
        )
        val stored = plain.copy(clientId = "stored", store = TokenConfig.StoreOptions(redisUrl = redis.url))
        mock.reset() // unscripted: the mock issues a fresh token per request
        TokenClient(plain).use { a ->
            TokenClient(stored).use { b ->
                a.authorizationHeaderBlocking()
                b.authorizationHeaderBlocking()
                // One lambda class for both clients: the JIT sees the same call site.
                fun memoised(name: String, c: TokenClient) = measure(name, 5_000_000) { c.authorizationHeaderBlocking() }
                val (memoA, memoB) = interleaved({ memoised("memoised, no store", a) }, { memoised("memoised, store.redisUrl", b) })
                println("bench: with store.redisUrl / without, memoised hit: %.3fx (goal <= 1.05x)".format(memoB / memoA))
            }
        }
        val rawA = CoreClient(ConfigJson.utf8(plain), null, null)
        val rawB = CoreClient(ConfigJson.utf8(stored), null, null)
        try {
            rawA.leaseBlocking()
            rawB.leaseBlocking()
            fun raw(name: String, c: CoreClient) = measure(name, 5_000, rounds = 5) { c.leaseBlocking().authorizationHeader.value }
            val (jnaA, jnaB) = interleaved({ raw("raw JNA lease, no store", rawA) }, { raw("raw JNA lease, store.redisUrl", rawB) })
            println("bench: with store.redisUrl / without, core hit: %.3fx (goal <= 1.05x)".format(jnaB / jnaA))
        } finally {
            rawA.close()
            rawB.close()
        }
        // A fresh client id per round: neither the process nor Redis has its token.
        fun coldMissMs(config: TokenConfig) = (0 until 30).map { i ->
            TokenClient(config.copy(clientId = "${config.clientId}-cold-$i")).use { c ->
                val start = System.nanoTime()
                c.tokenBlocking()
                (System.nanoTime() - start) / 1e6
            }
        }.sorted()[15]
        val none = coldMissMs(plain)
        val withRedis = coldMissMs(stored)
        println("bench: cold miss (median of 30): %.2f ms with Redis, %.2f ms without".format(withRedis, none))
    }

    /**
     * The memoised hit with a listener and OpenTelemetry enabled vs none, in one
     * run: the median of eight rounds' ratios, each round timing both in
     * alternating order (a shared machine's noise moves single figures by 2x).
     */
    @Test
    fun observabilityCost() = MockProvider.start().use { mock ->
        val config = TokenConfig(
            provider = "deliveroo", environment = "sandbox", baseUrl = "${mock.url}/deliveroo",
            clientId = "x", clientSecret = "y",
        )
        mock.reset()
        mock.script(
            """{"status":200,"json":{"access_token":"bench-plain","token_type":"Bearer","expires_in":86400}}""",
            """{"status":200,"json":{"access_token":"bench-observed","token_type":"Bearer","expires_in":86400}}""",
        )
        val reader = InMemoryMetricReader.create()
        val sdk = OpenTelemetrySdk.builder().setMeterProvider(SdkMeterProvider.builder().registerMetricReader(reader).build()).build()
        var events = 0L
        TokenClient(config.copy(clientId = "disabled")).use { off ->
            TokenClient.builder(config.copy(clientId = "enabled")).listener { events++ }.observer(TokenwellOpenTelemetry(sdk)).build().use { on ->
                off.authorizationHeaderBlocking()
                on.authorizationHeaderBlocking()
                fun memoised(name: String, c: TokenClient) = measure(name, 2_000_000, rounds = 5) { c.authorizationHeaderBlocking() }
                val ratios = (0 until 8).map { round ->
                    if (round % 2 == 0) {
                        val d = memoised("memoised, observability off", off)
                        memoised("memoised, listener + OpenTelemetry", on) / d
                    } else {
                        val e = memoised("memoised, listener + OpenTelemetry", on)
                        e / memoised("memoised, observability off", off)
                    }
                }.sorted()
                val ratio = (ratios[3] + ratios[4]) / 2
                check(reader.collectAllMetrics().any { it.name == "tokenwell.cache.lookups" }) { "no lookups metric" }
                println("bench: observability enabled / disabled, memoised hit: %.3fx (goal <= 1.1x, fails above 1.25x)".format(ratio))
                check(ratio <= 1.25) { "observability costs the hit %.3fx (> 1.25x)".format(ratio) }
            }
        }
        sdk.close()
    }

    @Test
    fun cachedCall() {
        MockProvider.start().use { mock ->
            mock.reset()
            mock.script("""{"status":200,"json":{"access_token":"bench-token","token_type":"Bearer","expires_in":86400}}""")
            val config = TokenConfig(
                provider = "deliveroo", environment = "sandbox", baseUrl = "${mock.url}/deliveroo",
                clientId = "x", clientSecret = "y",
            )
            TokenClient(config).use { client ->
                check(client.authorizationHeaderBlocking() == "Bearer bench-token")
                val memo = measure("authorizationHeaderBlocking() memoised", 5_000_000) { client.authorizationHeaderBlocking() }
                val suspended = runBlocking {
                    // The suspend twin from inside a coroutine.
                    var acc = 0L
                    repeat(2_000_000) { acc += client.authorizationHeader().length }
                    val start = System.nanoTime()
                    repeat(5_000_000) { acc += client.authorizationHeader().length }
                    sink += acc
                    (System.nanoTime() - start) / 5_000_000.0
                }
                println("bench: %-44s %10.1f ns/call".format("authorizationHeader() memoised (suspend)", suspended))

                // The raw JNA call: a second core client on the same token (the mock
                // serves the same token again), asked every time.
                mock.script("""{"status":200,"json":{"access_token":"bench-token","token_type":"Bearer","expires_in":86400}}""")
                val raw = CoreClient(ConfigJson.utf8(config), null, null)
                try {
                    check(raw.leaseBlocking().authorizationHeader.value == "Bearer bench-token")
                    val jna = measure("CoreClient.leaseBlocking() raw JNA call", 30_000) { raw.leaseBlocking().authorizationHeader.value }
                    println("bench: memo speed-up over the raw JNA call: %.0fx".format(jna / memo))
                    // Where the JNA time goes: a call returning a string (RustBuffer), and
                    // one returning a primitive.
                    measure("CoreClient.describe() raw JNA (string)", 10_000, rounds = 5) { raw.describe() }
                    dev.tokenwell.internal.ffi.CoreClock(0).use { clock ->
                        measure("CoreClock.nowMs() raw JNA (primitive)", 10_000, rounds = 5) { if (clock.nowMs() >= 0uL) "x" else "" }
                    }
                } finally {
                    raw.close()
                }
                check(mock.requestCount() == 2) { "the benchmark must run on cached tokens" }
            }

            RedisServer.startOrNull()?.use { redis -> withRedis(mock, redis) }
                ?: println("bench: redis-server not on the PATH: no figures with a shared store")

            // The floor: what any JVM cache costs (one map lookup and a clock read).
            class Entry(val header: String, val deadline: Long)
            val map = ConcurrentHashMap<String, Entry>()
            map["deliveroo/x"] = Entry("Bearer bench-token", System.nanoTime() + 3_600_000_000_000L)
            measure("floor: ConcurrentHashMap + System.nanoTime()", 5_000_000) {
                val e = map["deliveroo/x"]!!
                if (System.nanoTime() - e.deadline < 0) e.header else ""
            }
        }
    }
}
