package dev.tokenwell.spring

import dev.tokenwell.AccessToken
import dev.tokenwell.Origin
import dev.tokenwell.TokenClient
import dev.tokenwell.TokenwellException
import java.io.IOException
import java.net.URI
import org.springframework.http.HttpHeaders
import org.springframework.http.HttpMethod
import org.springframework.http.HttpRequest
import org.springframework.http.client.ClientHttpRequestExecution
import org.springframework.http.client.ClientHttpRequestInterceptor
import org.springframework.http.client.ClientHttpResponse
import org.springframework.http.client.support.HttpRequestWrapper

/**
 * A `RestClient`/`RestTemplate` interceptor that sends `Authorization: <token>`
 * with every request and, when the API answers 401 from the request's own
 * origin, invalidates that token and sends the request once more with a fresh
 * one (Spring buffers the body for interceptors: it is always replayable).
 *
 * A response does not say which URL answered it, so this interceptor follows
 * redirects itself (up to ten, never from https to http; 307/308 keep the method and body, 301/302/303
 * become a GET), and only the hops to the request's own origin carry the token.
 * Build the client with a request factory that does not follow redirects
 * (`HttpRedirects.DONT_FOLLOW`, the JDK `HttpClient`'s default), or this
 * interceptor sees only the last hop and cannot tell another origin's 401.
 *
 * Add it as the last interceptor: it sends each hop and the retry through the
 * rest of the chain, which Spring Framework 6 runs only once per request.
 *
 * Failing to get a token surfaces as an [IOException] whose cause is the
 * [TokenwellException]; nothing is sent.
 */
class TokenwellRestInterceptor(private val tokens: TokenClient) : ClientHttpRequestInterceptor {
    override fun intercept(request: HttpRequest, body: ByteArray, execution: ClientHttpRequestExecution): ClientHttpResponse {
        val token = token()
        val (response, answeredBy) = follow(request, body, execution, token)
        if (response.statusCode.value() != 401 || !Origin.same(request.uri, answeredBy)) return response
        response.close()
        tokens.invalidate(token)
        return follow(request, body, execution, token()).first
    }

    /** Sends [request], following redirects; returns the last response and the URL that gave it. */
    private fun follow(request: HttpRequest, body: ByteArray, execution: ClientHttpRequestExecution, token: AccessToken): Pair<ClientHttpResponse, URI> {
        var uri = request.uri
        var method = request.method
        var payload = body
        var hops = 0
        while (true) {
            val hop = Hop(request, uri, method, if (Origin.same(request.uri, uri)) token.authorizationHeader else null, payload.isNotEmpty())
            val response = execution.execute(hop, payload)
            val keep = Origin.redirectKeepsMethod(response.statusCode.value())
            val location = response.headers.getFirst(HttpHeaders.LOCATION)?.let { Origin.next(uri, it) }
            if (keep == null || location == null || hops == Origin.MAX_REDIRECTS) return response to uri
            response.close()
            uri = location
            if (!keep && method != HttpMethod.HEAD) {
                method = HttpMethod.GET
                payload = ByteArray(0)
            }
            hops++
        }
    }

    private fun token(): AccessToken =
        try {
            tokens.tokenBlocking()
        } catch (e: TokenwellException) {
            throw IOException("tokenwell: no access token (${e.code})", e)
        }

    /** One hop: [request]'s headers with the token (or without it, off the origin). */
    private class Hop(request: HttpRequest, private val uri: URI, private val method: HttpMethod, authorization: String?, hasBody: Boolean) :
        HttpRequestWrapper(request) {
        private val headers = HttpHeaders().apply {
            putAll(request.headers)
            remove(HttpHeaders.AUTHORIZATION)
            if (authorization != null) set(HttpHeaders.AUTHORIZATION, authorization)
            if (!hasBody) {
                remove(HttpHeaders.CONTENT_TYPE)
                remove(HttpHeaders.CONTENT_LENGTH)
            }
        }

        override fun getURI(): URI = uri
        override fun getMethod(): HttpMethod = method
        override fun getHeaders(): HttpHeaders = headers
    }
}
