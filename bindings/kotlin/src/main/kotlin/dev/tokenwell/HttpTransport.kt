package dev.tokenwell

import dev.tokenwell.internal.ffi.ForeignHeader
import dev.tokenwell.internal.ffi.ForeignRequest
import dev.tokenwell.internal.ffi.ForeignResponse
import dev.tokenwell.internal.ffi.ForeignTransport
import dev.tokenwell.internal.ffi.ForeignTransportException
import java.io.IOException
import java.io.InputStream
import java.io.InterruptedIOException
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.net.http.HttpTimeoutException
import java.time.Duration
import java.util.concurrent.TimeUnit
import java.util.zip.GZIPInputStream
import okhttp3.MediaType.Companion.toMediaTypeOrNull
import okhttp3.RequestBody.Companion.toRequestBody

/*
 * The application's own HTTP client as the core's transport (see
 * TokenClientBuilder.okHttpClient and .javaHttpClient). The adapter only moves
 * bytes; the core keeps every decision and limit:
 *
 * - the request goes as the core built it: its `Authorization` header (HTTP
 *   Basic: the client id and secret) or its body (client_secret,
 *   client_assertion) carries the credentials, and the client's interceptors
 *   see them;
 * - a client that follows redirects is refused at construction (a Config
 *   error): a redirect would carry the credentials to another URL;
 * - the body is read (decoded from gzip) up to one byte past the core's 64 KiB
 *   limit, and headers are kept until they reach its 16 KiB limit: the core
 *   refuses either as it does from its built-in transport;
 * - timeouts map to `timeout`; connect, TLS and protocol failures to `network`,
 *   naming the exception's class only.
 *
 * Calls run on tokenwell's store pool (never the caller's thread, never a
 * coroutine dispatcher), time-boxed by the core at `http.timeoutMs`.
 */

/** Reads the body and the head within the request's limits. */
internal object Limits {
    fun headers(pairs: Sequence<Pair<String, String>>, limit: ULong): List<ForeignHeader> {
        val kept = ArrayList<ForeignHeader>()
        var size = 0L
        for ((name, value) in pairs) {
            kept += ForeignHeader(name, value)
            size += name.length + value.length
            if (size >= limit.toLong()) break
        }
        return kept
    }

    fun body(stream: InputStream, limit: ULong, deadline: Long): ByteArray {
        val max = limit.toLong().coerceAtMost(Int.MAX_VALUE.toLong()).toInt()
        val out = java.io.ByteArrayOutputStream()
        val buffer = ByteArray(16 * 1024)
        stream.use {
            while (out.size() < max) {
                val n = it.read(buffer, 0, minOf(buffer.size, max - out.size()))
                if (n < 0) break
                out.write(buffer, 0, n)
                if (System.nanoTime() - deadline > 0) throw timeout("the whole-request timeout")
            }
        }
        return out.toByteArray()
    }

    fun timeout(reason: String) = ForeignTransportException.Timeout(reason)

    /** A library failure as the built-in transport's code, naming its class only. */
    fun classify(e: Throwable): ForeignTransportException = when (e) {
        is ForeignTransportException -> e
        is HttpTimeoutException, is java.net.SocketTimeoutException -> timeout(e.javaClass.name)
        // OkHttp's call timeout: an InterruptedIOException("timeout").
        is InterruptedIOException -> timeout(e.javaClass.name)
        else -> ForeignTransportException.Network(e.javaClass.name)
    }

    fun deadline(request: ForeignRequest): Long = System.nanoTime() + request.timeoutMs.toLong() * 1_000_000

    fun redirectsRefused(what: String): TokenwellException.Config {
        val detail = "$what follows redirects: a redirect would carry the client credentials to another URL; " +
            "give tokenwell a client that never follows them"
        return TokenwellException.Config(null, null, detail, "config: $detail")
    }
}

