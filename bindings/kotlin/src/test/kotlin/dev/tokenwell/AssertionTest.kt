package dev.tokenwell

import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import java.io.File
import java.net.URLDecoder
import java.security.KeyFactory
import java.security.PublicKey
import java.security.Signature
import java.security.spec.MGF1ParameterSpec
import java.security.spec.PSSParameterSpec
import java.security.spec.X509EncodedKeySpec
import java.util.Base64
import javax.crypto.Mac
import javax.crypto.spec.SecretKeySpec

/**
 * Client assertions (private_key_jwt, client_secret_jwt) through the JVM
 * package: the mock's /assertion/token route verifies what the core signed, and
 * the JDK's own java.security verifies the recorded assertion independently.
 */
class AssertionTest : WithMockProvider() {
    private val keys = File("../../tests/oidc/keys")
    private fun key(name: String) = File(keys, name).readText()
    private val hs256Secret = "tokenwell-mock-hs256-secret"

    private fun config(credentials: String, clientSecret: String? = null, privateKey: String? = null,
                       assertion: TokenConfig.Assertion? = null, keyId: String? = null) = TokenConfig(
        provider = "custom", tokenUrl = "${mock.url}/assertion/token", clientId = "assertion-client",
        clientSecret = clientSecret, encoding = "form", credentials = credentials, privateKey = privateKey,
        assertion = assertion, keyId = keyId,
    )

    private fun publicKey(name: String, algorithm: String): PublicKey {
        val der = Base64.getMimeDecoder().decode(key(name).lines().filter { !it.startsWith("-----") }.joinToString(""))
        return KeyFactory.getInstance(algorithm).generatePublic(X509EncodedKeySpec(der))
    }

    /** The one recorded request's assertion: header, claims, signing input, signature. */
    private fun recorded(): List<Any> {
        val requests = mock.requests()["requests"]
        assertEquals(1, requests.size())
        assertTrue(requests[0]["headers"]["authorization"] == null)
        val body = requests[0]["body"].asText().split('&').associate {
            val (k, v) = it.split('=', limit = 2)
            k to URLDecoder.decode(v, Charsets.UTF_8)
        }
        assertEquals("urn:ietf:params:oauth:client-assertion-type:jwt-bearer", body["client_assertion_type"])
        assertEquals("assertion-client", body["client_id"])
        assertFalse("client_secret" in body)
        val (h, c, s) = body.getValue("client_assertion").split('.')
        val d = Base64.getUrlDecoder()
        return listOf(MockProvider.JSON.readTree(d.decode(h)), MockProvider.JSON.readTree(d.decode(c)),
            "$h.$c".toByteArray(), d.decode(s))
    }

    private fun check(alg: String, privateKey: String, publicKey: PublicKey, verifier: () -> Signature, keyId: String? = null) {
        mock.reset()
        val before = System.currentTimeMillis() / 1000
        TokenClient(config("private_key_jwt", privateKey = privateKey, assertion = TokenConfig.Assertion(alg), keyId = keyId))
            .use { it.tokenBlocking() }
        val (header, claims, input, signature) = recorded()
        header as com.fasterxml.jackson.databind.JsonNode
        claims as com.fasterxml.jackson.databind.JsonNode
        assertEquals(alg, header["alg"].asText())
        assertEquals("JWT", header["typ"].asText())
        assertEquals(keyId, header["kid"]?.asText())
        assertEquals(listOf("iss", "sub", "aud", "jti", "iat", "exp"), claims.fieldNames().asSequence().toList())
        assertEquals("assertion-client", claims["iss"].asText())
        assertEquals("assertion-client", claims["sub"].asText())
        assertEquals("${mock.url}/assertion/token", claims["aud"].asText())
        assertTrue(claims["iat"].asLong() in (before - 1)..(before + 5))
        assertEquals(60, claims["exp"].asLong() - claims["iat"].asLong())
        val v = verifier()
        v.initVerify(publicKey)
        v.update(input as ByteArray)
        assertTrue(v.verify(signature as ByteArray), "the JDK verifies the $alg signature")
    }

