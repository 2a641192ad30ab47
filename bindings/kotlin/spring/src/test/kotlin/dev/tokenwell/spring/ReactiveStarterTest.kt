package dev.tokenwell.spring

import dev.tokenwell.Retry401Table
import dev.tokenwell.TokenClient
import java.time.Duration
import java.util.concurrent.CompletableFuture
import java.util.concurrent.TimeUnit
import java.util.stream.Stream
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.DynamicNode
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestFactory
import org.junit.jupiter.api.TestInstance
import org.springframework.beans.factory.annotation.Autowired
import org.springframework.boot.test.context.SpringBootTest
import org.springframework.http.HttpMethod
import org.springframework.http.client.reactive.ReactorClientHttpConnector
import org.springframework.test.context.DynamicPropertyRegistry
import org.springframework.test.context.DynamicPropertySource
import org.springframework.web.reactive.function.client.WebClient
import reactor.core.publisher.Flux
import reactor.core.scheduler.Schedulers

/**
 * The reactive stack: one Boot context for the whole class. WebClient over
 * Reactor Netty, which does not follow redirects by default (the filter
 * follows them itself).
 */
@SpringBootTest(
    classes = [TestApp::class],
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = ["spring.main.web-application-type=reactive"],
)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ReactiveStarterTest {
    companion object {
        @JvmStatic
        @DynamicPropertySource
        fun props(registry: DynamicPropertyRegistry) = SharedMock.properties(registry)
    }

    private val mock get() = SharedMock.mock

    @Autowired lateinit var clients: TokenwellClients

    private fun webClient(filter: org.springframework.web.reactive.function.client.ExchangeFilterFunction) =
        WebClient.builder().clientConnector(ReactorClientHttpConnector()).filter(filter).build()

    @TestFactory
    fun webClientTable(): Stream<DynamicNode> = Retry401Table.dynamicTests({ mock }, { tokens, r ->
        val spec = webClient(TokenwellExchangeFilter(tokens)).method(HttpMethod.valueOf(r.method)).uri(r.url)
        val sent = if (r.body != Retry401Table.Body.NONE) spec.bodyValue(Retry401Table.REPLAYABLE_TEXT) else spec
        sent.exchangeToMono { resp -> resp.releaseBody().thenReturn(resp.statusCode().value()) }.block(Duration.ofSeconds(30))!!
    }, Retry401Table.Options(oneShotUnsupported = "WebClient bodies are BodyInserters it writes again on each exchange: no one-shot body"), SharedMock::fresh)

    /**
     * BlockHound is not served here: the equivalent check. Every call is
     * subscribed on one Reactor non-blocking thread while the token endpoint
     * takes 500 ms; a task queued on that same thread meanwhile must run at
     * once. Had the filter waited for the token on the thread, it would run
     * only after the fetch. Then the 64 calls made one token request.
     */
    @Test
    fun `64 WebClient calls on one non-blocking thread never block it and make one token request`() {
        mock.reset()
        mock.script(SharedMock.token("cold-1"))
        mock.config("""{"latency_ms":500}""")
        val loop = Schedulers.newParallel("nonblocking-probe", 1)
        try {
            Retry401Table.ApiServer().use { api ->
                val http = webClient(clients.filter("cold"))
                val onNonBlocking = CompletableFuture<Boolean>()
                val statuses = Flux.range(1, 64)
                    .doOnSubscribe { onNonBlocking.complete(Schedulers.isInNonBlockingThread()) }
                    .flatMap({ http.get().uri(api.url("/orders")).exchangeToMono { r -> r.releaseBody().thenReturn(r.statusCode().value()) } }, 64)
                    .subscribeOn(loop)
                    .collectList()
                    .toFuture()
                // Let the calls reach the token fetch, then probe the thread they were made on.
                Thread.sleep(100)
                val queued = System.nanoTime()
                val ranAfterMs = CompletableFuture<Long>()
                loop.schedule { ranAfterMs.complete((System.nanoTime() - queued) / 1_000_000) }
                val waited = ranAfterMs.get(10, TimeUnit.SECONDS)
                assertTrue(onNonBlocking.get(10, TimeUnit.SECONDS), "subscribed on a Reactor non-blocking thread")
                assertTrue(waited < 200, "the non-blocking thread was held $waited ms during the token fetch")
                assertEquals(List(64) { 200 }, statuses.get(60, TimeUnit.SECONDS))
                assertEquals(1, mock.requestCount())
                assertEquals(setOf("Bearer cold-1"), api.seen.map { it.authorization }.toSet())
            }
        } finally {
            loop.dispose()
            mock.config("""{"latency_ms":0}""")
        }
    }

    @Test
    fun `the filter surfaces a token failure as the Mono's error and sends nothing`() {
        mock.reset()
        mock.script("""{"status":401,"json":{"error":"invalid_client"}}""")
        TokenClient(Retry401Table.config(mock)).use { tokens ->
            Retry401Table.ApiServer().use { api ->
                val error = runCatching {
                    webClient(TokenwellExchangeFilter(tokens)).get().uri(api.url("/x")).retrieve().toBodilessEntity().block(Duration.ofSeconds(10))
                }.exceptionOrNull()
                assertTrue(generateSequence(error) { it.cause }.any { it is dev.tokenwell.TokenwellException.InvalidClient }, "$error")
                assertEquals(0, api.seen.size)
            }
        }
    }
}