/** A `java.net.http.HttpClient` as the core's transport. */
internal class JavaHttpTransport(private val client: HttpClient) : ForeignTransport {
    init {
        if (client.followRedirects() != HttpClient.Redirect.NEVER) {
            throw Limits.redirectsRefused("the java.net.http.HttpClient (followRedirects ${client.followRedirects()})")
        }
    }

    override fun send(request: ForeignRequest): ForeignResponse {
        val deadline = Limits.deadline(request)
        try {
            val builder = HttpRequest.newBuilder(URI.create(request.url))
                .timeout(Duration.ofMillis(request.timeoutMs.toLong()))
            for (h in request.headers) builder.header(h.name, h.value)
            if (request.method == "GET") builder.GET()
            else builder.method(request.method, HttpRequest.BodyPublishers.ofByteArray(request.body))
            val response = client.send(builder.build(), HttpResponse.BodyHandlers.ofInputStream())
            val pairs = response.headers().map().asSequence()
                .filter { (name, _) -> !name.startsWith(":") }
                .flatMap { (name, values) -> values.asSequence().map { name to it } }
            val headers = Limits.headers(pairs, request.maxHeadBytes)
            // java.net.http does not decode: a gzip body is decoded here, and its
            // decoded bytes count against the limit (as the built-in transport counts them).
            val gzip = response.headers().firstValue("content-encoding").orElse("").trim().equals("gzip", true)
            val stream = if (gzip) GZIPInputStream(response.body()) else response.body()
            val body = Limits.body(stream, request.maxBodyBytes, deadline)
            return ForeignResponse(response.statusCode().toUShort(), headers, body)
        } catch (e: InterruptedException) {
            Thread.currentThread().interrupt()
            throw ForeignTransportException.Network(e.javaClass.name)
        } catch (e: Exception) {
            throw Limits.classify(e)
        }
    }

    override fun toString(): String = "JavaHttpTransport()"
}

/** An OkHttp client as the core's transport (OkHttp is an optional dependency). */
internal class OkHttpTransport(private val client: okhttp3.OkHttpClient) : ForeignTransport {
    init {
        if (client.followRedirects || client.followSslRedirects) {
            throw Limits.redirectsRefused(
                "the OkHttpClient (followRedirects ${client.followRedirects}, followSslRedirects ${client.followSslRedirects});" +
                    " client.newBuilder().followRedirects(false).followSslRedirects(false).build() shares its pool and interceptors, and",
            )
        }
    }

    override fun send(request: ForeignRequest): ForeignResponse {
        val deadline = Limits.deadline(request)
        try {
            // Shares the connection pool, dispatcher and interceptors; the timeouts
            // are the core's, and so is any retry (OkHttp would silently resend
            // a request whose connection failed).
            val call = client.newBuilder()
                .connectTimeout(request.connectTimeoutMs.toLong(), TimeUnit.MILLISECONDS)
                .callTimeout(request.timeoutMs.toLong(), TimeUnit.MILLISECONDS)
                .retryOnConnectionFailure(false)
                .build()
            val builder = okhttp3.Request.Builder().url(request.url)
            for (h in request.headers) builder.addHeader(h.name, h.value)
            if (request.method == "GET") {
                builder.get()
            } else {
                val type = request.headers.firstOrNull { it.name == "content-type" }?.value?.toMediaTypeOrNull()
                builder.method(request.method, request.body.toRequestBody(type))
            }
            call.newCall(builder.build()).execute().use { response ->
                val fields = response.headers
                val pairs = (0 until fields.size).asSequence().map { fields.name(it) to fields.value(it) }
                val headers = Limits.headers(pairs, request.maxHeadBytes)
                val source = response.body?.byteStream() ?: InputStream.nullInputStream()
                val body = Limits.body(source, request.maxBodyBytes, deadline)
                return ForeignResponse(response.code.toUShort(), headers, body)
            }
        } catch (e: IOException) {
            throw Limits.classify(e)
        } catch (e: ForeignTransportException) {
            throw e
        } catch (e: Exception) {
            throw ForeignTransportException.Network(e.javaClass.name)
        }
    }

    override fun toString(): String = "OkHttpTransport()"
}
