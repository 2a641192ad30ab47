package dev.tokenwell

import java.io.File
import java.net.ServerSocket
import java.net.Socket
import java.util.concurrent.TimeUnit

/** A throwaway `redis-server` on a free loopback port, or null when none is on the PATH. */
class RedisServer private constructor(private val process: Process, val url: String) : AutoCloseable {
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
            return RedisServer(process, "redis://127.0.0.1:$port/0")
        }
    }
}
