package dev.tokenwell

import java.io.File
import java.net.ServerSocket
import java.net.Socket
import java.util.concurrent.TimeUnit

/** A throwaway `redis-server` on a free loopback port, or null when none is on the PATH. */
class RedisServer private constructor(private val process: Process, private val port: Int) : AutoCloseable {
    /** Database 0 of this server. */
    val url = "redis://127.0.0.1:$port/0"

    /** Empties every database (`FLUSHALL`). */
    fun flushAll() {
        Socket("127.0.0.1", port).use { s ->
            s.getOutputStream().write("*1\r\n\$8\r\nFLUSHALL\r\n".toByteArray())
            check(s.getInputStream().bufferedReader().readLine() == "+OK") { "FLUSHALL failed" }
        }
    }

    override fun close() {
        process.destroyForcibly().waitFor()
    }

    companion object {
        fun startOrNull(): RedisServer? {
            val server = System.getenv("PATH").split(':').map { File(it, "redis-server") }.firstOrNull { it.canExecute() }
                ?: return null
            val port = ServerSocket(0).use { it.localPort }
            val process = ProcessBuilder(server.path, "--port", "$port", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start()
            val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10)
            while (runCatching { Socket("127.0.0.1", port).close() }.isFailure) {
                if (System.nanoTime() > deadline) {
                    process.destroyForcibly()
                    error("redis-server did not start within 10 s")
                }
                Thread.sleep(50)
            }
            return RedisServer(process, port)
        }
    }
}

/**
 * A Redis Cluster of 3 primaries and 3 replicas on free loopback ports
 * (`redis-cli --cluster create`), or null when redis-server or redis-cli is not
 * on the PATH. [nodes] are `host:port`.
 */
class RedisCluster private constructor(private val processes: List<Process>, val nodes: List<String>) : AutoCloseable {
    override fun close() {
        processes.forEach { it.destroyForcibly().waitFor() }
    }

    companion object {
        private fun onPath(name: String) =
            System.getenv("PATH").split(':').map { File(it, name) }.firstOrNull { it.canExecute() }

        /** redis-cli's output; one that has not ended within 60 s is killed and fails. */
        private fun cli(cli: File, vararg args: String): String {
            val out = File.createTempFile("redis-cli", ".out")
            try {
                val p = ProcessBuilder(cli.path, *args).redirectErrorStream(true).redirectOutput(out).start()
                if (!p.waitFor(60, TimeUnit.SECONDS)) {
                    p.destroyForcibly().waitFor()
                    error("redis-cli ${args.joinToString(" ")} did not end within 60 s")
                }
                return out.readText()
            } finally {
                out.delete()
            }
        }

        /** Whether [port] can be listened on now. */
        private fun free(port: Int) = try {
            ServerSocket(port, 1, java.net.InetAddress.getLoopbackAddress()).close()
            true
        } catch (e: java.io.IOException) {
            false
        }

        fun startOrNull(dir: File): RedisCluster? {
            val server = onPath("redis-server") ?: return null
            val cli = onPath("redis-cli") ?: return null
            // A node's cluster bus listens 10000 higher: that port must be free too.
            val ports = generateSequence { ServerSocket(0).use { it.localPort } }
                .filter { it <= 55_535 && free(it + 10_000) }.distinct().take(6).toList()
            val processes = ArrayList<Process>()
            val cluster = RedisCluster(processes, ports.map { "127.0.0.1:$it" })
            try {
                for (port in ports) {
                    val nodeDir = File(dir, "$port").apply { mkdirs() }
                    processes += ProcessBuilder(
                        server.path, "--port", "$port", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                        "--dir", nodeDir.path, "--cluster-enabled", "yes", "--cluster-node-timeout", "1000",
                        "--cluster-config-file", "nodes.conf",
                    ).redirectOutput(ProcessBuilder.Redirect.DISCARD).start()
                }
                val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30)
                for (port in ports) {
                    while (!cli(cli, "-p", "$port", "ping").startsWith("PONG")) {
                        check(System.nanoTime() < deadline) { "a cluster node did not start" }
                        Thread.sleep(50)
                    }
                }
                cli(cli, "--cluster", "create", *cluster.nodes.toTypedArray(), "--cluster-replicas", "1", "--cluster-yes")
                while (!ports.all { "cluster_state:ok" in cli(cli, "-p", "$it", "cluster", "info") }) {
                    check(System.nanoTime() < deadline) { "the cluster was not ok within 30 s" }
                    Thread.sleep(100)
                }
                return cluster
            } catch (e: Throwable) {
                cluster.close()
                throw e
            }
        }
    }
}
