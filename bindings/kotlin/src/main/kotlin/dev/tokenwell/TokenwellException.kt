package dev.tokenwell

import dev.tokenwell.ffi.TokenwellException as Ffi

/**
 * Every failure to get a token: one subclass per error kind, each with the
 * stable [code] every tokenwell binding exposes (`invalid_client`, `timeout`…).
 * The message never contains the client secret or a token (the core scrubs and
 * truncates whatever it takes from a response).
 */
sealed class TokenwellException(
    /** The stable snake_case code of the class, e.g. `"invalid_client"`. */
    val code: String,
    /** The HTTP status, when the token endpoint answered. */
    val status: Int?,
    /** `Retry-After` in milliseconds, when the endpoint sent one. */
    val retryAfterMs: Long?,
    /** What went wrong, without secrets. */
    val detail: String,
) : RuntimeException(detail) {
    /** Whether the credentials or the request are wrong (retrying will not help). */
    open val isCredentialError: Boolean get() = false

    class InvalidClient(status: Int?, retryAfterMs: Long?, detail: String) :
        TokenwellException("invalid_client", status, retryAfterMs, detail) { override val isCredentialError get() = true }
    class InvalidGrant(status: Int?, retryAfterMs: Long?, detail: String) :
        TokenwellException("invalid_grant", status, retryAfterMs, detail) { override val isCredentialError get() = true }
    class InvalidScope(status: Int?, retryAfterMs: Long?, detail: String) :
        TokenwellException("invalid_scope", status, retryAfterMs, detail) { override val isCredentialError get() = true }
    class InvalidRequest(status: Int?, retryAfterMs: Long?, detail: String) :
        TokenwellException("invalid_request", status, retryAfterMs, detail) { override val isCredentialError get() = true }
    class UnauthorizedClient(status: Int?, retryAfterMs: Long?, detail: String) :
        TokenwellException("unauthorized_client", status, retryAfterMs, detail) { override val isCredentialError get() = true }
    class UnsupportedGrantType(status: Int?, retryAfterMs: Long?, detail: String) :
        TokenwellException("unsupported_grant_type", status, retryAfterMs, detail) { override val isCredentialError get() = true }
    class AccessDenied(status: Int?, retryAfterMs: Long?, detail: String) :
        TokenwellException("access_denied", status, retryAfterMs, detail) { override val isCredentialError get() = true }
    class RateLimited(status: Int?, retryAfterMs: Long?, detail: String) :
        TokenwellException("rate_limited", status, retryAfterMs, detail)
    class ServerError(status: Int?, retryAfterMs: Long?, detail: String) :
        TokenwellException("server_error", status, retryAfterMs, detail)
    class HttpError(status: Int?, retryAfterMs: Long?, detail: String) :
        TokenwellException("http_error", status, retryAfterMs, detail)
    class Network(status: Int?, retryAfterMs: Long?, detail: String) :
        TokenwellException("network", status, retryAfterMs, detail)
    class Timeout(status: Int?, retryAfterMs: Long?, detail: String) :
        TokenwellException("timeout", status, retryAfterMs, detail)
    class MalformedResponse(status: Int?, retryAfterMs: Long?, detail: String) :
        TokenwellException("malformed_response", status, retryAfterMs, detail)
    class ResponseTooLarge(status: Int?, retryAfterMs: Long?, detail: String) :
        TokenwellException("response_too_large", status, retryAfterMs, detail)
    class Config(status: Int?, retryAfterMs: Long?, detail: String) :
        TokenwellException("config", status, retryAfterMs, detail) { override val isCredentialError get() = true }
    class Store(status: Int?, retryAfterMs: Long?, detail: String) :
        TokenwellException("store", status, retryAfterMs, detail)
    /** A bug: a fetch panicked. Every waiter gets this instead of hanging. */
    class Internal(status: Int?, retryAfterMs: Long?, detail: String) :
        TokenwellException("internal", status, retryAfterMs, detail)

    override fun toString(): String = "${this::class.java.name}: $detail"

    internal companion object {
        /** The public exception for a generated one (a thin, total mapping). */
        fun from(e: Ffi): TokenwellException = when (e) {
            is Ffi.InvalidClient -> InvalidClient(e.status?.toInt(), e.retryAfterMs?.toLong(), e.detail)
            is Ffi.InvalidGrant -> InvalidGrant(e.status?.toInt(), e.retryAfterMs?.toLong(), e.detail)
            is Ffi.InvalidScope -> InvalidScope(e.status?.toInt(), e.retryAfterMs?.toLong(), e.detail)
            is Ffi.InvalidRequest -> InvalidRequest(e.status?.toInt(), e.retryAfterMs?.toLong(), e.detail)
            is Ffi.UnauthorizedClient -> UnauthorizedClient(e.status?.toInt(), e.retryAfterMs?.toLong(), e.detail)
            is Ffi.UnsupportedGrantType -> UnsupportedGrantType(e.status?.toInt(), e.retryAfterMs?.toLong(), e.detail)
            is Ffi.AccessDenied -> AccessDenied(e.status?.toInt(), e.retryAfterMs?.toLong(), e.detail)
            is Ffi.RateLimited -> RateLimited(e.status?.toInt(), e.retryAfterMs?.toLong(), e.detail)
            is Ffi.ServerException -> ServerError(e.status?.toInt(), e.retryAfterMs?.toLong(), e.detail)
            is Ffi.HttpException -> HttpError(e.status?.toInt(), e.retryAfterMs?.toLong(), e.detail)
            is Ffi.Network -> Network(e.status?.toInt(), e.retryAfterMs?.toLong(), e.detail)
            is Ffi.Timeout -> Timeout(e.status?.toInt(), e.retryAfterMs?.toLong(), e.detail)
            is Ffi.MalformedResponse -> MalformedResponse(e.status?.toInt(), e.retryAfterMs?.toLong(), e.detail)
            is Ffi.ResponseTooLarge -> ResponseTooLarge(e.status?.toInt(), e.retryAfterMs?.toLong(), e.detail)
            is Ffi.Config -> Config(e.status?.toInt(), e.retryAfterMs?.toLong(), e.detail)
            is Ffi.Store -> Store(e.status?.toInt(), e.retryAfterMs?.toLong(), e.detail)
            is Ffi.Internal -> Internal(e.status?.toInt(), e.retryAfterMs?.toLong(), e.detail)
        }

        /** Runs [block], turning a generated exception into the public one. */
        inline fun <T> translate(block: () -> T): T =
            try {
                block()
            } catch (e: Ffi) {
                throw from(e)
            }
    }
}
