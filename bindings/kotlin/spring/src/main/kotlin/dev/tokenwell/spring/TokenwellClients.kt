package dev.tokenwell.spring

import dev.tokenwell.TokenClient
import org.springframework.beans.factory.BeanFactory
import org.springframework.web.reactive.function.client.ExchangeFilterFunction

/**
 * The configured clients by name (`tokenwell.clients.<name>`), and their
 * interceptors: one bean, so that code may look a client up by the name its
 * configuration uses. Each [TokenClient] is also a bean of its own, named
 * `<name>TokenClient` and qualified by `<name>` (`@Qualifier("orders")`).
 */
class TokenwellClients internal constructor(private val beans: BeanFactory, names: Set<String>) {
    /** The configured names. */
    val names: Set<String> = names.toSortedSet()

    /** The client configured under `tokenwell.clients.<name>`. */
    fun client(name: String): TokenClient {
        require(name in names) { "tokenwell: no client named '$name' under ${TokenwellConfigBinding.PREFIX} (configured: $names)" }
        return beans.getBean(beanName(name), TokenClient::class.java)
    }

    /** A `RestClient`/`RestTemplate` interceptor for client [name]. */
    fun interceptor(name: String): TokenwellRestInterceptor = TokenwellRestInterceptor(client(name))

    /** A `WebClient` filter for client [name] (needs spring-webflux). */
    fun filter(name: String): ExchangeFilterFunction = TokenwellExchangeFilter(client(name))

    override fun toString(): String = "TokenwellClients($names)"

    companion object {
        /** The bean name of client [name]'s [TokenClient]. */
        @JvmStatic
        fun beanName(name: String): String = "${name}TokenClient"
    }
}
