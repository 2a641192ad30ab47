package dev.tokenwell

import com.fasterxml.jackson.databind.JsonNode
import com.fasterxml.jackson.databind.node.JsonNodeFactory
import com.fasterxml.jackson.databind.node.ObjectNode
import com.fasterxml.jackson.databind.node.TextNode
import dev.tokenwell.internal.ffi.CoreStoreKeys
import dev.tokenwell.internal.ffi.storeKeys
import java.io.File
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Deferred
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.cancel
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.DynamicTest
import org.junit.jupiter.api.TestFactory

/**
 * Runs every conformance vector in tests/vectors/ through the public Kotlin API
 * (TokenConfig -> TokenClient, the memoised token paths), against the mock
 * provider over real HTTP, on a ManualClock. Same checks as tests/vectors.rs.
 */
class VectorsTest : WithMockProvider() {
    private val dir = File(System.getProperty("tokenwell.vectors") ?: "../../tests/vectors")

    @TestFactory
    fun conformanceVectors(): List<DynamicTest> {
        val files = dir.listFiles { f -> f.name.endsWith(".json") }.orEmpty().sortedBy { it.name }
        assertTrue(files.size >= 25, "expected at least 25 vectors in $dir, found ${files.size}")
        return files.map { file ->
            DynamicTest.dynamicTest(file.nameWithoutExtension) {
                val vector = MockProvider.JSON.readTree(file)
                check(vector["name"].asText() == file.nameWithoutExtension) { "name differs from file name" }
                mock.reset()
                run(vector)
            }
        }
    }

    /**
     * Every vector once more through the application's own HTTP client (the
     * builder's okHttpClient and javaHttpClient in turn) in place of the
     * built-in one; the fault catalogue runs through both in full.
     */
    @TestFactory
    fun throughOwnClient(): List<DynamicTest> {
        val files = dir.listFiles { f -> f.name.endsWith(".json") }.orEmpty().sortedBy { it.name }
        return files.mapIndexed { i, file ->
            val own = if (i % 2 == 0) "okhttp" else "java.net.http"
            DynamicTest.dynamicTest("${file.nameWithoutExtension} ($own)") {
                mock.reset()
                run(MockProvider.JSON.readTree(file), own)
            }
        }
    }

    /** What a vector does in the background and in the store, besides its clients. */
    private class Context(
        val store: MemoryStore?,
        val keys: Map<String, CoreStoreKeys>,
        val scope: CoroutineScope,
        val calls: MutableMap<String, Deferred<Result<AccessToken>>> = linkedMapOf(),
    )

    /** Every key, op and requirement is understood, and a vector driving the store says so. */
    private fun checkShape(v: JsonNode) {
        val known = setOf(
            "name", "description", "requires", "config", "clients", "shared_store", "clock",
            "expect_build_error", "script", "steps", "expect_requests", "forbidden",
        )
        v.fieldNames().forEach { check(it in known) { "unknown vector key $it" } }
        val requires = v.path("requires").map { it.asText() }
        requires.forEach { check(it in CAPABILITIES) { "unknown requirement $it" } }
        v.path("steps").forEachIndexed { i, step ->
            val op = step.path("op").asText()
            val keys = STEP_KEYS[op] ?: error("step $i: unknown op \"$op\"")
            step.fieldNames().forEach { check(it == "op" || it in keys) { "step $i: unknown key $it for op $op" } }
            if (op.startsWith("store_")) {
                check("store_control" in requires) { "step $i: $op needs \"requires\": [\"store_control\"]" }
                check(v.path("shared_store").asBoolean(false)) { "step $i: $op needs \"shared_store\": true" }
            }
        }
    }

