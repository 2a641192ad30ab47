package dev.tokenwell

import com.fasterxml.jackson.databind.JsonNode
import com.fasterxml.jackson.databind.ObjectMapper
import java.io.File
import java.net.URI
import java.net.URLEncoder
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.nio.charset.StandardCharsets.UTF_8
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.StandardCopyOption
import java.util.Base64
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit
import java.util.stream.Stream
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Assertions.fail
import org.junit.jupiter.api.Assumptions.abort
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.DynamicTest
import org.junit.jupiter.api.TestFactory
import org.junit.jupiter.api.TestInstance

/**
 * Every row of tests/oidc/clients.json against panva's oidc-provider (an OpenID
 * Certified server), started once for this class by tests/oidc/server.mjs: a token,
 * which the server's introspection endpoint reports active for the row's client;
 * invalidated; a second, different one, also active. A rotation row changes the
 * client's secret on the server and in its file in between. Rows whose feature is in
 * tests/oidc/pending.json are skipped, saying so.
 *
 * Without Node or the launcher's packages (`bash tests/oidc/setup.sh`, which `make
 * test` runs) or when it does not start, the tests skip saying why, unless `CI` is
 * set: then they fail.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OidcTest {
    private val dir = File(System.getProperty("tokenwell.oidc") ?: "../../tests/oidc").absoluteFile
    private val json = ObjectMapper()
    private val table: JsonNode = json.readTree(File(dir, "clients.json"))
    private val pending: Set<String> =
        if (System.getenv("TOKENWELL_OIDC_ALL") == "1") emptySet()
        else json.readTree(File(dir, "pending.json")).map { it.asText() }.toSet()
    private val ci = System.getenv("CI").let { it != null && it != "" && it != "0" && it != "false" }
    private val http = HttpClient.newHttpClient()

    private var process: Process? = null
    private var unavailable: String? = null
    private lateinit var launcher: JsonNode
    private lateinit var scratch: Path

    @BeforeAll
    fun start() {
        scratch = Files.createTempDirectory("tokenwell-oidc-")
        if (!File(dir, "node_modules/oidc-provider/package.json").isFile) {
            unavailable = "tests/oidc/node_modules is missing: run `bash tests/oidc/setup.sh` (make test does)"
            return
        }
        val node = System.getenv("PATH").split(':').map { File(it, "node") }.firstOrNull { it.canExecute() }
        if (node == null) {
            unavailable = "node is not on the PATH: the oidc-provider launcher needs it"
            return
        }
        val started = System.nanoTime()
        val p = ProcessBuilder(node.path, File(dir, "server.mjs").path)
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start()
        process = p
        // A thread reads the first line, then drains stdout until the launcher exits.
        val first = LinkedBlockingQueue<String>()
        Thread {
            p.inputStream.bufferedReader().use { r ->
                first.put(r.readLine() ?: "")
                while (r.readLine() != null) { /* drained */ }
            }
        }.apply { isDaemon = true }.start()
        val line = first.poll(20, TimeUnit.SECONDS)
        if (line.isNullOrEmpty()) {
            unavailable = "the oidc launcher did not start (alive: ${p.isAlive})"
            return
        }
        launcher = json.readTree(line)
        System.err.println("oidc: launcher ready in ${(System.nanoTime() - started) / 1_000_000} ms")
    }

    @AfterAll
    fun stop() {
        process?.let { p ->
            p.outputStream.close() // stdin closed: the launcher exits
            if (!p.waitFor(5, TimeUnit.SECONDS)) p.destroyForcibly().waitFor()
        }
        scratch.toFile().deleteRecursively()
    }

    private fun url(key: String) = launcher[key].asText()

    private fun introspect(token: String): JsonNode {
        val intro = table["introspector"]
        val pair = "${enc(intro["client_id"].asText())}:${enc(intro["client_secret"].asText())}"
        val request = HttpRequest.newBuilder(URI(url("introspection_endpoint")))
            .header("authorization", "Basic " + Base64.getEncoder().encodeToString(pair.toByteArray()))
            .header("content-type", "application/x-www-form-urlencoded")
            .POST(HttpRequest.BodyPublishers.ofString("token=${enc(token)}"))
            .build()
        val res = http.send(request, HttpResponse.BodyHandlers.ofString())
        assertEquals(200, res.statusCode(), "introspection status")
        return json.readTree(res.body())
    }

    private fun setSecret(clientId: String, secret: String) {
        val request = HttpRequest.newBuilder(URI("${url("admin")}/clients/${enc(clientId)}/secret"))
            .PUT(HttpRequest.BodyPublishers.ofString(secret))
            .build()
        assertEquals(204, http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode(), "admin route")
    }

    private fun enc(s: String) = URLEncoder.encode(s, UTF_8)

    /** Replaces the content at once (a new file renamed over it), as a Kubernetes secret volume does. */
    private fun replaceFile(path: Path, text: String) {
        val tmp = path.resolveSibling("${path.fileName}.new")
        Files.writeString(tmp, text)
        Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE)
    }

    /** A row's tokenwell config for the launcher (see clients.json's description). */
    private fun config(row: JsonNode, secretFile: Path?): Map<String, Any?> {
        @Suppress("UNCHECKED_CAST")
        val config = json.convertValue(row["config"], Map::class.java) as Map<String, Any?>
        val out = config.toMutableMap()
        if (row["discovery"].asBoolean()) out["issuer"] = url("issuer") else out["token_url"] = url("token_endpoint")
        for (key in listOf("private_key_file", "certificate_file")) {
            (out[key] as? String)?.let { out[key] = File(dir, "keys/$it").path }
        }
        if (secretFile != null) out["client_secret_file"] = secretFile.toString()
        return out
    }

    private fun expectHonoured(row: JsonNode, token: AccessToken) {
        val expect = row["expect"]
        expect["token_type"]?.let { assertEquals(it.asText().lowercase(), token.tokenType.lowercase()) }
        val info = introspect(token.accessToken)
        assertEquals(expect["active"].asBoolean(), info["active"]?.asBoolean(), "introspection: active")
        assertEquals(row["config"]["client_id"].asText(), info["client_id"]?.asText(), "introspection: client_id")
        expect["scope"]?.let { assertEquals(it.asText(), info["scope"]?.asText(), "introspection: scope") }
    }

    private fun run(row: JsonNode) {
        unavailable?.let { why ->
            if (ci) fail<Unit>("$why (CI is set: the oidc tests may not skip)")
            abort<Unit>(why)
        }
        val clientId = row["config"]["client_id"].asText()
        val rotate = row["rotate"]
        val secretFile = rotate?.let {
            val path = scratch.resolve("$clientId.secret")
            replaceFile(path, it["secrets"][0].asText())
            setSecret(clientId, it["secrets"][0].asText())
            path
        }
        TokenClient.builderFromMap(config(row, secretFile)).build().use { client ->
            val first = client.tokenBlocking()
            expectHonoured(row, first)
            if (rotate != null && secretFile != null) {
                setSecret(clientId, rotate["secrets"][1].asText())
                client.invalidate(first)
                val stale = assertThrows(TokenwellException::class.java) { client.tokenBlocking() }
                assertEquals(rotate["stale"].asText(), stale.code)
                replaceFile(secretFile, rotate["secrets"][1].asText())
                Thread.sleep(50) // the row's backoff is 1 ms: past it, the next call fetches again
            } else {
                assertTrue(client.invalidate(first), "invalidate dropped the token")
            }
            val second = client.tokenBlocking()
            expectHonoured(row, second)
            // A boolean: a failure never prints a token.
            assertTrue(first.accessToken != second.accessToken, "a second, different token")
        }
    }

    @TestFactory
    fun tokenwellAgainstOidcProvider(): Stream<DynamicTest> = table["rows"].map { row ->
        DynamicTest.dynamicTest(row["name"].asText()) {
            val feature = row["feature"].asText()
            if (feature in pending) abort<Unit>("feature $feature is pending (tests/oidc/pending.json)")
            run(row)
        }
    }.stream()
}
