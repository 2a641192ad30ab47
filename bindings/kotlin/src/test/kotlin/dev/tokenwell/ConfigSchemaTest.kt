package dev.tokenwell

import com.fasterxml.jackson.annotation.JsonInclude
import com.fasterxml.jackson.databind.JsonNode
import com.fasterxml.jackson.databind.ObjectMapper
import com.fasterxml.jackson.databind.PropertyNamingStrategies
import java.math.BigDecimal
import java.io.File
import java.lang.reflect.Modifier
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/**
 * The data classes of [TokenConfig] against the core's schema
 * (schema/config.schema.json, generated from the Rust type): field by field,
 * both ways, camelCase here mapped to the schema's snake_case. And the core
 * refuses an unknown key with an error that names it.
 */
class ConfigSchemaTest {
    private val schema: JsonNode = ObjectMapper().readTree(
        File(System.getProperty("tokenwell.schema") ?: "../../schema/config.schema.json"),
    )

    private fun snake(name: String) = name.replace(Regex("([A-Z])")) { "_" + it.value.lowercase() }

    private fun resolve(node: JsonNode): JsonNode {
        node["\$ref"]?.let { return schema["\$defs"][it.asText().removePrefix("#/\$defs/")] }
        // `Option<T>`: the object among the alternatives.
        node["anyOf"]?.firstOrNull { it.has("\$ref") }?.let { return resolve(it) }
        return node
    }

    /** snake_case paths of the schema's object properties (its camelCase copies left out). */
    private fun schemaPaths(node: JsonNode, prefix: String, out: MutableSet<String>) {
        val props = resolve(node)["properties"] ?: return
        props.fieldNames().asSequence().filter { it.none(Char::isUpperCase) }.forEach { key ->
            out += prefix + key
            if (key !in setOf("extra_params", "headers", "equals")) schemaPaths(props[key], "$prefix$key.", out)
        }
    }

    private fun classPaths(type: Class<*>, prefix: String, out: MutableSet<String>) {
        for (field in type.declaredFields) {
            if (Modifier.isStatic(field.modifiers) || field.isSynthetic) continue
            val key = snake(field.name)
            out += prefix + key
            val nested = field.type
            if (nested.enclosingClass == TokenConfig::class.java && !Map::class.java.isAssignableFrom(nested)) {
                classPaths(nested, "$prefix$key.", out)
            }
        }
    }

    @Test
    fun `every field of the schema is a property of TokenConfig and vice versa`() {
        val fromSchema = sortedSetOf<String>().also { schemaPaths(schema, "", it) }
        val fromKotlin = sortedSetOf<String>().also { classPaths(TokenConfig::class.java, "", it) }
        assertTrue(fromSchema.size > 30, "schema read: $fromSchema")
        assertEquals(fromSchema, fromKotlin)
    }

    private val full = TokenConfig(
        provider = "custom", clientId = "id", clientSecret = "s3cr3t-value", environment = "production",
        region = "eu", baseUrl = "https://a.example", tokenUrl = "https://a.example/token", audience = "aud",
        scope = "a b", ttl = 60, grantType = "client_credentials", encoding = "json", credentials = "basic",
        basicEncoding = "form",
        fieldNames = TokenConfig.FieldNames("cid", "cs", "gt", "aud", "scp", "t"),
        extraParams = mapOf("userAccessType" to "X", "n" to 1), headers = mapOf("x-partner" to "acme"),
        response = TokenConfig.ResponseMapping("a", "b", "c", "d", "e", "f", TokenConfig.SuccessCheck("status", "OK")),
        policy = TokenConfig.Policy(0.8, 0.1, 30, 300, 1000, 60000, 0.1, 60, 100),
        http = TokenConfig.HttpOptions(
            5000, 15000, "http://proxy.internal:3128", "internal.example", "/ca.pem", false, "/c.pem", "/k.pem",
        ),
        store = TokenConfig.StoreOptions(
            "redis://127.0.0.1:1/0", "acme", 300, "/nonexistent-ca.pem", 5000, listOf("127.0.0.1:7000"),
            TokenConfig.Sentinel(listOf("127.0.0.1:26379"), "tokens"),
        ),
        name = "orders-deliveroo",
        issuer = "https://a.example", discoveryTtlSecs = 3600, privateKey = "-----BEGIN PRIVATE KEY-----", privateKeyFile = "/k.pem",
        certificateFile = "/c.pem", keyId = "k1", assertion = TokenConfig.Assertion("PS256", "issuer", 120),
        clientSecretFile = "/run/secrets/tokenwell/client-secret",
        developerId = "dev-1", signingSecret = "c2lnbmluZw",
    )

