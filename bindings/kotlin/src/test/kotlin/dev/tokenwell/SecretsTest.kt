package dev.tokenwell

import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

/** A canary secret (and a canary token) never appear in a message or toString(). */
class SecretsTest : WithMockProvider() {
    private val canary = "CANARY-s3cr3t-7f1d9"
    private val canaryToken = "CANARY-t0ken-2b8e"

    private fun assertClean(what: String, text: String) {
        assertFalse(text.contains(canary), "$what leaks the client secret")
        assertFalse(text.contains(canaryToken), "$what leaks the access token")
    }

    private fun texts(e: Throwable): String =
        generateSequence(e) { it.cause }.joinToString("\n") { "${it.message}\n$it\n${it.stackTraceToString()}" }

    @Test
    fun `canary never in toString or exception text`() {
        mock.reset()
        val config = TokenConfig(
            provider = "custom",
            tokenUrl = "${mock.url}/custom/token",
            clientId = "canary-client",
            clientSecret = canary,
        )
        assertClean("TokenConfig.toString", config.toString())
        assertTrue(config.toString().contains("[redacted]"))
        // The JSON handed to the core does carry it (so the redaction above is real).
        assertTrue(config.toJson().contains(canary))

        // Error bodies that echo the client secret, with every kind of failure.
        val echo = "echo $canary"
        mock.script(
            """{"status":401,"json":{"error":"invalid_client","error_description":"$echo"}}""",
            """{"status":400,"json":{"error":"invalid_request","error_description":"$echo"}}""",
            """{"status":500,"body":"$echo"}""",
            """{"status":200,"body":"not json $echo"}""",
            """{"status":429,"headers":{"retry-after":"1"},"json":{"error":"slow_down","error_description":"$echo"}}""",
        )
        val errors = mutableListOf<TokenwellException>()
        ManualClock().use { clock ->
            TokenClient(config, clock).use { client ->
                assertClean("TokenClient.toString", client.toString())
                repeat(5) {
                    try {
                        client.tokenBlocking()
                    } catch (e: TokenwellException) {
                        errors += e
                    }
                    clock.advance(120_000) // past any backoff
                }
            }
        }
        assertEquals(5, errors.size, "every scripted failure surfaces")
        assertEquals(listOf("invalid_client", "invalid_request", "server_error", "malformed_response", "rate_limited"), errors.map { it.code })
        errors.forEach { assertClean("exception ${it.code}", texts(it)) }

        // Invalid configs whose error would quote the secret (the secret pasted
        // into the wrong field): the core scrubs it from the error.
        val badConfigs = listOf(
            config.copy(provider = canary),
            config.copy(tokenUrl = "http://example.com/$canary"),
            config.copy(encoding = canary),
            config.copy(extraParams = mapOf("x" to listOf(canary))),
        )
        for (bad in badConfigs) {
            val e = runCatching { TokenClient(bad).close() }.exceptionOrNull()
            assertTrue(e is TokenwellException.Config, "expected a config error, got $e")
            assertClean("config error", texts(e!!))
        }
    }

    @Test
    fun `a token URL's query values never show`() {
        val key = "CANARY-query-4c1a"
        val config = TokenConfig(
            provider = "custom",
            tokenUrl = "https://auth.example.com/token?api_key=$key&tenant=acme",
            baseUrl = "https://auth.example.com/?$key",
            clientId = "c",
            clientSecret = canary,
        )
        val shown = "https://auth.example.com/token?api_key=[redacted]&tenant=[redacted]"
        assertTrue(config.toString().contains(shown), config.toString())
        assertTrue(config.toString().contains("baseUrl=https://auth.example.com/?[redacted]"), config.toString())
        assertFalse(config.toString().contains(key), config.toString())
        TokenClient(config.copy(baseUrl = null)).use { client ->
            assertTrue(client.toString().contains(shown), client.toString())
            assertFalse(client.toString().contains(key), client.toString())
        }
    }

    @Test
    fun `tokens are redacted in toString`() {
        mock.reset()
        mock.script("""{"status":200,"json":{"access_token":"$canaryToken","token_type":"Bearer","expires_in":300}}""")
        val config = TokenConfig(provider = "custom", tokenUrl = "${mock.url}/custom/token", clientId = "c", clientSecret = canary)
        TokenClient(config).use { client ->
            val token = runBlocking { client.token() }
            assertEquals(canaryToken, token.accessToken)
            assertEquals("Bearer $canaryToken", token.authorizationHeader)
            assertClean("AccessToken.toString", token.toString())
            assertClean("TokenClient.toString", client.toString())
        }
        // The generated record the core answers with (what a logged lease would show).
        mock.script("""{"status":200,"json":{"access_token":"$canaryToken","token_type":"Bearer","expires_in":300}}""")
        dev.tokenwell.internal.ffi.CoreClient(ConfigJson.utf8(config), null, null).use { core ->
            val lease = core.leaseBlocking()
            assertEquals(canaryToken, lease.accessToken.value)
            assertClean("CoreLease.toString", lease.toString())
        }
    }
}
