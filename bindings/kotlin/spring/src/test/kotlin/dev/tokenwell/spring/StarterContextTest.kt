package dev.tokenwell.spring

import dev.tokenwell.MockProvider
import dev.tokenwell.TokenClient
import dev.tokenwell.TokenwellException
import java.io.File
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.springframework.boot.autoconfigure.AutoConfigurations
import org.springframework.boot.test.context.runner.ApplicationContextRunner

/** The auto-configuration without a web server (ApplicationContextRunner: no Boot application). */
class StarterContextTest {
    private val runner = ApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(TokenwellAutoConfiguration::class.java))

    // The "orders" client of the other tests takes its secret from the test JVM's environment:
    // these contexts see it too, so it is configured here as well.
    private val base = arrayOf(
        "tokenwell.clients.orders.provider=custom",
        "tokenwell.clients.orders.token-url=http://127.0.0.1:9/token",
        "tokenwell.clients.orders.client-id=orders-id",
        "tokenwell.clients.billing.provider=custom",
        "tokenwell.clients.billing.token-url=http://127.0.0.1:9/token",
        "tokenwell.clients.billing.client-id=billing-id",
        "tokenwell.clients.billing.client-secret=billing-secret-8",
    )

    private fun startupFailure(vararg extra: String): Throwable {
        var failure: Throwable? = null
        runner.withPropertyValues(*base, *extra).run { ctx -> failure = ctx.startupFailure }
        return failure ?: throw AssertionError("startup should fail")
    }

    private fun Throwable.configError(): TokenwellException.Config =
        generateSequence(this) { it.cause }.filterIsInstance<TokenwellException.Config>().firstOrNull()
            ?: throw AssertionError("no TokenwellException.Config in $this")

    @Test
    fun `an unknown key fails startup with the core's config error naming it`() {
        val e = startupFailure("tokenwell.clients.billing.colour=red").configError()
        assertTrue(e.message!!.contains("colour"), e.message)
        assertFalse(e.message!!.contains("billing-secret-8"))
    }

    @Test
    fun `an invalid value fails startup with the core's config error naming the key`() {
        val failure = startupFailure("tokenwell.clients.billing.policy.backoff-initial-ms=soon")
        failure.configError()
        val message = generateSequence(failure) { it.cause }.mapNotNull { it.message }.joinToString(" | ")
        assertTrue(message.contains("tokenwell.clients.billing.policy.backoff-initial-ms (integer)"), message)
    }

    @Test
    fun `text values take the schema's types, and clients are closed with the context`() {
        var client: TokenClient? = null
        runner.withPropertyValues(*base, "tokenwell.clients.billing.ttl=60", "tokenwell.clients.billing.policy.refresh-ratio=0.5",
            "tokenwell.clients.billing.headers.X-Api-Key=k-1", "tokenwell.clients.billing.name=billing-api").run { ctx ->
            assertEquals(null, ctx.startupFailure)
            client = ctx.getBean(TokenwellClients::class.java).client("billing")
            assertEquals("billing-api", client!!.name, "an explicit name wins over the Spring client name")
            assertFalse(client.toString().contains("billing-secret-8"))
        }
        assertThrows(IllegalStateException::class.java) { client!!.status() }
    }

    @Test
    fun `a list binds from indexed keys and from comma-separated text`() {
        val store = "tokenwell.clients.billing.store"
        for (nodes in listOf(arrayOf("$store.cluster-nodes[0]=127.0.0.1:7000", "$store.cluster-nodes[1]=127.0.0.1:7001"),
                             arrayOf("$store.cluster-nodes=127.0.0.1:7000, 127.0.0.1:7001"))) {
            // Construction never connects: a well-formed cluster config starts.
            runner.withPropertyValues(*base, "$store.redis-url=redis://127.0.0.1:7000", *nodes).run { ctx ->
                assertEquals(null, ctx.startupFailure)
            }
            // The core sees the list: a cluster refuses a database other than 0.
            val e = startupFailure("$store.redis-url=redis://127.0.0.1:7000/3", *nodes).configError()
            assertTrue(e.message!!.contains("database"), e.message)
        }
    }

    @Test
    fun `the configuration metadata lists every key of the core's schema`() {
        val schema = MockProvider.JSON.readTree(File(System.getProperty("tokenwell.schema")))
        val metadata = MockProvider.JSON.readTree(File(System.getProperty("tokenwell.metadata")))
        val names = metadata["properties"].map { it["name"].asText() }.toSet()
        fun kebab(key: String) = key.replace('_', '-')
        fun walk(node: com.fasterxml.jackson.databind.JsonNode, prefix: String) {
            node.fields().forEach { (key, sub) ->
                if (key.any { it.isUpperCase() }) return@forEach // the camelCase aliases of snake_case keys
                val ref = sub["\$ref"]?.asText() ?: sub["anyOf"]?.firstOrNull { it.has("\$ref") }?.get("\$ref")?.asText()
                val def = ref?.let { schema["\$defs"][it.removePrefix("#/\$defs/")] }
                val nested = def?.get("properties")
                if (nested != null) walk(nested, "$prefix${kebab(key)}.")
                else assertTrue("$prefix${kebab(key)}" in names, "metadata lacks $prefix${kebab(key)}")
            }
        }
        walk(schema["properties"], "tokenwell.clients.*.")
    }
}
