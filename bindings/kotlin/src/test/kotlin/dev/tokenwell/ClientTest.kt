package dev.tokenwell

import java.time.Duration
import java.util.concurrent.CyclicBarrier
import java.util.concurrent.atomic.AtomicReference
import kotlin.concurrent.thread
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotEquals
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Assertions.assertTimeoutPreemptively
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

class ClientTest : WithMockProvider() {
    private fun config() = TokenConfig(
        provider = "deliveroo",
        environment = "sandbox",
        baseUrl = "${mock.url}/deliveroo",
        clientId = "x",
        clientSecret = "y-secret-1",
    )

    private fun tokenResponse(token: String, delayMs: Int = 0, expiresIn: Int = 300) =
        """{"status":200,"json":{"access_token":"$token","token_type":"Bearer","expires_in":$expiresIn},"delay_ms":$delayMs}"""

    @Test
    fun `a ManualClock without a time starts where it does in every language`() {
        ManualClock().use { clock ->
            assertEquals(1_767_225_600_000L, clock.unixMs()) // 2026-01-01T00:00:00Z
            assertEquals(0L, clock.nowMs())
        }
        ManualClock(5).use { assertEquals(5L, it.unixMs()) }
    }

    @Test
    fun `a client from the core's config JSON, whose unknown keys the core names`() {
        mock.script(tokenResponse("from-json"))
        val json = """{"provider":"deliveroo","environment":"sandbox","base_url":"${mock.url}/deliveroo",""" +
            """"client_id":"x","client_secret":"y-secret-1","name":"orders"}"""
        TokenClient.builderFromJson(json).build().use { client ->
            assertEquals("from-json", client.tokenBlocking().accessToken)
            assertEquals("orders", client.name)
        }
        val e = assertThrows(TokenwellException.Config::class.java) {
            TokenClient.builderFromJson(json.replace("\"name\"", "\"colour\"")).build()
        }
        assertTrue(e.message!!.contains("colour"), e.message)
        assertFalse(e.message!!.contains("y-secret-1"))
    }

    @Test
    fun `suspend calls return on an unconfined coroutine`() {
        // Without a dispatcher of its own, a coroutine resumes inside the core's
        // wake-up callback, and a poll of the core's future from there deadlocks.
        mock.script(tokenResponse("unconfined", delayMs = 200))
        TokenClient(config()).use { client ->
            assertTimeoutPreemptively(Duration.ofSeconds(20)) {
                runBlocking(Dispatchers.Unconfined) {
                    assertEquals("unconfined", client.token().accessToken)
                    client.invalidate("unconfined")
                    mock.script(tokenResponse("unconfined-2", delayMs = 200))
                    assertEquals("unconfined-2", client.token().accessToken)
                    client.settle()
                }
            }
        }
    }

    @Test
    fun `64 threads on a cold cache make exactly one request`() {
        mock.script(tokenResponse("cold-threads", delayMs = 200))
        TokenClient(config()).use { client ->
            val barrier = CyclicBarrier(64)
            val results = arrayOfNulls<String>(64)
            val failure = AtomicReference<Throwable>()
            val threads = (0 until 64).map { i ->
                thread {
                    try {
                        barrier.await()
                        results[i] = client.tokenBlocking().accessToken
                    } catch (e: Throwable) {
                        failure.compareAndSet(null, e)
                    }
                }
            }
            threads.forEach { it.join() }
            failure.get()?.let { throw it }
            assertEquals(List(64) { "cold-threads" }, results.toList())
            assertEquals(1, mock.requestCount())
        }
    }

    @Test
    fun `1000 coroutines on a cold cache make exactly one request`() {
        mock.script(tokenResponse("cold-coroutines", delayMs = 200))
        TokenClient(config()).use { client ->
            val tokens = runBlocking(Dispatchers.Default) {
                (0 until 1000).map { async { client.token().accessToken } }.awaitAll()
            }
            assertEquals(List(1000) { "cold-coroutines" }, tokens)
            assertEquals(1, mock.requestCount())
            // And the header twins agree, from the cache.
            assertEquals("Bearer cold-coroutines", runBlocking { client.authorizationHeader() })
            assertEquals("Bearer cold-coroutines", client.authorizationHeaderBlocking())
            assertEquals(1, mock.requestCount())
        }
    }

    @Test
    fun `memo never outlives the core's lease and invalidate clears it`() {
        // refresh at 80 % of 100 s = 80 s; skew 10 s: usable until 90 s.
        mock.script(tokenResponse("m-1", expiresIn = 100), tokenResponse("m-2", expiresIn = 100), tokenResponse("m-3", expiresIn = 100))
        ManualClock().use { clock ->
            TokenClient(config(), clock).use { client ->
                assertEquals("m-1", client.tokenBlocking().accessToken)
                clock.advance(79_999)
                assertEquals("m-1", client.tokenBlocking().accessToken)
                assertEquals(1, mock.requestCount())
                clock.advance(1)
                // Refresh ahead: the current token, and one background request.
                assertEquals("m-1", client.tokenBlocking().accessToken)
                client.settleBlocking()
                assertEquals(2, mock.requestCount())
                assertEquals("m-2", client.tokenBlocking().accessToken)
                assertFalse(client.invalidate("m-1"))
                assertTrue(client.invalidate(client.tokenBlocking()))
                assertEquals("m-3", client.tokenBlocking().accessToken)
                assertEquals(3, mock.requestCount())
            }
        }
    }

    @Test
    fun `errors are typed with stable codes`() {
        mock.script("""{"status":401,"json":{"error":"invalid_client","error_description":"bad"}}""")
        TokenClient(config()).use { client ->
            val e = assertThrows(TokenwellException::class.java) { client.tokenBlocking() }
            assertTrue(e is TokenwellException.InvalidClient, "got $e")
            assertEquals("invalid_client", e.code)
            assertEquals(401, e.status)
            assertTrue(e.isCredentialError)
        }
        val bad = assertThrows(TokenwellException.Config::class.java) {
            TokenClient(config().copy(provider = "nope"))
        }
        assertEquals("config", bad.code)
        assertEquals(null, bad.status)
    }

    @Test
    fun `shared store shares one token between clients`() {
        mock.script(tokenResponse("shared-1"))
        MemoryStore().use { store ->
            TokenClient(config(), store = store).use { a ->
                TokenClient(config(), store = store).use { b ->
                    assertEquals("shared-1", a.tokenBlocking().accessToken)
                    assertEquals("shared-1", b.tokenBlocking().accessToken)
                    assertEquals(1, mock.requestCount())
                }
            }
        }
    }

    @Test
    fun `closed client refuses calls`() {
        mock.script(tokenResponse("closed-1"))
        val client = TokenClient(config())
        assertEquals("closed-1", client.tokenBlocking().accessToken)
        client.close()
        assertThrows(IllegalStateException::class.java) { client.tokenBlocking() }
        assertNotEquals("", client.toString())
    }
}
