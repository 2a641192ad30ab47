package dev.tokenwell

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

/** `issuer` instead of `tokenUrl`: the token endpoint from the mock's metadata. */
class DiscoveryTest : WithMockProvider() {
    private fun config(device: String, credentials: String = "basic") = TokenConfig(
        provider = "custom",
        issuer = "${mock.url}/$device",
        discoveryTtlSecs = 3600,
        credentials = credentials,
        clientId = "kt-client",
        clientSecret = "Kq93rY2u5t",
    )

    @Test
    fun `the token endpoint comes from the issuer's metadata, read once`() {
        TokenClient(config("discovery/rfc8414")).use { client ->
            client.tokenBlocking()
            client.invalidate(client.tokenBlocking().accessToken)
            client.tokenBlocking()
        }
        val seen = mock.requests()
        assertEquals(
            listOf(
                "/discovery/rfc8414/.well-known/openid-configuration",
                "/.well-known/oauth-authorization-server/discovery/rfc8414",
            ),
            seen["metadata"].map { it.asText() },
        )
        assertEquals(listOf("/custom/token", "/custom/token"), seen["requests"].map { it["path"].asText() })
    }

    @Test
    fun `discovery failures are typed errors`() {
        TokenClient(config("discovery/foreign")).use { client ->
            val e = assertThrows(TokenwellException.Config::class.java) { client.tokenBlocking() }
            assertTrue(e.message!!.contains("must be equal"), e.message)
        }
        TokenClient(config("discovery/post-only")).use { client ->
            val e = assertThrows(TokenwellException.Config::class.java) { client.tokenBlocking() }
            assertTrue(e.message!!.contains("client_secret_basic is not among"), e.message)
        }
        TokenClient(config("discovery/down")).use { client ->
            val e = assertThrows(TokenwellException.ServerError::class.java) { client.tokenBlocking() }
            assertEquals(500, e.status)
        }
        val both = assertThrows(TokenwellException.Config::class.java) {
            TokenClient(config("custom").copy(tokenUrl = "${mock.url}/custom/token"))
        }
        assertTrue(both.message!!.contains("issuer and token_url"), both.message)
    }
}