    private fun run(v: JsonNode, own: String? = null) {
        checkShape(v)
        val clock = ManualClock(v.path("clock").path("unix_ms").takeUnless { it.isMissingNode }?.asLong())
        // On the manual clock: records' time-to-live and locks run on vector time.
        val store = if (v.path("shared_store").asBoolean(false)) MemoryStore(clock) else null
        val configs: Map<String, JsonNode> = if (v.has("clients")) {
            v["clients"].fields().asSequence().associate { it.key to it.value }
        } else {
            mapOf("main" to v["config"])
        }
        // Every configured secret, and every form of one that no error text may hold.
        val secrets = v.path("forbidden").map { it.asText() }.toMutableList()
        val clients = linkedMapOf<String, TokenClient>()
        val keys = linkedMapOf<String, CoreStoreKeys>() // each client's keys in the store
        val ctx = Context(store, keys, CoroutineScope(Dispatchers.IO))
        try {
            for ((name, raw) in configs) {
                val cfg = substitute(raw, mock.url)
                cfg["client_secret"]?.takeIf { it.isTextual }?.let { secrets += it.asText() }
                if (store != null && !v.has("expect_build_error")) keys[name] = storeKeys(MockProvider.JSON.writeValueAsString(cfg))
                val built = try {
                    Result.success(build(toConfig(cfg), clock, store, own))
                } catch (e: TokenwellException) {
                    Result.failure(e)
                }
                val expected = v["expect_build_error"]
                when {
                    built.isSuccess && expected == null -> clients[name] = built.getOrThrow()
                    built.isFailure && expected != null ->
                        return checkError(built.exceptionOrNull() as TokenwellException, expected, secrets)
                    built.isSuccess -> error("expected the client build to fail")
                    else -> throw AssertionError("client build failed: ${built.exceptionOrNull()}")
                }
            }
            v["script"]?.let { mock.script(it) }
            v.path("steps").forEachIndexed { i, step ->
                try {
                    step(step, clients, clock, secrets, ctx)
                } catch (e: Throwable) {
                    throw AssertionError("step $i (${step["op"]}): ${e.message}", e)
                }
            }
            ctx.calls.keys.firstOrNull()?.let { error("call \"$it\" was started and never joined") }
            v["expect_requests"]?.let { checkRequests(it) }
        } finally {
            ctx.scope.cancel()
            clients.values.forEach { it.close() }
            store?.close()
            clock.close()
        }
    }

    private fun build(config: TokenConfig, clock: ManualClock, store: MemoryStore?, own: String?): TokenClient {
        if (own == null) return TokenClient(config, clock, store)
        val builder = TokenClient.builder(config).clock(clock)
        if (store != null) builder.store(store)
        if (own == "okhttp") builder.okHttpClient(OWN_OKHTTP) else builder.javaHttpClient(OWN_JAVA_HTTP)
        return builder.build()
    }

    private fun step(
        step: JsonNode,
        clients: Map<String, TokenClient>,
        clock: ManualClock,
        secrets: List<String>,
        ctx: Context,
    ) {
        val op = step.path("op").asText()
        val clientName = step.path("client").asText("main")
        val client by lazy { clients[clientName] ?: error("no client $clientName") }
        val id = step.path("id").asText()
        val call by lazy { ctx.calls[id] ?: error("no call \"$id\"") }
        val store by lazy { ctx.store?.core ?: error("no shared store") }
        val keys by lazy { ctx.keys[clientName] ?: error("no client $clientName") }
        when (op) {
            // The blocking twin, through the memo.
            "token" -> checkResult(runCatching { client.tokenBlocking() }, step, secrets)
            // Coroutines on a thread pool calling the suspend API at once.
            "concurrent" -> {
                val n = step.path("calls").asInt(1)
                val results = runBlocking(Dispatchers.IO) {
                    (0 until n).map { async { runCatching { client.token() } } }.awaitAll()
                }
                results.forEach { checkResult(it, step, secrets) }
            }
            "advance" -> clock.advance(step.path("ms").asLong())
            "shift_wall" -> clock.shiftWall(step.path("ms").asLong())
            "settle" -> clients.values.forEach { it.settleBlocking() }
            "invalidate" -> {
                val dropped = client.invalidate(step.path("token").asText())
                expectEq("invalidate", JsonNodeFactory.instance.booleanNode(dropped), step["expect"])
            }
            "requests" -> expectEq("request count", JsonNodeFactory.instance.numberNode(mock.requestCount()), step["count"])
            "script" -> mock.script(step["responses"])
            // One call in the background, through the suspend API.
            "start" -> {
                check(id !in ctx.calls) { "call \"$id\" started twice" }
                ctx.calls[id] = ctx.scope.async { runCatching { client.token() } }
            }
            "pending" -> {
                Thread.sleep(step.path("ms").asLong())
                check(!call.isCompleted) { "call \"$id\" has returned" }
            }
            "join" -> {
                val result = runBlocking { withTimeout(CALL_TIMEOUT_MS) { call.await() } }
                ctx.calls.remove(id)
                checkResult(result, step, secrets)
            }
            "store_fail" -> {
                check(step.path("fail").isBoolean) { "fail is a bool" }
                store.setFailing(step["fail"].asBoolean())
            }
            "store_lock" -> check(store.tryLock(keys.lock, FOREIGN_OWNER, step.path("ms").asLong().toULong())) {
                "the lock is held already"
            }
            "store_unlock" -> store.unlock(keys.lock, FOREIGN_OWNER)
            "store_put" -> store.put(keys.token, recordOf(step), step.path("ms").asLong().toULong())
        }
    }

