package dev.tokenwell

/**
 * The JVM's standard proxy system properties (`https.proxyHost`,
 * `https.proxyPort`, `http.nonProxyHosts`) as the core's `http.proxy` and
 * `http.no_proxy`, for a config that sets no proxy of its own. Only a
 * translation: the core reads, checks and uses them.
 *
 * `http.nonProxyHosts` is `|`-separated with `*` wildcards (`*.internal|localhost`);
 * the core's list is comma-separated and a domain covers its subdomains, so a
 * leading `*` is dropped (`*.internal` becomes `.internal`). A config given as
 * JSON text (`builderFromJson`) is taken as it is.
 */
internal object JvmNetwork {
    class Proxy(val url: String, val noProxy: String?)

    /** The proxy the system properties name, if any (port 443 when unset, as the JVM's). */
    fun proxy(property: (String) -> String? = System::getProperty): Proxy? {
        val host = property("https.proxyHost")?.trim().takeUnless { it.isNullOrEmpty() } ?: return null
        val port = property("https.proxyPort")?.trim().takeUnless { it.isNullOrEmpty() } ?: "443"
        val shown = if (host.contains(':') && !host.startsWith("[")) "[$host]" else host
        val noProxy = property("http.nonProxyHosts")
            ?.split('|')
            ?.map { it.trim().removePrefix("*") }
            ?.filter { it.isNotEmpty() }
            ?.joinToString(",")
            ?.takeIf { it.isNotEmpty() }
        return Proxy("http://$shown:$port", noProxy)
    }

    /** [config] (the schema's keys, as a framework binds them) with the JVM's proxy when it sets none. */
    fun withProxy(config: Map<String, Any?>, property: (String) -> String? = System::getProperty): Map<String, Any?> {
        val http = config["http"] as? Map<*, *>
        if (http?.get("proxy") != null) return config
        val jvm = proxy(property) ?: return config
        val merged = LinkedHashMap<Any?, Any?>(http ?: emptyMap<Any?, Any?>())
        merged["proxy"] = jvm.url
        if (jvm.noProxy != null && merged["no_proxy"] == null && merged["noProxy"] == null) {
            merged["no_proxy"] = jvm.noProxy
        }
        return LinkedHashMap(config).also { it["http"] = merged }
    }
}
