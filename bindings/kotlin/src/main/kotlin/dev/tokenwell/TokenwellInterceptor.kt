package dev.tokenwell

import java.io.IOException
import okhttp3.Interceptor
import okhttp3.Request
import okhttp3.Response

/**
 * An OkHttp [Interceptor] that sends `Authorization: <token>` with every request
 * and, when the API answers 401, invalidates that token and retries once with a
 * fresh one. (Requests with a one-shot body are not retried.)
 *
 * ```kotlin
 * val http = OkHttpClient.Builder().addInterceptor(TokenwellInterceptor(tokens)).build()
 * ```
 *
 * Add it with `addInterceptor` (an application interceptor): OkHttp then follows
 * redirects after it and drops the header on one to another host, whose 401 is
 * passed through untouched. As a network interceptor it would authorize every
 * hop of a redirect, to whatever host.
 *
 * Failing to get a token surfaces as an [IOException] whose cause is the
 * [TokenwellException] (OkHttp expects interceptors to throw I/O errors).
 * OkHttp is an optional dependency of tokenwell: add it to use this class.
 */
class TokenwellInterceptor(private val client: TokenClient) : Interceptor {
    override fun intercept(chain: Interceptor.Chain): Response {
        val request = chain.request()
        val token = token()
        val response = chain.proceed(request.authorized(token))
        if (response.code != 401 || request.body?.isOneShot() == true) return response
        // A 401 from another host a redirect led to says nothing of this token.
        val answered = response.request.url
        if (answered.scheme != request.url.scheme || answered.host != request.url.host || answered.port != request.url.port) {
            return response
        }
        response.close()
        client.invalidate(token.accessToken)
        return chain.proceed(request.authorized(token()))
    }

    private fun token(): AccessToken =
        try {
            client.tokenBlocking()
        } catch (e: TokenwellException) {
            throw IOException("tokenwell: no access token (${e.code})", e)
        }

    private fun Request.authorized(token: AccessToken): Request =
        newBuilder().header("Authorization", token.authorizationHeader).build()
}