    /** A store_put step's record: `record`, or the `record` of `record_file`. */
    private fun recordOf(step: JsonNode): String {
        check(step.has("record") != step.has("record_file")) { "store_put takes one of record and record_file" }
        return step["record"]?.asText()
            ?: MockProvider.JSON.readTree(File(dir, step["record_file"].asText()))["record"].asText()
    }

    private fun checkResult(result: Result<AccessToken>, step: JsonNode, secrets: List<String>) {
        val expect = step["expect"]
        val expectError = step["expect_error"]
        val error = result.exceptionOrNull()
        when {
            error != null && error !is TokenwellException -> throw AssertionError("unexpected exception: $error", error)
            error != null && expectError != null -> checkError(error as TokenwellException, expectError, secrets)
            error != null -> throw AssertionError("unexpected error: $error")
            expectError != null -> throw AssertionError("expected error $expectError, got a token")
            expect != null -> {
                val token = result.getOrThrow()
                val f = JsonNodeFactory.instance
                expect.fields().forEach { (key, want) ->
                    val got: JsonNode = when (key) {
                        "access_token" -> f.textNode(token.accessToken)
                        "token_type" -> f.textNode(token.tokenType)
                        "scope" -> token.scope?.let { f.textNode(it) } ?: f.nullNode()
                        "expires_at_unix_ms" -> f.numberNode(token.expiresAtUnixMs)
                        else -> error("unknown expectation $key")
                    }
                    expectEq(key, got, want)
                }
            }
        }
    }

    private fun checkError(e: TokenwellException, expected: JsonNode, secrets: List<String>) {
        val text = "${e.message} $e ${e.detail} ${e.stackTraceToString()}"
        secrets.firstOrNull { it.isNotEmpty() && text.contains(it) }?.let {
            throw AssertionError("error text leaks the secret")
        }
        val f = JsonNodeFactory.instance
        expected.fields().forEach { (key, want) ->
            when (key) {
                "code" -> expectEq("code", f.textNode(e.code), want)
                "status" -> expectEq("status", e.status?.let { f.numberNode(it) } ?: f.nullNode(), want)
                "retry_after_ms" -> expectEq("retry_after_ms", e.retryAfterMs?.let { f.numberNode(it) } ?: f.nullNode(), want)
                "detail_contains" -> check(e.detail.contains(want.asText())) { "detail ${e.detail} lacks ${want.asText()}" }
                else -> error("unknown error expectation $key")
            }
        }
    }

    private fun checkRequests(expected: JsonNode) {
        val got = mock.requests()["requests"]
        check(got.size() == expected.size()) { "expected ${expected.size()} requests, got ${got.size()}" }
        for (i in 0 until got.size()) {
            val req = got[i]
            val want = expected[i]
            expectEq("request $i method", req["method"], want["method"])
            expectEq("request $i path", req["path"], want["path"])
            want["body"]?.let { expectEq("request $i body", req["body"], it) }
            want.path("headers").fields().forEach { (name, value) ->
                expectEq("request $i header $name", req.path("headers").get(name) ?: JsonNodeFactory.instance.nullNode(), value)
            }
        }
    }

