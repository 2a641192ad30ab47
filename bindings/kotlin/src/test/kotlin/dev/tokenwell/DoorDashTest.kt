package dev.tokenwell

import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.util.Base64
import java.util.concurrent.CopyOnWriteArrayList
import javax.crypto.Mac
import javax.crypto.spec.SecretKeySpec

/**
 * `provider = "doordash"` through the JVM package: the core mints the JWT (no
 * token request), the JDK's own HMAC verifies it, the mock's DoorDash API route
 * accepts it, and a 401 then invalidate mints a new one.
 */
class DoorDashTest : WithMockProvider() {
    // The mock's DoorDash developer when it runs without client credentials (src/mock/doordash.rs).
    private val developerId = "tokenwell-mock-developer"
    private val keyId = "tokenwell-mock-key"
    private val signingSecret = "dG9rZW53ZWxsLW1vY2stZG9vcmRhc2gtc2lnbmluZy1zZWNyZXQ"
    private val http = HttpClient.newHttpClient()

    private fun config(signingSecret: String = this.signingSecret, assertion: TokenConfig.Assertion? = null) =
        TokenConfig(provider = "doordash", developerId = developerId, keyId = keyId,
            signingSecret = signingSecret, assertion = assertion)

    private fun call(token: String): Int = http.send(
        HttpRequest.newBuilder(URI.create("${mock.url}/doordash/drive/v2/deliveries/kt-1"))
            .header("Authorization", "Bearer $token").build(),
        HttpResponse.BodyHandlers.ofString(),
    ).statusCode()

    private fun rejectNext(n: Int) {
        val req = HttpRequest.newBuilder(URI.create("${mock.url}/__admin/doordash"))
            .POST(HttpRequest.BodyPublishers.ofString("{\"reject_next\":$n}")).build()
        assertEquals(200, http.send(req, HttpResponse.BodyHandlers.ofString()).statusCode())
    }

    @Test
    fun `the minted JWT has DoorDash's header and claims and the JDK's HMAC`() {
        TokenClient(config(assertion = TokenConfig.Assertion(lifetimeSecs = 600))).use { client ->
            val (h, c, s) = client.tokenBlocking().accessToken.split('.')
            val d = Base64.getUrlDecoder()
            val header = MockProvider.JSON.readTree(d.decode(h))
            assertEquals("HS256", header["alg"].asText())
            assertEquals("DD-JWT-V1", header["dd-ver"].asText())
            assertEquals(keyId, header["kid"].asText())
            val claims = MockProvider.JSON.readTree(d.decode(c))
            assertEquals("doordash", claims["aud"].asText())
            assertEquals(developerId, claims["iss"].asText())
            assertEquals(keyId, claims["kid"].asText())
            assertEquals(600L, claims["exp"].asLong() - claims["iat"].asLong())
            val mac = Mac.getInstance("HmacSHA256")
            mac.init(SecretKeySpec(d.decode(signingSecret), "HmacSHA256"))
            assertArrayEquals(mac.doFinal("$h.$c".toByteArray()), d.decode(s))
        }
    }

    @Test
    fun `the mock accepts it, and a 401 then invalidate mints a new one without a request`() {
        val fetched = CopyOnWriteArrayList<TokenEvent.Fetched>()
        ManualClock().use { clock ->
            TokenClient.builder(config()).clock(clock).listener { if (it is TokenEvent.Fetched) fetched.add(it) }
                .build().use { client ->
                    val token = client.tokenBlocking()
                    assertEquals(200, call(token.accessToken))
                    rejectNext(1)
                    assertEquals(401, call(token.accessToken))
                    assertTrue(client.invalidate(token))
                    assertEquals(200, call(client.tokenBlocking().accessToken))
                    client.settleBlocking()
                    val deadline = System.nanoTime() + 5_000_000_000
                    while (fetched.size < 2 && System.nanoTime() < deadline) Thread.sleep(10)
                    assertEquals(listOf(null, null), fetched.map { it.status })
                    assertEquals(listOf(1_799_000L, 1_799_000L), fetched.map { it.lifetimeMs })
                    assertEquals(0, mock.requestCount())
                }
        }
    }

    @Test
    fun `bad input names the key, never the secret`() {
        val bad = "not*base64url*secret"
        val e = assertThrows<TokenwellException> { TokenClient(config(signingSecret = bad)) }
        assertEquals("config", e.code)
        assertTrue("signing_secret" in (e.message ?: ""), e.message)
        assertFalse(bad in (e.message ?: ""), e.message)
        assertFalse(signingSecret in config().toString())
        TokenClient(config()).use { assertFalse(signingSecret in it.toString()) }
    }
}
