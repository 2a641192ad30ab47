package dev.tokenwell

import java.io.IOException
import okhttp3.OkHttpClient
import okhttp3.Request
import okhttp3.mockwebserver.MockResponse
import okhttp3.mockwebserver.MockWebServer
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

/** The OkHttp interceptor: MockWebServer is the API, the mock provider the token endpoint. */
class InterceptorTest : WithMockProvider() {
    private fun config() = TokenConfig(
        provider = "custom",
        tokenUrl = "${mock.url}/custom/token",
        clientId = "api-client",
        clientSecret = "api-secret-9",
    )

    private fun token(t: String) = """{"status":200,"json":{"access_token":"$t","token_type":"Bearer","expires_in":3600}}"""

    @Test
    fun `adds the header and reuses the cached token`() {
        mock.script(token("ok-1"))
        MockWebServer().use { api ->
            repeat(3) { api.enqueue(MockResponse().setBody("hello")) }
            TokenClient(config()).use { tokens ->
                val http = OkHttpClient.Builder().addInterceptor(TokenwellInterceptor(tokens)).build()
                repeat(3) {
                    http.newCall(Request.Builder().url(api.url("/orders")).build()).execute().use { resp ->
                        assertEquals(200, resp.code)
                        assertEquals("hello", resp.body!!.string())
                    }
                    assertEquals("Bearer ok-1", api.takeRequest().getHeader("Authorization"))
                }
                assertEquals(1, mock.requestCount())
            }
        }
    }

    @Test
    fun `401 invalidates and retries once with a fresh token`() {
        mock.script(token("old-1"), token("new-2"))
        MockWebServer().use { api ->
            api.enqueue(MockResponse().setResponseCode(401).setBody("expired"))
            api.enqueue(MockResponse().setBody("ok"))
            api.enqueue(MockResponse().setResponseCode(401))
            api.enqueue(MockResponse().setResponseCode(401))
            TokenClient(config()).use { tokens ->
                val http = OkHttpClient.Builder().addInterceptor(TokenwellInterceptor(tokens)).build()
                http.newCall(Request.Builder().url(api.url("/orders")).build()).execute().use { resp ->
                    assertEquals(200, resp.code)
                    assertEquals("ok", resp.body!!.string())
                }
                assertEquals("Bearer old-1", api.takeRequest().getHeader("Authorization"))
                assertEquals("Bearer new-2", api.takeRequest().getHeader("Authorization"))
                assertEquals(2, mock.requestCount())
                assertEquals("new-2", tokens.tokenBlocking().accessToken)

                // Retried only once: a second 401 is the caller's (one more token fetch, no loop).
                mock.script(token("new-3"))
                http.newCall(Request.Builder().url(api.url("/orders")).build()).execute().use { resp ->
                    assertEquals(401, resp.code)
                }
                assertEquals("Bearer new-2", api.takeRequest().getHeader("Authorization"))
                assertEquals("Bearer new-3", api.takeRequest().getHeader("Authorization"))
                assertEquals(4, api.requestCount)
                assertEquals(3, mock.requestCount())
            }
        }
    }

    @Test
    fun `a 401 from another host a redirect led to keeps the token`() {
        mock.script(token("kept-1"), token("never"))
        MockWebServer().use { api ->
            MockWebServer().use { other ->
                other.enqueue(MockResponse().setResponseCode(401))
                // The same machine under another name: another host to OkHttp.
                val elsewhere = other.url("/elsewhere").newBuilder().host("127.0.0.1").build()
                api.enqueue(MockResponse().setResponseCode(302).setHeader("Location", elsewhere.toString()))
                TokenClient(config()).use { tokens ->
                    val http = OkHttpClient.Builder().addInterceptor(TokenwellInterceptor(tokens)).build()
                    http.newCall(Request.Builder().url(api.url("/orders")).build()).execute().use { resp ->
                        assertEquals(401, resp.code)
                    }
                    assertEquals("Bearer kept-1", api.takeRequest().getHeader("Authorization"))
                    assertEquals(null, other.takeRequest().getHeader("Authorization"))
                    assertEquals(1, mock.requestCount())
                    assertEquals("kept-1", tokens.tokenBlocking().accessToken)
                }
            }
        }
    }

    @Test
    fun `token failure surfaces as IOException caused by TokenwellException`() {
        mock.script("""{"status":401,"json":{"error":"invalid_client"}}""")
        MockWebServer().use { api ->
            TokenClient(config()).use { tokens ->
                val http = OkHttpClient.Builder().addInterceptor(TokenwellInterceptor(tokens)).build()
                val e = assertThrows(IOException::class.java) {
                    http.newCall(Request.Builder().url(api.url("/orders")).build()).execute()
                }
                val cause = e.cause
                assertTrue(cause is TokenwellException.InvalidClient, "cause: $cause")
                assertEquals(0, api.requestCount)
            }
        }
    }
}
