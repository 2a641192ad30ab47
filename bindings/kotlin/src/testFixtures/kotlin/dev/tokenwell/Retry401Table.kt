package dev.tokenwell

import com.fasterxml.jackson.databind.JsonNode
import com.sun.net.httpserver.HttpExchange
import com.sun.net.httpserver.HttpServer
import java.io.File
import java.net.InetAddress
import java.net.InetSocketAddress
import java.time.Duration
import java.util.concurrent.ConcurrentLinkedQueue
import java.util.concurrent.CountDownLatch
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit
import java.util.stream.Stream
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNotEquals
import org.junit.jupiter.api.Assertions.assertTimeoutPreemptively
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Assertions.fail
import org.junit.jupiter.api.Assumptions
import org.junit.jupiter.api.DynamicNode
import org.junit.jupiter.api.DynamicTest

/**
 * The shared table of the 401 rule (tests/adapters/retry-401.json), run against
 * one HTTP-client adapter: the mock provider is the token endpoint, two loopback
 * API servers are "origin" and "other" (another port: another origin).
 *
 * Each adapter test class gives an [Adapter] and returns [dynamicTests] from a
 * `@TestFactory`; a case the adapter cannot express is aborted (skipped) with
 * the reason in its name and its abort message.
 */
object Retry401Table {
    /** The request body a case sends. */
    enum class Body { NONE, REPLAYABLE, ONE_SHOT }

    /** One API request: [body] is [REPLAYABLE_TEXT] for [Body.REPLAYABLE] and [Body.ONE_SHOT]. */
    data class Request(val url: String, val method: String, val body: Body)

    const val REPLAYABLE_TEXT = "{\"order\":42}"

    /** Sends one request through the library with the adapter installed; returns the status (or throws). */
    fun interface Adapter {
        fun send(tokens: TokenClient, request: Request): Int
    }

    /** Why the adapter cannot send a one-shot body, or null when it can. */
    class Options(val oneShotUnsupported: String? = null)

    private val table: JsonNode by lazy {
        val path = System.getProperty("tokenwell.adapters") ?: "../../tests/adapters/retry-401.json"
        MockProvider.JSON.readTree(File(path))
    }

    fun config(mock: MockProvider, name: String? = null) = TokenConfig(
        provider = "custom", tokenUrl = "${mock.url}/custom/token", clientId = "table-client", clientSecret = "table-secret-7",
        name = name,
    )

    private fun token(t: String) = """{"status":200,"json":{"access_token":"$t","token_type":"Bearer","expires_in":3600}}"""

    /**
     * Every case of the table and its concurrency case, against [adapter].
     * [newTokens] builds the client a case uses (a fresh one each: a cold cache);
     * by default a [TokenClient] of [config]. A client it returns is closed after the case.
     */
    fun dynamicTests(
        mock: () -> MockProvider,
        adapter: Adapter,
        options: Options = Options(),
        newTokens: (MockProvider) -> TokenClient = { TokenClient(config(it)) },
    ): Stream<DynamicNode> {
        val cases = table["cases"].map { case ->
            val name = case["name"].asText()
            val body = Body.valueOf(case["request"]["body"].asText().uppercase())
            val skip = if (body == Body.ONE_SHOT) options.oneShotUnsupported else null
            if (skip != null) {
                DynamicTest.dynamicTest("$name (skipped: $skip)") { Assumptions.abort<Unit>(skip) }
            } else {
                DynamicTest.dynamicTest(name) { bounded { runCase(mock(), case, adapter, newTokens) } }
            }
        }
        val concurrency = DynamicTest.dynamicTest("concurrent-calls-on-a-cold-cache-make-one-token-request") {
            bounded { runConcurrency(mock(), table["concurrency"], adapter, newTokens) }
        }
        return (cases + concurrency).stream().map { it as DynamicNode }
    }

    /** A hung adapter fails its case (the default test timeout does not cover dynamic tests). */
    private fun bounded(case: () -> Unit) = assertTimeoutPreemptively(Duration.ofSeconds(90)) { case() }

