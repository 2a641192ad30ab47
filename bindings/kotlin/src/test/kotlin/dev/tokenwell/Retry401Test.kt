package dev.tokenwell

import dev.tokenwell.Retry401Table.Body
import java.io.ByteArrayInputStream
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.util.concurrent.ConcurrentHashMap
import java.util.stream.Stream
import dev.tokenwell.ktor.TokenwellAuth
import io.ktor.client.engine.cio.CIO
import io.ktor.client.request.request
import io.ktor.client.request.setBody
import io.ktor.http.ContentType
import io.ktor.http.HttpMethod
import io.ktor.http.content.OutgoingContent
import io.ktor.http.content.TextContent
import io.ktor.utils.io.ByteReadChannel
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterAll
import okhttp3.MediaType.Companion.toMediaType
import io.ktor.client.HttpClient as KtorClient
import okhttp3.OkHttpClient
import okhttp3.Request
import okhttp3.RequestBody
import okhttp3.RequestBody.Companion.toRequestBody
import okio.BufferedSink
import okio.source
import org.junit.jupiter.api.DynamicNode
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestFactory

/** The shared 401 table (tests/adapters/retry-401.json) against the core jar's adapters. */
class Retry401Test : WithMockProvider() {
    private val json = "application/json".toMediaType()

    @TestFactory
    fun okhttp(): Stream<DynamicNode> = Retry401Table.dynamicTests({ mock }, { tokens, r ->
        // OkHttp follows redirects by default.
        val http = OkHttpClient.Builder().addInterceptor(TokenwellInterceptor(tokens)).build()
        val body: RequestBody? = when (r.body) {
            Body.NONE -> null
            Body.REPLAYABLE -> Retry401Table.REPLAYABLE_TEXT.toRequestBody(json)
            Body.ONE_SHOT -> object : RequestBody() {
                private val stream = ByteArrayInputStream(Retry401Table.REPLAYABLE_TEXT.toByteArray())
                override fun contentType() = json
                override fun isOneShot() = true
                override fun writeTo(sink: BufferedSink) { sink.writeAll(stream.source()) }
            }
        }
        http.newCall(Request.Builder().url(r.url).method(r.method, body).build()).execute().use { it.code }
    })

    // Redirect.NEVER, the JDK default: TokenwellHttpClient follows redirects itself (the JDK
    // client would send the token along to another origin).
    private val jdk = HttpClient.newHttpClient()

    private fun jdkRequest(r: Retry401Table.Request): HttpRequest {
        val body = if (r.body == Body.NONE) HttpRequest.BodyPublishers.noBody()
        else HttpRequest.BodyPublishers.ofString(Retry401Table.REPLAYABLE_TEXT)
        return HttpRequest.newBuilder(URI.create(r.url)).method(r.method, body).build()
    }

    private val noOneShot = Retry401Table.Options(
        oneShotUnsupported = "java.net.http has no one-shot body: it subscribes to any BodyPublisher again itself on a 307",
    )

    @TestFactory
    fun javaNetHttpSend(): Stream<DynamicNode> = Retry401Table.dynamicTests({ mock }, { tokens, r ->
        TokenwellHttpClient(jdk, tokens).send(jdkRequest(r), HttpResponse.BodyHandlers.discarding()).statusCode()
    }, noOneShot)

    @TestFactory
    fun javaNetHttpSendAsync(): Stream<DynamicNode> = Retry401Table.dynamicTests({ mock }, { tokens, r ->
        TokenwellHttpClient(jdk, tokens).sendAsync(jdkRequest(r), HttpResponse.BodyHandlers.discarding()).get().statusCode()
    }, noOneShot)

    @Test
    fun `TokenwellHttpClient refuses a client that follows redirects`() {
        TokenClient(Retry401Table.config(mock)).use { tokens ->
            val following = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL).build()
            assertThrows(IllegalArgumentException::class.java) { TokenwellHttpClient(following, tokens) }
        }
    }

    // One Ktor client per TokenClient (the concurrency case sends 64 calls through one).
    private val ktorClients = ConcurrentHashMap<TokenClient, KtorClient>()

    @AfterAll
    fun closeKtor() = ktorClients.values.forEach { it.close() }

    // Ktor follows redirects by default (HttpRedirect); the engine is CIO.
    @TestFactory
    fun ktor(): Stream<DynamicNode> = Retry401Table.dynamicTests({ mock }, { tokens, r ->
        val http = ktorClients.computeIfAbsent(tokens) { t -> KtorClient(CIO) { install(TokenwellAuth) { this.tokens = t } } }
        runBlocking {
            http.request(r.url) {
                method = HttpMethod.parse(r.method)
                when (r.body) {
                    Body.NONE -> {}
                    Body.REPLAYABLE -> setBody(TextContent(Retry401Table.REPLAYABLE_TEXT, ContentType.Application.Json))
                    Body.ONE_SHOT -> setBody(object : OutgoingContent.ReadChannelContent() {
                        private val channel = ByteReadChannel(Retry401Table.REPLAYABLE_TEXT.toByteArray())
                        override val contentType = ContentType.Application.Json
                        override fun readFrom() = channel
                    })
                }
            }.status.value
        }
    })
}