    private fun expectEq(what: String, got: JsonNode, want: JsonNode?) {
        // Numbers compare by value (1767226140000 may parse as long or int).
        val same = when {
            want == null -> false
            got.isNumber && want.isNumber -> got.decimalValue().compareTo(want.decimalValue()) == 0
            else -> got == want
        }
        if (!same) throw AssertionError("$what: expected $want, got $got")
    }

    companion object {
        /** The application's own clients, shared by every vector (as an application shares one). */
        val OWN_OKHTTP: okhttp3.OkHttpClient = okhttp3.OkHttpClient.Builder()
            .followRedirects(false).followSslRedirects(false).build()
        val OWN_JAVA_HTTP: java.net.http.HttpClient = java.net.http.HttpClient.newHttpClient()

        /** Every op with the keys it may have (besides `op`): the vectors' README. */
        val STEP_KEYS = mapOf(
            "token" to setOf("client", "expect", "expect_error"),
            "concurrent" to setOf("calls", "client", "expect", "expect_error"),
            "advance" to setOf("ms"),
            "shift_wall" to setOf("ms"),
            "settle" to emptySet(),
            "invalidate" to setOf("token", "expect", "client"),
            "requests" to setOf("count"),
            "script" to setOf("responses"),
            "start" to setOf("id", "client"),
            "pending" to setOf("id", "ms"),
            "join" to setOf("id", "expect", "expect_error"),
            "store_fail" to setOf("fail"),
            "store_lock" to setOf("client", "ms"),
            "store_unlock" to setOf("client"),
            "store_put" to setOf("client", "record", "record_file", "ms"),
        )

        /** What this runner can do of what a vector may require: everything. */
        val CAPABILITIES = setOf("store_control")

        /** The owner of the locks a vector takes in the store, playing another process. */
        const val FOREIGN_OWNER = "vectors-foreign-owner"

        /** A call that has not returned by then has hung: fail rather than wait forever. */
        const val CALL_TIMEOUT_MS = 60_000L

        /** Replaces `{mock}` in every string with the mock's base URL. */
        fun substitute(v: JsonNode, base: String): JsonNode = when {
            v.isTextual -> TextNode(v.asText().replace("{mock}", base))
            v.isArray -> JsonNodeFactory.instance.arrayNode().also { a -> v.forEach { a.add(substitute(it, base)) } }
            v.isObject -> JsonNodeFactory.instance.objectNode().also { o ->
                v.fields().forEach { (k, x) -> o.set<JsonNode>(k, substitute(x, base)) }
            }
            else -> v
        }

        /**
         * The vector's snake_case config as the Kotlin data class (so the vectors
         * also prove TokenConfig's serialisation). An unknown key fails.
         */
        fun toConfig(c: JsonNode): TokenConfig {
            fun keys(node: JsonNode, allowed: Set<String>, where: String) =
                node.fieldNames().forEach { check(it in allowed) { "unknown config key $where$it" } }
            fun str(node: JsonNode, key: String): String? = node[key]?.let { if (it.isNull) null else it.asText() }
            fun long(node: JsonNode, key: String): Long? = node[key]?.let { if (it.isNull) null else it.asLong() }
            fun dbl(node: JsonNode, key: String): Double? = node[key]?.let { if (it.isNull) null else it.asDouble() }
            fun plain(node: JsonNode): Any? = when {
                node.isNull -> null
                node.isTextual -> node.asText()
                node.isBoolean -> node.asBoolean()
                node.isIntegralNumber -> node.asLong()
                node.isNumber -> node.asDouble()
                node.isArray -> node.map { plain(it) }
                else -> node.fields().asSequence().associate { it.key to plain(it.value) }
            }
            keys(
                c,
                setOf(
                    "provider", "environment", "region", "base_url", "token_url", "client_id", "client_secret",
                    "audience", "scope", "ttl", "grant_type", "encoding", "credentials", "basic_encoding", "field_names",
                    "extra_params", "headers", "response", "policy", "http", "store", "name",
                    "issuer", "private_key", "private_key_file", "certificate_file", "key_id", "assertion",
                ),
                "",
            )
            return TokenConfig(
                provider = str(c, "provider")!!,
                clientId = str(c, "client_id")!!,
                clientSecret = str(c, "client_secret"),
                environment = str(c, "environment"),
                region = str(c, "region"),
                baseUrl = str(c, "base_url"),
                tokenUrl = str(c, "token_url"),
                audience = str(c, "audience"),
                scope = str(c, "scope"),
                ttl = long(c, "ttl"),
                grantType = str(c, "grant_type"),
                encoding = str(c, "encoding"),
                credentials = str(c, "credentials"),
                basicEncoding = str(c, "basic_encoding"),
                issuer = str(c, "issuer"),
                privateKey = str(c, "private_key"),
                privateKeyFile = str(c, "private_key_file"),
                certificateFile = str(c, "certificate_file"),
                keyId = str(c, "key_id"),
                assertion = c["assertion"]?.let {
                    keys(it, setOf("algorithm", "audience", "lifetime_secs"), "assertion.")
                    TokenConfig.Assertion(str(it, "algorithm"), str(it, "audience"), long(it, "lifetime_secs"))
                },
                fieldNames = c["field_names"]?.let {
                    keys(it, setOf("client_id", "client_secret", "grant_type", "audience", "scope", "ttl"), "field_names.")
                    TokenConfig.FieldNames(
                        str(it, "client_id"), str(it, "client_secret"), str(it, "grant_type"),
                        str(it, "audience"), str(it, "scope"), str(it, "ttl"),
                    )
                },
                extraParams = c["extra_params"]?.fields()?.asSequence()?.associate { it.key to plain(it.value)!! }.orEmpty(),
                headers = c["headers"]?.fields()?.asSequence()?.associate { it.key to it.value.asText() }.orEmpty(),
                response = c["response"]?.let {
                    keys(it, setOf("access_token", "token_type", "scope", "expires_in", "expires_at", "created_at", "success"), "response.")
                    TokenConfig.ResponseMapping(
                        str(it, "access_token"), str(it, "token_type"), str(it, "scope"), str(it, "expires_in"),
                        str(it, "expires_at"), str(it, "created_at"),
                        it["success"]?.let { s ->
                            keys(s, setOf("path", "equals"), "response.success.")
                            TokenConfig.SuccessCheck(str(s, "path")!!, plain(s["equals"] ?: JsonNodeFactory.instance.nullNode()))
                        },
                    )
                },
                policy = c["policy"]?.let {
                    keys(
                        it,
                        setOf(
                            "refresh_ratio", "skew_ratio", "max_skew_secs", "default_lifetime_secs", "backoff_initial_ms", "backoff_max_ms",
                            "max_requests_per_hour",
                        ),
                        "policy.",
                    )
                    TokenConfig.Policy(
                        dbl(it, "refresh_ratio"), dbl(it, "skew_ratio"), long(it, "max_skew_secs"),
                        long(it, "default_lifetime_secs"), long(it, "backoff_initial_ms"), long(it, "backoff_max_ms"),
                        maxRequestsPerHour = long(it, "max_requests_per_hour")?.toInt(),
                    )
                },
                http = c["http"]?.let {
                    keys(it, setOf("connect_timeout_ms", "timeout_ms"), "http.")
                    TokenConfig.HttpOptions(long(it, "connect_timeout_ms"), long(it, "timeout_ms"))
                },
                store = c["store"]?.let {
                    keys(it, setOf("redis_url", "key_prefix", "timeout_ms", "ca_file", "lock_wait_ms"), "store.")
                    TokenConfig.StoreOptions(
                        str(it, "redis_url"), str(it, "key_prefix"), long(it, "timeout_ms"), str(it, "ca_file"),
                        long(it, "lock_wait_ms"),
                    )
                },
                name = str(c, "name"),
            )
        }
    }
}
