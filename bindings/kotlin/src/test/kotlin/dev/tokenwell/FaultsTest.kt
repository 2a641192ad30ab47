package dev.tokenwell

import com.fasterxml.jackson.databind.JsonNode
import com.fasterxml.jackson.databind.node.ObjectNode
import java.io.File
import java.util.concurrent.CompletableFuture
import java.util.concurrent.TimeUnit
import java.util.concurrent.TimeoutException
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Assertions.fail
import org.junit.jupiter.api.DynamicTest
import org.junit.jupiter.api.TestFactory

/**
 * Runs every fault of tests/faults/catalogue.json through the public Kotlin API
 * against the mock provider: the error code, status and retryAfterMs, the time
 * tokenBlocking() took, the paths the mock saw, and that no error text or SLF4J
 * record holds any form of the secret. Same checks as tests/faults.rs.
 */
class FaultsTest : WithMockProvider() {
    private val catalogue: JsonNode =
        MockProvider.JSON.readTree(File(System.getProperty("tokenwell.faults") ?: "../../tests/faults/catalogue.json"))
    private val forbidden: List<String> = catalogue["forbidden"].map { it.asText() }

    @TestFactory
    fun everyFault(): List<DynamicTest> = listOf(null, "okhttp", "java.net.http").flatMap { own ->
        catalogue["faults"].map { entry ->
            DynamicTest.dynamicTest(entry["name"].asText() + (own?.let { " ($it)" } ?: "")) {
                mock.reset()
                run(entry, own)
            }
        }
    }

    private fun client(config: TokenConfig, own: String?): TokenClient = when (own) {
        null -> TokenClient(config)
        "okhttp" -> TokenClient.builder(config).okHttpClient(VectorsTest.OWN_OKHTTP).build()
        else -> TokenClient.builder(config).javaHttpClient(VectorsTest.OWN_JAVA_HTTP).build()
    }

    private fun run(entry: JsonNode, own: String?) {
        val known = setOf("name", "what", "config", "script", "expect_error", "max_ms", "min_ms", "paths")
        entry.fieldNames().forEach { check(it in known) { "unknown key $it" } }
        val fault = VectorsTest.substitute(entry, mock.url)
        val config = VectorsTest.substitute(catalogue["config"], mock.url) as ObjectNode
        fault["config"]?.properties()?.forEach { (key, value) -> config.set<JsonNode>(key, value) }
        val logged = Captured.entries.size
        client(VectorsTest.toConfig(config), own).use { client ->
            mock.script(fault["script"])
            val started = System.nanoTime()
            val got = outcome(client)
            val error = got as? TokenwellException ?: fail<Nothing>("expected a TokenwellException, got ${got::class.simpleName}")
            val ms = (System.nanoTime() - started) / 1_000_000

            val text = "${error.message} $error ${error.detail} ${error.stackTraceToString()}"
            val leaks = forbidden.indices.filter { text.contains(forbidden[it]) }
            assertTrue(leaks.isEmpty(), "error text leaks secret forms $leaks")
            val logs = Captured.entries.drop(logged).joinToString("\n") { it.message }
            val logLeaks = forbidden.indices.filter { logs.contains(forbidden[it]) }
            assertTrue(logLeaks.isEmpty(), "a log record leaks secret forms $logLeaks")
            val want = fault["expect_error"]
            assertEquals(
                listOf(want["code"].asText(), want["status"].takeUnless { it.isNull }?.asInt(),
                    want["retry_after_ms"].takeUnless { it.isNull }?.asLong()),
                listOf(error.code, error.status, error.retryAfterMs),
                "code, status, retryAfterMs",
            )
            val minMs = fault.path("min_ms").asLong(0)
            val maxMs = fault["max_ms"].asLong()
            assertTrue(ms in minMs..maxMs, "took $ms ms, not within $minMs..$maxMs")
            assertEquals(fault["paths"].map { it.asText() }, mock.requests()["requests"].map { it["path"].asText() })
        }
    }

    /** What tokenBlocking() returned or threw; a call still running after 10 s has hung. */
    private fun outcome(client: TokenClient): Any {
        val call = CompletableFuture.supplyAsync { runCatching { client.tokenBlocking() } }
        val result = try {
            call.get(10, TimeUnit.SECONDS)
        } catch (e: TimeoutException) {
            fail<Nothing>("tokenBlocking() hung for 10 s")
        }
        return result.exceptionOrNull() ?: result.getOrThrow()
    }
}
