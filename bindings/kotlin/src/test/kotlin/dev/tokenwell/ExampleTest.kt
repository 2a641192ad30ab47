package dev.tokenwell

import java.io.File
import java.util.concurrent.TimeUnit
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

/** The README's runnable observability example (examples/), run once against the mock. */
class ExampleTest : WithMockProvider() {
    @Test
    fun `the console example runs and prints events, metrics, a span and the status`() {
        val p = ProcessBuilder(
            File(System.getProperty("java.home"), "bin/java").path,
            "-cp", System.getProperty("java.class.path"),
            "dev.tokenwell.examples.ObservabilityExampleKt", "${mock.url}/deliveroo",
        ).redirectErrorStream(true).start()
        val out = p.inputStream.bufferedReader().readText()
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), out)
        assertEquals(0, p.exitValue(), out)
        for (expected in listOf("tokenwell event: Fetched(", "tokenwell.token.requests", "tokenwell.cache.lookups", "'POST'", "tokenwell status: TokenStatus(health=UP")) {
            assertTrue(expected in out, "missing $expected in:\n$out")
        }
        assertTrue("example-secret" !in out)
    }
}
