package dev.tokenwell

import dev.tokenwell.internal.ffi.ErrorKind
import dev.tokenwell.internal.ffi.ErrorKindRecord
import dev.tokenwell.internal.ffi.errorKinds
import dev.tokenwell.internal.ffi.TokenwellException as Ffi

/**
 * Every failure to get a token: one subclass per error kind of the Rust core.
 * [code], [isCredentialError] and [isRetryable] are read from the core's table
 * (`errorKinds()`), never restated here. The message never contains the client
 * secret or a token (the core scrubs and truncates whatever it takes from a
 * response).
 */
sealed class TokenwellException(
    private val kind: ErrorKind,
    /** The HTTP status, when the token endpoint answered. */
    val status: Int?,
    /** `Retry-After` in milliseconds, when the endpoint sent one. */
    val retryAfterMs: Long?,
    /** What went wrong, without secrets. */
    val detail: String,
    /** The core's one-line text: code, status, detail, retry-after. */
    message: String,
) : RuntimeException(message) {
    /** The stable snake_case code of the class, e.g. `"invalid_client"`, the same in every language. */
    val code: String get() = facts().code

    /** Whether the credentials, the request or the configuration are wrong (retrying will not help). */
    val isCredentialError: Boolean get() = facts().isCredentialError

    /** Whether the same request may succeed later (the server, or the way to it, failed). */
    val isRetryable: Boolean get() = facts().isRetryable

    private fun facts(): ErrorKindRecord =
        // Where the core cannot load, its table cannot be read: only Config is thrown there.
        if (kind == ErrorKind.CONFIG && NativePlatform.problem() != null) NativePlatform.CONFIG_FACTS
        else KINDS.getValue(kind)

    class InvalidClient(status: Int?, retryAfterMs: Long?, detail: String, message: String = detail) :
        TokenwellException(ErrorKind.INVALID_CLIENT, status, retryAfterMs, detail, message)
    class InvalidGrant(status: Int?, retryAfterMs: Long?, detail: String, message: String = detail) :
        TokenwellException(ErrorKind.INVALID_GRANT, status, retryAfterMs, detail, message)
    class InvalidScope(status: Int?, retryAfterMs: Long?, detail: String, message: String = detail) :
        TokenwellException(ErrorKind.INVALID_SCOPE, status, retryAfterMs, detail, message)
    class InvalidRequest(status: Int?, retryAfterMs: Long?, detail: String, message: String = detail) :
        TokenwellException(ErrorKind.INVALID_REQUEST, status, retryAfterMs, detail, message)
    class UnauthorizedClient(status: Int?, retryAfterMs: Long?, detail: String, message: String = detail) :
        TokenwellException(ErrorKind.UNAUTHORIZED_CLIENT, status, retryAfterMs, detail, message)
    class UnsupportedGrantType(status: Int?, retryAfterMs: Long?, detail: String, message: String = detail) :
        TokenwellException(ErrorKind.UNSUPPORTED_GRANT_TYPE, status, retryAfterMs, detail, message)
    class AccessDenied(status: Int?, retryAfterMs: Long?, detail: String, message: String = detail) :
        TokenwellException(ErrorKind.ACCESS_DENIED, status, retryAfterMs, detail, message)
    class RateLimited(status: Int?, retryAfterMs: Long?, detail: String, message: String = detail) :
        TokenwellException(ErrorKind.RATE_LIMITED, status, retryAfterMs, detail, message)
    class ServerError(status: Int?, retryAfterMs: Long?, detail: String, message: String = detail) :
        TokenwellException(ErrorKind.SERVER_ERROR, status, retryAfterMs, detail, message)
    class HttpError(status: Int?, retryAfterMs: Long?, detail: String, message: String = detail) :
        TokenwellException(ErrorKind.HTTP_ERROR, status, retryAfterMs, detail, message)
    class Network(status: Int?, retryAfterMs: Long?, detail: String, message: String = detail) :
        TokenwellException(ErrorKind.NETWORK, status, retryAfterMs, detail, message)
    class Timeout(status: Int?, retryAfterMs: Long?, detail: String, message: String = detail) :
        TokenwellException(ErrorKind.TIMEOUT, status, retryAfterMs, detail, message)
    class MalformedResponse(status: Int?, retryAfterMs: Long?, detail: String, message: String = detail) :
        TokenwellException(ErrorKind.MALFORMED_RESPONSE, status, retryAfterMs, detail, message)
    class ResponseTooLarge(status: Int?, retryAfterMs: Long?, detail: String, message: String = detail) :
        TokenwellException(ErrorKind.RESPONSE_TOO_LARGE, status, retryAfterMs, detail, message)
    class Config(status: Int?, retryAfterMs: Long?, detail: String, message: String = detail) :
        TokenwellException(ErrorKind.CONFIG, status, retryAfterMs, detail, message)
    class Store(status: Int?, retryAfterMs: Long?, detail: String, message: String = detail) :
        TokenwellException(ErrorKind.STORE, status, retryAfterMs, detail, message)
    /** A bug: a fetch panicked. Every waiter gets this instead of hanging. */
    class Internal(status: Int?, retryAfterMs: Long?, detail: String, message: String = detail) :
        TokenwellException(ErrorKind.INTERNAL, status, retryAfterMs, detail, message)

    internal companion object {
        /** The core's error table, read once (lazily: building an exception needs no native call). */
        private val KINDS: Map<ErrorKind, ErrorKindRecord> by lazy { errorKinds().associateBy { it.kind } }

        /** The public exception for the core's one (generated) error. */
        fun from(e: Ffi): TokenwellException = when (e) {
            is Ffi.Failure -> of(e.kind, e.status?.toInt(), e.retryAfterMs?.toLong(), e.detail, e.summary)
        }

        /**
         * The class of each kind. No `else`: a kind the core adds and this file
         * lacks fails to compile (ErrorsTest checks each class's kind too).
         */
        fun of(kind: ErrorKind, status: Int?, retryAfterMs: Long?, detail: String, message: String): TokenwellException =
            when (kind) {
                ErrorKind.INVALID_CLIENT -> InvalidClient(status, retryAfterMs, detail, message)
                ErrorKind.INVALID_GRANT -> InvalidGrant(status, retryAfterMs, detail, message)
                ErrorKind.INVALID_SCOPE -> InvalidScope(status, retryAfterMs, detail, message)
                ErrorKind.INVALID_REQUEST -> InvalidRequest(status, retryAfterMs, detail, message)
                ErrorKind.UNAUTHORIZED_CLIENT -> UnauthorizedClient(status, retryAfterMs, detail, message)
                ErrorKind.UNSUPPORTED_GRANT_TYPE -> UnsupportedGrantType(status, retryAfterMs, detail, message)
                ErrorKind.ACCESS_DENIED -> AccessDenied(status, retryAfterMs, detail, message)
                ErrorKind.RATE_LIMITED -> RateLimited(status, retryAfterMs, detail, message)
                ErrorKind.SERVER_ERROR -> ServerError(status, retryAfterMs, detail, message)
                ErrorKind.HTTP_ERROR -> HttpError(status, retryAfterMs, detail, message)
                ErrorKind.NETWORK -> Network(status, retryAfterMs, detail, message)
                ErrorKind.TIMEOUT -> Timeout(status, retryAfterMs, detail, message)
                ErrorKind.MALFORMED_RESPONSE -> MalformedResponse(status, retryAfterMs, detail, message)
                ErrorKind.RESPONSE_TOO_LARGE -> ResponseTooLarge(status, retryAfterMs, detail, message)
                ErrorKind.CONFIG -> Config(status, retryAfterMs, detail, message)
                ErrorKind.STORE -> Store(status, retryAfterMs, detail, message)
                ErrorKind.INTERNAL -> Internal(status, retryAfterMs, detail, message)
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
