package dev.tokenwell

import java.net.http.HttpClient
import java.util.concurrent.atomic.AtomicInteger
import okhttp3.OkHttpClient
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

/** The application's own HTTP client as the transport (the fault catalogue and the vectors through it are in FaultsTest and VectorsTest). */
class TransportTest : WithMockProvider() {
    private fun config() = TokenConfig(
        provider = "custom",
        tokenUrl = "${mock.url}/custom/token",
        clientId = "x",
        clientSecret = "y-secret-own-client",
        credentials = "basic",
    )

    @Test
    fun `a client that follows redirects is refused, naming why and never the secret`() {
        val java = assertThrows(TokenwellException.Config::class.java) {
            TokenClient.builder(config()).javaHttpClient(HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL).build())
        }
        assertTrue(java.message!!.contains("follows redirects"), java.message)
        // OkHttp follows them by default.
        val ok = assertThrows(TokenwellException.Config::class.java) { TokenClient.builder(config()).okHttpClient(OkHttpClient()) }
        assertTrue(ok.message!!.contains("followRedirects(false)"), ok.message)
        assertFalse("y-secret" in ok.message!! || "y-secret" in java.message!!)
    }

    @Test
    fun `the interceptors see the one token request, and a cache hit never reaches the client`() {
        val seen = AtomicInteger()
        var authorization: String? = null
        val okHttp = OkHttpClient.Builder().followRedirects(false).followSslRedirects(false)
            .addInterceptor { chain ->
                seen.incrementAndGet()
                authorization = chain.request().header("authorization")
                chain.proceed(chain.request())
            }.build()
        TokenClient.builder(config()).okHttpClient(okHttp).build().use { client ->
            repeat(50) { client.tokenBlocking() }
        }
        assertEquals(1, seen.get())
        assertTrue(authorization!!.startsWith("Basic "), "the secret goes in the Authorization header")
        assertEquals(1, mock.requests()["requests"].size())
    }
}