    @Test
    fun `the JSON sent to the core uses only the schema's keys`() {
        val json = ObjectMapper().readTree(full.toJson())
        val sent = sortedSetOf<String>()
        fun walk(node: JsonNode, prefix: String) {
            node.fieldNames().forEach { key ->
                sent += prefix + key
                if (key !in setOf("extra_params", "headers", "equals")) walk(node[key], "$prefix$key.")
            }
        }
        walk(json, "")
        val fromSchema = sortedSetOf<String>().also { schemaPaths(schema, "", it) }
        assertEquals(fromSchema, sent)
        // And the core accepts it (but the store, which would need the CA file, the
        // issuer, which replaces the token URL, the private_key_jwt keys, which a
        // secret method refuses, the secret file, which replaces the secret,
        // doordash's keys, which other providers refuse, and the CA and client
        // certificate files, which do not exist).
        val secretOnly = full.copy(
            store = null, issuer = null, discoveryTtlSecs = null, clientSecretFile = null,
            privateKey = null, privateKeyFile = null, certificateFile = null, keyId = null, assertion = null,
            developerId = null, signingSecret = null,
            http = full.http!!.copy(caFile = null, caOnly = null, clientCertFile = null, clientKeyFile = null),
        )
        dev.tokenwell.internal.ffi.CoreClient(ConfigJson.utf8(secretOnly), null, null).close()
    }

    @Test
    fun `an unknown key is refused with a Config error naming it`() {
        for ((json, key) in listOf(
            """{"provider":"deliveroo","client_id":"a","client_secert":"s3cr3t-value"}""" to "client_secert",
            """{"provider":"deliveroo","client_id":"a","client_secret":"s3cr3t-value","policy":{"refresh_ratoi":0.5}}""" to "refresh_ratoi",
        )) {
            val e = assertThrows<TokenwellException> {
                TokenwellException.translate { dev.tokenwell.internal.ffi.CoreClient(ConfigJson.utf8(json), null, null) }
            }
            assertEquals("config", e.code)
            assertTrue(key in e.detail, e.detail)
            assertTrue("s3cr3t-value" !in "${e.message} $e")
        }
    }

    /** What the binding sent before ConfigJson: Jackson, snake_case, nulls left out. */
    private val jackson = ObjectMapper()
        .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
        .setSerializationInclusion(JsonInclude.Include.NON_NULL)

    @Test
    fun `the hand-written JSON is Jackson's, for every field and awkward values`() {
        val awkward = TokenConfig(
            provider = "custom", clientId = "quote\" back\\slash \u0001\u001f\n\r\t é 🔑", clientSecret = "s3cr3t-value",
            tokenUrl = "https://a.example/t?x=1&y=2",
            extraParams = mapOf(
                "d" to 0.1, "big" to 1e300, "tiny" to 1e-7, "neg" to -3, "long" to Long.MAX_VALUE, "f" to 1.5f,
                "dec" to BigDecimal("12.50"), "yes" to true, "list" to listOf(1, "two", null), "map" to mapOf("k" to "v"),
                "nan" to Double.NaN,
            ),
            response = TokenConfig.ResponseMapping(success = TokenConfig.SuccessCheck("ok", null)),
            policy = TokenConfig.Policy(refreshRatio = 0.8),
        )
        for (config in listOf(full, awkward, TokenConfig("deliveroo", "id", "secret"))) {
            assertEquals(jackson.readTree(jackson.writeValueAsString(config)), jackson.readTree(config.toJson()))
        }
    }

    @Test
    fun `the bytes the core borrows are the JSON's UTF-8, in a direct buffer`() {
        val config = TokenConfig("custom", "id é 🔑 \"q\" \u0001", "s3cr3t-value", tokenUrl = "https://a.example/t")
        val buffer = ConfigJson.utf8(config)
        assertTrue(buffer.isDirect)
        val bytes = ByteArray(buffer.remaining()).also { buffer.duplicate().get(it) }
        assertEquals(config.toJson(), bytes.toString(Charsets.UTF_8))
    }

    @Test
    fun `a lone surrogate is a Config error at construction, never printed`() {
        // Not valid UTF-16: sent as its JSON escape, which the core refuses (before
        // ConfigJson escaped it, the encoder threw a MalformedInputException).
        for ((id, secret) in listOf("id" to "s3cr3t-value\uD800", "id\uDC00" to "s3cr3t-value", "\uDC00\uD800" to "s3cr3t-value")) {
            val config = TokenConfig("deliveroo", id, secret, environment = "sandbox")
            assertTrue("\\u" in config.toJson(), "escaped")
            for (build in listOf({ TokenClient(config) }, { TokenClient(config, ManualClock(0)) })) {
                val e = assertThrows<TokenwellException> { build().close() }
                assertEquals("config", e.code)
                assertTrue("s3cr3t-value" !in "${e.message} $e", e.message)
            }
        }
    }

    @Test
    fun `a value JSON cannot carry is refused by type, never printed`() {
        val e = assertThrows<IllegalArgumentException> {
            TokenConfig("custom", "id", "s3cr3t-value", extraParams = mapOf("x" to Any())).toJson()
        }
        assertTrue("java.lang.Object" in e.message!!, e.message)
    }
}
