package dev.tokenwell.spring

import dev.tokenwell.TokenClient
import dev.tokenwell.TokenClientObserver
import dev.tokenwell.TokenwellException
import dev.tokenwell.micrometer.TokenwellMeterBinder
import org.springframework.beans.factory.BeanFactory
import org.springframework.beans.factory.annotation.Qualifier
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory
import org.springframework.beans.factory.support.AutowireCandidateQualifier
import org.springframework.beans.factory.support.BeanDefinitionRegistry
import org.springframework.beans.factory.support.RootBeanDefinition
import org.springframework.boot.autoconfigure.AutoConfiguration
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean
import org.springframework.context.EnvironmentAware
import org.springframework.context.annotation.Bean
import org.springframework.context.annotation.Configuration
import org.springframework.context.annotation.Import
import org.springframework.context.annotation.ImportBeanDefinitionRegistrar
import org.springframework.core.type.AnnotationMetadata
import org.springframework.core.env.Environment

/**
 * One [TokenClient] bean per `tokenwell.clients.<name>` (closed with the
 * context), the [TokenwellClients] registry, and with Micrometer a
 * [TokenwellMeterBinder] that every client reports to under its name.
 */
@AutoConfiguration
@Import(TokenwellAutoConfiguration.Registrar::class)
class TokenwellAutoConfiguration {
    @Bean
    @ConditionalOnMissingBean
    fun tokenwellClients(beans: BeanFactory, env: Environment): TokenwellClients =
        TokenwellClients(beans, TokenwellConfigBinding.names(env))

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = ["io.micrometer.core.instrument.MeterRegistry"])
    class Metrics {
        @Bean
        @ConditionalOnMissingBean
        fun tokenwellMeterBinder(): TokenwellMeterBinder = TokenwellMeterBinder()
    }

    /** Registers one client bean per configured name. */
    internal class Registrar : ImportBeanDefinitionRegistrar, EnvironmentAware {
        private lateinit var env: Environment

        override fun setEnvironment(environment: Environment) {
            env = environment
        }

        override fun registerBeanDefinitions(metadata: AnnotationMetadata, registry: BeanDefinitionRegistry) {
            val beans = registry as? ConfigurableListableBeanFactory
            for (name in TokenwellConfigBinding.names(env)) {
                val definition = RootBeanDefinition(TokenClient::class.java) { build(name, beans) }
                definition.destroyMethodName = "close"
                definition.addQualifier(AutowireCandidateQualifier(Qualifier::class.java, name))
                registry.registerBeanDefinition(TokenwellClients.beanName(name), definition)
            }
        }

        private fun build(name: String, beans: ConfigurableListableBeanFactory?): TokenClient {
            val bound = TokenwellConfigBinding.bind(env, name)
            val builder = TokenClient.builderFromMap(bound.config)
            beans?.getBeanProvider(TokenClientObserver::class.java)?.orderedStream()?.forEach { builder.observer(it) }
            try {
                return builder.build()
            } catch (e: TokenwellException.Config) {
                // The core's error names an unknown key; a value of the wrong type it words
                // without its place, which the binding knows.
                val where = if (bound.mistyped.isEmpty()) "" else " (not of the schema's type: ${bound.mistyped.joinToString()})"
                throw IllegalStateException("${TokenwellConfigBinding.PREFIX}.$name: ${e.message}$where", e)
            }
        }
    }
}
