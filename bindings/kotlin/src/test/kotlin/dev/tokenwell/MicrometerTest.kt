package dev.tokenwell

import dev.tokenwell.micrometer.TokenwellMeterBinder
import io.micrometer.core.instrument.simple.SimpleMeterRegistry
import java.util.concurrent.TimeUnit
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

/** The Micrometer binder, against a SimpleMeterRegistry. */
class MicrometerTest : WithMockProvider() {
    private fun tokenResponse(token: String, expiresIn: Int = 100) =
        """{"status":200,"json":{"access_token":"$token","token_type":"Bearer","expires_in":$expiresIn}}"""

    private val unavailable = """{"status":503,"json":{"error":"temporarily_unavailable"}}"""

    @Test
    fun `a scripted run's numbers, and a closed client's meters go`() {
        mock.script(tokenResponse("m-1"), tokenResponse("m-2"), unavailable, unavailable, unavailable)
        val registry = SimpleMeterRegistry()
        val binder = TokenwellMeterBinder().also { it.bindTo(registry) }
        val config = TokenConfig(
            provider = "deliveroo", environment = "sandbox", baseUrl = "${mock.url}/deliveroo",
            clientId = "micrometer", clientSecret = "y-secret-mm",
        )
        ManualClock().use { clock ->
            TokenClient.builder(config).clock(clock).observer(binder).build().use { client ->
                client.tokenBlocking()
                repeat(1000) { client.tokenBlocking() }
                clock.advance(80_000)
                client.tokenBlocking()
                client.settleBlocking()
                assertEquals("m-2", client.tokenBlocking().accessToken)
                clock.advance(80_000)
                client.tokenBlocking()
                client.settleBlocking()

                val requests = "tokenwell.token.requests"
                val deadline = System.nanoTime() + 10_000_000_000L
                while (registry.find(requests).counters().sumOf { it.count() } < 3.0) {
                    check(System.nanoTime() < deadline) { "requests not counted" }
                    Thread.sleep(10)
                }
                // client: the provider (no config name).
                fun count(outcome: String, reason: String) =
                    registry.get(requests).tags("client", "deliveroo", "outcome", outcome, "reason", reason).counter().count()
                assertEquals(1.0, count("ok", "first"))
                assertEquals(1.0, count("ok", "refresh"))
                assertEquals(1.0, count("server_error", "refresh"))
                val timer = registry.get("tokenwell.token.request.duration").tags("outcome", "ok").timer()
                assertEquals(2L, timer.count())
                assertTrue(timer.totalTime(TimeUnit.SECONDS) >= 0.0)
                val hits = registry.get("tokenwell.cache.lookups").tags("result", "hit").functionCounter().count()
                assertTrue(hits >= 1000.0, "hits $hits")
                assertEquals(20.0, registry.get("tokenwell.token.remaining").gauge().value(), 0.001)
                assertEquals(1.0, registry.get("tokenwell.client.healthy").gauge().value())
                assertTrue(registry.get("tokenwell.store.breaker.state").gauge().value().isNaN())
            }
            assertNull(registry.find("tokenwell.client.healthy").gauge(), "a closed client's gauges are removed")
        }
    }
}
