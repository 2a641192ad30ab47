package dev.tokenwell.ktor

import dev.tokenwell.TokenClient
import io.ktor.client.plugins.api.ClientPlugin
import io.ktor.client.plugins.api.Send
import io.ktor.client.plugins.api.createClientPlugin
import io.ktor.client.request.HttpRequestBuilder
import io.ktor.http.HttpHeaders
import io.ktor.http.HttpStatusCode
import io.ktor.http.Url
import io.ktor.http.content.OutgoingContent
import io.ktor.util.AttributeKey

/** [TokenwellAuth]'s settings. */
class TokenwellAuthConfig {
    /** The client whose tokens the requests carry (required). */
    var tokens: TokenClient? = null
}

/**
 * A Ktor client plugin that sends `Authorization: <token>` with every request
 * and, when the API answers 401 from the request's own origin, invalidates that
 * token and sends the request once more with a fresh one:
 *
 * ```kotlin
 * val http = HttpClient(CIO) {
 *     install(TokenwellAuth) { tokens = tokenClient }
 * }
 * ```
 *
 * The token is awaited ([TokenClient.token]), never waited for: no engine thread
 * blocks. A streamed body (a `ReadChannelContent` or `WriteChannelContent`,
 * which may be read only once) is not sent again. A 401 from another origin a
 * redirect led to says nothing of this token and is returned as it is. Failing
 * to get a token throws the [dev.tokenwell.TokenwellException] and sends nothing.
 * Ktor is an optional dependency of tokenwell: add `ktor-client-core` to use this.
 */
val TokenwellAuth: ClientPlugin<TokenwellAuthConfig> = createClientPlugin("TokenwellAuth", ::TokenwellAuthConfig) {
    val tokens = requireNotNull(pluginConfig.tokens) { "TokenwellAuth: set tokens = <a TokenClient>" }
    // Ktor's redirect plugin calls this hook once per hop, with a request built from the
    // previous hop's (attributes included): the first hop records the origin, a retry
    // records that it happened, and every later hop reads both.
    on(Send) { request ->
        val origin = request.attributes.computeIfAbsent(ORIGIN) { request.url.build() }
        if (!sameOrigin(origin, request.url.build())) {
            request.headers.remove(HttpHeaders.Authorization)
            return@on proceed(request)
        }
        val token = tokens.token()
        request.headers[HttpHeaders.Authorization] = token.authorizationHeader
        val call = proceed(request)
        if (call.response.status != HttpStatusCode.Unauthorized || request.isOneShot() ||
            request.attributes.contains(RETRIED) || !sameOrigin(origin, call.request.url)
        ) {
            return@on call
        }
        request.attributes.put(RETRIED, true)
        tokens.invalidate(token)
        request.headers[HttpHeaders.Authorization] = tokens.token().authorizationHeader
        proceed(request)
    }
}

/** The origin the request was made to (its first hop's). */
private val ORIGIN = AttributeKey<Url>("TokenwellAuthOrigin")

/** Set once the request has been retried after a 401. */
private val RETRIED = AttributeKey<Boolean>("TokenwellAuthRetried")

private fun HttpRequestBuilder.isOneShot(): Boolean =
    body is OutgoingContent.ReadChannelContent || body is OutgoingContent.WriteChannelContent

private fun sameOrigin(a: Url, b: Url): Boolean =
    a.protocol == b.protocol && a.host.equals(b.host, ignoreCase = true) && a.port == b.port