    @Test
    fun `RS256, PS256 and ES256 are accepted by the server and verified by the JDK`() {
        val rsa = publicKey("rsa2048.pub.pem", "RSA")
        check("RS256", key("rsa2048.pk8.pem"), rsa, { Signature.getInstance("SHA256withRSA") })
        check("PS256", key("rsa2048.pk8.pem"), rsa, {
            Signature.getInstance("RSASSA-PSS").apply {
                setParameter(PSSParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA256, 32, 1))
            }
        }, keyId = "kid-1")
        check("ES256", key("ec256.pk8.pem"), publicKey("ec256.pub.pem", "EC"), { Signature.getInstance("SHA256withECDSAinP1363Format") })
    }

    @Test
    fun `client_secret_jwt is HS256 keyed by the secret, which is never sent`() {
        mock.reset()
        TokenClient(config("client_secret_jwt", clientSecret = hs256Secret)).use { it.tokenBlocking() }
        val (header, _, input, signature) = recorded()
        assertEquals("HS256", (header as com.fasterxml.jackson.databind.JsonNode)["alg"].asText())
        val mac = Mac.getInstance("HmacSHA256").apply { init(SecretKeySpec(hs256Secret.toByteArray(), "HmacSHA256")) }
        assertArrayEquals(mac.doFinal(input as ByteArray), signature as ByteArray)
        assertFalse(mock.requests()["requests"][0]["body"].asText().contains(hs256Secret))
    }

    @Test
    fun `a key the server does not know is invalid_client`() {
        TokenClient(config("private_key_jwt", privateKey = key("rsa2048-other.pk8.pem"))).use { client ->
            assertThrows<TokenwellException.InvalidClient> { client.tokenBlocking() }
        }
    }

    @Test
    fun `refused key forms are Config errors naming openssl, never the key`() {
        for (name in listOf("bad-rsa2048.pkcs1.pem", "bad-ec256.sec1.pem", "bad-rsa2048.encrypted.pk8.pem",
            "bad-rsa1024.pk8.pem", "bad-ec384.pk8.pem", "bad-ed25519.pk8.pem")) {
            val pem = key(name)
            val config = config("private_key_jwt", privateKey = pem)
            val e = assertThrows<TokenwellException.Config> { TokenClient(config) }
            assertTrue(Regex("openssl (pkcs8|genpkey)").containsMatchIn(e.message!!), "$name: ${e.message}")
            val body = pem.lines().first { it.isNotEmpty() && !it.startsWith("-----") }.take(40)
            for (text in listOf(e.message!!, e.toString(), config.toString())) {
                assertFalse(body in text, "$name: the key shows in $text")
            }
        }
    }

    @Test
    fun `a credential provider gives the private key, and a new one rotates the client`() {
        val noAlgorithm = assertThrows<TokenwellException.Config> {
            TokenClient.builder(config("private_key_jwt")).credentialProvider { key("rsa2048.pk8.pem") }.build()
        }
        assertTrue("assertion.algorithm" in noAlgorithm.message!!, noAlgorithm.message)
        mock.reset()
        val pem = java.util.concurrent.atomic.AtomicReference<String?>(null)
        val config = config("private_key_jwt", assertion = TokenConfig.Assertion("RS256"))
            .copy(policy = TokenConfig.Policy(backoffInitialMs = 20, backoffMaxMs = 20))
        TokenClient.builder(config).credentialProvider { checkNotNull(pem.get()) { "vault sealed" } }.build().use { client ->
            val none = assertThrows<TokenwellException.Config> { client.tokenBlocking() }
            assertTrue("no private key yet" in none.message!!, none.message)
            pem.set(key("rsa2048.pk8.pem"))
            Thread.sleep(50) // past the backoff
            val first = client.tokenBlocking()
            val (header, _, input, signature) = recorded()
            assertEquals("RS256", (header as com.fasterxml.jackson.databind.JsonNode)["alg"].asText())
            val v = Signature.getInstance("SHA256withRSA")
            v.initVerify(publicKey("rsa2048.pub.pem", "RSA"))
            v.update(input as ByteArray)
            assertTrue(v.verify(signature as ByteArray))

            // A key the server does not know: a new client, refused; the known one again works.
            pem.set(key("rsa2048-other.pk8.pem"))
            client.invalidate(first.accessToken)
            val refused = assertThrows<TokenwellException.InvalidClient> { client.tokenBlocking() }
            assertFalse("PRIVATE KEY" in refused.toString())
            pem.set(key("rsa2048.pk8.pem"))
            Thread.sleep(50)
            assertTrue(client.tokenBlocking().accessToken != first.accessToken)
        }
    }
}
