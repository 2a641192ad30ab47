package dev.tokenwell.spring

import dev.tokenwell.AccessToken
import dev.tokenwell.Origin
import dev.tokenwell.TokenClient
import java.net.URI
import kotlinx.coroutines.DelicateCoroutinesApi
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.GlobalScope
import kotlinx.coroutines.future.future
import org.springframework.http.HttpHeaders
import org.springframework.http.HttpMethod
import org.springframework.web.reactive.function.BodyInserters
import org.springframework.web.reactive.function.client.ClientRequest
import org.springframework.web.reactive.function.client.ClientResponse
import org.springframework.web.reactive.function.client.ExchangeFilterFunction
import org.springframework.web.reactive.function.client.ExchangeFunction
import reactor.core.publisher.Mono

/**
 * A `WebClient` filter that sends `Authorization: <token>` with every request
 * and, when the API answers 401 from the request's own origin, invalidates that
 * token and sends the request once more with a fresh one.
 *
 * It never blocks: the token is awaited ([TokenClient.token], the core's async
 * lease), not waited for, so an event-loop thread is never parked on a fetch.
 *
 * A response does not say which URL answered it, so this filter follows
 * redirects itself (up to ten, never from https to http; 307/308 keep the method and body, 301/302/303
 * become a GET), and only the hops to the request's own origin carry the
 * token: use a connector that does not follow redirects (Reactor Netty's
 * default). A token failure is the [dev.tokenwell.TokenwellException], as the
 * Mono's error; nothing is sent.
 */
class TokenwellExchangeFilter(private val tokens: TokenClient) : ExchangeFilterFunction {
    override fun filter(request: ClientRequest, next: ExchangeFunction): Mono<ClientResponse> =
        token().flatMap { token ->
            follow(request, next, token).flatMap { (response, answeredBy) ->
                if (response.statusCode().value() != 401 || !Origin.same(request.url(), answeredBy)) {
                    Mono.just(response)
                } else {
                    response.releaseBody()
                        .then(Mono.fromCallable { tokens.invalidate(token) })
                        .then(token())
                        .flatMap { fresh -> follow(request, next, fresh).map { it.first } }
                }
            }
        }

    // Awaited on Dispatchers.Default, off the event loop (never Unconfined: the core's async
    // lease resumes its awaiter from a native callback, which must not poll the core again).
    @OptIn(DelicateCoroutinesApi::class)
    private fun token(): Mono<AccessToken> = Mono.fromFuture { GlobalScope.future(Dispatchers.Default) { tokens.token() } }

    private fun follow(request: ClientRequest, next: ExchangeFunction, token: AccessToken, uri: URI = request.url(), hops: Int = 0, keepBody: Boolean = true):
        Mono<Pair<ClientResponse, URI>> {
        val hop = ClientRequest.from(request).url(uri).headers { h ->
            h.remove(HttpHeaders.AUTHORIZATION)
            if (Origin.same(request.url(), uri)) h.set(HttpHeaders.AUTHORIZATION, token.authorizationHeader)
        }
        if (!keepBody) hop.method(if (request.method() == HttpMethod.HEAD) HttpMethod.HEAD else HttpMethod.GET).body(BodyInserters.empty<Any>())
        return next.exchange(hop.build()).flatMap { response ->
            val keep = Origin.redirectKeepsMethod(response.statusCode().value())
            val location = response.headers().asHttpHeaders().getFirst(HttpHeaders.LOCATION)?.let { Origin.next(uri, it) }
            if (keep == null || location == null || hops == Origin.MAX_REDIRECTS) {
                Mono.just(response to uri)
            } else {
                response.releaseBody().then(Mono.defer { follow(request, next, token, location, hops + 1, keepBody && keep) })
            }
        }
    }
}
