package dev.tokenwell.spring

import org.springframework.boot.actuate.health.CompositeHealthContributor
import org.springframework.boot.actuate.health.Health
import org.springframework.boot.actuate.health.HealthIndicator
import org.springframework.boot.actuate.health.Status
import org.springframework.boot.autoconfigure.AutoConfiguration
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean
import org.springframework.context.annotation.Bean

/**
 * Actuator health (Spring Boot 3): `tokenwell`, one indicator per client
 * (`/actuator/health/tokenwell/<name>`), from [TokenwellHealth]. Not in the
 * liveness or readiness groups unless the application adds it to them.
 */
@AutoConfiguration(after = [TokenwellAutoConfiguration::class])
@ConditionalOnClass(name = ["org.springframework.boot.actuate.health.HealthIndicator"])
class TokenwellHealthAutoConfiguration {
    @Bean
    @ConditionalOnMissingBean(name = ["tokenwellHealthContributor"])
    fun tokenwellHealthContributor(clients: TokenwellClients): CompositeHealthContributor =
        CompositeHealthContributor.fromMap(clients.names.associateWith { name -> indicator(clients, name) })

    private fun indicator(clients: TokenwellClients, name: String) = HealthIndicator {
        val (state, details) = TokenwellHealth.of(clients.client(name))
        val status = when (state) {
            TokenwellHealth.State.UP -> Status.UP
            TokenwellHealth.State.DOWN -> Status.DOWN
            TokenwellHealth.State.UNKNOWN -> Status.UNKNOWN
        }
        Health.status(status).withDetails(details).build()
    }
}
