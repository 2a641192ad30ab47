package dev.tokenwell.spring

import dev.tokenwell.MockProvider
import dev.tokenwell.Retry401Table
import dev.tokenwell.TokenClient
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import org.springframework.boot.SpringBootConfiguration
import org.springframework.boot.autoconfigure.EnableAutoConfiguration
import org.springframework.test.context.DynamicPropertyRegistry

/** The application of the @SpringBootTest classes: auto-configuration only. */
@SpringBootConfiguration
@EnableAutoConfiguration
class TestApp

/** One mock provider for the starter's tests (the JVM's; stopped when it exits). */
object SharedMock {
    val mock: MockProvider by lazy {
        MockProvider.start().also { m -> Runtime.getRuntime().addShutdownHook(Thread { m.close() }) }
    }

    /**
     * Two clients: `orders` (kebab-case keys, its secret from the test JVM's real
     * environment variable TOKENWELL_CLIENTS_ORDERS_CLIENTSECRET, set by the pom)
     * and `cold` (never used before the 64-call test).
     */
    fun properties(registry: DynamicPropertyRegistry) {
        for (name in listOf("orders", "cold")) {
            registry.add("tokenwell.clients.$name.provider") { "custom" }
            registry.add("tokenwell.clients.$name.token-url") { "${mock.url}/custom/token" }
            registry.add("tokenwell.clients.$name.client-id") { "$name-kebab-id" }
            registry.add("tokenwell.clients.$name.http.timeout-ms") { "5000" }
        }
        registry.add("tokenwell.clients.cold.client-secret") { "cold-secret-3" }
    }

    fun token(t: String) = """{"status":200,"json":{"access_token":"$t","token_type":"Bearer","expires_in":3600}}"""

    fun get(url: String): Pair<Int, String> {
        val r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString())
        return r.statusCode() to r.body()
    }

    /** A fresh, cold client for each table case. */
    fun fresh(m: MockProvider): TokenClient = TokenClient(Retry401Table.config(m))
}
