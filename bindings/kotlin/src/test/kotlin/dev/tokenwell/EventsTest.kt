package dev.tokenwell

import dev.tokenwell.internal.ffi.CoreErrorInfo
import dev.tokenwell.internal.ffi.CoreEvent
import dev.tokenwell.internal.ffi.eventKinds
import dev.tokenwell.internal.ffi.metricKinds
import java.io.File
import java.lang.reflect.Modifier
import java.util.concurrent.CompletableFuture
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

/** The event listener, its table, status() and what a listener may do to the JVM. */
class EventsTest : WithMockProvider() {
    private fun config() = TokenConfig(
        provider = "deliveroo", environment = "sandbox", baseUrl = "${mock.url}/deliveroo",
        clientId = "events", clientSecret = "y-secret-events",
    )

    private fun tokenResponse(token: String, expiresIn: Int = 300, delayMs: Int = 0) =
        """{"status":200,"json":{"access_token":"$token","token_type":"Bearer","expires_in":$expiresIn},"delay_ms":$delayMs}"""

    private val unavailable = """{"status":503,"json":{"error":"temporarily_unavailable"}}"""

    private fun snake(name: String) = name.replace(Regex("([A-Z])")) { "_" + it.value.lowercase() }

    /** Polls [done] for up to 10 s. */
    private fun eventually(what: String, done: () -> Boolean) {
        val deadline = System.nanoTime() + 10_000_000_000L
        while (!done()) {
            check(System.nanoTime() < deadline) { "timed out waiting for $what" }
            Thread.sleep(10)
        }
    }

    @Test
    fun `every delivered event of the core's table is a TokenEvent with the same fields`() {
        val table = eventKinds().associate { it.name to it.fields.toSet() }
        assertTrue(table.size >= 9, "table read: $table")
        // hit and miss are counted (lookups()), never delivered.
        val delivered = table - setOf("hit", "miss")
        val classes = TokenEvent::class.java.declaredClasses.filter { TokenEvent::class.java.isAssignableFrom(it) }
        val fromKotlin = classes.associate { cls ->
            snake(cls.simpleName).removePrefix("_") to cls.declaredFields
                .filter { !Modifier.isStatic(it.modifiers) && !it.isSynthetic && it.name != "atUnixMs" }
                .map { snake(it.name) }.toSet()
        }
        assertEquals(delivered, fromKotlin)
        // And each record of the core becomes the class of its name.
        for (name in delivered.keys) {
            val record = CoreEvent(name, 1uL, "first", "won", null, 5uL, false, 7uL, 200u.toUShort(),
                CoreErrorInfo("server_error", 503u.toUShort(), "d"), 3uL, 42L)
            val event = TokenEvent.of(record)
            assertNotNull(event, name)
            assertEquals(name, event!!.name)
            assertEquals(name, snake(event.javaClass.simpleName).removePrefix("_"))
            assertEquals(42L, event.atUnixMs)
        }
    }

    @Test
    fun `the metrics the binding feeds are the core's table`() {
        val table = metricKinds()
        assertEquals(table.map { it.name }.toSet(), Metric.entries.map { it.metricName }.toSet())
        // Every attribute of the table is one the binding gives a value.
        val given = setOf("client", "outcome", "reason", "result")
        for (row in table) assertTrue(given.containsAll(row.attributes), "${row.name}: ${row.attributes}")
        for (m in Metric.entries) assertEquals(m.metricName, m.row.name)
    }

    @Test
    fun `a listener sees a fetch's events in order, off the caller's thread`() {
        mock.script(tokenResponse("ev-1"))
        val events = CopyOnWriteArrayList<Pair<TokenEvent, String>>()
        TokenClient.builder(config()).listener { events += it to Thread.currentThread().name }.build().use { client ->
            assertEquals("ev-1", client.tokenBlocking().accessToken)
            eventually("fetched") { events.any { it.first is TokenEvent.Fetched } }
            val started = events[0].first as TokenEvent.FetchStarted
            val fetched = events[1].first as TokenEvent.Fetched
            assertEquals("first", started.reason)
            assertEquals(started.fetchId, fetched.fetchId)
            assertEquals(200, fetched.status)
            assertEquals("first", fetched.reason)
            assertFalse(fetched.fromStore)
            assertTrue(fetched.lifetimeMs in 1..300_000, "$fetched")
            // Delivered on tokenwell's event thread (JNA attaches it for each call), never the caller's.
            val caller = Thread.currentThread().name
            assertTrue(events.none { it.second == caller }, "$events")
            repeat(10) { client.tokenBlocking() }
            val lookups = client.lookups()
            assertEquals(10L, lookups.hits, "$lookups")
            assertEquals(1L, lookups.misses)
        }
    }

    @Test
    fun `a listener that throws is logged once by class name and ignored`() {
        Captured.entries.clear()
        mock.script(tokenResponse("th-1"), tokenResponse("th-2"))
        val seen = CopyOnWriteArrayList<TokenEvent>()
        TokenClient.builder(config())
            .listener { throw IllegalStateException("canary-message-y-secret") }
            .listener { seen += it }
            .build().use { client ->
                assertEquals("th-1", client.tokenBlocking().accessToken)
                client.invalidate("th-1")
                assertEquals("th-2", client.tokenBlocking().accessToken)
                eventually("4 events") { seen.size >= 4 }
            }
        val warnings = Captured.entries.filter { "threw" in it.message }
        assertEquals(1, warnings.size, "$warnings")
        assertTrue("java.lang.IllegalStateException" in warnings[0].message, warnings[0].message)
        assertTrue(Captured.entries.none { "canary-message" in it.message })
    }

