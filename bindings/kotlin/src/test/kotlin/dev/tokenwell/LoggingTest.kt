package dev.tokenwell

import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test
import org.slf4j.event.Level

/** The core's log records reach SLF4J (a capturing test provider here). */
class LoggingTest : WithMockProvider() {
    private val secret = "kt-log-secret-41f0c2"

    private fun config() = TokenConfig(
        provider = "deliveroo",
        environment = "sandbox",
        baseUrl = "${mock.url}/deliveroo",
        clientId = "kt-log",
        clientSecret = secret,
    )

    private fun coreEntries() = Captured.entries.filter { it.logger == TokenwellLogging.LOGGER }

    @BeforeEach
    fun clear() {
        Captured.threshold = Level.INFO
        Captured.entries.clear()
    }

    @AfterEach
    fun restore() {
        Captured.threshold = Level.INFO
    }

    @Test
    fun `a failed fetch warns through SLF4J with the code and no secret`() {
        mock.script(
            """{"status":401,"json":{"error":"invalid_client","error_description":"secret $secret is wrong"}}""",
        )
        TokenClient(config()).use { client ->
            assertEquals("slf4j", TokenwellLogging.backendName())
            assertThrows(TokenwellException.InvalidClient::class.java) { client.tokenBlocking() }
        }
        val entries = coreEntries()
        val warnings = entries.filter { it.level == Level.WARN }
        assertEquals(1, warnings.size, "$entries")
        assertTrue(warnings[0].message.contains("token fetch failed"), warnings[0].message)
        assertTrue(warnings[0].message.contains("invalid_client (HTTP 401)"), warnings[0].message)
        assertTrue(entries.none { it.level == Level.DEBUG }, "DEBUG is not enabled: $entries")
        assertTrue(Captured.entries.none { it.message.contains(secret) }, "the secret was logged")
    }

    @Test
    fun `debug records arrive when enabled, and nothing on a hit`() {
        Captured.threshold = Level.DEBUG // read when the next client is built
        mock.script("""{"status":200,"json":{"access_token":"kt-log-tok","token_type":"Bearer","expires_in":300}}""")
        TokenClient(config()).use { client ->
            assertEquals("kt-log-tok", client.tokenBlocking().accessToken)
            val debug = coreEntries().filter { it.level == Level.DEBUG }
            assertTrue(debug.any { it.message.contains("requesting a token") }, "$debug")
            assertTrue(Captured.entries.none { it.message.contains("kt-log-tok") }, "the token was logged")

            Captured.entries.clear()
            repeat(100) { client.tokenBlocking() }
            assertEquals(emptyList<Captured.Entry>(), coreEntries())
        }
        // Back at INFO: the next client tells the core, and no DEBUG crosses any more.
        Captured.threshold = Level.INFO
        mock.script("""{"status":200,"json":{"access_token":"kt-log-tok2","token_type":"Bearer","expires_in":300}}""")
        Captured.entries.clear()
        TokenClient(config()).use { client -> assertEquals("kt-log-tok2", client.tokenBlocking().accessToken) }
        assertFalse(coreEntries().any { it.level == Level.DEBUG }, "${coreEntries()}")
    }
}
