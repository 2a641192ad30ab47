package dev.tokenwell

import java.io.File
import java.security.MessageDigest
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Assumptions.assumeTrue
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test

/**
 * A fleet on a real `redis-server` (the config's `store`): 8 JVM processes x 50
 * concurrent callers make one token request, and so does a mixed fleet of
 * Rust, Python and Kotlin processes. Requests are counted at the mock.
 */
class FleetTest : WithMockProvider() {
    private var redis: RedisServer? = null
    private val redisUrl get() = redis?.url ?: ""

    @BeforeAll
    fun startRedis() {
        redis = RedisServer.startOrNull()
        if (redis == null) {
            check(System.getenv("CI").isNullOrEmpty()) { "redis-server is missing and CI is set (make test installs it)" }
        }
    }

    @AfterAll
    fun stopRedis() {
        redis?.close()
    }

    /** Each test starts on an empty Redis (same credentials, same keys). */
    @BeforeEach
    fun flushRedis() {
        redis?.flushAll()
    }

    private fun configJson() =
        """{"provider":"deliveroo","environment":"sandbox","base_url":"${mock.url}/deliveroo",""" +
            """"client_id":"fleet-client","client_secret":"$SECRET","store":{"redis_url":"$redisUrl","timeout_ms":2000}}"""

    private fun jvm(startAt: Long): ProcessBuilder = ProcessBuilder(
        File(System.getProperty("java.home"), "bin/java").path,
        "-cp", System.getProperty("java.class.path"),
        "dev.tokenwell.FleetProbe", mock.url, redisUrl, "50", "$startAt",
    )

    /** Runs the processes, returns each one's last output line. */
    private fun run(builders: List<ProcessBuilder>): List<String> {
        val procs = builders.map { it.redirectError(ProcessBuilder.Redirect.INHERIT).start() }
        return procs.map { p ->
            val out = p.inputStream.bufferedReader().readText()
            check(p.waitFor(90, TimeUnit.SECONDS)) { p.destroyForcibly(); "a fleet process did not finish" }
            check(p.exitValue() == 0) { "a fleet process failed: $out" }
            out.trim().lines().last()
        }
    }

    @Test
    fun `eight JVM processes times fifty callers make one request`() {
        assumeTrue(redis != null, "redis-server not installed")
        mock.script("""{"status":200,"json":{"access_token":"fleet-kt-1","expires_in":3600},"delay_ms":300}""")
        val startAt = System.currentTimeMillis() + 4_000 // every JVM loaded: a real stampede
        val lines = run(List(8) { jvm(startAt) })
        assertTrue(lines.all { it.startsWith("ok distinct=1 ") }, lines.toString())
        assertEquals(1, lines.map { it.substringAfter("fp=") }.toSet().size, lines.toString())
        assertEquals(1, mock.requestCount())
    }

    @Test
    fun `Rust, Python and Kotlin processes on one Redis make one request`() {
        assumeTrue(redis != null, "redis-server not installed")
        val python = File(System.getProperty("tokenwell.python") ?: "../../target/python/test-venv/bin/python")
        check(python.canExecute() || System.getenv("CI").isNullOrEmpty()) { "no Python test venv at $python (make test-python)" }
        assumeTrue(python.canExecute(), "no Python test venv")
        mock.script("""{"status":200,"json":{"access_token":"fleet-mixed-1","expires_in":3600},"delay_ms":300}""")
        val startAt = System.currentTimeMillis() + 4_000
        val config = File.createTempFile("tokenwell-fleet", ".json").apply { writeText(configJson()); deleteOnExit() }
        val rust = ProcessBuilder(MockProvider.binary().path, "fleet-probe", "--config", config.path, "--callers", "50",
            "--start-at-unix-ms", "$startAt")
        val py = ProcessBuilder(python.path, "-c", PY_WORKER, configJson(), "50", "${startAt / 1000.0}")
        val lines = run(listOf(rust, rust, py, py, jvm(startAt), jvm(startAt)))
        assertTrue(lines.all { it.startsWith("ok ") }, lines.toString())
        assertEquals(1, mock.requestCount(), lines.toString())
    }

    companion object {
        const val SECRET = "fleet-kt-secret-0b7d"

        /** One Python process of the mixed fleet: N threads call token() at once. */
        val PY_WORKER = """
            import concurrent.futures, json, sys, time
            from tokenwell import TokenClient
            client = TokenClient.from_config(json.loads(sys.argv[1]))
            time.sleep(max(0.0, float(sys.argv[3]) - time.time()))
            with concurrent.futures.ThreadPoolExecutor(int(sys.argv[2])) as pool:
                tokens = set(pool.map(lambda _: client.token().access_token, range(int(sys.argv[2]))))
            print("ok distinct=%d" % len(tokens))
        """.trimIndent()
    }
}

/** One JVM process of the fleet: `FleetProbe <mock url> <redis url> <callers> <start at ms>`. */
object FleetProbe {
    @JvmStatic
    fun main(args: Array<String>) {
        val (mockUrl, redisUrl, callers, startAt) = args
        val config = TokenConfig(
            provider = "deliveroo", environment = "sandbox", baseUrl = "$mockUrl/deliveroo",
            clientId = "fleet-client", clientSecret = FleetTest.SECRET,
            store = TokenConfig.StoreOptions(redisUrl = redisUrl, timeoutMs = 2000),
        )
        TokenClient(config).use { client ->
            Thread.sleep(maxOf(0L, startAt.toLong() - System.currentTimeMillis()))
            val pool = Executors.newFixedThreadPool(callers.toInt())
            val tokens = (1..callers.toInt()).map { pool.submit<String> { client.tokenBlocking().accessToken } }
                .map { it.get(60, TimeUnit.SECONDS) }.toSet()
            pool.shutdown()
            val fp = MessageDigest.getInstance("SHA-256").digest(tokens.first().toByteArray())
                .take(6).joinToString("") { "%02x".format(it) }
            println("ok distinct=${tokens.size} fp=$fp")
        }
    }
}
