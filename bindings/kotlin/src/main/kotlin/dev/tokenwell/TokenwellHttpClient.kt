package dev.tokenwell

import java.io.IOException
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.util.concurrent.CompletableFuture
import java.util.concurrent.CompletionException
import kotlinx.coroutines.DelicateCoroutinesApi
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.GlobalScope
import kotlinx.coroutines.future.await
import kotlinx.coroutines.future.future

/**
 * Sends `java.net.http` requests with `Authorization: <token>` and, when the API
 * answers 401 from the request's own origin, invalidates that token and sends
 * the request once more with a fresh one. JDK only: for plain-Java services.
 *
 * ```java
 * var http = new TokenwellHttpClient(HttpClient.newHttpClient(), tokens);
 * HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).build(), BodyHandlers.ofString());
 * ```
 *
 * The [HttpClient] must not follow redirects (`Redirect.NEVER`, its default):
 * the JDK client sends every header of the request to wherever a redirect
 * leads, the token included. This class follows redirects itself (up to
 * [Origin.MAX_REDIRECTS], never from https to http; 307/308 keep the method
 * and body, 301/302/303 become a GET) and sends the token only to the
 * request's own origin; a 401 from another origin is returned as it is. Every
 * `BodyPublisher` is sent again on a retry (`java.net.http` has no one-shot body).
 *
 * Failing to get a token surfaces as an [IOException] whose cause is the
 * [TokenwellException], as `HttpClient.send` reports its own failures; nothing is sent.
 */
class TokenwellHttpClient(
    /** The underlying client: its executor, timeouts, proxy and TLS apply. */
    val http: HttpClient,
    private val tokens: TokenClient,
) {
    init {
        require(http.followRedirects() == HttpClient.Redirect.NEVER) {
            "TokenwellHttpClient follows redirects itself: build the HttpClient with Redirect.NEVER " +
                "(one that follows them would send the token to any host a redirect names)"
        }
    }

    /** [HttpClient.send] with the token, redirects followed, retried once on a same-origin 401. */
    @Throws(IOException::class, InterruptedException::class)
    fun <T> send(request: HttpRequest, handler: HttpResponse.BodyHandler<T>): HttpResponse<T> {
        val token = blockingToken()
        val first = follow(request, token) { http.send(it, handler) }
        if (!shouldRetry(request, first)) return first
        (first.body() as? AutoCloseable)?.close()
        tokens.invalidate(token)
        return follow(request, blockingToken()) { http.send(it, handler) }
    }

    /**
     * [HttpClient.sendAsync] with the token, redirects followed, retried once on a
     * same-origin 401. Never blocks the calling thread: the token is awaited on
     * `Dispatchers.Default`. A token failure completes the future with an
     * [IOException] caused by the [TokenwellException].
     */
    @OptIn(DelicateCoroutinesApi::class)
    fun <T> sendAsync(request: HttpRequest, handler: HttpResponse.BodyHandler<T>): CompletableFuture<HttpResponse<T>> =
        // Never Dispatchers.Unconfined: the core's async lease resumes its awaiter
        // from a native callback, which must not poll the core again on that thread.
        GlobalScope.future(Dispatchers.Default) {
            val token = suspendingToken()
            val first = follow(request, token) { http.sendAsync(it, handler).awaitUnwrapped() }
            if (!shouldRetry(request, first)) return@future first
            (first.body() as? AutoCloseable)?.close()
            tokens.invalidate(token)
            follow(request, suspendingToken()) { http.sendAsync(it, handler).awaitUnwrapped() }
        }

    /** Sends [request] with [send], following redirects; the token goes only to the request's origin. */
    private inline fun <T> follow(request: HttpRequest, token: AccessToken, send: (HttpRequest) -> HttpResponse<T>): HttpResponse<T> {
        var uri = request.uri()
        var keepBody = true
        var hops = 0
        while (true) {
            val response = send(authorized(request, uri, keepBody, token))
            val keeps = Origin.redirectKeepsMethod(response.statusCode())
            val next = response.headers().firstValue("Location").orElse(null)?.let { Origin.next(uri, it) }
            if (keeps == null || next == null || hops == Origin.MAX_REDIRECTS) return response
            (response.body() as? AutoCloseable)?.close()
            keepBody = keepBody && keeps
            uri = next
            hops++
        }
    }

    private fun shouldRetry(request: HttpRequest, response: HttpResponse<*>): Boolean =
        response.statusCode() == 401 && Origin.same(request.uri(), response.uri())

    /** [original] sent to [uri], with its body or as a GET without one, the token only on its own origin. */
    private fun authorized(original: HttpRequest, uri: URI, keepBody: Boolean, token: AccessToken): HttpRequest {
        val builder = HttpRequest.newBuilder(original) { name, _ -> !name.equals("Authorization", ignoreCase = true) }.uri(uri)
        if (!keepBody) builder.method(if (original.method() == "HEAD") "HEAD" else "GET", HttpRequest.BodyPublishers.noBody())
        if (Origin.same(original.uri(), uri)) builder.setHeader("Authorization", token.authorizationHeader)
        return builder.build()
    }

    private fun blockingToken(): AccessToken =
        try {
            tokens.tokenBlocking()
        } catch (e: TokenwellException) {
            throw IOException("tokenwell: no access token (${e.code})", e)
        }

    private suspend fun suspendingToken(): AccessToken =
        try {
            tokens.token()
        } catch (e: TokenwellException) {
            throw IOException("tokenwell: no access token (${e.code})", e)
        }

    private suspend fun <T> CompletableFuture<T>.awaitUnwrapped(): T =
        try {
            await()
        } catch (e: CompletionException) {
            throw e.cause ?: e
        }
}
