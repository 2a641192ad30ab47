package dev.tokenwell

import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.StandardCopyOption
import java.util.concurrent.atomic.AtomicBoolean
import java.util.concurrent.atomic.AtomicInteger
import java.util.concurrent.atomic.AtomicReference
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import org.junit.jupiter.api.assertThrows

/**
 * Secrets that rotate without a restart, against a mock whose one client's
 * secret an admin call rotates (the old one refused at once, as Bringg does).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RotationTest {
    private val clientId = "kt-rot-client"
    private lateinit var mock: MockProvider

    @BeforeAll
    fun start() {
        mock = MockProvider.start("--client-id", clientId, "--client-secret", "old-secret-aa11")
    }

    @AfterAll
    fun stop() = mock.close()

    private fun config(secretFile: String? = null) = TokenConfig(
        provider = "deliveroo",
        environment = "sandbox",
        baseUrl = "${mock.url}/deliveroo",
        clientId = clientId,
        clientSecretFile = secretFile,
        policy = TokenConfig.Policy(backoffInitialMs = 20, backoffMaxMs = 20),
    )

    /** As a Kubernetes secret volume does: a new file moved over the old. */
    private fun replace(file: Path, content: String) {
        val staged = file.resolveSibling(".staged")
        Files.writeString(staged, content)
        Files.move(staged, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE)
    }

    @Test
    fun `a credential provider is asked once per fetch, follows a rotation and keeps the last good secret`() {
        mock.rotate("old-secret-aa11")
        val calls = AtomicInteger()
        val secret = AtomicReference("old-secret-aa11")
        val fail = AtomicBoolean(false)
        TokenClient.builder(config()).credentialProvider {
            calls.incrementAndGet()
            check(!fail.get()) { "vault unreachable: new-secret-bb22" }
            secret.get()
        }.build().use { client ->
            val first = client.tokenBlocking()
            repeat(20) { client.tokenBlocking() }
            assertEquals(1, calls.get(), "never asked on a hit")

            mock.rotate("new-secret-bb22")
            secret.set("new-secret-bb22")
            client.invalidate(first.accessToken)
            val second = client.tokenBlocking()
            assertNotEquals(first.accessToken, second.accessToken)
            assertEquals(2, calls.get())

            fail.set(true)
            client.invalidate(second.accessToken)
            assertNotEquals(second.accessToken, client.tokenBlocking().accessToken, "the last good secret is kept")
            assertFalse(client.toString().contains("secret-"))
        }
    }

    @Test
    fun `a rotated secret file is picked up without a restart`() {
        mock.rotate("old-secret-aa11")
        val dir = Files.createTempDirectory("tw-rot")
        val file = dir.resolve("client-secret")
        try {
            replace(file, "old-secret-aa11\n")
            TokenClient(config(file.toString())).use { client ->
                val first = client.tokenBlocking()
                mock.rotate("new-secret-bb22")
                client.invalidate(first.accessToken)
                val e = assertThrows<TokenwellException> { client.tokenBlocking() }
                assertEquals("invalid_client", e.code)
                assertFalse(e.message!!.contains("old-secret"))
                replace(file, "new-secret-bb22\n")
                Thread.sleep(50) // past the backoff
                assertNotEquals(first.accessToken, client.tokenBlocking().accessToken)
            }
            val both = assertThrows<TokenwellException> {
                TokenClient(config(file.toString()).copy(clientSecret = "x")).close()
            }
            assertTrue(both.message!!.contains("client_secret and client_secret_file"), both.message)
        } finally {
            dir.toFile().deleteRecursively()
        }
    }
}