    @Test
    fun `a listener may ask the client for a token`() {
        mock.script(tokenResponse("re-1"))
        val got = CompletableFuture<String>()
        lateinit var client: TokenClient
        client = TokenClient.builder(config()).listener { e ->
            if (e is TokenEvent.Fetched) got.complete(client.tokenBlocking().accessToken)
        }.build()
        client.use {
            assertEquals("re-1", it.tokenBlocking().accessToken)
            assertEquals("re-1", got.get(10, TimeUnit.SECONDS))
        }
    }

    @Test
    fun `a listener blocked for 10 s leaves fetches unaffected, and a full queue drops and counts`() {
        mock.script(tokenResponse("bl-1", expiresIn = 100), tokenResponse("bl-2", expiresIn = 100))
        val gate = CountDownLatch(1)
        val blocked = CountDownLatch(1)
        ManualClock().use { clock ->
            TokenClient.builder(config()).clock(clock).listener {
                blocked.countDown()
                gate.await(10, TimeUnit.SECONDS)
            }.build().use { client ->
                try {
                    val started = System.nanoTime()
                    assertEquals("bl-1", client.tokenBlocking().accessToken)
                    assertTrue(blocked.await(5, TimeUnit.SECONDS), "the listener never ran")
                    // Refresh ahead at 80 s while the listener is stuck.
                    clock.advance(80_000)
                    assertEquals("bl-1", client.tokenBlocking().accessToken)
                    client.settleBlocking()
                    assertEquals("bl-2", client.tokenBlocking().accessToken)
                    val elapsedMs = (System.nanoTime() - started) / 1_000_000
                    assertTrue(elapsedMs < 2_000, "fetches took $elapsedMs ms behind a blocked listener")
                    assertEquals(2, mock.requestCount())
                    // Past the queue's 4096 events, new ones are dropped and counted.
                    var n = 0
                    while (client.lookups().dropped == 0L && n < 3_000) {
                        client.invalidate(client.tokenBlocking())
                        n++
                    }
                    assertTrue(client.lookups().dropped > 0, "nothing dropped after $n fetches")
                } finally {
                    gate.countDown()
                }
            }
        }
    }

    @Test
    fun `status tells up, degraded and down without I O`() {
        mock.script(tokenResponse("st-1", expiresIn = 100), unavailable, unavailable, unavailable, unavailable)
        ManualClock().use { clock ->
            TokenClient.builder(config()).clock(clock).build().use { client ->
                val idle = client.status()
                assertEquals(TokenHealth.IDLE, idle.health)
                assertTrue(idle.healthy)
                assertNull(idle.tokenExpiresInMs)
                client.tokenBlocking()
                val up = client.status()
                assertEquals(TokenHealth.UP, up.health)
                assertTrue(up.tokenUsable)
                assertEquals(100_000L, up.tokenExpiresInMs)
                // The refresh fails: still serving the token, a warning.
                clock.advance(80_000)
                assertEquals("st-1", client.tokenBlocking().accessToken)
                client.settleBlocking()
                val degraded = client.status()
                assertEquals(TokenHealth.DEGRADED, degraded.health, "$degraded")
                assertTrue(degraded.healthy)
                assertEquals("server_error", degraded.lastError?.code)
                assertEquals(503, degraded.lastError?.status)
                assertEquals(20_000L, degraded.tokenExpiresInMs)
                // Past the token's usable life, with the endpoint still failing: down.
                clock.advance(60_000)
                assertThrows(TokenwellException::class.java) { client.tokenBlocking() }
                val down = client.status()
                assertEquals(TokenHealth.DOWN, down.health, "$down")
                assertFalse(down.healthy)
                assertFalse(down.tokenUsable)
                assertTrue("y-secret" !in down.toString())
            }
        }
    }

    @Test
    fun `a JVM whose client has a listener exits when main returns`() = exitProbe(System.getProperty("java.class.path"))

    @Test
    fun `listeners need neither OpenTelemetry nor Micrometer on the class path`() {
        val path = System.getProperty("java.class.path").split(File.pathSeparator)
        val without = path.filter { "opentelemetry" !in it && "micrometer" !in it }
        assertTrue(without.size < path.size, "the test class path has OpenTelemetry: $path")
        exitProbe(without.joinToString(File.pathSeparator))
    }

    private fun exitProbe(classPath: String) {
        val p = ProcessBuilder(
            File(System.getProperty("java.home"), "bin/java").path,
            "-cp", classPath,
            "dev.tokenwell.probe.ListenerExitProbe", mock.url,
        ).redirectErrorStream(true).start()
        val exited = p.waitFor(30, TimeUnit.SECONDS)
        if (!exited) p.destroyForcibly()
        val out = p.inputStream.bufferedReader().readText()
        assertTrue(exited, "the JVM did not exit: $out")
        assertEquals(0, p.exitValue(), out)
        assertTrue("events: fetch_started,fetched" in out, out)
    }
}