    private fun runCase(mock: MockProvider, case: JsonNode, adapter: Adapter, newTokens: (MockProvider) -> TokenClient) {
        mock.reset()
        val tokenEndpoint = case["token_endpoint"]
        if (tokenEndpoint != null) mock.script(MockProvider.JSON.createArrayNode().add(tokenEndpoint))
        else mock.script(token("table-1"), token("table-2"), token("table-3"))
        ApiServer().use { origin ->
            ApiServer().use { other ->
                origin.script(case["origin"], origin, other)
                case["other"]?.let { other.script(it, origin, other) }
                val body = Body.valueOf(case["request"]["body"].asText().uppercase())
                val request = Request(origin.url("/orders"), case["request"]["method"].asText(), body)
                val expect = case["expect"]
                newTokens(mock).use { tokens ->
                    val errorCode = expect["error_code"]?.asText()
                    if (errorCode != null) {
                        val thrown = try {
                            adapter.send(tokens, request)
                            null
                        } catch (e: Throwable) {
                            e
                        }
                        val cause = generateSequence(thrown) { it.cause }.filterIsInstance<TokenwellException>().firstOrNull()
                        if (cause == null) fail<Unit>("expected a TokenwellException ($errorCode) in the causes of $thrown")
                        assertEquals(errorCode, cause!!.code)
                    } else {
                        assertEquals(expect["status"].asInt(), adapter.send(tokens, request), "status")
                    }
                }
                assertEquals(expect["origin_requests"].asInt(), origin.seen.size, "origin requests")
                expect["other_requests"]?.let { assertEquals(it.asInt(), other.seen.size, "other requests") }
                assertEquals(expect["token_requests"].asInt(), mock.requestCount(), "token requests")
                val auths = origin.seen.map { it.authorization }
                assertTrue(auths.all { it != null && it.startsWith("Bearer table-") }, "origin saw the token: $auths")
                expect["tokens_differ"]?.let { differ ->
                    if (differ.asBoolean()) assertNotEquals(auths.first(), auths.last(), "the retry's token")
                    else assertEquals(1, auths.toSet().size, "one token: $auths")
                }
                // Which token each origin request carried: n is the n-th the provider issued.
                expect["origin_tokens"]?.let { tokensSeen ->
                    assertEquals(tokensSeen.map { "Bearer table-${it.asInt()}" }, auths, "the token of each origin request")
                }
                if (expect["other_saw_token"]?.asBoolean() == false) {
                    assertTrue(other.seen.all { it.authorization == null }, "the other origin saw no token")
                }
                if (expect["bodies_equal"]?.asBoolean() == true) {
                    assertTrue(origin.seen.all { it.body == REPLAYABLE_TEXT }, "bodies: ${origin.seen.map { it.body }}")
                }
            }
        }
    }

    private fun runConcurrency(mock: MockProvider, spec: JsonNode, adapter: Adapter, newTokens: (MockProvider) -> TokenClient) {
        mock.reset()
        mock.script(token("table-1"))
        // The token response takes a while: every call arrives while the one fetch is in flight.
        mock.config("""{"latency_ms":200}""")
        val calls = spec["calls"].asInt()
        val pool = Executors.newFixedThreadPool(calls)
        try {
            ApiServer().use { origin ->
                newTokens(mock).use { tokens ->
                    val start = CountDownLatch(1)
                    val results = (1..calls).map {
                        pool.submit<Int> {
                            start.await()
                            adapter.send(tokens, Request(origin.url("/orders"), "GET", Body.NONE))
                        }
                    }
                    start.countDown()
                    val statuses = results.map { it.get(60, TimeUnit.SECONDS) }
                    assertEquals(List(calls) { spec["expect"]["status"].asInt() }, statuses)
                }
                assertEquals(spec["expect"]["token_requests"].asInt(), mock.requestCount(), "token requests")
                assertEquals(calls, origin.seen.size)
                assertEquals(setOf("Bearer table-1"), origin.seen.map { it.authorization }.toSet())
            }
        } finally {
            pool.shutdownNow()
            mock.config("""{"latency_ms":0}""")
        }
    }

    /** A request the API server received. */
    class Seen(val authorization: String?, val body: String)

    /** A loopback API server answering scripted steps in order, then 200. */
    class ApiServer : AutoCloseable {
        private val server = HttpServer.create(InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0)
        private val steps = ConcurrentLinkedQueue<(HttpExchange) -> Unit>()
        val seen = ConcurrentLinkedQueue<Seen>()
        private val pool = Executors.newCachedThreadPool()

        init {
            server.executor = pool
            server.createContext("/") { ex ->
                ex.use {
                    val body = ex.requestBody.readAllBytes().toString(Charsets.UTF_8)
                    seen += Seen(ex.requestHeaders.getFirst("Authorization"), body)
                    val step = steps.poll()
                    if (step != null) step(ex) else respond(ex, 200)
                }
            }
            server.start()
        }

        fun url(path: String) = "http://127.0.0.1:${server.address.port}$path"

        fun script(steps: JsonNode, origin: ApiServer, other: ApiServer) {
            for (step in steps) {
                val redirect = step["redirect"]?.asText()
                val answer = if (redirect != null) redirectTo(if (redirect == "origin") origin else other) else status(step["status"].asInt())
                this.steps.add(answer)
            }
        }

        private fun redirectTo(target: ApiServer): (HttpExchange) -> Unit = { ex ->
            ex.responseHeaders.add("Location", target.url(ex.requestURI.path))
            respond(ex, 307)
        }

        private fun status(code: Int): (HttpExchange) -> Unit = { ex -> respond(ex, code) }

        private fun respond(ex: HttpExchange, status: Int) {
            val bytes = "status $status".toByteArray()
            ex.sendResponseHeaders(status, bytes.size.toLong())
            ex.responseBody.write(bytes)
        }

        override fun close() {
            server.stop(0)
            pool.shutdownNow()
        }
    }
}
