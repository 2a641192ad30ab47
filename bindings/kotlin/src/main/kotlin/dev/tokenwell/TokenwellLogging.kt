package dev.tokenwell

import dev.tokenwell.internal.ffi.LogSink
import dev.tokenwell.internal.ffi.setLogLevel
import dev.tokenwell.internal.ffi.setLogSink
import java.util.logging.Level as JulLevel
import java.util.logging.Logger as JulLogger

/**
 * The Rust core's log records on the JVM, on the logger named [LOGGER]
 * (`dev.tokenwell`): SLF4J when its API and a provider (Logback, Log4j 2,
 * slf4j-simple, …) are on the class path, else java.util.logging.
 *
 * The core logs a warning when a token fetch or the shared store fails and
 * debug records around each fetch; never on a cache hit, and never a secret or
 * a token (its texts are scrubbed). Levels: ERROR, WARN, INFO, DEBUG, TRACE
 * (java.util.logging: SEVERE, WARNING, INFO, FINE, FINER).
 *
 * Installed once per JVM when the first [TokenClient] is built. The logger's
 * enabled level is read then and again at each new client, and the core only
 * crosses into the JVM for records at or above it.
 */
internal object TokenwellLogging {
    const val LOGGER = "dev.tokenwell"

    internal interface Backend {
        /** The most verbose level enabled: `trace`, `debug`, `info`, `warn`, `error` or `off`. */
        fun maxLevel(): String
        fun log(level: String, message: String)
    }

    @Volatile private var backend: Backend? = null
    @Volatile private var lastLevel = ""

    /** Installs the sink (first call) or tells the core the logger's current level. */
    fun install() {
        val current = backend
        if (current == null) {
            synchronized(this) {
                if (backend == null) {
                    val chosen = chooseBackend()
                    lastLevel = chosen.maxLevel()
                    setLogSink(Sink(chosen), lastLevel)
                    backend = chosen
                    return
                }
            }
        }
        val level = (current ?: backend ?: return).maxLevel()
        if (level != lastLevel) {
            lastLevel = level
            setLogLevel(level)
        }
    }

    /** A warning of the binding's own on [LOGGER] (the backend chosen by [install]). */
    fun warn(message: String) {
        try {
            (backend ?: run { install(); backend })?.log("WARN", message)
        } catch (_: Throwable) {
            // Logging must never break the caller.
        }
    }

    /** Which logging this JVM has: `"slf4j"` or `"java.util.logging"`. */
    internal fun backendName(): String? = backend?.let { if (it is JulBackend) "java.util.logging" else "slf4j" }

    private fun chooseBackend(): Backend = try {
        Class.forName("org.slf4j.LoggerFactory", false, TokenwellLogging::class.java.classLoader)
        Slf4jBackend.createOrNull() ?: JulBackend()
    } catch (_: ClassNotFoundException) {
        JulBackend()
    } catch (_: LinkageError) {
        JulBackend()
    }

    /** Called by the core on the thread that logged; never throws into it. */
    private class Sink(private val backend: Backend) : LogSink {
        override fun log(level: String, target: String, message: String) {
            try {
                backend.log(level, message)
            } catch (_: Throwable) {
                // A failing logger must never break a fetch: the record is dropped.
            }
        }
    }

    private class JulBackend : Backend {
        private val logger: JulLogger = JulLogger.getLogger(LOGGER)

        override fun maxLevel(): String = when {
            logger.isLoggable(JulLevel.FINER) -> "trace"
            logger.isLoggable(JulLevel.FINE) -> "debug"
            logger.isLoggable(JulLevel.INFO) -> "info"
            logger.isLoggable(JulLevel.WARNING) -> "warn"
            logger.isLoggable(JulLevel.SEVERE) -> "error"
            else -> "off"
        }

        override fun log(level: String, message: String) {
            val jul = when (level) {
                "ERROR" -> JulLevel.SEVERE
                "WARN" -> JulLevel.WARNING
                "INFO" -> JulLevel.INFO
                "DEBUG" -> JulLevel.FINE
                else -> JulLevel.FINER
            }
            logger.log(jul, message)
        }
    }
}

/** The SLF4J backend: only loaded when SLF4J's API is on the class path. */
private class Slf4jBackend(private val logger: org.slf4j.Logger) : TokenwellLogging.Backend {
    override fun maxLevel(): String = when {
        logger.isTraceEnabled -> "trace"
        logger.isDebugEnabled -> "debug"
        logger.isInfoEnabled -> "info"
        logger.isWarnEnabled -> "warn"
        logger.isErrorEnabled -> "error"
        else -> "off"
    }

    override fun log(level: String, message: String) {
        // The message is the core's finished text: never an SLF4J pattern.
        when (level) {
            "ERROR" -> logger.error("{}", message)
            "WARN" -> logger.warn("{}", message)
            "INFO" -> logger.info("{}", message)
            "DEBUG" -> logger.debug("{}", message)
            else -> logger.trace("{}", message)
        }
    }

    companion object {
        /** SLF4J's logger, or null when SLF4J has no provider (its no-op fallback). */
        fun createOrNull(): Slf4jBackend? {
            val factory = org.slf4j.LoggerFactory.getILoggerFactory()
            if (factory is org.slf4j.helpers.NOPLoggerFactory) return null
            return Slf4jBackend(factory.getLogger(TokenwellLogging.LOGGER))
        }
    }
}
