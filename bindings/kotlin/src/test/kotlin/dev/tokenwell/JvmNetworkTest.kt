package dev.tokenwell

import com.fasterxml.jackson.databind.ObjectMapper
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertSame
import org.junit.jupiter.api.Test

/**
 * The JVM's proxy system properties become the core's `http.proxy` and
 * `http.no_proxy` when the config sets no proxy; an explicit one wins. The
 * proxy URL (it may carry a password) is never printed.
 */
class JvmNetworkTest {
    private fun props(vararg pairs: Pair<String, String>): (String) -> String? = mapOf(*pairs)::get

    @Test
    fun `the system properties translate to a proxy URL and a NO_PROXY list`() {
        assertNull(JvmNetwork.proxy(props()))
        val p = JvmNetwork.proxy(
            props(
                "https.proxyHost" to "proxy.internal", "https.proxyPort" to "3128",
                "http.nonProxyHosts" to "*.internal.example|localhost| 10.0.0.1 ",
            ),
        )!!
        assertEquals("http://proxy.internal:3128", p.url)
        assertEquals(".internal.example,localhost,10.0.0.1", p.noProxy)
        // The JVM's default port; an IPv6 literal in brackets.
        assertEquals("http://[::1]:443", JvmNetwork.proxy(props("https.proxyHost" to "::1"))!!.url)
    }

    @Test
    fun `a config map gets the JVM proxy only when it sets none`() {
        val jvm = props("https.proxyHost" to "proxy.internal", "https.proxyPort" to "8080", "http.nonProxyHosts" to "a.example")
        val config = mapOf<String, Any?>("provider" to "deliveroo", "http" to mapOf("timeout_ms" to 100))
        val merged = JvmNetwork.withProxy(config, jvm)
        assertEquals(
            mapOf("timeout_ms" to 100, "proxy" to "http://proxy.internal:8080", "no_proxy" to "a.example"),
            merged["http"],
        )
        val explicit = mapOf<String, Any?>("http" to mapOf("proxy" to "http://mine:1"))
        assertSame(explicit, JvmNetwork.withProxy(explicit, jvm))
        assertSame(config, JvmNetwork.withProxy(config, props()))
    }

    @Test
    fun `the http keys reach the core's JSON and the proxy is not printed`() {
        val http = TokenConfig.HttpOptions(
            proxy = "http://user:pr0xy-pa55word@proxy.internal:3128", noProxy = "internal", caFile = "/ca.pem",
            caOnly = true, clientCertFile = "/c.pem", clientKeyFile = "/k.pem",
        )
        val config = TokenConfig("custom", "id", null, tokenUrl = "https://a.example/t", credentials = "tls_client_auth", http = http)
        val json = ObjectMapper().readTree(config.toJson())["http"]
        assertEquals("http://user:pr0xy-pa55word@proxy.internal:3128", json["proxy"].asText())
        assertEquals(true, json["ca_only"].asBoolean())
        assertEquals("/k.pem", json["client_key_file"].asText())
        assertFalse("pr0xy-pa55word" in "$http $config")
    }
}
