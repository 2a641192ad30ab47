package dev.tokenwell.spring

import dev.tokenwell.Retry401Table
import dev.tokenwell.TokenClient
import io.micrometer.core.instrument.MeterRegistry
import java.util.concurrent.CountDownLatch
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit
import java.util.stream.Stream
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertSame
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.DynamicNode
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestFactory
import org.junit.jupiter.api.TestInstance
import org.springframework.beans.factory.annotation.Autowired
import org.springframework.beans.factory.annotation.Qualifier
import org.springframework.boot.test.context.SpringBootTest
import org.springframework.boot.test.web.server.LocalServerPort
import org.springframework.http.HttpMethod
import org.springframework.http.client.ClientHttpResponse
import org.springframework.http.client.JdkClientHttpRequestFactory
import org.springframework.web.client.ResponseErrorHandler
import org.springframework.test.context.DynamicPropertyRegistry
import org.springframework.test.context.DynamicPropertySource
import org.springframework.web.client.RestClient
import org.springframework.web.client.RestTemplate

/**
 * The servlet stack: one Boot context for the whole class. RestClient and
 * RestTemplate over the JDK HttpClient factory, which does not follow redirects
 * (the interceptor follows them itself).
 */
@SpringBootTest(
    classes = [TestApp::class],
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = [
        "spring.main.web-application-type=servlet",
        "management.endpoints.web.exposure.include=health",
        "management.endpoint.health.show-details=always",
        "management.endpoint.health.show-components=always",
        "management.endpoint.health.probes.enabled=true",
    ],
)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ServletStarterTest {
    companion object {
        @JvmStatic
        @DynamicPropertySource
        fun props(registry: DynamicPropertyRegistry) = SharedMock.properties(registry)
    }

    private val mock get() = SharedMock.mock

    @Autowired lateinit var clients: TokenwellClients

    @Autowired @Qualifier("orders") lateinit var orders: TokenClient

    @Autowired lateinit var registry: MeterRegistry

    @LocalServerPort var port: Int = 0

    private fun restClient(tokens: TokenClient) =
        RestClient.builder().requestFactory(JdkClientHttpRequestFactory()).requestInterceptor(TokenwellRestInterceptor(tokens)).build()

    private val bufferedBody = Retry401Table.Options(
        oneShotUnsupported = "RestClient and RestTemplate hand interceptors a buffered byte[] body: never one-shot",
    )

    @TestFactory
    fun restClientTable(): Stream<DynamicNode> = Retry401Table.dynamicTests({ mock }, { tokens, r ->
        val spec = restClient(tokens).method(HttpMethod.valueOf(r.method)).uri(r.url)
        if (r.body != Retry401Table.Body.NONE) spec.body(Retry401Table.REPLAYABLE_TEXT)
        spec.exchange { _, response -> response.statusCode.value() }!!
    }, bufferedBody, SharedMock::fresh)

    @TestFactory
    fun restTemplateTable(): Stream<DynamicNode> = Retry401Table.dynamicTests({ mock }, { tokens, r ->
        val template = RestTemplate(JdkClientHttpRequestFactory())
        template.interceptors.add(TokenwellRestInterceptor(tokens))
        // The status is the table's to check: no exception for a 4xx.
        template.errorHandler = object : ResponseErrorHandler {
            override fun hasError(response: ClientHttpResponse) = false
        }
        template.execute(r.url, HttpMethod.valueOf(r.method), { req ->
            if (r.body != Retry401Table.Body.NONE) req.body.write(Retry401Table.REPLAYABLE_TEXT.toByteArray())
        }, { resp -> resp.statusCode.value() })!!
    }, bufferedBody, SharedMock::fresh)

    @Test
    fun `one client bean per name, bound from kebab-case keys and a real environment variable`() {
        assertEquals(setOf("cold", "orders"), clients.names)
        assertSame(orders, clients.client("orders"))
        assertEquals("orders", orders.name, "the client name is the metrics' client attribute")
        assertEquals("secret-from-env-5", System.getenv("TOKENWELL_CLIENTS_ORDERS_CLIENTSECRET"))
        mock.reset()
        mock.script(SharedMock.token("bound-1"))
        orders.invalidate(orders.tokenBlocking())
        mock.reset()
        mock.script(SharedMock.token("bound-2"))
        assertEquals("bound-2", orders.tokenBlocking().accessToken)
        val seen = mock.requests()["requests"][0].toString()
        assertTrue(seen.contains("orders-kebab-id"), "client-id bound")
        // In the body, or in HTTP Basic credentials, whichever the provider uses.
        val basic = java.util.Base64.getEncoder().encodeToString("orders-kebab-id:secret-from-env-5".toByteArray())
        assertTrue(seen.contains("secret-from-env-5") || seen.contains(basic), "client secret from the environment")
    }

    @Test
    fun `64 concurrent RestClient calls on a cold client make one token request`() {
        mock.reset()
        mock.script(SharedMock.token("cold-1"))
        mock.config("""{"latency_ms":200}""")
        val pool = Executors.newFixedThreadPool(64)
        try {
            Retry401Table.ApiServer().use { api ->
                val http = RestClient.builder().requestFactory(JdkClientHttpRequestFactory()).requestInterceptor(clients.interceptor("cold")).build()
                val start = CountDownLatch(1)
                val calls = (1..64).map {
                    pool.submit<Int> {
                        start.await()
                        http.get().uri(api.url("/orders")).exchange { _, resp -> resp.statusCode.value() }!!
                    }
                }
                start.countDown()
                assertEquals(List(64) { 200 }, calls.map { it.get(60, TimeUnit.SECONDS) })
                assertEquals(1, mock.requestCount())
                assertEquals(setOf("Bearer cold-1"), api.seen.map { it.authorization }.toSet())
            }
        } finally {
            pool.shutdownNow()
            mock.config("""{"latency_ms":0}""")
        }
    }

    @Test
    fun `health per client, outside the liveness and readiness groups, and metrics under the client name`() {
        mock.reset()
        mock.script(SharedMock.token("health-1"))
        clients.client("orders").tokenBlocking()
        val (status, body) = SharedMock.get("http://127.0.0.1:$port/actuator/health/tokenwell/orders")
        assertEquals(200, status, body)
        assertTrue(body.contains("\"status\":\"UP\""), body)
        assertTrue(body.contains("\"tokenUsable\":true"), body)
        assertFalse(body.contains("health-1"), "no token in the health details")
        for (group in listOf("liveness", "readiness")) {
            val (_, probe) = SharedMock.get("http://127.0.0.1:$port/actuator/health/$group")
            assertFalse(probe.contains("tokenwell"), "$group: $probe")
        }
        assertEquals(1.0, registry.get("tokenwell.client.healthy").tag("client", "orders").gauge().value())
    }
}
