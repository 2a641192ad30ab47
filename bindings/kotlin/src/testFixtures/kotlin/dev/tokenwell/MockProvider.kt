package dev.tokenwell

import com.fasterxml.jackson.databind.JsonNode
import com.fasterxml.jackson.databind.ObjectMapper
import java.io.BufferedReader
import java.io.File
import java.io.InputStreamReader
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.time.Duration
import java.util.concurrent.TimeUnit
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.TestInstance

/** The `tokenwell mock` provider as a subprocess on loopback, with its admin API. */
class MockProvider private constructor(private val process: Process, val url: String) : AutoCloseable {
    private val http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()

    fun reset() {
        admin("POST", "/__admin/reset", "{}")
    }

    /** Queues scripted responses (a JSON array). */
    fun script(responses: JsonNode) {
        val body = JSON.createObjectNode().set<JsonNode>("responses", responses)
        admin("POST", "/__admin/script", JSON.writeValueAsString(body))
    }

    fun script(vararg responses: String) = script(JSON.readTree("[" + responses.joinToString(",") + "]"))

    /** Sets the mock's behaviour (`lifetime_secs`, `latency_ms`, `fault`), a JSON object. */
    fun config(json: String) {
        admin("POST", "/__admin/config", json)
    }

    fun requests(): JsonNode = JSON.readTree(admin("GET", "/__admin/requests", null))

    /** The accepted client's new secret (a mock started with one); the old one is refused from then on. */
    fun rotate(clientSecret: String) {
        admin("POST", "/__admin/rotate", JSON.writeValueAsString(mapOf("client_secret" to clientSecret)))
    }

    fun requestCount(): Int = requests()["count"].asInt()

    private fun admin(method: String, path: String, body: String?): String {
        val req = HttpRequest.newBuilder(URI.create(url + path)).timeout(Duration.ofSeconds(10))
            .header("content-type", "application/json")
            .method(method, body?.let { HttpRequest.BodyPublishers.ofString(it) } ?: HttpRequest.BodyPublishers.noBody())
            .build()
        val resp = http.send(req, HttpResponse.BodyHandlers.ofString())
        check(resp.statusCode() in 200..299) { "mock admin $method $path: HTTP ${resp.statusCode()} ${resp.body()}" }
        return resp.body()
    }

    override fun close() {
        process.destroy()
        if (!process.waitFor(5, TimeUnit.SECONDS)) process.destroyForcibly().waitFor()
    }

    companion object {
        val JSON = ObjectMapper()

        /** The mock binary: -Dtokenwell.mock, else target/debug/tokenwell from the repository root. */
        fun binary(): File {
            val path = System.getProperty("tokenwell.mock") ?: "../../target/debug/tokenwell"
            val file = File(path)
            check(file.canExecute()) { "mock provider binary not found at $file (cargo build --features cli)" }
            return file
        }

        /** Starts the mock; `args`, e.g. `--client-id`/`--client-secret` (its one accepted client). */
        fun start(vararg args: String): MockProvider {
            val process = ProcessBuilder(binary().path, "mock", "--port", "0", *args)
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start()
            val reader = BufferedReader(InputStreamReader(process.inputStream))
            val line = reader.readLine()
            if (line == null) {
                process.destroyForcibly()
                error("mock provider exited before listening")
            }
            val prefix = "tokenwell mock listening on "
            check(line.startsWith(prefix)) { process.destroyForcibly(); "unexpected mock output: $line" }
            // Keep draining stdout so the mock never blocks on a full pipe.
            Thread { reader.useLines { it.forEach { } } }.apply { isDaemon = true }.start()
            return MockProvider(process, line.removePrefix(prefix).trim())
        }
    }
}

/** One mock provider per test class, reset before each test. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class WithMockProvider {
    protected lateinit var mock: MockProvider

    @BeforeAll
    fun startMock() {
        mock = MockProvider.start()
    }

    @AfterAll
    fun stopMock() {
        mock.close()
    }

    @BeforeEach
    fun resetMock() {
        mock.reset()
    }
}
