package dev.tokenwell

import java.nio.file.Files
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Assumptions.assumeTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/** Two clients (as two processes would) share one token through a real Redis Cluster (`store.clusterNodes`). */
class RedisClusterTest : WithMockProvider() {
    @Test
    fun `clients on a Redis Cluster share one token`() {
        val dir = Files.createTempDirectory("tokenwell-kt-cluster").toFile()
        val cluster = RedisCluster.startOrNull(dir)
        if (cluster == null) {
            check(System.getenv("CI").isNullOrEmpty()) { "redis-server is missing and CI is set (make test installs it)" }
            dir.deleteRecursively()
            assumeTrue(false, "redis-server not installed")
            return
        }
        try {
            mock.script("""{"status":200,"json":{"access_token":"kt-cluster-1","token_type":"Bearer","expires_in":3600}}""")
            val store = TokenConfig.StoreOptions(
                redisUrl = "redis://${cluster.nodes[0]}", timeoutMs = 2000, clusterNodes = cluster.nodes,
            )
            fun config(store: TokenConfig.StoreOptions) = TokenConfig(
                provider = "deliveroo", environment = "sandbox", baseUrl = "${mock.url}/deliveroo",
                clientId = "kt-cluster", clientSecret = "kt-cluster-secret-3d81", store = store,
            )
            val token = TokenClient(config(store)).use { it.tokenBlocking().accessToken }
            TokenClient(config(store)).use { assertEquals(token, it.tokenBlocking().accessToken) }
            assertEquals(1, mock.requestCount(), "the second client read the token from the cluster")
            // A database other than 0 does not exist on a cluster: a config error.
            val e = assertThrows<TokenwellException> { TokenClient(config(store.copy(redisUrl = "redis://${cluster.nodes[0]}/2"))) }
            assertTrue("database 0" in e.message.orEmpty(), e.message)
        } finally {
            cluster.close()
            dir.deleteRecursively()
        }
    }
}
